import { parseHash, paths, type Route } from "./routes";

export const router = $state<{ route: Route }>({ route: parseHash(window.location.hash) });

// Counts navigations made inside the app, so "back" knows whether history.back() stays in it.
let depth = 0;

window.addEventListener("hashchange", () => {
  router.route = parseHash(window.location.hash);
});

export function navigate(hash: string): void {
  if (window.location.hash === hash) return;
  depth += 1;
  window.location.hash = hash;
}

/** Back to where the person came from, or to the dashboard when they arrived here directly. */
export function goBack(): void {
  if (depth > 0) {
    depth -= 1;
    window.history.back();
  } else {
    window.location.hash = paths.dashboard;
  }
}
