//! What the person has set: which rules apply to which meter with which values, how often a
//! firing alert is repeated, and when to keep quiet. Everything is read from the store at each
//! evaluation, so an edit applies at the next poll without a restart.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use ts_rs::TS;

use super::rules::{Condition, Rule};
use crate::config::{parse_interval, ConfigError};
use crate::forecast::ALERT_WITHIN;
use crate::status::LOW_FRACTION;
use crate::store::{MeterRow, RuleSetting, Severity, SourceRow, Store, StoreError};

/// Reminders for an alert still firing, unless the person changes it.
pub const DEFAULT_REMIND_EVERY: Duration = Duration::hours(24);

const REMIND_EVERY: &str = "remind_every";
const QUIET_HOURS: &str = "quiet_hours";

/// The rules Headroom knows, in the order they are listed.
pub const RULE_NAMES: &[&str] = &[
    "below_percent",
    "below_amount",
    "forecast_warn",
    "forecast_critical",
    "runaway",
    "exhausted",
    "source_failing",
    "payment_refused",
];

/// A rule's built-in setting: enabled or not, and its value in the stored text form.
fn builtin(rule: &str) -> (bool, Option<String>) {
    let hours = |d: Duration| Some(d.num_seconds().to_string());
    match rule {
        // The same line as the card's "low" state, so the alert and the card agree.
        "below_percent" => (true, Some(format!("{}", LOW_FRACTION * 100.0))),
        // An amount only means something in the meter's own unit: off until someone sets one.
        "below_amount" => (false, None),
        "forecast_warn" => (true, hours(ALERT_WITHIN)),
        "forecast_critical" => (true, hours(Duration::hours(24))),
        "source_failing" => (true, Some("3".into())),
        _ => (true, None),
    }
}

fn severity(rule: &str) -> Severity {
    match rule {
        "forecast_critical" | "exhausted" | "payment_refused" => Severity::Critical,
        _ => Severity::Warn,
    }
}

/// Rules judged per source rather than per meter.
fn source_wide(rule: &str) -> bool {
    matches!(rule, "source_failing" | "payment_refused")
}

fn takes_value(rule: &str) -> bool {
    matches!(
        rule,
        "below_percent" | "below_amount" | "forecast_warn" | "forecast_critical" | "source_failing"
    )
}

/// Turns a person's text into the stored form of `rule`'s value, or says what is wrong.
fn normalise_value(rule: &str, text: &str) -> Result<String, String> {
    let text = text.trim();
    match rule {
        "below_percent" => {
            let percent: f64 = text
                .trim_end_matches('%')
                .parse()
                .map_err(|_| format!("\"{text}\" is not a percentage; write a number such as 15"))?;
            if !(percent > 0.0 && percent < 100.0) {
                return Err(format!(
                    "a percentage of the limit must be above 0 and below 100, not {text}"
                ));
            }
            Ok(percent.to_string())
        }
        "below_amount" => {
            let amount: Decimal = text
                .parse()
                .map_err(|_| format!("\"{text}\" is not an amount; write a number such as 5 or 12.50"))?;
            if amount <= Decimal::ZERO {
                return Err(format!("the amount must be above zero, not {text}"));
            }
            Ok(amount.normalize().to_string())
        }
        "forecast_warn" | "forecast_critical" => {
            let lead = parse_interval(text).map_err(|e| e.to_string())?;
            if lead.as_secs() < 3600 || lead.as_secs() > 90 * 86_400 {
                return Err(format!(
                    "a lead time must be between 1h and 90d, not {text}"
                ));
            }
            Ok(lead.as_secs().to_string())
        }
        "source_failing" => match text.parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n.to_string()),
            _ => Err(format!(
                "the number of failed polls in a row must be a whole number from 1 to 100, not {text}"
            )),
        },
        _ => Err(format!("{rule} has no value to set; turn it on or off")),
    }
}

