// The command contract of the Rust shell. The shapes are generated from Rust by ts-rs into
// ./bindings (never edit those by hand); this module is the one place the UI imports them from.

export type { AddSourceRequest } from "./bindings/AddSourceRequest";
export type { AppState } from "./bindings/AppState";
export type { EventView } from "./bindings/EventView";
export type { MeterCard } from "./bindings/MeterCard";
export type { MeterDetail } from "./bindings/MeterDetail";
export type { MeterState } from "./bindings/MeterState";
export type { Mode as AppMode } from "./bindings/Mode";
export type { ProviderKind } from "./bindings/ProviderKind";
export type { ManagementKey } from "./bindings/ManagementKey";
export type { FoundMeter } from "./bindings/FoundMeter";
export type { TestFailure } from "./bindings/TestFailure";
export type { TestResult } from "./bindings/TestResult";
export type { SourceView } from "./bindings/SourceView";

/** What every command rejects with. */
export interface CommandError {
  code: string;
  message: string;
}
