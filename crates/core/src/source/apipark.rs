//! APIPark: an AI gateway whose console API shows each upstream provider key's `status` and the
//! gateway's token use. It holds no money and sets no per-key budget; what runs out is the quota
//! of the provider accounts behind its keys. When the gateway reports "quota exhausted" for a key,
//! APIPark marks it `exceeded` and sends the traffic to the provider's other keys.
//!
//! How that is represented:
//! - `usable_keys` (budget, unit `keys`): the provider's keys in status `normal`, of all its keys.
//!   It falls as keys are exceeded, expire or are disabled; at 0 no key is left to fall back to.
//! - every `exceeded` key is also a notice classified `budget_exceeded`, naming the key, so the
//!   person sees which one and what to do. It is stored as an event when it first appears; the
//!   poll itself worked, so the source is not marked failing.
//! - `monthly_tokens` (budget, unit `tokens`), only with the option `monthly_token_budget`: the
//!   tokens every AI API used this calendar month (UTC), from the monitor chart, against that
//!   budget. APIPark has no token cap of its own to read, as Anthropic has no spend cap.
//!
//! Both endpoints are console endpoints behind the login session, a cookie: the source's key is
//! the `Cookie` header the browser sends to the console (`name=value`), sent as it is.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::spend::{month_start, next_month_start};
use super::{
    amount_option, fetch_failure, json_body, not_an_endpoint, required_amount, status_failure,
    unreadable, HttpRunner, Keys, MeterKind, MeterSpec, PollFailure, PollOutcome, ProviderOption,
    Reading, Source, SourceOptions,
};
use crate::classify::FailureClass;

const KIND: &str = "apipark";
const KEYS_PATH: &str = "/api/v1/ai/resource/keys";
const CHART_PATH: &str = "/api/v1/monitor/overview/chart/ai";
/// Keys per page; a provider with more is read page by page.
const PAGE_SIZE: usize = 100;
/// Enough pages for any gateway, and a stop for one whose `total` never adds up.
const MAX_PAGES: usize = 20;
/// The console's frontend sends it with every call.
const NAMESPACE: (&str, &str) = ("namespace", "default");

pub const OPTIONS: &[ProviderOption] = &[
    ProviderOption {
        name: "provider",
        label: "Upstream provider",
        help: "APIPark's id of the AI provider whose keys to watch, as in the console (e.g. openai)",
        required: true,
    },
    ProviderOption {
        name: "monthly_token_budget",
        label: "Monthly token budget",
        help: "Also watch the tokens all AI APIs use each month against this many (APIPark sets no token cap itself)",
        required: false,
    },
];

pub struct ApiPark {
    base_url: String,
    provider: String,
    monthly_token_budget: Option<Decimal>,
}

