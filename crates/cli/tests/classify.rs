//! `headroom classify` on saved provider error responses.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_headroom");

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/providers")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn headroom(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("classify")
        .args(args)
        .output()
        .expect("run headroom")
}

fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = headroom(&all);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn remedies(v: &Value) -> String {
    v["remedies"]
        .as_array()
        .expect("remedies")
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn json_output_for_an_openai_429_that_is_out_of_credit() {
    let body = fixture("openai.error-429-insufficient-quota.json");
    let v = json(&["--status", "429", "--body", &body, "--provider", "openai"]);
    assert_eq!(v["class"], "credits_exhausted");
    assert!(v["explanation"]
        .as_str()
        .unwrap()
        .contains("insufficient_quota"));
    assert!(remedies(&v).to_lowercase().contains("top up"));
    assert_eq!(
        v["billing_url"],
        "https://platform.openai.com/settings/organization/billing"
    );
}

#[test]
fn json_headers_file_carries_retry_after() {
    let v = json(&[
        "--status",
        "402",
        "--body",
        &fixture("openrouter.error-402-in-flight.json"),
        "--headers",
        &fixture("openrouter.error-402-in-flight.headers.json"),
        "--provider",
        "openrouter",
    ]);
    assert_eq!(v["class"], "transient_payment");
    assert_eq!(v["retry_after"], "2");
    assert!(remedies(&v).contains("Wait 2 seconds"));
}

#[test]
fn raw_headers_file_carries_the_x402_header() {
    let v = json(&[
        "--status",
        "402",
        "--body",
        &fixture("x402.v2-402-body.json"),
        "--headers",
        &fixture("x402.v2-402.headers.txt"),
    ]);
    assert_eq!(v["class"], "x402_payment_required");
    assert_eq!(v["provider"], "generic");
    assert!(v["explanation"].as_str().unwrap().contains("USDC"));
}

#[test]
fn readable_output_has_title_evidence_numbered_remedies_and_billing_page() {
    let out = headroom(&[
        "--status",
        "400",
        "--body",
        &fixture("anthropic.error-400-credit-balance-too-low.json"),
        "--provider",
        "anthropic",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "Out of credits",
        "credit balance is too low",
        "Evidence:",
        "  - status 400",
        "  1. ",
        "Billing page: https://console.anthropic.com/settings/billing",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn missing_files_and_malformed_headers_exit_1_with_a_clear_error() {
    let out = headroom(&["--status", "402", "--body", "/nonexistent/body.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the body file"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("headers.txt");
    std::fs::write(&bad, "Retry-After 30\n").unwrap();
    let out = headroom(&[
        "--status",
        "402",
        "--body",
        &fixture("openrouter.error-402.json"),
        "--headers",
        &bad.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("malformed headers file"), "{stderr}");
    assert!(stderr.contains("line 1"), "{stderr}");
}
