//! Turning a finding into words: title, explanation, ordered remedies, billing page and how
//! long to wait.

use chrono::{DateTime, Utc};

use super::rules::{Finding, Seen, Step};
use super::{Classification, FailureClass, FailureClass::*};

/// What the classifier knows about a provider beyond its error shapes.
pub(crate) struct Provider {
    pub kind: &'static str,
    pub label: &'static str,
    /// Gateways relay other providers' errors and enforce budgets of their own.
    pub gateway: bool,
    aliases: &'static [&'static str],
    billing_url: Option<&'static str>,
    balance: Option<&'static str>,
}

const fn provider(kind: &'static str, label: &'static str) -> Provider {
    Provider {
        kind,
        label,
        gateway: false,
        aliases: &[],
        billing_url: None,
        balance: None,
    }
}

// Billing URLs: the notes' own (OpenRouter, DeepSeek) or the provider's well-known console.
// Self-hosted gateways have none: their budgets live in the admin's config.
const PROVIDERS: &[Provider] = &[
    Provider {
        billing_url: Some("https://openrouter.ai/settings/credits"),
        balance: Some("GET /api/v1/credits with a management key (total_credits − total_usage), or the credits page"),
        ..provider("openrouter", "OpenRouter")
    },
    Provider {
        billing_url: Some("https://platform.openai.com/settings/organization/billing"),
        balance: Some("no API returns OpenAI's prepaid balance; see the billing page"),
        ..provider("openai", "OpenAI")
    },
    Provider {
        aliases: &["claude"],
        billing_url: Some("https://console.anthropic.com/settings/billing"),
        balance: Some("Plans & Billing in the Anthropic console (no API returns the balance)"),
        ..provider("anthropic", "Anthropic")
    },
    Provider {
        billing_url: Some("https://platform.deepseek.com/top_up"),
        balance: Some("GET /user/balance (is_available, total_balance)"),
        ..provider("deepseek", "DeepSeek")
    },
    Provider {
        aliases: &["kimi"],
        billing_url: Some("https://platform.moonshot.cn/console"),
        balance: Some("GET /v1/users/me/balance (available_balance; cash_balance can be negative)"),
        ..provider("moonshot", "Moonshot")
    },
    Provider {
        billing_url: Some("https://cloud.siliconflow.cn"),
        balance: Some("GET /v1/user/info (data.totalBalance)"),
        ..provider("siliconflow", "SiliconFlow")
    },
    Provider {
        aliases: &["google", "vertex", "gemini-vertex"],
        billing_url: Some("https://aistudio.google.com"),
        balance: Some("Google AI Studio → Billing (no API returns the prepay balance)"),
        ..provider("gemini", "Google Gemini")
    },
    Provider {
        billing_url: Some("https://console.mistral.ai"),
        ..provider("mistral", "Mistral")
    },
    Provider {
        billing_url: Some("https://console.groq.com"),
        ..provider("groq", "Groq")
    },
    Provider {
        billing_url: Some("https://console.x.ai"),
        aliases: &["grok"],
        ..provider("xai", "xAI")
    },
    provider("together", "Together AI"),
    provider("fireworks", "Fireworks AI"),
    Provider {
        aliases: &["azure-openai", "apim"],
        ..provider("azure", "Azure OpenAI")
    },
    Provider {
        gateway: true,
        balance: Some("GET /key/info (spend, max_budget, budget_reset_at)"),
        ..provider("litellm", "LiteLLM")
    },
    Provider {
        gateway: true,
        aliases: &["new-api", "oneapi", "one-api"],
        balance: Some("GET /v1/dashboard/billing/subscription and /usage on the gateway"),
        ..provider("newapi", "new-api")
    },
    Provider {
        gateway: true,
        balance: Some("the APIPark console: AI resource keys marked `exceeded`"),
        ..provider("apipark", "APIPark")
    },
    Provider {
        gateway: true,
        billing_url: Some("https://app.portkey.ai"),
        balance: Some("the key's or workspace's budget in the Portkey app (resets weekly, monthly, every N days or never)"),
        ..provider("portkey", "Portkey")
    },
    Provider {
        gateway: true,
        ..provider("helicone", "Helicone")
    },
    Provider {
        gateway: true,
        ..provider("kong", "Kong")
    },
    Provider {
        gateway: true,
        ..provider("tyk", "Tyk")
    },
];

const GENERIC: Provider = provider("generic", "The provider");

impl Provider {
    pub fn lookup(kind: &str) -> &'static Provider {
        let kind = kind.trim().to_ascii_lowercase();
        PROVIDERS
            .iter()
            .find(|p| p.kind == kind || p.aliases.contains(&kind.as_str()))
            .unwrap_or(&GENERIC)
    }
}

