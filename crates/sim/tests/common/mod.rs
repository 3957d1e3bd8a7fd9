//! What the simulator's HTTP tests share: fixtures, starting a scenario, and plain requests.

#![allow(dead_code)] // each test file uses its own part of this

use std::collections::BTreeSet;
use std::path::PathBuf;

use headroom_sim::{builtin_scenario, load_scenario, AnnouncedAccount, Sim};
use serde_json::{json, Value};

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

pub fn fixture_json(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture(name)).expect("fixture readable");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// The built-in `demo`, or a scenario file from the fixtures.
pub async fn start(scenario: &str) -> Sim {
    let scenario = match scenario {
        "demo" => builtin_scenario("demo").expect("demo is built in"),
        file => load_scenario(&fixture(file)).expect("valid scenario file"),
    };
    Sim::start(scenario, 0).await.expect("sim starts")
}

pub fn account(sim: &Sim, name: &str) -> AnnouncedAccount {
    sim.announcement()
        .accounts
        .into_iter()
        .find(|a| a.name == name)
        .expect("account announced")
}

pub fn key_of(sim: &Sim, name: &str) -> String {
    account(sim, name).key
}

/// GET with an optional bearer key; the answer's status and JSON body.
pub async fn get(sim: &Sim, path: &str, key: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", sim.base_url()));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

/// A chat request with a bearer key, as an application would send it.
pub async fn chat(sim: &Sim, path: &str, key: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", sim.base_url()))
        .bearer_auth(key)
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

/// The field names of a JSON object.
pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}