fn condition(rule: &str, value: Option<&str>) -> Option<Condition> {
    let secs = |v: Option<&str>| v.and_then(|v| v.parse::<i64>().ok()).map(Duration::seconds);
    Some(match rule {
        "below_percent" => Condition::BelowPercent(value?.parse().ok()?),
        "below_amount" => Condition::BelowAmount(value?.parse().ok()?),
        "forecast_warn" | "forecast_critical" => Condition::RunsOutWithin(secs(value)?),
        "runaway" => Condition::Runaway,
        "exhausted" => Condition::Exhausted,
        "source_failing" => Condition::SourceFailing {
            polls: value?.parse().ok()?,
        },
        "payment_refused" => Condition::PaymentRefused,
        _ => return None,
    })
}

/// Where a rule's effective setting comes from, so a person can tell an override from a default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub enum SettingOrigin {
    BuiltIn,
    Default,
    Meter,
}

/// One rule as it applies in one scope: what `alerts rules list` prints and the app edits.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct RuleView {
    /// `None` for the defaults; otherwise the meter as "source/meter".
    pub meter: Option<String>,
    #[ts(type = "number | null")]
    pub meter_id: Option<i64>,
    pub rule: String,
    pub severity: Severity,
    pub enabled: bool,
    /// The value in words, e.g. "15%", "5 USD", "72h", "3 polls".
    pub value: Option<String>,
    /// The value as it would be typed back, e.g. "15", "5", "72h", "3".
    pub input: Option<String>,
    pub origin: SettingOrigin,
    /// Whether the rule is judged per source (only a default, never per meter).
    pub source_wide: bool,
}

/// Every rule's setting, layered: built-in, then the person's defaults, then per-meter overrides.
#[derive(Clone, Debug, Default)]
pub struct RuleBook {
    defaults: HashMap<String, RuleSetting>,
    overrides: HashMap<(i64, String), RuleSetting>,
}

impl RuleBook {
    pub fn load(store: &Store) -> Result<Self, StoreError> {
        let mut book = RuleBook::default();
        for setting in store.rule_settings()? {
            match setting.meter_id {
                None => {
                    book.defaults.insert(setting.rule.clone(), setting);
                }
                Some(meter_id) => {
                    book.overrides
                        .insert((meter_id, setting.rule.clone()), setting);
                }
            }
        }
        Ok(book)
    }

    /// The effective (enabled, value, origin) of `rule` for a meter, or the defaults for `None`.
    fn effective(
        &self,
        meter_id: Option<i64>,
        rule: &str,
    ) -> (bool, Option<String>, SettingOrigin) {
        let (mut enabled, mut value) = builtin(rule);
        let mut origin = SettingOrigin::BuiltIn;
        let layers = [
            self.defaults.get(rule).map(|s| (s, SettingOrigin::Default)),
            meter_id
                .and_then(|id| self.overrides.get(&(id, rule.to_string())))
                .map(|s| (s, SettingOrigin::Meter)),
        ];
        for (setting, from) in layers.into_iter().flatten() {
            enabled = setting.enabled;
            if setting.value.is_some() {
                value = setting.value.clone();
            }
            origin = from;
        }
        (enabled, value, origin)
    }

    /// Every rule for one meter (or, with `None`, for sources), with whether it is on. A rule
    /// that is off still appears, so that an episode it opened earlier can be closed.
    pub fn rules_for(&self, meter_id: Option<i64>) -> Vec<(Rule, bool)> {
        RULE_NAMES
            .iter()
            .filter(|name| source_wide(name) == meter_id.is_none())
            .map(|name| {
                let (enabled, value, _) = self.effective(meter_id, name);
                let condition = condition(name, value.as_deref());
                // A rule without a usable value (an amount never set) cannot fire; it is
                // listed off, and its condition is never judged.
                let usable = condition.is_some();
                let rule = Rule {
                    name,
                    severity: severity(name),
                    condition: condition.unwrap_or(Condition::Exhausted),
                };
                (rule, enabled && usable)
            })
            .collect()
    }

