//! OpenRouter: `/api/v1/key` gives the key's spending limit, `/api/v1/credits` (management key
//! only) the account balance.
//!
//! Backfill (management key only): `/api/v1/activity` lists what the account spent on each of the
//! last 30 completed UTC days, so the account-credits meter at the end of a past day `d` is
//! today's balance plus everything spent since: `(total_credits − total_usage) + Σ usage of the
//! completed days after d + today's spend so far`. Today's spend is in no account-wide answer;
//! the inference key's `usage_daily` (from `/key`) is part of it, so that is used when an
//! inference key is set, and 0 otherwise. Either way it can only be too small, so the backfilled
//! curve may sit slightly low, by the part of today's spend it does not see (other keys' spend
//! today, or all of it without an inference key). Credits bought since a day are not in any
//! answer either: the curve assumes there were no top-ups in the 30 days, and reads high before
//! one by its amount.

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::spend::{backfill_instants, merge_days, DailyCost};
use super::{
    get_json, not_an_endpoint, unreadable, Backfill, HttpRunner, Keys, MeterKind, MeterSpec,
    PollFailure, PollOutcome, Progress, Reading, Source,
};
use crate::money::decimal_from_json;

const KIND: &str = "openrouter";
const KEY_PATH: &str = "/api/v1/key";
const CREDITS_PATH: &str = "/api/v1/credits";
const ACTIVITY_PATH: &str = "/api/v1/activity";

pub struct OpenRouter {
    base_url: String,
}

impl OpenRouter {
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }
}

#[async_trait]
impl Source for OpenRouter {
    async fn poll(&self, http: &HttpRunner, keys: &Keys) -> PollOutcome {
        let secrets = keys.secrets();
        let mut outcome = PollOutcome::default();
        if let Some(key) = keys.key.as_deref() {
            match get_json(http, KIND, &self.base_url, KEY_PATH, key, &secrets).await {
                Ok(body) => match parse_key(&body, Utc::now()) {
                    Ok(Some(reading)) => outcome.readings.push(reading),
                    Ok(None) => {}
                    Err(problem) => outcome.failures.push(unreadable(
                        KIND,
                        KEY_PATH,
                        &problem,
                        body.to_string().as_bytes(),
                        &secrets,
                    )),
                },
                Err(failure) => outcome.failures.push(failure),
            }
        }
        if let Some(key) = keys.management_key.as_deref() {
            match get_json(http, KIND, &self.base_url, CREDITS_PATH, key, &secrets).await {
                Ok(body) => match parse_credits(&body) {
                    Ok(reading) => outcome.readings.push(reading),
                    Err(problem) => outcome.failures.push(unreadable(
                        KIND,
                        CREDITS_PATH,
                        &problem,
                        body.to_string().as_bytes(),
                        &secrets,
                    )),
                },
                Err(failure) => outcome.failures.push(failure),
            }
        }
        if outcome.readings.is_empty() && outcome.failures.is_empty() {
            outcome.failures.push(PollFailure::without_answer(
                KEY_PATH,
                "This key has no spending limit and no management key is set, so there is nothing to watch. Add a management key to watch the account's credits.".to_string(),
            ));
        }
        outcome
    }

