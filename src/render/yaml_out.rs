//! YAML output in the style of Helm's `toYaml` (go-yaml v2 through sigs.k8s.io/yaml): keys sorted,
//! two-space indentation, sequences not indented under their key, strings quoted only when they
//! would read as something else, multi-line strings as literal blocks.
//!
//! One writer serves JSON documents and template values alike ([`Tree`]), and writes through a
//! budgeted [`Text`]: a template value that shares structure expands as it is written, so the
//! output is charged piece by piece and stops at the budget rather than after it is built.

use std::borrow::Cow;

use serde_json::Value;

use super::golang;
use super::gotemplate::budget::{Budget, Limit, Text};
use super::gotemplate::value::{self as tv, MAX_NESTING};

/// A node as the writer sees it.
pub enum Node<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(Cow<'a, str>),
    /// A list with at least one item.
    Seq,
    /// A map with at least one entry.
    Map,
    EmptySeq,
    EmptyMap,
}

/// What the writer needs of a tree: each node's kind, then the items or entries (keys in sorted
/// order) of the collections.
pub trait Tree: Sized {
    /// Another tree to write in this one's place (template objects write their data).
    fn resolved(&self) -> Option<Self> {
        None
    }
    fn node(&self) -> Node<'_>;
    fn each_item(&self, f: &mut dyn FnMut(&Self) -> Result<(), Limit>) -> Result<(), Limit>;
    fn each_entry(&self, f: &mut dyn FnMut(&str, &Self) -> Result<(), Limit>) -> Result<(), Limit>;
}

impl Tree for Value {
    fn node(&self) -> Node<'_> {
        match self {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Node::Int(i),
                (_, Some(u)) => Node::Uint(u),
                _ => Node::Float(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => Node::Str(Cow::Borrowed(s)),
            Value::Array(items) if items.is_empty() => Node::EmptySeq,
            Value::Array(_) => Node::Seq,
            Value::Object(map) if map.is_empty() => Node::EmptyMap,
            Value::Object(_) => Node::Map,
        }
    }

    fn each_item(&self, f: &mut dyn FnMut(&Self) -> Result<(), Limit>) -> Result<(), Limit> {
        if let Value::Array(items) = self {
            items.iter().try_for_each(f)?;
        }
        Ok(())
    }

    fn each_entry(&self, f: &mut dyn FnMut(&str, &Self) -> Result<(), Limit>) -> Result<(), Limit> {
        if let Value::Object(map) = self {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for key in keys {
                f(key, &map[key])?;
            }
        }
        Ok(())
    }
}

/// Template values write as their JSON encoding reads (what `toYaml` marshals through JSON):
/// whole floats as integers, bytes as base64, objects as their printed form.
impl Tree for tv::Value {
    fn resolved(&self) -> Option<Self> {
        match self {
            tv::Value::Object(object) => {
                let mut text = String::new();
                object.format(&mut text);
                Some(tv::Value::string(text))
            }
            _ => None,
        }
    }

    fn node(&self) -> Node<'_> {
        match self {
            tv::Value::Nil | tv::Value::Object(_) => Node::Null,
            tv::Value::Bool(b) => Node::Bool(*b),
            tv::Value::Int(i) | tv::Value::Int64(i) => Node::Int(*i),
            tv::Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Node::Int(*f as i64),
            tv::Value::Float(f) if f.is_finite() => Node::Float(*f),
            tv::Value::Float(_) => Node::Null,
            tv::Value::Str(s) => Node::Str(Cow::Borrowed(s)),
            tv::Value::Bytes(b) => {
                use base64::Engine;
                Node::Str(Cow::Owned(
                    base64::engine::general_purpose::STANDARD.encode(b),
                ))
            }
            tv::Value::List(list) if list.items.is_empty() => Node::EmptySeq,
            tv::Value::List(_) => Node::Seq,
            tv::Value::Map(map) if map.entries.borrow().is_empty() => Node::EmptyMap,
            tv::Value::Map(_) => Node::Map,
        }
    }

    fn each_item(&self, f: &mut dyn FnMut(&Self) -> Result<(), Limit>) -> Result<(), Limit> {
        if let tv::Value::List(list) = self {
            list.items.iter().try_for_each(f)?;
        }
        Ok(())
    }

    fn each_entry(&self, f: &mut dyn FnMut(&str, &Self) -> Result<(), Limit>) -> Result<(), Limit> {
        if let tv::Value::Map(map) = self {
            for (key, value) in map.entries.borrow().iter() {
                f(key, value)?;
            }
        }
        Ok(())
    }
}

/// Serialises `value` the way `toYaml` does, without the final newline.
pub fn to_yaml(value: &Value) -> String {
    // An unlimited budget refuses nothing but nesting, which JSON documents here never reach.
    write_yaml(value, &Budget::unlimited()).unwrap_or_default()
}

/// Serialises `value` the way `toYaml` does, without the final newline, charging `budget` as it
/// writes and ticking once per node.
pub fn write_yaml<T: Tree>(value: &T, budget: &Budget) -> Result<String, Limit> {
    let mut text = String::new();
    let mut out = Text::new(&mut text, budget);
    write_top(&mut out, value)?;
    let end = out.as_str().trim_end_matches('\n').len();
    out.truncate(end);
    Ok(text)
}

fn write_top<T: Tree>(out: &mut Text<'_>, value: &T) -> Result<(), Limit> {
    if let Some(resolved) = value.resolved() {
        return write_top(out, &resolved);
    }
    match value.node() {
        Node::Map => write_map(out, value, 0, 0),
        Node::Seq => write_seq(out, value, 0, 0),
        scalar => inline(out, &scalar, 0),
    }
}

