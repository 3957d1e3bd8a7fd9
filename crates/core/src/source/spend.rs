//! What the spend-reporting sources (OpenAI, Anthropic) share. Their APIs say what was spent per
//! UTC day, never what is left, so the meter is the spend measured against a monthly budget (the
//! provider's own limit or the person's) or drawn down from a prepaid amount they entered.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::{
    fetch_failure, status_failure, unreadable, HttpRunner, MeterKind, MeterSpec, PollFailure,
    Progress, Reading,
};

/// How many past days a backfill fills in.
pub const BACKFILL_DAYS: i64 = 30;
/// More pages than this means the provider keeps paging the same days; stop rather than loop.
pub(crate) const MAX_PAGES: usize = 24;

/// What was spent in one UTC day (all results of its bucket added up), in USD.
#[derive(Clone, Debug, PartialEq)]
pub struct DailyCost {
    pub day: NaiveDate,
    pub amount: Decimal,
}

/// One page of a cost report: its days, and the cursor of the next page if there is one.
pub(crate) struct CostPage {
    pub days: Vec<DailyCost>,
    pub next_page: Option<String>,
}

/// Where a cost report request carries the key.
pub(crate) enum KeyPlacement {
    Bearer,
    /// In a header of its own, next to the headers the provider requires alongside it.
    Header {
        name: &'static str,
        with: &'static [(&'static str, &'static str)],
    },
}

/// What tells one provider's paged daily cost report from the other's. Paging by cursor,
/// progress, the page cap and the failures in words are the same for both.
pub(crate) struct CostReport {
    pub kind: &'static str,
    pub label: &'static str,
    pub path: &'static str,
    pub key_placement: KeyPlacement,
    /// The query parameters that bound the window, and how a time is written in them.
    pub start_param: &'static str,
    pub end_param: &'static str,
    pub write_time: fn(DateTime<Utc>) -> String,
    /// The most days one page holds.
    pub page_days: i64,
    pub parse_page: fn(&Value) -> Result<CostPage, String>,
}

impl CostReport {
    /// Every page from `start` (to `end`, or up to now), calling `progress` after each.
    pub(crate) async fn pages(
        &self,
        http: &HttpRunner,
        base_url: &str,
        key: &str,
        secrets: &[&str],
        (start, end): (DateTime<Utc>, Option<DateTime<Utc>>),
        progress: &Progress,
    ) -> Result<Vec<Value>, PollFailure> {
        let (kind, path) = (self.kind, self.path);
        let mut expected = pages_for(start, end.unwrap_or_else(Utc::now), self.page_days);
        let mut bodies = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = vec![
                (self.start_param, (self.write_time)(start)),
                ("bucket_width", "1d".to_string()),
                ("limit", self.page_days.to_string()),
            ];
            params.extend(end.map(|e| (self.end_param, (self.write_time)(e))));
            params.extend(cursor.take().map(|c| ("page", c)));
            let url = reqwest::Url::parse_with_params(&format!("{base_url}{path}"), &params)
                .map_err(|e| {
                    PollFailure::without_answer(path, format!("the base URL is not usable: {e}"))
                })?;
            let response = match self.key_placement {
                KeyPlacement::Bearer => http.get_bearer(url.as_str(), key).await,
                KeyPlacement::Header { name, with } => {
                    http.get_with_key_header(url.as_str(), name, key, with)
                        .await
                }
            }
            .map_err(|e| fetch_failure(path, &e, secrets))?;
            if !(200..300).contains(&response.status) {
                return Err(status_failure(kind, path, &response, secrets));
            }
            let body: Value = serde_json::from_slice(&response.body)
                .map_err(|e| unreadable(kind, path, &e.to_string(), &response.body, secrets))?;
            let next = (self.parse_page)(&body)
                .map_err(|problem| unreadable(kind, path, &problem, &response.body, secrets))?
                .next_page;
            bodies.push(body);
            expected = expected.max(bodies.len() + usize::from(next.is_some()));
            progress(bodies.len(), expected);
            match next {
                None => return Ok(bodies),
                Some(_) if bodies.len() >= MAX_PAGES => {
                    return Err(PollFailure::without_answer(
                        path,
                        format!(
                            "{} kept sending more pages of costs after {MAX_PAGES}; Headroom stopped asking.",
                            self.label
                        ),
                    ))
                }
                Some(next) => cursor = Some(next),
            }
        }
    }

    /// The window's spend per day, for a backfill: every page fetched, then read and added up.
    pub(crate) async fn daily_costs(
        &self,
        http: &HttpRunner,
        base_url: &str,
        key: &str,
        secrets: &[&str],
        window: (DateTime<Utc>, Option<DateTime<Utc>>),
        progress: &Progress,
    ) -> Result<Vec<DailyCost>, PollFailure> {
        let pages = self
            .pages(http, base_url, key, secrets, window, progress)
            .await?;
        daily_costs(&pages, self.parse_page)
            .map_err(|problem| PollFailure::without_answer(self.path, problem))
    }
}

