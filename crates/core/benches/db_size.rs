//! How big the database grows: 50 meters polled every 15 minutes for a year (by default),
//! written through `Store` as polls would write them, measured after VACUUM without retention
//! and then after the roll-up (raw 90 days, hourly two years). Prints a Markdown table for
//! docs/performance.md. Run with `bash bench/db_size.sh [--meters N] [--days D] [--keep DIR]`.

use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use headroom_core::retention::{self, Retention};
use headroom_core::source::{MeterKind, MeterSpec, Reading};
use headroom_core::store::{NewSource, Store, DB_FILE};
use rust_decimal::Decimal;

struct Options {
    meters: usize,
    days: i64,
    keep: Option<std::path::PathBuf>,
}

fn options() -> Options {
    let mut options = Options {
        meters: 50,
        days: 365,
        keep: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--meters" => options.meters = args.next().and_then(|v| v.parse().ok()).unwrap_or(50),
            "--days" => options.days = args.next().and_then(|v| v.parse().ok()).unwrap_or(365),
            "--keep" => options.keep = args.next().map(Into::into),
            // `cargo bench` passes --bench; anything else is not ours either.
            _ => {}
        }
    }
    options
}

/// One meter's history in the three shapes providers report: a prepaid balance in cents, a
/// monthly budget with its spend, and a token quota. Amounts move as real ones do, so the text
/// stored is as long as a real poll's.
fn history(meter: usize, days: i64, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, Reading)> {
    let mut rng = fastrand::Rng::with_seed(meter as u64);
    let steps = days * 96;
    let (kind, unit, name) = match meter % 3 {
        0 => (MeterKind::Balance, "USD", "credits"),
        1 => (MeterKind::Budget, "USD", "monthly_budget"),
        _ => (MeterKind::Budget, "tokens", "monthly_tokens"),
    };
    let spec = MeterSpec {
        name: name.into(),
        label: name.replace('_', " "),
        kind,
        unit: unit.into(),
    };
    let mut used_cents: i64 = 0;
    (0..steps)
        .map(|step| {
            let at = now - Duration::minutes(15 * (steps - 1 - step));
            if step % (30 * 96) == 0 {
                used_cents = 0;
            }
            used_cents += rng.i64(0..40);
            let reading = match meter % 3 {
                0 => Reading {
                    meter: spec.clone(),
                    remaining: Decimal::new(250_000 - used_cents * 7 % 250_000, 2),
                    limit: None,
                    used: None,
                    reset: None,
                    reset_at: None,
                },
                1 => Reading {
                    meter: spec.clone(),
                    remaining: Decimal::new(50_000 - used_cents.min(50_000), 2),
                    limit: Some(Decimal::from(500)),
                    used: Some(Decimal::new(used_cents.min(50_000), 2)),
                    reset: Some("monthly".into()),
                    reset_at: Some(at + Duration::days(30 - step / 96 % 30)),
                },
                _ => Reading {
                    meter: spec.clone(),
                    remaining: Decimal::from(20_000_000 - used_cents * 37),
                    limit: Some(Decimal::from(20_000_000)),
                    used: Some(Decimal::from(used_cents * 37)),
                    reset: None,
                    reset_at: None,
                },
            };
            (at, reading)
        })
        .collect()
}

/// The file's size once VACUUM has dropped the free pages and the write-ahead log is merged.
fn vacuumed_size(dir: &Path) -> u64 {
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).expect("open");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
        .expect("vacuum");
    drop(conn);
    std::fs::metadata(dir.join(DB_FILE))
        .map(|m| m.len())
        .unwrap_or(0)
}

fn rows(dir: &Path, table: &str) -> i64 {
    rusqlite::Connection::open(dir.join(DB_FILE))
        .and_then(|c| c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)))
        .unwrap_or(0)
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn main() {
    let options = options();
    let temp = tempfile::tempdir().expect("a temporary directory");
    let dir = options.keep.clone().unwrap_or_else(|| temp.path().into());
    let now = Utc::now();

    let started = Instant::now();
    {
        let store = Store::open(&dir).expect("open the store");
        for meter in 0..options.meters {
            let source = store
                .add_source(&NewSource {
                    name: format!("source-{meter:02}"),
                    kind: "openrouter".into(),
                    base_url: "https://openrouter.ai".into(),
                    key_ref: Some(format!("env:KEY_{meter:02}")),
                    management_key_ref: None,
                    interval_secs: 900,
                    options: Default::default(),
                })
                .expect("add a source");
            store
                .insert_history(source.id, &history(meter, options.days, now))
                .expect("insert the history");
        }
    }
    let written = started.elapsed();
    let raw_rows = rows(&dir, "readings");
    let without = vacuumed_size(&dir);

    let store = Store::open(&dir).expect("reopen the store");
    let started = Instant::now();
    let tidied = retention::apply(&store, &Retention::default(), now).expect("roll up");
    let first_roll_up = started.elapsed();
    let started = Instant::now();
    let again = retention::apply(&store, &Retention::default(), now).expect("roll up again");
    let second_roll_up = started.elapsed();
    assert_eq!(
        again,
        retention::Tidied::default(),
        "the second run did something"
    );
    drop(store);
    let kept_raw = rows(&dir, "readings");
    let kept_hourly = rows(&dir, "readings_hourly");
    let with = vacuumed_size(&dir);

    println!(
        "{} meters, a reading every 15 minutes for {} days ({raw_rows} readings, written in {:.1} s)\n",
        options.meters,
        options.days,
        written.as_secs_f64()
    );
    println!("| retention | raw readings | hourly rows | file after VACUUM |");
    println!("|---|---:|---:|---:|");
    println!(
        "| off (every reading kept) | {raw_rows} | 0 | {} |",
        mb(without)
    );
    println!(
        "| on (raw 90 days, hourly 2 years) | {kept_raw} | {kept_hourly} | {} |",
        mb(with)
    );
    println!(
        "\nFirst roll-up: {} readings into {} hours in {:.1} s; a second run: {:.0} ms.",
        tidied.rolled_up.readings,
        tidied.rolled_up.hours,
        first_roll_up.as_secs_f64(),
        second_roll_up.as_secs_f64() * 1000.0
    );
}
