//! One module per simulated provider. Each serves its own paths with its own body and error
//! shapes, and renders what its GET endpoints show for an account at an instant (the demo seeds
//! its history from that). All of them share one server and one base URL, so paths must differ.

pub(crate) mod anthropic;
pub(crate) mod apipark;
pub(crate) mod deepseek;
pub(crate) mod generic;
pub(crate) mod litellm;
pub(crate) mod moonshot;
pub(crate) mod newapi;
pub(crate) mod openai;
pub(crate) mod openrouter;
pub(crate) mod rate;
pub(crate) mod siliconflow;
pub(crate) mod spend;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::model::Curve;
use crate::world::{KeyKind, World};

pub(crate) fn routes() -> Router<Arc<World>> {
    Router::new()
        .merge(openrouter::routes())
        .merge(deepseek::routes())
        .merge(moonshot::routes())
        .merge(siliconflow::routes())
        .merge(litellm::routes())
        .merge(newapi::routes())
        .merge(openai::routes())
        .merge(anthropic::routes())
        .merge(apipark::routes())
        .merge(generic::routes())
        .route(openai::CHAT_PATH, post(v1_chat_completions))
}

/// OpenAI and Moonshot both answer chat at `/v1/chat/completions`; the key says whose it is.
/// A key nobody knows gets Moonshot's refusal, as before OpenAI shared the path.
async fn v1_chat_completions(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if openai::owns_key(&world, &headers) {
        openai::chat_completions(world, headers, body).await
    } else {
        moonshot::chat_completions(State(world), headers, body).await
    }
}

/// What each GET endpoint of the account's provider serves for it at `at`, keyed by path.
pub(crate) fn snapshot(curve: &Curve, at: DateTime<Utc>) -> Vec<(String, Value)> {
    match curve.spec.provider.as_str() {
        "openrouter" => openrouter::snapshot(curve, at),
        "deepseek" => deepseek::snapshot(curve, at),
        "moonshot" => moonshot::snapshot(curve, at),
        "siliconflow" => siliconflow::snapshot(curve, at),
        "litellm" => litellm::snapshot(curve, at),
        "newapi" => newapi::snapshot(curve, at),
        "openai" => openai::snapshot(curve, at),
        "anthropic" => anthropic::snapshot(curve, at),
        "apipark" => apipark::snapshot(curve, at),
        "generic" => generic::snapshot(curve, at),
        _ => Vec::new(),
    }
}

/// The path of `provider`'s chat endpoint in the sim, if the sim answers chat for it.
pub fn chat_path(provider: &str) -> Option<&'static str> {
    match provider {
        "openrouter" => Some(openrouter::CHAT_PATH),
        "deepseek" => Some(deepseek::CHAT_PATH),
        "moonshot" => Some(moonshot::CHAT_PATH),
        "openai" => Some(openai::CHAT_PATH),
        "anthropic" => Some(anthropic::CHAT_PATH),
        "litellm" => Some(litellm::CHAT_PATH),
        // SiliconFlow's out-of-credit answer is undocumented, and what APIPark answers a client
        // once every key is exceeded is decided in its gateway; the sim makes neither up.
        _ => None,
    }
}

/// Why a request's bearer key matched none of a provider's accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuthProblem {
    NoKey,
    UnknownKey,
}

/// The account (among `provider`'s) and kind of the request's bearer key.
pub(crate) fn authenticate<'w>(
    world: &'w World,
    provider: &str,
    headers: &HeaderMap,
) -> Result<(&'w Curve, KeyKind), AuthProblem> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthProblem::NoKey)?;
    world.by_key(provider, token).ok_or(AuthProblem::UnknownKey)
}

pub(crate) fn json_error(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// A fixture body served verbatim, so documented bodies match byte for byte.
pub(crate) fn raw_json(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.into(),
    )
        .into_response()
}

/// An amount as a JSON number without float artefacts: the shortest float that round-trips a
/// value of at most 15 significant digits prints back as exactly those digits.
pub(crate) fn number(d: Decimal) -> Value {
    serde_json::from_str(&without_negative_zero(d.normalize()).to_string()).unwrap_or(Value::Null)
}

/// An amount as the decimal string providers send for money, e.g. "110.00".
pub(crate) fn decimal_text(d: Decimal, decimals: u32) -> String {
    format!(
        "{:.*}",
        decimals as usize,
        without_negative_zero(d.round_dp(decimals))
    )
}

/// A tiny negative amount rounds to a zero that keeps its sign; no provider prints "-0.00".
fn without_negative_zero(d: Decimal) -> Decimal {
    if d.is_zero() {
        Decimal::ZERO
    } else {
        d
    }
}

/// The request body of a chat call, or `None` when it is not JSON.
pub(crate) fn chat_request(body: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(body).ok()
}

/// An OpenAI-shaped chat completion, which DeepSeek and Moonshot both answer with.
pub(crate) fn completion(id: String, model: &str, created: i64) -> Value {
    serde_json::json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "This is a simulated reply from headroom sim."},
        }],
        "usage": {"prompt_tokens": 0, "completion_tokens": 9, "total_tokens": 9},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_text_keeps_two_decimals_and_numbers_have_no_float_noise() {
        assert_eq!(decimal_text(Decimal::from(110), 2), "110.00");
        assert_eq!(decimal_text(Decimal::new(8888, 2), 2), "88.88");
        assert_eq!(decimal_text(Decimal::new(-3015, 3), 2), "-3.02");
        assert_eq!(decimal_text(Decimal::new(-1, 3), 2), "0.00");
        assert_eq!(number(Decimal::new(4958894, 5)).to_string(), "49.58894");
        assert_eq!(number(Decimal::new(-12, 1)).to_string(), "-1.2");
    }
}
