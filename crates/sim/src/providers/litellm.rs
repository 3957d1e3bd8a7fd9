//! LiteLLM proxy: a virtual key reads its own budget at `/key/info`; the proxy's master key reads
//! any user's at `/user/info` and any team's at `/team/info`. Chat is refused with 429
//! `budget_exceeded` once a budget is spent.
//!
//! The account's `key` is the virtual key, its `management_key` the master key. The sim models one
//! virtual key per user and team, so the user and team (named by `source_options.user_id` and
//! `team_id`) have spent what the key has, against a budget of `total_credits`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Datelike, Duration, SecondsFormat, TimeZone, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{authenticate, chat_request, completion, json_error, AuthProblem};
use crate::model::Curve;
use crate::world::{KeyKind, World};

const KIND: &str = "litellm";
pub(crate) const KEY_INFO_PATH: &str = "/key/info";
pub(crate) const USER_INFO_PATH: &str = "/user/info";
pub(crate) const TEAM_INFO_PATH: &str = "/team/info";
/// `/chat/completions` and `/v1/chat/completions` are DeepSeek's and Moonshot's in the shared sim;
/// LiteLLM answers this route of its own the same way.
const CHAT_ROUTE: &str = "/engines/{model}/chat/completions";
pub(crate) const CHAT_PATH: &str = "/engines/gpt-4o-mini/chat/completions";

pub(crate) fn routes() -> Router<Arc<World>> {
    Router::new()
        .route(KEY_INFO_PATH, get(key_info))
        .route(USER_INFO_PATH, get(user_info))
        .route(TEAM_INFO_PATH, get(team_info))
        .route(CHAT_ROUTE, post(chat_completions))
}

/// The key's own view, then the user's and team's when the account has a master key to read them.
pub(crate) fn snapshot(curve: &Curve, at: DateTime<Utc>) -> Vec<(String, Value)> {
    let mut served = vec![(KEY_INFO_PATH.to_string(), key_body(curve, at))];
    if curve.spec.management_key.is_some() {
        if let Some(user_id) = option(curve, "user_id") {
            served.push((USER_INFO_PATH.to_string(), user_body(curve, user_id, at)));
        }
        if let Some(team_id) = option(curve, "team_id") {
            served.push((TEAM_INFO_PATH.to_string(), team_body(curve, team_id, at)));
        }
    }
    served
}

fn option<'c>(curve: &'c Curve, name: &str) -> Option<&'c str> {
    curve.spec.source_options.get(name).map(String::as_str)
}

/// LiteLLM's `ProxyException` envelope; `code` is the status as a string.
fn error(status: StatusCode, message: &str, kind: &str, param: Value) -> Response {
    json_error(
        status,
        json!({"error": {"message": message, "type": kind, "param": param, "code": status.as_u16().to_string()}}),
    )
}

fn unauthorized(problem: AuthProblem, headers: &HeaderMap) -> Response {
    match problem {
        AuthProblem::NoKey => error(
            StatusCode::UNAUTHORIZED,
            "Authentication Error, No api key passed in.",
            "auth_error",
            json!("None"),
        ),
        // LiteLLM also prints the key's hash here; the sim has no hash to print.
        AuthProblem::UnknownKey => {
            let presented = headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_whitespace().nth(1))
                .unwrap_or_default();
            error(
                StatusCode::UNAUTHORIZED,
                &format!(
                    "Authentication Error, Invalid proxy server token passed. Received API Key = {}. Unable to find token in cache or `LiteLLM_VerificationTokenTable`",
                    mask(presented)
                ),
                "token_not_found_in_db",
                json!("key"),
            )
        }
    }
}

/// LiteLLM names keys by their last four characters, like "sk-...EueQ".
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("sk-...{tail}")
}

/// LiteLLM is Python: its amounts are floats, which JSON prints with a decimal point (10.0). The
/// sim's amounts have at most 15 significant digits, so the float prints back exactly.
fn float(d: Decimal) -> Value {
    d.to_f64().map_or(Value::Null, Value::from)
}

