import { describe, expect, it } from "vitest";
import { emptySecret, toRequest, validateSourceForm, type SourceFormFields } from "./sourceForm";

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
