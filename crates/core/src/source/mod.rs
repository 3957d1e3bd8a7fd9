//! Sources: one file per provider behind the [`Source`] trait, plus the shared HTTP runner.
//!
//! A source only builds requests and parses responses. It never stores, schedules or alerts.

pub mod anthropic;
pub mod apipark;
pub mod deepseek;
pub mod generic;
pub mod http;
pub mod litellm;
pub mod moonshot;
pub mod newapi;
pub mod openai;
pub mod openrouter;
pub mod siliconflow;
pub mod spend;
mod wallet;
pub mod windows;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::classify::{classify, FailureClass};
use ts_rs::TS;

pub use http::{FetchError, HttpRunner, Response};

/// What kind of quantity a meter is; it decides how the meter behaves over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeterKind {
    /// Prepaid money: falls with use, jumps up on a top-up.
    Balance,
    /// A cap per cycle that resets.
    Budget,
    /// A rate-limit window from response headers.
    Window,
}

impl MeterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MeterKind::Balance => "balance",
            MeterKind::Budget => "budget",
            MeterKind::Window => "window",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "balance" => Some(MeterKind::Balance),
            "budget" => Some(MeterKind::Budget),
            "window" => Some(MeterKind::Window),
            _ => None,
        }
    }
}

/// Identity and presentation of one meter a source reports.
#[derive(Clone, Debug, PartialEq)]
pub struct MeterSpec {
    pub name: String,
    pub label: String,
    pub kind: MeterKind,
    pub unit: String,
}

/// One observation of one meter.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    pub meter: MeterSpec,
    pub remaining: Decimal,
    pub limit: Option<Decimal>,
    pub used: Option<Decimal>,
    /// A named cycle (`daily`, `weekly`, `monthly`) when the provider gives no instant.
    pub reset: Option<String>,
    pub reset_at: Option<DateTime<Utc>>,
}

/// A failed request, already put in words, with the evidence a person needs to see what was asked
/// and what came back. Everything in it has been redacted: it is stored and shown as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PollFailure {
    pub endpoint: String,
    pub status: Option<u16>,
    pub message: String,
    /// The start of the response body with secrets removed.
    pub excerpt: String,
    /// Which failure it was, for answers that had an HTTP status.
    pub class: Option<FailureClass>,
    pub origin: EventOrigin,
    /// Boxed because failures travel as the `Err` of many results, which stay small this way.
    pub evidence: Box<Evidence>,
}

/// What a failure came from besides the body, all redacted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evidence {
    /// "GET", "POST"; empty when the failure came before any request.
    pub method: String,
    /// The full request URL; empty when unknown.
    pub url: String,
    /// The response headers, without the ones that carry credentials.
    pub headers: Vec<(String, String)>,
    /// When the request failed, when that is not the moment of the poll (a gateway's log).
    pub occurred_at: Option<DateTime<Utc>>,
    /// The gateway's own id of the request, so that reading the same log twice stores it once.
    pub external_id: Option<String>,
}

impl PollFailure {
    /// A failure that happened before or without an HTTP answer.
    pub fn without_answer(endpoint: &str, message: String) -> Self {
        Self {
            endpoint: endpoint.to_string(),
            message,
            ..Self::default()
        }
    }

    /// The same failure, naming the request it came from.
    pub fn requested(mut self, method: &str, url: &str, secrets: &[&str]) -> Self {
        self.evidence.method = method.to_string();
        self.evidence.url = http::redacted_url(url, secrets);
        self
    }

    /// The same failure, keeping the response headers it came with.
    pub(crate) fn answered_with(mut self, response: &Response, secrets: &[&str]) -> Self {
        self.evidence.headers = http::redacted_headers(&response.headers, secrets);
        self
    }
}

/// Where Headroom saw a failed request: one of its own polls, or a gateway's log of the requests
/// that went through it (someone else's request, which says nothing about the poll's health).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub enum EventOrigin {
    #[default]
    Poll,
    Gateway,
}

