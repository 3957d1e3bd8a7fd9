//! Tauri commands: each one calls the session and turns its error into `{code, message}`.

use std::sync::Arc;

use headroom_core::alert::channel_setup::{ChannelRequest, ChannelView};
use headroom_core::alert::config::{AlertRules, RuleChange};
use headroom_core::alert::{AlertView, SnoozeFor, TraySummary};
use headroom_core::config::{AddSourceRequest, TestResult};
use headroom_core::events::{ClassCount, EventDetail, EventFilter, EventView};
use headroom_core::session::{AppState, Session, SessionError};
use headroom_core::source::ProviderKind;
use headroom_core::status::{MeterCard, MeterDetail, SourceView};
use serde::Serialize;
use tauri::{AppHandle, State};

use crate::desktop;

/// What the UI receives when a command fails.
#[derive(Debug, Serialize)]
pub struct CommandError {
    code: &'static str,
    message: String,
}

impl From<SessionError> for CommandError {
    fn from(error: SessionError) -> Self {
        Self {
            code: error.code(),
            message: error.to_string(),
        }
    }
}

type Result<T> = std::result::Result<T, CommandError>;
type S<'a> = State<'a, Arc<Session>>;

#[tauri::command]
pub async fn app_state(session: S<'_>) -> Result<AppState> {
    Ok(session.state().await)
}

#[tauri::command]
pub async fn list_cards(session: S<'_>) -> Result<Vec<MeterCard>> {
    Ok(session.cards().await?)
}

#[tauri::command]
pub async fn meter_detail(
    session: S<'_>,
    meter_id: i64,
    range: Option<headroom_core::status::ChartRange>,
) -> Result<MeterDetail> {
    Ok(session
        .meter_detail(meter_id, range.unwrap_or_default())
        .await?)
}

#[tauri::command]
pub async fn list_sources(session: S<'_>) -> Result<Vec<SourceView>> {
    Ok(session.sources().await?)
}

#[tauri::command]
pub fn provider_kinds(session: S<'_>) -> Vec<ProviderKind> {
    session.provider_kinds().to_vec()
}

#[tauri::command]
pub async fn add_source(session: S<'_>, request: AddSourceRequest) -> Result<SourceView> {
    Ok(session.add_source(request).await?)
}

#[tauri::command]
pub async fn test_source(session: S<'_>, request: AddSourceRequest) -> Result<TestResult> {
    Ok(session.test_source(request).await?)
}

#[tauri::command]
pub async fn remove_source(session: S<'_>, name: String) -> Result<()> {
    Ok(session.remove_source(&name).await?)
}

#[tauri::command]
pub async fn start_demo(session: S<'_>) -> Result<AppState> {
    Ok(session.start_demo().await?)
}

#[tauri::command]
pub async fn stop_demo(session: S<'_>) -> Result<AppState> {
    Ok(session.stop_demo().await?)
}

#[tauri::command]
pub async fn list_alerts(session: S<'_>) -> Result<Vec<AlertView>> {
    Ok(session.alerts().await?)
}

#[tauri::command]
pub async fn acknowledge_alert(session: S<'_>, id: i64) -> Result<()> {
    Ok(session.acknowledge_alert(id).await?)
}

#[tauri::command]
pub async fn snooze_alert(session: S<'_>, id: i64, duration: SnoozeFor) -> Result<()> {
    Ok(session.snooze_alert(id, duration).await?)
}

#[tauri::command]
pub async fn alert_rules(session: S<'_>) -> Result<AlertRules> {
    Ok(session.alert_rules().await?)
}

#[tauri::command]
pub async fn set_alert_rules(session: S<'_>, changes: Vec<RuleChange>) -> Result<AlertRules> {
    Ok(session.set_alert_rules(changes).await?)
}

#[tauri::command]
pub async fn set_alert_settings(
    session: S<'_>,
    remind_every: Option<String>,
    quiet_hours: Option<String>,
) -> Result<AlertRules> {
    Ok(session
        .set_alert_settings(remind_every, quiet_hours)
        .await?)
}

#[tauri::command]
pub async fn list_channels(session: S<'_>) -> Result<Vec<ChannelView>> {
    Ok(session.channels().await?)
}

#[tauri::command]
pub async fn add_channel(session: S<'_>, request: ChannelRequest) -> Result<ChannelView> {
    Ok(session.add_channel(request).await?)
}

#[tauri::command]
pub async fn remove_channel(session: S<'_>, name: String) -> Result<()> {
    Ok(session.remove_channel(&name).await?)
}

#[tauri::command]
pub async fn set_channel_enabled(
    session: S<'_>,
    name: String,
    enabled: bool,
) -> Result<ChannelView> {
    Ok(session.set_channel_enabled(&name, enabled).await?)
}

#[tauri::command]
pub async fn test_channel(session: S<'_>, name: String) -> Result<()> {
    Ok(session.test_channel(&name).await?)
}

#[tauri::command]
pub async fn tray_state(session: S<'_>) -> Result<TraySummary> {
    Ok(session.tray().await?)
}

#[tauri::command]
pub async fn list_events(session: S<'_>, filter: EventFilter) -> Result<Vec<EventView>> {
    Ok(session.events(filter).await?)
}

#[tauri::command]
pub async fn event_counts(
    session: S<'_>,
    filter: EventFilter,
    bucket_minutes: i64,
) -> Result<Vec<ClassCount>> {
    Ok(session.event_counts(filter, bucket_minutes).await?)
}

#[tauri::command]
pub async fn event_detail(session: S<'_>, id: i64) -> Result<EventDetail> {
    Ok(session.event_detail(id).await?)
}

impl CommandError {
    fn desktop(message: String) -> Self {
        Self {
            code: "desktop",
            message,
        }
    }
}

/// Whether Headroom starts at login (see `desktop`).
#[tauri::command]
pub fn autostart_enabled(app: AppHandle) -> Result<bool> {
    desktop::autostart_enabled(&app).map_err(CommandError::desktop)
}

/// Turns the start at login on or off; answers whether it is on now.
#[tauri::command]
pub fn set_autostart(app: AppHandle, enabled: bool) -> Result<bool> {
    desktop::set_autostart(&app, enabled).map_err(CommandError::desktop)
}
