//! The events view over a real store filled by real polls of the simulator: the LiteLLM proxy's
//! logged failures, the demo's exhausted OpenRouter key answering 402, and the drill-down from an
//! event to its request, its reason and its fix.

use std::sync::Arc;

use chrono::Duration;
use headroom_core::classify::FailureClass;
use headroom_core::credentials::Credentials;
use headroom_core::demo;
use headroom_core::events::{self, EventFilter};
use headroom_core::scheduler::Poller;
use headroom_core::source::{status_failure, EventOrigin, HttpRunner};
use headroom_core::store::{NewSource, SourceRow, Store};
use headroom_sim::{builtin_scenario, chat_path, Sim};
use serde_json::json;

mod common;

fn for_source(name: &str) -> EventFilter {
    EventFilter {
        source: Some(name.into()),
        ..EventFilter::default()
    }
}

/// The demo's LiteLLM proxy as a source, read with its master key as the person would set it up.
fn litellm_source(store: &Store, credentials: &Credentials, sim: &Sim) -> SourceRow {
    let account = sim
        .announcement()
        .accounts
        .into_iter()
        .find(|a| a.name == "litellm")
        .expect("the demo has a LiteLLM proxy");
    store
        .add_source(&NewSource {
            name: "proxy".into(),
            kind: "litellm".into(),
            base_url: sim.base_url(),
            key_ref: Some(credentials.hold_in_memory("proxy/key", &account.key)),
            management_key_ref: account
                .management_key
                .as_deref()
                .map(|key| credentials.hold_in_memory("proxy/master", key)),
            interval_secs: 900,
            options: account.source_options.clone(),
        })
        .unwrap()
}

