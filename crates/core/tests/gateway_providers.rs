//! The gateways read over real HTTP: the simulator serves LiteLLM's and new-api's documented
//! bodies, and the real `Source` + `HttpRunner` poll them, as the scheduler does.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use headroom_core::classify::FailureClass;
use headroom_core::source::{
    self, status_failure, HttpRunner, Keys, MeterKind, PollOutcome, Reading, SourceOptions,
};
use headroom_sim::{chat_path, AnnouncedAccount, Sim};
use rust_decimal::Decimal;
use serde_json::{json, Value};

mod common;

use common::{assert_auth_invalid, options, serving, sim_from_fixture};

async fn gateways() -> Sim {
    sim_from_fixture("gateways.scenario.json").await
}

fn account(sim: &Sim, name: &str) -> AnnouncedAccount {
    sim.announcement()
        .accounts
        .into_iter()
        .find(|a| a.name == name)
        .expect("account announced")
}

async fn poll(
    kind: &str,
    base_url: &str,
    options: &SourceOptions,
    key: Option<&str>,
    management_key: Option<&str>,
) -> PollOutcome {
    let source = source::build(kind, base_url, options).expect("a known provider");
    let keys = Keys {
        key: key.map(str::to_string),
        management_key: management_key.map(str::to_string),
    };
    source.poll(&HttpRunner::new(), &keys).await
}

fn amount(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

/// (meter, kind, unit, remaining, limit, used) of a reading.
fn seen(
    r: &Reading,
) -> (
    &str,
    MeterKind,
    &str,
    Decimal,
    Option<Decimal>,
    Option<Decimal>,
) {
    (
        r.meter.name.as_str(),
        r.meter.kind,
        r.meter.unit.as_str(),
        r.remaining,
        r.limit,
        r.used,
    )
}

/// LiteLLM resets a 30d budget at midnight UTC on the 1st.
fn first_of_next_month(now: DateTime<Utc>) -> DateTime<Utc> {
    let (y, m) = match now.month() {
        12 => (now.year() + 1, 1),
        m => (now.year(), m + 1),
    };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).unwrap()
}

