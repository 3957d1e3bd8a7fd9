import { describe, expect, it } from "vitest";
import {
  MAX_BARS,
  markerForEvent,
  markerLabel,
  nearestPointIndex,
  niceMax,
  parseChartRange,
  rangeForEventTime,
  stackBars,
  tooltipAlign,
} from "./chart";

const NOW = Date.parse("2026-03-10T12:00:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

describe("the reading nearest the pointer", () => {
  const points = [0, 10, 20, 40, 80].map((x) => ({ x }));

  it("finds the closest point on either side", () => {
    expect(nearestPointIndex(points, 0)).toBe(0);
    expect(nearestPointIndex(points, 4)).toBe(0);
    expect(nearestPointIndex(points, 6)).toBe(1);
    expect(nearestPointIndex(points, 29)).toBe(2);
    expect(nearestPointIndex(points, 31)).toBe(3);
    expect(nearestPointIndex(points, 61)).toBe(4);
  });

  it("takes the newer point on a tie, and clamps outside the line", () => {
    expect(nearestPointIndex(points, 5)).toBe(1);
    expect(nearestPointIndex(points, -50)).toBe(0);
    expect(nearestPointIndex(points, 500)).toBe(4);
  });

  it("copes with no points, one point and repeated x", () => {
    expect(nearestPointIndex([], 3)).toBe(-1);
    expect(nearestPointIndex([{ x: 7 }], 100)).toBe(0);
    expect(nearestPointIndex([{ x: 1 }, { x: 5 }, { x: 5 }, { x: 9 }], 5)).toBe(1);
    expect(nearestPointIndex(points, Number.NaN)).toBe(-1);
  });

  it("agrees with a linear search on many points", () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ x: Math.floor(i * 1.7) }));
    for (let x = -5; x < 860; x += 3.3) {
      const best = many.reduce((b, p, i) => (Math.abs(p.x - x) < Math.abs(many[b].x - x) ? i : b), 0);
      expect(Math.abs(many[nearestPointIndex(many, x)].x - x)).toBe(Math.abs(many[best].x - x));
    }
  });
});

describe("the range that shows an event", () => {
  it("is a week for a recent event, then 30 days, 90 days, all", () => {
    expect(rangeForEventTime(iso(NOW - 5 * 60_000), NOW)).toBe("7d");
    expect(rangeForEventTime(iso(NOW - 6 * DAY), NOW)).toBe("7d");
    expect(rangeForEventTime(iso(NOW - 7 * DAY + HOUR), NOW)).toBe("30d");
    expect(rangeForEventTime(iso(NOW - 20 * DAY), NOW)).toBe("30d");
    expect(rangeForEventTime(iso(NOW - 60 * DAY), NOW)).toBe("90d");
    expect(rangeForEventTime(iso(NOW - 200 * DAY), NOW)).toBe("all");
    expect(rangeForEventTime("not a time", NOW)).toBe("all");
  });

  it("reads range names from links", () => {
    expect(parseChartRange("24h")).toBe("24h");
    expect(parseChartRange("all")).toBe("all");
    expect(parseChartRange("1y")).toBeNull();
    expect(parseChartRange(null)).toBeNull();
  });
});

