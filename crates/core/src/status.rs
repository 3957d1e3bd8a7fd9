//! What each meter looks like now: the rows `headroom status` prints and the cards and pages the
//! app shows. Read-only over the store.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::alert::config::RuleBook;
use crate::alert::rules::Condition;
use crate::chart::{self, Point, Tone};
use crate::credentials::Credentials;
use crate::forecast::{self, Forecast, MeterContext, Observation};
use crate::money::format_amount;
use crate::source;
use crate::store::{MeterRow, ReadingRow, SourceRow, Store, StoreError};

/// Below this share of its limit (or of its recent peak, for a balance) a meter is "low".
pub const LOW_FRACTION: f64 = 0.15;
const HISTORY_DAYS: i64 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub enum MeterState {
    Exhausted,
    Failing,
    Low,
    Ok,
    Pending,
}

impl MeterState {
    pub fn as_str(self) -> &'static str {
        match self {
            MeterState::Exhausted => "exhausted",
            MeterState::Failing => "failing",
            MeterState::Low => "low",
            MeterState::Ok => "ok",
            MeterState::Pending => "pending",
        }
    }

    fn tone(self) -> Tone {
        match self {
            MeterState::Exhausted => Tone::Exhausted,
            MeterState::Low => Tone::Low,
            MeterState::Failing | MeterState::Pending => Tone::Muted,
            MeterState::Ok => Tone::Ok,
        }
    }
}

/// One row of `headroom status --json`. Field names are stable: scripts rely on them.
#[derive(Clone, Debug, Serialize)]
pub struct MeterStatus {
    /// `None` for a source that has not produced a reading yet.
    pub meter_id: Option<i64>,
    pub source: String,
    pub provider: String,
    pub meter: Option<String>,
    pub meter_label: Option<String>,
    pub kind: Option<String>,
    pub unit: Option<String>,
    pub remaining: Option<Decimal>,
    pub limit: Option<Decimal>,
    pub used_pct: Option<f64>,
    pub reset: Option<String>,
    pub reset_at: Option<DateTime<Utc>>,
    pub last_poll: Option<DateTime<Utc>>,
    pub last_reading: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// For an exhausted meter: what the provider answered a refused request, in words.
    pub refusal: Option<String>,
    pub forecast: Option<ForecastSummary>,
    pub state: MeterState,
}

/// The forecast as the CLI and the cards show it (the chart also gets the path).
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct ForecastSummary {
    pub eta_p10: Option<DateTime<Utc>>,
    pub eta_p50: Option<DateTime<Utc>>,
    pub eta_p90: Option<DateTime<Utc>>,
    pub burn_per_hour: f64,
    pub next_reset: Option<DateTime<Utc>>,
    pub p_exhausted_before_reset: Option<f64>,
    pub projected_spend_at_reset: Option<f64>,
    pub low_confidence: bool,
    pub runaway: bool,
    /// The default forecast alert: runs out within 72 hours.
    pub alert: bool,
}

impl From<&Forecast> for ForecastSummary {
    fn from(f: &Forecast) -> Self {
        Self {
            eta_p10: f.eta_p10,
            eta_p50: f.eta_p50,
            eta_p90: f.eta_p90,
            burn_per_hour: f.burn_per_hour,
            next_reset: f.next_reset,
            p_exhausted_before_reset: f.p_exhausted_before_reset,
            projected_spend_at_reset: f.projected_spend_at_reset,
            low_confidence: f.low_confidence,
            runaway: f.runaway,
            alert: f.alert,
        }
    }
}

