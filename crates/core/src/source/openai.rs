//! OpenAI: the Admin API's `GET /v1/organization/costs` (money spent per UTC day, in cursor pages)
//! and `GET /v1/organization/spend_limit` (the organization's monthly hard limit, in cents). There
//! is no balance endpoint, so the meter is a monthly budget: the org's limit, or when it has none,
//! the `monthly_budget` the person gave, minus this calendar month's spend.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::spend::{
    backfill_costs_start, backfill_instants, budget_reading, merge_days, midnight, month_start,
    month_to_date, no_key, parse_cost_page, require_usd, CostPage, CostReport, DailyCost,
    KeyPlacement,
};
use super::{
    amount_option, api_root, fetch_failure, not_an_endpoint, status_failure, unreadable, Backfill,
    HttpRunner, Keys, PollFailure, PollOutcome, Progress, ProviderOption, Reading, Source,
    SourceOptions,
};
use crate::money::decimal_from_json;

const KIND: &str = "openai";
const LABEL: &str = "OpenAI";
pub const COSTS_PATH: &str = "/v1/organization/costs";
pub const SPEND_LIMIT_PATH: &str = "/v1/organization/spend_limit";
pub const OPTIONS: &[ProviderOption] = &[ProviderOption {
    name: "monthly_budget",
    label: "Monthly budget (USD)",
    help: "What to measure this month's spend against when the organization has no spend limit set in OpenAI. An org spend limit, when there is one, is used instead.",
    required: false,
}];
const COSTS: CostReport = CostReport {
    kind: KIND,
    label: LABEL,
    path: COSTS_PATH,
    key_placement: KeyPlacement::Bearer,
    start_param: "start_time",
    end_param: "end_time",
    write_time: |at| at.timestamp().to_string(),
    // A whole month fits in one page.
    page_days: 31,
    parse_page: parse_costs,
};

pub struct OpenAi {
    base_url: String,
    monthly_budget: Option<Decimal>,
}

impl OpenAi {
    pub fn new(base_url: &str, options: &SourceOptions) -> Result<Self, String> {
        Ok(Self {
            base_url: api_root(base_url),
            monthly_budget: amount_option(options, "monthly_budget")?,
        })
    }

    /// The org's spend limit, or `None` when it has none: OpenAI answers 404 then (and so does an
    /// API from before the endpoint existed).
    async fn spend_limit_body(
        &self,
        http: &HttpRunner,
        key: &str,
        secrets: &[&str],
    ) -> Result<Option<Value>, PollFailure> {
        let url = format!("{}{SPEND_LIMIT_PATH}", self.base_url);
        let response = http
            .get_bearer(&url, key)
            .await
            .map_err(|e| fetch_failure(SPEND_LIMIT_PATH, &e, secrets))?;
        match response.status {
            404 => Ok(None),
            200..=299 => serde_json::from_slice(&response.body)
                .map(Some)
                .map_err(|e| {
                    unreadable(
                        KIND,
                        SPEND_LIMIT_PATH,
                        &e.to_string(),
                        &response.body,
                        secrets,
                    )
                }),
            _ => Err(status_failure(KIND, SPEND_LIMIT_PATH, &response, secrets)),
        }
    }

    /// The limit spend is measured against: the org's own, else the person's budget.
    fn limit(&self, spend_limit: Option<Decimal>) -> Result<Decimal, String> {
        spend_limit.or(self.monthly_budget).ok_or_else(|| {
            "OpenAI reports no spend limit for this organization and no monthly budget was given, \
             so there is nothing to measure the spend against. Set a monthly budget \
             (--budget 100, option monthly_budget) or a spend limit in OpenAI's billing settings."
                .to_string()
        })
    }

    /// Reads the spend limit (if any) and the costs pages one poll fetched into the meter.
    fn read(&self, served: &[(String, Value)], at: DateTime<Utc>) -> Result<Vec<Reading>, String> {
        let mut spend_limit = None;
        let mut costs = Vec::new();
        let mut saw_costs = false;
        for (path, body) in served {
            match path.as_str() {
                SPEND_LIMIT_PATH => spend_limit = parse_spend_limit(body)?,
                COSTS_PATH => {
                    costs.extend(parse_costs(body)?.days);
                    saw_costs = true;
                }
                _ => {
                    return Err(not_an_endpoint(
                        LABEL,
                        path,
                        &[COSTS_PATH, SPEND_LIMIT_PATH],
                    ))
                }
            }
        }
        if !saw_costs {
            // A limit alone says nothing about what is left of it.
            return Ok(vec![]);
        }
        let limit = self.limit(spend_limit)?;
        Ok(vec![budget_reading(
            limit,
            month_to_date(&merge_days(costs), at),
            at,
        )])
    }
}

#[async_trait]
impl Source for OpenAi {
    async fn poll(&self, http: &HttpRunner, keys: &Keys) -> PollOutcome {
        let secrets = keys.secrets();
        let mut outcome = PollOutcome::default();
        let Some(key) = keys.key.as_deref() else {
            outcome.failures.push(no_key(COSTS_PATH, LABEL));
            return outcome;
        };
        let now = Utc::now();
        let mut served = Vec::new();
        match self.spend_limit_body(http, key, &secrets).await {
            Ok(Some(body)) => served.push((SPEND_LIMIT_PATH.to_string(), body)),
            Ok(None) => {}
            Err(failure) => {
                outcome.failures.push(failure);
                return outcome;
            }
        }
        let window = (month_start(now), None);
        match COSTS
            .pages(http, &self.base_url, key, &secrets, window, &|_, _| {})
            .await
        {
            Ok(pages) => served.extend(pages.into_iter().map(|p| (COSTS_PATH.to_string(), p))),
            Err(failure) => {
                outcome.failures.push(failure);
                return outcome;
            }
        }
        match self.read(&served, now) {
            Ok(readings) => outcome.readings = readings,
            Err(problem) => outcome
                .failures
                .push(PollFailure::without_answer(COSTS_PATH, problem)),
        }
        outcome
    }

