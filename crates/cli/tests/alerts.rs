//! `headroom alerts` against the simulator: a poll raises alerts by itself, once per episode.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

mod common;

use common::{SimProcess as Sim, BIN};

/// Runs headroom with each account's key in its own environment variable.
fn headroom(data_dir: &Path, sim: &Sim, args: &[&str]) -> String {
    let output: Output = Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .envs(common::DEMO_KEY_ENV.map(|(name, var)| (var, sim.key(name))))
        .env_remove("HEADROOM_DATA_DIR")
        .output()
        .expect("run headroom");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "headroom {args:?} failed: {text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

fn alerts(dir: &Path, sim: &Sim) -> Vec<Value> {
    serde_json::from_str(&headroom(dir, sim, &["alerts", "--json"])).expect("alerts --json is JSON")
}

fn firing<'a>(alerts: &'a [Value], source: &str) -> Vec<&'a Value> {
    alerts
        .iter()
        .filter(|a| a["source"] == source && a["state"] == "firing")
        .collect()
}

#[test]
fn a_poll_raises_alerts_for_the_low_and_the_exhausted_account_once() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let sim = Sim::start(0);
    assert_eq!(alerts(dir, &sim), Vec::<Value>::new());
    common::add_low_and_exhausted_keys(&sim, |args| {
        headroom(dir, &sim, args);
    });
    headroom(dir, &sim, &["poll", "--once"]);

    let first = alerts(dir, &sim);
    for alert in &first {
        for field in [
            "meter", "rule", "severity", "state", "fired_at", "source", "message",
        ] {
            assert!(alert.get(field).is_some(), "{field} missing: {alert}");
        }
    }
    // Staging has 8% of its key limit left, and its own usage counters say it runs out within
    // three days: a forecast warning, from the first poll.
    let staging = firing(&first, "staging");
    assert!(
        staging
            .iter()
            .any(|a| a["meter"] == "key_limit" && a["rule"] == "forecast_warn"),
        "{first:#?}"
    );
    assert!(
        staging.iter().all(|a| a["severity"] != "critical"),
        "{first:#?}"
    );
    // Research is out of credit: critical.
    assert!(
        firing(&first, "research")
            .iter()
            .any(|a| a["severity"] == "critical"),
        "{first:#?}"
    );

    // The same conditions on the next poll are the same episodes, not new ones.
    headroom(dir, &sim, &["poll", "--once"]);
    let second = alerts(dir, &sim);
    for alert in &first {
        let same: Vec<&Value> = second
            .iter()
            .filter(|a| {
                a["source"] == alert["source"]
                    && a["meter"] == alert["meter"]
                    && a["rule"] == alert["rule"]
            })
            .collect();
        assert_eq!(same.len(), 1, "duplicated: {second:#?}");
        assert_eq!(same[0]["fired_at"], alert["fired_at"]);
        assert_eq!(same[0]["state"], "firing");
    }

    let text = headroom(dir, &sim, &["alerts"]);
    assert!(
        text.contains("research") && text.contains("critical"),
        "{text}"
    );
}
