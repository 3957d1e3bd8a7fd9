//! Tauri commands: each one calls the session and turns its error into `{code, message}`.

use std::sync::Arc;

use headroom_core::config::{AddSourceRequest, TestResult};
use headroom_core::session::{AppState, Session, SessionError};
use headroom_core::source::ProviderKind;
use headroom_core::status::{MeterCard, MeterDetail, SourceView};
use serde::Serialize;
use tauri::State;

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
pub async fn meter_detail(session: S<'_>, meter_id: i64) -> Result<MeterDetail> {
    Ok(session.meter_detail(meter_id).await?)
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
