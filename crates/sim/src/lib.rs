//! A local HTTP server that speaks the balance API shapes of OpenRouter, DeepSeek, Moonshot and
//! SiliconFlow (one module each under `providers/`), serving deterministic, time-varying account
//! state from a [`Scenario`].
//!
//! Used by `headroom sim`, by the desktop app's demo mode and by integration
//! tests, so that nothing needs a real provider account or network access.

mod faults;
mod model;
mod providers;
mod scenario;
mod server;
mod world;

use std::path::PathBuf;

pub use faults::Fault;
pub use model::AccountState;
pub use providers::chat_path;
pub use scenario::{
    builtin_scenario, builtin_scenario_names, default_currency, load_scenario, resolve_scenario,
    AccountSpec, Scenario, PROVIDERS,
};
pub use server::{run_cli, AnnouncedAccount, Announcement, Sim, Snapshots};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot read scenario file {}: {source}", path.display())]
    ReadScenario {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("scenario file {} is not valid (line {line}, column {column}): {message}", path.display())]
    ParseScenario {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("no built-in scenario named '{name}' (built-ins: {}) and no scenario file at that path", builtin_scenario_names().join(", "))]
    UnknownScenario { name: String },
    #[error("scenario '{scenario}': {problem}")]
    InvalidScenario { scenario: String, problem: String },
    #[error("port {port} on 127.0.0.1 is already in use; pick another with --port, or 0 for any free port")]
    PortInUse { port: u16 },
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("simulator server failed: {0}")]
    Serve(std::io::Error),
    #[error("cannot write the announcement to stdout: {0}")]
    Announce(std::io::Error),
    #[error("cannot listen for Ctrl-C / SIGTERM: {0}")]
    Signal(std::io::Error),
}
