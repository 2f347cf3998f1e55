//! Validation of resolved values against `schema.yaml`: required, readonly, every format type, list
//! enums, regexes, number ranges, `ipv4`, `version`. Every violation is reported, with its path.

use std::net::{Ipv4Addr, Ipv6Addr};

use base64::Engine;
use serde::Serialize;
use serde_json::Value;

use super::cache::RegexCache;
use crate::pack::schema::{FormatPart, SchemaField, Slot, SlotType};

/// One failing value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

/// Every value a schema path names: `.$[]` segments stand for each item of a list.
fn values_at<'v>(root: &'v Value, name: &str) -> Vec<(String, Option<&'v Value>)> {
    let mut found: Vec<(String, Option<&Value>)> = vec![(String::new(), Some(root))];
    for segment in name.split('.').filter(|s| !s.is_empty()) {
        let mut next = Vec::new();
        for (path, value) in found {
            let join = |suffix: &str| {
                if path.is_empty() {
                    suffix.to_owned()
                } else {
                    format!("{path}.{suffix}")
                }
            };
            match (segment, value) {
                ("$[]", Some(Value::Array(items))) => {
                    next.extend(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| (format!("{path}[{i}]"), Some(item))),
                    );
                }
                ("$[]", _) => {}
                (key, Some(Value::Object(map))) => next.push((join(key), map.get(key))),
                (key, _) => next.push((join(key), None)),
            }
        }
        found = next;
    }
    found
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn is_version(text: &str) -> bool {
    crate::domain::Version::parse(text).is_ok()
}

/// Checks one piece of text against one placeholder; `None` when it fits.
fn check_slot(
    slot: &Slot,
    text: &str,
    value: Option<&Value>,
    regexes: &RegexCache,
) -> Option<String> {
    if let Some(pattern) = &slot.regex {
        return match regexes.get(pattern) {
            Some(re) if re.is_match(text) => None,
            Some(_) => Some(format!("must match /{pattern}/")),
            None => None,
        };
    }
    match &slot.kind {
        SlotType::String | SlotType::Password | SlotType::Input | SlotType::Unknown(_) => None,
        SlotType::Number => match text.trim().parse::<f64>() {
            Err(_) => Some("must be a number".to_owned()),
            Ok(n) => match slot.range {
                Some((low, high)) if n < low || n > high => {
                    Some(format!("must be between {low} and {high}"))
                }
                _ => None,
            },
        },
        SlotType::Boolean => {
            let is_bool =
                matches!(value, Some(Value::Bool(_))) || text == "true" || text == "false";
            (!is_bool).then(|| "must be true or false".to_owned())
        }
        SlotType::List => (!slot.options.iter().any(|o| o == text))
            .then(|| format!("must be one of {}", slot.options.join(", "))),
        SlotType::Ipv4 => text
            .parse::<Ipv4Addr>()
            .is_err()
            .then(|| "must be an IPv4 address".to_owned()),
        SlotType::Ipv6 => text
            .parse::<Ipv6Addr>()
            .is_err()
            .then(|| "must be an IPv6 address".to_owned()),
        SlotType::Ipv4cidr => {
            let ok = text.split_once('/').is_some_and(|(ip, bits)| {
                ip.parse::<Ipv4Addr>().is_ok()
                    && bits.parse::<u8>().is_ok_and(|b| b <= 32)
                    && !bits.starts_with('+')
            });
            (!ok).then(|| "must be an IPv4 CIDR such as 192.168.0.0/16".to_owned())
        }
        SlotType::Version => {
            (!is_version(text)).then(|| "must be a version such as 1.2.3".to_owned())
        }
        SlotType::Base64 => base64::engine::general_purpose::STANDARD
            .decode(text)
            .is_err()
            .then(|| "must be base64".to_owned()),
    }
}

