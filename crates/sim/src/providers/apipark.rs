//! APIPark's console API: `GET /api/v1/ai/resource/keys?provider=` lists one upstream provider's
//! keys with their `status` and cumulative `use_token`, and `GET /api/v1/monitor/overview/chart/ai`
//! the gateway's token totals between `start` and `end` (Unix seconds). Both sit behind the
//! console's login session, a cookie; the account's `key` is that cookie (`name=value`).
//!
//! The account's curve counts tokens. Its `total_credits` are split equally among
//! `upstream_keys` keys that the gateway uses in priority order, so a key is `exceeded` once its
//! share is used and traffic moves on to the next.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::number;
use super::spend::{day_start, month_start};
use crate::model::Curve;
use crate::world::World;

const KIND: &str = "apipark";
pub(crate) const KEYS_PATH: &str = "/api/v1/ai/resource/keys";
pub(crate) const CHART_PATH: &str = "/api/v1/monitor/overview/chart/ai";
/// APIPark's default page size.
const DEFAULT_PAGE_SIZE: usize = 20;
/// A made-up average call size, so that request counts go with the tokens.
const TOKENS_PER_REQUEST: i64 = 400;

pub(crate) fn routes() -> Router<Arc<World>> {
    Router::new()
        .route(KEYS_PATH, get(keys))
        .route(CHART_PATH, get(chart))
}

/// Every key of the account's upstream provider, then this month's token chart.
pub(crate) fn snapshot(curve: &Curve, at: DateTime<Utc>) -> Vec<(String, Value)> {
    let all = upstream_keys(curve, at);
    let total = all.len();
    vec![
        (KEYS_PATH.to_string(), envelope(keys_page(all, total))),
        (
            CHART_PATH.to_string(),
            envelope(chart_body(curve, month_start(at), at)),
        ),
    ]
}

/// APIPark's `BasicResponse`: success is `code` 0.
fn envelope(data: Value) -> Value {
    json!({"code": 0, "msg": "success", "data": data})
}

/// The account whose console session the request's cookie carries.
fn session<'w>(world: &'w World, headers: &HeaderMap) -> Option<&'w Curve> {
    let cookie = headers.get(header::COOKIE)?.to_str().ok()?;
    let mut presented = cookie.split(';').map(str::trim);
    presented.find_map(|pair| world.by_key(KIND, pair).map(|(curve, _)| curve))
}

/// The frontend acts on the status alone and goes to `/login`; APIPark's 401 body is not
/// documented, so the sim sends none.
fn not_logged_in() -> Response {
    StatusCode::UNAUTHORIZED.into_response()
}

fn tokens(d: Decimal) -> i64 {
    d.floor().to_i64().unwrap_or(i64::MAX)
}

struct UpstreamKey {
    id: String,
    name: String,
    used: i64,
    exceeded: bool,
    priority: usize,
}

fn upstream_keys(curve: &Curve, at: DateTime<Utc>) -> Vec<UpstreamKey> {
    let count = curve.spec.upstream_keys.unwrap_or(1).max(1);
    let share = curve.spec.total_credits / Decimal::from(count);
    let usage = curve.state_at(at).key_usage;
    let provider = curve
        .spec
        .source_options
        .get("provider")
        .map_or("upstream", String::as_str);
    (0..count as usize)
        .map(|i| {
            let before = share * Decimal::from(i);
            let used = (usage - before).clamp(Decimal::ZERO, share);
            UpstreamKey {
                id: format!("k{}", i + 1),
                name: format!("{provider}-{}", i + 1),
                used: tokens(used),
                exceeded: share > Decimal::ZERO && used >= share,
                priority: i + 1,
            }
        })
        .collect()
}

fn keys_page(page: Vec<UpstreamKey>, total: usize) -> Value {
    let keys: Vec<Value> = page
        .into_iter()
        .map(|k| {
            json!({
                "id": k.id,
                "name": k.name,
                "status": if k.exceeded { "exceeded" } else { "normal" },
                "use_token": k.used,
                "update_time": "2025-10-20 10:00:00",
                "expire_time": 0,
                "priority": k.priority,
                // APIPark keeps the first key of a provider.
                "can_delete": k.priority != 1,
            })
        })
        .collect();
    json!({"keys": keys, "total": total})
}

