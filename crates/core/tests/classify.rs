//! The 402-family classifier over every provider error body in tests/fixtures/providers.
//! Each case checks the class and that the words a user reads are specific to what was seen.

use std::path::PathBuf;

use headroom_core::classify::{classify, parse_headers, Classification, FailureClass::*};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/providers")
}

fn run(provider: &str, status: u16, body: &str, headers: Option<&str>) -> Classification {
    let body = std::fs::read(fixtures().join(body)).expect("fixture body");
    let headers = headers
        .map(|h| {
            let text = std::fs::read_to_string(fixtures().join(h)).expect("fixture headers");
            parse_headers(&text).expect("fixture headers parse")
        })
        .unwrap_or_default();
    classify(provider, status, &headers, &body)
}

fn assert_mentions(what: &str, text: &str, needles: &[&str], c: &Classification) {
    let lower = text.to_lowercase();
    for needle in needles {
        assert!(
            lower.contains(&needle.to_lowercase()),
            "{what} should mention {needle:?}:\n{c:#?}"
        );
    }
}

/// `name: provider, status, body, headers => class, [explanation mentions], [remedies mention];`
macro_rules! cases {
    ($($name:ident: $provider:expr, $status:expr, $body:expr, $headers:expr
        => $class:expr, [$($explains:expr),*], [$($remedy:expr),*];)*) => {
        $(
            #[test]
            fn $name() {
                let c = run($provider, $status, $body, $headers);
                assert_eq!(c.class, $class, "{c:#?}");
                assert_eq!(c.status, $status);
                assert!(c.evidence.iter().any(|e| e == &format!("status {}", $status)));
                assert!(c.evidence.len() > 1, "evidence beyond the status: {c:#?}");
                assert!(!c.remedies.is_empty());
                assert_mentions("explanation", &c.explanation, &[$($explains),*], &c);
                assert_mentions("remedies", &c.remedies.join("\n"), &[$($remedy),*], &c);
            }
        )*
        const BODIES: &[&str] = &[$($body),*];
    };
}

