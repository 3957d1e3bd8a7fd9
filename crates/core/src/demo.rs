//! The built-in demo: the bundled simulator in-process, its own data directory, 30 days of
//! history, and an account for every provider kind the simulator speaks: three OpenRouter keys
//! (healthy, running low, exhausted and answering 402), wallets in CNY, spend against budgets and
//! gateway budgets.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use headroom_sim::{Sim, Snapshots};
use serde_json::json;

use crate::credentials::Credentials;
use crate::source::{self, status_failure, HttpRunner, Reading, Source};
use crate::store::{NewSource, Store, StoreError, DB_FILE};

/// The demo polls often so that a person sees cards update while they watch.
pub const POLL_INTERVAL_SECS: u64 = 30;
const SCENARIO: &str = "demo";
const HISTORY_STEP_MINUTES: i64 = 30;
const HISTORY_DAYS: i64 = 30;
/// Written before the window shows: enough for every card's trend and a first forecast.
const LATEST_DAY: i64 = 1;

/// How many days of history the demo makes: 30, or `HEADROOM_DEMO_HISTORY_DAYS` (e.g. 365, to
/// measure the app with a year of history; see docs/performance.md).
fn history_days() -> i64 {
    std::env::var("HEADROOM_DEMO_HISTORY_DAYS")
        .ok()
        .and_then(|days| days.parse().ok())
        .filter(|days| *days > 0)
        .unwrap_or(HISTORY_DAYS)
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the demo simulator could not start: {0}")]
    Sim(#[from] headroom_sim::SimError),
    #[error("the demo's data could not be written: {0}")]
    Store(#[from] StoreError),
    #[error("the demo simulator has a '{0}' account, which Headroom has no source for")]
    UnknownProvider(String),
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
/// sources, their last 30 days of history, and the refusal that an exhausted account's traffic
/// gets.
pub async fn start(store: &Store, credentials: &Credentials, port: u16) -> Result<Sim, DemoError> {
    let (sim, older) = start_with_latest_day(store, credentials, port).await?;
    older.fill(store, |_, _| {})?;
    Ok(sim)
}

/// [`start`], except that only the latest day of history is written; the rest is left to
/// [`OlderHistory::fill`], so the app can show its window first. A year of demo history takes
/// seconds to write; a day takes a few milliseconds.
pub async fn start_with_latest_day(
    store: &Store,
    credentials: &Credentials,
    port: u16,
) -> Result<(Sim, OlderHistory), DemoError> {
    let scenario = headroom_sim::builtin_scenario(SCENARIO).ok_or_else(|| {
        headroom_sim::SimError::UnknownScenario {
            name: SCENARIO.into(),
        }
    })?;
    let sim = Sim::start(scenario, port).await?;
    let now = Utc::now();
    let latest_day_from = now - Duration::days(LATEST_DAY.min(history_days()));
    let mut older = OlderHistory {
        snapshots: sim.snapshots(),
        from: now - Duration::days(history_days()),
        until: latest_day_from,
        accounts: Vec::new(),
    };
    let http = HttpRunner::new();
    for account in &sim.announcement().accounts {
        let Ok(reader) = source::build(&account.provider, &sim.base_url(), &account.source_options)
        else {
            return Err(DemoError::UnknownProvider(account.provider.clone()));
        };
        let source = store.add_source(&NewSource {
            options: account.source_options.clone(),
            name: account.name.clone(),
            kind: account.provider.clone(),
            base_url: sim.base_url(),
            key_ref: Some(
                credentials.hold_in_memory(&format!("demo/{}/key", account.name), &account.key),
            ),
            management_key_ref: account.management_key.as_deref().map(|key| {
                credentials.hold_in_memory(&format!("demo/{}/management_key", account.name), key)
            }),
            interval_secs: POLL_INTERVAL_SECS,
        })?;
        // Ends just before now, so the first live poll is the newest reading.
        let steps = steps(latest_day_from, now - Duration::minutes(1))
            .chain(std::iter::once(now - Duration::minutes(1)));
        for history in history_of(&older.snapshots, &account.name, reader.as_ref(), steps) {
            store.insert_history(source.id, &history)?;
        }

        // The traffic of the person's own app: an exhausted account refuses it.
        if let Some(chat_path) = headroom_sim::chat_path(&account.provider) {
            let url = format!("{}{chat_path}", sim.base_url());
            let request =
                json!({"model": "demo-model", "messages": [{"role": "user", "content": "ping"}]});
            let sent = match account.provider.as_str() {
                // Anthropic takes its key in x-api-key, never as a bearer token.
                "anthropic" => {
                    let version = [("anthropic-version", "2023-06-01")];
                    http.post_json_with_key_header(
                        &url,
                        "x-api-key",
                        &account.key,
                        &version,
                        &request,
                    )
                    .await
                }
                _ => http.post_json_bearer(&url, &account.key, &request).await,
            };
            if let Ok(response) = sent {
                if !(200..300).contains(&response.status) {
                    let failure = status_failure(
                        &account.provider,
                        chat_path,
                        &response,
                        &[account.key.as_str()],
                    );
                    store.insert_event(source.id, Utc::now(), &failure)?;
                }
            }
        }
        older
            .accounts
            .push((source.id, account.name.clone(), reader));
    }
    Ok((sim, older))
}

/// The part of the demo's history before its latest day, still to be written.
pub struct OlderHistory {
    snapshots: Snapshots,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    accounts: Vec<(i64, String, Box<dyn Source>)>,
}

impl OlderHistory {
    /// Writes it, account by account; `progress(done, total)` counts the accounts written.
    /// Blocking: SQLite and the simulator's curves, no awaits.
    pub fn fill(
        self,
        store: &Store,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<(), DemoError> {
        let total = self.accounts.len();
        for (done, (source_id, account, reader)) in self.accounts.iter().enumerate() {
            progress(done, total);
            let steps = steps(self.from, self.until);
            for history in history_of(&self.snapshots, account, reader.as_ref(), steps) {
                store.insert_history(*source_id, &history)?;
            }
        }
        progress(total, total);
        Ok(())
    }
}

type History = Vec<(DateTime<Utc>, Reading)>;

/// Every history step in [from, until).
fn steps(from: DateTime<Utc>, until: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> {
    std::iter::successors(Some(from), |at| {
        Some(*at + Duration::minutes(HISTORY_STEP_MINUTES))
    })
    .take_while(move |at| *at < until)
}

/// The account's history at `steps`, one history per meter in the order the source reports its
/// meters (which is the order their cards appear in): what its endpoints served at each step,
/// read by the same parser that reads live answers.
fn history_of(
    snapshots: &Snapshots,
    account: &str,
    reader: &dyn Source,
    steps: impl Iterator<Item = DateTime<Utc>>,
) -> Vec<History> {
    let mut meters: Vec<History> = Vec::new();
    for at in steps {
        // Read together: some meters need two endpoints' answers (a limit and the spend).
        let served = snapshots.snapshot(account, at);
        match reader.read_snapshots(&served, at) {
            Ok(readings) => {
                for reading in readings {
                    let meter = meters
                        .iter_mut()
                        .find(|h| h.first().is_some_and(|(_, r)| r.meter == reading.meter));
                    match meter {
                        Some(history) => history.push((at, reading)),
                        None => meters.push(vec![(at, reading)]),
                    }
                }
            }
            // The simulator and the parsers ship together; a mismatch is a bug to see in the
            // log, not a reason to withhold the rest of the demo.
            Err(problem) => tracing::warn!(account, problem, "demo history unreadable"),
        }
    }
    meters
}
