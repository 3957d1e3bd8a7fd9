//! LiteLLM proxy: budgets the proxy enforces. A virtual key (the source's key) reads its own budget
//! at `GET /key/info`. With the options `user_id` / `team_id`, the user's and team's budgets are
//! read at `GET /user/info` and `GET /team/info`, which LiteLLM opens only to the proxy's master
//! key: that key goes in the source's management key.
//!
//! Each budget is `spend` against `max_budget` in USD. A `max_budget` of null means LiteLLM never
//! refuses for spend, so there is nothing to run out and no meter. `budget_reset_at` is when the
//! spend goes back to zero; `budget_duration` ("30d") names the cycle.
//!
//! After the budgets, the proxy's request log (`GET /spend/logs?summarize=false`) shows the
//! requests of every client that failed at the proxy in the last day: a budget exceeded there is
//! what the people behind the proxy run into, and it is seen nowhere else. Those failures are other
//! clients' requests, so they go to `PollOutcome::logged` and never mark this poll failing; each is
//! stored once, by LiteLLM's request id. Reading the log is a bonus: when it fails (an old proxy,
//! a key without access to spend routes) that becomes a notice, recorded once, and the budgets
//! read above still count.

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::http::redacted_excerpt;
use super::{
    api_root, get_json, not_an_endpoint, required_amount, unreadable, EventOrigin, Evidence,
    HttpRunner, Keys, MeterKind, MeterSpec, PollFailure, PollOutcome, ProviderOption, Reading,
    Source, SourceOptions,
};
use crate::classify::classify;

const KIND: &str = "litellm";
const KEY_INFO_PATH: &str = "/key/info";
const USER_INFO_PATH: &str = "/user/info";
const TEAM_INFO_PATH: &str = "/team/info";
const SPEND_LOGS_PATH: &str = "/spend/logs";
/// How far back each poll reads the request log. LiteLLM filters the log by whole days only, so
/// the query asks for the days around this window and the rows are cut to it here.
const LOG_WINDOW: Duration = Duration::hours(24);

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
            unreadable(KIND, path, &problem, body.to_string().as_bytes(), &secrets).requested(
                "GET",
                &format!("{}{path}", self.base_url),
                &secrets,
            )
        })
    }

    /// The requests that failed at the proxy since `now - LOG_WINDOW`, one failure each. The
    /// master key sees every client's; a virtual key at most its own.
    async fn failed_requests(
        &self,
        http: &HttpRunner,
        keys: &Keys,
        now: DateTime<Utc>,
    ) -> Result<Vec<PollFailure>, PollFailure> {
        let secrets = keys.secrets();
        let Some(key) = keys.management_key.as_deref().or(keys.key.as_deref()) else {
            return Ok(Vec::new());
        };
        let since = now - LOG_WINDOW;
        // end_date is read as midnight at its start, so tomorrow's date takes in all of today.
        let path = format!(
            "{SPEND_LOGS_PATH}?summarize=false&start_date={}&end_date={}",
            since.format("%Y-%m-%d"),
            (now + Duration::days(1)).format("%Y-%m-%d")
        );
        let unreadable_log = |mut failure: PollFailure| {
            failure.endpoint = SPEND_LOGS_PATH.to_string();
            failure.message = format!(
                "Headroom cannot read LiteLLM's request log ({SPEND_LOGS_PATH}), so requests that fail at the proxy are not shown; the budgets are still read. {}",
                failure.message
            );
            failure
        };
        let body = get_json(http, KIND, &self.base_url, &path, key, &secrets)
            .await
            .map_err(unreadable_log)?;
        let Some(rows) = body.as_array() else {
            return Err(unreadable_log(
                unreadable(
                    KIND,
                    SPEND_LOGS_PATH,
                    "it is not a list of requests",
                    body.to_string().as_bytes(),
                    &secrets,
                )
                .requested("GET", &format!("{}{path}", self.base_url), &secrets),
            ));
        };
        Ok(rows
            .iter()
            .filter_map(|row| failed_request(row, &self.base_url, &secrets))
            .filter(|f| f.evidence.occurred_at.is_none_or(|at| at >= since))
            .collect())
    }
}

