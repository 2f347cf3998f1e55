//! Go's `encoding/json` for template values, as Helm's `toJson` writes them: map keys sorted, HTML
//! characters escaped, floats in Go's notation (`1e+21`, `1e-7`, integral values without a
//! fraction), bytes as base64.

use base64::Engine;

use super::golang;
use super::gotemplate::budget::{Budget, Limit, Text};
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

/// `json.Marshal(value)`, charged to `budget` as it is written.
pub fn encode(value: &Value, budget: &Budget) -> Result<String, EncodeError> {
    let mut out = String::new();
    write(&mut Text::new(&mut out, budget), value, 0)?;
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

fn needs_escape(c: char) -> bool {
    matches!(c, '"' | '\\' | '<' | '>' | '&' | '\u{2028}' | '\u{2029}') || (c as u32) < 0x20
}

fn escaped(c: char) -> std::borrow::Cow<'static, str> {
    std::borrow::Cow::Borrowed(match c {
        '"' => "\\\"",
        '\\' => "\\\\",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        '\u{8}' => "\\b",
        '\u{c}' => "\\f",
        '<' => "\\u003c",
        '>' => "\\u003e",
        '&' => "\\u0026",
        '\u{2028}' => "\\u2028",
        '\u{2029}' => "\\u2029",
        c => return std::borrow::Cow::Owned(format!("\\u{:04x}", c as u32)),
    })
}

/// A JSON string as Go writes it (HTML-safe), piece by piece under the budget.
fn charged_string(out: &mut Text<'_>, text: &str) -> Result<(), Limit> {
    out.put("\"")?;
    let mut rest = text;
    while let Some(i) = rest.find(needs_escape) {
        out.put(&rest[..i])?;
        let c = rest[i..].chars().next().unwrap_or_default();
        out.put(&escaped(c))?;
        rest = &rest[i + c.len_utf8()..];
    }
    out.put(rest)?;
    out.put("\"")
}

fn write(out: &mut Text<'_>, value: &Value, depth: usize) -> Result<(), EncodeError> {
    if depth > MAX_NESTING {
        return Err(Limit::Nesting.into());
    }
    match value {
        Value::Nil => out.put("null")?,
        Value::Bool(b) => out.put(if *b { "true" } else { "false" })?,
        Value::Int(i) | Value::Int64(i) => out.put(&i.to_string())?,
        Value::Float(f) => out.put(&float(*f)?)?,
        Value::Str(s) => charged_string(out, s)?,
        Value::Bytes(bytes) => {
            out.budget().charge(bytes.len() as u64 * 4 / 3 + 4)?;
            charged_string(
                out,
                &base64::engine::general_purpose::STANDARD.encode(bytes),
            )?;
        }
        Value::List(list) if list.nil => out.put("null")?,
        Value::List(list) => {
            out.put("[")?;
            for (i, item) in list.items.iter().enumerate() {
                if i > 0 {
                    out.put(",")?;
                }
                write(out, item, depth + 1)?;
            }
            out.put("]")?;
        }
        Value::Map(map) => {
            out.put("{")?;
            for (i, (key, item)) in map.entries.borrow().iter().enumerate() {
                if i > 0 {
                    out.put(",")?;
                }
                charged_string(out, key)?;
                out.put(":")?;
                write(out, item, depth + 1)?;
            }
            out.put("}")?;
        }
        Value::Object(object) => match object.data() {
            Some(data) => write(out, &data, depth + 1)?,
            None => {
                let mut text = String::new();
                object.format(&mut text);
                charged_string(out, &text)?;
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
            encode(&value, &Budget::unlimited()).unwrap(),
            r#"{"a":"\u003cx \u0026 y\u003e\n","b":[1,null]}"#
        );
    }
}