/// Tokens per UTC day between `start` and `end`, split two to one between input and output.
fn chart_body(curve: &Curve, start: DateTime<Utc>, end: DateTime<Utc>) -> Value {
    let used = |from: DateTime<Utc>, to: DateTime<Utc>| {
        tokens(curve.state_at(to).key_usage) - tokens(curve.state_at(from).key_usage)
    };
    let mut days: Vec<(NaiveDate, i64)> = Vec::new();
    let mut from = start;
    while from < end {
        let to = (day_start(from) + Duration::days(1)).min(end);
        days.push((from.date_naive(), used(from, to).max(0)));
        from = to;
    }
    let total: i64 = days.iter().map(|(_, t)| t).sum();
    let split = |t: i64| json!({"total_token": t, "input_token": t - t / 3, "output_token": t / 3});
    let requests = total / TOKENS_PER_REQUEST;
    json!({
        "overview": {
            "request_overview": days.iter().map(|(_, t)| json!({"2xx": t / TOKENS_PER_REQUEST, "4xx": 0, "5xx": 0})).collect::<Vec<_>>(),
            "request_total": requests,
            "request_2xx_total": requests,
            "request_4xx_total": 0,
            "request_5xx_total": 0,
            "token_total": total,
            "input_token_total": total - total / 3,
            "output_token_total": total / 3,
            "token_overview": days.iter().map(|(_, t)| split(*t)).collect::<Vec<_>>(),
            "avg_token": number(Decimal::from(TOKENS_PER_REQUEST)),
            "date": days.iter().map(|(d, _)| d.format("%Y-%m-%d").to_string()).collect::<Vec<_>>(),
        }
    })
}

fn param<'q>(query: &'q HashMap<String, String>, name: &str) -> Option<&'q str> {
    query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// APIPark answers a bad parameter with HTTP 200 and a non-zero code.
fn refused(message: &str) -> Response {
    Json(json!({"code": -1, "msg": message, "data": null})).into_response()
}

async fn keys(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(curve) = session(&world, &headers) else {
        return not_logged_in();
    };
    let number_param = |name: &str, default: usize| match param(&query, name) {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| format!("invalid {name}: {text}")),
    };
    let (page, page_size) = match (
        number_param("page", 1),
        number_param("page_size", DEFAULT_PAGE_SIZE),
    ) {
        (Ok(page), Ok(size)) => (page.max(1), size.max(1)),
        (Err(problem), _) | (_, Err(problem)) => return refused(&problem),
    };
    // Keys belong to one provider; another provider's list is empty.
    let asked = param(&query, "provider").unwrap_or_default();
    let all = match curve.spec.source_options.get("provider") {
        Some(provider) if provider == asked => upstream_keys(curve, Utc::now()),
        _ => Vec::new(),
    };
    let total = all.len();
    let page: Vec<UpstreamKey> = all
        .into_iter()
        .skip((page - 1) * page_size)
        .take(page_size)
        .collect();
    Json(envelope(keys_page(page, total))).into_response()
}

async fn chart(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(curve) = session(&world, &headers) else {
        return not_logged_in();
    };
    let now = Utc::now();
    let instant = |name: &str| -> Result<Option<DateTime<Utc>>, String> {
        param(&query, name)
            .map(|text| {
                text.parse::<i64>()
                    .ok()
                    .and_then(|s| DateTime::from_timestamp(s, 0))
                    .ok_or_else(|| format!("invalid {name}: {text}"))
            })
            .transpose()
    };
    let (start, end) = match (instant("start"), instant("end")) {
        (Ok(start), Ok(end)) => (
            start.unwrap_or(now - Duration::days(1)),
            end.map_or(now, |e| e.min(now)),
        ),
        (Err(problem), _) | (_, Err(problem)) => return refused(&problem),
    };
    Json(envelope(chart_body(curve, start, end))).into_response()
}
