//! LiteLLM proxy: a virtual key reads its own budget at `/key/info`; the proxy's master key reads
//! any user's at `/user/info` and any team's at `/team/info`. Chat is refused with 429
//! `budget_exceeded` once a budget is spent.
//!
//! The account's `key` is the virtual key, its `management_key` the master key. The sim models one
//! virtual key per user and team, so the user and team (named by `source_options.user_id` and
//! `team_id`) have spent what the key has, against a budget of `total_credits`.
//!
//! An account with `request_logs` also keeps the proxy's request log at `GET /spend/logs`: a day
//! of traffic before the sim started, mostly successes, with the failures a proxy sees (budgets
//! exceeded on the team's other keys, an upstream rate limit, upstream providers out of credit).

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
pub(crate) const SPEND_LOGS_PATH: &str = "/spend/logs";

/// The captured budget-exceeded answers, whose messages the request log repeats word for word.
const BUDGET_EXCEEDED_429: &str =
    include_str!("../../fixtures/litellm.error-budget-exceeded-429.json");
const BUDGET_EXCEEDED_400: &str =
    include_str!("../../fixtures/litellm.error-budget-exceeded-400.json");
/// Upstream refusals LiteLLM relays inside its own messages.
const OPENROUTER_402: &str = include_str!("../../fixtures/openrouter.error-402.json");
const DEEPSEEK_402: &str = include_str!("../../fixtures/deepseek.error-402.json");

pub(crate) fn routes() -> Router<Arc<World>> {
    Router::new()
        .route(KEY_INFO_PATH, get(key_info))
        .route(USER_INFO_PATH, get(user_info))
        .route(TEAM_INFO_PATH, get(team_info))
        .route(CHAT_ROUTE, post(chat_completions))
        .route(SPEND_LOGS_PATH, get(spend_logs))
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

/// LiteLLM stores a virtual key's sha256 in its tables, never the key. The sim only needs a stable
/// stand-in of the same shape (64 hex digits) that no one can turn back into the key.
fn hashed(key: &str) -> String {
    (0u64..4)
        .map(|round| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ round;
            for b in key.bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            }
            format!("{h:016x}")
        })
        .collect()
}

/// How one logged request ended.
enum Outcome {
    Success {
        spend: &'static str,
        tokens: u64,
    },
    Failure {
        status: u16,
        error_class: &'static str,
        message: String,
        llm_provider: Option<&'static str>,
    },
}

/// One request of the log: minutes before the sim started, the model asked for (and the
/// deployment it went to), whose key sent it, and how it ended.
struct Logged {
    minutes_before: i64,
    model_group: &'static str,
    model: &'static str,
    /// `None` is the account's own virtual key; others are the team's other keys.
    other_key: Option<&'static str>,
    outcome: Outcome,
}