/// Forecasts a meter from its stored history; `None` when there is too little to go on or the
/// history cannot be read as a series (which is logged, not shown as an error).
fn forecast_of(meter: &MeterRow, history: &[ReadingRow]) -> Option<Forecast> {
    // A count of usable keys drops in steps when a key is cut off, not with spending; a burn
    // forecast of it would be noise.
    if history.len() < 2 || meter.unit == "keys" {
        return None;
    }
    let mut observations: Vec<Observation> = Vec::with_capacity(history.len());
    for r in history {
        let Some(remaining) = r.remaining.to_f64() else {
            continue;
        };
        // Two polls in the same millisecond say the same thing; keep the later one.
        if observations.last().is_some_and(|o| o.ts == r.ts) {
            observations.pop();
        }
        observations.push(Observation {
            ts: r.ts,
            remaining,
        });
    }
    let mut resets: Vec<DateTime<Utc>> = history.iter().filter_map(|r| r.reset_at).collect();
    resets.sort();
    resets.dedup();
    let ctx = MeterContext {
        kind: meter.kind,
        limit: history
            .last()
            .and_then(|r| r.limit)
            .and_then(|d| d.to_f64())
            .filter(|l| *l > 0.0),
        resets,
    };
    match forecast::forecast(&observations, &ctx, Utc::now()) {
        Ok(f) => Some(f),
        Err(error) => {
            tracing::warn!(meter = %meter.name, %error, "no forecast");
            None
        }
    }
}

/// Every meter of every source, most urgent first; a source without meters yet gets one row so
/// that its failure is visible.
pub fn meter_statuses(store: &Store) -> Result<Vec<(MeterStatus, Vec<ReadingRow>)>, StoreError> {
    statuses_where(store, None)
}

/// The statuses of one source's meters: what a poll of that source can have changed.
pub fn source_meter_statuses(
    store: &Store,
    source_id: i64,
) -> Result<Vec<(MeterStatus, Vec<ReadingRow>)>, StoreError> {
    statuses_where(store, Some(source_id))
}

fn statuses_where(
    store: &Store,
    only_source: Option<i64>,
) -> Result<Vec<(MeterStatus, Vec<ReadingRow>)>, StoreError> {
    let sources = store.list_sources()?;
    let meters = store.list_meters()?;
    let since = Utc::now() - Duration::days(HISTORY_DAYS);
    let mut rows = Vec::new();
    for source in sources
        .iter()
        .filter(|s| only_source.is_none_or(|id| s.id == id))
    {
        let refusal = recent_refusal(store, source.id)?;
        let mut any = false;
        for meter in meters.iter().filter(|m| m.source_id == source.id) {
            any = true;
            let history = store.readings_since(meter.id, since)?;
            let latest = match history.last() {
                Some(r) => Some(r.clone()),
                None => store.latest_point(meter.id)?,
            };
            let forecast = forecast_of(meter, &history);
            let mut status = status_of(
                source,
                Some(meter),
                latest.as_ref(),
                &history,
                forecast.as_ref(),
            );
            if status.state == MeterState::Exhausted {
                status.refusal.clone_from(&refusal);
            }
            rows.push((status, history));
        }
        if !any {
            rows.push((status_of(source, None, None, &[], None), Vec::new()));
        }
    }
    rows.sort_by(|a, b| {
        (a.0.state, &a.0.source, &a.0.meter).cmp(&(b.0.state, &b.0.source, &b.0.meter))
    });
    Ok(rows)
}

fn status_of(
    source: &SourceRow,
    meter: Option<&MeterRow>,
    latest: Option<&ReadingRow>,
    history: &[ReadingRow],
    forecast: Option<&Forecast>,
) -> MeterStatus {
    let peak = history.iter().map(|r| r.remaining).max();
    let state = match latest {
        None if source.is_failing() => MeterState::Failing,
        None => MeterState::Pending,
        Some(r) if r.remaining <= Decimal::ZERO => MeterState::Exhausted,
        Some(_) if source.is_failing() => MeterState::Failing,
        Some(r) => {
            let reference = r.limit.or(peak).and_then(|d| d.to_f64()).unwrap_or(0.0);
            let left = r.remaining.to_f64().unwrap_or(0.0);
            // Running out within the alert horizon is "low" however much is left now.
            let runs_out_soon = forecast.is_some_and(|f| f.alert || f.runaway);
            if runs_out_soon || (reference > 0.0 && left / reference < LOW_FRACTION) {
                MeterState::Low
            } else {
                MeterState::Ok
            }
        }
    };
    let used_pct = latest.and_then(|r| {
        let limit = r.limit?.to_f64()?;
        let remaining = r.remaining.to_f64()?;
        (limit > 0.0).then(|| ((limit - remaining) / limit * 100.0).clamp(0.0, 100.0))
    });
    MeterStatus {
        meter_id: meter.map(|m| m.id),
        source: source.name.clone(),
        provider: source.kind.clone(),
        meter: meter.map(|m| m.name.clone()),
        meter_label: meter.map(|m| m.label.clone()),
        kind: meter.map(|m| m.kind.as_str().to_string()),
        unit: meter.map(|m| m.unit.clone()),
        remaining: latest.map(|r| r.remaining),
        limit: latest.and_then(|r| r.limit),
        used_pct,
        reset: latest.and_then(|r| r.reset.clone()),
        reset_at: latest.and_then(|r| r.reset_at),
        last_poll: source.last_poll_at,
        last_reading: latest.map(|r| r.ts),
        last_error: source.last_error.clone(),
        refusal: None,
        forecast: forecast.map(ForecastSummary::from),
        state,
    }
}

