//! The desktop shell: window, commands and events. Commands are one-line adapters over
//! `headroom_core::session::Session`; nothing here knows about providers.

mod commands;
mod desktop;
mod notify;
mod tray;
mod tray_host;

use std::sync::Arc;

use headroom_core::session::Session;
use tauri::{Emitter, Manager};

/// Emitted after every poll that landed, so the UI refetches without a refresh button.
pub const UPDATED_EVENT: &str = "headroom://updated";

pub fn run() {
    desktop::choose_rendering();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HEADROOM_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let own_data_dir = std::env::var_os("HEADROOM_DATA_DIR");
    let data_dir = own_data_dir
        .clone()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(headroom_core::default_data_dir);
    // Tests pin the demo simulator's port so that they can read what it serves.
    let demo_port = std::env::var("HEADROOM_DEMO_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);

    let result = desktop::install(tauri::Builder::default(), &data_dir, own_data_dir.is_some())
        // Links to a provider's billing page open in the system browser; the UI asks for that
        // explicitly (api.openUrl), so no script is injected into every page.
        .plugin(
            tauri_plugin_opener::Builder::new()
                .open_js_links_on_click(false)
                .build(),
        )
        .setup(move |app| {
            let notifier = notify::Notifier::new(app.handle().clone());
            let session = tauri::async_runtime::block_on(Session::open(
                &data_dir,
                demo_port,
                Some(Arc::new(notifier)),
            ))?;
            let session = Arc::new(session);
            let mut updates = session.subscribe();
            let handle = app.handle().clone();
            let tray = tray::create(&handle);
            desktop::start(&handle);
            let watched = Arc::clone(&session);
            tauri::async_runtime::spawn(async move {
                use tokio::sync::broadcast::error::RecvError;
                refresh_tray(tray.as_ref(), &watched).await;
                loop {
                    match updates.recv().await {
                        Ok(()) | Err(RecvError::Lagged(_)) => {
                            let _ = handle.emit(UPDATED_EVENT, ());
                            // A burst of updates (a backfill, many sources polled at once)
                            // redraws the tray once, after the last of them.
                            if updates.is_empty() {
                                refresh_tray(tray.as_ref(), &watched).await;
                            }
                        }
                        Err(RecvError::Closed) => return,
                    }
                }
            });
            app.manage(session);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_state,
            commands::list_cards,
            commands::meter_detail,
            commands::list_sources,
            commands::provider_kinds,
            commands::add_source,
            commands::test_source,
            commands::remove_source,
            commands::start_demo,
            commands::stop_demo,
            commands::list_alerts,
            commands::acknowledge_alert,
            commands::snooze_alert,
            commands::alert_rules,
            commands::set_alert_rules,
            commands::set_alert_settings,
            commands::list_channels,
            commands::add_channel,
            commands::remove_channel,
            commands::set_channel_enabled,
            commands::test_channel,
            commands::tray_state,
            commands::autostart_enabled,
            commands::set_autostart,
            commands::list_events,
            commands::event_counts,
            commands::event_detail,
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("Headroom could not start: {error}");
        std::process::exit(1);
    }
}

/// Shows the session's tray summary on the tray icon, if there is one.
async fn refresh_tray(tray: Option<&tray::Tray>, session: &Session) {
    let Some(tray) = tray else { return };
    match session.tray().await {
        Ok(summary) => tray.show(&summary),
        Err(error) => tracing::warn!(%error, "the tray summary could not be read"),
    }
}
