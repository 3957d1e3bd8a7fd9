//! Adding and removing sources: the checks and the key handling that the CLI and the app share.

use std::time::Duration;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::classify::FailureClass;
use crate::credentials::{CredentialError, Credentials};
use crate::source::{self, HttpRunner, Keys, SourceOptions};
use crate::store::{NewSource, SourceRow, Store, StoreError};

/// Where a key comes from when a source is added.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyInput {
    None,
    /// Typed or piped in; goes straight into the OS keychain.
    Secret(String),
    /// The name of an environment variable read at each poll.
    EnvVar(String),
}

impl KeyInput {
    /// From the app's two optional fields: a typed key wins over a variable name.
    pub fn from_fields(secret: Option<String>, env_var: Option<String>) -> Self {
        match (
            secret.filter(|s| !s.trim().is_empty()),
            env_var.filter(|v| !v.trim().is_empty()),
        ) {
            (Some(secret), _) => KeyInput::Secret(secret),
            (None, Some(var)) => KeyInput::EnvVar(var),
            (None, None) => KeyInput::None,
        }
    }

    /// Stores a typed secret in the keychain under `account`, or checks a variable's name, and
    /// returns the reference to keep in the database.
    pub fn into_reference(
        self,
        credentials: &Credentials,
        account: &str,
    ) -> Result<Option<String>, crate::credentials::CredentialError> {
        Ok(match self {
            KeyInput::None => None,
            KeyInput::EnvVar(var) => Some(Credentials::env_reference(&var)?),
            KeyInput::Secret(secret) => Some(credentials.store_in_keychain(account, &secret)?),
        })
    }
}

/// The app's "add a source" form, also built by the CLI.
#[derive(Clone, Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct AddSourceRequest {
    pub kind: String,
    pub name: String,
    pub base_url: String,
    pub key: Option<String>,
    pub key_env: Option<String>,
    pub management_key: Option<String>,
    pub management_key_env: Option<String>,
    pub interval: String,
    /// The provider's own settings (see `ProviderKind::options`).
    #[serde(default)]
    #[ts(type = "Record<string, string> | null")]
    pub options: Option<SourceOptions>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads `30s`, `15m`, `1h`, `2h30m` or a bare number of seconds.
pub fn parse_interval(text: &str) -> Result<Duration, ConfigError> {
    let invalid = || {
        ConfigError::Invalid(format!(
            "\"{text}\" is not an interval; write it like 30s, 15m or 1h"
        ))
    };
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = 0u64;
    let mut number = String::new();
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            number.push(ch);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| invalid())?;
        number.clear();
        total += n * match ch {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(invalid()),
        };
    }
    if !number.is_empty() || total == 0 {
        return Err(invalid());
    }
    Ok(Duration::from_secs(total))
}

/// The request's base URL and options as they will be used, once the source they make has been
/// built: adding and testing a source refuse the same things in the same words.
fn checked_source(
    request: &AddSourceRequest,
) -> Result<(String, SourceOptions, Box<dyn source::Source>), ConfigError> {
    let base_url = request.base_url.trim().trim_end_matches('/');
    // Options that were left empty in a form mean "not given".
    let options: SourceOptions = request
        .options
        .iter()
        .flatten()
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let built = source::build(&request.kind, base_url, &options).map_err(ConfigError::Invalid)?;
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(ConfigError::Invalid(format!(
            "the base URL \"{base_url}\" must start with http:// or https://"
        )));
    }
    Ok((base_url.to_string(), options, built))
}

/// Checks the request, puts any typed key in the keychain, and stores the source.
pub fn add_source(
    store: &Store,
    credentials: &Credentials,
    request: &AddSourceRequest,
) -> Result<SourceRow, ConfigError> {
    let name = request.name.trim();
    if name.is_empty() {
        return Err(ConfigError::Invalid("give the source a name".into()));
    }
    let (base_url, options, _) = checked_source(request)?;
    let interval = parse_interval(&request.interval)?;
    if interval < Duration::from_secs(5) {
        return Err(ConfigError::Invalid("poll at most every 5 seconds".into()));
    }
    if store.source_by_name(name)?.is_some() {
        return Err(ConfigError::Invalid(format!(
            "a source named \"{name}\" already exists"
        )));
    }
    let key = KeyInput::from_fields(request.key.clone(), request.key_env.clone());
    let management_key = KeyInput::from_fields(
        request.management_key.clone(),
        request.management_key_env.clone(),
    );
    if key == KeyInput::None && management_key == KeyInput::None {
        return Err(ConfigError::Invalid("give a key (stored in the OS keychain) or the name of an environment variable that holds it".into()));
    }
    let key_ref = reference(credentials, name, "key", key)?;
    let management_key_ref = reference(credentials, name, "management_key", management_key)?;
    let row = store.add_source(&NewSource {
        name: name.to_string(),
        kind: request.kind.clone(),
        base_url,
        key_ref,
        management_key_ref,
        interval_secs: interval.as_secs(),
        options,
    })?;
    Ok(row)
}

