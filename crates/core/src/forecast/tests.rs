//! Unit tests of the forecaster on synthetic meters.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::source::MeterKind;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
        .single()
        .expect("a valid date")
}

fn balance() -> MeterContext {
    MeterContext {
        kind: MeterKind::Balance,
        limit: None,
        resets: Vec::new(),
    }
}

/// Readings every 15 minutes for `hours`, spending `burn_per_hour(hour)`.
fn meter(initial: f64, hours: usize, burn_per_hour: impl Fn(usize) -> f64) -> Vec<Observation> {
    let mut remaining = initial;
    let mut history = Vec::new();
    for step in 0..=hours * 4 {
        if step > 0 {
            remaining -= burn_per_hour((step - 1) / 4) / 4.0;
        }
        history.push(Observation {
            ts: start() + Duration::minutes(15 * step as i64),
            remaining,
        });
    }
    history
}

fn hours_until(forecast: &Forecast, eta: Option<DateTime<Utc>>) -> f64 {
    let eta = eta.expect("an exhaustion time");
    (eta - forecast.now).num_seconds() as f64 / 3600.0
}

#[test]
fn constant_burn_gives_the_exact_time_to_exhaustion() {
    let history = meter(500.0, 168, |_| 2.0);
    let now = history[history.len() - 1].ts;
    let forecast = forecast(&history, &balance(), now).expect("a forecast");
    // 500 - 168 * 2 = 164 left at 2 per hour.
    assert!((forecast.remaining - 164.0).abs() < 1e-9);
    assert!(
        (forecast.burn_per_hour - 2.0).abs() < 0.02,
        "{}",
        forecast.burn_per_hour
    );
    let p50 = hours_until(&forecast, forecast.eta_p50);
    assert!((p50 - 82.0).abs() < 0.5, "P50 in {p50} h");
    let (p10, p90) = (
        hours_until(&forecast, forecast.eta_p10),
        hours_until(&forecast, forecast.eta_p90),
    );
    assert!(p10 <= p50 && p50 <= p90);
    assert!(!forecast.low_confidence && !forecast.runaway && !forecast.alert);
    assert!(forecast.path.len() > 50);
    assert!(forecast
        .path
        .windows(2)
        .all(|w| w[1].ts > w[0].ts && w[1].p50 <= w[0].p50 + 1e-9));
    assert!(forecast
        .path
        .iter()
        .all(|p| p.p10 <= p.p50 && p.p50 <= p.p90));
}

#[test]
fn a_top_up_is_not_negative_burn() {
    let mut history = meter(300.0, 168, |_| 1.0);
    for observation in history.iter_mut().skip(400) {
        observation.remaining += 200.0;
    }
    let now = history[history.len() - 1].ts;
    let forecast = forecast(&history, &balance(), now).expect("a forecast");
    assert!(
        (forecast.burn_per_hour - 1.0).abs() < 0.02,
        "{}",
        forecast.burn_per_hour
    );
    let p50 = hours_until(&forecast, forecast.eta_p50);
    assert!((p50 - forecast.remaining).abs() < 0.01 * forecast.remaining);
}

#[test]
fn a_reset_starts_a_new_cycle() {
    let limit = 100.0;
    let reset = start() + Duration::hours(120);
    let next_reset = start() + Duration::hours(240);
    let mut history = meter(limit, 168, |_| 0.5);
    for observation in history.iter_mut().filter(|o| o.ts >= reset) {
        observation.remaining = limit - 0.5 * (observation.ts - reset).num_minutes() as f64 / 60.0;
    }
    let ctx = MeterContext {
        kind: MeterKind::Budget,
        limit: Some(limit),
        resets: vec![next_reset, reset],
    };
    let now = history[history.len() - 1].ts;
    let forecast = forecast(&history, &ctx, now).expect("a forecast");
    assert!(
        (forecast.burn_per_hour - 0.5).abs() < 0.01,
        "{}",
        forecast.burn_per_hour
    );
    assert_eq!(forecast.next_reset, Some(next_reset));
    // 76 left, 72 hours to the reset at 0.5 per hour: it lasts; the reset comes first.
    assert_eq!(forecast.eta_p50, None);
    let p = forecast.p_exhausted_before_reset.expect("a probability");
    assert!(p < 0.05, "{p}");
    let spend = forecast.projected_spend_at_reset.expect("a projection");
    assert!((spend - (24.0 + 36.0)).abs() < 1.0, "{spend}");
    assert!(forecast
        .path
        .last()
        .is_some_and(|point| point.ts <= next_reset));
}

