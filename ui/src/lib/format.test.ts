import { describe, expect, it } from "vitest";
import {
  axisTimeLabel,
  errorMessage,
  formatAmount,
  formatLimitLine,
  formatUsedPct,
  intervalLabel,
  localDateTime,
  meterTitle,
  pickLocale,
  readingsLabel,
  relativeTime,
  resetLabel,
  sortBySeverity,
} from "./format";
import type { MeterCard, MeterState } from "./types";

const en = { locale: "en-US" };

function card(over: Partial<MeterCard>): MeterCard {
  return {
    meterId: 1,
    source: "work",
    provider: "openrouter",
    providerLabel: "OpenRouter",
    meter: "key_limit",
    meterLabel: "Key limit",
    kind: "budget",
    unit: "USD",
    remaining: "74.5",
    limit: "100",
    usedPct: 25.5,
    reset: "monthly",
    resetAt: null,
    lastPoll: null,
    lastError: null,
    refusal: null,
    forecast: null,
    state: "ok",
    sparklineSvg: "",
    ...over,
  };
}

describe("money", () => {
  it("shows US dollars with cents", () => {
    expect(formatAmount("74.5", "USD", en)).toBe("$74.50");
    expect(formatAmount("0", "USD", en)).toBe("$0.00");
    expect(formatAmount("1234.567", "USD", en)).toBe("$1,234.57");
  });

  it("shows yuan with the bare yen sign and two decimals", () => {
    expect(formatAmount("12.3", "CNY", en)).toBe("¥12.30");
  });

  it("shows yen without decimals, because the yen has none", () => {
    expect(formatAmount("1234.6", "JPY", en)).toBe("¥1,235");
  });

  it("does not pass other dollars off as US dollars", () => {
    expect(formatAmount("5", "CAD", en)).toBe("CA$5.00");
  });

  it("keeps a negative balance visible as negative", () => {
    expect(formatAmount("-1.5", "USD", en)).toBe("-$1.50");
  });

  it("shows a dash before the first reading", () => {
    expect(formatAmount(null, "USD", en)).toBe("—");
    expect(formatAmount(null, null, en)).toBe("—");
  });
});

describe("locale", () => {
  it("follows the person's language", () => {
    expect(pickLocale(["de-DE", "en-US"])).toBe("de-DE");
    expect(pickLocale(["en_GB.UTF-8"])).toBe("en-GB");
  });

  it("does not print \"$ 74.50\" because the webview was started under LANG=C", () => {
    expect(pickLocale(["C"])).toBe("en-US");
    expect(pickLocale(["POSIX", "C.UTF-8"])).toBe("en-US");
    expect(pickLocale([])).toBe("en-US");
  });
});

describe("other units", () => {
  it("groups thousands and names the unit", () => {
    expect(formatAmount("1234", "tokens", en)).toBe("1,234 tokens");
    expect(formatAmount("250000", "requests", en)).toBe("250,000 requests");
  });

  it("uses the singular for one", () => {
    expect(formatAmount("1", "tokens", en)).toBe("1 token");
  });

  it("keeps fractional credits to two places", () => {
    expect(formatAmount("12.3456", "credits", en)).toBe("12.35 credits");
  });
});

describe("percent used", () => {
  it("rounds to whole percent", () => {
    expect(formatUsedPct(25.4)).toBe("25% used");
    expect(formatUsedPct(0)).toBe("0% used");
    expect(formatUsedPct(100)).toBe("100% used");
  });

  it("never rounds a little spending down to 0% or a little left up to 100%", () => {
    expect(formatUsedPct(0.3)).toBe("<1% used");
    expect(formatUsedPct(99.7)).toBe(">99% used");
  });

  it("clamps out-of-range values", () => {
    expect(formatUsedPct(130)).toBe("100% used");
  });

  it("writes the limit line under the figure", () => {
    expect(formatLimitLine(card({ limit: "100", usedPct: 25 }), en)).toBe("of $100.00 · 25% used");
    expect(formatLimitLine(card({ limit: null, usedPct: null }), en)).toBe("");
  });
});

