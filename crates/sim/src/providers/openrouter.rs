//! OpenRouter: `/api/v1/key` (any key), `/api/v1/credits` and `/api/v1/activity` (management key
//! only) and chat.

use std::sync::Arc;

use axum::body::Bytes;
use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::spend::day_start;
use super::{authenticate, chat_request, number, raw_json, AuthProblem};
use crate::model::{AccountState, Curve};
use crate::world::{KeyKind, World};

const KIND: &str = "openrouter";
pub(crate) const KEY_PATH: &str = "/api/v1/key";
pub(crate) const CREDITS_PATH: &str = "/api/v1/credits";
pub(crate) const ACTIVITY_PATH: &str = "/api/v1/activity";
pub(crate) const CHAT_PATH: &str = "/api/v1/chat/completions";
/// `/activity` covers this many completed UTC days.
const ACTIVITY_DAYS: i64 = 30;
/// Each day's spend is split over these models, so a reader must add a day's items up.
const ACTIVITY_MODELS: [(&str, &str, &str); 2] = [
    ("openai/gpt-4.1", "openai/gpt-4.1-2025-04-14", "OpenAI"),
    (
        "anthropic/claude-sonnet-4",
        "anthropic/claude-4-sonnet-20250522",
        "Anthropic",
    ),
];

// Served verbatim so the sim matches OpenRouter's documented bodies byte for byte.
const BODY_402: &str = include_str!("../../fixtures/openrouter.error-402.json");
const BODY_403_CREDITS: &str =
    include_str!("../../fixtures/openrouter.error-403-credits-needs-management-key.json");

pub(crate) fn routes() -> Router<Arc<World>> {
    Router::new()
        .route(KEY_PATH, get(key_info))
        .route(CREDITS_PATH, get(credits))
        .route(ACTIVITY_PATH, get(activity))
        .route(CHAT_PATH, post(chat_completions))
}

/// The key's view, and the account's credits when it has a management key to read them with.
pub(crate) fn snapshot(curve: &Curve, at: DateTime<Utc>) -> Vec<(String, Value)> {
    let mut served = vec![(
        KEY_PATH.to_string(),
        key_body(curve, KeyKind::Inference, at),
    )];
    if curve.spec.management_key.is_some() {
        served.push((CREDITS_PATH.to_string(), credits_body(curve, at)));
    }
    served
}

/// OpenRouter's error envelope, which the sim also uses for paths nobody serves.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    super::json_error(
        status,
        json!({"error": {"code": status.as_u16(), "message": message}}),
    )
}

fn unauthorized(problem: AuthProblem) -> Response {
    let message = match problem {
        AuthProblem::NoKey => "No auth credentials found",
        AuthProblem::UnknownKey => "User not found.",
    };
    error(StatusCode::UNAUTHORIZED, message)
}

/// OpenRouter labels keys with a masked form like "sk-or-v1-au7...890".
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 14 {
        return key.to_string();
    }
    let head: String = chars[..11].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}...{tail}")
}

fn key_body(curve: &Curve, kind: KeyKind, at: DateTime<Utc>) -> Value {
    let spec = &curve.spec;
    // A management key spends nothing itself and has no limit of its own.
    let (label, state, [daily, weekly, monthly], reset) = match kind {
        KeyKind::Inference => (
            mask(&spec.key),
            curve.state_at(at),
            curve.period_usage(at),
            spec.limit_reset.clone(),
        ),
        KeyKind::Management => (
            mask(spec.management_key.as_deref().unwrap_or_default()),
            AccountState {
                key_usage: Decimal::ZERO,
                key_limit: None,
                key_limit_remaining: None,
                total_credits: spec.total_credits,
                total_usage: Decimal::ZERO,
            },
            [Decimal::ZERO; 3],
            None,
        ),
    };
    json!({"data": {
        "byok_usage": 0, "byok_usage_daily": 0, "byok_usage_monthly": 0, "byok_usage_weekly": 0,
        "creator_user_id": format!("user_sim_{}", spec.name),
        "expires_at": null,
        "include_byok_in_limit": false,
        "is_free_tier": false,
        "is_management_key": kind == KeyKind::Management,
        "is_provisioning_key": false,
        "label": label,
        "limit": state.key_limit.map(number),
        "limit_remaining": state.key_limit_remaining.map(number),
        "limit_reset": reset,
        "rate_limit": {"interval": "1h", "note": "This field is deprecated and safe to ignore.", "requests": 1000},
        "usage": number(state.key_usage),
        "usage_daily": number(daily),
        "usage_monthly": number(monthly),
        "usage_weekly": number(weekly),
    }})
}

