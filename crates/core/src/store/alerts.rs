//! The `alerts` table: one row per episode, from the moment a rule fires for a meter or a
//! source until its condition clears.

use chrono::{DateTime, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{params, Row};
use serde::Serialize;

use super::deliveries::{self, DeliveryKind, NewDelivery};
use super::{from_millis, to_millis, Result, Store, StoreError};

/// At most one open (not resolved) episode per subject and rule: the unique index makes a second
/// `fire_alert` a no-op even when two polls evaluate at the same moment. `meter_id` is NULL for
/// source-wide rules, hence `IFNULL`, since NULLs never collide in a unique index.
pub(super) const V1: &str = "
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    meter_id INTEGER REFERENCES meters(id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    fired_at INTEGER NOT NULL,
    resolved_at INTEGER,
    message TEXT NOT NULL
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (source_id, IFNULL(meter_id, 0), rule)
    WHERE state != 'resolved';
CREATE INDEX alerts_by_time ON alerts (fired_at);";

/// A person can acknowledge or snooze an episode; reminders need to know when it last went out.
pub(super) const V2: &str = "
ALTER TABLE alerts ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE alerts ADD COLUMN snoozed_until INTEGER;
ALTER TABLE alerts ADD COLUMN last_notified_at INTEGER;";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub enum Severity {
    Warn,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub enum AlertState {
    Firing,
    Resolved,
    /// Seen by a person and still open: it stays out of the way but resolves like a firing one.
    Acknowledged,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
            AlertState::Acknowledged => "acknowledged",
        }
    }
}

impl FromSql for Severity {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value.as_str()? {
            "warn" => Ok(Severity::Warn),
            "critical" => Ok(Severity::Critical),
            other => Err(FromSqlError::Other(
                format!("unknown alert severity {other:?}").into(),
            )),
        }
    }
}

impl FromSql for AlertState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value.as_str()? {
            "firing" => Ok(AlertState::Firing),
            "resolved" => Ok(AlertState::Resolved),
            "acknowledged" => Ok(AlertState::Acknowledged),
            other => Err(FromSqlError::Other(
                format!("unknown alert state {other:?}").into(),
            )),
        }
    }
}

/// An episode about to fire.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAlert {
    pub source_id: i64,
    pub meter_id: Option<i64>,
    pub rule: String,
    pub severity: Severity,
    pub fired_at: DateTime<Utc>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AlertRow {
    pub id: i64,
    pub source_id: i64,
    pub meter_id: Option<i64>,
    pub rule: String,
    pub severity: Severity,
    pub state: AlertState,
    pub fired_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub message: String,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub last_notified_at: Option<DateTime<Utc>>,
}

impl AlertRow {
    /// Snoozed at `now`: no reminders, and its notices wait.
    pub fn snoozed(&self, now: DateTime<Utc>) -> bool {
        self.snoozed_until.is_some_and(|until| until > now)
    }

    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            source_id: row.get(1)?,
            meter_id: row.get(2)?,
            rule: row.get(3)?,
            severity: row.get(4)?,
            state: row.get(5)?,
            fired_at: from_millis(row.get(6)?),
            resolved_at: row.get::<_, Option<i64>>(7)?.map(from_millis),
            message: row.get(8)?,
            acknowledged_at: row.get::<_, Option<i64>>(9)?.map(from_millis),
            snoozed_until: row.get::<_, Option<i64>>(10)?.map(from_millis),
            last_notified_at: row.get::<_, Option<i64>>(11)?.map(from_millis),
        })
    }
}

const COLUMNS: &str =
    "id, source_id, meter_id, rule, severity, state, fired_at, resolved_at, message,
    acknowledged_at, snoozed_until, last_notified_at";

