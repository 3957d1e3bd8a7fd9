// Alerts in a person's words: what a rule means, what state an alert is in, where its notices
// went. Pure functions, so the wording is unit-tested; `now` and locale options are pinned in tests.

import { localDateShort, type LocaleOptions } from "./format";
import type { AlertView, DeliveryKind, DeliveryState, DeliveryView, Severity } from "./types";

const RULE_LABELS: Record<string, string> = {
  below_percent: "Below % of limit",
  below_amount: "Below amount",
  forecast_warn: "Runs out soon (forecast)",
  forecast_critical: "Runs out within a day (forecast)",
  runaway: "Runaway spending",
  exhausted: "Empty",
  source_failing: "Polls failing",
  payment_refused: "Refused for payment",
};

/** "Below % of limit"; an unknown rule (a newer core) reads as its name with spaces. */
export function ruleLabel(rule: string): string {
  return RULE_LABELS[rule] ?? rule.replace(/_/g, " ");
}

export function severityLabel(severity: Severity): string {
  return severity === "critical" ? "Critical" : "Warning";
}

/** "work · Key limit", or just the source for a source-wide alert. */
export function alertSubject(
  alert: Pick<AlertView, "source" | "meter" | "meter_label">,
): string {
  const meter = alert.meter_label ?? alert.meter;
  return meter ? `${alert.source} · ${meter}` : alert.source;
}

/** Open means someone may still need to act: firing (snoozed or not) or acknowledged. */
export function isOpen(alert: Pick<AlertView, "state">): boolean {
  return alert.state === "firing" || alert.state === "acknowledged";
}

export function openAlerts<T extends Pick<AlertView, "state">>(alerts: readonly T[]): T[] {
  return alerts.filter(isOpen);
}

/** The worst severity among the open alerts, or null when none is open. */
export function worstOpenSeverity(alerts: readonly Pick<AlertView, "state" | "severity">[]): Severity | null {
  let worst: Severity | null = null;
  for (const a of alerts) {
    if (!isOpen(a)) continue;
    if (a.severity === "critical") return "critical";
    worst = "warn";
  }
  return worst;
}

export type AlertFilter = "open" | "all";

/** Newest first (the shell already sends them so; a tie keeps the higher id first). */
export function filterAlerts<T extends Pick<AlertView, "state" | "fired_at" | "id">>(
  alerts: readonly T[],
  filter: AlertFilter,
): T[] {
  const shown = filter === "open" ? alerts.filter(isOpen) : [...alerts];
  return shown.sort((a, b) => Date.parse(b.fired_at) - Date.parse(a.fired_at) || b.id - a.id);
}

/** "firing" | "acknowledged" | "snoozed" | "resolved": what the row is, for styling and tests. */
export type AlertStatus = "firing" | "acknowledged" | "snoozed" | "resolved";

export function alertStatus(alert: Pick<AlertView, "state" | "snoozed_until">, now: number = Date.now()): AlertStatus {
  if (alert.state === "resolved") return "resolved";
  if (alert.state === "acknowledged") return "acknowledged";
  return snoozeRunning(alert, now) ? "snoozed" : "firing";
}

function snoozeRunning(alert: Pick<AlertView, "snoozed_until">, now: number): boolean {
  if (!alert.snoozed_until) return false;
  const until = Date.parse(alert.snoozed_until);
  return Number.isFinite(until) && until > now;
}

/**
 * A time of day for "until …" lines: "3:05 PM" when it is on the same local day as `now`,
 * otherwise with its date, "Mar 4, 2026, 3:05 PM".
 */
export function clockTime(iso: string, now: number = Date.now(), opts: LocaleOptions = {}): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const day = new Intl.DateTimeFormat("en-CA", { dateStyle: "short", timeZone: opts.timeZone });
  if (day.format(t) !== day.format(now)) return localDateShort(iso, opts);
  return new Intl.DateTimeFormat(opts.locale, { timeStyle: "short", timeZone: opts.timeZone }).format(t);
}

/** "Firing", "Acknowledged", "Snoozed until 3:05 PM", "Acknowledged, snoozed until …", "Resolved". */
export function alertStateText(
  alert: Pick<AlertView, "state" | "snoozed_until">,
  now: number = Date.now(),
  opts: LocaleOptions = {},
): string {
  if (alert.state === "resolved") return "Resolved";
  const until = snoozeRunning(alert, now) && alert.snoozed_until ? clockTime(alert.snoozed_until, now, opts) : "";
  if (alert.state === "acknowledged") return until ? `Acknowledged, snoozed until ${until}` : "Acknowledged";
  return until ? `Snoozed until ${until}` : "Firing";
}

const KIND_LABELS: Record<DeliveryKind, string> = {
  fired: "Alert",
  reminder: "Reminder",
  resolved: "All-clear",
};

export function deliveryKindLabel(kind: DeliveryKind): string {
  return KIND_LABELS[kind] ?? kind;
}

const STATE_LABELS: Record<DeliveryState, string> = {
  sent: "Sent",
  pending: "Pending",
  failed: "Failed",
  dropped: "Dropped",
};

export function deliveryStateLabel(state: DeliveryState): string {
  return STATE_LABELS[state] ?? state;
}

export function attemptsLabel(attempts: number): string {
  return attempts === 1 ? "1 attempt" : `${attempts} attempts`;
}

/**
 * What is going on with one notice, in words:
 * pending after a failure → "Retrying at 3:05 PM after: connection refused";
 * pending without one → "Held until 7:00 AM (quiet hours)" (or "Going out now");
 * failed or dropped → the reason; sent → "Sent at 3:05 PM".
 */
export function deliveryDetail(d: DeliveryView, now: number = Date.now(), opts: LocaleOptions = {}): string {
  switch (d.state) {
    case "pending": {
      const next = d.next_attempt_at ? Date.parse(d.next_attempt_at) : NaN;
      const later = Number.isFinite(next) && next > now && d.next_attempt_at;
      if (d.last_error) {
        return later ? `Retrying at ${clockTime(later, now, opts)} after: ${d.last_error}` : `Retrying now after: ${d.last_error}`;
      }
      return later ? `Held until ${clockTime(later, now, opts)} (quiet hours)` : "Going out now";
    }
    case "failed":
      return d.last_error ? `Gave up: ${d.last_error}` : "Gave up";
    case "dropped":
      return d.last_error ? `Not sent: ${d.last_error}` : "Not sent";
    case "sent":
      return d.sent_at ? `Sent at ${clockTime(d.sent_at, now, opts)}` : "";
    default:
      return "";
  }
}

/** "3 open alerts · 1 critical" for a page heading; "" when none is open. */
export function openSummary(alerts: readonly Pick<AlertView, "state" | "severity">[]): string {
  const open = alerts.filter(isOpen);
  if (open.length === 0) return "";
  const critical = open.filter((a) => a.severity === "critical").length;
  const count = open.length === 1 ? "1 open alert" : `${open.length} open alerts`;
  return critical > 0 ? `${count} · ${critical} critical` : count;
}
