//! When does each meter run out? A burn model per meter (see docs/forecast.md): readings become a
//! ledger of spending, the ledger a rate with a weekly rhythm and a spread, and the rate a
//! distribution of the time the meter reaches zero.

mod ledger;
mod model;
mod projection;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Duration, Utc};

use crate::source::MeterKind;

/// One reading of a meter: what remained at a moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    pub ts: DateTime<Utc>,
    pub remaining: f64,
}

/// What is known about a meter besides its readings.
#[derive(Clone, Debug, PartialEq)]
pub struct MeterContext {
    pub kind: MeterKind,
    pub limit: Option<f64>,
    /// Scheduled resets known in advance; past and future, any order.
    pub resets: Vec<DateTime<Utc>>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Forecast {
    pub now: DateTime<Utc>,
    pub remaining: f64,
    /// Typical burn per hour now (averaged over the weekly rhythm), or a runaway's burn.
    pub burn_per_hour: f64,
    /// Quantiles of the time the meter reaches zero. None: not within the horizon, or a reset
    /// comes first.
    pub eta_p10: Option<DateTime<Utc>>,
    pub eta_p50: Option<DateTime<Utc>>,
    pub eta_p90: Option<DateTime<Utc>>,
    pub next_reset: Option<DateTime<Utc>>,
    /// Budgets (and windows) with a known next reset.
    pub p_exhausted_before_reset: Option<f64>,
    /// Spend in the current cycle by the next reset (median), capped at what the cycle allows.
    pub projected_spend_at_reset: Option<f64>,
    /// Cold start: under three days of history, a plain run-rate.
    pub low_confidence: bool,
    pub runaway: bool,
    /// The default rule, [`ALERT_WITHIN`]: the median time to exhaustion is within 72 hours.
    pub alert: bool,
    /// Remaining amount from the latest reading forward for the chart, until the P90 exhaustion
    /// time, the next reset or the horizon, whichever is first.
    pub path: Vec<ForecastPoint>,
}

/// Quantiles of the remaining amount at one moment, clamped at 0. `p10` is the pessimistic one.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ForecastPoint {
    pub ts: DateTime<Utc>,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

/// The default alert fires when the median exhaustion time is at most this far ahead.
pub const ALERT_WITHIN: Duration = Duration::hours(72);
/// Exhaustion later than this is reported as "not within the horizon".
pub const HORIZON: Duration = Duration::days(90);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    #[error("there are no readings at or before the forecast time to forecast from")]
    EmptyHistory,
    #[error("reading {index} has a remaining amount that is not a finite number")]
    NotFinite { index: usize },
    #[error("reading {index} is older than the reading before it; history must be sorted by time")]
    Unsorted { index: usize },
    #[error("reading {index} has the same timestamp as the reading before it")]
    DuplicateTimestamp { index: usize },
    #[error("the meter's limit must be a positive finite number, not {limit}")]
    InvalidLimit { limit: f64 },
}

/// How far back the forecaster reads: enough for four weeks of rhythm plus a week of margin,
/// and it keeps one forecast cheap however long the history grows.
const LOOKBACK: Duration = Duration::days(35);

/// Forecasts one meter from its history (sorted by time, no duplicate timestamps). Readings after
/// `now` are ignored, so a backtest can pass the whole history.
pub fn forecast(
    history: &[Observation],
    ctx: &MeterContext,
    now: DateTime<Utc>,
) -> Result<Forecast, ForecastError> {
    validate(history, ctx)?;
    let seen = &history[..history.partition_point(|o| o.ts <= now)];
    let Some(latest) = seen.last() else {
        return Err(ForecastError::EmptyHistory);
    };
    // One reading from before the window, so its first interval is known.
    let window_from = seen
        .partition_point(|o| o.ts < now - LOOKBACK)
        .saturating_sub(1);
    let window = &seen[window_from..];

    let now_s = now.timestamp() as f64 + f64::from(now.timestamp_subsec_millis()) / 1000.0;
    let mut resets: Vec<f64> = ctx.resets.iter().map(|r| r.timestamp() as f64).collect();
    resets.sort_by(|a, b| a.total_cmp(b));

    let lookback_start = now - LOOKBACK;
    let ledger = ledger::build(
        window,
        &resets,
        ctx.limit,
        lookback_start.timestamp() as f64,
        now_s - 2.0 * ledger::SECONDS_PER_HOUR,
    );
    let history_hours = (now - seen[0].ts).num_seconds() as f64 / ledger::SECONDS_PER_HOUR;
    let burn_model = model::fit(&ledger, now_s, history_hours);

    let next_reset = ctx.resets.iter().filter(|r| **r > now).min().copied();
    let cycle_has_reset = matches!(ctx.kind, MeterKind::Budget | MeterKind::Window);
    // From the latest reading, not from now: when polls stopped (a laptop asleep, a failing
    // source), the meter kept being spent since, and counting that gap as zero burn made a stale
    // meter look safe for as long as the gap lasted. An exhaustion that the gap already passed is
    // reported as now.
    let mut projection = projection::project(
        &burn_model,
        latest.ts,
        latest.remaining,
        next_reset,
        cycle_has_reset,
    );
    for eta in [
        &mut projection.eta_p10,
        &mut projection.eta_p50,
        &mut projection.eta_p90,
    ] {
        *eta = eta.map(|eta| eta.max(now));
    }

    let spent_in_cycle = match ctx.limit {
        Some(limit) => (limit - latest.remaining).max(0.0),
        None => ledger.burn_since_cycle_start.unwrap_or(0.0),
    };
    let alert = projection
        .eta_p50
        .is_some_and(|eta| eta <= now + ALERT_WITHIN);
    Ok(Forecast {
        now,
        remaining: latest.remaining,
        burn_per_hour: burn_model
            .runaway_per_hour
            .unwrap_or(burn_model.level_per_hour),
        eta_p10: projection.eta_p10,
        eta_p50: projection.eta_p50,
        eta_p90: projection.eta_p90,
        next_reset,
        p_exhausted_before_reset: projection.p_exhausted_before_reset,
        projected_spend_at_reset: projection
            .spend_until_reset
            .map(|future| spent_in_cycle + future.min(latest.remaining.max(0.0))),
        low_confidence: burn_model.low_confidence,
        runaway: burn_model.runaway_per_hour.is_some(),
        alert,
        path: projection.path,
    })
}

fn validate(history: &[Observation], ctx: &MeterContext) -> Result<(), ForecastError> {
    if let Some(limit) = ctx.limit {
        if !limit.is_finite() || limit <= 0.0 {
            return Err(ForecastError::InvalidLimit { limit });
        }
    }
    for (index, observation) in history.iter().enumerate() {
        if !observation.remaining.is_finite() {
            return Err(ForecastError::NotFinite { index });
        }
        if index > 0 {
            let previous = history[index - 1].ts;
            if observation.ts < previous {
                return Err(ForecastError::Unsorted { index });
            }
            if observation.ts == previous {
                return Err(ForecastError::DuplicateTimestamp { index });
            }
        }
    }
    Ok(())
}
