//! DeepSeek, Moonshot and SiliconFlow read over real HTTP: the simulator serves their documented
//! bodies, and the real `Source` + `HttpRunner` poll them, as the scheduler does.

use std::net::SocketAddr;

use axum::routing::get;
use axum::{Json, Router};
use headroom_core::source::{self, HttpRunner, Keys, MeterKind, PollOutcome};
use headroom_sim::Sim;
use rust_decimal::Decimal;
use serde_json::{json, Value};

mod common;

use common::{assert_auth_invalid, key_of, sim_from_fixture};

async fn wallets() -> Sim {
    sim_from_fixture("wallets.scenario.json").await
}

async fn poll(kind: &str, base_url: &str, key: &str) -> PollOutcome {
    let source = source::build(kind, base_url, &Default::default()).expect("a known provider");
    let keys = Keys {
        key: Some(key.to_string()),
        management_key: None,
    };
    source.poll(&HttpRunner::new(), &keys).await
}

fn amount(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

/// The one reading of a healthy poll, as (meter, label, unit, remaining).
fn only_reading(outcome: &PollOutcome) -> (String, String, String, Decimal) {
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    assert_eq!(outcome.readings.len(), 1, "{:?}", outcome.readings);
    let r = &outcome.readings[0];
    assert_eq!(r.meter.kind, MeterKind::Balance);
    assert_eq!((r.limit, r.used, r.reset_at), (None, None, None));
    (
        r.meter.name.clone(),
        r.meter.label.clone(),
        r.meter.unit.clone(),
        r.remaining,
    )
}

/// A wrong key is refused with the provider's own 401, which reads as a key problem, and the
/// key is not repeated anywhere in what Headroom keeps.
async fn assert_wrong_key_is_auth_invalid(kind: &str, sim: &Sim, wrong: &str) {
    assert_auth_invalid(&poll(kind, &sim.base_url(), wrong).await, wrong);
}

/// A server that answers `path` with a 200 and `body`.
async fn serving(path: &str, body: Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("address");
    let app = Router::new().route(path, get(move || async move { Json(body) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn assert_malformed_names_field(kind: &str, path: &str, body: Value, field: &str) {
    let base_url = serving(path, body).await;
    let outcome = poll(kind, &base_url, "sk-malformed-test-key-000000").await;
    assert!(outcome.readings.is_empty());
    let failure = &outcome.failures[0];
    assert_eq!(failure.endpoint, path);
    assert!(
        failure.message.contains("cannot read") && failure.message.contains(field),
        "{kind}: {}",
        failure.message
    );
}

#[tokio::test]
async fn deepseek_balance_is_exact_per_currency() {
    let sim = wallets().await;
    let outcome = poll(
        "deepseek",
        &sim.base_url(),
        &key_of(&sim, "deepseek-documented"),
    )
    .await;
    let (meter, label, unit, remaining) = only_reading(&outcome);
    assert_eq!(
        (meter.as_str(), label.as_str(), unit.as_str()),
        ("balance_cny", "Balance (CNY)", "CNY")
    );
    assert_eq!(remaining, amount("110.00"));

    // An emptied USD wallet stays USD and reads zero, not a CNY figure.
    let outcome = poll("deepseek", &sim.base_url(), &key_of(&sim, "dry")).await;
    let (meter, _, unit, remaining) = only_reading(&outcome);
    assert_eq!((meter.as_str(), unit.as_str()), ("balance_usd", "USD"));
    assert!(remaining.is_zero());

    // A base URL pasted with the OpenAI-compatible /v1 still finds /user/balance.
    let with_v1 = format!("{}/v1/", sim.base_url());
    let outcome = poll("deepseek", &with_v1, &key_of(&sim, "deepseek-documented")).await;
    assert_eq!(only_reading(&outcome).3, amount("110"));

    // Another provider's key is a stranger to DeepSeek.
    let moonshot_key = key_of(&sim, "moonshot-documented");
    assert_wrong_key_is_auth_invalid("deepseek", &sim, &moonshot_key).await;
    sim.shutdown().await;

    assert_malformed_names_field(
        "deepseek",
        "/user/balance",
        json!({"is_available": true}),
        "balance_infos",
    )
    .await;
    assert_malformed_names_field(
        "deepseek",
        "/user/balance",
        json!({"balance_infos": [{"currency": "CNY", "granted_balance": "1.00"}]}),
        "total_balance",
    )
    .await;
}

#[tokio::test]
async fn moonshot_available_balance_is_exact_and_arrears_read_zero() {
    let sim = wallets().await;
    let outcome = poll(
        "moonshot",
        &sim.base_url(),
        &key_of(&sim, "moonshot-documented"),
    )
    .await;
    let (meter, label, unit, remaining) = only_reading(&outcome);
    // Loopback is no Moonshot host; the China platform's CNY is assumed.
    assert_eq!(
        (meter.as_str(), label.as_str(), unit.as_str()),
        ("balance", "Balance", "CNY")
    );
    assert_eq!(remaining, amount("49.58894"));

    // Cash is in arrears (-3.5); what can still be spent is nothing, not a negative amount.
    let outcome = poll("moonshot", &sim.base_url(), &key_of(&sim, "arrears")).await;
    assert!(only_reading(&outcome).3.is_zero());

    assert_wrong_key_is_auth_invalid("moonshot", &sim, "sk-not-a-moonshot-key-123456").await;
    sim.shutdown().await;

    assert_malformed_names_field(
        "moonshot",
        "/v1/users/me/balance",
        json!({"code": 0, "data": {"voucher_balance": 1, "cash_balance": 2}}),
        "data.available_balance",
    )
    .await;
}

#[tokio::test]
async fn siliconflow_total_balance_is_exact() {
    let sim = wallets().await;
    let outcome = poll(
        "siliconflow",
        &sim.base_url(),
        &key_of(&sim, "siliconflow-documented"),
    )
    .await;
    let (meter, _, unit, remaining) = only_reading(&outcome);
    assert_eq!((meter.as_str(), unit.as_str()), ("balance", "CNY"));
    // totalBalance, i.e. gift "0.88" plus charged "88.00", not either part alone.
    assert_eq!(remaining, amount("88.88"));

    let deepseek_key = key_of(&sim, "deepseek-documented");
    assert_wrong_key_is_auth_invalid("siliconflow", &sim, &deepseek_key).await;
    sim.shutdown().await;

    assert_malformed_names_field(
        "siliconflow",
        "/v1/user/info",
        json!({"code": 20000, "message": "OK", "status": true, "data": {"balance": "0.88"}}),
        "data.totalBalance",
    )
    .await;
}

#[tokio::test]
async fn a_source_without_its_api_key_says_so_instead_of_calling() {
    for kind in ["deepseek", "moonshot", "siliconflow"] {
        let source = source::build(kind, "http://127.0.0.1:9", &Default::default()).expect("known");
        let outcome = source.poll(&HttpRunner::new(), &Keys::default()).await;
        assert!(
            outcome.failures[0].message.contains("API key"),
            "{kind}: {:?}",
            outcome.failures
        );
    }
}

#[tokio::test]
async fn every_source_reads_its_own_snapshots_and_refuses_other_paths() {
    let sim =
        headroom_sim::Sim::start(headroom_sim::builtin_scenario("demo").expect("built in"), 0)
            .await
            .expect("sim starts");
    for account in sim.announcement().accounts {
        let source = source::build(&account.provider, &sim.base_url(), &account.source_options)
            .expect("known provider");
        let snapshot = sim.snapshot(&account.name, sim.started_at());
        assert!(!snapshot.is_empty(), "{}", account.name);
        // Some meters need two bodies (new-api's quota, then its usage; OpenAI's limit, then its
        // costs), so the account's bodies are read together, as the demo reads them.
        let readings = source
            .read_snapshots(&snapshot, sim.started_at())
            .unwrap_or_else(|e| panic!("{}: {e}", account.name));
        assert!(!readings.is_empty(), "{} gave no readings", account.name);
        let problem = source
            .read_snapshot("/nowhere", &json!({}), sim.started_at())
            .expect_err("unknown path");
        assert!(problem.contains("/nowhere"), "{problem}");
    }
    sim.shutdown().await;
}
