//! The spend-reporting providers (OpenAI, Anthropic) over loopback HTTP: their documented body
//! shapes, cursor pages, their own 401s and their out-of-credit answers on chat.

use chrono::{Duration, Utc};
use headroom_sim::{chat_path, load_scenario, Sim};
use rust_decimal::Decimal;
use serde_json::{json, Value};

mod common;

use common::{fixture, fixture_json, key_of, keys};

async fn start() -> Sim {
    let scenario = load_scenario(&fixture("spend.scenario.json")).expect("valid scenario file");
    Sim::start(scenario, 0).await.expect("sim starts")
}

enum Auth<'a> {
    Bearer(&'a str),
    Anthropic(&'a str),
    AnthropicWithoutVersion(&'a str),
}

async fn get(sim: &Sim, path_and_query: &str, auth: Auth<'_>) -> (u16, Value) {
    let request = reqwest::Client::new().get(format!("{}{path_and_query}", sim.base_url()));
    let request = match auth {
        Auth::Bearer(key) => request.bearer_auth(key),
        Auth::Anthropic(key) => request
            .header("x-api-key", key)
            .header("anthropic-version", "2023-06-01"),
        Auth::AnthropicWithoutVersion(key) => request.header("x-api-key", key),
    };
    let resp = request.send().await.expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

async fn chat(sim: &Sim, provider: &str, auth: Auth<'_>) -> (u16, Value) {
    let path = chat_path(provider).expect("chat is simulated");
    let request = reqwest::Client::new()
        .post(format!("{}{path}", sim.base_url()))
        .json(&json!({"model": "some-model", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}));
    let request = match auth {
        Auth::Bearer(key) => request.bearer_auth(key),
        Auth::Anthropic(key) | Auth::AnthropicWithoutVersion(key) => request
            .header("x-api-key", key)
            .header("anthropic-version", "2023-06-01"),
    };
    let resp = request.send().await.expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

fn number(v: &Value) -> Decimal {
    assert!(v.is_number(), "{v} is not a JSON number");
    v.to_string().parse().expect("a decimal")
}

#[tokio::test]
async fn openai_serves_the_documented_spend_limit_in_cents_and_costs_in_pages() {
    let sim = start().await;
    let key = key_of(&sim, "openai-limited");

    let (status, body) = get(&sim, "/v1/organization/spend_limit", Auth::Bearer(&key)).await;
    assert_eq!(status, 200, "{body}");
    let mut documented = fixture_json("openai.spend-limit.json");
    documented["threshold_amount"] = json!(12345);
    assert_eq!(body, documented);

    let (status, body) = get(
        &sim,
        "/v1/organization/spend_limit",
        Auth::Bearer(&key_of(&sim, "openai-unlimited")),
    )
    .await;
    assert_eq!(status, 404, "{body}");

    // Ten days in pages of four: 4 + 4 + the rest, every day once, each with its cursor.
    let start_time = (Utc::now() - Duration::days(9)).timestamp();
    let documented = fixture_json("openai.costs.json");
    let mut cursor: Option<String> = None;
    let mut days = Vec::new();
    loop {
        let page = cursor
            .as_deref()
            .map(|p| format!("&page={p}"))
            .unwrap_or_default();
        let (status, body) = get(
            &sim,
            &format!(
                "/v1/organization/costs?start_time={start_time}&bucket_width=1d&limit=4{page}"
            ),
            Auth::Bearer(&key),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(keys(&body), keys(&documented));
        for bucket in body["data"].as_array().expect("buckets") {
            assert_eq!(keys(bucket), keys(&documented["data"][0]));
            let results = bucket["results"].as_array().expect("results");
            assert_eq!(results.len(), 1, "the account spends every day");
            assert_eq!(
                keys(&results[0]),
                keys(&documented["data"][0]["results"][0])
            );
            assert_eq!(results[0]["amount"]["currency"], "usd");
            assert!(number(&results[0]["amount"]["value"]) > Decimal::ZERO);
            days.push(bucket["start_time"].as_i64().expect("unix start"));
        }
        match body["next_page"].as_str() {
            Some(next) => {
                assert_eq!(body["has_more"], true);
                cursor = Some(next.to_string());
            }
            None => break,
        }
    }
    assert_eq!(days.len(), 10, "{days:?}");
    assert!(days.windows(2).all(|w| w[1] - w[0] == 86_400), "{days:?}");

    let (status, body) = get(&sim, "/v1/organization/costs", Auth::Bearer(&key)).await;
    assert_eq!(
        (status, &body["error"]["param"]),
        (400, &json!("start_time"))
    );

    let (status, body) = get(
        &sim,
        "/v1/organization/costs?start_time=0",
        Auth::Bearer("sk-admin-not-a-real-key-9999"),
    )
    .await;
    assert_eq!(status, 401);
    let documented = fixture_json("openai.error-401-invalid-api-key.json");
    assert_eq!(keys(&body["error"]), keys(&documented["error"]));
    assert_eq!(body["error"]["code"], "invalid_api_key");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("Incorrect API key provided: sk-admin") && !message.contains("9999x"),
        "{message}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn anthropic_serves_cents_as_decimal_strings_behind_x_api_key() {
    let sim = start().await;
    let key = key_of(&sim, "anthropic-main");
    let starting_at = (Utc::now() - Duration::days(2)).format("%Y-%m-%dT%H:%M:%SZ");
    let path = format!("/v1/organizations/cost_report?starting_at={starting_at}&bucket_width=1d");

    let (status, body) = get(&sim, &path, Auth::Anthropic(&key)).await;
    assert_eq!(status, 200, "{body}");
    let documented = fixture_json("anthropic.cost-report.json");
    assert_eq!(keys(&body), keys(&documented));
    let buckets = body["data"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 3);
    for bucket in buckets {
        assert_eq!(keys(bucket), keys(&documented["data"][0]));
        let result = &bucket["results"][0];
        assert_eq!(keys(result), keys(&documented["data"][0]["results"][0]));
        assert_eq!(result["currency"], "USD");
        let cents: Decimal = result["amount"]
            .as_str()
            .expect("a decimal string")
            .parse()
            .expect("a decimal");
        // 0.04 dollars an hour is 96 cents a day; a day never exceeds what its hours allow.
        assert!(
            cents > Decimal::ZERO && cents <= Decimal::from(96 * 2),
            "{cents}"
        );
    }
    assert_eq!(
        (&body["has_more"], &body["next_page"]),
        (&json!(false), &Value::Null)
    );

    let (status, body) = get(&sim, &format!("{path}&limit=1"), Auth::Anthropic(&key)).await;
    assert_eq!((status, &body["has_more"]), (200, &json!(true)));
    let next = body["next_page"].as_str().expect("a cursor").to_string();
    let (status, second) = get(
        &sim,
        &format!("{path}&limit=1&page={next}"),
        Auth::Anthropic(&key),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(second["data"][0]["starting_at"], buckets[1]["starting_at"]);

    let (status, body) = get(&sim, &path, Auth::AnthropicWithoutVersion(&key)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_request_error");

    for wrong in [
        Auth::Anthropic("sk-ant-admin01-wrong-0000"),
        Auth::Bearer(&key),
    ] {
        let (status, body) = get(&sim, &path, wrong).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["type"], "authentication_error");
    }
    let (_, body) = get(&sim, &path, Auth::Anthropic("sk-ant-admin01-wrong-0000")).await;
    assert_eq!(
        body,
        fixture_json("anthropic.error-401-authentication.json")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn chat_is_refused_the_documented_way_once_the_credit_is_gone() {
    let sim = start().await;
    let (status, body) = chat(&sim, "openai", Auth::Bearer(&key_of(&sim, "openai-dry"))).await;
    assert_eq!(status, 429);
    assert_eq!(
        body,
        fixture_json("openai.error-429-insufficient-quota.json")
    );
    let (status, body) = chat(
        &sim,
        "openai",
        Auth::Bearer(&key_of(&sim, "openai-limited")),
    )
    .await;
    assert_eq!((status, &body["object"]), (200, &json!("chat.completion")));

    let dry = key_of(&sim, "anthropic-dry");
    let (status, body) = chat(&sim, "anthropic", Auth::Anthropic(&dry)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        fixture_json("anthropic.error-400-credit-balance-too-low.json")
    );
    let main = key_of(&sim, "anthropic-main");
    let (status, body) = chat(&sim, "anthropic", Auth::Anthropic(&main)).await;
    assert_eq!((status, &body["type"]), (200, &json!("message")));
    sim.shutdown().await;
}

#[tokio::test]
async fn snapshots_give_the_limit_and_the_months_costs() {
    let sim = start().await;
    let now = Utc::now();
    let served = sim.snapshot("openai-limited", now);
    let paths: Vec<&str> = served.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["/v1/organization/spend_limit", "/v1/organization/costs"]
    );
    assert_eq!(served[0].1["threshold_amount"], 12345);
    let days = served[1].1["data"].as_array().expect("buckets").len();
    assert_eq!(
        days,
        usize::try_from(chrono::Datelike::day(&now)).unwrap_or(0)
    );

    let paths: Vec<String> = sim
        .snapshot("openai-unlimited", now)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(paths, ["/v1/organization/costs"]);

    let served = sim.snapshot("anthropic-main", now);
    assert_eq!(served.len(), 1);
    assert_eq!(served[0].0, "/v1/organizations/cost_report");
    assert_eq!(served[0].1["data"].as_array().map(Vec::len), Some(31));
    sim.shutdown().await;
}
