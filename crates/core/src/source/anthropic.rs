//! Anthropic: the Admin API's `GET /v1/organizations/cost_report` says what was spent per UTC day,
//! as decimal strings in cents. No endpoint reveals the credit balance or a spend limit, so the
//! person gives one of:
//!
//! - `monthly_budget`: a Budget meter, the budget minus this calendar month's spend (UTC), reset
//!   on the 1st;
//! - `prepaid`: a Balance meter, the amount bought minus what was spent since `prepaid_since`
//!   (the day it was bought, `YYYY-MM-DD`). Without `prepaid_since` the spend is counted from the
//!   start of the cost history Anthropic serves, looking back at most [`PREPAID_LOOKBACK_DAYS`]
//!   days: right for an account that has only ever had this prepaid amount, and an overcount
//!   (so a too-low balance, the safe side) for one that topped up before.

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::spend::{
    backfill_costs_start, backfill_instants, budget_reading, merge_days, midnight, month_start,
    month_to_date, no_key, parse_cost_page, prepaid_reading, require_usd, spent_between, CostPage,
    CostReport, DailyCost, KeyPlacement,
};
use super::{
    amount_option, api_root, not_an_endpoint, Backfill, HttpRunner, Keys, PollFailure, PollOutcome,
    Progress, ProviderOption, Reading, Source, SourceOptions,
};
use crate::money::decimal_from_json;

const LABEL: &str = "Anthropic";
pub const COST_REPORT_PATH: &str = "/v1/organizations/cost_report";
const COST_REPORT: CostReport = CostReport {
    kind: "anthropic",
    label: LABEL,
    path: COST_REPORT_PATH,
    key_placement: KeyPlacement::Header {
        name: "x-api-key",
        with: &[("anthropic-version", "2023-06-01")],
    },
    start_param: "starting_at",
    end_param: "ending_at",
    write_time: |at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    page_days: 31,
    parse_page: parse_cost_report,
};
/// How far back spend is counted for a prepaid amount given without `prepaid_since`.
pub const PREPAID_LOOKBACK_DAYS: i64 = 365;

pub const OPTIONS: &[ProviderOption] = &[
    ProviderOption {
        name: "monthly_budget",
        label: "Monthly budget (USD)",
        help: "What to measure each calendar month's spend against. Give this or a prepaid amount.",
        required: false,
    },
    ProviderOption {
        name: "prepaid",
        label: "Prepaid credit (USD)",
        help: "The credit you bought; spend is drawn down from it. Give this or a monthly budget.",
        required: false,
    },
    ProviderOption {
        name: "prepaid_since",
        label: "Prepaid since (YYYY-MM-DD)",
        help: "The day you bought the prepaid credit; spend before it is not counted. Without it, all the spend Anthropic reports for the past year is.",
        required: false,
    },
];

/// What the spend is measured against.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Allowance {
    Monthly(Decimal),
    Prepaid {
        amount: Decimal,
        since: Option<NaiveDate>,
    },
}

pub struct Anthropic {
    base_url: String,
    allowance: Allowance,
}

impl Anthropic {
    pub fn new(base_url: &str, options: &SourceOptions) -> Result<Self, String> {
        let monthly = amount_option(options, "monthly_budget")?;
        let prepaid = amount_option(options, "prepaid")?;
        let since = match options
            .get("prepaid_since")
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(text) => Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                format!("prepaid_since must be a date like 2026-03-01, not \"{text}\"")
            })?),
        };
        let allowance = match (monthly, prepaid) {
            (Some(_), Some(_)) => {
                return Err("Anthropic takes a monthly budget (monthly_budget) or a prepaid amount (prepaid), not both: pick the one that matches how you pay".into())
            }
            (None, None) => {
                return Err("Anthropic's API reports spend but no balance or limit, so Headroom needs something to measure it against: a monthly budget (--budget 100) or the prepaid credit you bought (--prepaid 50)".into())
            }
            (Some(_), None) if since.is_some() => {
                return Err("prepaid_since goes with a prepaid amount (prepaid), not with a monthly budget".into())
            }
            (Some(budget), None) => Allowance::Monthly(budget),
            (None, Some(amount)) => Allowance::Prepaid { amount, since },
        };
        Ok(Self {
            base_url: api_root(base_url),
            allowance,
        })
    }

    /// The first day whose spend counts against the allowance for a reading at `at`.
    fn counted_from(&self, at: DateTime<Utc>) -> NaiveDate {
        match self.allowance {
            Allowance::Monthly(_) => month_start(at).date_naive(),
            Allowance::Prepaid {
                since: Some(since), ..
            } => since,
            Allowance::Prepaid { since: None, .. } => {
                (at - Duration::days(PREPAID_LOOKBACK_DAYS)).date_naive()
            }
        }
    }

    fn reading(&self, costs: &[DailyCost], at: DateTime<Utc>) -> Reading {
        match self.allowance {
            Allowance::Monthly(budget) => budget_reading(budget, month_to_date(costs, at), at),
            Allowance::Prepaid { amount, .. } => {
                prepaid_reading(amount, spent_between(costs, self.counted_from(at), at))
            }
        }
    }

    fn read(&self, served: &[(String, Value)], at: DateTime<Utc>) -> Result<Vec<Reading>, String> {
        let mut costs = Vec::new();
        for (path, body) in served {
            if path != COST_REPORT_PATH {
                return Err(not_an_endpoint(LABEL, path, &[COST_REPORT_PATH]));
            }
            costs.extend(parse_cost_report(body)?.days);
        }
        Ok(vec![self.reading(&merge_days(costs), at)])
    }
}

