//! OpenRouter's 30-day backfill over real HTTP: `/credits` for today's balance and `/activity`
//! for what each completed UTC day cost, against the simulator's demo account and against a
//! server with fixed bodies for exact amounts.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use headroom_core::classify::FailureClass;
use headroom_core::source::{self, Backfill, HttpRunner, Keys, MeterKind, SourceOptions};
use headroom_sim::{builtin_scenario, Sim};
use rust_decimal::Decimal;
use serde_json::json;

mod common;

use common::serving;

async fn demo() -> Sim {
    Sim::start(builtin_scenario("demo").expect("demo is built in"), 0)
        .await
        .expect("sim starts")
}

/// The account's (inference key, management key).
fn keys_of(sim: &Sim, account: &str) -> (String, String) {
    let a = sim
        .announcement()
        .accounts
        .into_iter()
        .find(|a| a.name == account)
        .expect("account announced");
    (a.key, a.management_key.expect("a management key"))
}

fn keys(key: Option<&str>, management_key: Option<&str>) -> Keys {
    Keys {
        key: key.map(str::to_string),
        management_key: management_key.map(str::to_string),
    }
}

/// Runs OpenRouter's backfill and returns it with every progress call.
async fn backfill(base_url: &str, keys: &Keys) -> (Backfill, Vec<(usize, usize)>) {
    let source = source::build("openrouter", base_url, &SourceOptions::new()).expect("valid");
    let calls = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&calls);
    let progress = move |done: usize, total: usize| log.lock().expect("lock").push((done, total));
    let filled = source.backfill(&HttpRunner::new(), keys, &progress).await;
    let calls = calls.lock().expect("lock").clone();
    (filled, calls)
}

