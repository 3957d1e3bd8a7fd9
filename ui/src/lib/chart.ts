// The arithmetic behind the charts drawn in the UI: which reading the pointer is nearest to,
// which marker stands for an event, which range shows an event, and the errors chart's stacked
// bars. Pure; times are milliseconds since the epoch unless a name says otherwise.

import { classLabel, compareClasses } from "./events";
import { localDateShort, type LocaleOptions } from "./format";
import type { ChartRange, ClassCount, EventMarker, HoverPoint } from "./types";

export const CHART_RANGES: readonly ChartRange[] = ["24h", "7d", "30d", "90d", "all"];

/** The shell's default when a link names no range. */
export const DEFAULT_CHART_RANGE: ChartRange = "30d";

export function parseChartRange(text: string | null | undefined): ChartRange | null {
  return text && (CHART_RANGES as readonly string[]).includes(text) ? (text as ChartRange) : null;
}

const RANGE_SPAN_MS: Record<ChartRange, number | null> = {
  "24h": 24 * 3_600_000,
  "7d": 7 * 86_400_000,
  "30d": 30 * 86_400_000,
  "90d": 90 * 86_400_000,
  all: null,
};

const RANGE_WORDS: Record<ChartRange, string> = {
  "24h": "the last 24 hours",
  "7d": "the last 7 days",
  "30d": "the last 30 days",
  "90d": "the last 90 days",
  all: "all the history",
};

/** "the last 7 days", for "288 readings in the last 7 days". */
export function chartRangeWords(range: ChartRange): string {
  return RANGE_WORDS[range];
}

/**
 * The index of the point nearest to `x` (viewBox units), or -1 when there are none. `points`
 * are in time order, so their x never decreases: a binary search, then the closer neighbour.
 */
export function nearestPointIndex(points: readonly Pick<HoverPoint, "x">[], x: number): number {
  if (points.length === 0 || !Number.isFinite(x)) return -1;
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid].x < x) lo = mid + 1;
    else hi = mid;
  }
  // lo is the first point at or right of x; the one before it may be closer. On a tie, the
  // newer (right) one: it is what a person reading the chart's end wants.
  if (lo > 0 && x - points[lo - 1].x < points[lo].x - x) return lo - 1;
  return lo;
}

/**
 * The shortest range that shows an event at `iso`: 7 days when it is within a week (enough
 * around it to read), then 30 days, 90 days, or all. Leaves a margin so that the event does
 * not sit on the chart's left edge.
 */
export function rangeForEventTime(iso: string, now: number): ChartRange {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "all";
  const age = now - t;
  for (const range of ["7d", "30d", "90d"] as const) {
    const span = RANGE_SPAN_MS[range] as number;
    if (age <= span * 0.95) return range;
  }
  return "all";
}

/**
 * The marker that shows event `eventId`: its own, or, when it shares a marker with newer events
 * close by (a marker shows the newest it stands for), the first marker at or after its time
 * that counts more than one. Null when the chart does not show it.
 */
export function markerForEvent<M extends Pick<EventMarker, "eventId" | "t" | "count">>(
  markers: readonly M[],
  eventId: number,
  eventIso: string,
): M | null {
  const own = markers.find((m) => m.eventId === eventId);
  if (own) return own;
  const t = Date.parse(eventIso);
  if (Number.isNaN(t)) return null;
  let best: M | null = null;
  for (const m of markers) {
    const mt = Date.parse(m.t);
    if (m.count > 1 && mt >= t && (best === null || mt < Date.parse(best.t))) best = m;
  }
  return best;
}

/** Where a tooltip hangs from its point, so that it stays inside the chart near the edges. */
export function tooltipAlign(x: number, width: number): "start" | "center" | "end" {
  if (width <= 0) return "center";
  const f = x / width;
  if (f < 0.2) return "start";
  if (f > 0.8) return "end";
  return "center";
}

/** "Mar 3, 2026, 10:04 AM · HTTP 402 · Credits exhausted · 3 events" for a chart marker. */
export function markerLabel(
  marker: Pick<EventMarker, "t" | "status" | "class" | "count">,
  opts: LocaleOptions = {},
): string {
  const parts = [
    localDateShort(marker.t, opts),
    marker.status === null ? "No response" : `HTTP ${marker.status}`,
    classLabel(marker.class),
  ];
  if (marker.count > 1) parts.push(`${marker.count} events`);
  return parts.join(" · ");
}

export interface BarSegment {
  class: string;
  count: number;
}

export interface StackedSegment extends BarSegment {
  /** Where the segment starts and ends on the count axis: stacked from 0. */
  from: number;
  to: number;
}

export interface Bar {
  /** The bucket's start. */
  start: number;
  total: number;
  /** Bottom to top, in the classes' order. */
  segments: StackedSegment[];
}

export interface StackedBars {
  bars: Bar[];
  bucketMs: number;
  /** The tallest bar's total. */
  max: number;
  /** The classes present, in order, with their totals: the legend. */
  classes: BarSegment[];
}

/** At most this many bars: a longer history is shown by its newest buckets. */
export const MAX_BARS = 400;

/**
 * Counts per class per bucket as stacked bars, one bar per bucket from the range's start (or the
 * first counted bucket, for all time) to now, empty buckets included so time reads evenly.
 * Buckets start on multiples of the bucket from the epoch, as the shell counts them.
 */
export function stackBars(
  counts: readonly ClassCount[],
  bucketMinutes: number,
  since: number | null,
  now: number,
): StackedBars {
  const bucketMs = Math.max(1, bucketMinutes) * 60_000;
  const floor = (t: number) => Math.floor(t / bucketMs) * bucketMs;
  const byBucket = new Map<number, Map<string, number>>();
  const totals = new Map<string, number>();
  let first = Infinity;
  for (const c of counts) {
    const t = Date.parse(c.start);
    if (Number.isNaN(t) || c.count <= 0) continue;
    const start = floor(t);
    first = Math.min(first, start);
    const bucket = byBucket.get(start) ?? new Map<string, number>();
    bucket.set(c.class, (bucket.get(c.class) ?? 0) + c.count);
    byBucket.set(start, bucket);
    totals.set(c.class, (totals.get(c.class) ?? 0) + c.count);
  }
  const last = floor(now);
  let from = since === null ? (Number.isFinite(first) ? first : last) : floor(since);
  from = Math.max(from, last - (MAX_BARS - 1) * bucketMs);
  const bars: Bar[] = [];
  let max = 0;
  for (let start = from; start <= last; start += bucketMs) {
    const bucket = byBucket.get(start);
    const sorted = bucket
      ? [...bucket.entries()]
          .map(([cls, count]) => ({ class: cls, count }))
          .sort((a, b) => compareClasses(a.class, b.class))
      : [];
    let total = 0;
    const segments = sorted.map((s) => {
      const from = total;
      total += s.count;
      return { ...s, from, to: total };
    });
    max = Math.max(max, total);
    bars.push({ start, total, segments });
  }
  const classes = [...totals.entries()]
    .map(([cls, count]) => ({ class: cls, count }))
    .sort((a, b) => compareClasses(a.class, b.class));
  return { bars, bucketMs, max, classes };
}

/** A round top for a count axis: 1, 2, 5, 10, 20, 50, … at or above `n`. */
export function niceMax(n: number): number {
  if (!(n > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) {
    if (step * magnitude >= n) return step * magnitude;
  }
  return 10 * magnitude;
}
