import { describe, expect, it } from "vitest";
import { describeOutlook, roughDuration } from "./outlook";
import type { ForecastSummary } from "./bindings/ForecastSummary";

const NOW = Date.parse("2026-11-26T12:00:00Z");
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

function forecast(over: Partial<ForecastSummary>): ForecastSummary {
  return {
    eta_p10: null,
    eta_p50: null,
    eta_p90: null,
    burn_per_hour: 0.5,
    next_reset: null,
    p_exhausted_before_reset: null,
    projected_spend_at_reset: null,
    low_confidence: false,
    runaway: false,
    alert: false,
    ...over,
  };
}

describe("outlook", () => {
  it("says when a meter runs out, with its band", () => {
    const f = forecast({ eta_p10: iso(NOW + 48 * H), eta_p50: iso(NOW + 72 * H), eta_p90: iso(NOW + 120 * H), alert: true });
    expect(describeOutlook(f, "low", NOW)).toEqual({ text: "Runs out in ~3 days (2–5 days)", tone: "warn" });
  });

  it("is critical within a day and marks early estimates", () => {
    const f = forecast({ eta_p10: iso(NOW + 5 * H), eta_p50: iso(NOW + 10 * H), eta_p90: iso(NOW + 20 * H), alert: true, low_confidence: true });
    expect(describeOutlook(f, "low", NOW)).toEqual({ text: "Runs out in ~10 h (5–20 h) · early estimate", tone: "critical" });
  });

  it("names the reset a budget outlasts, with the risk", () => {
    const f = forecast({ next_reset: "2026-12-01T00:00:00Z", p_exhausted_before_reset: 0.07 });
    expect(describeOutlook(f, "ok", NOW, "en-US")?.text).toBe("Lasts past the reset on Dec 1 (7% risk)");
  });

  it("calls out a runaway and says nothing for exhausted meters", () => {
    const f = forecast({ runaway: true, eta_p50: iso(NOW + 4 * H), alert: true });
    expect(describeOutlook(f, "ok", NOW)).toEqual({ text: "Spending far faster than usual; runs out in ~4 h", tone: "critical" });
    expect(describeOutlook(f, "exhausted", NOW)).toBeNull();
    expect(describeOutlook(forecast({ burn_per_hour: 0 }), "ok", NOW)?.text).toBe("No recent spend");
  });

  it("leaves out a band too narrow to say in whole units", () => {
    const f = forecast({ eta_p10: iso(NOW + 70 * H), eta_p50: iso(NOW + 72 * H), eta_p90: iso(NOW + 74 * H) });
    expect(describeOutlook(f, "ok", NOW)?.text).toBe("Runs out in ~3 days");
  });

  it("rounds durations the way people say them", () => {
    expect(roughDuration(0.5 * H)).toBe("<1 h");
    expect(roughDuration(30 * H)).toBe("~30 h");
    expect(roughDuration(100 * H)).toBe("~4 days");
    expect(roughDuration(60 * 24 * H)).toBe("~9 weeks");
  });
});
