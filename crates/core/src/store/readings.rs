//! The `readings` table: the history of every meter. Amounts are stored as exact decimal text.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use rust_decimal::Decimal;

use super::{from_millis, to_millis, HourSummary, Result, Store};
use crate::source::Reading;

pub(super) const V1: &str = "
CREATE TABLE readings (
    meter_id INTEGER NOT NULL REFERENCES meters(id) ON DELETE CASCADE,
    ts INTEGER NOT NULL,
    remaining TEXT NOT NULL,
    lim TEXT,
    used TEXT,
    reset TEXT,
    reset_at INTEGER
);
CREATE INDEX readings_by_meter_time ON readings (meter_id, ts);";

#[derive(Clone, Debug, PartialEq)]
pub struct ReadingRow {
    pub ts: DateTime<Utc>,
    pub remaining: Decimal,
    pub limit: Option<Decimal>,
    pub used: Option<Decimal>,
    pub reset: Option<String>,
    pub reset_at: Option<DateTime<Utc>>,
    /// Set when this is an hour of older readings rolled up into one (see `readings_hourly`):
    /// the fields above are then the hour's last reading.
    pub hourly: Option<HourSummary>,
}

fn decimal(text: Option<String>) -> Option<Decimal> {
    text.and_then(|t| Decimal::from_str(&t).ok())
}

impl ReadingRow {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            ts: from_millis(row.get(0)?),
            remaining: decimal(row.get(1)?).unwrap_or_default(),
            limit: decimal(row.get(2)?),
            used: decimal(row.get(3)?),
            reset: row.get(4)?,
            reset_at: row.get::<_, Option<i64>>(5)?.map(from_millis),
            hourly: None,
        })
    }
}

const COLUMNS: &str = "ts, remaining, lim, used, reset, reset_at";

impl Store {
    /// Stores one reading for `source_id`, creating its meter on first sight.
    pub fn insert_reading(
        &self,
        source_id: i64,
        at: DateTime<Utc>,
        reading: &Reading,
    ) -> Result<i64> {
        let meter_id = self.upsert_meter(source_id, &reading.meter)?;
        self.conn().execute(
            &format!(
                "INSERT INTO readings (meter_id, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ),
            params![
                meter_id,
                to_millis(at),
                reading.remaining.to_string(),
                reading.limit.map(|d| d.to_string()),
                reading.used.map(|d| d.to_string()),
                reading.reset,
                reading.reset_at.map(to_millis),
            ],
        )?;
        Ok(meter_id)
    }

    /// Many readings of one meter in one transaction (history backfill).
    pub fn insert_history(
        &self,
        source_id: i64,
        history: &[(DateTime<Utc>, Reading)],
    ) -> Result<()> {
        let Some((_, first)) = history.first() else {
            return Ok(());
        };
        let meter_id = self.upsert_meter(source_id, &first.meter)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare(&format!(
                "INSERT INTO readings (meter_id, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?;
            for (at, r) in history {
                stmt.execute(params![
                    meter_id,
                    to_millis(*at),
                    r.remaining.to_string(),
                    r.limit.map(|d| d.to_string()),
                    r.used.map(|d| d.to_string()),
                    r.reset,
                    r.reset_at.map(to_millis),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn latest_reading(&self, meter_id: i64) -> Result<Option<ReadingRow>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM readings WHERE meter_id = ?1 ORDER BY ts DESC LIMIT 1"
                ),
                [meter_id],
                ReadingRow::from_row,
            )
            .optional()?)
    }

    /// Readings of a meter since `since`, oldest first.
    pub fn readings_since(&self, meter_id: i64, since: DateTime<Utc>) -> Result<Vec<ReadingRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM readings WHERE meter_id = ?1 AND ts >= ?2 ORDER BY ts"
        ))?;
        let rows = stmt.query_map(params![meter_id, to_millis(since)], ReadingRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many points a meter's history holds (raw readings and rolled-up hours, as a chart of
    /// everything draws them), and when the first was taken.
    pub fn reading_span(&self, meter_id: i64) -> Result<(usize, Option<DateTime<Utc>>)> {
        let (count, first): (i64, Option<i64>) = self.conn().query_row(
            "SELECT COUNT(*), MIN(ts) FROM readings WHERE meter_id = ?1",
            [meter_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let (hours, first_hour) = self.hourly_span(meter_id)?;
        let first = first.map(from_millis);
        Ok((
            usize::try_from(count).unwrap_or_default() + hours,
            first_hour.into_iter().chain(first).min(),
        ))
    }
}
