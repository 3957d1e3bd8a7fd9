//! The `events` table: failed requests, with time, status, words, and the redacted evidence (the
//! request, the response headers and the start of its body).

use chrono::{DateTime, Utc};
use rusqlite::{params, Row};

use super::{from_millis, to_millis, Result, Store, StoreError};
use crate::source::{EventOrigin, PollFailure};

pub(super) const V1: &str = "
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    ts INTEGER NOT NULL,
    endpoint TEXT NOT NULL,
    status INTEGER,
    message TEXT NOT NULL,
    excerpt TEXT NOT NULL
);
CREATE INDEX events_by_source_time ON events (source_id, ts);";

/// Which failure each event was (see `classify`); older events have none.
pub(super) const V2: &str = "ALTER TABLE events ADD COLUMN class TEXT;";

/// The evidence behind each event, for the drill-down from a red card to the failed request.
/// Events from a gateway's request log carry the gateway's request id: the partial unique index
/// lets re-reading the same log store nothing new, while poll events (no id) are never merged.
pub(super) const V3: &str = "
ALTER TABLE events ADD COLUMN method TEXT;
ALTER TABLE events ADD COLUMN url TEXT;
ALTER TABLE events ADD COLUMN headers TEXT;
ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT 'poll';
ALTER TABLE events ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX events_once_per_request ON events (source_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX events_by_time ON events (ts);";

/// The class counted for events that have none (transport failures, unreadable answers).
pub const UNCLASSIFIED: &str = "unclassified";

const COLUMNS: &str =
    "id, source_id, ts, endpoint, status, message, excerpt, class, method, url, headers, origin, external_id";

#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub id: i64,
    pub source_id: i64,
    /// When the request failed: the poll's time, or the time a gateway logged it.
    pub ts: DateTime<Utc>,
    pub endpoint: String,
    pub status: Option<u16>,
    pub message: String,
    pub excerpt: String,
    pub class: Option<String>,
    pub method: Option<String>,
    pub url: Option<String>,
    pub headers: Vec<(String, String)>,
    pub origin: EventOrigin,
    pub external_id: Option<String>,
}

impl EventRow {
    fn from_row(row: &Row) -> rusqlite::Result<Self> {
        let headers: Option<String> = row.get(10)?;
        let origin: String = row.get(11)?;
        Ok(Self {
            id: row.get(0)?,
            source_id: row.get(1)?,
            ts: from_millis(row.get(2)?),
            endpoint: row.get(3)?,
            status: row.get(4)?,
            message: row.get(5)?,
            excerpt: row.get(6)?,
            class: row.get(7)?,
            method: row.get(8)?,
            url: row.get(9)?,
            // Written by this module as JSON; anything else is shown as no headers.
            headers: headers
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default(),
            origin: EventOrigin::parse(&origin),
            external_id: row.get(12)?,
        })
    }
}

/// Which events to read; every field left `None` matches all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventQuery {
    pub source_id: Option<i64>,
    /// A class name; [`UNCLASSIFIED`] matches the events without one.
    pub class: Option<String>,
    pub status: Option<u16>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: Option<usize>,
}

/// The filter part of every query over [`EventQuery`]; its parameters are ?1 to ?5.
const MATCHING: &str = "(?1 IS NULL OR source_id = ?1)
    AND (?2 IS NULL OR COALESCE(class, 'unclassified') = ?2)
    AND (?3 IS NULL OR status = ?3)
    AND (?4 IS NULL OR ts >= ?4)
    AND (?5 IS NULL OR ts <= ?5)";

