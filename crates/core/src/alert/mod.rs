//! The alert engine: rules judged against the meters' current status and the sources' recent
//! failures, turned into episodes in the `alerts` table.
//!
//! An episode per (meter or source, rule) opens once when its rule fires, stays open (without a
//! duplicate) while the condition lasts, and resolves when the condition clears; the rule is
//! then armed again, so a top-up followed by a new drop gives a new episode.

pub mod channel_setup;
pub mod channels;
pub mod config;
pub mod outbox;
pub mod rules;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::config::ConfigError;
use crate::status::{self, MeterStatus};
use crate::store::{
    AlertRow, AlertState, DeliveryKind, DeliveryState, NewAlert, NewDelivery, Severity, Store,
    StoreError,
};
use config::{AlertSettings, RuleBook};
use rules::{Rule, SourceFacts, Verdict};

/// What one evaluation changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// Episodes opened by this evaluation.
    pub fired: Vec<NewAlert>,
    /// Ids of the episodes it resolved.
    pub resolved: Vec<i64>,
    /// Ids of the episodes it reminded about.
    pub reminded: Vec<i64>,
}

/// Evaluates the person's rules (see [`config`]) against everything in the store, and queues
/// the notices that follow in the outbox.
pub fn evaluate(store: &Store, now: DateTime<Utc>) -> Result<Evaluation, StoreError> {
    let book = RuleBook::load(store)?;
    run(store, None, &|meter_id| book.rules_for(meter_id), now)
}

/// Evaluates what one source's poll can have changed: its meters and the source itself. With
/// many sources polled every minute, judging every meter after every poll would cost
/// sources² forecasts a round.
pub fn evaluate_source(
    store: &Store,
    source_id: i64,
    now: DateTime<Utc>,
) -> Result<Evaluation, StoreError> {
    let book = RuleBook::load(store)?;
    run(
        store,
        Some(source_id),
        &|meter_id| book.rules_for(meter_id),
        now,
    )
}

/// Evaluates exactly `rules`, all on, for every meter (per-meter rules) and every source
/// (source-wide rules).
pub fn evaluate_rules(
    store: &Store,
    rules: &[Rule],
    now: DateTime<Utc>,
) -> Result<Evaluation, StoreError> {
    let pick = |meter_id: Option<i64>| {
        rules
            .iter()
            .filter(|r| r.condition.per_meter() == meter_id.is_some())
            .map(|r| (r.clone(), true))
            .collect()
    };
    run(store, None, &pick, now)
}

type RulesFor<'a> = dyn Fn(Option<i64>) -> Vec<(Rule, bool)> + 'a;

fn run(
    store: &Store,
    only_source: Option<i64>,
    rules_for: &RulesFor,
    now: DateTime<Utc>,
) -> Result<Evaluation, StoreError> {
    let settings = AlertSettings::load(store)?;
    let channels: Vec<i64> = store
        .list_channels()?
        .into_iter()
        .filter(|c| c.enabled)
        .map(|c| c.id)
        .collect();
    let notices = |kind: DeliveryKind, severity: Severity| -> Vec<NewDelivery> {
        let not_before = settings.release(severity, now);
        channels
            .iter()
            .map(|&channel_id| NewDelivery {
                channel_id,
                kind,
                not_before,
            })
            .collect()
    };

    let sources: Vec<_> = store
        .list_sources()?
        .into_iter()
        .filter(|s| only_source.is_none_or(|id| s.id == id))
        .collect();
    let statuses: Vec<MeterStatus> = match only_source {
        Some(id) => status::source_meter_statuses(store, id)?,
        None => status::meter_statuses(store)?,
    }
    .into_iter()
    .map(|(s, _)| s)
    .collect();
    let source_ids: HashMap<&str, i64> = sources.iter().map(|s| (s.name.as_str(), s.id)).collect();
    let open: HashMap<(i64, Option<i64>, String), AlertRow> = store
        .open_alerts()?
        .into_iter()
        .map(|a| ((a.source_id, a.meter_id, a.rule.clone()), a))
        .collect();
    let money_events = store.events_since(now - rules::MONEY_EVENT_WINDOW)?;

    let mut verdicts: Vec<(i64, Option<i64>, Rule, Verdict)> = Vec::new();
    for status in &statuses {
        let (Some(meter_id), Some(&source_id)) =
            (status.meter_id, source_ids.get(status.source.as_str()))
        else {
            continue;
        };
        for (rule, enabled) in rules_for(Some(meter_id)) {
            let verdict = if enabled {
                rules::check_meter(&rule.condition, status, now)
            } else {
                // Turned off: an episode it opened is over.
                Verdict::Clear
            };
            verdicts.push((source_id, Some(meter_id), rule, verdict));
        }
    }
    for source in &sources {
        // Events come newest first, so the first match is the newest refusal.
        let money_event = money_events.iter().find(|e| {
            e.source_id == source.id
                && e.class
                    .as_deref()
                    .is_some_and(|c| rules::MONEY_CLASSES.contains(&c))
        });
        let meters: Vec<&MeterStatus> = statuses
            .iter()
            .filter(|s| s.source == source.name && s.meter_id.is_some())
            .collect();
        let topped_up_since_event = money_event.is_some_and(|event| {
            !meters.is_empty()
                && meters.iter().all(|m| {
                    m.last_reading.is_some_and(|t| t > event.ts)
                        && m.remaining.is_some_and(|r| r > Decimal::ZERO)
                })
        });
        let facts = SourceFacts {
            source,
            money_event,
            topped_up_since_event,
        };
        for (rule, enabled) in rules_for(None) {
            let verdict = if enabled {
                rules::check_source(&rule.condition, &facts)
            } else {
                Verdict::Clear
            };
            verdicts.push((source.id, None, rule, verdict));
        }
    }

    let mut evaluation = Evaluation::default();
    let remind_every = settings.remind_every();
    for (source_id, meter_id, rule, verdict) in verdicts {
        let key = (source_id, meter_id, rule.name.to_string());
        match (verdict, open.get(&key)) {
            (Verdict::Firing(message), None) => {
                let new = NewAlert {
                    source_id,
                    meter_id,
                    rule: rule.name.to_string(),
                    severity: rule.severity,
                    fired_at: now,
                    message,
                };
                // Another evaluation may have opened it a moment ago; the store keeps one.
                if store
                    .fire_alert(&new, &notices(DeliveryKind::Fired, rule.severity))?
                    .is_some()
                {
                    evaluation.fired.push(new);
                }
            }
            (Verdict::Clear, Some(alert)) => {
                let not_before = settings.release(Severity::Warn, now);
                store.resolve_alert(alert.id, now, not_before)?;
                evaluation.resolved.push(alert.id);
            }
            (Verdict::Firing(_) | Verdict::Hold, Some(alert))
                if reminder_due(alert, remind_every, now) =>
            {
                store.remind_alert(
                    alert.id,
                    now,
                    &notices(DeliveryKind::Reminder, alert.severity),
                )?;
                evaluation.reminded.push(alert.id);
            }
            _ => {}
        }
    }
    Ok(evaluation)
}

