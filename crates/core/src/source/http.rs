//! The one HTTP runner every source uses. It owns the timeout, the size cap, the auth header and
//! the redirect rule, so no provider file can forget them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use reqwest::redirect::Policy;

use super::Reading;

/// Larger bodies than this are refused: a balance endpoint never needs more.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
pub const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct HttpRunner {
    client: reqwest::Client,
    max_body: usize,
    timeout: Duration,
    /// Rate-limit windows announced by successful answers, when this runner serves one poll.
    windows: Option<Arc<Mutex<Vec<Reading>>>>,
}

#[derive(Debug)]
pub struct Response {
    /// What was asked, kept with the answer so that a failure can show the request it came from.
    pub method: &'static str,
    pub url: String,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "could not connect to {url} ({reason}). Is the endpoint running and the base URL right?"
    )]
    Connect { url: String, reason: String },
    #[error("no answer from {url} within {} s", timeout.as_secs_f64())]
    Timeout { url: String, timeout: Duration },
    #[error("the response from {url} is larger than {limit} bytes, so it was not read")]
    TooLarge { url: String, limit: usize },
    #[error("the response from {url} broke off before it was complete, so Headroom cannot read it ({reason})")]
    Truncated { url: String, reason: String },
    #[error("{url} is not a valid URL")]
    BadUrl { url: String },
    #[error("request to {url} failed: {reason}")]
    Other { url: String, reason: String },
}

impl FetchError {
    /// The URL that could not be fetched, as it was asked for.
    pub fn url(&self) -> &str {
        match self {
            FetchError::Connect { url, .. }
            | FetchError::Timeout { url, .. }
            | FetchError::TooLarge { url, .. }
            | FetchError::Truncated { url, .. }
            | FetchError::BadUrl { url }
            | FetchError::Other { url, .. } => url,
        }
    }
}

impl HttpRunner {
    pub fn new() -> Self {
        Self::with_limits(TIMEOUT, MAX_BODY_BYTES)
    }

