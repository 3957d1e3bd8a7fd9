//! Every sender against a real server on loopback: an axum receiver for webhooks, a small
//! SMTP server for email. Nothing of ours is mocked.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header::LOCATION, HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Router;
use chrono::{TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::email::{email_text, send_email_within};
use super::webhook::{client_with_timeout, DELIVERY_HEADER, SIGNATURE_HEADER};
use super::*;

const TITLE: &str = "production: runs out in about 30 h";
const BODY: &str = "Balance is $12.50 & falling; < 5% left.";

fn notice(kind: NoticeKind, severity: Severity) -> Notice {
    Notice {
        delivery_id: 42,
        kind,
        severity,
        title: TITLE.into(),
        body: BODY.into(),
        source: "production".into(),
        meter: Some("credits".into()),
        rule: "runs_out_soon".into(),
        alert_id: Some(7),
        meter_id: Some(3),
        at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
    }
}

fn fired() -> Notice {
    notice(NoticeKind::Fired, Severity::Warn)
}

/// A server that accepts connections and never says a word.
async fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

// ---------------------------------------------------------------------------------------------
// Webhooks

#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) path: String,
    pub(crate) headers: HeaderMap,
    /// Exactly the bytes received, for checking a signature.
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Records every request; answers by path: `/fail/...` with a 500 page that echoes the path
/// (as Express does), `/redirect/...` with a 302, anything else with 200. The outbox's tests
/// use it too.
pub(crate) struct Receiver {
    pub(crate) addr: SocketAddr,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    pub(crate) async fn start() -> Self {
        Self::start_on(0).await
    }

    /// On a port chosen beforehand, to show a receiver that comes up after a failed send.
    pub(crate) async fn start_on(port: u16) -> Self {
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let record = seen.clone();
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let record = record.clone();
            async move {
                let path = uri.path().to_string();
                record.lock().unwrap().push(Request {
                    path: path.clone(),
                    headers,
                    body: body.to_vec(),
                });
                if path.starts_with("/fail") {
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("Cannot POST {path}"),
                    )
                        .into_response()
                } else if path.starts_with("/redirect") {
                    (
                        StatusCode::FOUND,
                        [(LOCATION, "/elsewhere/T000/SECRETTOKEN")],
                    )
                        .into_response()
                } else {
                    (StatusCode::OK, "ok").into_response()
                }
            }
        });
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, seen }
    }

    /// A port nothing listens on (bound for a moment to get a free number, then released),
    /// so a connection to it is refused.
    pub(crate) async fn free_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }

    fn only_request(&self) -> Request {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        requests[0].clone()
    }
}

async fn post(
    format: WebhookFormat,
    url: &str,
    secret: Option<&str>,
    notice: &Notice,
) -> Result<(), SendError> {
    send_webhook(&webhook_client(), format, url, secret, notice).await
}

