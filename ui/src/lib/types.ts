// The command contract of the Rust shell. The shapes are generated from Rust by ts-rs into
// ./bindings (never edit those by hand); this module is the one place the UI imports them from.

export type { AddSourceRequest } from "./bindings/AddSourceRequest";
export type { AppState } from "./bindings/AppState";
export type { EventView } from "./bindings/EventView";
export type { EventFilter } from "./bindings/EventFilter";
export type { EventDetail } from "./bindings/EventDetail";
export type { EventOrigin } from "./bindings/EventOrigin";
export type { EventMarker } from "./bindings/EventMarker";
export type { ClassCount } from "./bindings/ClassCount";
export type { Classification } from "./bindings/Classification";
export type { FailureClass } from "./bindings/FailureClass";
export type { ChartCoords } from "./bindings/ChartCoords";
export type { ChartRange } from "./bindings/ChartRange";
export type { HoverPoint } from "./bindings/HoverPoint";
export type { ReadingView } from "./bindings/ReadingView";
export type { ThresholdView } from "./bindings/ThresholdView";
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
export type { AlertRules } from "./bindings/AlertRules";
export type { AlertSettings } from "./bindings/AlertSettings";
export type { AlertState } from "./bindings/AlertState";
export type { AlertView } from "./bindings/AlertView";
export type { ChannelRequest } from "./bindings/ChannelRequest";
export type { ChannelView } from "./bindings/ChannelView";
export type { DeliveryKind } from "./bindings/DeliveryKind";
export type { DeliveryState } from "./bindings/DeliveryState";
export type { DeliveryView } from "./bindings/DeliveryView";
export type { RuleChange } from "./bindings/RuleChange";
export type { RuleView } from "./bindings/RuleView";
export type { SettingOrigin } from "./bindings/SettingOrigin";
export type { Severity } from "./bindings/Severity";
export type { SnoozeFor } from "./bindings/SnoozeFor";
export type { TrayLevel } from "./bindings/TrayLevel";
export type { TraySummary } from "./bindings/TraySummary";

/** What every command rejects with. */
export interface CommandError {
  code: string;
  message: string;
}
