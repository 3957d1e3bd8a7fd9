//! What each meter looks like now: the rows `headroom status` prints and the cards and pages the
//! app shows. Read-only over the store.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use ts_rs::TS;

use crate::chart::{self, Point, Tone};
use crate::credentials::Credentials;
use crate::forecast::{self, Forecast, MeterContext, Observation};
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
    let sources = store.list_sources()?;
    let meters = store.list_meters()?;
    let since = Utc::now() - Duration::days(HISTORY_DAYS);
    let mut rows = Vec::new();
    for source in &sources {
        let refusal = recent_refusal(store, source.id)?;
        let mut any = false;
        for meter in meters.iter().filter(|m| m.source_id == source.id) {
            any = true;
            let history = store.readings_since(meter.id, since)?;
            let latest = match history.last() {
                Some(r) => Some(r.clone()),
                None => store.latest_reading(meter.id)?,
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

#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct EventView {
    pub ts: DateTime<Utc>,
    pub status: Option<u16>,
    pub endpoint: String,
    pub message: String,
    pub excerpt: String,
    /// Which failure it was (`credits_exhausted`, `rate_limited`, …), when it had an HTTP answer.
    pub class: Option<String>,
}

#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct MeterDetail {
    pub card: MeterCard,
    pub chart_svg: String,
    #[ts(type = "number")]
    pub points: usize,
    pub first_ts: Option<DateTime<Utc>>,
    pub events: Vec<EventView>,
}

pub fn meter_detail(store: &Store, meter_id: i64) -> Result<MeterDetail, StoreError> {
    let meter = store.meter(meter_id)?;
    let source = store.source_by_id(meter.source_id)?;
    let history = store.readings_since(meter_id, Utc::now() - Duration::days(HISTORY_DAYS))?;
    let latest = match history.last() {
        Some(r) => Some(r.clone()),
        None => store.latest_reading(meter_id)?,
    };
    let forecast = forecast_of(&meter, &history);
    let mut status = status_of(
        &source,
        Some(&meter),
        latest.as_ref(),
        &history,
        forecast.as_ref(),
    );
    if status.state == MeterState::Exhausted {
        status.refusal = recent_refusal(store, source.id)?;
    }
    let limit = status.limit.and_then(|d| d.to_f64());
    let outlook = forecast
        .as_ref()
        .filter(|_| status.state != MeterState::Exhausted)
        .map(|f| {
            // Look no further ahead than the history looks back, so the past stays readable.
            let shown_until = f.now + Duration::days(HISTORY_DAYS);
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
    let chart_svg = chart::history_svg(
        &thin(points(&history), 1500),
        limit,
        &meter.unit,
        status.state.tone(),
        &outlook,
    );
    let events = store
        .recent_events(Some(source.id), 20)?
        .into_iter()
        .map(|e| EventView {
            ts: e.ts,
            status: e.status,
            endpoint: e.endpoint,
            message: e.message,
            excerpt: e.excerpt,
            class: e.class,
        })
        .collect();
    Ok(MeterDetail {
        points: history.len(),
        first_ts: history.first().map(|r| r.ts),
        card: MeterCard::new(status, &history),
        chart_svg,
        events,
    })
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