pub(crate) fn render(p: &Provider, s: &Seen, f: Finding) -> Classification {
    let retry_after = s.header("retry-after").map(|v| v.trim().to_string());
    let mut evidence = vec![format!("status {}", s.status)];
    evidence.extend(f.evidence);
    if let Some(ra) = &retry_after {
        evidence.push(format!("header Retry-After: {ra}"));
    }
    let wait = wait_hint(s);
    if let Some((_, Some(source))) = &wait {
        if matches!(f.class, RateLimited | TransientPayment | ProviderDown) {
            evidence.push(source.clone());
        }
    }
    let mut explanation = f.why;
    if let Some(message) = &s.message {
        explanation.push_str(&format!(" {} said: \"{}\".", p.label, quote(message)));
    }
    let general = general_remedies(f.class, p, wait.as_ref().map(|(w, _)| w.as_str()));
    let covered: Vec<Step> = f.steps.iter().map(|(kind, _)| *kind).collect();
    let remedies = f
        .steps
        .into_iter()
        .chain(
            general
                .into_iter()
                .filter(|(kind, _)| *kind == Step::Other || !covered.contains(kind)),
        )
        .map(|(_, text)| text)
        .collect();
    let billing_url = match f.class {
        CreditsExhausted | SpendLimitReached | PaymentFailed | TransientPayment | Unknown => {
            p.billing_url.map(str::to_string)
        }
        // A provider's credits page does not show a budget someone else set; a gateway's console does.
        BudgetExceeded if p.gateway => p.billing_url.map(str::to_string),
        _ => None,
    };
    Classification {
        class: f.class,
        provider: p.kind.to_string(),
        status: s.status,
        title: title(f.class).to_string(),
        explanation,
        evidence,
        remedies,
        billing_url,
        retry_after,
    }
}

fn title(class: FailureClass) -> &'static str {
    match class {
        CreditsExhausted => "Out of credits",
        SpendLimitReached => "Spend limit reached",
        BudgetExceeded => "Budget exceeded",
        PaymentFailed => "Payment problem",
        TransientPayment => "Temporarily over the in-flight budget",
        RateLimited => "Rate limited",
        X402PaymentRequired => "Pay-per-request payment required (x402)",
        AuthInvalid => "Key rejected",
        Misconfigured => "Misconfigured request",
        ProviderDown => "Provider error",
        Unknown => "Unrecognised failure",
    }
}

/// The class's checklist, in order. A rule's own step of the same kind replaces the general one.
fn general_remedies(class: FailureClass, p: &Provider, wait: Option<&str>) -> Vec<(Step, String)> {
    use Step::*;
    let billing = p
        .billing_url
        .map(|u| format!(" at {u}"))
        .unwrap_or_default();
    let steps: Vec<(Step, String)> = match class {
        CreditsExhausted if p.gateway => vec![
            (Check, format!("Check the balance of the upstream provider account that {} uses", p.label)),
            (Fix, "Top up that provider account (the gateway budget is not the problem)".into()),
            (Retry, "Retry once the new balance shows; retrying before that fails the same way".into()),
        ],
        CreditsExhausted => vec![
            (Check, match p.balance {
                Some(how) => format!("Check the balance: {how}"),
                None => format!("Check the balance on the provider's billing page{billing}"),
            }),
            (Fix, match p.billing_url {
                Some(url) => format!("Top up (add credits) at {url}; consider auto-recharge"),
                None => "Top up (add credits) in the provider's console".into(),
            }),
            (Retry, "Retry once the new balance shows; retrying before that fails the same way".into()),
        ],
        SpendLimitReached => vec![
            (Fix, "Find which limit stopped the request (key, project, workspace or organization) \
                   and raise it if the spend is expected".into()),
            (Wait, "Or wait for the limit to reset".into()),
            (Retry, "Pause automatic retries until then: they fail the same way".into()),
        ],
        BudgetExceeded => vec![
            (Check, match p.balance.filter(|_| p.gateway) {
                Some(how) => format!("Check the budget and when it resets: {how}"),
                None => "Check which budget it is and when it resets".into(),
            }),
            (Fix, "Ask whoever runs the gateway or workspace to raise the budget, or wait for its reset".into()),
            (Retry, "Pause automatic retries until then: they are refused before reaching the provider".into()),
        ],
        PaymentFailed => vec![
            (Fix, format!("Fix the payment method or billing details{billing}")),
            (Check, "Look for a declined or expired card, an unpaid invoice or a lapsed subscription".into()),
            (Retry, "Retry once the billing page shows the account in good standing".into()),
        ],
        TransientPayment => vec![
            (Wait, match wait {
                Some(w) => format!("Wait {w} and retry"),
                None => "Wait a few seconds and retry with backoff".into(),
            }),
            (Fix, "Send fewer requests at once: each running request holds part of the balance".into()),
            (Check, format!("If it keeps happening, check the balance{billing}")),
        ],
        RateLimited => vec![
            (Wait, match wait {
                Some(w) => format!("Wait {w}, then retry with exponential backoff"),
                None => "Retry with exponential backoff".into(),
            }),
            (Fix, "Lower the request rate or concurrency, or ask for a higher rate-limit tier".into()),
            (Other, "No top-up needed: the balance is not the problem".into()),
        ],
        X402PaymentRequired => vec![
            (Fix, "Pay with an x402-capable client: it signs a payment and resends the request with \
                   the X-PAYMENT (v1) or PAYMENT-SIGNATURE (v2) header".into()),
            (Check, "Make sure the paying wallet holds enough of the asset asked for, on that network".into()),
            (Other, "If you did not expect a paywall, check the URL: this is not a provider's usual API".into()),
        ],
        AuthInvalid => vec![
            (Check, "Check the key: the right one, complete, not revoked, and where Headroom expects \
                     it (environment variable or keychain)".into()),
            (Other, "Check it is the kind of key this endpoint needs (inference, admin or management key)".into()),
            (Fix, "If in doubt, create a new key in the provider's console".into()),
        ],
        Misconfigured => vec![
            (Check, "Check the base URL and path against the provider's documentation".into()),
            (Check, "Check the model name and that the account may use it".into()),
        ],
        ProviderDown => vec![
            (Wait, match wait {
                Some(w) => format!("Wait {w}, then retry with backoff"),
                None => "Retry with backoff".into(),
            }),
            (Check, "Check the provider's status page".into()),
            (Other, "Nothing to change on your side: not a balance or key problem".into()),
        ],
        Unknown => vec![
            (Other, "Read the provider's message above and look it up in the provider's documentation".into()),
            (Check, format!("If requests keep failing, check the balance, spend limits and key{billing}")),
        ],
    };
    steps
}

