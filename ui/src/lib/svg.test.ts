import { describe, expect, it } from "vitest";
import { responsiveSvg } from "./svg";

describe("chart SVGs", () => {
  it("gain a viewBox so they scale to the card", () => {
    const out = responsiveSvg('<?xml version="1.0"?><svg width="240" height="48" xmlns="http://www.w3.org/2000/svg"><rect/></svg>');
    expect(out.startsWith('<svg viewBox="0 0 240 48" width="240"')).toBe(true);
  });

  it("keep an existing viewBox", () => {
    const svg = '<svg viewBox="0 0 10 10" width="240" height="48"></svg>';
    expect(responsiveSvg(svg)).toBe(svg);
  });

  it("lose anything executable", () => {
    const out = responsiveSvg('<svg width="1" height="1" onload="x()"><script>alert(1)</script><rect onclick="y()"/></svg>');
    expect(out).not.toMatch(/script|onload|onclick/);
  });

  it("render nothing when there is no SVG", () => {
    expect(responsiveSvg("")).toBe("");
  });
});