/// Reads one page of daily cost buckets in the shape OpenAI's and Anthropic's cost APIs share:
/// `{"data": [{<start>, "results": [..]}], "has_more", "next_page"}`. `bucket_start` reads a
/// bucket's start (named `start_field` in messages); `result_usd` reads one result's amount in USD
/// from the field path it is given, refusing another currency.
pub(crate) fn parse_cost_page(
    body: &Value,
    start_field: &str,
    bucket_start: impl Fn(&Value) -> Option<DateTime<Utc>>,
    result_usd: impl Fn(&Value, &str) -> Result<Decimal, String>,
) -> Result<CostPage, String> {
    let buckets = body
        .get("data")
        .ok_or("the field data is missing")?
        .as_array()
        .ok_or("data is not a list")?;
    let mut days = Vec::with_capacity(buckets.len());
    for (i, bucket) in buckets.iter().enumerate() {
        let start = bucket_start(bucket)
            .ok_or_else(|| format!("data.{i}.{start_field} is missing or not a time"))?;
        let results = bucket
            .get("results")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("data.{i}.results is not a list"))?;
        let mut amount = Decimal::ZERO;
        for (j, result) in results.iter().enumerate() {
            amount += result_usd(result, &format!("data.{i}.results.{j}"))?;
        }
        days.push(DailyCost {
            day: start.date_naive(),
            amount,
        });
    }
    let has_more = body
        .get("has_more")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let next_page = body
        .get("next_page")
        .and_then(Value::as_str)
        .filter(|p| has_more && !p.is_empty())
        .map(str::to_string);
    Ok(CostPage { days, next_page })
}

/// Refuses a cost result in another currency than USD rather than add it to dollars; naming no
/// currency means USD. `owner` is the field the currency belongs to, as the refusal names it.
pub(crate) fn require_usd(
    currency: Option<&Value>,
    owner: &str,
    label: &str,
) -> Result<(), String> {
    let currency = currency.and_then(Value::as_str).unwrap_or("USD");
    match currency.eq_ignore_ascii_case("usd") {
        true => Ok(()),
        false => Err(format!(
            "{owner} is in {currency}; Headroom reads {label} costs in USD"
        )),
    }
}

pub(crate) fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

