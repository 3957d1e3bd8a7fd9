//! Polling: one tokio task per source, each on its own interval, with jittered backoff after a
//! failure. A slow or failing source only delays itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::broadcast;
use tokio::task::{JoinHandle, JoinSet};

use crate::alert;
use crate::credentials::Credentials;
use crate::source::{self, HttpRunner, Keys, PollFailure};
use crate::store::{SourceRow, Store, StoreError};

/// What one poll of one source did; sent to listeners when it has been stored.
#[derive(Clone, Debug)]
pub struct PollReport {
    pub source: String,
    pub readings: usize,
    pub failures: Vec<String>,
}

impl PollReport {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

pub struct Poller {
    store: Arc<Store>,
    credentials: Arc<Credentials>,
    http: HttpRunner,
    updates: broadcast::Sender<PollReport>,
}

impl Poller {
    pub fn new(store: Arc<Store>, credentials: Arc<Credentials>) -> Self {
        Self::with_http(store, credentials, HttpRunner::new())
    }

    pub fn with_http(store: Arc<Store>, credentials: Arc<Credentials>, http: HttpRunner) -> Self {
        let (updates, _) = broadcast::channel(64);
        Self {
            store,
            credentials,
            http,
            updates,
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn credentials(&self) -> &Arc<Credentials> {
        &self.credentials
    }

    /// Notified after every poll has been stored.
    pub fn subscribe(&self) -> broadcast::Receiver<PollReport> {
        self.updates.subscribe()
    }

    /// Polls one source and stores what came back: readings, failures as events, and how the
    /// poll ended. Earlier readings are never touched.
    pub async fn poll_source(&self, source: &SourceRow) -> Result<PollReport, StoreError> {
        let outcome = match self.keys_for(source) {
            Err(failure) => source::PollOutcome {
                failures: vec![failure],
                ..Default::default()
            },
            Ok(keys) => match source::build(&source.kind, &source.base_url, &source.options) {
                // Every provider's successful answers may announce rate-limit windows too.
                Ok(adapter) => {
                    source::windows::poll_with_windows(adapter.as_ref(), &self.http, &keys).await
                }
                Err(problem) => source::PollOutcome {
                    failures: vec![PollFailure::without_answer("", problem)],
                    ..Default::default()
                },
            },
        };
        let now = Utc::now();
        for reading in &outcome.readings {
            self.store.insert_reading(source.id, now, reading)?;
        }
        for failure in &outcome.failures {
            self.store.insert_event(source.id, now, failure)?;
        }
        // Other clients' failed requests from a gateway's log: kept as evidence (each once), but
        // they say nothing about whether this poll worked.
        for logged in &outcome.logged {
            self.store.insert_event(source.id, now, logged)?;
        }
        // A standing condition is news once, not at every poll while it lasts.
        let recent: Vec<String> = self
            .store
            .recent_events(Some(source.id), 50)?
            .into_iter()
            .map(|e| e.message)
            .collect();
        for notice in outcome
            .notices
            .iter()
            .filter(|n| !recent.contains(&n.message))
        {
            self.store.insert_event(source.id, now, notice)?;
        }
        let failures: Vec<String> = outcome.failures.iter().map(|f| f.message.clone()).collect();
        let error = (!failures.is_empty()).then(|| failures.join("; "));
        self.store.record_poll(source.id, now, error.as_deref())?;
        // Alerts follow every poll without anyone asking. A failed evaluation does not undo the
        // poll, which is stored: the next poll evaluates the same conditions again.
        match alert::evaluate_source(&self.store, source.id, now) {
            Ok(evaluation) => {
                for fired in &evaluation.fired {
                    tracing::info!(source = %source.name, rule = %fired.rule, "{}", fired.message);
                }
            }
            Err(error) => tracing::warn!(source = %source.name, %error, "alerts not evaluated"),
        }
        let report = PollReport {
            source: source.name.clone(),
            readings: outcome.readings.len(),
            failures,
        };
        let _ = self.updates.send(report.clone());
        Ok(report)
    }

    /// Fills in the history a source's provider keeps, reporting `progress(done, total)`, and
    /// stores it. Returns how many readings were stored; failures become events like a poll's.
    pub async fn backfill_source(
        &self,
        source: &SourceRow,
        progress: &source::Progress,
    ) -> Result<usize, StoreError> {
        let Ok(keys) = self.keys_for(source) else {
            // The first poll reports a key that cannot be read; a backfill adds nothing to that.
            return Ok(0);
        };
        let Ok(adapter) = source::build(&source.kind, &source.base_url, &source.options) else {
            return Ok(0);
        };
        let backfill = adapter.backfill(&self.http, &keys, progress).await;
        let now = Utc::now();
        for failure in &backfill.failures {
            self.store.insert_event(source.id, now, failure)?;
        }
        let mut by_meter: std::collections::BTreeMap<
            String,
            Vec<(chrono::DateTime<Utc>, source::Reading)>,
        > = std::collections::BTreeMap::new();
        for (at, reading) in backfill.history {
            by_meter
                .entry(reading.meter.name.clone())
                .or_default()
                .push((at, reading));
        }
        let mut stored = 0;
        for (_, mut history) in by_meter {
            history.sort_by_key(|(at, _)| *at);
            stored += history.len();
            self.store.insert_history(source.id, &history)?;
        }
        if stored > 0 {
            let _ = self.updates.send(PollReport {
                source: source.name.clone(),
                readings: stored,
                failures: vec![],
            });
        }
        Ok(stored)
    }

    /// Polls every configured source at once and waits for all of them.
    pub async fn poll_all_once(self: &Arc<Self>) -> Result<Vec<PollReport>, StoreError> {
        let mut tasks = JoinSet::new();
        for source in self.store.list_sources()? {
            let poller = Arc::clone(self);
            tasks.spawn(async move { poller.poll_source(&source).await });
        }
        let mut reports = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            if let Ok(report) = joined {
                reports.push(report?);
            }
        }
        reports.sort_by(|a, b| a.source.cmp(&b.source));
        Ok(reports)
    }

    fn keys_for(&self, source: &SourceRow) -> Result<Keys, PollFailure> {
        let resolve = |reference: &Option<String>| -> Result<Option<String>, PollFailure> {
            reference
                .as_deref()
                .map(|r| self.credentials.resolve(r))
                .transpose()
                .map_err(|e| PollFailure::without_answer("", format!("Cannot read the key: {e}")))
        };
        Ok(Keys {
            key: resolve(&source.key_ref)?,
            management_key: resolve(&source.management_key_ref)?,
        })
    }
}

/// Keeps one polling task per source running until it is removed or the schedule is dropped.
pub struct Schedule {
    poller: Arc<Poller>,
    tasks: Mutex<HashMap<i64, JoinHandle<()>>>,
}

impl Schedule {
    /// Starts polling every configured source. Must be called inside a tokio runtime.
    pub fn start(poller: Arc<Poller>) -> Result<Self, StoreError> {
        let schedule = Self::idle(poller);
        schedule.watch_all()?;
        Ok(schedule)
    }

