//! `headroom sources add` for the spend-reporting providers (OpenAI, Anthropic) against the
//! simulator: the new source's last 30 days are filled in at once, and `status` shows the meter.

use std::path::Path;
use std::process::Output;

use chrono::{Duration, Utc};
use headroom_core::store::Store;
use serde_json::Value;

mod common;

use common::{run_headroom, SimProcess};
const KEY_VAR: &str = "HEADROOM_TEST_SPEND_ADMIN_KEY";

fn headroom(data_dir: &Path, key: &str, args: &[&str]) -> Output {
    run_headroom(data_dir, &[(KEY_VAR, key)], args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// The status row of `source`, after checking it is the USD monthly budget meter.
fn budget_row(data_dir: &Path, source: &str) -> Value {
    let output = headroom(data_dir, "", &["status", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).expect("status --json is JSON");
    let row = rows
        .into_iter()
        .find(|r| r["source"] == source)
        .unwrap_or_else(|| panic!("no status row for {source}"));
    assert_eq!(row["meter"], "monthly_budget", "{row}");
    assert_eq!(
        (&row["kind"], &row["unit"]),
        (&"budget".into(), &"USD".into())
    );
    row
}

fn readings_in_last_40_days(data_dir: &Path, row: &Value) -> usize {
    let store = Store::open(data_dir).expect("open the store");
    let meter_id = row["meter_id"].as_i64().expect("a meter id");
    store
        .readings_since(meter_id, Utc::now() - Duration::days(40))
        .expect("readings")
        .len()
}

#[test]
fn adding_an_openai_source_fills_in_thirty_days_and_status_shows_them() {
    let sim = SimProcess::start(0);
    let data = tempfile::tempdir().expect("temp dir");
    let key = sim.key_of("openai");
    let base_url = sim.base_url();
    let output = headroom(
        data.path(),
        &key,
        &[
            "sources",
            "add",
            "openai",
            "--name",
            "o",
            "--base-url",
            &base_url,
            "--key-env",
            KEY_VAR,
        ],
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Filled in 30 past readings."), "{stdout}");
    assert!(stderr.contains("Filling in history:"), "{stderr}");
    assert!(!stdout.contains(&key) && !stderr.contains(&key));

    let row = budget_row(data.path(), "o");
    // The demo organization's spend limit is $250 (25000 cents).
    assert_eq!(row["limit"], "250", "{row}");
    assert_eq!(readings_in_last_40_days(data.path(), &row), 30);

    let output = headroom(data.path(), &key, &["poll", "--once"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("o: ok"),
        "{}",
        text(&output.stdout)
    );
    let row = budget_row(data.path(), "o");
    assert_eq!(readings_in_last_40_days(data.path(), &row), 31);
    assert!(
        row["forecast"].is_object(),
        "a month of history gives a forecast: {row}"
    );
}

#[test]
fn anthropic_needs_a_budget_or_prepaid_amount_and_then_fills_in_history() {
    let sim = SimProcess::start(0);
    let data = tempfile::tempdir().expect("temp dir");
    let key = sim.key_of("anthropic");
    let base_url = sim.base_url();
    let add = |extra: &[&str]| {
        let mut args = vec![
            "sources",
            "add",
            "anthropic",
            "--name",
            "a",
            "--base-url",
            &base_url,
            "--key-env",
            KEY_VAR,
        ];
        args.extend_from_slice(extra);
        headroom(data.path(), &key, &args)
    };
    let output = add(&[]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("no balance or limit") && stderr.contains("--budget"),
        "{stderr}"
    );

    let output = add(&["--budget", "150"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("Filled in 30 past readings."));
    let row = budget_row(data.path(), "a");
    assert_eq!(readings_in_last_40_days(data.path(), &row), 30);
}
