//! Desktop life: one Headroom per data directory, the window kept in the tray on close, its size
//! and place remembered, and an optional start at login.
//!
//! - **Single instance**: a second launch on the same data directory shows the running window
//!   and exits with status 0 (tauri-plugin-single-instance, a D-Bus name on Linux). Two launches
//!   on different data directories (a test beside a real one) are two apps.
//! - **Close**: with a tray icon that a tray host shows (see `tray_host`), closing the window
//!   hides it and Headroom keeps polling; the tray's "Open Headroom" brings it back and "Quit"
//!   quits. With no tray, closing quits, or the app could not be reached again.
//! - **Window state**: size, position, maximized (tauri-plugin-window-state), in the plugin's
//!   `.window-state.json` in the app's config directory, or in `window-state.json` inside
//!   `HEADROOM_DATA_DIR` when that is set, so that tests and throwaway data stay apart. Whether
//!   the window shows is Headroom's own decision and is not restored.
//! - **Rendering without a GPU**: with no DRM render node (a VM, a remote desktop, Xvfb), WebKit
//!   would emulate accelerated compositing on the CPU through llvmpipe and hold ~190 MiB of
//!   buffers for it (docs/performance.md); Headroom turns compositing off there, unless
//!   `WEBKIT_DISABLE_COMPOSITING_MODE` is already set either way.
//! - **Autostart** (tauri-plugin-autostart): an XDG entry `~/.config/autostart/Headroom.desktop`
//!   that starts Headroom with `--background`: in the tray, without its window, when there is a
//!   tray host to open it from.

use std::path::Path;
use std::time::Duration;

use tauri::{AppHandle, Manager, Window, WindowEvent};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_window_state::{AppHandleExt as _, StateFlags};

use crate::{notify, tray, tray_host};

/// Must run before any thread starts (it sets an environment variable) and before WebKit loads.
pub fn choose_rendering() {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if cfg!(target_os = "linux") && std::env::var_os(VAR).is_none() && !has_gpu_render_node() {
        std::env::set_var(VAR, "1");
    }
}

fn has_gpu_render_node() -> bool {
    std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// The label of the main window in tauri.conf.json.
pub const MAIN_WINDOW: &str = "main";

/// The argument the login entry starts Headroom with: stay in the tray.
pub const BACKGROUND_ARG: &str = "--background";

/// tauri.conf.json's identifier; the single-instance D-Bus name starts with it.
const IDENTIFIER: &str = "app.headroom.desktop";

/// The name of the login entry (`~/.config/autostart/Headroom.desktop`).
const AUTOSTART_NAME: &str = "Headroom";

/// How long a start at login waits for the panel's tray host before it shows the window.
const TRAY_HOST_WAIT: Duration = Duration::from_secs(10);

/// Adds the desktop plugins (single instance first, as it must be) and the close handling.
/// `own_data_dir`: the data directory was chosen with `HEADROOM_DATA_DIR`.
pub fn install(
    builder: tauri::Builder<tauri::Wry>,
    data_dir: &Path,
    own_data_dir: bool,
) -> tauri::Builder<tauri::Wry> {
    let mut window_state = tauri_plugin_window_state::Builder::new().with_state_flags(remembered());
    if own_data_dir {
        let file = data_dir.join("window-state.json");
        window_state = window_state.with_filename(file.to_string_lossy());
    }
    builder
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(instance_id(data_dir))
                .callback(|app, _args, _cwd| notify::show_main_window(app))
                .build(),
        )
        .plugin(window_state.build())
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .app_name(AUTOSTART_NAME)
                .arg(BACKGROUND_ARG)
                .build(),
        )
        .on_window_event(on_window_event)
}

/// What the window state keeps: all but whether the window is shown.
fn remembered() -> StateFlags {
    StateFlags::all() - StateFlags::VISIBLE
}

/// The single-instance D-Bus name for `data_dir`: the identifier and a hash of the absolute path.
fn instance_id(data_dir: &Path) -> String {
    // Session::open creates the directory anyway; creating it first lets both launches resolve
    // the same symlinks whichever of them came first.
    let _ = std::fs::create_dir_all(data_dir);
    let path = std::fs::canonicalize(data_dir)
        .or_else(|_| std::path::absolute(data_dir))
        .unwrap_or_else(|_| data_dir.to_path_buf());
    format!(
        "{IDENTIFIER}.d{:016x}",
        fnv1a(path.as_os_str().as_encoded_bytes())
    )
}