/// An amount as Python prints a float in a message: "100.0", "186.0979088".
fn float_text(d: Decimal) -> String {
    let d = d.normalize();
    if d.scale() == 0 {
        format!("{d}.0")
    } else {
        d.to_string()
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The scenario's named cycle as a LiteLLM duration; `None` is a one-time budget.
fn budget_duration(curve: &Curve) -> Option<&'static str> {
    match curve.spec.limit_reset.as_deref() {
        Some("daily") => Some("1d"),
        Some("weekly") => Some("7d"),
        Some("monthly") => Some("30d"),
        _ => None,
    }
}

/// LiteLLM aligns resets to calendar boundaries in UTC: midnight, Monday, the 1st of the month.
fn budget_reset_at(curve: &Curve, at: DateTime<Utc>) -> Option<String> {
    let midnight = Utc
        .with_ymd_and_hms(at.year(), at.month(), at.day(), 0, 0, 0)
        .single()?;
    let next = match budget_duration(curve)? {
        "1d" => midnight + Duration::days(1),
        "7d" => midnight + Duration::days(7 - i64::from(at.weekday().num_days_from_monday())),
        _ => {
            let (y, m) = match at.month() {
                12 => (at.year() + 1, 1),
                m => (at.year(), m + 1),
            };
            Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single()?
        }
    };
    Some(timestamp(next))
}

fn key_body(curve: &Curve, at: DateTime<Utc>) -> Value {
    let spec = &curve.spec;
    let state = curve.state_at(at);
    let created = curve.started_at() - Duration::days(30);
    json!({
        "key": spec.key,
        "info": {
            "key_name": mask(&spec.key),
            "key_alias": null,
            "spend": float(state.key_usage),
            "max_budget": spec.key_limit.map(float),
            "expires": null,
            "models": [],
            "aliases": {},
            "config": {},
            "user_id": option(curve, "user_id"),
            "team_id": option(curve, "team_id"),
            "max_parallel_requests": null,
            "metadata": {},
            "tpm_limit": null,
            "rpm_limit": null,
            "budget_duration": budget_duration(curve),
            "budget_reset_at": budget_reset_at(curve, at),
            "allowed_cache_controls": [],
            "allowed_routes": [],
            "permissions": {},
            "model_spend": {},
            "model_max_budget": {},
            "soft_budget_cooldown": false,
            "blocked": null,
            "litellm_budget_table": null,
            "budget_id": null,
            "created_at": timestamp(created),
            "updated_at": timestamp(at.max(created)),
        },
    })
}

fn user_body(curve: &Curve, user_id: &str, at: DateTime<Utc>) -> Value {
    let teams: Vec<&str> = option(curve, "team_id").into_iter().collect();
    json!({
        "user_id": user_id,
        "user_info": {
            "user_id": user_id,
            "max_budget": float(curve.spec.total_credits),
            "spend": float(curve.state_at(at).key_usage),
            "budget_duration": budget_duration(curve),
            "budget_reset_at": budget_reset_at(curve, at),
            "models": [],
            "tpm_limit": null,
            "rpm_limit": null,
            "user_role": "internal_user",
            "teams": teams,
        },
        "keys": [],
        "teams": [],
    })
}

fn team_body(curve: &Curve, team_id: &str, at: DateTime<Utc>) -> Value {
    let admin = option(curve, "user_id").unwrap_or("default_user_id");
    json!({
        "team_id": team_id,
        "team_info": {
            "team_alias": curve.spec.name,
            "team_id": team_id,
            "admins": [],
            "members": [],
            "members_with_roles": [{"role": "admin", "user_id": admin}],
            "metadata": {},
            "tpm_limit": null,
            "rpm_limit": null,
            "max_budget": float(curve.spec.total_credits),
            "models": [],
            "spend": float(curve.state_at(at).key_usage),
            "max_parallel_requests": null,
            "budget_duration": budget_duration(curve),
            "budget_reset_at": budget_reset_at(curve, at),
            "team_member_budget_table": null,
        },
        "keys": [],
        "team_memberships": [],
    })
}

/// A virtual key may read only itself; the master key may read any key by `?key=`.
async fn key_info(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (curve, kind) = match authenticate(&world, KIND, &headers) {
        Ok(found) => found,
        Err(problem) => return unauthorized(problem, &headers),
    };
    let asked = query.get("key").map(String::as_str);
    match (kind, asked) {
        (KeyKind::Inference, None) => Json(key_body(curve, Utc::now())).into_response(),
        (KeyKind::Inference, Some(key)) if key == curve.spec.key => {
            Json(key_body(curve, Utc::now())).into_response()
        }
        (KeyKind::Inference, Some(_)) => error(
            StatusCode::FORBIDDEN,
            "You are not allowed to access this key's info. Your role=internal_user",
            "auth_error",
            json!("key"),
        ),
        (KeyKind::Management, Some(key)) if key == curve.spec.key => {
            Json(key_body(curve, Utc::now())).into_response()
        }
        // The master key is not a virtual key, so it has no row of its own to show.
        (KeyKind::Management, _) => error(
            StatusCode::NOT_FOUND,
            "Key not found in database",
            "not_found_error",
            json!("key"),
        ),
    }
}

fn admin_only(route: &str) -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        &format!("Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route={route}. Your role=internal_user"),
        "auth_error",
        json!("None"),
    )
}

