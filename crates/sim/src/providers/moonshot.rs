//! Moonshot (Kimi): `GET /v1/users/me/balance` with the API key, amounts as JSON numbers; cash can
//! go negative after a suspension. Chat is refused with `exceeded_current_quota_error`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{authenticate, chat_request, completion, json_error, number, raw_json, AuthProblem};
use crate::model::Curve;
use crate::world::World;

const KIND: &str = "moonshot";
pub(crate) const BALANCE_PATH: &str = "/v1/users/me/balance";
pub(crate) const CHAT_PATH: &str = "/v1/chat/completions";
/// Moonshot's documented example has five decimals (49.58894).
const DECIMALS: u32 = 5;

// Built from the staff post quoted in the notes; the ids are filled in per account.
const BODY_SUSPENDED: &str = include_str!("../../fixtures/moonshot.error-suspended.json");

pub(crate) fn routes() -> Router<Arc<World>> {
    // Chat is routed in `providers`, because OpenAI answers at the same path.
    Router::new().route(BALANCE_PATH, get(balance))
}

pub(crate) fn snapshot(curve: &Curve, at: DateTime<Utc>) -> Vec<(String, Value)> {
    vec![(BALANCE_PATH.to_string(), balance_body(curve, at))]
}

fn error(status: StatusCode, message: &str, kind: &str) -> Response {
    json_error(status, json!({"error": {"message": message, "type": kind}}))
}

fn unauthorized(problem: AuthProblem) -> Response {
    match problem {
        AuthProblem::NoKey => error(
            StatusCode::UNAUTHORIZED,
            "Invalid Authentication",
            "invalid_authentication_error",
        ),
        AuthProblem::UnknownKey => error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided",
            "incorrect_api_key_error",
        ),
    }
}

/// Available is cash plus vouchers, except that arrears do not eat into vouchers.
fn available(cash: Decimal, voucher: Decimal) -> Decimal {
    voucher + cash.max(Decimal::ZERO)
}

fn balance_body(curve: &Curve, at: DateTime<Utc>) -> Value {
    let wallet = curve.wallet_at(at);
    let voucher = wallet.granted.round_dp(DECIMALS);
    let cash = wallet.total.round_dp(DECIMALS) - voucher;
    json!({
        "code": 0,
        "data": {
            "available_balance": number(available(cash, voucher)),
            "voucher_balance": number(voucher),
            "cash_balance": number(cash),
        },
        "scode": "0x0",
        "status": true,
    })
}

async fn balance(State(world): State<Arc<World>>, headers: HeaderMap) -> Response {
    match authenticate(&world, KIND, &headers) {
        Ok((curve, _)) => Json(balance_body(curve, Utc::now())).into_response(),
        Err(problem) => unauthorized(problem),
    }
}

pub(crate) async fn chat_completions(
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
            "Invalid request: the body is not JSON",
            "invalid_request_error",
        );
    };
    let now = Utc::now();
    let wallet = curve.wallet_at(now);
    if available(wallet.topped_up, wallet.granted) <= Decimal::ZERO {
        let name = &curve.spec.name;
        let body = BODY_SUSPENDED
            .replace("{organization-id}", &format!("org-sim-{name}"))
            .replace("{ak-id}", &format!("ak-sim-{name}"));
        // The notes report 429 from a user and 403 from the help page; 429 is what was seen.
        return raw_json(StatusCode::TOO_MANY_REQUESTS, body);
    }
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("kimi-k2-0905-preview");
    let id = format!("chatcmpl-sim-{:08}", world.next_id());
    Json(completion(id, model, now.timestamp())).into_response()
}