#[tokio::test]
async fn requests_that_failed_at_the_proxy_are_events_once_each_and_do_not_fail_the_poll() {
    let sim = Sim::start(builtin_scenario("demo").unwrap(), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let credentials = Arc::new(Credentials::new());
    let source = litellm_source(&store, &credentials, &sim);
    let poller = Poller::new(Arc::clone(&store), Arc::clone(&credentials));

    let report = poller.poll_source(&source).await.unwrap();
    assert!(report.ok(), "{:?}", report.failures);
    assert!(!store.source_by_id(source.id).unwrap().is_failing());
    let first = events::list(&store, &for_source("proxy")).unwrap();
    let seen: Vec<(Option<u16>, Option<&str>)> = first
        .iter()
        .map(|e| (e.status, e.class.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (Some(400), Some("credits_exhausted")),
            (Some(402), Some("credits_exhausted")),
            (Some(429), Some("rate_limited")),
            (Some(400), Some("budget_exceeded")),
            (Some(429), Some("budget_exceeded")),
        ],
        "newest first: {first:#?}"
    );
    for event in &first {
        assert_eq!(event.origin, EventOrigin::Gateway);
        assert_eq!(event.method.as_deref(), Some("POST"));
        assert_eq!(
            event.url.as_deref(),
            Some(format!("{}/chat/completions", sim.base_url()).as_str())
        );
        assert!(event.external_id.is_some());
        // When the request failed, hours before the poll, not when Headroom read the log.
        assert!(
            event.time < sim.started_at() - Duration::minutes(30),
            "{event:?}"
        );
    }
    let budget = first.last().unwrap();
    assert_eq!(
        budget.time.timestamp_millis(),
        (sim.started_at() - Duration::minutes(20 * 60 + 5)).timestamp_millis(),
        "the logged startTime"
    );
    assert!(
        budget.message.contains("gpt-4o") && budget.message.starts_with("Budget exceeded"),
        "{}",
        budget.message
    );

    // Reading the same log again stores nothing new.
    poller.poll_source(&source).await.unwrap();
    assert_eq!(events::list(&store, &for_source("proxy")).unwrap(), first);

    let only_budget = EventFilter {
        class: Some("budget_exceeded".into()),
        ..for_source("proxy")
    };
    assert_eq!(events::list(&store, &only_budget).unwrap().len(), 2);
    let only_402 = EventFilter {
        status: Some(402),
        ..EventFilter::default()
    };
    assert_eq!(events::list(&store, &only_402).unwrap().len(), 1);
    let recent = EventFilter {
        since: Some(sim.started_at() - Duration::hours(3)),
        ..EventFilter::default()
    };
    assert_eq!(events::list(&store, &recent).unwrap().len(), 2);

    let counts = events::class_counts(&store, &EventFilter::default(), Duration::hours(1)).unwrap();
    assert_eq!(counts.iter().map(|c| c.count).sum::<u32>(), 5);
    assert!(counts.windows(2).all(|w| w[0].start <= w[1].start));
    assert!(counts
        .iter()
        .all(|c| c.start.timestamp() % 3600 == 0 && c.count > 0));

    let detail = events::detail(&store, budget.id).unwrap();
    let classification = detail.classification.as_ref().expect("classified again");
    assert_eq!(classification.class, FailureClass::BudgetExceeded);
    assert!(!classification.remedies.is_empty());
    assert!(detail.body_pretty.contains("Budget has been exceeded!"));
    assert!(detail.body_pretty.contains('\n'), "indented JSON");
    assert_eq!(detail.provider_label, "LiteLLM");
    assert_eq!(detail.meter_ids.len(), 2, "key and team budgets");
    assert!(
        detail.related_alerts.is_empty(),
        "no alert was open a day ago"
    );

    // The hashed keys, users and teams of the log are not kept, and no key is.
    let everything = serde_json::to_string(&json!({
        "events": events::list(&store, &EventFilter::default()).unwrap(),
        "detail": detail,
    }))
    .unwrap();
    for secret in ["sk-sim-litellm", "team-sim-litellm"] {
        assert!(!everything.contains(secret), "{secret} was stored");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn an_exhausted_openrouter_key_drills_down_to_its_402_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let credentials = Arc::new(Credentials::new());
    // The demo's own traffic: the exhausted "research" key is refused with 402.
    let sim = demo::start(&store, &credentials, 0).await.unwrap();
    let refusals = events::list(
        &store,
        &EventFilter {
            status: Some(402),
            ..for_source("research")
        },
    )
    .unwrap();
    assert_eq!(refusals.len(), 1, "{refusals:#?}");
    let refusal = &refusals[0];
    assert_eq!(refusal.origin, EventOrigin::Poll);
    assert_eq!(refusal.method.as_deref(), Some("POST"));
    let chat = chat_path("openrouter").unwrap();
    assert_eq!(
        refusal.url.as_deref(),
        Some(format!("{}{chat}", sim.base_url()).as_str())
    );

    let detail = events::detail(&store, refusal.id).unwrap();
    let classification = detail.classification.as_ref().expect("a 402 is classified");
    assert_eq!(classification.class, FailureClass::CreditsExhausted);
    assert!(classification.billing_url.is_some());
    assert!(!classification.remedies.is_empty());
    assert!(
        detail.body_pretty.contains("Insufficient credits"),
        "{}",
        detail.body_pretty
    );
    assert_eq!(detail.provider, "openrouter");
    assert_eq!(detail.provider_label, "OpenRouter");
    assert!(!detail.meter_ids.is_empty());
    assert!(detail
        .headers
        .iter()
        .any(|(name, value)| name == "content-type" && value.contains("json")));
    assert!(detail
        .headers
        .iter()
        .all(|(name, _)| !name.contains("authorization") && name != "set-cookie"));

    // Once the poll has opened the exhausted key's alerts, a refusal met while they are open
    // lists them.
    let poller = Arc::new(Poller::new(Arc::clone(&store), Arc::clone(&credentials)));
    poller.poll_all_once().await.unwrap();
    let key = sim
        .announcement()
        .accounts
        .into_iter()
        .find(|a| a.name == "research")
        .unwrap()
        .key;
    let response = HttpRunner::new()
        .post_json_bearer(
            &format!("{}{chat}", sim.base_url()),
            &key,
            &json!({"model": "demo-model", "messages": []}),
        )
        .await
        .unwrap();
    let research = store.source_by_name("research").unwrap().unwrap();
    let later = status_failure("openrouter", chat, &response, &[&key]);
    store
        .insert_event(research.id, chrono::Utc::now(), &later)
        .unwrap();
    let newest = events::list(&store, &for_source("research")).unwrap()[0].clone();
    let detail = events::detail(&store, newest.id).unwrap();
    assert!(!detail.related_alerts.is_empty());
    assert!(detail
        .related_alerts
        .iter()
        .all(|a| a.source == "research" && a.fired_at <= newest.time));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_proxy_without_a_request_log_says_so_once_and_its_budget_still_counts() {
    // An older proxy, or one without a database: /key/info answers, /spend/logs is not there.
    let base_url = common::serving(vec![(
        "/key/info",
        json!({"key": "sk-x", "info": {"spend": 2.5, "max_budget": 10.0}}),
    )])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let credentials = Arc::new(Credentials::new());
    let source = store
        .add_source(&NewSource {
            name: "old-proxy".into(),
            kind: "litellm".into(),
            base_url,
            key_ref: Some(credentials.hold_in_memory("old", "sk-old-proxy-virtual-key-0001")),
            management_key_ref: None,
            interval_secs: 900,
            options: Default::default(),
        })
        .unwrap();
    let poller = Poller::new(Arc::clone(&store), Arc::clone(&credentials));
    for _ in 0..2 {
        let report = poller.poll_source(&source).await.unwrap();
        assert!(report.ok() && report.readings == 1, "{report:?}");
    }
    assert!(!store.source_by_id(source.id).unwrap().is_failing());
    let notes = events::list(&store, &for_source("old-proxy")).unwrap();
    assert_eq!(notes.len(), 1, "said once: {notes:#?}");
    assert_eq!(notes[0].status, Some(404));
    assert_eq!(notes[0].origin, EventOrigin::Poll);
    assert!(
        notes[0]
            .message
            .contains("cannot read LiteLLM's request log"),
        "{}",
        notes[0].message
    );
}

#[tokio::test]
async fn an_unknown_source_or_event_is_said_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let problem = events::list(&store, &for_source("nope"))
        .unwrap_err()
        .to_string();
    assert!(problem.contains("no source named \"nope\""), "{problem}");
    let problem = events::detail(&store, 42).unwrap_err().to_string();
    assert!(problem.contains("no event 42"), "{problem}");
}
