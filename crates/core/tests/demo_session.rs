//! The demo in the app: the window gets the latest day at once, the rest of the history follows
//! in the background, and polling starts only once all of it is written.

use std::time::Duration;

use chrono::Utc;
use headroom_core::demo;
use headroom_core::session::{Mode, Session};
use headroom_core::status::ChartRange;
use headroom_core::store::Store;

const HISTORY_WRITTEN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_opens_on_its_latest_day_then_fills_thirty_days_and_polls() {
    let dir = tempfile::tempdir().unwrap();
    let opened = Utc::now();
    let session = Session::open(dir.path(), 0, None).await.unwrap();
    assert_eq!(session.state().await.mode, Mode::Demo);
    let cards = session.cards().await.unwrap();
    assert!(cards.iter().any(|c| c.meter.is_some()), "{cards:#?}");

    let mut updates = session.subscribe();
    tokio::time::timeout(HISTORY_WRITTEN, async {
        loop {
            let state = session.state().await;
            let cards = session.cards().await.unwrap();
            let polled = cards.iter().all(|c| c.last_poll.is_some());
            if state.backfills.is_empty() && polled {
                return;
            }
            let _ = updates.recv().await;
        }
    })
    .await
    .expect("the demo's history was written and every source polled");

    let meter = cards.iter().find_map(|c| c.meter_id).unwrap();
    let detail = session.meter_detail(meter, ChartRange::All).await.unwrap();
    let first = detail.first_ts.expect("the meter has readings");
    let days = (opened - first).num_hours() as f64 / 24.0;
    assert!(
        (29.9..=30.1).contains(&days),
        "the history starts {days:.2} days back"
    );
    // Every half hour of the 30 days, plus the polls since.
    assert!(detail.points >= 30 * 48, "{} readings", detail.points);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_the_demo_while_its_history_is_written_polls_nothing_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::open(dir.path(), 0, None).await.unwrap();
    assert_eq!(session.stop_demo().await.unwrap().mode, Mode::Empty);
    let mut updates = session.subscribe();
    tokio::time::timeout(HISTORY_WRITTEN, async {
        while !session.state().await.backfills.is_empty() {
            let _ = updates.recv().await;
        }
    })
    .await
    .expect("the demo's history task ended");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(session.cards().await.unwrap().is_empty());
    let demo = Store::open(&demo::data_dir(dir.path())).unwrap();
    let sources = demo.list_sources().unwrap();
    assert!(!sources.is_empty());
    let polled: Vec<&str> = sources
        .iter()
        .filter(|s| s.last_poll_at.is_some())
        .map(|s| s.name.as_str())
        .collect();
    assert!(polled.is_empty(), "the left demo polled {polled:?}");
}
