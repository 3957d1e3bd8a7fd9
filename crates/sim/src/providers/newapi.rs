//! new-api / one-api gateways: OpenAI's retired `/v1/dashboard/billing/*` endpoints, read with
//! the gateway token. The quota (`total_credits`) is `hard_limit_usd`; what was used is
//! `total_usage`, in units of $0.01.
//!
//! The sim answers no chat for these gateways: their out-of-quota answer is not in the notes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{authenticate, json_error, AuthProblem};
use crate::model::Curve;
use crate::world::World;

const KIND: &str = "newapi";
pub(crate) const SUBSCRIPTION_PATH: &str = "/v1/dashboard/billing/subscription";
pub(crate) const USAGE_PATH: &str = "/v1/dashboard/billing/usage";

pub(crate) fn routes() -> Router<Arc<World>> {
    Router::new()
        .route(SUBSCRIPTION_PATH, get(subscription))
        .route(USAGE_PATH, get(usage))
}

/// The quota first: a reader needs the limit to make sense of the usage.
pub(crate) fn snapshot(curve: &Curve, at: DateTime<Utc>) -> Vec<(String, Value)> {
    vec![
        (SUBSCRIPTION_PATH.to_string(), subscription_body(curve)),
        (USAGE_PATH.to_string(), usage_body(curve, at)),
    ]
}

/// Go floats: the sim's amounts have at most 15 significant digits, so they print back exactly.
fn float(d: Decimal) -> Value {
    d.to_f64().map_or(Value::Null, Value::from)
}

/// new-api's `abortWithOpenAiMessage`: the message ends with the request id.
fn unauthorized(world: &World, problem: AuthProblem) -> Response {
    let said = match problem {
        AuthProblem::NoKey => "未提供令牌",
        AuthProblem::UnknownKey => "无效的令牌",
    };
    let message = format!("{said} (request id: sim{:012})", world.next_id());
    json_error(
        StatusCode::UNAUTHORIZED,
        json!({"error": {"code": "", "message": message, "type": "new_api_error"}}),
    )
}

/// The quota is remaining plus used, so it stays put while the token spends. A token that never
/// expires has `access_until` 0.
fn subscription_body(curve: &Curve) -> Value {
    let quota = float(curve.spec.total_credits);
    json!({
        "object": "billing_subscription",
        "has_payment_method": true,
        "soft_limit_usd": quota,
        "hard_limit_usd": quota,
        "system_hard_limit_usd": quota,
        "access_until": 0,
    })
}

fn usage_body(curve: &Curve, at: DateTime<Utc>) -> Value {
    let used = curve.state_at(at).total_usage;
    json!({"object": "list", "total_usage": float(used * Decimal::ONE_HUNDRED)})
}

async fn subscription(State(world): State<Arc<World>>, headers: HeaderMap) -> Response {
    match authenticate(&world, KIND, &headers) {
        Ok((curve, _)) => Json(subscription_body(curve)).into_response(),
        Err(problem) => unauthorized(&world, problem),
    }
}

async fn usage(State(world): State<Arc<World>>, headers: HeaderMap) -> Response {
    match authenticate(&world, KIND, &headers) {
        Ok((curve, _)) => Json(usage_body(curve, Utc::now())).into_response(),
        Err(problem) => unauthorized(&world, problem),
    }
}
