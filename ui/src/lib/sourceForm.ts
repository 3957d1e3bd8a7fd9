// The "Add a source" form as plain data: validation and the request it becomes. Kept out of the
// component so the rules are tested and the component only renders.

import type { AddSourceRequest } from "./types";

export type SecretMode = "keychain" | "env";

export interface SecretField {
  mode: SecretMode;
  value: string;
  envName: string;
}

export interface SourceFormFields {
  kind: string;
  name: string;
  baseUrl: string;
  key: SecretField;
  managementKey: SecretField;
  interval: string;
  /** The provider kind's own settings, by option name (a monthly budget, a team id, …). */
  options: Record<string, string>;
}

export type FieldErrors = Partial<Record<"kind" | "name" | "baseUrl" | "key" | "managementKey", string>>;

export const INTERVALS: { value: string; label: string }[] = [
  { value: "1m", label: "Every minute" },
  { value: "5m", label: "Every 5 minutes" },
  { value: "15m", label: "Every 15 minutes" },
  { value: "1h", label: "Every hour" },
];

export const DEFAULT_INTERVAL = "15m";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function emptySecret(): SecretField {
  return { mode: "keychain", value: "", envName: "" };
}

function validateSecret(field: SecretField, required: boolean, what: string): string | undefined {
  if (field.mode === "env") {
    const name = field.envName.trim();
    if (!name) return required ? `Enter the name of the environment variable that holds the ${what}.` : undefined;
    if (!ENV_NAME.test(name)) {
      return "An environment variable name uses letters, digits and underscores, and does not start with a digit.";
    }
    return undefined;
  }
  if (!field.value.trim() && required) return `Paste the ${what}.`;
  return undefined;
}

export function validateSourceForm(f: SourceFormFields, existingNames: readonly string[]): FieldErrors {
  const errors: FieldErrors = {};
  if (!f.kind) errors.kind = "Choose a provider.";

  const name = f.name.trim();
  if (!name) errors.name = "Give the source a name, e.g. “work-openrouter”.";
  else if (name.length > 64) errors.name = "Keep the name under 64 characters.";
  else if (existingNames.includes(name)) errors.name = `There is already a source named “${name}”.`;

  const url = f.baseUrl.trim();
  if (!url) errors.baseUrl = "Enter the base URL of the API.";
  else {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
      errors.baseUrl = "Enter a full URL starting with https:// (or http:// for a local gateway).";
    }
  }

  const key = validateSecret(f.key, true, "API key");
  if (key) errors.key = key;
  const mgmt = validateSecret(f.managementKey, false, "management key");
  if (mgmt) errors.managementKey = mgmt;
  return errors;
}

function secretParts(field: SecretField): { key: string | null; env: string | null } {
  if (field.mode === "env") {
    const env = field.envName.trim();
    return { key: null, env: env || null };
  }
  // Keys are pasted; stray whitespace around them is never part of the key.
  const key = field.value.trim();
  return { key: key || null, env: null };
}

export function toRequest(f: SourceFormFields): AddSourceRequest {
  const key = secretParts(f.key);
  const mgmt = secretParts(f.managementKey);
  return {
    kind: f.kind,
    name: f.name.trim(),
    baseUrl: f.baseUrl.trim(),
    key: key.key,
    keyEnv: key.env,
    managementKey: mgmt.key,
    managementKeyEnv: mgmt.env,
    interval: f.interval,
    options: f.options,
  };
}