    fn read_snapshot(
        &self,
        path: &str,
        body: &Value,
        at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String> {
        self.read(&[(path.to_string(), body.clone())], at)
    }

    fn read_snapshots(
        &self,
        served: &[(String, Value)],
        at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String> {
        self.read(served, at)
    }

    /// The last 30 days, one reading a day, each measured against the limit as it is now (the
    /// API keeps no history of the limit).
    async fn backfill(&self, http: &HttpRunner, keys: &Keys, progress: &Progress) -> Backfill {
        let secrets = keys.secrets();
        let mut backfill = Backfill::default();
        let Some(key) = keys.key.as_deref() else {
            backfill.failures.push(no_key(COSTS_PATH, LABEL));
            return backfill;
        };
        let now = Utc::now();
        let spend_limit = match self.spend_limit_body(http, key, &secrets).await {
            Ok(Some(body)) => parse_spend_limit(&body),
            Ok(None) => Ok(None),
            Err(failure) => {
                backfill.failures.push(failure);
                return backfill;
            }
        };
        let limit = match spend_limit.and_then(|l| self.limit(l)) {
            Ok(limit) => limit,
            Err(problem) => {
                backfill
                    .failures
                    .push(PollFailure::without_answer(SPEND_LIMIT_PATH, problem));
                return backfill;
            }
        };
        // Today is still running; the first poll reads it.
        let today = midnight(now.date_naive());
        let window = (backfill_costs_start(now), Some(today));
        let costs = match COSTS
            .daily_costs(http, &self.base_url, key, &secrets, window, progress)
            .await
        {
            Ok(costs) => costs,
            Err(failure) => {
                backfill.failures.push(failure);
                return backfill;
            }
        };
        backfill.history = backfill_instants(now)
            .into_iter()
            .map(|at| (at, budget_reading(limit, month_to_date(&costs, at), at)))
            .collect();
        backfill
    }
}

/// The org's monthly hard limit in dollars, or `None` when it is not being enforced.
///
/// `threshold_amount` is in cents; dividing an exact decimal by 100 keeps it exact.
pub fn parse_spend_limit(body: &Value) -> Result<Option<Decimal>, String> {
    if body.pointer("/enforcement/status").and_then(Value::as_str) == Some("inactive") {
        // A limit OpenAI does not enforce refuses nothing, so it is no cap to watch.
        return Ok(None);
    }
    let cents = match body.get("threshold_amount") {
        None | Some(Value::Null) => return Err("the field threshold_amount is missing".into()),
        Some(v) => decimal_from_json(v)
            .ok_or_else(|| format!("threshold_amount is not a number of cents ({v})"))?,
    };
    if let Some(currency) = body.get("currency").and_then(Value::as_str) {
        if !currency.eq_ignore_ascii_case("usd") {
            return Err(format!(
                "the spend limit is in {currency}; Headroom reads OpenAI amounts in USD"
            ));
        }
    }
    Ok(Some(cents / Decimal::ONE_HUNDRED))
}

/// One page of `/v1/organization/costs`: each bucket's results added up per UTC day.
pub fn parse_costs_page(body: &Value) -> Result<Vec<DailyCost>, String> {
    Ok(parse_costs(body)?.days)
}

fn parse_costs(body: &Value) -> Result<CostPage, String> {
    parse_cost_page(
        body,
        "start_time",
        |bucket| {
            bucket
                .get("start_time")
                .and_then(Value::as_i64)
                .and_then(|s| DateTime::from_timestamp(s, 0))
        },
        |result, field| {
            let value = result
                .pointer("/amount/value")
                .ok_or_else(|| format!("the field {field}.amount.value is missing"))?;
            let amount = decimal_from_json(value)
                .ok_or_else(|| format!("{field}.amount.value is not a number ({value})"))?;
            require_usd(
                result.pointer("/amount/currency"),
                &format!("{field}.amount"),
                LABEL,
            )?;
            Ok(amount)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spend_limit_cents_are_exact_dollars() {
        let body = json!({"object": "organization.spend_limit", "threshold_amount": 12345,
            "currency": "USD", "interval": "month", "enforcement": {"status": "enforcing"}});
        assert_eq!(
            parse_spend_limit(&body).unwrap(),
            Some(Decimal::new(12345, 2))
        );
        let inactive = json!({"threshold_amount": 100, "enforcement": {"status": "inactive"}});
        assert_eq!(parse_spend_limit(&inactive).unwrap(), None);
        assert!(parse_spend_limit(&json!({"currency": "USD"}))
            .unwrap_err()
            .contains("threshold_amount"));
    }

    #[test]
    fn documented_costs_page_reads_exactly() {
        let body = json!({"object": "page", "data": [{"object": "bucket", "start_time": 1730419200,
            "end_time": 1730505600, "results": [{"object": "organization.costs.result",
            "amount": {"value": 0.06, "currency": "usd"}, "line_item": null, "project_id": null}]}],
            "has_more": false, "next_page": null});
        let days = parse_costs_page(&body).unwrap();
        assert_eq!(days.len(), 1);
        assert_eq!(days[0].day.to_string(), "2024-11-01");
        assert_eq!(days[0].amount, Decimal::new(6, 2));
        assert!(parse_costs_page(&json!({"data": [{"start_time": 1}]}))
            .unwrap_err()
            .contains("data.0.results"));
    }
}
