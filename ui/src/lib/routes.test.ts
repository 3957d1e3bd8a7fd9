import { describe, expect, it } from "vitest";
import { parseHash, paths } from "./routes";

describe("routes", () => {
  it("maps hashes to screens", () => {
    expect(parseHash("")).toEqual({ name: "dashboard" });
    expect(parseHash("#/")).toEqual({ name: "dashboard" });
    expect(parseHash("#/settings")).toEqual({ name: "settings" });
    expect(parseHash("#/meter/42")).toEqual({ name: "meter", meterId: 42 });
    expect(parseHash("#/meter/x")).toEqual({ name: "not-found", path: "/meter/x" });
  });

  it("round-trips meter links", () => {
    expect(parseHash(paths.meter(7))).toEqual({ name: "meter", meterId: 7 });
  });
});
