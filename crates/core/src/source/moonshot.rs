//! Moonshot (Kimi): `GET /v1/users/me/balance` with the API key gives `available_balance` (cash
//! plus vouchers; the API refuses calls once it is zero). The body names no currency.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::wallet::EnvelopedWallet;
use super::{api_root, poll_one_endpoint, HttpRunner, Keys, PollOutcome, Reading, Source};

const KIND: &str = "moonshot";
const WALLET: EnvelopedWallet = EnvelopedWallet {
    label: "Moonshot",
    path: "/v1/users/me/balance",
    ok_code: 0,
    // `cash_balance` can be negative after a suspension; then `available_balance` is only the
    // vouchers, which is what matters for the next request.
    balance: "/data/available_balance",
    // The China platform (api.moonshot.cn) bills in CNY, the international one (api.moonshot.ai)
    // in USD. Any other host (the bundled simulator on loopback, a proxy) is taken as the China
    // platform: it is the one Moonshot documents the endpoint for, and the simulator's Moonshot
    // accounts are CNY.
    usd_host_suffix: ".ai",
};

pub struct Moonshot {
    base_url: String,
    unit: &'static str,
}

impl Moonshot {
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: api_root(base_url),
            unit: WALLET.currency_for(base_url),
        }
    }
}

#[async_trait]
impl Source for Moonshot {
    async fn poll(&self, http: &HttpRunner, keys: &Keys) -> PollOutcome {
        poll_one_endpoint(self, KIND, &self.base_url, WALLET.path, http, keys).await
    }

    fn read_snapshot(
        &self,
        path: &str,
        body: &Value,
        _at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String> {
        WALLET.read_snapshot(path, body, self.unit)
    }
}

/// What the API can still spend: the available balance (cash plus vouchers).
pub fn parse_balance(body: &Value, unit: &str) -> Result<Reading, String> {
    WALLET.parse(body, unit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_host_decides_the_currency() {
        let unit = |url: &str| Moonshot::new(url).unit;
        assert_eq!(unit("https://api.moonshot.cn"), "CNY");
        assert_eq!(unit("https://api.moonshot.ai/v1"), "USD");
        assert_eq!(unit("http://127.0.0.1:4000"), "CNY");
        assert_eq!(
            Moonshot::new("https://api.moonshot.ai/v1/").base_url,
            "https://api.moonshot.ai"
        );
    }

    #[test]
    fn arrears_leave_only_the_vouchers_available() {
        let body = json!({"code": 0, "data": {"available_balance": 0, "voucher_balance": 0,
            "cash_balance": -3.5}, "scode": "0x0", "status": true});
        assert!(parse_balance(&body, "CNY").unwrap().remaining.is_zero());
    }

    #[test]
    fn broken_bodies_name_the_field() {
        let problem =
            parse_balance(&json!({"code": 0, "data": {"cash_balance": 1}}), "CNY").unwrap_err();
        assert!(
            problem.contains("data.available_balance is missing"),
            "{problem}"
        );
        let problem = parse_balance(&json!({"code": 5, "data": {}}), "CNY").unwrap_err();
        assert!(problem.contains("code is 5"), "{problem}");
    }
}
