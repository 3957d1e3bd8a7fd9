//! Exact amounts. Providers send money as JSON numbers, decimal strings or integer cents; a float
//! never stands in for money here.

use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// Reads a JSON number or numeric string as an exact decimal.
///
/// serde_json prints an f64 with the shortest text that round-trips, so `74.5` comes back as
/// exactly `74.5` rather than its binary approximation.
pub fn decimal_from_json(value: &Value) -> Option<Decimal> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
        .map(|d| d.normalize())
}

/// Digits after the decimal point that a currency is shown with.
pub fn currency_precision(unit: &str) -> u32 {
    match unit {
        "JPY" | "KRW" | "tokens" | "requests" | "keys" => 0,
        _ => 2,
    }
}

/// An amount as a person reads it: `$74.50`, `¥12.30`, `1,234 tokens`.
pub fn format_amount(amount: Decimal, unit: &str) -> String {
    let rounded = amount.round_dp(currency_precision(unit));
    let negative = rounded.is_sign_negative() && !rounded.is_zero();
    let text = format!("{:.*}", currency_precision(unit) as usize, rounded.abs());
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), format!(".{f}")),
        None => (text.clone(), String::new()),
    };
    let mut grouped = String::new();
    for (i, ch) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if negative { "-" } else { "" };
    match unit {
        "USD" => format!("{sign}${grouped}{frac_part}"),
        "CNY" => format!("{sign}¥{grouped}{frac_part}"),
        "EUR" => format!("{sign}€{grouped}{frac_part}"),
        other => format!("{sign}{grouped}{frac_part} {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_numbers_become_exact_decimals() {
        assert_eq!(decimal_from_json(&json!(74.5)).unwrap().to_string(), "74.5");
        assert_eq!(decimal_from_json(&json!(0.1)).unwrap().to_string(), "0.1");
        assert_eq!(
            decimal_from_json(&json!("110.00")).unwrap().to_string(),
            "110"
        );
        assert_eq!(decimal_from_json(&json!(100)).unwrap().to_string(), "100");
        assert!(decimal_from_json(&json!(null)).is_none());
        assert!(decimal_from_json(&json!("lots")).is_none());
    }

    #[test]
    fn amounts_are_shown_with_the_currency_precision() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(format_amount(d("74.5"), "USD"), "$74.50");
        assert_eq!(format_amount(d("1234567.891"), "USD"), "$1,234,567.89");
        assert_eq!(format_amount(d("12.3"), "CNY"), "¥12.30");
        assert_eq!(format_amount(d("1234"), "tokens"), "1,234 tokens");
        assert_eq!(format_amount(d("-3.5"), "USD"), "-$3.50");
        assert_eq!(format_amount(d("0"), "USD"), "$0.00");
    }
}