/// A row of the request log as a failure, when the request failed. Only what the row says about
/// the failure is kept, redacted; the row itself (hashed key, user, tags) is not.
fn failed_request(row: &Value, base_url: &str, secrets: &[&str]) -> Option<PollFailure> {
    let text = |pointer: &str| {
        row.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
    };
    // Newer proxies have a status column; older ones only say it in the metadata.
    let failed = [text("/status"), text("/metadata/status")]
        .into_iter()
        .flatten()
        .any(|s| s.eq_ignore_ascii_case("failure"));
    if !failed {
        return None;
    }
    // Without LiteLLM's id the same request would come back at every poll as a new event.
    let request_id = text("/request_id")?;
    let error = |name: &str| text(&format!("/metadata/error_information/{name}"));
    let status = error("error_code")
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|code| (100..=599).contains(code));
    // Cut so that the stored excerpt (600 characters at most) stays whole JSON.
    let error_message: String = error("error_message")
        .unwrap_or("no error message was logged")
        .chars()
        .take(400)
        .collect();
    let error_class = error("error_class");
    // The answer the client got, in LiteLLM's own error envelope, so that the classifier reads
    // it the way it reads a refusal Headroom met itself.
    let budget = error_class.is_some_and(|c| c.to_ascii_lowercase().contains("budget"));
    let envelope = json!({"error": {
        "message": error_message,
        "type": if budget { Value::from("budget_exceeded") } else { Value::Null },
        "param": Value::Null,
        "code": status.map(|s| s.to_string()),
    }});
    let body = envelope.to_string();
    let classification = classify(KIND, status.unwrap_or(0), &[], body.as_bytes());
    let model = text("/model_group")
        .or_else(|| text("/model"))
        .unwrap_or("unnamed model");
    let call_type = text("/call_type");
    let route = call_type.and_then(route_of);
    let upstream = error("llm_provider")
        .map(|p| format!(" to {p}"))
        .unwrap_or_default();
    let answered = status.map_or("failed".to_string(), |s| format!("failed with {s}"));
    let failure = PollFailure {
        endpoint: route.or(call_type).unwrap_or_default().to_string(),
        status,
        message: format!(
            "{}: a request for {model} through LiteLLM{upstream} {answered}: {}",
            classification.title,
            redacted_excerpt(error_message.trim_end_matches('.').as_bytes(), secrets)
        ),
        excerpt: redacted_excerpt(body.as_bytes(), secrets),
        class: Some(classification.class),
        origin: EventOrigin::Gateway,
        evidence: Box::new(Evidence {
            occurred_at: text("/startTime").and_then(|t| timestamp(&Value::from(t))),
            // LiteLLM's own id (a UUID or chatcmpl-…), never a secret.
            external_id: Some(request_id.to_string()),
            ..Evidence::default()
        }),
    };
    Some(match route {
        Some(route) => failure.requested("POST", &format!("{base_url}{route}"), secrets),
        None => failure,
    })
}

