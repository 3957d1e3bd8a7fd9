//! Burn → rate: how fast a meter is being spent now, its weekly rhythm, how much that rate wanders,
//! and whether something has just gone badly wrong.

use super::ledger::{HourlyBurn, SECONDS_PER_HOUR};

pub(crate) const HOURS_PER_WEEK: usize = 168;
const HOURS_PER_DAY: usize = 24;

/// Less history than this is a cold start: a plain run-rate, marked low confidence.
pub(crate) const COLD_START_HOURS: f64 = 72.0;
/// Seasonal factors and the level look back this far; older spending says little about today's.
const PROFILE_LOOKBACK_DAYS: usize = 28;
/// Hour-of-day factors need this many days; weekday factors need a whole week.
const PROFILE_EXCLUDES_LATEST_HOURS: usize = 6;
/// In the rhythm, no hour counts for more than a whole average day's spend: a batch job can put
/// a day's spend into one hour, only a runaway puts more.
const PROFILE_HOUR_CAP_DAYS: f64 = 1.0;
/// No day counts for more than this many typical days in the rhythm.
const PROFILE_DAY_CAP: f64 = 3.0;
/// Days on each side that a day's spend is compared with.
const DAY_CAP_NEIGHBOURS: usize = 3;
const HOUR_OF_DAY_MIN_DAYS: f64 = 3.0;
const WEEKDAY_MIN_DAYS: f64 = 7.0;
/// Shrinkage: a factor is pulled toward 1 as if this many extra days had been exactly average.
const HOUR_OF_DAY_PRIOR_DAYS: f64 = 2.0;
const WEEKDAY_PRIOR_DAYS: f64 = 0.5;
/// A slot that never saw spending still gets a sliver of it, so the log-scale shrinkage is defined.
const MIN_FACTOR: f64 = 0.01;

/// Daily levels are averaged with this half-life: a few days, so a change in habits shows within
/// a week while one odd day moves the level by only ~15%.
const LEVEL_HALF_LIFE_DAYS: f64 = 3.0;
const LEVEL_LOOKBACK_DAYS: usize = 28;
/// A day that spent more than this multiple of the typical (median) day is capped in the level;
/// the excess still widens the spread.
const BURST_CAP: f64 = 3.0;

/// Change points: a lasting shift of at least this factor up or down is a new regime, and the
/// level is estimated from after it only.
const SHIFT_RATIO: f64 = 3.0;
const SHIFT_SEARCH_DAYS: usize = 21;
const SHIFT_MIN_BEFORE_HOURS: f64 = 24.0;
/// A step up needs a full day, so a daily rhythm not yet learnt cannot pass for a shift (the
/// runaway check covers the first hours of a big jump); a quiet spell shorter than two days is
/// normal for batch use, so a step down needs longer.
const SHIFT_UP_MIN_HOURS: f64 = 24.0;
const SHIFT_DOWN_MIN_HOURS: f64 = 48.0;
/// A quiet spell the meter has never had in the last two weeks is a step down after this long.
const SHIFT_QUIET_MIN_HOURS: f64 = 12.0;

/// Runaway: the last hour burned this many times the most the recent rhythm expects at this time
/// of the week, and clearly more than any ordinary hour of the last two weeks.
const RUNAWAY_RATIO: f64 = 5.0;
const RUNAWAY_OVER_PAST_PEAK: f64 = 1.5;
const RUNAWAY_PEAK_QUANTILE: f64 = 0.99;

