import { describe, expect, it } from "vitest";
import {
  CLASS_ORDER,
  classColour,
  classFamily,
  classLabel,
  classOptions,
  compareClasses,
  explainingEvent,
  originLabel,
  statusLabel,
} from "./events";

describe("failure classes in words", () => {
  it("names every class the core knows", () => {
    expect(classLabel("credits_exhausted")).toBe("Credits exhausted");
    expect(classLabel("spend_limit_reached")).toBe("Spend limit reached");
    expect(classLabel("budget_exceeded")).toBe("Budget exceeded");
    expect(classLabel("payment_failed")).toBe("Payment failed");
    expect(classLabel("transient_payment")).toBe("Payment hiccup");
    expect(classLabel("rate_limited")).toBe("Rate limited");
    expect(classLabel("x402_payment_required")).toBe("x402 payment required");
    expect(classLabel("auth_invalid")).toBe("Key rejected");
    expect(classLabel("misconfigured")).toBe("Misconfigured");
    expect(classLabel("provider_down")).toBe("Provider down");
    expect(classLabel("unknown")).toBe("Unrecognised");
  });

  it("calls a request without an answer “No answer”", () => {
    expect(classLabel(null)).toBe("No answer");
    expect(classLabel(undefined)).toBe("No answer");
    expect(classLabel("unclassified")).toBe("No answer");
  });

  it("words a class from a newer core rather than hiding it", () => {
    expect(classLabel("quota_frozen")).toBe("Quota frozen");
  });

  it("offers every class, then “No answer”, to the filter", () => {
    const options = classOptions();
    expect(options.map((o) => o.value)).toEqual([...CLASS_ORDER, "unclassified"]);
    expect(options.every((o) => o.label.length > 0)).toBe(true);
  });
});

describe("class colours", () => {
  it("groups classes into families", () => {
    for (const c of ["credits_exhausted", "spend_limit_reached", "budget_exceeded", "payment_failed", "transient_payment", "x402_payment_required"]) {
      expect(classFamily(c)).toBe("money");
    }
    expect(classFamily("rate_limited")).toBe("rate");
    expect(classFamily("auth_invalid")).toBe("auth");
    expect(classFamily("provider_down")).toBe("other");
    expect(classFamily(null)).toBe("other");
  });

  it("gives each class its own colour, reds for money, blue for rate limits, purple for keys", () => {
    const colours = [...CLASS_ORDER, "unclassified"].map((c) => classColour(c));
    expect(new Set(colours).size).toBe(colours.length);
    const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const [r, g, b] = rgb(classColour("credits_exhausted"));
    expect(r).toBeGreaterThan(g + 80);
    expect(r).toBeGreaterThan(b + 80);
    const [rr, , rb] = rgb(classColour("rate_limited"));
    expect(rb).toBeGreaterThan(rr + 80);
    const [ar, ag, ab] = rgb(classColour("auth_invalid"));
    expect(ar).toBeGreaterThan(ag);
    expect(ab).toBeGreaterThan(ag);
    const [gr, gg, gb] = rgb(classColour("provider_down"));
    expect(Math.max(gr, gg, gb) - Math.min(gr, gg, gb)).toBeLessThan(40);
    expect(classColour("something_new")).toBe(classColour("unknown"));
    expect(classColour(null)).toBe(classColour("unclassified"));
  });

  it("orders classes money first and “No answer” last", () => {
    const sorted = ["unclassified", "rate_limited", "zzz", "credits_exhausted", "auth_invalid"].sort(compareClasses);
    expect(sorted).toEqual(["credits_exhausted", "rate_limited", "auth_invalid", "zzz", "unclassified"]);
  });
});

describe("event facts", () => {
  it("says where Headroom saw a request and what came back", () => {
    expect(originLabel("poll")).toBe("Poll");
    expect(originLabel("gateway")).toBe("Via gateway log");
    expect(statusLabel(402)).toBe("HTTP 402");
    expect(statusLabel(null)).toBe("No response");
  });

  it("finds the event that explains an exhausted or failing card", () => {
    const events = [
      { id: 5, class: "rate_limited", origin: "gateway" as const },
      { id: 4, class: "budget_exceeded", origin: "gateway" as const },
      { id: 3, class: "auth_invalid", origin: "poll" as const },
      { id: 2, class: "credits_exhausted", origin: "poll" as const },
    ];
    expect(explainingEvent(events, "exhausted")?.id).toBe(4);
    expect(explainingEvent(events, "failing")?.id).toBe(3);
    expect(explainingEvent(events, "ok")).toBeNull();
    expect(explainingEvent([], "exhausted")).toBeNull();
  });
});
