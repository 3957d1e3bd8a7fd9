//! What the core integration tests share: loopback servers, the simulator started from one of its
//! scenario fixtures, and the checks every provider's wrong-key path must pass.

#![allow(dead_code)] // each test file uses its own part of this

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::routing::get;
use axum::{Json, Router};
use headroom_core::classify::FailureClass;
use headroom_core::source::{PollOutcome, SourceOptions};
use headroom_sim::{load_scenario, Sim};
use serde_json::Value;

/// A server on loopback that answers each path with a 200 and its fixed body, for bodies with
/// known exact amounts or deliberately broken fields. Returns its base URL.
pub async fn serving(routes: Vec<(&'static str, Value)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("address");
    let mut app = Router::new();
    for (path, body) in routes {
        app = app.route(path, get(move || async move { Json(body) }));
    }
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The simulator running one of the sim crate's scenario fixtures (part of this project, not
/// the shared notes).
pub async fn sim_from_fixture(file: &str) -> Sim {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sim/fixtures")
        .join(file);
    let scenario = load_scenario(&path).expect("valid scenario");
    Sim::start(scenario, 0).await.expect("sim starts")
}

pub fn key_of(sim: &Sim, account: &str) -> String {
    sim.announcement()
        .accounts
        .into_iter()
        .find(|a| a.name == account)
        .expect("account announced")
        .key
}

pub fn options(pairs: &[(&str, &str)]) -> SourceOptions {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A wrong key is refused with the provider's own 401, which reads as a key problem, and the key
/// is not repeated anywhere in what Headroom keeps.
pub fn assert_auth_invalid(outcome: &PollOutcome, wrong: &str) {
    assert!(outcome.readings.is_empty(), "{:?}", outcome.readings);
    let failure = &outcome.failures[0];
    assert_eq!(failure.status, Some(401), "{failure:?}");
    assert_eq!(
        failure.class,
        Some(FailureClass::AuthInvalid),
        "{failure:?}"
    );
    assert!(
        failure.message.contains("Key rejected"),
        "{}",
        failure.message
    );
    assert!(
        !failure.message.contains(wrong) && !failure.excerpt.contains(wrong),
        "{failure:?}"
    );
}
