//! Fault injection: `POST /__sim/faults {"account": "...", "fault": "..."}` makes every GET that
//! presents that account's key (bearer, `x-api-key` or console cookie) misbehave the way real
//! servers and the proxies in front of them do, until `"fault": "none"` clears it. A provider
//! client cannot be asked to send a test header, so the fault belongs to the account, not the
//! request.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::world::World;

pub(crate) const FAULTS_PATH: &str = "/__sim/faults";

/// How an account's GET endpoints misbehave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Behave normally again.
    None,
    /// Answer normally, after [`Fault::SLOW_BY`].
    Slow,
    /// Answer only after [`Fault::HANG_FOR`], far beyond any client's patience.
    Timeout,
    /// 503 with an error body, as an overloaded upstream answers.
    #[serde(rename = "5xx")]
    ServerError,
    /// A 200 "JSON" body that is not JSON (a Python dict's repr).
    Malformed,
    /// The real answer cut off halfway: the connection drops before `Content-Length` is reached.
    Truncated,
    /// A 200 JSON body of [`Fault::HUGE_BYTES`], streamed without a length.
    Huge,
    /// A 200 HTML login page, as an SSO proxy or captive portal serves.
    WrongContentType,
    /// A 302 to the same path on another host name.
    RedirectElsewhere,
}

impl Fault {
    /// How late a slow answer comes: noticeably, but within any sensible client timeout.
    pub const SLOW_BY: Duration = Duration::from_millis(300);
    /// How long a timeout fault holds the answer back.
    pub const HANG_FOR: Duration = Duration::from_secs(120);
    /// The size of the huge fault's body.
    pub const HUGE_BYTES: usize = 50 * 1024 * 1024;

    pub const ALL: &'static [&'static str] = &[
        "none",
        "slow",
        "timeout",
        "5xx",
        "malformed",
        "truncated",
        "huge",
        "wrong_content_type",
        "redirect_elsewhere",
    ];
}

const HUGE_CHUNK: usize = 64 * 1024;

/// Every credential a request presents, in the places the simulated providers read them.
fn credentials(headers: &HeaderMap) -> Vec<&str> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let mut presented = Vec::new();
    if let Some(bearer) = text(header::AUTHORIZATION).and_then(|v| v.split_whitespace().nth(1)) {
        presented.push(bearer);
    }
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        presented.push(key.trim());
    }
    if let Some(cookie) = text(header::COOKIE) {
        presented.extend(cookie.split(';').map(str::trim));
    }
    presented
}

/// The middleware in front of every route.
pub(crate) async fn inject(
    State(world): State<Arc<World>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let Some(fault) = world.fault_for(&credentials(request.headers())) else {
        return next.run(request).await;
    };
    match fault {
        Fault::None => next.run(request).await,
        Fault::Slow => {
            tokio::time::sleep(Fault::SLOW_BY).await;
            next.run(request).await
        }
        Fault::Timeout => {
            tokio::time::sleep(Fault::HANG_FOR).await;
            next.run(request).await
        }
        Fault::ServerError => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": {"code": 503, "message": "upstream connect error or disconnect/reset before headers"}})),
        )
            .into_response(),
        Fault::Malformed => (
            [(header::CONTENT_TYPE, "application/json")],
            "{'status': 'ok', 'data': None}",
        )
            .into_response(),
        Fault::Truncated => truncated(next.run(request).await).await,
        Fault::Huge => huge(),
        Fault::WrongContentType => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html><head><title>Sign in</title></head><body><form method=\"post\" action=\"/login\"><input name=\"username\"><input name=\"password\" type=\"password\"></form></body></html>",
        )
            .into_response(),
        Fault::RedirectElsewhere => redirect_elsewhere(&request),
    }
}

/// The real answer's first half, announced at full length, then the connection drops.
async fn truncated(real: Response) -> Response {
    let (mut parts, body) = real.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let half = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
    parts.headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(bytes.len().max(2)),
    );
    // The pause lets the headers and the first half reach the client before the connection
    // drops, as when a proxy or a server dies mid-answer.
    let cut = futures_util::stream::unfold(Some(Some(half)), |step| async move {
        match step? {
            Some(half) => Some((Ok(half), Some(None))),
            None => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let reset = std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "simulated truncation",
                );
                Some((Err::<Bytes, _>(reset), None))
            }
        }
    });
    Response::from_parts(parts, Body::from_stream(cut))
}

fn huge() -> Response {
    let opening = Bytes::from_static(b"{\"data\": \"");
    let filler = Bytes::from(vec![b'x'; HUGE_CHUNK]);
    let chunks = std::iter::once(opening)
        .chain(std::iter::repeat_n(filler, Fault::HUGE_BYTES / HUGE_CHUNK))
        .chain(std::iter::once(Bytes::from_static(b"\"}")))
        .map(Ok::<_, Infallible>);
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(futures_util::stream::iter(chunks)),
    )
        .into_response()
}

/// 127.0.0.1 and localhost are the same server but different hosts to a client, which must not
/// carry the key across.
fn redirect_elsewhere(request: &Request) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let other = match host.strip_prefix("127.0.0.1") {
        Some(port) => format!("localhost{port}"),
        None => match host.split_once(':') {
            Some((_, port)) => format!("127.0.0.1:{port}"),
            None => "127.0.0.1".to_string(),
        },
    };
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("http://{other}{path}"))],
    )
        .into_response()
}

/// `POST /__sim/faults`.
pub(crate) async fn set(State(world): State<Arc<World>>, body: Bytes) -> Response {
    let bad = |message: String| {
        (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return bad(r#"send JSON like {"account": "staging", "fault": "timeout"}"#.to_string());
    };
    let Some(account) = request.get("account").and_then(Value::as_str) else {
        return bad("the field account is missing".to_string());
    };
    let named = request.get("fault").cloned().unwrap_or(Value::Null);
    let Ok(fault) = serde_json::from_value::<Fault>(named.clone()) else {
        return bad(format!(
            "fault must be one of {}, not {named}",
            Fault::ALL.join(", ")
        ));
    };
    if !world.set_fault(account, fault) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no account named '{account}'")})),
        )
            .into_response();
    }
    Json(json!({"account": account, "fault": fault})).into_response()
}
