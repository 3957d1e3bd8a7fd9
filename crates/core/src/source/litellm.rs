//! LiteLLM proxy: budgets the proxy enforces. A virtual key (the source's key) reads its own budget
//! at `GET /key/info`. With the options `user_id` / `team_id`, the user's and team's budgets are
//! read at `GET /user/info` and `GET /team/info`, which LiteLLM opens only to the proxy's master
//! key: that key goes in the source's management key.
//!
//! Each budget is `spend` against `max_budget` in USD. A `max_budget` of null means LiteLLM never
//! refuses for spend, so there is nothing to run out and no meter. `budget_reset_at` is when the
//! spend goes back to zero; `budget_duration` ("30d") names the cycle.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::{
    api_root, get_json, not_an_endpoint, required_amount, unreadable, HttpRunner, Keys, MeterKind,
    MeterSpec, PollFailure, PollOutcome, ProviderOption, Reading, Source, SourceOptions,
};

const KIND: &str = "litellm";
const KEY_INFO_PATH: &str = "/key/info";
const USER_INFO_PATH: &str = "/user/info";
const TEAM_INFO_PATH: &str = "/team/info";

pub const OPTIONS: &[ProviderOption] = &[
    ProviderOption {
        name: "user_id",
        label: "User ID",
        help: "Also watch this LiteLLM user's budget (needs the proxy's master key as the management key)",
        required: false,
    },
    ProviderOption {
        name: "team_id",
        label: "Team ID",
        help: "Also watch this LiteLLM team's budget (needs the proxy's master key as the management key)",
        required: false,
    },
];

/// The three levels of budget Headroom reads, each from its own endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Key,
    User,
    Team,
}

impl Level {
    fn path(self) -> &'static str {
        match self {
            Level::Key => KEY_INFO_PATH,
            Level::User => USER_INFO_PATH,
            Level::Team => TEAM_INFO_PATH,
        }
    }

    /// Where the budget fields sit in the answer.
    fn object(self) -> &'static str {
        match self {
            Level::Key => "info",
            Level::User => "user_info",
            Level::Team => "team_info",
        }
    }

    fn meter(self) -> MeterSpec {
        let (name, label) = match self {
            Level::Key => ("key_budget", "Key budget"),
            Level::User => ("user_budget", "User budget"),
            Level::Team => ("team_budget", "Team budget"),
        };
        MeterSpec {
            name: name.into(),
            label: label.into(),
            kind: MeterKind::Budget,
            unit: "USD".into(),
        }
    }

    fn of_path(path: &str) -> Option<Level> {
        // Snapshots may carry the query (`/user/info?user_id=…`); the path alone decides.
        match path.split('?').next().unwrap_or_default() {
            KEY_INFO_PATH => Some(Level::Key),
            USER_INFO_PATH => Some(Level::User),
            TEAM_INFO_PATH => Some(Level::Team),
            _ => None,
        }
    }
}

pub struct LiteLlm {
    base_url: String,
    user_id: Option<String>,
    team_id: Option<String>,
}

impl LiteLlm {
    pub fn new(base_url: &str, options: &SourceOptions) -> Self {
        let id = |name: &str| {
            options
                .get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Self {
            // The management paths sit at the root; people paste the proxy's OpenAI URL (…/v1).
            base_url: api_root(base_url),
            user_id: id("user_id"),
            team_id: id("team_id"),
        }
    }

    /// One level's budget; `None` when it is unlimited.
    async fn read_level(
        &self,
        level: Level,
        path: &str,
        key: &str,
        http: &HttpRunner,
        keys: &Keys,
    ) -> Result<Option<Reading>, PollFailure> {
        let secrets = keys.secrets();
        let body = get_json(http, KIND, &self.base_url, path, key, &secrets).await?;
        parse_budget(level, &body).map_err(|problem| {
            unreadable(KIND, path, &problem, body.to_string().as_bytes(), &secrets)
        })
    }
}

#[async_trait]
impl Source for LiteLlm {
    async fn poll(&self, http: &HttpRunner, keys: &Keys) -> PollOutcome {
        let mut outcome = PollOutcome::default();
        let mut unlimited: Vec<String> = Vec::new();
        if let Some(key) = keys.key.as_deref() {
            match self
                .read_level(Level::Key, KEY_INFO_PATH, key, http, keys)
                .await
            {
                Ok(Some(reading)) => outcome.readings.push(reading),
                Ok(None) => unlimited.push("the key".into()),
                Err(failure) => outcome.failures.push(failure),
            }
        }
        let wanted = [
            (Level::User, "user_id", "user", self.user_id.as_deref()),
            (Level::Team, "team_id", "team", self.team_id.as_deref()),
        ];
        for (level, option, noun, id) in wanted {
            let Some(id) = id else { continue };
            let path = format!("{}?{option}={}", level.path(), query_value(id));
            let Some(master) = keys.management_key.as_deref() else {
                outcome.failures.push(PollFailure::without_answer(
                    level.path(),
                    format!(
                        "LiteLLM shows the {noun} {id}'s budget ({option}) only to the proxy's master key; set it as this source's management key."
                    ),
                ));
                continue;
            };
            match self.read_level(level, &path, master, http, keys).await {
                Ok(Some(reading)) => outcome.readings.push(reading),
                Ok(None) => unlimited.push(format!("the {noun} {id}")),
                Err(failure) => outcome.failures.push(failure),
            }
        }
        if outcome.readings.is_empty() && outcome.failures.is_empty() {
            let message = match unlimited.is_empty() {
                true => "No LiteLLM key is set and no user_id or team_id is given, so there is nothing to read. Set the virtual key, or the master key with a user_id or team_id.".to_string(),
                // A LiteLLM user the proxy has never heard of also comes back with no budget.
                false => format!(
                    "No max_budget is set for {}, so LiteLLM never refuses requests for spend and there is nothing to run out. Give it a max_budget, or watch the team's or user's budget (options team_id, user_id).",
                    unlimited.join(" or ")
                ),
            };
            outcome
                .failures
                .push(PollFailure::without_answer(KEY_INFO_PATH, message));
        }
        outcome
    }

