//! From a poll that crosses a threshold to the notice being dispatched: the reading is stored,
//! the rules are judged (every meter's status and forecast, as after every poll), the notice is
//! queued in the outbox, the running dispatcher wakes on the poll report and POSTs it to a
//! webhook on loopback, and the receiver has it. The store holds twelve meters with 30 days of
//! 15-minute history each, about the size of the demo.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use axum::Router;
use chrono::{Duration, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use headroom_core::alert::channels::{ChannelConfig, WebhookFormat};
use headroom_core::alert::outbox::Dispatcher;
use headroom_core::credentials::Credentials;
use headroom_core::scheduler::PollReport;
use headroom_core::source::{MeterKind, MeterSpec, Reading};
use headroom_core::store::{NewSource, Store};
use rust_decimal::Decimal;
use tokio::sync::{broadcast, mpsc};

const METERS: usize = 12;

fn reading(remaining: i64) -> Reading {
    Reading {
        meter: MeterSpec {
            name: "key_limit".into(),
            label: "Key limit".into(),
            kind: MeterKind::Budget,
            unit: "USD".into(),
        },
        remaining: Decimal::from(remaining),
        limit: Some(Decimal::from(10_000)),
        used: None,
        reset: None,
        reset_at: None,
    }
}

fn source(name: &str) -> NewSource {
    NewSource {
        name: name.into(),
        kind: "openrouter".into(),
        base_url: "http://127.0.0.1:9".into(),
        key_ref: Some("env:UNUSED".into()),
        management_key_ref: None,
        interval_secs: 900,
        options: Default::default(),
    }
}

fn bench_dispatch(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = Arc::new(Store::open(dir.path()).expect("a store"));
    // Slowly falling meters with a month of history, far from any threshold.
    let start = Utc::now() - Duration::days(30);
    let mut ids = Vec::new();
    for n in 0..METERS {
        let id = store
            .add_source(&source(&format!("acct{n}")))
            .expect("source")
            .id;
        for step in 0..30 * 96 {
            let at = start + Duration::minutes(15 * step);
            store
                .insert_reading(id, at, &reading(9_000 - step / 10))
                .expect("reading");
        }
        store.record_poll(id, Utc::now(), None).expect("poll");
        ids.push(id);
    }

    let (got, mut received) = mpsc::unbounded_channel::<()>();
    let url = runtime.block_on(async move {
        let app = Router::new().fallback(move || {
            let got = got.clone();
            async move {
                let _ = got.send(());
                "ok"
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/hook")
    });
    let credentials = Arc::new(Credentials::new());
    let config = ChannelConfig::Webhook {
        format: WebhookFormat::Json,
        url_ref: credentials.hold_in_memory("bench-hook", &url),
        secret_ref: Some(credentials.hold_in_memory("bench-secret", "s3cret")),
        display: "127.0.0.1".into(),
    };
    store
        .add_channel(
            "bench",
            "webhook",
            &serde_json::to_string(&config).expect("json"),
        )
        .expect("channel");
    let desktop = store
        .channel_by_name("Desktop")
        .expect("read")
        .expect("desktop");
    store
        .set_channel_enabled(desktop.id, false)
        .expect("desktop off");

    let (polls, _) = broadcast::channel::<PollReport>(16);
    let dispatcher = Arc::new(Dispatcher::new(Arc::clone(&store), credentials));
    // The dispatcher's task needs the runtime's context to be spawned; it runs until the end.
    let _running = {
        let _inside = runtime.enter();
        dispatcher.spawn(polls.subscribe())
    };
    let crossing = ids[0];
    let report = PollReport {
        source: "acct0".into(),
        readings: 1,
        failures: Vec::new(),
    };

    c.bench_function(
        "threshold crossed → webhook received (12 meters, 30 days)",
        |b| {
            b.iter_custom(|iterations| {
                let mut total = StdDuration::ZERO;
                for _ in 0..iterations {
                    // Back above the line, untimed: the episode resolves and its notice goes out.
                    let now = Utc::now();
                    store
                        .insert_reading(crossing, now, &reading(9_000))
                        .expect("reading");
                    headroom_core::alert::evaluate(&store, now).expect("evaluate");
                    let _ = polls.send(report.clone());
                    runtime.block_on(async {
                        while tokio::time::timeout(StdDuration::from_millis(50), received.recv())
                            .await
                            .is_ok()
                        {}
                    });

                    let started = Instant::now();
                    let now = Utc::now();
                    store
                        .insert_reading(crossing, now, &reading(500))
                        .expect("reading");
                    headroom_core::alert::evaluate(&store, now).expect("evaluate");
                    let _ = polls.send(report.clone());
                    runtime.block_on(async { received.recv().await });
                    total += started.elapsed();
                }
                total
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(StdDuration::from_secs(20));
    targets = bench_dispatch
}
criterion_main!(benches);
