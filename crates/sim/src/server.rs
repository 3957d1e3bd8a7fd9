use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::model::{AccountState, Curve};
use crate::scenario::{resolve_scenario, validate};
use crate::{Scenario, SimError};

// Served verbatim so the sim matches OpenRouter's documented bodies byte for byte.
const BODY_402: &str = include_str!("../fixtures/openrouter.error-402.json");
const BODY_403_CREDITS: &str =
    include_str!("../fixtures/openrouter.error-403-credits-needs-management-key.json");

/// What a client needs to talk to a running sim; printed by `headroom sim`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    pub base_url: String,
    pub accounts: Vec<AnnouncedAccount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnnouncedAccount {
    pub provider: String,
    pub name: String,
    pub key: String,
    pub management_key: String,
}

/// A running simulator. Dropping it stops the server too.
pub struct Sim {
    world: Arc<World>,
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

struct World {
    curves: Vec<Curve>,
    started_at: DateTime<Utc>,
    next_id: AtomicU64,
}

#[derive(Clone, Copy, PartialEq)]
enum KeyKind {
    Inference,
    Management,
}

impl World {
    fn by_name(&self, name: &str) -> Option<&Curve> {
        self.curves.iter().find(|c| c.spec.name == name)
    }

    fn by_key(&self, key: &str) -> Option<(&Curve, KeyKind)> {
        self.curves.iter().find_map(|c| {
            if c.spec.key == key {
                Some((c, KeyKind::Inference))
            } else if c.spec.management_key == key {
                Some((c, KeyKind::Management))
            } else {
                None
            }
        })
    }
}

impl Sim {
    /// Binds 127.0.0.1:`port` (0 picks a free port) and starts serving; the
    /// scenario's "now" (t0) is the moment of this call.
    pub async fn start(scenario: Scenario, port: u16) -> Result<Sim, SimError> {
        validate(&scenario)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::AddrInUse => SimError::PortInUse { port },
                _ => SimError::Bind { port, source },
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { port, source })?;
        let started_at = Utc::now();
        let world = Arc::new(World {
            curves: scenario
                .accounts
                .into_iter()
                .map(|spec| Curve::new(spec, started_at, scenario.time_scale))
                .collect(),
            started_at,
            next_id: AtomicU64::new(1),
        });
        let app = Router::new()
            .route("/api/v1/key", get(key_info))
            .route("/api/v1/credits", get(credits))
            .route("/api/v1/chat/completions", post(chat_completions))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "Not Found") })
            .method_not_allowed_fallback(|| async {
                error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
            })
            .with_state(world.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                // Resolves on shutdown() and also when the Sim (the sender) is dropped.
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        tracing::debug!(%addr, "headroom sim listening");
        Ok(Sim {
            world,
            addr,
            stop,
            task,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The instant the scenario's `usage_now` refers to.
    pub fn started_at(&self) -> DateTime<Utc> {
        self.world.started_at
    }

    pub fn announcement(&self) -> Announcement {
        Announcement {
            base_url: self.base_url(),
            accounts: self
                .world
                .curves
                .iter()
                .map(|c| AnnouncedAccount {
                    provider: c.spec.provider.clone(),
                    name: c.spec.name.clone(),
                    key: c.spec.key.clone(),
                    management_key: c.spec.management_key.clone(),
                })
                .collect(),
        }
    }

    pub fn state_at(&self, account: &str, at: DateTime<Utc>) -> Option<AccountState> {
        Some(self.world.by_name(account)?.state_at(at))
    }

    /// Samples from `from` every `step`, always ending with a sample at `to`.
    /// Empty for an unknown account, a non-positive step or `from > to`.
    pub fn history(
        &self,
        account: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        step: chrono::Duration,
    ) -> Vec<(DateTime<Utc>, AccountState)> {
        let Some(curve) = self.world.by_name(account) else {
            return Vec::new();
        };
        if step <= chrono::Duration::zero() || from > to {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut t = from;
        while t < to {
            out.push((t, curve.state_at(t)));
            t += step;
        }
        out.push((to, curve.state_at(to)));
        out
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("headroom sim stopped with an error: {e}"),
            Err(e) => tracing::warn!("headroom sim task failed: {e}"),
        }
    }
}

/// Runs `headroom sim`: the announcement is the first stdout line so a parent
/// process can read the base URL and keys, then serves until Ctrl-C/SIGTERM.
pub async fn run_cli(scenario: &str, port: u16) -> Result<(), SimError> {
    let scenario = resolve_scenario(scenario)?;
    let (name, count) = (scenario.name.clone(), scenario.accounts.len());
    let sim = Sim::start(scenario, port).await?;
    let line = serde_json::to_string(&sim.announcement())
        .map_err(|e| SimError::Announce(std::io::Error::other(e)))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(SimError::Announce)?;
    }
    eprintln!(
        "headroom sim: scenario '{name}' ({count} accounts) at {}; press Ctrl-C to stop",
        sim.base_url()
    );
    let waited = wait_for_stop_signal().await;
    sim.shutdown().await;
    waited.map_err(SimError::Signal)
}

async fn wait_for_stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message}});
    (status, Json(body)).into_response()
}