pub(crate) fn month_start(at: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(at.year(), at.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(at)
}

/// Spend limits and budgets reset at 00:00 UTC on the 1st.
pub(crate) fn next_month_start(at: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = match at.month() {
        12 => (at.year() + 1, 1),
        m => (at.year(), m + 1),
    };
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(at)
}

/// Spend in the UTC days from `first` through `at`'s day.
pub(crate) fn spent_between(costs: &[DailyCost], first: NaiveDate, at: DateTime<Utc>) -> Decimal {
    let last = at.date_naive();
    costs
        .iter()
        .filter(|c| c.day >= first && c.day <= last)
        .map(|c| c.amount)
        .sum()
}

/// Spend in `at`'s calendar month so far: a new month starts from nothing.
pub(crate) fn month_to_date(costs: &[DailyCost], at: DateTime<Utc>) -> Decimal {
    spent_between(costs, month_start(at).date_naive(), at)
}

/// The monthly budget meter: what is left of `limit` this month.
pub(crate) fn budget_reading(limit: Decimal, spent: Decimal, at: DateTime<Utc>) -> Reading {
    Reading {
        meter: MeterSpec {
            name: "monthly_budget".into(),
            label: "Monthly budget".into(),
            kind: MeterKind::Budget,
            unit: "USD".into(),
        },
        // Spend can overshoot a cap a little before the provider stops it; nothing is left then.
        remaining: (limit - spent).max(Decimal::ZERO),
        limit: Some(limit),
        used: Some(spent),
        reset: Some("monthly".into()),
        reset_at: Some(next_month_start(at)),
    }
}

/// The prepaid meter: what is left of the amount bought after what was spent since.
pub(crate) fn prepaid_reading(prepaid: Decimal, spent: Decimal) -> Reading {
    Reading {
        meter: MeterSpec {
            name: "prepaid".into(),
            label: "Prepaid credit".into(),
            kind: MeterKind::Balance,
            unit: "USD".into(),
        },
        remaining: (prepaid - spent).max(Decimal::ZERO),
        limit: None,
        used: Some(spent),
        reset: None,
        reset_at: None,
    }
}

/// The complete days of the last [`BACKFILL_DAYS`] before `now`, oldest first, each with the
/// instant its spend was all in: one second before its midnight, so it still counts in its own
/// month when it is a month's last day.
pub(crate) fn backfill_instants(now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let today = now.date_naive();
    (1..=BACKFILL_DAYS)
        .rev()
        .map(|ago| midnight(today - Duration::days(ago - 1)) - Duration::seconds(1))
        .collect()
}

/// Where a backfill must start asking for costs: early enough that the month of its first day is
/// complete, so month-to-date sums are right from the first reading.
pub(crate) fn backfill_costs_start(now: DateTime<Utc>) -> DateTime<Utc> {
    month_start(now - Duration::days(BACKFILL_DAYS))
}

/// How many pages of `page_days` days cover `from` up to `until`.
pub(crate) fn pages_for(from: DateTime<Utc>, until: DateTime<Utc>, page_days: i64) -> usize {
    let days = (until - from).num_days().max(1);
    usize::try_from((days + page_days - 1) / page_days).unwrap_or(1)
}

/// Reads every fetched page with the provider's page parser and adds the days up.
fn daily_costs(
    pages: &[Value],
    parse_page: impl Fn(&Value) -> Result<CostPage, String>,
) -> Result<Vec<DailyCost>, String> {
    let mut costs = Vec::new();
    for page in pages {
        costs.extend(parse_page(page)?.days);
    }
    Ok(merge_days(costs))
}

/// Adds up a day that a provider split over several pages or buckets.
pub(crate) fn merge_days(mut costs: Vec<DailyCost>) -> Vec<DailyCost> {
    costs.sort_by_key(|c| c.day);
    let mut merged: Vec<DailyCost> = Vec::with_capacity(costs.len());
    for cost in costs {
        match merged.last_mut() {
            Some(last) if last.day == cost.day => last.amount += cost.amount,
            _ => merged.push(cost),
        }
    }
    merged
}

/// A failure that a source meets before it can ask anything, in the shape of an answered one.
pub(crate) fn no_key(endpoint: &str, label: &str) -> PollFailure {
    PollFailure::without_answer(
        endpoint,
        format!("{label} reports costs only to an Admin API key, and none is set for this source."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn months_reset_on_the_first_at_midnight_utc() {
        assert_eq!(
            next_month_start(at("2026-12-31T23:59:59Z")),
            at("2027-01-01T00:00:00Z")
        );
        assert_eq!(
            month_start(at("2026-03-04T07:30:00Z")),
            at("2026-03-01T00:00:00Z")
        );
        let costs = vec![
            DailyCost {
                day: NaiveDate::from_ymd_opt(2026, 2, 28).unwrap(),
                amount: Decimal::new(150, 2),
            },
            DailyCost {
                day: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                amount: Decimal::new(25, 2),
            },
        ];
        assert_eq!(
            month_to_date(&costs, at("2026-02-28T23:59:59Z")),
            Decimal::new(150, 2)
        );
        assert_eq!(
            month_to_date(&costs, at("2026-03-01T23:59:59Z")),
            Decimal::new(25, 2)
        );
    }

    #[test]
    fn backfill_covers_thirty_complete_days() {
        let instants = backfill_instants(at("2026-03-04T07:30:00Z"));
        assert_eq!(instants.len(), 30);
        assert_eq!(instants[0], at("2026-02-02T23:59:59Z"));
        assert_eq!(instants[29], at("2026-03-03T23:59:59Z"));
        assert_eq!(
            backfill_costs_start(at("2026-03-04T07:30:00Z")),
            at("2026-02-01T00:00:00Z")
        );
    }
}
