use std::collections::HashSet;
use std::path::Path;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::SimError;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    /// Multiplies real time elapsed after the sim starts; history before the
    /// start is always real time so "the last 30 days" stays 30 days.
    #[serde(default = "one")]
    pub time_scale: f64,
    pub accounts: Vec<AccountSpec>,
}

fn one() -> f64 {
    1.0
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountSpec {
    /// Only "openrouter" is simulated so far.
    pub provider: String,
    pub name: String,
    /// Inference key, accepted by `/key` and `/chat/completions`.
    pub key: String,
    /// Management key, the only kind `/credits` accepts.
    pub management_key: String,
    /// USD; `None` means the key is unlimited.
    pub key_limit: Option<Decimal>,
    /// "daily" | "weekly" | "monthly" | `None`. Served as-is; the sim does not
    /// model resets so that usage history stays monotone.
    pub limit_reset: Option<String>,
    pub total_credits: Decimal,
    /// Demand-driven usage at sim start. It may exceed `key_limit` to express
    /// a key that ran dry some time ago; served usage is clamped.
    pub usage_now: Decimal,
    pub burn_per_hour: Decimal,
}

const BUILTINS: &[&str] = &["demo"];

pub fn builtin_scenario_names() -> &'static [&'static str] {
    BUILTINS
}

pub fn builtin_scenario(name: &str) -> Option<Scenario> {
    match name {
        "demo" => Some(demo()),
        _ => None,
    }
}

fn demo_account(
    name: &str,
    limit: i64,
    usage: Decimal,
    credits: i64,
    burn: Decimal,
) -> AccountSpec {
    AccountSpec {
        provider: "openrouter".into(),
        name: name.into(),
        key: format!("sk-or-v1-sim-{name}-0001"),
        management_key: format!("sk-or-v1-mgmt-sim-{name}-0001"),
        key_limit: Some(Decimal::from(limit)),
        limit_reset: None,
        total_credits: Decimal::from(credits),
        usage_now: usage,
        burn_per_hour: burn,
    }
}

fn demo() -> Scenario {
    let cents = |c: i64| Decimal::new(c, 2);
    Scenario {
        name: "demo".into(),
        time_scale: 1.0,
        accounts: vec![
            // 69% of the key limit left, plenty of credits.
            demo_account("production", 1000, cents(31000), 2500, cents(40)),
            // 8% left: runs out in about two and a half days.
            demo_account("staging", 200, cents(18400), 250, cents(25)),
            // Limit 75 at 0.12/h is ~26 days of spend; usage_now is 48 h of
            // burn past the limit, so the key ran dry two days before start.
            demo_account("research", 75, cents(8076), 80, cents(12)),
        ],
    }
}

pub fn load_scenario(path: &Path) -> Result<Scenario, SimError> {
    let text = std::fs::read_to_string(path).map_err(|source| SimError::ReadScenario {
        path: path.to_path_buf(),
        source,
    })?;
    let scenario: Scenario = serde_json::from_str(&text).map_err(|e| SimError::ParseScenario {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        // serde_json appends "at line X column Y"; the variant already says where.
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string(),
    })?;
    validate(&scenario)?;
    Ok(scenario)
}

pub fn resolve_scenario(name_or_path: &str) -> Result<Scenario, SimError> {
    if let Some(s) = builtin_scenario(name_or_path) {
        return Ok(s);
    }
    let path = Path::new(name_or_path);
    if !path.exists() {
        return Err(SimError::UnknownScenario {
            name: name_or_path.to_string(),
        });
    }
    load_scenario(path)
}

pub(crate) fn validate(s: &Scenario) -> Result<(), SimError> {
    let fail = |problem: String| {
        Err(SimError::InvalidScenario {
            scenario: s.name.clone(),
            problem,
        })
    };
    if !(s.time_scale.is_finite() && s.time_scale > 0.0) {
        return fail(format!(
            "time_scale must be a positive number, got {}",
            s.time_scale
        ));
    }
    if s.accounts.is_empty() {
        return fail("it has no accounts".into());
    }
    let mut names = HashSet::new();
    let mut keys = HashSet::new();
    for a in &s.accounts {
        if a.provider != "openrouter" {
            return fail(format!(
                "account '{}' uses provider '{}', but the simulator only supports 'openrouter'",
                a.name, a.provider
            ));
        }
        if !names.insert(a.name.as_str()) {
            return fail(format!("account name '{}' is used twice", a.name));
        }
        for key in [&a.key, &a.management_key] {
            if key.trim().is_empty() {
                return fail(format!("account '{}' has an empty key", a.name));
            }
            if !keys.insert(key.as_str()) {
                return fail(format!("key '{key}' is used twice"));
            }
        }
        if let Some(reset) = &a.limit_reset {
            if !["daily", "weekly", "monthly"].contains(&reset.as_str()) {
                return fail(format!(
                    "account '{}': limit_reset must be daily, weekly, monthly or null, got '{reset}'",
                    a.name
                ));
            }
        }
        let amounts = [
            Some(a.total_credits),
            Some(a.usage_now),
            Some(a.burn_per_hour),
            a.key_limit,
        ];
        if amounts.into_iter().flatten().any(|d| d < Decimal::ZERO) {
            return fail(format!(
                "account '{}' has a negative amount; limits, credits, usage and burn must be >= 0",
                a.name
            ));
        }
    }
    Ok(())
}