    /// The defaults and then each meter's rules, as a person reads them.
    pub fn views(&self, meters: &[(MeterRow, &SourceRow)]) -> Vec<RuleView> {
        let mut views: Vec<RuleView> = RULE_NAMES
            .iter()
            .map(|rule| self.view(None, None, rule, None))
            .collect();
        for (meter, source) in meters {
            let name = format!("{}/{}", source.name, meter.name);
            for rule in RULE_NAMES.iter().filter(|r| !source_wide(r)) {
                views.push(self.view(Some(meter.id), Some(name.clone()), rule, Some(&meter.unit)));
            }
        }
        views
    }

    fn view(
        &self,
        meter_id: Option<i64>,
        meter: Option<String>,
        rule: &str,
        unit: Option<&str>,
    ) -> RuleView {
        let (enabled, value, origin) = self.effective(meter_id, rule);
        let input = value.as_deref().map(|v| match rule {
            "forecast_warn" | "forecast_critical" => v
                .parse::<i64>()
                .map(|s| format_duration(Duration::seconds(s)))
                .unwrap_or_else(|_| v.to_string()),
            _ => v.to_string(),
        });
        let words = input.as_deref().map(|v| match rule {
            "below_percent" => format!("{v}%"),
            "below_amount" => format!("{v} {}", unit.unwrap_or("in the meter's unit")),
            "source_failing" => format!("{v} polls"),
            "forecast_warn" | "forecast_critical" => format!("within {v}"),
            _ => v.to_string(),
        });
        RuleView {
            meter,
            meter_id,
            rule: rule.to_string(),
            severity: severity(rule),
            enabled,
            value: words,
            input,
            origin,
            source_wide: source_wide(rule),
        }
    }
}

/// The alert rules and settings as Settings → Alerts and `alerts rules list --json` show them.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct AlertRules {
    pub settings: AlertSettings,
    pub rules: Vec<RuleView>,
}

/// Every rule as it applies: the defaults, then each meter's (named "source/meter").
pub fn alert_rules(store: &Store) -> Result<AlertRules, StoreError> {
    let sources = store.list_sources()?;
    let meters: Vec<(MeterRow, &SourceRow)> = store
        .list_meters()?
        .into_iter()
        .filter_map(|m| {
            let source = sources.iter().find(|s| s.id == m.source_id)?;
            Some((m, source))
        })
        .collect();
    Ok(AlertRules {
        settings: AlertSettings::load(store)?,
        rules: RuleBook::load(store)?.views(&meters),
    })
}

/// "72h", "1d", "90m": the shortest exact form.
pub fn format_duration(d: Duration) -> String {
    let secs = d.num_seconds();
    // Up to three days reads better in hours ("72h"); beyond, in days ("7d").
    if secs % 86_400 == 0 && secs > 3 * 86_400 {
        format!("{}d", secs / 86_400)
    } else if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// One change a person asks for. `value` is their text; `enabled` turns a rule on or off;
/// `reset` forgets the setting in this scope.
#[derive(Clone, Debug, Default, serde::Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct RuleChange {
    #[ts(type = "number | null")]
    pub meter_id: Option<i64>,
    pub rule: String,
    pub value: Option<String>,
    pub enabled: Option<bool>,
    #[serde(default)]
    pub reset: bool,
}

