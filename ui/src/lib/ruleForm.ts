// The alert-rule forms (Settings → Alerts, and a meter's overrides) as plain data: what each rule
// takes, the checks made before anything is sent, and the RuleChange list a save becomes. The
// core checks again and has the last word; these checks only catch mistakes early, in the same
// spirit and never stricter.

import type { AlertSettings, RuleChange, RuleView } from "./types";

/** Rules that take a value, and what kind of value. */
const VALUE_KIND: Record<string, "percent" | "amount" | "lead" | "polls"> = {
  below_percent: "percent",
  below_amount: "amount",
  forecast_warn: "lead",
  forecast_critical: "lead",
  source_failing: "polls",
};

export function takesValue(rule: string): boolean {
  return rule in VALUE_KIND;
}

/** What a rule watches, in one sentence, under its name in the form. */
const DESCRIPTIONS: Record<string, string> = {
  below_percent: "Warns when less than this share of a meter's limit is left.",
  below_amount: "Warns when a meter's remaining amount drops below this.",
  forecast_warn: "Warns when the forecast says a meter runs out within this time.",
  forecast_critical: "Critical when the forecast says a meter runs out within this time.",
  runaway: "Warns when spending jumps far above its usual pace.",
  exhausted: "Critical when a meter has nothing left.",
  source_failing: "Warns when this many polls of a source fail in a row.",
  payment_refused: "Critical when a provider refuses requests for want of payment.",
};

export function ruleDescription(rule: string): string {
  return DESCRIPTIONS[rule] ?? "";
}

/**
 * The unit shown after a rule's input: "%", the meter's unit for an amount ("USD"), "e.g. 72h"
 * for a lead time, "polls" for a count. `unit` is null for the defaults, which apply to meters
 * of every unit.
 */
export function unitHint(rule: string, unit: string | null = null): string {
  switch (VALUE_KIND[rule]) {
    case "percent":
      return "%";
    case "amount":
      return unit ?? "in the meter's own unit";
    case "lead":
      return "e.g. 72h or 3d";
    case "polls":
      return "polls in a row";
    default:
      return "";
  }
}

export function placeholder(rule: string): string {
  switch (VALUE_KIND[rule]) {
    case "percent":
      return "e.g. 15";
    case "amount":
      return "e.g. 5";
    case "lead":
      return "e.g. 72h";
    case "polls":
      return "e.g. 3";
    default:
      return "";
  }
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Seconds in "90m", "1h30m", "3d" or a bare number of seconds, as the core reads them; null if unreadable. */
export function parseInterval(text: string): number | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const parts = /^(\d+[smhd])+$/.test(t) ? t.match(/\d+[smhd]/g) : null;
  if (!parts) return null;
  const scale: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
  const total = parts.reduce((sum, p) => sum + Number(p.slice(0, -1)) * scale[p.slice(-1)], 0);
  return total > 0 ? total : null;
}

/** Why `text` is not a usable value for `rule`, or null when it is. */
export function checkRuleValue(rule: string, text: string): string | null {
  const t = text.trim();
  switch (VALUE_KIND[rule]) {
    case "percent": {
      const n = t.replace(/%$/, "").trim();
      if (!NUMBER.test(n)) return `“${t}” is not a percentage; write a number such as 15.`;
      const p = Number(n);
      if (!(p > 0 && p < 100)) return `A percentage of the limit must be above 0 and below 100, not ${t}.`;
      return null;
    }
    case "amount": {
      if (!NUMBER.test(t)) return `“${t}” is not an amount; write a number such as 5 or 12.50.`;
      if (!(Number(t) > 0)) return `The amount must be above zero, not ${t}.`;
      return null;
    }
    case "lead": {
      const secs = parseInterval(t);
      if (secs === null) return `“${t}” is not a length of time; write it like 72h, 3d or 90m.`;
      if (secs < 3600 || secs > 90 * 86_400) return `A lead time must be between 1h and 90d, not ${t}.`;
      return null;
    }
    case "polls": {
      const n = /^\+?\d+$/.test(t) ? Number(t) : NaN;
      if (!(n >= 1 && n <= 100)) {
        return `The number of failed polls in a row must be a whole number from 1 to 100, not ${t}.`;
      }
      return null;
    }
    default:
      return null;
  }
}

/** One rule's line in a form, as the person has it. */
export interface RuleRow {
  rule: string;
  enabled: boolean;
  /** What is in the input; "" for a rule without a value. */
  input: string;
}

export function rowsFrom(views: readonly RuleView[]): RuleRow[] {
  return views.map((v) => ({ rule: v.rule, enabled: v.enabled, input: v.input ?? "" }));
}

