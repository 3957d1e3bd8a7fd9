//! Every fault the simulator can inject, polled by the real poller over real HTTP: each leaves an
//! event that says in words what went wrong, keeps the readings from before, and leaves the other
//! source on the same poller polling as usual.

use std::sync::Arc;
use std::time::{Duration, Instant};

use headroom_core::credentials::Credentials;
use headroom_core::scheduler::{PollReport, Poller};
use headroom_core::source::HttpRunner;
use headroom_core::store::{EventRow, NewSource, ReadingRow, Store};
use headroom_sim::Sim;

/// Short, so that the timeout fault costs well under two seconds; longer than the sim's slow
/// answers, which must still arrive.
const TIMEOUT: Duration = Duration::from_millis(800);
/// The fault goes on the demo's DeepSeek wallet; the OpenRouter key beside it stays healthy.
const FAULTY: &str = "deepseek";
const HEALTHY: &str = "production";

struct Rig {
    sim: Sim,
    store: Arc<Store>,
    poller: Arc<Poller>,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let sim = Sim::start(headroom_sim::builtin_scenario("demo").unwrap(), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let credentials = Arc::new(Credentials::new());
    for account in sim.announcement().accounts {
        if account.name != FAULTY && account.name != HEALTHY {
            continue;
        }
        let key_ref = credentials.hold_in_memory(&account.name, &account.key);
        store
            .add_source(&NewSource {
                name: account.name.clone(),
                kind: account.provider.clone(),
                base_url: sim.base_url(),
                key_ref: Some(key_ref),
                management_key_ref: None,
                interval_secs: 3600,
                options: Default::default(),
            })
            .unwrap();
    }
    let poller = Arc::new(Poller::with_http(
        Arc::clone(&store),
        credentials,
        HttpRunner::with_limits(TIMEOUT, 1 << 20),
    ));
    Rig {
        sim,
        store,
        poller,
        _dir: dir,
    }
}

impl Rig {
    /// Asks the running sim over HTTP, as a person driving it from outside would.
    async fn set_fault(&self, fault: &str) {
        let answer = reqwest::Client::new()
            .post(format!("{}/__sim/faults", self.sim.base_url()))
            .json(&serde_json::json!({"account": FAULTY, "fault": fault}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    }

    async fn poll(&self) -> (PollReport, PollReport) {
        let reports = self.poller.poll_all_once().await.unwrap();
        let of = |name: &str| reports.iter().find(|r| r.source == name).unwrap().clone();
        (of(FAULTY), of(HEALTHY))
    }

    fn id(&self, name: &str) -> i64 {
        self.store.source_by_name(name).unwrap().unwrap().id
    }

    fn latest_balance(&self) -> ReadingRow {
        let meter = self
            .store
            .list_meters()
            .unwrap()
            .into_iter()
            .find(|m| m.source_id == self.id(FAULTY))
            .expect("the wallet has a meter");
        self.store.latest_reading(meter.id).unwrap().unwrap()
    }

    fn events(&self, name: &str) -> Vec<EventRow> {
        self.store.recent_events(Some(self.id(name)), 10).unwrap()
    }
}

/// Polls once healthy, once with `fault`, and once after clearing it; returns the fault's event.
async fn under_fault(fault: &str) -> EventRow {
    let rig = rig().await;
    let (faulty, healthy) = rig.poll().await;
    assert!(faulty.ok() && healthy.ok(), "{faulty:?} {healthy:?}");
    let before = rig.latest_balance();

    rig.set_fault(fault).await;
    let (faulty, healthy) = rig.poll().await;
    assert!(!faulty.ok(), "{fault}: the poll should have failed");
    assert!(
        healthy.ok(),
        "{fault}: the other source failed too: {healthy:?}"
    );
    assert_eq!(
        rig.latest_balance(),
        before,
        "{fault}: the earlier reading changed"
    );
    let events = rig.events(FAULTY);
    assert_eq!(events.len(), 1, "{fault}: {events:?}");
    assert!(rig.events(HEALTHY).is_empty());
    assert!(rig
        .store
        .source_by_name(FAULTY)
        .unwrap()
        .unwrap()
        .is_failing());

    rig.set_fault("none").await;
    let (faulty, _) = rig.poll().await;
    assert!(
        faulty.ok(),
        "{fault}: still failing after it was cleared: {faulty:?}"
    );
    assert!(rig.latest_balance().ts > before.ts);
    events.into_iter().next().unwrap()
}

fn says(event: &EventRow, words: &[&str]) {
    for word in words {
        assert!(
            event.message.contains(word),
            "missing \"{word}\" in: {}",
            event.message
        );
    }
}

#[tokio::test]
async fn a_timeout_is_no_answer_within_the_limit() {
    let started = Instant::now();
    let event = under_fault("timeout").await;
    says(&event, &["no answer from", "within 0.8 s"]);
    assert_eq!(event.status, None);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_slow_answer_within_the_limit_still_counts() {
    let rig = rig().await;
    rig.set_fault("slow").await;
    let started = Instant::now();
    let (faulty, healthy) = rig.poll().await;
    assert!(
        started.elapsed() >= headroom_sim::Fault::SLOW_BY,
        "{:?}",
        started.elapsed()
    );
    assert!(faulty.ok() && healthy.ok(), "{faulty:?} {healthy:?}");
    assert_eq!(faulty.readings, 1);
}

#[tokio::test]
async fn a_server_error_is_the_provider_being_down() {
    let event = under_fault("5xx").await;
    assert_eq!(event.status, Some(503));
    assert_eq!(event.class.as_deref(), Some("provider_down"));
    says(&event, &["DeepSeek answered 503"]);
}

#[tokio::test]
async fn a_malformed_body_cannot_be_read() {
    let event = under_fault("malformed").await;
    says(&event, &["cannot read", "/user/balance"]);
    assert!(event.excerpt.contains("'status'"), "{}", event.excerpt);
}

#[tokio::test]
async fn a_truncated_body_cannot_be_read() {
    let event = under_fault("truncated").await;
    says(&event, &["broke off", "cannot read"]);
}

#[tokio::test]
async fn a_huge_body_is_refused_unread() {
    let event = under_fault("huge").await;
    says(&event, &["larger than 1048576 bytes"]);
}

#[tokio::test]
async fn an_html_page_is_named_as_not_json() {
    let event = under_fault("wrong_content_type").await;
    says(&event, &["cannot read", "text/html", "instead of JSON"]);
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed_with_the_key() {
    let event = under_fault("redirect_elsewhere").await;
    assert_eq!(event.status, Some(302));
    says(&event, &["does not send keys"]);
}

#[tokio::test]
async fn unknown_faults_and_accounts_are_refused_in_words() {
    let sim = Sim::start(headroom_sim::builtin_scenario("demo").unwrap(), 0)
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/__sim/faults", sim.base_url());
    let answer = client
        .post(&url)
        .json(&serde_json::json!({"account": FAULTY, "fault": "gremlins"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert!(answer.text().await.unwrap().contains("redirect_elsewhere"));
    let answer = client
        .post(&url)
        .json(&serde_json::json!({"account": "nobody", "fault": "5xx"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
    sim.shutdown().await;
}
