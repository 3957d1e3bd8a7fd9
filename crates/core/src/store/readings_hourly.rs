//! The `readings_hourly` table: old history, one row per meter and hour. Raw readings are kept
//! for a few months (see `retention`); after that an hour of them becomes one row that keeps what
//! the charts and an export need — the last reading, the lowest and highest remaining, the last
//! limit and how many readings there were — so two years of history stay small.
//!
//! Amounts are exact decimal text, as in `readings`.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};
use rust_decimal::Decimal;

use super::{from_millis, to_millis, ReadingRow, Result, Store};

pub(super) const V1: &str = "
CREATE TABLE readings_hourly (
    meter_id INTEGER NOT NULL REFERENCES meters(id) ON DELETE CASCADE,
    hour INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    remaining TEXT NOT NULL,
    min_remaining TEXT NOT NULL,
    max_remaining TEXT NOT NULL,
    lim TEXT,
    reset_at INTEGER,
    count INTEGER NOT NULL,
    PRIMARY KEY (meter_id, hour)
) WITHOUT ROWID;";

const HOUR_MS: i64 = 3_600_000;

/// How much raw history one transaction of a roll-up moves: small enough that polls and the app
/// wait only a moment for the database, large enough that a first roll-up of years is quick.
const CHUNK_MS: i64 = 7 * 24 * HOUR_MS;

/// What an hour rolled up into one row kept besides its last reading.
#[derive(Clone, Debug, PartialEq)]
pub struct HourSummary {
    /// The start of the hour.
    pub hour: DateTime<Utc>,
    pub min_remaining: Decimal,
    pub max_remaining: Decimal,
    /// How many raw readings the hour held.
    pub count: u32,
}

/// What one roll-up did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RollUp {
    /// Raw readings moved into hourly rows (and deleted from `readings`).
    pub readings: usize,
    /// Hourly rows written (new, or merged with a row already there for that hour).
    pub hours: usize,
}

/// The start of the hour `ms` falls in.
fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS) * HOUR_MS
}

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_default()
}

/// One hour being rolled up, with the amounts as stored text so nothing is re-formatted.
#[derive(Clone, Debug, PartialEq)]
struct Bucket {
    hour: i64,
    ts: i64,
    remaining: String,
    min_remaining: String,
    max_remaining: String,
    limit: Option<String>,
    reset_at: Option<i64>,
    count: i64,
}

impl Bucket {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            hour: row.get(0)?,
            ts: row.get(1)?,
            remaining: row.get(2)?,
            min_remaining: row.get(3)?,
            max_remaining: row.get(4)?,
            limit: row.get(5)?,
            reset_at: row.get(6)?,
            count: row.get(7)?,
        })
    }

    fn reading(ts: i64, remaining: String, limit: Option<String>, reset_at: Option<i64>) -> Self {
        Self {
            hour: hour_of(ts),
            ts,
            min_remaining: remaining.clone(),
            max_remaining: remaining.clone(),
            remaining,
            limit,
            reset_at,
            count: 1,
        }
    }

    /// Folds `other` (of the same hour) in: the later reading is the last one.
    fn merge(&mut self, other: Bucket) {
        if decimal(&other.min_remaining) < decimal(&self.min_remaining) {
            self.min_remaining = other.min_remaining.clone();
        }
        if decimal(&other.max_remaining) > decimal(&self.max_remaining) {
            self.max_remaining = other.max_remaining.clone();
        }
        self.count += other.count;
        if other.ts >= self.ts {
            self.ts = other.ts;
            self.remaining = other.remaining;
            self.limit = other.limit;
            self.reset_at = other.reset_at;
        }
    }

    fn into_reading(self) -> ReadingRow {
        ReadingRow {
            ts: from_millis(self.ts),
            remaining: decimal(&self.remaining),
            limit: self.limit.as_deref().map(decimal),
            used: None,
            reset: None,
            reset_at: self.reset_at.map(from_millis),
            hourly: Some(HourSummary {
                hour: from_millis(self.hour),
                min_remaining: decimal(&self.min_remaining),
                max_remaining: decimal(&self.max_remaining),
                count: u32::try_from(self.count).unwrap_or(u32::MAX),
            }),
        }
    }
}

const COLUMNS: &str = "hour, ts, remaining, min_remaining, max_remaining, lim, reset_at, count";

