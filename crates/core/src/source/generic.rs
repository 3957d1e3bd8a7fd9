//! Generic JSON: any endpoint that answers a GET with a JSON body holding what is left, read with
//! RFC 9535 JSONPath expressions the person gives as options. It covers providers without an
//! adapter of their own (Mistral, Gemini, Qianfan) and in-house gateways.
//!
//! The key goes in `Authorization: Bearer …`, or in the header `header_name` names; never in an
//! option, since options are stored in the database. The unit is a literal (`unit`, default USD)
//! or read from the body (`unit_path`), so that a literal like `USD` is never mistaken for a path.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use serde_json_path::JsonPath;

use super::{
    fetch_failure, status_failure, unreadable, HttpRunner, Keys, MeterKind, MeterSpec, PollFailure,
    PollOutcome, ProviderOption, Reading, Source, SourceOptions,
};
use crate::money::decimal_from_json;

const KIND: &str = "generic";
const LABEL: &str = "Generic JSON";
const DEFAULT_UNIT: &str = "USD";

pub const OPTIONS: &[ProviderOption] = &[
    ProviderOption {
        name: "path",
        label: "Path",
        help: "Added to the base URL to make the endpoint, e.g. /v1/billing/balance. Leave empty when the base URL is the whole endpoint.",
        required: false,
    },
    ProviderOption {
        name: "header_name",
        label: "Key header",
        help: "The header the key is sent in, e.g. x-api-key. Empty: Authorization: Bearer <key>.",
        required: false,
    },
    ProviderOption {
        name: "remaining",
        label: "Remaining (JSONPath)",
        help: "Where the amount left is in the answer, as an RFC 9535 JSONPath, e.g. $.data.balance",
        required: true,
    },
    ProviderOption {
        name: "limit",
        label: "Limit (JSONPath)",
        help: "Where the cap is, if the answer has one, e.g. $.data.limit",
        required: false,
    },
    ProviderOption {
        name: "used",
        label: "Used (JSONPath)",
        help: "Where the amount spent this cycle is, if the answer has it",
        required: false,
    },
    ProviderOption {
        name: "reset_at",
        label: "Resets at (JSONPath)",
        help: "Where the time the cap resets is (RFC 3339 text or Unix seconds), if the answer has it",
        required: false,
    },
    ProviderOption {
        name: "unit",
        label: "Unit",
        help: "The unit of the amounts, as text: USD, EUR, CNY, credits, tokens… (default USD)",
        required: false,
    },
    ProviderOption {
        name: "unit_path",
        label: "Unit (JSONPath)",
        help: "Where the unit is in the answer, e.g. $.currency; when it finds nothing, Unit is used",
        required: false,
    },
    ProviderOption {
        name: "meter_name",
        label: "Meter name",
        help: "What to call the meter on its card (default Balance)",
        required: false,
    },
];

/// One option's JSONPath, kept with the text the person wrote so errors can quote it.
struct Query {
    option: &'static str,
    text: String,
    path: JsonPath,
}

impl Query {
    fn parse(options: &SourceOptions, option: &'static str) -> Result<Option<Self>, String> {
        let Some(text) = options
            .get(option)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        else {
            return Ok(None);
        };
        let path = JsonPath::parse(text).map_err(|e| {
            let hint = if text.starts_with('$') {
                String::new()
            } else {
                // The commonest slip: a dotted name without the root.
                format!(
                    " A JSONPath starts with $, like $.{}.",
                    text.trim_start_matches('.')
                )
            };
            format!("{option} \"{text}\" is not a JSONPath expression (RFC 9535): {e}.{hint}")
        })?;
        Ok(Some(Self {
            option,
            text: text.to_string(),
            path,
        }))
    }

    /// The one value the path finds, or `None` when it finds nothing (or a null). Several values
    /// are an error: silently taking the first would read the wrong wallet.
    fn one<'a>(&self, body: &'a Value) -> Result<Option<&'a Value>, String> {
        match self.path.query(body).at_most_one() {
            Ok(None | Some(Value::Null)) => Ok(None),
            Ok(Some(v)) => Ok(Some(v)),
            Err(e) => Err(format!(
                "{} {} finds {} values in the answer; it must pick exactly one",
                self.option, self.text, e.0
            )),
        }
    }

    fn amount(&self, body: &Value) -> Result<Option<Decimal>, String> {
        self.one(body)?
            .map(|v| {
                decimal_from_json(v)
                    .ok_or_else(|| format!("{} {} is not a number ({v})", self.option, self.text))
            })
            .transpose()
    }

    fn instant(&self, body: &Value) -> Result<Option<DateTime<Utc>>, String> {
        self.one(body)?
            .map(|v| {
                instant_from_json(v).ok_or_else(|| {
                    format!(
                        "{} {} is not a time (RFC 3339 text or Unix seconds): {v}",
                        self.option, self.text
                    )
                })
            })
            .transpose()
    }
}