impl EventOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            EventOrigin::Poll => "poll",
            EventOrigin::Gateway => "gateway",
        }
    }

    /// Unknown text reads as a poll: that is what every event was before origins existed.
    pub fn parse(text: &str) -> Self {
        match text {
            "gateway" => EventOrigin::Gateway,
            _ => EventOrigin::Poll,
        }
    }
}

/// Everything one poll of one source produced. A poll can partly succeed.
#[derive(Debug, Default)]
pub struct PollOutcome {
    pub readings: Vec<Reading>,
    pub failures: Vec<PollFailure>,
    /// Conditions the provider reported while the poll itself worked (an upstream key marked
    /// exceeded): recorded as events when they first appear, without marking the source failing.
    pub notices: Vec<PollFailure>,
    /// Other clients' requests that failed, read from a gateway's request log: stored as events
    /// (once each, by their `external_id`) and never counted against the poll.
    pub logged: Vec<PollFailure>,
}

/// Keys a source may present. Resolved just before each poll and dropped right after.
#[derive(Clone, Default)]
pub struct Keys {
    pub key: Option<String>,
    pub management_key: Option<String>,
}

impl Keys {
    /// Every secret, so that excerpts and messages can be scrubbed of them.
    pub fn secrets(&self) -> Vec<&str> {
        [self.key.as_deref(), self.management_key.as_deref()]
            .into_iter()
            .flatten()
            .filter(|k| !k.is_empty())
            .collect()
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

#[async_trait]
pub trait Source: Send + Sync {
    /// Reads every meter this source can see.
    async fn poll(&self, http: &HttpRunner, keys: &Keys) -> PollOutcome;

    /// Reads the body one of this source's endpoints (by path, e.g. `/user/balance`) answered at
    /// `at`. Polls read live answers with it, and the demo reads the simulator's past with it, so
    /// both go through the same parser. An unknown path or an unreadable body is an error that
    /// names what is wrong.
    fn read_snapshot(
        &self,
        path: &str,
        body: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String>;

    /// Reads everything one poll's endpoints answered at `at`, as (path, body) in the order they
    /// were asked. Most meters come from one body; a source whose meter needs two (OpenAI: the
    /// limit and the spend against it) reads them together here.
    fn read_snapshots(
        &self,
        served: &[(String, serde_json::Value)],
        at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String> {
        let mut readings = Vec::new();
        for (path, body) in served {
            readings.extend(self.read_snapshot(path, body, at)?);
        }
        Ok(readings)
    }

    /// Fills in the history the provider keeps (for example 30 days of daily costs), calling
    /// `progress(done, total)` as it goes. Providers that keep no history have nothing to fill.
    async fn backfill(&self, _http: &HttpRunner, _keys: &Keys, _progress: &Progress) -> Backfill {
        Backfill::default()
    }
}

/// Called with (steps done, steps in all) while a backfill runs.
pub type Progress = dyn Fn(usize, usize) + Send + Sync;

/// What a backfill found: past readings, oldest first, and what failed on the way.
#[derive(Debug, Default)]
pub struct Backfill {
    pub history: Vec<(DateTime<Utc>, Reading)>,
    pub failures: Vec<PollFailure>,
}

/// Settings a provider needs besides its URL and keys (a monthly budget, a team id, …), as the
/// person typed them. Stored with the source; never secrets.
pub type SourceOptions = std::collections::BTreeMap<String, String>;

/// One setting a provider kind takes, so that forms and the CLI can ask for it.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct ProviderOption {
    pub name: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub required: bool,
}

/// Reads an amount option exactly; `None` when it was not given.
pub fn amount_option(options: &SourceOptions, name: &str) -> Result<Option<Decimal>, String> {
    match options
        .get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => Ok(None),
        Some(text) => text
            .parse::<Decimal>()
            .ok()
            .filter(|d| *d >= Decimal::ZERO)
            .map(Some)
            .ok_or_else(|| {
                format!("{name} must be an amount of 0 or more, like 100 or 25.50, not \"{text}\"")
            }),
    }
}

/// A provider Headroom knows how to read.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct ProviderKind {
    pub kind: &'static str,
    pub label: &'static str,
    pub default_base_url: &'static str,
    pub options: &'static [ProviderOption],
    /// The second key this kind takes, when it takes one; forms show its field only then.
    pub management_key: Option<ManagementKey>,
}

/// What a kind's second key is called and what it is for.
#[derive(Clone, Copy, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct ManagementKey {
    pub label: &'static str,
    pub help: &'static str,
}

