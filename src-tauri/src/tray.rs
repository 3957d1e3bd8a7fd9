//! The tray icon: green, amber or red for the worst open alert, the summary (open alerts and the
//! soonest run-out) as its tooltip and as the first line of its menu, since Linux tray hosts
//! (AppIndicator) show no tooltips.

use std::sync::Mutex;

use headroom_core::alert::{TrayLevel, TraySummary};
use tauri::image::Image;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::AppHandle;

use crate::notify;

const OK_PNG: &[u8] = include_bytes!("../../icons/tray-ok.png");
const WARN_PNG: &[u8] = include_bytes!("../../icons/tray-warn.png");
const CRITICAL_PNG: &[u8] = include_bytes!("../../icons/tray-critical.png");

/// The tray icon's id (`AppHandle::tray_by_id`).
pub const TRAY_ID: &str = "main";

const OPEN: &str = "open";
const ALERTS: &str = "alerts";
const QUIT: &str = "quit";

pub struct Tray {
    icon: TrayIcon,
    summary: MenuItem<tauri::Wry>,
    /// What is showing now, so that a poll that changed nothing changes nothing on the panel.
    showing: Mutex<Option<TraySummary>>,
}

/// Puts Headroom in the tray. Without a tray (no tray host, no AppIndicator library) the app
/// runs on without one: `None`, and the reason in the log.
pub fn create(app: &AppHandle) -> Option<Tray> {
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(app)));
    match built {
        Ok(Ok(tray)) => Some(tray),
        Ok(Err(error)) => {
            tracing::warn!(%error, "no tray icon: the tray could not be set up");
            None
        }
        Err(_) => {
            tracing::warn!("no tray icon: setting up the tray panicked");
            None
        }
    }
}

fn build(app: &AppHandle) -> tauri::Result<Tray> {
    let summary = MenuItem::with_id(app, "summary", "Headroom", false, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &summary,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, OPEN, "Open Headroom", true, None::<&str>)?,
            &MenuItem::with_id(app, ALERTS, "Alerts", true, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, QUIT, "Quit", true, None::<&str>)?,
        ],
    )?;
    let icon = TrayIconBuilder::with_id(TRAY_ID)
        .icon(image(TrayLevel::Ok)?)
        .tooltip("Headroom")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu)
        .build(app)?;
    Ok(Tray {
        icon,
        summary,
        showing: Mutex::new(None),
    })
}

fn on_menu(app: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        OPEN => notify::show_main_window(app),
        ALERTS => notify::open(app, "#/alerts"),
        QUIT => app.exit(0),
        _ => {}
    }
}

fn image(level: TrayLevel) -> tauri::Result<Image<'static>> {
    Image::from_bytes(match level {
        TrayLevel::Ok => OK_PNG,
        TrayLevel::Warn => WARN_PNG,
        TrayLevel::Critical => CRITICAL_PNG,
    })
}

impl Tray {
    /// Shows `summary`: the icon for its level, and its words in the tooltip and the menu.
    pub fn show(&self, summary: &TraySummary) {
        let mut showing = self.showing.lock().unwrap_or_else(|e| e.into_inner());
        let before = showing.as_ref();
        if before.map(|s| s.level) != Some(summary.level) {
            if let Err(error) = image(summary.level).and_then(|i| self.icon.set_icon(Some(i))) {
                tracing::warn!(%error, "the tray icon could not be changed");
            }
        }
        if before.map(|s| s.tooltip.as_str()) != Some(summary.tooltip.as_str()) {
            if let Err(error) = self.icon.set_tooltip(Some(&summary.tooltip)) {
                tracing::debug!(%error, "the tray tooltip could not be set");
            }
            // A lone `&` in a menu item marks a keyboard shortcut.
            let text = summary.tooltip.replace('&', "&&");
            if let Err(error) = self.summary.set_text(text) {
                tracing::warn!(%error, "the tray menu's summary could not be set");
            }
        }
        *showing = Some(summary.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_has_an_icon_that_decodes() {
        for level in [TrayLevel::Ok, TrayLevel::Warn, TrayLevel::Critical] {
            let icon = image(level).unwrap();
            assert_eq!((icon.width(), icon.height()), (32, 32));
        }
    }
}