/// A firing episode nobody has acknowledged is repeated every `remind_every`, and once more
/// when a snooze runs out with it still firing.
fn reminder_due(
    alert: &AlertRow,
    remind_every: Option<chrono::Duration>,
    now: DateTime<Utc>,
) -> bool {
    if alert.state != AlertState::Firing || alert.snoozed(now) {
        return false;
    }
    let last = alert.last_notified_at.unwrap_or(alert.fired_at);
    let snooze_ended = alert.snoozed_until.is_some_and(|until| last < until);
    snooze_ended || remind_every.is_some_and(|every| now - last >= every)
}

/// One line of `headroom alerts --json`, and a row of the app's Alerts page. Field names are
/// stable: scripts rely on them.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct AlertView {
    #[ts(type = "number")]
    pub id: i64,
    pub source: String,
    /// `None` for a source-wide alert (failing polls, a refused payment).
    pub meter: Option<String>,
    /// The meter's name as people read it, e.g. "Key limit".
    pub meter_label: Option<String>,
    #[ts(type = "number | null")]
    pub meter_id: Option<i64>,
    pub rule: String,
    pub severity: Severity,
    pub state: AlertState,
    pub fired_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Set while a snooze is running.
    pub snoozed_until: Option<DateTime<Utc>>,
    pub message: String,
    pub deliveries: Vec<DeliveryView>,
}

/// One notice of an alert through one channel.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct DeliveryView {
    pub channel: String,
    /// "desktop", "webhook" or "email".
    pub channel_kind: String,
    pub kind: DeliveryKind,
    pub state: DeliveryState,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// For a pending notice: when it is next tried (a retry, or the end of quiet hours).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// Every alert, newest first, with source and meter names and what was delivered where.