/// How long to wait, in words, and the header or text that said so.
fn wait_hint(s: &Seen) -> Option<(String, Option<String>)> {
    if let Some(ra) = s.header("retry-after").map(str::trim) {
        let words = match ra.parse::<u64>() {
            Ok(secs) => format!("{secs} seconds (Retry-After)"),
            Err(_) => format!("until {ra} (Retry-After)"),
        };
        return Some((words, None));
    }
    if let Some(v) = s.header("x-ratelimit-reset") {
        let words = epoch_words(v).unwrap_or_else(|| format!("until the reset ({v})"));
        return Some((words, Some(format!("header X-RateLimit-Reset: {v}"))));
    }
    for (prefix, style) in [
        ("x-ratelimit", Style::Duration),
        ("anthropic-ratelimit", Style::Timestamp),
    ] {
        let windows = ["requests", "tokens", "input-tokens", "output-tokens"];
        let reset = |w: &str| {
            let name = match style {
                Style::Duration => format!("{prefix}-reset-{w}"),
                Style::Timestamp => format!("{prefix}-{w}-reset"),
            };
            s.header(&name).map(|v| (name, v.to_string()))
        };
        let exhausted = |w: &&str| {
            let name = match style {
                Style::Duration => format!("{prefix}-remaining-{w}"),
                Style::Timestamp => format!("{prefix}-{w}-remaining"),
            };
            s.header(&name).is_some_and(|v| v.trim() == "0")
        };
        let window = windows
            .iter()
            .find(|w| exhausted(w))
            .and_then(|w| reset(w))
            .or_else(|| windows.iter().find_map(|w| reset(w)));
        if let Some((name, value)) = window {
            let words = match style {
                Style::Duration => format!("{value} (until the window resets)"),
                Style::Timestamp => format!("until {value}"),
            };
            return Some((words, Some(format!("header {name}: {value}"))));
        }
    }
    if let Some(v) = s.header("ratelimit-reset") {
        return Some((
            format!("{v} seconds"),
            Some(format!("header RateLimit-Reset: {v}")),
        ));
    }
    // Groq and OpenAI put it in the message: "Please try again in 5.289s."
    let message = s.message.as_deref()?;
    let lower = message.to_lowercase();
    let start = lower.find("try again in ")? + "try again in ".len();
    let span: String = message[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let span = span.trim_end_matches(['.', ',']).to_string();
    (!span.is_empty()).then(|| {
        let source = format!("message says \"try again in {span}\"");
        (span, Some(source))
    })
}

#[derive(Clone, Copy)]
enum Style {
    Duration,
    Timestamp,
}

/// X-RateLimit-Reset is undocumented in format: epoch milliseconds, epoch seconds, or seconds to wait.
fn epoch_words(value: &str) -> Option<String> {
    let n: i64 = value.trim().parse().ok()?;
    let at = match n {
        n if n > 100_000_000_000 => DateTime::<Utc>::from_timestamp_millis(n)?,
        n if n > 1_000_000_000 => DateTime::<Utc>::from_timestamp(n, 0)?,
        n => return Some(format!("{n} seconds")),
    };
    Some(format!("until {}", at.format("%Y-%m-%d %H:%M:%S UTC")))
}

/// The provider's words, short enough to read and with anything key-like cut off.
fn quote(message: &str) -> String {
    let redacted: Vec<String> = message
        .split(' ')
        .map(|word| {
            let bare = word.trim_start_matches(['"', '\'', '(']);
            if bare.starts_with("sk-") || bare.starts_with("sk_") {
                "sk-…".to_string()
            } else {
                word.to_string()
            }
        })
        .collect();
    let text = redacted.join(" ");
    let text = text.trim().trim_end_matches('.');
    if text.chars().count() > 300 {
        let cut: String = text.chars().take(300).collect();
        format!("{cut}…")
    } else {
        text.to_string()
    }
}
