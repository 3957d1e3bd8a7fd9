import { parseHash, paths, type Route } from "./routes";

export const router = $state<{ route: Route }>({ route: parseHash(window.location.hash) });

// Each history entry of this window is stamped with its depth, so "back" knows whether
// history.back() stays in the app, however the entry was made: navigate(), a plain link, or
// back/forward. The first entry (a cold start, a deep link from a notification) is 0.
const KEY = "headroomDepth";

function stampedDepth(): number | null {
  const state = window.history.state as Record<string, unknown> | null;
  const depth = state?.[KEY];
  return typeof depth === "number" ? depth : null;
}

function stamp(depth: number): void {
  const state = (window.history.state as Record<string, unknown> | null) ?? {};
  window.history.replaceState({ ...state, [KEY]: depth }, "");
}

let depth = stampedDepth() ?? 0;
if (stampedDepth() === null) stamp(depth);

window.addEventListener("hashchange", () => {
  const known = stampedDepth();
  if (known === null) {
    // A new entry: one deeper than the one it was opened from.
    depth += 1;
    stamp(depth);
  } else {
    depth = known;
  }
  router.route = parseHash(window.location.hash);
});

export function navigate(hash: string): void {
  if (window.location.hash === hash) return;
  window.location.hash = hash;
}

/**
 * Shows `hash` in place of the current entry: for a page's own state (a filter, a chart's range),
 * so that back still leaves the page rather than stepping through every choice made on it.
 */
export function replace(hash: string): void {
  if (window.location.hash === hash) return;
  window.history.replaceState(window.history.state, "", hash);
  router.route = parseHash(hash);
}

/** True when "back" stays inside the app. */
export function canGoBack(): boolean {
  return depth > 0;
}

/**
 * Back to where the person came from, or to `fallback` (the dashboard unless a page names its
 * parent) when they arrived here directly.
 */
export function goBack(fallback: string = paths.dashboard): void {
  if (depth > 0) window.history.back();
  else window.location.hash = fallback;
}
