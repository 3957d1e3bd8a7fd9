// Mirrors the Tauri command contract of the Rust shell (src-tauri). Field names are the
// camelCase the shell serialises; amounts stay decimal strings so no precision is lost.

export type MeterState = "ok" | "low" | "exhausted" | "failing" | "pending";
export type MeterKind = "balance" | "budget" | "window";

export interface MeterCard {
  meterId: number;
  source: string;
  provider: string;
  providerLabel: string;
  meter: string;
  meterLabel: string;
  kind: MeterKind;
  unit: string;
  remaining: string | null;
  limit: string | null;
  usedPct: number | null;
  reset: string | null;
  lastPoll: string | null;
  lastError: string | null;
  state: MeterState;
  sparklineSvg: string;
}

export interface EventView {
  ts: string;
  status: number | null;
  message: string;
  excerpt: string;
}

export interface MeterDetail {
  card: MeterCard;
  chartSvg: string;
  points: number;
  firstTs: string | null;
  events: EventView[];
}

export interface SourceView {
  name: string;
  kind: string;
  baseUrl: string;
  keyRef: string;
  intervalSecs: number;
  lastPoll: string | null;
  lastError: string | null;
}

export interface AddSourceRequest {
  kind: string;
  name: string;
  baseUrl: string;
  key: string | null;
  keyEnv: string | null;
  managementKey: string | null;
  managementKeyEnv: string | null;
  interval: string;
}

export type AppMode = "empty" | "configured" | "demo";

export interface AppState {
  mode: AppMode;
  dataDir: string;
}

export interface ProviderKind {
  kind: string;
  label: string;
  defaultBaseUrl: string;
}

/** What every command rejects with. */
export interface CommandError {
  code: string;
  message: string;
}
