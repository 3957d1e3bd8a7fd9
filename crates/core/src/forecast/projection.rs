//! Rate → time to exhaustion. Future burn over the next h hours is the expected burn (level ×
//! weekly rhythm, or a runaway's rate) times a log-normal factor whose spread grows with the
//! horizon; each quantile of the exhaustion time is where that quantile of burn meets what remains.

use chrono::{DateTime, Duration, Utc};

use super::ledger::SECONDS_PER_HOUR;
use super::model::BurnModel;
use super::{ForecastPoint, HORIZON};

/// The standard normal's 90th percentile.
const Z90: f64 = 1.281_551_565_544_600_4;
const PATH_POINTS: usize = 61;
/// A budget's reset can be further away than the ETA horizon; walk at most this far to price it.
const LONGEST_CYCLE_DAYS: i64 = 400;

pub(crate) struct Projection {
    pub eta_p10: Option<DateTime<Utc>>,
    pub eta_p50: Option<DateTime<Utc>>,
    pub eta_p90: Option<DateTime<Utc>>,
    pub p_exhausted_before_reset: Option<f64>,
    /// Median burn from now until the next reset.
    pub spend_until_reset: Option<f64>,
    pub path: Vec<ForecastPoint>,
}

/// Burn quantile multipliers for the P10, P50 and P90 exhaustion times: the early time is the one
/// where burn runs high.
const ETA_Z: [f64; 3] = [Z90, 0.0, -Z90];

pub(crate) fn project(
    model: &BurnModel,
    now: DateTime<Utc>,
    remaining: f64,
    next_reset: Option<DateTime<Utc>>,
    cycle_has_reset: bool,
) -> Projection {
    let prices_reset = cycle_has_reset && next_reset.is_some();
    if remaining <= 0.0 {
        return Projection {
            eta_p10: Some(now),
            eta_p50: Some(now),
            eta_p90: Some(now),
            p_exhausted_before_reset: prices_reset.then_some(1.0),
            spend_until_reset: prices_reset.then_some(0.0),
            path: vec![ForecastPoint {
                ts: now,
                p10: 0.0,
                p50: 0.0,
                p90: 0.0,
            }],
        };
    }
    let horizon_hours = HORIZON.num_seconds() as f64 / SECONDS_PER_HOUR;
    let hours_until = |t: DateTime<Utc>| (t - now).num_milliseconds() as f64 / 3.6e6;
    let reset_hours = next_reset.map(hours_until);
    let walk_hours = match reset_hours {
        Some(r) if prices_reset => r.min(LONGEST_CYCLE_DAYS as f64 * 24.0),
        Some(r) => r.min(horizon_hours),
        None => horizon_hours,
    };
    let eta_limit = reset_hours.unwrap_or(f64::INFINITY).min(horizon_hours);

    let now_s = now.timestamp_millis() as f64 / 1000.0;
    // (hours from now, expected cumulative burn), one step per clock hour.
    let mut steps: Vec<(f64, f64)> = vec![(0.0, 0.0)];
    let mut crossed: [Option<f64>; 3] = [None; 3];
    let (mut hours, mut cumulative) = (0.0_f64, 0.0_f64);
    while hours < walk_hours {
        let at = now_s + hours * SECONDS_PER_HOUR;
        let epoch_hour = (at / SECONDS_PER_HOUR).floor() as i64;
        let to_boundary = ((epoch_hour + 1) as f64 * SECONDS_PER_HOUR - at) / SECONDS_PER_HOUR;
        let step = to_boundary.max(1e-9).min(walk_hours - hours);
        let previous = (hours, cumulative);
        cumulative += model.rate_at_hour(epoch_hour, hours + step / 2.0) * step;
        hours += step;
        steps.push((hours, cumulative));
        for (slot, z) in crossed.iter_mut().zip(ETA_Z) {
            if slot.is_some() {
                continue;
            }
            let burn_then = burn_quantile(model, previous.1, previous.0, z);
            let burn_now = burn_quantile(model, cumulative, hours, z);
            if burn_now >= remaining {
                let share = if burn_now > burn_then {
                    ((remaining - burn_then) / (burn_now - burn_then)).clamp(0.0, 1.0)
                } else {
                    1.0
                };
                *slot = Some(previous.0 + share * step);
            }
        }
        if !prices_reset && crossed.iter().all(Option::is_some) {
            break;
        }
    }

    let to_time = |h: f64| now + Duration::milliseconds((h * 3.6e6).round() as i64);
    let eta = |h: Option<f64>| h.filter(|&h| h <= eta_limit).map(to_time);
    let (p_exhausted_before_reset, spend_until_reset) = match reset_hours {
        Some(r) if prices_reset && r <= walk_hours + 1e-9 => {
            let burn = cumulative_at(&steps, r);
            let sigma = model.sigma_at(r);
            let p = if burn <= 0.0 {
                0.0
            } else if sigma <= 0.0 {
                if burn >= remaining {
                    1.0
                } else {
                    0.0
                }
            } else {
                1.0 - normal_cdf((remaining / burn).ln() / sigma)
            };
            (Some(p), Some(burn))
        }
        _ => (None, None),
    };

    let path_end = crossed[2]
        .unwrap_or(hours)
        .min(eta_limit)
        .min(hours)
        .max(0.0);
    let path = (0..PATH_POINTS)
        .map(|i| {
            let h = path_end * i as f64 / (PATH_POINTS - 1) as f64;
            let burn = cumulative_at(&steps, h);
            let left = |z: f64| (remaining - burn_quantile(model, burn, h, z)).max(0.0);
            ForecastPoint {
                ts: to_time(h),
                p10: left(Z90),
                p50: left(0.0),
                p90: left(-Z90),
            }
        })
        .collect();

    Projection {
        eta_p10: eta(crossed[0]),
        eta_p50: eta(crossed[1]),
        eta_p90: eta(crossed[2]),
        p_exhausted_before_reset,
        spend_until_reset,
        path,
    }
}

fn burn_quantile(model: &BurnModel, expected: f64, hours: f64, z: f64) -> f64 {
    if hours <= 0.0 {
        return expected;
    }
    expected * (z * model.sigma_at(hours)).exp()
}

fn cumulative_at(steps: &[(f64, f64)], hours: f64) -> f64 {
    let after = steps.partition_point(|&(h, _)| h < hours);
    if after == 0 {
        return steps.first().map_or(0.0, |s| s.1);
    }
    if after >= steps.len() {
        return steps.last().map_or(0.0, |s| s.1);
    }
    let (h0, c0) = steps[after - 1];
    let (h1, c1) = steps[after];
    if h1 > h0 {
        c0 + (c1 - c0) * (hours - h0) / (h1 - h0)
    } else {
        c1
    }
}

/// Standard normal CDF (Abramowitz & Stegun 7.1.26, error below 1.5e-7).
pub(crate) fn normal_cdf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs() / std::f64::consts::SQRT_2);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-(x * x) / 2.0).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}
