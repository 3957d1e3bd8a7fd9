//! `headroom backup` and `headroom restore`: a copy taken while Headroom polls, that holds no key,
//! and a restore that refuses while the database is open and keeps what it replaced.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::{ok, run_headroom, SimProcess, WebhookReceiver, BIN};

const KEY_VAR: &str = "HEADROOM_TEST_STAGING_KEY";

fn headroom(dir: &Path, key: &str, args: &[&str]) -> Output {
    run_headroom(dir, &[(KEY_VAR, key)], args)
}

fn refused(output: Output) -> String {
    assert!(!output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn sources(dir: &Path) -> Vec<String> {
    let listing: Vec<Value> =
        serde_json::from_str(&ok(headroom(dir, "", &["sources", "list", "--json"]))).unwrap();
    listing
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// `headroom serve` polling in the background, as the app or a service would.
fn serve(dir: &Path, key: &str) -> (Child, u16) {
    let port = WebhookReceiver::free_port();
    let child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--metrics", &format!("127.0.0.1:{port}")])
        .env(KEY_VAR, key)
        .env_remove("HEADROOM_DATA_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "serve never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, port)
}

#[test]
fn backup_while_polling_restore_when_stopped_and_no_key_in_the_copy() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    let sim = SimProcess::start(0);
    let key = sim.key("staging");
    let url = sim.base_url();
    ok(headroom(
        &dir,
        &key,
        &[
            "sources",
            "add",
            "openrouter",
            "--name",
            "staging",
            "--base-url",
            &url,
            "--key-env",
            KEY_VAR,
        ],
    ));
    ok(headroom(&dir, &key, &["poll", "--once"]));
    let (mut running, _) = serve(&dir, &key);

    // A consistent copy while another process has the database open and writes to it.
    let backup = data.path().join("headroom-backup.sqlite");
    let said = ok(headroom(&dir, "", &["backup", backup.to_str().unwrap()]));
    assert!(said.contains("holds no keys"), "{said}");
    let copy = std::fs::read(&backup).unwrap();
    assert!(copy.starts_with(b"SQLite format 3\0"));
    assert!(!contains(&copy, &key), "the key is in the backup");
    assert!(contains(&copy, "staging"), "the backup holds the sources");
    let again = refused(headroom(&dir, "", &["backup", backup.to_str().unwrap()]));
    assert!(again.contains("already exists"), "{again}");

    // Restoring under a running Headroom would lose what it writes next: refused.
    let busy = refused(headroom(&dir, "", &["restore", backup.to_str().unwrap()]));
    assert!(
        busy.contains("open in another process") && busy.contains("quit it"),
        "{busy}"
    );
    assert_eq!(sources(&dir), ["staging"]);

    // Stopped the way systemd stops it.
    let stopped = Command::new("kill")
        .args(["-TERM", &running.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = running.wait().unwrap();
    assert!(
        status.success(),
        "serve did not stop cleanly on SIGTERM: {status}"
    );

    ok(headroom(&dir, "", &["sources", "remove", "staging"]));
    assert!(sources(&dir).is_empty());
    let restored = ok(headroom(&dir, "", &["restore", backup.to_str().unwrap()]));
    assert!(
        restored.contains("1 source(s)") && restored.contains("before-restore-"),
        "{restored}"
    );
    assert_eq!(sources(&dir), ["staging"], "the backup's sources are back");
    let kept: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("headroom.sqlite.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");

    // The restored history reads and exports, and the key still comes from the environment.
    let exported = ok(headroom(&dir, "", &["export"]));
    let mut lines = exported.lines();
    assert!(lines
        .next()
        .unwrap()
        .ends_with(",resolution,min_remaining,max_remaining,count"));
    assert!(lines.any(|l| l.starts_with("staging,openrouter,key_limit,USD,")));
    let polled = ok(headroom(&dir, &key, &["poll", "--once"]));
    assert!(polled.contains("staging: ok"), "{polled}");
}

#[test]
fn restore_refuses_what_is_not_a_headroom_database_and_backup_needs_one() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    let nothing = refused(headroom(&dir, "", &["backup", "x.sqlite"]));
    assert!(nothing.contains("there is no database"), "{nothing}");
    assert!(!dir.join("headroom.sqlite").exists(), "backup created one");

    let text = data.path().join("notes.txt");
    std::fs::write(&text, "SELECT * FROM hope;").unwrap();
    let said = refused(headroom(&dir, "", &["restore", text.to_str().unwrap()]));
    assert!(said.contains("is not a SQLite database"), "{said}");
    let missing = data.path().join("missing.sqlite");
    let said = refused(headroom(&dir, "", &["restore", missing.to_str().unwrap()]));
    assert!(said.contains("cannot read"), "{said}");
}
