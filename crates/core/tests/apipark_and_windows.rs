//! APIPark read over real HTTP from the simulator's demo console, and the rate-limit windows that
//! OpenAI's and Anthropic's answers announce in their headers, as the poller stores them.

use std::sync::Arc;

use headroom_core::classify::FailureClass;
use headroom_core::credentials::Credentials;
use headroom_core::scheduler::Poller;
use headroom_core::source::{self, HttpRunner, Keys, MeterKind};
use headroom_core::store::{NewSource, Store};
use headroom_sim::{AnnouncedAccount, Sim};
use rust_decimal::Decimal;

async fn demo() -> Sim {
    Sim::start(headroom_sim::builtin_scenario("demo").unwrap(), 0)
        .await
        .unwrap()
}

fn account(sim: &Sim, name: &str) -> AnnouncedAccount {
    sim.announcement()
        .accounts
        .into_iter()
        .find(|a| a.name == name)
        .unwrap()
}

#[tokio::test]
async fn apipark_reads_usable_keys_month_tokens_and_names_the_exceeded_key() {
    let sim = demo().await;
    let apipark = account(&sim, "apipark");
    let source = source::build("apipark", &sim.base_url(), &apipark.source_options).unwrap();
    let keys = Keys {
        key: Some(apipark.key.clone()),
        management_key: None,
    };
    let outcome = source.poll(&HttpRunner::new(), &keys).await;

    let usable = outcome
        .readings
        .iter()
        .find(|r| r.meter.name == "usable_keys")
        .expect("usable keys meter");
    assert_eq!(usable.meter.unit, "keys");
    // Two keys of 3M tokens; the demo has used 3.4M, so the first is exceeded.
    assert_eq!(
        (usable.remaining, usable.limit),
        (Decimal::ONE, Some(Decimal::TWO))
    );

    let tokens = outcome
        .readings
        .iter()
        .find(|r| r.meter.name == "monthly_tokens")
        .expect("monthly tokens meter");
    assert_eq!(
        (tokens.meter.kind, tokens.meter.unit.as_str()),
        (MeterKind::Budget, "tokens")
    );
    assert_eq!(tokens.limit, Some(Decimal::from(20_000_000)));
    let used = tokens.used.unwrap();
    assert!(used > Decimal::ZERO && used == Decimal::from(20_000_000) - tokens.remaining);
    assert!(tokens.reset_at.is_some());

    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    assert_eq!(outcome.notices.len(), 1, "{:?}", outcome.notices);
    let exceeded = &outcome.notices[0];
    assert_eq!(exceeded.class, Some(FailureClass::BudgetExceeded));
    assert!(
        exceeded.message.contains("openai-1 is exceeded") && exceeded.message.contains("Top up"),
        "{}",
        exceeded.message
    );

    // A session that has ended is a 401 that says to log in again, without the cookie in it.
    let stale = Keys {
        key: Some("session=expired-console-session-0001".into()),
        management_key: None,
    };
    let outcome = source.poll(&HttpRunner::new(), &stale).await;
    assert!(outcome.readings.is_empty());
    let failure = &outcome.failures[0];
    assert_eq!(failure.status, Some(401));
    assert_eq!(failure.class, Some(FailureClass::AuthInvalid));
    assert!(
        failure.message.contains("log in to APIPark again"),
        "{}",
        failure.message
    );
    assert!(!failure.message.contains("expired-console-session"));

    // Another upstream provider has no keys in this console; that is said, not read as zero.
    let mut options = apipark.source_options.clone();
    options.insert("provider".into(), "anthropic".into());
    options.remove("monthly_token_budget");
    let elsewhere = source::build("apipark", &sim.base_url(), &options).unwrap();
    let outcome = elsewhere.poll(&HttpRunner::new(), &keys).await;
    assert!(outcome.readings.is_empty());
    assert!(
        outcome.failures[0]
            .message
            .contains("no keys for the provider \"anthropic\""),
        "{:?}",
        outcome.failures
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_exceeded_upstream_key_is_recorded_once_and_the_source_keeps_working() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let credentials = Arc::new(Credentials::new());
    let a = account(&sim, "apipark");
    let id = store
        .add_source(&NewSource {
            name: a.name.clone(),
            kind: a.provider.clone(),
            base_url: sim.base_url(),
            key_ref: Some(credentials.hold_in_memory(&a.name, &a.key)),
            management_key_ref: None,
            interval_secs: 3600,
            options: a.source_options.clone(),
        })
        .unwrap()
        .id;
    let poller = Arc::new(Poller::new(Arc::clone(&store), credentials));
    for _ in 0..3 {
        for report in poller.poll_all_once().await.unwrap() {
            assert!(
                report.ok(),
                "an exceeded key is not a failed poll: {report:?}"
            );
        }
    }
    let events = store.recent_events(Some(id), 10).unwrap();
    assert_eq!(
        events.len(),
        1,
        "one event for one standing condition: {events:?}"
    );
    assert_eq!(events[0].class.as_deref(), Some("budget_exceeded"));
    assert!(!store
        .source_by_name("apipark")
        .unwrap()
        .unwrap()
        .is_failing());
}

#[tokio::test]
async fn openai_and_anthropic_answers_leave_rate_limit_windows() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let credentials = Arc::new(Credentials::new());
    for name in ["openai", "anthropic", "deepseek"] {
        let a = account(&sim, name);
        store
            .add_source(&NewSource {
                name: a.name.clone(),
                kind: a.provider.clone(),
                base_url: sim.base_url(),
                key_ref: Some(credentials.hold_in_memory(&a.name, &a.key)),
                management_key_ref: None,
                interval_secs: 3600,
                options: a.source_options.clone(),
            })
            .unwrap();
    }
    let poller = Arc::new(Poller::new(Arc::clone(&store), credentials));
    let before = chrono::Utc::now();
    for report in poller.poll_all_once().await.unwrap() {
        assert!(report.ok(), "{report:?}");
    }

    let windows_of = |name: &str| {
        let id = store.source_by_name(name).unwrap().unwrap().id;
        let mut found: Vec<(String, String, Decimal, Option<Decimal>)> = Vec::new();
        for meter in store.list_meters().unwrap() {
            if meter.source_id != id || meter.kind != MeterKind::Window {
                continue;
            }
            let latest = store.latest_reading(meter.id).unwrap().unwrap();
            let reset_at = latest.reset_at.expect("a window resets");
            assert!(reset_at > before && reset_at <= before + chrono::Duration::seconds(61));
            found.push((meter.name, meter.unit, latest.remaining, latest.limit));
        }
        found.sort();
        found
    };
    let d = Decimal::from;
    // OpenAI's poll makes two requests (limit, then costs); the window counts both.
    assert_eq!(
        windows_of("openai"),
        [
            (
                "rate_requests".into(),
                "requests".into(),
                d(58),
                Some(d(60))
            ),
            (
                "rate_tokens".into(),
                "tokens".into(),
                d(150_000),
                Some(d(150_000))
            ),
        ]
    );
    let anthropic = windows_of("anthropic");
    assert_eq!(anthropic.len(), 4, "{anthropic:?}");
    assert!(anthropic
        .iter()
        .any(|w| w.0 == "rate_requests" && w.3 == Some(d(1000))));
    // DeepSeek sends no rate-limit headers, so it has no windows.
    assert!(windows_of("deepseek").is_empty());
    sim.shutdown().await;
}