/// FNV-1a: stable across Rust versions (unlike std's hasher), so an upgraded binary still finds
/// the instance an older one started.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Is a tray icon up, and does a tray host show it?
fn tray_is_shown(app: &AppHandle) -> bool {
    app.tray_by_id(tray::TRAY_ID).is_some() && tray_host::present()
}

fn on_window_event(window: &Window, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    if window.label() != MAIN_WINDOW || !tray_is_shown(window.app_handle()) {
        return; // the window closes, and with it the app
    }
    api.prevent_close();
    // A session that ends while the window is hidden kills Headroom without an exit event, so
    // the window's size and place are saved now.
    if let Err(error) = window.app_handle().save_window_state(remembered()) {
        tracing::warn!(%error, "the window's size and position could not be saved");
    }
    if let Err(error) = window.hide() {
        tracing::warn!(%error, "the window could not be hidden");
    }
}

/// At start: shows the window (see `show_at_start`) and quits cleanly on SIGTERM.
pub fn start(app: &AppHandle) {
    show_at_start(app);
    quit_on_terminate(app);
}

/// A session that ends, `kill` and service managers send SIGTERM. Quitting through Tauri saves
/// the window state and releases the single-instance name, which the default (dying at once)
/// would skip.
fn quit_on_terminate(app: &AppHandle) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            match signal(SignalKind::terminate()) {
                Ok(mut terminate) => {
                    terminate.recv().await;
                    tracing::info!("SIGTERM: quitting");
                    app.exit(0);
                }
                Err(error) => tracing::warn!(%error, "cannot listen for SIGTERM"),
            }
        });
    }
    #[cfg(not(unix))]
    let _ = app;
}

/// Shows the main window at start, unless Headroom was started at login (`--background`) and a
/// tray host shows its icon. At login the panel may come up after Headroom, so it waits for one
/// a few seconds before showing the window after all.
fn show_at_start(app: &AppHandle) {
    let background = std::env::args().any(|arg| arg == BACKGROUND_ARG);
    if !background || app.tray_by_id(tray::TRAY_ID).is_none() {
        notify::show_main_window(app);
        return;
    }
    let app = app.clone();
    let waited = std::thread::Builder::new()
        .name("headroom-tray-wait".into())
        .spawn(move || {
            let step = Duration::from_millis(500);
            let mut left = TRAY_HOST_WAIT;
            while !tray_host::present() {
                if left.is_zero() {
                    tracing::info!("no tray host showed up: showing the window");
                    notify::show_main_window(&app);
                    return;
                }
                std::thread::sleep(step);
                left = left.saturating_sub(step);
            }
        });
    if let Err(error) = waited {
        tracing::warn!(%error, "could not wait for the tray host");
    }
}

/// Is the login entry there?
pub fn autostart_enabled(app: &AppHandle) -> Result<bool, String> {
    app.autolaunch()
        .is_enabled()
        .map_err(|e| format!("could not read the login entry: {e}"))
}

/// Writes or removes the login entry; answers whether it is there now.
pub fn set_autostart(app: &AppHandle, enabled: bool) -> Result<bool, String> {
    let manager = app.autolaunch();
    let done = if enabled {
        manager.enable()
    } else {
        manager.disable()
    };
    done.map_err(|e| format!("could not change the login entry: {e}"))?;
    autostart_enabled(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_data_directory_is_its_own_instance() {
        let a = instance_id(Path::new("/tmp/headroom-instance-test/a"));
        let b = instance_id(Path::new("/tmp/headroom-instance-test/b"));
        let a_again = instance_id(Path::new("/tmp/headroom-instance-test/x/../a"));
        assert_ne!(a, b);
        assert_eq!(a, a_again);
        // A valid D-Bus name: dot-separated elements that do not start with a digit.
        assert!(a.starts_with("app.headroom.desktop.d"));
        assert!(a.split('.').all(|e| !e.is_empty()
            && !e.starts_with(|c: char| c.is_ascii_digit())
            && e.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')));
        let _ = std::fs::remove_dir_all("/tmp/headroom-instance-test");
    }

    #[test]
    fn the_identifier_is_the_configs() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
        assert_eq!(config["identifier"], IDENTIFIER);
        assert_eq!(config["app"]["windows"][0]["label"], MAIN_WINDOW);
    }

    #[test]
    fn fnv1a_is_the_reference_function() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
