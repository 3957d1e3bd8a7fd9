//! How long history is kept. Raw readings are kept for 90 days, which covers everything the
//! forecaster reads (35 days) and the dashboard's 30-day card; older readings are rolled up into
//! one row per meter and hour (`store::readings_hourly`), which the long charts and the export
//! read seamlessly, and those are kept for two years. A meter polled every 15 minutes then
//! stores about 8,600 raw readings and 15,000 hourly rows however long Headroom runs
//! (docs/performance.md has the sizes).

use std::sync::{Arc, Weak};

use chrono::{DateTime, Duration, Utc};
use tokio::task::JoinHandle;

use crate::store::{RollUp, Store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Raw readings younger than this are kept as they are.
    pub raw_for: Duration,
    /// Hourly rows younger than this are kept; older ones are deleted.
    pub hourly_for: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            raw_for: Duration::days(90),
            hourly_for: Duration::days(730),
        }
    }
}

/// What one pass of [`apply`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tidied {
    pub rolled_up: RollUp,
    /// Hourly rows deleted for being older than [`Retention::hourly_for`].
    pub hours_deleted: usize,
}

/// Rolls up the raw readings older than the policy keeps and deletes hourly rows older than it
/// keeps, as of `now`. Safe to run at any time, from several processes at once, and as often
/// as wanted: a second run at the same `now` changes nothing.
pub fn apply(store: &Store, policy: &Retention, now: DateTime<Utc>) -> Result<Tidied, StoreError> {
    let rolled_up = store.roll_up_readings(now - policy.raw_for)?;
    // After the roll-up, so that raw readings older than both limits go in the same pass.
    let hours_deleted = store.delete_hourly_before(now - policy.hourly_for)?;
    Ok(Tidied {
        rolled_up,
        hours_deleted,
    })
}