/// Spread when the data cannot say: cold start, a regime a few hours old, a day-to-day noise
/// estimate with too few days.
const COLD_START_SIGMA: f64 = 0.5;
const FRESH_REGIME_SIGMA: f64 = 0.5;
const DEFAULT_DAILY_SIGMA: f64 = 0.3;
/// Prior for how far the underlying level wanders (log variance per day): 2.5%/√day, ~9% over two
/// weeks. The meter's own week-to-week changes update it; the prior was calibrated so the P10–P90
/// band holds the truth ~85% of the time on bench/traces (docs/forecast.md).
const DRIFT_PRIOR_PER_DAY: f64 = 0.025 * 0.025;
/// The prior counts as this many observed week-to-week changes.
const DRIFT_PRIOR_WEIGHT: f64 = 2.0;
/// A trend is used only when the weekly levels move consistently, at this many standard errors;
/// it is never extrapolated further than two weeks.
const TREND_MIN_T: f64 = 2.0;
const TREND_MAX_DAYS: f64 = 14.0;
const TREND_MIN_WEEKS: usize = 4;
/// Faster than ~40% a week is a step (a launch), which the change-point search handles, not a
/// trend to extrapolate.
const TREND_MAX_PER_DAY: f64 = 0.05;

#[derive(Debug, Clone)]
pub(crate) struct BurnModel {
    /// Typical burn per hour, averaged over a week's rhythm.
    pub level_per_hour: f64,
    /// Hour-of-week factors (Monday 00 UTC first), mean 1.
    pub profile: [f64; HOURS_PER_WEEK],
    /// Relative spread of one day's spend around the level.
    pub sigma_daily: f64,
    /// Relative uncertainty of the level itself.
    pub sigma_level: f64,
    /// Variance per day of the log level's random wander.
    pub drift_per_day: f64,
    /// Sustained growth (or decline) of the level, log per day; 0 unless the weeks show it clearly.
    pub trend_per_day: f64,
    pub low_confidence: bool,
    /// Burn per hour of a runaway in progress.
    pub runaway_per_hour: Option<f64>,
}

impl BurnModel {
    /// Relative (log-scale) spread of the cumulative burn over the next `hours`.
    pub fn sigma_at(&self, hours: f64) -> f64 {
        if self.runaway_per_hour.is_some() {
            return FRESH_REGIME_SIGMA;
        }
        // Day-to-day noise averages out over a long horizon; within a day it does not.
        let noise = self.sigma_daily * self.sigma_daily * HOURS_PER_DAY as f64 / hours.max(4.0);
        let drift = self.drift_per_day * hours / HOURS_PER_DAY as f64;
        (self.sigma_level * self.sigma_level + noise + drift).sqrt()
    }

    /// Expected burn per hour at an epoch hour, `hours_ahead` of now.
    pub fn rate_at_hour(&self, epoch_hour: i64, hours_ahead: f64) -> f64 {
        match self.runaway_per_hour {
            Some(rate) => rate,
            None => {
                let trend_days = (hours_ahead / HOURS_PER_DAY as f64).min(TREND_MAX_DAYS);
                self.level_per_hour
                    * self.profile[hour_of_week(epoch_hour)]
                    * (self.trend_per_day * trend_days).exp()
            }
        }
    }
}

/// Monday 00:00 UTC is slot 0; 1970-01-01 was a Thursday.
pub(crate) fn hour_of_week(epoch_hour: i64) -> usize {
    (epoch_hour + 3 * HOURS_PER_DAY as i64).rem_euclid(HOURS_PER_WEEK as i64) as usize
}

