//! Daily spend for the providers that report what was spent rather than what is left (OpenAI,
//! Anthropic): UTC-day buckets cut from the account's usage curve.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::model::Curve;

/// One UTC day and what the account spent in it; the newest may still be running.
pub(crate) struct DayBucket {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub spent: Decimal,
}

pub(crate) fn day_start(at: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(at.year(), at.month(), at.day(), 0, 0, 0)
        .single()
        .unwrap_or(at)
}

pub(crate) fn month_start(at: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(at.year(), at.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(at)
}

/// What the account has spent since its calendar month began. An organisation's hard limit stops
/// spending for the rest of the month, so the spend never passes it.
pub(crate) fn month_to_date(
    curve: &Curve,
    at: DateTime<Utc>,
    monthly_cap: Option<Decimal>,
) -> Decimal {
    spent_in_month(curve, month_start(at), at, monthly_cap)
}

fn spent_in_month(
    curve: &Curve,
    month: DateTime<Utc>,
    at: DateTime<Utc>,
    monthly_cap: Option<Decimal>,
) -> Decimal {
    let spent = total_usage(curve, at) - total_usage(curve, month);
    match monthly_cap {
        Some(cap) => spent.min(cap),
        None => spent,
    }
}

/// UTC days from the day of `from` until `until`, `until`'s own day included as far as it has run.
pub(crate) fn daily_spend(
    curve: &Curve,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    monthly_cap: Option<Decimal>,
) -> Vec<DayBucket> {
    let mut buckets = Vec::new();
    let mut start = day_start(from);
    while start < until {
        let end = start + Duration::days(1);
        // A day never spans two months, so its month's capped spend differences it exactly.
        let month = month_start(start);
        let spent = spent_in_month(curve, month, end.min(until), monthly_cap)
            - spent_in_month(curve, month, start, monthly_cap);
        buckets.push(DayBucket { start, end, spent });
        start = end;
    }
    buckets
}

fn total_usage(curve: &Curve, at: DateTime<Utc>) -> Decimal {
    curve.state_at(at).total_usage
}
