//! The 402-family classifier: from what a failed request got back (provider, status, headers,
//! body), say which failure it was, why, and what to do.
//!
//! Providers overload their status codes (OpenAI's empty wallet is a 429, Anthropic's is a 400,
//! LiteLLM's budget moved from 400 to 429), so the rules read the body and headers first. The status
//! only decides when the body says nothing recognisable, and the evidence then says so.

mod advice;
mod headers;
mod rules;

use serde::Serialize;
use ts_rs::TS;

pub use headers::parse_headers;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub enum FailureClass {
    CreditsExhausted,
    SpendLimitReached,
    BudgetExceeded,
    PaymentFailed,
    TransientPayment,
    RateLimited,
    X402PaymentRequired,
    AuthInvalid,
    Misconfigured,
    ProviderDown,
    Unknown,
}

impl FailureClass {
    /// The same name as in the JSON output, for text output and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreditsExhausted => "credits_exhausted",
            Self::SpendLimitReached => "spend_limit_reached",
            Self::BudgetExceeded => "budget_exceeded",
            Self::PaymentFailed => "payment_failed",
            Self::TransientPayment => "transient_payment",
            Self::RateLimited => "rate_limited",
            Self::X402PaymentRequired => "x402_payment_required",
            Self::AuthInvalid => "auth_invalid",
            Self::Misconfigured => "misconfigured",
            Self::ProviderDown => "provider_down",
            Self::Unknown => "unknown",
        }
    }
}

/// Field names stay snake_case: `headroom classify --json` is read by scripts.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(export, export_to = "../../../ui/src/lib/bindings/")]
pub struct Classification {
    pub class: FailureClass,
    /// The provider kind the rules used, or "generic".
    pub provider: String,
    pub status: u16,
    pub title: String,
    pub explanation: String,
    pub evidence: Vec<String>,
    pub remedies: Vec<String>,
    pub billing_url: Option<String>,
    pub retry_after: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClassifyError {
    #[error("headers line {line}: expected `Name: value`, found {text:?}")]
    MalformedHeaderLine { line: usize, text: String },
    #[error("headers JSON must be an object of header name to value: {0}")]
    HeadersJson(String),
}

/// Classifies one failed response. `provider` is a provider kind (unknown kinds get the generic
/// rules, which still recognise the providers' bodies so that relayed errors classify).
pub fn classify(
    provider: &str,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> Classification {
    let provider = advice::Provider::lookup(provider);
    let seen = rules::Seen::new(status, headers, body);
    let finding = rules::decide(&seen, provider);
    advice::render(provider, &seen, finding)
}
