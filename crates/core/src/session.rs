//! What the desktop app is showing: the person's own sources, or the built-in demo. It owns the
//! store, the polling schedule and the demo simulator, so the app shell stays a thin adapter.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use serde::Serialize;
use tokio::sync::{broadcast, Mutex};
use tokio::task::JoinHandle;
use ts_rs::TS;

use crate::alert::channel_setup::{self, ChannelRequest, ChannelView};
use crate::alert::config::{self as alert_config, AlertRules, RuleChange};
use crate::alert::outbox::{DesktopNotifier, Dispatcher};
use crate::alert::{self, AlertView, SnoozeFor, TraySummary};
use crate::config::{self, AddSourceRequest, ConfigError, TestResult};
use crate::credentials::Credentials;
use crate::demo::{self, DemoError};
use crate::events::{self, ClassCount, EventDetail, EventFilter, EventView};
use crate::scheduler::{Poller, Schedule};
use crate::source::{ProviderKind, PROVIDERS};
use crate::status::{self, MeterCard, MeterDetail, SourceView};
use crate::store::{SourceRow, Store, StoreError};

/// The demo's history shows in the app state as one backfill under this name.
const DEMO_HISTORY: &str = "the demo";

fn demo_progress(done: usize, total: usize) -> BackfillProgress {
    BackfillProgress {
        source: DEMO_HISTORY.into(),
        done,
        total,
    }
}

/// Whether a newly active store is polled at once or once something else is done first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Polling {
    Now,
    Later,
}

/// Once a person leaves the demo, it no longer opens by itself.
const DEMO_DISMISSED_MARKER: &str = "demo-dismissed";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub enum Mode {
    /// Nothing configured and not in the demo: the app says what to do next.
    Empty,
    Configured,
    Demo,
}

#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct AppState {
    pub mode: Mode,
    pub data_dir: String,
    /// Why the person's own data could not be opened, in words; `None` when all is well.
    pub problem: Option<String>,
    /// History being filled in for newly added sources.
    pub backfills: Vec<BackfillProgress>,
}

#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct BackfillProgress {
    pub source: String,
    #[ts(type = "number")]
    pub done: usize,
    #[ts(type = "number")]
    pub total: usize,
}

type Backfills = std::sync::Mutex<std::collections::BTreeMap<String, BackfillProgress>>;

fn lock(
    backfills: &Backfills,
) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, BackfillProgress>> {
    backfills.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Demo(#[from] DemoError),
}

impl SessionError {
    /// A stable code for the UI to branch on; the message is for people.
    pub fn code(&self) -> &'static str {
        match self {
            SessionError::Store(StoreError::NotFound(_)) => "not_found",
            SessionError::Store(_) => "store",
            SessionError::Config(ConfigError::Invalid(_)) => "invalid",
            SessionError::Config(ConfigError::Credential(_)) => "credential",
            SessionError::Config(ConfigError::Store(_)) => "store",
            SessionError::Demo(_) => "demo",
        }
    }
}

pub type Result<T> = std::result::Result<T, SessionError>;

struct Active {
    mode: Mode,
    problem: Option<String>,
    store: Arc<Store>,
    schedule: Option<Arc<Schedule>>,
    sim: Option<headroom_sim::Sim>,
    forward: Option<JoinHandle<()>>,
    dispatch: Option<JoinHandle<()>>,
}

pub struct Session {
    data_dir: PathBuf,
    credentials: Arc<Credentials>,
    demo_port: u16,
    active: Mutex<Active>,
    updates: broadcast::Sender<()>,
    backfills: Arc<Backfills>,
    desktop: Option<Arc<dyn DesktopNotifier>>,
}