async fn user_info(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let curve = match authenticate(&world, KIND, &headers) {
        Ok((curve, KeyKind::Management)) => curve,
        Ok((_, KeyKind::Inference)) => return admin_only(USER_INFO_PATH),
        Err(problem) => return unauthorized(problem, &headers),
    };
    let asked = query.get("user_id").map(String::as_str).unwrap_or_default();
    if option(curve, "user_id") == Some(asked) {
        return Json(user_body(curve, asked, Utc::now())).into_response();
    }
    // LiteLLM answers an unknown user with the spend of its keys (none) and no budget at all.
    Json(json!({"user_id": asked, "user_info": {"spend": 0.0}, "keys": [], "teams": []}))
        .into_response()
}

async fn team_info(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let curve = match authenticate(&world, KIND, &headers) {
        Ok((curve, KeyKind::Management)) => curve,
        Ok((_, KeyKind::Inference)) => return admin_only(TEAM_INFO_PATH),
        Err(problem) => return unauthorized(problem, &headers),
    };
    let asked = query.get("team_id").map(String::as_str).unwrap_or_default();
    if option(curve, "team_id") == Some(asked) {
        return Json(team_body(curve, asked, Utc::now())).into_response();
    }
    error(
        StatusCode::NOT_FOUND,
        &format!("Team not found, passed team_id={asked}"),
        "not_found_error",
        json!("team_id"),
    )
}

/// The budget a request is refused by, as (spend, max budget): the key's own first, then the
/// user's or team's above it.
fn exceeded_budget(curve: &Curve, at: DateTime<Utc>) -> Option<(Decimal, Decimal)> {
    let spend = curve.state_at(at).key_usage;
    let key = curve.spec.key_limit.filter(|limit| spend >= *limit);
    let above = (option(curve, "user_id").is_some() || option(curve, "team_id").is_some())
        .then_some(curve.spec.total_credits)
        .filter(|limit| spend >= *limit);
    key.or(above).map(|limit| (spend, limit))
}

async fn chat_completions(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (curve, kind) = match authenticate(&world, KIND, &headers) {
        Ok(found) => found,
        Err(problem) => return unauthorized(problem, &headers),
    };
    let Some(request) = chat_request(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid JSON payload",
            "bad_request_error",
            json!("None"),
        );
    };
    let now = Utc::now();
    // The master key is not held to any budget.
    if kind == KeyKind::Inference {
        if let Some((spend, limit)) = exceeded_budget(curve, now) {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Budget has been exceeded! Current cost: {}, Max budget: {}",
                    float_text(spend),
                    float_text(limit)
                ),
                "budget_exceeded",
                Value::Null,
            );
        }
    }
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("gpt-4o-mini");
    let id = format!("chatcmpl-sim-{:08}", world.next_id());
    Json(completion(id, model, now.timestamp())).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_print_the_way_python_prints_floats() {
        assert_eq!(float(Decimal::TEN).to_string(), "10.0");
        assert_eq!(float(Decimal::new(72, 6)).to_string(), "0.000072");
        assert_eq!(float_text(Decimal::new(1000, 1)), "100.0");
        assert_eq!(float_text(Decimal::new(1860979088, 7)), "186.0979088");
        assert_eq!(mask("sk-RV-l2BJEZ_LYNChSx2EueQ"), "sk-...EueQ");
    }
}
