//! The `sources` table: what to poll, how often, and where its key lives (never the key).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

use super::{from_millis, to_millis, Result, Store, StoreError};
use crate::source::SourceOptions;

pub(super) const V1: &str = "
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    base_url TEXT NOT NULL,
    key_ref TEXT,
    management_key_ref TEXT,
    interval_secs INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_poll_at INTEGER,
    last_ok_at INTEGER,
    last_error TEXT
);";

/// Provider settings besides URL and keys, as a JSON object of strings.
pub(super) const V2: &str = "ALTER TABLE sources ADD COLUMN options TEXT NOT NULL DEFAULT '{}';";

/// How many polls in a row have failed, for the "failing N polls in a row" alert; 0 after a
/// success.
pub(super) const V3: &str =
    "ALTER TABLE sources ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;";

#[derive(Clone, Debug)]
pub struct NewSource {
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub key_ref: Option<String>,
    pub management_key_ref: Option<String>,
    pub interval_secs: u64,
    pub options: SourceOptions,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SourceRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub key_ref: Option<String>,
    pub management_key_ref: Option<String>,
    pub interval_secs: u64,
    pub last_poll_at: Option<DateTime<Utc>>,
    pub last_ok_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub options: SourceOptions,
    /// Polls in a row that have failed (wholly or in part) since the last success.
    pub consecutive_failures: u32,
}

impl SourceRow {
    /// The last poll failed (wholly or in part) and nothing has succeeded since.
    pub fn is_failing(&self) -> bool {
        self.last_error.is_some()
    }

    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            name: row.get(1)?,
            kind: row.get(2)?,
            base_url: row.get(3)?,
            key_ref: row.get(4)?,
            management_key_ref: row.get(5)?,
            interval_secs: row.get::<_, i64>(6)?.max(1) as u64,
            last_poll_at: row.get::<_, Option<i64>>(7)?.map(from_millis),
            last_ok_at: row.get::<_, Option<i64>>(8)?.map(from_millis),
            last_error: row.get(9)?,
            // Written only by this module, from a map; an unreadable value means no options.
            options: serde_json::from_str(&row.get::<_, String>(10)?).unwrap_or_default(),
            consecutive_failures: row.get::<_, i64>(11)?.clamp(0, u32::MAX.into()) as u32,
        })
    }
}

const COLUMNS: &str = "id, name, kind, base_url, key_ref, management_key_ref, interval_secs, last_poll_at, last_ok_at, last_error, options, consecutive_failures";

impl Store {
    pub fn add_source(&self, new: &NewSource) -> Result<SourceRow> {
        let conn = self.conn();
        let inserted = conn.execute(
            "INSERT INTO sources (name, kind, base_url, key_ref, management_key_ref, interval_secs, created_at, options)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                new.name,
                new.kind,
                new.base_url,
                new.key_ref,
                new.management_key_ref,
                new.interval_secs as i64,
                to_millis(Utc::now()),
                serde_json::to_string(&new.options).unwrap_or_else(|_| "{}".into()),
            ],
        );
        match inserted {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(StoreError::Conflict(format!(
                    "a source named \"{}\" already exists",
                    new.name
                )))
            }
            other => other?,
        };
        let id = conn.last_insert_rowid();
        drop(conn);
        self.source_by_id(id)
    }

    pub fn list_sources(&self) -> Result<Vec<SourceRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM sources ORDER BY name"))?;
        let rows = stmt.query_map([], SourceRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn source_by_id(&self, id: i64) -> Result<SourceRow> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM sources WHERE id = ?1"),
                [id],
                SourceRow::from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no source with id {id}")))
    }

    pub fn source_by_name(&self, name: &str) -> Result<Option<SourceRow>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM sources WHERE name = ?1"),
                [name],
                SourceRow::from_row,
            )
            .optional()?)
    }

    /// Removes a source with its meters, readings and events.
    pub fn remove_source(&self, name: &str) -> Result<()> {
        let removed = self
            .conn()
            .execute("DELETE FROM sources WHERE name = ?1", [name])?;
        if removed == 0 {
            return Err(StoreError::NotFound(format!(
                "there is no source named \"{name}\""
            )));
        }
        Ok(())
    }

    /// Records how a poll ended. `error` is `None` when every request succeeded.
    pub fn record_poll(
        &self,
        source_id: i64,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<()> {
        let ms = to_millis(at);
        self.conn().execute(
            "UPDATE sources SET last_poll_at = ?2, last_error = ?3,
                    last_ok_at = CASE WHEN ?3 IS NULL THEN ?2 ELSE last_ok_at END,
                    consecutive_failures = CASE WHEN ?3 IS NULL THEN 0 ELSE consecutive_failures + 1 END
             WHERE id = ?1",
            params![source_id, ms, error],
        )?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample(name: &str) -> NewSource {
        NewSource {
            name: name.into(),
            kind: "openrouter".into(),
            base_url: "http://127.0.0.1:1".into(),
            key_ref: Some("env:OPENROUTER_KEY".into()),
            management_key_ref: None,
            interval_secs: 900,
            options: SourceOptions::new(),
        }
    }

    #[test]
    fn names_are_unique_and_removal_says_when_nothing_matched() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.add_source(&sample("a")).unwrap();
        let dup = store.add_source(&sample("a")).unwrap_err().to_string();
        assert!(dup.contains("already exists"), "{dup}");
        assert!(store
            .remove_source("nope")
            .unwrap_err()
            .to_string()
            .contains("no source named"));
        store.remove_source("a").unwrap();
        assert!(store.list_sources().unwrap().is_empty());
    }

    #[test]
    fn a_failed_poll_keeps_the_last_success_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let s = store.add_source(&sample("a")).unwrap();
        let t1 = Utc::now();
        store.record_poll(s.id, t1, None).unwrap();
        store
            .record_poll(s.id, t1 + chrono::Duration::seconds(5), Some("down"))
            .unwrap();
        let s = store.source_by_id(s.id).unwrap();
        assert_eq!(
            s.last_ok_at.unwrap().timestamp_millis(),
            t1.timestamp_millis()
        );
        assert!(s.is_failing());
        assert_eq!(s.consecutive_failures, 1);
        store
            .record_poll(s.id, t1 + chrono::Duration::seconds(9), Some("down"))
            .unwrap();
        assert_eq!(store.source_by_id(s.id).unwrap().consecutive_failures, 2);
        store
            .record_poll(s.id, t1 + chrono::Duration::seconds(20), None)
            .unwrap();
        assert_eq!(store.source_by_id(s.id).unwrap().consecutive_failures, 0);
    }
}
