//! Talks to a real sim over loopback HTTP, the way the app and CLI do.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{Duration, Utc};
use headroom_sim::{
    builtin_scenario, load_scenario, resolve_scenario, AccountState, Sim, SimError,
};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn fixture_json(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture(name)).expect("fixture readable");
    serde_json::from_str(&text).expect("fixture is JSON")
}

async fn demo() -> Sim {
    let scenario = builtin_scenario("demo").expect("demo is built in");
    Sim::start(scenario, 0).await.expect("sim starts")
}

fn key_of(sim: &Sim, account: &str) -> (String, String) {
    let a = sim
        .announcement()
        .accounts
        .into_iter()
        .find(|a| a.name == account)
        .expect("account announced");
    let mgmt = a
        .management_key
        .expect("OpenRouter accounts have a management key");
    (a.key, mgmt)
}

async fn get(sim: &Sim, path: &str, key: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", sim.base_url()));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

async fn chat(sim: &Sim, key: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/chat/completions", sim.base_url()))
        .bearer_auth(key)
        .json(&serde_json::json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

fn num(v: &Value) -> f64 {
    v.as_f64().expect("a JSON number")
}

fn f(d: Decimal) -> f64 {
    d.to_f64().expect("fits f64")
}

#[tokio::test]
async fn key_endpoint_serves_the_same_numbers_as_state_at() {
    let sim = demo().await;
    let documented: BTreeSet<String> = fixture_json("openrouter.key.json")["data"]
        .as_object()
        .expect("data object")
        .keys()
        .cloned()
        .collect();
    for account in ["production", "staging", "research"] {
        let (key, _) = key_of(&sim, account);
        let before = sim.state_at(account, Utc::now()).expect("known account");
        let (status, body) = get(&sim, "/api/v1/key", Some(&key)).await;
        let after = sim.state_at(account, Utc::now()).expect("known account");
        assert_eq!(status, 200, "{account}: {body}");
        let data = &body["data"];
        let served: BTreeSet<String> = data
            .as_object()
            .expect("data object")
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            served, documented,
            "{account}: same fields as OpenRouter documents"
        );

        assert_eq!(
            num(&data["limit"]),
            f(before.key_limit.expect("demo keys have limits"))
        );
        let usage = num(&data["usage"]);
        assert!(
            f(before.key_usage) <= usage && usage <= f(after.key_usage),
            "{account} usage {usage}"
        );
        let remaining = num(&data["limit_remaining"]);
        let (hi, lo) = (before.key_limit_remaining, after.key_limit_remaining);
        assert!(f(lo.expect("limited")) <= remaining && remaining <= f(hi.expect("limited")));
        for field in [
            "usage",
            "limit_remaining",
            "usage_daily",
            "usage_weekly",
            "usage_monthly",
        ] {
            let text = data[field].to_string();
            let decimals = text.split('.').nth(1).map_or(0, str::len);
            assert!(decimals <= 6, "{account}.{field} = {text} has float noise");
        }
        assert!(
            num(&data["usage_daily"])
                <= num(&data["usage_weekly"]).max(num(&data["usage_monthly"])) + 1e-9
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn credits_need_a_management_key() {
    let sim = demo().await;
    let (key, mgmt) = key_of(&sim, "production");

    let (status, body) = get(&sim, "/api/v1/credits", Some(&mgmt)).await;
    assert_eq!(status, 200, "{body}");
    let state = sim
        .state_at("production", Utc::now())
        .expect("known account");
    assert_eq!(num(&body["data"]["total_credits"]), f(state.total_credits));
    assert!((num(&body["data"]["total_usage"]) - f(state.total_usage)).abs() < 0.001);

    let (status, body) = get(&sim, "/api/v1/credits", Some(&key)).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        fixture_json("openrouter.error-403-credits-needs-management-key.json")
    );
    sim.shutdown().await;
}

/// An amount as the sim served it, read exactly.
fn exact(v: &Value) -> Decimal {
    v.to_string().parse().expect("a decimal amount")
}

#[tokio::test]
async fn activity_serves_thirty_completed_days_to_a_management_key_only() {
    let sim = demo().await;
    let (key, mgmt) = key_of(&sim, "production");
    let documented: BTreeSet<String> = fixture_json("openrouter.activity.json")["data"][0]
        .as_object()
        .expect("an item")
        .keys()
        .cloned()
        .collect();

    let (status, body) = get(&sim, "/api/v1/activity", Some(&mgmt)).await;
    assert_eq!(status, 200, "{body}");
    let items = body["data"].as_array().expect("data is a list");
    let mut per_day: std::collections::BTreeMap<String, Decimal> = Default::default();
    for item in items {
        let fields: BTreeSet<String> = item.as_object().expect("object").keys().cloned().collect();
        assert_eq!(fields, documented, "same fields as OpenRouter documents");
        let text = item["usage"].to_string();
        assert!(text.split('.').nth(1).map_or(0, str::len) <= 6, "{text}");
        *per_day
            .entry(item["date"].as_str().expect("a date").to_string())
            .or_default() += exact(&item["usage"]);
    }
    // Two models a day, so a reader must add a day up.
    assert_eq!(items.len(), 60);
    assert_eq!(per_day.len(), 30);
    let today = Utc::now().date_naive();
    let days: Vec<String> = (1..=30)
        .rev()
        .map(|ago| (today - Duration::days(ago)).format("%Y-%m-%d").to_string())
        .collect();
    assert_eq!(
        per_day.keys().cloned().collect::<Vec<_>>(),
        days,
        "completed days only"
    );
    for (date, usage) in &per_day {
        let start = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .expect("a date")
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc();
        let used = |at| sim.state_at("production", at).expect("known").total_usage;
        assert_eq!(
            *usage,
            used(start + Duration::days(1)) - used(start),
            "{date}"
        );
    }

    // One day on its own.
    let (status, body) = get(
        &sim,
        &format!("/api/v1/activity?date={}", days[3]),
        Some(&mgmt),
    )
    .await;
    assert_eq!(status, 200);
    let items = body["data"].as_array().expect("a list");
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["date"] == days[3].as_str()));
    let (status, _) = get(&sim, "/api/v1/activity?date=yesterday", Some(&mgmt)).await;
    assert_eq!(status, 400);

    // An inference key is refused the way /credits refuses it; no key at all is a 401.
    let (status, body) = get(&sim, "/api/v1/activity", Some(&key)).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        fixture_json("openrouter.error-403-credits-needs-management-key.json")
    );
    let (status, _) = get(&sim, "/api/v1/activity", None).await;
    assert_eq!(status, 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn missing_or_unknown_keys_get_401() {
    let sim = demo().await;
    for path in ["/api/v1/key", "/api/v1/credits"] {
        let (status, body) = get(&sim, path, None).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": 401, "message": "No auth credentials found"}})
        );

        let (status, body) = get(&sim, path, Some("sk-or-v1-not-a-real-key")).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": 401, "message": "User not found."}})
        );
    }
    let (status, body) = chat(&sim, "sk-or-v1-not-a-real-key").await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (401, Some("User not found."))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn exhausted_account_gets_402_and_healthy_one_gets_a_reply() {
    let sim = demo().await;
    let (status, body) = chat(&sim, &key_of(&sim, "research").0).await;
    assert_eq!(status, 402);
    assert_eq!(body, fixture_json("openrouter.error-402.json"));

    let (status, body) = chat(&sim, &key_of(&sim, "production").0).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "openai/gpt-4o-mini");
    assert!(body["choices"][0]["message"]["content"].is_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_path_gets_a_json_404() {
    let sim = demo().await;
    let (status, body) = get(&sim, "/api/v1/nope", None).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn announcement_is_one_json_line_with_every_account() {
    let sim = demo().await;
    let line = serde_json::to_string(&sim.announcement()).expect("serializes");
    assert!(!line.contains('\n'));
    let parsed: Value = serde_json::from_str(&line).expect("parses");
    let top: Vec<&str> = parsed
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(top, ["accounts", "base_url"]);
    assert_eq!(parsed["base_url"], sim.base_url());
    let accounts = parsed["accounts"].as_array().expect("array");
    let names: Vec<&str> = accounts.iter().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "production",
            "staging",
            "research",
            "deepseek",
            "kimi",
            "siliconflow",
            "openai",
            "anthropic",
            "litellm",
            "newapi",
            "apipark",
            "gateway"
        ]
    );
    for a in accounts {
        let fields: Vec<&str> = a
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            [
                "key",
                "management_key",
                "name",
                "provider",
                "source_options"
            ]
        );
        let provider = a["provider"].as_str().expect("provider is a string");
        let balance_path = match provider {
            "openrouter" => "/api/v1/key",
            "deepseek" => "/user/balance",
            "moonshot" => "/v1/users/me/balance",
            "siliconflow" => "/v1/user/info",
            "litellm" => "/key/info",
            "newapi" => "/v1/dashboard/billing/usage",
            "openai" => "/v1/organization/spend_limit",
            "generic" => "/internal/billing/balance",
            // Anthropic takes its key in x-api-key, not as a bearer; tests/spenders.rs checks it.
            "anthropic" => continue,
            // APIPark takes its console session as a cookie; core's tests/apipark_and_windows.rs
            // reads it over HTTP.
            "apipark" => continue,
            other => panic!("unexpected provider {other}"),
        };
        // Only OpenRouter and LiteLLM (the proxy's master key) have a second key; the others
        // announce null rather than a fake one.
        assert_eq!(
            a["management_key"].is_string(),
            ["openrouter", "litellm"].contains(&provider)
        );
        // The announced keys must actually work against the announced URL.
        let (status, _) = get(&sim, balance_path, a["key"].as_str()).await;
        assert_eq!(status, 200);
    }
    sim.shutdown().await;
}

fn fraction_left(s: &AccountState) -> f64 {
    f(s.key_limit_remaining.expect("limited")) / f(s.key_limit.expect("limited"))
}

#[tokio::test]
async fn demo_has_a_healthy_a_low_and_an_exhausted_account() {
    let sim = demo().await;
    let now = sim.started_at();
    let left = |name| fraction_left(&sim.state_at(name, now).expect("known account"));
    assert!(
        left("production") > 0.5,
        "production {}",
        left("production")
    );
    assert!(
        left("staging") > 0.0 && left("staging") < 0.15,
        "staging {}",
        left("staging")
    );
    assert_eq!(left("research"), 0.0);
    sim.shutdown().await;
}

#[tokio::test]
async fn thirty_days_of_history_only_go_up_and_end_now() {
    let sim = demo().await;
    let to = Utc::now();
    let from = to - Duration::days(30);
    for account in ["production", "staging", "research"] {
        let history = sim.history(account, from, to, Duration::hours(1));
        assert_eq!(history.len(), 30 * 24 + 1);
        for pair in history.windows(2) {
            assert!(
                pair[0].1.key_usage <= pair[1].1.key_usage,
                "{account} went down at {}",
                pair[1].0
            );
        }
        let (last_at, last) = history.last().expect("non-empty");
        assert_eq!(*last_at, to);
        assert_eq!(Some(last.clone()), sim.state_at(account, to));
        assert!(
            history[0].1.key_usage < last.key_usage,
            "{account} spent something"
        );
    }
    // research fell from most of its limit to nothing, hitting zero about two days ago.
    let research = |days_ago: i64| {
        fraction_left(
            &sim.state_at("research", to - Duration::days(days_ago))
                .expect("known"),
        )
    };
    assert!(research(28) > 0.8, "research 28 days ago {}", research(28));
    assert!(research(3) > 0.0);
    assert_eq!(research(1), 0.0);
    assert!(sim
        .history("nobody", from, to, Duration::hours(1))
        .is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn scenario_files_report_problems_clearly() {
    let err = load_scenario(&fixture("broken.scenario.json")).expect_err("bad JSON");
    let msg = err.to_string();
    assert!(
        matches!(err, SimError::ParseScenario { line: 4, .. }),
        "{err:?}"
    );
    assert!(
        msg.contains("broken.scenario.json") && msg.contains("line 4"),
        "{msg}"
    );
    assert!(msg.contains("expected `,`"), "{msg}");

    let err = load_scenario(&fixture("gemini.scenario.json")).expect_err("unsupported provider");
    assert!(
        err.to_string()
            .contains("only supports 'openrouter', 'deepseek', 'moonshot', 'siliconflow'"),
        "{err}"
    );

    let err = resolve_scenario("no-such-scenario").expect_err("unknown");
    assert!(err.to_string().contains("built-ins: demo"), "{err}");

    let path = fixture("unlimited.scenario.json");
    let scenario = resolve_scenario(path.to_str().expect("utf-8 path")).expect("valid file");
    assert_eq!(
        (scenario.name.as_str(), scenario.time_scale),
        ("unlimited", 60.0)
    );
    assert_eq!(scenario.accounts[0].total_credits, Decimal::new(405, 1));
}

#[tokio::test]
async fn unlimited_key_serves_null_limits() {
    let scenario = load_scenario(&fixture("unlimited.scenario.json")).expect("valid file");
    let sim = Sim::start(scenario, 0).await.expect("starts");
    let (key, mgmt) = key_of(&sim, "solo");
    let (status, body) = get(&sim, "/api/v1/key", Some(&key)).await;
    assert_eq!(status, 200);
    assert!(body["data"]["limit"].is_null() && body["data"]["limit_remaining"].is_null());
    let (_, body) = get(&sim, "/api/v1/credits", Some(&mgmt)).await;
    assert_eq!(num(&body["data"]["total_credits"]), 40.5);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_busy_port_is_reported_by_number() {
    let first = demo().await;
    let port: u16 = first
        .base_url()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port in URL");
    let scenario = builtin_scenario("demo").expect("built in");
    let err = Sim::start(scenario, port)
        .await
        .err()
        .expect("port is taken");
    assert!(matches!(err, SimError::PortInUse { .. }));
    assert!(err.to_string().contains(&port.to_string()), "{err}");
    first.shutdown().await;
}