/// The proxy route a logged `call_type` was called through (the client may have added `/v1`).
fn route_of(call_type: &str) -> Option<&'static str> {
    Some(match call_type {
        "completion" | "acompletion" => "/chat/completions",
        "text_completion" | "atext_completion" => "/completions",
        "embedding" | "aembedding" => "/embeddings",
        "image_generation" | "aimage_generation" => "/images/generations",
        "transcription" | "atranscription" => "/audio/transcriptions",
        "speech" | "aspeech" => "/audio/speech",
        "moderation" | "amoderation" => "/moderations",
        "rerank" | "arerank" => "/rerank",
        "responses" | "aresponses" => "/responses",
        "anthropic_messages" => "/v1/messages",
        _ => return None,
    })
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
        // A proxy that did not show a budget has its failure reported already; asking it for its
        // log would only say the same again.
        if !outcome.readings.is_empty() {
            match self.failed_requests(http, keys, Utc::now()).await {
                Ok(failed) => outcome.logged = failed,
                Err(problem) => outcome.notices.push(problem),
            }
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
    use crate::classify::FailureClass;

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

    /// A failed row as newer proxies log it (`status` column, `metadata.error_information`).
    fn failed_row(code: &str, class: &str, message: &str) -> Value {
        json!({
            "request_id": "chatcmpl-0001", "call_type": "acompletion",
            "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
            "spend": 0.0, "startTime": "2026-03-04T07:30:00.250000", "model": "gpt-4o-2024-08-06",
            "model_group": "gpt-4o", "user": "", "team_id": "team-a", "status": "failure",
            "metadata": {"status": "failure", "user_api_key": "88dc28d0f030c55ed4ab77ed",
                "error_information": {"error_code": code, "error_class": class,
                    "error_message": message, "llm_provider": ""}},
        })
    }

    #[test]
    fn a_logged_budget_refusal_becomes_a_gateway_failure_with_its_own_time_and_id() {
        let row = failed_row(
            "429",
            "BudgetExceededError",
            "Budget has been exceeded! Current cost: 186.0979088000002, Max budget: 100.0",
        );
        let failure = failed_request(&row, "http://gw:4000", &[]).expect("a failure");
        assert_eq!(failure.origin, EventOrigin::Gateway);
        assert_eq!(failure.status, Some(429));
        assert_eq!(failure.class, Some(FailureClass::BudgetExceeded));
        assert_eq!(
            failure.evidence.external_id.as_deref(),
            Some("chatcmpl-0001")
        );
        assert_eq!(
            failure.evidence.occurred_at.unwrap().to_rfc3339(),
            "2026-03-04T07:30:00.250+00:00"
        );
        assert_eq!(
            (
                failure.evidence.method.as_str(),
                failure.evidence.url.as_str()
            ),
            ("POST", "http://gw:4000/chat/completions")
        );
        assert_eq!(failure.endpoint, "/chat/completions");
        assert!(
            failure.message.starts_with("Budget exceeded: a request for gpt-4o through LiteLLM failed with 429: Budget has been exceeded!"),
            "{}",
            failure.message
        );
        // Only the answer the client got is kept: no hashed key, team or user.
        let excerpt: Value = serde_json::from_str(&failure.excerpt).unwrap();
        assert_eq!(excerpt["error"]["type"], "budget_exceeded");
        assert_eq!(excerpt["error"]["code"], "429");
        assert!(!failure.excerpt.contains("88dc28d0"), "{}", failure.excerpt);
    }

    #[test]
    fn successes_and_rows_without_an_id_are_not_failures_and_keys_in_messages_are_masked() {
        let mut success = failed_row("", "", "");
        success["status"] = json!("success");
        success["metadata"] = json!({"status": "success"});
        assert!(failed_request(&success, "http://gw:4000", &[]).is_none());
        let mut anonymous = failed_row("429", "RateLimitError", "Rate limit reached");
        anonymous.as_object_mut().unwrap().remove("request_id");
        assert!(failed_request(&anonymous, "http://gw:4000", &[]).is_none());
        // Older proxies say it only in the metadata.
        let mut older = failed_row(
            "401",
            "ProxyException",
            "Authentication Error, Invalid proxy server token passed. Received API Key = sk-live-abcdefgh12345",
        );
        older.as_object_mut().unwrap().remove("status");
        older["call_type"] = json!("some_new_call");
        let failure = failed_request(&older, "http://gw:4000", &[]).expect("a failure");
        assert_eq!(failure.class, Some(FailureClass::AuthInvalid));
        assert_eq!(
            (failure.endpoint.as_str(), failure.evidence.url.as_str()),
            ("some_new_call", "")
        );
        for text in [&failure.message, &failure.excerpt] {
            assert!(!text.contains("abcdefgh12345"), "{text}");
        }
    }

    #[test]
    fn ids_are_percent_encoded_in_the_query() {
        assert_eq!(query_value("krrish3@berri.ai"), "krrish3%40berri.ai");
        assert_eq!(query_value("a b&c"), "a%20b%26c");
    }
}
