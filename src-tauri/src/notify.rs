//! Alerts on the desktop: the shell's `DesktopNotifier`.
//!
//! Why notify-rust and not tauri-plugin-notification: on Linux the plugin shows its notifications
//! through notify-rust too, but it drops the handle and never reports a click (its action events
//! are mobile-only). A notification that cannot open the meter it is about is half a feature, so
//! the shell calls notify-rust itself (pure-Rust D-Bus through zbus, no libdbus), keeps the handle,
//! and waits for the "default" action on a thread of its own. It also keeps the webview from
//! needing any notification permission.

use std::sync::mpsc;
use std::time::Duration;

use headroom_core::alert::channels::Notice;
use headroom_core::alert::outbox::DesktopNotifier;
use headroom_core::store::Severity;
use notify_rust::{Notification, Urgency};
use tauri::{AppHandle, Emitter, Manager};

/// Asks the UI to show a route, e.g. `"#/meter/12"`; the payload is the route string.
pub const NAVIGATE_EVENT: &str = "headroom://navigate";

/// How long `notify` waits for the notification service to take a notice. D-Bus may have to
/// start the service first, which can take a few seconds.
const SHOW_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Notifier {
    app: AppHandle,
}

impl Notifier {
    pub fn new(app: AppHandle) -> Self {
        Self { app }
    }
}

impl DesktopNotifier for Notifier {
    fn notify(&self, notice: &Notice) -> Result<(), String> {
        let urgency = match notice.severity {
            Severity::Critical => Urgency::Critical,
            _ => Urgency::Normal,
        };
        let (title, body) = (notice.title.clone(), notice.body.clone());
        let target = route(notice);
        let app = self.app.clone();
        let (shown, result) = mpsc::sync_channel(1);
        // One thread per notice: it shows the notice, reports back, then stays to hear whether
        // the notice was clicked. It ends when the notice is clicked or closed.
        std::thread::Builder::new()
            .name("headroom-notice".into())
            .spawn(move || {
                let markup = notify_rust::get_capabilities()
                    .map(|caps| caps.iter().any(|c| c == "body-markup"))
                    .unwrap_or(false);
                let body = if markup { escape_markup(&body) } else { body };
                let handle = Notification::new()
                    .appname("Headroom")
                    .summary(&title)
                    .body(&body)
                    .urgency(urgency)
                    .action("default", "Open in Headroom")
                    .show();
                match handle {
                    Ok(handle) => {
                        let _ = shown.send(Ok(()));
                        handle.wait_for_action(|action| {
                            if action == "default" {
                                open(&app, &target);
                            }
                        });
                    }
                    Err(error) => {
                        let _ = shown.send(Err(explain(&error.to_string())));
                    }
                }
            })
            .map_err(|e| format!("could not start a thread to show the notification: {e}"))?;
        match result.recv_timeout(SHOW_TIMEOUT) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
                "the desktop's notification service did not answer within {} s",
                SHOW_TIMEOUT.as_secs()
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err("showing the notification failed unexpectedly (see the app's log)".into())
            }
        }
    }
}

/// Where a click on the notice leads: its meter's page, or the alert list.
fn route(notice: &Notice) -> String {
    match notice.meter_id {
        Some(id) => format!("#/meter/{id}"),
        None => "#/alerts".into(),
    }
}

/// Brings the main window up and asks the UI to show `route`.
pub fn open(app: &AppHandle, route: &str) {
    show_main_window(app);
    if let Err(error) = app.emit(NAVIGATE_EVENT, route) {
        tracing::warn!(%error, route, "could not ask the window to navigate");
    }
}

pub fn show_main_window(app: &AppHandle) {
    let Some(window) = app.get_webview_window("main") else {
        tracing::warn!("there is no main window to show");
        return;
    };
    let _ = window.unminimize();
    let _ = window.show();
    if let Err(error) = window.set_focus() {
        tracing::debug!(%error, "could not focus the main window");
    }
}

/// The notification service's error, in words.
fn explain(error: &str) -> String {
    let no_service = [
        "ServiceUnknown",
        "NameHasNoOwner",
        "not provided by any .service files",
        "org.freedesktop.DBus.Error.Spawn",
    ];
    if no_service.iter().any(|s| error.contains(s)) {
        format!(
            "no notification service is running on this desktop (org.freedesktop.Notifications); \
             most desktops start one, a bare window manager needs one such as dunst or mako \
             ({error})"
        )
    } else if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
        && std::env::var_os("XDG_RUNTIME_DIR").is_none()
    {
        format!(
            "there is no desktop session bus (D-Bus) to show notifications through; \
             Headroom must run inside a desktop session ({error})"
        )
    } else {
        format!("the desktop did not show the notification: {error}")
    }
}

/// Notification services that take markup in the body would read `<` and `&` in a source's name
/// as markup.
fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_service_is_said_in_words() {
        let said = explain(
            "org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.Notifications \
             was not provided by any .service files",
        );
        assert!(said.starts_with("no notification service is running on this desktop"));
        assert!(said.contains("org.freedesktop.Notifications"));
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape_markup("R&D <prod>"), "R&amp;D &lt;prod&gt;");
    }
}
