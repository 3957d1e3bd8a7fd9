//! The meter page's chart over a year of 15-minute readings (35,040 points): a monthly budget
//! with its resets, the forecast band, two thresholds and about fifty failed requests, rendered
//! to SVG with the coordinates the UI draws its hover dots and markers from.

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use headroom_core::chart::{
    history_chart, ChartEvent, ChartThreshold, HistoryInput, Outlook, Point, Tone,
};

const CYCLE: i64 = 30 * 96;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn a_year_of_readings() -> Vec<Point> {
    let mut rng = fastrand::Rng::with_seed(42);
    let mut remaining = 1000.0;
    (0..365 * 96)
        .map(|step: i64| {
            if step % CYCLE == 0 {
                remaining = 1000.0;
            }
            let hour = step / 4 % 24;
            let busy = if (9..18).contains(&hour) { 1.6 } else { 0.2 };
            remaining = f64::max(remaining - busy * (0.5 + rng.f64()) / 4.0, 0.0);
            (start() + Duration::minutes(15 * step), remaining)
        })
        .collect()
}

fn bench_chart(c: &mut Criterion) {
    let points = a_year_of_readings();
    let Some(&(now, left)) = points.last() else {
        return;
    };
    let outlook = Outlook {
        band: (1..=24 * 30)
            .map(|h| {
                let median = f64::max(left - h as f64 * 0.3, 0.0);
                (now + Duration::hours(h), median * 0.8, median, median * 1.2)
            })
            .collect(),
        next_reset: Some(start() + Duration::minutes(15 * CYCLE * 13)),
    };
    let thresholds = [
        ChartThreshold {
            label: "Below 15%".into(),
            value: 150.0,
        },
        ChartThreshold {
            label: "Below $50.00".into(),
            value: 50.0,
        },
    ];
    let resets: Vec<DateTime<Utc>> = (1..=12)
        .map(|cycle| start() + Duration::minutes(15 * CYCLE * cycle))
        .collect();
    let events: Vec<ChartEvent> = (0..50)
        .map(|i| ChartEvent {
            id: i,
            t: start() + Duration::hours(i * 173 + 5),
            status: Some(if i % 3 == 0 { 402 } else { 429 }),
            class: Some(
                if i % 3 == 0 {
                    "credits_exhausted"
                } else {
                    "rate_limited"
                }
                .into(),
            ),
        })
        .collect();
    let input = HistoryInput {
        points: &points,
        limit: Some(1000.0),
        unit: "USD",
        tone: Tone::Ok,
        outlook: &outlook,
        thresholds: &thresholds,
        resets: &resets,
        events: &events,
    };
    let value_text = |i: usize| points[i].1.to_string();
    c.bench_function("meter chart of a year of 15-minute readings", |b| {
        b.iter(|| history_chart(black_box(&input), &value_text))
    });
}

criterion_group!(benches, bench_chart);
criterion_main!(benches);
