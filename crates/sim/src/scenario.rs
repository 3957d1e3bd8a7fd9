use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::providers::generic::BALANCE_PATH as GENERIC_PATH;
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
    /// One of [`PROVIDERS`].
    pub provider: String,
    pub name: String,
    /// The account's API key: the inference key, and for single-key providers the only one.
    pub key: String,
    /// OpenRouter's management key, the only kind `/credits` accepts. The other providers read
    /// their balance with the API key, so they have none.
    #[serde(default)]
    pub management_key: Option<String>,
    /// OpenRouter only; `None` means the key is unlimited.
    pub key_limit: Option<Decimal>,
    /// "daily" | "weekly" | "monthly" | `None`. Served as-is; the sim does not
    /// model resets so that usage history stays monotone.
    pub limit_reset: Option<String>,
    /// Everything ever put on the account, in `currency`.
    pub total_credits: Decimal,
    /// Demand-driven usage at sim start. It may exceed `key_limit` to express
    /// a key that ran dry some time ago; served usage is clamped.
    pub usage_now: Decimal,
    pub burn_per_hour: Decimal,
    /// "USD" or "CNY" (a generic gateway may also bill in "EUR"); `None` is the provider's usual
    /// one (see [`default_currency`]).
    #[serde(default)]
    pub currency: Option<String>,
    /// The part of `total_credits` that was a gift (DeepSeek's granted balance, Moonshot's
    /// vouchers, SiliconFlow's `balance`); providers spend it before paid money.
    #[serde(default)]
    pub granted_credits: Decimal,
    /// Moonshot only: how far below zero charges settled after the suspension can take the cash
    /// balance, so a suspended account can be shown in arrears.
    #[serde(default)]
    pub overdraft: Decimal,
    /// OpenAI only: the organisation's hard spend limit per calendar month (UTC), served in cents
    /// by `/v1/organization/spend_limit`; `None` means the organisation has set none.
    #[serde(default)]
    pub monthly_limit: Option<Decimal>,
    /// Settings the account's Headroom source needs besides URL and key, e.g. Anthropic's
    /// `monthly_budget`, because its API reveals no limit. Announced with the account.
    #[serde(default)]
    pub source_options: BTreeMap<String, String>,
    /// APIPark only: how many upstream provider keys share `total_credits` (tokens) equally. The
    /// gateway uses them in priority order, so each is `exceeded` once its share is used up.
    #[serde(default)]
    pub upstream_keys: Option<u32>,
    /// LiteLLM only: the proxy keeps a request log (`GET /spend/logs`) of the last day's traffic,
    /// a few failed requests among the successes. Without it the log is empty, as on a proxy
    /// with no database.
    #[serde(default)]
    pub request_logs: bool,
}

impl AccountSpec {
    pub fn currency(&self) -> &str {
        self.currency
            .as_deref()
            .unwrap_or_else(|| default_currency(&self.provider))
    }
}

/// The providers the simulator speaks for, each in its own module under `providers/`.
pub const PROVIDERS: &[&str] = &[
    "openrouter",
    "deepseek",
    "moonshot",
    "siliconflow",
    "openai",
    "anthropic",
    "litellm",
    "newapi",
    "apipark",
    "generic",
];

/// OpenRouter bills in USD; the others are Chinese platforms whose main site bills in CNY.
pub fn default_currency(provider: &str) -> &'static str {
    match provider {
        "openrouter" | "openai" | "anthropic" => "USD",
        "litellm" | "newapi" => "USD",
        // What Headroom's Generic JSON source assumes when the body names no unit.
        "generic" => "USD",
        // Unused: APIPark counts tokens, never money.
        "apipark" => "USD",
        _ => "CNY",
    }
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
        management_key: Some(format!("sk-or-v1-mgmt-sim-{name}-0001")),
        key_limit: Some(Decimal::from(limit)),
        limit_reset: None,
        total_credits: Decimal::from(credits),
        usage_now: usage,
        burn_per_hour: burn,
        currency: None,
        granted_credits: Decimal::ZERO,
        overdraft: Decimal::ZERO,
        monthly_limit: None,
        source_options: BTreeMap::new(),
        upstream_keys: None,
        request_logs: false,
    }
}

