//! Email: one plain-text message per notice, through the person's own SMTP server.
//!
//! A new connection per message: alerts are rare, and a pooled connection that the server
//! closed in the meantime would only add a failure mode.

use std::str::FromStr;
use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::SmtpSecurity;
use super::{check_email, is_refused, root_cause, ChannelConfig, Notice, NoticeKind, SendError};

const EMAIL_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends `notice` as a plain-text email (subject = "[Headroom] " + title; body = body +
/// source/meter/rule/time lines). `Starttls` requires the upgrade (a server that does not offer
/// it is an error, never plain text), `Tls` is TLS from the first byte (port 465 style), `None`
/// is plain SMTP. 30 s timeout. Errors name the server and what went wrong, never the password.
pub async fn send_email(
    config: &ChannelConfig,
    password: Option<&str>,
    notice: &Notice,
) -> Result<(), SendError> {
    send_email_within(config, password, notice, EMAIL_TIMEOUT).await
}

/// [`send_email`] with a shorter limit, so a test of a silent server does not take 30 s.
pub(crate) async fn send_email_within(
    config: &ChannelConfig,
    password: Option<&str>,
    notice: &Notice,
    timeout: Duration,
) -> Result<(), SendError> {
    let ChannelConfig::Email {
        host,
        port,
        security,
        username,
        from,
        to,
        ..
    } = config
    else {
        return Err(SendError("this channel is not an email channel".into()));
    };
    check_email(config)
        .map_err(|why| SendError(format!("the email settings are not usable: {why}")))?;
    let host = host.trim();
    let server = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let message = build_message(from, to, notice)
        .map_err(|why| SendError(format!("could not write the email: {why}")))?;

    let tls = match security {
        SmtpSecurity::Starttls | SmtpSecurity::Tls => {
            let parameters = TlsParameters::new(host.to_string()).map_err(|e| {
                SendError(format!(
                    "could not set up TLS for {server}: {}",
                    root_cause(&e)
                ))
            })?;
            if *security == SmtpSecurity::Starttls {
                Tls::Required(parameters)
            } else {
                Tls::Wrapper(parameters)
            }
        }
        SmtpSecurity::None => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(*port)
        .tls(tls)
        .timeout(Some(timeout));
    if let Some(user) = username.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        let Some(password) = password else {
            return Err(SendError(format!(
                "the email channel signs in to {server} as {user}, but its password could not \
                 be found"
            )));
        };
        builder = builder.credentials(Credentials::new(user.to_string(), password.to_string()));
    }
    let transport = builder.build();

    // lettre's limit is per read or write; this one bounds a server that answers slowly
    // forever.
    match tokio::time::timeout(timeout, transport.send(message)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(SendError(format!(
            "could not send email through {server}: {}",
            redact(smtp_reason(&error, *security, *port), password)
        ))),
        Err(_) => Err(SendError(format!(
            "could not send email through {server}: the server did not finish within \
             {timeout:?}{}",
            silence_hint(*security, *port)
        ))),
    }
}

fn build_message(from: &str, to: &[String], notice: &Notice) -> Result<Message, String> {
    let from = Mailbox::from_str(from.trim()).map_err(|e| e.to_string())?;
    // Every retry of a delivery keeps its Message-ID, so a mail client can fold a repeat
    // into one; the time keeps ids apart when a new database starts counting from 1 again.
    let message_id = format!(
        "<headroom.{}.{}@{}>",
        notice.delivery_id,
        notice.at.timestamp_millis(),
        from.email.domain()
    );
    let mut builder = Message::builder()
        .from(from)
        .subject(format!("[Headroom] {}", notice.title.trim()))
        .message_id(Some(message_id))
        .header(DeliveryHeader(notice.delivery_id))
        .header(ContentType::TEXT_PLAIN);
    for recipient in to.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        builder = builder.to(Mailbox::from_str(recipient).map_err(|e| e.to_string())?);
    }
    builder.body(email_text(notice)).map_err(|e| e.to_string())
}

/// The message's text: what happened first, then the facts a person needs to find it.
pub(crate) fn email_text(notice: &Notice) -> String {
    let status = match notice.kind {
        NoticeKind::Fired => "firing",
        NoticeKind::Reminder => "still firing (reminder)",
        NoticeKind::Resolved => "resolved",
        NoticeKind::Test => "test message, nothing is wrong",
    };
    let mut text = format!("{}\n\nSource: {}\n", notice.body.trim_end(), notice.source);
    if let Some(meter) = &notice.meter {
        text.push_str(&format!("Meter: {meter}\n"));
    }
    text.push_str(&format!(
        "Rule: {}\nSeverity: {}\nStatus: {status}\nTime: {}\n\n-- \nSent by Headroom (delivery {}).\n",
        notice.rule,
        notice.severity.as_str(),
        notice.at.format("%Y-%m-%d %H:%M:%S UTC"),
        notice.delivery_id,
    ));
    text
}

/// The same id the webhooks carry, for a mail filter or a script that reads the inbox.
#[derive(Clone)]
struct DeliveryHeader(i64);

impl Header for DeliveryHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(super::webhook::DELIVERY_HEADER)
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim().parse()?))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_string())
    }
}

/// lettre's message ("internal client error: ...", "permanent error (535): ...") reworded
/// for the person who set the channel up, with a hint when the port and the security setting
/// look mismatched, the commonest mistake.
fn smtp_reason(
    error: &lettre::transport::smtp::Error,
    security: SmtpSecurity,
    port: u16,
) -> String {
    let cause = root_cause(error).to_string();
    if error.is_timeout() {
        return format!(
            "the server stopped answering{}",
            silence_hint(security, port)
        );
    }
    if is_refused(error) {
        return "the connection was refused (is the server running, and is the port right?)".into();
    }
    if let Some(code) = error.status() {
        let advice = match code.to_string().as_str() {
            "530" | "534" | "535" => "; check the user name and password",
            _ => "",
        };
        return format!("the server answered {code}: {}{advice}", cause.trim());
    }
    if cause.contains("STARTTLS is not supported") {
        return "the server does not offer STARTTLS, which this channel requires; choose TLS if \
                the server takes it (usually port 465)"
            .into();
    }
    if cause.contains("No compatible authentication mechanism") {
        return "the server offers no way to sign in that Headroom knows (PLAIN or LOGIN)".into();
    }
    // rustls reading a plain "220 ..." greeting as a TLS record.
    if security == SmtpSecurity::Tls && cause.contains("corrupt message") {
        return format!(
            "the server did not speak TLS ({cause}); TLS from the first byte is usually port \
             465, while 587 wants STARTTLS"
        );
    }
    if error.is_tls() {
        return format!("the secure connection failed: {cause}");
    }
    cause
}

/// A client that waits for a greeting while the server waits for a TLS hello: both silent.
fn silence_hint(security: SmtpSecurity, port: u16) -> &'static str {
    if port == 465 && security != SmtpSecurity::Tls {
        " (port 465 usually wants TLS from the first byte; choose TLS)"
    } else {
        ""
    }
}

/// A server could echo what it was sent; the password never leaves in an error.
fn redact(text: String, password: Option<&str>) -> String {
    match password.filter(|p| !p.is_empty()) {
        Some(password) => text.replace(password, "\u{2026}"),
        None => text,
    }
}
