//! OpenAI: the Admin API's `GET /v1/organization/costs` (daily buckets, cursor pages) and
//! `GET /v1/organization/spend_limit` (the org's monthly hard limit in cents); chat answers 429
//! `insufficient_quota` once the limit is reached or the credit is gone.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::rate::{with_rate_headers, Family};
use super::spend::{daily_spend, month_start, month_to_date, DayBucket};
use super::{authenticate, chat_request, completion, json_error, number, raw_json, AuthProblem};
use crate::model::Curve;
use crate::world::World;

const KIND: &str = "openai";
pub(crate) const COSTS_PATH: &str = "/v1/organization/costs";
pub(crate) const SPEND_LIMIT_PATH: &str = "/v1/organization/spend_limit";
pub(crate) const CHAT_PATH: &str = "/v1/chat/completions";
const DEFAULT_LIMIT: i64 = 7;
const MAX_LIMIT: i64 = 180;
/// Enough for any calendar month in one page.
const SNAPSHOT_LIMIT: i64 = 31;
/// What the sim's canned reply counts against the token window.
const CHAT_TOKENS: u64 = 9;

// Captured in the wild (the notes cite ShellGPT#23); served verbatim.
const BODY_429: &str = include_str!("../../fixtures/openai.error-429-insufficient-quota.json");

pub(crate) fn routes() -> Router<Arc<World>> {
    Router::new()
        .route(COSTS_PATH, get(costs))
        .route(SPEND_LIMIT_PATH, get(spend_limit))
}

/// The spend limit (when the org has one), then the month's costs so far in one page.
pub(crate) fn snapshot(curve: &Curve, at: DateTime<Utc>) -> Vec<(String, Value)> {
    let mut served = Vec::new();
    if let Some(body) = spend_limit_body(curve) {
        served.push((SPEND_LIMIT_PATH.to_string(), body));
    }
    let buckets = daily_spend(curve, month_start(at), at, curve.spec.monthly_limit);
    served.push((
        COSTS_PATH.to_string(),
        costs_page(&buckets, 0, SNAPSHOT_LIMIT),
    ));
    served
}

fn error(
    status: StatusCode,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Value,
) -> Response {
    json_error(
        status,
        json!({"error": {"message": message, "type": kind, "param": param, "code": code}}),
    )
}

fn bad_request(message: &str, param: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        message,
        "invalid_request_error",
        Some(param),
        Value::Null,
    )
}

/// OpenAI shows the start and end of a rejected key, never all of it.
fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 12))
}

fn unauthorized(problem: AuthProblem, headers: &HeaderMap) -> Response {
    match problem {
        AuthProblem::NoKey => error(
            StatusCode::UNAUTHORIZED,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            None,
            Value::Null,
        ),
        AuthProblem::UnknownKey => {
            let key = headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.get(7..))
                .unwrap_or_default()
                .trim();
            error(
                StatusCode::UNAUTHORIZED,
                &format!(
                    "Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys.",
                    masked(key)
                ),
                "invalid_request_error",
                None,
                json!("invalid_api_key"),
            )
        }
    }
}

/// The documented body with the account's limit in whole cents.
fn spend_limit_body(curve: &Curve) -> Option<Value> {
    let limit = curve.spec.monthly_limit?;
    let cents = (limit * Decimal::ONE_HUNDRED).round();
    Some(json!({
        "object": "organization.spend_limit",
        "threshold_amount": number(cents),
        "currency": "USD",
        "interval": "month",
        "enforcement": {"status": "enforcing"},
    }))
}

/// One page of buckets starting at index `first`; the cursor names the next bucket's start.
fn costs_page(buckets: &[DayBucket], first: usize, limit: i64) -> Value {
    let limit = usize::try_from(limit).unwrap_or(1);
    let page: Vec<Value> = buckets
        .iter()
        .skip(first)
        .take(limit)
        .map(|b| {
            // A day without spend is a bucket with no results, as OpenAI serves it.
            let results: Vec<Value> = if b.spent.is_zero() {
                vec![]
            } else {
                vec![json!({
                    "object": "organization.costs.result",
                    "amount": {"value": number(b.spent.round_dp(6)), "currency": "usd"},
                    "line_item": null,
                    "project_id": null,
                    "api_key_id": null,
                    "quantity": null,
                    "quantity_unit": null,
                })]
            };
            json!({
                "object": "bucket",
                "start_time": b.start.timestamp(),
                "end_time": b.end.timestamp(),
                "results": results,
            })
        })
        .collect();
    let next = buckets.get(first + limit);
    json!({
        "object": "page",
        "data": page,
        "has_more": next.is_some(),
        "next_page": next.map(|b| format!("page_{}", b.start.timestamp())),
    })
}

