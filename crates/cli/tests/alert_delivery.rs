//! Alert notices over real HTTP: `headroom poll` against the simulator, a webhook receiver on
//! loopback, and the outbox surviving a receiver that is down and a poller killed with -9.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

mod common;

use common::{SimProcess as Sim, WebhookReceiver, BIN};

const SECRET: &str = "whsec-cli-test-secret";

fn run(data_dir: &Path, sim: &Sim, hook_url: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .envs(common::DEMO_KEY_ENV.map(|(name, var)| (var, sim.key(name))))
        .env("HEADROOM_TEST_HOOK_URL", hook_url)
        .env("HEADROOM_TEST_HOOK_SECRET", SECRET)
        .env_remove("HEADROOM_DATA_DIR")
        .output()
        .expect("run headroom")
}

fn ok(data_dir: &Path, sim: &Sim, hook_url: &str, args: &[&str]) -> String {
    let output = run(data_dir, sim, hook_url, args);
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "headroom {args:?} failed: {text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

/// Adds the low (staging) and the exhausted (research) demo keys and a signed JSON webhook.
fn set_up(dir: &Path, sim: &Sim, hook_url: &str) {
    common::add_low_and_exhausted_keys(sim, |args| {
        ok(dir, sim, hook_url, args);
    });
    let added = ok(
        dir,
        sim,
        hook_url,
        &[
            "alerts",
            "channels",
            "add",
            "webhook",
            "--name",
            "ops",
            "--format",
            "json",
            "--url-env",
            "HEADROOM_TEST_HOOK_URL",
            "--secret-env",
            "HEADROOM_TEST_HOOK_SECRET",
        ],
    );
    assert!(added.contains("signed"), "{added}");
}

fn alerts(dir: &Path, sim: &Sim, hook_url: &str) -> Vec<Value> {
    serde_json::from_str(&ok(dir, sim, hook_url, &["alerts", "--json"])).unwrap()
}

/// The webhook notices of every alert: (alert id, delivery state, attempts).
fn webhook_deliveries(alerts: &[Value]) -> Vec<(i64, String, u64)> {
    alerts
        .iter()
        .flat_map(|a| {
            a["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["channel"] == "ops")
                .map(|d| {
                    (
                        a["id"].as_i64().unwrap(),
                        d["state"].as_str().unwrap().to_string(),
                        d["attempts"].as_u64().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn verify(received: &common::Received) {
    let signature = received
        .header("x-headroom-signature-256")
        .expect("a signature header");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&received.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(
        signature, expected,
        "the signature verifies with the secret"
    );
}

/// `headroom poll` as a daemon, with the test's keys and webhook in its environment.
fn spawn_poller(dir: &Path, sim: &Sim, hook: &str) -> std::process::Child {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .arg("poll")
        .envs(common::DEMO_KEY_ENV.map(|(name, var)| (var, sim.key(name))))
        .env("HEADROOM_TEST_HOOK_URL", hook)
        .env("HEADROOM_TEST_HOOK_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start headroom poll")
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn each_episode_reaches_the_webhook_once_signed() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let sim = Sim::start(0);
    let receiver = WebhookReceiver::start(0);
    let hook = receiver.url();
    set_up(dir, &sim, &hook);
    let polled = ok(dir, &sim, &hook, &["poll", "--once"]);
    assert!(polled.contains("notice(s) sent"), "{polled}");

    let fired = alerts(dir, &sim, &hook);
    // The low key runs out within three days by its own usage counters: a forecast warning.
    assert!(
        fired.iter().any(|a| a["source"] == "staging"
            && a["rule"] == "forecast_warn"
            && a["state"] == "firing"),
        "{fired:#?}"
    );
    assert!(
        fired
            .iter()
            .any(|a| a["source"] == "research" && a["severity"] == "critical"),
        "{fired:#?}"
    );
    let received = receiver.received();
    assert_eq!(received.len(), fired.len(), "one POST per episode");
    let mut ids: Vec<i64> = received
        .iter()
        .map(|r| r.json()["alert_id"].as_i64().unwrap())
        .collect();
    ids.sort();
    let mut expected: Vec<i64> = fired.iter().map(|a| a["id"].as_i64().unwrap()).collect();
    expected.sort();
    assert_eq!(ids, expected);
    for r in &received {
        verify(r);
        assert_eq!(r.json()["event"], "alert.fired");
        assert!(r.header("x-headroom-delivery").is_some());
    }

    // The same conditions at the next poll are the same episodes: nothing new is sent.
    ok(dir, &sim, &hook, &["poll", "--once"]);
    assert_eq!(receiver.received().len(), fired.len());
    // Nothing about the secret reached the database.
    let db = std::fs::read(dir.join("headroom.sqlite")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains(SECRET));
    assert!(!String::from_utf8_lossy(&db).contains("/hooks/headroom"));
}

#[test]
fn a_notice_outlives_a_dead_receiver_and_a_killed_poller_and_lands_once() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let sim = Sim::start(0);
    let port = WebhookReceiver::free_port();
    let hook = format!("http://127.0.0.1:{port}/hooks/headroom");
    set_up(dir, &sim, &hook);

    // The poller fires the alerts and fails to deliver them: the receiver is not there.
    let mut poller = spawn_poller(dir, &sim, &hook);
    wait_for("a failed delivery attempt", Duration::from_secs(30), || {
        let deliveries = webhook_deliveries(&alerts(dir, &sim, &hook));
        !deliveries.is_empty() && deliveries.iter().all(|(_, _, attempts)| *attempts >= 1)
    });
    // Killed between the alert firing and its delivery.
    poller.kill().unwrap();
    poller.wait().unwrap();
    let queued = webhook_deliveries(&alerts(dir, &sim, &hook));
    assert!(
        queued.iter().all(|(_, state, _)| state == "pending"),
        "{queued:?}"
    );

    // The receiver comes back, and so does the poller: every notice lands, once.
    let receiver = WebhookReceiver::start(port);
    let mut poller = spawn_poller(dir, &sim, &hook);
    wait_for("the retried notices", Duration::from_secs(60), || {
        webhook_deliveries(&alerts(dir, &sim, &hook))
            .iter()
            .all(|(_, state, _)| state == "sent")
    });
    // Time for a duplicate to show up, if there were going to be one.
    std::thread::sleep(Duration::from_secs(2));
    poller.kill().unwrap();
    poller.wait().unwrap();
    let received = receiver.received();
    let mut ids: Vec<i64> = received
        .iter()
        .map(|r| r.json()["alert_id"].as_i64().unwrap())
        .collect();
    ids.sort();
    let mut expected: Vec<i64> = queued.iter().map(|(id, _, _)| *id).collect();
    expected.sort();
    assert_eq!(ids, expected, "each notice exactly once");
    received.iter().for_each(verify);
}

#[test]
fn bad_alert_settings_are_refused_in_words_and_keep_what_was_saved() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let sim = Sim::start(0);
    let hook = "http://127.0.0.1:9/x";
    set_up(dir, &sim, hook);
    ok(dir, &sim, hook, &["poll", "--once"]);
    ok(
        dir,
        &sim,
        hook,
        &["alerts", "rules", "set", "--below-percent", "30"],
    );

    let refused = |args: &[&str], words: &str| {
        let output = run(dir, &sim, hook, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    };
    refused(
        &[
            "alerts",
            "rules",
            "set",
            "--below-percent",
            "-5",
            "--failing-polls",
            "5",
        ],
        "above 0 and below 100",
    );
    refused(
        &[
            "alerts",
            "rules",
            "set",
            "--meter",
            "nosuch/meter",
            "--below-percent",
            "10",
        ],
        "there is no meter called \"nosuch/meter\"; the meters are",
    );
    refused(
        &["alerts", "rules", "set", "--quiet-hours", "late-early"],
        "22:00-07:00",
    );
    std::env::set_var("HEADROOM_TEST_BAD_URL", "htp:/nowhere");
    refused(
        &[
            "alerts",
            "channels",
            "add",
            "webhook",
            "--name",
            "bad",
            "--url-env",
            "HEADROOM_TEST_BAD_URL",
        ],
        "not a web address",
    );

    let listed: Value =
        serde_json::from_str(&ok(dir, &sim, hook, &["alerts", "rules", "list", "--json"])).unwrap();
    let rule = |name: &str| {
        listed["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["meter"].is_null() && r["rule"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        rule("below_percent")["input"],
        "30",
        "the saved value stays"
    );
    assert_eq!(
        rule("source_failing")["input"],
        "3",
        "half of a refused change is not saved"
    );
    let channels = ok(dir, &sim, hook, &["alerts", "channels", "list"]);
    assert!(!channels.contains("bad"), "{channels}");

    // A per-meter override by the name the list shows.
    ok(
        dir,
        &sim,
        hook,
        &[
            "alerts",
            "rules",
            "set",
            "--meter",
            "staging/key_limit",
            "--below-percent",
            "5",
        ],
    );
    let text = ok(dir, &sim, hook, &["alerts", "rules", "list"]);
    assert!(
        text.lines().any(|l| l.starts_with("staging/key_limit")
            && l.contains("5%")
            && l.contains("this meter")),
        "{text}"
    );
}
