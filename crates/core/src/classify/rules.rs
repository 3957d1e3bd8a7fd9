//! The rules, most specific first: x402, OpenRouter's `limit_source`, billing codes, billing
//! wording, other codes and wording, and only then the status.

use serde_json::Value;

use super::advice::Provider;
use super::FailureClass::{self, *};

/// Enough of the body to match on; the rest of a large HTML error page tells us nothing.
const TEXT_LIMIT: usize = 64 * 1024;

/// What the response said, normalised across providers' error envelopes.
pub(crate) struct Seen<'a> {
    pub status: u16,
    headers: &'a [(String, String)],
    json: Option<Value>,
    /// The provider's own message, for quoting.
    pub message: Option<String>,
    /// Lower-cased text the wording rules match: the message, else the whole body.
    text: String,
    text_origin: TextOrigin,
}

#[derive(Clone, Copy)]
enum TextOrigin {
    Message,
    JsonBody,
    NotJson,
}

impl<'a> Seen<'a> {
    pub fn new(status: u16, headers: &'a [(String, String)], body: &[u8]) -> Self {
        let json = serde_json::from_slice::<Value>(body)
            .ok()
            .or_else(|| sse_error(body));
        let message = json.as_ref().and_then(message_of);
        let (text, text_origin) = match (&message, &json) {
            (Some(m), _) => (m.to_lowercase(), TextOrigin::Message),
            (None, Some(v)) => (v.to_string().to_lowercase(), TextOrigin::JsonBody),
            (None, None) => {
                let cut = &body[..body.len().min(TEXT_LIMIT)];
                (
                    String::from_utf8_lossy(cut).to_lowercase(),
                    TextOrigin::NotJson,
                )
            }
        };
        Seen {
            status,
            headers,
            json,
            message,
            text,
            text_origin,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A string or number at a JSON pointer.
    fn at(&self, pointer: &str) -> Option<String> {
        match self.json.as_ref()?.pointer(pointer)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// `error.<name>`, or the top-level field for flat envelopes (Mistral, Kong).
    fn err(&self, name: &str) -> Option<(String, String)> {
        let json = self.json.as_ref()?;
        if json.get("error").is_some_and(Value::is_object) {
            self.at(&format!("/error/{name}"))
                .map(|v| (format!("error.{}", name.replace('/', ".")), v))
        } else {
            self.at(&format!("/{name}")).map(|v| (name.to_string(), v))
        }
    }

    fn err_is(&self, name: &str, wanted: &[&str]) -> Option<String> {
        let (path, value) = self.err(name)?;
        wanted
            .iter()
            .any(|w| value.eq_ignore_ascii_case(w))
            .then(|| format!("{path} = {value}"))
    }

    fn contains(&self, needle: &str) -> bool {
        self.text.contains(needle)
    }

    /// The first needle found, as an evidence line that says where the text came from.
    fn find(&self, needles: &[&str]) -> Option<String> {
        let hit = needles.iter().find(|n| self.text.contains(*n))?;
        Some(match self.text_origin {
            TextOrigin::Message => format!("error message contains \"{hit}\""),
            TextOrigin::JsonBody => format!("body contains \"{hit}\""),
            TextOrigin::NotJson => format!("body is not JSON; its text contains \"{hit}\""),
        })
    }

    fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status)
    }
}

/// Errors after an OpenRouter stream has started arrive as an SSE chunk inside a 200.
fn sse_error(body: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(&body[..body.len().min(TEXT_LIMIT)]).ok()?;
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("error").is_some())
}

fn message_of(json: &Value) -> Option<String> {
    ["/error/message", "/error", "/message", "/detail", "/msg"]
        .iter()
        .find_map(|p| json.pointer(p).and_then(Value::as_str))
        .map(str::to_string)
}

/// The role a remedy plays in the checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Check,
    Fix,
    Wait,
    Retry,
    Other,
}

pub(crate) struct Finding {
    pub class: FailureClass,
    pub evidence: Vec<String>,
    /// The specific reason, in plain words.
    pub why: String,
    /// Specific first steps; they replace the general checklist's steps of the same kind.
    pub steps: Vec<(Step, String)>,
}

fn found(class: FailureClass, evidence: Vec<String>, why: impl Into<String>) -> Finding {
    Finding {
        class,
        evidence,
        why: why.into(),
        steps: Vec::new(),
    }
}

