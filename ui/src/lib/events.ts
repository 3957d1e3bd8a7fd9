// Failed requests in a person's words: the class of a failure, its colour on the errors chart,
// where Headroom saw it. Pure, so the wording is unit-tested.

import type { EventOrigin } from "./types";

/** The classes in the order people scan them: money first, then limits, keys, the rest. */
export const CLASS_ORDER = [
  "credits_exhausted",
  "spend_limit_reached",
  "budget_exceeded",
  "payment_failed",
  "transient_payment",
  "x402_payment_required",
  "rate_limited",
  "auth_invalid",
  "misconfigured",
  "provider_down",
  "unknown",
] as const;

/** The filter's and the counts' name for events without a class (no HTTP answer). */
export const UNCLASSIFIED = "unclassified";

const CLASS_LABELS: Record<string, string> = {
  credits_exhausted: "Credits exhausted",
  spend_limit_reached: "Spend limit reached",
  budget_exceeded: "Budget exceeded",
  payment_failed: "Payment failed",
  transient_payment: "Payment hiccup",
  rate_limited: "Rate limited",
  x402_payment_required: "x402 payment required",
  auth_invalid: "Key rejected",
  misconfigured: "Misconfigured",
  provider_down: "Provider down",
  unknown: "Unrecognised",
  [UNCLASSIFIED]: "No answer",
};

/**
 * "Credits exhausted" for `credits_exhausted`; `null` (or "unclassified") is a request that got
 * no HTTP answer at all: "No answer". A class from a newer core reads as its name in words.
 */
export function classLabel(cls: string | null | undefined): string {
  if (cls === null || cls === undefined || cls === "") return CLASS_LABELS[UNCLASSIFIED];
  const known = CLASS_LABELS[cls];
  if (known) return known;
  const words = cls.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Every class a filter can pick, with its words, in CLASS_ORDER and then "No answer". */
export function classOptions(): { value: string; label: string }[] {
  return [...CLASS_ORDER, UNCLASSIFIED].map((value) => ({ value, label: classLabel(value) }));
}

export type ClassFamily = "money" | "rate" | "auth" | "other";

const FAMILY: Record<string, ClassFamily> = {
  credits_exhausted: "money",
  spend_limit_reached: "money",
  budget_exceeded: "money",
  payment_failed: "money",
  transient_payment: "money",
  x402_payment_required: "money",
  rate_limited: "rate",
  auth_invalid: "auth",
};

/** Money (red/amber), rate limits (blue), keys (purple), everything else (grey). */
export function classFamily(cls: string | null | undefined): ClassFamily {
  return (cls && FAMILY[cls]) || "other";
}

// Each class its own shade within its family, so the stacked bars stay apart; hard refusals
// are the deepest reds, the ones that pass by themselves amber.
const COLOURS: Record<string, string> = {
  credits_exhausted: "#b42318",
  spend_limit_reached: "#d92d20",
  budget_exceeded: "#e4572e",
  x402_payment_required: "#c01048",
  payment_failed: "#dc6803",
  transient_payment: "#f5a524",
  rate_limited: "#2e6bd9",
  auth_invalid: "#7a3fd1",
  misconfigured: "#6b7280",
  provider_down: "#475467",
  unknown: "#98a2b3",
  [UNCLASSIFIED]: "#c3c9d3",
};

/** The class's colour on the errors chart and its badges. */
export function classColour(cls: string | null | undefined): string {
  const key = cls === null || cls === undefined || cls === "" ? UNCLASSIFIED : cls;
  return COLOURS[key] ?? COLOURS.unknown;
}

/** Sorts class names as CLASS_ORDER does; unknown names after, alphabetically; "unclassified" last. */
export function compareClasses(a: string, b: string): number {
  const rank = (c: string) => {
    if (c === UNCLASSIFIED) return CLASS_ORDER.length + 1;
    const i = (CLASS_ORDER as readonly string[]).indexOf(c);
    return i === -1 ? CLASS_ORDER.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** "Poll" (one of Headroom's own requests) or "Via gateway log" (someone's request through a gateway). */
export function originLabel(origin: EventOrigin): string {
  return origin === "gateway" ? "Via gateway log" : "Poll";
}

/** "HTTP 402", or "No response" for a refused connection or a timeout. */
export function statusLabel(status: number | null): string {
  return status === null ? "No response" : `HTTP ${status}`;
}

/** The classes that mean a payment or budget refused the request (as the card's "refusal"). */
export function isMoneyClass(cls: string | null | undefined): boolean {
  return classFamily(cls) === "money";
}

/**
 * The event that explains a card on the meter page: for an exhausted meter the newest money
 * refusal, for a failing one the newest failed poll. Events come newest first.
 */
export function explainingEvent<T extends { class: string | null; origin: EventOrigin }>(
  events: readonly T[],
  state: string,
): T | null {
  if (state === "exhausted") return events.find((e) => isMoneyClass(e.class)) ?? null;
  if (state === "failing") return events.find((e) => e.origin === "poll") ?? null;
  return null;
}
