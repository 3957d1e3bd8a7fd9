//! Where keys live: the OS keychain or an environment variable. The database stores only a
//! reference such as `env:OPENROUTER_KEY` or `keychain:source/prod/key`, never the key.

use std::collections::HashMap;
use std::sync::Mutex;

const KEYCHAIN_SERVICE: &str = "headroom";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CredentialError {
    #[error("the environment variable {0} is not set; set it where Headroom runs, or store the key in the OS keychain instead")]
    EnvMissing(String),
    #[error("no OS keychain is available here ({0}). Keep the key in an environment variable instead: pass --key-env VAR (CLI) or choose \"Environment variable\" (app)")]
    KeychainUnavailable(String),
    #[error(
        "the key for {0} is not in the OS keychain any more; remove the source and add it again"
    )]
    KeychainMissing(String),
    #[error("the key reference \"{0}\" is not understood")]
    BadReference(String),
    #[error("the key is empty")]
    Empty,
}

/// Resolves key references. Keys for the built-in demo are held in memory only.
#[derive(Default)]
pub struct Credentials {
    in_memory: Mutex<HashMap<String, String>>,
}

impl Credentials {
    pub fn new() -> Self {
        Self::default()
    }

    /// A reference to an environment variable, after checking the name is plausible.
    pub fn env_reference(var: &str) -> Result<String, CredentialError> {
        let var = var.trim();
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(CredentialError::BadReference(format!("env:{var}")));
        }
        Ok(format!("env:{var}"))
    }

    /// Saves `key` in the OS keychain and returns the reference to store.
    pub fn store_in_keychain(&self, account: &str, key: &str) -> Result<String, CredentialError> {
        let key = key.trim();
        if key.is_empty() {
            return Err(CredentialError::Empty);
        }
        keychain_entry(account)?
            .set_password(key)
            .map_err(|e| CredentialError::KeychainUnavailable(e.to_string()))?;
        Ok(format!("keychain:{account}"))
    }

    /// Keeps a key in this process only (the demo's simulator keys).
    pub fn hold_in_memory(&self, name: &str, key: &str) -> String {
        self.lock().insert(name.to_string(), key.to_string());
        format!("memory:{name}")
    }

    pub fn resolve(&self, reference: &str) -> Result<String, CredentialError> {
        let key = match reference.split_once(':') {
            Some(("env", var)) => {
                std::env::var(var).map_err(|_| CredentialError::EnvMissing(var.to_string()))?
            }
            Some(("keychain", account)) => match keychain_entry(account)?.get_password() {
                Ok(key) => key,
                Err(keyring::Error::NoEntry) => {
                    return Err(CredentialError::KeychainMissing(account.to_string()))
                }
                Err(e) => return Err(CredentialError::KeychainUnavailable(e.to_string())),
            },
            Some(("memory", name)) => self
                .lock()
                .get(name)
                .cloned()
                .ok_or_else(|| CredentialError::BadReference(reference.to_string()))?,
            _ => return Err(CredentialError::BadReference(reference.to_string())),
        };
        let key = key.trim().to_string();
        if key.is_empty() {
            return Err(CredentialError::Empty);
        }
        Ok(key)
    }

    /// Deletes a keychain entry the reference points at; other kinds have nothing to delete.
    pub fn forget(&self, reference: &str) {
        if let Some(("keychain", account)) = reference.split_once(':') {
            if let Ok(entry) = keychain_entry(account) {
                let _ = entry.delete_credential();
            }
        }
    }

    /// Where the key lives, in words, for lists and settings.
    pub fn describe(reference: &str) -> String {
        match reference.split_once(':') {
            Some(("env", var)) => format!("environment variable {var}"),
            Some(("keychain", _)) => "OS keychain".to_string(),
            Some(("memory", _)) => "demo key (in memory)".to_string(),
            _ => "unknown".to_string(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.in_memory.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn keychain_entry(account: &str) -> Result<keyring::Entry, CredentialError> {
    keyring::Entry::new(KEYCHAIN_SERVICE, account)
        .map_err(|e| CredentialError::KeychainUnavailable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_references_resolve_and_say_when_unset() {
        let creds = Credentials::new();
        std::env::set_var("HEADROOM_TEST_KEY_PRESENT", "  sk-abc  ");
        let reference = Credentials::env_reference("HEADROOM_TEST_KEY_PRESENT").unwrap();
        assert_eq!(creds.resolve(&reference).unwrap(), "sk-abc");
        let missing = creds.resolve("env:HEADROOM_TEST_KEY_ABSENT").unwrap_err();
        assert!(missing
            .to_string()
            .contains("HEADROOM_TEST_KEY_ABSENT is not set"));
        assert!(Credentials::env_reference("bad name!").is_err());
        assert_eq!(
            Credentials::describe(&reference),
            "environment variable HEADROOM_TEST_KEY_PRESENT"
        );
    }

    #[test]
    fn demo_keys_stay_in_memory() {
        let creds = Credentials::new();
        let reference = creds.hold_in_memory("demo/a", "sk-demo");
        assert_eq!(creds.resolve(&reference).unwrap(), "sk-demo");
        assert!(Credentials::new().resolve(&reference).is_err());
    }
}