    pub fn with_limits(timeout: Duration, max_body: usize) -> Self {
        // A redirect to another host would carry the key with it; stop there instead and let
        // the caller report the 3xx.
        let policy = Policy::custom(|attempt| {
            let same_origin = attempt.previous().first().is_some_and(|first| {
                first.host_str() == attempt.url().host_str()
                    && first.port_or_known_default() == attempt.url().port_or_known_default()
            });
            if attempt.previous().len() > 5 || !same_origin {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(policy)
            .user_agent(concat!("headroom/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            client,
            max_body,
            timeout,
            windows: None,
        }
    }

    /// The same runner for one poll, also keeping the rate-limit windows that its successful
    /// answers announce (see [`super::windows`]).
    pub fn observing_windows(&self) -> Self {
        Self {
            windows: Some(Arc::default()),
            ..self.clone()
        }
    }

    /// The windows kept since [`Self::observing_windows`], the latest per meter.
    pub fn take_windows(&self) -> Vec<Reading> {
        let Some(windows) = &self.windows else {
            return Vec::new();
        };
        let seen = std::mem::take(&mut *windows.lock().unwrap_or_else(|p| p.into_inner()));
        let mut latest: Vec<Reading> = Vec::new();
        for reading in seen.into_iter().rev() {
            if !latest.iter().any(|r| r.meter.name == reading.meter.name) {
                latest.push(reading);
            }
        }
        latest.reverse();
        latest
    }

    /// GET `url` with a bearer key.
    pub async fn get_bearer(&self, url: &str, key: &str) -> Result<Response, FetchError> {
        let request = self.client.get(url).bearer_auth(key);
        self.send("GET", url, request).await
    }

    /// POST a JSON body with a bearer key.
    pub async fn post_json_bearer(
        &self,
        url: &str,
        key: &str,
        body: &serde_json::Value,
    ) -> Result<Response, FetchError> {
        let request = self.client.post(url).bearer_auth(key).json(body);
        self.send("POST", url, request).await
    }

    /// GET `url` with the key in a header of its own (Anthropic's `x-api-key`), plus the headers
    /// the provider requires alongside it (such as `anthropic-version`).
    pub async fn get_with_key_header(
        &self,
        url: &str,
        key_header: &str,
        key: &str,
        headers: &[(&str, &str)],
    ) -> Result<Response, FetchError> {
        let request = with_key_header(self.client.get(url), key_header, key, headers);
        self.send("GET", url, request).await
    }

    /// POST a JSON body with the key in a header of its own, like [`Self::get_with_key_header`].
    pub async fn post_json_with_key_header(
        &self,
        url: &str,
        key_header: &str,
        key: &str,
        headers: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> Result<Response, FetchError> {
        let request = with_key_header(self.client.post(url), key_header, key, headers).json(body);
        self.send("POST", url, request).await
    }

    async fn send(
        &self,
        method: &'static str,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Response, FetchError> {
        let mut response = request
            .send()
            .await
            .map_err(|e| describe(url, &e, self.timeout))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let too_large = || FetchError::TooLarge {
            url: url.to_string(),
            limit: self.max_body,
        };
        if response
            .content_length()
            .is_some_and(|len| len as usize > self.max_body)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            // Once the headers are in, a failed read is a body that broke off, unless time ran out.
            if e.is_timeout() {
                describe(url, &e, self.timeout)
            } else {
                FetchError::Truncated {
                    url: url.to_string(),
                    reason: root_cause(&e),
                }
            }
        })? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        if let Some(windows) = &self.windows {
            if (200..300).contains(&status) {
                let announced = super::windows::from_headers(&headers, Utc::now());
                windows
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(announced);
            }
        }
        Ok(Response {
            method,
            url: url.to_string(),
            status,
            headers,
            body,
        })
    }
}

impl Default for HttpRunner {
    fn default() -> Self {
        Self::new()
    }
}

fn with_key_header(
    mut request: reqwest::RequestBuilder,
    key_header: &str,
    key: &str,
    headers: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    // Marked sensitive, as bearer_auth does, so that no debug output of the request shows it. A
    // key that cannot be a header value is left off, and the provider says the key is missing.
    if let Ok(mut value) = reqwest::header::HeaderValue::from_str(key) {
        value.set_sensitive(true);
        request = request.header(key_header, value);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

fn describe(url: &str, error: &reqwest::Error, timeout: Duration) -> FetchError {
    let url = url.to_string();
    if error.is_timeout() {
        return FetchError::Timeout { url, timeout };
    }
    if error.is_builder() {
        return FetchError::BadUrl { url };
    }
    if error.is_connect() {
        let reason = root_cause(error);
        let reason = if reason.contains("refused") {
            "connection refused".to_string()
        } else {
            reason
        };
        return FetchError::Connect { url, reason };
    }
    FetchError::Other {
        url,
        reason: root_cause(error),
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// The first few hundred characters of a body, with every secret and anything that looks like an
/// API key replaced, so that it can be stored and shown.
pub fn redacted_excerpt(body: &[u8], secrets: &[&str]) -> String {
    const MAX_CHARS: usize = 600;
    let mut text: String = String::from_utf8_lossy(body)
        .chars()
        .take(MAX_CHARS)
        .collect();
    for secret in secrets {
        if !secret.is_empty() {
            text = text.replace(secret, "[redacted]");
        }
    }
    redact_key_like(&text)
}

/// Response headers fit to keep as evidence: the ones that carry credentials or sessions are left
/// out entirely, and the rest are scrubbed like a body, since a gateway may echo a key anywhere.
pub fn redacted_headers(
    headers: &reqwest::header::HeaderMap,
    secrets: &[&str],
) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| !carries_credentials(name.as_str()))
        .filter_map(|(name, value)| {
            let value = value.to_str().ok()?;
            Some((
                name.to_string(),
                redacted_excerpt(value.as_bytes(), secrets),
            ))
        })
        .collect()
}

/// Header names whose values are credentials or sessions. Rate-limit headers that merely mention
/// tokens (`x-ratelimit-remaining-tokens`) are evidence and stay.
fn carries_credentials(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    const EXACT: &[&str] = &[
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
    ];
    EXACT.contains(&name.as_str())
        || name.contains("authorization")
        || name.ends_with("-api-key")
        || name.ends_with("-secret")
        || name.ends_with("-session")
        || name.ends_with("-access-token")
}

/// The URL of a request as it may be stored: query values that look like keys are masked, and
/// any user:password part is dropped.
pub fn redacted_url(url: &str, secrets: &[&str]) -> String {
    let without_userinfo = match reqwest::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_string(),
    };
    let mut text = without_userinfo;
    for secret in secrets {
        if !secret.is_empty() {
            text = text.replace(secret, "[redacted]");
        }
    }
    redact_key_like(&text)
}

/// Masks tokens shaped like provider keys (`sk-…`, `Bearer …`) that we were not told about.
fn redact_key_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("sk-").or_else(|| rest.find("Bearer ")) {
        let (before, from) = rest.split_at(pos);
        out.push_str(before);
        let prefix_len = if from.starts_with("Bearer ") { 7 } else { 3 };
        let token_len = from[prefix_len..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .unwrap_or(from.len() - prefix_len);
        if token_len >= 8 {
            out.push_str(&from[..prefix_len]);
            out.push_str("[redacted]");
        } else {
            out.push_str(&from[..prefix_len + token_len]);
        }
        rest = &from[prefix_len + token_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_never_carry_keys() {
        let body = br#"{"error":"key sk-or-v1-abcdef123456 is bad","echo":"my-secret-value"}"#;
        let excerpt = redacted_excerpt(body, &["my-secret-value"]);
        assert!(!excerpt.contains("abcdef123456"), "{excerpt}");
        assert!(!excerpt.contains("my-secret-value"), "{excerpt}");
        assert!(excerpt.contains("sk-[redacted]"), "{excerpt}");
        assert_eq!(redacted_excerpt(b"task-list", &[]), "task-list");
    }

    #[test]
    fn kept_headers_and_urls_never_carry_keys() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let mut headers = HeaderMap::new();
        headers.insert("set-cookie", HeaderValue::from_static("session=abc"));
        headers.insert(
            "authorization",
            HeaderValue::from_static("Bearer sk-live-123456789"),
        );
        headers.insert("x-goog-api-key", HeaderValue::from_static("AIza-secret"));
        headers.insert("retry-after", HeaderValue::from_static("30"));
        headers.insert(
            "x-ratelimit-remaining-tokens",
            HeaderValue::from_static("99"),
        );
        headers.insert(
            "x-echo",
            HeaderValue::from_static("key my-secret-value, sk-abcdefgh1234"),
        );
        let kept = redacted_headers(&headers, &["my-secret-value"]);
        let names: Vec<&str> = kept.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["retry-after", "x-ratelimit-remaining-tokens", "x-echo"]
        );
        assert_eq!(kept[2].1, "key [redacted], sk-[redacted]");
        assert_eq!(
            redacted_url(
                "https://u:pw@gw.example/v1/x?key=sk-abcdefgh1234&q=my-secret-value",
                &["my-secret-value"]
            ),
            "https://gw.example/v1/x?key=sk-[redacted]&q=[redacted]"
        );
        assert_eq!(
            redacted_url("http://localhost:4000/key/info", &[]),
            "http://localhost:4000/key/info"
        );
    }
}
