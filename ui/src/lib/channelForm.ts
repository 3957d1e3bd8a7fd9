// The "Add a channel" form as plain data: its fields, the checks made before sending, and the
// ChannelRequest it becomes. The core checks everything again (URLs, addresses) and its words are
// shown when it refuses.

import { emptySecret, type SecretField } from "./sourceForm";
import type { ChannelRequest } from "./types";

export type ChannelKind = "webhook" | "email";
export type WebhookFormat = "slack" | "discord" | "json";
export type SmtpSecurity = "starttls" | "tls" | "none";

export interface ChannelFormFields {
  kind: ChannelKind;
  name: string;
  // Webhook
  format: WebhookFormat;
  url: SecretField;
  secret: SecretField;
  // Email
  host: string;
  /** Text, so a half-typed port stays as typed; "" means the usual port for the security. */
  port: string;
  security: SmtpSecurity;
  username: string;
  password: SecretField;
  from: string;
  /** Comma-separated addresses. */
  to: string;
}

export type ChannelErrors = Partial<Record<"name" | "url" | "secret" | "host" | "port" | "password" | "from" | "to", string>>;

export const FORMATS: { value: WebhookFormat; label: string }[] = [
  { value: "slack", label: "Slack (or Mattermost, Rocket.Chat)" },
  { value: "discord", label: "Discord" },
  { value: "json", label: "JSON (your own endpoint)" },
];

export const SECURITIES: { value: SmtpSecurity; label: string }[] = [
  { value: "starttls", label: "STARTTLS (port 587)" },
  { value: "tls", label: "TLS (port 465)" },
  { value: "none", label: "None (port 25, local relays only)" },
];

export function usualPort(security: SmtpSecurity): number {
  return security === "tls" ? 465 : security === "none" ? 25 : 587;
}

export function blankChannel(kind: ChannelKind = "webhook"): ChannelFormFields {
  return {
    kind,
    name: "",
    format: "slack",
    url: emptySecret(),
    secret: emptySecret(),
    host: "",
    port: "",
    security: "starttls",
    username: "",
    password: emptySecret(),
    from: "",
    to: "",
  };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_HINT = "An environment variable name uses letters, digits and underscores, and does not start with a digit.";

function checkSecret(field: SecretField, required: string | null): string | undefined {
  if (field.mode === "env") {
    const name = field.envName.trim();
    if (!name) return required ? `Enter the name of the environment variable that holds ${required}.` : undefined;
    return ENV_NAME.test(name) ? undefined : ENV_HINT;
  }
  if (!field.value.trim() && required) return `Paste ${required}.`;
  return undefined;
}

/** The addresses in a comma- (or semicolon-, or line-) separated list. */
export function splitAddresses(text: string): string[] {
  return text
    .split(/[,;\n]/)
    .map((t) => t.trim())
    .filter((t) => t !== "");
}

const LOOKS_LIKE_ADDRESS = /^[^\s@]+@[^\s@]+$/;

export function validateChannelForm(f: ChannelFormFields, existingNames: readonly string[]): ChannelErrors {
  const errors: ChannelErrors = {};
  const name = f.name.trim();
  if (!name) errors.name = "Give the channel a name, e.g. “team-alerts”.";
  else if (existingNames.includes(name)) errors.name = `There is already a channel named “${name}”.`;

  if (f.kind === "webhook") {
    const url = checkSecret(f.url, "the webhook's URL");
    if (url) errors.url = url;
    else if (f.url.mode === "keychain" && !/^https?:\/\//i.test(f.url.value.trim())) {
      errors.url = "Paste the full address, starting with https://.";
    }
    const secret = checkSecret(f.secret, null);
    if (secret) errors.secret = secret;
    return errors;
  }

  if (!f.host.trim()) errors.host = "Enter the mail server's host name, e.g. smtp.example.com.";
  const port = f.port.trim();
  if (port && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    errors.port = "The port is a number from 1 to 65535 (usually 587 for STARTTLS, 465 for TLS).";
  }
  const password = checkSecret(f.password, null);
  if (password) errors.password = password;
  else if (hasSecret(f.password) && !f.username.trim()) {
    errors.password = "A password needs a user name to sign in with; enter both, or neither.";
  }
  if (!f.from.trim()) errors.from = "Enter the address the alerts come from.";
  else if (!LOOKS_LIKE_ADDRESS.test(f.from.trim())) errors.from = `“${f.from.trim()}” does not look like an email address.`;
  const to = splitAddresses(f.to);
  if (to.length === 0) errors.to = "Enter at least one address to send alerts to.";
  else {
    const bad = to.find((t) => !LOOKS_LIKE_ADDRESS.test(t));
    if (bad) errors.to = `“${bad}” does not look like an email address.`;
  }
  return errors;
}

function hasSecret(field: SecretField): boolean {
  return field.mode === "env" ? field.envName.trim() !== "" : field.value.trim() !== "";
}

function secretParts(field: SecretField): { value: string | null; env: string | null } {
  if (field.mode === "env") return { value: null, env: field.envName.trim() || null };
  return { value: field.value.trim() || null, env: null };
}

/** The request for the shell: only the fields of the chosen kind, each secret typed or named. */
export function toChannelRequest(f: ChannelFormFields): ChannelRequest {
  const request: ChannelRequest = {
    name: f.name.trim(),
    kind: f.kind,
    format: null,
    url: null,
    urlEnv: null,
    secret: null,
    secretEnv: null,
    host: null,
    port: null,
    security: null,
    username: null,
    password: null,
    passwordEnv: null,
    from: null,
    to: [],
  };
  if (f.kind === "webhook") {
    const url = secretParts(f.url);
    const secret = secretParts(f.secret);
    return { ...request, format: f.format, url: url.value, urlEnv: url.env, secret: secret.value, secretEnv: secret.env };
  }
  const password = secretParts(f.password);
  const port = f.port.trim();
  return {
    ...request,
    host: f.host.trim(),
    port: port ? Number(port) : usualPort(f.security),
    security: f.security,
    username: f.username.trim() || null,
    password: password.value,
    passwordEnv: password.env,
    from: f.from.trim(),
    to: splitAddresses(f.to),
  };
}

export function channelKindLabel(kind: string): string {
  switch (kind) {
    case "desktop":
      return "Desktop";
    case "webhook":
      return "Webhook";
    case "email":
      return "Email";
    default:
      return kind;
  }
}
