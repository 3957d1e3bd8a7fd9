// The only module that talks to the desktop shell. Components call these typed functions and
// never see Tauri; rejections arrive as `{code, message}` (see errorMessage in format.ts).

import { invoke as tauriInvoke, isTauri } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
  AddSourceRequest,
  AppState,
  MeterCard,
  MeterDetail,
  ProviderKind,
  SourceView,
} from "./types";

export type { CommandError } from "./types";

type Invoke = <T>(cmd: string, args?: Record<string, unknown>) => Promise<T>;

/** Emitted by the shell (no payload) each time a poll has landed in the store. */
export const UPDATED_EVENT = "headroom://updated";

let backend: Promise<{ invoke: Invoke; subscribe: (cb: () => void) => Promise<() => void> }> | null = null;

function getBackend() {
  if (backend === null) {
    if (!isTauri() && import.meta.env.DEV) {
      // `npm run dev` in an ordinary browser: a simulated shell, so the UI can be worked on
      // without building the Rust side. Never part of a production bundle.
      backend = import("./devMock").then((m) => m.createMockBackend());
    } else {
      backend = Promise.resolve({
        invoke: tauriInvoke as Invoke,
        subscribe: (cb: () => void) => listen(UPDATED_EVENT, () => cb()),
      });
    }
  }
  return backend;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  const b = await getBackend();
  return b.invoke<T>(cmd, args);
}

export const api = {
  appState: () => call<AppState>("app_state"),
  listCards: () => call<MeterCard[]>("list_cards"),
  meterDetail: (meterId: number) => call<MeterDetail>("meter_detail", { meterId }),
  listSources: () => call<SourceView[]>("list_sources"),
  providerKinds: () => call<ProviderKind[]>("provider_kinds"),
  addSource: (request: AddSourceRequest) => call<SourceView>("add_source", { request }),
  removeSource: (name: string) => call<void>("remove_source", { name }),
  startDemo: () => call<AppState>("start_demo"),
  stopDemo: () => call<AppState>("stop_demo"),
};

/** Calls `cb` after every poll. Resolves to an unsubscribe function. */
export async function onUpdated(cb: () => void): Promise<() => void> {
  const b = await getBackend();
  return b.subscribe(cb);
}