impl Finding {
    fn steps(mut self, steps: &[(Step, &str)]) -> Self {
        self.steps
            .extend(steps.iter().map(|(kind, s)| (*kind, s.to_string())));
        self
    }
}

type Rule = fn(&Seen, &Provider) -> Option<Finding>;

pub(crate) fn decide(seen: &Seen, provider: &Provider) -> Finding {
    const RULES: [Rule; 7] = [
        x402,
        openrouter_limit_source,
        billing_codes,
        billing_wording,
        other_codes,
        other_wording,
        by_status,
    ];
    RULES
        .iter()
        .find_map(|rule| rule(seen, provider))
        .unwrap_or_else(|| {
            found(
                Unknown,
                vec!["no rule matched the body, headers or status".into()],
                "Headroom does not recognise this response as a billing, limit, key or outage problem.",
            )
        })
}

fn x402(s: &Seen, _: &Provider) -> Option<Finding> {
    if !s.is_client_error() {
        return None;
    }
    let header = s.header("payment-required");
    let version = s.json.as_ref().and_then(|v| v.get("x402Version"));
    if header.is_none() && version.is_none() {
        return None;
    }
    let mut evidence = Vec::new();
    let mut offer = None;
    if let Some(h) = header {
        let decoded = base64_json(h);
        match decoded.as_ref().and_then(|d| d.get("x402Version")) {
            Some(v) => evidence.push(format!(
                "header PAYMENT-REQUIRED present (decodes to x402Version {v})"
            )),
            None => evidence.push("header PAYMENT-REQUIRED present".into()),
        }
        offer = decoded.as_ref().and_then(describe_offer);
    }
    if let (Some(v), Some(json)) = (version, s.json.as_ref()) {
        evidence.push(format!("body x402Version = {v}"));
        offer = offer.or_else(|| describe_offer(json));
    }
    let refused = s
        .header("payment-response")
        .and_then(base64_json)
        .and_then(|r| {
            r.get("errorReason")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let mut why = String::from(
        "This endpoint is an x402 paywall: it charges per request and wants a signed payment sent \
         with each call. It is not an empty prepaid balance at a provider.",
    );
    if let Some(offer) = offer {
        why.push_str(&format!(" It asks for {offer}."));
    }
    if let Some(reason) = refused {
        evidence.push(format!("header PAYMENT-RESPONSE errorReason = {reason}"));
        why.push_str(&format!(" A payment was sent and refused: {reason}."));
    }
    Some(found(X402PaymentRequired, evidence, why))
}

/// "10000 (smallest units) of USDC on base-sepolia for https://…", from either spec version.
fn describe_offer(doc: &Value) -> Option<String> {
    let accept = doc.get("accepts")?.get(0)?;
    let text = |p: &str| accept.pointer(p).and_then(Value::as_str);
    let amount = text("/maxAmountRequired").or_else(|| text("/amount"))?;
    let asset = text("/extra/name")
        .or_else(|| text("/asset"))
        .unwrap_or("the asset");
    let network = text("/network").unwrap_or("an unnamed network");
    let resource = text("/resource")
        .or_else(|| doc.pointer("/resource/url").and_then(Value::as_str))
        .map(|r| format!(" for {r}"))
        .unwrap_or_default();
    Some(format!(
        "{amount} (in the asset's smallest units) of {asset} on {network}{resource}"
    ))
}

fn base64_json(text: &str) -> Option<Value> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim().bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    serde_json::from_slice(&out).ok()
}

fn openrouter_limit_source(s: &Seen, _: &Provider) -> Option<Finding> {
    let source = s.at("/error/metadata/limit_source")?;
    let reason = s.at("/error/metadata/reason");
    let mut evidence = vec![format!("error.metadata.limit_source = {source}")];
    if let Some(r) = &reason {
        evidence.push(format!("error.metadata.reason = {r}"));
    }
    let mut finding = match source.as_str() {
        "openrouter_in_flight_budget" => found(
            TransientPayment,
            evidence,
            "OpenRouter reserves the cost of each request while it runs, and the requests already \
             in flight have used up what this account can reserve right now. The balance is not \
             necessarily empty: this clears as running requests finish.",
        ),
        "openrouter_key_limit" => found(
            SpendLimitReached,
            evidence,
            "This API key's own spending limit (set on the key in OpenRouter) is used up. The \
             account may still have credits; other keys keep working.",
        )
        .steps(&[
            (Step::Fix, "Raise or remove this key's limit at https://openrouter.ai/settings/keys"),
            (Step::Wait, "Or wait for the key limit to reset: check limit_reset on GET /api/v1/key (daily \
             limits reset at midnight UTC, weekly on Monday 00:00 UTC, monthly on the 1st)"),
        ]),
        "openrouter_credits" if reason.as_deref() == Some("weight_exceeds_budget") => found(
            CreditsExhausted,
            evidence,
            "This single request would cost more than everything the account's credits can \
             reserve, so retrying it unchanged will not help.",
        )
        .steps(&[(Step::Fix, "Make the request smaller (lower max_tokens, shorter prompt), or add credits")]),
        "openrouter_credits" => found(
            CreditsExhausted,
            evidence,
            "The OpenRouter account's credits cannot cover this request. A negative balance blocks \
             even free models.",
        ),
        _ => return None,
    };
    if let Some(hint) = s.at("/error/metadata/remedy_hint") {
        finding
            .evidence
            .push(format!("error.metadata.remedy_hint = {hint}"));
        finding
            .steps
            .push((Step::Other, format!("OpenRouter's hint: {hint}")));
    }
    Some(finding)
}

fn billing_codes(s: &Seen, p: &Provider) -> Option<Finding> {
    if let Some(e) = s
        .at("/error/details/error_code")
        .filter(|c| c == "enforced_spend_limit_reached")
    {
        return Some(
            found(
                SpendLimitReached,
                vec![format!("error.details.error_code = {e}")],
                "The organization reached the monthly spend cap of its Anthropic usage tier (Start \
                 $500, Build $1,000, Scale $200,000). It comes as a 429 but it is not a rate limit: \
                 there is no retry-after, and retries keep failing until 00:00 UTC on the 1st of \
                 next month.",
            )
            .steps(&[
                (Step::Fix, "Move to a higher usage tier, or ask Anthropic for a custom limit \
                 (https://console.anthropic.com/settings/limits)"),
                (Step::Wait, "Or wait until 00:00 UTC on the 1st of next month, when the cap resets"),
                (Step::Retry, "Turn off automatic SDK retries for this error: they cannot succeed before then"),
            ]),
        );
    }
    if let Some(e) = s
        .err_is("type", &["budget_exceeded"])
        .or_else(|| s.err_is("code", &["budget_exceeded"]))
    {
        return Some(litellm_budget(s, vec![e]));
    }
    if let Some(e) = s
        .err_is("code", &["insufficient_quota"])
        .or_else(|| s.err_is("type", &["insufficient_quota"]))
    {
        return Some(
            found(
                CreditsExhausted,
                vec![e],
                "OpenAI answers 429 insufficient_quota when the organization has no credits left \
                 or has reached its monthly budget (hard limit). It shares the status with rate \
                 limits, but waiting will not fix it.",
            )
            .steps(&[
                (Step::Other, "Check the monthly budget at https://platform.openai.com/settings/organization/limits; \
                 if it was reached, raise it or wait for next month"),
            ]),
        );
    }
    if let Some(e) = s.err_is("type", &["exceeded_current_quota_error"]) {
        return Some(
            found(
                CreditsExhausted,
                vec![e],
                "Moonshot suspended the account because its confirmed balance reached zero. Calls \
                 settled after the suspension can leave the cash balance negative, so a top-up must \
                 cover that first. Moonshot has answered both 403 and 429 for this.",
            )
            .steps(&[(Step::Check, "Check available_balance and cash_balance with GET /v1/users/me/balance")]),
        );
    }
    if let Some(e) = s.err_is("status", &["RESOURCE_EXHAUSTED"]) {
        let prepay = s.find(&["prepayment credits are depleted", "prepayment", "prepay"]);
        return Some(if s.status == 402 || prepay.is_some() {
            found(
                CreditsExhausted,
                [Some(e), prepay].into_iter().flatten().collect(),
                "The Gemini API prepay credits are depleted. Google now answers 402 for this; older \
                 responses used 429 with the same message.",
            )
            .steps(&[
                (Step::Fix, "Add prepay credits in Google AI Studio → Billing"),
                (Step::Other, "If AI Studio shows $0 while Cloud Billing shows credit, the two are out of sync: \
                 wait a few minutes or contact Google support"),
            ])
        } else {
            found(
                RateLimited,
                vec![
                    e,
                    "RESOURCE_EXHAUSTED without prepay wording (a quota, not the balance)".into(),
                ],
                "Google reports a used-up quota: a per-minute or per-day limit, a project spend \
                 cap, or a lower tier. Depleted prepay credits would come as a 402.",
            )
            .steps(&[(
                Step::Other,
                "Check the project's quotas and tier in Google AI Studio or the Cloud console",
            )])
        });
    }
    if let Some(e) = s.err_is("type", &["billing_error"]) {
        return Some(found(
            PaymentFailed,
            vec![e],
            format!(
                "{} reports a problem with the billing or payment information (for example a \
                 declined card or missing billing details), not with the credit balance itself.",
                p.label
            ),
        ));
    }
    // Cited by third parties, not seen in OpenAI's own documents; harmless to recognise.
    if let Some(e) = s.err_is("code", &["billing_hard_limit_reached"]) {
        return Some(found(
            SpendLimitReached,
            vec![e],
            "The organization reached the hard spend limit it set.",
        ));
    }
    if let Some(e) = s.err_is(
        "code",
        &["credit_balance_exhausted", "insufficient_balance"],
    ) {
        return Some(found(
            CreditsExhausted,
            vec![e],
            "The provider says the account's credit balance is used up.",
        ));
    }
    None
}

fn litellm_budget(s: &Seen, evidence: Vec<String>) -> Finding {
    // "Budget has been exceeded! Current cost: 186.09, Max budget: 100.0"
    let number_after = |label: &str| {
        let start = s.text.find(label)? + label.len();
        let n: String = s.text[start..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == 'e' || *c == '-')
            .collect();
        let n = n.trim_end_matches('.');
        let value: f64 = n.parse().ok()?;
        Some(format!("${value:.2}"))
    };
    let spent = match (number_after("current cost:"), number_after("max budget:")) {
        (Some(cost), Some(max)) => format!(" It has spent {cost} of a {max} budget."),
        _ => String::new(),
    };
    found(
        BudgetExceeded,
        evidence,
        format!(
            "The LiteLLM proxy refused the request because a budget it enforces (on the key, user \
             or team) is used up.{spent} The upstream provider was not asked, so its balance may be \
             fine. LiteLLM has used both 400 and 429 for this, so the status says nothing."
        ),
    )
    .steps(&[
        (Step::Check, "Check the budget with GET /key/info (spend, max_budget, budget_reset_at); if the key \
         belongs to a team, the team's budget is the one that applies"),
    ])
}

fn billing_wording(s: &Seen, p: &Provider) -> Option<Finding> {
    if let Some(e) = s.find(&["must be made with a session key"]) {
        return Some(
            found(
                Misconfigured,
                vec![e],
                "OpenAI's /dashboard/billing/* endpoints stopped accepting API (secret) keys in \
                 2023; they only answer a logged-in browser session. The request is wrong, not the \
                 key or the balance.",
            )
            .steps(&[
                (Step::Fix, "Read spend with the Admin API instead: GET /v1/organization/costs with an admin key"),
                (Step::Check, "If you meant an OpenAI-compatible gateway (new-api/one-api) that still serves these \
                 paths, set the base URL to the gateway, not api.openai.com"),
            ]),
        );
    }
    if let Some(e) = s.find(&[
        "budget has been exceeded",
        "exceededtokenbudget",
        "exceededbudget",
        "exceeded budget",
        "max budget limit reached",
    ]) {
        return Some(litellm_budget(s, vec![e]));
    }
    let budget_words = s.contains("budget") && (s.contains("exceed") || s.contains("exhaust"));
    let quota_words =
        s.status == 403 && (s.contains("quota exceeded") || s.contains("quota exhausted"));
    if budget_words || quota_words {
        let e = if budget_words {
            [s.find(&["budget"]), s.find(&["exceed", "exhaust"])]
        } else {
            [s.find(&["quota exceeded", "quota exhausted"]), None]
        };
        let e = e.into_iter().flatten().collect();
        let workspace = s.contains("workspace");
        let why = if workspace {
            "A workspace budget set by your workspace admin is used up. The account itself may still \
             have credits; only requests charged to this workspace are refused until it resets."
                .to_string()
        } else if quota_words {
            "The API gateway's quota for this key or consumer is used up (Tyk and Azure API \
             Management answer 403 for a quota and 429 for a rate limit)."
                .to_string()
        } else {
            format!(
                "A budget enforced by {} is used up. The provider's own balance may be fine.",
                if p.kind == "generic" {
                    "the gateway in front of the provider"
                } else {
                    p.label
                }
            )
        };
        let finding = found(BudgetExceeded, e, why);
        return Some(if workspace {
            finding.steps(&[(
                Step::Check,
                "Ask the workspace admin which budget it is and when it resets (OpenRouter \
                 workspace budgets reset daily at midnight UTC, weekly on Monday 00:00 UTC, \
                 monthly on the 1st, or never for a lifetime budget)",
            )])
        } else {
            finding
        });
    }
    if let Some(e) = s.find(&["key limit exceeded"]) {
        return Some(found(
            SpendLimitReached,
            vec![e],
            "This API key's spending limit is used up; the account may still have credits.",
        ));
    }
    if let Some(e) = s.find(&[
        "specified api usage limits",
        "specified workspace api usage limits",
    ]) {
        return Some(
            found(
                SpendLimitReached,
                vec![e],
                "Usage reached a spend limit that you or an admin set for the organization or \
                 workspace. Anthropic's message says when access resumes.",
            )
            .steps(&[
                (
                    Step::Fix,
                    "Raise the limit at https://console.anthropic.com/settings/limits",
                ),
                (
                    Step::Wait,
                    "Or wait until the time Anthropic's message gives",
                ),
            ]),
        );
    }
    if let Some(e) = s.find(&["spend limit", "spending limit"]) {
        return Some(found(
            SpendLimitReached,
            vec![e],
            "A spending limit set on the account, project or key has been reached.",
        ));
    }
    let suspended = s.contains("suspended") && (s.contains("balance") || s.contains("billing"));
    if let Some(e) = s
        .find(&[
            "credit balance is too low",
            "insufficient credits",
            "insufficient balance",
            "insufficient_balance",
            "insufficient funds",
            "credits are depleted",
            "run out of balance",
            "out of credits",
            "exceeded your current quota",
        ])
        .or_else(|| suspended.then(|| s.find(&["suspended"])).flatten())
    {
        let why = if p.gateway {
            format!(
                "{} relayed an out-of-credit error from the upstream provider: the provider account \
                 behind the gateway has run out, not a gateway budget.",
                p.label
            )
        } else {
            match p.kind {
                "anthropic" => {
                    "Anthropic answers 400 (not 402) when the prepaid credit balance is \
                                too low to run the request."
                        .to_string()
                }
                "deepseek" => "DeepSeek answers 402 Insufficient Balance when the account has run \
                               out of balance (its type and code fields are misleading here)."
                    .to_string(),
                _ => format!(
                    "{} says the account's prepaid balance or credits are used up.",
                    p.label
                ),
            }
        };
        return Some(found(CreditsExhausted, vec![e], why));
    }
    if let Some(e) = s.find(&[
        "payment method",
        "card was declined",
        "card declined",
        "billing information",
        "payment information",
        "payment failed",
        "past due",
        "unpaid invoice",
        "unable to verify your membership",
    ]) {
        return Some(found(
            PaymentFailed,
            vec![e],
            "The provider could not charge the account: the payment method, billing details or \
             subscription need attention.",
        ));
    }
    None
}

fn other_codes(s: &Seen, p: &Provider) -> Option<Finding> {
    if let Some(e) = s
        .err_is("code", &["rate_limit_exceeded"])
        .or_else(|| s.err_is("metadata/error_type", &["rate_limit_exceeded"]))
        .or_else(|| s.err_is("type", &["rate_limit_error"]))
    {
        let mut why = String::from(
            "A real rate limit: too many requests or tokens in the current window. It is not a \
             billing problem and clears by itself.",
        );
        if p.kind == "groq" {
            why.push_str(" On Groq the x-ratelimit-*-requests headers count per day, the -tokens ones per minute.");
        }
        return Some(found(RateLimited, vec![e], why));
    }
    if let Some(e) = s
        .err_is("type", &["authentication_error"])
        .or_else(|| s.err_is("code", &["invalid_api_key"]))
    {
        return Some(found(
            AuthInvalid,
            vec![e],
            format!("{} did not accept the key.", p.label),
        ));
    }
    if let Some(e) = s.err_is("type", &["permission_error"]) {
        return Some(found(
            AuthInvalid,
            vec![e],
            "The key is valid but is not allowed to use this endpoint or model.",
        ));
    }
    if let Some(e) = s
        .err_is("type", &["not_found_error"])
        .or_else(|| s.err_is("code", &["model_not_found"]))
    {
        return Some(found(
            Misconfigured,
            vec![e],
            "The endpoint or model asked for does not exist at this base URL.",
        ));
    }
    if let Some(e) = s.err_is("type", &["overloaded_error"]) {
        return Some(found(
            ProviderDown,
            vec![e],
            format!("{} is overloaded right now.", p.label),
        ));
    }
    None
}

fn other_wording(s: &Seen, p: &Provider) -> Option<Finding> {
    if !s.is_client_error() {
        return None;
    }
    if let Some(e) = s.find(&["only management keys"]) {
        return Some(
            found(
                AuthInvalid,
                vec![e],
                "This OpenRouter endpoint (account credits, activity) needs a management key; an \
                 ordinary inference key is refused. The key is fine for requests.",
            )
            .steps(&[
                (Step::Fix, "Create a management key at https://openrouter.ai/settings/management-keys and give \
                 it to Headroom with --management-key-env"),
            ]),
        );
    }
    if let Some(e) = s.find(&["rate limit", "too many requests", "rate_limit"]) {
        return Some(found(
            RateLimited,
            vec![e],
            "A rate limit: too many requests in the current window. It is not a billing problem \
             and clears by itself.",
        ));
    }
    if let Some(e) = s.find(&[
        "invalid api key",
        "incorrect api key",
        "invalid x-api-key",
        "invalid token",
        "invalid authentication",
        "api key not valid",
        "unauthorized",
    ]) {
        return Some(found(
            AuthInvalid,
            vec![e],
            format!("{} did not accept the key.", p.label),
        ));
    }
    // 401/403 stay key problems: OpenRouter, for one, answers a bad key with "User not found".
    let key_status = matches!(s.status, 401 | 403);
    if let Some(e) = s
        .find(&[
            "not found",
            "does not exist",
            "no such model",
            "unknown model",
        ])
        .filter(|_| !key_status)
    {
        return Some(found(
            Misconfigured,
            vec![e],
            "The endpoint or model asked for does not exist at this base URL.",
        ));
    }
    None
}

fn by_status(s: &Seen, p: &Provider) -> Option<Finding> {
    let nothing = |what: &str| vec![format!("no {what} wording in the body; decided by status")];
    let finding = match s.status {
        401 => found(
            AuthInvalid,
            nothing("billing"),
            format!("{} did not accept the credentials (401).", p.label),
        ),
        403 => found(
            AuthInvalid,
            nothing("budget, quota or billing"),
            "The key was refused for this resource (403), and the body names no budget or quota.",
        ),
        404 | 405 | 300..=399 => found(
            Misconfigured,
            nothing("billing"),
            "Nothing answers this request at this address: check the base URL, path and model name.",
        ),
        402 => match p.kind {
            "openrouter" | "deepseek" | "gemini" => found(
                CreditsExhausted,
                vec![format!("{} documents 402 as out of credits", p.label)],
                format!("{} uses 402 for an account without enough credits.", p.label),
            ),
            "anthropic" => found(
                PaymentFailed,
                vec!["Anthropic documents 402 as billing_error".into()],
                "Anthropic uses 402 for a problem with the billing or payment information.",
            ),
            "mistral" => found(
                CreditsExhausted,
                vec!["Mistral documents 402 for an exhausted balance or spending limit".into()],
                "Mistral answers 402 when the prepaid balance is zero, a monthly spending limit \
                 of the organization or workspace is reached, included usage ran out without \
                 pay-as-you-go, or an invoice payment failed.",
            )
            .steps(&[(Step::Check, "Check the balance, the organization and workspace spending limits, and unpaid \
                      invoices in the Mistral console")]),
            _ => found(
                Unknown,
                nothing("recognised payment"),
                "402 Payment Required, but the body does not say which payment problem it is.",
            )
            .steps(&[(Step::Check, "Check the balance, any spend limit or budget, and the payment method of the \
                      account behind this key")]),
        },
        412 if p.kind == "portkey" => found(
            BudgetExceeded,
            vec!["Portkey documents 412 as budget exhausted".into()],
            "A Portkey budget on this key or workspace is exhausted; Portkey answers 412 for it.",
        ),
        429 => found(
            RateLimited,
            nothing("billing"),
            "429 Too Many Requests with no billing wording in the body: most likely a rate limit.",
        ),
        500..=599 => found(
            ProviderDown,
            vec![format!("status {} is a server error", s.status)],
            format!(
                "{} failed on its side ({}). Your balance and key are not the problem.",
                p.label, s.status
            ),
        ),
        _ => return None,
    };
    Some(finding)
}