pub const PROVIDERS: &[ProviderKind] = &[
    ProviderKind {
        kind: "openrouter",
        label: "OpenRouter",
        default_base_url: "https://openrouter.ai",
        options: &[],
        management_key: Some(ManagementKey {
            label: "Management key",
            help: "Needed for account credits; leave empty to watch only this key's own limit.",
        }),
    },
    ProviderKind {
        kind: "deepseek",
        label: "DeepSeek",
        default_base_url: "https://api.deepseek.com",
        options: &[],
        management_key: None,
    },
    ProviderKind {
        kind: "moonshot",
        label: "Moonshot (Kimi)",
        default_base_url: "https://api.moonshot.cn",
        options: &[],
        management_key: None,
    },
    ProviderKind {
        kind: "siliconflow",
        label: "SiliconFlow",
        default_base_url: "https://api.siliconflow.cn",
        options: &[],
        management_key: None,
    },
    ProviderKind {
        kind: "litellm",
        label: "LiteLLM",
        // A self-hosted proxy; LiteLLM's default port on this machine.
        default_base_url: "http://localhost:4000",
        options: litellm::OPTIONS,
        management_key: Some(ManagementKey {
            label: "Master key",
            help: "The proxy's master key, which reading a user's or team's budget needs; leave empty to watch only this key's budget.",
        }),
    },
    ProviderKind {
        kind: "newapi",
        label: "new-api / one-api",
        default_base_url: "http://localhost:3000",
        options: &[],
        management_key: None,
    },
    ProviderKind {
        kind: "openai",
        label: "OpenAI",
        default_base_url: "https://api.openai.com",
        options: openai::OPTIONS,
        management_key: None,
    },
    ProviderKind {
        kind: "anthropic",
        label: "Anthropic",
        default_base_url: "https://api.anthropic.com",
        options: anthropic::OPTIONS,
        management_key: None,
    },
    ProviderKind {
        kind: "generic",
        label: "Generic JSON",
        // No default: the person names the endpoint.
        default_base_url: "",
        options: generic::OPTIONS,
        management_key: None,
    },
    ProviderKind {
        kind: "apipark",
        label: "APIPark",
        // A self-hosted console; APIPark's default port.
        default_base_url: "http://localhost:18288",
        options: apipark::OPTIONS,
        management_key: None,
    },
];

pub fn provider(kind: &str) -> Option<&'static ProviderKind> {
    PROVIDERS.iter().find(|p| p.kind == kind)
}

