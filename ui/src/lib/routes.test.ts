import { describe, expect, it } from "vitest";
import { parseHash, paths, routeKey, shellRoute } from "./routes";

describe("routes", () => {
  it("maps hashes to screens", () => {
    expect(parseHash("")).toEqual({ name: "dashboard" });
    expect(parseHash("#/")).toEqual({ name: "dashboard" });
    expect(parseHash("#/settings")).toEqual({ name: "settings", tab: "sources" });
    expect(parseHash("#/settings/alerts")).toEqual({ name: "settings", tab: "alerts" });
    expect(parseHash("#/alerts")).toEqual({ name: "alerts" });
    expect(parseHash("#/meter/42")).toEqual({ name: "meter", meterId: 42, range: null });
    expect(parseHash("#/meter/42?range=7d")).toEqual({ name: "meter", meterId: 42, range: "7d" });
    expect(parseHash("#/meter/42?range=1y")).toEqual({ name: "meter", meterId: 42, range: null });
    expect(parseHash("#/event/9")).toEqual({ name: "event", eventId: 9 });
    expect(parseHash("#/errors")).toEqual({
      name: "errors",
      query: { source: null, class: null, status: null, range: "all" },
    });
    expect(parseHash("#/errors?class=budget_exceeded&since=7d")).toEqual({
      name: "errors",
      query: { source: null, class: "budget_exceeded", status: null, range: "7d" },
    });
    expect(parseHash("#/event/x")).toEqual({ name: "not-found", path: "/event/x" });
    expect(parseHash("#/meter/x")).toEqual({ name: "not-found", path: "/meter/x" });
  });

  it("round-trips meter and alert links", () => {
    expect(parseHash(paths.meter(7))).toEqual({ name: "meter", meterId: 7, range: null });
    expect(parseHash(paths.meter(7, "90d"))).toEqual({ name: "meter", meterId: 7, range: "90d" });
    expect(parseHash(paths.event(31))).toEqual({ name: "event", eventId: 31 });
    const query = { source: "my proxy", class: "rate_limited", status: 429, range: "24h" as const };
    expect(parseHash(paths.errors(query))).toEqual({ name: "errors", query });
    expect(paths.errors()).toBe("#/errors");
    expect(parseHash(paths.alerts)).toEqual({ name: "alerts" });
    expect(parseHash(paths.alertSettings)).toEqual({ name: "settings", tab: "alerts" });
  });

  it("takes only this app's routes from the shell", () => {
    expect(shellRoute("#/meter/12")).toBe("#/meter/12");
    expect(shellRoute("#/alerts")).toBe("#/alerts");
    expect(shellRoute("/alerts")).toBe("#/alerts");
    expect(shellRoute("#/event/5")).toBe("#/event/5");
    expect(shellRoute("#/meter/3?range=24h")).toBe("#/meter/3?range=24h");
    expect(shellRoute("/errors?class=budget_exceeded&since=7d")).toBe("#/errors?class=budget_exceeded&since=7d");
    expect(shellRoute("#/nowhere")).toBeNull();
    expect(shellRoute("https://example.com/#/alerts")).toBeNull();
    expect(shellRoute(12)).toBeNull();
    expect(shellRoute(null)).toBeNull();
  });

  it("treats a page's own state as the same screen", () => {
    expect(routeKey(parseHash("#/meter/3?range=24h"))).toBe(routeKey(parseHash("#/meter/3")));
    expect(routeKey(parseHash("#/meter/3"))).not.toBe(routeKey(parseHash("#/meter/4")));
    expect(routeKey(parseHash("#/errors?since=7d"))).toBe(routeKey(parseHash("#/errors")));
    expect(routeKey(parseHash("#/event/1"))).not.toBe(routeKey(parseHash("#/event/2")));
  });
});
