// The only module that talks to the desktop shell. Components call these typed functions and
// never see Tauri; rejections arrive as `{code, message}` (see errorMessage in format.ts).

import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { openUrl as openInBrowser } from "@tauri-apps/plugin-opener";
import type {
  AddSourceRequest,
  AlertRules,
  AlertView,
  AppState,
  ChannelRequest,
  ChannelView,
  ChartRange,
  ClassCount,
  EventDetail,
  EventFilter,
  EventView,
  MeterCard,
  MeterDetail,
  ProviderKind,
  RuleChange,
  SnoozeFor,
  SourceView,
  TestResult,
  TraySummary,
} from "./types";

export type { CommandError } from "./types";

/** Emitted by the shell (no payload) each time a poll has landed in the store. */
export const UPDATED_EVENT = "headroom://updated";

/** Emitted by the shell (a notification or the tray was clicked) with a route such as "#/alerts". */
export const NAVIGATE_EVENT = "headroom://navigate";

const call = <T>(cmd: string, args?: Record<string, unknown>): Promise<T> => invoke<T>(cmd, args);

export const api = {
  appState: () => call<AppState>("app_state"),
  listCards: () => call<MeterCard[]>("list_cards"),
  /** The meter's page; `range` defaults to 30 days in the shell. */
  meterDetail: (meterId: number, range?: ChartRange | null) =>
    call<MeterDetail>("meter_detail", { meterId, range: range ?? null }),
  listSources: () => call<SourceView[]>("list_sources"),
  providerKinds: () => call<ProviderKind[]>("provider_kinds"),
  addSource: (request: AddSourceRequest) => call<SourceView>("add_source", { request }),
  /** Polls once with the form's settings; stores nothing (not even a typed key). */
  testSource: (request: AddSourceRequest) => call<TestResult>("test_source", { request }),
  removeSource: (name: string) => call<void>("remove_source", { name }),
  startDemo: () => call<AppState>("start_demo"),
  stopDemo: () => call<AppState>("stop_demo"),

  /** Every alert, newest first, with its deliveries. */
  listAlerts: () => call<AlertView[]>("list_alerts"),
  acknowledgeAlert: (id: number) => call<void>("acknowledge_alert", { id }),
  snoozeAlert: (id: number, duration: SnoozeFor) => call<void>("snooze_alert", { id, duration }),
  /** The defaults (rows with `meter_id` null), then each meter's rules, and the settings. */
  alertRules: () => call<AlertRules>("alert_rules"),
  /** All or nothing: on a rejection nothing was saved. */
  setAlertRules: (changes: RuleChange[]) => call<AlertRules>("set_alert_rules", { changes }),
  /** `null` leaves a setting as it is; "off" turns it off. */
  setAlertSettings: (remindEvery: string | null, quietHours: string | null) =>
    call<AlertRules>("set_alert_settings", { remindEvery, quietHours }),
  listChannels: () => call<ChannelView[]>("list_channels"),
  /** Typed secrets go to the OS keychain; the rejection says so when there is none. */
  addChannel: (request: ChannelRequest) => call<ChannelView>("add_channel", { request }),
  removeChannel: (name: string) => call<void>("remove_channel", { name }),
  setChannelEnabled: (name: string, enabled: boolean) =>
    call<ChannelView>("set_channel_enabled", { name, enabled }),
  /** Sends a test notice now; rejects with why it did not get through. */
  testChannel: (name: string) => call<void>("test_channel", { name }),
  trayState: () => call<TraySummary>("tray_state"),

  /** Failed requests matching `filter`, newest first (500 at most unless it sets a limit). */
  listEvents: (filter: EventFilter) => call<EventView[]>("list_events", { filter }),
  /** How many events of each class fell in each bucket of `bucketMinutes`, oldest first. */
  eventCounts: (filter: EventFilter, bucketMinutes: number) =>
    call<ClassCount[]>("event_counts", { filter, bucketMinutes }),
  /** One event with its evidence, classification, remedies, alerts and meters. */
  eventDetail: (id: number) => call<EventDetail>("event_detail", { id }),
  /** Opens an https page (a provider's billing page) in the system browser. */
  openUrl: (url: string) => openInBrowser(url),
};

/** Calls `cb` after every poll. Resolves to an unsubscribe function. */
export function onUpdated(cb: () => void): Promise<() => void> {
  return listen(UPDATED_EVENT, () => cb());
}

/** Calls `cb` with the route the shell asks to show. Resolves to an unsubscribe function. */
export function onNavigate(cb: (route: string) => void): Promise<() => void> {
  return listen<unknown>(NAVIGATE_EVENT, (event) => {
    if (typeof event.payload === "string") cb(event.payload);
  });
}

/** Whether Headroom starts, in the tray, when the user logs in (an autostart entry on Linux). */
export function autostartEnabled(): Promise<boolean> {
  return call<boolean>("autostart_enabled");
}

/** Turns the start at login on or off. Resolves to whether it is on now. */
export function setAutostart(enabled: boolean): Promise<boolean> {
  return call<boolean>("set_autostart", { enabled });
}
