// Pure presentation helpers: everything a person reads on a card is worded here, so it can be
// unit-tested without a window. `locale`/`timeZone` default to the person's own settings;
// tests pin them.

import type { MeterCard, MeterState } from "./types";

export interface LocaleOptions {
  locale?: string;
  timeZone?: string;
}

const CURRENCY_CODE = /^[A-Z]{3}$/;
const FALLBACK_LOCALE = "en-US";

/**
 * The person's first usable language. A webview started under LANG=C reports "C", which ICU
 * turns into en-US-u-va-posix and prints "$ 74.50"; that is nobody's preference, so it is skipped.
 */
export function pickLocale(candidates: readonly string[]): string {
  for (const raw of candidates) {
    if (!raw || /^(c|posix)([._@-].*)?$/i.test(raw)) continue;
    try {
      const [canonical] = Intl.getCanonicalLocales(raw.replace(/_/g, "-").replace(/\..*$/, ""));
      if (canonical && Intl.NumberFormat.supportedLocalesOf([canonical]).length > 0) return canonical;
    } catch {
      // Not a BCP 47 tag; try the next one.
    }
  }
  return FALLBACK_LOCALE;
}

let systemLocale: string | null = null;

function localeOf(opts: LocaleOptions): string {
  if (opts.locale) return opts.locale;
  if (systemLocale === null) {
    const nav = typeof navigator === "undefined" ? undefined : navigator;
    systemLocale = pickLocale(nav ? (nav.languages?.length ? nav.languages : [nav.language]) : []);
  }
  return systemLocale;
}

let knownCurrencies: Set<string> | null = null;

/** True when `unit` is an ISO 4217 code this engine can format as money. */
export function isCurrency(unit: string): boolean {
  if (!CURRENCY_CODE.test(unit)) return false;
  if (knownCurrencies === null) {
    const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
    knownCurrencies = new Set(intl.supportedValuesOf ? intl.supportedValuesOf("currency") : []);
  }
  // Older engines cannot list currencies; a well-formed code is then the best evidence we have.
  return knownCurrencies.size === 0 || knownCurrencies.has(unit);
}

const formatters = new Map<string, Intl.NumberFormat>();

function cached(key: string, make: () => Intl.NumberFormat): Intl.NumberFormat {
  let f = formatters.get(key);
  if (!f) {
    f = make();
    formatters.set(key, f);
  }
  return f;
}

function currencyFormatter(currency: string, locale: string): Intl.NumberFormat {
  return cached(`c|${locale}|${currency}`, () => {
    // The narrow symbol reads best ("¥12.30", not "CN¥12.30"), but a bare "$" must mean US
    // dollars: for CAD, AUD and friends keep the qualified symbol ("CA$").
    const narrow = new Intl.NumberFormat(locale, {
      style: "currency",
      currency,
      currencyDisplay: "narrowSymbol",
    });
    const symbol = narrow.formatToParts(0).find((p) => p.type === "currency")?.value;
    if (symbol === "$" && currency !== "USD") {
      return new Intl.NumberFormat(locale, { style: "currency", currency });
    }
    return narrow;
  });
}

function plainFormatter(locale: string): Intl.NumberFormat {
  return cached(`n|${locale}`, () =>
    new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }),
  );
}

// Intl formats decimal strings exactly where the engine supports it (NumberFormat v3) and
// falls back to a double elsewhere, which is still exact to the cent for realistic balances.
function formatDecimal(f: Intl.NumberFormat, value: string): string {
  return (f.format as (v: string | number) => string)(value);
}

function isNumeric(value: string): boolean {
  return value.trim() !== "" && Number.isFinite(Number(value));
}

const SINGULAR: Record<string, string> = {
  tokens: "token",
  requests: "request",
  credits: "credit",
  keys: "key",
};

/**
 * An amount with its unit as a person reads it: "$74.50", "¥12.30", "¥1,235", "1,234 tokens".
 * `null` (no reading yet) reads "—".
 */
export function formatAmount(value: string | null, unit: string | null, opts: LocaleOptions = {}): string {
  if (value === null || !isNumeric(value)) return "—";
  if (unit && isCurrency(unit)) return formatDecimal(currencyFormatter(unit, localeOf(opts)), value);
  const n = formatDecimal(plainFormatter(localeOf(opts)), value);
  if (!unit) return n;
  const word = Number(value) === 1 ? (SINGULAR[unit] ?? unit) : unit;
  return word ? `${n} ${word}` : n;
}

/**
 * "25% used". Rounds, except that it never claims 0% while something was spent nor 100% while
 * something is left: those two are exactly the cases a person needs to tell apart.
 */
export function formatUsedPct(pct: number | null): string {
  if (pct === null || !Number.isFinite(pct)) return "";
  const p = Math.min(Math.max(pct, 0), 100);
  let shown: string;
  if (p > 0 && p < 1) shown = "<1%";
  else if (p > 99 && p < 100) shown = ">99%";
  else shown = `${Math.round(p)}%`;
  return `${shown} used`;
}

/** "of $100.00 · 25% used", or "" for a meter without a cap. */
export function formatLimitLine(card: MeterCard, opts: LocaleOptions = {}): string {
  if (card.limit === null) return "";
  const of = `of ${formatAmount(card.limit, card.unit, opts)}`;
  const used = formatUsedPct(card.usedPct);
  return used ? `${of} · ${used}` : of;
}

