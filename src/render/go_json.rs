//! Go's `encoding/json` for template values, as Helm's `toJson` writes them: map keys sorted, HTML
//! characters escaped, floats in Go's notation (`1e+21`, `1e-7`, integral values without a
//! fraction), bytes as base64.

use base64::Engine;

use super::golang;
use super::gotemplate::budget::Limit;
use super::gotemplate::value::{MAX_NESTING, Value};

/// Why a value cannot be encoded (Go's `json: unsupported value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    Unsupported(String),
    Limit(Limit),
}

impl From<Limit> for EncodeError {
    fn from(limit: Limit) -> EncodeError {
        EncodeError::Limit(limit)
    }
}

/// `json.Marshal(value)`.
pub fn encode(value: &Value) -> Result<String, EncodeError> {
    let mut out = String::new();
    write(&mut out, value, 0)?;
    Ok(out)
}

/// Go's float encoding: `'f'` notation, or `'e'` below 1e-6 and from 1e21, with `e-07` written
/// `e-7`.
pub fn float(f: f64) -> Result<String, EncodeError> {
    if !f.is_finite() {
        return Err(EncodeError::Unsupported(golang::format_float(f, false)));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = format!("{f:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let sign = if exponent < 0 { '-' } else { '+' };
        let digits = exponent.abs();
        return Ok(if exponent < 0 && digits < 10 {
            format!("{mantissa}e-{digits}")
        } else {
            format!("{mantissa}e{sign}{digits:02}")
        });
    }
    Ok(format!("{f}"))
}

/// A JSON string as Go writes it (HTML-safe).
pub fn string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write(out: &mut String, value: &Value, depth: usize) -> Result<(), EncodeError> {
    if depth > MAX_NESTING {
        return Err(Limit::Nesting.into());
    }
    match value {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&float(*f)?),
        Value::Str(s) => string(out, s),
        Value::Bytes(bytes) => string(
            out,
            &base64::engine::general_purpose::STANDARD.encode(bytes),
        ),
        Value::List(list) => {
            out.push('[');
            for (i, item) in list.items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item, depth + 1)?;
            }
            out.push(']');
        }
        Value::Map(map) => {
            out.push('{');
            for (i, (key, item)) in map.entries.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, key);
                out.push(':');
                write(out, item, depth + 1)?;
            }
            out.push('}');
        }
        Value::Object(object) => match object.data() {
            Some(data) => write(out, &data, depth + 1)?,
            None => {
                let mut text = String::new();
                object.format(&mut text);
                string(out, &text);
            }
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn floats_follow_go() {
        for (f, expected) in [
            (3.0, "3"),
            (1.5, "1.5"),
            (1e6, "1000000"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (1.5e-10, "1.5e-10"),
            (0.000001, "0.000001"),
            (-2.5, "-2.5"),
        ] {
            assert_eq!(float(f).unwrap(), expected, "{f}");
        }
        assert!(float(f64::NAN).is_err());
    }

    #[test]
    fn maps_are_sorted_and_strings_html_safe() {
        let value = Value::map(BTreeMap::from([
            ("b".into(), Value::list(vec![Value::Int(1), Value::Nil])),
            ("a".into(), Value::str("<x & y>\n")),
        ]));
        assert_eq!(
            encode(&value).unwrap(),
            r#"{"a":"\u003cx \u0026 y\u003e\n","b":[1,null]}"#
        );
    }
}
