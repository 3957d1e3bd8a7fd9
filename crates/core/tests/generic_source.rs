//! The Generic JSON source over real HTTP: a small server answers like a provider with no adapter
//! of its own, and JSONPath options say where the amounts are.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use headroom_core::config::{self, AddSourceRequest};
use headroom_core::credentials::Credentials;
use headroom_core::scheduler::Poller;
use headroom_core::status;
use headroom_core::store::{NewSource, Store};
use headroom_core::Decimal;
use serde_json::json;

const KEY: &str = "sk-generic-test-key-0123456789abcdef";
const KEY_VAR: &str = "HEADROOM_GENERIC_TEST_KEY";

fn refused() -> axum::response::Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {"message": "Invalid API key", "type": "invalid_request_error"}})),
    )
        .into_response()
}

/// A Mistral-like balance (bearer key, flat body) and an in-house gateway's nested quota list
/// (key in `x-api-key`).
async fn provider() -> SocketAddr {
    let router = Router::new()
        .route(
            "/v1/billing/balance",
            get(|headers: HeaderMap| async move {
                let bearer = format!("Bearer {KEY}");
                if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&bearer) {
                    return refused();
                }
                Json(json!({"object": "balance", "currency": "EUR", "balance": 17.305}))
                    .into_response()
            }),
        )
        .route(
            "/internal/quota",
            get(|headers: HeaderMap| async move {
                if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(KEY) {
                    return refused();
                }
                Json(json!({"team": "ml", "budgets": [
                    {"period": "daily", "remaining": "1.00", "cap": "5.00", "spent": "4.00", "resets_at": 1775001600},
                    {"period": "monthly", "remaining": "40.10", "cap": "100.00", "spent": "59.90", "resets_at": "2026-05-01T00:00:00Z"}
                ]}))
                .into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

fn request(name: &str, base_url: &str, options: &[(&str, &str)]) -> AddSourceRequest {
    AddSourceRequest {
        kind: "generic".into(),
        name: name.into(),
        base_url: base_url.into(),
        key: None,
        key_env: Some(KEY_VAR.into()),
        management_key: None,
        management_key_env: None,
        interval: "15m".into(),
        options: Some(
            options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
    }
}

#[tokio::test]
async fn reads_a_flat_and_a_nested_body_exactly() {
    std::env::set_var(KEY_VAR, KEY);
    let addr = provider().await;
    let base = format!("http://{addr}");
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let credentials = Arc::new(Credentials::new());
    config::add_source(
        &store,
        &credentials,
        &request(
            "mistral",
            &base,
            &[
                ("path", "/v1/billing/balance"),
                ("remaining", "$.balance"),
                ("unit_path", "$.currency"),
            ],
        ),
    )
    .unwrap();
    config::add_source(
        &store,
        &credentials,
        &request(
            "gateway",
            &base,
            &[
                ("path", "/internal/quota"),
                ("header_name", "x-api-key"),
                ("remaining", "$.budgets[?@.period == 'monthly'].remaining"),
                ("limit", "$.budgets[?@.period == 'monthly'].cap"),
                ("used", "$.budgets[?@.period == 'monthly'].spent"),
                ("reset_at", "$.budgets[?@.period == 'monthly'].resets_at"),
                ("unit", "USD"),
                ("meter_name", "Team budget"),
            ],
        ),
    )
    .unwrap();

    let poller = Arc::new(Poller::new(Arc::clone(&store), credentials));
    let reports = poller.poll_all_once().await.unwrap();
    assert!(reports.iter().all(|r| r.ok()), "{reports:?}");

    let statuses: Vec<_> = status::meter_statuses(&store)
        .unwrap()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let of = |source: &str| statuses.iter().find(|s| s.source == source).unwrap();
    let mistral = of("mistral");
    assert_eq!(mistral.meter.as_deref(), Some("balance"));
    assert_eq!(mistral.kind.as_deref(), Some("balance"));
    assert_eq!(mistral.unit.as_deref(), Some("EUR"));
    assert_eq!(mistral.remaining, Some(Decimal::new(17305, 3)));
    assert_eq!(mistral.limit, None);

    let gateway = of("gateway");
    assert_eq!(gateway.meter.as_deref(), Some("team_budget"));
    assert_eq!(gateway.meter_label.as_deref(), Some("Team budget"));
    assert_eq!(gateway.kind.as_deref(), Some("budget"));
    assert_eq!(gateway.unit.as_deref(), Some("USD"));
    assert_eq!(gateway.remaining, Some(Decimal::new(4010, 2)));
    assert_eq!(gateway.limit, Some(Decimal::new(100, 0)));
    assert_eq!(
        gateway.reset_at.map(|t| t.to_rfc3339()),
        Some("2026-05-01T00:00:00+00:00".to_string())
    );
}

#[tokio::test]
async fn a_bad_jsonpath_is_refused_when_added_and_reported_when_polled() {
    std::env::set_var(KEY_VAR, KEY);
    let addr = provider().await;
    let base = format!("http://{addr}");
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let credentials = Arc::new(Credentials::new());

    let refused = config::add_source(
        &store,
        &credentials,
        &request(
            "typo",
            &base,
            &[("path", "/v1/billing/balance"), ("remaining", "$.balance[")],
        ),
    )
    .unwrap_err()
    .to_string();
    assert!(
        refused.contains("remaining \"$.balance[\" is not a JSONPath expression"),
        "{refused}"
    );
    let missing = config::add_source(&store, &credentials, &request("none", &base, &[]))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("needs Remaining"), "{missing}");
    assert!(store.list_sources().unwrap().is_empty());

    // A source stored before its options were checked (an older version, an edited database)
    // fails each poll in the same words instead of polling something else.
    store
        .add_source(&NewSource {
            name: "stale".into(),
            kind: "generic".into(),
            base_url: base.clone(),
            key_ref: Some(format!("env:{KEY_VAR}")),
            management_key_ref: None,
            interval_secs: 900,
            options: [
                ("path".to_string(), "/v1/billing/balance".to_string()),
                ("remaining".to_string(), "balance".to_string()),
            ]
            .into(),
        })
        .unwrap();
    // And a good path that finds nothing says so, with the endpoint it asked.
    config::add_source(
        &store,
        &credentials,
        &request(
            "moved",
            &base,
            &[
                ("path", "/v1/billing/balance"),
                ("remaining", "$.data.balance"),
            ],
        ),
    )
    .unwrap();
    let poller = Arc::new(Poller::new(Arc::clone(&store), credentials));
    let reports = poller.poll_all_once().await.unwrap();
    let failures = |name: &str| {
        reports
            .iter()
            .find(|r| r.source == name)
            .unwrap()
            .failures
            .join("; ")
    };
    let stale = failures("stale");
    assert!(
        stale.contains("is not a JSONPath expression") && stale.contains("like $.balance"),
        "{stale}"
    );
    let moved = failures("moved");
    assert!(
        moved.contains("/v1/billing/balance") && moved.contains("$.data.balance finds nothing"),
        "{moved}"
    );
}

#[tokio::test]
async fn a_wrong_key_is_classified_and_never_shown() {
    let addr = provider().await;
    let mut wrong = request(
        "",
        &format!("http://{addr}"),
        &[("path", "/v1/billing/balance"), ("remaining", "$.balance")],
    );
    wrong.key = Some("sk-generic-wrong-key-999999999999".into());
    let result = config::test_source(&headroom_core::source::HttpRunner::new(), &wrong)
        .await
        .unwrap();
    let said = &result.failures[0].message;
    assert!(said.starts_with("Key rejected"), "{said}");
    assert!(said.contains("Invalid API key"), "{said}");
    assert!(!said.contains("999999999999"), "{said}");
}
