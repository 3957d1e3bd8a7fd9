//! The `meters` table: each quantity a source reports, created the first time it is read.

use rusqlite::{params, OptionalExtension, Row};

use super::{Result, Store, StoreError};
use crate::source::{MeterKind, MeterSpec};

pub(super) const V1: &str = "
CREATE TABLE meters (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit TEXT NOT NULL,
    UNIQUE (source_id, name)
);";

#[derive(Clone, Debug, PartialEq)]
pub struct MeterRow {
    pub id: i64,
    pub source_id: i64,
    pub name: String,
    pub label: String,
    pub kind: MeterKind,
    pub unit: String,
}

impl MeterRow {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            source_id: row.get(1)?,
            name: row.get(2)?,
            label: row.get(3)?,
            kind: MeterKind::parse(&row.get::<_, String>(4)?).unwrap_or(MeterKind::Balance),
            unit: row.get(5)?,
        })
    }
}

const COLUMNS: &str = "id, source_id, name, label, kind, unit";

impl Store {
    /// The meter's id, creating the row on first sight and refreshing its label and unit.
    pub fn upsert_meter(&self, source_id: i64, spec: &MeterSpec) -> Result<i64> {
        Ok(self.conn().query_row(
            "INSERT INTO meters (source_id, name, label, kind, unit) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (source_id, name) DO UPDATE SET label = excluded.label, kind = excluded.kind, unit = excluded.unit
             RETURNING id",
            params![source_id, spec.name, spec.label, spec.kind.as_str(), spec.unit],
            |row| row.get(0),
        )?)
    }

    pub fn list_meters(&self) -> Result<Vec<MeterRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM meters ORDER BY source_id, name"
        ))?;
        let rows = stmt.query_map([], MeterRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn meter(&self, id: i64) -> Result<MeterRow> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM meters WHERE id = ?1"),
                [id],
                MeterRow::from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("there is no meter with id {id}")))
    }
}
