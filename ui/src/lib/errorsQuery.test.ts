import { describe, expect, it } from "vitest";
import {
  DEFAULT_ERRORS_QUERY,
  bucketMinutes,
  errorsQueryString,
  isFiltered,
  parseErrorsQuery,
  parseStatus,
  rangeStart,
  toEventFilter,
} from "./errorsQuery";

const NOW = Date.parse("2026-03-10T12:00:00Z");

describe("errors filters in the URL", () => {
  it("reads a query", () => {
    expect(parseErrorsQuery("class=budget_exceeded&since=7d")).toEqual({
      source: null,
      class: "budget_exceeded",
      status: null,
      range: "7d",
    });
    expect(parseErrorsQuery("?source=my%20proxy&status=429")).toEqual({
      source: "my proxy",
      class: null,
      status: 429,
      range: "all",
    });
  });

  it("leaves out what it cannot read, so an old link still opens", () => {
    expect(parseErrorsQuery("since=1y&status=abc&class=")).toEqual(DEFAULT_ERRORS_QUERY);
    expect(parseErrorsQuery("")).toEqual(DEFAULT_ERRORS_QUERY);
  });

  it("writes a query without its defaults, in a stable order", () => {
    expect(errorsQueryString(DEFAULT_ERRORS_QUERY)).toBe("");
    expect(errorsQueryString({ source: "work", class: "rate_limited", status: 429, range: "24h" })).toBe(
      "source=work&class=rate_limited&status=429&since=24h",
    );
    expect(errorsQueryString({ ...DEFAULT_ERRORS_QUERY, source: "a&b=c" })).toBe("source=a%26b%3Dc");
  });

  it("round-trips", () => {
    const q = { source: "team proxy", class: "unclassified", status: 402, range: "30d" as const };
    expect(parseErrorsQuery(errorsQueryString(q))).toEqual(q);
    expect(isFiltered(q)).toBe(true);
    expect(isFiltered(DEFAULT_ERRORS_QUERY)).toBe(false);
  });

  it("accepts only HTTP statuses", () => {
    expect(parseStatus("402")).toBe(402);
    expect(parseStatus(" 429 ")).toBe(429);
    expect(parseStatus("42")).toBeNull();
    expect(parseStatus("4020")).toBeNull();
    expect(parseStatus("700")).toBeNull();
    expect(parseStatus("")).toBeNull();
    expect(parseStatus(null)).toBeNull();
  });
});

describe("what the page asks the shell for", () => {
  it("turns the range into a start time", () => {
    expect(rangeStart("24h", NOW)).toBe(NOW - 86_400_000);
    expect(rangeStart("7d", NOW)).toBe(NOW - 7 * 86_400_000);
    expect(rangeStart("30d", NOW)).toBe(NOW - 30 * 86_400_000);
    expect(rangeStart("all", NOW)).toBeNull();
  });

  it("builds the event filter", () => {
    expect(toEventFilter({ source: "work", class: "budget_exceeded", status: null, range: "7d" }, NOW, 500)).toEqual({
      source: "work",
      class: "budget_exceeded",
      status: null,
      since: "2026-03-03T12:00:00.000Z",
      limit: 500,
    });
    expect(toEventFilter(DEFAULT_ERRORS_QUERY, NOW)).toEqual({ source: null, class: null, status: null, since: null });
  });

  it("picks the chart's bucket from the range", () => {
    expect(bucketMinutes("24h")).toBe(60);
    expect(bucketMinutes("7d")).toBe(360);
    expect(bucketMinutes("30d")).toBe(1440);
    expect(bucketMinutes("all")).toBe(1440);
  });
});
