//! The balance providers (DeepSeek, Moonshot, SiliconFlow) over loopback HTTP: their documented
//! body shapes, their own 401s, their out-of-credit answers, and `Sim::snapshot`.

use chrono::{Duration, Utc};
use headroom_sim::{builtin_scenario, chat_path, Sim, SimError};
use rust_decimal::Decimal;
use serde_json::{json, Value};

mod common;

use common::{chat, fixture_json, get, key_of, keys, start};

/// A money string as DeepSeek and SiliconFlow send it: exactly two decimals.
fn money_text(v: &Value) -> Decimal {
    let text = v.as_str().unwrap_or_else(|| panic!("{v} is not a string"));
    assert_eq!(
        text.split('.').nth(1).map(str::len),
        Some(2),
        "{text} lacks two decimals"
    );
    text.parse().expect("a decimal")
}

fn number(v: &Value) -> Decimal {
    assert!(v.is_number(), "{v} is not a JSON number");
    v.to_string().parse().expect("a decimal")
}

#[tokio::test]
async fn each_provider_serves_its_documented_body_exactly() {
    let sim = start("wallets.scenario.json").await;

    let (status, body) = get(
        &sim,
        "/user/balance",
        Some(&key_of(&sim, "deepseek-documented")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, fixture_json("deepseek.balance.json"));

    let (status, body) = get(
        &sim,
        "/v1/users/me/balance",
        Some(&key_of(&sim, "moonshot-documented")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, fixture_json("moonshot.balance.json"));

    let (status, body) = get(
        &sim,
        "/v1/user/info",
        Some(&key_of(&sim, "siliconflow-documented")),
    )
    .await;
    assert_eq!(status, 200);
    let documented = fixture_json("siliconflow.user-info.json");
    assert_eq!(keys(&body), keys(&documented));
    assert_eq!(keys(&body["data"]), keys(&documented["data"]));
    for field in ["balance", "chargeBalance", "totalBalance", "status"] {
        assert_eq!(body["data"][field], documented["data"][field], "{field}");
    }
    for field in ["code", "message", "status"] {
        assert_eq!(body[field], documented[field], "{field}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn demo_wallets_have_the_documented_shapes_and_add_up() {
    let sim = start("demo").await;

    let (status, body) = get(&sim, "/user/balance", Some(&key_of(&sim, "deepseek"))).await;
    assert_eq!(status, 200, "{body}");
    let documented = fixture_json("deepseek.balance.json");
    assert_eq!(keys(&body), keys(&documented));
    let info = &body["balance_infos"][0];
    assert_eq!(keys(info), keys(&documented["balance_infos"][0]));
    assert_eq!(info["currency"], "CNY");
    let total = money_text(&info["total_balance"]);
    assert_eq!(
        total,
        money_text(&info["granted_balance"]) + money_text(&info["topped_up_balance"])
    );
    assert!(total > Decimal::from(300), "deepseek is healthy: {total}");
    assert_eq!(body["is_available"], true);

    let (status, body) = get(&sim, "/v1/users/me/balance", Some(&key_of(&sim, "kimi"))).await;
    assert_eq!(status, 200, "{body}");
    let documented = fixture_json("moonshot.balance.json");
    assert_eq!(keys(&body), keys(&documented));
    assert_eq!(keys(&body["data"]), keys(&documented["data"]));
    assert_eq!(
        (&body["code"], &body["scode"], &body["status"]),
        (&json!(0), &json!("0x0"), &json!(true))
    );
    let data = &body["data"];
    let available = number(&data["available_balance"]);
    assert_eq!(
        available,
        number(&data["voucher_balance"]) + number(&data["cash_balance"])
    );
    assert!(
        available > Decimal::ZERO && available < Decimal::from(40),
        "kimi is running low: {available}"
    );

    let (status, body) = get(&sim, "/v1/user/info", Some(&key_of(&sim, "siliconflow"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["code"].as_i64(), body["status"].as_bool()),
        (Some(20000), Some(true))
    );
    let data = &body["data"];
    let total = money_text(&data["totalBalance"]);
    assert_eq!(
        total,
        money_text(&data["balance"]) + money_text(&data["chargeBalance"])
    );
    assert!(
        total > Decimal::from(100),
        "siliconflow is healthy: {total}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_key_on_another_providers_path_gets_that_paths_401() {
    let sim = start("demo").await;
    let deepseek = key_of(&sim, "deepseek");
    let kimi = key_of(&sim, "kimi");
    let siliconflow = key_of(&sim, "siliconflow");
    let openrouter = key_of(&sim, "production");

    let (status, body) = get(&sim, "/api/v1/key", Some(&deepseek)).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"error": {"code": 401, "message": "User not found."}})
        )
    );
    let (status, body) = get(&sim, "/user/balance", Some(&openrouter)).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(
        body["error"]["message"],
        "Authentication Fails (no such user)"
    );
    let (status, body) = get(&sim, "/user/balance", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "authentication_error");

    let (status, body) = get(&sim, "/v1/users/me/balance", Some(&siliconflow)).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"error": {"message": "Incorrect API key provided", "type": "incorrect_api_key_error"}})
        )
    );
    let (status, body) = get(&sim, "/v1/users/me/balance", None).await;
    assert_eq!(
        (status, &body["error"]["type"]),
        (401, &json!("invalid_authentication_error"))
    );

    for key in [Some(kimi.as_str()), Some(deepseek.as_str()), None] {
        let (status, body) = get(&sim, "/v1/user/info", key).await;
        assert_eq!((status, body), (401, json!("Invalid token")));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn empty_wallets_are_refused_the_way_each_provider_refuses() {
    let sim = start("wallets.scenario.json").await;
    let dry = key_of(&sim, "dry");
    let (status, body) = get(&sim, "/user/balance", Some(&dry)).await;
    assert_eq!(status, 200);
    assert_eq!(body["is_available"], false);
    assert_eq!(body["balance_infos"][0]["total_balance"], "0.00");
    let deepseek_chat = chat_path("deepseek").expect("deepseek chat is simulated");
    let (status, body) = chat(&sim, deepseek_chat, &dry).await;
    assert_eq!(
        (status, body),
        (402, fixture_json("deepseek.error-402.json"))
    );
    let (status, body) = chat(&sim, deepseek_chat, &key_of(&sim, "deepseek-documented")).await;
    assert_eq!((status, &body["object"]), (200, &json!("chat.completion")));

    // Charges settled after the suspension left Moonshot's cash in arrears.
    let arrears = key_of(&sim, "arrears");
    let (status, body) = get(&sim, "/v1/users/me/balance", Some(&arrears)).await;
    assert_eq!(status, 200);
    let data = &body["data"];
    assert_eq!(number(&data["cash_balance"]), Decimal::new(-35, 1));
    assert_eq!(number(&data["voucher_balance"]), Decimal::ZERO);
    assert_eq!(number(&data["available_balance"]), Decimal::ZERO);
    let moonshot_chat = chat_path("moonshot").expect("moonshot chat is simulated");
    let (status, body) = chat(&sim, moonshot_chat, &arrears).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["type"], "exceeded_current_quota_error");
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(
        message.contains("is suspended") && !message.contains('{'),
        "{message}"
    );
    assert_eq!(chat_path("siliconflow"), None);
    sim.shutdown().await;
}

