//! Webhooks: one POST per notice, in the shape the receiving service expects.
//!
//! The URL itself is a secret for Slack and Discord (the token is in its path), so errors name
//! only the host, and an answer's body is quoted only after the URL's parts are blanked out of
//! it: some servers echo the request path in their error pages.

use std::time::Duration;

use chrono::SecondsFormat;
use hmac::{Hmac, Mac};
use reqwest::header::CONTENT_TYPE;
use reqwest::redirect::Policy;
use serde_json::{json, Map, Value};
use sha2::Sha256;
use url::Url;

use super::{is_refused, root_cause, Notice, NoticeKind, SendError, WebhookFormat};
use crate::store::Severity;

/// Lets a receiver drop a repeat: a retry after a lost answer carries the same id.
pub const DELIVERY_HEADER: &str = "X-Headroom-Delivery";
/// Named like GitHub's header, so receivers written for GitHub verify it unchanged.
pub const SIGNATURE_HEADER: &str = "X-Headroom-Signature-256";

const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// Enough of an error answer to say why ("invalid_token", "channel_not_found"), no more.
const EXCERPT_CHARS: usize = 200;

// Discord's documented embed limits; a longer field makes it refuse the whole message.
const DISCORD_TITLE_CHARS: usize = 256;
const DISCORD_DESCRIPTION_CHARS: usize = 4096;
const DISCORD_FOOTER_CHARS: usize = 256;

const RED: u32 = 0xE0_24_24;
const AMBER: u32 = 0xF5_9E_0B;
const GREEN: u32 = 0x22_C5_5E;

/// Posts `notice` to `url` in `format`. For `Json`, the body is a JSON object and, when
/// `secret` is Some, the request carries `X-Headroom-Signature-256: sha256=<hex HMAC-SHA256 of
/// the exact body bytes>`; Slack and Discord have no way to check a signature, so theirs are
/// never signed. `http` should come from [`webhook_client`]: its time limit and refusal to
/// follow redirects are what keep a send from hanging or wandering off with the token.
pub async fn send_webhook(
    http: &reqwest::Client,
    format: WebhookFormat,
    url: &str,
    secret: Option<&str>,
    notice: &Notice,
) -> Result<(), SendError> {
    let (url, host) = parse_url(url)
        .map_err(|why| SendError(format!("the webhook's address is not usable: {why}")))?;
    let body = serde_json::to_vec(&webhook_body(format, notice))
        .map_err(|e| SendError(format!("could not write the webhook's message: {e}")))?;
    let mut request = http
        .post(url.clone())
        .header(CONTENT_TYPE, "application/json")
        .header(DELIVERY_HEADER, notice.delivery_id.to_string());
    if let (WebhookFormat::Json, Some(secret)) = (format, secret) {
        request = request.header(SIGNATURE_HEADER, format!("sha256={}", sign(secret, &body)));
    }
    let response = request.body(body).send().await.map_err(|e| {
        SendError(format!(
            "could not deliver to the webhook at {host}: {}",
            transport_reason(e)
        ))
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    if status.is_redirection() {
        // The new address may carry the token too, so it is not named.
        return Err(SendError(format!(
            "the webhook at {host} answered {status}, a redirect to another address; Headroom \
             does not follow redirects, so put the final address in the channel's settings"
        )));
    }
    let text = response.text().await.unwrap_or_default();
    let excerpt = excerpt(&text, &url)
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    Err(SendError(format!(
        "the webhook at {host} answered {status}{excerpt}"
    )))
}

/// The body that would be posted (used by send_webhook and by tests).
pub fn webhook_body(format: WebhookFormat, notice: &Notice) -> Value {
    match format {
        WebhookFormat::Slack => slack_body(notice),
        WebhookFormat::Discord => discord_body(notice),
        WebhookFormat::Json => json_body(notice),
    }
}

/// hex HMAC-SHA256 of `body` with `secret` (receivers verify with this).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts a key of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A reqwest client suitable for webhooks: 10 s timeout, no redirects followed (a redirect is
/// a SendError).
pub fn webhook_client() -> reqwest::Client {
    client_with_timeout(WEBHOOK_TIMEOUT)
}

pub(crate) fn client_with_timeout(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(Policy::none())
        .user_agent(concat!("headroom/", env!("CARGO_PKG_VERSION")))
        .build()
        // Only a TLS backend that fails to start can refuse, and `Client::new` would panic
        // the same way; falling back to it would quietly follow redirects.
        .expect("the HTTP client's TLS backend failed to start")
}

/// The URL and the form of it that is safe to show: host and port, no path, query or user.
/// The reason for a refusal never repeats the URL, so it can go into a delivery log.
pub(super) fn parse_url(url: &str) -> Result<(Url, String), String> {
    let url = url.trim();
    if url.chars().any(char::is_whitespace) {
        return Err("it contains a space".into());
    }
    let parsed = Url::parse(url).map_err(describe_parse_error)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "it starts with \"{}:\" rather than https://",
            parsed.scheme()
        ));
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("it has no host name")?;
    let display = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    Ok((parsed, display))
}