/** "just now", "2 min ago", "3 h ago", "yesterday", "4 days ago". */
export function relativeTime(iso: string | null, now: number = Date.now()): string {
  if (iso === null) return "never";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "unknown";
  // A reading stamped slightly ahead of this clock (skew) is still "just now".
  const secs = Math.max(0, Math.round((now - then) / 1000));
  if (secs < 45) return "just now";
  const mins = Math.round(secs / 60);
  if (mins < 60) return `${mins} min ago`;
  const hours = Math.round(secs / 3600);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(secs / 86400);
  if (days === 1) return "yesterday";
  return `${days} days ago`;
}

function localFormat(iso: string | null, timeStyle: "medium" | "short", opts: LocaleOptions): string {
  if (iso === null) return "";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Intl.DateTimeFormat(localeOf(opts), { dateStyle: "medium", timeStyle, timeZone: opts.timeZone }).format(t);
}

/** Full local date and time, e.g. "Mar 3, 2025, 10:04:05 AM". */
export function localDateTime(iso: string | null, opts: LocaleOptions = {}): string {
  return localFormat(iso, "medium", opts);
}

/** Local date with short time, for "since …" lines: "Mar 3, 2025, 10:04 AM". */
export function localDateShort(iso: string | null, opts: LocaleOptions = {}): string {
  return localFormat(iso, "short", opts);
}

const STATE_LABELS: Record<MeterState, string> = {
  exhausted: "Exhausted",
  failing: "Failing",
  low: "Low",
  ok: "OK",
  pending: "Pending",
};

export function stateLabel(state: MeterState): string {
  return STATE_LABELS[state] ?? state;
}

// Most urgent first: a person scanning the grid should meet the problems before the calm meters.
const SEVERITY: Record<MeterState, number> = {
  exhausted: 0,
  failing: 1,
  low: 2,
  ok: 3,
  pending: 4,
};

function severity(state: MeterState): number {
  return SEVERITY[state] ?? 5;
}

/**
 * Cards by severity (exhausted, failing, low, ok, pending); within a state the fuller meter first,
 * then by name so the grid does not reshuffle between polls.
 */
export function sortBySeverity<T extends Pick<MeterCard, "state" | "usedPct" | "providerLabel" | "source" | "meterLabel" | "meterId">>(
  cards: readonly T[],
): T[] {
  return [...cards].sort(
    (a, b) =>
      severity(a.state) - severity(b.state) ||
      (b.usedPct ?? -1) - (a.usedPct ?? -1) ||
      a.providerLabel.localeCompare(b.providerLabel) ||
      a.source.localeCompare(b.source) ||
      (a.meterLabel ?? "").localeCompare(b.meterLabel ?? "") ||
      (a.meterId ?? -1) - (b.meterId ?? -1),
  );
}

/**
 * A stable identity for a card. A source that has produced no reading yet has no meter, and gets
 * one card of its own so that its failure is visible.
 */
export function cardKey(card: Pick<MeterCard, "meterId" | "source">): string {
  return card.meterId === null ? `source:${card.source}` : `meter:${card.meterId}`;
}

/** The card's heading: the meter's name, or what is missing before there is one. */
export function meterTitle(card: Pick<MeterCard, "meterLabel" | "meter" | "state">): string {
  if (card.meterLabel) return card.meterLabel;
  if (card.meter) return card.meter;
  return card.state === "failing" ? "No reading — polling fails" : "Waiting for the first reading";
}

/** "Resets monthly, next Apr 1, 2026, 12:00 AM" / "Prepaid balance — no reset". */
export function resetLabel(
  reset: string | null,
  kind: string | null,
  resetAt: string | null = null,
  opts: LocaleOptions = {},
): string {
  const next = resetAt ? localDateShort(resetAt, opts) : "";
  if (reset) return next ? `Resets ${reset}, next ${next}` : `Resets ${reset}`;
  if (next) return `Resets ${next}`;
  if (kind === "balance") return "Prepaid balance — no reset";
  if (kind === "window") return "Rolling rate-limit window";
  return "No reset reported";
}

/** "every 15 min", "every 30 s", "every 1 h". */
export function intervalLabel(secs: number): string {
  if (secs > 0 && secs % 3600 === 0) return `every ${secs / 3600} h`;
  if (secs > 0 && secs % 60 === 0) return `every ${secs / 60} min`;
  return `every ${secs} s`;
}

/** "42 readings since Mar 3, 2025, 10:04 AM" / "1 reading" / "No readings yet". */
export function readingsLabel(points: number, firstTs: string | null, opts: LocaleOptions = {}): string {
  if (points <= 0) return "No readings yet";
  const count = `${points.toLocaleString(localeOf(opts))} ${points === 1 ? "reading" : "readings"}`;
  return firstTs ? `${count} since ${localDateShort(firstTs, opts)}` : count;
}

/** The words to show for any rejection: the backend's `{code, message}`, an Error, or a string. */
export function errorMessage(err: unknown): string {
  if (typeof err === "string") return err;
  if (err && typeof err === "object" && "message" in err) {
    const m = (err as { message: unknown }).message;
    if (typeof m === "string" && m) return m;
  }
  return "Something went wrong, and the app did not say what.";
}

/**
 * A short label for a point on a time axis: "Mar 3" for whole days, "Mar 3, 10 AM" for hours.
 */
export function axisTimeLabel(ms: number, withTime: boolean, opts: LocaleOptions = {}): string {
  if (!Number.isFinite(ms)) return "";
  return new Intl.DateTimeFormat(localeOf(opts), {
    month: "short",
    day: "numeric",
    hour: withTime ? "numeric" : undefined,
    timeZone: opts.timeZone,
  }).format(ms);
}