fn reference(
    credentials: &Credentials,
    source: &str,
    role: &str,
    input: KeyInput,
) -> Result<Option<String>, ConfigError> {
    Ok(input.into_reference(credentials, &format!("source/{source}/{role}"))?)
}

/// One meter a test of a source found.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct FoundMeter {
    pub meter: String,
    pub label: String,
    pub unit: String,
    /// Exact decimal text, as the provider sent it.
    #[ts(type = "string")]
    pub remaining: Decimal,
    #[ts(type = "string | null")]
    pub limit: Option<Decimal>,
}

/// One thing that went wrong while testing a source, in words.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct TestFailure {
    pub endpoint: String,
    pub status: Option<u16>,
    pub class: Option<FailureClass>,
    pub message: String,
}

/// What one poll with a source's settings found. Nothing of it is stored.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct TestResult {
    pub meters: Vec<FoundMeter>,
    pub failures: Vec<TestFailure>,
}

impl TestResult {
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && !self.meters.is_empty()
    }
}

/// Tries a source's settings with one poll and says what it found, storing nothing: a typed key
/// is used in memory and dropped, a named environment variable is read now, and no keychain,
/// database or event is touched. A settings mistake is an error; a failed poll is a result.
pub async fn test_source(
    http: &HttpRunner,
    request: &AddSourceRequest,
) -> Result<TestResult, ConfigError> {
    let (_, _, built) = checked_source(request)?;
    let resolve = |secret: &Option<String>, env: &Option<String>| {
        match KeyInput::from_fields(secret.clone(), env.clone()) {
            KeyInput::None => Ok(None),
            KeyInput::Secret(key) => Ok(Some(key.trim().to_string())),
            // A fresh resolver: only env references are given to it, which need no state.
            KeyInput::EnvVar(var) => Credentials::new()
                .resolve(&Credentials::env_reference(&var)?)
                .map(Some),
        }
    };
    let keys = Keys {
        key: resolve(&request.key, &request.key_env)?,
        management_key: resolve(&request.management_key, &request.management_key_env)?,
    };
    if keys.key.is_none() && keys.management_key.is_none() {
        return Err(ConfigError::Invalid(
            "give a key to test with, or the name of an environment variable that holds it".into(),
        ));
    }
    let outcome = built.poll(http, &keys).await;
    Ok(TestResult {
        meters: outcome
            .readings
            .into_iter()
            .map(|r| FoundMeter {
                meter: r.meter.name,
                label: r.meter.label,
                unit: r.meter.unit,
                remaining: r.remaining,
                limit: r.limit,
            })
            .collect(),
        failures: outcome
            .failures
            .into_iter()
            .map(|f| TestFailure {
                endpoint: f.endpoint,
                status: f.status,
                class: f.class,
                message: f.message,
            })
            .collect(),
    })
}

/// Removes a source, its history, and any key Headroom put in the keychain for it.
pub fn remove_source(
    store: &Store,
    credentials: &Credentials,
    name: &str,
) -> Result<(), ConfigError> {
    let row = store
        .source_by_name(name)?
        .ok_or_else(|| ConfigError::Invalid(format!("there is no source named \"{name}\"")))?;
    store.remove_source(name)?;
    for reference in [row.key_ref, row.management_key_ref].into_iter().flatten() {
        credentials.forget(&reference);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_like_people_write_them() {
        assert_eq!(parse_interval("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_interval("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_interval("45").unwrap(), Duration::from_secs(45));
        assert!(parse_interval("soon")
            .unwrap_err()
            .to_string()
            .contains("like 30s, 15m or 1h"));
        assert!(parse_interval("15").is_ok());
        assert!(parse_interval("m").is_err());
    }

    #[test]
    fn bad_requests_are_refused_in_words_and_store_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let creds = Credentials::new();
        let mut request = AddSourceRequest {
            kind: "openrouter".into(),
            name: "prod".into(),
            base_url: "ftp://x".into(),
            key: None,
            key_env: Some("OPENROUTER_KEY".into()),
            management_key: None,
            management_key_env: None,
            interval: "15m".into(),
            options: None,
        };
        assert!(add_source(&store, &creds, &request)
            .unwrap_err()
            .to_string()
            .contains("http://"));
        request.base_url = "http://127.0.0.1:1/".into();
        request.kind = "nope".into();
        assert!(add_source(&store, &creds, &request)
            .unwrap_err()
            .to_string()
            .contains("known kinds: openrouter"));
        request.kind = "openrouter".into();
        request.options = Some([("team_id".to_string(), "t1".to_string())].into());
        let unknown_option = add_source(&store, &creds, &request)
            .unwrap_err()
            .to_string();
        assert!(
            unknown_option.contains("takes no option \"team_id\""),
            "{unknown_option}"
        );
        // A field left empty in a form is no option at all.
        request.options = Some([("team_id".to_string(), " ".to_string())].into());
        let row = add_source(&store, &creds, &request).unwrap();
        assert_eq!(row.base_url, "http://127.0.0.1:1");
        assert_eq!(row.key_ref.as_deref(), Some("env:OPENROUTER_KEY"));
        assert!(add_source(&store, &creds, &request)
            .unwrap_err()
            .to_string()
            .contains("already exists"));
    }
}
