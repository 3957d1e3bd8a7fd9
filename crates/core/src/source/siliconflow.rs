//! SiliconFlow: `GET /v1/user/info` with the API key; `data.totalBalance` (gift `balance` plus
//! topped-up `chargeBalance`) is what the API can still spend. Amounts are strings.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{
    api_root, host_of, not_an_endpoint, poll_one_endpoint, required_amount, HttpRunner, Keys,
    MeterKind, MeterSpec, PollOutcome, Reading, Source,
};

const KIND: &str = "siliconflow";
const USER_INFO_PATH: &str = "/v1/user/info";
/// The envelope's code for success.
const OK_CODE: i64 = 20000;

pub struct SiliconFlow {
    base_url: String,
    unit: &'static str,
}

impl SiliconFlow {
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: api_root(base_url),
            unit: currency_for_host(host_of(base_url).as_deref()),
        }
    }
}

/// The body names no currency. api.siliconflow.cn is the China platform, billed in CNY;
/// api.siliconflow.com is the international one, billed in USD. Any other host (the bundled
/// simulator on loopback, a proxy) is taken as the China platform, whose docs the notes follow.
fn currency_for_host(host: Option<&str>) -> &'static str {
    match host {
        Some(host) if host.ends_with(".com") => "USD",
        _ => "CNY",
    }
}

#[async_trait]
impl Source for SiliconFlow {
    async fn poll(&self, http: &HttpRunner, keys: &Keys) -> PollOutcome {
        poll_one_endpoint(self, KIND, &self.base_url, USER_INFO_PATH, http, keys).await
    }

    fn read_snapshot(
        &self,
        path: &str,
        body: &Value,
        _at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String> {
        match path {
            USER_INFO_PATH => Ok(vec![parse_user_info(body, self.unit)?]),
            _ => Err(not_an_endpoint("SiliconFlow", path, &[USER_INFO_PATH])),
        }
    }
}

pub fn parse_user_info(body: &Value, unit: &str) -> Result<Reading, String> {
    match body.get("code") {
        Some(code) if code.as_i64() != Some(OK_CODE) => {
            return Err(format!("the answer's code is {code}, not {OK_CODE}"))
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
        remaining: required_amount(body, "/data/totalBalance")?,
        limit: None,
        used: None,
        reset: None,
        reset_at: None,
    })
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
