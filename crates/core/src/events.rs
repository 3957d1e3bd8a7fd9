//! Failed requests as the app and the CLI show them: lists filtered by source, class, status and
//! time, counts per class over time for the errors chart, and the drill-down from one event to
//! the request, the reason and the fix.
//!
//! The explanation and remedies of an event are worked out again from its stored evidence each
//! time it is opened, so that an event recorded months ago reads with today's advice.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::alert::{self, AlertView};
use crate::classify::{classify, Classification};
use crate::source::{self, EventOrigin};
use crate::store::events::EventQuery;
use crate::store::{EventRow, Store, StoreError};

/// How many events a list holds when the filter sets no limit.
pub const DEFAULT_LIMIT: usize = 500;

/// One failed request. Field names are snake_case and stable: `headroom events --json` prints
/// exactly this, and scripts rely on it. (Exported to TypeScript as `EventRecord`, because the
/// meter page's shorter `status::EventView` already has the name there.)
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct EventView {
    #[ts(type = "number")]
    pub id: i64,
    /// When the request failed: the poll's time, or the time the gateway logged it.
    pub time: DateTime<Utc>,
    pub source: String,
    #[ts(type = "number")]
    pub source_id: i64,
    pub origin: EventOrigin,
    pub method: Option<String>,
    /// The full request URL, redacted.
    pub url: Option<String>,
    pub endpoint: String,
    pub status: Option<u16>,
    /// Which failure it was (`credits_exhausted`, `rate_limited`, …), when it had an HTTP answer.
    pub class: Option<String>,
    pub message: String,
    /// The start of the response body, redacted.
    pub excerpt: String,
    /// The gateway's id of the request, for finding it in the gateway's own logs.
    pub external_id: Option<String>,
}

/// Which events to show. Every field left out matches all; the filtering is done in SQL.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct EventFilter {
    /// A source's name.
    #[ts(optional = nullable)]
    pub source: Option<String>,
    /// A class name (see `FailureClass`); `unclassified` for events without one.
    #[ts(optional = nullable)]
    pub class: Option<String>,
    #[ts(optional = nullable)]
    pub status: Option<u16>,
    #[ts(optional = nullable)]
    pub since: Option<DateTime<Utc>>,
    #[ts(optional = nullable)]
    pub until: Option<DateTime<Utc>>,
    /// At most this many, newest first; 500 when not given.
    #[ts(optional = nullable, type = "number")]
    pub limit: Option<usize>,
}

/// How many events of one class fell in one time bucket, for the errors-over-time chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct ClassCount {
    /// The start of the bucket (buckets are counted from the Unix epoch, so hours and days start
    /// on UTC boundaries).
    pub start: DateTime<Utc>,
    pub class: String,
    pub count: u32,
}

/// Everything the event page shows: the request, what came back, which failure it was, what to
/// do about it, and where to look next.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct EventDetail {
    pub event: EventView,
    /// The source's provider kind (`openrouter`, `litellm`, …) and how people call it.
    pub provider: String,
    pub provider_label: String,
    /// Worked out again from the stored status, headers and body; `None` for events without an
    /// HTTP failure status (a refused connection, an answer that could not be read).
    pub classification: Option<Classification>,
    /// The body excerpt, indented when it is JSON.
    pub body_pretty: String,
    /// The response headers that were kept (credentials were never stored).
    pub headers: Vec<(String, String)>,
    /// The source's alerts whose episode was open when the request failed.
    pub related_alerts: Vec<AlertView>,
    /// The source's meters, to show each meter's chart around the event.
    #[ts(type = "Array<number>")]
    pub meter_ids: Vec<i64>,
}

/// The events `filter` matches, newest first.
pub fn list(store: &Store, filter: &EventFilter) -> Result<Vec<EventView>, StoreError> {
    let names = source_names(store)?;
    let query = query_of(store, filter)?;
    Ok(store
        .query_events(&query)?
        .into_iter()
        .map(|row| view(row, &names))
        .collect())
}

/// How many events of each class `filter` matches per `bucket` of time, oldest first. Buckets
/// shorter than a minute are counted per minute: no chart shows finer. The filter's limit does
/// not apply.
pub fn class_counts(
    store: &Store,
    filter: &EventFilter,
    bucket: Duration,
) -> Result<Vec<ClassCount>, StoreError> {
    let query = query_of(store, filter)?;
    let bucket_ms = bucket.num_milliseconds().max(60_000);
    Ok(store
        .count_events_by_class(&query, bucket_ms)?
        .into_iter()
        .map(|(start, class, count)| ClassCount {
            start,
            class,
            count,
        })
        .collect())
}

/// One event with its evidence, classification, alerts and meters.
pub fn detail(store: &Store, id: i64) -> Result<EventDetail, StoreError> {
    let row = store.event(id)?;
    let source = store.source_by_id(row.source_id)?;
    let provider_label = source::provider(&source.kind)
        .map_or(source.kind.as_str(), |p| p.label)
        .to_string();
    let classification = row
        .status
        .filter(|status| !(200..300).contains(status))
        .map(|status| classify(&source.kind, status, &row.headers, row.excerpt.as_bytes()));
    let body_pretty = serde_json::from_str::<serde_json::Value>(&row.excerpt)
        .ok()
        .and_then(|json| serde_json::to_string_pretty(&json).ok())
        .unwrap_or_else(|| row.excerpt.clone());
    let at = row.ts;
    let related_alerts = alert::views(store)?
        .into_iter()
        .filter(|a| {
            a.source == source.name
                && a.fired_at <= at
                && a.resolved_at.is_none_or(|resolved| resolved >= at)
        })
        .collect();
    let meter_ids = store
        .list_meters()?
        .into_iter()
        .filter(|m| m.source_id == source.id)
        .map(|m| m.id)
        .collect();
    let headers = row.headers.clone();
    let names = HashMap::from([(source.id, source.name.clone())]);
    Ok(EventDetail {
        event: view(row, &names),
        provider: source.kind,
        provider_label,
        classification,
        body_pretty,
        headers,
        related_alerts,
        meter_ids,
    })
}

fn source_names(store: &Store) -> Result<HashMap<i64, String>, StoreError> {
    Ok(store
        .list_sources()?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
}

/// The store's query for a filter; a source name nobody has is an error that says so, rather
/// than an empty list that looks like good news.
fn query_of(store: &Store, filter: &EventFilter) -> Result<EventQuery, StoreError> {
    let source_id = match filter.source.as_deref() {
        None => None,
        Some(name) => Some(
            store
                .source_by_name(name)?
                .ok_or_else(|| {
                    StoreError::NotFound(format!(
                        "there is no source named \"{name}\" (see `headroom sources list`)"
                    ))
                })?
                .id,
        ),
    };
    Ok(EventQuery {
        source_id,
        class: filter.class.clone(),
        status: filter.status,
        since: filter.since,
        until: filter.until,
        limit: Some(filter.limit.unwrap_or(DEFAULT_LIMIT)),
    })
}

fn view(row: EventRow, names: &HashMap<i64, String>) -> EventView {
    EventView {
        id: row.id,
        time: row.ts,
        source: names.get(&row.source_id).cloned().unwrap_or_default(),
        source_id: row.source_id,
        origin: row.origin,
        method: row.method,
        url: row.url,
        endpoint: row.endpoint,
        status: row.status,
        class: row.class,
        message: row.message,
        excerpt: row.excerpt,
        external_id: row.external_id,
    }
}
