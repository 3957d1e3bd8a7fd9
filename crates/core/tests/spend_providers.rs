//! OpenAI and Anthropic read over real HTTP: they report spend, not balance, so the meter is a
//! monthly budget (or, for Anthropic, a prepaid amount) measured against the spend. The simulator
//! serves their documented bodies; the real `Source` + `HttpRunner` read them.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use headroom_core::classify::FailureClass;
use headroom_core::source::{
    self, status_failure, HttpRunner, Keys, MeterKind, PollOutcome, Reading, SourceOptions,
};
use headroom_sim::{chat_path, Sim};
use rust_decimal::Decimal;
use serde_json::{json, Value};

mod common;

use common::{key_of, options, serving, sim_from_fixture};

const ANTHROPIC_VERSION: (&str, &str) = ("anthropic-version", "2023-06-01");

async fn spend_sim() -> Sim {
    sim_from_fixture("spend.scenario.json").await
}

fn keys(key: &str) -> Keys {
    Keys {
        key: Some(key.to_string()),
        management_key: None,
    }
}

async fn poll(kind: &str, base_url: &str, key: &str, opts: &[(&str, &str)]) -> PollOutcome {
    let source = source::build(kind, base_url, &options(opts)).expect("a valid source");
    source.poll(&HttpRunner::new(), &keys(key)).await
}

fn only_reading(outcome: &PollOutcome) -> &Reading {
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    assert_eq!(outcome.readings.len(), 1, "{:?}", outcome.readings);
    &outcome.readings[0]
}

