//! The local SQLite store: one module per table, each with its own migration.

pub mod alert_rules;
pub mod alert_settings;
pub mod alerts;
pub mod backup;
pub mod channels;
pub mod deliveries;
pub mod events;
pub mod meters;
pub mod readings;
pub mod readings_hourly;
pub mod sources;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;

pub use alert_rules::RuleSetting;
pub use alerts::{AlertRow, AlertState, NewAlert, Severity};
pub use channels::ChannelRow;
pub use deliveries::{DeliveryKind, DeliveryRow, DeliveryState, NewDelivery};
pub use events::EventRow;
pub use meters::MeterRow;
pub use readings::ReadingRow;
pub use readings_hourly::{HourSummary, RollUp};
pub use sources::{NewSource, SourceRow};

pub const DB_FILE: &str = "headroom.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Migrations in the order they were written; a database records how many it has applied in
/// `PRAGMA user_version`, so each runs once.
const MIGRATIONS: &[&str] = &[
    sources::V1,
    meters::V1,
    readings::V1,
    events::V1,
    events::V2,
    sources::V2,
    alerts::V1,
    sources::V3,
    alerts::V2,
    alert_rules::V1,
    alert_settings::V1,
    channels::V1,
    deliveries::V1,
    events::V3,
    readings_hourly::V1,
];

pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self> {
        let open_err = |reason: String| StoreError::Open {
            path: data_dir.join(DB_FILE),
            reason,
        };
        std::fs::create_dir_all(data_dir).map_err(|e| open_err(e.to_string()))?;
        let path = data_dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(|e| open_err(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| open_err(format!("{e} (is it a Headroom database?)")))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        migrate(&conn).map_err(|e| open_err(e.to_string()))?;
        Ok(Self {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// A store that lives only as long as this process: used when the database file cannot be
    /// opened, so that the app still runs and can say what is wrong.
    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            path: PathBuf::from(":memory:"),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection itself intact.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let applied: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}

pub(crate) fn to_millis(ts: DateTime<Utc>) -> i64 {
    ts.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopening_keeps_data_and_does_not_rerun_migrations() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.add_source(&sources::tests::sample("x")).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.list_sources().unwrap().len(), 1);
    }

    /// A database written by the first release (sources, meters, readings, events, nothing else)
    /// opens with today's code, keeps every row, and gains the newer columns with their defaults.
    #[test]
    fn a_database_from_the_first_schema_upgrades_and_keeps_its_data() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
            for sql in &MIGRATIONS[..4] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
            conn.execute_batch(
                "INSERT INTO sources (id, name, kind, base_url, key_ref, interval_secs, created_at)
                     VALUES (1, 'prod', 'openrouter', 'https://openrouter.ai', 'env:KEY', 900, 0);
                 INSERT INTO meters (id, source_id, name, label, kind, unit)
                     VALUES (1, 1, 'key_limit', 'Key limit', 'budget', 'USD');
                 INSERT INTO readings (meter_id, ts, remaining, lim) VALUES (1, 1000, '74.5', '100');
                 INSERT INTO events (source_id, ts, endpoint, status, message, excerpt)
                     VALUES (1, 2000, '/api/v1/key', 402, 'Insufficient credits', '{}');",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let source = store
            .source_by_name("prod")
            .unwrap()
            .expect("the source survives");
        assert!(source.options.is_empty());
        let reading = store
            .latest_reading(1)
            .unwrap()
            .expect("the reading survives");
        assert_eq!(reading.remaining.to_string(), "74.5");
        let events = store.recent_events(Some(1), 5).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].class, None, "old events have no class");
        let version: usize = store
            .conn()
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len());
    }

    /// Events stored before they kept their evidence survive the upgrade, read as a poll's, and
    /// the new columns are empty rather than made up.
    #[test]
    fn events_from_before_the_evidence_columns_upgrade_as_poll_events() {
        let dir = tempfile::tempdir().unwrap();
        let before = MIGRATIONS
            .iter()
            .position(|m| *m == events::V3)
            .expect("the evidence migration is listed");
        {
            let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
            for sql in &MIGRATIONS[..before] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", before).unwrap();
            conn.execute_batch(
                "INSERT INTO sources (id, name, kind, base_url, key_ref, interval_secs, created_at)
                     VALUES (1, 'prod', 'openrouter', 'https://openrouter.ai', 'env:KEY', 900, 0);
                 INSERT INTO events (source_id, ts, endpoint, status, message, excerpt, class)
                     VALUES (1, 2000, '/api/v1/key', 402, 'Insufficient credits', '{}', 'credits_exhausted');",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let events = store.recent_events(Some(1), 5).unwrap();
        assert_eq!(events.len(), 1);
        let old = &events[0];
        assert_eq!(old.class.as_deref(), Some("credits_exhausted"));
        assert_eq!(old.origin, crate::source::EventOrigin::Poll);
        assert_eq!((old.method.as_deref(), old.url.as_deref()), (None, None));
        assert!(old.headers.is_empty() && old.external_id.is_none());
    }

    /// A database from before the hourly roll-ups gains their table, and its old readings roll up.
    #[test]
    fn readings_from_before_the_hourly_table_upgrade_and_roll_up() {
        let dir = tempfile::tempdir().unwrap();
        let before = MIGRATIONS
            .iter()
            .position(|m| *m == readings_hourly::V1)
            .expect("the hourly migration is listed");
        {
            let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
            for sql in &MIGRATIONS[..before] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", before).unwrap();
            conn.execute_batch(
                "INSERT INTO sources (id, name, kind, base_url, key_ref, interval_secs, created_at)
                     VALUES (1, 'prod', 'openrouter', 'https://openrouter.ai', 'env:KEY', 900, 0);
                 INSERT INTO meters (id, source_id, name, label, kind, unit)
                     VALUES (1, 1, 'key_limit', 'Key limit', 'budget', 'USD');
                 INSERT INTO readings (meter_id, ts, remaining, lim) VALUES (1, 1000, '74.5', '100');
                 INSERT INTO readings (meter_id, ts, remaining, lim) VALUES (1, 2000, '74.25', '100');",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let done = store.roll_up_readings(from_millis(3_600_000)).unwrap();
        assert_eq!((done.readings, done.hours), (2, 1));
        let history = store.history_since(1, from_millis(0)).unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].remaining.to_string(), "74.25");
        assert_eq!(history[0].hourly.as_ref().map(|h| h.count), Some(2));
    }

    #[test]
    fn a_file_that_is_not_a_database_gives_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(DB_FILE),
            b"this is not sqlite at all, just text....",
        )
        .unwrap();
        let err = Store::open(dir.path())
            .err()
            .expect("must fail")
            .to_string();
        assert!(err.contains("cannot open the database"), "{err}");
        // The file is left as it was for the person to inspect.
        assert!(std::fs::read(dir.path().join(DB_FILE))
            .unwrap()
            .starts_with(b"this is not"));
    }
}
