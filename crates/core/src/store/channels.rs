//! The `channels` table: where alerts are delivered. `config` is the channel's settings as JSON
//! (see `alert::channels::ChannelConfig`); secrets are only referenced from it, never stored.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

use super::{from_millis, to_millis, Result, Store, StoreError};

/// Every database starts with the desktop channel, so that a new install notifies on the
/// desktop without any setting up.
pub(super) const V1: &str = "
CREATE TABLE channels (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);
INSERT INTO channels (name, kind, config, enabled, created_at)
    VALUES ('Desktop', 'desktop', '{\"kind\":\"desktop\"}', 1, 0);";

#[derive(Clone, Debug, PartialEq)]
pub struct ChannelRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub config: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

impl ChannelRow {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            name: row.get(1)?,
            kind: row.get(2)?,
            config: row.get(3)?,
            enabled: row.get(4)?,
            created_at: from_millis(row.get(5)?),
        })
    }
}

const COLUMNS: &str = "id, name, kind, config, enabled, created_at";

impl Store {
    pub fn add_channel(&self, name: &str, kind: &str, config: &str) -> Result<ChannelRow> {
        let inserted = self.conn().execute(
            "INSERT OR IGNORE INTO channels (name, kind, config, enabled, created_at)
             VALUES (?1, ?2, ?3, 1, ?4)",
            params![name, kind, config, to_millis(Utc::now())],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "a channel named \"{name}\" already exists; pick another name or remove it first"
            )));
        }
        self.channel_by_name(name)?
            .ok_or_else(|| StoreError::NotFound(format!("channel \"{name}\" vanished")))
    }

    pub fn list_channels(&self) -> Result<Vec<ChannelRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM channels ORDER BY id"))?;
        let rows = stmt.query_map([], ChannelRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn channel_by_name(&self, name: &str) -> Result<Option<ChannelRow>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM channels WHERE name = ?1"),
                [name],
                ChannelRow::from_row,
            )
            .optional()?)
    }

    pub fn set_channel_enabled(&self, id: i64, enabled: bool) -> Result<()> {
        self.conn().execute(
            "UPDATE channels SET enabled = ?2 WHERE id = ?1",
            params![id, enabled],
        )?;
        Ok(())
    }

    /// Removes the channel and, with it, its undelivered and delivered notices.
    pub fn remove_channel(&self, name: &str) -> Result<ChannelRow> {
        let channel = self
            .channel_by_name(name)?
            .ok_or_else(|| StoreError::NotFound(format!("there is no channel named \"{name}\"")))?;
        self.conn()
            .execute("DELETE FROM channels WHERE id = ?1", [channel.id])?;
        Ok(channel)
    }
}