fn write_map<T: Tree>(
    out: &mut Text<'_>,
    map: &T,
    indent: usize,
    depth: usize,
) -> Result<(), Limit> {
    if depth > MAX_NESTING {
        return Err(Limit::Nesting);
    }
    let mut first = true;
    map.each_entry(&mut |key, value| {
        out.budget().tick()?;
        if !first {
            out.repeat(' ', indent)?;
        }
        first = false;
        string_scalar(out, key, indent)?;
        out.put(":")?;
        let resolved;
        let value = match value.resolved() {
            Some(v) => {
                resolved = v;
                &resolved
            }
            None => value,
        };
        match value.node() {
            Node::Map => {
                out.put("\n")?;
                out.repeat(' ', indent + 2)?;
                write_map(out, value, indent + 2, depth + 1)
            }
            Node::Seq => {
                out.put("\n")?;
                out.repeat(' ', indent)?;
                write_seq(out, value, indent, depth + 1)
            }
            scalar => {
                out.put(" ")?;
                inline(out, &scalar, indent + 2)?;
                out.put("\n")
            }
        }
    })
}

fn write_seq<T: Tree>(
    out: &mut Text<'_>,
    seq: &T,
    indent: usize,
    depth: usize,
) -> Result<(), Limit> {
    if depth > MAX_NESTING {
        return Err(Limit::Nesting);
    }
    let mut first = true;
    seq.each_item(&mut |item| {
        out.budget().tick()?;
        if !first {
            out.repeat(' ', indent)?;
        }
        first = false;
        out.put("- ")?;
        let resolved;
        let item = match item.resolved() {
            Some(v) => {
                resolved = v;
                &resolved
            }
            None => item,
        };
        match item.node() {
            Node::Map => write_map(out, item, indent + 2, depth + 1),
            Node::Seq => write_seq(out, item, indent + 2, depth + 1),
            scalar => {
                inline(out, &scalar, indent + 2)?;
                out.put("\n")
            }
        }
    })
}

/// A scalar (or empty collection) on one line, or a literal block for multi-line strings.
fn inline(out: &mut Text<'_>, node: &Node<'_>, indent: usize) -> Result<(), Limit> {
    match node {
        Node::Null => out.put("null"),
        Node::Bool(b) => out.put(if *b { "true" } else { "false" }),
        Node::Int(i) => out.put(&i.to_string()),
        Node::Uint(u) => out.put(&u.to_string()),
        Node::Float(f) => out.put(&golang::format_float(*f, false)),
        Node::Str(s) => string_scalar(out, s, indent),
        Node::EmptySeq | Node::Seq => out.put("[]"),
        Node::EmptyMap | Node::Map => out.put("{}"),
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

fn string_scalar(out: &mut Text<'_>, s: &str, indent: usize) -> Result<(), Limit> {
    if s.is_empty() {
        return out.put("\"\"");
    }
    if s.contains('\n')
        && !s.starts_with([' ', '\t'])
        && s.chars().all(|c| c == '\n' || c == '\t' || !c.is_control())
    {
        return literal_block(out, s, indent);
    }
    if resolves_to_non_string(s) {
        out.budget().charge(s.len() as u64)?;
        return out.put(&golang::quote(s));
    }
    if plain_allowed(s) {
        return out.put(s);
    }
    if s.chars().all(|c| !c.is_control()) {
        out.put("'")?;
        for (i, part) in s.split('\'').enumerate() {
            if i > 0 {
                out.put("''")?;
            }
            out.put(part)?;
        }
        return out.put("'");
    }
    out.budget().charge(s.len() as u64)?;
    out.put(&golang::quote(s))
}

fn literal_block(out: &mut Text<'_>, s: &str, indent: usize) -> Result<(), Limit> {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    out.put(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    })?;
    let body = if trailing == 1 {
        &s[..s.len() - 1]
    } else {
        s.trim_end_matches('\n')
    };
    for line in body.split('\n') {
        out.put("\n")?;
        if !line.is_empty() {
            out.repeat(' ', indent.max(2))?;
            out.put(line)?;
        }
    }
    if trailing > 1 {
        out.repeat('\n', trailing - 1)?;
    }
    Ok(())
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
    fn template_values_write_as_their_json() {
        let value = tv::from_json(
            &json!({"b": [1, "two", {"x": 2.5}], "a": "x\ny", "z": null}),
            tv::Numbers::Float64,
        );
        assert_eq!(
            write_yaml(&value, &Budget::unlimited()).unwrap(),
            "a: |-\n  x\n  y\nb:\n- 1\n- two\n- x: 2.5\nz: null"
        );
    }

    #[test]
    fn shared_structure_stops_at_the_budget() {
        let mut value = tv::Value::list(vec![tv::Value::str("leaf")]);
        for _ in 0..40 {
            value = tv::Value::list(vec![value.clone(), value]);
        }
        let budget = Budget::new(crate::render::gotemplate::Limits {
            max_bytes: 1 << 20,
            timeout: std::time::Duration::from_secs(10),
        });
        assert_eq!(write_yaml(&value, &budget), Err(Limit::Output(1 << 20)));
    }

    #[test]
    fn scalars_and_nulls_at_the_top() {
        assert_eq!(to_yaml(&Value::Null), "null");
        assert_eq!(to_yaml(&json!(3)), "3");
        assert_eq!(to_yaml(&json!([])), "[]");
    }
}
