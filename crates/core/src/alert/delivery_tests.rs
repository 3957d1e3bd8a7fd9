//! From a rule firing to a notice landing: the outbox, retries, reminders, snooze,
//! acknowledgement, quiet hours and rule settings, against a real webhook receiver on loopback.

use std::sync::Arc;

use chrono::{Duration, Local, Timelike, Utc};

use super::channels::tests::Receiver;
use super::channels::{sign, ChannelConfig, WebhookFormat};
use super::config::{apply_rule_changes, apply_settings, RuleChange};
use super::outbox::Dispatcher;
use super::tests::key_limit;
use super::*;
use crate::credentials::Credentials;
use crate::store::sources::tests::sample;
use crate::store::DeliveryRow;

const SECRET: &str = "whsec-test";

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    dispatcher: Dispatcher,
    source_id: i64,
    minute: i64,
}

impl Setup {
    /// A source with one meter and a signed JSON webhook channel pointing at `url`. The desktop
    /// channel is off: nothing here has a desktop.
    fn new(url: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let source_id = store.add_source(&sample("acct")).unwrap().id;
        let credentials = Arc::new(Credentials::new());
        let config = ChannelConfig::Webhook {
            format: WebhookFormat::Json,
            url_ref: credentials.hold_in_memory("hook-url", url),
            secret_ref: Some(credentials.hold_in_memory("hook-secret", SECRET)),
            display: "127.0.0.1".into(),
        };
        store
            .add_channel("ops", "webhook", &serde_json::to_string(&config).unwrap())
            .unwrap();
        let desktop = store.channel_by_name("Desktop").unwrap().unwrap();
        store.set_channel_enabled(desktop.id, false).unwrap();
        // Readings a minute apart fall fast enough to raise the forecast alerts too; these
        // tests follow the threshold rules alone.
        let off = |rule: &str| RuleChange {
            rule: rule.into(),
            enabled: Some(false),
            ..Default::default()
        };
        apply_rule_changes(
            &store,
            &[
                off("forecast_warn"),
                off("forecast_critical"),
                off("runaway"),
            ],
        )
        .unwrap();
        let dispatcher = Dispatcher::new(Arc::clone(&store), credentials);
        Self {
            _dir: dir,
            store,
            dispatcher,
            source_id,
            minute: 0,
        }
    }

    fn read(&mut self, remaining: i64) {
        self.minute += 1;
        let at = Utc::now() - Duration::minutes(60) + Duration::minutes(self.minute);
        self.store
            .insert_reading(self.source_id, at, &key_limit(remaining))
            .unwrap();
        self.store.record_poll(self.source_id, at, None).unwrap();
    }

    fn evaluate_at(&self, hours_from_now: i64) -> Evaluation {
        evaluate(&self.store, Utc::now() + Duration::hours(hours_from_now)).unwrap()
    }

    async fn dispatch_at(&self, hours_from_now: i64) -> outbox::DispatchReport {
        self.dispatcher
            .dispatch_at(Utc::now() + Duration::hours(hours_from_now))
            .await
            .unwrap()
    }

    fn alert(&self, rule: &str) -> AlertRow {
        self.store
            .list_alerts()
            .unwrap()
            .into_iter()
            .find(|a| a.rule == rule)
            .unwrap_or_else(|| panic!("no {rule} alert"))
    }

    fn deliveries(&self) -> Vec<DeliveryRow> {
        self.store.list_deliveries().unwrap()
    }
}