pub struct Generic {
    url: String,
    path: String,
    header_name: Option<String>,
    remaining: Query,
    limit: Option<Query>,
    used: Option<Query>,
    reset_at: Option<Query>,
    unit: String,
    unit_path: Option<Query>,
    meter_label: String,
}

impl Generic {
    pub fn new(base_url: &str, options: &SourceOptions) -> Result<Self, String> {
        let text = |name: &str| {
            options
                .get(name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let path = match text("path") {
            None => String::new(),
            Some(p) if p.starts_with('/') => p.to_string(),
            Some(p) => format!("/{p}"),
        };
        let header_name = text("header_name")
            .map(|name| {
                reqwest::header::HeaderName::from_bytes(name.as_bytes())
                    .map(|_| name.to_string())
                    .map_err(|_| {
                        format!("header_name \"{name}\" is not an HTTP header name, like x-api-key")
                    })
            })
            .transpose()?;
        let remaining = Query::parse(options, "remaining")?
            .ok_or("the Generic JSON source needs remaining, the JSONPath of the amount left")?;
        let meter_label = text("meter_name").unwrap_or("Balance").to_string();
        Ok(Self {
            url: format!("{}{path}", base_url.trim_end_matches('/')),
            path: if path.is_empty() { "/".into() } else { path },
            header_name,
            remaining,
            limit: Query::parse(options, "limit")?,
            used: Query::parse(options, "used")?,
            reset_at: Query::parse(options, "reset_at")?,
            unit: text("unit").unwrap_or(DEFAULT_UNIT).to_string(),
            unit_path: Query::parse(options, "unit_path")?,
            meter_label,
        })
    }

    fn read(&self, body: &Value) -> Result<Reading, String> {
        let remaining = self.remaining.amount(body)?.ok_or_else(|| {
            format!(
                "remaining {} finds nothing in the answer",
                self.remaining.text
            )
        })?;
        let optional_amount = |q: &Option<Query>| q.as_ref().map(|q| q.amount(body)).transpose();
        let limit = optional_amount(&self.limit)?.flatten();
        let used = optional_amount(&self.used)?.flatten();
        let reset_at = self
            .reset_at
            .as_ref()
            .map(|q| q.instant(body))
            .transpose()?
            .flatten();
        let unit = match &self.unit_path {
            Some(q) => match q.one(body)? {
                Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
                Some(other) => {
                    return Err(format!("unit_path {} is not text ({other})", q.text));
                }
                None => self.unit.clone(),
            },
            None => self.unit.clone(),
        };
        // A cap or a reset makes it a budget that comes back; otherwise it is money that only a
        // top-up refills.
        let kind = if self.limit.is_some() || self.reset_at.is_some() {
            MeterKind::Budget
        } else {
            MeterKind::Balance
        };
        Ok(Reading {
            meter: MeterSpec {
                name: meter_id(&self.meter_label),
                label: self.meter_label.clone(),
                kind,
                unit,
            },
            remaining,
            limit,
            used,
            reset: None,
            reset_at,
        })
    }
}

#[async_trait]
impl Source for Generic {
    async fn poll(&self, http: &HttpRunner, keys: &Keys) -> PollOutcome {
        let secrets = keys.secrets();
        let mut outcome = PollOutcome::default();
        let Some(key) = keys.key.as_deref() else {
            outcome.failures.push(PollFailure::without_answer(
                &self.path,
                format!(
                    "{LABEL} sends the API key to {}, and none is set for this source.",
                    self.url
                ),
            ));
            return outcome;
        };
        let response = match &self.header_name {
            Some(header) => http.get_with_key_header(&self.url, header, key, &[]).await,
            None => http.get_bearer(&self.url, key).await,
        };
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                outcome
                    .failures
                    .push(fetch_failure(&self.path, &e, &secrets));
                return outcome;
            }
        };
        if !(200..300).contains(&response.status) {
            outcome
                .failures
                .push(status_failure(KIND, &self.path, &response, &secrets));
            return outcome;
        }
        let read = serde_json::from_slice::<Value>(&response.body)
            .map_err(|e| e.to_string())
            .and_then(|body| self.read(&body));
        match read {
            Ok(reading) => outcome.readings.push(reading),
            Err(problem) => outcome.failures.push(unreadable(
                KIND,
                &self.path,
                &problem,
                &response.body,
                &secrets,
            )),
        }
        outcome
    }