fn unix_param(
    query: &HashMap<String, String>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, String> {
    let Some(text) = query.get(name) else {
        return Ok(None);
    };
    text.trim()
        .parse::<i64>()
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .map(Some)
        .ok_or_else(|| format!("Invalid value for '{name}': expected a Unix timestamp in seconds."))
}

async fn costs(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let curve = match authenticate(&world, KIND, &headers) {
        Ok((curve, _)) => curve,
        Err(problem) => return unauthorized(problem, &headers),
    };
    let now = Utc::now();
    let start = match unix_param(&query, "start_time") {
        Ok(Some(start)) => start,
        Ok(None) => return bad_request("Missing required parameter: 'start_time'.", "start_time"),
        Err(problem) => return bad_request(&problem, "start_time"),
    };
    let end = match unix_param(&query, "end_time") {
        Ok(end) => end.map_or(now, |e| e.min(now)),
        Err(problem) => return bad_request(&problem, "end_time"),
    };
    if query.get("bucket_width").is_some_and(|w| w != "1d") {
        return bad_request(
            "Invalid value for 'bucket_width': costs are only available in '1d' buckets.",
            "bucket_width",
        );
    }
    let limit = match query.get("limit").map(|l| l.trim().parse::<i64>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(l)) if (1..=MAX_LIMIT).contains(&l) => l,
        Some(_) => {
            return bad_request(
                &format!("Invalid value for 'limit': it must be between 1 and {MAX_LIMIT}."),
                "limit",
            )
        }
    };
    let buckets = daily_spend(curve, start, end, curve.spec.monthly_limit);
    let first = match query.get("page") {
        None => 0,
        Some(cursor) => {
            let at = cursor
                .strip_prefix("page_")
                .and_then(|s| s.parse::<i64>().ok());
            match at.and_then(|at| buckets.iter().position(|b| b.start.timestamp() == at)) {
                Some(index) => index,
                None => return bad_request("Invalid value for 'page'.", "page"),
            }
        }
    };
    let page = Json(costs_page(&buckets, first, limit)).into_response();
    with_rate_headers(page, Family::OpenAi, &world, curve, 0)
}

async fn spend_limit(State(world): State<Arc<World>>, headers: HeaderMap) -> Response {
    let curve = match authenticate(&world, KIND, &headers) {
        Ok((curve, _)) => curve,
        Err(problem) => return unauthorized(problem, &headers),
    };
    match spend_limit_body(curve) {
        Some(body) => {
            with_rate_headers(Json(body).into_response(), Family::OpenAi, &world, curve, 0)
        }
        // Undocumented: what OpenAI answers for an organisation without a limit. A 404 is the
        // likeliest reading of "DELETE removes" it.
        None => error(
            StatusCode::NOT_FOUND,
            "No spend limit is set for this organization.",
            "invalid_request_error",
            None,
            Value::Null,
        ),
    }
}

/// Whether `key` belongs to an OpenAI account, so a shared chat path can route it here.
pub(crate) fn owns_key(world: &World, headers: &HeaderMap) -> bool {
    authenticate(world, KIND, headers).is_ok()
}

pub(crate) async fn chat_completions(
    world: Arc<World>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let curve = match authenticate(&world, KIND, &headers) {
        Ok((curve, _)) => curve,
        Err(problem) => return unauthorized(problem, &headers),
    };
    let Some(request) = chat_request(&body) else {
        return bad_request("We could not parse the JSON body of your request.", "body");
    };
    let now = Utc::now();
    let over_limit = curve
        .spec
        .monthly_limit
        .is_some_and(|limit| month_to_date(curve, now, Some(limit)) >= limit);
    if over_limit || curve.wallet_at(now).total <= Decimal::ZERO {
        return raw_json(StatusCode::TOO_MANY_REQUESTS, BODY_429);
    }
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("gpt-4o-mini");
    let id = format!("chatcmpl-sim-{:08}", world.next_id());
    let reply = Json(completion(id, model, now.timestamp())).into_response();
    with_rate_headers(reply, Family::OpenAi, &world, curve, CHAT_TOKENS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_keys_are_shown_masked() {
        assert_eq!(masked("sk-proj-abc123xyz0wxyz"), "sk-proj-**********wxyz");
        assert_eq!(masked("short"), "*****");
    }
}
