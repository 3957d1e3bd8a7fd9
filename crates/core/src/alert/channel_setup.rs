//! Adding, listing and removing the places alerts go, for the app and the CLI alike. Secrets a
//! person gives (a webhook URL, a signing secret, an SMTP password) go to the OS keychain or
//! stay in an environment variable; the database keeps only references to them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::channels::{self, ChannelConfig, SmtpSecurity, WebhookFormat};
use crate::config::{ConfigError, KeyInput};
use crate::credentials::Credentials;
use crate::store::{ChannelRow, Store};

/// The app's "add a channel" form, also built by the CLI. For each secret, a typed value wins
/// over the name of an environment variable.
#[derive(Clone, Debug, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct ChannelRequest {
    pub name: String,
    /// "webhook" or "email".
    pub kind: String,
    #[ts(type = "\"slack\" | \"discord\" | \"json\" | null")]
    pub format: Option<WebhookFormat>,
    pub url: Option<String>,
    pub url_env: Option<String>,
    pub secret: Option<String>,
    pub secret_env: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    #[ts(type = "\"starttls\" | \"tls\" | \"none\" | null")]
    pub security: Option<SmtpSecurity>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
}

/// A channel as lists show it: never a secret.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct ChannelView {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub enabled: bool,
    /// What it is and where it goes, in words.
    pub summary: String,
}

impl ChannelView {
    pub fn of(row: &ChannelRow) -> Self {
        let summary = match serde_json::from_str::<ChannelConfig>(&row.config) {
            Ok(ChannelConfig::Desktop) => "notifications on this computer".to_string(),
            Ok(ChannelConfig::Webhook {
                format,
                url_ref,
                secret_ref,
                display,
            }) => {
                let format = match format {
                    WebhookFormat::Slack => "Slack-compatible",
                    WebhookFormat::Discord => "Discord",
                    WebhookFormat::Json => "JSON",
                };
                let signed = if secret_ref.is_some() {
                    ", signed with HMAC-SHA256"
                } else {
                    ""
                };
                format!(
                    "{format} webhook to {display}{signed} (URL in {})",
                    Credentials::describe(&url_ref)
                )
            }
            Ok(ChannelConfig::Email {
                host,
                port,
                to,
                security,
                ..
            }) => {
                let security = match security {
                    SmtpSecurity::Starttls => "STARTTLS",
                    SmtpSecurity::Tls => "TLS",
                    SmtpSecurity::None => "no encryption",
                };
                format!("email to {} via {host}:{port} ({security})", to.join(", "))
            }
            Err(_) => "settings that cannot be read; remove it and add it again".to_string(),
        };
        Self {
            id: row.id,
            name: row.name.clone(),
            kind: row.kind.clone(),
            enabled: row.enabled,
            summary,
        }
    }
}

/// Checks the request, stores its secrets, and adds the channel; nothing is stored when any
/// part is wrong.
pub fn add_channel(
    store: &Store,
    credentials: &Credentials,
    request: ChannelRequest,
) -> Result<ChannelView, ConfigError> {
    let name = request.name.trim();
    if name.is_empty() {
        return Err(ConfigError::Invalid("give the channel a name".into()));
    }
    if store.channel_by_name(name)?.is_some() {
        return Err(ConfigError::Invalid(format!(
            "a channel named \"{name}\" already exists"
        )));
    }
    let account = |role: &str| format!("channel/{name}/{role}");
    let config = match request.kind.as_str() {
        "webhook" => {
            let url_input = KeyInput::from_fields(request.url.clone(), request.url_env.clone());
            let display = match &url_input {
                KeyInput::Secret(url) => {
                    channels::check_webhook_url(url).map_err(ConfigError::Invalid)?
                }
                KeyInput::EnvVar(var) => match std::env::var(var) {
                    Ok(url) => channels::check_webhook_url(&url).map_err(ConfigError::Invalid)?,
                    Err(_) => format!("the address in {var}"),
                },
                KeyInput::None => return Err(ConfigError::Invalid(
                    "give the webhook's URL, or the name of an environment variable that holds it"
                        .into(),
                )),
            };
            let format = request.format.unwrap_or(WebhookFormat::Json);
            let secret_input = KeyInput::from_fields(request.secret, request.secret_env);
            ChannelConfig::Webhook {
                format,
                url_ref: url_input
                    .into_reference(credentials, &account("url"))?
                    .unwrap_or_default(),
                secret_ref: secret_input.into_reference(credentials, &account("secret"))?,
                display,
            }
        }
        "email" => {
            let host = request.host.unwrap_or_default().trim().to_string();
            let security = request.security.unwrap_or(SmtpSecurity::Starttls);
            let port = request.port.unwrap_or(match security {
                SmtpSecurity::Starttls => 587,
                SmtpSecurity::Tls => 465,
                SmtpSecurity::None => 25,
            });
            let draft = ChannelConfig::Email {
                host,
                port,
                security,
                username: request.username.filter(|u| !u.trim().is_empty()),
                password_ref: None,
                from: request.from.unwrap_or_default().trim().to_string(),
                to: request
                    .to
                    .iter()
                    .flat_map(|t| t.split(','))
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect(),
            };
            channels::check_email(&draft).map_err(ConfigError::Invalid)?;
            let password = KeyInput::from_fields(request.password, request.password_env)
                .into_reference(credentials, &account("password"))?;
            match draft {
                ChannelConfig::Email {
                    host,
                    port,
                    security,
                    username,
                    from,
                    to,
                    ..
                } => ChannelConfig::Email {
                    host,
                    port,
                    security,
                    username,
                    password_ref: password,
                    from,
                    to,
                },
                other => other,
            }
        }
        "desktop" => {
            return Err(ConfigError::Invalid(
                "the desktop channel is built in; turn it on or off instead of adding another"
                    .into(),
            ))
        }
        other => {
            return Err(ConfigError::Invalid(format!(
                "there is no channel kind \"{other}\"; choose webhook or email"
            )))
        }
    };
    let json = serde_json::to_string(&config).map_err(|e| ConfigError::Invalid(e.to_string()))?;
    let row = store.add_channel(name, &request.kind, &json)?;
    Ok(ChannelView::of(&row))
}

pub fn list_channels(store: &Store) -> Result<Vec<ChannelView>, ConfigError> {
    Ok(store.list_channels()?.iter().map(ChannelView::of).collect())
}

/// Removes a channel and forgets the secrets it kept in the keychain.
pub fn remove_channel(
    store: &Store,
    credentials: &Credentials,
    name: &str,
) -> Result<(), ConfigError> {
    let row = store.remove_channel(name)?;
    if let Ok(config) = serde_json::from_str::<ChannelConfig>(&row.config) {
        let refs: Vec<String> = match config {
            ChannelConfig::Webhook {
                url_ref,
                secret_ref,
                ..
            } => std::iter::once(url_ref)
                .chain(secret_ref)
                .collect::<Vec<String>>(),
            ChannelConfig::Email { password_ref, .. } => password_ref.into_iter().collect(),
            ChannelConfig::Desktop => Vec::new(),
        };
        for reference in refs {
            credentials.forget(&reference);
        }
    }
    Ok(())
}

pub fn set_channel_enabled(
    store: &Store,
    name: &str,
    enabled: bool,
) -> Result<ChannelView, ConfigError> {
    let row = store
        .channel_by_name(name)?
        .ok_or_else(|| ConfigError::Invalid(format!("there is no channel named \"{name}\"")))?;
    store.set_channel_enabled(row.id, enabled)?;
    Ok(ChannelView::of(&ChannelRow { enabled, ..row }))
}