impl Store {
    /// Opens an episode unless one is already open for the same subject and rule, queueing its
    /// notices in the same transaction. Returns the new episode's id.
    pub fn fire_alert(&self, new: &NewAlert, notices: &[NewDelivery]) -> Result<Option<i64>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO alerts
                 (source_id, meter_id, rule, severity, state, fired_at, message, last_notified_at)
             VALUES (?1, ?2, ?3, ?4, 'firing', ?5, ?6, ?5)",
            params![
                new.source_id,
                new.meter_id,
                new.rule,
                new.severity.as_str(),
                to_millis(new.fired_at),
                new.message,
            ],
        )?;
        if inserted == 0 {
            return Ok(None);
        }
        let id = tx.last_insert_rowid();
        deliveries::enqueue(&tx, Some(id), new.fired_at, notices)?;
        tx.commit()?;
        Ok(Some(id))
    }

    /// Closes an open episode; an episode already resolved keeps its first resolution time.
    /// Notices about it that have not gone out are dropped, and every channel that was told it
    /// fired is told it is over (not before `not_before`: quiet hours).
    pub fn resolve_alert(
        &self,
        id: i64,
        at: DateTime<Utc>,
        not_before: DateTime<Utc>,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE alerts SET state = 'resolved', resolved_at = ?2
             WHERE id = ?1 AND state != 'resolved'",
            params![id, to_millis(at)],
        )?;
        if changed == 0 {
            return Ok(false);
        }
        deliveries::drop_pending(
            &tx,
            id,
            &[DeliveryKind::Fired, DeliveryKind::Reminder],
            "resolved before it went out",
        )?;
        let told: Vec<i64> = {
            let mut stmt = tx.prepare(
                "SELECT DISTINCT channel_id FROM deliveries
                 WHERE alert_id = ?1 AND state = 'sent' AND kind IN ('fired', 'reminder')",
            )?;
            let rows = stmt.query_map([id], |row| row.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let notices: Vec<NewDelivery> = told
            .into_iter()
            .map(|channel_id| NewDelivery {
                channel_id,
                kind: DeliveryKind::Resolved,
                not_before,
            })
            .collect();
        deliveries::enqueue(&tx, Some(id), at, &notices)?;
        tx.commit()?;
        Ok(true)
    }

    /// Queues a reminder for a still-open episode and records when it was last notified.
    pub fn remind_alert(&self, id: i64, at: DateTime<Utc>, notices: &[NewDelivery]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE alerts SET last_notified_at = ?2 WHERE id = ?1",
            params![id, to_millis(at)],
        )?;
        deliveries::enqueue(&tx, Some(id), at, notices)?;
        tx.commit()?;
        Ok(())
    }

    /// A person has seen it: no reminders, and notices not yet sent are dropped. It still
    /// resolves by itself when its condition clears.
    pub fn acknowledge_alert(&self, id: i64, at: DateTime<Utc>) -> Result<AlertRow> {
        let alert = self.open_alert(id)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE alerts SET state = 'acknowledged', acknowledged_at = ?2 WHERE id = ?1",
            params![id, to_millis(at)],
        )?;
        deliveries::drop_pending(
            &tx,
            id,
            &[DeliveryKind::Fired, DeliveryKind::Reminder],
            "acknowledged before it went out",
        )?;
        tx.commit()?;
        drop(conn);
        Ok(AlertRow {
            state: AlertState::Acknowledged,
            acknowledged_at: Some(at),
            ..alert
        })
    }

    /// Quiet until `until`: no reminders, and notices not yet sent are dropped.
    pub fn snooze_alert(&self, id: i64, until: DateTime<Utc>) -> Result<AlertRow> {
        let alert = self.open_alert(id)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE alerts SET snoozed_until = ?2 WHERE id = ?1",
            params![id, to_millis(until)],
        )?;
        deliveries::drop_pending(
            &tx,
            id,
            &[DeliveryKind::Fired, DeliveryKind::Reminder],
            "snoozed before it went out",
        )?;
        tx.commit()?;
        drop(conn);
        Ok(AlertRow {
            snoozed_until: Some(until),
            ..alert
        })
    }

    pub fn alert(&self, id: i64) -> Result<AlertRow> {
        use rusqlite::OptionalExtension;
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"),
                [id],
                AlertRow::from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("there is no alert with id {id}")))
    }

    fn open_alert(&self, id: i64) -> Result<AlertRow> {
        let alert = self.alert(id)?;
        if alert.state == AlertState::Resolved {
            return Err(StoreError::Conflict(format!(
                "alert {id} is already resolved; there is nothing to acknowledge or snooze"
            )));
        }
        Ok(alert)
    }

    /// Episodes not yet resolved (firing or acknowledged), oldest first.
    pub fn open_alerts(&self) -> Result<Vec<AlertRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM alerts WHERE state != 'resolved' ORDER BY fired_at, id"
        ))?;
        let rows = stmt.query_map([], AlertRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every episode, newest first.
    pub fn list_alerts(&self) -> Result<Vec<AlertRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM alerts ORDER BY fired_at DESC, id DESC"
        ))?;
        let rows = stmt.query_map([], AlertRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sources::tests::sample;

    #[test]
    fn only_one_episode_is_open_per_subject_and_rule() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let s = store.add_source(&sample("a")).unwrap();
        let new = NewAlert {
            source_id: s.id,
            meter_id: None,
            rule: "source_failing".into(),
            severity: Severity::Warn,
            fired_at: Utc::now(),
            message: "down".into(),
        };
        assert!(store.fire_alert(&new, &[]).unwrap().is_some());
        assert!(store.fire_alert(&new, &[]).unwrap().is_none());
        let open = store.open_alerts().unwrap();
        assert_eq!(open.len(), 1);
        store
            .resolve_alert(open[0].id, Utc::now(), Utc::now())
            .unwrap();
        // Resolved, the rule is armed again.
        assert!(store.fire_alert(&new, &[]).unwrap().is_some());
        let all = store.list_alerts().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].state, AlertState::Resolved);
        assert_eq!(all[0].state, AlertState::Firing);
    }
}
