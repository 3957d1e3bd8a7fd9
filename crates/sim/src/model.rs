use std::f64::consts::TAU;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::AccountSpec;

/// What the server reports for one account at one instant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountState {
    pub key_usage: Decimal,
    pub key_limit: Option<Decimal>,
    pub key_limit_remaining: Option<Decimal>,
    pub total_credits: Decimal,
    pub total_usage: Decimal,
}

/// A prepaid wallet at one instant, split the way balance providers report it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Wallet {
    /// Granted (gift) plus topped-up money; below zero when charges settled after it ran out.
    pub total: Decimal,
    /// What is left of the gift credits, which are spent first.
    pub granted: Decimal,
    /// What is left of the money paid in; the only part that can go negative.
    pub topped_up: Decimal,
}

/// Amplitude of the daily swing around the average burn rate.
const SWING: f64 = 0.6;
/// UTC hour where the rate crosses its average on the way up, so the peak
/// lands mid-afternoon UTC, when both Europe and the US East Coast work.
const RISING_HOUR: f64 = 9.0;
const OMEGA: f64 = TAU / 24.0;
/// USD values are served with at most this many decimals.
const DP: u32 = 6;

/// The deterministic spend curve of one account, anchored at sim start `t0`.
#[derive(Clone, Debug)]
pub(crate) struct Curve {
    pub spec: AccountSpec,
    t0: DateTime<Utc>,
    time_scale: f64,
}

impl Curve {
    pub fn new(spec: AccountSpec, t0: DateTime<Utc>, time_scale: f64) -> Self {
        Self {
            spec,
            t0,
            time_scale,
        }
    }

    /// The instant `usage_now` refers to.
    pub fn started_at(&self) -> DateTime<Utc> {
        self.t0
    }

    pub fn state_at(&self, at: DateTime<Utc>) -> AccountState {
        let usage = self.usage_sim(self.sim_instant(at));
        let limit = self.spec.key_limit;
        AccountState {
            key_usage: usage,
            key_limit: limit,
            key_limit_remaining: limit.map(|l| (l - usage).max(Decimal::ZERO)),
            total_credits: self.spec.total_credits,
            total_usage: usage,
        }
    }

    /// The balance left of `total_credits`, gift credits first.
    pub fn wallet_at(&self, at: DateTime<Utc>) -> Wallet {
        let usage = self.usage_sim(self.sim_instant(at));
        let total = self.spec.total_credits - usage;
        let granted = (self.spec.granted_credits - usage).max(Decimal::ZERO);
        Wallet {
            total,
            granted,
            topped_up: total - granted,
        }
    }

    /// Usage in the current UTC day, Monday-based week and calendar month,
    /// measured in sim time so a sped-up demo rolls over days too.
    pub fn period_usage(&self, at: DateTime<Utc>) -> [Decimal; 3] {
        let s = self.sim_instant(at);
        let today = s.date_naive();
        let week_start = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        let month_start = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
        let now = self.usage_sim(s);
        [today, week_start, month_start].map(|d| {
            let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
            now - self.usage_sim(midnight)
        })
    }

    /// Real time runs `time_scale` times faster after t0; the past is unscaled.
    fn sim_instant(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let elapsed_ms = (at - self.t0).num_milliseconds();
        if elapsed_ms <= 0 || self.time_scale == 1.0 {
            return at;
        }
        let scaled = (elapsed_ms as f64 * self.time_scale).min(i64::MAX as f64 / 2.0);
        self.t0 + Duration::milliseconds(scaled as i64)
    }

    fn usage_sim(&self, s: DateTime<Utc>) -> Decimal {
        let hours = (s - self.t0).num_milliseconds() as f64 / 3.6e6;
        let start_hour = self.t0.timestamp_millis().rem_euclid(86_400_000) as f64 / 3.6e6;
        let burn = self.spec.burn_per_hour.to_f64().unwrap_or(0.0);
        // Closed-form integral of burn * (1 + SWING * sin(OMEGA * (h - RISING_HOUR))):
        // the sine integrates to zero over a whole day, so burn stays the average.
        let cos = |h: f64| (OMEGA * (h - RISING_HOUR)).cos();
        let spent = burn * (hours - SWING / OMEGA * (cos(start_hour + hours) - cos(start_hour)));
        // Spending stops when either the key limit or the purchased credits (plus any charges
        // a provider settles after cutting the account off) run out.
        let credits = self.spec.total_credits + self.spec.overdraft;
        let cap = match self.spec.key_limit {
            Some(limit) => limit.min(credits),
            None => credits,
        };
        // Far-future instants in a sped-up sim can overflow Decimal; they are capped anyway.
        let raw = Decimal::from_f64(spent)
            .and_then(|d| self.spec.usage_now.checked_add(d.round_dp(DP)))
            .unwrap_or(if spent > 0.0 { cap } else { Decimal::ZERO });
        raw.clamp(Decimal::ZERO, cap).round_dp(DP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(time_scale: f64) -> (Curve, DateTime<Utc>) {
        let spec = crate::builtin_scenario("demo")
            .and_then(|s| s.accounts.into_iter().next())
            .expect("demo has accounts");
        let t0 = DateTime::parse_from_rfc3339("2026-03-04T07:30:00Z")
            .expect("valid timestamp")
            .to_utc();
        (Curve::new(spec, t0, time_scale), t0)
    }

    #[test]
    fn a_whole_day_costs_exactly_the_average_burn() {
        let (c, t0) = curve(1.0);
        let day = c.state_at(t0 + Duration::days(1)).key_usage - c.state_at(t0).key_usage;
        assert!(
            (day - Decimal::new(96, 1)).abs() <= Decimal::new(1, 6),
            "{day}"
        );
        let past = c.state_at(t0).key_usage - c.state_at(t0 - Duration::days(1)).key_usage;
        assert!(
            (past - Decimal::new(96, 1)).abs() <= Decimal::new(1, 6),
            "{past}"
        );
    }

    #[test]
    fn office_hours_burn_faster_than_night() {
        let (c, t0) = curve(1.0);
        let hour = |h: i64| {
            let start = t0 + Duration::minutes(30) + Duration::hours(h);
            c.state_at(start + Duration::hours(1)).key_usage - c.state_at(start).key_usage
        };
        // t0 + 30 min is 08:00 UTC, so offset 7 is 15:00 and offset 19 is 03:00.
        assert!(
            hour(7) > hour(19) * Decimal::from(3),
            "{} vs {}",
            hour(7),
            hour(19)
        );
    }

    #[test]
    fn time_scale_speeds_up_only_the_future() {
        let (fast, t0) = curve(60.0);
        let (real, _) = curve(1.0);
        assert_eq!(
            fast.state_at(t0 + Duration::minutes(1)),
            real.state_at(t0 + Duration::hours(1))
        );
        assert_eq!(
            fast.state_at(t0 - Duration::hours(5)),
            real.state_at(t0 - Duration::hours(5))
        );
    }
}