impl ApiPark {
    pub fn new(base_url: &str, options: &SourceOptions) -> Result<Self, String> {
        let provider = options
            .get("provider")
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .ok_or("APIPark needs the upstream provider whose keys to watch (provider)")?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            provider,
            monthly_token_budget: amount_option(options, "monthly_token_budget")?,
        })
    }

    async fn get(
        &self,
        http: &HttpRunner,
        path: &str,
        query: &str,
        cookie: &str,
        secrets: &[&str],
    ) -> Result<Value, PollFailure> {
        let url = format!("{}{path}?{query}", self.base_url);
        let response = http
            .get_with_key_header(&url, "cookie", cookie, &[NAMESPACE])
            .await
            .map_err(|e| fetch_failure(path, &e, secrets))?;
        if !(200..300).contains(&response.status) {
            let mut failure = status_failure(KIND, path, &response, secrets);
            if response.status == 401 {
                failure.message.push_str(
                    ": the console session has ended; log in to APIPark again and copy the new Cookie header as this source's key",
                );
            }
            return Err(failure);
        }
        let body = json_body(KIND, path, &response, secrets)?;
        data(&body)
            .map(|_| body.clone())
            .map_err(|problem| PollFailure {
                endpoint: path.to_string(),
                status: Some(response.status),
                message: format!("APIPark refused {path}: {problem}"),
                excerpt: super::http::redacted_excerpt(&response.body, secrets),
                ..super::evidence_of(&response, secrets)
            })
    }

    /// Every key of the provider, page by page.
    async fn all_keys(
        &self,
        http: &HttpRunner,
        cookie: &str,
        secrets: &[&str],
    ) -> Result<Value, PollFailure> {
        let mut keys: Vec<Value> = Vec::new();
        let mut total = 0;
        for page in 1..=MAX_PAGES {
            let query = format!(
                "provider={}&page={page}&page_size={PAGE_SIZE}",
                query_value(&self.provider)
            );
            let body = self.get(http, KEYS_PATH, &query, cookie, secrets).await?;
            let listed = body
                .pointer("/data/keys")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            total = body
                .pointer("/data/total")
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize;
            let last = listed.len() < PAGE_SIZE;
            keys.extend(listed);
            if last || keys.len() >= total {
                break;
            }
        }
        Ok(serde_json::json!({"code": 0, "data": {"keys": keys, "total": total}}))
    }

    fn usable_keys(&self, body: &Value) -> Result<(Reading, Vec<Exceeded>), String> {
        let keys = parse_keys(body)?;
        if keys.is_empty() {
            return Err(format!(
                "APIPark lists no keys for the provider \"{}\"; is the provider option APIPark's id for it?",
                self.provider
            ));
        }
        let usable = keys.iter().filter(|k| k.status == "normal").count();
        let exceeded = keys
            .iter()
            .filter(|k| k.status == "exceeded")
            .map(|k| Exceeded {
                name: k.name.clone(),
                used: k.used,
            })
            .collect();
        let all = Decimal::from(keys.len());
        let reading = Reading {
            meter: MeterSpec {
                name: "usable_keys".into(),
                label: format!("Usable {} keys", self.provider),
                kind: MeterKind::Budget,
                unit: "keys".into(),
            },
            remaining: Decimal::from(usable),
            limit: Some(all),
            used: Some(all - Decimal::from(usable)),
            reset: None,
            reset_at: None,
        };
        Ok((reading, exceeded))
    }

    fn monthly_tokens(&self, body: &Value, at: DateTime<Utc>) -> Result<Option<Reading>, String> {
        let Some(budget) = self.monthly_token_budget else {
            return Ok(None);
        };
        data(body)?;
        let used = required_amount(body, "/data/overview/token_total")?;
        Ok(Some(Reading {
            meter: MeterSpec {
                name: "monthly_tokens".into(),
                label: "Tokens this month".into(),
                kind: MeterKind::Budget,
                unit: "tokens".into(),
            },
            remaining: (budget - used).max(Decimal::ZERO),
            limit: Some(budget),
            used: Some(used),
            reset: Some("monthly".into()),
            reset_at: Some(next_month_start(at)),
        }))
    }

    /// What an exceeded key means and what to do about it, in words.
    fn exceeded_failure(&self, key: &Exceeded) -> PollFailure {
        let provider = &self.provider;
        PollFailure {
            endpoint: KEYS_PATH.to_string(),
            status: None,
            message: format!(
                "APIPark key {} is exceeded: the {provider} account behind it ran out of quota after {} tokens, and APIPark now sends its traffic to the other {provider} keys. Top up or raise the quota at {provider}, then enable the key again in APIPark.",
                key.name, key.used
            ),
            class: Some(FailureClass::BudgetExceeded),
            ..PollFailure::default()
        }
    }
}

#[derive(Debug)]
struct Exceeded {
    name: String,
    used: Decimal,
}

struct UpstreamKey {
    name: String,
    status: String,
    used: Decimal,
}

/// The envelope's `data`, when `code` says success.
fn data(body: &Value) -> Result<&Value, String> {
    match body.get("code").and_then(Value::as_i64) {
        Some(0) => body
            .get("data")
            .filter(|d| d.is_object())
            .ok_or_else(|| "the field data is missing".to_string()),
        Some(code) => {
            let said = body
                .get("msg")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            Err(format!("APIPark answered code {code}: {said}"))
        }
        None => Err("the field code is missing".into()),
    }
}

fn parse_keys(body: &Value) -> Result<Vec<UpstreamKey>, String> {
    data(body)?;
    let listed = body
        .pointer("/data/keys")
        .ok_or("the field data.keys is missing")?
        .as_array()
        .ok_or("data.keys is not a list")?;
    listed
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let status = key
                .get("status")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("data.keys.{i}.status is missing"))?;
            let name = key
                .get("name")
                .or_else(|| key.get("id"))
                .and_then(Value::as_str)
                .unwrap_or("(unnamed)");
            let used = required_amount(key, "/use_token")
                .map_err(|problem| format!("data.keys.{i}: {problem}"))?;
            Ok(UpstreamKey {
                name: name.to_string(),
                status: status.to_string(),
                used,
            })
        })
        .collect()
}

