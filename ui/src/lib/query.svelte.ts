// A fetch that re-runs whenever the shell reports new data (session.version) or a reactive value
// read by `load` changes. Stale answers are dropped; the last good data stays on screen on error.

import { errorMessage } from "./format";
import { session } from "./session.svelte";

export interface Query<T> {
  readonly data: T | null;
  readonly error: string;
  readonly loading: boolean;
}

export function liveQuery<T>(load: () => Promise<T>): Query<T> {
  const state = $state({ data: null as T | null, error: "", loading: true });
  let seq = 0;

  $effect(() => {
    void session.version;
    const mine = ++seq;
    state.loading = true;
    load().then(
      (data) => {
        if (mine !== seq) return;
        state.data = data;
        state.error = "";
        state.loading = false;
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
    get error() {
      return state.error;
    },
    get loading() {
      return state.loading;
    },
  };
}