pub(crate) fn fit(ledger: &HourlyBurn, now: f64, history_hours: f64) -> BurnModel {
    let n = ledger.len();
    if history_hours < COLD_START_HOURS {
        let total: f64 = ledger.burn.iter().sum();
        let covered: f64 = ledger.coverage.iter().sum();
        let level = if covered > 0.0 { total / covered } else { 0.0 };
        let mut model = BurnModel {
            level_per_hour: level,
            profile: [1.0; HOURS_PER_WEEK],
            sigma_daily: COLD_START_SIGMA,
            sigma_level: COLD_START_SIGMA,
            drift_per_day: DRIFT_PRIOR_PER_DAY,
            trend_per_day: 0.0,
            low_confidence: true,
            runaway_per_hour: None,
        };
        model.runaway_per_hour = runaway(ledger, &model, now);
        return model;
    }

    let profile_from = n.saturating_sub(PROFILE_LOOKBACK_DAYS * HOURS_PER_DAY);
    // The rhythm is learned from settled history: the latest hours are what it must judge.
    let profile_to = n
        .saturating_sub(PROFILE_EXCLUDES_LATEST_HOURS)
        .max(profile_from);
    let mut profile = seasonal_profile(ledger, profile_from, profile_to);
    let regime_start = regime_start(ledger, &profile);
    if let Some(start) = regime_start {
        if covered_days(ledger, start, n) >= WEEKDAY_MIN_DAYS {
            profile = seasonal_profile(ledger, start, profile_to.max(start));
        }
    }
    let segment_start = regime_start.unwrap_or(0);
    let mut model = level_and_spread(ledger, &profile, segment_start);
    model.runaway_per_hour = runaway(ledger, &model, now);
    model
}

fn seasonal_profile(ledger: &HourlyBurn, from: usize, to: usize) -> [f64; HOURS_PER_WEEK] {
    let window_burn: f64 = ledger.burn[from..to].iter().sum();
    let window_hours: f64 = ledger.coverage[from..to].iter().sum();
    let hour_cap = if window_hours > 0.0 {
        PROFILE_HOUR_CAP_DAYS * HOURS_PER_DAY as f64 * window_burn / window_hours
    } else {
        f64::INFINITY
    };
    let day_scale = day_caps(ledger, from, to, hour_cap);
    let mut by_hour = [(0.0, 0.0); HOURS_PER_DAY];
    let mut by_weekday = [(0.0, 0.0); 7];
    for i in from..to {
        let covered = ledger.coverage[i];
        if covered <= 0.0 {
            continue;
        }
        let slot = hour_of_week(ledger.first_hour + i as i64);
        let day = day_of(ledger, i) - day_of(ledger, from);
        let burn = ledger.burn[i].min(hour_cap * covered) * day_scale[day as usize];
        let hour = &mut by_hour[slot % HOURS_PER_DAY];
        hour.0 += burn;
        hour.1 += covered;
        let day = &mut by_weekday[slot / HOURS_PER_DAY];
        day.0 += burn;
        day.1 += covered;
    }
    let total_burn: f64 = by_hour.iter().map(|h| h.0).sum();
    let total_hours: f64 = by_hour.iter().map(|h| h.1).sum();
    let mut profile = [1.0; HOURS_PER_WEEK];
    if total_burn <= 0.0 || total_hours <= 0.0 {
        return profile;
    }
    let overall = total_burn / total_hours;
    let days = total_hours / HOURS_PER_DAY as f64;
    // Shrunk toward 1 on the log scale, so a factor learned from few days is tempered but a
    // quiet weekend stays a small multiple rather than being pulled halfway to average.
    let shrunk = |(burn, hours): (f64, f64), prior: f64, hours_per_obs: f64| {
        if hours <= 0.0 {
            return 1.0;
        }
        let observations = hours / hours_per_obs;
        let raw = (burn / hours / overall).max(MIN_FACTOR);
        raw.powf(observations / (observations + prior))
    };
    let hour_factors: Vec<f64> = by_hour
        .iter()
        .map(|&h| {
            if days >= HOUR_OF_DAY_MIN_DAYS {
                shrunk(h, HOUR_OF_DAY_PRIOR_DAYS, 1.0)
            } else {
                1.0
            }
        })
        .collect();
    let weekday_factors: Vec<f64> = by_weekday
        .iter()
        .map(|&d| {
            if days >= WEEKDAY_MIN_DAYS {
                shrunk(d, WEEKDAY_PRIOR_DAYS, HOURS_PER_DAY as f64)
            } else {
                1.0
            }
        })
        .collect();
    for (slot, factor) in profile.iter_mut().enumerate() {
        *factor = weekday_factors[slot / HOURS_PER_DAY] * hour_factors[slot % HOURS_PER_DAY];
    }
    let mean = profile.iter().sum::<f64>() / HOURS_PER_WEEK as f64;
    if mean > 0.0 {
        for factor in profile.iter_mut() {
            *factor /= mean;
        }
    }
    profile
}