cases! {
    // OpenRouter: one status, four meanings, told apart by metadata.limit_source.
    openrouter_402_credits: "openrouter", 402, "openrouter.error-402.json", None
        => CreditsExhausted, ["Insufficient credits"], ["top up", "openrouter.ai/settings/credits"];
    openrouter_402_in_flight_is_transient: "openrouter", 402, "openrouter.error-402-in-flight.json",
        Some("openrouter.error-402-in-flight.headers.json")
        => TransientPayment, ["in flight", "not necessarily empty"], ["wait 2 seconds", "fewer requests"];
    openrouter_402_key_limit: "openrouter", 402, "openrouter.error-402-key-limit.json", None
        => SpendLimitReached, ["key's own spending limit"], ["settings/keys", "midnight UTC"];
    openrouter_402_weight_exceeds_budget: "openrouter", 402, "openrouter.error-402-weight-exceeds-budget.json", None
        => CreditsExhausted, ["retrying it unchanged will not help"], ["max_tokens", "add credits"];
    openrouter_403_workspace_budget: "openrouter", 403, "openrouter.error-403-workspace-budget.json", None
        => BudgetExceeded, ["workspace budget", "$500.00"], ["raise the budget"];
    openrouter_403_key_limit_text: "openrouter", 403, "openrouter.error-403-key-limit-exceeded.json", None
        => SpendLimitReached, ["key's spending limit"], ["raise it", "wait for the limit to reset"];
    openrouter_403_needs_management_key: "openrouter", 403, "openrouter.error-403-credits-needs-management-key.json", None
        => AuthInvalid, ["management key"], ["--management-key-env"];
    openrouter_429_rate_limit: "openrouter", 429, "openrouter.error-429.json",
        Some("openrouter.error-429.headers.txt")
        => RateLimited, ["not a billing problem"], ["2026-01-01 00:00:00 UTC", "no top-up needed"];

    // OpenAI: 429 is both an empty wallet and a rate limit.
    openai_429_insufficient_quota: "openai", 429, "openai.error-429-insufficient-quota.json", None
        => CreditsExhausted, ["no credits left", "waiting will not fix it"], ["top up", "settings/organization/limits"];
    openai_429_insufficient_quota_code_null: "openai", 429, "openai.error-429-insufficient-quota-code-null.json", None
        => CreditsExhausted, ["insufficient_quota"], ["top up"];
    openai_429_rate_limit: "openai", 429, "openai.error-429-rate-limit.json",
        Some("openai.error-429-rate-limit.headers.json")
        => RateLimited, ["rate limit", "not a billing problem"], ["1s", "backoff"];
    openai_401_invalid_key: "openai", 401, "openai.error-401-invalid-api-key.json", None
        => AuthInvalid, ["did not accept the key", "sk-…"], ["check the key"];
    openai_legacy_dashboard_needs_session_key: "openai", 403, "openai.error-legacy-dashboard-session-key.json", None
        => Misconfigured, ["2023", "browser session"], ["/v1/organization/costs", "admin key"];

    // Anthropic: out of credit is a 400, the tier cap a 429, payment trouble a 402.
    anthropic_400_credit_balance: "anthropic", 400, "anthropic.error-400-credit-balance-too-low.json", None
        => CreditsExhausted, ["400 (not 402)", "credit balance is too low"], ["top up", "console.anthropic.com/settings/billing"];
    anthropic_400_user_spend_limit: "anthropic", 400, "anthropic.error-400-spend-limit.json", None
        => SpendLimitReached, ["spend limit that you or an admin set"], ["settings/limits", "wait"];
    anthropic_429_tier_spend_cap: "anthropic", 429, "anthropic.error-429-spend-cap.json", None
        => SpendLimitReached, ["usage tier", "not a rate limit"], ["1st of next month", "auto", "higher usage tier"];
    anthropic_429_rate_limit: "anthropic", 429, "anthropic.error-429-rate-limit.json",
        Some("anthropic.error-429-rate-limit.headers.txt")
        => RateLimited, ["rate limit"], ["wait 12 seconds"];
    anthropic_402_billing_error: "anthropic", 402, "anthropic.error-402-billing.json", None
        => PaymentFailed, ["billing or payment information", "Billing error"], ["payment method", "declined"];
    anthropic_401_authentication: "anthropic", 401, "anthropic.error-401-authentication.json", None
        => AuthInvalid, ["did not accept the key"], ["not revoked"];
    anthropic_529_overloaded: "anthropic", 529, "anthropic.error-529-overloaded.json", None
        => ProviderDown, ["overloaded"], ["retry with backoff", "status page"];

    deepseek_402_insufficient_balance: "deepseek", 402, "deepseek.error-402.json", None
        => CreditsExhausted, ["Insufficient Balance", "misleading"], ["/user/balance", "platform.deepseek.com/top_up"];

    // LiteLLM: same error, 400 in older releases and 429 now; code is a string.
    litellm_budget_exceeded_400: "litellm", 400, "litellm.error-budget-exceeded-400.json", None
        => BudgetExceeded, ["$10.00 of a $5.00 budget", "status says nothing"], ["/key/info", "budget_reset_at"];
    litellm_budget_exceeded_429: "litellm", 429, "litellm.error-budget-exceeded-429.json", None
        => BudgetExceeded, ["$186.10 of a $100.00 budget"], ["max_budget", "raise the budget"];
    litellm_model_budget_400: "litellm", 400, "litellm.error-model-budget-400.json", None
        => BudgetExceeded, ["model=gpt-4o"], ["/key/info"];
    litellm_legacy_detail_beats_401: "litellm", 401, "litellm.error-legacy-detail.json", None
        => BudgetExceeded, ["ExceededTokenBudget"], ["raise the budget"];
    litellm_max_budget_429: "litellm", 429, "litellm.error-max-budget-429.json", None
        => BudgetExceeded, ["Max budget limit reached"], ["raise the budget"];
    litellm_relays_deepseek_out_of_balance: "litellm", 400, "litellm.error-relayed-deepseek-402.json", None
        => CreditsExhausted, ["relayed", "upstream provider"], ["upstream provider account"];

    moonshot_429_suspended: "moonshot", 429, "moonshot.error-suspended.json", None
        => CreditsExhausted, ["suspended", "negative"], ["/v1/users/me/balance", "top up"];
    moonshot_403_suspended: "moonshot", 403, "moonshot.error-suspended.json", None
        => CreditsExhausted, ["403 and 429"], ["top up"];

    // Gemini: RESOURCE_EXHAUSTED either way; 402 (or the prepay wording) is the balance.
    gemini_402_prepay_depleted: "gemini", 402, "gemini.error-402-prepay-depleted.json", None
        => CreditsExhausted, ["prepay credits are depleted"], ["AI Studio", "add prepay credits"];
    gemini_429_prepay_depleted_old_status: "gemini", 429, "gemini.error-402-prepay-depleted.json", None
        => CreditsExhausted, ["older responses used 429"], ["AI Studio"];
    gemini_429_quota: "gemini", 429, "gemini.error-429-quota.json", None
        => RateLimited, ["quota", "would come as a 402"], ["quotas and tier", "no top-up needed"];

    portkey_412_budget: "portkey", 412, "portkey.error-412-budget-exhausted.json", None
        => BudgetExceeded, ["Portkey", "Budget exhausted"], ["raise the budget"];
    tyk_403_quota: "tyk", 403, "tyk.error-403-quota.json", None
        => BudgetExceeded, ["quota", "403 for a quota"], ["raise the budget"];
    kong_429_rate_limit: "kong", 429, "kong.error-429.json", Some("kong.error-429.headers.txt")
        => RateLimited, ["rate limit"], ["wait 17 seconds"];
    groq_429_tpm: "groq", 429, "groq.error-429-tpm.json", None
        => RateLimited, ["per day", "tokens per minute"], ["5.289s"];

    // x402: a paywall, not an empty balance, whether it says so in the body (v1) or a header (v2).
    x402_v1_body: "generic", 402, "x402.v1-402.json", None
        => X402PaymentRequired, ["paywall", "10000", "USDC", "kairos-testnet"], ["X-PAYMENT"];
    x402_v2_header: "openrouter", 402, "x402.v2-402-body.json", Some("x402.v2-402.headers.txt")
        => X402PaymentRequired, ["not an empty prepaid balance", "eip155:84532", "premium-data"], ["PAYMENT-SIGNATURE", "wallet"];

    generic_402_unrecognised_is_not_guessed: "generic", 402, "generic.error-402-unrecognised.json", None
        => Unknown, ["does not say which payment problem"], ["payment method"];
    mistral_402_documented_meaning: "mistral", 402, "generic.error-402-unrecognised.json", None
        => CreditsExhausted, ["spending limit", "invoice"], ["Mistral console"];
    generic_404_plain_text: "generic", 404, "generic.error-404.txt", None
        => Misconfigured, ["does not exist"], ["base URL"];
    generic_503_html: "generic", 503, "generic.error-503.html", None
        => ProviderDown, ["failed on its side (503)"], ["status page", "not a balance or key problem"];
}