fn midnight_today() -> DateTime<Utc> {
    Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

fn amount(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

/// What the sim says the account had left at `at`.
fn sim_balance(sim: &Sim, at: DateTime<Utc>) -> Decimal {
    let state = sim.state_at("production", at).expect("known account");
    state.total_credits - state.total_usage
}

/// What the sim says the account spent from `from` to `to`.
fn sim_spent(sim: &Sim, from: DateTime<Utc>, to: DateTime<Utc>) -> Decimal {
    let used = |at| sim.state_at("production", at).expect("known").total_usage;
    used(to) - used(from)
}

/// Thirty credits readings one day apart ending at the end of yesterday, each a whole day's spend
/// apart exactly, and each below the sim's own balance at that instant by a gap in `gap_range`.
fn assert_follows_the_sim(sim: &Sim, filled: &Backfill, gap_range: (Decimal, Decimal)) {
    assert!(filled.failures.is_empty(), "{:?}", filled.failures);
    // The key-limit points from /key's usage counters are tested in the source's own tests.
    let history: Vec<_> = filled
        .history
        .iter()
        .filter(|(_, r)| r.meter.name == "credits")
        .cloned()
        .collect();
    let history = &history;
    assert_eq!(history.len(), 30);
    assert_eq!(history[29].0, midnight_today() - Duration::seconds(1));
    assert!(history
        .windows(2)
        .all(|w| w[1].0 - w[0].0 == Duration::days(1)));
    for (at, reading) in history {
        assert_eq!(
            (
                reading.meter.name.as_str(),
                reading.meter.kind,
                reading.meter.unit.as_str()
            ),
            ("credits", MeterKind::Balance, "USD")
        );
        assert_eq!(reading.limit, None);
        assert_eq!(
            reading.remaining,
            amount("2500") - reading.used.expect("used"),
            "{at}"
        );
    }
    // Exact: consecutive readings differ by exactly the sim's spend in the later day.
    for w in history.windows(2) {
        let end = w[1].0 + Duration::seconds(1);
        assert_eq!(
            w[0].1.remaining - w[1].1.remaining,
            sim_spent(sim, end - Duration::days(1), end),
            "{}",
            w[1].0
        );
    }
    // At each instant the reading is the sim's balance less what it does not see of today (and
    // the last second of the day, which it counts as spent).
    let second = amount("0.001");
    for (at, reading) in history {
        let gap = sim_balance(sim, *at) - reading.remaining;
        assert!(
            gap >= gap_range.0 && gap <= gap_range.1 + second,
            "{at}: the sim has {}, the backfill {}, gap {gap} not in {gap_range:?}",
            sim_balance(sim, *at),
            reading.remaining
        );
    }
}

#[tokio::test]
async fn both_keys_rebuild_thirty_days_of_credits_from_activity() {
    let sim = demo().await;
    let (key, mgmt) = keys_of(&sim, "production");
    let before = Utc::now();
    let (filled, calls) = backfill(&sim.base_url(), &keys(Some(&key), Some(&mgmt))).await;
    let after = Utc::now();
    // /key, /credits, /activity.
    assert_eq!(calls, vec![(0, 3), (1, 3), (2, 3), (3, 3)]);
    // The key's usage today is the whole account's here, so only spend between the requests is
    // missing.
    assert_follows_the_sim(
        &sim,
        &filled,
        (Decimal::ZERO, sim_spent(&sim, before, after)),
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_management_key_alone_sits_low_by_todays_spend() {
    let sim = demo().await;
    let (_, mgmt) = keys_of(&sim, "production");
    let before = Utc::now();
    let (filled, calls) = backfill(&sim.base_url(), &keys(None, Some(&mgmt))).await;
    let after = Utc::now();
    assert_eq!(calls, vec![(0, 2), (1, 2), (2, 2)]);
    let today = midnight_today();
    assert_follows_the_sim(
        &sim,
        &filled,
        (
            sim_spent(&sim, today, before),
            sim_spent(&sim, today, after),
        ),
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_inference_key_as_management_key_is_auth_invalid_and_none_fills_nothing() {
    let sim = demo().await;
    let (key, _) = keys_of(&sim, "production");
    let (filled, _) = backfill(&sim.base_url(), &keys(None, Some(&key))).await;
    assert!(filled.history.is_empty());
    assert_eq!(filled.failures.len(), 1, "{:?}", filled.failures);
    let failure = &filled.failures[0];
    assert_eq!(failure.status, Some(403));
    assert_eq!(failure.class, Some(FailureClass::AuthInvalid));
    assert!(
        failure.message.contains("Only management keys"),
        "{}",
        failure.message
    );
    assert!(!failure.message.contains(&key) && !failure.excerpt.contains(&key));

    // Without a management key there is no account history to ask for: only the key's own
    // usage counters are read, which give key-limit points and nothing about credits.
    let (filled, calls) = backfill(&sim.base_url(), &keys(Some(&key), None)).await;
    assert!(filled.failures.is_empty(), "{:?}", filled.failures);
    assert!(filled
        .history
        .iter()
        .all(|(_, r)| r.meter.name == "key_limit"));
    assert_eq!(calls.last(), Some(&(1, 1)), "one step, the key: {calls:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn amounts_are_exact_decimals_and_an_unreadable_activity_says_why() {
    let day = |ago: i64| {
        (Utc::now().date_naive() - Duration::days(ago))
            .format("%Y-%m-%d")
            .to_string()
    };
    let credits = json!({"data": {"total_credits": 100.5, "total_usage": 25.75}});
    let base_url = serving(vec![
        ("/api/v1/credits", credits.clone()),
        (
            "/api/v1/activity",
            json!({"data": [
                {"date": day(1), "model": "openai/gpt-4.1", "usage": 0.1, "requests": 1},
                {"date": day(1), "model": "anthropic/claude-sonnet-4", "usage": 0.2, "requests": 1},
                {"date": day(2), "model": "openai/gpt-4.1", "usage": 1.05, "requests": 4},
            ]}),
        ),
    ])
    .await;
    let (filled, _) = backfill(&base_url, &keys(None, Some("sk-or-v1-mgmt-exact-0000"))).await;
    assert!(filled.failures.is_empty(), "{:?}", filled.failures);
    let remaining: Vec<Decimal> = filled.history.iter().map(|(_, r)| r.remaining).collect();
    // 0.1 + 0.2 is 0.3 here, not 0.30000000000000004.
    assert_eq!(remaining[29], amount("74.75"));
    assert_eq!(remaining[28], amount("75.05"));
    assert_eq!(remaining[27], amount("76.10"));
    assert_eq!(remaining[0], amount("76.10"));

    let base_url = serving(vec![
        ("/api/v1/credits", credits),
        ("/api/v1/activity", json!({"data": [{"date": day(1)}]})),
    ])
    .await;
    let (filled, _) = backfill(&base_url, &keys(None, Some("sk-or-v1-mgmt-exact-0000"))).await;
    assert!(filled.history.is_empty());
    let failure = &filled.failures[0];
    assert_eq!(failure.endpoint, "/api/v1/activity");
    assert!(
        failure.message.contains("data.0.usage"),
        "{}",
        failure.message
    );
}