fn raw_json(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// USD as a JSON number without float artefacts: the shortest float that
/// round-trips the 6-decimal value prints back as exactly those digits.
fn usd(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}

/// Finds the account a bearer key belongs to; on failure, the 401 message.
fn authenticate<'w>(
    world: &'w World,
    headers: &HeaderMap,
) -> Result<(&'w Curve, KeyKind), &'static str> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("No auth credentials found")?;
    world.by_key(token).ok_or("User not found.")
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

async fn key_info(State(world): State<Arc<World>>, headers: HeaderMap) -> Response {
    let (curve, kind) = match authenticate(&world, &headers) {
        Ok(found) => found,
        Err(message) => return error(StatusCode::UNAUTHORIZED, message),
    };
    let spec = &curve.spec;
    let now = Utc::now();
    // A management key spends nothing itself and has no limit of its own.
    let (label, state, [daily, weekly, monthly], reset) = match kind {
        KeyKind::Inference => (
            mask(&spec.key),
            curve.state_at(now),
            curve.period_usage(now),
            spec.limit_reset.clone(),
        ),
        KeyKind::Management => (
            mask(&spec.management_key),
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
    Json(json!({"data": {
        "byok_usage": 0, "byok_usage_daily": 0, "byok_usage_monthly": 0, "byok_usage_weekly": 0,
        "creator_user_id": format!("user_sim_{}", spec.name),
        "expires_at": null,
        "include_byok_in_limit": false,
        "is_free_tier": false,
        "is_management_key": kind == KeyKind::Management,
        "is_provisioning_key": false,
        "label": label,
        "limit": state.key_limit.map(usd),
        "limit_remaining": state.key_limit_remaining.map(usd),
        "limit_reset": reset,
        "rate_limit": {"interval": "1h", "note": "This field is deprecated and safe to ignore.", "requests": 1000},
        "usage": usd(state.key_usage),
        "usage_daily": usd(daily),
        "usage_monthly": usd(monthly),
        "usage_weekly": usd(weekly),
    }}))
    .into_response()
}

async fn credits(State(world): State<Arc<World>>, headers: HeaderMap) -> Response {
    match authenticate(&world, &headers) {
        Err(message) => error(StatusCode::UNAUTHORIZED, message),
        Ok((_, KeyKind::Inference)) => raw_json(StatusCode::FORBIDDEN, BODY_403_CREDITS),
        Ok((curve, KeyKind::Management)) => {
            let state = curve.state_at(Utc::now());
            Json(json!({"data": {
                "total_credits": usd(state.total_credits),
                "total_usage": usd(state.total_usage),
            }}))
            .into_response()
        }
    }
}

async fn chat_completions(
    State(world): State<Arc<World>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (curve, _) = match authenticate(&world, &headers) {
        Ok(found) => found,
        Err(message) => return error(StatusCode::UNAUTHORIZED, message),
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
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
    let id = world.next_id.fetch_add(1, Ordering::Relaxed);
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
