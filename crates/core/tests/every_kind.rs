//! Every provider kind Headroom offers can be tested, added, polled and removed through the
//! session the app's commands call, against the demo simulator over real HTTP; and no key ever
//! reaches the data directory, not even the demo's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use headroom_core::config::AddSourceRequest;
use headroom_core::session::{Mode, Session};
use headroom_core::source::PROVIDERS;
use headroom_core::status::{MeterCard, MeterState};
use headroom_sim::{AnnouncedAccount, Sim};
use tokio::sync::broadcast::error::RecvError;

/// How long a new source's first poll may take to land.
const FIRST_POLL: Duration = Duration::from_secs(10);

/// An environment variable of this process only, one per kind and role.
fn env_var(kind: &str, role: &str) -> String {
    format!("HEADROOM_EVERY_KIND_TEST_{}_{role}", kind.to_uppercase())
}

/// What a person would fill in for the account: its URL, its keys by environment variable (so no
/// keychain is needed) and the settings the sim announces for it.
fn request(base_url: &str, account: &AnnouncedAccount) -> AddSourceRequest {
    let key_env = env_var(&account.provider, "KEY");
    std::env::set_var(&key_env, &account.key);
    let management_key_env = account.management_key.as_ref().map(|key| {
        let var = env_var(&account.provider, "MANAGEMENT_KEY");
        std::env::set_var(&var, key);
        var
    });
    AddSourceRequest {
        kind: account.provider.clone(),
        name: account.name.clone(),
        base_url: base_url.to_string(),
        key: None,
        key_env: Some(key_env),
        management_key: None,
        management_key_env,
        interval: "1h".into(),
        options: Some(account.source_options.clone()),
    }
}

/// The source's cards once its first poll has landed with at least one meter.
fn polled(cards: &[MeterCard], source: &str) -> Option<Vec<MeterCard>> {
    let mine: Vec<MeterCard> = cards
        .iter()
        .filter(|c| c.source == source)
        .cloned()
        .collect();
    let landed = !mine.is_empty()
        && mine.iter().all(|c| c.last_poll.is_some())
        && mine.iter().any(|c| c.meter.is_some());
    landed.then_some(mine)
}

/// Every file under `dir`, however deep (the database, its -wal and -shm, the demo's own).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Which of `secrets` each file holds, as "file: secret" lines.
fn secrets_on_disk(dir: &Path, secrets: &[&str]) -> (Vec<String>, usize) {
    let mut found = Vec::new();
    let mut scanned = 0;
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap();
        scanned += bytes.len();
        for secret in secrets {
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                found.push(format!("{}: {secret}", file.display()));
            }
        }
    }
    (found, scanned)
}

