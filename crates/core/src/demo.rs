//! The built-in demo: the bundled simulator in-process, its own data directory, 30 days of
//! history, and three accounts (healthy, running low, exhausted and answering 402).

use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use headroom_sim::{AccountState, Sim};
use serde_json::{json, Value};

use crate::credentials::Credentials;
use crate::source::openrouter::{parse_credits, parse_key};
use crate::source::{status_failure, HttpRunner, Reading};
use crate::store::{NewSource, Store, StoreError, DB_FILE};

/// The demo polls often so that a person sees cards update while they watch.
pub const POLL_INTERVAL_SECS: u64 = 30;
const SCENARIO: &str = "demo";
const HISTORY_STEP_MINUTES: i64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the demo simulator could not start: {0}")]
    Sim(#[from] headroom_sim::SimError),
    #[error("the demo's data could not be written: {0}")]
    Store(#[from] StoreError),
    #[error("the demo's data directory {0} could not be reset: {1}")]
    Reset(PathBuf, std::io::Error),
}

/// The demo keeps its data apart from the person's own.
pub fn data_dir(base: &Path) -> PathBuf {
    base.join("demo")
}

/// Empties the demo's data directory: each demo starts from a fresh 30-day history.
pub fn reset_data_dir(dir: &Path) -> Result<(), DemoError> {
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.join(format!("{DB_FILE}{suffix}"));
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(DemoError::Reset(dir.to_path_buf(), e))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Starts the simulator on `port` (0 for any free port) and fills `store` with its accounts as
/// sources, their last 30 days of history, and the 402 that the exhausted account's traffic gets.
pub async fn start(store: &Store, credentials: &Credentials, port: u16) -> Result<Sim, DemoError> {
    let scenario = headroom_sim::builtin_scenario(SCENARIO).ok_or_else(|| {
        headroom_sim::SimError::UnknownScenario {
            name: SCENARIO.into(),
        }
    })?;
    let sim = Sim::start(scenario.clone(), port).await?;
    let now = Utc::now();
    let http = HttpRunner::new();
    for account in &sim.announcement().accounts {
        let spec = scenario.accounts.iter().find(|a| a.name == account.name);
        let limit_reset = spec.and_then(|s| s.limit_reset.clone());
        let source = store.add_source(&NewSource {
            name: account.name.clone(),
            kind: account.provider.clone(),
            base_url: sim.base_url(),
            key_ref: Some(
                credentials.hold_in_memory(&format!("demo/{}/key", account.name), &account.key),
            ),
            management_key_ref: Some(credentials.hold_in_memory(
                &format!("demo/{}/management_key", account.name),
                &account.management_key,
            )),
            interval_secs: POLL_INTERVAL_SECS,
        })?;
        let history = sim.history(
            &account.name,
            now - Duration::days(30),
            now - Duration::minutes(1),
            Duration::minutes(HISTORY_STEP_MINUTES),
        );
        let (key_history, credit_history) = readings_from(&history, limit_reset.as_deref());
        store.insert_history(source.id, &key_history)?;
        store.insert_history(source.id, &credit_history)?;

        // The traffic of the person's own app: an exhausted account answers it with a 402.
        let url = format!("{}/api/v1/chat/completions", sim.base_url());
        let request = json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "ping"}]});
        if let Ok(response) = http.post_json_bearer(&url, &account.key, &request).await {
            if !(200..300).contains(&response.status) {
                let failure = status_failure(
                    &account.provider,
                    "/api/v1/chat/completions",
                    &response,
                    &[account.key.as_str()],
                );
                store.insert_event(source.id, Utc::now(), &failure)?;
            }
        }
    }
    Ok(sim)
}

type History = Vec<(chrono::DateTime<Utc>, Reading)>;

/// Turns the simulator's states into readings through the same parsers that read live answers.
fn readings_from(
    states: &[(chrono::DateTime<Utc>, AccountState)],
    limit_reset: Option<&str>,
) -> (History, History) {
    // Decimal text, which the parsers read back exactly.
    let number = |d: rust_decimal::Decimal| Value::String(d.to_string());
    let mut keys = Vec::new();
    let mut credits = Vec::new();
    for (at, state) in states {
        let key_body = json!({"data": {
            "limit": state.key_limit.map(number),
            "limit_remaining": state.key_limit_remaining.map(number),
            "limit_reset": limit_reset,
            "usage": number(state.key_usage),
        }});
        if let Ok(Some(reading)) = parse_key(&key_body, *at) {
            keys.push((*at, reading));
        }
        let credit_body = json!({"data": {
            "total_credits": number(state.total_credits),
            "total_usage": number(state.total_usage),
        }});
        if let Ok(reading) = parse_credits(&credit_body) {
            credits.push((*at, reading));
        }
    }
    (keys, credits)
}
