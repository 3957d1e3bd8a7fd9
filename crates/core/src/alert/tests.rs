use chrono::{Duration, Utc};
use rust_decimal::Decimal;

use super::config::RuleBook;
use super::rules::{Condition, Rule};
use super::*;
use crate::classify::FailureClass;
use crate::source::{MeterKind, MeterSpec, PollFailure, Reading};
use crate::store::sources::tests::sample;
use crate::store::AlertRow;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    source_id: i64,
    /// Each reading is a minute after the previous one, ending near now.
    minute: i64,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let source_id = store.add_source(&sample("acct")).unwrap().id;
        Self {
            _dir: dir,
            store,
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

    fn eval(&self, rules: &[Rule]) -> Evaluation {
        evaluate_rules(&self.store, rules, Utc::now()).unwrap()
    }

    fn alerts(&self, rule: &str) -> Vec<AlertRow> {
        let mut all: Vec<AlertRow> = self
            .store
            .list_alerts()
            .unwrap()
            .into_iter()
            .filter(|a| a.rule == rule)
            .collect();
        all.reverse();
        all
    }
}

/// A reading of a USD key limit of 100.
pub(super) fn key_limit(remaining: i64) -> Reading {
    Reading {
        meter: MeterSpec {
            name: "key_limit".into(),
            label: "Key limit".into(),
            kind: MeterKind::Balance,
            unit: "USD".into(),
        },
        remaining: Decimal::from(remaining),
        limit: Some(Decimal::from(100)),
        used: None,
        reset: None,
        reset_at: None,
    }
}

fn only(name: &'static str, condition: Condition) -> Vec<Rule> {
    vec![Rule {
        name,
        severity: Severity::Warn,
        condition,
    }]
}

#[test]
fn below_percent_fires_once_holds_near_the_line_and_rearms_after_a_top_up() {
    let mut f = Fixture::new();
    let rules = only("below_percent", Condition::BelowPercent(15.0));
    f.read(10);
    assert_eq!(f.eval(&rules).fired.len(), 1);
    // Still low: the open episode is not duplicated.
    f.read(9);
    assert!(f.eval(&rules).fired.is_empty());
    // Just above the line but inside the 10% margin (15 → 16.5): no flap.
    f.read(16);
    let held = f.eval(&rules);
    assert!(held.fired.is_empty() && held.resolved.is_empty());
    f.read(14);
    assert!(f.eval(&rules).fired.is_empty());
    assert_eq!(f.alerts("below_percent").len(), 1);
    // A top-up clears it...
    f.read(80);
    assert_eq!(f.eval(&rules).resolved.len(), 1);
    let first = &f.alerts("below_percent")[0];
    assert_eq!(first.state, AlertState::Resolved);
    assert!(first.resolved_at.is_some());
    // ...and the next drop is a new episode.
    f.read(12);
    assert_eq!(f.eval(&rules).fired.len(), 1);
    let episodes = f.alerts("below_percent");
    assert_eq!(episodes.len(), 2);
    assert_eq!(episodes[1].state, AlertState::Firing);
    assert!(episodes[1].message.contains("12.0% of the limit left"));
}

#[test]
fn below_amount_uses_the_meters_unit_and_hysteresis() {
    let mut f = Fixture::new();
    let rules = only("below_amount", Condition::BelowAmount(Decimal::from(20)));
    f.read(30);
    assert!(f.eval(&rules).fired.is_empty());
    f.read(19);
    let fired = f.eval(&rules).fired;
    assert_eq!(fired.len(), 1);
    assert!(
        fired[0].message.contains("19 USD left"),
        "{}",
        fired[0].message
    );
    f.read(21);
    assert!(f.eval(&rules).resolved.is_empty());
    f.read(22);
    assert_eq!(f.eval(&rules).resolved.len(), 1);
}