/// Checks every change and then saves them all, or saves nothing and says what is wrong.
pub fn apply_rule_changes(store: &Store, changes: &[RuleChange]) -> Result<(), ConfigError> {
    let meters: HashMap<i64, MeterRow> = store
        .list_meters()?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let book = RuleBook::load(store)?;
    let mut settings = Vec::new();
    let mut resets = Vec::new();
    for change in changes {
        let rule = change.rule.as_str();
        if !RULE_NAMES.contains(&rule) {
            return Err(ConfigError::Invalid(format!(
                "there is no alert rule called \"{rule}\"; the rules are {}",
                RULE_NAMES.join(", ")
            )));
        }
        if let Some(id) = change.meter_id {
            if !meters.contains_key(&id) {
                return Err(ConfigError::Invalid(format!(
                    "there is no meter with id {id}"
                )));
            }
            if source_wide(rule) {
                return Err(ConfigError::Invalid(format!(
                    "{rule} applies to a whole source, not one meter; set it as a default"
                )));
            }
        }
        if change.reset {
            resets.push((change.meter_id, rule));
            continue;
        }
        let value = match change.value.as_deref() {
            Some(text) if takes_value(rule) => {
                Some(normalise_value(rule, text).map_err(ConfigError::Invalid)?)
            }
            Some(_) => {
                return Err(ConfigError::Invalid(format!(
                    "{rule} has no value to set; turn it on or off"
                )))
            }
            None => None,
        };
        // Giving a value means wanting the rule; otherwise the scope's current state stays.
        let enabled = change
            .enabled
            .unwrap_or_else(|| value.is_some() || book.effective(change.meter_id, rule).0);
        if enabled
            && value.is_none()
            && book.effective(change.meter_id, rule).1.is_none()
            && takes_value(rule)
        {
            return Err(ConfigError::Invalid(format!(
                "{rule} needs a value before it can be turned on"
            )));
        }
        let kept = match change.meter_id {
            None => book.defaults.get(rule),
            Some(id) => book.overrides.get(&(id, rule.to_string())),
        };
        settings.push(RuleSetting {
            meter_id: change.meter_id,
            rule: rule.to_string(),
            value: value.or_else(|| kept.and_then(|s| s.value.clone())),
            enabled,
        });
    }
    store.save_rule_settings(&settings)?;
    for (meter_id, rule) in resets {
        store.clear_rule_setting(meter_id, rule)?;
    }
    Ok(())
}

/// Finds a meter by the name `alerts rules list` shows ("source/meter"), or by its source's
/// name when that source has a single meter.
pub fn find_meter(store: &Store, name: &str) -> Result<MeterRow, ConfigError> {
    let sources = store.list_sources()?;
    let meters = store.list_meters()?;
    let named = |m: &MeterRow| {
        let source = sources.iter().find(|s| s.id == m.source_id);
        source
            .map(|s| format!("{}/{}", s.name, m.name))
            .unwrap_or_default()
    };
    if let Some(m) = meters.iter().find(|m| named(m) == name) {
        return Ok(m.clone());
    }
    if let Some(source) = sources.iter().find(|s| s.name == name) {
        let of_source: Vec<&MeterRow> =
            meters.iter().filter(|m| m.source_id == source.id).collect();
        if let [only] = of_source.as_slice() {
            return Ok((*only).clone());
        }
    }
    let known: Vec<String> = meters.iter().map(named).collect();
    Err(ConfigError::Invalid(if known.is_empty() {
        format!("there is no meter called \"{name}\"; meters appear after a source's first poll")
    } else {
        format!(
            "there is no meter called \"{name}\"; the meters are {}",
            known.join(", ")
        )
    }))
}

/// Hours, in local time, when only critical alerts are delivered at once; the rest wait for
/// the end of the quiet hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// Parses "22:00-07:00".
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("\"{text}\" is not a span of hours; write it like 22:00-07:00");
        let (start, end) = text.trim().split_once('-').ok_or_else(bad)?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| bad());
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Err(format!(
                "quiet hours from {start} to {end} are empty; to turn them off, say off"
            ));
        }
        Ok(Self { start, end })
    }

    /// When a notice made at `now` may go out: `now`, or the end of the quiet hours it falls in.
    pub fn release<Tz: TimeZone>(&self, now: DateTime<Utc>, tz: &Tz) -> DateTime<Utc> {
        let local = now.with_timezone(tz);
        let time = local.time();
        let inside = if self.start < self.end {
            time >= self.start && time < self.end
        } else {
            time >= self.start || time < self.end
        };
        if !inside {
            return now;
        }
        let mut day = local.date_naive();
        if time >= self.end {
            day = day.succ_opt().unwrap_or(day);
        }
        tz.from_local_datetime(&day.and_time(self.end))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    }
}

