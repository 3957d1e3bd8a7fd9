//! `headroom classify`: which failure a saved error response was, why, and what to do.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use headroom_core::classify::{classify, parse_headers, Classification};

pub fn run(
    status: u16,
    body: &Path,
    headers: Option<&Path>,
    provider: &str,
    json: bool,
) -> Result<()> {
    let body_bytes = std::fs::read(body)
        .with_context(|| format!("cannot read the body file {}", body.display()))?;
    let headers = match headers {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the headers file {}", path.display()))?;
            parse_headers(&text)
                .with_context(|| format!("malformed headers file {}", path.display()))?
        }
        None => Vec::new(),
    };
    let result = classify(provider, status, &headers, &body_bytes);
    if json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", readable(&result));
    }
    Ok(())
}

fn readable(c: &Classification) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{}  [{}; {} {}]",
        c.title,
        c.class.as_str(),
        c.provider,
        c.status
    );
    let _ = writeln!(out, "\n{}\n\nEvidence:", c.explanation);
    for e in &c.evidence {
        let _ = writeln!(out, "  - {e}");
    }
    let _ = writeln!(out, "\nWhat to do:");
    for (i, r) in c.remedies.iter().enumerate() {
        let _ = writeln!(out, "  {}. {r}", i + 1);
    }
    if let Some(url) = &c.billing_url {
        let _ = writeln!(out, "\nBilling page: {url}");
    }
    if let Some(ra) = &c.retry_after {
        let _ = writeln!(out, "Retry-After: {ra}");
    }
    out
}
