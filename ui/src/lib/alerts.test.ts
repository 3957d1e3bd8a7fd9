import { describe, expect, it } from "vitest";
import {
  alertStateText,
  alertStatus,
  alertSubject,
  attemptsLabel,
  clockTime,
  deliveryDetail,
  deliveryKindLabel,
  filterAlerts,
  isOpen,
  openSummary,
  ruleLabel,
  severityLabel,
  worstOpenSeverity,
} from "./alerts";
import type { AlertView, DeliveryView } from "./types";

const utc = { locale: "en-US", timeZone: "UTC" };
const NOW = Date.parse("2026-03-03T12:00:00Z");

function alert(over: Partial<AlertView> = {}): AlertView {
  return {
    id: 1,
    source: "work",
    meter: "key_limit",
    meter_label: null,
    meter_id: 7,
    rule: "forecast_warn",
    severity: "warn",
    state: "firing",
    fired_at: "2026-03-03T10:00:00Z",
    resolved_at: null,
    acknowledged_at: null,
    snoozed_until: null,
    message: "runs out in about 30 h",
    deliveries: [],
    ...over,
  };
}

function delivery(over: Partial<DeliveryView> = {}): DeliveryView {
  return {
    channel: "team",
    channel_kind: "webhook",
    kind: "fired",
    state: "sent",
    attempts: 1,
    created_at: "2026-03-03T10:00:00Z",
    sent_at: "2026-03-03T10:00:02Z",
    next_attempt_at: null,
    last_error: null,
    ...over,
  };
}

describe("alert wording", () => {
  it("names every rule in words", () => {
    expect(ruleLabel("below_percent")).toBe("Below % of limit");
    expect(ruleLabel("below_amount")).toBe("Below amount");
    expect(ruleLabel("forecast_warn")).toBe("Runs out soon (forecast)");
    expect(ruleLabel("forecast_critical")).toBe("Runs out within a day (forecast)");
    expect(ruleLabel("runaway")).toBe("Runaway spending");
    expect(ruleLabel("exhausted")).toBe("Empty");
    expect(ruleLabel("source_failing")).toBe("Polls failing");
    expect(ruleLabel("payment_refused")).toBe("Refused for payment");
    expect(ruleLabel("some_new_rule")).toBe("some new rule");
  });

  it("names the subject and the severity", () => {
    expect(alertSubject(alert())).toBe("work · key_limit");
    expect(alertSubject(alert({ meter_label: "Key limit" }))).toBe("work · Key limit");
    expect(alertSubject(alert({ meter: null, meter_id: null }))).toBe("work");
    expect(severityLabel("critical")).toBe("Critical");
    expect(severityLabel("warn")).toBe("Warning");
  });

  it("says what state an alert is in, with the snooze's end in local time", () => {
    expect(alertStateText(alert(), NOW, utc)).toBe("Firing");
    expect(alertStateText(alert({ state: "acknowledged" }), NOW, utc)).toBe("Acknowledged");
    expect(alertStateText(alert({ state: "resolved" }), NOW, utc)).toBe("Resolved");
    expect(alertStateText(alert({ snoozed_until: "2026-03-03T13:00:00Z" }), NOW, utc)).toBe("Snoozed until 1:00 PM");
    expect(alertStateText(alert({ snoozed_until: "2026-03-04T12:00:00Z" }), NOW, utc)).toBe(
      "Snoozed until Mar 4, 2026, 12:00 PM",
    );
    expect(alertStateText(alert({ state: "acknowledged", snoozed_until: "2026-03-03T13:00:00Z" }), NOW, utc)).toBe(
      "Acknowledged, snoozed until 1:00 PM",
    );
    // A snooze that ran out is no longer worth mentioning.
    expect(alertStateText(alert({ snoozed_until: "2026-03-03T11:00:00Z" }), NOW, utc)).toBe("Firing");
    expect(alertStatus(alert({ snoozed_until: "2026-03-03T13:00:00Z" }), NOW)).toBe("snoozed");
    expect(alertStatus(alert({ state: "acknowledged" }), NOW)).toBe("acknowledged");
  });

  it("shows times in the person's time zone", () => {
    const berlin = { locale: "en-GB", timeZone: "Europe/Berlin" };
    expect(clockTime("2026-03-03T13:00:00Z", NOW, berlin)).toBe("14:00");
    // Just after midnight in Berlin is already the next day there.
    expect(clockTime("2026-03-03T23:30:00Z", NOW, berlin)).toMatch(/4 Mar 2026/);
  });
});