impl Store {
    /// Moves every raw reading taken before `before` into hourly rows. `before` is rounded down
    /// to the hour, so an hour is never split between the two tables. Each chunk inserts its
    /// hourly rows and deletes its raw readings in one transaction, so a crash part-way loses
    /// nothing and a second run finds nothing left to do; an hour that already has a row (raw
    /// readings stored late, after their hour was rolled up) is merged into it.
    pub fn roll_up_readings(&self, before: DateTime<Utc>) -> Result<RollUp> {
        let before = hour_of(to_millis(before));
        let mut done = RollUp::default();
        for meter in self.list_meters()? {
            loop {
                let chunk = self.roll_up_chunk(meter.id, before)?;
                if chunk.readings == 0 {
                    break;
                }
                done.readings += chunk.readings;
                done.hours += chunk.hours;
            }
        }
        Ok(done)
    }

    /// Rolls up the oldest week (at most) of one meter's raw readings before `before`.
    fn roll_up_chunk(&self, meter_id: i64, before: i64) -> Result<RollUp> {
        let mut conn = self.conn();
        // Immediate: another process rolling up at the same time waits for this one instead of
        // reading rows this one is about to move.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let oldest: Option<i64> = tx.query_row(
            "SELECT MIN(ts) FROM readings WHERE meter_id = ?1 AND ts < ?2",
            params![meter_id, before],
            |row| row.get(0),
        )?;
        let Some(oldest) = oldest else {
            return Ok(RollUp::default());
        };
        let until = before.min(hour_of(oldest) + CHUNK_MS);
        let mut buckets: Vec<Bucket> = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT ts, remaining, lim, reset_at FROM readings
                 WHERE meter_id = ?1 AND ts < ?2 ORDER BY ts",
            )?;
            let mut rows = stmt.query(params![meter_id, until])?;
            while let Some(row) = rows.next()? {
                let reading = Bucket::reading(row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
                match buckets.last_mut() {
                    Some(bucket) if bucket.hour == reading.hour => bucket.merge(reading),
                    _ => buckets.push(reading),
                }
            }
        }
        let readings = buckets.iter().map(|b| b.count as usize).sum();
        {
            let mut existing = tx.prepare(&format!(
                "SELECT {COLUMNS} FROM readings_hourly WHERE meter_id = ?1 AND hour = ?2"
            ))?;
            let mut write = tx.prepare(&format!(
                "INSERT OR REPLACE INTO readings_hourly (meter_id, {COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ))?;
            for bucket in &mut buckets {
                let earlier = existing
                    .query_row(params![meter_id, bucket.hour], Bucket::from_row)
                    .optional()?;
                if let Some(mut earlier) = earlier {
                    earlier.merge(bucket.clone());
                    *bucket = earlier;
                }
                write.execute(params![
                    meter_id,
                    bucket.hour,
                    bucket.ts,
                    bucket.remaining,
                    bucket.min_remaining,
                    bucket.max_remaining,
                    bucket.limit,
                    bucket.reset_at,
                    bucket.count,
                ])?;
            }
        }
        tx.execute(
            "DELETE FROM readings WHERE meter_id = ?1 AND ts < ?2",
            params![meter_id, until],
        )?;
        tx.commit()?;
        Ok(RollUp {
            readings,
            hours: buckets.len(),
        })
    }

    /// Deletes the hourly rows of the hours before the one `before` falls in. Returns how many.
    pub fn delete_hourly_before(&self, before: DateTime<Utc>) -> Result<usize> {
        Ok(self.conn().execute(
            "DELETE FROM readings_hourly WHERE hour < ?1",
            [hour_of(to_millis(before))],
        )?)
    }

    /// Hourly rows of a meter whose last reading was at or after `since`, oldest first, as
    /// readings (the hour's last one) that carry their [`HourSummary`].
    pub fn hourly_since(&self, meter_id: i64, since: DateTime<Utc>) -> Result<Vec<ReadingRow>> {
        let since = to_millis(since);
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM readings_hourly
             WHERE meter_id = ?1 AND hour >= ?2 AND ts >= ?3 ORDER BY hour"
        ))?;
        let rows = stmt.query_map(params![meter_id, hour_of(since), since], Bucket::from_row)?;
        Ok(rows
            .map(|r| r.map(Bucket::into_reading))
            .collect::<rusqlite::Result<_>>()?)
    }

    /// A meter's whole history since `since`, oldest first: hourly rows where the raw readings
    /// have been rolled up, raw readings after that. Readers that look further back than raw
    /// readings are kept (a chart of 90 days or of everything, an export) read this.
    pub fn history_since(&self, meter_id: i64, since: DateTime<Utc>) -> Result<Vec<ReadingRow>> {
        let mut history = self.hourly_since(meter_id, since)?;
        let raw = self.readings_since(meter_id, since)?;
        // Raw readings stored late for an hour already rolled up would otherwise sit out of order.
        let in_order = match (history.last(), raw.first()) {
            (Some(hourly), Some(first_raw)) => hourly.ts <= first_raw.ts,
            _ => true,
        };
        history.extend(raw);
        if !in_order {
            history.sort_by_key(|r| r.ts);
        }
        Ok(history)
    }

    /// The meter's newest reading, or its newest hourly row when every raw reading has aged out.
    pub fn latest_point(&self, meter_id: i64) -> Result<Option<ReadingRow>> {
        if let Some(raw) = self.latest_reading(meter_id)? {
            return Ok(Some(raw));
        }
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM readings_hourly WHERE meter_id = ?1
                     ORDER BY hour DESC LIMIT 1"
                ),
                [meter_id],
                Bucket::from_row,
            )
            .optional()?
            .map(Bucket::into_reading))
    }

    /// How many hourly rows a meter has, and when the first one's last reading was.
    pub(super) fn hourly_span(&self, meter_id: i64) -> Result<(usize, Option<DateTime<Utc>>)> {
        let (count, first): (i64, Option<i64>) = self.conn().query_row(
            "SELECT COUNT(*), MIN(ts) FROM readings_hourly WHERE meter_id = ?1",
            [meter_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok((
            usize::try_from(count).unwrap_or_default(),
            first.map(from_millis),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{MeterKind, MeterSpec, Reading};
    use crate::store::sources::tests::sample;
    use chrono::{Duration, TimeZone};

    fn reading(remaining: &str) -> Reading {
        Reading {
            meter: MeterSpec {
                name: "credits".into(),
                label: "Credits".into(),
                kind: MeterKind::Balance,
                unit: "USD".into(),
            },
            remaining: Decimal::from_str(remaining).unwrap(),
            limit: Some(Decimal::from(100)),
            used: None,
            reset: None,
            reset_at: None,
        }
    }

    #[test]
    fn an_hour_keeps_its_last_reading_its_lowest_and_highest_and_how_many() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let source = store.add_source(&sample("acct")).unwrap().id;
        let hour = Utc.with_ymd_and_hms(2024, 3, 1, 10, 0, 0).unwrap();
        let at = |minutes| hour + Duration::minutes(minutes);
        store
            .insert_history(
                source,
                &[
                    (at(0), reading("50.10")),
                    (at(15), reading("49.00")),
                    (at(30), reading("80.25")),
                    (at(45), reading("79.90")),
                    (at(60), reading("79.50")),
                ],
            )
            .unwrap();
        let meter = store.list_meters().unwrap()[0].id;

        let done = store.roll_up_readings(at(61)).unwrap();
        assert_eq!(
            done,
            RollUp {
                readings: 4,
                hours: 1
            },
            "the current hour is not rolled up"
        );
        let history = store.history_since(meter, hour).unwrap();
        assert_eq!(history.len(), 2);
        let rolled = &history[0];
        assert_eq!(rolled.ts, at(45), "the hour's last reading");
        assert_eq!(rolled.remaining.to_string(), "79.90", "exact decimals");
        assert_eq!(rolled.limit, Some(Decimal::from(100)));
        let summary = rolled.hourly.as_ref().expect("marked as hourly");
        assert_eq!(summary.hour, hour);
        assert_eq!(summary.min_remaining.to_string(), "49.00");
        assert_eq!(summary.max_remaining.to_string(), "80.25");
        assert_eq!(summary.count, 4);
        assert!(history[1].hourly.is_none(), "the raw reading after it");

        // Readings stored late for that hour join its row instead of making a second one.
        store
            .insert_history(source, &[(at(50), reading("12.5"))])
            .unwrap();
        store.roll_up_readings(at(61)).unwrap();
        let history = store.hourly_since(meter, hour).unwrap();
        assert_eq!(history.len(), 1);
        let summary = history[0].hourly.as_ref().unwrap();
        assert_eq!(
            (summary.count, summary.min_remaining.to_string()),
            (5, "12.5".into())
        );
        assert_eq!(history[0].remaining.to_string(), "12.5", "the later one");
    }

    #[test]
    fn a_meter_whose_raw_readings_all_aged_out_still_has_a_latest_point() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let source = store.add_source(&sample("acct")).unwrap().id;
        let at = Utc.with_ymd_and_hms(2024, 3, 1, 10, 5, 0).unwrap();
        store.insert_reading(source, at, &reading("7")).unwrap();
        let meter = store.list_meters().unwrap()[0].id;
        store.roll_up_readings(at + Duration::days(1)).unwrap();
        assert_eq!(store.latest_reading(meter).unwrap(), None);
        let latest = store.latest_point(meter).unwrap().expect("the hourly row");
        assert_eq!((latest.ts, latest.remaining), (at, Decimal::from(7)));
    }
}
