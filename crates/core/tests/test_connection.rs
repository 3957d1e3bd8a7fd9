//! "Test connection": one poll with a source's settings, against the simulator over real HTTP,
//! that says what it found and stores nothing.

use headroom_core::config::AddSourceRequest;
use headroom_core::session::{Mode, Session};
use headroom_core::store::Store;
use headroom_sim::Sim;

fn openrouter(base_url: &str, key: &str) -> AddSourceRequest {
    AddSourceRequest {
        kind: "openrouter".into(),
        // Testing needs no name: nothing is saved under it.
        name: String::new(),
        base_url: base_url.into(),
        key: Some(key.into()),
        key_env: None,
        management_key: None,
        management_key_env: None,
        interval: "15m".into(),
        options: None,
    }
}

#[tokio::test]
async fn a_good_key_finds_meters_and_a_wrong_one_is_rejected_and_nothing_is_kept() {
    let sim = Sim::start(headroom_sim::builtin_scenario("demo").unwrap(), 0)
        .await
        .unwrap();
    let account = sim
        .announcement()
        .accounts
        .into_iter()
        .find(|a| a.provider == "openrouter")
        .expect("the demo has an OpenRouter account");
    let dir = tempfile::tempdir().unwrap();
    let session = Session::open(dir.path(), 0, None).await.unwrap();
    assert_eq!(session.state().await.mode, Mode::Demo);

    // A typed key is used in memory: no keychain is needed (there is none on a CI machine).
    let good = session
        .test_source(openrouter(&sim.base_url(), &account.key))
        .await
        .unwrap();
    assert!(good.ok(), "{good:?}");
    let key_limit = good
        .meters
        .iter()
        .find(|m| m.meter == "key_limit")
        .unwrap_or_else(|| panic!("no key-limit meter in {good:?}"));
    assert_eq!(key_limit.unit, "USD");
    assert!(key_limit.limit.is_some());

    // A key read from the environment works the same way.
    std::env::set_var(
        "HEADROOM_TEST_CONNECTION_WRONG_KEY",
        "sk-or-v1-wrong-0000000000",
    );
    let mut wrong = openrouter(&sim.base_url(), "");
    wrong.key = None;
    wrong.key_env = Some("HEADROOM_TEST_CONNECTION_WRONG_KEY".into());
    let rejected = session.test_source(wrong).await.unwrap();
    assert!(!rejected.ok());
    assert!(rejected.meters.is_empty());
    let said = &rejected.failures[0].message;
    assert!(said.starts_with("Key rejected"), "{said}");
    assert!(
        !said.contains("wrong-0000000000"),
        "the key is in the message: {said}"
    );

    // Settings that cannot make a source are refused before anything is asked.
    let mut unset = openrouter(&sim.base_url(), "");
    unset.key = None;
    unset.key_env = Some("HEADROOM_TEST_CONNECTION_UNSET".into());
    let refused = session.test_source(unset).await.unwrap_err().to_string();
    assert!(
        refused.contains("HEADROOM_TEST_CONNECTION_UNSET is not set"),
        "{refused}"
    );

    // Nothing was added, nothing was recorded, and the demo is still showing.
    assert_eq!(session.state().await.mode, Mode::Demo);
    drop(session);
    let own = Store::open(dir.path()).unwrap();
    assert!(own.list_sources().unwrap().is_empty());
    assert!(own
        .events_since(chrono::DateTime::UNIX_EPOCH)
        .unwrap()
        .is_empty());
}
