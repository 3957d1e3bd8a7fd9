//! Whether the desktop shows tray icons at all.
//!
//! Creating a tray icon succeeds even where nothing will ever show it (libayatana-appindicator
//! only fails when the library is missing). Hiding the window on close is safe only when the icon
//! is really on a panel, so this asks the session bus for a StatusNotifier host: the watcher that
//! KDE, GNOME's AppIndicator extension, Xfce, Cinnamon, MATE and most panels run. A desktop with
//! only an old XEmbed tray counts as having none, which errs on the safe side: closing quits.

use std::time::Duration;

use zbus::blocking::Connection;
use zbus::zvariant::OwnedValue;

const WATCHER: &str = "org.kde.StatusNotifierWatcher";
const WATCHER_PATH: &str = "/StatusNotifierWatcher";

/// A session bus that does not answer this fast is treated as having no tray host.
const TIMEOUT: Duration = Duration::from_millis(800);

/// Is a tray host showing StatusNotifier icons on this session's bus now?
pub fn present() -> bool {
    let connection = zbus::blocking::connection::Builder::session()
        .map(|b| b.method_timeout(TIMEOUT))
        .and_then(|b| b.build());
    match connection {
        Ok(connection) => present_on(&connection),
        Err(error) => {
            tracing::debug!(%error, "no session bus: no tray host");
            false
        }
    }
}

/// Is there a StatusNotifier watcher on `bus`, with a host (a panel) registered to it?
pub fn present_on(bus: &Connection) -> bool {
    let owned = bus
        .call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "NameHasOwner",
            &(WATCHER,),
        )
        .and_then(|reply| reply.body().deserialize::<bool>());
    if !matches!(owned, Ok(true)) {
        return false;
    }
    let registered = bus
        .call_method(
            Some(WATCHER),
            WATCHER_PATH,
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &(WATCHER, "IsStatusNotifierHostRegistered"),
        )
        .and_then(|reply| reply.body().deserialize::<OwnedValue>())
        .map(|value| bool::try_from(value).unwrap_or(true));
    // A watcher that cannot say whether a host is registered is taken at its word: it exists.
    registered.unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};

    /// A private session bus for one test, stopped when dropped.
    struct Bus {
        daemon: Child,
        address: String,
    }

    impl Bus {
        fn start() -> Option<Self> {
            let mut daemon = Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let mut address = String::new();
            BufReader::new(daemon.stdout.take()?)
                .read_line(&mut address)
                .ok()?;
            Some(Self {
                daemon,
                address: address.trim().to_string(),
            })
        }

        fn connect(&self) -> Connection {
            zbus::blocking::connection::Builder::address(self.address.as_str())
                .unwrap()
                .method_timeout(TIMEOUT)
                .build()
                .unwrap()
        }
    }

    impl Drop for Bus {
        fn drop(&mut self) {
            let _ = self.daemon.kill();
            let _ = self.daemon.wait();
        }
    }

    struct FakeWatcher {
        host: bool,
    }

    #[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
    impl FakeWatcher {
        #[zbus(property)]
        fn is_status_notifier_host_registered(&self) -> bool {
            self.host
        }
    }

    fn serve(bus: &Bus, host: bool) -> Connection {
        zbus::blocking::connection::Builder::address(bus.address.as_str())
            .unwrap()
            .name(WATCHER)
            .unwrap()
            .serve_at(WATCHER_PATH, FakeWatcher { host })
            .unwrap()
            .build()
            .unwrap()
    }

    #[test]
    fn a_tray_host_is_found_only_when_a_watcher_has_a_host() {
        let Some(bus) = Bus::start() else {
            eprintln!("skipped: dbus-daemon is not installed (scripts/setup.sh installs it)");
            return;
        };
        let client = bus.connect();
        assert!(!present_on(&client), "a bare bus has no tray host");
        let _watcher = serve(&bus, false);
        assert!(
            !present_on(&client),
            "a watcher without a panel shows nothing"
        );

        // A fresh bus, since a released name may linger a moment on the first one.
        let bus = Bus::start().expect("a second dbus-daemon");
        let _watcher = serve(&bus, true);
        assert!(
            present_on(&bus.connect()),
            "a watcher with a registered host shows icons"
        );
    }
}