/// The newest refusal of a request for lack of money in the last week, if any.
fn recent_refusal(store: &Store, source_id: i64) -> Result<Option<String>, StoreError> {
    let week_ago = Utc::now() - Duration::days(7);
    Ok(store
        .recent_events(Some(source_id), 1)?
        .into_iter()
        .find(|e| {
            e.ts > week_ago
                && matches!(
                    e.class.as_deref(),
                    Some(
                        "credits_exhausted"
                            | "spend_limit_reached"
                            | "budget_exceeded"
                            | "payment_failed"
                            | "transient_payment"
                            | "x402_payment_required"
                    )
                )
        })
        .map(|e| e.message))
}

fn points(history: &[ReadingRow]) -> Vec<Point> {
    history
        .iter()
        .filter_map(|r| Some((r.ts, r.remaining.to_f64()?)))
        .collect()
}

/// Keeps at most `max` points, evenly spread, always including the newest.
fn thin(points: Vec<Point>, max: usize) -> Vec<Point> {
    if points.len() <= max {
        return points;
    }
    let step = points.len() as f64 / max as f64;
    let last = points[points.len() - 1];
    let mut out: Vec<Point> = (0..max - 1)
        .map(|i| points[(i as f64 * step) as usize])
        .collect();
    out.push(last);
    out
}

/// A dashboard card: the status in the UI's field names, with its sparkline.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct MeterCard {
    #[ts(type = "number | null")]
    pub meter_id: Option<i64>,
    pub source: String,
    pub provider: String,
    pub provider_label: String,
    pub meter: Option<String>,
    pub meter_label: Option<String>,
    pub kind: Option<String>,
    pub unit: Option<String>,
    #[ts(type = "string | null")]
    pub remaining: Option<Decimal>,
    #[ts(type = "string | null")]
    pub limit: Option<Decimal>,
    pub used_pct: Option<f64>,
    pub reset: Option<String>,
    pub reset_at: Option<DateTime<Utc>>,
    pub last_poll: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub refusal: Option<String>,
    pub forecast: Option<ForecastSummary>,
    pub state: MeterState,
    pub sparkline_svg: String,
}

impl MeterCard {
    fn new(status: MeterStatus, history: &[ReadingRow]) -> Self {
        let limit = status.limit.and_then(|d| d.to_f64());
        let sparkline_svg =
            chart::sparkline_svg(&thin(points(history), 240), limit, status.state.tone());
        Self {
            meter_id: status.meter_id,
            provider_label: source::provider(&status.provider)
                .map(|p| p.label.to_string())
                .unwrap_or_else(|| status.provider.clone()),
            source: status.source,
            provider: status.provider,
            meter: status.meter,
            meter_label: status.meter_label,
            kind: status.kind,
            unit: status.unit,
            remaining: status.remaining,
            limit: status.limit,
            used_pct: status.used_pct,
            reset: status.reset,
            reset_at: status.reset_at,
            last_poll: status.last_poll,
            last_error: status.last_error,
            refusal: status.refusal,
            forecast: status.forecast,
            state: status.state,
            sparkline_svg,
        }
    }
}

pub fn cards(store: &Store) -> Result<Vec<MeterCard>, StoreError> {
    Ok(meter_statuses(store)?
        .into_iter()
        .map(|(status, history)| MeterCard::new(status, &history))
        .collect())
}

