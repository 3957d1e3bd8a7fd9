// A fetch that re-runs whenever the shell reports new data (session.version) or a reactive value
// read by `load` changes. An answer older than the one showing is dropped, but an answer is not
// dropped just because a newer fetch has started: while updates come faster than answers (the
// demo writing its history), the screen would otherwise stay empty. The last good data stays on
// screen on error.

import { errorMessage } from "./format";
import { session } from "./session.svelte";

export interface Query<T> {
  readonly data: T | null;
  /** The cache key `data` was loaded under (undefined without one): tells stale data apart. */
  readonly dataKey: string | undefined;
  readonly error: string;
  readonly loading: boolean;
}

// Last answers by key, so returning to a screen shows what was there at once instead of a
// "Loading…" flash, and the fresh answer replaces it a moment later. Keyed by mode too, so the
// demo's meters never flash up after leaving the demo. A plain Map: nothing renders from it.
// eslint-disable-next-line svelte/prefer-svelte-reactivity
const lastAnswers = new Map<string, unknown>();

function fullKey(cacheKey: (() => string) | undefined): string | undefined {
  return cacheKey ? `${session.app?.mode ?? ""}|${cacheKey()}` : undefined;
}

export function liveQuery<T>(load: () => Promise<T>, cacheKey?: () => string): Query<T> {
  const first = fullKey(cacheKey);
  const initial = first === undefined ? null : ((lastAnswers.get(first) as T | undefined) ?? null);
  const state = $state<{ data: T | null; dataKey: string | undefined; error: string; loading: boolean }>({
    data: initial,
    dataKey: initial === null ? undefined : cacheKey?.(),
    error: "",
    loading: true,
  });
  let seq = 0;
  let shown = 0;

  $effect(() => {
    void session.version;
    const mine = ++seq;
    const key = fullKey(cacheKey);
    const dataKey = cacheKey?.();
    state.loading = true;
    load().then(
      (data) => {
        if (mine < shown) return;
        shown = mine;
        if (key !== undefined) lastAnswers.set(key, data);
        state.data = data;
        state.dataKey = dataKey;
        state.error = "";
        state.loading = mine !== seq;
      },
      (err: unknown) => {
        if (mine !== seq) return;
        state.error = errorMessage(err);
        state.loading = false;
      },
    );
  });

  return {
    get data() {
      return state.data;
    },
    get dataKey() {
      return state.dataKey;
    },
    get error() {
      return state.error;
    },
    get loading() {
      return state.loading;
    },
  };
}