describe("open alerts", () => {
  const list = [
    alert({ id: 1, state: "resolved", severity: "critical", fired_at: "2026-03-01T00:00:00Z" }),
    alert({ id: 2, state: "firing", fired_at: "2026-03-02T00:00:00Z" }),
    alert({ id: 3, state: "acknowledged", fired_at: "2026-03-03T00:00:00Z" }),
  ];

  it("counts firing, snoozed and acknowledged alerts as open", () => {
    expect(isOpen(list[0])).toBe(false);
    expect(isOpen(list[1])).toBe(true);
    expect(isOpen(list[2])).toBe(true);
    expect(isOpen(alert({ snoozed_until: "2026-03-03T13:00:00Z" }))).toBe(true);
  });

  it("takes the worst severity from open alerts only", () => {
    expect(worstOpenSeverity(list)).toBe("warn");
    expect(worstOpenSeverity([...list, alert({ severity: "critical" })])).toBe("critical");
    expect(worstOpenSeverity([list[0]])).toBeNull();
  });

  it("filters and sorts newest first", () => {
    expect(filterAlerts(list, "open").map((a) => a.id)).toEqual([3, 2]);
    expect(filterAlerts(list, "all").map((a) => a.id)).toEqual([3, 2, 1]);
  });

  it("summarises the open ones", () => {
    expect(openSummary(list)).toBe("2 open alerts");
    expect(openSummary([alert({ severity: "critical" })])).toBe("1 open alert · 1 critical");
    expect(openSummary([list[0]])).toBe("");
  });
});

describe("deliveries", () => {
  it("says when a failed notice is retried, and why", () => {
    const d = delivery({
      state: "pending",
      attempts: 2,
      sent_at: null,
      next_attempt_at: "2026-03-03T12:05:00Z",
      last_error: "connection refused",
    });
    expect(deliveryDetail(d, NOW, utc)).toBe("Retrying at 12:05 PM after: connection refused");
  });

  it("says when a notice is held for quiet hours", () => {
    const d = delivery({ state: "pending", attempts: 0, sent_at: null, next_attempt_at: "2026-03-03T13:00:00Z" });
    expect(deliveryDetail(d, NOW, utc)).toBe("Held until 1:00 PM (quiet hours)");
    expect(deliveryDetail({ ...d, next_attempt_at: "2026-03-03T11:00:00Z" }, NOW, utc)).toBe("Going out now");
  });

  it("gives the reason for a failed or dropped notice, and the time of a sent one", () => {
    expect(deliveryDetail(delivery({ state: "failed", last_error: "HTTP 404" }), NOW, utc)).toBe("Gave up: HTTP 404");
    expect(deliveryDetail(delivery({ state: "dropped", last_error: "acknowledged before it went out" }), NOW, utc)).toBe(
      "Not sent: acknowledged before it went out",
    );
    expect(deliveryDetail(delivery(), NOW, utc)).toBe("Sent at 10:00 AM");
  });

  it("names kinds and counts attempts", () => {
    expect(deliveryKindLabel("fired")).toBe("Alert");
    expect(deliveryKindLabel("reminder")).toBe("Reminder");
    expect(deliveryKindLabel("resolved")).toBe("All-clear");
    expect(attemptsLabel(1)).toBe("1 attempt");
    expect(attemptsLabel(3)).toBe("3 attempts");
  });
});
