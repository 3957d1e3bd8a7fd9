//! DeepSeek: `GET /user/balance` with the API key, amounts as 2-decimal strings; chat answers
//! 402 "Insufficient Balance" once the wallet is empty.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{
    authenticate, chat_request, completion, decimal_text, json_error, raw_json, AuthProblem,
};
use crate::model::Curve;
use crate::world::World;

const KIND: &str = "deepseek";
pub(crate) const BALANCE_PATH: &str = "/user/balance";
pub(crate) const CHAT_PATH: &str = "/chat/completions";

// Captured in the wild (continuedev/continue#4293); served verbatim.
const BODY_402: &str = include_str!("../../fixtures/deepseek.error-402.json");

pub(crate) fn routes() -> Router<Arc<World>> {
    Router::new()
        .route(BALANCE_PATH, get(balance))
        .route(CHAT_PATH, post(chat_completions))
}

pub(crate) fn snapshot(curve: &Curve, at: DateTime<Utc>) -> Vec<(String, Value)> {
    vec![(BALANCE_PATH.to_string(), balance_body(curve, at))]
}

/// DeepSeek's OpenAI-style envelope, whose `type`/`code` pairs are its own.
fn error(status: StatusCode, message: &str, kind: &str) -> Response {
    json_error(
        status,
        json!({"error": {"message": message, "type": kind, "param": null, "code": "invalid_request_error"}}),
    )
}

fn unauthorized(problem: AuthProblem) -> Response {
    match problem {
        AuthProblem::NoKey => error(
            StatusCode::UNAUTHORIZED,
            "Authentication Fails (auth header format should be Bearer sk-...)",
            "authentication_error",
        ),
        AuthProblem::UnknownKey => error(
            StatusCode::UNAUTHORIZED,
            "Authentication Fails (no such user)",
            "authentication_error",
        ),
    }
}

fn balance_body(curve: &Curve, at: DateTime<Utc>) -> Value {
    let wallet = curve.wallet_at(at);
    // Rounded parts first, so that the strings add up exactly the way DeepSeek's do.
    let total = decimal_text(wallet.total, 2);
    let granted = decimal_text(wallet.granted, 2);
    let topped_up = decimal_text(wallet.total.round_dp(2) - wallet.granted.round_dp(2), 2);
    json!({
        "is_available": wallet.total > Decimal::ZERO,
        "balance_infos": [{
            "currency": curve.spec.currency(),
            "total_balance": total,
            "granted_balance": granted,
            "topped_up_balance": topped_up,
        }],
    })
}

async fn balance(State(world): State<Arc<World>>, headers: HeaderMap) -> Response {
    match authenticate(&world, KIND, &headers) {
        Ok((curve, _)) => Json(balance_body(curve, Utc::now())).into_response(),
        Err(problem) => unauthorized(problem),
    }
}

async fn chat_completions(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let curve = match authenticate(&world, KIND, &headers) {
        Ok((curve, _)) => curve,
        Err(problem) => return unauthorized(problem),
    };
    let Some(request) = chat_request(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid request body: not JSON",
            "invalid_request_error",
        );
    };
    let now = Utc::now();
    if curve.wallet_at(now).total <= Decimal::ZERO {
        return raw_json(StatusCode::PAYMENT_REQUIRED, BODY_402);
    }
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("deepseek-chat");
    let id = format!("sim-{:08}", world.next_id());
    Json(completion(id, model, now.timestamp())).into_response()
}