    fn read_snapshot(
        &self,
        path: &str,
        body: &Value,
        at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String> {
        match path {
            KEY_PATH => Ok(parse_key(body, at)?.into_iter().collect()),
            CREDITS_PATH => Ok(vec![parse_credits(body)?]),
            _ => Err(not_an_endpoint(
                "OpenRouter",
                path,
                &[KEY_PATH, CREDITS_PATH],
            )),
        }
    }

    /// The key-limit meter at the start of this UTC month, week and day, from `/key`'s usage
    /// counters (see [`key_history`]); and, with the management key, the account-credits meter
    /// at the end of each of the last 30 completed UTC days, rebuilt from today's balance and
    /// `/activity`'s daily spend (see the module doc for what it cannot see).
    async fn backfill(&self, http: &HttpRunner, keys: &Keys, progress: &Progress) -> Backfill {
        let mut backfill = Backfill::default();
        let secrets = keys.secrets();
        let steps =
            usize::from(keys.key.is_some()) + 2 * usize::from(keys.management_key.is_some());
        let mut done = 0;
        progress(done, steps);
        let started = Utc::now();

        // Asked before /credits, so it counts no spend the balance does not yet show. A failure
        // here only loses this refinement (the next poll reports what is wrong with the key).
        let mut today_spend = Decimal::ZERO;
        if let Some(key) = keys.key.as_deref() {
            if let Ok(body) = get_json(http, KIND, &self.base_url, KEY_PATH, key, &secrets).await {
                today_spend = field(&body, "/data/usage_daily")
                    .ok()
                    .flatten()
                    .unwrap_or_default()
                    .max(Decimal::ZERO);
                backfill.history.extend(key_history(&body, started));
            }
            done += 1;
            progress(done, steps);
        }
        let Some(management_key) = keys.management_key.as_deref() else {
            return backfill;
        };

        let credits = get_json(
            http,
            KIND,
            &self.base_url,
            CREDITS_PATH,
            management_key,
            &secrets,
        )
        .await
        .and_then(|body| {
            credit_totals(&body).map_err(|problem| {
                unreadable(
                    KIND,
                    CREDITS_PATH,
                    &problem,
                    body.to_string().as_bytes(),
                    &secrets,
                )
            })
        });
        let (total_credits, total_usage) = match credits {
            Ok(totals) => totals,
            Err(failure) => {
                backfill.failures.push(failure);
                return backfill;
            }
        };
        done += 1;
        progress(done, steps);
        // A UTC midnight between /key and /credits makes `usage_daily` yesterday's, which the
        // activity already counts; leave today's spend out rather than count it twice.
        if Utc::now().date_naive() != started.date_naive() {
            today_spend = Decimal::ZERO;
        }

        let days = get_json(
            http,
            KIND,
            &self.base_url,
            ACTIVITY_PATH,
            management_key,
            &secrets,
        )
        .await
        .and_then(|body| {
            parse_activity(&body).map_err(|problem| {
                unreadable(
                    KIND,
                    ACTIVITY_PATH,
                    &problem,
                    body.to_string().as_bytes(),
                    &secrets,
                )
            })
        });
        let days = match days {
            Ok(days) => days,
            Err(failure) => {
                backfill.failures.push(failure);
                return backfill;
            }
        };
        done += 1;
        progress(done, steps);

        backfill.history.extend(credits_history(
            total_credits,
            total_usage,
            today_spend,
            &days,
            started,
        ));
        backfill
    }
}

fn field(body: &Value, pointer: &str) -> Result<Option<Decimal>, String> {
    match body.pointer(pointer) {
        None => Err(format!(
            "the field {} is missing",
            pointer.replace('/', ".")
        )),
        Some(Value::Null) => Ok(None),
        Some(v) => decimal_from_json(v)
            .map(Some)
            .ok_or_else(|| format!("{} is not a number ({v})", pointer.replace('/', "."))),
    }
}

/// The key-limit meter, or `None` when the key has no limit (only account credits then matter).
pub fn parse_key(body: &Value, now: DateTime<Utc>) -> Result<Option<Reading>, String> {
    let Some(limit) = field(body, "/data/limit")? else {
        return Ok(None);
    };
    let usage = field(body, "/data/usage")?.unwrap_or_default();
    let remaining = field(body, "/data/limit_remaining")?.unwrap_or(limit - usage);
    let reset = body
        .pointer("/data/limit_reset")
        .and_then(Value::as_str)
        .map(str::to_string);
    let used_pointer = match reset.as_deref() {
        Some("daily") => "/data/usage_daily",
        Some("weekly") => "/data/usage_weekly",
        Some("monthly") => "/data/usage_monthly",
        _ => "/data/usage",
    };
    let used = field(body, used_pointer).ok().flatten().or(Some(usage));
    Ok(Some(Reading {
        meter: MeterSpec {
            name: "key_limit".into(),
            label: "Key limit".into(),
            kind: MeterKind::Budget,
            unit: "USD".into(),
        },
        remaining,
        limit: Some(limit),
        used,
        reset_at: reset.as_deref().and_then(|r| next_reset(r, now)),
        reset,
    }))
}

/// The key-limit meter at the start of the current UTC month, week and day. `/key` counts the
/// key's spend since each of those instants (`usage_monthly`, `usage_weekly`, `usage_daily`),
/// so what was left then is what is left now plus what was spent since: three exact points of
/// history from one answer, enough for a forecast on the first poll. Instants before the
/// limit's own last reset are left out (the limit was refilled then), and the points assume
/// the limit itself was not changed since.
pub fn key_history(body: &Value, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, Reading)> {
    let Ok(Some(current)) = parse_key(body, now) else {
        return Vec::new();
    };
    let Some(limit) = current.limit else {
        return Vec::new();
    };
    let midnight = Utc
        .with_ymd_and_hms(now.year(), now.month(), now.day(), 0, 0, 0)
        .single()
        .unwrap_or(now);
    let week_start = midnight - Duration::days(i64::from(now.weekday().num_days_from_monday()));
    let month_start = midnight - Duration::days(i64::from(now.day0()));
    let last_reset = match current.reset.as_deref() {
        Some("daily") => Some(midnight),
        Some("weekly") => Some(week_start),
        Some("monthly") => Some(month_start),
        _ => None,
    };
    let mut history: Vec<(DateTime<Utc>, Reading)> = Vec::new();
    for (at, pointer) in [
        (month_start, "/data/usage_monthly"),
        (week_start, "/data/usage_weekly"),
        (midnight, "/data/usage_daily"),
    ] {
        let Ok(Some(spent)) = field(body, pointer) else {
            continue;
        };
        let too_early = last_reset.is_some_and(|reset| at < reset);
        if too_early || at >= now || history.iter().any(|(t, _)| *t == at) {
            continue;
        }
        let remaining = (current.remaining + spent).min(limit);
        history.push((
            at,
            Reading {
                remaining,
                used: current.used.map(|u| (u - spent).max(Decimal::ZERO)),
                reset_at: current.reset.as_deref().and_then(|r| next_reset(r, at)),
                ..current.clone()
            },
        ));
    }
    history
}

/// The account balance: credits bought minus credits used.
pub fn parse_credits(body: &Value) -> Result<Reading, String> {
    let (total, used) = credit_totals(body)?;
    Ok(credits_reading(total, used))
}

/// `/credits`' (total_credits, total_usage), exactly.
fn credit_totals(body: &Value) -> Result<(Decimal, Decimal), String> {
    let total = field(body, "/data/total_credits")?.ok_or("data.total_credits is null")?;
    let used = field(body, "/data/total_usage")?.unwrap_or_default();
    Ok((total, used))
}

/// What `/activity` says the account spent per UTC day (every model and endpoint of a day added
/// up), oldest first.
pub fn parse_activity(body: &Value) -> Result<Vec<DailyCost>, String> {
    let items = body
        .get("data")
        .ok_or("the field data is missing")?
        .as_array()
        .ok_or("data is not a list")?;
    let mut costs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let date = item
            .get("date")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("data.{i}.date is missing or not text"))?;
        // Documented as YYYY-MM-DD; a time after it ("2025-08-24 00:00:00") names the same day.
        let day = date
            .get(..10)
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| format!("data.{i}.date is not a date like 2025-08-24 ({date})"))?;
        let amount = match item.get("usage") {
            None => return Err(format!("the field data.{i}.usage is missing")),
            // No charge on record for that endpoint that day.
            Some(Value::Null) => Decimal::ZERO,
            Some(v) => decimal_from_json(v)
                .ok_or_else(|| format!("data.{i}.usage is not a number ({v})"))?,
        };
        costs.push(DailyCost { day, amount });
    }
    Ok(merge_days(costs))
}