fn covered_days(ledger: &HourlyBurn, from: usize, to: usize) -> f64 {
    if to <= from {
        return 0.0;
    }
    ledger.coverage[from..to].iter().sum::<f64>() / HOURS_PER_DAY as f64
}

fn day_of(ledger: &HourlyBurn, i: usize) -> i64 {
    (ledger.first_hour + i as i64).div_euclid(HOURS_PER_DAY as i64)
}

/// Per UTC day of [from, to), the factor that brings a day spending more than
/// [`PROFILE_DAY_CAP`] times the days around it down to that: a launch day or a runaway day is a
/// change of level, not a rhythm, and must not teach the profile that its weekday is always busy
/// (which would then hide the new level from the change-point search). Judged against its own
/// week, so the days after a launch, once there are a few, teach the new rhythm.
fn day_caps(ledger: &HourlyBurn, from: usize, to: usize, hour_cap: f64) -> Vec<f64> {
    if to <= from {
        return Vec::new();
    }
    let first = day_of(ledger, from);
    let mut days = vec![(0.0, 0.0); (day_of(ledger, to - 1) - first + 1) as usize];
    for i in from..to {
        let day = &mut days[(day_of(ledger, i) - first) as usize];
        day.0 += ledger.burn[i].min(hour_cap * ledger.coverage[i]);
        day.1 += ledger.coverage[i];
    }
    (0..days.len())
        .map(|d| {
            let around = &days[d.saturating_sub(DAY_CAP_NEIGHBOURS)
                ..(d + DAY_CAP_NEIGHBOURS + 1).min(days.len())];
            let (burn, hours) = around
                .iter()
                .fold((0.0, 0.0), |(b, h), day| (b + day.0, h + day.1));
            let mut full_day_rates: Vec<f64> = around
                .iter()
                .filter(|day| day.1 >= 18.0)
                .map(|day| day.0 / day.1)
                .collect();
            let mean_rate = if hours > 0.0 { burn / hours } else { 0.0 };
            let typical = median(&mut full_day_rates)
                .unwrap_or(mean_rate)
                .max(0.5 * mean_rate);
            let (burn, hours) = days[d];
            let cap = PROFILE_DAY_CAP * typical * hours;
            if burn > cap && burn > 0.0 {
                cap / burn
            } else {
                1.0
            }
        })
        .collect()
}

/// Burn per expected share of a (burn, expected share, covered hours) range.
fn rate((burn, expected, _): (f64, f64, f64)) -> f64 {
    burn / expected
}

/// Prefix sums of burn, expected burn share and covered hours.
struct Prefix {
    burn: Vec<f64>,
    expected: Vec<f64>,
    hours: Vec<f64>,
}

impl Prefix {
    fn new(ledger: &HourlyBurn, profile: &[f64; HOURS_PER_WEEK], from: usize) -> Self {
        let len = ledger.len() - from;
        let mut prefix = Prefix {
            burn: Vec::with_capacity(len + 1),
            expected: Vec::with_capacity(len + 1),
            hours: Vec::with_capacity(len + 1),
        };
        let (mut burn, mut expected, mut hours) = (0.0, 0.0, 0.0);
        prefix.burn.push(0.0);
        prefix.expected.push(0.0);
        prefix.hours.push(0.0);
        for i in from..ledger.len() {
            let covered = ledger.coverage[i];
            burn += ledger.burn[i];
            expected += covered * profile[hour_of_week(ledger.first_hour + i as i64)];
            hours += covered;
            prefix.burn.push(burn);
            prefix.expected.push(expected);
            prefix.hours.push(hours);
        }
        prefix
    }

