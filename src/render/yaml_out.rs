//! YAML output in the style of Helm's `toYaml` (go-yaml v2 through sigs.k8s.io/yaml): keys sorted,
//! two-space indentation, sequences not indented under their key, strings quoted only when they
//! would read as something else, multi-line strings as literal blocks.

use serde_json::Value;

use super::golang;

/// Serialises `value` the way `toYaml` does, without the final newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => out.push_str(&inline(scalar, 0)),
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn is_block(value: &Value) -> bool {
    matches!(value, Value::Object(m) if !m.is_empty())
        || matches!(value, Value::Array(a) if !a.is_empty())
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for (index, key) in keys.into_iter().enumerate() {
        if index > 0 {
            pad(out, indent);
        }
        let value = &map[key];
        out.push_str(&string_scalar(key, indent));
        out.push(':');
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                pad(out, indent + 2);
                write_map(out, inner, indent + 2);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                pad(out, indent);
                write_seq(out, items, indent);
            }
            scalar => {
                out.push(' ');
                out.push_str(&inline(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(inner) if !inner.is_empty() => write_map(out, inner, indent + 2),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, indent + 2),
            scalar => {
                out.push_str(&inline(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// A scalar (or empty collection) on one line, or a literal block for multi-line strings.
fn inline(value: &Value, indent: usize) -> String {
    debug_assert!(!is_block(value));
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (_, Some(u)) => u.to_string(),
            _ => golang::format_float(n.as_f64().unwrap_or(0.0), false),
        },
        Value::String(s) => string_scalar(s, indent),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

/// Whether YAML 1.1 (go-yaml v2) would read this plain scalar as something other than a string.
fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: [&str; 31] = [
        "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        ".inf", ".Inf", ".INF", ".nan", ".NaN",
    ];
    if WORDS.contains(&s)
        || matches!(
            s,
            "-.inf" | "-.Inf" | "-.INF" | "+.inf" | "+.Inf" | "+.INF" | ".NAN"
        )
    {
        return true;
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let plain_digits =
        |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if let Some(hex) = unsigned.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit() || b == b'_');
    }
    if let Some(bin) = unsigned.strip_prefix("0b") {
        return !bin.is_empty() && bin.bytes().all(|b| b == b'0' || b == b'1' || b == b'_');
    }
    if plain_digits(unsigned) {
        return true;
    }
    // Base-60 numbers such as 1:20 are floats in YAML 1.1.
    if unsigned.contains(':') && unsigned.split(':').all(plain_digits) {
        return true;
    }
    // Floats: digits with one dot and/or an exponent.
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            (whole.is_empty() || plain_digits(whole))
                && (fraction.is_empty() || plain_digits(fraction))
                && !(whole.is_empty() && fraction.is_empty())
        }
        None => plain_digits(mantissa),
    };
    let exponent_ok =
        exponent.is_none_or(|e| plain_digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

/// Whether libyaml's emitter may write `s` as a plain scalar.
fn plain_allowed(s: &str) -> bool {
    let first = s.chars().next().unwrap_or(' ');
    let last = s.chars().last().unwrap_or(' ');
    if first == ' ' || last == ' ' || first == '\t' || last == '\t' {
        return false;
    }
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && (s.len() == 1 || s[1..].starts_with([' ', '\t'])) {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.contains(":\t") {
        return false;
    }
    s.chars().all(|c| c == ' ' || !c.is_control())
}

fn string_scalar(s: &str, indent: usize) -> String {
    if s.is_empty() {
        return "\"\"".to_owned();
    }
    if s.contains('\n')
        && !s.starts_with([' ', '\t'])
        && s.chars().all(|c| c == '\n' || c == '\t' || !c.is_control())
    {
        return literal_block(s, indent);
    }
    if resolves_to_non_string(s) {
        return golang::quote(s);
    }
    if plain_allowed(s) {
        return s.to_owned();
    }
    if s.chars().all(|c| !c.is_control()) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    golang::quote(s)
}

fn literal_block(s: &str, indent: usize) -> String {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let body = if trailing == 1 {
        &s[..s.len() - 1]
    } else {
        s.trim_end_matches('\n')
    };
    let mut out = format!("|{chomp}");
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent.max(2)));
            out.push_str(line);
        }
    }
    if trailing > 1 {
        for _ in 1..trailing {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_like_helm_to_yaml() {
        let value = json!({
            "b": {"z": 1, "a": [1, "two", {"x": true, "w": null}]},
            "a": "plain",
            "empty": {},
            "list": [],
            "num": 1.5,
        });
        assert_eq!(
            to_yaml(&value),
            "a: plain\nb:\n  a:\n  - 1\n  - two\n  - w: null\n    x: true\n  z: 1\nempty: {}\nlist: []\nnum: 1.5"
        );
    }

    #[test]
    fn quotes_strings_that_would_read_as_something_else() {
        for (input, expected) in [
            ("yes", "\"yes\""),
            ("true", "\"true\""),
            ("8080", "\"8080\""),
            ("1.5", "\"1.5\""),
            ("1e3", "\"1e3\""),
            ("0x1F", "\"0x1F\""),
            ("~", "\"~\""),
            ("", "\"\""),
            ("a: b", "'a: b'"),
            ("#x", "'#x'"),
            ("it's", "it's"),
            ("- x", "'- x'"),
            ("192.168.0.0/16", "192.168.0.0/16"),
            ("3.24.6", "3.24.6"),
        ] {
            assert_eq!(to_yaml(&json!(input)), expected, "{input:?}");
        }
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        assert_eq!(to_yaml(&json!({"s": "a\nb"})), "s: |-\n  a\n  b");
        assert_eq!(to_yaml(&json!({"s": "a\nb\n"})), "s: |\n  a\n  b");
        assert_eq!(
            to_yaml(&json!({"m": {"s": "x\ny"}})),
            "m:\n  s: |-\n    x\n    y"
        );
    }

    #[test]
    fn scalars_and_nulls_at_the_top() {
        assert_eq!(to_yaml(&Value::Null), "null");
        assert_eq!(to_yaml(&json!(3)), "3");
        assert_eq!(to_yaml(&json!([])), "[]");
    }
}
