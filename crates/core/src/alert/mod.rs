//! The alert engine: rules judged against the meters' current status and the sources' recent
//! failures, turned into episodes in the `alerts` table.
//!
//! An episode per (meter or source, rule) opens once when its rule fires, stays open (without a
//! duplicate) while the condition lasts, and resolves when the condition clears; the rule is
//! then armed again, so a top-up followed by a new drop gives a new episode.

pub mod rules;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::status::{self, MeterStatus};
use crate::store::{AlertState, NewAlert, Severity, Store, StoreError};
use rules::{Rule, SourceFacts, Verdict};

/// What one evaluation changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// Episodes opened by this evaluation.
    pub fired: Vec<NewAlert>,
    /// Ids of the episodes it resolved.
    pub resolved: Vec<i64>,
}

/// Evaluates the default rules against everything in the store.
pub fn evaluate(store: &Store, now: DateTime<Utc>) -> Result<Evaluation, StoreError> {
    evaluate_rules(store, &rules::default_rules(), now)
}

/// Evaluates `rules` for every meter (per-meter rules) and every source (source-wide rules).
pub fn evaluate_rules(
    store: &Store,
    rules: &[Rule],
    now: DateTime<Utc>,
) -> Result<Evaluation, StoreError> {
    let sources = store.list_sources()?;
    let statuses: Vec<MeterStatus> = status::meter_statuses(store)?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let source_ids: HashMap<&str, i64> = sources.iter().map(|s| (s.name.as_str(), s.id)).collect();
    let open: HashMap<(i64, Option<i64>, String), i64> = store
        .open_alerts()?
        .into_iter()
        .map(|a| ((a.source_id, a.meter_id, a.rule), a.id))
        .collect();
    let money_events = store.events_since(now - rules::MONEY_EVENT_WINDOW)?;

    let mut verdicts: Vec<(i64, Option<i64>, &Rule, Verdict)> = Vec::new();
    for status in &statuses {
        let (Some(meter_id), Some(&source_id)) =
            (status.meter_id, source_ids.get(status.source.as_str()))
        else {
            continue;
        };
        for rule in rules.iter().filter(|r| r.condition.per_meter()) {
            let verdict = rules::check_meter(&rule.condition, status, now);
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
        for rule in rules.iter().filter(|r| !r.condition.per_meter()) {
            let verdict = rules::check_source(&rule.condition, &facts);
            verdicts.push((source.id, None, rule, verdict));
        }
    }

    let mut evaluation = Evaluation::default();
    for (source_id, meter_id, rule, verdict) in verdicts {
        let key = (source_id, meter_id, rule.name.to_string());
        match verdict {
            Verdict::Firing(message) if !open.contains_key(&key) => {
                let new = NewAlert {
                    source_id,
                    meter_id,
                    rule: rule.name.to_string(),
                    severity: rule.severity,
                    fired_at: now,
                    message,
                };
                // Another evaluation may have opened it a moment ago; the store keeps one.
                if store.fire_alert(&new)? {
                    evaluation.fired.push(new);
                }
            }
            Verdict::Clear => {
                if let Some(&id) = open.get(&key) {
                    store.resolve_alert(id, now)?;
                    evaluation.resolved.push(id);
                }
            }
            Verdict::Firing(_) | Verdict::Hold => {}
        }
    }
    Ok(evaluation)
}

/// One line of `headroom alerts --json`. Field names are stable: scripts rely on them.
#[derive(Clone, Debug, Serialize)]
pub struct AlertView {
    pub id: i64,
    pub source: String,
    /// `None` for a source-wide alert (failing polls, a refused payment).
    pub meter: Option<String>,
    pub rule: String,
    pub severity: Severity,
    pub state: AlertState,
    pub fired_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub message: String,
}

/// Every alert, newest first, with source and meter names.
pub fn views(store: &Store) -> Result<Vec<AlertView>, StoreError> {
    let sources: HashMap<i64, String> = store
        .list_sources()?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let meters: HashMap<i64, String> = store
        .list_meters()?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect();
    Ok(store
        .list_alerts()?
        .into_iter()
        .map(|a| AlertView {
            id: a.id,
            source: sources.get(&a.source_id).cloned().unwrap_or_default(),
            meter: a.meter_id.and_then(|id| meters.get(&id).cloned()),
            rule: a.rule,
            severity: a.severity,
            state: a.state,
            fired_at: a.fired_at,
            resolved_at: a.resolved_at,
            message: a.message,
        })
        .collect())
}

#[cfg(test)]
mod tests;