    /// (burn, expected share, covered hours) over local indices [a, b).
    fn range(&self, a: usize, b: usize) -> (f64, f64, f64) {
        (
            self.burn[b] - self.burn[a],
            self.expected[b] - self.expected[a],
            self.hours[b] - self.hours[a],
        )
    }
}

/// The start of the current spending regime, as a ledger index, if spending has shifted lastingly
/// in the search window. Shifts are searched again after each one found, so a ramp in two steps
/// ends up with the latest step.
fn regime_start(ledger: &HourlyBurn, profile: &[f64; HOURS_PER_WEEK]) -> Option<usize> {
    let n = ledger.len();
    let from = n.saturating_sub(SHIFT_SEARCH_DAYS * HOURS_PER_DAY);
    let prefix = Prefix::new(ledger, profile, from);
    let mut start = None;
    let mut search_from = 0;
    for _ in 0..MAX_SHIFTS {
        match find_shift(&prefix, search_from) {
            Some(split) => {
                start = Some(from + split);
                search_from = split;
            }
            None => break,
        }
    }
    start
}

const MAX_SHIFTS: usize = 3;

/// The strongest lasting shift in [search_from, end): splits are tried from the most to the least
/// contrasting, and the first whose new regime holds through both its halves wins. Only trying
/// the single strongest split would miss a launch two days ago whenever an older, longer but
/// unsteady contrast scores higher.
fn find_shift(prefix: &Prefix, search_from: usize) -> Option<usize> {
    let len = prefix.burn.len() - 1;
    let before_of = |split: usize| {
        prefix.range(
            split.saturating_sub(14 * HOURS_PER_DAY).max(search_from),
            split,
        )
    };
    let mut candidates: Vec<(f64, usize, f64)> = Vec::new();
    for split in search_from + 1..len {
        let before = before_of(split);
        let after = prefix.range(split, len);
        let (hours_before, hours_after) = (before.2, after.2);
        if hours_before < SHIFT_MIN_BEFORE_HOURS || hours_after < SHIFT_QUIET_MIN_HOURS {
            continue;
        }
        if before.1 <= 0.0 || after.1 <= 0.0 {
            continue;
        }
        let pooled = (before.0 + after.0) / (before.1 + after.1);
        if pooled <= 0.0 {
            continue;
        }
        // A small floor keeps "nothing" vs "a little" from looking like an infinite shift.
        let floor = 0.02 * pooled;
        let ratio = (rate(after) + floor) / (rate(before) + floor);
        if (1.0 / SHIFT_RATIO..SHIFT_RATIO).contains(&ratio) {
            continue;
        }
        let weight = (hours_before * hours_after / (hours_before + hours_after)).sqrt();
        candidates.push((ratio.ln().abs() * weight, split, floor));
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    candidates
        .into_iter()
        .find(|&(_, split, floor)| holds(prefix, split, len, rate(before_of(split)) + floor, floor))
        .map(|(_, split, _)| split)
}

/// Whether the regime from `split` differs from the rate before it through both of its halves:
/// a burst that has ended, or a single odd hour at the end, is not a new regime.
fn holds(prefix: &Prefix, split: usize, len: usize, rate_before: f64, floor: f64) -> bool {
    let middle = (split + len) / 2;
    let halves = [prefix.range(split, middle), prefix.range(middle, len)];
    if halves.iter().any(|h| h.1 <= 0.0) {
        return false;
    }
    let hours_after = prefix.range(split, len).2;
    let up = hours_after >= SHIFT_UP_MIN_HOURS
        && halves
            .iter()
            .all(|&h| rate(h) + floor >= SHIFT_RATIO * rate_before);
    let long_enough = hours_after >= SHIFT_DOWN_MIN_HOURS
        || (hours_after >= SHIFT_QUIET_MIN_HOURS && unprecedented_quiet(prefix, split, len));
    let down = long_enough
        && halves
            .iter()
            .all(|&h| (rate(h) + floor) * SHIFT_RATIO <= rate_before);
    up || down
}

/// Whether [split, len) spent less than half of what every window of the same length in the two
/// weeks before it spent: a quiet spell this meter has never had, which a step down need not wait
/// two days to be believed. A batch meter's ordinary quiet hours are never unprecedented.
fn unprecedented_quiet(prefix: &Prefix, split: usize, len: usize) -> bool {
    let span = len - split;
    let from = split.saturating_sub(QUIET_LOOKBACK_DAYS * HOURS_PER_DAY);
    if split < from + span + WEEKDAY_MIN_DAYS as usize * HOURS_PER_DAY {
        return false;
    }
    let after = prefix.range(split, len);
    if after.1 <= 0.0 {
        return false;
    }
    let quietest = (from..=split - span)
        .map(|w| prefix.range(w, w + span))
        .filter(|window| window.1 > 0.0 && window.2 >= 0.9 * span as f64)
        .map(rate)
        .fold(f64::INFINITY, f64::min);
    quietest.is_finite() && rate(after) < 0.5 * quietest
}

const QUIET_LOOKBACK_DAYS: usize = 14;

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    })
}