fn events(receiver: &Receiver) -> Vec<String> {
    receiver
        .requests()
        .iter()
        .map(|r| r.json()["event"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_webhook_gets_one_signed_post_per_episode_and_one_when_it_resolves() {
    let receiver = Receiver::start().await;
    let mut s = Setup::new(&receiver.url("/hook"));
    s.read(10);
    s.evaluate_at(0);
    assert_eq!(s.dispatch_at(0).await.sent, 1);
    // The same condition at the next polls is the same episode: nothing more is sent.
    s.read(9);
    s.evaluate_at(0);
    s.dispatch_at(0).await;
    assert_eq!(events(&receiver), ["alert.fired"]);

    let request = &receiver.requests()[0];
    let signature = request.header("x-headroom-signature-256").unwrap();
    assert_eq!(signature, format!("sha256={}", sign(SECRET, &request.body)));
    assert_ne!(
        signature,
        format!("sha256={}", sign("other", &request.body))
    );
    let body = request.json();
    assert_eq!(body["rule"], "below_percent");
    assert_eq!(body["source"], "acct");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("10.0% of the limit left"), "{message}");

    // A top-up resolves the episode and the channel that was told hears that it is over.
    s.read(80);
    s.evaluate_at(0);
    s.dispatch_at(0).await;
    assert_eq!(events(&receiver), ["alert.fired", "alert.resolved"]);
    // The next drop is a new episode, and news again.
    s.read(5);
    s.evaluate_at(0);
    s.dispatch_at(0).await;
    assert_eq!(
        events(&receiver),
        ["alert.fired", "alert.resolved", "alert.fired"]
    );
}

#[tokio::test]
async fn a_dead_receiver_is_retried_and_the_notice_lands_once_when_it_is_back() {
    let port = Receiver::free_port().await;
    let mut s = Setup::new(&format!("http://127.0.0.1:{port}/hook"));
    s.read(10);
    s.evaluate_at(0);
    let first = s.dispatch_at(0).await;
    assert_eq!((first.sent, first.retrying), (0, 1));
    let pending = &s.deliveries()[0];
    assert_eq!(pending.state, DeliveryState::Pending);
    assert!(
        pending.last_error.as_deref().unwrap().contains("127.0.0.1"),
        "{pending:?}"
    );
    assert!(pending.next_attempt_at > Utc::now(), "backs off");

    let receiver = Receiver::start_on(port).await;
    // Before the backoff is over, nothing is tried.
    assert_eq!(s.dispatch_at(0).await.sent, 0);
    assert_eq!(s.dispatch_at(1).await.sent, 1);
    assert_eq!(s.dispatch_at(2).await.sent, 0);
    assert_eq!(events(&receiver), ["alert.fired"]);
    let sent = &s.deliveries()[0];
    assert_eq!((sent.state, sent.attempts), (DeliveryState::Sent, 2));
}

#[tokio::test]
async fn a_notice_claimed_by_a_sender_that_died_goes_out_when_its_lease_ends() {
    let receiver = Receiver::start().await;
    let mut s = Setup::new(&receiver.url("/hook"));
    s.read(10);
    s.evaluate_at(0);
    // A claimed notice whose sender died keeps its lease for a minute, then any process sends it.
    let id = s.deliveries()[0].id;
    assert!(s
        .store
        .claim_delivery(id, Utc::now(), Duration::seconds(60))
        .unwrap());
    assert_eq!(s.dispatch_at(0).await.sent, 0, "the lease holds");
    assert_eq!(s.dispatch_at(1).await.sent, 1);
    assert_eq!(events(&receiver), ["alert.fired"]);
}

#[tokio::test]
async fn a_firing_alert_is_repeated_daily_until_acknowledged() {
    let receiver = Receiver::start().await;
    let mut s = Setup::new(&receiver.url("/hook"));
    s.read(10);
    s.evaluate_at(0);
    s.dispatch_at(0).await;
    assert!(s.evaluate_at(12).reminded.is_empty(), "not yet a day");
    assert_eq!(s.evaluate_at(25).reminded.len(), 1);
    s.dispatch_at(25).await;
    assert_eq!(events(&receiver), ["alert.fired", "alert.reminder"]);

    let id = s.alert("below_percent").id;
    acknowledge(&s.store, id, Utc::now() + Duration::hours(26)).unwrap();
    assert_eq!(s.alert("below_percent").state, AlertState::Acknowledged);
    assert!(s.evaluate_at(60).reminded.is_empty(), "acknowledged");
    s.dispatch_at(60).await;
    assert_eq!(events(&receiver).len(), 2);
    // Acknowledged is still open: the top-up resolves it as usual.
    s.read(90);
    assert_eq!(s.evaluate_at(61).resolved, [id]);
}

#[tokio::test]
async fn reminders_can_be_turned_off() {
    let receiver = Receiver::start().await;
    let mut s = Setup::new(&receiver.url("/hook"));
    apply_settings(&s.store, Some("off"), None).unwrap();
    s.read(10);
    s.evaluate_at(0);
    assert!(s.evaluate_at(100).reminded.is_empty());
}

#[tokio::test]
async fn a_snoozed_alert_drops_its_unsent_notice_and_speaks_again_when_the_snooze_ends() {
    let port = Receiver::free_port().await;
    let mut s = Setup::new(&format!("http://127.0.0.1:{port}/hook"));
    s.read(10);
    s.evaluate_at(0);
    let id = s.alert("below_percent").id;
    let snoozed = snooze(&s.store, id, SnoozeFor::Hour, Utc::now()).unwrap();
    assert!(snoozed.snoozed_until.unwrap() > Utc::now() + Duration::minutes(59));
    assert_eq!(s.deliveries()[0].state, DeliveryState::Dropped);

    let receiver = Receiver::start_on(port).await;
    assert!(s.evaluate_at(0).reminded.is_empty(), "snoozed");
    assert_eq!(s.dispatch_at(0).await.sent, 0);
    // An hour later it is still low: one reminder, not a new episode.
    let later = s.evaluate_at(2);
    assert_eq!((later.fired.len(), later.reminded.len()), (0, 1));
    s.dispatch_at(2).await;
    assert_eq!(events(&receiver), ["alert.reminder"]);
    assert!(s.evaluate_at(3).reminded.is_empty());
}

#[test]
fn snoozing_until_the_reset_needs_a_known_reset() {
    let mut s = Setup::new("http://127.0.0.1:9/hook");
    s.read(10);
    s.evaluate_at(0);
    let id = s.alert("below_percent").id;
    let err = snooze(&s.store, id, SnoozeFor::Reset, Utc::now()).unwrap_err();
    assert!(err.to_string().contains("no reset"), "{err}");
    assert!(s.alert("below_percent").snoozed_until.is_none());
}

#[tokio::test]
async fn quiet_hours_hold_a_warning_until_they_end_but_not_a_critical_alert() {
    let receiver = Receiver::start().await;
    let mut s = Setup::new(&receiver.url("/hook"));
    // Quiet from an hour ago to two hours from now, in local time.
    let now = Local::now();
    let from = (now - Duration::hours(1)).format("%H:%M").to_string();
    let to = (now + Duration::hours(2)).with_second(0).unwrap();
    apply_settings(
        &s.store,
        None,
        Some(&format!("{from}-{}", to.format("%H:%M"))),
    )
    .unwrap();
    s.read(10);
    s.evaluate_at(0);
    let held = &s.deliveries()[0];
    let expected_release = to.with_timezone(&Utc).with_nanosecond(0).unwrap();
    assert_eq!(held.next_attempt_at, expected_release);
    assert_eq!(s.dispatch_at(0).await.sent, 0);
    assert!(receiver.requests().is_empty());

    // Empty is critical: it goes out at once, quiet hours or not.
    s.read(0);
    s.evaluate_at(0);
    s.dispatch_at(0).await;
    let sent: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| r.json()["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent, ["exhausted"]);
    // After the quiet hours, the held warning goes out too.
    s.dispatch_at(3).await;
    assert_eq!(receiver.requests().len(), 2);
}

#[test]
fn bad_rule_input_is_refused_and_loses_nothing() {
    let mut s = Setup::new("http://127.0.0.1:9/hook");
    s.read(50);
    let meter_id = s.store.list_meters().unwrap()[0].id;
    let good = RuleChange {
        rule: "below_percent".into(),
        value: Some("40".into()),
        ..Default::default()
    };
    apply_rule_changes(&s.store, std::slice::from_ref(&good)).unwrap();
    let bad = [
        RuleChange {
            value: Some("-5".into()),
            ..good.clone()
        },
        RuleChange {
            value: Some("lots".into()),
            ..good.clone()
        },
        RuleChange {
            meter_id: Some(9999),
            ..good.clone()
        },
        RuleChange {
            rule: "below_nothing".into(),
            ..good.clone()
        },
        RuleChange {
            meter_id: Some(meter_id),
            rule: "source_failing".into(),
            value: Some("3".into()),
            ..Default::default()
        },
        RuleChange {
            rule: "forecast_warn".into(),
            value: Some("soon".into()),
            ..Default::default()
        },
    ];
    for change in bad {
        // Each bad change arrives with a good one; neither is saved.
        let both = [
            RuleChange {
                value: Some("30".into()),
                ..good.clone()
            },
            change.clone(),
        ];
        let err = apply_rule_changes(&s.store, &both).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid(_)), "{change:?}: {err}");
    }
    let saved = s.store.rule_settings().unwrap();
    let below: Vec<_> = saved.iter().filter(|r| r.rule == "below_percent").collect();
    assert_eq!(below.len(), 1);
    assert_eq!(below[0].value.as_deref(), Some("40"));
    assert!(apply_settings(&s.store, Some("1m"), None).is_err());
    assert!(apply_settings(&s.store, None, Some("25:00-07:00")).is_err());
}

#[test]
fn a_meters_override_beats_the_default_and_an_edit_applies_at_the_next_evaluation() {
    let mut s = Setup::new("http://127.0.0.1:9/hook");
    s.read(30);
    let meter_id = s.store.list_meters().unwrap()[0].id;
    let set = |meter_id, value: &str| RuleChange {
        meter_id,
        rule: "below_percent".into(),
        value: Some(value.into()),
        ..Default::default()
    };
    apply_rule_changes(&s.store, &[set(None, "50"), set(Some(meter_id), "5")]).unwrap();
    assert!(s.evaluate_at(0).fired.is_empty(), "the meter's 5% wins");
    apply_rule_changes(
        &s.store,
        &[RuleChange {
            meter_id: Some(meter_id),
            rule: "below_percent".into(),
            reset: true,
            ..Default::default()
        }],
    )
    .unwrap();
    let fired = s.evaluate_at(0).fired;
    assert_eq!(fired.len(), 1);
    assert!(
        fired[0].message.contains("alert below 50%"),
        "{}",
        fired[0].message
    );
    // Turning the rule off closes its episode.
    apply_rule_changes(
        &s.store,
        &[RuleChange {
            rule: "below_percent".into(),
            enabled: Some(false),
            ..Default::default()
        }],
    )
    .unwrap();
    assert_eq!(s.evaluate_at(0).resolved.len(), 1);
}

#[test]
fn an_amount_rule_needs_an_amount_and_then_fires_in_the_meters_unit() {
    let mut s = Setup::new("http://127.0.0.1:9/hook");
    s.read(30);
    let on = RuleChange {
        rule: "below_amount".into(),
        enabled: Some(true),
        ..Default::default()
    };
    assert!(apply_rule_changes(&s.store, &[on]).is_err());
    apply_rule_changes(
        &s.store,
        &[RuleChange {
            rule: "below_amount".into(),
            value: Some("40".into()),
            ..Default::default()
        }],
    )
    .unwrap();
    let fired = s.evaluate_at(0).fired;
    assert!(
        fired
            .iter()
            .any(|a| a.rule == "below_amount" && a.message.contains("30 USD left")),
        "{fired:?}"
    );
}

#[test]
fn quiet_hours_across_midnight_release_in_the_morning() {
    use chrono::{FixedOffset, TimeZone};
    let quiet = config::QuietHours::parse("22:00-07:00").unwrap();
    let tz = FixedOffset::east_opt(3600).unwrap();
    let at = |h, m| {
        tz.with_ymd_and_hms(2026, 3, 10, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    let morning = tz
        .with_ymd_and_hms(2026, 3, 11, 7, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(quiet.release(at(23, 30), &tz), morning);
    assert_eq!(quiet.release(at(12, 0), &tz), at(12, 0));
    assert_eq!(quiet.release(at(21, 59), &tz), at(21, 59));
    let early = tz
        .with_ymd_and_hms(2026, 3, 10, 6, 30, 0)
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(quiet.release(early, &tz), at(7, 0));
}

#[tokio::test]
async fn a_burst_reaches_people_as_one_notice_and_machines_one_by_one() {
    let receiver = Receiver::start().await;
    let mut s = Setup::new(&receiver.url("/json"));
    let credentials = Arc::new(Credentials::new());
    let slack = ChannelConfig::Webhook {
        format: WebhookFormat::Slack,
        url_ref: credentials.hold_in_memory("slack-url", &receiver.url("/slack")),
        secret_ref: None,
        display: "127.0.0.1".into(),
    };
    s.store
        .add_channel("team", "webhook", &serde_json::to_string(&slack).unwrap())
        .unwrap();
    s.dispatcher = Dispatcher::new(Arc::clone(&s.store), credentials.clone());
    // The JSON channel's secrets live in the first dispatcher's credentials; hold them here too.
    credentials.hold_in_memory("hook-url", &receiver.url("/json"));
    credentials.hold_in_memory("hook-secret", SECRET);
    s.read(10);
    for name in ["b", "c", "d"] {
        let id = s.store.add_source(&sample(name)).unwrap().id;
        s.source_id = id;
        s.read(10);
    }
    assert_eq!(s.evaluate_at(0).fired.len(), 4);
    s.dispatch_at(0).await;
    let to = |path: &str| {
        receiver
            .requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect::<Vec<_>>()
    };
    assert_eq!(to("/json").len(), 4, "one per alert for machines");
    let slack = to("/slack");
    assert_eq!(slack.len(), 1, "one for people");
    let text = slack[0].json()["text"].as_str().unwrap().to_string();
    assert!(text.contains("4 alerts"), "{text}");
    for name in ["acct", "b ", "c ", "d "] {
        assert!(text.contains(name), "{name} missing from {text}");
    }
    let sent = s
        .deliveries()
        .iter()
        .filter(|d| d.state == DeliveryState::Sent)
        .count();
    assert_eq!(sent, 8, "every notice is accounted for");
}