/// How often a long-running process applies the retention policy again.
const EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Applies the default policy now (off the async threads) and then about once a day, for as
/// long as the store is open elsewhere: the task holds the store only while it works, so it
/// never keeps a replaced database open, and it ends by itself once the store is dropped.
/// Must be called inside a tokio runtime.
pub fn spawn_daily(store: &Arc<Store>) -> JoinHandle<()> {
    let store: Weak<Store> = Arc::downgrade(store);
    tokio::spawn(async move {
        loop {
            let Some(open) = store.upgrade() else { return };
            let outcome = tokio::task::spawn_blocking(move || {
                apply(&open, &Retention::default(), Utc::now())
            })
            .await;
            match outcome {
                Ok(Ok(tidied)) if tidied != Tidied::default() => tracing::info!(
                    rolled_up = tidied.rolled_up.readings,
                    hours = tidied.rolled_up.hours,
                    hours_deleted = tidied.hours_deleted,
                    "old readings rolled up"
                ),
                Ok(Ok(_)) => {}
                // Nothing is lost: every step is a transaction, and tomorrow's run tries again.
                Ok(Err(error)) => tracing::warn!(%error, "old readings not rolled up"),
                Err(error) => tracing::warn!(%error, "old readings not rolled up"),
            }
            tokio::time::sleep(EVERY).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{MeterKind, MeterSpec, Reading};
    use crate::status::{meter_detail, ChartRange};
    use crate::store::sources::tests::sample;
    use rust_decimal::Decimal;

    fn reading(step: i64) -> Reading {
        Reading {
            meter: MeterSpec {
                name: "budget".into(),
                label: "Monthly budget".into(),
                kind: MeterKind::Budget,
                unit: "USD".into(),
            },
            // A month's budget spent a cent per reading, reset every 30 days (2,880 readings).
            remaining: Decimal::new(10_000 - (step % 2_880) * 3, 2),
            limit: Some(Decimal::from(100)),
            used: None,
            reset: None,
            reset_at: None,
        }
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Arc<Store>,
        meter_id: i64,
        now: DateTime<Utc>,
        readings: usize,
    }

    /// Two and a half years of readings every 15 minutes, ending now.
    fn two_and_a_half_years() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let source = store.add_source(&sample("acct")).unwrap().id;
        let now = Utc::now();
        let readings = (2 * 365 + 182) * 96;
        let history: Vec<_> = (0..readings as i64)
            .map(|i| {
                let at = now - Duration::minutes(15 * (readings as i64 - 1 - i));
                (at, reading(i))
            })
            .collect();
        store.insert_history(source, &history).unwrap();
        let meter_id = store.list_meters().unwrap()[0].id;
        Fixture {
            _dir: dir,
            store: Arc::new(store),
            meter_id,
            now,
            readings,
        }
    }

    fn hour_floor(t: DateTime<Utc>) -> DateTime<Utc> {
        DateTime::from_timestamp(t.timestamp().div_euclid(3600) * 3600, 0).unwrap()
    }

    #[test]
    fn years_of_readings_keep_90_days_raw_and_two_years_hourly_and_the_chart_spans_them() {
        let fx = two_and_a_half_years();
        let policy = Retention::default();
        let tidied = apply(&fx.store, &policy, fx.now).unwrap();

        let raw_from = hour_floor(fx.now - policy.raw_for);
        let hourly_from = hour_floor(fx.now - policy.hourly_for);
        let raw = fx
            .store
            .readings_since(fx.meter_id, DateTime::UNIX_EPOCH)
            .unwrap();
        let hourly = fx
            .store
            .hourly_since(fx.meter_id, DateTime::UNIX_EPOCH)
            .unwrap();
        assert_eq!(raw.first().map(|r| r.ts >= raw_from), Some(true));
        assert!(
            raw.len() >= 90 * 96 && raw.len() <= 90 * 96 + 4,
            "{}",
            raw.len()
        );
        let hours = ((raw_from - hourly_from).num_hours()) as usize;
        assert_eq!(hourly.len(), hours, "one row per hour from two years ago");
        assert_eq!(hourly[0].hourly.as_ref().unwrap().hour, hourly_from);
        assert!(hourly.iter().all(|h| h.hourly.as_ref().unwrap().count == 4));
        assert!(hourly.last().unwrap().ts < raw[0].ts);
        assert_eq!(tidied.rolled_up.readings, fx.readings - raw.len());
        assert!(tidied.hours_deleted > 0, "the oldest half year is gone");

        // The longest chart still reaches two years back, through the hourly rows.
        let all = meter_detail(&fx.store, fx.meter_id, ChartRange::All).unwrap();
        assert_eq!(all.range_points, raw.len() + hourly.len());
        assert_eq!(all.points, raw.len() + hourly.len());
        let first = all.first_ts.expect("a first point");
        assert!(
            first >= hourly_from && first < hourly_from + Duration::hours(1),
            "{first}"
        );
        assert_eq!(all.chart_coords.points.first().map(|p| p.t), Some(first));
        let quarter = meter_detail(&fx.store, fx.meter_id, ChartRange::Quarter).unwrap();
        assert!(quarter.range_points >= 90 * 96, "{}", quarter.range_points);
        // The card and the forecast read the last 30 days, all of them raw.
        assert_eq!(quarter.card.remaining, all.card.remaining);
        assert!(all.card.forecast.is_some());

        // A second run at the same time finds nothing to do and changes nothing.
        let dump = |store: &Store| {
            (
                store
                    .readings_since(fx.meter_id, DateTime::UNIX_EPOCH)
                    .unwrap(),
                store
                    .hourly_since(fx.meter_id, DateTime::UNIX_EPOCH)
                    .unwrap(),
            )
        };
        let before = dump(&fx.store);
        assert_eq!(
            apply(&fx.store, &policy, fx.now).unwrap(),
            Tidied::default()
        );
        assert_eq!(dump(&fx.store), before);
    }

    #[test]
    fn the_export_includes_the_hourly_rows_marked_as_hourly() {
        let fx = two_and_a_half_years();
        apply(&fx.store, &Retention::default(), fx.now).unwrap();
        let mut csv = Vec::new();
        let written =
            crate::export::export(&fx.store, crate::export::Format::Csv, &mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("source,provider,meter,unit,ts,remaining,limit,used,reset_at,resolution,min_remaining,max_remaining,count")
        );
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), written);
        let hourly = rows.iter().filter(|l| l.contains(",hourly,")).count();
        let raw = rows.iter().filter(|l| l.ends_with(",raw,,,")).count();
        assert_eq!(hourly + raw, written);
        assert!(
            hourly > 15_000 && raw >= 90 * 96,
            "{hourly} hourly, {raw} raw"
        );
        assert!(rows[0].contains(",hourly,") && rows[0].ends_with(",4"));
    }

    #[tokio::test]
    async fn a_long_running_process_rolls_up_at_once_and_lets_go_of_the_store() {
        let Fixture {
            _dir,
            store,
            meter_id,
            ..
        } = two_and_a_half_years();
        let task = spawn_daily(&store);
        let rolled_up = || {
            store
                .readings_since(meter_id, DateTime::UNIX_EPOCH)
                .unwrap()
                .len()
                <= 90 * 96 + 4
        };
        tokio::time::timeout(std::time::Duration::from_secs(60), async {
            while !rolled_up() {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("rolled up at start");
        let weak = Arc::downgrade(&store);
        drop(store);
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while weak.upgrade().is_some() {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("the task holds no store while it sleeps");
        task.abort();
    }
}
