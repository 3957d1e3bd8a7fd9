//! The `headroom` command line against the simulator, over real HTTP and a real SQLite file.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;

use common::{ok, run_headroom, SimProcess, BIN};
const KEY_VAR: &str = "HEADROOM_TEST_OPENROUTER_KEY";

fn headroom(data_dir: &Path, key: &str, args: &[&str]) -> Output {
    run_headroom(data_dir, &[(KEY_VAR, key)], args)
}

fn status(data_dir: &Path, key: &str) -> Vec<Value> {
    serde_json::from_str(&ok(headroom(data_dir, key, &["status", "--json"])))
        .expect("status --json is JSON")
}

/// What the simulator serves right now for a key, read the way any client would.
fn served_key_limit(sim: &SimProcess, key: &str) -> (f64, f64) {
    let body = Command::new("curl")
        .args([
            "-sf",
            "-H",
            &format!("Authorization: Bearer {key}"),
            &format!("{}/api/v1/key", sim.base_url()),
        ])
        .output()
        .map(|o| o.stdout)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let body = body.expect("curl the simulator");
    (
        body["data"]["limit_remaining"].as_f64().unwrap(),
        body["data"]["limit"].as_f64().unwrap(),
    )
}

fn files_contain(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in walk(dir) {
        if let Ok(bytes) = std::fs::read(&entry) {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                hits.push(entry.display().to_string());
            }
        }
    }
    hits
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn poll_status_outage_and_recovery_against_the_simulator() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let sim = SimProcess::start(0);
    let account = sim.account("staging");
    let key = account["key"].as_str().unwrap().to_string();

    let added = ok(headroom(
        dir,
        &key,
        &[
            "sources",
            "add",
            "openrouter",
            "--name",
            "x",
            "--base-url",
            &sim.base_url(),
            "--key-env",
            KEY_VAR,
        ],
    ));
    assert!(added.contains("Added x"), "{added}");
    let polled = ok(headroom(dir, &key, &["poll", "--once"]));
    assert!(polled.contains("x: ok"), "{polled}");

    let rows = status(dir, &key);
    let row = rows
        .iter()
        .find(|r| r["meter"] == "key_limit")
        .expect("a key-limit meter");
    let (served_remaining, served_limit) = served_key_limit(&sim, &key);
    for field in [
        "source",
        "meter",
        "provider",
        "unit",
        "remaining",
        "limit",
        "last_poll",
        "last_error",
    ] {
        assert!(
            row.get(field).is_some(),
            "status --json lacks {field}: {row}"
        );
    }
    assert_eq!(row["source"], "x");
    assert_eq!(row["provider"], "openrouter");
    assert_eq!(row["unit"], "USD");
    let remaining: f64 = row["remaining"].as_str().unwrap().parse().unwrap();
    let limit: f64 = row["limit"].as_str().unwrap().parse().unwrap();
    assert_eq!(limit, served_limit);
    // The balance keeps falling between our poll and our own look, by well under a cent.
    assert!(
        (remaining - served_remaining).abs() < 0.01,
        "stored {remaining}, served {served_remaining}"
    );
    assert!(row["last_error"].is_null());
    assert_eq!(row["state"], "low");

    // The simulator goes away: the source is failing, in words, and the reading is kept.
    let port = sim.port();
    drop(sim);
    let polled = ok(headroom(dir, &key, &["poll", "--once"]));
    assert!(polled.contains("x: failed"), "{polled}");
    let rows = status(dir, &key);
    let row = rows.iter().find(|r| r["meter"] == "key_limit").unwrap();
    assert_eq!(row["state"], "failing");
    let reason = row["last_error"].as_str().unwrap();
    assert!(
        reason.contains("could not connect") && reason.contains("connection refused"),
        "{reason}"
    );
    assert_eq!(
        row["remaining"].as_str().unwrap().parse::<f64>().unwrap(),
        remaining
    );
    let table = ok(headroom(dir, &key, &["status"]));
    assert!(
        table.contains("failing") && table.contains("could not connect"),
        "{table}"
    );

    // It comes back: the source recovers.
    let sim = SimProcess::start(port);
    ok(headroom(dir, &key, &["poll", "--once"]));
    let rows = status(dir, &key);
    let row = rows.iter().find(|r| r["meter"] == "key_limit").unwrap();
    assert_eq!(row["state"], "low");
    assert!(row["last_error"].is_null());
    drop(sim);

    // The key is in no file under the data dir.
    assert_eq!(files_contain(dir, &key), Vec::<String>::new());
}