impl Store {
    /// Stores a failure at `at`, or at the time it says it happened. The caller has already
    /// redacted it. A gateway request stored before is skipped: returns whether it was new.
    pub fn insert_event(
        &self,
        source_id: i64,
        at: DateTime<Utc>,
        failure: &PollFailure,
    ) -> Result<bool> {
        let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let evidence = &failure.evidence;
        let headers = match evidence.headers.is_empty() {
            true => None,
            false => serde_json::to_string(&evidence.headers).ok(),
        };
        let inserted = self.conn().execute(
            "INSERT OR IGNORE INTO events
                 (source_id, ts, endpoint, status, message, excerpt, class, method, url, headers, origin, external_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                source_id,
                to_millis(evidence.occurred_at.unwrap_or(at)),
                failure.endpoint,
                failure.status,
                failure.message,
                failure.excerpt,
                failure.class.map(|c| c.as_str()),
                text(&evidence.method),
                text(&evidence.url),
                headers,
                failure.origin.as_str(),
                evidence.external_id,
            ],
        )?;
        Ok(inserted > 0)
    }

    /// Every event since `since`, newest first.
    pub fn events_since(&self, since: DateTime<Utc>) -> Result<Vec<EventRow>> {
        self.query_events(&EventQuery {
            since: Some(since),
            ..EventQuery::default()
        })
    }

    /// The newest events of a source (or of every source), newest first.
    pub fn recent_events(&self, source_id: Option<i64>, limit: usize) -> Result<Vec<EventRow>> {
        self.query_events(&EventQuery {
            source_id,
            limit: Some(limit),
            ..EventQuery::default()
        })
    }

