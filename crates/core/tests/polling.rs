//! Polling over real HTTP on loopback: the simulator, plus small servers that misbehave on purpose
//! (redirect elsewhere, hang, send too much).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use headroom_core::credentials::Credentials;
use headroom_core::scheduler::{Poller, Schedule};
use headroom_core::source::HttpRunner;
use headroom_core::store::{NewSource, Store};
use headroom_sim::Sim;

const KEY: &str = "sk-or-v1-polling-test-key-0000000000";

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// An endpoint that takes `delay` to answer.
async fn answers_after(delay: Duration) -> SocketAddr {
    serve(Router::new().route(
        "/api/v1/key",
        get(move || async move {
            tokio::time::sleep(delay).await;
            StatusCode::OK
        }),
    ))
    .await
}

fn source(store: &Store, credentials: &Credentials, name: &str, base_url: &str, key: &str) -> i64 {
    let key_ref = credentials.hold_in_memory(name, key);
    store
        .add_source(&NewSource {
            name: name.into(),
            kind: "openrouter".into(),
            base_url: base_url.into(),
            key_ref: Some(key_ref),
            management_key_ref: None,
            interval_secs: 3600,
            options: Default::default(),
        })
        .unwrap()
        .id
}

#[tokio::test]
async fn a_redirect_to_another_host_never_carries_the_key() {
    let leaked = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&leaked);
    let elsewhere = serve(Router::new().route(
        "/api/v1/key",
        get(move |headers: HeaderMap| async move {
            if headers.contains_key(header::AUTHORIZATION) {
                seen.fetch_add(1, Ordering::SeqCst);
            }
            StatusCode::OK
        }),
    ))
    .await;
    // "localhost" and "127.0.0.1" are different hosts to a browser and to us.
    let target = format!("http://localhost:{}/api/v1/key", elsewhere.port());
    let redirector = serve(Router::new().route(
        "/api/v1/key",
        get(move || async move { (StatusCode::FOUND, [(header::LOCATION, target)]) }),
    ))
    .await;

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let credentials = Arc::new(Credentials::new());
    source(
        &store,
        &credentials,
        "moved",
        &format!("http://{redirector}"),
        KEY,
    );
    let poller = Arc::new(Poller::new(Arc::clone(&store), credentials));
    let reports = poller.poll_all_once().await.unwrap();
    assert_eq!(
        leaked.load(Ordering::SeqCst),
        0,
        "the key went to another host"
    );
    let failure = &reports[0].failures[0];
    assert!(
        failure.contains("302") && failure.contains("does not send keys"),
        "{failure}"
    );
}

#[tokio::test]
async fn an_oversized_answer_is_refused_and_recorded_briefly() {
    let huge = serve(Router::new().route(
        "/api/v1/key",
        get(|| async { "x".repeat(3 * 1024 * 1024).into_response() }),
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let credentials = Arc::new(Credentials::new());
    let id = source(&store, &credentials, "huge", &format!("http://{huge}"), KEY);
    let poller = Arc::new(Poller::new(Arc::clone(&store), credentials));
    let reports = poller.poll_all_once().await.unwrap();
    assert!(
        reports[0].failures[0].contains("larger than"),
        "{:?}",
        reports[0].failures
    );
    let events = store.recent_events(Some(id), 5).unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].message.contains("larger than"));
}

#[tokio::test]
async fn a_hanging_source_does_not_hold_up_the_others() {
    let sim = Sim::start(headroom_sim::builtin_scenario("demo").unwrap(), 0)
        .await
        .unwrap();
    let hanging = answers_after(Duration::from_secs(120)).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let credentials = Arc::new(Credentials::new());
    source(
        &store,
        &credentials,
        "hangs",
        &format!("http://{hanging}"),
        KEY,
    );
    let key = sim.announcement().accounts[0].key.clone();
    source(&store, &credentials, "healthy", &sim.base_url(), &key);

    let poller = Arc::new(Poller::with_http(
        Arc::clone(&store),
        credentials,
        HttpRunner::with_limits(Duration::from_secs(60), 1 << 20),
    ));
    let mut updates = poller.subscribe();
    let _schedule = Schedule::start(Arc::clone(&poller)).unwrap();
    let first = tokio::time::timeout(Duration::from_secs(20), updates.recv())
        .await
        .expect("a poll landed while the other source hangs")
        .unwrap();
    assert_eq!(first.source, "healthy");
    assert!(first.ok());
}

#[tokio::test]
async fn a_slow_endpoint_times_out_in_words() {
    let slow = answers_after(Duration::from_secs(30)).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let credentials = Arc::new(Credentials::new());
    source(&store, &credentials, "slow", &format!("http://{slow}"), KEY);
    let poller = Arc::new(Poller::with_http(
        Arc::clone(&store),
        credentials,
        HttpRunner::with_limits(Duration::from_millis(300), 1 << 20),
    ));
    let reports = poller.poll_all_once().await.unwrap();
    assert!(
        reports[0].failures[0].starts_with("no answer from")
            && reports[0].failures[0].contains("within 0.3 s"),
        "{:?}",
        reports[0].failures
    );
    assert!(store.source_by_name("slow").unwrap().unwrap().is_failing());
}
