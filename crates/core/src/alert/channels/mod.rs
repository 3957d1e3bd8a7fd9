//! The ways an alert leaves Headroom: a webhook (Slack, Discord or plain JSON) or an email.
//!
//! Senders here know nothing of the outbox: each call is one attempt, and a failure is a
//! sentence for the person reading the delivery log, while the dispatcher decides when to try
//! again. Secrets reach a sender as arguments, already resolved, and never appear in its errors:
//! Slack and Discord webhook URLs carry their token in the path, so only the host is ever named.

pub mod email;
pub mod webhook;

use std::error::Error;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};

use crate::store::Severity;

pub use email::send_email;
pub use webhook::{send_webhook, sign, webhook_body, webhook_client};

/// What a channel says: one per delivery.
#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    /// The outbox row's id: receivers use it to drop a repeat (sent as a header / field).
    pub delivery_id: i64,
    pub kind: NoticeKind,
    pub severity: Severity,
    /// One line that stands on its own in a phone notification, e.g. "production: runs out in
    /// about 30 h".
    pub title: String,
    /// The alert's message, in words.
    pub body: String,
    pub source: String,
    pub meter: Option<String>,
    pub rule: String,
    /// `None` for a test.
    pub alert_id: Option<i64>,
    pub meter_id: Option<i64>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Fired,
    /// The same episode, still open, said again so it is not forgotten.
    Reminder,
    Resolved,
    /// Sent by a person from the settings to see that the channel works.
    Test,
}

impl NoticeKind {
    /// The `event` field of a JSON webhook; receivers switch on it, so it never changes.
    pub fn event(self) -> &'static str {
        match self {
            NoticeKind::Fired => "alert.fired",
            NoticeKind::Reminder => "alert.reminder",
            NoticeKind::Resolved => "alert.resolved",
            NoticeKind::Test => "alert.test",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// Slack's incoming webhooks; Mattermost and Rocket.Chat accept the same body.
    Slack,
    Discord,
    /// Headroom's own object, optionally signed, for scripts and automation tools.
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (usually port 587); a server that does not
    /// offer the upgrade is an error rather than a silent fall back to plain text.
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// Plain text: only sensible for a relay on this machine.
    None,
}

/// What is stored in SQLite for a channel: never a secret. Secrets (the webhook URL, since Slack
/// and Discord URLs carry their token in the path; the HMAC signing secret; the SMTP password)
/// are stored as *references* resolved elsewhere (e.g. "env:VAR" or "keychain:..."), not here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelConfig {
    Desktop,
    Webhook {
        format: WebhookFormat,
        url_ref: String,
        secret_ref: Option<String>,
        /// The URL without its secret parts, from [`check_webhook_url`], for lists and logs.
        display: String,
    },
    Email {
        host: String,
        port: u16,
        security: SmtpSecurity,
        username: Option<String>,
        password_ref: Option<String>,
        /// Either a bare address or "Name <address>".
        from: String,
        to: Vec<String>,
    },
}

/// Why a send failed, in words; every failure is retried by the dispatcher with backoff.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

const WEBHOOK_EXAMPLE: &str = "a webhook URL looks like https://hooks.slack.com/services/...";

/// Checks a webhook URL typed by a person: http or https, with a host; returns a display form
/// without path/query secrets, e.g. "hooks.slack.com" or "127.0.0.1:8080".
pub fn check_webhook_url(url: &str) -> Result<String, String> {
    webhook::parse_url(url)
        .map(|(_, display)| display)
        .map_err(|why| format!("{url:?} is not a web address: {why}; {WEBHOOK_EXAMPLE}"))
}

/// Checks an email channel's settings (non-empty host, port > 0, from and each `to` look like
/// addresses, at least one recipient), so that a mistake shows in the settings form rather than
/// as a failed delivery hours later.
pub fn check_email(config: &ChannelConfig) -> Result<(), String> {
    let ChannelConfig::Email {
        host,
        port,
        security,
        username,
        password_ref,
        from,
        to,
    } = config
    else {
        return Err("this channel is not an email channel".into());
    };
    check_smtp_host(host)?;
    if *port == 0 {
        return Err("the mail server's port must be a number from 1 to 65535 \
                    (usually 587 for STARTTLS, 465 for TLS)"
            .into());
    }
    let username = username.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let password_ref = password_ref.as_deref().filter(|p| !p.trim().is_empty());
    if password_ref.is_some() && username.is_none() {
        return Err(
            "a password is set but no user name: the mail server needs both to sign in".into(),
        );
    }
    if username.is_some() && *security == SmtpSecurity::None && !is_loopback_host(host) {
        return Err(format!(
            "signing in to {host} without encryption would send the password as plain text; \
             choose STARTTLS or TLS"
        ));
    }
    check_address("the sender", from)?;
    if to.iter().all(|t| t.trim().is_empty()) {
        return Err("add at least one recipient address".into());
    }
    for recipient in to {
        check_address("a recipient", recipient)?;
    }
    Ok(())
}

fn check_smtp_host(host: &str) -> Result<(), String> {
    let host = host.trim();
    if host.is_empty() {
        return Err("the mail server's host name is empty; it looks like smtp.example.com".into());
    }
    if host.contains("://") || host.contains('/') {
        return Err(format!(
            "{host:?} is not a host name: give just the server's name, like smtp.example.com"
        ));
    }
    if host.contains(':') && host.parse::<IpAddr>().is_err() {
        return Err(format!(
            "{host:?} is not a host name: put the port in its own field, not after a colon"
        ));
    }
    if host.chars().any(char::is_whitespace) {
        return Err(format!("{host:?} is not a host name: it contains a space"));
    }
    Ok(())
}

fn check_address(role: &str, address: &str) -> Result<(), String> {
    let trimmed = address.trim();
    if trimmed.is_empty() {
        return Err(format!("{role}'s email address is empty"));
    }
    Mailbox::from_str(trimmed).map(|_| ()).map_err(|_| {
        format!(
            "{trimmed:?} is not an email address ({role}); an address looks like \
             name@example.com or \"Name <name@example.com>\""
        )
    })
}

/// Whether plain SMTP to `host` stays on this machine.
fn is_loopback_host(host: &str) -> bool {
    let host = host.trim();
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The innermost cause of `error`: the part of a long chain ("error sending request: client
/// error (Connect): tcp connect error: ...") that tells a person what actually happened.
fn root_cause<'a>(error: &'a (dyn Error + 'static)) -> &'a (dyn Error + 'static) {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause
}

/// Whether nothing listened at the address, the commonest mistake (a wrong port, a receiver
/// not started), worth saying plainly rather than as "os error 111".
fn is_refused(error: &(dyn Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if current
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        cause = current.source();
    }
    false
}

#[cfg(test)]
pub(crate) mod tests;
