//! How fast readings go into the database: 10,000 readings of one meter through `Store` (the
//! batched path the backfill and the demo use, `insert_history`, one transaction; and the
//! poller's path, `insert_reading`, one transaction each), against bare rusqlite inserting the
//! same rows into an equivalent table (same schema, index, pragmas) in one transaction with one
//! prepared statement. Each iteration starts from a fresh database file. The goal (docs/
//! performance.md) is that the batched path keeps at least 60% of the bare rate.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use headroom_core::source::{MeterKind, MeterSpec, Reading};
use headroom_core::store::{NewSource, Store};
use rusqlite::{params, Connection};
use rust_decimal::Decimal;
use tempfile::TempDir;

const READINGS: usize = 10_000;

fn rows() -> Vec<(DateTime<Utc>, Reading)> {
    let start = Utc::now() - Duration::days(120);
    (0..READINGS)
        .map(|n| {
            let reading = Reading {
                meter: MeterSpec {
                    name: "key_limit".into(),
                    label: "Key limit".into(),
                    kind: MeterKind::Budget,
                    unit: "USD".into(),
                },
                remaining: Decimal::new(1_000_000 - n as i64 * 7, 2),
                limit: Some(Decimal::from(10_000)),
                used: Some(Decimal::new(n as i64 * 7, 2)),
                reset: Some("monthly".into()),
                reset_at: None,
            };
            (start + Duration::minutes(15 * n as i64), reading)
        })
        .collect()
}

fn store() -> (TempDir, Store, i64) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = Store::open(dir.path()).expect("a store");
    let id = store
        .add_source(&NewSource {
            name: "bench".into(),
            kind: "openrouter".into(),
            base_url: "http://127.0.0.1:9".into(),
            key_ref: Some("env:UNUSED".into()),
            management_key_ref: None,
            interval_secs: 900,
            options: Default::default(),
        })
        .expect("a source")
        .id;
    (dir, store, id)
}

/// The same table, index and pragmas as `Store`, with no `Store` around it.
fn bare(dir: &Path) -> Connection {
    let conn = Connection::open(dir.join("bare.sqlite")).expect("a database");
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.execute_batch(
        "CREATE TABLE meters (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO meters (id, name) VALUES (1, 'key_limit');
         CREATE TABLE readings (
             meter_id INTEGER NOT NULL REFERENCES meters(id) ON DELETE CASCADE,
             ts INTEGER NOT NULL,
             remaining TEXT NOT NULL,
             lim TEXT,
             used TEXT,
             reset TEXT,
             reset_at INTEGER
         );
         CREATE INDEX readings_by_meter_time ON readings (meter_id, ts);",
    )
    .unwrap();
    conn
}

fn bare_insert(conn: &mut Connection, rows: &[(DateTime<Utc>, Reading)]) {
    let tx = conn.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO readings (meter_id, ts, remaining, lim, used, reset, reset_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .unwrap();
        for (at, r) in rows {
            stmt.execute(params![
                1,
                at.timestamp_millis(),
                r.remaining.to_string(),
                r.limit.map(|d| d.to_string()),
                r.used.map(|d| d.to_string()),
                r.reset,
                r.reset_at.map(|t| t.timestamp_millis()),
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn bench_ingest(c: &mut Criterion) {
    let rows = rows();
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(READINGS as u64));
    group.bench_function("bare rusqlite, one transaction", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("a temp dir");
                let conn = bare(dir.path());
                (dir, conn)
            },
            |(dir, mut conn)| {
                bare_insert(&mut conn, &rows);
                (dir, conn)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("Store::insert_history, one transaction", |b| {
        b.iter_batched(
            store,
            |(dir, store, id)| {
                store.insert_history(id, &rows).expect("inserted");
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("Store::insert_reading, one transaction each", |b| {
        b.iter_batched(
            store,
            |(dir, store, id)| {
                for (at, reading) in &rows {
                    store.insert_reading(id, *at, reading).expect("inserted");
                }
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_ingest);
criterion_main!(benches);