/// One day-long block, counted back from now.
struct Block {
    burn: f64,
    expected: f64,
    hours: f64,
    age_days: f64,
}

fn level_and_spread(
    ledger: &HourlyBurn,
    profile: &[f64; HOURS_PER_WEEK],
    segment_start: usize,
) -> BurnModel {
    let n = ledger.len();
    let prefix = Prefix::new(ledger, profile, segment_start);
    let len = n - segment_start;
    let mut blocks = Vec::new();
    for k in 0..LEVEL_LOOKBACK_DAYS {
        let end = len.saturating_sub(k * HOURS_PER_DAY);
        let start = len.saturating_sub((k + 1) * HOURS_PER_DAY);
        if end == 0 {
            break;
        }
        let (burn, expected, hours) = prefix.range(start, end);
        if hours >= 6.0 && expected > 0.0 {
            blocks.push(Block {
                burn,
                expected,
                hours,
                age_days: k as f64,
            });
        }
        if start == 0 {
            break;
        }
    }
    let mut model = BurnModel {
        level_per_hour: 0.0,
        profile: *profile,
        sigma_daily: DEFAULT_DAILY_SIGMA,
        sigma_level: FRESH_REGIME_SIGMA,
        drift_per_day: DRIFT_PRIOR_PER_DAY,
        trend_per_day: 0.0,
        low_confidence: false,
        runaway_per_hour: None,
    };
    if blocks.is_empty() {
        return model;
    }
    let recent: Vec<&Block> = blocks.iter().filter(|b| b.age_days < 7.0).collect();
    let mut recent_levels: Vec<f64> = recent.iter().map(|b| b.burn / b.expected).collect();
    let recent_mean = recent.iter().map(|b| b.burn).sum::<f64>()
        / recent
            .iter()
            .map(|b| b.expected)
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
    // The median day guards against one runaway day; when most days are quiet and the money goes
    // in occasional jobs the median understates, and the plain mean is the honest level.
    let typical = median(&mut recent_levels)
        .unwrap_or(recent_mean)
        .max(0.5 * recent_mean);

    let (mut weighted_burn, mut weighted_expected, mut excess, mut weighted_total) =
        (0.0, 0.0, 0.0, 0.0);
    let (mut sum_w, mut sum_w2) = (0.0, 0.0);
    for block in &blocks {
        let w = 0.5_f64.powf(block.age_days / LEVEL_HALF_LIFE_DAYS);
        let capped = block.burn.min(BURST_CAP * typical * block.expected);
        weighted_burn += w * capped;
        weighted_expected += w * block.expected;
        excess += w * (block.burn - capped);
        weighted_total += w * block.burn;
        sum_w += w;
        sum_w2 += w * w;
    }
    let level = if weighted_expected > 0.0 {
        weighted_burn / weighted_expected
    } else {
        0.0
    };
    model.level_per_hour = level;
    let burst_share = if weighted_total > 0.0 {
        excess / weighted_total
    } else {
        0.0
    };

    let full_days: Vec<f64> = blocks
        .iter()
        .filter(|b| b.hours >= 18.0 && b.age_days < 14.0)
        .map(|b| b.burn / b.expected)
        .collect();
    let covered_hours: f64 = blocks.iter().map(|b| b.hours).sum();
    if full_days.len() >= 4 && level > 0.0 {
        let mut deviations: Vec<f64> = full_days
            .iter()
            .map(|&day| (day.max(0.05 * level) / level).ln().abs())
            .collect();
        let mad = median(&mut deviations).unwrap_or(DEFAULT_DAILY_SIGMA);
        model.sigma_daily = (1.4826 * mad).hypot(burst_share);
    } else {
        model.sigma_daily = DEFAULT_DAILY_SIGMA.hypot(burst_share);
    }
    let effective_days = if sum_w2 > 0.0 {
        sum_w * sum_w / sum_w2
    } else {
        1.0
    };
    model.sigma_level = if covered_hours < HOURS_PER_DAY as f64 {
        FRESH_REGIME_SIGMA
    } else {
        model.sigma_daily / effective_days.sqrt()
    };
    weekly_drift_and_trend(&mut model, &blocks, typical, level_age_days(&blocks));
    model
}