/// Builds the source for a configured provider, after checking its options: an unknown or
/// missing one is an error in words.
pub fn build(
    kind: &str,
    base_url: &str,
    options: &SourceOptions,
) -> Result<Box<dyn Source>, String> {
    let Some(spec) = provider(kind) else {
        let known: Vec<&str> = PROVIDERS.iter().map(|p| p.kind).collect();
        return Err(format!(
            "unknown provider kind \"{kind}\"; known kinds: {}",
            known.join(", ")
        ));
    };
    for name in options.keys() {
        if !spec.options.iter().any(|o| o.name == name) {
            let known: Vec<&str> = spec.options.iter().map(|o| o.name).collect();
            return Err(match known.is_empty() {
                true => format!("{} takes no option \"{name}\"", spec.label),
                false => format!(
                    "{} has no option \"{name}\"; its options: {}",
                    spec.label,
                    known.join(", ")
                ),
            });
        }
    }
    if let Some(missing) = spec
        .options
        .iter()
        .find(|o| o.required && options.get(o.name).is_none_or(|v| v.trim().is_empty()))
    {
        return Err(format!(
            "{} needs {} ({})",
            spec.label, missing.label, missing.name
        ));
    }
    Ok(match kind {
        "openrouter" => Box::new(openrouter::OpenRouter::new(base_url)),
        "deepseek" => Box::new(deepseek::DeepSeek::new(base_url)),
        "moonshot" => Box::new(moonshot::Moonshot::new(base_url)),
        "siliconflow" => Box::new(siliconflow::SiliconFlow::new(base_url)),
        "litellm" => Box::new(litellm::LiteLlm::new(base_url, options)),
        "newapi" => Box::new(newapi::NewApi::new(base_url)),
        "openai" => Box::new(openai::OpenAi::new(base_url, options)?),
        "anthropic" => Box::new(anthropic::Anthropic::new(base_url, options)?),
        "generic" => Box::new(generic::Generic::new(base_url, options)?),
        "apipark" => Box::new(apipark::ApiPark::new(base_url, options)?),
        other => return Err(format!("Headroom cannot read {other} sources yet")),
    })
}

/// Puts a non-2xx answer in words: which failure the classifier says it was, then the provider's
/// own message when its error envelope has one (that is what a person searches for).
pub fn status_failure(
    provider_kind: &str,
    endpoint: &str,
    response: &Response,
    secrets: &[&str],
) -> PollFailure {
    let label = provider(provider_kind).map_or(provider_kind, |p| p.label);
    // The classifier reads every header (a retry-after, an x402 offer); only the stored copy
    // leaves out the ones that carry credentials.
    let headers: Vec<(String, String)> = response
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    let classification = classify(provider_kind, response.status, &headers, &response.body);
    let provider_says = serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.pointer("/message"))
                .or_else(|| v.pointer("/error"))
                .and_then(|m| m.as_str().map(str::to_string))
        });
    let what = if (300..400).contains(&response.status) {
        "Redirected to another host, where Headroom does not send keys".to_string()
    } else {
        classification.title
    };
    let answered = format!("{what}: {label} answered {}", response.status);
    let message = match provider_says {
        Some(said) => format!(
            "{answered}: {}",
            http::redacted_excerpt(said.trim_end_matches('.').as_bytes(), secrets)
        ),
        None => answered,
    };
    PollFailure {
        endpoint: endpoint.to_string(),
        status: Some(response.status),
        message,
        excerpt: http::redacted_excerpt(&response.body, secrets),
        class: Some(classification.class),
        ..evidence_of(response, secrets)
    }
}

/// The request and the response headers of an answer, as the evidence of a failure made from it.
pub(crate) fn evidence_of(response: &Response, secrets: &[&str]) -> PollFailure {
    PollFailure::default()
        .requested(response.method, &response.url, secrets)
        .answered_with(response, secrets)
}

/// A transport failure (no HTTP status) in the same shape as a status failure. Sources only read,
/// so the request that got no answer was a GET.
pub fn fetch_failure(endpoint: &str, error: &FetchError, secrets: &[&str]) -> PollFailure {
    PollFailure::without_answer(
        endpoint,
        http::redacted_excerpt(error.to_string().as_bytes(), secrets),
    )
    .requested("GET", error.url(), secrets)
}

/// GETs `base_url` + `path` with a bearer key and reads the answer as JSON; every way that can
/// fail comes back already put in words.
pub(crate) async fn get_json(
    http: &HttpRunner,
    provider_kind: &str,
    base_url: &str,
    path: &str,
    key: &str,
    secrets: &[&str],
) -> Result<serde_json::Value, PollFailure> {
    let url = format!("{base_url}{path}");
    let response = http
        .get_bearer(&url, key)
        .await
        .map_err(|e| fetch_failure(path, &e, secrets))?;
    if !(200..300).contains(&response.status) {
        return Err(status_failure(provider_kind, path, &response, secrets));
    }
    json_body(provider_kind, path, &response, secrets)
}