fn describe_parse_error(error: url::ParseError) -> String {
    use url::ParseError::*;
    match error {
        RelativeUrlWithoutBase => "it does not start with https://".into(),
        EmptyHost => "it has no host name".into(),
        InvalidPort => "its port is not a number from 1 to 65535".into(),
        InvalidIpv4Address | InvalidIpv6Address => "its IP address is malformed".into(),
        InvalidDomainCharacter => "its host name has a character that is not allowed".into(),
        IdnaError => "its host name is not a valid international domain name".into(),
        other => other.to_string(),
    }
}

fn slack_body(notice: &Notice) -> Value {
    let emoji = match (notice.kind, notice.severity) {
        (NoticeKind::Resolved, _) => "\u{2705}",
        (_, Severity::Warn) => "\u{26A0}\u{FE0F}",
        (_, Severity::Critical) => "\u{1F534}",
    };
    let text = format!(
        "{emoji} *{}*\n{}",
        slack_escape(notice.title.trim()),
        slack_escape(&notice.body)
    );
    json!({ "text": text })
}

/// Slack reads `<`, `>` and `&` as the start of links and mentions, so a message saying
/// "< 5% left" would lose its text without this.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn discord_body(notice: &Notice) -> Value {
    let color = match (notice.kind, notice.severity) {
        (NoticeKind::Resolved, _) => GREEN,
        (_, Severity::Warn) => AMBER,
        (_, Severity::Critical) => RED,
    };
    let subject = match &notice.meter {
        Some(meter) => format!("{}/{meter}", notice.source),
        None => notice.source.clone(),
    };
    let mut embed = Map::new();
    // Discord refuses empty strings in an embed, and an embed with neither title nor
    // description, so each is left out when empty and a title stands in when both are.
    let title = notice.title.trim();
    let description = notice.body.trim();
    if !title.is_empty() || description.is_empty() {
        let title = if title.is_empty() {
            "Headroom alert"
        } else {
            title
        };
        embed.insert("title".into(), truncate(title, DISCORD_TITLE_CHARS).into());
    }
    if !description.is_empty() {
        embed.insert(
            "description".into(),
            truncate(description, DISCORD_DESCRIPTION_CHARS).into(),
        );
    }
    embed.insert("color".into(), color.into());
    embed.insert("timestamp".into(), rfc3339(notice).into());
    embed.insert(
        "footer".into(),
        json!({ "text": truncate(&format!("Headroom \u{b7} {subject}"), DISCORD_FOOTER_CHARS) }),
    );
    json!({
        "content": null,
        "embeds": [embed],
        // A source or meter named "@everyone" must not ping a whole server.
        "allowed_mentions": { "parse": [] },
    })
}

fn json_body(notice: &Notice) -> Value {
    json!({
        "event": notice.kind.event(),
        "delivery_id": notice.delivery_id,
        "alert_id": notice.alert_id,
        "severity": notice.severity.as_str(),
        "title": notice.title,
        "message": notice.body,
        "source": notice.source,
        "meter": notice.meter,
        "meter_id": notice.meter_id,
        "rule": notice.rule,
        "at": rfc3339(notice),
    })
}

fn rfc3339(notice: &Notice) -> String {
    notice.at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('\u{2026}');
    cut
}

/// Why a request got no answer, without the URL that reqwest's own message would include.
fn transport_reason(error: reqwest::Error) -> String {
    if error.is_timeout() {
        return "it did not answer in time".into();
    }
    if is_refused(&error) {
        return "the connection was refused (is the receiver running, and is the port right?)"
            .into();
    }
    let error = error.without_url();
    let cause = root_cause(&error).to_string();
    if error.is_connect() {
        format!("could not connect: {cause}")
    } else {
        cause
    }
}

/// A short, single-line quote of an error answer, with anything from the URL blanked out.
fn excerpt(text: &str, url: &Url) -> Option<String> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // An HTML error page says nothing the status does not.
    if text.is_empty() || text.starts_with('<') {
        return None;
    }
    let mut secrets: Vec<&str> = vec![url.as_str(), url.path(), url.username()];
    secrets.extend(url.query());
    secrets.extend(url.password());
    // Tokens are long; a shorter segment such as "services" or "webhooks" is no secret.
    secrets.extend(
        url.path_segments()
            .into_iter()
            .flatten()
            .filter(|s| s.len() >= 16),
    );
    let mut text = text;
    for secret in secrets.into_iter().filter(|s| s.len() > 1) {
        text = text.replace(secret, "\u{2026}");
    }
    Some(truncate(&text, EXCERPT_CHARS))
}
