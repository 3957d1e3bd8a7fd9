//! `headroom events` against `headroom sim`: the demo LiteLLM proxy's failed requests, read from
//! its request log, listed with their own time, class and origin, once each, and filtered.

use std::path::Path;
use std::process::{Command, Output};

use chrono::{DateTime, Utc};
use serde_json::Value;

mod common;

use common::{ok, run_headroom, SimProcess};

const KEY_VAR: &str = "HEADROOM_TEST_LITELLM_KEY";
const MASTER_VAR: &str = "HEADROOM_TEST_LITELLM_MASTER";

struct Proxy {
    key: String,
    master: String,
}

fn headroom(data_dir: &Path, proxy: &Proxy, args: &[&str]) -> Output {
    run_headroom(
        data_dir,
        &[(KEY_VAR, &proxy.key), (MASTER_VAR, &proxy.master)],
        args,
    )
}

fn json(data_dir: &Path, proxy: &Proxy, args: &[&str]) -> Value {
    serde_json::from_str(&ok(headroom(data_dir, proxy, args))).expect("--json prints JSON")
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
        .expect("RFC 3339")
        .to_utc()
}

/// The proxy's request log as any client reads it: request id → when the request started.
fn logged_start_times(sim: &SimProcess, master: &str) -> Vec<(String, DateTime<Utc>)> {
    let day = |offset: i64| {
        (Utc::now() + chrono::Duration::days(offset))
            .format("%Y-%m-%d")
            .to_string()
    };
    let url = format!(
        "{}/spend/logs?summarize=false&start_date={}&end_date={}",
        sim.base_url(),
        day(-1),
        day(1)
    );
    let body = Command::new("curl")
        .args([
            "-sf",
            "-H",
            &format!("Authorization: Bearer {master}"),
            &url,
        ])
        .output()
        .expect("curl the simulator")
        .stdout;
    let rows: Vec<Value> = serde_json::from_slice(&body).expect("a list of rows");
    rows.iter()
        .map(|r| {
            (
                r["request_id"].as_str().unwrap().to_string(),
                time(&r["startTime"]),
            )
        })
        .collect()
}

#[test]
fn failed_requests_through_the_proxy_are_listed_once_with_their_time_and_class() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let sim = SimProcess::start(0);
    let account = sim.account("litellm");
    let proxy = Proxy {
        key: account["key"].as_str().unwrap().to_string(),
        master: account["management_key"].as_str().unwrap().to_string(),
    };
    let team = format!(
        "team_id={}",
        account["source_options"]["team_id"].as_str().unwrap()
    );
    ok(headroom(
        dir,
        &proxy,
        &[
            "sources",
            "add",
            "litellm",
            "--name",
            "proxy",
            "--base-url",
            &sim.base_url(),
            "--key-env",
            KEY_VAR,
            "--management-key-env",
            MASTER_VAR,
            "--option",
            &team,
        ],
    ));
    ok(headroom(dir, &proxy, &["poll", "--once"]));

    let events = json(dir, &proxy, &["events", "--json"]);
    let events = events.as_array().expect("a list");
    let logged = logged_start_times(&sim, &proxy.master);
    let by_class =
        |class: &str| -> Vec<&Value> { events.iter().filter(|e| e["class"] == class).collect() };
    let budget = by_class("budget_exceeded");
    assert_eq!(budget.len(), 2, "{events:#?}");
    assert!(budget.iter().all(|e| e["message"]
        .as_str()
        .unwrap()
        .contains("Budget has been exceeded!")));
    let mut budget_statuses: Vec<u64> = budget
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    budget_statuses.sort();
    assert_eq!(budget_statuses, [400, 429]);
    let limited = by_class("rate_limited");
    assert_eq!(limited.len(), 1);
    assert_eq!(limited[0]["status"], 429);
    assert_eq!(
        by_class("credits_exhausted").len(),
        2,
        "the upstream refusals"
    );
    for event in events {
        // The stable fields, and the new ones.
        for field in [
            "time",
            "source",
            "endpoint",
            "status",
            "class",
            "message",
            "excerpt",
            "id",
            "source_id",
            "origin",
            "method",
            "url",
        ] {
            assert!(event.get(field).is_some(), "{field} missing in {event}");
        }
        assert_eq!(event["source"], "proxy");
        assert_eq!(event["origin"], "gateway");
        assert_eq!(event["method"], "POST");
        let id = event["external_id"]
            .as_str()
            .expect("the gateway's request id");
        let started = logged
            .iter()
            .find(|(request, _)| request == id)
            .map(|(_, at)| *at)
            .expect("a logged request");
        assert_eq!(
            time(&event["time"]).timestamp_millis(),
            started.timestamp_millis(),
            "the time the request failed, not the poll's"
        );
    }

    // Polling again reads the same log and adds nothing.
    ok(headroom(dir, &proxy, &["poll", "--once"]));
    let again = json(dir, &proxy, &["events", "--json"]);
    assert_eq!(again.as_array().unwrap().len(), events.len());

    let filtered = json(
        dir,
        &proxy,
        &["events", "--json", "--class", "budget_exceeded"],
    );
    let filtered = filtered.as_array().unwrap();
    assert_eq!(filtered.len(), 2);
    assert!(filtered.iter().all(|e| e["class"] == "budget_exceeded"));
    let by_status = json(dir, &proxy, &["events", "--json", "--status", "402"]);
    assert_eq!(by_status.as_array().unwrap().len(), 1);
    let by_source = json(dir, &proxy, &["events", "--json", "--source", "proxy"]);
    assert_eq!(by_source.as_array().unwrap().len(), events.len());
    let unknown = headroom(dir, &proxy, &["events", "--source", "nope"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no source named \"nope\""));

    let text = ok(headroom(dir, &proxy, &["events"]));
    assert_eq!(
        text.matches("[via gateway log]").count(),
        events.len(),
        "{text}"
    );

    // Other clients' failed requests do not make the proxy's own polls look broken.
    let status = json(dir, &proxy, &["status", "--json"]);
    for row in status.as_array().unwrap() {
        assert_ne!(row["state"], "failing", "{row}");
        assert!(row["last_error"].is_null(), "{row}");
    }
    let stored: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap_or_default())
        .collect();
    for key in [&proxy.key, &proxy.master] {
        assert!(!text.contains(key.as_str()) && !again.to_string().contains(key.as_str()));
        assert!(
            stored
                .iter()
                .all(|bytes| !bytes.windows(key.len()).any(|w| w == key.as_bytes())),
            "a key reached the data directory"
        );
    }
}