impl std::fmt::Display for QuietHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

/// Settings of the alerting as a whole.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct AlertSettings {
    /// e.g. "24h"; `None` when reminders are off.
    pub remind_every: Option<String>,
    /// e.g. "22:00-07:00" in local time; `None` when off.
    pub quiet_hours: Option<String>,
}

impl AlertSettings {
    pub fn load(store: &Store) -> Result<Self, StoreError> {
        let remind_every = match store.alert_setting(REMIND_EVERY)?.as_deref() {
            None => Some(format_duration(DEFAULT_REMIND_EVERY)),
            Some("off") => None,
            Some(secs) => secs
                .parse::<i64>()
                .ok()
                .map(|s| format_duration(Duration::seconds(s))),
        };
        let quiet_hours = store.alert_setting(QUIET_HOURS)?;
        Ok(Self {
            remind_every,
            quiet_hours,
        })
    }

    pub fn remind_every(&self) -> Option<Duration> {
        let text = self.remind_every.as_deref()?;
        parse_interval(text)
            .ok()
            .and_then(|d| Duration::from_std(d).ok())
    }

    pub fn quiet(&self) -> Option<QuietHours> {
        QuietHours::parse(self.quiet_hours.as_deref()?).ok()
    }

    /// When a notice of `severity` made at `now` may go out.
    pub fn release(&self, severity: Severity, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.quiet() {
            // A refusal or an empty meter is worth waking someone for.
            Some(quiet) if severity != Severity::Critical => quiet.release(now, &chrono::Local),
            _ => now,
        }
    }
}

/// The settings' stored forms: `Some` for each one to change (`Some(None)`: quiet hours off).
type SettingChanges = (Option<String>, Option<Option<String>>);

/// Checks a reminder interval ("24h", or "off") and quiet hours ("22:00-07:00", or "off")
/// without saving them.
pub fn check_settings(
    remind_every: Option<&str>,
    quiet_hours: Option<&str>,
) -> Result<SettingChanges, ConfigError> {
    let remind = match remind_every.map(str::trim) {
        None => None,
        Some("off") => Some("off".to_string()),
        Some(text) => {
            let every = parse_interval(text)?;
            if every.as_secs() < 600 {
                return Err(ConfigError::Invalid(format!(
                    "reminders more often than every 10 minutes would be spam; {text} is too short"
                )));
            }
            Some(every.as_secs().to_string())
        }
    };
    let quiet = match quiet_hours.map(str::trim) {
        None => None,
        Some("off") => Some(None),
        Some(text) => Some(Some(
            QuietHours::parse(text)
                .map_err(ConfigError::Invalid)?
                .to_string(),
        )),
    };
    Ok((remind, quiet))
}

/// Changes the reminder interval and the quiet hours (see [`check_settings`]); `None` leaves a
/// setting as it is. Both are checked before either is saved.
pub fn apply_settings(
    store: &Store,
    remind_every: Option<&str>,
    quiet_hours: Option<&str>,
) -> Result<AlertSettings, ConfigError> {
    let (remind, quiet) = check_settings(remind_every, quiet_hours)?;
    if let Some(remind) = remind {
        store.set_alert_setting(REMIND_EVERY, Some(&remind))?;
    }
    if let Some(quiet) = quiet {
        store.set_alert_setting(QUIET_HOURS, quiet.as_deref())?;
    }
    Ok(AlertSettings::load(store)?)
}
