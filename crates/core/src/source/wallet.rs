//! What the wallet sources that answer inside a `{code, data}` envelope share (Moonshot,
//! SiliconFlow): one GET, a success code to check, one balance field, and no currency in the
//! body, so the host says which platform, and so which currency, the money is in.

use serde_json::Value;

use super::{host_of, not_an_endpoint, required_amount, MeterKind, MeterSpec, Reading};

/// What tells one enveloped wallet from another.
pub(crate) struct EnvelopedWallet {
    pub label: &'static str,
    pub path: &'static str,
    /// The envelope's code for success.
    pub ok_code: i64,
    /// The JSON pointer to what the API can still spend.
    pub balance: &'static str,
    /// How the international platform's host ends; it bills in USD. Every other host is taken as
    /// the China platform, billed in CNY.
    pub usd_host_suffix: &'static str,
}

impl EnvelopedWallet {
    pub(crate) fn currency_for(&self, base_url: &str) -> &'static str {
        match host_of(base_url) {
            Some(host) if host.ends_with(self.usd_host_suffix) => "USD",
            _ => "CNY",
        }
    }

    pub(crate) fn read_snapshot(
        &self,
        path: &str,
        body: &Value,
        unit: &str,
    ) -> Result<Vec<Reading>, String> {
        if path == self.path {
            Ok(vec![self.parse(body, unit)?])
        } else {
            Err(not_an_endpoint(self.label, path, &[self.path]))
        }
    }

    pub(crate) fn parse(&self, body: &Value, unit: &str) -> Result<Reading, String> {
        match body.get("code") {
            Some(code) if code.as_i64() != Some(self.ok_code) => {
                return Err(format!("the answer's code is {code}, not {}", self.ok_code))
            }
            _ => {}
        }
        Ok(Reading {
            meter: MeterSpec {
                name: "balance".into(),
                label: "Balance".into(),
                kind: MeterKind::Balance,
                unit: unit.into(),
            },
            remaining: required_amount(body, self.balance)?,
            limit: None,
            used: None,
            reset: None,
            reset_at: None,
        })
    }
}