async fn assert_malformed_names_field(
    kind: &str,
    routes: Vec<(&'static str, Value)>,
    endpoint: &str,
    field: &str,
) {
    let base_url = serving(routes).await;
    let outcome = poll(
        kind,
        &base_url,
        &SourceOptions::new(),
        Some("sk-malformed-test-key-000000"),
        None,
    )
    .await;
    assert!(outcome.readings.is_empty(), "{:?}", outcome.readings);
    let failure = &outcome.failures[0];
    assert_eq!(failure.endpoint, endpoint);
    assert!(
        failure.message.contains("cannot read") && failure.message.contains(field),
        "{kind}: {}",
        failure.message
    );
}

#[tokio::test]
async fn litellm_key_user_and_team_budgets_are_exact_with_their_resets() {
    let sim = gateways().await;
    let documented = account(&sim, "litellm-documented");
    let outcome = poll(
        "litellm",
        &sim.base_url(),
        &documented.source_options,
        Some(&documented.key),
        documented.management_key.as_deref(),
    )
    .await;
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    let spent = Some(amount("0.000072"));
    let got: Vec<_> = outcome.readings.iter().map(seen).collect();
    assert_eq!(
        got,
        [
            (
                "key_budget",
                MeterKind::Budget,
                "USD",
                amount("9.999928"),
                Some(amount("10")),
                spent
            ),
            (
                "user_budget",
                MeterKind::Budget,
                "USD",
                amount("49.999928"),
                Some(amount("50")),
                spent
            ),
            (
                "team_budget",
                MeterKind::Budget,
                "USD",
                amount("49.999928"),
                Some(amount("50")),
                spent
            ),
        ]
    );
    let reset = first_of_next_month(Utc::now());
    for reading in &outcome.readings {
        assert_eq!(reading.reset_at, Some(reset), "{}", reading.meter.name);
        assert_eq!(reading.reset.as_deref(), Some("30d"));
    }

    // A proxy URL pasted with its OpenAI-style /v1 still finds /key/info.
    let with_v1 = format!("{}/v1/", sim.base_url());
    let outcome = poll(
        "litellm",
        &with_v1,
        &SourceOptions::new(),
        Some(&documented.key),
        None,
    )
    .await;
    assert_eq!(outcome.readings.len(), 1, "{:?}", outcome.failures);
    sim.shutdown().await;
}

#[tokio::test]
async fn litellm_user_and_team_need_the_master_key() {
    let sim = gateways().await;
    let documented = account(&sim, "litellm-documented");
    // No management key: the key's own budget is read, the team's is explained, not attempted.
    let outcome = poll(
        "litellm",
        &sim.base_url(),
        &options(&[("team_id", "13e83b19-f851-43fe-8e93-f96e21033100")]),
        Some(&documented.key),
        None,
    )
    .await;
    assert_eq!(outcome.readings.len(), 1);
    assert_eq!(outcome.failures.len(), 1);
    let failure = &outcome.failures[0];
    assert_eq!(
        (failure.endpoint.as_str(), failure.status),
        ("/team/info", None)
    );
    assert!(
        failure.message.contains("master key") && failure.message.contains("management key"),
        "{}",
        failure.message
    );

    // The virtual key in the master key's place is refused as a key problem.
    let outcome = poll(
        "litellm",
        &sim.base_url(),
        &options(&[("user_id", "krrish3@berri.ai")]),
        None,
        Some(&documented.key),
    )
    .await;
    assert_eq!(outcome.failures[0].status, Some(401));
    assert_eq!(outcome.failures[0].class, Some(FailureClass::AuthInvalid));
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unlimited_litellm_key_has_no_meter_and_says_why() {
    let sim = gateways().await;
    let unlimited = account(&sim, "litellm-unlimited");
    let outcome = poll(
        "litellm",
        &sim.base_url(),
        &SourceOptions::new(),
        Some(&unlimited.key),
        None,
    )
    .await;
    assert!(outcome.readings.is_empty(), "{:?}", outcome.readings);
    let failure = &outcome.failures[0];
    assert_eq!(failure.status, None);
    assert!(
        failure.message.contains("No max_budget is set for the key")
            && failure.message.contains("nothing to run out"),
        "{}",
        failure.message
    );

    // A user the proxy does not know comes back without a budget, and is put the same way.
    let documented = account(&sim, "litellm-documented");
    let outcome = poll(
        "litellm",
        &sim.base_url(),
        &options(&[("user_id", "nobody@example.com")]),
        None,
        documented.management_key.as_deref(),
    )
    .await;
    assert!(
        outcome.failures[0]
            .message
            .contains("the user nobody@example.com"),
        "{:?}",
        outcome.failures
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn litellm_wrong_key_is_auth_invalid_and_exhausted_chat_is_budget_exceeded() {
    let sim = gateways().await;
    let wrong = "sk-not-a-litellm-key-000000";
    let outcome = poll(
        "litellm",
        &sim.base_url(),
        &SourceOptions::new(),
        Some(wrong),
        None,
    )
    .await;
    assert_auth_invalid(&outcome, wrong);

    // The traffic of the person's own app, once the key's budget is spent.
    let dry = account(&sim, "litellm-dry");
    let path = chat_path("litellm").expect("litellm chat is simulated");
    let request = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let response = HttpRunner::new()
        .post_json_bearer(&format!("{}{path}", sim.base_url()), &dry.key, &request)
        .await
        .expect("an answer");
    assert_eq!(response.status, 429);
    let failure = status_failure("litellm", path, &response, &[dry.key.as_str()]);
    assert_eq!(
        failure.class,
        Some(FailureClass::BudgetExceeded),
        "{failure:?}"
    );
    assert!(
        failure.message.contains("Budget has been exceeded"),
        "{}",
        failure.message
    );

    // Reading the spent key shows nothing left, not a negative amount.
    let outcome = poll(
        "litellm",
        &sim.base_url(),
        &SourceOptions::new(),
        Some(&dry.key),
        None,
    )
    .await;
    assert!(outcome.readings[0].remaining.is_zero());
    sim.shutdown().await;
}

#[tokio::test]
async fn newapi_quota_is_exact_with_usage_in_cents() {
    let sim = gateways().await;
    let documented = account(&sim, "newapi-documented");
    let outcome = poll(
        "newapi",
        &sim.base_url(),
        &SourceOptions::new(),
        Some(&documented.key),
        None,
    )
    .await;
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    let got: Vec<_> = outcome.readings.iter().map(seen).collect();
    // hard_limit_usd 100.0 less total_usage 2500.0 cents.
    assert_eq!(
        got,
        [(
            "quota",
            MeterKind::Budget,
            "USD",
            amount("75"),
            Some(amount("100")),
            Some(amount("25"))
        )]
    );
    let reading = &outcome.readings[0];
    assert_eq!((&reading.reset, reading.reset_at), (&None, None));

    // 1234 cents is exactly $12.34; pasted with /v1, as people paste a gateway's URL.
    let cents = account(&sim, "newapi-cents");
    let with_v1 = format!("{}/v1", sim.base_url());
    let outcome = poll(
        "newapi",
        &with_v1,
        &SourceOptions::new(),
        Some(&cents.key),
        None,
    )
    .await;
    let reading = &outcome.readings[0];
    assert_eq!(reading.used, Some(amount("12.34")));
    assert_eq!(reading.remaining.to_string(), "7.66");

    let wrong = account(&sim, "litellm-dry").key;
    let outcome = poll(
        "newapi",
        &sim.base_url(),
        &SourceOptions::new(),
        Some(&wrong),
        None,
    )
    .await;
    assert_auth_invalid(&outcome, &wrong);
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_gateway_bodies_name_the_field() {
    assert_malformed_names_field(
        "litellm",
        vec![(
            "/key/info",
            json!({"key": "sk-x", "info": {"max_budget": 10.0}}),
        )],
        "/key/info",
        "info.spend",
    )
    .await;
    assert_malformed_names_field(
        "litellm",
        vec![("/key/info", json!({"detail": "Not Found"}))],
        "/key/info",
        "info",
    )
    .await;
    assert_malformed_names_field(
        "newapi",
        vec![(
            "/v1/dashboard/billing/subscription",
            json!({"object": "billing_subscription", "soft_limit_usd": 100.0}),
        )],
        "/v1/dashboard/billing/subscription",
        "hard_limit_usd",
    )
    .await;
    assert_malformed_names_field(
        "newapi",
        vec![
            (
                "/v1/dashboard/billing/subscription",
                json!({"object": "billing_subscription", "hard_limit_usd": 100.0}),
            ),
            (
                "/v1/dashboard/billing/usage",
                json!({"object": "list", "total_usage": "lots"}),
            ),
        ],
        "/v1/dashboard/billing/usage",
        "total_usage",
    )
    .await;
}

#[tokio::test]
async fn the_demo_gateways_read_their_history_through_the_live_parsers() {
    let sim = Sim::start(headroom_sim::builtin_scenario("demo").expect("built in"), 0)
        .await
        .expect("sim starts");
    let litellm = account(&sim, "litellm");
    let source = source::build("litellm", &sim.base_url(), &litellm.source_options)
        .expect("the demo's options are LiteLLM's");
    let mut meters = Vec::new();
    for (path, body) in sim.snapshot("litellm", sim.started_at()) {
        for reading in source
            .read_snapshot(&path, &body, sim.started_at())
            .expect("readable")
        {
            meters.push(reading.meter.name);
        }
    }
    assert_eq!(meters, ["key_budget", "team_budget"]);

    let outcome = poll(
        "litellm",
        &sim.base_url(),
        &litellm.source_options,
        Some(&litellm.key),
        litellm.management_key.as_deref(),
    )
    .await;
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    let key = &outcome.readings[0];
    let left = key.remaining / key.limit.expect("a budget");
    assert!(
        left < Decimal::new(15, 2),
        "the demo key is running low: {left}"
    );
    sim.shutdown().await;
}
