//! Headroom's engine. Everything testable lives here; nothing here knows about Tauri.

pub mod alert;
pub mod chart;
pub mod classify;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod events;
pub mod export;
pub mod forecast;
pub mod money;
pub mod retention;
pub mod scheduler;
pub mod session;
pub mod source;
pub mod status;
pub mod store;

pub use rust_decimal::Decimal;

/// Where Headroom keeps its database when no `--data-dir` or `HEADROOM_DATA_DIR` is given.
pub fn default_data_dir() -> std::path::PathBuf {
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("headroom")
}