/// The credits meter at the end of each of the 30 completed UTC days before `now`, oldest first:
/// what was used by then is what is used now, less today's spend so far and less every completed
/// day after it. Activity for `now`'s day or later (a midnight passed while asking) is not
/// after any completed day here and is left out; a day the activity does not list spent nothing.
pub fn credits_history(
    total_credits: Decimal,
    total_usage: Decimal,
    today_spend: Decimal,
    days: &[DailyCost],
    now: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, Reading)> {
    let today = now.date_naive();
    backfill_instants(now)
        .into_iter()
        .map(|at| {
            let day = at.date_naive();
            let spent_since: Decimal = days
                .iter()
                .filter(|c| c.day > day && c.day < today)
                .map(|c| c.amount)
                .sum();
            let used = total_usage - today_spend - spent_since;
            (at, credits_reading(total_credits, used))
        })
        .collect()
}

fn credits_reading(total: Decimal, used: Decimal) -> Reading {
    Reading {
        meter: MeterSpec {
            name: "credits".into(),
            label: "Account credits".into(),
            kind: MeterKind::Balance,
            unit: "USD".into(),
        },
        remaining: total - used,
        limit: None,
        used: Some(used),
        reset: None,
        reset_at: None,
    }
}

/// OpenRouter resets key limits at midnight UTC; weeks start on Monday, months on the 1st.
fn next_reset(cycle: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let midnight = Utc
        .with_ymd_and_hms(now.year(), now.month(), now.day(), 0, 0, 0)
        .single()?;
    match cycle {
        "daily" => Some(midnight + Duration::days(1)),
        "weekly" => {
            Some(midnight + Duration::days(7 - i64::from(now.weekday().num_days_from_monday())))
        }
        "monthly" => {
            let (y, m) = if now.month() == 12 {
                (now.year() + 1, 1)
            } else {
                (now.year(), now.month() + 1)
            };
            Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documented_key_body_gives_the_key_limit() {
        let body = json!({"data": {"limit": 100, "limit_remaining": 74.5, "limit_reset": "monthly",
            "usage": 25.5, "usage_daily": 1.0, "usage_weekly": 5.0, "usage_monthly": 25.5}});
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
        let reading = parse_key(&body, now).unwrap().unwrap();
        assert_eq!(reading.remaining.to_string(), "74.5");
        assert_eq!(reading.limit.unwrap().to_string(), "100");
        assert_eq!(reading.used.unwrap().to_string(), "25.5");
        assert_eq!(
            reading.reset_at.unwrap().to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
    }

    #[test]
    fn key_usage_counters_give_the_limit_at_the_start_of_the_month_week_and_day() {
        // Thursday 26 November: the week began on Monday the 23rd.
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
        let body = |reset: Value| {
            json!({"data": {"limit": 100, "limit_remaining": 74.5, "limit_reset": reset,
                "usage": 25.5, "usage_daily": 1.0, "usage_weekly": 5.0, "usage_monthly": 25.5}})
        };
        let points: Vec<(String, String)> = key_history(&body(Value::Null), now)
            .into_iter()
            .map(|(at, r)| (at.format("%d %H:%M").to_string(), r.remaining.to_string()))
            .collect();
        let expected = [
            ("01 00:00", "100.0"),
            ("23 00:00", "79.5"),
            ("26 00:00", "75.5"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(points, expected);
        // A weekly limit was refilled on Monday: the month's start is before that and left out.
        let weekly: Vec<String> = key_history(&body(json!("weekly")), now)
            .into_iter()
            .map(|(at, _)| at.format("%d").to_string())
            .collect();
        assert_eq!(weekly, ["23", "26"]);
        // No limit, no key meter, no history.
        let unlimited = json!({"data": {"limit": null, "usage": 3, "usage_daily": 1}});
        assert!(key_history(&unlimited, now).is_empty());
    }

    #[test]
    fn unlimited_key_has_no_key_meter_and_broken_bodies_say_what_is_wrong() {
        let unlimited = json!({"data": {"limit": null, "limit_remaining": null, "usage": 3}});
        assert!(parse_key(&unlimited, Utc::now()).unwrap().is_none());
        let broken = json!({"data": {"limit": "a lot"}});
        assert!(parse_key(&broken, Utc::now())
            .unwrap_err()
            .contains("data.limit"));
        assert!(parse_credits(&json!({"nope": 1}))
            .unwrap_err()
            .contains("total_credits"));
    }

    #[test]
    fn activity_adds_a_day_up_exactly_and_names_what_is_wrong() {
        let body = json!({"data": [
            {"date": "2026-03-02", "model": "a", "usage": 0.1, "requests": 1},
            {"date": "2026-03-01", "model": "a", "usage": "1.05", "requests": 3},
            {"date": "2026-03-02 00:00:00", "model": "b", "usage": 0.2, "requests": 2},
        ]});
        let days = parse_activity(&body).unwrap();
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].day.to_string(), "2026-03-01");
        assert_eq!(days[0].amount, Decimal::new(105, 2));
        assert_eq!(days[1].amount, Decimal::new(3, 1));
        assert!(
            parse_activity(&json!({"data": [{"date": "soon", "usage": 1}]}))
                .unwrap_err()
                .contains("data.0.date")
        );
        assert!(parse_activity(&json!({"data": [{"date": "2026-03-01"}]}))
            .unwrap_err()
            .contains("data.0.usage"));
        assert!(parse_activity(&json!({"nope": []}))
            .unwrap_err()
            .contains("data"));
    }

    #[test]
    fn credits_history_adds_back_what_was_spent_since_each_day() {
        let now = Utc.with_ymd_and_hms(2026, 3, 4, 7, 30, 0).unwrap();
        let day = |d: u32, cents: i64| DailyCost {
            day: chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap(),
            amount: Decimal::new(cents, 2),
        };
        // Today's activity (a midnight passed while asking) is not after any completed day.
        let days = vec![day(2, 105), day(3, 30), day(4, 999)];
        let history = credits_history(
            Decimal::new(1005, 1),
            Decimal::new(2575, 2),
            Decimal::new(25, 2),
            &days,
            now,
        );
        assert_eq!(history.len(), 30);
        let (last_at, last) = &history[29];
        assert_eq!(last_at.to_rfc3339(), "2026-03-03T23:59:59+00:00");
        // 100.5 - 25.75 now, plus the 0.25 spent today.
        assert_eq!(last.remaining.to_string(), "75.00");
        assert_eq!(last.used.unwrap().to_string(), "25.50");
        assert_eq!(history[28].1.remaining.to_string(), "75.30");
        assert_eq!(history[27].1.remaining.to_string(), "76.35");
        assert_eq!(history[0].1.remaining.to_string(), "76.35");
        assert!(history.iter().all(|(_, r)| r.meter.name == "credits"));
    }

    #[test]
    fn credits_balance_is_exact() {
        let reading =
            parse_credits(&json!({"data": {"total_credits": 100.5, "total_usage": 25.75}}))
                .unwrap();
        assert_eq!(reading.remaining.to_string(), "74.75");
    }
}