/// A prepaid CNY wallet on a single-key provider.
fn demo_wallet(
    provider: &str,
    name: &str,
    credits: i64,
    granted: i64,
    usage: Decimal,
    burn: Decimal,
) -> AccountSpec {
    AccountSpec {
        provider: provider.into(),
        name: name.into(),
        key: format!("sk-sim-{name}-0001"),
        management_key: None,
        key_limit: None,
        limit_reset: None,
        total_credits: Decimal::from(credits),
        usage_now: usage,
        burn_per_hour: burn,
        currency: Some("CNY".into()),
        granted_credits: Decimal::from(granted),
        overdraft: Decimal::ZERO,
        monthly_limit: None,
        source_options: BTreeMap::new(),
        upstream_keys: None,
        request_logs: false,
    }
}

/// A spend-based account (OpenAI, Anthropic): its API shows spend per day, never a balance.
fn demo_spender(
    provider: &str,
    name: &str,
    monthly_limit: Option<i64>,
    source_options: &[(&str, &str)],
    credits: i64,
    usage: Decimal,
    burn: Decimal,
) -> AccountSpec {
    AccountSpec {
        provider: provider.into(),
        name: name.into(),
        key: format!("sk-sim-{name}-admin-0001"),
        management_key: None,
        key_limit: None,
        limit_reset: None,
        total_credits: Decimal::from(credits),
        usage_now: usage,
        burn_per_hour: burn,
        currency: None,
        granted_credits: Decimal::ZERO,
        overdraft: Decimal::ZERO,
        monthly_limit: monthly_limit.map(Decimal::from),
        source_options: source_options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        upstream_keys: None,
        request_logs: false,
    }
}

/// A budget on an AI gateway: a LiteLLM virtual key (with the proxy's master key, and the team it
/// belongs to) or a new-api token.
fn demo_gateway(
    provider: &str,
    name: &str,
    key_limit: Option<i64>,
    credits: i64,
    usage: Decimal,
    burn: Decimal,
) -> AccountSpec {
    let litellm = provider == "litellm";
    AccountSpec {
        provider: provider.into(),
        name: name.into(),
        key: format!("sk-sim-{name}-0001"),
        management_key: litellm.then(|| format!("sk-sim-{name}-master-0001")),
        key_limit: key_limit.map(Decimal::from),
        limit_reset: None,
        total_credits: Decimal::from(credits),
        usage_now: usage,
        burn_per_hour: burn,
        currency: None,
        granted_credits: Decimal::ZERO,
        overdraft: Decimal::ZERO,
        monthly_limit: None,
        source_options: match litellm {
            true => BTreeMap::from([("team_id".to_string(), format!("team-sim-{name}"))]),
            false => BTreeMap::new(),
        },
        upstream_keys: None,
        request_logs: litellm,
    }
}

/// An APIPark console with two upstream OpenAI keys of 3M tokens each: the first is `exceeded`,
/// the second has 2.6M left at 20k tokens an hour (about five days).
fn demo_apipark() -> AccountSpec {
    AccountSpec {
        provider: "apipark".into(),
        name: "apipark".into(),
        // The console's session cookie, as a browser sends it.
        key: "session=sim-apipark-console-0001".into(),
        management_key: None,
        key_limit: None,
        limit_reset: None,
        total_credits: Decimal::from(6_000_000),
        usage_now: Decimal::from(3_400_000),
        burn_per_hour: Decimal::from(20_000),
        currency: None,
        granted_credits: Decimal::ZERO,
        overdraft: Decimal::ZERO,
        monthly_limit: None,
        source_options: BTreeMap::from([
            ("provider".to_string(), "openai".to_string()),
            ("monthly_token_budget".to_string(), "20000000".to_string()),
        ]),
        upstream_keys: Some(2),
        request_logs: false,
    }
}

/// The options of Headroom's Generic JSON source; a `generic` account's `source_options` are
/// what a person would type into it.
const GENERIC_OPTIONS: &[&str] = &[
    "path",
    "header_name",
    "remaining",
    "limit",
    "used",
    "reset_at",
    "unit",
    "unit_path",
    "meter_name",
];