fn credits_body(curve: &Curve, at: DateTime<Utc>) -> Value {
    let state = curve.state_at(at);
    json!({"data": {
        "total_credits": number(state.total_credits),
        "total_usage": number(state.total_usage),
    }})
}

async fn key_info(State(world): State<Arc<World>>, headers: HeaderMap) -> Response {
    match authenticate(&world, KIND, &headers) {
        Ok((curve, kind)) => Json(key_body(curve, kind, Utc::now())).into_response(),
        Err(problem) => unauthorized(problem),
    }
}

async fn credits(State(world): State<Arc<World>>, headers: HeaderMap) -> Response {
    match authenticate(&world, KIND, &headers) {
        Err(problem) => unauthorized(problem),
        Ok((_, KeyKind::Inference)) => raw_json(StatusCode::FORBIDDEN, BODY_403_CREDITS),
        Ok((curve, KeyKind::Management)) => Json(credits_body(curve, Utc::now())).into_response(),
    }
}

/// The last [`ACTIVITY_DAYS`] completed UTC days before `at`, oldest first, each split over
/// [`ACTIVITY_MODELS`]; `only` keeps one day. A day's usage is the curve's usage at its end minus
/// at its start, so the items of a day add up to exactly what `state_at` says was spent in it.
fn activity_body(curve: &Curve, at: DateTime<Utc>, only: Option<NaiveDate>) -> Value {
    let today = day_start(at);
    let mut items = Vec::new();
    for ago in (1..=ACTIVITY_DAYS).rev() {
        let start = today - Duration::days(ago);
        let date = start.date_naive();
        if only.is_some_and(|d| d != date) {
            continue;
        }
        let end = start + Duration::days(1);
        let spent = (curve.state_at(end).total_usage - curve.state_at(start).total_usage)
            .max(Decimal::ZERO);
        // 60% on the first model (to the micro-dollar), the rest on the second: exact in sum.
        let first = (spent * Decimal::new(6, 1)).round_dp(6);
        for ((model, permaslug, provider), usage) in
            ACTIVITY_MODELS.iter().zip([first, spent - first])
        {
            // About a cent a request and 2,000 tokens a cent; only usage is read by Headroom.
            let cents = (usage * Decimal::ONE_HUNDRED).round();
            let requests = cents.to_i64().unwrap_or(0).max(i64::from(!usage.is_zero()));
            items.push(json!({
                "byok_usage_inference": 0,
                "completion_tokens": requests * 500,
                "date": date.format("%Y-%m-%d").to_string(),
                "endpoint_id": format!("00000000-0000-4000-8000-{:012}", start.timestamp() / 86_400),
                "model": model,
                "model_permaslug": permaslug,
                "prompt_tokens": requests * 1500,
                "provider_name": provider,
                "reasoning_tokens": 0,
                "requests": requests,
                "usage": number(usage),
            }));
        }
    }
    json!({"data": items})
}

async fn activity(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let curve = match authenticate(&world, KIND, &headers) {
        Err(problem) => return unauthorized(problem),
        // The same refusal as /credits: both are management-key endpoints.
        Ok((_, KeyKind::Inference)) => return raw_json(StatusCode::FORBIDDEN, BODY_403_CREDITS),
        Ok((curve, KeyKind::Management)) => curve,
    };
    let only = match query.get("date").map(|d| d.trim()) {
        None | Some("") => None,
        Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => return error(StatusCode::BAD_REQUEST, "Invalid date: expected YYYY-MM-DD"),
        },
    };
    Json(activity_body(curve, Utc::now(), only)).into_response()
}

async fn chat_completions(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (curve, _) = match authenticate(&world, KIND, &headers) {
        Ok(found) => found,
        Err(problem) => return unauthorized(problem),
    };
    let Some(request) = chat_request(&body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON in request body");
    };
    let now = Utc::now();
    let state = curve.state_at(now);
    let key_exhausted = state
        .key_limit_remaining
        .is_some_and(|r| r <= Decimal::ZERO);
    if key_exhausted || state.total_credits - state.total_usage <= Decimal::ZERO {
        return raw_json(StatusCode::PAYMENT_REQUIRED, BODY_402);
    }
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("openrouter/auto");
    let id = world.next_id();
    Json(json!({
        "id": format!("gen-sim-{id:08}"),
        "provider": "Headroom Sim",
        "model": model,
        "object": "chat.completion",
        "created": now.timestamp(),
        "choices": [{
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "This is a simulated reply from headroom sim."},
        }],
        "usage": {"prompt_tokens": 0, "completion_tokens": 9, "total_tokens": 9},
    }))
    .into_response()
}
