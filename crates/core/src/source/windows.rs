//! Rate-limit windows from response headers. Any successful answer may announce them, whatever
//! endpoint it came from, so they are read here once for every provider: the [`HttpRunner`] of a
//! poll keeps what its 2xx answers announced, and [`poll_with_windows`] adds it to the poll.
//!
//! Two header families are read:
//! - OpenAI-style `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, resets as Go durations
//!   (`6m0s`, `1s`, `120ms`) from the moment of the answer;
//! - Anthropic's `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`,
//!   resets as RFC 3339 instants.
//!
//! LiteLLM's `llm_provider-x-ratelimit-*` are its upstream's limits, not the proxy's, and are left
//! alone; so are Azure's `-1` placeholders for a limit it does not report.

use chrono::{DateTime, Duration, Utc};
use reqwest::header::HeaderMap;
use rust_decimal::Decimal;

use super::{HttpRunner, Keys, MeterKind, MeterSpec, PollOutcome, Reading, Source};

/// One window family: its meter name and label, unit, and header names.
struct Family {
    meter: &'static str,
    label: &'static str,
    unit: &'static str,
    limit: &'static str,
    remaining: &'static str,
    reset: &'static str,
    reset_format: ResetFormat,
}

#[derive(Clone, Copy)]
enum ResetFormat {
    GoDuration,
    Rfc3339,
}

const FAMILIES: &[Family] = &[
    Family {
        meter: "rate_requests",
        label: "Requests per window",
        unit: "requests",
        limit: "x-ratelimit-limit-requests",
        remaining: "x-ratelimit-remaining-requests",
        reset: "x-ratelimit-reset-requests",
        reset_format: ResetFormat::GoDuration,
    },
    Family {
        meter: "rate_tokens",
        label: "Tokens per window",
        unit: "tokens",
        limit: "x-ratelimit-limit-tokens",
        remaining: "x-ratelimit-remaining-tokens",
        reset: "x-ratelimit-reset-tokens",
        reset_format: ResetFormat::GoDuration,
    },
    Family {
        meter: "rate_requests",
        label: "Requests per window",
        unit: "requests",
        limit: "anthropic-ratelimit-requests-limit",
        remaining: "anthropic-ratelimit-requests-remaining",
        reset: "anthropic-ratelimit-requests-reset",
        reset_format: ResetFormat::Rfc3339,
    },
    Family {
        meter: "rate_tokens",
        label: "Tokens per window",
        unit: "tokens",
        limit: "anthropic-ratelimit-tokens-limit",
        remaining: "anthropic-ratelimit-tokens-remaining",
        reset: "anthropic-ratelimit-tokens-reset",
        reset_format: ResetFormat::Rfc3339,
    },
    Family {
        meter: "rate_input_tokens",
        label: "Input tokens per window",
        unit: "tokens",
        limit: "anthropic-ratelimit-input-tokens-limit",
        remaining: "anthropic-ratelimit-input-tokens-remaining",
        reset: "anthropic-ratelimit-input-tokens-reset",
        reset_format: ResetFormat::Rfc3339,
    },
    Family {
        meter: "rate_output_tokens",
        label: "Output tokens per window",
        unit: "tokens",
        limit: "anthropic-ratelimit-output-tokens-limit",
        remaining: "anthropic-ratelimit-output-tokens-remaining",
        reset: "anthropic-ratelimit-output-tokens-reset",
        reset_format: ResetFormat::Rfc3339,
    },
];

/// The window meters a successful answer's headers announce, answered at `at`. A family whose
/// `remaining` is missing or unreadable gives no meter; an unreadable limit or reset is left out.
pub fn from_headers(headers: &HeaderMap, at: DateTime<Utc>) -> Vec<Reading> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let count = |name: &str| {
        text(name)
            .and_then(|t| t.parse::<Decimal>().ok())
            .filter(|d| *d >= Decimal::ZERO)
    };
    let mut readings: Vec<Reading> = Vec::new();
    for family in FAMILIES {
        let Some(remaining) = count(family.remaining) else {
            continue;
        };
        if readings.iter().any(|r| r.meter.name == family.meter) {
            continue;
        }
        let limit = count(family.limit);
        let reset_at = text(family.reset).and_then(|t| match family.reset_format {
            ResetFormat::GoDuration => go_duration(t).map(|d| at + d),
            ResetFormat::Rfc3339 => DateTime::parse_from_rfc3339(t).ok().map(|t| t.to_utc()),
        });
        readings.push(Reading {
            meter: MeterSpec {
                name: family.meter.into(),
                label: family.label.into(),
                kind: MeterKind::Window,
                unit: family.unit.into(),
            },
            remaining,
            limit,
            used: limit.map(|l| (l - remaining).max(Decimal::ZERO)),
            reset: None,
            reset_at,
        });
    }
    readings
}

