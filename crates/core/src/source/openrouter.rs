//! OpenRouter: `/api/v1/key` gives the key's spending limit, `/api/v1/credits` (management key
//! only) the account balance.

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::{
    get_json, not_an_endpoint, unreadable, HttpRunner, Keys, MeterKind, MeterSpec, PollFailure,
    PollOutcome, Reading, Source,
};
use crate::money::decimal_from_json;

const KIND: &str = "openrouter";
const KEY_PATH: &str = "/api/v1/key";
const CREDITS_PATH: &str = "/api/v1/credits";

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

/// The account balance: credits bought minus credits used.
pub fn parse_credits(body: &Value) -> Result<Reading, String> {
    let total = field(body, "/data/total_credits")?.ok_or("data.total_credits is null")?;
    let used = field(body, "/data/total_usage")?.unwrap_or_default();
    Ok(Reading {
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
    })
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
    fn credits_balance_is_exact() {
        let reading =
            parse_credits(&json!({"data": {"total_credits": 100.5, "total_usage": 25.75}}))
                .unwrap();
        assert_eq!(reading.remaining.to_string(), "74.75");
    }
}