#[test]
fn no_burn_gives_no_eta() {
    let history = meter(50.0, 200, |_| 0.0);
    let now = history[history.len() - 1].ts;
    let forecast = forecast(&history, &balance(), now).expect("a forecast");
    assert_eq!(forecast.burn_per_hour, 0.0);
    assert_eq!(forecast.eta_p10, None);
    assert_eq!(forecast.eta_p50, None);
    assert!(!forecast.alert);
}

#[test]
fn garbage_in_gives_a_clear_error() {
    let ctx = balance();
    let now = start() + Duration::days(1);
    assert_eq!(
        forecast(&[], &ctx, now).err(),
        Some(ForecastError::EmptyHistory)
    );

    let mut history = meter(10.0, 4, |_| 1.0);
    history[3].remaining = f64::NAN;
    assert_eq!(
        forecast(&history, &ctx, now).err(),
        Some(ForecastError::NotFinite { index: 3 })
    );

    let mut history = meter(10.0, 4, |_| 1.0);
    history.swap(5, 6);
    assert_eq!(
        forecast(&history, &ctx, now).err(),
        Some(ForecastError::Unsorted { index: 6 })
    );

    let mut history = meter(10.0, 4, |_| 1.0);
    history[7].ts = history[6].ts;
    let error = forecast(&history, &ctx, now).err();
    assert_eq!(error, Some(ForecastError::DuplicateTimestamp { index: 7 }));
    assert!(error.is_some_and(|e| e.to_string().contains("same timestamp")));

    let history = meter(10.0, 4, |_| 1.0);
    let before_any = start() - Duration::hours(1);
    assert_eq!(
        forecast(&history, &ctx, before_any).err(),
        Some(ForecastError::EmptyHistory)
    );
    let bad_limit = MeterContext {
        limit: Some(f64::INFINITY),
        ..ctx
    };
    assert!(matches!(
        forecast(&history, &bad_limit, now),
        Err(ForecastError::InvalidLimit { .. })
    ));
}

#[test]
fn cold_start_is_low_confidence() {
    let history = meter(100.0, 48, |_| 1.0);
    let now = history[history.len() - 1].ts;
    let cold = forecast(&history, &balance(), now).expect("a forecast");
    assert!(cold.low_confidence);
    assert!((cold.burn_per_hour - 1.0).abs() < 1e-6);
    assert!((hours_until(&cold, cold.eta_p50) - 52.0).abs() < 0.5);

    let history = meter(200.0, 96, |_| 1.0);
    let now = history[history.len() - 1].ts;
    assert!(
        !forecast(&history, &balance(), now)
            .expect("a forecast")
            .low_confidence
    );
}

#[test]
fn a_sudden_tenfold_burn_raises_runaway_and_alert_within_an_hour() {
    let mut rng = fastrand::Rng::with_seed(7);
    let noise: Vec<f64> = (0..400).map(|_| 0.8 + 0.4 * rng.f64()).collect();
    let runaway_from = 14 * 24;
    let history = meter(700.0, runaway_from + 1, |hour| {
        if hour >= runaway_from {
            10.0
        } else {
            noise[hour]
        }
    });
    let just_before = start() + Duration::hours(runaway_from as i64);
    let calm = forecast(&history, &balance(), just_before).expect("a forecast");
    assert!(!calm.runaway && !calm.alert);

    let an_hour_in = just_before + Duration::hours(1);
    let alarmed = forecast(&history, &balance(), an_hour_in).expect("a forecast");
    assert!(alarmed.runaway);
    assert!(alarmed.alert);
    assert!(alarmed.burn_per_hour > 5.0);
}