/// How far back the meter page's chart looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub enum ChartRange {
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[default]
    #[serde(rename = "30d")]
    Month,
    #[serde(rename = "90d")]
    Quarter,
    /// The whole stored history.
    #[serde(rename = "all")]
    All,
}

impl ChartRange {
    pub const ALL: [ChartRange; 5] = [
        ChartRange::Day,
        ChartRange::Week,
        ChartRange::Month,
        ChartRange::Quarter,
        ChartRange::All,
    ];

    /// How far back from now; `None` for the whole history.
    pub fn span(self) -> Option<Duration> {
        match self {
            ChartRange::Day => Some(Duration::hours(24)),
            ChartRange::Week => Some(Duration::days(7)),
            ChartRange::Month => Some(Duration::days(30)),
            ChartRange::Quarter => Some(Duration::days(90)),
            ChartRange::All => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChartRange::Day => "24h",
            ChartRange::Week => "7d",
            ChartRange::Month => "30d",
            ChartRange::Quarter => "90d",
            ChartRange::All => "all",
        }
    }
}

impl std::str::FromStr for ChartRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ChartRange::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| format!("\"{text}\" is not a chart range; use 24h, 7d, 30d, 90d or all"))
    }
}

/// One reading for the meter page's table.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct ReadingView {
    pub t: DateTime<Utc>,
    #[ts(type = "string")]
    pub remaining: Decimal,
    #[ts(type = "string | null")]
    pub limit: Option<Decimal>,
}

/// An alert threshold of the meter as an amount in its unit, drawn on the chart.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct ThresholdView {
    /// The alert rule: `below_percent` or `below_amount`.
    pub rule: String,
    /// In words, e.g. "Below 15%" or "Below $5.00".
    pub label: String,
    #[ts(type = "string")]
    pub value: Decimal,
}

/// The most rows of the readings table: the newest in the range.
pub const TABLE_READINGS: usize = 500;
/// The most recent events read for the chart's markers.
const MARKER_EVENTS: usize = 5_000;
/// The most recent events listed under the chart.
const LISTED_EVENTS: usize = 20;
/// The most resets listed (a rate window resets all the time); the newest are kept.
const LISTED_RESETS: usize = 200;

#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct MeterDetail {
    /// The card, from the last 30 days whatever the range (as on the dashboard).
    pub card: MeterCard,
    /// The range the chart, the table, the resets and the markers cover.
    pub range: ChartRange,
    pub chart_svg: String,
    /// Where the chart's points, markers and lines are, in the SVG's viewBox units.
    pub chart_coords: chart::ChartCoords,
    /// Readings stored for this meter, in all.
    #[ts(type = "number")]
    pub points: usize,
    /// The first reading stored for this meter.
    pub first_ts: Option<DateTime<Utc>>,
    /// Readings in the range.
    #[ts(type = "number")]
    pub range_points: usize,
    /// The newest readings in the range, newest first; at most 500.
    pub readings: Vec<ReadingView>,
    /// The meter's alert thresholds that are on, as amounts.
    pub thresholds: Vec<ThresholdView>,
    /// When the meter reset within the range, oldest first: a scheduled reset time that has
    /// passed, or a jump up of what remains.
    pub resets: Vec<DateTime<Utc>>,
    /// The source's newest failed requests, newest first.
    pub events: Vec<crate::events::EventView>,
}