/// An in-house gateway with no adapter of its own, read by the Generic JSON source: €412.50 of
/// a €500 period budget left at €2.40 a day, weeks before the period resets.
fn demo_generic() -> AccountSpec {
    let options = [
        ("path", GENERIC_PATH),
        ("remaining", "$.account.credit.remaining"),
        ("limit", "$.account.credit.cap"),
        ("unit_path", "$.account.credit.currency"),
        ("reset_at", "$.account.period.resets_at"),
        ("meter_name", "Gateway credit"),
    ];
    AccountSpec {
        provider: "generic".into(),
        name: "gateway".into(),
        key: "gw-sim-gateway-0001".into(),
        management_key: None,
        key_limit: None,
        limit_reset: None,
        total_credits: Decimal::from(500),
        usage_now: Decimal::new(8750, 2),
        burn_per_hour: Decimal::new(10, 2),
        currency: Some("EUR".into()),
        granted_credits: Decimal::ZERO,
        overdraft: Decimal::ZERO,
        monthly_limit: None,
        source_options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        upstream_keys: None,
        request_logs: false,
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
            // ¥340 left at ¥7.20 a day: about 47 days; the ¥10 gift is long spent.
            demo_wallet("deepseek", "deepseek", 600, 10, cents(26000), cents(30)),
            // ¥30 left of the ¥390 there was 30 days ago, at ¥12 a day: 2.5 days to go.
            demo_wallet("moonshot", "kimi", 400, 50, cents(37000), cents(50)),
            // ¥138 left at ¥1.68 a day, part of the ¥14 gift still unspent early on.
            demo_wallet("siliconflow", "siliconflow", 200, 14, cents(6200), cents(7)),
            // $4.80 a day against a $250 org spend limit: a month's spend stays under it.
            demo_spender(
                "openai",
                "openai",
                Some(250),
                &[],
                5000,
                cents(90000),
                cents(20),
            ),
            // No limit in Anthropic's API, so the source measures spend against a $150 budget;
            // $3.60 a day is about $110 by the end of a month.
            demo_spender(
                "anthropic",
                "anthropic",
                None,
                &[("monthly_budget", "150")],
                3000,
                cents(60000),
                cents(15),
            ),
            // A LiteLLM virtual key with $4.50 of its $50 budget left at $1.44 a day: about three
            // days. Its team has spent the same of a $400 budget.
            demo_gateway("litellm", "litellm", Some(50), 400, cents(4550), cents(6)),
            // A new-api token with $120 of its $200 quota left at $1.92 a day: about two months.
            demo_gateway("newapi", "newapi", None, 200, cents(8000), cents(8)),
            demo_apipark(),
            demo_generic(),
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
        if !PROVIDERS.contains(&a.provider.as_str()) {
            return fail(format!(
                "account '{}' uses provider '{}', but the simulator only supports {}",
                a.name,
                a.provider,
                PROVIDERS
                    .iter()
                    .map(|p| format!("'{p}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let openrouter = a.provider == "openrouter";
        if !names.insert(a.name.as_str()) {
            return fail(format!("account name '{}' is used twice", a.name));
        }
        // A LiteLLM proxy's master key reads users' and teams' budgets.
        let master_key = a.provider == "litellm";
        if !openrouter && !master_key && a.management_key.is_some() {
            return fail(format!(
                "account '{}': {} reads the balance with the API key; remove management_key",
                a.name, a.provider
            ));
        }
        for key in std::iter::once(&a.key).chain(a.management_key.as_ref()) {
            if key.trim().is_empty() {
                return fail(format!("account '{}' has an empty key", a.name));
            }
            if !keys.insert(key.as_str()) {
                return fail(format!("key '{key}' is used twice"));
            }
        }
        // A LiteLLM virtual key's max_budget and budget_duration are its key limit and reset.
        let key_budget = openrouter || a.provider == "litellm";
        if !key_budget && (a.key_limit.is_some() || a.limit_reset.is_some()) {
            return fail(format!(
                "account '{}': {} keys have no spending limit; key_limit and limit_reset must be null",
                a.name, a.provider
            ));
        }
        if let Some(reset) = &a.limit_reset {
            if !["daily", "weekly", "monthly"].contains(&reset.as_str()) {
                return fail(format!(
                    "account '{}': limit_reset must be daily, weekly, monthly or null, got '{reset}'",
                    a.name
                ));
            }
        }
        let usd_only = openrouter
            || ["openai", "anthropic", "litellm", "newapi", "apipark"]
                .contains(&a.provider.as_str());
        let currencies: &[&str] = match a.provider.as_str() {
            _ if usd_only => &["USD"],
            "generic" => &["EUR", "USD", "CNY"],
            _ => &["CNY", "USD"],
        };
        if !currencies.contains(&a.currency()) {
            return fail(format!(
                "account '{}': {} balances are in {}, not '{}'",
                a.name,
                a.provider,
                currencies.join(" or "),
                a.currency()
            ));
        }
        let amounts = [
            Some(a.total_credits),
            Some(a.usage_now),
            Some(a.burn_per_hour),
            Some(a.granted_credits),
            Some(a.overdraft),
            a.key_limit,
            a.monthly_limit,
        ];
        if amounts.into_iter().flatten().any(|d| d < Decimal::ZERO) {
            return fail(format!(
                "account '{}' has a negative amount; limits, credits, usage and burn must be >= 0",
                a.name
            ));
        }
        if a.granted_credits > a.total_credits {
            return fail(format!(
                "account '{}': granted_credits are part of total_credits, so cannot exceed them",
                a.name
            ));
        }
        if openrouter && !a.granted_credits.is_zero() {
            return fail(format!(
                "account '{}': OpenRouter has no granted credits; granted_credits must be 0",
                a.name
            ));
        }
        if a.provider != "openai" && a.monthly_limit.is_some() {
            return fail(format!(
                "account '{}': only OpenAI organisations have a monthly spend limit in the API; monthly_limit must be null",
                a.name
            ));
        }
        let gateway = ["litellm", "newapi", "generic"].contains(&a.provider.as_str());
        if gateway && !a.granted_credits.is_zero() {
            return fail(format!(
                "account '{}': {} budgets have no granted credits; granted_credits must be 0",
                a.name, a.provider
            ));
        }
        if let Some(unknown) = a
            .source_options
            .keys()
            .find(|k| a.provider == "litellm" && !["user_id", "team_id"].contains(&k.as_str()))
        {
            return fail(format!(
                "account '{}': LiteLLM takes the source options user_id and team_id, not '{unknown}'",
                a.name
            ));
        }
        if a.provider == "generic" {
            if let Some(problem) = generic_options_problem(&a.source_options) {
                return fail(format!("account '{}': {problem}", a.name));
            }
        }
        let apipark = a.provider == "apipark";
        match a.upstream_keys {
            Some(0) | None if apipark => {
                return fail(format!(
                    "account '{}': an APIPark account needs upstream_keys (1 or more)",
                    a.name
                ))
            }
            Some(_) if !apipark => {
                return fail(format!(
                    "account '{}': only APIPark accounts have upstream_keys",
                    a.name
                ))
            }
            _ => {}
        }
        if apipark && !a.source_options.contains_key("provider") {
            return fail(format!(
                "account '{}': APIPark lists keys per upstream provider; set source_options.provider",
                a.name
            ));
        }
        if a.request_logs && a.provider != "litellm" {
            return fail(format!(
                "account '{}': only a LiteLLM proxy keeps the request log the sim serves; request_logs must be false",
                a.name
            ));
        }
        if a.provider != "moonshot" && !a.overdraft.is_zero() {
            return fail(format!(
                "account '{}': only Moonshot lets a balance go below zero; overdraft must be 0",
                a.name
            ));
        }
    }
    Ok(())
}

/// Why a `generic` account's source options would not read the sim's gateway, if they would not:
/// the sim serves one path and reads a bearer key, and the source needs `remaining`.
fn generic_options_problem(options: &BTreeMap<String, String>) -> Option<String> {
    if let Some(unknown) = options
        .keys()
        .find(|k| !GENERIC_OPTIONS.contains(&k.as_str()))
    {
        return Some(format!(
            "the Generic JSON source takes the source options {}, not '{unknown}'",
            GENERIC_OPTIONS.join(", ")
        ));
    }
    let given = |name: &str| {
        options
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    if given("remaining").is_none() {
        return Some(
            "the Generic JSON source needs source_options.remaining, the JSONPath of the amount left"
                .into(),
        );
    }
    let path = given("path").unwrap_or_default();
    if path.trim_start_matches('/') != GENERIC_PATH.trim_start_matches('/') {
        return Some(format!(
            "the sim's gateway answers at {GENERIC_PATH}; set source_options.path to it, not '{path}'"
        ));
    }
    if given("header_name").is_some() {
        return Some(
            "the sim's gateway reads the key as a bearer token; leave source_options.header_name out"
                .into(),
        );
    }
    None
}