impl Session {
    /// Opens the person's data and starts polling it; with nothing configured (and the demo not
    /// dismissed before) it opens the demo instead. Alerts for the desktop channel go to
    /// `desktop`. Must run inside a tokio runtime.
    pub async fn open(
        data_dir: &Path,
        demo_port: u16,
        desktop: Option<Arc<dyn DesktopNotifier>>,
    ) -> Result<Self> {
        let (store, problem) = open_own_store(data_dir)?;
        let (updates, _) = broadcast::channel(64);
        let session = Self {
            data_dir: data_dir.to_path_buf(),
            credentials: Arc::new(Credentials::new()),
            demo_port,
            active: Mutex::new(Active {
                mode: Mode::Empty,
                problem: problem.clone(),
                store,
                schedule: None,
                sim: None,
                forward: None,
                dispatch: None,
            }),
            updates,
            backfills: Arc::default(),
            desktop,
        };
        let has_sources = !session.active.lock().await.store.list_sources()?.is_empty();
        if has_sources {
            session.activate_own().await?;
        } else if problem.is_none() && !data_dir.join(DEMO_DISMISSED_MARKER).exists() {
            // A demo that cannot start is not a reason to refuse to open the app.
            if let Err(error) = session.start_demo().await {
                tracing::warn!(%error, "the demo could not start");
            }
        }
        Ok(session)
    }

    /// Fires after every poll that landed, whichever mode is showing.
    pub fn subscribe(&self) -> broadcast::Receiver<()> {
        self.updates.subscribe()
    }

    pub async fn state(&self) -> AppState {
        let active = self.active.lock().await;
        AppState {
            mode: active.mode,
            data_dir: self.data_dir.display().to_string(),
            problem: active.problem.clone(),
            backfills: lock(&self.backfills).values().cloned().collect(),
        }
    }

    pub async fn cards(&self) -> Result<Vec<MeterCard>> {
        let store = self.store().await;
        Ok(tokio::task::spawn_blocking(move || status::cards(&store))
            .await
            .unwrap_or_else(|e| Err(StoreError::Conflict(e.to_string())))?)
    }

    pub async fn meter_detail(
        &self,
        meter_id: i64,
        range: status::ChartRange,
    ) -> Result<MeterDetail> {
        Ok(status::meter_detail(&*self.store().await, meter_id, range)?)
    }

    pub async fn sources(&self) -> Result<Vec<SourceView>> {
        Ok(self
            .store()
            .await
            .list_sources()?
            .iter()
            .map(SourceView::from)
            .collect())
    }

