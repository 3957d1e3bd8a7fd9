//! An in-house gateway with no adapter of its own, read by Headroom's Generic JSON source:
//! `GET /internal/billing/balance` with a bearer key, answering a nested body whose amounts are
//! decimal strings, so that the source's JSONPath options have something to find:
//!
//! ```json
//! {"account": {"id": "acct-sim-gateway",
//!              "credit": {"remaining": "412.50", "cap": "500.00", "spent": "87.50", "currency": "EUR"},
//!              "period": {"started_at": "…", "resets_at": "…"}}}
//! ```
//!
//! The cap is the account's `total_credits` and what is left of it follows the spend curve. The
//! billing period is fixed around the sim's start (it began before the demo's 30 days of history
//! and ends weeks after), so the history never crosses a reset the sim does not model.
//!
//! The sim answers no chat for it: what an in-house gateway answers when credit runs out is its
//! own business.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{authenticate, decimal_text, json_error, AuthProblem};
use crate::model::Curve;
use crate::world::World;

const KIND: &str = "generic";
pub(crate) const BALANCE_PATH: &str = "/internal/billing/balance";
/// Where the billing period stands around the sim's start, in whole UTC days.
const PERIOD_STARTED_DAYS_BEFORE: i64 = 40;
const PERIOD_ENDS_DAYS_AFTER: i64 = 24;

pub(crate) fn routes() -> Router<Arc<World>> {
    Router::new().route(BALANCE_PATH, get(balance))
}

pub(crate) fn snapshot(curve: &Curve, at: DateTime<Utc>) -> Vec<(String, Value)> {
    vec![(BALANCE_PATH.to_string(), balance_body(curve, at))]
}

/// Midnight UTC `days` after (or before) the sim's start.
fn midnight(curve: &Curve, days: i64) -> String {
    let day = (curve.started_at() + Duration::days(days)).date_naive();
    day.and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn balance_body(curve: &Curve, at: DateTime<Utc>) -> Value {
    let cap = curve.spec.total_credits.round_dp(2);
    // Rounded first, so that remaining and spent add up to the cap exactly.
    let remaining = curve.wallet_at(at).total.max(Decimal::ZERO).round_dp(2);
    json!({
        "account": {
            "id": format!("acct-sim-{}", curve.spec.name),
            "status": if remaining > Decimal::ZERO { "active" } else { "exhausted" },
            "credit": {
                "remaining": decimal_text(remaining, 2),
                "cap": decimal_text(cap, 2),
                "spent": decimal_text(cap - remaining, 2),
                "currency": curve.spec.currency(),
            },
            "period": {
                "started_at": midnight(curve, -PERIOD_STARTED_DAYS_BEFORE),
                "resets_at": midnight(curve, PERIOD_ENDS_DAYS_AFTER),
            },
        },
    })
}

/// A typical in-house envelope: a machine code and a sentence.
fn unauthorized(problem: AuthProblem) -> Response {
    let message = match problem {
        AuthProblem::NoKey => "missing bearer token",
        AuthProblem::UnknownKey => "invalid API key",
    };
    json_error(
        StatusCode::UNAUTHORIZED,
        json!({"error": {"code": "unauthorized", "message": message}}),
    )
}

async fn balance(State(world): State<Arc<World>>, headers: HeaderMap) -> Response {
    match authenticate(&world, KIND, &headers) {
        Ok((curve, _)) => Json(balance_body(curve, Utc::now())).into_response(),
        Err(problem) => unauthorized(problem),
    }
}
