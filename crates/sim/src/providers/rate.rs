//! Rate-limit headers, which OpenAI and Anthropic send on every answer: the account's requests and
//! tokens in a one-minute window, OpenAI's with the reset as a Go duration (`6m0s`), Anthropic's
//! as an RFC 3339 instant. The limits are the documented sample values.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::model::Curve;
use crate::world::World;

const WINDOW_SECONDS: i64 = 60;

/// One account's requests and tokens since its window opened.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RateWindow {
    pub started_at: DateTime<Utc>,
    pub requests: u64,
    pub tokens: u64,
}

impl RateWindow {
    pub fn starting(at: DateTime<Utc>) -> Self {
        Self {
            started_at: at,
            requests: 0,
            tokens: 0,
        }
    }

    pub fn ends_at(&self) -> DateTime<Utc> {
        self.started_at + Duration::seconds(WINDOW_SECONDS)
    }
}

/// Which header family a provider speaks.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Family {
    OpenAi,
    Anthropic,
}

/// Counts the request against the account's window and adds the headers that describe it.
pub(crate) fn with_rate_headers(
    mut response: Response,
    family: Family,
    world: &World,
    curve: &Curve,
    tokens: u64,
) -> Response {
    let now = Utc::now();
    let window = world.count_request(&curve.spec.name, tokens, now);
    extend(response.headers_mut(), headers(family, &window, now));
    response
}

fn extend(map: &mut HeaderMap, pairs: Vec<(String, String)>) {
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            map.insert(name, value);
        }
    }
}

pub(crate) fn headers(
    family: Family,
    window: &RateWindow,
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    let left = |limit: u64, used: u64| limit.saturating_sub(used).to_string();
    match family {
        Family::OpenAi => {
            let reset = go_duration((window.ends_at() - now).max(Duration::zero()));
            vec![
                ("x-ratelimit-limit-requests".into(), "60".into()),
                ("x-ratelimit-limit-tokens".into(), "150000".into()),
                (
                    "x-ratelimit-remaining-requests".into(),
                    left(60, window.requests),
                ),
                (
                    "x-ratelimit-remaining-tokens".into(),
                    left(150_000, window.tokens),
                ),
                ("x-ratelimit-reset-requests".into(), reset.clone()),
                ("x-ratelimit-reset-tokens".into(), reset),
            ]
        }
        Family::Anthropic => {
            let reset = window.ends_at().to_rfc3339_opts(SecondsFormat::Secs, true);
            let mut pairs = Vec::new();
            for (family, limit, used) in [
                ("requests", 1000, window.requests),
                ("tokens", 96_000, window.tokens),
                // The sim does not split tokens; input is most of any real call.
                ("input-tokens", 80_000, window.tokens),
                ("output-tokens", 16_000, 0),
            ] {
                let name = |part: &str| format!("anthropic-ratelimit-{family}-{part}");
                pairs.push((name("limit"), limit.to_string()));
                pairs.push((name("remaining"), left(limit, used)));
                pairs.push((name("reset"), reset.clone()));
            }
            pairs
        }
    }
}

/// A duration the way Go prints one, which is what OpenAI sends: `120ms`, `17s`, `6m0s`.
pub(crate) fn go_duration(d: Duration) -> String {
    let ms = d.num_milliseconds().max(0);
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (minutes, ms) = (ms / 60_000, ms % 60_000);
    let seconds = match ms % 1000 {
        0 => format!("{}s", ms / 1000),
        frac => format!(
            "{}.{}s",
            ms / 1000,
            format!("{frac:03}").trim_end_matches('0')
        ),
    };
    match minutes {
        0 => seconds,
        m => format!("{m}m{seconds}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_prints_them() {
        assert_eq!(go_duration(Duration::milliseconds(120)), "120ms");
        assert_eq!(go_duration(Duration::seconds(1)), "1s");
        assert_eq!(go_duration(Duration::milliseconds(17_500)), "17.5s");
        assert_eq!(go_duration(Duration::minutes(6)), "6m0s");
    }
}
