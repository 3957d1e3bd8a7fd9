//! The gateways (LiteLLM proxy, new-api) over loopback HTTP: their documented body shapes, who
//! may read what, their own 401s, LiteLLM's 429 `budget_exceeded`, and `Sim::snapshot`.

use chrono::{Duration, Utc};
use headroom_sim::{builtin_scenario, chat_path, Sim, SimError};
use rust_decimal::Decimal;
use serde_json::{json, Value};

mod common;

use common::{account, chat, fixture_json, get, keys, start};

fn amount(v: &Value) -> Decimal {
    assert!(v.is_number(), "{v} is not a JSON number");
    let text = v.to_string();
    text.parse()
        .or_else(|_| Decimal::from_scientific(&text))
        .expect("a decimal")
}

#[tokio::test]
async fn litellm_serves_the_documented_key_user_and_team_bodies() {
    let sim = start("gateways.scenario.json").await;
    let documented = account(&sim, "litellm-documented");
    let master = documented.management_key.clone().expect("a master key");

    let (status, body) = get(&sim, "/key/info", Some(&documented.key)).await;
    assert_eq!(status, 200, "{body}");
    let expected = fixture_json("litellm.key-info.json");
    assert_eq!(keys(&body), keys(&expected));
    assert_eq!(keys(&body["info"]), keys(&expected["info"]));
    for field in ["key_name", "spend", "max_budget", "budget_duration"] {
        assert_eq!(body["info"][field], expected["info"][field], "{field}");
    }
    // Python floats: a whole budget still has its decimal point.
    assert_eq!(body["info"]["max_budget"].to_string(), "10.0");
    let reset = body["info"]["budget_reset_at"]
        .as_str()
        .expect("a monthly budget resets");
    assert!(reset.ends_with("-01T00:00:00Z"), "{reset}");

    // The master key reads the same key by name, but has no row of its own.
    let (status, by_master) = get(
        &sim,
        &format!("/key/info?key={}", documented.key),
        Some(&master),
    )
    .await;
    assert_eq!(
        (status, &by_master["info"]["spend"]),
        (200, &body["info"]["spend"])
    );
    let (status, body) = get(&sim, "/key/info", Some(&master)).await;
    assert_eq!(
        (status, &body["error"]["type"]),
        (404, &json!("not_found_error"))
    );

    let (status, body) = get(&sim, "/user/info?user_id=krrish3%40berri.ai", Some(&master)).await;
    assert_eq!(status, 200, "{body}");
    let expected = fixture_json("litellm.user-info.json");
    assert_eq!(keys(&body), keys(&expected));
    assert_eq!(keys(&body["user_info"]), keys(&expected["user_info"]));
    assert_eq!(body["user_id"], expected["user_id"]);
    assert_eq!(amount(&body["user_info"]["max_budget"]), Decimal::from(50));

    let team_id = "13e83b19-f851-43fe-8e93-f96e21033100";
    let (status, body) = get(
        &sim,
        &format!("/team/info?team_id={team_id}"),
        Some(&master),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let expected = fixture_json("litellm.team-info.json");
    assert_eq!(keys(&body), keys(&expected));
    assert_eq!(keys(&body["team_info"]), keys(&expected["team_info"]));
    assert_eq!(body["team_id"], expected["team_id"]);
    assert_eq!(
        amount(&body["team_info"]["spend"]),
        Decimal::new(72, 6),
        "the team's only key spent it all"
    );

    // A user the proxy has never heard of has spent nothing and has no budget; a team is 404.
    let (status, body) = get(&sim, "/user/info?user_id=nobody", Some(&master)).await;
    assert_eq!(status, 200);
    assert_eq!(body["user_info"], json!({"spend": 0.0}));
    let (status, body) = get(&sim, "/team/info?team_id=nobody", Some(&master)).await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("404")));
    sim.shutdown().await;
}

