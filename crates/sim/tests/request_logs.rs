//! The demo LiteLLM proxy's request log at `GET /spend/logs`, over loopback HTTP: the rows LiteLLM
//! serves with `summarize=false`, its day-granular date filter, the per-day summary it gives by
//! default, and who may see which rows.

use chrono::{Duration, Utc};
use headroom_sim::{builtin_scenario, Sim, SimError};
use serde_json::Value;

mod common;

use common::{account, fixture_json, get, start};

fn day(offset_days: i64) -> String {
    (Utc::now() + Duration::days(offset_days))
        .format("%Y-%m-%d")
        .to_string()
}

fn rows(body: &Value) -> &Vec<Value> {
    body.as_array().expect("a list of rows")
}

fn failures(body: &Value) -> Vec<&Value> {
    rows(body)
        .iter()
        .filter(|r| r["status"] == "failure")
        .collect()
}

#[tokio::test]
async fn the_master_key_reads_a_day_of_requests_with_the_failures_a_proxy_sees() {
    let sim = start("demo").await;
    let litellm = account(&sim, "litellm");
    let master = litellm.management_key.clone().expect("a master key");
    let path = format!(
        "/spend/logs?summarize=false&start_date={}&end_date={}",
        day(-1),
        day(1)
    );
    let (status, body) = get(&sim, &path, Some(&master)).await;
    assert_eq!(status, 200, "{body}");
    let all = rows(&body);
    assert!(all.len() > 15, "a day of traffic: {}", all.len());
    for row in all {
        for field in [
            "request_id",
            "call_type",
            "api_key",
            "spend",
            "total_tokens",
            "startTime",
            "endTime",
            "model",
            "model_group",
            "user",
            "team_id",
            "status",
            "metadata",
        ] {
            assert!(row.get(field).is_some(), "{field} missing in {row}");
        }
        let hash = row["api_key"].as_str().unwrap();
        assert!(
            hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()),
            "keys are logged hashed: {hash}"
        );
        assert!(!row.to_string().contains("sk-sim-"), "{row}");
    }
    let times: Vec<&str> = all
        .iter()
        .map(|r| r["startTime"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );

    let errors: Vec<(String, String)> = failures(&body)
        .iter()
        .map(|r| {
            let info = &r["metadata"]["error_information"];
            (
                info["error_code"].as_str().unwrap().to_string(),
                info["error_message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The captured 429 and 400 budget refusals, word for word.
    let captured = |file: &str| {
        fixture_json(file)["error"]["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(errors.contains(&(
        "429".into(),
        captured("litellm.error-budget-exceeded-429.json")
    )));
    assert!(errors.contains(&(
        "400".into(),
        captured("litellm.error-budget-exceeded-400.json")
    )));
    assert!(errors
        .iter()
        .any(|(code, m)| code == "429" && m.contains("Rate limit reached")));
    assert!(errors
        .iter()
        .any(|(code, m)| code == "402" && m.contains("OpenrouterException")));
    assert!(errors
        .iter()
        .any(|(code, m)| code == "400" && m.contains("Insufficient Balance")));
    sim.shutdown().await;
}

#[tokio::test]
async fn dates_are_whole_days_and_the_default_is_a_summary_per_day() {
    let sim = start("demo").await;
    let master = account(&sim, "litellm")
        .management_key
        .expect("a master key");
    let (_, everything) = get(&sim, "/spend/logs", Some(&master)).await;
    let total = rows(&everything).len();

    // end_date is midnight at the start of that day, so "today" as the end leaves today out.
    let (_, until_today) = get(
        &sim,
        &format!(
            "/spend/logs?summarize=false&start_date={}&end_date={}",
            day(-2),
            day(0)
        ),
        Some(&master),
    )
    .await;
    let midnight = format!("{}T00:00:00", day(0));
    assert!(rows(&until_today)
        .iter()
        .all(|r| r["startTime"].as_str().unwrap() <= midnight.as_str()));
    let (_, future) = get(
        &sim,
        &format!(
            "/spend/logs?summarize=false&start_date={}&end_date={}",
            day(2),
            day(3)
        ),
        Some(&master),
    )
    .await;
    assert!(rows(&future).is_empty());

    let (status, summary) = get(
        &sim,
        &format!("/spend/logs?start_date={}&end_date={}", day(-2), day(1)),
        Some(&master),
    )
    .await;
    assert_eq!(status, 200, "{summary}");
    let days = rows(&summary);
    assert!(days.iter().all(|d| d.get("request_id").is_none()
        && d["spend"].is_number()
        && d["models"].is_object()));
    assert_eq!(
        days.last().unwrap()["startTime"],
        day(1),
        "filled to end_date"
    );
    assert!(total >= rows(&until_today).len());

    let (status, refusal) = get(
        &sim,
        "/spend/logs?summarize=false&start_date=yesterday&end_date=today",
        Some(&master),
    )
    .await;
    assert_eq!(status, 500);
    assert!(refusal["error"]["message"]
        .as_str()
        .unwrap()
        .contains("does not match format '%Y-%m-%d'"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_virtual_key_sees_only_its_own_requests_and_strangers_none() {
    let sim = start("demo").await;
    let litellm = account(&sim, "litellm");
    let master = litellm.management_key.clone().expect("a master key");
    let (_, all) = get(&sim, "/spend/logs", Some(&master)).await;
    let (status, own) = get(&sim, "/spend/logs", Some(&litellm.key)).await;
    assert_eq!(status, 200);
    assert!(!rows(&own).is_empty() && rows(&own).len() < rows(&all).len());
    let own_hash = &rows(&own)[0]["api_key"];
    assert!(rows(&own).iter().all(|r| &r["api_key"] == own_hash));
    // The team's other keys ran out of budget; this key did not.
    assert!(failures(&own)
        .iter()
        .all(|r| r["metadata"]["error_information"]["error_class"] != "BudgetExceededError"));

    let (status, _) = get(&sim, "/spend/logs", Some("sk-not-a-litellm-key-9Zq1")).await;
    assert_eq!(status, 401);

    // A proxy without a request log (the gateways fixture's) answers with an empty one.
    let gateways = start("gateways.scenario.json").await;
    let documented = account(&gateways, "litellm-documented");
    let (status, none) = get(
        &gateways,
        "/spend/logs?summarize=false&start_date=2020-01-01&end_date=2099-01-01",
        documented.management_key.as_deref(),
    )
    .await;
    assert_eq!((status, rows(&none).len()), (200, 0));
    sim.shutdown().await;
    gateways.shutdown().await;
}

#[tokio::test]
async fn only_litellm_accounts_keep_a_request_log() {
    let mut scenario = builtin_scenario("demo").expect("built in");
    let newapi = scenario
        .accounts
        .iter_mut()
        .find(|a| a.name == "newapi")
        .expect("demo has newapi");
    newapi.request_logs = true;
    match Sim::start(scenario, 0).await {
        Err(SimError::InvalidScenario { problem, .. }) => {
            assert!(problem.contains("request_logs must be false"), "{problem}")
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("the scenario was accepted"),
    }
}
