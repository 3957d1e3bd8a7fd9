// The "Add a source" form as plain data: validation and the request it becomes. Kept out of the
// component so the rules are tested and the component only renders.

import { formatAmount, type LocaleOptions } from "./format";
import type { AddSourceRequest, TestResult } from "./types";

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

/** A test needs everything a poll does, but no name: nothing is saved under it. */
export function validateForTest(f: SourceFormFields): FieldErrors {
  const errors = validateSourceForm(f, []);
  delete errors.name;
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

/**
 * The request for the shell. `takesManagementKey` is false for kinds with no second key: a key
 * typed for another kind before switching must not be sent (or stored) with this one.
 */
export function toRequest(f: SourceFormFields, takesManagementKey = true): AddSourceRequest {
  const key = secretParts(f.key);
  const mgmt = takesManagementKey ? secretParts(f.managementKey) : { key: null, env: null };
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

export interface TestSummary {
  /** Every meter was read and nothing failed. */
  ok: boolean;
  /** One line per meter found: "Key limit: $12.50 left of $100.00". */
  found: string[];
  /** One line per failure, in the core's words. */
  problems: string[];
}

export function summarizeTest(result: TestResult, opts: LocaleOptions = {}): TestSummary {
  const found = result.meters.map((m) => {
    const left = `${m.label}: ${formatAmount(m.remaining, m.unit, opts)} left`;
    return m.limit === null ? left : `${left} of ${formatAmount(m.limit, m.unit, opts)}`;
  });
  const problems = result.failures.map((f) => f.message);
  if (found.length === 0 && problems.length === 0) {
    problems.push("The provider answered, but reported nothing Headroom can watch.");
  }
  return { ok: problems.length === 0, found, problems };
}