#[tokio::test]
async fn slack_gets_the_title_in_text_and_the_delivery_header() {
    let receiver = Receiver::start().await;
    post(
        WebhookFormat::Slack,
        &receiver.url("/services/T000/B000/XXXX"),
        Some("ignored"),
        &fired(),
    )
    .await
    .unwrap();

    let request = receiver.only_request();
    assert_eq!(request.path, "/services/T000/B000/XXXX");
    assert_eq!(request.header(DELIVERY_HEADER), Some("42"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    // Slack cannot check a signature, so none is sent even when a secret is set.
    assert_eq!(request.header(SIGNATURE_HEADER), None);
    let text = request.json()["text"].as_str().unwrap().to_string();
    assert!(
        text.starts_with("\u{26A0}\u{FE0F} *production: runs out in about 30 h*\n"),
        "{text}"
    );
    // `<` and `&` would otherwise start a Slack link or entity and swallow the text.
    assert!(
        text.contains("$12.50 &amp; falling; &lt; 5% left."),
        "{text}"
    );
}

#[test]
fn slack_marks_resolved_and_critical_differently() {
    let text = |kind, severity| {
        webhook_body(WebhookFormat::Slack, &notice(kind, severity))["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(text(NoticeKind::Resolved, Severity::Critical).starts_with('\u{2705}'));
    assert!(text(NoticeKind::Fired, Severity::Critical).starts_with('\u{1F534}'));
    assert!(text(NoticeKind::Reminder, Severity::Warn).starts_with('\u{26A0}'));
}

#[tokio::test]
async fn discord_gets_an_embed_with_title_and_color() {
    let receiver = Receiver::start().await;
    post(
        WebhookFormat::Discord,
        &receiver.url("/api/webhooks/123/token"),
        None,
        &fired(),
    )
    .await
    .unwrap();

    let request = receiver.only_request();
    assert_eq!(request.header(DELIVERY_HEADER), Some("42"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = request.json();
    assert_eq!(body["content"], Value::Null);
    let embed = &body["embeds"][0];
    assert_eq!(embed["title"], TITLE);
    assert_eq!(embed["description"], BODY);
    assert_eq!(embed["color"], 0xF59E0B);
    assert_eq!(embed["timestamp"], "2026-01-02T03:04:05Z");
    assert_eq!(
        embed["footer"]["text"],
        "Headroom \u{b7} production/credits"
    );
    assert_eq!(body["allowed_mentions"]["parse"], serde_json::json!([]));
}

#[test]
fn discord_colors_follow_severity_and_resolution() {
    let color = |kind, severity| {
        webhook_body(WebhookFormat::Discord, &notice(kind, severity))["embeds"][0]["color"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(color(NoticeKind::Fired, Severity::Critical), 0xE02424);
    assert_eq!(color(NoticeKind::Fired, Severity::Warn), 0xF59E0B);
    assert_eq!(color(NoticeKind::Resolved, Severity::Critical), 0x22C55E);
}

#[test]
fn discord_never_gets_an_empty_or_oversized_field() {
    let mut empty = fired();
    empty.title = "  ".into();
    empty.body = String::new();
    empty.meter = None;
    let body = webhook_body(WebhookFormat::Discord, &empty);
    let embed = &body["embeds"][0];
    assert_eq!(embed["title"], "Headroom alert");
    assert!(embed.get("description").is_none());
    assert_eq!(embed["footer"]["text"], "Headroom \u{b7} production");

    let mut long = fired();
    long.title = "x".repeat(1000);
    long.body = "y".repeat(10_000);
    let body = webhook_body(WebhookFormat::Discord, &long);
    let embed = &body["embeds"][0];
    assert_eq!(embed["title"].as_str().unwrap().chars().count(), 256);
    assert_eq!(embed["description"].as_str().unwrap().chars().count(), 4096);
}

#[tokio::test]
async fn json_signature_verifies_with_the_secret_and_not_with_another() {
    let receiver = Receiver::start().await;
    post(
        WebhookFormat::Json,
        &receiver.url("/hook"),
        Some("s3cret"),
        &fired(),
    )
    .await
    .unwrap();

    let request = receiver.only_request();
    assert_eq!(request.header(DELIVERY_HEADER), Some("42"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let signature = request.header(SIGNATURE_HEADER).unwrap();
    let hex_digest = signature.strip_prefix("sha256=").unwrap();
    let digest = hex::decode(hex_digest).unwrap();
    let verifies = |secret: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&request.body);
        mac.verify_slice(&digest).is_ok()
    };
    assert!(verifies("s3cret"));
    assert!(!verifies("s3cret2"));
    assert!(!verifies(""));
    assert_eq!(sign("s3cret", &request.body), hex_digest);

    let body = request.json();
    assert_eq!(body["event"], "alert.fired");
    assert_eq!(body["delivery_id"], 42);
    assert_eq!(body["alert_id"], 7);
    assert_eq!(body["severity"], "warn");
    assert_eq!(body["title"], TITLE);
    assert_eq!(body["message"], BODY);
    assert_eq!(body["source"], "production");
    assert_eq!(body["meter"], "credits");
    assert_eq!(body["meter_id"], 3);
    assert_eq!(body["rule"], "runs_out_soon");
    assert_eq!(body["at"], "2026-01-02T03:04:05Z");
}

#[tokio::test]
async fn json_without_a_secret_is_unsigned() {
    let receiver = Receiver::start().await;
    let mut test = notice(NoticeKind::Test, Severity::Warn);
    test.alert_id = None;
    post(WebhookFormat::Json, &receiver.url("/hook"), None, &test)
        .await
        .unwrap();
    let request = receiver.only_request();
    assert_eq!(request.header(SIGNATURE_HEADER), None);
    assert_eq!(request.json()["event"], "alert.test");
    assert_eq!(request.json()["alert_id"], Value::Null);
}

#[test]
fn sign_matches_a_known_hmac() {
    // RFC 4231, test case 2.
    assert_eq!(
        sign("Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[tokio::test]
async fn an_error_answer_names_the_host_and_not_the_token() {
    let receiver = Receiver::start().await;
    let error = post(
        WebhookFormat::Slack,
        &receiver.url("/fail/T000/SECRETTOKENSECRETTOKEN"),
        None,
        &fired(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains(&receiver.addr.to_string()), "{error}");
    assert!(error.contains("500"), "{error}");
    assert!(!error.contains("SECRETTOKEN"), "{error}");
    assert!(!error.contains("/T000"), "{error}");
    // The rest of the answer is still quoted: it often says why.
    assert!(error.contains("Cannot POST"), "{error}");
}

#[tokio::test]
async fn a_refused_connection_names_the_host_and_not_the_token() {
    let port = Receiver::free_port().await;
    let error = post(
        WebhookFormat::Discord,
        &format!("http://127.0.0.1:{port}/T000/SECRETTOKEN"),
        None,
        &fired(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    assert!(error.contains("refused"), "{error}");
    assert!(!error.contains("SECRETTOKEN"), "{error}");
    assert!(!error.contains("/T000"), "{error}");
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let receiver = Receiver::start().await;
    let error = post(
        WebhookFormat::Json,
        &receiver.url("/redirect/T000/SECRETTOKEN"),
        Some("s3cret"),
        &fired(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("302"), "{error}");
    assert!(error.contains("redirect"), "{error}");
    assert!(!error.contains("SECRETTOKEN"), "{error}");
    // Only the first request: the receiver's `/elsewhere` was never asked.
    assert_eq!(receiver.only_request().path, "/redirect/T000/SECRETTOKEN");
}

#[tokio::test]
async fn a_silent_receiver_is_a_timeout_not_a_hang() {
    let addr = silent_server().await;
    let client = client_with_timeout(Duration::from_millis(300));
    let url = format!("http://{addr}/T000/SECRETTOKEN");
    let notice = fired();
    let send = send_webhook(&client, WebhookFormat::Json, &url, None, &notice);
    let error = tokio::time::timeout(Duration::from_secs(10), send)
        .await
        .expect("the client's time limit should end the send")
        .unwrap_err()
        .to_string();
    assert!(error.contains(&addr.to_string()), "{error}");
    assert!(error.contains("did not answer in time"), "{error}");
    assert!(!error.contains("SECRETTOKEN"), "{error}");
}

#[test]
fn check_webhook_url_refuses_what_is_not_a_web_address() {
    for (url, says) in [
        ("htp:/x", "\"htp:\""),
        ("ftp://example.com/hook", "\"ftp:\""),
        ("https://", "no host"),
        ("hooks.slack.com/services/T000", "https://"),
        ("https://exa mple.com/hook", "space"),
        ("http://[::zz]/hook", "IP address"),
        ("http://example.com:99999/", "port"),
    ] {
        let error = check_webhook_url(url).unwrap_err();
        assert!(error.contains("is not a web address"), "{url}: {error}");
        assert!(error.contains(says), "{url}: {error}");
        assert!(
            error.contains("https://hooks.slack.com/services/..."),
            "{url}: {error}"
        );
    }
}

#[test]
fn check_webhook_url_shows_only_host_and_port() {
    assert_eq!(
        check_webhook_url("https://hooks.slack.com/services/T000/B000/SECRETTOKEN").unwrap(),
        "hooks.slack.com"
    );
    assert_eq!(
        check_webhook_url(" http://user:pw@127.0.0.1:8080/hook?token=SECRET \n").unwrap(),
        "127.0.0.1:8080"
    );
    assert_eq!(
        check_webhook_url("https://discord.com:443/api/webhooks/1/x").unwrap(),
        "discord.com"
    );
    assert_eq!(
        check_webhook_url("http://[::1]:9000/x").unwrap(),
        "[::1]:9000"
    );
}

// ---------------------------------------------------------------------------------------------
// Email

#[derive(Clone, Debug, Default)]
struct Mail {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

/// Enough of RFC 5321 for one client at a time: no STARTTLS offered, AUTH PLAIN offered and
/// required when `plain_credentials` (base64 of "\0user\0password") is set.
struct SmtpServer {
    addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
    auth_lines: Arc<Mutex<Vec<String>>>,
}

impl SmtpServer {
    async fn start(plain_credentials: Option<&'static str>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let auth_lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let (m, a) = (mails.clone(), auth_lines.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (m, a) = (m.clone(), a.clone());
                tokio::spawn(async move {
                    let _ = converse(socket, plain_credentials, m, a).await;
                });
            }
        });
        Self {
            addr,
            mails,
            auth_lines,
        }
    }

    fn config(&self, security: SmtpSecurity) -> ChannelConfig {
        ChannelConfig::Email {
            host: "127.0.0.1".into(),
            port: self.addr.port(),
            security,
            username: None,
            password_ref: None,
            from: "Headroom <alerts@example.com>".into(),
            to: vec!["ops@example.com".into(), "Pat <pat@example.org>".into()],
        }
    }

    fn only_mail(&self) -> Mail {
        let mails = self.mails.lock().unwrap().clone();
        assert_eq!(mails.len(), 1, "{mails:?}");
        mails[0].clone()
    }
}

async fn converse(
    socket: tokio::net::TcpStream,
    plain_credentials: Option<&str>,
    mails: Arc<Mutex<Vec<Mail>>>,
    auth_lines: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    let mut line = Vec::new();
    let mut mail = Mail::default();
    let mut signed_in = plain_credentials.is_none();
    write.write_all(b"220 test.local ESMTP ready\r\n").await?;
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            let auth = if plain_credentials.is_some() {
                "250-AUTH PLAIN\r\n"
            } else {
                ""
            };
            format!("250-test.local\r\n{auth}250 8BITMIME\r\n")
        } else if upper.starts_with("HELO") || upper == "NOOP" || upper == "RSET" {
            "250 OK\r\n".into()
        } else if upper.starts_with("AUTH PLAIN") {
            auth_lines.lock().unwrap().push(command.clone());
            let given = command.split_whitespace().nth(2).unwrap_or_default();
            if Some(given) == plain_credentials {
                signed_in = true;
                "235 2.7.0 Authentication successful\r\n".into()
            } else {
                "535 5.7.8 Authentication credentials invalid\r\n".into()
            }
        } else if !signed_in {
            "530 5.7.0 Authentication required\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            mail = Mail {
                mail_from: command["MAIL FROM:".len()..].to_string(),
                ..Mail::default()
            };
            "250 OK\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            mail.rcpt_to.push(command["RCPT TO:".len()..].to_string());
            "250 OK\r\n".into()
        } else if upper == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            loop {
                line.clear();
                if read.read_until(b'\n', &mut line).await? == 0 {
                    return Ok(());
                }
                let text = String::from_utf8_lossy(&line).to_string();
                if text == ".\r\n" {
                    break;
                }
                // Undo dot-stuffing.
                mail.data.push_str(text.strip_prefix('.').unwrap_or(&text));
            }
            mails.lock().unwrap().push(std::mem::take(&mut mail));
            "250 OK queued\r\n".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            "502 Command not implemented\r\n".into()
        };
        write.write_all(reply.as_bytes()).await?;
    }
}

#[tokio::test]
async fn a_plain_email_reaches_the_server_with_subject_body_and_recipients() {
    let server = SmtpServer::start(None).await;
    send_email(&server.config(SmtpSecurity::None), None, &fired())
        .await
        .unwrap();

    let mail = server.only_mail();
    assert_eq!(mail.mail_from.trim(), "<alerts@example.com>");
    assert_eq!(mail.rcpt_to, ["<ops@example.com>", "<pat@example.org>"]);
    let data = mail.data;
    assert!(
        data.contains("Subject: [Headroom] production: runs out in about 30 h\r\n"),
        "{data}"
    );
    assert!(
        data.contains("From: Headroom <alerts@example.com>"),
        "{data}"
    );
    assert!(data.contains("ops@example.com"), "{data}");
    assert!(data.contains("Pat <pat@example.org>"), "{data}");
    assert!(data.contains("X-Headroom-Delivery: 42\r\n"), "{data}");
    assert!(data.contains("Message-ID: <headroom.42."), "{data}");
    assert!(data.contains(BODY), "{data}");
    for line in [
        "Source: production",
        "Meter: credits",
        "Rule: runs_out_soon",
        "Severity: warn",
        "Time: 2026-01-02 03:04:05 UTC",
    ] {
        assert!(data.contains(&format!("{line}\r\n")), "{line} in {data}");
    }
}

#[tokio::test]
async fn email_signs_in_with_the_password() {
    let server = SmtpServer::start(Some("AGFsZXJ0cwBodW50ZXIy")).await;
    let mut config = server.config(SmtpSecurity::None);
    if let ChannelConfig::Email {
        username,
        password_ref,
        ..
    } = &mut config
    {
        *username = Some("alerts".into());
        *password_ref = Some("env:HEADROOM_SMTP_PASSWORD".into());
    }
    send_email(&config, Some("hunter2"), &fired())
        .await
        .unwrap();
    assert_eq!(
        *server.auth_lines.lock().unwrap(),
        ["AUTH PLAIN AGFsZXJ0cwBodW50ZXIy"]
    );
    server.only_mail();

    let error = send_email(&config, Some("wrong-hunter3"), &fired())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains(&server.addr.to_string()), "{error}");
    assert!(error.contains("535"), "{error}");
    assert!(
        error.contains("check the user name and password"),
        "{error}"
    );
    assert!(!error.contains("wrong-hunter3"), "{error}");

    let error = send_email(&config, None, &fired())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("password could not be found"), "{error}");
}

#[tokio::test]
async fn a_refused_email_connection_names_the_server() {
    let port = Receiver::free_port().await;
    let config = ChannelConfig::Email {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password_ref: None,
        from: "alerts@example.com".into(),
        to: vec!["ops@example.com".into()],
    };
    let error = send_email(&config, None, &fired())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    assert!(error.contains("refused"), "{error}");
}

#[tokio::test]
async fn starttls_is_required_not_skipped() {
    let server = SmtpServer::start(None).await;
    let (config, notice) = (server.config(SmtpSecurity::Starttls), fired());
    let send = send_email(&config, None, &notice);
    let error = tokio::time::timeout(Duration::from_secs(10), send)
        .await
        .expect("a server without STARTTLS should fail the send at once")
        .unwrap_err()
        .to_string();
    assert!(error.contains(&server.addr.to_string()), "{error}");
    assert!(error.contains("does not offer STARTTLS"), "{error}");
    assert!(server.mails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn implicit_tls_against_a_plain_server_fails() {
    let server = SmtpServer::start(None).await;
    let (config, notice) = (server.config(SmtpSecurity::Tls), fired());
    let send = send_email(&config, None, &notice);
    let error = tokio::time::timeout(Duration::from_secs(10), send)
        .await
        .expect("a plain greeting should fail the TLS handshake at once")
        .unwrap_err()
        .to_string();
    assert!(error.contains(&server.addr.to_string()), "{error}");
    assert!(error.contains("did not speak TLS"), "{error}");
    assert!(error.contains("usually port 465"), "{error}");
    assert!(server.mails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_silent_mail_server_is_a_timeout_not_a_hang() {
    let addr = silent_server().await;
    let config = ChannelConfig::Email {
        host: "127.0.0.1".into(),
        port: addr.port(),
        security: SmtpSecurity::None,
        username: None,
        password_ref: None,
        from: "alerts@example.com".into(),
        to: vec!["ops@example.com".into()],
    };
    let notice = fired();
    let send = send_email_within(&config, None, &notice, Duration::from_millis(300));
    let error = tokio::time::timeout(Duration::from_secs(10), send)
        .await
        .expect("the time limit should end the send")
        .unwrap_err()
        .to_string();
    assert!(error.contains(&addr.to_string()), "{error}");
}

fn email_config() -> ChannelConfig {
    ChannelConfig::Email {
        host: "smtp.example.com".into(),
        port: 587,
        security: SmtpSecurity::Starttls,
        username: Some("alerts@example.com".into()),
        password_ref: Some("keychain:smtp".into()),
        from: "Headroom <alerts@example.com>".into(),
        to: vec!["ops@example.com".into()],
    }
}

fn with(change: impl FnOnce(&mut ChannelConfig)) -> Result<(), String> {
    let mut config = email_config();
    change(&mut config);
    check_email(&config)
}

#[test]
fn check_email_accepts_a_usual_setup() {
    check_email(&email_config()).unwrap();
    // Plain SMTP with a password is fine to a relay on this machine.
    with(|c| {
        if let ChannelConfig::Email { host, security, .. } = c {
            *host = "localhost".into();
            *security = SmtpSecurity::None;
        }
    })
    .unwrap();
}

#[test]
fn check_email_refuses_bad_settings_in_words() {
    type Change = Box<dyn FnOnce(&mut ChannelConfig)>;
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|c| {
                if let ChannelConfig::Email { to, .. } = c {
                    *to = vec!["ops.example.com".into()];
                }
            }),
            "\"ops.example.com\" is not an email address",
        ),
        (
            Box::new(|c| {
                if let ChannelConfig::Email { from, .. } = c {
                    *from = "alerts".into();
                }
            }),
            "\"alerts\" is not an email address (the sender)",
        ),
        (
            Box::new(|c| {
                if let ChannelConfig::Email { to, .. } = c {
                    to.clear();
                }
            }),
            "at least one recipient",
        ),
        (
            Box::new(|c| {
                if let ChannelConfig::Email { host, .. } = c {
                    *host = " ".into();
                }
            }),
            "host name is empty",
        ),
        (
            Box::new(|c| {
                if let ChannelConfig::Email { host, .. } = c {
                    *host = "smtp.example.com:587".into();
                }
            }),
            "port in its own field",
        ),
        (
            Box::new(|c| {
                if let ChannelConfig::Email { port, .. } = c {
                    *port = 0;
                }
            }),
            "from 1 to 65535",
        ),
        (
            Box::new(|c| {
                if let ChannelConfig::Email { username, .. } = c {
                    *username = None;
                }
            }),
            "no user name",
        ),
        (
            Box::new(|c| {
                if let ChannelConfig::Email { security, .. } = c {
                    *security = SmtpSecurity::None;
                }
            }),
            "password as plain text",
        ),
    ];
    for (change, says) in cases {
        let error = with(change).unwrap_err();
        assert!(error.contains(says), "expected {says:?} in {error:?}");
    }
    assert!(check_email(&ChannelConfig::Desktop).is_err());
}

#[test]
fn email_text_says_what_happened_then_where() {
    let mut resolved = notice(NoticeKind::Resolved, Severity::Critical);
    resolved.meter = None;
    let text = email_text(&resolved);
    assert!(text.starts_with(BODY), "{text}");
    assert!(text.contains("Status: resolved\n"), "{text}");
    assert!(!text.contains("Meter:"), "{text}");
}

#[test]
fn channel_config_is_stored_as_tagged_json() {
    let config = email_config();
    let stored = serde_json::to_value(&config).unwrap();
    assert_eq!(stored["kind"], "email");
    assert_eq!(stored["security"], "starttls");
    assert_eq!(
        serde_json::from_value::<ChannelConfig>(stored).unwrap(),
        config
    );
    assert_eq!(
        serde_json::to_value(ChannelConfig::Desktop).unwrap(),
        serde_json::json!({ "kind": "desktop" })
    );
}
