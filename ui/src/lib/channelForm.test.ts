import { describe, expect, it } from "vitest";
import { blankChannel, splitAddresses, toChannelRequest, validateChannelForm, type ChannelFormFields } from "./channelForm";

function webhook(over: Partial<ChannelFormFields> = {}): ChannelFormFields {
  return {
    ...blankChannel("webhook"),
    name: "team",
    url: { mode: "keychain", value: "https://hooks.slack.com/services/T/B/x", envName: "" },
    ...over,
  };
}

function email(over: Partial<ChannelFormFields> = {}): ChannelFormFields {
  return {
    ...blankChannel("email"),
    name: "ops-mail",
    host: "smtp.example.com",
    username: "alerts",
    password: { mode: "env", value: "", envName: "SMTP_PASSWORD" },
    from: "headroom@example.com",
    to: "me@example.com, ops@example.com",
    ...over,
  };
}

describe("channel form checks", () => {
  it("accepts complete webhook and email forms", () => {
    expect(validateChannelForm(webhook(), [])).toEqual({});
    expect(validateChannelForm(email(), [])).toEqual({});
  });

  it("wants a new name", () => {
    expect(validateChannelForm(webhook({ name: " " }), []).name).toMatch(/Give the channel a name/);
    expect(validateChannelForm(webhook(), ["team"]).name).toBe("There is already a channel named “team”.");
  });

  it("wants the webhook's URL or a variable holding it", () => {
    expect(validateChannelForm(webhook({ url: { mode: "keychain", value: "", envName: "" } }), []).url).toMatch(/Paste the webhook's URL/);
    expect(validateChannelForm(webhook({ url: { mode: "keychain", value: "hooks.slack.com", envName: "" } }), []).url).toMatch(/https:\/\//);
    expect(validateChannelForm(webhook({ url: { mode: "env", value: "", envName: "9X" } }), []).url).toMatch(/letters, digits/);
    expect(validateChannelForm(webhook({ url: { mode: "env", value: "", envName: "SLACK_URL" } }), [])).toEqual({});
  });

  it("checks the email settings a person can get wrong", () => {
    expect(validateChannelForm(email({ host: "" }), []).host).toMatch(/host name/);
    expect(validateChannelForm(email({ port: "99999" }), []).port).toMatch(/1 to 65535/);
    expect(validateChannelForm(email({ username: "" }), []).password).toMatch(/user name/);
    expect(validateChannelForm(email({ from: "nobody" }), []).from).toMatch(/does not look like an email address/);
    expect(validateChannelForm(email({ to: " , " }), []).to).toMatch(/at least one/);
    expect(validateChannelForm(email({ to: "me@example.com, oops" }), []).to).toBe("“oops” does not look like an email address.");
  });
});

describe("channel request", () => {
  it("sends a webhook with its URL typed (for the keychain) or named", () => {
    const req = toChannelRequest(webhook({ secret: { mode: "env", value: "", envName: "HOOK_SECRET" } }));
    expect(req).toMatchObject({
      name: "team",
      kind: "webhook",
      format: "slack",
      url: "https://hooks.slack.com/services/T/B/x",
      urlEnv: null,
      secret: null,
      secretEnv: "HOOK_SECRET",
      host: null,
      to: [],
    });
  });

  it("sends an email channel with the usual port and a list of recipients", () => {
    const req = toChannelRequest(email({ security: "tls" }));
    expect(req).toMatchObject({
      kind: "email",
      host: "smtp.example.com",
      port: 465,
      security: "tls",
      username: "alerts",
      password: null,
      passwordEnv: "SMTP_PASSWORD",
      from: "headroom@example.com",
      to: ["me@example.com", "ops@example.com"],
      url: null,
      format: null,
    });
    expect(toChannelRequest(email({ port: "2525" })).port).toBe(2525);
  });

  it("splits addresses on commas, semicolons and lines", () => {
    expect(splitAddresses("a@x.io; b@x.io,\nc@x.io, ")).toEqual(["a@x.io", "b@x.io", "c@x.io"]);
  });
});
