//! What the CLI tests share: `headroom sim` as a child process, read through its announcement.

#![allow(dead_code)] // each test file uses its own part of this

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_headroom");

/// `headroom sim` with the demo scenario, stopped when dropped.
pub struct SimProcess {
    child: Child,
    pub announcement: Value,
}

impl SimProcess {
    /// Starts the simulator on `port` (0 for any free port) and reads its first stdout line.
    pub fn start(port: u16) -> Self {
        let mut child = Command::new(BIN)
            .args(["sim", "--scenario", "demo", "--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start headroom sim");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read announcement");
        let announcement = serde_json::from_str(&line).expect("first line is JSON");
        Self {
            child,
            announcement,
        }
    }

    pub fn base_url(&self) -> String {
        self.announcement["base_url"]
            .as_str()
            .expect("base_url")
            .to_string()
    }

    pub fn port(&self) -> u16 {
        self.base_url()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port in the base URL")
    }

    /// The first announced account matching `field == value` (e.g. "name", "provider").
    pub fn account_where(&self, field: &str, value: &str) -> Value {
        self.announcement["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|a| a[field] == value)
            .cloned()
            .unwrap_or_else(|| panic!("no demo account with {field} = {value}"))
    }

    pub fn account(&self, name: &str) -> Value {
        self.account_where("name", name)
    }

    pub fn key(&self, name: &str) -> String {
        self.account(name)["key"].as_str().expect("key").to_string()
    }

    pub fn key_of(&self, provider: &str) -> String {
        self.account_where("provider", provider)["key"]
            .as_str()
            .expect("key")
            .to_string()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