/// How old, on average, the days behind the level are.
fn level_age_days(blocks: &[Block]) -> f64 {
    let (mut weighted_age, mut total) = (0.0, 0.0);
    for block in blocks {
        let w = 0.5_f64.powf(block.age_days / LEVEL_HALF_LIFE_DAYS) * block.expected;
        weighted_age += w * (block.age_days + 0.5);
        total += w;
    }
    if total > 0.0 {
        weighted_age / total
    } else {
        0.0
    }
}

/// Week-over-week changes of the level tell how much it wanders (drift) and whether it is
/// steadily growing or shrinking (trend).
fn weekly_drift_and_trend(
    model: &mut BurnModel,
    blocks: &[Block],
    typical: f64,
    level_age_days: f64,
) {
    let mut weeks = Vec::new();
    for week in 0..LEVEL_LOOKBACK_DAYS / 7 {
        let days: Vec<&Block> = blocks
            .iter()
            .filter(|b| (b.age_days as usize) / 7 == week && b.hours >= 18.0)
            .collect();
        if days.len() < 7 {
            break;
        }
        let burn: f64 = days
            .iter()
            .map(|b| b.burn.min(BURST_CAP * typical * b.expected))
            .sum();
        let expected: f64 = days.iter().map(|b| b.expected).sum();
        if burn <= 0.0 || expected <= 0.0 {
            break;
        }
        weeks.push(burn / expected);
    }
    if weeks.len() < 2 {
        return;
    }
    // Newer over older, log.
    let changes: Vec<f64> = weeks.windows(2).map(|w| (w[0] / w[1]).ln()).collect();
    let count = changes.len() as f64;
    let mean = changes.iter().sum::<f64>() / count;
    let second_moment = changes.iter().map(|c| c * c).sum::<f64>() / count;
    let noise = 2.0 * model.sigma_daily * model.sigma_daily / 7.0;
    let mut wander = second_moment;
    if weeks.len() >= TREND_MIN_WEEKS {
        let variance = if changes.len() > 1 {
            changes.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (count - 1.0)
        } else {
            second_moment
        };
        let standard_error = (variance.max(noise) / count).sqrt();
        let consistent = changes.iter().all(|c| c.signum() == mean.signum());
        if consistent
            && mean.abs() >= TREND_MIN_T * standard_error
            && (mean / 7.0).abs() <= TREND_MAX_PER_DAY
        {
            model.trend_per_day = mean / 7.0;
            wander = variance;
            // The level is a weighted average of days a few days old; bring it up to today.
            model.level_per_hour *= (model.trend_per_day * level_age_days).exp();
        }
    }
    let observed = ((wander - noise) / 7.0).max(0.0);
    model.drift_per_day = (DRIFT_PRIOR_WEIGHT * DRIFT_PRIOR_PER_DAY + count * observed)
        / (DRIFT_PRIOR_WEIGHT + count);
}