describe("times", () => {
  const now = Date.parse("2025-03-03T12:00:00Z");

  it("says how long ago a poll was", () => {
    expect(relativeTime("2025-03-03T11:59:50Z", now)).toBe("just now");
    expect(relativeTime("2025-03-03T11:58:00Z", now)).toBe("2 min ago");
    expect(relativeTime("2025-03-03T09:00:00Z", now)).toBe("3 h ago");
    expect(relativeTime("2025-03-02T11:00:00Z", now)).toBe("yesterday");
    expect(relativeTime("2025-02-27T12:00:00Z", now)).toBe("4 days ago");
  });

  it("treats a timestamp slightly in the future as just now", () => {
    expect(relativeTime("2025-03-03T12:00:05Z", now)).toBe("just now");
  });

  it("says never when there was no poll", () => {
    expect(relativeTime(null, now)).toBe("never");
  });

  it("shows the full time in the person's zone, not UTC", () => {
    expect(localDateTime("2025-03-03T12:04:05Z", { locale: "en-US", timeZone: "America/New_York" })).toBe(
      "Mar 3, 2025, 7:04:05 AM",
    );
    expect(localDateTime("2025-03-03T12:04:05Z", { locale: "en-GB", timeZone: "Asia/Shanghai" })).toBe(
      "3 Mar 2025, 20:04:05",
    );
  });

  it("counts readings since the first one", () => {
    const opts = { locale: "en-US", timeZone: "UTC" };
    expect(readingsLabel(1234, "2025-03-01T08:00:00Z", opts)).toBe("1,234 readings since Mar 1, 2025, 8:00 AM");
    expect(readingsLabel(1, "2025-03-01T08:00:00Z", opts)).toBe("1 reading since Mar 1, 2025, 8:00 AM");
    expect(readingsLabel(0, null, opts)).toBe("No readings yet");
  });

  it("words poll intervals", () => {
    expect(intervalLabel(900)).toBe("every 15 min");
    expect(intervalLabel(3600)).toBe("every 1 h");
    expect(intervalLabel(30)).toBe("every 30 s");
  });
});

describe("reset", () => {
  it("explains when and whether a meter resets", () => {
    expect(resetLabel("monthly", "budget")).toBe("Resets monthly");
    expect(resetLabel("monthly", "budget", "2025-04-01T00:00:00Z", { locale: "en-US", timeZone: "UTC" })).toBe(
      "Resets monthly, next Apr 1, 2025, 12:00 AM",
    );
    expect(resetLabel(null, "balance")).toBe("Prepaid balance — no reset");
  });
});

describe("card titles", () => {
  it("name the meter, or say why there is none yet", () => {
    expect(meterTitle(card({}))).toBe("Key limit");
    expect(meterTitle(card({ meterLabel: null, meter: null, state: "pending" }))).toBe("Waiting for the first reading");
    expect(meterTitle(card({ meterLabel: null, meter: null, state: "failing" }))).toBe("No reading — polling fails");
  });
});

describe("severity order", () => {
  it("puts the problems first: exhausted, failing, low, ok, pending", () => {
    const states: MeterState[] = ["ok", "pending", "low", "exhausted", "failing"];
    const sorted = sortBySeverity(states.map((state, i) => card({ meterId: i, state, source: `s${i}` })));
    expect(sorted.map((c) => c.state)).toEqual(["exhausted", "failing", "low", "ok", "pending"]);
  });

  it("within a state, shows the fuller meter first, then by name", () => {
    const sorted = sortBySeverity([
      card({ meterId: 1, source: "b", usedPct: 40 }),
      card({ meterId: 2, source: "a", usedPct: 40 }),
      card({ meterId: 3, source: "c", usedPct: 90 }),
    ]);
    expect(sorted.map((c) => c.source)).toEqual(["c", "a", "b"]);
  });

  it("places a source that has no meter yet by its state, like any other card", () => {
    const sorted = sortBySeverity([
      card({ meterId: 1, state: "ok" }),
      card({ meterId: null, meter: null, meterLabel: null, state: "failing", source: "broken" }),
    ]);
    expect(sorted.map((c) => c.source)).toEqual(["broken", "work"]);
  });

  it("does not reorder the caller's array", () => {
    const cards = [card({ meterId: 1, state: "ok" }), card({ meterId: 2, state: "exhausted" })];
    sortBySeverity(cards);
    expect(cards.map((c) => c.meterId)).toEqual([1, 2]);
  });
});

describe("error messages", () => {
  it("shows the backend's message verbatim", () => {
    expect(errorMessage({ code: "exists", message: "A source named “work” already exists." })).toBe(
      "A source named “work” already exists.",
    );
  });

  it("accepts plain strings and Errors", () => {
    expect(errorMessage("boom")).toBe("boom");
    expect(errorMessage(new Error("broke"))).toBe("broke");
  });
});

describe("time axis labels", () => {
  it("name the day, and the hour when buckets are hours", () => {
    const t = Date.parse("2026-03-03T10:00:00Z");
    expect(axisTimeLabel(t, false, { locale: "en-US", timeZone: "UTC" })).toBe("Mar 3");
    expect(axisTimeLabel(t, true, { locale: "en-US", timeZone: "UTC" })).toBe("Mar 3, 10 AM");
    expect(axisTimeLabel(Number.NaN, true)).toBe("");
  });
});
