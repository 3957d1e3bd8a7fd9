//! What the CLI tests share: `headroom sim` as a child process, read through its announcement.

#![allow(dead_code)] // each test file uses its own part of this

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

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

/// `headroom --data-dir DATA_DIR ARGS` with `envs` set and no `HEADROOM_DATA_DIR` inherited, run
/// to completion.
pub fn run_headroom(data_dir: &Path, envs: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .envs(envs.iter().copied())
        .env_remove("HEADROOM_DATA_DIR")
        .output()
        .expect("run headroom")
}

/// The standard output of a run that must have succeeded.
pub fn ok(output: Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "headroom failed: {text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

/// Where [`add_low_and_exhausted_keys`] has `sources add` read the demo's OpenRouter keys from:
/// the runner sets each to `sim.key(name)`.
pub const DEMO_KEY_ENV: [(&str, &str); 2] = [
    ("staging", "HEADROOM_TEST_STAGING_KEY"),
    ("research", "HEADROOM_TEST_RESEARCH_KEY"),
];

/// Adds the demo's running-low (staging) and exhausted (research) OpenRouter keys as sources,
/// through `run` (a test file's own `headroom` runner, which sets [`DEMO_KEY_ENV`]).
pub fn add_low_and_exhausted_keys(sim: &SimProcess, mut run: impl FnMut(&[&str])) {
    let url = sim.base_url();
    for (name, var) in DEMO_KEY_ENV {
        run(&[
            "sources",
            "add",
            "openrouter",
            "--name",
            name,
            "--base-url",
            &url,
            "--key-env",
            var,
        ]);
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request a [`WebhookReceiver`] took.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A webhook receiver on loopback, answering 200 to every POST and keeping what it got. It
/// lives on its own thread, so a test can run CLI processes while it listens.
pub struct WebhookReceiver {
    pub port: u16,
    received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl WebhookReceiver {
    /// Listens on `port` (0 for any free port).
    pub fn start(port: u16) -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind receiver");
        let port = listener.local_addr().unwrap().port();
        let received: std::sync::Arc<std::sync::Mutex<Vec<Received>>> = Default::default();
        let record = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                let mut headers = Vec::new();
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap_or(0);
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        headers.push((name.trim().to_string(), value.trim().to_string()));
                    }
                }
                let length: usize = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap_or_default();
                record.lock().unwrap().push(Received { headers, body });
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            }
        });
        Self { port, received }
    }

    /// A port nothing listens on (yet).
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/headroom", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}