pub fn meter_detail(
    store: &Store,
    meter_id: i64,
    range: ChartRange,
) -> Result<MeterDetail, StoreError> {
    let meter = store.meter(meter_id)?;
    let source = store.source_by_id(meter.source_id)?;
    let now = Utc::now();
    let card_since = now - Duration::days(HISTORY_DAYS);
    let range_since = range.span().map(|span| now - span);
    // Past the raw readings' 90 days, the older part comes from the hourly roll-ups.
    let loaded = store.history_since(
        meter_id,
        range_since.map_or(DateTime::UNIX_EPOCH, |s| s.min(card_since)),
    )?;
    let history = &loaded[loaded.partition_point(|r| r.ts < card_since)..];
    let shown = match range_since {
        Some(since) => &loaded[loaded.partition_point(|r| r.ts < since)..],
        None => &loaded[..],
    };
    let latest = match history.last() {
        Some(r) => Some(r.clone()),
        None => store.latest_point(meter_id)?,
    };
    let forecast = forecast_of(&meter, history);
    let mut status = status_of(
        &source,
        Some(&meter),
        latest.as_ref(),
        history,
        forecast.as_ref(),
    );
    if status.state == MeterState::Exhausted {
        status.refusal = recent_refusal(store, source.id)?;
    }
    let limit = status.limit.filter(|l| *l > Decimal::ZERO);
    let shown_from = range_since.or(shown.first().map(|r| r.ts)).unwrap_or(now);
    let outlook = forecast
        .as_ref()
        .filter(|_| status.state != MeterState::Exhausted)
        .map(|f| {
            // Look no further ahead than the chart looks back, so the past stays readable.
            let shown_until = f.now + (now - shown_from).max(Duration::days(1));
            chart::Outlook {
                band: f
                    .path
                    .iter()
                    .filter(|p| p.ts <= shown_until)
                    .map(|p| (p.ts, p.p10, p.p50, p.p90))
                    .collect(),
                next_reset: f.next_reset.filter(|r| *r <= shown_until),
            }
        })
        .unwrap_or_default();

    let thresholds = thresholds_of(store, meter_id, limit, &meter.unit)?;
    let resets = resets_of(shown, now);
    let recent = store.recent_events(Some(source.id), MARKER_EVENTS)?;
    let chart_events: Vec<chart::ChartEvent> = recent
        .iter()
        .take_while(|e| e.ts >= shown_from)
        .map(|e| chart::ChartEvent {
            id: e.id,
            t: e.ts,
            status: e.status,
            class: e.class.clone(),
        })
        .collect();
    let chart_thresholds: Vec<chart::ChartThreshold> = thresholds
        .iter()
        .filter_map(|t| {
            Some(chart::ChartThreshold {
                label: t.label.clone(),
                value: t.value.to_f64()?,
            })
        })
        .collect();
    let shown_points = points_of(shown);
    let rendered = chart::history_chart(
        &chart::HistoryInput {
            points: &shown_points,
            limit: limit.and_then(|d| d.to_f64()),
            unit: &meter.unit,
            tone: status.state.tone(),
            outlook: &outlook,
            thresholds: &chart_thresholds,
            resets: &resets,
            events: &chart_events,
        },
        &|i| shown[i].remaining.to_string(),
    );
    let events = crate::events::list(
        store,
        &crate::events::EventFilter {
            source: Some(source.name.clone()),
            limit: Some(LISTED_EVENTS),
            ..Default::default()
        },
    )?;
    let readings = shown
        .iter()
        .rev()
        .take(TABLE_READINGS)
        .map(|r| ReadingView {
            t: r.ts,
            remaining: r.remaining,
            limit: r.limit,
        })
        .collect();
    let (points, first_ts) = store.reading_span(meter_id)?;
    Ok(MeterDetail {
        card: MeterCard::new(status, history),
        range,
        chart_svg: rendered.svg,
        chart_coords: rendered.coords,
        points,
        first_ts,
        range_points: shown.len(),
        readings,
        thresholds,
        resets: resets
            .iter()
            .skip(resets.len().saturating_sub(LISTED_RESETS))
            .copied()
            .collect(),
        events,
    })
}

/// Every reading as a chart point, index for index (a decimal always has an `f64` near it).
fn points_of(history: &[ReadingRow]) -> Vec<Point> {
    history
        .iter()
        .map(|r| (r.ts, r.remaining.to_f64().unwrap_or_default()))
        .collect()
}

/// The meter's `below_percent` (as an amount of its limit, when it has one) and `below_amount`
/// thresholds, when those rules are on for it.
fn thresholds_of(
    store: &Store,
    meter_id: i64,
    limit: Option<Decimal>,
    unit: &str,
) -> Result<Vec<ThresholdView>, StoreError> {
    let mut out = Vec::new();
    for (rule, enabled) in RuleBook::load(store)?.rules_for(Some(meter_id)) {
        if !enabled {
            continue;
        }
        match rule.condition {
            Condition::BelowPercent(percent) => {
                let (Some(limit), Ok(share)) = (limit, Decimal::from_str(&percent.to_string()))
                else {
                    continue;
                };
                out.push(ThresholdView {
                    rule: rule.name.to_string(),
                    label: format!("Below {percent}%"),
                    value: (limit * share / Decimal::ONE_HUNDRED).normalize(),
                });
            }
            Condition::BelowAmount(amount) => out.push(ThresholdView {
                rule: rule.name.to_string(),
                label: format!("Below {}", format_amount(amount, unit)),
                value: amount.normalize(),
            }),
            _ => {}
        }
    }
    Ok(out)
}