    fn read_snapshot(
        &self,
        path: &str,
        body: &Value,
        _at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String> {
        match Level::of_path(path) {
            Some(level) => Ok(parse_budget(level, body)?.into_iter().collect()),
            None => Err(not_an_endpoint(
                "LiteLLM",
                path,
                &[KEY_INFO_PATH, USER_INFO_PATH, TEAM_INFO_PATH],
            )),
        }
    }
}

/// A budget meter from `/key/info`, `/user/info` or `/team/info`; `None` when `max_budget` is null
/// or absent (LiteLLM checks no budget then).
fn parse_budget(level: Level, body: &Value) -> Result<Option<Reading>, String> {
    let object = format!("/{}", level.object());
    if !body.get(level.object()).is_some_and(Value::is_object) {
        return Err(format!("the field {} is missing", level.object()));
    }
    let max_budget_pointer = format!("{object}/max_budget");
    let limit = match body.pointer(&max_budget_pointer) {
        None | Some(Value::Null) => return Ok(None),
        Some(_) => required_amount(body, &max_budget_pointer)?,
    };
    let spend = required_amount(body, &format!("{object}/spend"))?;
    let reset_at = match body.pointer(&format!("{object}/budget_reset_at")) {
        None | Some(Value::Null) => None,
        Some(v) => Some(timestamp(v).ok_or_else(|| {
            format!(
                "{}.budget_reset_at is not a date and time ({v})",
                level.object()
            )
        })?),
    };
    let reset = body
        .pointer(&format!("{object}/budget_duration"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Some(Reading {
        meter: level.meter(),
        // Spend can run past the budget before LiteLLM notices; nothing is left then, not less.
        remaining: (limit - spend).max(Decimal::ZERO),
        limit: Some(limit),
        used: Some(spend),
        reset,
        reset_at,
    }))
}

/// LiteLLM writes RFC 3339, but Python's `isoformat()` of a naive datetime (which LiteLLM means
/// as UTC) has no offset.
fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    let text = value.as_str()?.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// Ids are emails or UUIDs; anything but the unreserved characters is percent-encoded.
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documented_key_info_gives_the_key_budget_with_its_reset() {
        let body = json!({"key": "sk-x", "info": {"spend": 7.2e-05, "max_budget": 10.0,
            "budget_duration": "30d", "budget_reset_at": "2026-11-01T00:00:00Z"}});
        let reading = parse_budget(Level::Key, &body).unwrap().unwrap();
        assert_eq!(reading.meter.name, "key_budget");
        assert_eq!(reading.remaining.to_string(), "9.999928");
        assert_eq!(reading.limit.unwrap().to_string(), "10");
        assert_eq!(reading.used.unwrap().to_string(), "0.000072");
        assert_eq!(reading.reset.as_deref(), Some("30d"));
        assert_eq!(
            reading.reset_at.unwrap().to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
    }

    #[test]
    fn naive_reset_times_are_utc_and_overspend_leaves_nothing() {
        let body = json!({"team_info": {"spend": 60.5, "max_budget": 50,
            "budget_reset_at": "2026-11-01T00:00:00.123456"}});
        let reading = parse_budget(Level::Team, &body).unwrap().unwrap();
        assert!(reading.remaining.is_zero());
        assert_eq!(
            reading.reset_at.unwrap().to_rfc3339(),
            "2026-11-01T00:00:00.123456+00:00"
        );
    }

    #[test]
    fn no_max_budget_is_no_meter_and_broken_bodies_name_the_field() {
        let unlimited = json!({"user_info": {"spend": 2.5, "max_budget": null}});
        assert!(parse_budget(Level::User, &unlimited).unwrap().is_none());
        let unknown_user = json!({"user_id": "x", "user_info": {"spend": 0.0}});
        assert!(parse_budget(Level::User, &unknown_user).unwrap().is_none());
        let cases = [
            (
                Level::Key,
                json!({"detail": "x"}),
                "the field info is missing",
            ),
            (
                Level::Key,
                json!({"info": {"max_budget": "lots", "spend": 1}}),
                "info.max_budget is not a number",
            ),
            (
                Level::Team,
                json!({"team_info": {"max_budget": 5}}),
                "the field team_info.spend is missing",
            ),
            (
                Level::Key,
                json!({"info": {"max_budget": 5, "spend": 1, "budget_reset_at": "soon"}}),
                "info.budget_reset_at is not a date",
            ),
        ];
        for (level, body, expected) in cases {
            let problem = parse_budget(level, &body).unwrap_err();
            assert!(problem.contains(expected), "{problem}");
        }
    }

    #[test]
    fn ids_are_percent_encoded_in_the_query() {
        assert_eq!(query_value("krrish3@berri.ai"), "krrish3%40berri.ai");
        assert_eq!(query_value("a b&c"), "a%20b%26c");
    }
}
