//! The in-house gateway that Headroom's Generic JSON source reads, over loopback HTTP: its nested
//! body, its 401, `Sim::snapshot`, and what a scenario's generic account must say.

use chrono::{DateTime, Duration, Utc};
use headroom_sim::{
    builtin_scenario, chat_path, AccountSpec, AnnouncedAccount, Scenario, Sim, SimError,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const PATH: &str = "/internal/billing/balance";

async fn demo() -> Sim {
    Sim::start(builtin_scenario("demo").expect("demo is built in"), 0)
        .await
        .expect("sim starts")
}

fn gateway(sim: &Sim) -> AnnouncedAccount {
    sim.announcement()
        .accounts
        .into_iter()
        .find(|a| a.name == "gateway")
        .expect("the demo has a gateway account")
}

async fn get(sim: &Sim, key: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(format!("{}{PATH}", sim.base_url()));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

fn amount(v: &Value) -> Decimal {
    v.as_str()
        .expect("amounts are decimal strings")
        .parse()
        .expect("a decimal")
}

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().expect("RFC 3339 text"))
        .expect("RFC 3339")
        .to_utc()
}

#[tokio::test]
async fn the_gateway_serves_a_nested_eur_budget_that_needs_jsonpath() {
    let sim = demo().await;
    let account = gateway(&sim);
    assert_eq!(account.provider, "generic");
    assert_eq!(account.management_key, None);
    assert_eq!(
        account.source_options.get("path").map(String::as_str),
        Some(PATH)
    );
    assert!(account.source_options["remaining"].starts_with("$."));
    assert_eq!(chat_path("generic"), None);

    let (status, body) = get(&sim, Some(&account.key)).await;
    assert_eq!(status, 200, "{body}");
    let top: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(top, ["account"], "everything is nested under account");
    let credit = &body["account"]["credit"];
    assert_eq!(credit["currency"], "EUR");
    let (remaining, cap, spent) = (
        amount(&credit["remaining"]),
        amount(&credit["cap"]),
        amount(&credit["spent"]),
    );
    for field in ["remaining", "cap", "spent"] {
        let text = credit[field].as_str().unwrap();
        assert_eq!(text.split('.').nth(1).map(str::len), Some(2), "{text}");
    }
    assert_eq!(cap, Decimal::from(500));
    assert_eq!(remaining + spent, cap);
    // Healthy: about €412.50 left, spent at about €2.40 a day.
    assert!(
        remaining > Decimal::from(400) && remaining <= Decimal::new(41250, 2),
        "{remaining}"
    );
    let period = &body["account"]["period"];
    let (started, resets) = (
        instant(&period["started_at"]),
        instant(&period["resets_at"]),
    );
    assert!(started < Utc::now() - Duration::days(30), "{started}");
    assert!(resets > Utc::now() + Duration::days(20), "{resets}");
    assert_eq!(
        resets.timestamp() % 86_400,
        0,
        "periods turn at midnight UTC"
    );

    // The snapshot is what the endpoint serves, and the past had more left in the same period.
    let at = sim.started_at();
    let snapshot = sim.snapshot("gateway", at);
    assert_eq!(snapshot.len(), 1);
    assert_eq!(snapshot[0].0, PATH);
    assert_eq!(snapshot[0].1["account"]["credit"]["remaining"], "412.50");
    let month_ago = &sim.snapshot("gateway", at - Duration::days(30))[0].1;
    assert!(amount(&month_ago["account"]["credit"]["remaining"]) > remaining);
    assert_eq!(month_ago["account"]["period"], *period);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_missing_or_wrong_key_gets_a_json_401() {
    let sim = demo().await;
    let (status, body) = get(&sim, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": {"code": "unauthorized", "message": "missing bearer token"}})
    );
    let (status, body) = get(&sim, Some("gw-sim-nobody-0000")).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": {"code": "unauthorized", "message": "invalid API key"}})
    );
    // Another provider's key is unknown here too.
    let deepseek = sim
        .announcement()
        .accounts
        .into_iter()
        .find(|a| a.provider == "deepseek")
        .expect("the demo has a DeepSeek account");
    assert_eq!(get(&sim, Some(&deepseek.key)).await.0, 401);
    sim.shutdown().await;
}

fn demo_with(edit: impl Fn(&mut AccountSpec)) -> Scenario {
    let mut scenario = builtin_scenario("demo").unwrap();
    edit(
        scenario
            .accounts
            .iter_mut()
            .find(|a| a.provider == "generic")
            .unwrap(),
    );
    scenario
}

async fn refusal(scenario: Scenario) -> String {
    match Sim::start(scenario, 0).await {
        Err(SimError::InvalidScenario { problem, .. }) => problem,
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("the scenario was accepted"),
    }
}

#[tokio::test]
async fn a_generic_account_must_name_the_served_path_and_a_remaining_path() {
    let said = refusal(demo_with(|a| {
        a.source_options.remove("remaining");
    }))
    .await;
    assert!(said.contains("remaining"), "{said}");
    let said = refusal(demo_with(|a| {
        a.source_options.insert("path".into(), "/v1/balance".into());
    }))
    .await;
    assert!(said.contains(PATH), "{said}");
    let said = refusal(demo_with(|a| {
        a.source_options.insert("jsonpath".into(), "$.x".into());
    }))
    .await;
    assert!(said.contains("'jsonpath'"), "{said}");
    let said = refusal(demo_with(|a| a.currency = Some("GBP".into()))).await;
    assert!(said.contains("EUR"), "{said}");
    // USD and a path without its leading slash are fine.
    let fine = demo_with(|a| {
        a.currency = Some("USD".into());
        a.source_options
            .insert("path".into(), PATH.trim_start_matches('/').into());
    });
    Sim::start(fine, 0).await.expect("valid").shutdown().await;
}