fn captured_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.pointer("/error/message")?.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A captured body on one line, the way LiteLLM quotes the upstream's answer.
fn one_line(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// The day of traffic the demo proxy logged: successes every 80 minutes, and the failures.
fn logged_requests() -> Vec<Logged> {
    let mut log: Vec<Logged> = (0..18)
        .map(|i| Logged {
            minutes_before: 10 + i * 80,
            model_group: if i % 3 == 2 {
                "claude-3-5-sonnet"
            } else {
                "gpt-4o-mini"
            },
            model: if i % 3 == 2 {
                "openrouter/anthropic/claude-3.5-sonnet"
            } else {
                "gpt-4o-mini-2024-07-18"
            },
            other_key: (i % 4 == 3).then_some("sk-sim-litellm-intern-0001"),
            outcome: Outcome::Success {
                spend: if i % 3 == 2 { "0.004125" } else { "0.000186" },
                tokens: if i % 3 == 2 { 1130 } else { 640 },
            },
        })
        .collect();
    let failures = [
        // The intern's key ran through its budget; today's proxy answers 429 …
        Logged {
            minutes_before: 20 * 60 + 5,
            model_group: "gpt-4o",
            model: "gpt-4o-2024-08-06",
            other_key: Some("sk-sim-litellm-intern-0001"),
            outcome: Outcome::Failure {
                status: 429,
                error_class: "BudgetExceededError",
                message: captured_message(BUDGET_EXCEEDED_429),
                llm_provider: None,
            },
        },
        // … and some routes (the auto-router) still answer 400 for the same budget.
        Logged {
            minutes_before: 7 * 60 + 40,
            model_group: "auto",
            model: "auto",
            other_key: Some("sk-sim-litellm-batch-0001"),
            outcome: Outcome::Failure {
                status: 400,
                error_class: "BudgetExceededError",
                message: captured_message(BUDGET_EXCEEDED_400),
                llm_provider: None,
            },
        },
        Logged {
            minutes_before: 5 * 60 + 12,
            model_group: "gpt-4o-mini",
            model: "gpt-4o-mini-2024-07-18",
            other_key: None,
            outcome: Outcome::Failure {
                status: 429,
                error_class: "RateLimitError",
                message: "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for gpt-4o-mini in organization org-sim on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms. Visit https://platform.openai.com/account/rate-limits to learn more.".into(),
                llm_provider: Some("openai"),
            },
        },
        // Upstream accounts out of credit, relayed: OpenRouter's 402 keeps its status, DeepSeek's
        // comes back as a 400 BadRequestError.
        Logged {
            minutes_before: 2 * 60 + 30,
            model_group: "claude-3-5-sonnet",
            model: "openrouter/anthropic/claude-3.5-sonnet",
            other_key: None,
            outcome: Outcome::Failure {
                status: 402,
                error_class: "APIError",
                message: format!(
                    "litellm.APIError: APIError: OpenrouterException - {}",
                    one_line(OPENROUTER_402)
                ),
                llm_provider: Some("openrouter"),
            },
        },
        Logged {
            minutes_before: 65,
            model_group: "deepseek-chat",
            model: "deepseek/deepseek-chat",
            other_key: None,
            outcome: Outcome::Failure {
                status: 400,
                error_class: "BadRequestError",
                message: format!(
                    "litellm.BadRequestError: DeepseekException - {}",
                    one_line(DEEPSEEK_402)
                ),
                llm_provider: Some("deepseek"),
            },
        },
    ];
    log.extend(failures);
    log
}

/// The account's request log as `LiteLLM_SpendLogs` rows, newest first; empty without
/// `request_logs`.
pub(crate) fn request_log(curve: &Curve) -> Vec<(DateTime<Utc>, Value)> {
    if !curve.spec.request_logs {
        return Vec::new();
    }
    let team_id = option(curve, "team_id");
    let mut rows: Vec<(DateTime<Utc>, Value)> = logged_requests()
        .into_iter()
        .enumerate()
        .map(|(i, logged)| {
            let start = curve.started_at() - Duration::minutes(logged.minutes_before);
            let key = logged.other_key.unwrap_or(&curve.spec.key);
            let (status, spend, tokens, error_information, end) = match &logged.outcome {
                Outcome::Success { spend, tokens } => (
                    "success",
                    serde_json::from_str::<Value>(spend).unwrap_or(Value::Null),
                    *tokens,
                    Value::Null,
                    start + Duration::milliseconds(1850),
                ),
                Outcome::Failure {
                    status,
                    error_class,
                    message,
                    llm_provider,
                } => (
                    "failure",
                    json!(0.0),
                    0,
                    json!({
                        "error_code": status.to_string(),
                        "error_class": error_class,
                        "error_message": message,
                        "llm_provider": llm_provider.unwrap_or(""),
                    }),
                    start + Duration::milliseconds(240),
                ),
            };
            let mut metadata = json!({
                "user_api_key": hashed(key),
                "user_api_key_alias": logged.other_key.map(|k| k.trim_start_matches("sk-sim-").trim_end_matches("-0001")),
                "user_api_key_team_id": team_id,
                "user_api_key_user_id": option(curve, "user_id"),
                "status": status,
                "spend_logs_metadata": null,
                "requester_ip_address": "",
            });
            if !error_information.is_null() {
                metadata["error_information"] = error_information;
            }
            let row = json!({
                "request_id": format!("chatcmpl-{:08x}-{i:04x}-4{:03x}-sim", start.timestamp(), logged.minutes_before),
                "call_type": "acompletion",
                "api_key": hashed(key),
                "spend": spend,
                "total_tokens": tokens,
                "prompt_tokens": tokens * 3 / 4,
                "completion_tokens": tokens - tokens * 3 / 4,
                "startTime": rfc3339_millis(start),
                "endTime": rfc3339_millis(end),
                "completionStartTime": rfc3339_millis(end),
                "model": logged.model,
                "model_id": null,
                "model_group": logged.model_group,
                "api_base": "",
                "user": option(curve, "user_id").unwrap_or(""),
                "team_id": team_id,
                "end_user": "",
                "metadata": metadata,
                "cache_hit": "False",
                "cache_key": "Cache OFF",
                "request_tags": [],
                "requester_ip_address": "",
                "status": status,
            });
            (start, row)
        })
        .collect();
    rows.sort_by_key(|(start, _)| std::cmp::Reverse(*start));
    rows
}

fn rfc3339_millis(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// FastAPI reads `true`/`false` the Pydantic way.
fn query_flag(query: &HashMap<String, String>, name: &str, default: bool) -> bool {
    match query.get(name).map(|v| v.to_ascii_lowercase()) {
        Some(v) if ["false", "0", "no", "off", "f", "n"].contains(&v.as_str()) => false,
        Some(v) if ["true", "1", "yes", "on", "t", "y"].contains(&v.as_str()) => true,
        _ => default,
    }
}

/// `GET /spend/logs`: the master key reads every key's requests, a virtual key only its own.
/// With `start_date` and `end_date` (days, read as midnight UTC, both ends included) the rows are
/// cut to that range and, unless `summarize=false`, added up per day as LiteLLM does.
async fn spend_logs(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (curve, kind) = match authenticate(&world, KIND, &headers) {
        Ok(found) => found,
        Err(problem) => return unauthorized(problem, &headers),
    };
    let own_key = hashed(&curve.spec.key);
    let now = Utc::now();
    let rows: Vec<(DateTime<Utc>, Value)> = request_log(curve)
        .into_iter()
        .filter(|(start, row)| {
            *start <= now && (kind == KeyKind::Management || row["api_key"] == own_key.as_str())
        })
        .collect();
    let (Some(start_date), Some(end_date)) = (query.get("start_date"), query.get("end_date"))
    else {
        return Json(rows.into_iter().map(|(_, row)| row).collect::<Vec<_>>()).into_response();
    };
    let day = |text: &str| {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .ok_or_else(|| text.to_string())
    };
    let (from, to) = match (day(start_date), day(end_date)) {
        (Ok(from), Ok(to)) => (from, to),
        // Python's strptime fails, and LiteLLM lets that through as a 500.
        (Err(text), _) | (_, Err(text)) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("/spend/logs Errortime data '{text}' does not match format '%Y-%m-%d'"),
                "internal_error",
                json!("None"),
            )
        }
    };
    let in_range: Vec<(DateTime<Utc>, Value)> = rows
        .into_iter()
        .filter(|(start, _)| *start >= from && *start <= to)
        .collect();
    if !query_flag(&query, "summarize", true) {
        return Json(in_range.into_iter().map(|(_, row)| row).collect::<Vec<_>>()).into_response();
    }
    Json(summarized(&in_range, to)).into_response()
}

