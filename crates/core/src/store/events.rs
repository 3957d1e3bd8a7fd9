//! The `events` table: failed requests, with time, status, words, and a redacted body excerpt.

use chrono::{DateTime, Utc};
use rusqlite::{params, Row};

use super::{from_millis, to_millis, Result, Store};
use crate::source::PollFailure;

pub(super) const V1: &str = "
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    ts INTEGER NOT NULL,
    endpoint TEXT NOT NULL,
    status INTEGER,
    message TEXT NOT NULL,
    excerpt TEXT NOT NULL
);
CREATE INDEX events_by_source_time ON events (source_id, ts);";

/// Which failure each event was (see `classify`); older events have none.
pub(super) const V2: &str = "ALTER TABLE events ADD COLUMN class TEXT;";

#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub id: i64,
    pub source_id: i64,
    pub ts: DateTime<Utc>,
    pub endpoint: String,
    pub status: Option<u16>,
    pub message: String,
    pub excerpt: String,
    pub class: Option<String>,
}

impl EventRow {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            source_id: row.get(1)?,
            ts: from_millis(row.get(2)?),
            endpoint: row.get(3)?,
            status: row.get(4)?,
            message: row.get(5)?,
            excerpt: row.get(6)?,
            class: row.get(7)?,
        })
    }
}

impl Store {
    /// Stores a failure. The caller has already redacted it.
    pub fn insert_event(
        &self,
        source_id: i64,
        at: DateTime<Utc>,
        failure: &PollFailure,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO events (source_id, ts, endpoint, status, message, excerpt, class) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                source_id,
                to_millis(at),
                failure.endpoint,
                failure.status,
                failure.message,
                failure.excerpt,
                failure.class.map(|c| c.as_str()),
            ],
        )?;
        Ok(())
    }

    /// Every event since `since`, newest first.
    pub fn events_since(&self, since: DateTime<Utc>) -> Result<Vec<EventRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, source_id, ts, endpoint, status, message, excerpt, class FROM events
             WHERE ts >= ?1 ORDER BY ts DESC, id DESC",
        )?;
        let rows = stmt.query_map(params![to_millis(since)], EventRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The newest events of a source (or of every source), newest first.
    pub fn recent_events(&self, source_id: Option<i64>, limit: usize) -> Result<Vec<EventRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, source_id, ts, endpoint, status, message, excerpt, class FROM events
             WHERE ?1 IS NULL OR source_id = ?1 ORDER BY ts DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![source_id, limit as i64], EventRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
