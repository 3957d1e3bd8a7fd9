//! Anthropic: the Admin API's `GET /v1/organizations/cost_report` (daily buckets, amounts as
//! decimal strings in cents, cursor pages), with the key in `x-api-key` and a required
//! `anthropic-version`. There is no balance or limit endpoint. `/v1/messages` answers 400 "credit
//! balance is too low" once the prepaid credit is gone.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::rate::{with_rate_headers, Family};
use super::spend::{daily_spend, DayBucket};
use super::{chat_request, json_error, raw_json};
use crate::model::Curve;
use crate::world::World;

const KIND: &str = "anthropic";
pub(crate) const COST_REPORT_PATH: &str = "/v1/organizations/cost_report";
pub(crate) const CHAT_PATH: &str = "/v1/messages";
const DEFAULT_LIMIT: i64 = 7;
const MAX_LIMIT: i64 = 31;
/// Cost amounts carry fractional cents, like the documented "123.78912".
const CENT_DECIMALS: u32 = 5;

// Served verbatim: the documented 401 and the out-of-credit 400 captured in the wild.
const BODY_401: &str = include_str!("../../fixtures/anthropic.error-401-authentication.json");
const BODY_400_CREDIT: &str =
    include_str!("../../fixtures/anthropic.error-400-credit-balance-too-low.json");

pub(crate) fn routes() -> Router<Arc<World>> {
    Router::new()
        .route(COST_REPORT_PATH, get(cost_report))
        .route(CHAT_PATH, post(messages))
}

/// The last 31 days of costs in one page: what a client asking for a month's history gets.
pub(crate) fn snapshot(curve: &Curve, at: DateTime<Utc>) -> Vec<(String, Value)> {
    let buckets = daily_spend(curve, at - Duration::days(30), at, None);
    vec![(
        COST_REPORT_PATH.to_string(),
        cost_page(&buckets, 0, MAX_LIMIT),
    )]
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    json_error(
        status,
        json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": null}),
    )
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request_error", message)
}

/// Why Anthropic turned a request away before reading it.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    NoKey,
    UnknownKey,
    NoVersion,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::NoKey => error(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "x-api-key header is required",
            ),
            Refusal::UnknownKey => raw_json(StatusCode::UNAUTHORIZED, BODY_401),
            Refusal::NoVersion => bad_request("anthropic-version: header is required"),
        }
    }
}

/// The account of the request's `x-api-key`, after the checks Anthropic makes on every call.
fn authenticate<'w>(world: &'w World, headers: &HeaderMap) -> Result<&'w Curve, Refusal> {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or(Refusal::NoKey)?;
    let (curve, _) = world.by_key(KIND, key).ok_or(Refusal::UnknownKey)?;
    if headers.get("anthropic-version").is_none() {
        return Err(Refusal::NoVersion);
    }
    Ok(curve)
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn cents_text(usd: Decimal) -> String {
    (usd * Decimal::ONE_HUNDRED)
        .round_dp(CENT_DECIMALS)
        .normalize()
        .to_string()
}

fn cost_page(buckets: &[DayBucket], first: usize, limit: i64) -> Value {
    let limit = usize::try_from(limit).unwrap_or(1);
    let page: Vec<Value> = buckets
        .iter()
        .skip(first)
        .take(limit)
        .map(|b| {
            // Ungrouped, so the grouping fields are null; a day without spend has no results.
            let results: Vec<Value> = if b.spent.is_zero() {
                vec![]
            } else {
                vec![json!({
                    "currency": "USD",
                    "amount": cents_text(b.spent),
                    "workspace_id": null,
                    "description": null,
                    "cost_type": null,
                    "context_window": null,
                    "model": null,
                    "service_tier": null,
                    "token_type": null,
                })]
            };
            json!({
                "starting_at": rfc3339(b.start),
                "ending_at": rfc3339(b.end),
                "results": results,
            })
        })
        .collect();
    let next = buckets.get(first + limit);
    json!({
        "data": page,
        "has_more": next.is_some(),
        "next_page": next.map(|b| format!("page_{}", rfc3339(b.start))),
    })
}

fn time_param(
    query: &HashMap<String, String>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, String> {
    let Some(text) = query.get(name) else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| Some(t.to_utc()))
        .map_err(|_| format!("{name}: invalid datetime, expected RFC 3339"))
}

async fn cost_report(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let curve = match authenticate(&world, &headers) {
        Ok(curve) => curve,
        Err(refusal) => return refusal.into_response(),
    };
    let now = Utc::now();
    let start = match time_param(&query, "starting_at") {
        Ok(Some(start)) => start,
        Ok(None) => return bad_request("starting_at: Field required"),
        Err(problem) => return bad_request(&problem),
    };
    let end = match time_param(&query, "ending_at") {
        Ok(end) => end.map_or(now, |e| e.min(now)),
        Err(problem) => return bad_request(&problem),
    };
    if query.get("bucket_width").is_some_and(|w| w != "1d") {
        return bad_request("bucket_width: cost reports only support '1d'");
    }
    let limit = match query.get("limit").map(|l| l.trim().parse::<i64>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(l)) if (1..=MAX_LIMIT).contains(&l) => l,
        Some(_) => return bad_request(&format!("limit: must be between 1 and {MAX_LIMIT}")),
    };
    let buckets = daily_spend(curve, start, end, None);
    let first = match query.get("page") {
        None => 0,
        Some(cursor) => {
            let index = cursor
                .strip_prefix("page_")
                .and_then(|at| buckets.iter().position(|b| rfc3339(b.start) == at));
            match index {
                Some(index) => index,
                None => return bad_request("page: invalid pagination cursor"),
            }
        }
    };
    let page = Json(cost_page(&buckets, first, limit)).into_response();
    with_rate_headers(page, Family::Anthropic, &world, curve, 0)
}

async fn messages(State(world): State<Arc<World>>, headers: HeaderMap, body: Bytes) -> Response {
    let curve = match authenticate(&world, &headers) {
        Ok(curve) => curve,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(request) = chat_request(&body) else {
        return bad_request("There was an issue with your request: the body is not valid JSON");
    };
    if curve.wallet_at(Utc::now()).total <= Decimal::ZERO {
        return raw_json(StatusCode::BAD_REQUEST, BODY_400_CREDIT);
    }
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("claude-sonnet-4-20250514");
    let reply = Json(json!({
        "id": format!("msg_sim_{:08}", world.next_id()),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": "This is a simulated reply from headroom sim."}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": 1, "output_tokens": 9},
    }))
    .into_response();
    with_rate_headers(reply, Family::Anthropic, &world, curve, 10)
}
