//! What `headroom serve` exposes at `/metrics`: each meter, open alert and source as Prometheus
//! metrics, in the OpenMetrics text format.
//!
//! Everything is read from the database at each scrape, the way `headroom status` reads it, so
//! the figures are the same whether this process polls or the app next to it does
//! (`serve --no-poll`). Keys never appear: only names, amounts and times do.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;

use anyhow::Result;
use chrono::{DateTime, Utc};
use headroom_core::status::{self, MeterState};
use headroom_core::store::Store;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use rust_decimal::prelude::ToPrimitive;

/// What Prometheus asks for first; it reads counters' `_total` and the `# UNIT` lines from it.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(&'static str, String)>;
type Value = Gauge<f64, AtomicU64>;

/// The metric families, registered once per scrape and filled from the database.
struct Families {
    remaining: Family<Labels, Value>,
    limit: Family<Labels, Value>,
    eta: Family<Labels, Value>,
    exhausted: Family<Labels, Gauge>,
    alert_firing: Family<Labels, Gauge>,
    poll_errors: Family<Labels, Counter>,
    consecutive_failures: Family<Labels, Gauge>,
    last_poll: Family<Labels, Value>,
}

impl Families {
    fn new() -> Self {
        Self {
            remaining: Family::default(),
            limit: Family::default(),
            eta: Family::default(),
            exhausted: Family::default(),
            alert_firing: Family::default(),
            poll_errors: Family::default(),
            consecutive_failures: Family::default(),
            last_poll: Family::default(),
        }
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "headroom_meter_remaining",
            "What is left of the meter before the provider refuses requests, in its unit",
            self.remaining.clone(),
        );
        registry.register(
            "headroom_meter_limit",
            "The meter's cap (budget, key limit) in its unit; absent for a prepaid balance",
            self.limit.clone(),
        );
        registry.register_with_unit(
            "headroom_meter_eta",
            "Seconds from now until the forecast says the meter runs out, per quantile (0.1 is the pessimistic one); absent without a forecast or once exhausted",
            Unit::Seconds,
            self.eta.clone(),
        );
        registry.register(
            "headroom_meter_exhausted",
            "1 when nothing is left of the meter, else 0",
            self.exhausted.clone(),
        );
        registry.register(
            "headroom_alert_firing",
            "1 for each open alert (firing or acknowledged, not yet resolved)",
            self.alert_firing.clone(),
        );
        registry.register(
            "headroom_source_poll_errors",
            "Failures Headroom's polls of the source have recorded",
            self.poll_errors.clone(),
        );
        registry.register(
            "headroom_source_consecutive_failures",
            "Polls of the source in a row that have failed; 0 after a success",
            self.consecutive_failures.clone(),
        );
        registry.register_with_unit(
            "headroom_source_last_poll_timestamp",
            "When the source was last polled, successfully or not, as Unix time",
            Unit::Seconds,
            self.last_poll.clone(),
        );
    }
}

fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// The exposition of everything in `store` as of `now`.
pub fn render(store: &Store, now: DateTime<Utc>) -> Result<String> {
    let families = Families::new();
    let sources = store.list_sources()?;
    let poll_errors = store.poll_failures_by_source()?;
    for source in &sources {
        let labels: Labels = vec![
            ("source", source.name.clone()),
            ("provider", source.kind.clone()),
        ];
        families
            .poll_errors
            .get_or_create(&labels)
            .inc_by(poll_errors.get(&source.id).copied().unwrap_or(0));
        families
            .consecutive_failures
            .get_or_create(&labels)
            .set(source.consecutive_failures.into());
        if let Some(at) = source.last_poll_at {
            families.last_poll.get_or_create(&labels).set(seconds(at));
        }
    }

    let mut meter_names: HashMap<i64, String> = HashMap::new();
    for (meter, _) in status::meter_statuses(store)? {
        let (Some(id), Some(name), Some(remaining)) =
            (meter.meter_id, &meter.meter, meter.remaining)
        else {
            continue;
        };
        meter_names.insert(id, name.clone());
        let labels: Labels = vec![
            ("source", meter.source.clone()),
            ("meter", name.clone()),
            ("provider", meter.provider.clone()),
            ("unit", meter.unit.clone().unwrap_or_default()),
        ];
        families
            .remaining
            .get_or_create(&labels)
            .set(remaining.to_f64().unwrap_or_default());
        if let Some(limit) = meter.limit.and_then(|l| l.to_f64()) {
            families.limit.get_or_create(&labels).set(limit);
        }
        let exhausted = meter.state == MeterState::Exhausted;
        families
            .exhausted
            .get_or_create(&labels)
            .set(i64::from(exhausted));
        let Some(forecast) = meter.forecast.as_ref().filter(|_| !exhausted) else {
            continue;
        };
        for (quantile, eta) in [
            ("0.1", forecast.eta_p10),
            ("0.5", forecast.eta_p50),
            ("0.9", forecast.eta_p90),
        ] {
            if let Some(eta) = eta {
                let mut labels = labels.clone();
                labels.push(("quantile", quantile.into()));
                let left = (eta - now).num_milliseconds().max(0) as f64 / 1000.0;
                families.eta.get_or_create(&labels).set(left);
            }
        }
    }

    let source_names: HashMap<i64, &str> =
        sources.iter().map(|s| (s.id, s.name.as_str())).collect();
    for alert in store.open_alerts()? {
        let labels: Labels = vec![
            (
                "source",
                source_names
                    .get(&alert.source_id)
                    .copied()
                    .unwrap_or_default()
                    .to_string(),
            ),
            // Empty for an alert about the whole source (failing polls, a refused payment).
            (
                "meter",
                alert
                    .meter_id
                    .and_then(|id| meter_names.get(&id).cloned())
                    .unwrap_or_default(),
            ),
            ("rule", alert.rule.clone()),
            ("severity", alert.severity.as_str().into()),
        ];
        families.alert_firing.get_or_create(&labels).set(1);
    }

    let mut registry = Registry::default();
    families.register(&mut registry);
    let mut text = String::new();
    encode(&mut text, &registry)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use headroom_core::source::{MeterKind, MeterSpec, Reading};
    use headroom_core::store::NewSource;
    use headroom_core::Decimal;

    #[test]
    fn families_have_help_and_type_and_odd_names_are_escaped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let source = store
            .add_source(&NewSource {
                name: "team \"a\"\\b".into(),
                kind: "openrouter".into(),
                base_url: "http://127.0.0.1:9".into(),
                key_ref: Some("env:NEVER_SHOWN".into()),
                management_key_ref: None,
                interval_secs: 900,
                options: Default::default(),
            })
            .unwrap();
        let reading = Reading {
            meter: MeterSpec {
                name: "credits".into(),
                label: "Credits".into(),
                kind: MeterKind::Balance,
                unit: "USD".into(),
            },
            remaining: Decimal::new(1250, 2),
            limit: None,
            used: None,
            reset: None,
            reset_at: None,
        };
        store
            .insert_reading(source.id, Utc::now(), &reading)
            .unwrap();
        let text = render(&store, Utc::now()).unwrap();
        // A family without samples (no limit, forecast, alert or poll yet) is left out.
        for (name, kind) in [
            ("headroom_meter_remaining", "gauge"),
            ("headroom_meter_exhausted", "gauge"),
            ("headroom_source_poll_errors", "counter"),
            ("headroom_source_consecutive_failures", "gauge"),
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "{name}:\n{text}");
            assert!(
                text.contains(&format!("# TYPE {name} {kind}\n")),
                "{name}:\n{text}"
            );
        }
        assert!(
            text.contains(r#"headroom_meter_remaining{source="team \"a\"\\b",meter="credits",provider="openrouter",unit="USD"} 12.5"#),
            "{text}"
        );
        assert!(text.contains(r#"headroom_source_poll_errors_total{source="team \"a\"\\b",provider="openrouter"} 0"#), "{text}");
        assert!(!text.contains("NEVER_SHOWN"));
        assert!(text.ends_with("# EOF\n"));
    }
}
