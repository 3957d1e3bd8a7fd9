//! `headroom serve`: Headroom on a server or a laptop without the app. It polls like
//! `headroom poll` (unless `--no-poll`) and serves the meters as Prometheus metrics.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use headroom_core::alert::outbox::Dispatcher;
use headroom_core::credentials::Credentials;
use headroom_core::scheduler::{PollReport, Poller, Schedule};
use headroom_core::store::Store;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::metrics;

/// Every source polled on its own interval, with alerts delivered as they fire; it all stops
/// when this is dropped.
pub struct Polling {
    _schedule: Schedule,
    dispatch: JoinHandle<()>,
    updates: broadcast::Receiver<PollReport>,
}

impl Polling {
    /// Must be called inside a tokio runtime. The schedule also keeps the history trimmed (see
    /// `headroom_core::retention`).
    pub fn start(store: Arc<Store>, credentials: Arc<Credentials>) -> Result<Self> {
        let dispatcher = Arc::new(Dispatcher::new(
            Arc::clone(&store),
            Arc::clone(&credentials),
        ));
        let poller = Arc::new(Poller::new(store, credentials));
        let updates = poller.subscribe();
        let dispatch = dispatcher.spawn(poller.subscribe());
        Ok(Self {
            _schedule: Schedule::start(poller)?,
            dispatch,
            updates,
        })
    }

    /// Prints a line per poll as it lands, for as long as the polling runs.
    pub async fn print_reports(&mut self) {
        loop {
            match self.updates.recv().await {
                Ok(report) => {
                    let when = chrono::Local::now().format("%H:%M:%S");
                    if report.ok() {
                        println!(
                            "{when} {}: ok, {} meter(s) read",
                            report.source, report.readings
                        );
                    } else {
                        println!(
                            "{when} {}: failed: {}",
                            report.source,
                            report.failures.join("; ")
                        );
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        self.dispatch.abort();
    }
}

/// Resolves on Ctrl-C, or on SIGTERM (what systemd sends to stop a service).
pub async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

pub async fn run(
    store: Arc<Store>,
    credentials: Arc<Credentials>,
    address: SocketAddr,
    poll: bool,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot serve metrics on {address}"))?;
    let bound = listener.local_addr()?;
    if !bound.ip().is_loopback() {
        eprintln!(
            "Note: {bound} is reachable from other machines, and /metrics has no password: anyone who reaches it sees your sources' names and balances (never keys)."
        );
    }
    let mut polling = match poll {
        true => Some(Polling::start(Arc::clone(&store), credentials)?),
        false => None,
    };
    let app = Router::new()
        .route("/metrics", get(scrape))
        .route("/", get(index))
        .with_state(store);
    let server = axum::serve(listener, app).with_graceful_shutdown(stopped());
    match polling.as_mut() {
        Some(polling) => {
            eprintln!(
                "Serving metrics at http://{bound}/metrics and polling every source on its interval. Press Ctrl-C to stop."
            );
            tokio::select! {
                served = server => served?,
                _ = polling.print_reports() => {},
            }
        }
        None => {
            eprintln!(
                "Serving metrics at http://{bound}/metrics from the database, without polling. Press Ctrl-C to stop."
            );
            server.await?;
        }
    }
    Ok(())
}

async fn scrape(State(store): State<Arc<Store>>) -> Response {
    let rendered =
        tokio::task::spawn_blocking(move || metrics::render(&store, chrono::Utc::now())).await;
    match rendered {
        Ok(Ok(text)) => ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response(),
        Ok(Err(error)) => {
            tracing::warn!(%error, "metrics not rendered");
            let words = format!("Headroom could not read its database: {error:#}\n");
            (StatusCode::INTERNAL_SERVER_ERROR, words).into_response()
        }
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

async fn index() -> &'static str {
    "Headroom: the metrics are at /metrics\n"
}