/// A Go duration as OpenAI sends it: `6m0s`, `1s`, `120ms`, `1h2m3.5s`, `0s`.
pub fn go_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut micros = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        // Longest unit first: "ms" before "m".
        let (unit_len, scale) = [
            ("ns", 1e-3),
            ("us", 1.0),
            ("µs", 1.0),
            ("ms", 1e3),
            ("h", 3.6e9),
            ("m", 6e7),
            ("s", 1e6),
        ]
        .into_iter()
        .find(|(unit, _)| rest.starts_with(unit))
        .map(|(unit, scale)| (unit.len(), scale))?;
        rest = &rest[unit_len..];
        micros += value * scale;
    }
    micros
        .is_finite()
        .then(|| Duration::microseconds(micros.round() as i64))
}

/// Polls `source` with a runner that keeps what its successful answers announced, and adds those
/// windows, the latest per meter. A meter the source reports itself wins over a header's.
pub async fn poll_with_windows(source: &dyn Source, http: &HttpRunner, keys: &Keys) -> PollOutcome {
    let observing = http.observing_windows();
    let mut outcome = source.poll(&observing, keys).await;
    for window in observing.take_windows() {
        if !outcome
            .readings
            .iter()
            .any(|r| r.meter.name == window.meter.name)
        {
            outcome.readings.push(window);
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    /// The captured header sets (`success_headers_examples` in the provider notes).
    fn captured(provider: &str) -> HeaderMap {
        let all: serde_json::Value = serde_json::from_str(include_str!(
            "../../../sim/fixtures/success-headers-examples.json"
        ))
        .expect("fixture is JSON");
        let mut headers = HeaderMap::new();
        for (name, value) in all[provider]["headers"].as_object().expect("headers") {
            headers.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value.as_str().expect("text")).expect("value"),
            );
        }
        headers
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("time").to_utc()
    }

    fn seen(readings: &[Reading]) -> Vec<(String, String, String, String, Option<String>)> {
        readings
            .iter()
            .map(|r| {
                assert_eq!(r.meter.kind, MeterKind::Window);
                (
                    r.meter.name.clone(),
                    r.meter.unit.clone(),
                    r.remaining.to_string(),
                    r.limit.map(|l| l.to_string()).unwrap_or_default(),
                    r.reset_at.map(|t| t.to_rfc3339()),
                )
            })
            .collect()
    }

    #[test]
    fn openai_windows_reset_a_duration_after_the_answer() {
        let polled = at("2025-08-21T12:00:00Z");
        let readings = from_headers(&captured("openai"), polled);
        let s = |t: &str| t.to_string();
        assert_eq!(
            seen(&readings),
            [
                (
                    s("rate_requests"),
                    s("requests"),
                    s("59"),
                    s("60"),
                    Some(s("2025-08-21T12:00:01+00:00"))
                ),
                (
                    s("rate_tokens"),
                    s("tokens"),
                    s("149984"),
                    s("150000"),
                    Some(s("2025-08-21T12:06:00+00:00"))
                ),
            ]
        );
        assert_eq!(readings[1].used, Some(Decimal::from(16)));
    }

    #[test]
    fn anthropic_windows_reset_at_the_instant_given() {
        let readings = from_headers(&captured("anthropic"), at("2025-08-21T12:40:00Z"));
        let s = |t: &str| t.to_string();
        assert_eq!(
            seen(&readings),
            [
                (
                    s("rate_requests"),
                    s("requests"),
                    s("999"),
                    s("1000"),
                    Some(s("2025-08-21T12:40:59+00:00"))
                ),
                (
                    s("rate_tokens"),
                    s("tokens"),
                    s("96000"),
                    s("96000"),
                    Some(s("2025-08-21T12:40:59+00:00"))
                ),
                (
                    s("rate_input_tokens"),
                    s("tokens"),
                    s("80000"),
                    s("80000"),
                    Some(s("2025-08-21T12:40:59+00:00"))
                ),
                (
                    s("rate_output_tokens"),
                    s("tokens"),
                    s("16000"),
                    s("16000"),
                    Some(s("2025-08-21T12:41:00+00:00"))
                ),
            ]
        );
    }

    #[test]
    fn proxied_and_placeholder_headers_are_not_windows() {
        assert!(from_headers(&captured("litellm"), Utc::now()).is_empty());
        let mut azure = HeaderMap::new();
        azure.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from_static("-1"),
        );
        assert!(from_headers(&azure, Utc::now()).is_empty());
        let mut odd = HeaderMap::new();
        odd.insert(
            "x-ratelimit-remaining-tokens",
            HeaderValue::from_static("12"),
        );
        odd.insert("x-ratelimit-reset-tokens", HeaderValue::from_static("soon"));
        let readings = from_headers(&odd, Utc::now());
        assert_eq!(
            (readings.len(), readings[0].reset_at, readings[0].limit),
            (1, None, None)
        );
    }

    #[test]
    fn go_durations_read_exactly() {
        let ms = |text: &str| go_duration(text).map(|d| d.num_milliseconds());
        assert_eq!(ms("6m0s"), Some(360_000));
        assert_eq!(ms("1s"), Some(1_000));
        assert_eq!(ms("120ms"), Some(120));
        assert_eq!(ms("1h2m3.5s"), Some(3_723_500));
        assert_eq!(ms("0s"), Some(0));
        for bad in ["", "6", "6x", "m", "-1s"] {
            assert_eq!(go_duration(bad), None, "{bad}");
        }
    }
}