#[test]
fn every_fixture_body_has_a_case() {
    for entry in std::fs::read_dir(fixtures()).expect("fixtures dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        let not_a_body =
            name == "README.md" || name.contains(".headers.") || name.contains(".decoded.");
        assert!(
            not_a_body || BODIES.contains(&name.as_str()),
            "no case for {name}"
        );
    }
}

#[test]
fn relayed_errors_classify_without_the_provider_kind() {
    let cases = [
        (
            "openai.error-429-insufficient-quota.json",
            429,
            CreditsExhausted,
        ),
        (
            "anthropic.error-400-credit-balance-too-low.json",
            400,
            CreditsExhausted,
        ),
        ("anthropic.error-429-spend-cap.json", 429, SpendLimitReached),
        ("deepseek.error-402.json", 402, CreditsExhausted),
        (
            "litellm.error-budget-exceeded-429.json",
            429,
            BudgetExceeded,
        ),
        ("openrouter.error-402-in-flight.json", 402, TransientPayment),
        ("moonshot.error-suspended.json", 403, CreditsExhausted),
        ("openrouter.error-429.json", 429, RateLimited),
    ];
    for (body, status, class) in cases {
        let c = run("some-gateway", status, body, None);
        assert_eq!(c.class, class, "{body}: {c:#?}");
        assert_eq!(c.provider, "generic");
    }
}

#[test]
fn not_json_is_said_in_the_evidence() {
    let c = run("generic", 404, "generic.error-404.txt", None);
    assert!(c.evidence.iter().any(|e| e.contains("not JSON")), "{c:#?}");
    let c = classify(
        "generic",
        402,
        &[],
        b"Error: insufficient balance on account",
    );
    assert_eq!(c.class, CreditsExhausted);
    assert!(
        c.evidence.iter().any(|e| e.contains("not JSON")),
        "{:?}",
        c.evidence
    );
}

#[test]
fn a_401_saying_not_found_is_still_a_key_problem() {
    let c = classify(
        "openrouter",
        401,
        &[],
        br#"{"error":{"message":"User not found.","code":401}}"#,
    );
    assert_eq!(c.class, AuthInvalid, "{c:#?}");
}

#[test]
fn header_names_compare_case_insensitively() {
    let headers = vec![("retry-after".to_string(), "7".to_string())];
    let c = run(
        "openrouter",
        402,
        "openrouter.error-402-in-flight.json",
        None,
    );
    assert_eq!(c.retry_after, None);
    let body = std::fs::read(fixtures().join("openrouter.error-402-in-flight.json")).unwrap();
    let c = classify("OpenRouter", 402, &headers, &body);
    assert_eq!(c.retry_after.as_deref(), Some("7"));
    assert_eq!(c.provider, "openrouter");
    assert!(c.evidence.contains(&"header Retry-After: 7".to_string()));
}

#[test]
fn json_field_names_are_stable_snake_case() {
    let c = run("openrouter", 402, "openrouter.error-402.json", None);
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["class"], "credits_exhausted");
    for field in [
        "provider",
        "status",
        "title",
        "explanation",
        "evidence",
        "remedies",
        "billing_url",
        "retry_after",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
}
