//! `headroom backtest` on two real traces, trimmed to five days, in a scratch directory.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_headroom");
const TRACES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/traces");
const READINGS_KEPT: usize = 5 * 96;

fn trimmed_copy(name: &str, dir: &Path) -> (String, usize) {
    let text = std::fs::read_to_string(Path::new(TRACES).join(name)).expect("read a bench trace");
    let mut doc: Value = serde_json::from_str(&text).expect("a trace is JSON");
    let readings = doc["readings"].as_array_mut().expect("readings");
    readings.truncate(READINGS_KEPT);
    let time = |r: &Value| -> DateTime<Utc> {
        r[0].as_str()
            .expect("a timestamp")
            .parse()
            .expect("ISO time")
    };
    let (first, last) = (time(&readings[0]), time(&readings[readings.len() - 1]));
    // Evaluations from 72 h after the first reading, every hour, up to the last reading.
    let expected = ((last - first - Duration::hours(72)).num_hours() + 1) as usize;
    std::fs::write(dir.join(name), doc.to_string()).expect("write the trimmed trace");
    (doc["name"].as_str().expect("a name").to_string(), expected)
}

#[test]
fn backtest_writes_one_prediction_per_hour_per_trace() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (steady, steady_count) = trimmed_copy("steady-000.json", dir.path());
    let (monthly, monthly_count) = trimmed_copy("monthly-018.json", dir.path());
    std::fs::write(dir.path().join("README.md"), "not a trace").expect("write");
    std::fs::write(dir.path().join("notes.json"), r#"{"about": "not a trace"}"#).expect("write");
    let out = dir.path().join("preds.jsonl");

    let output = Command::new(BIN)
        .args(["backtest", "--traces"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .args(["--step", "1h", "--warmup", "72h"])
        .output()
        .expect("run headroom backtest");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("2 traces"), "{summary}");
    assert!(
        summary.contains(&format!("{} predictions", steady_count + monthly_count)),
        "{summary}"
    );

    let text = std::fs::read_to_string(&out).expect("the predictions file");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), steady_count + monthly_count);
    let count = |name: &str| lines.iter().filter(|l| l["trace"] == name).count();
    assert_eq!(count(&steady), steady_count);
    assert_eq!(count(&monthly), monthly_count);

    let iso = |v: &Value| {
        v.as_str()
            .is_some_and(|s| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ").is_ok())
    };
    for line in &lines {
        let fields: Vec<&str> = line
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = fields.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            ["alert", "at", "eta", "eta_high", "eta_low", "trace"]
        );
        assert!(iso(&line["at"]));
        for key in ["eta", "eta_low", "eta_high"] {
            assert!(
                line[key].is_null() || iso(&line[key]),
                "{key}: {}",
                line[key]
            );
        }
        assert!(line["alert"].is_boolean());
    }
    // A steady meter with weeks of money left: an ETA, and no alert.
    let first = lines
        .iter()
        .find(|l| l["trace"] == steady.as_str())
        .expect("a steady line");
    assert!(iso(&first["eta"]));
    assert_eq!(first["alert"], false);
}

#[test]
fn backtest_rejects_a_missing_directory() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let output = Command::new(BIN)
        .args(["backtest", "--traces"])
        .arg(dir.path().join("nowhere"))
        .arg("--out")
        .arg(dir.path().join("out.jsonl"))
        .output()
        .expect("run headroom backtest");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read the trace directory"));
}