/// When the meter reset, oldest first: each scheduled reset time a reading announced that has
/// passed by `now` within the readings' span, and each jump up of what remains (by more than
/// half a percent of the limit, or of what remained) that no such time explains.
fn resets_of(history: &[ReadingRow], now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let (Some(first), Some(last)) = (history.first(), history.last()) else {
        return Vec::new();
    };
    let end = now.max(last.ts);
    let mut scheduled: Vec<DateTime<Utc>> = history
        .iter()
        .filter_map(|r| r.reset_at)
        .filter(|t| *t >= first.ts && *t <= end)
        .collect();
    scheduled.sort();
    scheduled.dedup();
    let mut resets = scheduled.clone();
    let half_percent = Decimal::new(5, 3);
    for pair in history.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        let rise = after.remaining - before.remaining;
        if rise <= Decimal::ZERO {
            continue;
        }
        let reference = after
            .limit
            .or(before.limit)
            .filter(|l| *l > Decimal::ZERO)
            .unwrap_or(before.remaining.max(Decimal::ZERO));
        if rise <= reference * half_percent {
            continue;
        }
        let from = scheduled.partition_point(|t| *t < before.ts);
        let explained = scheduled.get(from).is_some_and(|t| *t <= after.ts);
        if !explained {
            resets.push(after.ts);
        }
    }
    resets.sort();
    resets.dedup();
    resets
}

/// A configured source as the settings page and `sources list` show it.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct SourceView {
    pub name: String,
    pub kind: String,
    pub base_url: String,
    /// Where the key lives, in words; never the key.
    pub key_ref: String,
    pub management_key_ref: Option<String>,
    #[ts(type = "number")]
    pub interval_secs: u64,
    pub last_poll: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The provider's own settings (a monthly budget, a team id, …); never secrets.
    #[ts(type = "Record<string, string>")]
    pub options: crate::source::SourceOptions,
}

impl From<&SourceRow> for SourceView {
    fn from(row: &SourceRow) -> Self {
        Self {
            name: row.name.clone(),
            kind: row.kind.clone(),
            base_url: row.base_url.clone(),
            key_ref: row
                .key_ref
                .as_deref()
                .map(Credentials::describe)
                .unwrap_or_else(|| "none".into()),
            management_key_ref: row.management_key_ref.as_deref().map(Credentials::describe),
            interval_secs: row.interval_secs,
            last_poll: row.last_poll_at,
            last_error: row.last_error.clone(),
            options: row.options.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{MeterKind, MeterSpec, PollFailure, Reading};
    use crate::store::sources::tests::sample;
    use crate::store::RuleSetting;

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Store,
        source_id: i64,
        meter_id: i64,
    }

    fn reading(remaining: Decimal, reset_at: Option<DateTime<Utc>>) -> Reading {
        Reading {
            meter: MeterSpec {
                name: "budget".into(),
                label: "Monthly budget".into(),
                kind: MeterKind::Budget,
                unit: "USD".into(),
            },
            remaining,
            limit: Some(Decimal::from(100)),
            used: None,
            reset: None,
            reset_at,
        }
    }

    /// `hours` hourly readings ending now, from `remaining(h)` (h = 0 is the oldest).
    fn fixture(hours: i64, remaining: impl Fn(i64) -> Decimal) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let source_id = store.add_source(&sample("acct")).unwrap().id;
        let now = Utc::now();
        let history: Vec<_> = (0..hours)
            .map(|h| {
                let at = now - Duration::hours(hours - 1 - h);
                (at, reading(remaining(h), None))
            })
            .collect();
        store.insert_history(source_id, &history).unwrap();
        let meter_id = store.list_meters().unwrap()[0].id;
        Fixture {
            _dir: dir,
            store,
            source_id,
            meter_id,
        }
    }

