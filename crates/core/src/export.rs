//! Every stored reading as CSV or JSON, for spreadsheets and scripts. Keys and key references are
//! never part of it: only what was read.
//!
//! Readings older than the raw retention (see `retention`) survive as one row per hour; those
//! are exported too, marked `hourly`, so an export always holds all the history there is.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::{Store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
    #[error("cannot encode the export: {0}")]
    Encode(#[from] serde_json::Error),
}

/// One exported reading. Amounts stay exact decimal text.
#[derive(Debug, Serialize)]
pub struct ExportRow {
    pub source: String,
    pub provider: String,
    pub meter: String,
    pub unit: String,
    pub ts: DateTime<Utc>,
    pub remaining: String,
    pub limit: Option<String>,
    pub used: Option<String>,
    pub reset_at: Option<DateTime<Utc>>,
    /// `raw` for a reading as it was taken; `hourly` for an hour of older readings rolled up
    /// into one, whose `ts`, `remaining` and `limit` are the hour's last reading.
    pub resolution: &'static str,
    /// For an hourly row: the lowest and highest remaining in the hour, and how many readings
    /// it held.
    pub min_remaining: Option<String>,
    pub max_remaining: Option<String>,
    pub count: Option<u32>,
}

/// The first nine columns are those of exports before roll-ups, so that scripts reading them
/// by position keep working.
const CSV_HEADER: &str = "source,provider,meter,unit,ts,remaining,limit,used,reset_at,resolution,min_remaining,max_remaining,count";

/// Writes every reading (and hourly row) of every meter, oldest first per meter. Returns how
/// many rows were written.
pub fn export(store: &Store, format: Format, out: &mut dyn Write) -> Result<usize, ExportError> {
    let sources = store.list_sources()?;
    let mut rows = Vec::new();
    for meter in store.list_meters()? {
        let Some(source) = sources.iter().find(|s| s.id == meter.source_id) else {
            continue;
        };
        for r in store.history_since(meter.id, DateTime::<Utc>::MIN_UTC)? {
            let hourly = r.hourly.as_ref();
            rows.push(ExportRow {
                source: source.name.clone(),
                provider: source.kind.clone(),
                meter: meter.name.clone(),
                unit: meter.unit.clone(),
                ts: r.ts,
                remaining: r.remaining.to_string(),
                limit: r.limit.map(|d| d.to_string()),
                used: r.used.map(|d| d.to_string()),
                reset_at: r.reset_at,
                resolution: if hourly.is_some() { "hourly" } else { "raw" },
                min_remaining: hourly.map(|h| h.min_remaining.to_string()),
                max_remaining: hourly.map(|h| h.max_remaining.to_string()),
                count: hourly.map(|h| h.count),
            });
        }
    }
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)?;
        }
        Format::Csv => {
            writeln!(out, "{CSV_HEADER}")?;
            for r in &rows {
                let fields = [
                    csv_field(&r.source),
                    csv_field(&r.provider),
                    csv_field(&r.meter),
                    csv_field(&r.unit),
                    r.ts.to_rfc3339(),
                    r.remaining.clone(),
                    r.limit.clone().unwrap_or_default(),
                    r.used.clone().unwrap_or_default(),
                    r.reset_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    r.resolution.to_string(),
                    r.min_remaining.clone().unwrap_or_default(),
                    r.max_remaining.clone().unwrap_or_default(),
                    r.count.map(|c| c.to_string()).unwrap_or_default(),
                ];
                writeln!(out, "{}", fields.join(","))?;
            }
        }
    }
    Ok(rows.len())
}

/// Quotes a field that a spreadsheet would otherwise split or misread.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{MeterKind, MeterSpec, Reading};
    use crate::store::sources::tests::sample;
    use std::str::FromStr;

    #[test]
    fn readings_export_exactly_and_without_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut new = sample("team, \"prod\"");
        new.key_ref = Some("env:SECRET_KEY_VAR".into());
        let source = store.add_source(&new).unwrap();
        let reading = Reading {
            meter: MeterSpec {
                name: "credits".into(),
                label: "Account credits".into(),
                kind: MeterKind::Balance,
                unit: "USD".into(),
            },
            remaining: rust_decimal::Decimal::from_str("74.50").unwrap(),
            limit: None,
            used: None,
            reset: None,
            reset_at: None,
        };
        store
            .insert_reading(source.id, Utc::now(), &reading)
            .unwrap();

        let mut csv = Vec::new();
        assert_eq!(export(&store, Format::Csv, &mut csv).unwrap(), 1);
        let csv = String::from_utf8(csv).unwrap();
        let line = csv.lines().nth(1).unwrap();
        assert!(
            line.starts_with("\"team, \"\"prod\"\"\",openrouter,credits,USD,"),
            "{line}"
        );
        assert!(line.contains(",74.50,"), "the amount stays exact: {line}");

        let mut json = Vec::new();
        export(&store, Format::Json, &mut json).unwrap();
        let json = String::from_utf8(json).unwrap();
        assert!(json.contains("\"remaining\": \"74.50\""), "{json}");
        assert!(!csv.contains("SECRET_KEY_VAR") && !json.contains("SECRET_KEY_VAR"));
    }
}
