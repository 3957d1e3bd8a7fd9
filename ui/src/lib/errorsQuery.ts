// The Errors page's filters as they live in the URL ("#/errors?class=budget_exceeded&since=7d"),
// and what they ask the shell for. Pure: `now` is passed in.

import type { EventFilter } from "./types";

export type ErrorsRange = "24h" | "7d" | "30d" | "all";

export const ERRORS_RANGES: readonly ErrorsRange[] = ["24h", "7d", "30d", "all"];

/** What the page shows; `null` matches everything. */
export interface ErrorsQuery {
  source: string | null;
  class: string | null;
  status: number | null;
  range: ErrorsRange;
}

/** No filter: every event, however old. */
export const DEFAULT_ERRORS_QUERY: ErrorsQuery = { source: null, class: null, status: null, range: "all" };

const RANGE_MINUTES: Record<ErrorsRange, number | null> = {
  "24h": 24 * 60,
  "7d": 7 * 24 * 60,
  "30d": 30 * 24 * 60,
  all: null,
};

const RANGE_WORDS: Record<ErrorsRange, string> = {
  "24h": "Last 24 hours",
  "7d": "Last 7 days",
  "30d": "Last 30 days",
  all: "All time",
};

export function rangeWords(range: ErrorsRange): string {
  return RANGE_WORDS[range];
}

function isRange(text: string | null): text is ErrorsRange {
  return text !== null && (ERRORS_RANGES as readonly string[]).includes(text);
}

/** An HTTP status as typed: 100–599, or null when it is not one. */
export function parseStatus(text: string | null | undefined): number | null {
  const t = (text ?? "").trim();
  if (!/^\d{3}$/.test(t)) return null;
  const n = Number(t);
  return n >= 100 && n <= 599 ? n : null;
}

/**
 * The query from the part of the hash after "?". Anything unreadable (a range nobody offers, a
 * status that is not one) is left out rather than refused, so an old link still opens.
 */
export function parseErrorsQuery(search: string): ErrorsQuery {
  const params = new URLSearchParams(search.replace(/^\?/, ""));
  const text = (name: string) => {
    const v = params.get(name);
    return v === null || v.trim() === "" ? null : v.trim();
  };
  const since = text("since");
  return {
    source: text("source"),
    class: text("class"),
    status: parseStatus(text("status")),
    range: isRange(since) ? since : DEFAULT_ERRORS_QUERY.range,
  };
}

/** "source=work&class=rate_limited&status=429&since=7d"; defaults are left out ("" for none). */
export function errorsQueryString(query: ErrorsQuery): string {
  const params = new URLSearchParams();
  if (query.source) params.set("source", query.source);
  if (query.class) params.set("class", query.class);
  if (query.status !== null) params.set("status", String(query.status));
  if (query.range !== DEFAULT_ERRORS_QUERY.range) params.set("since", query.range);
  return params.toString();
}

/** True when any filter narrows the list. */
export function isFiltered(query: ErrorsQuery): boolean {
  return errorsQueryString(query) !== "";
}

/** When the range starts, or null for all time. */
export function rangeStart(range: ErrorsRange, now: number): number | null {
  const minutes = RANGE_MINUTES[range];
  return minutes === null ? null : now - minutes * 60_000;
}

/** What to ask `list_events` / `event_counts` for. */
export function toEventFilter(query: ErrorsQuery, now: number, limit?: number): EventFilter {
  const start = rangeStart(query.range, now);
  const filter: EventFilter = {
    source: query.source,
    class: query.class,
    status: query.status,
    since: start === null ? null : new Date(start).toISOString(),
  };
  if (limit !== undefined) filter.limit = limit;
  return filter;
}

/** The chart's bucket: an hour over a day, six hours over a week, a day otherwise. */
export function bucketMinutes(range: ErrorsRange): number {
  if (range === "24h") return 60;
  if (range === "7d") return 6 * 60;
  return 24 * 60;
}