#[test]
fn an_exhausted_meter_is_critical_by_default() {
    let mut f = Fixture::new();
    f.read(0);
    evaluate(&f.store, Utc::now()).unwrap();
    let exhausted = f.alerts("exhausted");
    assert_eq!(exhausted.len(), 1);
    assert_eq!(exhausted[0].severity, Severity::Critical);
    assert_eq!(exhausted[0].state, AlertState::Firing);
    // Evaluating again changes nothing.
    let again = evaluate(&f.store, Utc::now()).unwrap();
    assert!(again.fired.is_empty(), "{again:?}");
}

#[test]
fn a_falling_meter_raises_the_forecast_alerts() {
    let mut f = Fixture::new();
    // 100 down to 40 in an hour: empty well within a day.
    for remaining in (40..=100).rev().step_by(5) {
        f.read(remaining);
    }
    evaluate(&f.store, Utc::now()).unwrap();
    let warn = f.alerts("forecast_warn");
    assert_eq!(warn.len(), 1, "{:?}", f.store.list_alerts().unwrap());
    assert_eq!(warn[0].severity, Severity::Warn);
    assert_eq!(
        f.alerts("forecast_critical")[0].severity,
        Severity::Critical
    );
}

#[test]
fn a_source_failing_polls_in_a_row_fires_and_a_success_resolves_it() {
    let f = Fixture::new();
    let rules = only("source_failing", Condition::SourceFailing { polls: 3 });
    for i in 0..2 {
        f.store
            .record_poll(f.source_id, Utc::now() + Duration::seconds(i), Some("503"))
            .unwrap();
        assert!(f.eval(&rules).fired.is_empty());
    }
    f.store
        .record_poll(f.source_id, Utc::now(), Some("503"))
        .unwrap();
    let fired = f.eval(&rules).fired;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].meter_id, None);
    f.store.record_poll(f.source_id, Utc::now(), None).unwrap();
    assert_eq!(f.eval(&rules).resolved.len(), 1);
}

#[test]
fn a_refusal_for_money_is_critical_at_once_and_clears_after_a_top_up() {
    let mut f = Fixture::new();
    f.read(0);
    let mut refusal = PollFailure::without_answer("/chat", "402: add credits".into());
    refusal.status = Some(402);
    refusal.class = Some(FailureClass::CreditsExhausted);
    f.store
        .insert_event(f.source_id, Utc::now() - Duration::minutes(30), &refusal)
        .unwrap();
    // A rate limit is not about money and fires nothing.
    let mut limited = PollFailure::without_answer("/chat", "429".into());
    limited.class = Some(FailureClass::RateLimited);
    f.store
        .insert_event(f.source_id, Utc::now() - Duration::minutes(20), &limited)
        .unwrap();
    let rules: Vec<Rule> = RuleBook::default()
        .rules_for(None)
        .into_iter()
        .map(|(rule, _)| rule)
        .filter(|r| r.name == "payment_refused")
        .collect();
    let fired = f.eval(&rules).fired;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].severity, Severity::Critical);
    assert!(fired[0].message.contains("credits_exhausted"));
    // The minute-stepped readings end before the refusal; this one comes after it.
    f.minute = 59;
    f.read(50);
    assert_eq!(f.eval(&rules).resolved.len(), 1);
}

#[test]
fn a_polls_evaluation_judges_only_the_polled_source() {
    let mut f = Fixture::new();
    f.read(10);
    let other = f.store.add_source(&sample("other")).unwrap().id;
    f.store
        .insert_reading(other, Utc::now(), &key_limit(5))
        .unwrap();
    let fired = evaluate_source(&f.store, f.source_id, Utc::now())
        .unwrap()
        .fired;
    assert!(!fired.is_empty());
    assert!(
        fired.iter().all(|a| a.source_id == f.source_id),
        "{fired:?}"
    );
    // The other source's turn comes with its own poll.
    let theirs = evaluate_source(&f.store, other, Utc::now()).unwrap().fired;
    assert!(theirs
        .iter()
        .any(|a| a.source_id == other && a.rule == "below_percent"));
}