    /// The events `query` matches, newest first.
    pub fn query_events(&self, query: &EventQuery) -> Result<Vec<EventRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM events WHERE {MATCHING}
             ORDER BY ts DESC, id DESC LIMIT ?6"
        ))?;
        // SQLite reads a negative limit as none.
        let limit = query.limit.map_or(-1, |l| l.min(i64::MAX as usize) as i64);
        let rows = stmt.query_map(
            params![
                query.source_id,
                query.class,
                query.status,
                query.since.map(to_millis),
                query.until.map(to_millis),
                limit
            ],
            EventRow::from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many events of each class `query` matches per time bucket of `bucket_ms`, counted
    /// from the Unix epoch so that hours and days fall on UTC boundaries: (bucket start, class,
    /// count), oldest bucket first. The query's limit does not apply.
    pub fn count_events_by_class(
        &self,
        query: &EventQuery,
        bucket_ms: i64,
    ) -> Result<Vec<(DateTime<Utc>, String, u32)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT (ts / ?6) * ?6 AS bucket, COALESCE(class, 'unclassified') AS kind, COUNT(*)
             FROM events WHERE {MATCHING}
             GROUP BY bucket, kind ORDER BY bucket, kind"
        ))?;
        let rows = stmt.query_map(
            params![
                query.source_id,
                query.class,
                query.status,
                query.since.map(to_millis),
                query.until.map(to_millis),
                bucket_ms.max(1)
            ],
            |row| Ok((from_millis(row.get(0)?), row.get(1)?, row.get(2)?)),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many failures Headroom's own polls have recorded per source id, ever: a counter that
    /// only grows while the source exists. Gateway log entries are other clients' requests and
    /// are not counted.
    pub fn poll_failures_by_source(&self) -> Result<std::collections::HashMap<i64, u64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT source_id, COUNT(*) FROM events WHERE origin = 'poll' GROUP BY source_id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get(0)?,
                u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0),
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One event by its id.
    pub fn event(&self, id: i64) -> Result<EventRow> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM events WHERE id = ?1"))?;
        let mut rows = stmt.query_map(params![id], EventRow::from_row)?;
        match rows.next() {
            Some(row) => Ok(row?),
            None => Err(StoreError::NotFound(format!(
                "there is no event {id}; it may have gone with its source"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::FailureClass;
    use crate::source::Evidence;
    use crate::store::sources::tests::sample;
    use chrono::Duration;

    fn logged(request_id: &str, at: DateTime<Utc>) -> PollFailure {
        PollFailure {
            endpoint: "/chat/completions".into(),
            status: Some(429),
            message: "Budget exceeded".into(),
            excerpt: "{}".into(),
            class: Some(FailureClass::BudgetExceeded),
            origin: EventOrigin::Gateway,
            evidence: Box::new(Evidence {
                method: "POST".into(),
                url: "http://localhost:4000/chat/completions".into(),
                occurred_at: Some(at),
                external_id: Some(request_id.into()),
                ..Evidence::default()
            }),
        }
    }

    #[test]
    fn a_gateway_request_is_stored_once_at_the_time_it_failed() {
        let store = Store::open_in_memory().unwrap();
        let source = store.add_source(&sample("gw")).unwrap();
        let failed_at = Utc::now() - Duration::hours(3);
        let now = Utc::now();
        assert!(store
            .insert_event(source.id, now, &logged("req-1", failed_at))
            .unwrap());
        assert!(!store
            .insert_event(source.id, now, &logged("req-1", failed_at))
            .unwrap());
        let events = store.recent_events(None, 10).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0].ts.timestamp_millis(),
            failed_at.timestamp_millis()
        );
        assert_eq!(events[0].origin, EventOrigin::Gateway);
        assert_eq!(events[0].method.as_deref(), Some("POST"));
        // Poll events have no request id, so the same words twice are two events.
        let poll = PollFailure::without_answer("/key/info", "connection refused".into());
        store.insert_event(source.id, now, &poll).unwrap();
        store.insert_event(source.id, now, &poll).unwrap();
        let events = store.recent_events(None, 10).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].origin, EventOrigin::Poll);
        assert_eq!(events[0].method, None);
        assert!(events[0].headers.is_empty());
    }

    #[test]
    fn queries_filter_in_sql_and_counts_fall_in_buckets() {
        let store = Store::open_in_memory().unwrap();
        let a = store.add_source(&sample("a")).unwrap();
        let b = store.add_source(&sample("b")).unwrap();
        let hour = |h: i64| {
            DateTime::from_timestamp(1_800_000_000 / 3600 * 3600, 0).unwrap() + Duration::hours(h)
        };
        store
            .insert_event(a.id, hour(0), &logged("r1", hour(0)))
            .unwrap();
        store
            .insert_event(a.id, hour(1), &logged("r2", hour(1) + Duration::minutes(5)))
            .unwrap();
        let mut limited = logged("r3", hour(1) + Duration::minutes(10));
        limited.class = Some(FailureClass::RateLimited);
        store.insert_event(b.id, hour(1), &limited).unwrap();
        store
            .insert_event(
                b.id,
                hour(2),
                &PollFailure::without_answer("/", "down".into()),
            )
            .unwrap();
        let query = |q: EventQuery| -> Vec<String> {
            store
                .query_events(&q)
                .unwrap()
                .into_iter()
                .map(|e| e.external_id.unwrap_or_else(|| "poll".into()))
                .collect()
        };
        assert_eq!(query(EventQuery::default()), ["poll", "r3", "r2", "r1"]);
        assert_eq!(
            query(EventQuery {
                source_id: Some(a.id),
                ..EventQuery::default()
            }),
            ["r2", "r1"]
        );
        assert_eq!(
            query(EventQuery {
                class: Some("rate_limited".into()),
                ..EventQuery::default()
            }),
            ["r3"]
        );
        assert_eq!(
            query(EventQuery {
                class: Some(UNCLASSIFIED.into()),
                ..EventQuery::default()
            }),
            ["poll"]
        );
        assert_eq!(
            query(EventQuery {
                since: Some(hour(1)),
                until: Some(hour(1) + Duration::minutes(59)),
                limit: Some(1),
                ..EventQuery::default()
            }),
            ["r3"]
        );
        let counts = store
            .count_events_by_class(&EventQuery::default(), 3_600_000)
            .unwrap();
        assert_eq!(
            counts,
            [
                (hour(0), "budget_exceeded".to_string(), 1),
                (hour(1), "budget_exceeded".to_string(), 1),
                (hour(1), "rate_limited".to_string(), 1),
                (hour(2), UNCLASSIFIED.to_string(), 1),
            ]
        );
        let missing = store.event(9999).unwrap_err().to_string();
        assert!(missing.contains("no event 9999"), "{missing}");
    }
}
