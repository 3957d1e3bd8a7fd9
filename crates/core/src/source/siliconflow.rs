//! SiliconFlow: `GET /v1/user/info` with the API key; `data.totalBalance` (gift `balance` plus
//! topped-up `chargeBalance`) is what the API can still spend. Amounts are strings.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::wallet::EnvelopedWallet;
use super::{api_root, poll_one_endpoint, HttpRunner, Keys, PollOutcome, Reading, Source};

const KIND: &str = "siliconflow";
const WALLET: EnvelopedWallet = EnvelopedWallet {
    label: "SiliconFlow",
    path: "/v1/user/info",
    ok_code: 20000,
    balance: "/data/totalBalance",
    // api.siliconflow.cn is the China platform, billed in CNY; api.siliconflow.com is the
    // international one, billed in USD. Any other host (the bundled simulator on loopback, a
    // proxy) is taken as the China platform, whose docs the notes follow.
    usd_host_suffix: ".com",
};

pub struct SiliconFlow {
    base_url: String,
    unit: &'static str,
}

impl SiliconFlow {
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: api_root(base_url),
            unit: WALLET.currency_for(base_url),
        }
    }
}

#[async_trait]
impl Source for SiliconFlow {
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

pub fn parse_user_info(body: &Value, unit: &str) -> Result<Reading, String> {
    WALLET.parse(body, unit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_host_decides_the_currency() {
        let unit = |url: &str| SiliconFlow::new(url).unit;
        assert_eq!(unit("https://api.siliconflow.cn/v1"), "CNY");
        assert_eq!(unit("https://api.siliconflow.com"), "USD");
        assert_eq!(unit("http://127.0.0.1:4000"), "CNY");
    }

    #[test]
    fn broken_bodies_name_the_field() {
        let body = json!({"code": 20000, "data": {"balance": "0.88", "chargeBalance": "88.00"}});
        let problem = parse_user_info(&body, "CNY").unwrap_err();
        assert!(
            problem.contains("data.totalBalance is missing"),
            "{problem}"
        );
        let problem =
            parse_user_info(&json!({"code": 50000, "message": "busy"}), "CNY").unwrap_err();
        assert!(problem.contains("code is 50000"), "{problem}");
    }
}