#[async_trait]
impl Source for Anthropic {
    async fn poll(&self, http: &HttpRunner, keys: &Keys) -> PollOutcome {
        let secrets = keys.secrets();
        let mut outcome = PollOutcome::default();
        let Some(key) = keys.key.as_deref() else {
            outcome.failures.push(no_key(COST_REPORT_PATH, LABEL));
            return outcome;
        };
        let now = Utc::now();
        let window = (midnight(self.counted_from(now)), None);
        match COST_REPORT
            .pages(http, &self.base_url, key, &secrets, window, &|_, _| {})
            .await
        {
            Ok(pages) => {
                let served: Vec<(String, Value)> = pages
                    .into_iter()
                    .map(|p| (COST_REPORT_PATH.to_string(), p))
                    .collect();
                match self.read(&served, now) {
                    Ok(readings) => outcome.readings = readings,
                    Err(problem) => outcome
                        .failures
                        .push(PollFailure::without_answer(COST_REPORT_PATH, problem)),
                }
            }
            Err(failure) => outcome.failures.push(failure),
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

    /// The last 30 days, one reading a day.
    async fn backfill(&self, http: &HttpRunner, keys: &Keys, progress: &Progress) -> Backfill {
        let secrets = keys.secrets();
        let mut backfill = Backfill::default();
        let Some(key) = keys.key.as_deref() else {
            backfill.failures.push(no_key(COST_REPORT_PATH, LABEL));
            return backfill;
        };
        let now = Utc::now();
        let instants = backfill_instants(now);
        let start = match instants.first() {
            Some(first) => midnight(self.counted_from(*first)).min(backfill_costs_start(now)),
            None => return backfill,
        };
        // Today is still running; the first poll reads it.
        let window = (start, Some(midnight(now.date_naive())));
        let costs = match COST_REPORT
            .daily_costs(http, &self.base_url, key, &secrets, window, progress)
            .await
        {
            Ok(costs) => costs,
            Err(failure) => {
                backfill.failures.push(failure);
                return backfill;
            }
        };
        backfill.history = instants
            .into_iter()
            .map(|at| (at, self.reading(&costs, at)))
            .collect();
        backfill
    }
}

/// One page of the cost report, per UTC day in dollars. Amounts are decimal strings in cents
/// ("123.45" is $1.2345), read exactly.
pub fn parse_cost_report_page(body: &Value) -> Result<Vec<DailyCost>, String> {
    Ok(parse_cost_report(body)?.days)
}

fn parse_cost_report(body: &Value) -> Result<CostPage, String> {
    parse_cost_page(
        body,
        "starting_at",
        |bucket| {
            bucket
                .get("starting_at")
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.to_utc())
        },
        |result, field| {
            let amount = result
                .get("amount")
                .ok_or_else(|| format!("the field {field}.amount is missing"))?;
            let cents = decimal_from_json(amount)
                .ok_or_else(|| format!("{field}.amount is not a number of cents ({amount})"))?;
            require_usd(result.get("currency"), field, LABEL)?;
            Ok(cents / Decimal::ONE_HUNDRED)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(pairs: &[(&str, &str)]) -> SourceOptions {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn documented_cents_string_is_exact_dollars() {
        let body = json!({"data": [{"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z",
            "results": [{"currency": "USD", "amount": "123.78912"}, {"currency": "USD", "amount": "0.00088"}]}],
            "has_more": true, "next_page": "page_MjAyNS0wNS0xNFQwMDowMDowMFo="});
        let page = parse_cost_report(&body).unwrap();
        assert_eq!(page.days[0].amount, Decimal::new(1237900, 6));
        assert_eq!(
            page.next_page.as_deref(),
            Some("page_MjAyNS0wNS0xNFQwMDowMDowMFo=")
        );
    }

    #[test]
    fn exactly_one_allowance_is_required_in_words() {
        let err =
            |pairs: &[(&str, &str)]| Anthropic::new("http://x", &options(pairs)).err().unwrap();
        assert!(
            err(&[]).contains("monthly budget (--budget 100)"),
            "{}",
            err(&[])
        );
        assert!(err(&[("monthly_budget", "10"), ("prepaid", "5")]).contains("not both"));
        assert!(err(&[("prepaid", "5"), ("prepaid_since", "March")]).contains("2026-03-01"));
        assert!(
            err(&[("monthly_budget", "5"), ("prepaid_since", "2026-03-01")])
                .contains("prepaid_since")
        );
        assert!(Anthropic::new(
            "http://x",
            &options(&[("prepaid", "5"), ("prepaid_since", "2026-03-01")])
        )
        .is_ok());
    }
}