#[tokio::test]
async fn every_kind_can_be_tested_added_polled_and_removed_and_no_key_lands_on_disk() {
    let sim = Sim::start(headroom_sim::builtin_scenario("demo").unwrap(), 0)
        .await
        .unwrap();
    let announced = sim.announcement().accounts;
    // The first demo account of each kind stands for it.
    let mut by_kind: BTreeMap<&str, &AnnouncedAccount> = BTreeMap::new();
    for account in &announced {
        by_kind.entry(account.provider.as_str()).or_insert(account);
    }
    let missing: Vec<&str> = PROVIDERS
        .iter()
        .map(|p| p.kind)
        .filter(|kind| !by_kind.contains_key(kind))
        .collect();
    assert!(
        missing.is_empty(),
        "the demo has no account for the kinds {missing:?}"
    );

    // A fresh data directory opens the demo; leaving it makes the person's own (empty) data active.
    let dir = tempfile::tempdir().unwrap();
    let session = Session::open(dir.path(), 0, None).await.unwrap();
    assert_eq!(session.state().await.mode, Mode::Demo);
    // The demo's history, read by each kind's own parser, is there before any poll.
    let demo_cards = session.cards().await.unwrap();
    for (kind, account) in &by_kind {
        assert!(
            demo_cards
                .iter()
                .any(|c| c.source == account.name && c.meter.is_some()),
            "the demo shows no {kind} meter for {}",
            account.name
        );
    }
    assert_eq!(session.stop_demo().await.unwrap().mode, Mode::Empty);
    assert!(session.sources().await.unwrap().is_empty());

    let mut secrets: Vec<&str> = Vec::new();
    for kind in PROVIDERS.iter().map(|p| p.kind) {
        let account = by_kind[kind];
        secrets.push(&account.key);
        secrets.extend(account.management_key.as_deref());
        let request = request(&sim.base_url(), account);
        let name = account.name.as_str();

        let tested = session.test_source(request.clone()).await.unwrap();
        assert!(
            tested.failures.is_empty() && !tested.meters.is_empty(),
            "{kind} ({name}): testing found {tested:?}"
        );
        assert!(
            session.sources().await.unwrap().is_empty(),
            "{kind}: testing added a source"
        );

        // Subscribed before adding, so the first poll's update cannot be missed.
        let mut updates = session.subscribe();
        let added = session.add_source(request).await.unwrap();
        assert_eq!(added.name, name);
        assert_eq!(session.state().await.mode, Mode::Configured);
        let cards = tokio::time::timeout(FIRST_POLL, async {
            loop {
                if let Some(cards) = polled(&session.cards().await.unwrap(), name) {
                    return cards;
                }
                match updates.recv().await {
                    Ok(()) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => panic!("the session stopped sending updates"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{kind} ({name}): no first poll within {FIRST_POLL:?}"));
        for card in &cards {
            assert!(
                card.last_error.is_none() && card.state != MeterState::Failing,
                "{kind} ({name}): the first poll failed: {card:?}"
            );
        }

        session.remove_source(name).await.unwrap();
        assert!(session.sources().await.unwrap().is_empty(), "{kind}");
        assert!(
            polled(&session.cards().await.unwrap(), name).is_none(),
            "{kind}: cards outlive their source"
        );
        assert_eq!(session.state().await.mode, Mode::Empty, "{kind}");
    }

    // While the session is open (its -wal and -shm exist), and after it has closed.
    let (found, scanned) = secrets_on_disk(dir.path(), &secrets);
    assert!(found.is_empty(), "keys on disk:\n{}", found.join("\n"));
    assert!(scanned > 0, "nothing was scanned");
    drop(session);
    sim.shutdown().await;
    let (found, _) = secrets_on_disk(dir.path(), &secrets);
    assert!(found.is_empty(), "keys on disk:\n{}", found.join("\n"));
}

/// Adding a source whose provider keeps history (OpenAI's daily costs) fills 30 days at once, as the
/// app does it: in the background, with its progress in the app state until it is done.
#[tokio::test]
async fn adding_openai_in_the_app_fills_thirty_days_at_once() {
    let sim = Sim::start(headroom_sim::builtin_scenario("demo").expect("built in"), 0)
        .await
        .expect("sim starts");
    let account = sim
        .announcement()
        .accounts
        .into_iter()
        .find(|a| a.provider == "openai")
        .expect("the demo has an OpenAI account");
    let dir = tempfile::tempdir().unwrap();
    let session = Session::open(dir.path(), 0, None).await.unwrap();
    session.stop_demo().await.unwrap();
    let mut updates = session.subscribe();
    session
        .add_source(request(&sim.base_url(), &account))
        .await
        .unwrap();

    let history = tokio::time::timeout(FIRST_POLL, async {
        loop {
            let done = session.state().await.backfills.is_empty();
            let cards = session.cards().await.unwrap();
            let budget = cards
                .iter()
                .find(|c| c.source == account.name && c.kind.as_deref() == Some("budget"));
            if let (true, Some(id)) = (done, budget.and_then(|c| c.meter_id)) {
                let detail = session.meter_detail(id, Default::default()).await.unwrap();
                if detail.points >= 30 {
                    return detail;
                }
            }
            match updates.recv().await {
                Ok(()) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => panic!("the session stopped"),
            }
        }
    })
    .await
    .expect("30 days of history within the first poll's time");
    let first = history.first_ts.expect("history has a start");
    let span = chrono::Utc::now() - first;
    assert!(
        span >= chrono::Duration::days(29),
        "the history starts only {span} ago"
    );
}