#[async_trait]
impl Source for ApiPark {
    async fn poll(&self, http: &HttpRunner, keys: &Keys) -> PollOutcome {
        let secrets = keys.secrets();
        let mut outcome = PollOutcome::default();
        let Some(cookie) = keys.key.as_deref() else {
            outcome.failures.push(PollFailure::without_answer(
                KEYS_PATH,
                "APIPark's console API opens only to a logged-in session: set the Cookie header your browser sends to the console as this source's key.".into(),
            ));
            return outcome;
        };
        match self.all_keys(http, cookie, &secrets).await {
            Ok(body) => match self.usable_keys(&body) {
                Ok((reading, exceeded)) => {
                    outcome.readings.push(reading);
                    outcome
                        .notices
                        .extend(exceeded.iter().map(|k| self.exceeded_failure(k)));
                }
                Err(problem) => outcome.failures.push(unreadable(
                    KIND,
                    KEYS_PATH,
                    &problem,
                    body.to_string().as_bytes(),
                    &secrets,
                )),
            },
            Err(failure) => outcome.failures.push(failure),
        }
        if self.monthly_token_budget.is_some() {
            let now = Utc::now();
            let query = format!(
                "start={}&end={}",
                month_start(now).timestamp(),
                now.timestamp()
            );
            match self.get(http, CHART_PATH, &query, cookie, &secrets).await {
                Ok(body) => match self.monthly_tokens(&body, now) {
                    Ok(reading) => outcome.readings.extend(reading),
                    Err(problem) => outcome.failures.push(unreadable(
                        KIND,
                        CHART_PATH,
                        &problem,
                        body.to_string().as_bytes(),
                        &secrets,
                    )),
                },
                Err(failure) => outcome.failures.push(failure),
            }
        }
        outcome
    }

    fn read_snapshot(
        &self,
        path: &str,
        body: &Value,
        at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String> {
        match path.split('?').next().unwrap_or_default() {
            KEYS_PATH => Ok(vec![self.usable_keys(body)?.0]),
            CHART_PATH => Ok(self.monthly_tokens(body, at)?.into_iter().collect()),
            _ => Err(not_an_endpoint("APIPark", path, &[KEYS_PATH, CHART_PATH])),
        }
    }
}

/// Provider ids are plain words, but anything else is percent-encoded all the same.
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

    fn source(budget: Option<&str>) -> ApiPark {
        let mut options = SourceOptions::from([("provider".to_string(), "openai".to_string())]);
        if let Some(budget) = budget {
            options.insert("monthly_token_budget".into(), budget.into());
        }
        ApiPark::new("http://127.0.0.1:18288/", &options).unwrap()
    }

    fn fixture(name: &str) -> Value {
        let text = match name {
            "keys" => include_str!("../../../sim/fixtures/apipark.ai-resource-keys.json"),
            _ => include_str!("../../../sim/fixtures/apipark.monitor-chart-ai.json"),
        };
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn documented_keys_give_one_usable_key_of_two_and_name_the_exceeded_one() {
        let source = source(None);
        let (reading, exceeded) = source.usable_keys(&fixture("keys")).unwrap();
        assert_eq!(reading.meter.name, "usable_keys");
        assert_eq!(
            (reading.remaining, reading.limit),
            (Decimal::ONE, Some(Decimal::TWO))
        );
        assert_eq!(reading.meter.unit, "keys");
        assert_eq!(exceeded.len(), 1);
        let failure = source.exceeded_failure(&exceeded[0]);
        assert_eq!(failure.class, Some(FailureClass::BudgetExceeded));
        assert!(
            failure.message.contains("openai-main is exceeded"),
            "{}",
            failure.message
        );
        assert!(
            failure.message.contains("1834221 tokens"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn documented_chart_is_the_month_so_far_against_the_budget() {
        let at = DateTime::parse_from_rfc3339("2025-10-20T10:00:00Z")
            .unwrap()
            .to_utc();
        let reading = source(Some("100000"))
            .monthly_tokens(&fixture("chart"), at)
            .unwrap()
            .unwrap();
        assert_eq!(reading.used, Some(Decimal::from(45_000)));
        assert_eq!(reading.remaining, Decimal::from(55_000));
        assert_eq!(reading.meter.unit, "tokens");
        assert_eq!(
            reading.reset_at.unwrap().to_rfc3339(),
            "2025-11-01T00:00:00+00:00"
        );
        assert!(source(None)
            .monthly_tokens(&fixture("chart"), at)
            .unwrap()
            .is_none());
    }

    #[test]
    fn refusals_and_broken_bodies_say_what_is_wrong() {
        let source = source(None);
        let cases = [
            (
                json!({"code": -8, "msg": "invalid token"}),
                "code -8: invalid token",
            ),
            (
                json!({"code": 0, "data": {"total": 0}}),
                "data.keys is missing",
            ),
            (
                json!({"code": 0, "data": {"keys": [], "total": 0}}),
                "no keys for the provider \"openai\"",
            ),
            (
                json!({"code": 0, "data": {"keys": [{"name": "a", "status": "normal"}]}}),
                "data.keys.0: the field use_token is missing",
            ),
        ];
        for (body, expected) in cases {
            let problem = source.usable_keys(&body).unwrap_err();
            assert!(problem.contains(expected), "{problem}");
        }
        let no_provider = ApiPark::new("http://x", &SourceOptions::new())
            .err()
            .unwrap();
        assert!(no_provider.contains("provider"), "{no_provider}");
    }
}
