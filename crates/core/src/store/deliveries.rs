//! The `deliveries` table: the outbox. A notice to send is written in the same transaction as
//! the alert change that causes it, so a crash can delay a notice but never lose it; a notice
//! is marked sent only after its channel accepted it.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Row, Transaction};
use serde::Serialize;

use super::{from_millis, to_millis, Result, Store};

pub(super) const V1: &str = "
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER REFERENCES alerts(id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    sent_at INTEGER,
    last_error TEXT
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_by_alert ON deliveries (alert_id);";

/// Why a notice goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub enum DeliveryKind {
    Fired,
    Reminder,
    Resolved,
}

/// Where a notice is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub enum DeliveryState {
    /// Waiting for its time (a retry, the end of quiet hours) or for a channel to take it.
    Pending,
    Sent,
    /// Given up after retrying for too long; `last_error` says why.
    Failed,
    /// No longer news: acknowledged, snoozed, or resolved before it went out.
    Dropped,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident = $text:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
        }
        impl rusqlite::types::FromSql for $ty {
            fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                match value.as_str()? {
                    $($text => Ok(Self::$variant),)*
                    other => Err(rusqlite::types::FromSqlError::Other(
                        format!("unknown {} {other:?}", stringify!($ty)).into(),
                    )),
                }
            }
        }
    };
}

text_enum!(DeliveryKind { Fired = "fired", Reminder = "reminder", Resolved = "resolved" });
text_enum!(DeliveryState { Pending = "pending", Sent = "sent", Failed = "failed", Dropped = "dropped" });

/// A notice to queue for one channel, not before `not_before`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewDelivery {
    pub channel_id: i64,
    pub kind: DeliveryKind,
    pub not_before: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryRow {
    pub id: i64,
    pub alert_id: Option<i64>,
    pub channel_id: i64,
    pub kind: DeliveryKind,
    pub state: DeliveryState,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Someone is sending it until then (this process or another on the same database).
    pub lease_until: Option<DateTime<Utc>>,
}

impl DeliveryRow {
    /// When it may next be tried.
    pub fn due_at(&self) -> DateTime<Utc> {
        self.lease_until.map_or(self.next_attempt_at, |lease| {
            lease.max(self.next_attempt_at)
        })
    }
}

impl DeliveryRow {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            alert_id: row.get(1)?,
            channel_id: row.get(2)?,
            kind: row.get(3)?,
            state: row.get(4)?,
            attempts: row.get(5)?,
            created_at: from_millis(row.get(6)?),
            next_attempt_at: from_millis(row.get(7)?),
            sent_at: row.get::<_, Option<i64>>(8)?.map(from_millis),
            last_error: row.get(9)?,
            lease_until: row.get::<_, Option<i64>>(10)?.map(from_millis),
        })
    }
}

const COLUMNS: &str = "id, alert_id, channel_id, kind, state, attempts, created_at,
    next_attempt_at, sent_at, last_error, lease_until";

/// Queues notices inside a transaction the caller owns (the alert change that causes them).
pub(super) fn enqueue(
    tx: &Transaction,
    alert_id: Option<i64>,
    now: DateTime<Utc>,
    deliveries: &[NewDelivery],
) -> rusqlite::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(deliveries.len());
    for d in deliveries {
        ids.push(tx.query_row(
            "INSERT INTO deliveries (alert_id, channel_id, kind, state, created_at, next_attempt_at)
             VALUES (?1, ?2, ?3, 'pending', ?4, ?5) RETURNING id",
            params![
                alert_id,
                d.channel_id,
                d.kind.as_str(),
                to_millis(now),
                to_millis(d.not_before)
            ],
            |row| row.get(0),
        )?);
    }
    Ok(ids)
}

/// Drops an alert's notices that have not gone out, saying why.
pub(super) fn drop_pending(
    tx: &Transaction,
    alert_id: i64,
    kinds: &[DeliveryKind],
    reason: &str,
) -> rusqlite::Result<usize> {
    let mut dropped = 0;
    for kind in kinds {
        dropped += tx.execute(
            "UPDATE deliveries SET state = 'dropped', last_error = ?3
             WHERE alert_id = ?1 AND kind = ?2 AND state = 'pending'",
            params![alert_id, kind.as_str(), reason],
        )?;
    }
    Ok(dropped)
}

impl Store {
    /// Every notice not yet sent, dropped or given up on, oldest first. The outbox stays small:
    /// notices leave it as soon as a channel takes them.
    pub fn pending_deliveries(&self) -> Result<Vec<DeliveryRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM deliveries WHERE state = 'pending' ORDER BY next_attempt_at, id"
        ))?;
        let rows = stmt.query_map([], DeliveryRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Takes a notice for sending. Only one process wins a notice: the app and a `headroom poll`
    /// on the same database never both send it.
    pub fn claim_delivery(&self, id: i64, now: DateTime<Utc>, lease: Duration) -> Result<bool> {
        let claimed = self.conn().execute(
            "UPDATE deliveries SET lease_until = ?3, attempts = attempts + 1
             WHERE id = ?1 AND state = 'pending' AND (lease_until IS NULL OR lease_until <= ?2)",
            params![id, to_millis(now), to_millis(now + lease)],
        )?;
        Ok(claimed == 1)
    }

    pub fn mark_delivery_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "UPDATE deliveries SET state = 'sent', sent_at = ?2, lease_until = NULL, last_error = NULL
             WHERE id = ?1",
            params![id, to_millis(at)],
        )?;
        Ok(())
    }

    /// Records a failed attempt: `retry_at` schedules another, `None` gives up.
    pub fn mark_delivery_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        match retry_at {
            Some(at) => self.conn().execute(
                "UPDATE deliveries SET next_attempt_at = ?2, lease_until = NULL, last_error = ?3
                 WHERE id = ?1",
                params![id, to_millis(at), error],
            )?,
            None => self.conn().execute(
                "UPDATE deliveries SET state = 'failed', lease_until = NULL, last_error = ?2
                 WHERE id = ?1",
                params![id, error],
            )?,
        };
        Ok(())
    }

    /// Drops one pending notice that can no longer go out, saying why.
    pub fn drop_delivery(&self, id: i64, reason: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE deliveries SET state = 'dropped', lease_until = NULL, last_error = ?2
             WHERE id = ?1 AND state = 'pending'",
            params![id, reason],
        )?;
        Ok(())
    }

    pub fn delivery(&self, id: i64) -> Result<Option<DeliveryRow>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM deliveries WHERE id = ?1"),
                [id],
                DeliveryRow::from_row,
            )
            .optional()?)
    }

    /// Every notice, oldest first.
    pub fn list_deliveries(&self) -> Result<Vec<DeliveryRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM deliveries ORDER BY id"))?;
        let rows = stmt.query_map([], DeliveryRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