/// Checks a value against a whole format: one placeholder directly, several by splitting the text
/// on the literal parts between them.
fn check_format(field: &SchemaField, value: &Value, regexes: &RegexCache) -> Option<String> {
    if field.parts.is_empty() {
        return None;
    }
    let Some(text) = scalar_text(value) else {
        return Some(format!(
            "must be a single value in the format {}",
            field.format
        ));
    };
    if let Some(slot) = field.single_slot() {
        return check_slot(slot, &text, Some(value), regexes);
    }
    let mut pattern = String::from("^");
    let mut slots = Vec::new();
    for part in &field.parts {
        match part {
            FormatPart::Literal(literal) => pattern.push_str(&regex::escape(literal)),
            FormatPart::Slot(slot) => {
                pattern.push_str("(.*?)");
                slots.push(slot);
            }
        }
    }
    pattern.push('$');
    let mismatch = || Some(format!("must have the format {}", field.format));
    let re = regexes.get(&pattern)?;
    let Some(captures) = re.captures(&text) else {
        return mismatch();
    };
    for (index, slot) in slots.iter().enumerate() {
        let piece = captures.get(index + 1).map_or("", |m| m.as_str());
        if piece.is_empty() || check_slot(slot, piece, None, regexes).is_some() {
            return mismatch();
        }
    }
    None
}

fn is_missing(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    }
}

/// Validates `values`. `defaults` are the values the pack itself resolves to (read-only values must
/// keep them).
pub fn validate(
    values: &Value,
    defaults: &Value,
    schema: &[SchemaField],
    regexes: &RegexCache,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    for field in schema {
        for (path, value) in values_at(values, &field.name) {
            let mut fail = |message: String| {
                violations.push(Violation {
                    path: path.clone(),
                    message,
                })
            };
            if is_missing(value) {
                if field.required {
                    fail("is required".to_owned());
                }
                continue;
            }
            let Some(value) = value else { continue };
            if field.readonly {
                let default = values_at(defaults, &field.name)
                    .into_iter()
                    .find(|(p, _)| *p == path)
                    .and_then(|(_, v)| v);
                if default != Some(value) {
                    fail("is read-only and cannot be changed".to_owned());
                    continue;
                }
            }
            if let Some(message) = check_format(field, value, regexes) {
                fail(message);
            }
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::schema::parse_pipeline;
    use serde_json::json;

    fn field(name: &str, pipeline: &str) -> SchemaField {
        parse_pipeline(name, pipeline).unwrap().0
    }

    fn paths(violations: &[Violation]) -> Vec<&str> {
        violations.iter().map(|v| v.path.as_str()).collect()
    }

    #[test]
    fn checks_every_format_type() {
        let schema = vec![
            field(
                "m.list",
                r#"{{ required | format "${list:[Always,Never]}" }}"#,
            ),
            field("m.num", r#"{{ format "${number:[1-10]}" }}"#),
            field("m.bool", r#"{{ format "${boolean}" }}"#),
            field("m.ip", r#"{{ format "${ipv4}" }}"#),
            field("m.cidr", r#"{{ format "${ipv4}/${number:[0-32]}" }}"#),
            field("m.version", r#"{{ format "${version}" }}"#),
            field("m.re", r#"{{ format "${string:/^[a-z]+$/}" }}"#),
            field("m.req", r#"{{ required | format "${string}" }}"#),
        ];
        let good = json!({"m": {"list": "Always", "num": 5, "bool": true, "ip": "10.0.0.1", "cidr": "10.0.0.0/8", "version": "1.2.3", "re": "abc", "req": "x"}});
        assert_eq!(
            validate(&good, &good, &schema, &RegexCache::default()),
            vec![]
        );
        let bad = json!({"m": {"list": "Sometimes", "num": 11, "bool": "maybe", "ip": "10.0.0.300", "cidr": "10.0.0.0/33", "version": "latest", "re": "ABC", "req": ""}});
        let violations = validate(&bad, &good, &schema, &RegexCache::default());
        assert_eq!(
            paths(&violations),
            [
                "m.list",
                "m.num",
                "m.bool",
                "m.ip",
                "m.cidr",
                "m.version",
                "m.re",
                "m.req"
            ]
        );
        assert!(violations[0].message.contains("Always, Never"));
    }

    #[test]
    fn required_readonly_and_list_items() {
        let schema = vec![
            field("a.fixed", r#"{{ readonly | format "${string}" }}"#),
            field("a.items.$[].port", r#"{{ required | format "${number}" }}"#),
        ];
        let defaults = json!({"a": {"fixed": "aws", "items": []}});
        let values = json!({"a": {"fixed": "azure", "items": [{"port": 80}, {"port": "x"}, {}]}});
        let violations = validate(&values, &defaults, &schema, &RegexCache::default());
        assert_eq!(
            paths(&violations),
            ["a.fixed", "a.items[1].port", "a.items[2].port"]
        );
    }
}