    fn falling(hours: i64) -> Fixture {
        // 100 down to 4 over the history, in cents, so amounts have exact decimals.
        fixture(hours, move |h| Decimal::new(10_000 - h * 9_600 / hours, 2))
    }

    fn fail(fx: &Fixture, source_id: i64, at: DateTime<Utc>, status: u16) {
        let failure = PollFailure {
            endpoint: "/api/v1/key".into(),
            status: Some(status),
            message: "Payment required".into(),
            excerpt: String::new(),
            ..PollFailure::default()
        };
        fx.store.insert_event(source_id, at, &failure).unwrap();
    }

    #[test]
    fn the_range_reads_as_its_name_in_typescript() {
        assert_eq!(serde_json::to_string(&ChartRange::Day).unwrap(), "\"24h\"");
        assert_eq!(
            serde_json::from_str::<ChartRange>("\"all\"").unwrap(),
            ChartRange::All
        );
        assert_eq!(ChartRange::default(), ChartRange::Month);
        assert_eq!("90D".parse::<ChartRange>(), Ok(ChartRange::Quarter));
        assert!("1y".parse::<ChartRange>().is_err());
    }

    #[test]
    fn a_day_shows_only_the_last_day_and_all_shows_everything() {
        let fx = falling(40 * 24);
        let now = Utc::now();
        let day = meter_detail(&fx.store, fx.meter_id, ChartRange::Day).unwrap();
        assert_eq!(day.range, ChartRange::Day);
        assert!(
            (24..=25).contains(&day.range_points),
            "{}",
            day.range_points
        );
        assert_eq!(day.readings.len(), day.range_points);
        let since = now - Duration::hours(24) - Duration::seconds(5);
        assert!(day.readings.iter().all(|r| r.t >= since));
        assert!(day.chart_coords.points.iter().all(|p| p.t >= since));
        assert!(
            day.readings.windows(2).all(|w| w[0].t > w[1].t),
            "newest first"
        );
        // The totals and the card do not depend on the range.
        assert_eq!(day.points, 40 * 24);
        let month = meter_detail(&fx.store, fx.meter_id, ChartRange::Month).unwrap();
        assert!((720..=721).contains(&month.range_points));
        assert_eq!(month.card.remaining, day.card.remaining);
        assert_eq!(month.first_ts, day.first_ts);

        let all = meter_detail(&fx.store, fx.meter_id, ChartRange::All).unwrap();
        assert_eq!(all.range_points, 40 * 24);
        let hover = &all.chart_coords.points;
        assert_eq!(hover.first().map(|p| p.t), all.first_ts);
        assert_eq!(hover.last().map(|p| p.t), all.readings.first().map(|r| r.t));
        assert_eq!(hover.first().unwrap().x, all.chart_coords.plot.left);
        // Exact decimal text for the table and the hover points.
        let json = serde_json::to_value(&all).unwrap();
        assert_eq!(json["readings"][0]["remaining"], "4.10");
        assert_eq!(json["chartCoords"]["points"][0]["value"], "100.00");
    }

    #[test]
    fn the_table_holds_the_newest_readings_only() {
        let fx = falling(90 * 24);
        let all = meter_detail(&fx.store, fx.meter_id, ChartRange::All).unwrap();
        assert_eq!(all.readings.len(), TABLE_READINGS);
        assert_eq!(all.range_points, 90 * 24);
        let width = (all.chart_coords.plot.right - all.chart_coords.plot.left) as usize;
        assert!(all.chart_coords.points.len() <= width);
    }