fn amount(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

fn month_start(at: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(at.year(), at.month(), 1, 0, 0, 0)
        .single()
        .expect("a valid month start")
}

fn next_month_start(at: DateTime<Utc>) -> DateTime<Utc> {
    month_start(month_start(at) + Duration::days(32))
}

/// This month's spend as the simulator serves it to anyone who asks, added up exactly.
async fn served_month_spend(sim: &Sim, kind: &str, key: &str) -> Decimal {
    let start = month_start(Utc::now());
    let client = reqwest::Client::new();
    let body: Value = match kind {
        "openai" => client
            .get(format!(
                "{}/v1/organization/costs?start_time={}&limit=31",
                sim.base_url(),
                start.timestamp()
            ))
            .bearer_auth(key),
        _ => client
            .get(format!(
                "{}/v1/organizations/cost_report?starting_at={}&limit=31",
                sim.base_url(),
                start.format("%Y-%m-%dT%H:%M:%SZ")
            ))
            .header("x-api-key", key)
            .header(ANTHROPIC_VERSION.0, ANTHROPIC_VERSION.1),
    }
    .send()
    .await
    .expect("sent")
    .json()
    .await
    .expect("JSON");
    assert_eq!(body["has_more"], false, "one page holds a month");
    body["data"]
        .as_array()
        .expect("buckets")
        .iter()
        .flat_map(|b| b["results"].as_array().cloned().unwrap_or_default())
        .map(|r| match kind {
            "openai" => amount(&r["amount"]["value"].to_string()),
            _ => amount(r["amount"].as_str().expect("cents string")) / Decimal::ONE_HUNDRED,
        })
        .sum()
}

fn assert_budget_meter(reading: &Reading, limit: Decimal) {
    let now = Utc::now();
    assert_eq!(
        (
            reading.meter.name.as_str(),
            reading.meter.kind,
            reading.meter.unit.as_str()
        ),
        ("monthly_budget", MeterKind::Budget, "USD")
    );
    assert_eq!(reading.limit, Some(limit));
    assert_eq!(reading.reset.as_deref(), Some("monthly"));
    assert_eq!(reading.reset_at, Some(next_month_start(now)));
    let used = reading.used.expect("month-to-date spend");
    assert_eq!(reading.remaining, limit - used);
}

#[tokio::test]
async fn openai_budget_is_the_org_spend_limit_in_cents_minus_this_months_spend() {
    let sim = spend_sim().await;
    let key = key_of(&sim, "openai-limited");
    let before = served_month_spend(&sim, "openai", &key).await;
    let outcome = poll("openai", &sim.base_url(), &key, &[]).await;
    let after = served_month_spend(&sim, "openai", &key).await;
    let reading = only_reading(&outcome);
    // The org limit is 12345 cents, exactly.
    assert_budget_meter(reading, amount("123.45"));
    let used = reading.used.expect("used");
    assert!(
        before <= used && used <= after,
        "{before} <= {used} <= {after}"
    );
    assert!(used > Decimal::ZERO || Utc::now().day() == 1);

    // An org limit wins over the person's budget; without one, the budget is the limit.
    let outcome = poll("openai", &sim.base_url(), &key, &[("monthly_budget", "50")]).await;
    assert_eq!(only_reading(&outcome).limit, Some(amount("123.45")));
    let unlimited = key_of(&sim, "openai-unlimited");
    let outcome = poll(
        "openai",
        &sim.base_url(),
        &unlimited,
        &[("monthly_budget", "50.25")],
    )
    .await;
    assert_budget_meter(only_reading(&outcome), amount("50.25"));

    // Neither: said in words, with what to do.
    let outcome = poll("openai", &sim.base_url(), &unlimited, &[]).await;
    assert!(outcome.readings.is_empty());
    let message = &outcome.failures[0].message;
    assert!(
        message.contains("no spend limit") && message.contains("no monthly budget was given"),
        "{message}"
    );
    assert!(message.contains("--budget"), "{message}");
    sim.shutdown().await;
}

#[tokio::test]
async fn openai_amounts_are_exact_decimals() {
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let bucket = |value: Value| {
        json!({"object": "bucket", "start_time": today.timestamp(),
            "end_time": (today + Duration::days(1)).timestamp(),
            "results": [{"object": "organization.costs.result", "amount": {"value": value, "currency": "usd"},
                "line_item": null, "project_id": null, "api_key_id": null, "quantity": null, "quantity_unit": null}]})
    };
    let base_url = serving(vec![
        (
            "/v1/organization/spend_limit",
            json!({"object": "organization.spend_limit", "threshold_amount": 12345, "currency": "USD",
                "interval": "month", "enforcement": {"status": "enforcing"}}),
        ),
        (
            "/v1/organization/costs",
            json!({"object": "page", "data": [bucket(json!(0.1)), bucket(json!(0.2))],
                "has_more": false, "next_page": null}),
        ),
    ])
    .await;
    let outcome = poll("openai", &base_url, "sk-admin-exact-test-0000", &[]).await;
    let reading = only_reading(&outcome);
    // 0.1 + 0.2 is 0.3 here, not 0.30000000000000004.
    assert_eq!(reading.used, Some(amount("0.3")));
    assert_eq!(reading.limit, Some(amount("123.45")));
    assert_eq!(reading.remaining, amount("123.15"));
}

#[tokio::test]
async fn anthropic_cents_strings_are_exact_and_need_a_budget_or_prepaid() {
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let format = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let base_url = serving(vec![(
        "/v1/organizations/cost_report",
        json!({"data": [{"starting_at": format(today), "ending_at": format(today + Duration::days(1)),
            "results": [
                {"currency": "USD", "amount": "123.78912", "workspace_id": null, "description": null},
                {"currency": "USD", "amount": "0.00088", "workspace_id": null, "description": null}
            ]}], "has_more": false, "next_page": null}),
    )])
    .await;
    let outcome = poll(
        "anthropic",
        &base_url,
        "sk-ant-admin01-exact-0000",
        &[("monthly_budget", "100")],
    )
    .await;
    let reading = only_reading(&outcome);
    // 123.79000 cents is $1.2379.
    assert_eq!(reading.used, Some(amount("1.2379")));
    assert_eq!(reading.remaining, amount("98.7621"));

    for (given, expected) in [
        (
            vec![],
            "a monthly budget (--budget 100) or the prepaid credit",
        ),
        (
            vec![("monthly_budget", "10"), ("prepaid", "20")],
            "not both",
        ),
        (
            vec![("monthly_budget", "ten")],
            "monthly_budget must be an amount",
        ),
    ] {
        let problem = source::build("anthropic", &base_url, &options(&given))
            .err()
            .expect("refused");
        assert!(problem.contains(expected), "{given:?}: {problem}");
    }
}

#[tokio::test]
async fn anthropic_budget_and_prepaid_meters_against_the_simulator() {
    let sim = spend_sim().await;
    let key = key_of(&sim, "anthropic-main");
    let before = served_month_spend(&sim, "anthropic", &key).await;
    let outcome = poll(
        "anthropic",
        &sim.base_url(),
        &key,
        &[("monthly_budget", "150")],
    )
    .await;
    let after = served_month_spend(&sim, "anthropic", &key).await;
    let reading = only_reading(&outcome);
    assert_budget_meter(reading, amount("150"));
    let used = reading.used.expect("used");
    assert!(
        before <= used && used <= after,
        "{before} <= {used} <= {after}"
    );

    // Prepaid since two days ago: about 2.x days at $0.96 a day drawn from $40.
    let since = (Utc::now() - Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let outcome = poll(
        "anthropic",
        &sim.base_url(),
        &key,
        &[("prepaid", "40"), ("prepaid_since", &since)],
    )
    .await;
    let reading = only_reading(&outcome);
    assert_eq!(
        (
            reading.meter.name.as_str(),
            reading.meter.kind,
            reading.meter.unit.as_str()
        ),
        ("prepaid", MeterKind::Balance, "USD")
    );
    assert_eq!((reading.limit, reading.reset_at), (None, None));
    let used = reading.used.expect("used");
    assert!(used > amount("1.9") && used < amount("2.9"), "{used}");
    assert_eq!(reading.remaining, amount("40") - used);

    // Without a date, the spend of the past year counts: the account has spent $0.96 a day for
    // longer than that, so a year's worth, from 13 pages of 31 days.
    let outcome = poll("anthropic", &sim.base_url(), &key, &[("prepaid", "1000")]).await;
    let used = only_reading(&outcome).used.expect("used");
    assert!(used > amount("349") && used < amount("352"), "{used}");
    sim.shutdown().await;
}

/// Runs a backfill and returns its readings with every progress call.
async fn backfill(
    kind: &str,
    base_url: &str,
    key: &str,
    opts: &[(&str, &str)],
) -> (Vec<(DateTime<Utc>, Reading)>, Vec<(usize, usize)>) {
    let source = source::build(kind, base_url, &options(opts)).expect("a valid source");
    // A progress callback lives as long as it likes, so it shares the log rather than borrow it.
    let calls = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&calls);
    let progress = move |done: usize, total: usize| log.lock().expect("lock").push((done, total));
    let filled = source
        .backfill(&HttpRunner::new(), &keys(key), &progress)
        .await;
    assert!(filled.failures.is_empty(), "{:?}", filled.failures);
    let calls = calls.lock().expect("lock").clone();
    (filled.history, calls)
}

/// Thirty days, one reading at the end of each, the spend counted from each month's 1st.
fn assert_thirty_days_with_a_month_boundary(
    history: &[(DateTime<Utc>, Reading)],
    calls: &[(usize, usize)],
    limit: Decimal,
    per_day: Decimal,
) {
    assert_eq!(history.len(), 30);
    let yesterday_end = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        - Duration::seconds(1);
    assert_eq!(history[29].0, yesterday_end);
    assert!(history
        .windows(2)
        .all(|w| w[1].0 - w[0].0 == Duration::days(1)));
    assert!(!calls.is_empty());
    assert!(calls.windows(2).all(|w| w[0].0 < w[1].0), "{calls:?}");
    let (done, total) = calls[calls.len() - 1];
    assert_eq!(done, total, "{calls:?}");

    // Thirty consecutive days always hold a 1st, where the month's spend starts again.
    let mut firsts = 0;
    for (i, (at, reading)) in history.iter().enumerate() {
        let used = reading.used.expect("used");
        assert_budget_shape(reading, limit, *at);
        if at.day() == 1 {
            firsts += 1;
            assert!(used < per_day * Decimal::new(11, 1), "{at}: {used}");
            if i > 0 {
                assert!(used < history[i - 1].1.used.expect("used"), "{at}");
            }
        } else if i > 0 {
            let grew = used - history[i - 1].1.used.expect("used");
            assert!(
                grew > per_day * Decimal::new(9, 1) && grew < per_day * Decimal::new(11, 1),
                "{at}: {grew}"
            );
        }
    }
    assert!(firsts >= 1);
}

fn assert_budget_shape(reading: &Reading, limit: Decimal, at: DateTime<Utc>) {
    assert_eq!(reading.meter.kind, MeterKind::Budget);
    assert_eq!(reading.limit, Some(limit));
    assert_eq!(reading.remaining, limit - reading.used.expect("used"));
    assert_eq!(reading.reset_at, Some(next_month_start(at)));
}

#[tokio::test]
async fn backfill_fills_thirty_days_and_restarts_each_month() {
    let sim = spend_sim().await;
    let (history, calls) = backfill(
        "openai",
        &sim.base_url(),
        &key_of(&sim, "openai-limited"),
        &[],
    )
    .await;
    // $0.05 an hour is $1.20 a day.
    assert_thirty_days_with_a_month_boundary(&history, &calls, amount("123.45"), amount("1.2"));

    let (history, calls) = backfill(
        "anthropic",
        &sim.base_url(),
        &key_of(&sim, "anthropic-main"),
        &[("monthly_budget", "150")],
    )
    .await;
    // Anthropic's pages hold 31 days, so the 30 days and their first month take two or three.
    assert!(calls.len() >= 2, "{calls:?}");
    assert_thirty_days_with_a_month_boundary(&history, &calls, amount("150"), amount("0.96"));

    // Without a budget, a backfill says why there is nothing to fill.
    let source = source::build("openai", &sim.base_url(), &SourceOptions::new()).expect("valid");
    let filled = source
        .backfill(
            &HttpRunner::new(),
            &keys(&key_of(&sim, "openai-unlimited")),
            &|_, _| {},
        )
        .await;
    assert!(filled.history.is_empty());
    assert!(filled.failures[0].message.contains("no monthly budget"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_admin_key_is_auth_invalid_and_never_repeated() {
    let sim = spend_sim().await;
    for (kind, wrong, opts) in [
        ("openai", "sk-admin-wrong-key-123456789", vec![]),
        (
            "anthropic",
            "sk-ant-admin01-wrong-key-123456789",
            vec![("monthly_budget", "10")],
        ),
    ] {
        let outcome = poll(kind, &sim.base_url(), wrong, &opts).await;
        assert!(outcome.readings.is_empty());
        let failure = &outcome.failures[0];
        assert_eq!(failure.status, Some(401), "{failure:?}");
        assert_eq!(
            failure.class,
            Some(FailureClass::AuthInvalid),
            "{failure:?}"
        );
        assert!(
            !failure.message.contains(wrong) && !failure.excerpt.contains(wrong),
            "{failure:?}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn out_of_credit_chat_is_credits_exhausted() {
    let sim = spend_sim().await;
    let http = HttpRunner::new();
    let request =
        json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});

    let key = key_of(&sim, "openai-dry");
    let path = chat_path("openai").expect("simulated");
    let response = http
        .post_json_bearer(&format!("{}{path}", sim.base_url()), &key, &request)
        .await
        .expect("answered");
    assert_eq!(response.status, 429);
    let failure = status_failure("openai", path, &response, &[&key]);
    assert_eq!(
        failure.class,
        Some(FailureClass::CreditsExhausted),
        "{failure:?}"
    );

    let key = key_of(&sim, "anthropic-dry");
    let path = chat_path("anthropic").expect("simulated");
    let response = http
        .post_json_with_key_header(
            &format!("{}{path}", sim.base_url()),
            "x-api-key",
            &key,
            &[ANTHROPIC_VERSION],
            &request,
        )
        .await
        .expect("answered");
    assert_eq!(response.status, 400);
    let failure = status_failure("anthropic", path, &response, &[&key]);
    assert_eq!(
        failure.class,
        Some(FailureClass::CreditsExhausted),
        "{failure:?}"
    );
    assert!(
        failure.message.contains("credit balance is too low"),
        "{}",
        failure.message
    );
    sim.shutdown().await;
}