pub fn views(store: &Store) -> Result<Vec<AlertView>, StoreError> {
    let now = Utc::now();
    let sources: HashMap<i64, String> = store
        .list_sources()?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let meters: HashMap<i64, (String, String)> = store
        .list_meters()?
        .into_iter()
        .map(|m| (m.id, (m.name, m.label)))
        .collect();
    let channels: HashMap<i64, (String, String)> = store
        .list_channels()?
        .into_iter()
        .map(|c| (c.id, (c.name, c.kind)))
        .collect();
    let mut deliveries: HashMap<i64, Vec<DeliveryView>> = HashMap::new();
    for d in store.list_deliveries()? {
        let Some(alert_id) = d.alert_id else { continue };
        let (channel, channel_kind) = channels.get(&d.channel_id).cloned().unwrap_or_default();
        deliveries.entry(alert_id).or_default().push(DeliveryView {
            channel,
            channel_kind,
            kind: d.kind,
            state: d.state,
            attempts: d.attempts,
            created_at: d.created_at,
            sent_at: d.sent_at,
            next_attempt_at: (d.state == DeliveryState::Pending).then_some(d.next_attempt_at),
            last_error: d.last_error,
        });
    }
    Ok(store
        .list_alerts()?
        .into_iter()
        .map(|a| AlertView {
            id: a.id,
            source: sources.get(&a.source_id).cloned().unwrap_or_default(),
            meter: a
                .meter_id
                .and_then(|id| meters.get(&id).map(|m| m.0.clone())),
            meter_label: a
                .meter_id
                .and_then(|id| meters.get(&id).map(|m| m.1.clone())),
            meter_id: a.meter_id,
            rule: a.rule.clone(),
            severity: a.severity,
            state: a.state,
            fired_at: a.fired_at,
            resolved_at: a.resolved_at,
            acknowledged_at: a.acknowledged_at,
            snoozed_until: a.snoozed_until.filter(|until| *until > now),
            message: a.message.clone(),
            deliveries: deliveries.remove(&a.id).unwrap_or_default(),
        })
        .collect())
}

/// The tray icon's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub enum TrayLevel {
    Ok,
    Warn,
    Critical,
}

/// What the tray shows: the worst open alert, and the soonest forecast run-out in the tooltip.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct TraySummary {
    pub level: TrayLevel,
    pub tooltip: String,
    #[ts(type = "number")]
    pub open_alerts: usize,
}

pub fn tray_summary(store: &Store, now: DateTime<Utc>) -> Result<TraySummary, StoreError> {
    let open = store.open_alerts()?;
    let level = match open.iter().map(|a| a.severity).max() {
        None => TrayLevel::Ok,
        Some(Severity::Warn) => TrayLevel::Warn,
        Some(Severity::Critical) => TrayLevel::Critical,
    };
    let statuses = status::meter_statuses(store)?;
    let soonest = statuses
        .iter()
        .filter_map(|(s, _)| {
            let eta = s.forecast.as_ref()?.eta_p50?;
            (s.remaining > Some(Decimal::ZERO)).then_some((eta, s))
        })
        .min_by_key(|(eta, _)| *eta);
    let alerts = match open.len() {
        0 => "no open alerts".to_string(),
        1 => "1 open alert".to_string(),
        n => format!("{n} open alerts"),
    };
    let eta = match soonest {
        Some((eta, s)) => {
            let hours = (eta - now).num_hours().max(0);
            let when = if hours < 48 {
                format!("in about {hours} h")
            } else {
                format!("in about {} days", hours / 24)
            };
            let meter = s
                .meter_label
                .as_deref()
                .or(s.meter.as_deref())
                .unwrap_or("");
            format!("; soonest to run out: {} {meter}, {when}", s.source)
        }
        None => String::new(),
    };
    Ok(TraySummary {
        level,
        tooltip: format!("Headroom: {alerts}{eta}"),
        open_alerts: open.len(),
    })
}

/// How long a person wants an alert to keep quiet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub enum SnoozeFor {
    Hour,
    Day,
    /// Until the meter's budget or quota resets.
    Reset,
}

impl std::str::FromStr for SnoozeFor {
    type Err = ConfigError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "1h" | "hour" => Ok(SnoozeFor::Hour),
            "1d" | "day" => Ok(SnoozeFor::Day),
            "reset" => Ok(SnoozeFor::Reset),
            other => Err(ConfigError::Invalid(format!(
                "snooze for 1h, 1d or reset, not \"{other}\""
            ))),
        }
    }
}

/// Snoozes an open alert: no reminders and no pending notices until the time is up.
pub fn snooze(
    store: &Store,
    id: i64,
    duration: SnoozeFor,
    now: DateTime<Utc>,
) -> Result<AlertRow, ConfigError> {
    let alert = store.alert(id)?;
    let until = match duration {
        SnoozeFor::Hour => now + chrono::Duration::hours(1),
        SnoozeFor::Day => now + chrono::Duration::days(1),
        SnoozeFor::Reset => {
            let status = alert.meter_id.and_then(|meter_id| {
                status::meter_statuses(store)
                    .ok()?
                    .into_iter()
                    .map(|(s, _)| s)
                    .find(|s| s.meter_id == Some(meter_id))
            });
            let reset = status.and_then(|s| {
                s.reset_at
                    .or_else(|| s.forecast.and_then(|f| f.next_reset))
                    .filter(|r| *r > now)
            });
            reset.ok_or_else(|| {
                ConfigError::Invalid(
                    "this alert's meter has no reset coming that Headroom knows of; snooze it for an hour or a day instead".into(),
                )
            })?
        }
    };
    Ok(store.snooze_alert(id, until)?)
}

pub fn acknowledge(store: &Store, id: i64, now: DateTime<Utc>) -> Result<AlertRow, ConfigError> {
    Ok(store.acknowledge_alert(id, now)?)
}

#[cfg(test)]
mod delivery_tests;
#[cfg(test)]
mod tests;
