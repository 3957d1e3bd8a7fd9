// The only module that talks to the desktop shell. Components call these typed functions and
// never see Tauri; rejections arrive as `{code, message}` (see errorMessage in format.ts).

import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
  AddSourceRequest,
  AppState,
  MeterCard,
  MeterDetail,
  ProviderKind,
  SourceView,
  TestResult,
} from "./types";

export type { CommandError } from "./types";

/** Emitted by the shell (no payload) each time a poll has landed in the store. */
export const UPDATED_EVENT = "headroom://updated";

const call = <T>(cmd: string, args?: Record<string, unknown>): Promise<T> => invoke<T>(cmd, args);

export const api = {
  appState: () => call<AppState>("app_state"),
  listCards: () => call<MeterCard[]>("list_cards"),
  meterDetail: (meterId: number) => call<MeterDetail>("meter_detail", { meterId }),
  listSources: () => call<SourceView[]>("list_sources"),
  providerKinds: () => call<ProviderKind[]>("provider_kinds"),
  addSource: (request: AddSourceRequest) => call<SourceView>("add_source", { request }),
  /** Polls once with the form's settings; stores nothing (not even a typed key). */
  testSource: (request: AddSourceRequest) => call<TestResult>("test_source", { request }),
  removeSource: (name: string) => call<void>("remove_source", { name }),
  startDemo: () => call<AppState>("start_demo"),
  stopDemo: () => call<AppState>("stop_demo"),
};

/** Calls `cb` after every poll. Resolves to an unsubscribe function. */
export function onUpdated(cb: () => void): Promise<() => void> {
  return listen(UPDATED_EVENT, () => cb());
}
