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
    fn node(&self, style: Style) -> Node<'_>;
    fn each_item(&self, f: &mut dyn FnMut(&Self) -> Result<(), Limit>) -> Result<(), Limit>;
    fn each_entry(&self, f: &mut dyn FnMut(&str, &Self) -> Result<(), Limit>) -> Result<(), Limit>;
}

impl Tree for Value {
    fn node(&self, _: Style) -> Node<'_> {
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
/// whole floats as integers, bytes as base64, objects as the data they marshal to (their printed
/// form when they have none).
impl Tree for tv::Value {
    fn resolved(&self) -> Option<Self> {
        match self {
            tv::Value::Object(object) => Some(object.data().unwrap_or_else(|| {
                let mut text = String::new();
                object.format(&mut text);
                tv::Value::string(text)
            })),
            _ => None,
        }
    }

    fn node(&self, style: Style) -> Node<'_> {
        match self {
            tv::Value::Nil | tv::Value::Object(_) => Node::Null,
            tv::Value::Bool(b) => Node::Bool(*b),
            tv::Value::Int(i) | tv::Value::Int64(i) => Node::Int(*i),
            tv::Value::Float(f) if f.is_finite() => Node::Float(*f),
            tv::Value::Float(_) => Node::Null,
            tv::Value::Str(s) => Node::Str(Cow::Borrowed(s)),
            tv::Value::Bytes(b) => {
                use base64::Engine;
                Node::Str(Cow::Owned(
                    base64::engine::general_purpose::STANDARD.encode(b),
                ))
            }
            // A nil slice goes through JSON as null (sigs.k8s.io/yaml); go-yaml v3 writes [].
            tv::Value::List(list) if list.nil && style == Style::V2 => Node::Null,
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

/// Which Go encoder the output imitates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// go-yaml v2 through JSON (`toYaml`): sequences flush with their key, whole floats as
    /// integers, long scalars folded at libyaml's best width (80 columns).
    V2,
    /// go-yaml v3 with two-space indentation (`toYamlPretty`): sequences indented under their
    /// key, floats in Go's `%g`, no folding.
    V3,
}

/// libyaml's `best_width`: past this column a space in a scalar becomes a line break.
const BEST_WIDTH: usize = 80;

/// Serialises `value` the way `toYaml` does, without the final newline, charging `budget` as it
/// writes and ticking once per node.
pub fn write_yaml<T: Tree>(value: &T, budget: &Budget) -> Result<String, Limit> {
    write_styled(value, budget, Style::V2)
}

/// Serialises `value` the way `toYamlPretty` does (go-yaml v3, indent 2), without the final
/// newline.
pub fn write_yaml_pretty<T: Tree>(value: &T, budget: &Budget) -> Result<String, Limit> {
    write_styled(value, budget, Style::V3)
}

fn write_styled<T: Tree>(value: &T, budget: &Budget, style: Style) -> Result<String, Limit> {
    let mut text = String::new();
    let mut out = Text::new(&mut text, budget);
    write_top(&mut out, value, style)?;
    // Helm trims the encoder's final newline, one only.
    let end = out
        .as_str()
        .strip_suffix('\n')
        .map_or(out.as_str().len(), str::len);
    out.truncate(end);
    Ok(text)
}

fn write_top<T: Tree>(out: &mut Text<'_>, value: &T, style: Style) -> Result<(), Limit> {
    if let Some(resolved) = value.resolved() {
        return write_top(out, &resolved, style);
    }
    match value.node(style) {
        Node::Map => write_map(out, value, 0, 0, style),
        Node::Seq => write_seq(out, value, 0, 0, style),
        scalar => {
            inline(out, &scalar, 0, style)?;
            out.put("\n")
        }
    }
}

fn write_map<T: Tree>(
    out: &mut Text<'_>,
    map: &T,
    indent: usize,
    depth: usize,
    style: Style,
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
        // Keys are simple keys: never folded.
        string_scalar(out, key, indent, None)?;
        out.put(":")?;
        let resolved;
        let value = match value.resolved() {
            Some(v) => {
                resolved = v;
                &resolved
            }
            None => value,
        };
        match value.node(style) {
            Node::Map => {
                out.put("\n")?;
                out.repeat(' ', indent + 2)?;
                write_map(out, value, indent + 2, depth + 1, style)
            }
            Node::Seq => {
                let at = if style == Style::V3 {
                    indent + 2
                } else {
                    indent
                };
                out.put("\n")?;
                out.repeat(' ', at)?;
                write_seq(out, value, at, depth + 1, style)
            }
            scalar => {
                out.put(" ")?;
                inline(out, &scalar, indent + 2, style)?;
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
    style: Style,
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
        match item.node(style) {
            Node::Map => write_map(out, item, indent + 2, depth + 1, style),
            Node::Seq => write_seq(out, item, indent + 2, depth + 1, style),
            scalar => {
                inline(out, &scalar, indent + 2, style)?;
                out.put("\n")
            }
        }
    })
}

/// A scalar (or empty collection) on one line, or a literal block for multi-line strings;
/// `indent` is where folded lines continue.
fn inline(out: &mut Text<'_>, node: &Node<'_>, indent: usize, style: Style) -> Result<(), Limit> {
    match node {
        Node::Null => out.put("null"),
        Node::Bool(b) => out.put(if *b { "true" } else { "false" }),
        Node::Int(i) => out.put(&i.to_string()),
        Node::Uint(u) => out.put(&u.to_string()),
        // Through JSON, a whole float reads back as an integer.
        Node::Float(f) if style == Style::V2 && f.fract() == 0.0 && f.abs() < 9.2e18 => {
            out.put(&(*f as i64).to_string())
        }
        Node::Float(f) => out.put(&golang::format_float(*f, false)),
        Node::Str(s) => {
            let fold = (style == Style::V2).then_some(indent);
            string_scalar(out, s, indent, fold)
        }
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
    if is_timestamp(s) {
        return true;
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let plain_digits =
        |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if let Some(hex) = unsigned.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit() || b == b'_');
    }
    if let Some(octal) = unsigned.strip_prefix("0o") {
        return !octal.is_empty()
            && octal
                .bytes()
                .all(|b| (b'0'..=b'7').contains(&b) || b == b'_');
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

/// go-yaml v2's `parseTimestamp`: four digits and a dash, then one of its layouts.
fn is_timestamp(s: &str) -> bool {
    const LAYOUTS: [&str; 4] = [
        "2006-1-2T15:4:5.999999999Z07:00",
        "2006-1-2t15:4:5.999999999Z07:00",
        "2006-1-2 15:4:5.999999999",
        "2006-1-2",
    ];
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    digits == 4
        && s.as_bytes().get(4) == Some(&b'-')
        && LAYOUTS
            .iter()
            .any(|layout| crate::render::gotime::layout::parse(layout, s).is_ok())
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

/// A string scalar in the style libyaml's emitter picks; with `fold` (the indentation of
/// continuation lines), a space past the best width breaks the line as libyaml's does.
fn string_scalar(
    out: &mut Text<'_>,
    s: &str,
    indent: usize,
    fold: Option<usize>,
) -> Result<(), Limit> {
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
        return folded(out, &golang::quote(s), fold, Quoting::Double);
    }
    if plain_allowed(s) {
        return folded(out, s, fold, Quoting::Plain);
    }
    if s.chars().all(|c| !c.is_control()) {
        let quoted = format!("'{}'", s.replace('\'', "''"));
        out.budget().charge(quoted.len() as u64)?;
        return folded(out, &quoted, fold, Quoting::Single);
    }
    out.budget().charge(s.len() as u64)?;
    folded(out, &golang::quote(s), fold, Quoting::Double)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    Plain,
    Single,
    Double,
}

/// Writes a scalar's text (quotes included), breaking lines as libyaml's `write_plain_scalar`,
/// `write_single_quoted` and `write_double_quoted` do: at a space, when the column is past the
/// best width, the space is not the scalar's first or last character (quoted styles) and, but in
/// double quotes, not followed by another space. A double-quoted break before a space keeps it
/// with a backslash.
fn folded(
    out: &mut Text<'_>,
    text: &str,
    fold: Option<usize>,
    quoting: Quoting,
) -> Result<(), Limit> {
    let Some(indent) = fold else {
        return out.put(text);
    };
    let line_start = out.as_str().rfind('\n').map_or(0, |i| i + 1);
    let mut column = out.as_str()[line_start..].chars().count();
    if column + text.chars().count() <= BEST_WIDTH {
        return out.put(text);
    }
    let chars: Vec<char> = text.chars().collect();
    // The scalar's content, between the quotes.
    let (first, last) = match quoting {
        Quoting::Plain => (0, chars.len()),
        _ => (1, chars.len() - 1),
    };
    let mut line = String::new();
    let mut previous_space = false;
    for (i, &c) in chars.iter().enumerate() {
        let inside = i >= first && i < last;
        if inside && c == ' ' {
            let next_space = chars.get(i + 1) == Some(&' ');
            let breakable = !previous_space
                && column > BEST_WIDTH
                && match quoting {
                    Quoting::Plain => !next_space,
                    Quoting::Single => i != first && i != last - 1 && !next_space,
                    Quoting::Double => i != first && i != last - 1,
                };
            previous_space = true;
            if breakable {
                line.push('\n');
                line.extend(std::iter::repeat_n(' ', indent));
                column = indent;
                if quoting == Quoting::Double && next_space {
                    line.push('\\');
                    column += 1;
                }
                continue;
            }
        } else {
            previous_space = false;
        }
        line.push(c);
        column += 1;
    }
    out.put(&line)
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
            ("2024-01-01", "\"2024-01-01\""),
            ("2024-1-2 3:04:05", "\"2024-1-2 3:04:05\""),
            ("2024-01-01x", "2024-01-01x"),
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