#[tokio::test]
async fn litellm_keeps_users_and_teams_to_the_master_key_and_refuses_strangers() {
    let sim = start("gateways.scenario.json").await;
    let documented = account(&sim, "litellm-documented");

    let (status, body) = get(
        &sim,
        "/team/info?team_id=13e83b19-f851-43fe-8e93-f96e21033100",
        Some(&documented.key),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["type"]),
        (401, &json!("auth_error"))
    );
    let (status, body) = get(
        &sim,
        "/key/info?key=sk-sim-litellm-dry-0001",
        Some(&documented.key),
    )
    .await;
    assert_eq!(status, 403, "{body}");

    let stranger = "sk-not-a-litellm-key-9Zq1";
    let (status, body) = get(&sim, "/key/info", Some(stranger)).await;
    assert_eq!(status, 401);
    let error = &body["error"];
    assert_eq!(
        (&error["type"], &error["param"], &error["code"]),
        (
            &json!("token_not_found_in_db"),
            &json!("key"),
            &json!("401")
        )
    );
    let message = error["message"].as_str().expect("a message");
    assert!(
        message.contains("Invalid proxy server token passed"),
        "{message}"
    );
    assert!(
        message.contains("sk-...9Zq1") && !message.contains(stranger),
        "{message}"
    );
    let (status, body) = get(&sim, "/key/info", None).await;
    assert_eq!(
        (status, &body["error"]["type"]),
        (401, &json!("auth_error"))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_exhausted_litellm_key_gets_the_current_429_budget_exceeded() {
    let sim = start("gateways.scenario.json").await;
    let path = chat_path("litellm").expect("litellm chat is simulated");
    let (status, body) = chat(&sim, path, &account(&sim, "litellm-dry").key).await;
    assert_eq!(status, 429);
    let documented = fixture_json("litellm.error-budget-exceeded-429.json");
    assert_eq!(keys(&body["error"]), keys(&documented["error"]));
    for field in ["type", "param", "code"] {
        assert_eq!(body["error"][field], documented["error"][field], "{field}");
    }
    assert_eq!(
        body["error"]["message"],
        "Budget has been exceeded! Current cost: 5.0, Max budget: 5.0"
    );

    let (status, body) = chat(&sim, path, &account(&sim, "litellm-unlimited").key).await;
    assert_eq!((status, &body["object"]), (200, &json!("chat.completion")));
    sim.shutdown().await;
}

#[tokio::test]
async fn newapi_serves_the_documented_billing_bodies_in_cents() {
    let sim = start("gateways.scenario.json").await;
    let documented = account(&sim, "newapi-documented");
    let (status, body) = get(&sim, "/v1/dashboard/billing/usage", Some(&documented.key)).await;
    assert_eq!(status, 200);
    assert_eq!(body, fixture_json("newapi.dashboard-billing-usage.json"));
    let (status, body) = get(
        &sim,
        "/v1/dashboard/billing/subscription",
        Some(&documented.key),
    )
    .await;
    assert_eq!(status, 200);
    let expected = fixture_json("newapi.dashboard-billing-subscription.json");
    assert_eq!(keys(&body), keys(&expected));
    for field in [
        "object",
        "has_payment_method",
        "soft_limit_usd",
        "hard_limit_usd",
        "system_hard_limit_usd",
    ] {
        assert_eq!(body[field], expected[field], "{field}");
    }
    // A token that never expires.
    assert_eq!(body["access_until"], 0);

    let cents = account(&sim, "newapi-cents");
    let (_, body) = get(&sim, "/v1/dashboard/billing/usage", Some(&cents.key)).await;
    assert_eq!(body["total_usage"].to_string(), "1234.0");

    // A LiteLLM key is a stranger here, and the refusal is new-api's own.
    let litellm = account(&sim, "litellm-dry");
    for key in [Some(litellm.key.as_str()), None] {
        let (status, body) = get(&sim, "/v1/dashboard/billing/usage", key).await;
        assert_eq!(status, 401);
        assert_eq!(body["error"]["type"], "new_api_error");
        let message = body["error"]["message"].as_str().expect("a message");
        assert!(
            message.contains("令牌") && message.contains("request id"),
            "{message}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn snapshots_render_what_the_gateway_endpoints_serve() {
    let sim = start("gateways.scenario.json").await;
    let documented = account(&sim, "litellm-documented");
    let master = documented.management_key.clone().expect("a master key");
    assert_eq!(
        documented.source_options.get("team_id").map(String::as_str),
        Some("13e83b19-f851-43fe-8e93-f96e21033100")
    );
    let snapshot = sim.snapshot("litellm-documented", Utc::now());
    let paths: Vec<&str> = snapshot.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["/key/info", "/user/info", "/team/info"]);
    let (_, key) = get(&sim, "/key/info", Some(&documented.key)).await;
    let (_, team) = get(
        &sim,
        "/team/info?team_id=13e83b19-f851-43fe-8e93-f96e21033100",
        Some(&master),
    )
    .await;
    // Timestamps tick with the clock; everything else is the same body.
    let without_times = |mut v: Value, object: &str| {
        v[object]["updated_at"] = Value::Null;
        v
    };
    assert_eq!(
        without_times(snapshot[0].1.clone(), "info"),
        without_times(key, "info")
    );
    assert_eq!(snapshot[2].1, team);

    // Without a master key there is no one to read the user's or team's budget.
    let paths: Vec<String> = sim
        .snapshot("litellm-dry", Utc::now())
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(paths, ["/key/info"]);

    let snapshot = sim.snapshot("newapi-documented", Utc::now());
    let (_, subscription) = get(
        &sim,
        "/v1/dashboard/billing/subscription",
        Some(&account(&sim, "newapi-documented").key),
    )
    .await;
    assert_eq!(
        snapshot[0],
        (
            "/v1/dashboard/billing/subscription".to_string(),
            subscription
        )
    );
    assert_eq!(snapshot[1].0, "/v1/dashboard/billing/usage");
    sim.shutdown().await;
}

#[tokio::test]
async fn demo_gateways_are_a_low_litellm_key_in_a_team_and_a_healthy_newapi_token() {
    let sim = start("demo").await;
    let now = sim.started_at();
    let litellm = account(&sim, "litellm");
    assert_eq!(litellm.provider, "litellm");
    assert!(litellm.management_key.is_some());
    assert!(litellm.source_options.contains_key("team_id"));

    let key_left = |days_ago: i64| {
        let (path, body) = sim
            .snapshot("litellm", now - Duration::days(days_ago))
            .into_iter()
            .next()
            .expect("the key's view");
        assert_eq!(path, "/key/info");
        amount(&body["info"]["max_budget"]) - amount(&body["info"]["spend"])
    };
    let history: Vec<Decimal> = (0..=30).rev().map(key_left).collect();
    assert!(history.windows(2).all(|w| w[0] >= w[1]), "{history:?}");
    let left = key_left(0);
    assert!(
        left > Decimal::ZERO && left < Decimal::from(5),
        "the litellm key is running low: {left}"
    );
    let (status, _) = chat(&sim, chat_path("litellm").expect("simulated"), &litellm.key).await;
    assert_eq!(status, 200, "a low key still works");

    let newapi = account(&sim, "newapi");
    let (_, subscription) = get(
        &sim,
        "/v1/dashboard/billing/subscription",
        Some(&newapi.key),
    )
    .await;
    let (_, usage) = get(&sim, "/v1/dashboard/billing/usage", Some(&newapi.key)).await;
    let left = amount(&subscription["hard_limit_usd"])
        - amount(&usage["total_usage"]) / Decimal::ONE_HUNDRED;
    assert!(left > Decimal::from(100), "newapi is healthy: {left}");
    sim.shutdown().await;
}

#[tokio::test]
async fn scenarios_keep_gateways_to_what_they_have() {
    let with = |edit: fn(&mut headroom_sim::AccountSpec)| {
        let mut scenario = builtin_scenario("demo").expect("built in");
        let account = scenario
            .accounts
            .iter_mut()
            .find(|a| a.name == "newapi")
            .expect("demo has newapi");
        edit(account);
        scenario
    };
    let problem = |scenario| async move {
        match Sim::start(scenario, 0).await {
            Err(SimError::InvalidScenario { problem, .. }) => problem,
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("the scenario was accepted"),
        }
    };
    let said = problem(with(|a| a.currency = Some("CNY".into()))).await;
    assert!(said.contains("USD"), "{said}");
    let said = problem(with(|a| a.key_limit = Some(Decimal::TEN))).await;
    assert!(said.contains("no spending limit"), "{said}");
    let said = problem(with(|a| a.granted_credits = Decimal::ONE)).await;
    assert!(said.contains("granted_credits must be 0"), "{said}");
    let said = problem(with(|a| {
        a.provider = "litellm".into();
        a.source_options.insert("project".into(), "x".into());
    }))
    .await;
    assert!(said.contains("user_id and team_id"), "{said}");
}
