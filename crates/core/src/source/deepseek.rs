//! DeepSeek: `GET /user/balance` with the API key lists a prepaid balance per currency, as
//! decimal strings. There is no limit, spend history or reset.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{
    api_root, not_an_endpoint, poll_one_endpoint, required_amount, HttpRunner, Keys, MeterKind,
    MeterSpec, PollOutcome, Reading, Source,
};

const KIND: &str = "deepseek";
const BALANCE_PATH: &str = "/user/balance";

pub struct DeepSeek {
    base_url: String,
}

impl DeepSeek {
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: api_root(base_url),
        }
    }
}

#[async_trait]
impl Source for DeepSeek {
    async fn poll(&self, http: &HttpRunner, keys: &Keys) -> PollOutcome {
        poll_one_endpoint(self, KIND, &self.base_url, BALANCE_PATH, http, keys).await
    }

    fn read_snapshot(
        &self,
        path: &str,
        body: &Value,
        _at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String> {
        match path {
            BALANCE_PATH => parse_balance(body),
            _ => Err(not_an_endpoint("DeepSeek", path, &[BALANCE_PATH])),
        }
    }
}

/// One balance meter per currency: CNY and USD are separate wallets and never added together.
///
/// `is_available` is not read: it only says whether the balance is above zero, which `remaining`
/// already shows, and a refused request arrives as a classified 402 anyway.
pub fn parse_balance(body: &Value) -> Result<Vec<Reading>, String> {
    let infos = body
        .get("balance_infos")
        .ok_or("the field balance_infos is missing")?
        .as_array()
        .ok_or("balance_infos is not a list")?;
    if infos.is_empty() {
        return Err("balance_infos lists no currency".into());
    }
    let mut readings: Vec<Reading> = Vec::with_capacity(infos.len());
    for (i, info) in infos.iter().enumerate() {
        let currency = currency(info, i)?;
        let remaining = required_amount(info, "/total_balance")
            .map_err(|problem| format!("balance_infos.{i}: {problem}"))?;
        let meter = format!("balance_{}", currency.to_ascii_lowercase());
        if readings.iter().any(|r| r.meter.name == meter) {
            return Err(format!("balance_infos lists {currency} twice"));
        }
        readings.push(Reading {
            meter: MeterSpec {
                name: meter,
                label: format!("Balance ({currency})"),
                kind: MeterKind::Balance,
                unit: currency,
            },
            remaining,
            limit: None,
            used: None,
            reset: None,
            reset_at: None,
        });
    }
    Ok(readings)
}

/// The currency code, which also names the meter, so it must be a plain code like `CNY`.
fn currency(info: &Value, index: usize) -> Result<String, String> {
    let value = info
        .get("currency")
        .ok_or_else(|| format!("the field balance_infos.{index}.currency is missing"))?;
    let code = value.as_str().map(str::trim).unwrap_or_default();
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(code.to_ascii_uppercase())
    } else {
        Err(format!(
            "balance_infos.{index}.currency is not a currency code ({value})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn two_currencies_are_two_meters_and_never_summed() {
        let body = json!({"is_available": true, "balance_infos": [
            {"currency": "CNY", "total_balance": "110.00", "granted_balance": "10.00", "topped_up_balance": "100.00"},
            {"currency": "USD", "total_balance": "2.50", "granted_balance": "0.00", "topped_up_balance": "2.50"},
        ]});
        let readings = parse_balance(&body).unwrap();
        let seen: Vec<(&str, &str, &str, String)> = readings
            .iter()
            .map(|r| {
                (
                    r.meter.name.as_str(),
                    r.meter.label.as_str(),
                    r.meter.unit.as_str(),
                    r.remaining.to_string(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("balance_cny", "Balance (CNY)", "CNY", "110".to_string()),
                ("balance_usd", "Balance (USD)", "USD", "2.5".to_string()),
            ]
        );
        assert!(readings
            .iter()
            .all(|r| r.meter.kind == MeterKind::Balance && r.limit.is_none()));
    }

    #[test]
    fn broken_bodies_name_the_field() {
        let cases = [
            (json!({"is_available": true}), "balance_infos is missing"),
            (json!({"balance_infos": []}), "no currency"),
            (
                json!({"balance_infos": [{"currency": "CNY"}]}),
                "balance_infos.0: the field total_balance is missing",
            ),
            (
                json!({"balance_infos": [{"currency": "CNY", "total_balance": "lots"}]}),
                "total_balance is not a number",
            ),
            (
                json!({"balance_infos": [{"currency": "../x", "total_balance": "1.00"}]}),
                "currency is not a currency code",
            ),
        ];
        for (body, expected) in cases {
            let problem = parse_balance(&body).unwrap_err();
            assert!(problem.contains(expected), "{problem}");
        }
    }
}
