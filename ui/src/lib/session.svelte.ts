// What every screen shares: the app's mode, a data version that moves forward each time the
// shell reports a poll, and a coarse clock for "2 min ago" labels.

import { api, onUpdated } from "./api";
import { errorMessage } from "./format";
import type { AppState } from "./types";

const CLOCK_TICK_MS = 15_000;

export const session = $state({
  app: null as AppState | null,
  appError: "",
  /** Bumped after each poll lands; queries re-run when it changes. */
  version: 0,
  now: Date.now(),
  /** The card last opened, so the dashboard can put focus back on it. */
  lastCardKey: null as string | null,
});

export function dataChanged(): void {
  session.version += 1;
}

export function setAppState(app: AppState): void {
  session.app = app;
  session.appError = "";
  dataChanged();
}

export async function refreshApp(): Promise<void> {
  try {
    session.app = await api.appState();
    session.appError = "";
  } catch (err) {
    session.appError = errorMessage(err);
  }
}

/** Wires the shell's update event and the clock. Returns the teardown. */
export function startSession(): () => void {
  let unlisten: (() => void) | null = null;
  let stopped = false;
  onUpdated(() => {
    dataChanged();
    void refreshApp();
  })
    .then((off) => {
      if (stopped) off();
      else unlisten = off;
    })
    .catch((err) => {
      session.appError = `Live updates are unavailable: ${errorMessage(err)}`;
    });

  const clock = setInterval(() => {
    session.now = Date.now();
  }, CLOCK_TICK_MS);

  // A webview hidden for a while may have missed nothing, but its relative times are stale.
  const onVisible = () => {
    if (document.visibilityState === "visible") session.now = Date.now();
  };
  document.addEventListener("visibilitychange", onVisible);

  void refreshApp();
  return () => {
    stopped = true;
    unlisten?.();
    clearInterval(clock);
    document.removeEventListener("visibilitychange", onVisible);
  };
}