#[test]
fn a_wrong_key_is_reported_in_words_and_never_printed() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let sim = SimProcess::start(0);
    let wrong = "sk-or-v1-this-key-does-not-exist-123456";
    ok(headroom(
        dir,
        wrong,
        &[
            "sources",
            "add",
            "openrouter",
            "--name",
            "bad",
            "--base-url",
            &sim.base_url(),
            "--key-env",
            KEY_VAR,
        ],
    ));
    let polled = headroom(dir, wrong, &["poll", "--once"]);
    let out = String::from_utf8_lossy(&polled.stdout).to_string()
        + &String::from_utf8_lossy(&polled.stderr);
    assert!(out.contains("401") && out.contains("Key rejected"), "{out}");
    assert!(!out.contains(wrong), "the key leaked into output: {out}");
    let rows = status(dir, wrong);
    assert_eq!(rows[0]["state"], "failing");
    let events: Vec<Value> =
        serde_json::from_str(&ok(headroom(dir, wrong, &["events", "--json"]))).unwrap();
    assert_eq!(events[0]["status"], 401);
    assert_eq!(events[0]["class"], "auth_invalid");
    assert!(!events[0]["excerpt"].as_str().unwrap().contains(wrong));
    assert!(
        rows[0]["meter"].is_null(),
        "no meter before a first reading"
    );
    let listing = ok(headroom(dir, wrong, &["sources", "list"]));
    assert!(
        listing.contains("environment variable HEADROOM_TEST_OPENROUTER_KEY")
            && !listing.contains(wrong)
    );
    assert_eq!(files_contain(dir, wrong), Vec::<String>::new());
}

#[test]
fn key_stdin_uses_the_keychain_or_says_there_is_none() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let secret = "sk-or-v1-typed-in-secret-abcdef123456";
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args([
            "sources",
            "add",
            "openrouter",
            "--name",
            "typed",
            "--base-url",
            "http://127.0.0.1:9",
            "--key-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), secret.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(!said.contains(secret));
    if output.status.success() {
        // A keychain took it; remove it again so the machine is left as it was.
        ok(headroom(dir, "", &["sources", "remove", "typed"]));
    } else {
        assert!(
            said.contains("no OS keychain") && said.contains("--key-env"),
            "{said}"
        );
        let listing = ok(headroom(dir, "", &["sources", "list", "--json"]));
        assert_eq!(
            listing.trim(),
            "[]",
            "nothing may be stored when the key had nowhere safe to go"
        );
    }
    assert_eq!(files_contain(dir, secret), Vec::<String>::new());
}

#[test]
fn demo_once_shows_healthy_low_and_exhausted_meters() {
    let data = tempfile::tempdir().unwrap();
    let output = ok(headroom(data.path(), "", &["demo", "--once"]));
    for expected in [
        "production",
        "staging",
        "research",
        "exhausted",
        "low",
        "ok",
    ] {
        assert!(
            output.contains(expected),
            "demo output lacks {expected}:\n{output}"
        );
    }
}

#[test]
fn sources_test_says_what_it_found_and_stores_nothing() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let sim = SimProcess::start(0);
    let good = sim.account("production")["key"]
        .as_str()
        .unwrap()
        .to_string();
    let args = [
        "sources",
        "test",
        "openrouter",
        "--name",
        "prod",
        "--base-url",
        &sim.base_url(),
        "--key-env",
        KEY_VAR,
    ];
    let found = ok(headroom(dir, &good, &args));
    assert!(
        found.contains("found   Key limit (key_limit): $"),
        "{found}"
    );

    let wrong = "sk-or-v1-this-key-does-not-exist-654321";
    let refused = headroom(dir, wrong, &args);
    assert!(!refused.status.success());
    let out = String::from_utf8_lossy(&refused.stdout).to_string()
        + &String::from_utf8_lossy(&refused.stderr);
    assert!(out.contains("failed  Key rejected"), "{out}");
    assert!(!out.contains(wrong), "the key leaked into output: {out}");

    let listing = ok(headroom(dir, wrong, &["sources", "list", "--json"]));
    assert_eq!(listing.trim(), "[]", "a test added a source: {listing}");
    assert_eq!(files_contain(dir, wrong), Vec::<String>::new());
}