    /// A schedule that polls nothing until [`Schedule::watch_all`] or [`Schedule::watch`]; the
    /// demo waits so that its first poll judges alerts on the whole of its history.
    pub fn idle(poller: Arc<Poller>) -> Self {
        crate::retention::spawn_daily(&poller.store);
        Self {
            poller,
            tasks: Mutex::new(HashMap::new()),
        }
    }

    pub fn watch_all(&self) -> Result<(), StoreError> {
        for source in self.poller.store.list_sources()? {
            self.watch(source.id);
        }
        Ok(())
    }

    pub fn poller(&self) -> &Arc<Poller> {
        &self.poller
    }

    /// Starts (or restarts) polling a source; its first poll happens at once.
    pub fn watch(&self, source_id: i64) {
        let poller = Arc::clone(&self.poller);
        let task = tokio::spawn(async move { run_source(poller, source_id).await });
        if let Some(old) = self.lock().insert(source_id, task) {
            old.abort();
        }
    }

    pub fn unwatch(&self, source_id: i64) {
        if let Some(task) = self.lock().remove(&source_id) {
            task.abort();
        }
    }

    pub fn stop_all(&self) {
        for (_, task) in self.lock().drain() {
            task.abort();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, JoinHandle<()>>> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Schedule {
    fn drop(&mut self) {
        self.stop_all();
    }
}

async fn run_source(poller: Arc<Poller>, source_id: i64) {
    let mut consecutive_failures = 0u32;
    loop {
        // Re-read each time so that a removed source ends its task.
        let Ok(source) = poller.store.source_by_id(source_id) else {
            return;
        };
        match poller.poll_source(&source).await {
            Ok(report) if report.ok() => consecutive_failures = 0,
            Ok(_) => consecutive_failures += 1,
            Err(error) => {
                tracing::warn!(source = %source.name, %error, "could not store a poll");
                consecutive_failures += 1;
            }
        }
        let delay = next_delay(
            Duration::from_secs(source.interval_secs),
            consecutive_failures,
        );
        tokio::time::sleep(jitter(delay)).await;
    }
}

/// After a failure, retry soon and then back off, never waiting longer than the usual interval
/// (or five minutes, for sources polled more often than that).
pub fn next_delay(interval: Duration, consecutive_failures: u32) -> Duration {
    if consecutive_failures == 0 {
        return interval;
    }
    let first_retry = Duration::from_secs(15).min(interval);
    let exponent = (consecutive_failures - 1).min(10);
    let backoff = first_retry.saturating_mul(1 << exponent);
    backoff.min(interval.max(Duration::from_secs(300)))
}

/// Spreads polls by ±10% so that many sources do not all fire in the same instant.
fn jitter(delay: Duration) -> Duration {
    delay.mul_f64(0.9 + fastrand::f64() * 0.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_short_and_is_capped() {
        let interval = Duration::from_secs(900);
        assert_eq!(next_delay(interval, 0), interval);
        assert_eq!(next_delay(interval, 1), Duration::from_secs(15));
        assert_eq!(next_delay(interval, 2), Duration::from_secs(30));
        assert_eq!(next_delay(interval, 30), interval);
        let fast = Duration::from_secs(5);
        assert_eq!(next_delay(fast, 1), fast);
        assert_eq!(next_delay(fast, 9), Duration::from_secs(300));
        let j = jitter(Duration::from_secs(100));
        assert!(j >= Duration::from_secs(90) && j <= Duration::from_secs(110));
    }
}