/// LiteLLM's summary: per day, the total spend and the spend per key, user and model, with the
/// days up to `end_date` that had none filled in at zero.
fn summarized(rows: &[(DateTime<Utc>, Value)], to: DateTime<Utc>) -> Vec<Value> {
    let mut days: std::collections::BTreeMap<chrono::NaiveDate, Value> = Default::default();
    for (start, row) in rows {
        let spend = row["spend"].as_f64().unwrap_or(0.0);
        let entry = days
            .entry(start.date_naive())
            .or_insert_with(|| json!({"users": {}, "models": {}, "spend": 0.0}));
        let add = |slot: &mut Value| *slot = json!(slot.as_f64().unwrap_or(0.0) + spend);
        add(&mut entry["spend"]);
        add(&mut entry[row["api_key"].as_str().unwrap_or_default()]);
        add(&mut entry["users"][row["user"].as_str().unwrap_or_default()]);
        add(&mut entry["models"][row["model"].as_str().unwrap_or_default()]);
    }
    let mut out: Vec<Value> = Vec::new();
    let last = days.keys().next_back().copied();
    for (day, mut totals) in days {
        totals["startTime"] = json!(day.to_string());
        out.push(totals);
    }
    if let Some(mut day) = last {
        while day < to.date_naive() {
            day = day.succ_opt().unwrap_or(day);
            out.push(json!({"startTime": day.to_string(), "spend": 0, "users": {}, "models": {}}));
        }
    }
    out
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
