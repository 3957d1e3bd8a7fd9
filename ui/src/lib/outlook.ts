// The forecast in a person's words: "Runs out in ~3 days (2–5 days)", "Lasts past the reset on
// Dec 1 (7% risk)". The numbers come from the Rust forecaster; only the wording lives here.

import type { ForecastSummary } from "./bindings/ForecastSummary";
import type { MeterState } from "./bindings/MeterState";

export type OutlookTone = "calm" | "warn" | "critical";

export interface Outlook {
  text: string;
  tone: OutlookTone;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** "~5 h", "~3 days", "~6 weeks": rounded the way a person would say it. */
export function roughDuration(ms: number): string {
  const h = ms / HOUR;
  if (h < 1) return "<1 h";
  if (h < 36) return `~${Math.round(h)} h`;
  const d = ms / DAY;
  if (d < 14) return `~${Math.round(d)} days`;
  return `~${Math.round(d / 7)} weeks`;
}

/** "2–5 days" or "10–30 h": both ends in the unit the far end needs; "" when they round alike. */
function range(lowMs: number, highMs: number): string {
  const hours = highMs < 36 * HOUR;
  const unit = hours ? HOUR : DAY;
  const lo = Math.max(0, Math.round(lowMs / unit));
  const hi = Math.max(lo, Math.round(highMs / unit));
  return lo === hi ? "" : `${lo}–${hi} ${hours ? "h" : "days"}`;
}

function at(iso: string | null): number | null {
  if (iso === null) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** What the forecast says for a card, or null when there is nothing worth saying. */
export function describeOutlook(
  forecast: ForecastSummary | null,
  state: MeterState,
  now: number = Date.now(),
  locale?: string,
): Outlook | null {
  if (forecast === null || state === "exhausted" || state === "pending") return null;
  const p50 = at(forecast.eta_p50);
  const p10 = at(forecast.eta_p10);
  const p90 = at(forecast.eta_p90);
  const early = forecast.low_confidence ? " · early estimate" : "";
  if (forecast.runaway) {
    const when = p50 !== null ? `; runs out in ${roughDuration(p50 - now)}` : "";
    return { text: `Spending far faster than usual${when}`, tone: "critical" };
  }
  if (p50 !== null) {
    const spread = p10 !== null && p90 !== null ? range(p10 - now, p90 - now) : "";
    const band = spread ? ` (${spread})` : "";
    const tone: OutlookTone = forecast.alert ? (p50 - now < DAY ? "critical" : "warn") : "calm";
    return { text: `Runs out in ${roughDuration(p50 - now)}${band}${early}`, tone };
  }
  const reset = at(forecast.next_reset);
  if (reset !== null) {
    const day = new Intl.DateTimeFormat(locale, { month: "short", day: "numeric" }).format(reset);
    const risk = forecast.p_exhausted_before_reset;
    const riskText = risk !== null ? ` (${Math.round(risk * 100)}% risk)` : "";
    return { text: `Lasts past the reset on ${day}${riskText}${early}`, tone: "calm" };
  }
  if (forecast.burn_per_hour <= 0) return { text: "No recent spend", tone: "calm" };
  return { text: `No run-out in sight at the current pace${early}`, tone: "calm" };
}