describe("the marker of an event", () => {
  const markers = [
    { eventId: 3, t: iso(NOW - 3 * HOUR), count: 1, x: 10, y: 5 },
    { eventId: 9, t: iso(NOW - HOUR), count: 4, x: 50, y: 5 },
    { eventId: 12, t: iso(NOW - 10 * 60_000), count: 2, x: 90, y: 5 },
  ];

  it("is its own when it has one", () => {
    expect(markerForEvent(markers, 3, iso(NOW - 3 * HOUR))?.eventId).toBe(3);
    expect(markerForEvent(markers, 12, iso(NOW))?.eventId).toBe(12);
  });

  it("is the crowd's marker that stands for it otherwise", () => {
    expect(markerForEvent(markers, 7, iso(NOW - HOUR - 60_000))?.eventId).toBe(9);
    expect(markerForEvent(markers, 11, iso(NOW - 20 * 60_000))?.eventId).toBe(12);
  });

  it("is none when the chart does not show the event", () => {
    expect(markerForEvent(markers, 99, iso(NOW + HOUR))).toBeNull();
    expect(markerForEvent([], 3, iso(NOW))).toBeNull();
    expect(markerForEvent(markers, 99, "garbage")).toBeNull();
  });

  it("is described in words", () => {
    const opts = { locale: "en-US", timeZone: "UTC" };
    expect(markerLabel({ t: "2026-03-10T11:00:00Z", status: 402, class: "credits_exhausted", count: 1 }, opts)).toBe(
      "Mar 10, 2026, 11:00 AM · HTTP 402 · Credits exhausted",
    );
    expect(markerLabel({ t: "2026-03-10T11:00:00Z", status: null, class: null, count: 3 }, opts)).toBe(
      "Mar 10, 2026, 11:00 AM · No response · No answer · 3 events",
    );
  });
});

describe("tooltips near the edges", () => {
  it("hang inwards", () => {
    expect(tooltipAlign(50, 960)).toBe("start");
    expect(tooltipAlign(480, 960)).toBe("center");
    expect(tooltipAlign(900, 960)).toBe("end");
    expect(tooltipAlign(5, 0)).toBe("center");
  });
});

describe("the errors chart's stacked bars", () => {
  it("has one bar per bucket from the range's start to now, empty ones included", () => {
    const since = NOW - DAY;
    const counts = [
      { start: iso(NOW - 2 * HOUR), class: "rate_limited", count: 2 },
      { start: iso(NOW - 2 * HOUR), class: "budget_exceeded", count: 3 },
      { start: iso(NOW - 20 * HOUR), class: "unclassified", count: 1 },
    ];
    const s = stackBars(counts, 60, since, NOW);
    expect(s.bars).toHaveLength(25);
    expect(s.bars[0].start).toBe(since);
    expect(s.bars[24].start).toBe(NOW);
    expect(s.max).toBe(5);
    const busy = s.bars.find((b) => b.start === NOW - 2 * HOUR);
    expect(busy?.total).toBe(5);
    expect(busy?.segments).toEqual([
      { class: "budget_exceeded", count: 3, from: 0, to: 3 },
      { class: "rate_limited", count: 2, from: 3, to: 5 },
    ]);
    expect(s.bars.filter((b) => b.total === 0)).toHaveLength(23);
    expect(s.classes).toEqual([
      { class: "budget_exceeded", count: 3 },
      { class: "rate_limited", count: 2 },
      { class: "unclassified", count: 1 },
    ]);
  });

  it("starts at the first event for all time, on bucket boundaries", () => {
    const counts = [{ start: iso(NOW - 3 * DAY), class: "credits_exhausted", count: 1 }];
    const s = stackBars(counts, 1440, null, NOW);
    expect(s.bars).toHaveLength(4);
    expect(s.bars.every((b) => b.start % DAY === 0)).toBe(true);
  });

  it("keeps the newest bars of a very long history", () => {
    const counts = [{ start: iso(NOW - 1000 * DAY), class: "unknown", count: 1 }];
    const s = stackBars(counts, 1440, null, NOW);
    expect(s.bars).toHaveLength(MAX_BARS);
    expect(s.bars[MAX_BARS - 1].start).toBe(Math.floor(NOW / DAY) * DAY);
  });

  it("draws nothing but empty buckets without counts", () => {
    const s = stackBars([], 360, NOW - 7 * DAY, NOW);
    expect(s.max).toBe(0);
    expect(s.classes).toEqual([]);
    expect(s.bars.length).toBeGreaterThan(27);
  });

  it("rounds the count axis up", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(1)).toBe(1);
    expect(niceMax(3)).toBe(5);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(12)).toBe(20);
    expect(niceMax(51)).toBe(100);
  });
});
