import { describe, expect, it } from "vitest";
import {
  checkRuleValue,
  checkSettings,
  parseInterval,
  resetChange,
  ruleChanges,
  rowsDirty,
  rowsFrom,
  settingsArgs,
  settingsFrom,
  takesValue,
  unitHint,
} from "./ruleForm";
import type { RuleView } from "./types";

function view(rule: string, over: Partial<RuleView> = {}): RuleView {
  return {
    meter: null,
    meter_id: null,
    rule,
    severity: "warn",
    enabled: true,
    value: null,
    input: null,
    origin: "built_in",
    source_wide: false,
    ...over,
  };
}

const defaults: RuleView[] = [
  view("below_percent", { value: "15%", input: "15" }),
  view("below_amount", { enabled: false }),
  view("forecast_warn", { value: "within 72h", input: "72h" }),
  view("exhausted", { severity: "critical" }),
];

describe("rule values", () => {
  it("knows which rules take a value and in what unit", () => {
    expect(takesValue("below_percent")).toBe(true);
    expect(takesValue("exhausted")).toBe(false);
    expect(unitHint("below_percent")).toBe("%");
    expect(unitHint("below_amount", "USD")).toBe("USD");
    expect(unitHint("below_amount")).toMatch(/own unit/);
    expect(unitHint("forecast_warn")).toMatch(/72h/);
    expect(unitHint("source_failing")).toMatch(/polls/);
  });

  it("reads lead times the way the core does", () => {
    expect(parseInterval("72h")).toBe(72 * 3600);
    expect(parseInterval("1d12h")).toBe(36 * 3600);
    expect(parseInterval("3600")).toBe(3600);
    expect(parseInterval("3 days")).toBeNull();
    expect(parseInterval("h")).toBeNull();
    expect(parseInterval("0h")).toBeNull();
  });

  it("refuses what the core would refuse, in words", () => {
    expect(checkRuleValue("below_percent", "-5")).toBe("A percentage of the limit must be above 0 and below 100, not -5.");
    expect(checkRuleValue("below_percent", "abc")).toMatch(/not a percentage/);
    expect(checkRuleValue("below_percent", "20")).toBeNull();
    expect(checkRuleValue("below_percent", "12.5%")).toBeNull();
    expect(checkRuleValue("below_amount", "0")).toMatch(/above zero/);
    expect(checkRuleValue("below_amount", "12.50")).toBeNull();
    expect(checkRuleValue("forecast_warn", "30m")).toMatch(/between 1h and 90d/);
    expect(checkRuleValue("forecast_warn", "soon")).toMatch(/not a length of time/);
    expect(checkRuleValue("forecast_critical", "1d")).toBeNull();
    expect(checkRuleValue("source_failing", "0")).toMatch(/from 1 to 100/);
    expect(checkRuleValue("source_failing", "2.5")).toMatch(/whole number/);
    expect(checkRuleValue("source_failing", "5")).toBeNull();
  });
});

describe("rule changes", () => {
  it("sends nothing when nothing changed", () => {
    const rows = rowsFrom(defaults);
    expect(rowsDirty(rows, defaults)).toBe(false);
    expect(ruleChanges(rows, defaults, null)).toEqual({ changes: [], errors: {} });
  });

  it("sends only the changed rules, with their state spelled out", () => {
    const rows = rowsFrom(defaults);
    rows[0].input = " 20 ";
    rows[3].enabled = false;
    expect(rowsDirty(rows, defaults)).toBe(true);
    expect(ruleChanges(rows, defaults, null)).toEqual({
      changes: [
        { meterId: null, rule: "below_percent", value: "20", enabled: true, reset: false },
        { meterId: null, rule: "exhausted", value: null, enabled: false, reset: false },
      ],
      errors: {},
    });
  });

  it("keeps a rule that is off off when only its value is typed", () => {
    const rows = rowsFrom(defaults);
    rows[1].input = "5";
    expect(ruleChanges(rows, defaults, 12).changes).toEqual([
      { meterId: 12, rule: "below_amount", value: "5", enabled: false, reset: false },
    ]);
  });

  it("sends nothing while any value is wrong, and says which", () => {
    const rows = rowsFrom(defaults);
    rows[0].input = "-5";
    rows[3].enabled = false;
    const { errors } = ruleChanges(rows, defaults, null);
    expect(errors).toEqual({ below_percent: "A percentage of the limit must be above 0 and below 100, not -5." });
  });

  it("wants a value before a rule that takes one is on", () => {
    const rows = rowsFrom(defaults);
    rows[1].enabled = true;
    expect(ruleChanges(rows, defaults, null).errors.below_amount).toMatch(/Enter a value/);
    rows[0].input = "";
    expect(ruleChanges(rows, defaults, null).errors.below_percent).toMatch(/Enter a value/);
  });

  it("resets a meter's own setting", () => {
    expect(resetChange(4, "below_percent")).toEqual({ meterId: 4, rule: "below_percent", value: null, enabled: null, reset: true });
  });
});

describe("reminders and quiet hours", () => {
  it("fills the form from the settings", () => {
    expect(settingsFrom({ remindEvery: "24h", quietHours: "22:00-07:00" })).toEqual({
      remindOn: true,
      remindEvery: "24h",
      quietOn: true,
      quietFrom: "22:00",
      quietTo: "07:00",
    });
    expect(settingsFrom({ remindEvery: null, quietHours: null })).toEqual({
      remindOn: false,
      remindEvery: "24h",
      quietOn: false,
      quietFrom: "22:00",
      quietTo: "07:00",
    });
  });

  it("spells out each setting, off included", () => {
    const f = settingsFrom({ remindEvery: "24h", quietHours: null });
    expect(settingsArgs(f)).toEqual({ remindEvery: "24h", quietHours: "off" });
    expect(settingsArgs({ ...f, remindOn: false, quietOn: true })).toEqual({ remindEvery: "off", quietHours: "22:00-07:00" });
  });

  it("checks them before sending", () => {
    const f = settingsFrom({ remindEvery: "24h", quietHours: null });
    expect(checkSettings(f)).toEqual({});
    expect(checkSettings({ ...f, remindEvery: "5m" }).remindEvery).toMatch(/spam/);
    expect(checkSettings({ ...f, remindEvery: "daily" }).remindEvery).toMatch(/not a length of time/);
    expect(checkSettings({ ...f, remindOn: false, remindEvery: "daily" })).toEqual({});
    expect(checkSettings({ ...f, quietOn: true, quietFrom: "07:00", quietTo: "07:00" }).quiet).toMatch(/empty/);
    expect(checkSettings({ ...f, quietOn: true, quietFrom: "", quietTo: "07:00" }).quiet).toMatch(/both ends/);
  });
});