/** Whether the form differs from what is saved. */
export function rowsDirty(rows: readonly RuleRow[], views: readonly RuleView[]): boolean {
  return rows.some((row) => {
    const saved = views.find((v) => v.rule === row.rule);
    if (!saved) return false;
    return row.enabled !== saved.enabled || (takesValue(row.rule) && row.input.trim() !== (saved.input ?? ""));
  });
}

export interface RuleChanges {
  changes: RuleChange[];
  /** By rule: what is wrong with what was typed. Nothing is sent while there is any. */
  errors: Record<string, string>;
}

/**
 * The changes a save sends: only rules that differ from what is saved, each with its state
 * spelled out (so typing a value into a rule that is off keeps it off). `meterId` null edits the
 * defaults; a number edits (and creates) that meter's overrides.
 */
export function ruleChanges(rows: readonly RuleRow[], views: readonly RuleView[], meterId: number | null): RuleChanges {
  const changes: RuleChange[] = [];
  const errors: Record<string, string> = {};
  for (const row of rows) {
    const saved = views.find((v) => v.rule === row.rule);
    if (!saved) continue;
    const typed = takesValue(row.rule) ? row.input.trim() : "";
    const valueChanged = takesValue(row.rule) && typed !== (saved.input ?? "");
    if (!valueChanged && row.enabled === saved.enabled) continue;
    if (valueChanged && typed !== "") {
      const problem = checkRuleValue(row.rule, typed);
      if (problem) {
        errors[row.rule] = problem;
        continue;
      }
    }
    if (row.enabled && takesValue(row.rule) && typed === "") {
      errors[row.rule] = "Enter a value to keep this rule on, or turn it off.";
      continue;
    }
    changes.push({
      meterId,
      rule: row.rule,
      value: valueChanged && typed !== "" ? typed : null,
      enabled: row.enabled,
      reset: false,
    });
  }
  return { changes, errors };
}

/** Forgets a meter's own setting of a rule, so the default applies again. */
export function resetChange(meterId: number, rule: string): RuleChange {
  return { meterId, rule, value: null, enabled: null, reset: true };
}

/** "uses default (15%)" / "set for this meter" / "built in": where a meter's setting comes from. */
export function originLabel(view: Pick<RuleView, "origin">): string {
  return view.origin === "meter" ? "Set for this meter" : "Uses default";
}

// ---- Reminders and quiet hours ------------------------------------------------------------

export interface SettingsFields {
  remindOn: boolean;
  remindEvery: string;
  quietOn: boolean;
  /** "22:00", as an <input type="time"> gives it. */
  quietFrom: string;
  quietTo: string;
}

export const DEFAULT_REMIND_EVERY = "24h";

export function settingsFrom(s: AlertSettings): SettingsFields {
  const [from, to] = (s.quietHours ?? "").split("-");
  return {
    remindOn: s.remindEvery !== null,
    remindEvery: s.remindEvery ?? DEFAULT_REMIND_EVERY,
    quietOn: s.quietHours !== null,
    quietFrom: s.quietHours ? from.trim() : "22:00",
    quietTo: s.quietHours ? (to ?? "").trim() : "07:00",
  };
}

export function settingsDirty(f: SettingsFields, s: AlertSettings): boolean {
  const args = settingsArgs(f);
  return args.remindEvery !== (s.remindEvery ?? "off") || args.quietHours !== (s.quietHours ?? "off");
}

export type SettingsErrors = Partial<Record<"remindEvery" | "quiet", string>>;

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

export function checkSettings(f: SettingsFields): SettingsErrors {
  const errors: SettingsErrors = {};
  if (f.remindOn) {
    const secs = parseInterval(f.remindEvery);
    if (secs === null) errors.remindEvery = `“${f.remindEvery.trim()}” is not a length of time; write it like 24h, 12h or 90m.`;
    else if (secs < 600) errors.remindEvery = "Reminders more often than every 10 minutes would be spam.";
  }
  if (f.quietOn) {
    if (!TIME.test(f.quietFrom) || !TIME.test(f.quietTo)) errors.quiet = "Give both ends of the quiet hours as times, e.g. 22:00 to 07:00.";
    else if (f.quietFrom === f.quietTo) errors.quiet = "Quiet hours that start and end at the same time are empty; turn them off instead.";
  }
  return errors;
}

/** What `set_alert_settings` takes: each setting spelled out, "off" to turn it off. */
export function settingsArgs(f: SettingsFields): { remindEvery: string; quietHours: string } {
  return {
    remindEvery: f.remindOn ? f.remindEvery.trim() : "off",
    quietHours: f.quietOn ? `${f.quietFrom}-${f.quietTo}` : "off",
  };
}
