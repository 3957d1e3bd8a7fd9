import { describe, expect, it } from "vitest";
import { emptySecret, summarizeTest, toRequest, validateForTest, validateSourceForm, type SourceFormFields } from "./sourceForm";

function fields(over: Partial<SourceFormFields> = {}): SourceFormFields {
  return {
    kind: "openrouter",
    name: "work",
    baseUrl: "https://openrouter.ai/api/v1",
    key: { mode: "keychain", value: "sk-or-v1-abc", envName: "" },
    managementKey: emptySecret(),
    interval: "15m",
    options: {},
    ...over,
  };
}

describe("add-source validation", () => {
  it("accepts a complete form", () => {
    expect(validateSourceForm(fields(), [])).toEqual({});
  });

  it("asks for a name, and a unique one", () => {
    expect(validateSourceForm(fields({ name: "  " }), []).name).toMatch(/Give the source a name/);
    expect(validateSourceForm(fields({ name: "work" }), ["work"]).name).toBe("There is already a source named “work”.");
  });

  it("wants a full http(s) URL", () => {
    expect(validateSourceForm(fields({ baseUrl: "openrouter.ai" }), []).baseUrl).toMatch(/full URL/);
    expect(validateSourceForm(fields({ baseUrl: "ftp://x" }), []).baseUrl).toMatch(/full URL/);
    expect(validateSourceForm(fields({ baseUrl: "http://127.0.0.1:4000" }), []).baseUrl).toBeUndefined();
  });

  it("needs the key or a valid variable name, but the management key is optional", () => {
    expect(validateSourceForm(fields({ key: emptySecret() }), []).key).toBe("Paste the API key.");
    const env = { mode: "env" as const, value: "", envName: "1BAD" };
    expect(validateSourceForm(fields({ key: env }), []).key).toMatch(/letters, digits and underscores/);
    expect(validateSourceForm(fields({ managementKey: emptySecret() }), []).managementKey).toBeUndefined();
  });
});

describe("add-source request", () => {
  it("sends either the key or the variable name, never both", () => {
    const req = toRequest(
      fields({
        name: " work ",
        key: { mode: "env", value: "left-over", envName: "OPENROUTER_KEY" },
        managementKey: { mode: "keychain", value: "  sk-mgmt  ", envName: "" },
      }),
    );
    expect(req).toEqual({
      kind: "openrouter",
      name: "work",
      baseUrl: "https://openrouter.ai/api/v1",
      key: null,
      keyEnv: "OPENROUTER_KEY",
      managementKey: "sk-mgmt",
      managementKeyEnv: null,
      interval: "15m",
      options: {},
    });
  });

  it("sends no management key when none was given", () => {
    const req = toRequest(fields());
    expect(req.managementKey).toBeNull();
    expect(req.managementKeyEnv).toBeNull();
  });
});

describe("testing a connection", () => {
  it("needs no name, but everything a poll needs", () => {
    expect(validateForTest(fields({ name: "" }))).toEqual({});
    expect(validateForTest(fields({ name: "", key: emptySecret() })).key).toBe("Paste the API key.");
  });

  it("sends no second key for a kind that takes none", () => {
    const typed = fields({ managementKey: { mode: "keychain", value: "sk-mgmt", envName: "" } });
    expect(toRequest(typed).managementKey).toBe("sk-mgmt");
    const request = toRequest(typed, false);
    expect(request.managementKey).toBeNull();
    expect(request.managementKeyEnv).toBeNull();
  });

  it("lists what was found and what failed", () => {
    const opts = { locale: "en-US" };
    const found = summarizeTest(
      {
        meters: [
          { meter: "key_limit", label: "Key limit", unit: "USD", remaining: "12.5", limit: "100" },
          { meter: "balance", label: "Balance", unit: "credits", remaining: "40", limit: null },
        ],
        failures: [],
      },
      opts,
    );
    expect(found).toEqual({
      ok: true,
      found: ["Key limit: $12.50 left of $100.00", "Balance: 40 credits left"],
      problems: [],
    });
    const rejected = summarizeTest(
      {
        meters: [],
        failures: [{ endpoint: "/api/v1/key", status: 401, class: "auth_invalid", message: "Key rejected: OpenRouter answered 401" }],
      },
      opts,
    );
    expect(rejected.ok).toBe(false);
    expect(rejected.problems).toEqual(["Key rejected: OpenRouter answered 401"]);
    expect(summarizeTest({ meters: [], failures: [] }, opts).problems[0]).toMatch(/nothing Headroom can watch/);
  });
});