#[test]
fn weekly_rhythm_is_learned() {
    // Office hours on weekdays only; the forecast must know the weekend is quiet.
    let busy = |hour: usize| {
        let day = hour / 24 % 7;
        let clock = hour % 24;
        if day < 5 && (9..17).contains(&clock) {
            3.0
        } else {
            0.1
        }
    };
    let hours = 32 * 24 + 17;
    let spent: f64 = (0..hours).map(busy).sum();
    // 20 left on Friday at 17:00 of the fifth week: a flat run-rate says Saturday; the rhythm
    // says the weekend costs ~5.5, so it lasts until Monday's office hours.
    let history = meter(spent + 20.0, hours, busy);
    let now = history[history.len() - 1].ts;
    let forecast = forecast(&history, &balance(), now).expect("a forecast");
    let expected_weekly = 5.0 * 8.0 * 3.0 + (168.0 - 40.0) * 0.1;
    assert!((forecast.burn_per_hour * 168.0 - expected_weekly).abs() < 0.05 * expected_weekly);
    let p50 = hours_until(&forecast, forecast.eta_p50);
    let monday_nine = 55.0 + 9.0;
    assert!(
        (monday_nine..monday_nine + 8.0).contains(&p50),
        "P50 in {p50} h"
    );
}

#[test]
fn a_gap_between_polls_is_spread_not_zero() {
    let mut history = meter(400.0, 120, |_| 1.0);
    // No readings for the last 12 hours but one: the spend inside the gap is spread over it.
    let last = history.len() - 1;
    history.drain(last - 47..last);
    let now = history[history.len() - 1].ts;
    let forecast = forecast(&history, &balance(), now).expect("a forecast");
    assert!(
        (forecast.burn_per_hour - 1.0).abs() < 0.05,
        "{}",
        forecast.burn_per_hour
    );
}

#[test]
fn a_stale_reading_or_refund_is_not_burn() {
    let mut history = meter(400.0, 120, |_| 1.0);
    // Every tenth reading repeats an old, higher value.
    for i in (10..history.len() - 1).step_by(10) {
        history[i].remaining = history[i - 4].remaining;
    }
    let now = history[history.len() - 1].ts;
    let forecast = forecast(&history, &balance(), now).expect("a forecast");
    assert!(
        (forecast.burn_per_hour - 1.0).abs() < 0.05,
        "{}",
        forecast.burn_per_hour
    );
}

