//! The `alert_settings` table: settings of the alerting as a whole (reminders, quiet hours),
//! kept as text by name so that a new setting needs no migration.

use rusqlite::{params, OptionalExtension};

use super::{Result, Store};

pub(super) const V1: &str = "
CREATE TABLE alert_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);";

impl Store {
    pub fn alert_setting(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT value FROM alert_settings WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Sets (`Some`) or forgets (`None`, back to the built-in) a setting.
    pub fn set_alert_setting(&self, name: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(value) => self.conn().execute(
                "INSERT INTO alert_settings (name, value) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                params![name, value],
            )?,
            None => self
                .conn()
                .execute("DELETE FROM alert_settings WHERE name = ?1", [name])?,
        };
        Ok(())
    }
}
