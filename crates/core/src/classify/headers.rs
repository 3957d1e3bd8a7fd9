//! Response headers as people save them: a JSON object, or the raw lines of a response dump.

use super::ClassifyError;

/// Parses `{"Name": "value", ...}` or raw `Name: value` lines (an `HTTP/...` status line first is
/// skipped, folded continuation lines are joined). Names keep their case; lookups ignore it.
pub fn parse_headers(text: &str) -> Result<Vec<(String, String)>, ClassifyError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('{') {
        return parse_json(trimmed);
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for (index, raw) in trimmed.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || (index == 0 && line.starts_with("HTTP/")) {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
                continue;
            }
        }
        match line.split_once(':') {
            Some((name, value)) if is_token(name) => {
                headers.push((name.to_string(), value.trim().to_string()))
            }
            _ => {
                return Err(ClassifyError::MalformedHeaderLine {
                    line: index + 1,
                    text: line.chars().take(80).collect(),
                })
            }
        }
    }
    Ok(headers)
}

fn parse_json(text: &str) -> Result<Vec<(String, String)>, ClassifyError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ClassifyError::HeadersJson(e.to_string()))?;
    let object = value
        .as_object()
        .ok_or_else(|| ClassifyError::HeadersJson("not an object".into()))?;
    let mut headers = Vec::with_capacity(object.len());
    for (name, value) in object {
        match value {
            serde_json::Value::String(s) => headers.push((name.clone(), s.clone())),
            serde_json::Value::Number(n) => headers.push((name.clone(), n.to_string())),
            serde_json::Value::Bool(b) => headers.push((name.clone(), b.to_string())),
            // A repeated header saved as a list of values.
            serde_json::Value::Array(items) => {
                for item in items {
                    let value = item
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| item.to_string());
                    headers.push((name.clone(), value));
                }
            }
            other => {
                return Err(ClassifyError::HeadersJson(format!(
                    "the value of {name:?} is {other}, not a string"
                )))
            }
        }
    }
    Ok(headers)
}

/// RFC 9110 token characters: catches prose or a JSON fragment mistaken for a header file.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_lines_skip_the_status_line_and_join_folded_values() {
        let h = parse_headers(
            "HTTP/1.1 402 Payment Required\r\nRetry-After: 30\r\nX-A: one\r\n  two\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            h,
            vec![
                ("Retry-After".into(), "30".into()),
                ("X-A".into(), "one two".into())
            ]
        );
    }

    #[test]
    fn json_object_with_numbers_and_lists() {
        let h = parse_headers(r#"{"Retry-After": 30, "Set-Cookie": ["a", "b"]}"#).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h[0], ("Retry-After".into(), "30".into()));
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(matches!(
            parse_headers("Retry-After 30"),
            Err(ClassifyError::MalformedHeaderLine { line: 1, .. })
        ));
        assert!(parse_headers("[1, 2]").is_err());
        assert!(parse_headers("{\"a\": ").is_err());
        assert!(parse_headers(r#"{"a": {"b": 1}}"#).is_err());
    }
}