#[test]
fn an_ancient_reading_does_not_stretch_the_window() {
    let mut history = meter(400.0, 120, |_| 1.0);
    history.insert(
        0,
        Observation {
            ts: start() - Duration::days(3650),
            remaining: 10_000.0,
        },
    );
    let now = history[history.len() - 1].ts;
    let started = std::time::Instant::now();
    let forecast = forecast(&history, &balance(), now).expect("a forecast");
    // The decade-long interval is spread thinly over the window; the recent days dominate.
    assert!(forecast.burn_per_hour > 0.5 && forecast.burn_per_hour < 1.05);
    assert!(forecast.eta_p50.is_some());
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn a_meter_not_read_since_is_projected_from_its_last_reading() {
    // 200 - 168 = 32 left at 1 per hour, read last a day before now: 8 hours left, not 32.
    let history = meter(200.0, 168, |_| 1.0);
    let last = history[history.len() - 1].ts;
    let stale = forecast(&history, &balance(), last + Duration::hours(24)).expect("a forecast");
    let p50 = hours_until(&stale, stale.eta_p50);
    assert!((p50 - 8.0).abs() < 1.0, "P50 in {p50} h");
    assert!(stale.alert);
    // Longer unread than it could last: it has probably run out, and the forecast says now.
    let gone = forecast(&history, &balance(), last + Duration::hours(48)).expect("a forecast");
    assert_eq!(gone.eta_p50, Some(gone.now));
}

#[test]
fn a_launch_a_day_and_a_half_ago_sets_the_level_past_an_older_weaker_step() {
    // Two weeks at 1, a week at 2 (too small a step to be a regime), then 10 for 36 hours. The
    // older contrast scores highest but is no regime; the launch is, and the level follows it.
    // (Not all the way: the rhythm has learned part of the launch as busy weekdays. Without the
    // regime the level is a blend of the last days, about 3.5.)
    let launch = 21 * 24;
    let history = meter(20_000.0, launch + 36, |h| match h {
        h if h < 14 * 24 => 1.0,
        h if h < launch => 2.0,
        _ => 10.0,
    });
    let now = history[history.len() - 1].ts;
    let forecast = forecast(&history, &balance(), now).expect("a forecast");
    assert!(!forecast.runaway);
    assert!(
        (5.5..=12.0).contains(&forecast.burn_per_hour),
        "{} per hour",
        forecast.burn_per_hour
    );
}

#[test]
fn a_quiet_spell_the_meter_never_had_is_believed_within_a_day() {
    // Four weeks of steady use, then nothing for 14 hours: the level follows at once instead of
    // waiting two days (which alerted on a meter that had all but stopped).
    let quiet_from = 28 * 24;
    let history = meter(5_000.0, quiet_from + 14, |h| {
        if h < quiet_from {
            2.0
        } else {
            0.0
        }
    });
    let now = history[history.len() - 1].ts;
    let forecast = forecast(&history, &balance(), now).expect("a forecast");
    assert!(
        forecast.burn_per_hour < 0.5,
        "{} per hour",
        forecast.burn_per_hour
    );
}

#[test]
fn a_batch_meters_ordinary_quiet_hours_are_not_a_step_down() {
    // One job of 48 a day at midnight and nothing otherwise: 18 quiet hours since the last job
    // are what every day looks like.
    let history = meter(
        50_000.0,
        28 * 24 + 18,
        |h| if h % 24 == 0 { 48.0 } else { 0.0 },
    );
    let now = history[history.len() - 1].ts;
    let forecast = forecast(&history, &balance(), now).expect("a forecast");
    assert!(
        (forecast.burn_per_hour - 2.0).abs() < 0.5,
        "{} per hour",
        forecast.burn_per_hour
    );
}

#[test]
fn a_runaway_half_an_hour_old_is_raised_when_it_is_twice_as_steep() {
    // A week at about 2 per hour, then 40 per hour for the last two readings only.
    let mut rng = fastrand::Rng::with_seed(11);
    let noise: Vec<f64> = (0..200).map(|_| 1.6 + 0.8 * rng.f64()).collect();
    let mut history = meter(2_000.0, 168, |hour| noise[hour]);
    let len = history.len();
    let extra_per_quarter = (40.0 - 2.0) / 4.0;
    history[len - 2].remaining -= extra_per_quarter;
    history[len - 1].remaining -= 2.0 * extra_per_quarter;
    let now = history[len - 1].ts;
    let forecast = forecast(&history, &balance(), now).expect("a forecast");
    assert!(forecast.runaway, "{forecast:?}");
    assert!(forecast.burn_per_hour > 20.0, "{}", forecast.burn_per_hour);

    // Half as steep over the same half hour is left to the hourly check.
    let mut milder = meter(2_000.0, 168, |hour| noise[hour]);
    milder[len - 2].remaining -= extra_per_quarter / 3.0;
    milder[len - 1].remaining -= 2.0 * extra_per_quarter / 3.0;
    let milder = super::forecast(&milder, &balance(), now).expect("a forecast");
    assert!(!milder.runaway, "{milder:?}");
}