#[tokio::test]
async fn snapshot_renders_what_the_get_endpoints_serve() {
    let sim = start("wallets.scenario.json").await;
    // Accounts that do not spend serve the same body at every instant.
    for (account, path) in [
        ("deepseek-documented", "/user/balance"),
        ("moonshot-documented", "/v1/users/me/balance"),
        ("siliconflow-documented", "/v1/user/info"),
    ] {
        let snapshot = sim.snapshot(account, Utc::now());
        let (status, served) = get(&sim, path, Some(&key_of(&sim, account))).await;
        assert_eq!(status, 200);
        assert_eq!(snapshot, vec![(path.to_string(), served)], "{account}");
    }
    assert!(sim.snapshot("nobody", Utc::now()).is_empty());
    sim.shutdown().await;

    let sim = start("demo").await;
    let paths = |account: &str| -> Vec<String> {
        sim.snapshot(account, sim.started_at())
            .into_iter()
            .map(|(path, _)| path)
            .collect()
    };
    assert_eq!(paths("production"), ["/api/v1/key", "/api/v1/credits"]);
    assert_eq!(paths("deepseek"), ["/user/balance"]);
    assert_eq!(paths("kimi"), ["/v1/users/me/balance"]);
    assert_eq!(paths("siliconflow"), ["/v1/user/info"]);
    let key = &sim.snapshot("staging", sim.started_at())[0].1;
    let state = sim
        .state_at("staging", sim.started_at())
        .expect("known account");
    assert_eq!(
        key["data"]["limit_remaining"].to_string(),
        state
            .key_limit_remaining
            .expect("limited")
            .normalize()
            .to_string()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn demo_wallets_fall_over_thirty_days_and_kimi_runs_low() {
    let sim = start("demo").await;
    let now = sim.started_at();
    let balance = |account: &str, days_ago: i64| -> Decimal {
        let (path, body) = sim
            .snapshot(account, now - Duration::days(days_ago))
            .into_iter()
            .next()
            .expect("one endpoint");
        let value = match path.as_str() {
            "/user/balance" => body["balance_infos"][0]["total_balance"].clone(),
            "/v1/users/me/balance" => body["data"]["available_balance"].clone(),
            "/v1/user/info" => body["data"]["totalBalance"].clone(),
            other => panic!("unexpected path {other}"),
        };
        match value {
            Value::String(text) => text.parse().expect("a decimal"),
            other => number(&other),
        }
    };
    for account in ["deepseek", "kimi", "siliconflow"] {
        let history: Vec<Decimal> = (0..=30).rev().map(|d| balance(account, d)).collect();
        assert!(
            history.windows(2).all(|w| w[0] >= w[1]),
            "{account} went up: {history:?}"
        );
        assert!(history[0] > history[30], "{account} spent nothing");
    }
    let left = |account: &str| balance(account, 0) / balance(account, 30);
    assert!(
        left("deepseek") > Decimal::new(5, 1),
        "{}",
        left("deepseek")
    );
    assert!(
        left("siliconflow") > Decimal::new(5, 1),
        "{}",
        left("siliconflow")
    );
    assert!(left("kimi") < Decimal::new(15, 2), "{}", left("kimi"));
    sim.shutdown().await;
}

#[tokio::test]
async fn scenarios_keep_each_provider_to_what_it_has() {
    let with = |edit: fn(&mut headroom_sim::AccountSpec)| {
        let mut scenario = builtin_scenario("demo").expect("built in");
        let account = scenario
            .accounts
            .iter_mut()
            .find(|a| a.name == "deepseek")
            .expect("demo has deepseek");
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
    let said = problem(with(|a| {
        a.management_key = Some("sk-sim-extra-0001".into())
    }))
    .await;
    assert!(said.contains("remove management_key"), "{said}");
    let said = problem(with(|a| a.currency = Some("EUR".into()))).await;
    assert!(said.contains("CNY or USD"), "{said}");
    let said = problem(with(|a| a.key_limit = Some(Decimal::TEN))).await;
    assert!(said.contains("no spending limit"), "{said}");
    let said = problem(with(|a| a.overdraft = Decimal::ONE)).await;
    assert!(said.contains("only Moonshot"), "{said}");
    let said = problem(with(|a| a.granted_credits = Decimal::from(10_000))).await;
    assert!(said.contains("cannot exceed"), "{said}");
}