    pub fn provider_kinds(&self) -> &'static [ProviderKind] {
        PROVIDERS
    }

    /// Adds one of the person's sources and polls it at once. Adding a source leaves the demo,
    /// but only once the source has been accepted.
    pub async fn add_source(&self, request: AddSourceRequest) -> Result<SourceView> {
        let mut active = self.active.lock().await;
        let cannot_save = |problem: &str| {
            SessionError::from(ConfigError::Invalid(format!(
                "Headroom cannot save sources until its database opens. {problem}"
            )))
        };
        if let Some(problem) = &active.problem {
            return Err(cannot_save(problem));
        }
        if active.mode == Mode::Demo {
            drop(active);
            let (own, problem) = open_own_store(&self.data_dir)?;
            if let Some(problem) = problem {
                return Err(cannot_save(&problem));
            }
            let row = config::add_source(&own, &self.credentials, &request)?;
            drop(own);
            self.stop_demo().await?;
            self.start_backfill(&row).await;
            return Ok(SourceView::from(&row));
        }
        let row = config::add_source(&active.store, &self.credentials, &request)?;
        match &active.schedule {
            Some(schedule) => {
                schedule.watch(row.id);
                active.mode = Mode::Configured;
                drop(active);
                let _ = self.updates.send(());
            }
            None => {
                drop(active);
                self.activate_own().await?;
            }
        }
        self.start_backfill(&row).await;
        Ok(SourceView::from(&row))
    }

    /// Polls once with a source's settings and says what it found, without adding the source,
    /// storing its key or leaving the demo.
    pub async fn test_source(&self, request: AddSourceRequest) -> Result<TestResult> {
        Ok(config::test_source(&crate::source::HttpRunner::new(), &request).await?)
    }

    /// Fills in the new source's history in the background; its progress shows in the app state.
    async fn start_backfill(&self, row: &SourceRow) {
        let Some(poller) = self
            .active
            .lock()
            .await
            .schedule
            .as_ref()
            .map(|s| Arc::clone(s.poller()))
        else {
            return;
        };
        let (row, backfills, updates) = (
            row.clone(),
            Arc::clone(&self.backfills),
            self.updates.clone(),
        );
        tokio::spawn(async move {
            let report = {
                let (backfills, updates, source) =
                    (Arc::clone(&backfills), updates.clone(), row.name.clone());
                move |done: usize, total: usize| {
                    lock(&backfills).insert(
                        source.clone(),
                        BackfillProgress {
                            source: source.clone(),
                            done,
                            total,
                        },
                    );
                    let _ = updates.send(());
                }
            };
            if let Err(error) = poller.backfill_source(&row, &report).await {
                tracing::warn!(source = %row.name, %error, "backfill could not be stored");
            }
            lock(&backfills).remove(&row.name);
            let _ = updates.send(());
        });
    }

    pub async fn remove_source(&self, name: &str) -> Result<()> {
        let mut active = self.active.lock().await;
        let row = active.store.source_by_name(name)?;
        config::remove_source(&active.store, &self.credentials, name)?;
        if let (Some(schedule), Some(row)) = (&active.schedule, row) {
            schedule.unwatch(row.id);
        }
        if active.mode == Mode::Configured && active.store.list_sources()?.is_empty() {
            active.mode = Mode::Empty;
        }
        drop(active);
        let _ = self.updates.send(());
        Ok(())
    }

    /// Shows the demo: a fresh simulator and 30 days of history in the demo's own directory.
    pub async fn start_demo(&self) -> Result<AppState> {
        let mut active = self.active.lock().await;
        if active.mode != Mode::Demo {
            let dir = demo::data_dir(&self.data_dir);
            demo::reset_data_dir(&dir)?;
            let store = Arc::new(Store::open(&dir)?);
            let (sim, older) =
                demo::start_with_latest_day(&store, &self.credentials, self.demo_port).await?;
            self.replace(&mut active, Mode::Demo, Arc::clone(&store), Polling::Later)?;
            active.sim = Some(sim);
            let _ = std::fs::remove_file(self.data_dir.join(DEMO_DISMISSED_MARKER));
            lock(&self.backfills).insert(DEMO_HISTORY.into(), demo_progress(0, 1));
            let schedule = active.schedule.as_ref().map(Arc::downgrade);
            drop(active);
            self.fill_demo_history(store, older, schedule);
        } else {
            drop(active);
        }
        Ok(self.state().await)
    }

    /// Writes the demo's older history off the async runtime while the window already shows the
    /// latest day, then starts polling, so that the first poll judges alerts on all of it.
    /// `schedule` is weak: a demo left before its history is written must not start polling.
    fn fill_demo_history(
        &self,
        store: Arc<Store>,
        older: demo::OlderHistory,
        schedule: Option<Weak<Schedule>>,
    ) {
        let (backfills, updates) = (Arc::clone(&self.backfills), self.updates.clone());
        tokio::spawn(async move {
            let progress = {
                let (backfills, updates) = (Arc::clone(&backfills), updates.clone());
                move |done, total| {
                    lock(&backfills).insert(DEMO_HISTORY.into(), demo_progress(done, total));
                    let _ = updates.send(());
                }
            };
            match tokio::task::spawn_blocking(move || older.fill(&store, progress)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(%error, "the demo's older history was not written")
                }
                Err(error) => tracing::warn!(%error, "writing the demo's history stopped"),
            }
            lock(&backfills).remove(DEMO_HISTORY);
            if let Some(schedule) = schedule.and_then(|weak| weak.upgrade()) {
                if let Err(error) = schedule.watch_all() {
                    tracing::warn!(%error, "the demo could not start polling");
                }
            }
            let _ = updates.send(());
        });
    }

    /// Leaves the demo for the person's own data, and remembers not to open it by itself again.
    pub async fn stop_demo(&self) -> Result<AppState> {
        if self.active.lock().await.mode == Mode::Demo {
            let _ = std::fs::write(self.data_dir.join(DEMO_DISMISSED_MARKER), b"");
            self.activate_own().await?;
        }
        Ok(self.state().await)
    }

    async fn activate_own(&self) -> Result<()> {
        let (store, problem) = open_own_store(&self.data_dir)?;
        let mode = if store.list_sources()?.is_empty() {
            Mode::Empty
        } else {
            Mode::Configured
        };
        let mut active = self.active.lock().await;
        active.problem = problem;
        self.replace(&mut active, mode, store, Polling::Now)
    }

    /// Swaps what is showing: stops the old polling and simulator, starts polling the new store.
    fn replace(
        &self,
        active: &mut Active,
        mode: Mode,
        store: Arc<Store>,
        polling: Polling,
    ) -> Result<()> {
        if let Some(schedule) = active.schedule.take() {
            schedule.stop_all();
        }
        if let Some(forward) = active.forward.take() {
            forward.abort();
        }
        if let Some(dispatch) = active.dispatch.take() {
            dispatch.abort();
        }
        if let Some(sim) = active.sim.take() {
            tokio::spawn(sim.shutdown());
        }
        let poller = Arc::new(Poller::new(
            Arc::clone(&store),
            Arc::clone(&self.credentials),
        ));
        let mut reports = poller.subscribe();
        let updates = self.updates.clone();
        active.forward = Some(tokio::spawn(async move {
            loop {
                match reports.recv().await {
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = updates.send(());
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }));
        let mut dispatcher = Dispatcher::new(Arc::clone(&store), Arc::clone(&self.credentials));
        if let Some(desktop) = &self.desktop {
            dispatcher = dispatcher.with_desktop(Arc::clone(desktop));
        }
        active.dispatch = Some(Arc::new(dispatcher).spawn(poller.subscribe()));
        let schedule = Schedule::idle(poller);
        if polling == Polling::Now {
            schedule.watch_all()?;
        }
        active.schedule = Some(Arc::new(schedule));
        active.store = store;
        active.mode = mode;
        let _ = self.updates.send(());
        Ok(())
    }

    pub async fn events(&self, filter: EventFilter) -> Result<Vec<EventView>> {
        Ok(events::list(&*self.store().await, &filter)?)
    }

    /// Failed requests per class in buckets of `bucket_minutes`, for the errors chart.
    pub async fn event_counts(
        &self,
        filter: EventFilter,
        bucket_minutes: i64,
    ) -> Result<Vec<ClassCount>> {
        let bucket = chrono::Duration::minutes(bucket_minutes.max(1));
        Ok(events::class_counts(&*self.store().await, &filter, bucket)?)
    }

    pub async fn event_detail(&self, id: i64) -> Result<EventDetail> {
        Ok(events::detail(&*self.store().await, id)?)
    }

    pub async fn alerts(&self) -> Result<Vec<AlertView>> {
        Ok(alert::views(&*self.store().await)?)
    }

    pub async fn acknowledge_alert(&self, id: i64) -> Result<()> {
        alert::acknowledge(&*self.store().await, id, chrono::Utc::now())?;
        let _ = self.updates.send(());
        Ok(())
    }

    pub async fn snooze_alert(&self, id: i64, duration: SnoozeFor) -> Result<()> {
        alert::snooze(&*self.store().await, id, duration, chrono::Utc::now())?;
        let _ = self.updates.send(());
        Ok(())
    }

    /// What the tray icon shows: the worst open alert and the soonest run-out.
    pub async fn tray(&self) -> Result<TraySummary> {
        Ok(alert::tray_summary(
            &*self.store().await,
            chrono::Utc::now(),
        )?)
    }

    pub async fn alert_rules(&self) -> Result<AlertRules> {
        Ok(alert_config::alert_rules(&*self.store().await)?)
    }

    /// Saves rule changes (all or none) and judges every meter by them at once.
    pub async fn set_alert_rules(&self, changes: Vec<RuleChange>) -> Result<AlertRules> {
        {
            let store = self.store().await;
            alert_config::apply_rule_changes(&store, &changes)?;
            self.reevaluate(&store);
        }
        self.alert_rules().await
    }

    pub async fn set_alert_settings(
        &self,
        remind_every: Option<String>,
        quiet_hours: Option<String>,
    ) -> Result<AlertRules> {
        alert_config::apply_settings(
            &*self.store().await,
            remind_every.as_deref(),
            quiet_hours.as_deref(),
        )?;
        self.alert_rules().await
    }

    pub async fn channels(&self) -> Result<Vec<ChannelView>> {
        Ok(channel_setup::list_channels(&*self.store().await)?)
    }

    pub async fn add_channel(&self, request: ChannelRequest) -> Result<ChannelView> {
        Ok(channel_setup::add_channel(
            &*self.store().await,
            &self.credentials,
            request,
        )?)
    }

    pub async fn remove_channel(&self, name: &str) -> Result<()> {
        Ok(channel_setup::remove_channel(
            &*self.store().await,
            &self.credentials,
            name,
        )?)
    }

    pub async fn set_channel_enabled(&self, name: &str, enabled: bool) -> Result<ChannelView> {
        Ok(channel_setup::set_channel_enabled(
            &*self.store().await,
            name,
            enabled,
        )?)
    }

    /// Sends a test notice through a channel now; the error says why it did not get through.
    pub async fn test_channel(&self, name: &str) -> Result<()> {
        let store = self.store().await;
        let channel = store
            .channel_by_name(name)?
            .ok_or_else(|| ConfigError::Invalid(format!("there is no channel named \"{name}\"")))?;
        let mut dispatcher = Dispatcher::new(Arc::clone(&store), Arc::clone(&self.credentials));
        if let Some(desktop) = &self.desktop {
            dispatcher = dispatcher.with_desktop(Arc::clone(desktop));
        }
        dispatcher
            .send_test(&channel)
            .await
            .map_err(|e| ConfigError::Invalid(format!("the test did not get through: {e}")))?;
        Ok(())
    }

    /// Judges the meters again after a change of rules, so the change shows without a poll.
    fn reevaluate(&self, store: &Store) {
        if let Err(error) = alert::evaluate(store, chrono::Utc::now()) {
            tracing::warn!(%error, "alerts not evaluated after a change of rules");
        }
        let _ = self.updates.send(());
    }

    async fn store(&self) -> Arc<Store> {
        Arc::clone(&self.active.lock().await.store)
    }
}

/// The person's database, or, when it cannot be opened, an empty one in memory and the reason.
/// The file itself is left exactly as it was.
fn open_own_store(data_dir: &Path) -> Result<(Arc<Store>, Option<String>)> {
    match Store::open(data_dir) {
        Ok(store) => Ok((Arc::new(store), None)),
        Err(error) => {
            tracing::error!(%error, "the database could not be opened");
            let problem = format!(
                "{error}. Headroom left the file untouched; move it aside (or fix its permissions) and restart to start afresh."
            );
            Ok((Arc::new(Store::open_in_memory()?), Some(problem)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::MeterState;

    #[tokio::test]
    async fn a_fresh_data_dir_opens_the_demo_until_the_person_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let session = Session::open(dir.path(), 0, None).await.unwrap();
        assert_eq!(session.state().await.mode, Mode::Demo);
        // The demo's history is there before its first poll lands.
        let cards = session.cards().await.unwrap();
        let states: Vec<MeterState> = cards.iter().map(|c| c.state).collect();
        for wanted in [MeterState::Exhausted, MeterState::Low, MeterState::Ok] {
            assert!(states.contains(&wanted), "no {wanted:?} card in {states:?}");
        }
        let exhausted = cards
            .iter()
            .find(|c| c.state == MeterState::Exhausted)
            .unwrap();
        assert!(
            exhausted.refusal.as_deref().unwrap_or("").contains("402"),
            "{exhausted:?}"
        );
        // Beside the OpenRouter keys, one CNY wallet per balance provider, read from history.
        let wallet = |source: &str| {
            let card = cards
                .iter()
                .find(|c| c.source == source)
                .unwrap_or_else(|| panic!("no card for {source}"));
            (card.meter.as_deref(), card.unit.as_deref(), card.state)
        };
        assert_eq!(
            wallet("deepseek"),
            (Some("balance_cny"), Some("CNY"), MeterState::Ok)
        );
        assert_eq!(
            wallet("kimi"),
            (Some("balance"), Some("CNY"), MeterState::Low)
        );
        assert_eq!(
            wallet("siliconflow"),
            (Some("balance"), Some("CNY"), MeterState::Ok)
        );

        assert_eq!(session.stop_demo().await.unwrap().mode, Mode::Empty);
        assert!(session.cards().await.unwrap().is_empty());
        drop(session);
        let reopened = Session::open(dir.path(), 0, None).await.unwrap();
        assert_eq!(
            reopened.state().await.mode,
            Mode::Empty,
            "a dismissed demo must not reopen by itself"
        );
    }

    fn unreachable_source(name: &str, base_url: &str) -> AddSourceRequest {
        AddSourceRequest {
            kind: "openrouter".into(),
            name: name.into(),
            base_url: base_url.into(),
            key: None,
            key_env: Some("HEADROOM_SESSION_TEST_KEY".into()),
            management_key: None,
            management_key_env: None,
            interval: "15m".into(),
            options: None,
        }
    }

    #[tokio::test]
    async fn adding_a_source_in_the_demo_switches_to_your_own_data_only_when_it_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let session = Session::open(dir.path(), 0, None).await.unwrap();
        let mut updates = session.subscribe();
        let refused = session
            .add_source(unreachable_source("bad", "ftp://nowhere"))
            .await;
        assert!(refused.is_err());
        assert_eq!(
            session.state().await.mode,
            Mode::Demo,
            "a refused source must not end the demo"
        );

        session
            .add_source(unreachable_source("mine", "http://127.0.0.1:9"))
            .await
            .unwrap();
        assert_eq!(session.state().await.mode, Mode::Configured);
        let names: Vec<String> = session
            .sources()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, vec!["mine".to_string()]);
        // Its first poll lands (and fails, in words) without anyone asking.
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            loop {
                let _ = updates.recv().await;
                let cards = session.cards().await.unwrap();
                if cards.iter().any(|c| c.state == MeterState::Failing) {
                    return cards;
                }
            }
        })
        .await
        .expect("the new source was polled");
        session
            .add_source(unreachable_source("second", "http://127.0.0.1:9"))
            .await
            .unwrap();
        assert_eq!(session.sources().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_corrupt_database_is_reported_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let garbage =
            b"definitely not a sqlite database, but someone's data all the same".repeat(64);
        std::fs::write(dir.path().join(crate::store::DB_FILE), &garbage).unwrap();
        let session = Session::open(dir.path(), 0, None).await.unwrap();
        let state = session.state().await;
        assert_eq!(state.mode, Mode::Empty);
        let problem = state.problem.expect("the problem is reported");
        assert!(
            problem.contains("cannot open the database") && problem.contains("untouched"),
            "{problem}"
        );
        let refused = session
            .add_source(AddSourceRequest {
                kind: "openrouter".into(),
                name: "prod".into(),
                base_url: "http://127.0.0.1:9".into(),
                key: None,
                key_env: Some("OPENROUTER_KEY".into()),
                management_key: None,
                management_key_env: None,
                interval: "15m".into(),
                options: None,
            })
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("cannot save sources"),
            "{refused}"
        );
        assert_eq!(
            std::fs::read(dir.path().join(crate::store::DB_FILE)).unwrap(),
            garbage
        );
    }
}
