//! Alert rules: what each one watches and when it fires, clears, or holds.
//!
//! A rule answers with a [`Verdict`] rather than a yes/no so that threshold rules can have
//! hysteresis: between "below the threshold" and "comfortably above it" the episode keeps
//! whatever state it had, so a value hovering at the line does not fire again and again.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::status::MeterStatus;
use crate::store::{EventRow, Severity, SourceRow};

/// A threshold episode resolves only once the value is this share beyond the threshold.
pub const HYSTERESIS: f64 = 0.10;

/// Failure classes that mean a request was refused for lack of money: critical at once.
pub const MONEY_CLASSES: &[&str] = &[
    "credits_exhausted",
    "spend_limit_reached",
    "budget_exceeded",
    "payment_failed",
];

/// How long a refusal for money keeps its episode firing when nothing shows it was fixed.
pub const MONEY_EVENT_WINDOW: Duration = Duration::hours(24);

#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// Remaining is below this percentage of the meter's limit.
    BelowPercent(f64),
    /// Remaining is below this amount, in the meter's unit.
    BelowAmount(Decimal),
    /// The forecast's median run-out time is within this lead time.
    RunsOutWithin(Duration),
    /// The forecaster sees a runaway burn.
    Runaway,
    /// Nothing left.
    Exhausted,
    /// The source's polls have failed this many times in a row.
    SourceFailing { polls: u32 },
    /// A request was refused for lack of money (see [`MONEY_CLASSES`]).
    PaymentRefused,
}

impl Condition {
    /// Whether the rule is judged per meter (otherwise per source).
    pub fn per_meter(&self) -> bool {
        !matches!(
            self,
            Condition::SourceFailing { .. } | Condition::PaymentRefused
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Stable name stored with each episode; an episode is unique per subject and rule name.
    pub name: &'static str,
    pub severity: Severity,
    pub condition: Condition,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The condition holds; the message says why, for the person reading the alert.
    Firing(String),
    /// The condition is over: an open episode resolves and the rule is armed again.
    Clear,
    /// Not enough to say, or inside the hysteresis band: leave the episode as it is.
    Hold,
}

fn label(status: &MeterStatus) -> String {
    let meter = status
        .meter_label
        .as_deref()
        .or(status.meter.as_deref())
        .unwrap_or("meter");
    format!("{} {}", status.source, meter)
}

/// Judges a per-meter rule against the meter's current status.
pub fn check_meter(condition: &Condition, status: &MeterStatus, now: DateTime<Utc>) -> Verdict {
    let remaining = status.remaining.and_then(|d| d.to_f64());
    // Once the meter is empty the `exhausted` rule speaks for it: "running low" on top of
    // "empty" is noise. An episode already open stays open until a top-up clears it.
    let empty = remaining.is_some_and(|r| r <= 0.0);
    if empty
        && matches!(
            condition,
            Condition::BelowPercent(_) | Condition::BelowAmount(_)
        )
    {
        return Verdict::Hold;
    }
    match condition {
        Condition::BelowPercent(percent) => {
            let limit = status.limit.and_then(|d| d.to_f64()).filter(|l| *l > 0.0);
            let (Some(remaining), Some(limit)) = (remaining, limit) else {
                // No reading yet is not news; a meter without a limit has no percentage.
                return if remaining.is_some() {
                    Verdict::Clear
                } else {
                    Verdict::Hold
                };
            };
            let left = remaining / limit * 100.0;
            threshold(left, *percent, || {
                format!(
                    "{}: {left:.1}% of the limit left (alert below {percent}%)",
                    label(status)
                )
            })
        }
        Condition::BelowAmount(amount) => {
            let (Some(remaining), Some(line)) = (remaining, amount.to_f64()) else {
                return Verdict::Hold;
            };
            let unit = status.unit.as_deref().unwrap_or("");
            threshold(remaining, line, || {
                format!(
                    "{}: {remaining} {unit} left (alert below {amount} {unit})",
                    label(status)
                )
            })
        }
        Condition::RunsOutWithin(lead) => {
            // No forecast (too little history) says nothing either way. Once the meter is empty
            // the `exhausted` rule speaks for it; a forecast episode already open stays open
            // until a top-up clears it.
            let Some(forecast) = status.forecast.as_ref().filter(|_| remaining > Some(0.0)) else {
                return Verdict::Hold;
            };
            let Some(eta) = forecast.eta_p50 else {
                return Verdict::Clear;
            };
            let ahead = (eta - now).num_seconds() as f64;
            let lead_secs = lead.num_seconds() as f64;
            if ahead <= lead_secs {
                let hours = (ahead / 3600.0).max(0.0);
                // A relative time reads the same in every time zone; the card and chart show the
                // local clock time.
                Verdict::Firing(format!(
                    "{}: forecast to run out in about {hours:.0} h (median), within the {} h alert lead",
                    label(status),
                    lead.num_hours()
                ))
            } else if ahead >= lead_secs * (1.0 + HYSTERESIS) {
                Verdict::Clear
            } else {
                Verdict::Hold
            }
        }
        Condition::Runaway => match &status.forecast {
            Some(f) if f.runaway => Verdict::Firing(format!(
                "{}: runaway burn, {:.2} an hour",
                label(status),
                f.burn_per_hour
            )),
            Some(_) => Verdict::Clear,
            None => Verdict::Hold,
        },
        Condition::Exhausted => match status.remaining {
            Some(r) if r <= Decimal::ZERO => {
                Verdict::Firing(format!("{}: nothing left", label(status)))
            }
            Some(_) => Verdict::Clear,
            None => Verdict::Hold,
        },
        Condition::SourceFailing { .. } | Condition::PaymentRefused => Verdict::Hold,
    }
}

/// Below `line` fires; at `line` plus the hysteresis margin or more clears; between holds.
fn threshold(value: f64, line: f64, message: impl FnOnce() -> String) -> Verdict {
    if value < line {
        Verdict::Firing(message())
    } else if value >= line + line.abs() * HYSTERESIS {
        Verdict::Clear
    } else {
        Verdict::Hold
    }
}

/// What a source-wide rule needs to know about the source.
pub struct SourceFacts<'a> {
    pub source: &'a SourceRow,
    /// The newest refusal for money within [`MONEY_EVENT_WINDOW`], if any.
    pub money_event: Option<&'a EventRow>,
    /// Every meter of the source has read above zero since that refusal: a top-up fixed it.
    pub topped_up_since_event: bool,
}

pub fn check_source(condition: &Condition, facts: &SourceFacts) -> Verdict {
    let source = facts.source;
    match condition {
        Condition::SourceFailing { polls } => {
            if source.consecutive_failures >= *polls {
                Verdict::Firing(format!(
                    "{}: {} polls in a row failed: {}",
                    source.name,
                    source.consecutive_failures,
                    source.last_error.as_deref().unwrap_or("unknown error")
                ))
            } else if source.consecutive_failures == 0 {
                Verdict::Clear
            } else {
                Verdict::Hold
            }
        }
        Condition::PaymentRefused => match facts.money_event {
            Some(event) if !facts.topped_up_since_event => Verdict::Firing(format!(
                "{}: a request was refused ({}): {}",
                source.name,
                event.class.as_deref().unwrap_or("payment"),
                event.message
            )),
            _ => Verdict::Clear,
        },
        _ => Verdict::Hold,
    }
}