/// A 2xx answer's body as JSON. When it is not JSON and the server said it was something else
/// (a login page, a proxy's error page), the failure names what was sent instead.
pub(crate) fn json_body(
    provider_kind: &str,
    path: &str,
    response: &Response,
    secrets: &[&str],
) -> Result<serde_json::Value, PollFailure> {
    serde_json::from_slice(&response.body).map_err(|e| {
        let content_type = response
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let problem = match content_type.to_ascii_lowercase().contains("json") || content_type.is_empty() {
            true => e.to_string(),
            false => format!(
                "it sent {content_type} instead of JSON; is the base URL the API's, and not a web page or a login screen?"
            ),
        };
        unreadable(provider_kind, path, &problem, &response.body, secrets)
            .requested(response.method, &response.url, secrets)
            .answered_with(response, secrets)
    })
}

/// A 2xx answer whose body is not what the provider documents.
pub(crate) fn unreadable(
    provider_kind: &str,
    path: &str,
    problem: &str,
    body: &[u8],
    secrets: &[&str],
) -> PollFailure {
    let label = provider(provider_kind).map_or(provider_kind, |p| p.label);
    PollFailure {
        endpoint: path.to_string(),
        status: Some(200),
        message: format!("{label} sent a response Headroom cannot read from {path}: {problem}"),
        excerpt: http::redacted_excerpt(body, secrets),
        ..PollFailure::default()
    }
}

/// The single-key balance sources' poll: one GET, read by the source's own `read_snapshot`.
pub(crate) async fn poll_one_endpoint(
    source: &dyn Source,
    provider_kind: &str,
    base_url: &str,
    path: &str,
    http: &HttpRunner,
    keys: &Keys,
) -> PollOutcome {
    let secrets = keys.secrets();
    let mut outcome = PollOutcome::default();
    let Some(key) = keys.key.as_deref() else {
        let label = provider(provider_kind).map_or(provider_kind, |p| p.label);
        outcome.failures.push(PollFailure::without_answer(
            path,
            format!("{label} reads the balance with the API key, and none is set for this source."),
        ));
        return outcome;
    };
    match get_json(http, provider_kind, base_url, path, key, &secrets).await {
        Ok(body) => match source.read_snapshot(path, &body, Utc::now()) {
            Ok(readings) => outcome.readings = readings,
            Err(problem) => outcome.failures.push(
                unreadable(
                    provider_kind,
                    path,
                    &problem,
                    body.to_string().as_bytes(),
                    &secrets,
                )
                .requested("GET", &format!("{base_url}{path}"), &secrets),
            ),
        },
        Err(failure) => outcome.failures.push(failure),
    }
    outcome
}

/// An amount the body must carry, exactly; the error names the field as a person would look for
/// it (`data.totalBalance`).
pub(crate) fn required_amount(body: &serde_json::Value, pointer: &str) -> Result<Decimal, String> {
    let name = pointer.trim_start_matches('/').replace('/', ".");
    match body.pointer(pointer) {
        None | Some(serde_json::Value::Null) => Err(format!("the field {name} is missing")),
        Some(v) => crate::money::decimal_from_json(v)
            .ok_or_else(|| format!("{name} is not a number ({v})")),
    }
}

/// The host's API root: people paste the OpenAI-compatible base URL (`…/v1`) they already use,
/// while the balance paths are written from the root.
pub(crate) fn api_root(base_url: &str) -> String {
    let trimmed = base_url.trim_end_matches('/');
    trimmed.strip_suffix("/v1").unwrap_or(trimmed).to_string()
}

/// The lower-cased host of a base URL, if it has one.
pub(crate) fn host_of(base_url: &str) -> Option<String> {
    reqwest::Url::parse(base_url)
        .ok()?
        .host_str()
        .map(str::to_ascii_lowercase)
}

/// A path the source does not read, reported in the same words by every source.
pub(crate) fn not_an_endpoint(label: &str, path: &str, known: &[&str]) -> String {
    format!(
        "{label} has no endpoint {path} that Headroom reads (it reads {})",
        known.join(", ")
    )
}