/// Burn per hour over the last hour, or the last half hour, when it is a runaway.
fn runaway(ledger: &HourlyBurn, model: &BurnModel, now: f64) -> Option<f64> {
    let hour = ((now - 0.5 * SECONDS_PER_HOUR) / SECONDS_PER_HOUR).floor() as i64;
    let busiest_nearby = (-2..=2)
        .map(|d| model.profile[hour_of_week(hour + d)])
        .fold(0.0_f64, f64::max);
    let threshold = RUNAWAY_RATIO * model.level_per_hour * busiest_nearby.max(1.0);
    // Sustained through the hour: one odd poll in a noisy meter is not a runaway. A runaway
    // that began within the last hour shows over its last half hour instead, held to twice the
    // bar, so that a bug starting at a quarter to is not left a whole hour longer.
    let last_hour = window_rates(ledger, now - SECONDS_PER_HOUR, now)
        .filter(|&(rate, lowest)| rate >= threshold && lowest >= 0.5 * threshold)
        .map(|(rate, _)| (rate, RUNAWAY_OVER_PAST_PEAK));
    let last_half_hour = || {
        window_rates(ledger, now - 0.5 * SECONDS_PER_HOUR, now)
            .filter(|&(rate, lowest)| rate >= 2.0 * threshold && lowest >= threshold)
            .map(|(rate, _)| (rate, 2.0 * RUNAWAY_OVER_PAST_PEAK))
    };
    let (rate, over_past_peak) = last_hour.or_else(last_half_hour)?;
    let n = ledger.len();
    let past_from = n.saturating_sub(14 * HOURS_PER_DAY);
    let past_to = n.saturating_sub(3);
    let mut past: Vec<f64> = (past_from..past_to)
        .filter(|&i| ledger.coverage[i] >= 0.9)
        .map(|i| ledger.burn[i] / ledger.coverage[i])
        .collect();
    if !past.is_empty() {
        past.sort_by(|a, b| a.total_cmp(b));
        let index = ((past.len() - 1) as f64 * RUNAWAY_PEAK_QUANTILE).round() as usize;
        if rate < over_past_peak * past[index.min(past.len() - 1)] {
            return None;
        }
    }
    Some(rate)
}

/// Burn per hour over [from, to), and the lower of its two halves' rates; None when less than half
/// of the window is covered by readings or nothing was spent.
fn window_rates(ledger: &HourlyBurn, from: f64, to: f64) -> Option<(f64, f64)> {
    let middle = (from + to) / 2.0;
    // (spent, covered seconds) in each half.
    let mut halves = [(0.0, 0.0); 2];
    for &(start, end, burn) in &ledger.recent {
        if end <= start {
            continue;
        }
        for (half, (a, b)) in halves.iter_mut().zip([(from, middle), (middle, to)]) {
            let overlap = end.min(b) - start.max(a);
            if overlap > 0.0 {
                half.0 += burn * overlap / (end - start);
                half.1 += overlap;
            }
        }
    }
    let spent = halves[0].0 + halves[1].0;
    let covered = halves[0].1 + halves[1].1;
    if covered < 0.5 * (to - from) || spent <= 0.0 || halves.iter().any(|h| h.1 <= 0.0) {
        return None;
    }
    let per_hour = |(burn, secs): (f64, f64)| burn / (secs / SECONDS_PER_HOUR);
    Some((
        per_hour((spent, covered)),
        per_hour(halves[0]).min(per_hour(halves[1])),
    ))
}