    fn read_snapshot(
        &self,
        path: &str,
        body: &Value,
        _at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String> {
        if path != self.path {
            return Err(super::not_an_endpoint(LABEL, path, &[&self.path]));
        }
        Ok(vec![self.read(body)?])
    }
}

/// The stored meter name: the label in lower case, words joined by `_` ("Balance" → `balance`).
fn meter_id(label: &str) -> String {
    let words: Vec<String> = label
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    match words.is_empty() {
        true => "balance".into(),
        false => words.join("_"),
    }
}

/// RFC 3339 text, or Unix time as a number or numeric text; values too large to be seconds are
/// taken as milliseconds, which several APIs send.
fn instant_from_json(value: &Value) -> Option<DateTime<Utc>> {
    if let Some(text) = value.as_str() {
        if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
            return Some(t.to_utc());
        }
    }
    let number = decimal_from_json(value)?;
    let seconds = if number > Decimal::from(100_000_000_000i64) {
        number / Decimal::from(1000)
    } else {
        number
    };
    let seconds: i64 = seconds.trunc().try_into().ok()?;
    DateTime::from_timestamp(seconds, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(pairs: &[(&str, &str)]) -> SourceOptions {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn bad_options_are_refused_in_words() {
        let no_root = Generic::new("http://x", &options(&[("remaining", "data.balance")]))
            .err()
            .unwrap();
        assert!(
            no_root.contains("remaining \"data.balance\" is not a JSONPath expression")
                && no_root.contains("like $.data.balance"),
            "{no_root}"
        );
        let bad_limit = Generic::new(
            "http://x",
            &options(&[("remaining", "$.a"), ("limit", "$[?@.x ==")]),
        )
        .err()
        .unwrap();
        assert!(bad_limit.starts_with("limit "), "{bad_limit}");
        let bad_header = Generic::new(
            "http://x",
            &options(&[("remaining", "$.a"), ("header_name", "x api key")]),
        )
        .err()
        .unwrap();
        assert!(
            bad_header.contains("not an HTTP header name"),
            "{bad_header}"
        );
    }

    #[test]
    fn reads_exact_amounts_times_and_units() {
        let source = Generic::new(
            "http://x/",
            &options(&[
                ("path", "quota"),
                ("remaining", "$.quota[?@.kind == 'monthly'].left"),
                ("limit", "$.quota[?@.kind == 'monthly'].cap"),
                ("reset_at", "$.quota[?@.kind == 'monthly'].resets"),
                ("unit_path", "$.currency"),
                ("meter_name", "Monthly quota"),
            ]),
        )
        .unwrap();
        let body = json!({"currency": "EUR", "quota": [
            {"kind": "daily", "left": 1, "cap": 2, "resets": 0},
            {"kind": "monthly", "left": "12.345", "cap": 50.1, "resets": "2026-04-01T00:00:00Z"},
        ]});
        let readings = source.read_snapshot("/quota", &body, Utc::now()).unwrap();
        let r = &readings[0];
        assert_eq!(r.meter.name, "monthly_quota");
        assert_eq!(r.meter.kind, MeterKind::Budget);
        assert_eq!(r.meter.unit, "EUR");
        assert_eq!(r.remaining, Decimal::new(12345, 3));
        assert_eq!(r.limit, Some(Decimal::new(501, 1)));
        assert_eq!(
            r.reset_at.map(|t| t.to_rfc3339()),
            Some("2026-04-01T00:00:00+00:00".into())
        );
        let ambiguous = Generic::new("http://x", &options(&[("remaining", "$.quota[*].left")]))
            .unwrap()
            .read(&body)
            .unwrap_err();
        assert!(ambiguous.contains("finds 2 values"), "{ambiguous}");
        let missing = Generic::new("http://x", &options(&[("remaining", "$.nope")]))
            .unwrap()
            .read(&body)
            .unwrap_err();
        assert!(missing.contains("finds nothing"), "{missing}");
    }

    #[test]
    fn unix_times_in_seconds_or_milliseconds() {
        let s = instant_from_json(&json!(1_775_001_600)).unwrap();
        let ms = instant_from_json(&json!(1_775_001_600_000i64)).unwrap();
        assert_eq!(s, ms);
        assert!(instant_from_json(&json!("soon")).is_none());
    }
}
