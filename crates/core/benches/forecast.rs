//! One forecast of one meter with 90 days of 15-minute readings: what the backtest does every
//! hour of every trace and the app does for every card every poll.

use chrono::{Duration, TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use headroom_core::forecast::{forecast, MeterContext, Observation};
use headroom_core::source::MeterKind;

fn ninety_days_of_readings() -> Vec<Observation> {
    let mut rng = fastrand::Rng::with_seed(42);
    let Some(start) = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single() else {
        return Vec::new();
    };
    let mut remaining = 5000.0;
    (0..90 * 96)
        .map(|step| {
            let hour = step / 4 % 24;
            let weekday = step / 96 % 7 < 5;
            let busy = if weekday && (9..18).contains(&hour) {
                1.2
            } else {
                0.15
            };
            remaining -= busy * (0.5 + rng.f64()) / 4.0;
            Observation {
                ts: start + Duration::minutes(15 * step as i64),
                remaining,
            }
        })
        .collect()
}

fn bench_forecast(c: &mut Criterion) {
    let history = ninety_days_of_readings();
    let context = MeterContext {
        kind: MeterKind::Balance,
        limit: None,
        resets: Vec::new(),
    };
    let Some(now) = history.last().map(|o| o.ts) else {
        return;
    };
    c.bench_function("forecast 90 days of 15-minute readings", |b| {
        b.iter(|| forecast(black_box(&history), black_box(&context), now))
    });
}

criterion_group!(benches, bench_forecast);
criterion_main!(benches);
