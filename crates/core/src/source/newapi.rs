//! new-api / one-api gateways: OpenAI's retired dashboard billing endpoints, read with the gateway
//! token. `GET /v1/dashboard/billing/subscription` gives the token's quota (`hard_limit_usd`),
//! `GET /v1/dashboard/billing/usage` what it has used (`total_usage`, in units of $0.01). Together
//! they make one budget meter: remaining = hard_limit_usd − total_usage / 100.
//!
//! The gateway reports USD only when its "display in currency" setting is on (the default); with it
//! off the same fields count raw quota units, which Headroom cannot tell apart.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::{
    api_root, get_json, not_an_endpoint, required_amount, unreadable, HttpRunner, Keys, MeterKind,
    MeterSpec, PollFailure, PollOutcome, Reading, Source,
};

const KIND: &str = "newapi";
const SUBSCRIPTION_PATH: &str = "/v1/dashboard/billing/subscription";
const USAGE_PATH: &str = "/v1/dashboard/billing/usage";

pub struct NewApi {
    base_url: String,
}

impl NewApi {
    pub fn new(base_url: &str) -> Self {
        Self {
            // The paths carry /v1 themselves; people paste the gateway's OpenAI base URL with it.
            base_url: api_root(base_url),
        }
    }
}

#[async_trait]
impl Source for NewApi {
    async fn poll(&self, http: &HttpRunner, keys: &Keys) -> PollOutcome {
        let secrets = keys.secrets();
        let mut outcome = PollOutcome::default();
        let Some(key) = keys.key.as_deref() else {
            outcome.failures.push(PollFailure::without_answer(
                SUBSCRIPTION_PATH,
                "new-api reads the quota with the gateway token, and none is set for this source."
                    .to_string(),
            ));
            return outcome;
        };
        let get = |path: &'static str| get_json(http, KIND, &self.base_url, path, key, &secrets);
        let body = match get(SUBSCRIPTION_PATH).await {
            Ok(body) => body,
            Err(failure) => {
                outcome.failures.push(failure);
                return outcome;
            }
        };
        let quota = match parse_quota(&body) {
            Ok(quota) => quota,
            Err(problem) => {
                let excerpt = body.to_string();
                outcome.failures.push(unreadable(
                    KIND,
                    SUBSCRIPTION_PATH,
                    &problem,
                    excerpt.as_bytes(),
                    &secrets,
                ));
                return outcome;
            }
        };
        match get(USAGE_PATH).await {
            Ok(body) => match budget(quota, &body) {
                Ok(reading) => outcome.readings.push(reading),
                Err(problem) => outcome.failures.push(unreadable(
                    KIND,
                    USAGE_PATH,
                    &problem,
                    body.to_string().as_bytes(),
                    &secrets,
                )),
            },
            Err(failure) => outcome.failures.push(failure),
        }
        outcome
    }

    /// One body alone gives no reading: the meter is the subscription's quota less the usage, so
    /// the two are read together in `read_snapshots`.
    fn read_snapshot(
        &self,
        path: &str,
        _body: &Value,
        _at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String> {
        match path {
            SUBSCRIPTION_PATH | USAGE_PATH => Err(format!(
                "{path} alone gives no reading: the quota meter needs both {SUBSCRIPTION_PATH} and {USAGE_PATH}"
            )),
            _ => Err(not_an_endpoint(
                "new-api",
                path,
                &[SUBSCRIPTION_PATH, USAGE_PATH],
            )),
        }
    }

    fn read_snapshots(
        &self,
        served: &[(String, Value)],
        _at: DateTime<Utc>,
    ) -> Result<Vec<Reading>, String> {
        let body_of = |wanted: &str| {
            served
                .iter()
                .find(|(path, _)| path == wanted)
                .map(|(_, body)| body)
                .ok_or_else(|| format!("{wanted} is missing; the quota meter needs it"))
        };
        let quota = parse_quota(body_of(SUBSCRIPTION_PATH)?)?;
        Ok(vec![budget(quota, body_of(USAGE_PATH)?)?])
    }
}

/// The token's quota in USD: what is left plus what was used.
pub fn parse_quota(subscription: &Value) -> Result<Decimal, String> {
    required_amount(subscription, "/hard_limit_usd")
}

/// The budget meter: the quota less the usage, which new-api counts in cents.
pub fn budget(quota: Decimal, usage: &Value) -> Result<Reading, String> {
    let used = required_amount(usage, "/total_usage")? / Decimal::ONE_HUNDRED;
    Ok(Reading {
        meter: MeterSpec {
            name: "quota".into(),
            label: "Token quota".into(),
            kind: MeterKind::Budget,
            unit: "USD".into(),
        },
        remaining: (quota - used).max(Decimal::ZERO),
        limit: Some(quota),
        used: Some(used.normalize()),
        reset: None,
        reset_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usage_counts_cents_exactly() {
        let quota =
            parse_quota(&json!({"object": "billing_subscription", "hard_limit_usd": 100.0}))
                .unwrap();
        let reading = budget(quota, &json!({"object": "list", "total_usage": 1234})).unwrap();
        assert_eq!(reading.used.unwrap().to_string(), "12.34");
        assert_eq!(reading.remaining.to_string(), "87.66");
        assert_eq!(reading.limit.unwrap().to_string(), "100");
        let documented = budget(quota, &json!({"total_usage": 2500.0})).unwrap();
        assert_eq!(documented.remaining.to_string(), "75");
    }

    #[test]
    fn snapshots_are_read_as_a_pair() {
        let source = NewApi::new("http://gateway.example/v1");
        let usage = json!({"total_usage": 1.5});
        let alone = source
            .read_snapshot(USAGE_PATH, &usage, Utc::now())
            .unwrap_err();
        assert!(alone.contains(SUBSCRIPTION_PATH), "{alone}");
        let served = [
            (SUBSCRIPTION_PATH.to_string(), json!({"hard_limit_usd": 5})),
            (USAGE_PATH.to_string(), usage),
        ];
        let readings = source.read_snapshots(&served, Utc::now()).unwrap();
        assert_eq!(readings[0].remaining.to_string(), "4.985");
        let missing = source.read_snapshots(&served[1..], Utc::now()).unwrap_err();
        assert!(missing.contains(SUBSCRIPTION_PATH), "{missing}");
    }

    #[test]
    fn broken_bodies_name_the_field() {
        assert!(parse_quota(&json!({"soft_limit_usd": 1}))
            .unwrap_err()
            .contains("hard_limit_usd is missing"));
        assert!(budget(Decimal::ONE, &json!({"total_usage": "n/a"}))
            .unwrap_err()
            .contains("total_usage is not a number"));
    }
}
