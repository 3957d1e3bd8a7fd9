//! A local HTTP server that speaks OpenRouter's balance API shapes, serving
//! deterministic, time-varying account state from a [`Scenario`].
//!
//! Used by `headroom sim`, by the desktop app's demo mode and by integration
//! tests, so that nothing needs a real provider account or network access.

mod model;
mod scenario;
mod server;

use std::path::PathBuf;

pub use model::AccountState;
pub use scenario::{
    builtin_scenario, builtin_scenario_names, load_scenario, resolve_scenario, AccountSpec,
    Scenario,
};
pub use server::{run_cli, AnnouncedAccount, Announcement, Sim};

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