    #[test]
    fn thresholds_are_the_meters_rules_as_amounts() {
        let fx = falling(48);
        let detail = meter_detail(&fx.store, fx.meter_id, ChartRange::Day).unwrap();
        let pairs: Vec<(&str, String)> = detail
            .thresholds
            .iter()
            .map(|t| (t.label.as_str(), t.value.to_string()))
            .collect();
        assert_eq!(
            pairs,
            [("Below 15%", "15".to_string())],
            "the built-in rule"
        );

        fx.store
            .save_rule_settings(&[
                RuleSetting {
                    meter_id: Some(fx.meter_id),
                    rule: "below_percent".into(),
                    value: Some("12.5".into()),
                    enabled: true,
                },
                RuleSetting {
                    meter_id: Some(fx.meter_id),
                    rule: "below_amount".into(),
                    value: Some("30".into()),
                    enabled: true,
                },
            ])
            .unwrap();
        let detail = meter_detail(&fx.store, fx.meter_id, ChartRange::Day).unwrap();
        let values: Vec<(&str, String)> = detail
            .thresholds
            .iter()
            .map(|t| (t.rule.as_str(), t.value.to_string()))
            .collect();
        assert_eq!(
            values,
            [
                ("below_percent", "12.5".to_string()),
                ("below_amount", "30".to_string())
            ]
        );
        assert_eq!(detail.chart_coords.thresholds.len(), 2);
        assert!(
            detail.chart_svg.contains("Below $30"),
            "labelled in the unit"
        );

        fx.store
            .save_rule_settings(&[RuleSetting {
                meter_id: Some(fx.meter_id),
                rule: "below_percent".into(),
                value: None,
                enabled: false,
            }])
            .unwrap();
        let detail = meter_detail(&fx.store, fx.meter_id, ChartRange::Day).unwrap();
        assert_eq!(detail.thresholds.len(), 1, "a rule turned off is not drawn");
    }

    #[test]
    fn resets_are_the_jumps_up_and_the_reset_times_that_passed() {
        // Two cycles of 24 hours: 100 falling to 54, then back to 100.
        let fx = fixture(72, |h| Decimal::from(100 - 2 * (h % 24)));
        let detail = meter_detail(&fx.store, fx.meter_id, ChartRange::Week).unwrap();
        let readings: Vec<&ReadingView> = detail.readings.iter().rev().collect();
        assert_eq!(
            detail.resets,
            [readings[24].t, readings[48].t],
            "each jump up, at the reading that shows it"
        );
        assert_eq!(detail.chart_coords.resets.len(), 2);

        // A scheduled reset time explains its jump: one reset, at that time.
        let history = fx
            .store
            .readings_since(fx.meter_id, DateTime::UNIX_EPOCH)
            .unwrap();
        let announced = history[23].ts + Duration::minutes(10);
        let rows = [(
            history[0].ts - Duration::hours(2),
            reading(Decimal::from(100), Some(announced)),
        )];
        fx.store.insert_history(fx.source_id, &rows).unwrap();
        let detail = meter_detail(&fx.store, fx.meter_id, ChartRange::Week).unwrap();
        assert_eq!(detail.resets, [announced, history[48].ts]);
    }

    #[test]
    fn markers_are_the_sources_failures_within_the_range() {
        let fx = falling(40 * 24);
        let other = fx.store.add_source(&sample("other")).unwrap().id;
        let now = Utc::now();
        fail(&fx, fx.source_id, now - Duration::hours(3), 402);
        fail(&fx, fx.source_id, now - Duration::hours(20), 429);
        fail(&fx, fx.source_id, now - Duration::days(3), 500);
        fail(&fx, other, now - Duration::hours(5), 402);
        let day = meter_detail(&fx.store, fx.meter_id, ChartRange::Day).unwrap();
        let statuses: Vec<Option<u16>> = day.chart_coords.events.iter().map(|m| m.status).collect();
        assert_eq!(
            statuses,
            [Some(429), Some(402)],
            "oldest first, this source only"
        );
        assert_eq!(day.events.len(), 3, "the list keeps the recent failures");
        let week = meter_detail(&fx.store, fx.meter_id, ChartRange::Week).unwrap();
        assert_eq!(week.chart_coords.events.len(), 3);
        let marker = &day.chart_coords.events[1];
        // The forecast takes the right of the chart: the line ends at the newest reading.
        let left = day.chart_coords.plot.left as f64;
        let newest = day.chart_coords.points.last().unwrap();
        let first = day.readings.last().unwrap().t;
        let share = (marker.t - first).num_milliseconds() as f64
            / (newest.t - first).num_milliseconds() as f64;
        let x = left + share * (newest.x as f64 - left);
        assert!((marker.x as f64 - x).abs() <= 1.0, "{} vs {x}", marker.x);
    }
}
