use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::faults::{self, Fault};
use crate::model::{AccountState, Curve};
use crate::providers::{self, openrouter};
use crate::scenario::{resolve_scenario, validate};
use crate::world::World;
use crate::{Scenario, SimError};

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
    /// Only OpenRouter accounts have one; `null` for providers that read balances with the API key.
    pub management_key: Option<String>,
    /// Settings the account's Headroom source needs besides URL and keys (a team id, a budget).
    #[serde(default)]
    pub source_options: std::collections::BTreeMap<String, String>,
}

/// A handle on the simulator's accounts that outlives a borrow of [`Sim`]: the demo reads a long
/// history through it in the background while the simulator answers the app's polls.
#[derive(Clone)]
pub struct Snapshots(Arc<World>);

impl Snapshots {
    /// See [`Sim::snapshot`].
    pub fn snapshot(&self, account: &str, at: DateTime<Utc>) -> Vec<(String, Value)> {
        self.0
            .by_name(account)
            .map(|curve| providers::snapshot(curve, at))
            .unwrap_or_default()
    }
}

/// A running simulator. Dropping it stops the server too.
pub struct Sim {
    world: Arc<World>,
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
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
        let world = Arc::new(World::new(
            scenario
                .accounts
                .into_iter()
                .map(|spec| Curve::new(spec, started_at, scenario.time_scale))
                .collect(),
            started_at,
        ));
        let app = providers::routes()
            .route(faults::FAULTS_PATH, axum::routing::post(faults::set))
            .fallback(|| async { openrouter::error(StatusCode::NOT_FOUND, "Not Found") })
            .method_not_allowed_fallback(|| async {
                openrouter::error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
            })
            .layer(axum::middleware::from_fn_with_state(
                world.clone(),
                faults::inject,
            ))
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
                    source_options: c.spec.source_options.clone(),
                })
                .collect(),
        }
    }

    /// What each GET endpoint of the account's provider would serve it at `at`, as (path, body):
    /// for OpenRouter `/api/v1/key` for the key, then `/api/v1/credits` for the management key.
    /// Empty for an unknown account.
    pub fn snapshot(&self, account: &str, at: DateTime<Utc>) -> Vec<(String, Value)> {
        self.snapshots().snapshot(account, at)
    }

    /// What the simulator serves, readable from another thread while it keeps serving.
    pub fn snapshots(&self) -> Snapshots {
        Snapshots(Arc::clone(&self.world))
    }

    /// Makes the account's GET endpoints misbehave until [`Fault::None`] clears it, as
    /// `POST /__sim/faults` does. False for an unknown account.
    pub fn set_fault(&self, account: &str, fault: Fault) -> bool {
        self.world.set_fault(account, fault)
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
