//! A stand-in for a desktop panel's tray, for tests/desktop/run.sh: it owns
//! `org.kde.StatusNotifierWatcher` on the session bus, says a host (a panel) is registered, and
//! prints one line for each tray icon that registers with it, e.g. `registered :1.7`.
//! It runs until it is killed.

use std::io::Write;
use std::sync::Mutex;

struct Watcher {
    items: Mutex<Vec<String>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(
        &self,
        service: &str,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) {
        // libayatana-appindicator passes its object path; the sender names the app.
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        let item = if service.starts_with('/') {
            format!("{sender}{service}")
        } else {
            service.to_string()
        };
        println!("registered {item}");
        let _ = std::io::stdout().flush();
        self.items.lock().unwrap().push(item);
    }

    fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.lock().unwrap().clone()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

fn main() -> zbus::Result<()> {
    let _connection = zbus::blocking::connection::Builder::session()?
        .name("org.kde.StatusNotifierWatcher")?
        .serve_at(
            "/StatusNotifierWatcher",
            Watcher {
                items: Mutex::new(Vec::new()),
            },
        )?
        .build()?;
    println!("ready");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
