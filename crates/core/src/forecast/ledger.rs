//! Readings → burn. The ledger turns a meter's remaining-amount history into an hourly grid of
//! money actually spent, keeping apart what is spending and what is not (top-ups, resets, refunds,
//! stale readings, time spent already exhausted).

use super::Observation;

pub(crate) const SECONDS_PER_HOUR: f64 = 3600.0;

/// An increase smaller than this share of the meter's scale is a refund or a stale reading, not a
/// top-up: it is absorbed (no burn until the meter falls back below its previous low) instead of
/// starting a new stretch.
const TOPUP_MIN_SHARE_OF_SCALE: f64 = 0.005;
/// ... and it must also exceed this many typical poll-to-poll drops, so jitter in a noisy meter
/// never passes for a top-up.
const TOPUP_MIN_TYPICAL_DROPS: f64 = 4.0;

/// Spending per UTC hour, over the hours the ledger covers.
#[derive(Debug, Clone)]
pub(crate) struct HourlyBurn {
    /// Hours since the Unix epoch of `burn[0]`.
    pub first_hour: i64,
    pub burn: Vec<f64>,
    /// Share of each hour covered by an interval whose burn is known (0..=1). Hours spent
    /// exhausted, across a reset or across a top-up have no known burn.
    pub coverage: Vec<f64>,
    /// Recent intervals with known burn, for hour-exact runaway checks: (start, end, burn), seconds.
    pub recent: Vec<(f64, f64, f64)>,
    /// Burn since the start of the current cycle (last reset or top-up), when that start is seen.
    pub burn_since_cycle_start: Option<f64>,
}

impl HourlyBurn {
    pub fn len(&self) -> usize {
        self.burn.len()
    }
}

pub(crate) fn epoch_seconds(obs: &Observation) -> f64 {
    obs.ts.timestamp() as f64 + f64::from(obs.ts.timestamp_subsec_millis()) / 1000.0
}

/// Builds the hourly ledger from sorted, validated observations, with hours from `from` (epoch
/// seconds; earlier spending is spread but not kept). `resets` are scheduled reset times in epoch
/// seconds; `recent_since` bounds which intervals are kept in `recent`.
pub(crate) fn build(
    observations: &[Observation],
    resets: &[f64],
    limit: Option<f64>,
    from: f64,
    recent_since: f64,
) -> HourlyBurn {
    let times: Vec<f64> = observations.iter().map(epoch_seconds).collect();
    let (Some(&first), Some(&last), Some(initial)) =
        (times.first(), times.last(), observations.first())
    else {
        return HourlyBurn {
            first_hour: (from / SECONDS_PER_HOUR).floor() as i64,
            burn: Vec::new(),
            coverage: Vec::new(),
            recent: Vec::new(),
            burn_since_cycle_start: None,
        };
    };
    // One reading from long before the window must not make the grid years long.
    let first_hour = (first.max(from) / SECONDS_PER_HOUR).floor() as i64;
    let last_hour = ((last - 1e-6).max(first.max(from)) / SECONDS_PER_HOUR).floor() as i64;
    let hours = (last_hour - first_hour + 1).max(1) as usize;
    let mut ledger = HourlyBurn {
        first_hour,
        burn: vec![0.0; hours],
        coverage: vec![0.0; hours],
        recent: Vec::new(),
        burn_since_cycle_start: None,
    };

    let topup_threshold = topup_threshold(observations, limit);
    // The running low: what remains once refunds and stale readings are ignored.
    let mut running = initial.remaining;
    let mut cycle_burn: Option<f64> = None;
    let mut next_reset = resets.partition_point(|&r| r <= first);
    for i in 1..observations.len() {
        let (start, end) = (times[i - 1], times[i]);
        let value = observations[i].remaining;
        let mut crossed_reset = false;
        while next_reset < resets.len() && resets[next_reset] <= end {
            crossed_reset = true;
            next_reset += 1;
        }
        if crossed_reset || value > running + topup_threshold {
            // A new cycle or new money: whatever was spent inside this interval is unknowable.
            running = value;
            cycle_burn = Some(0.0);
            continue;
        }
        if running <= 0.0 {
            // Requests were being refused: zero spend here says nothing about demand.
            running = running.min(value);
            continue;
        }
        let spent = (running - value).max(0.0);
        running = running.min(value);
        if let Some(total) = cycle_burn.as_mut() {
            *total += spent;
        }
        ledger.spread(start, end, spent);
        if end > recent_since {
            ledger.recent.push((start, end, spent));
        }
    }
    ledger.burn_since_cycle_start = cycle_burn;
    ledger
}

impl HourlyBurn {
    /// Spreads one interval's spend evenly over the hours it spans: a long gap between polls is
    /// spending we did not watch, not spending that did not happen.
    fn spread(&mut self, start: f64, end: f64, spent: f64) {
        let span = end - start;
        if span <= 0.0 {
            return;
        }
        let mut hour = (start / SECONDS_PER_HOUR).floor() as i64;
        loop {
            let hour_start = hour as f64 * SECONDS_PER_HOUR;
            if hour_start >= end {
                break;
            }
            let overlap = end.min(hour_start + SECONDS_PER_HOUR) - start.max(hour_start);
            let index = hour - self.first_hour;
            if overlap > 0.0 && index >= 0 && (index as usize) < self.burn.len() {
                let slot = index as usize;
                self.burn[slot] += spent * overlap / span;
                self.coverage[slot] = (self.coverage[slot] + overlap / SECONDS_PER_HOUR).min(1.0);
            }
            hour += 1;
        }
    }
}

fn topup_threshold(observations: &[Observation], limit: Option<f64>) -> f64 {
    let mut drops: Vec<f64> = observations
        .windows(2)
        .map(|pair| pair[0].remaining - pair[1].remaining)
        .filter(|drop| *drop > 0.0)
        .collect();
    let typical_drop = if drops.is_empty() {
        0.0
    } else {
        let middle = drops.len() / 2;
        *drops
            .select_nth_unstable_by(middle, |a, b| a.total_cmp(b))
            .1
    };
    let largest_seen = observations
        .iter()
        .map(|o| o.remaining)
        .fold(0.0_f64, f64::max);
    let scale = limit.unwrap_or(0.0).max(largest_seen);
    (TOPUP_MIN_SHARE_OF_SCALE * scale).max(TOPUP_MIN_TYPICAL_DROPS * typical_drop)
}
