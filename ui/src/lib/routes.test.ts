import { describe, expect, it } from "vitest";
import { parseHash, paths, shellRoute } from "./routes";

describe("routes", () => {
  it("maps hashes to screens", () => {
    expect(parseHash("")).toEqual({ name: "dashboard" });
    expect(parseHash("#/")).toEqual({ name: "dashboard" });
    expect(parseHash("#/settings")).toEqual({ name: "settings", tab: "sources" });
    expect(parseHash("#/settings/alerts")).toEqual({ name: "settings", tab: "alerts" });
    expect(parseHash("#/alerts")).toEqual({ name: "alerts" });
    expect(parseHash("#/meter/42")).toEqual({ name: "meter", meterId: 42 });
    expect(parseHash("#/meter/x")).toEqual({ name: "not-found", path: "/meter/x" });
  });

  it("round-trips meter and alert links", () => {
    expect(parseHash(paths.meter(7))).toEqual({ name: "meter", meterId: 7 });
    expect(parseHash(paths.alerts)).toEqual({ name: "alerts" });
    expect(parseHash(paths.alertSettings)).toEqual({ name: "settings", tab: "alerts" });
  });

  it("takes only this app's routes from the shell", () => {
    expect(shellRoute("#/meter/12")).toBe("#/meter/12");
    expect(shellRoute("#/alerts")).toBe("#/alerts");
    expect(shellRoute("/alerts")).toBe("#/alerts");
    expect(shellRoute("#/nowhere")).toBeNull();
    expect(shellRoute("https://example.com/#/alerts")).toBeNull();
    expect(shellRoute(12)).toBeNull();
    expect(shellRoute(null)).toBeNull();
  });
});
