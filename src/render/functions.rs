//! The functions a template may call besides Go's builtins: Sprig's and Helm's, with their exact
//! behaviours (TEMPLATES.md) and signatures. Every function that builds text or collections
//! charges the render's budget for its result before allocating it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use sha2::{Digest as _, Sha256};

use super::gotemplate::funcs::{FuncError, FuncMap, FuncResult, error};
use super::gotemplate::value::{ListKind, MapKind, Str, Ty, Value};
use super::gotemplate::{Budget, Exec, Text, builtins, gofmt};
use super::{go_json, golang, goregex, yaml_out};

/// Go's builtins, as the engine provides them.
pub const GO_BUILTINS: &[&str] = builtins::NAMES;

const A: Ty = Ty::Any;
const S: Ty = Ty::String;
const I: Ty = Ty::Int;
const B: Ty = Ty::Bool;
const M: Ty = Ty::Map;

/// Sprig's `strval`: strings as they are, bytes as text, everything else as Go's `%v` (charged to
/// `budget` as it is printed).
pub fn strval<'v>(value: &'v Value, budget: &Budget) -> Result<Cow<'v, str>, FuncError> {
    Ok(match value {
        Value::Str(s) => Cow::Borrowed(s),
        Value::Bytes(b) => {
            budget.charge(b.len() as u64)?;
            String::from_utf8_lossy(b)
        }
        other => Cow::Owned(gofmt::to_string(other, budget)?),
    })
}

/// `strval` appended to `out`.
pub(crate) fn write_strval(out: &mut Text<'_>, value: &Value) -> Result<(), FuncError> {
    match value {
        Value::Str(s) => out.put(s)?,
        Value::Bytes(b) => out.put(&String::from_utf8_lossy(b))?,
        other => gofmt::write_value(out, other)?,
    }
    Ok(())
}

/// Sprig's `empty`: nil, false, 0, "" and empty collections (structs are never empty).
pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::Object(_) => false,
        other => !other.truth(),
    }
}

pub(crate) fn arg_str(args: &[Value], i: usize) -> &str {
    args[i].as_str().unwrap_or_default()
}

pub(crate) fn arg_int(args: &[Value], i: usize) -> i64 {
    args[i].as_int().unwrap_or_default()
}

/// Charges what parsing the document `text` (JSON, YAML or TOML) into values may hold: its length
/// and, per node it can hold at most (a node needs a separator before it: `,` `:` `[` `{` `-` `=`
/// or a newline), the parsed node and the template value made from it.
pub(crate) fn charge_document(budget: &Budget, text: &str) -> Result<(), super::gotemplate::Limit> {
    let separators = text
        .bytes()
        .filter(|b| matches!(b, b',' | b':' | b'[' | b'{' | b'-' | b'=' | b'\n'))
        .count() as u64;
    budget
        .charge((text.len() as u64).saturating_add(separators.saturating_add(1).saturating_mul(64)))
}

/// Charges `bytes` and builds the string.
pub(crate) fn charged(exec: &Exec<'_>, text: String) -> FuncResult {
    exec.budget.charge(text.len() as u64)?;
    Ok(Value::string(text))
}

/// The non-nil arguments, each as `wrap` shows its `strval`, separated by spaces.
fn joined_args(exec: &Exec<'_>, args: &[Value], wrap: fn(&str) -> String) -> FuncResult {
    let mut text = String::new();
    let mut out = Text::new(&mut text, exec.budget);
    for (i, arg) in args.iter().filter(|v| !v.is_nil()).enumerate() {
        if i > 0 {
            out.put(" ")?;
        }
        let plain = strval(arg, exec.budget)?;
        out.put(&wrap(&plain))?;
    }
    Ok(Value::string(text))
}

fn quote(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    joined_args(exec, &args, golang::quote)
}

fn squote(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    joined_args(exec, &args, |s| format!("'{s}'"))
}

fn default(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    match args.get(1) {
        Some(given) if !is_empty(given) => Ok(given.clone()),
        _ => Ok(args[0].clone()),
    }
}

fn required(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let missing = match &args[1] {
        Value::Nil => true,
        Value::Str(s) => s.is_empty(),
        _ => false,
    };
    if missing {
        return Err(FuncError::Fail(arg_str(&args, 0).to_owned()));
    }
    Ok(args[1].clone())
}

fn fail(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    Err(FuncError::Fail(arg_str(&args, 0).to_owned()))
}

fn to_yaml(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(yaml_out::write_yaml(&args[0], exec.budget)?))
}

fn to_json(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    match go_json::encode(&args[0], exec.budget) {
        Ok(text) => Ok(Value::string(text)),
        Err(go_json::EncodeError::Limit(limit)) => Err(limit.into()),
        // Helm's toJson answers "" when the value cannot be encoded.
        Err(go_json::EncodeError::Unsupported(_)) => Ok(Value::str("")),
    }
}

fn from_yaml(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let text = arg_str(&args, 0);
    charge_document(exec.budget, text)?;
    let mut ignored = Vec::new();
    let numbers = exec.numbers;
    // Like Helm: a document that does not parse yields a map with an Error key.
    Ok(match parse_helm_yaml(text, &mut ignored) {
        Ok(json @ serde_json::Value::Object(_)) => {
            super::gotemplate::value::from_json(&json, numbers)
        }
        Ok(serde_json::Value::Null) => Value::empty_map(),
        Ok(other) => error_map(&format!(
            "error unmarshaling JSON: while decoding JSON: {}",
            super::go_json_errors::type_error(&other, "map[string]interface {}")
        )),
        Err(e) => error_map(&e),
    })
}

/// A document as Helm's `fromYaml` reads it (sigs.k8s.io/yaml): libyaml's reader refuses control
/// characters before it parses anything; a syntax error is framed as Helm frames it, in packyard's
/// parser's words (libyaml's scanner messages are not ported).
pub(crate) fn parse_helm_yaml(
    text: &str,
    findings: &mut Vec<crate::pack::lint::Finding>,
) -> std::result::Result<serde_json::Value, String> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}')
            || matches!(c as u32, 0xE000..=0xFFFD | 0x1_0000..)
    };
    if !text.chars().all(allowed) {
        return Err(
            "error converting YAML to JSON: yaml: control characters are not allowed".to_owned(),
        );
    }
    crate::pack::yaml::parse(text, "fromYaml", findings)
        .map_err(|e| format!("error converting YAML to JSON: yaml: {}", e.message))
}

fn error_map(message: &str) -> Value {
    Value::map(BTreeMap::from([(Str::from("Error"), Value::str(message))]))
}

/// `text` with `spaces` before every line, after `lead`.
fn indent_text(exec: &Exec<'_>, spaces: i64, text: &str, lead: &str) -> Result<String, FuncError> {
    let spaces = usize::try_from(spaces).map_err(|_| error("strings: negative Repeat count"))?;
    let lines = text.bytes().filter(|b| *b == b'\n').count() as u64 + 1;
    exec.budget.charge(
        (spaces as u64)
            .saturating_mul(lines)
            .saturating_add(text.len() as u64),
    )?;
    let pad = " ".repeat(spaces);
    let mut out = String::with_capacity(lead.len() + text.len() + spaces * lines as usize);
    out.push_str(lead);
    out.push_str(&pad);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&pad);
        }
        out.push_str(line);
    }
    Ok(out)
}

fn indent(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(indent_text(
        exec,
        arg_int(&args, 0),
        arg_str(&args, 1),
        "",
    )?))
}

fn nindent(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let text = indent_text(exec, arg_int(&args, 0), arg_str(&args, 1), "\n")?;
    Ok(Value::string(text))
}

/// Go's deprecated `strings.Title`: upper-case the first letter of every word; words are
/// separated by anything but letters, digits and `_`.
fn title(text: &str) -> String {
    let is_separator = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !(c.is_alphabetic() || c.is_numeric()) && c.is_whitespace()
        }
    };
    let mut out = String::with_capacity(text.len());
    let mut previous_separates = true;
    for c in text.chars() {
        if previous_separates {
            out.push(super::sprig::cases::upper_rune(c));
        } else {
            out.push(c);
        }
        previous_separates = is_separator(c);
    }
    out
}

fn one_string(exec: &mut Exec<'_>, args: &[Value], f: fn(&str) -> String) -> FuncResult {
    let text = arg_str(args, 0);
    exec.budget.charge(text.len() as u64)?;
    Ok(Value::string(f(text)))
}

fn replace(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let (old, new, src) = (arg_str(&args, 0), arg_str(&args, 1), arg_str(&args, 2));
    let count = if old.is_empty() {
        src.chars().count() + 1
    } else {
        src.matches(old).count()
    };
    let size = src.len() as u64 + (count as u64).saturating_mul(new.len() as u64);
    exec.budget.charge(size)?;
    Ok(Value::string(src.replace(old, new)))
}

/// Sprig's `split` returns a map `_0`, `_1`, ... (use `splitList` for a list).
fn split(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let (separator, text) = (arg_str(&args, 0), arg_str(&args, 1));
    exec.budget
        .charge(text.len() as u64 + split_count(text, separator) as u64 * 64)?;
    let map: BTreeMap<Str, Value> = go_split(text, separator)
        .enumerate()
        .map(|(i, part)| (Str::from(format!("_{i}").as_str()), Value::str(part)))
        .collect();
    Ok(Value::typed_map(MapKind::String, map))
}

/// How many parts Go's `strings.Split` makes (counted before they are made).
pub(crate) fn split_count(text: &str, separator: &str) -> usize {
    if separator.is_empty() {
        text.chars().count()
    } else {
        text.matches(separator).count() + 1
    }
}

/// Go's `strings.Split`: an empty separator splits after each character.
pub(crate) fn go_split<'t>(
    text: &'t str,
    separator: &'t str,
) -> Box<dyn Iterator<Item = &'t str> + 't> {
    if separator.is_empty() {
        return Box::new(text.char_indices().map(|(i, c)| &text[i..i + c.len_utf8()]));
    }
    Box::new(text.split(separator))
}

fn split_list(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let (separator, text) = (arg_str(&args, 0), arg_str(&args, 1));
    exec.budget
        .charge(text.len() as u64 + split_count(text, separator) as u64 * 32)?;
    Ok(Value::typed_list(
        ListKind::String,
        go_split(text, separator).map(Value::str).collect(),
    ))
}

/// Sprig's `join`: the strings of a list (nils skipped; `strslice`), or the value as one string,
/// written out as they are joined.
fn join(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let separator = arg_str(&args, 0);
    let mut text = String::new();
    let mut out = Text::new(&mut text, exec.budget);
    match &args[1] {
        Value::List(list) => {
            for (i, item) in list.items.iter().filter(|v| !v.is_nil()).enumerate() {
                if i > 0 {
                    out.put(separator)?;
                }
                write_strval(&mut out, item)?;
            }
        }
        Value::Nil => {}
        other => write_strval(&mut out, other)?,
    }
    Ok(Value::string(text))
}

fn list(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    exec.budget.charge(args.len() as u64 * 32 + 32)?;
    Ok(Value::list(args))
}

fn dict(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    exec.budget.charge(args.len() as u64 * 32 + 32)?;
    let mut map = BTreeMap::new();
    for pair in args.chunks(2) {
        let key = strval(&pair[0], exec.budget)?;
        let value = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
        map.insert(Str::from(&*key), value);
    }
    Ok(Value::map(map))
}

fn has_key(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    Ok(Value::Bool(match &args[0] {
        Value::Map(map) => map.entries.borrow().contains_key(arg_str(&args, 1)),
        _ => false,
    }))
}

/// The keys of one or more maps, map after map in argument order; within a map sorted (Go's order
/// is random; sorted is the stable choice).
fn keys(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let count: usize = args
        .iter()
        .map(|arg| match arg {
            Value::Map(map) => map.entries.borrow().len(),
            _ => 0,
        })
        .sum();
    exec.budget.charge(count as u64 * 32)?;
    let mut found: Vec<Str> = Vec::with_capacity(count);
    for arg in &args {
        if let Value::Map(map) = arg {
            found.extend(map.entries.borrow().keys().cloned());
        }
    }
    exec.budget.work(u32::try_from(count).unwrap_or(u32::MAX))?;
    Ok(Value::typed_list(
        ListKind::String,
        found.into_iter().map(Value::Str).collect(),
    ))
}

fn b64dec(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let text = arg_str(&args, 0);
    exec.budget.charge(text.len() as u64)?;
    // Like Sprig: a decoding error becomes the result text.
    Ok(match golang::base64_decode(text) {
        Ok(bytes) => Value::string(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) => Value::string(e),
    })
}

fn sha256sum(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(hex::encode(Sha256::digest(
        arg_str(&args, 0).as_bytes(),
    ))))
}

/// Masterminds semver constraints (see [`super::semver`]).
pub fn semver_matches(constraint: &str, version: &str) -> std::result::Result<bool, String> {
    super::semver::matches(constraint, version)
}

fn semver_compare(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    semver_matches(arg_str(&args, 0), arg_str(&args, 1))
        .map(Value::Bool)
        .map_err(error)
}

/// Byte slicing as Go does it: a cut inside a character keeps the valid part.
fn byte_slice(text: &str, start: usize, end: usize) -> String {
    match text.get(start..end) {
        Some(part) => part.to_owned(),
        None => String::from_utf8_lossy(&text.as_bytes()[start..end]).into_owned(),
    }
}

/// Sprig's `substr start end s` (byte offsets): a negative start means from 0 to end, a negative
/// or too large end means to the end.
fn substr(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let (start, end, text) = (arg_int(&args, 0), arg_int(&args, 1), arg_str(&args, 2));
    let len = text.len() as i64;
    // Go's runtime panics for the slice expression Sprig evaluates.
    let out_of_range =
        |bounds: String| error(format!("runtime error: slice bounds out of range {bounds}"));
    let result = if start < 0 {
        // s[:end]
        if end < 0 {
            return Err(out_of_range(format!("[:{end}]")));
        }
        if end > len {
            return Err(out_of_range(format!("[:{end}] with length {len}")));
        }
        byte_slice(text, 0, end as usize)
    } else if end < 0 || end > len {
        // s[start:]
        if start > len {
            return Err(out_of_range(format!("[{start}:{len}]")));
        }
        byte_slice(text, start as usize, len as usize)
    } else {
        if start > end {
            return Err(out_of_range(format!("[{start}:{end}]")));
        }
        byte_slice(text, start as usize, end as usize)
    };
    Ok(Value::string(result))
}

/// Sprig's `trunc c s` (bytes): the first c, or with a negative c the last -c.
fn trunc(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let (c, text) = (arg_int(&args, 0), arg_str(&args, 1));
    let len = text.len() as i64;
    Ok(Value::string(if c < 0 && len + c > 0 {
        byte_slice(text, (len + c) as usize, len as usize)
    } else if c >= 0 && len > c {
        byte_slice(text, 0, c as usize)
    } else {
        text.to_owned()
    }))
}

fn repeat(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    let (count, text) = (arg_int(&args, 0), arg_str(&args, 1));
    let count = usize::try_from(count).map_err(|_| error("strings: negative Repeat count"))?;
    exec.budget
        .charge((text.len() as u64).saturating_mul(count as u64))?;
    Ok(Value::string(text.repeat(count)))
}

/// spf13/cast's `ToInt` (Sprig's `int`): numbers truncate, numeric strings parse (with base
/// prefixes), booleans are 0 or 1, anything else is 0.
pub fn to_int(value: &Value) -> i64 {
    match value {
        Value::Int(i) | Value::Int64(i) => *i,
        // spf13/cast knows two named integers, time.Month and time.Weekday.
        Value::Object(object)
            if matches!(object.type_name(), "time.Month" | "time.Weekday" | "uint64") =>
        {
            object.int_value().unwrap_or(0)
        }
        Value::Float(f) => go_float_to_int(*f),
        Value::Bool(b) => i64::from(*b),
        // cast reads the text as written: no trimming, only trailing zero decimals dropped.
        Value::Str(s) => parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// Go's `int64(f)` on amd64 (CVTTSD2SI): truncation, and the "integer indefinite" minimum for
/// NaN and anything out of range, where Rust's `as` would saturate.
pub(crate) fn go_float_to_int(f: f64) -> i64 {
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// cast's `trimZeroDecimal`: "12.00" is "12"; "12." and "12.5" stay as they are.
fn trim_zero_decimal(text: &str) -> &str {
    let mut found_zero = false;
    for (i, c) in text.bytes().enumerate().rev() {
        match c {
            b'.' if found_zero => return &text[..i],
            b'.' => {}
            b'0' => found_zero = true,
            _ => return text,
        }
    }
    text
}

/// `strconv.ParseFloat(s, 64)` for decimal text: underscores between digits allowed.
pub(crate) fn parse_go_float(text: &str) -> Option<f64> {
    if text.contains('_') {
        let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
        if !underscores_ok(unsigned) {
            return None;
        }
        return text.replace('_', "").parse().ok();
    }
    text.parse().ok()
}

/// strconv's `underscoreOK` (sign already removed): underscores only between digits, or after a
/// base prefix.
fn underscores_ok(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if bytes.len() >= 2 && bytes[0] == b'0' && matches!(bytes[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = bytes[1] | 0x20 == b'x';
    }
    for &c in &bytes[i..] {
        if c.is_ascii_digit() || hex && c.is_ascii_hexdigit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else if saw == b'_' {
            return false;
        } else {
            saw = b'!';
        }
    }
    saw != b'_'
}

/// `strconv.ParseInt(s, 0, 64)`.
fn parse_go_int(text: &str) -> Option<i64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if body.contains('_') && !underscores_ok(body) {
        return None;
    }
    let body = body.replace('_', "");
    let magnitude = if let Some(hex) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        i64::from_str_radix(oct, 8).ok()?
    } else if let Some(bin) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        i64::from_str_radix(bin, 2).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8).ok()?
    } else {
        body.parse::<i64>().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

fn to_string(exec: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    Ok(match &args[0] {
        // The same text, shared.
        Value::Str(_) => args[0].clone(),
        other => Value::string(strval(other, exec.budget)?.into_owned()),
    })
}

fn ternary(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    Ok(if matches!(args[2], Value::Bool(true)) {
        args[0].clone()
    } else {
        args[1].clone()
    })
}

fn coalesce(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    Ok(args
        .iter()
        .find(|v| !is_empty(v))
        .cloned()
        .unwrap_or(Value::Nil))
}

fn regex_match(_: &mut Exec<'_>, args: Vec<Value>) -> FuncResult {
    // Sprig's regexMatch answers false for a pattern that does not compile.
    Ok(Value::Bool(match goregex::compile(arg_str(&args, 0)) {
        Ok(pattern) => pattern.is_match(arg_str(&args, 1)),
        Err(_) => false,
    }))
}

fn register(map: &mut FuncMap) {
    map.add_variadic("quote", &[], A, quote);
    map.add_variadic("squote", &[], A, squote);
    map.add_variadic("default", &[A], A, default);
    map.add("empty", &[A], |_, args| Ok(Value::Bool(is_empty(&args[0]))));
    map.add("required", &[S, A], required);
    map.add("fail", &[S], fail);
    map.add("toYaml", &[A], to_yaml);
    map.add("toJson", &[A], to_json);
    map.add("fromYaml", &[S], from_yaml);
    map.add("indent", &[I, S], indent);
    map.add("nindent", &[I, S], nindent);
    map.add("trim", &[S], |exec, args| {
        one_string(exec, &args, |s| s.trim().to_owned())
    });
    // Go maps each rune to one rune (no `SS` for `ß`, no final sigma).
    map.add("upper", &[S], |exec, args| {
        one_string(exec, &args, |s| {
            s.chars().map(super::sprig::cases::upper_rune).collect()
        })
    });
    map.add("lower", &[S], |exec, args| {
        one_string(exec, &args, |s| {
            s.chars().map(super::sprig::cases::lower_rune).collect()
        })
    });
    map.add("title", &[S], |exec, args| one_string(exec, &args, title));
    map.add("trimPrefix", &[S, S], |_, args| {
        let (prefix, text) = (arg_str(&args, 0), arg_str(&args, 1));
        Ok(Value::str(text.strip_prefix(prefix).unwrap_or(text)))
    });
    map.add("trimSuffix", &[S, S], |_, args| {
        let (suffix, text) = (arg_str(&args, 0), arg_str(&args, 1));
        Ok(Value::str(text.strip_suffix(suffix).unwrap_or(text)))
    });
    map.add("contains", &[S, S], |_, args| {
        Ok(Value::Bool(arg_str(&args, 1).contains(arg_str(&args, 0))))
    });
    map.add("hasPrefix", &[S, S], |_, args| {
        Ok(Value::Bool(
            arg_str(&args, 1).starts_with(arg_str(&args, 0)),
        ))
    });
    map.add("hasSuffix", &[S, S], |_, args| {
        Ok(Value::Bool(arg_str(&args, 1).ends_with(arg_str(&args, 0))))
    });
    map.add("replace", &[S, S, S], replace);
    map.add("split", &[S, S], split);
    map.add("splitList", &[S, S], split_list);
    map.add("join", &[S, A], join);
    map.add_variadic("list", &[], A, list);
    map.add_variadic("dict", &[], A, dict);
    map.add("hasKey", &[M, S], has_key);
    map.add_variadic("keys", &[], M, keys);
    map.add("b64dec", &[S], b64dec);
    map.add("sha256sum", &[S], sha256sum);
    map.add("semverCompare", &[S, S], semver_compare);
    map.add("substr", &[I, I, S], substr);
    map.add("trunc", &[I, S], trunc);
    map.add("repeat", &[I, S], repeat);
    map.add("int", &[A], |_, args| Ok(Value::Int(to_int(&args[0]))));
    map.add("toString", &[A], to_string);
    map.add("ternary", &[A, A, B], ternary);
    map.add_variadic("coalesce", &[], A, coalesce);
    map.add("regexMatch", &[S, S], regex_match);
}

static MANIFEST_FUNCS: LazyLock<FuncMap> = LazyLock::new(|| {
    let mut library = FuncMap::new();
    register(&mut library);
    super::sprig::register(&mut library);
    builtins::builtins().shadowed_by(library)
});

/// Refuses a function library that registers a name twice (the server checks at start-up).
pub fn check() -> Result<(), super::gotemplate::funcs::DuplicateFunctions> {
    MANIFEST_FUNCS.check()
}

/// Go's builtins plus every function above: what manifest templates and values macros may call.
pub fn manifest_funcs() -> &'static FuncMap {
    &MANIFEST_FUNCS
}

/// Whether a template may call `name`.
pub fn is_known(name: &str) -> bool {
    MANIFEST_FUNCS.contains(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_registers_each_name_once() {
        assert_eq!(check(), Ok(()));
    }

    #[test]
    fn every_function_templates_md_requires_is_implemented() {
        for name in [
            "quote",
            "squote",
            "default",
            "empty",
            "required",
            "fail",
            "toYaml",
            "toJson",
            "fromYaml",
            "indent",
            "nindent",
            "trim",
            "trimPrefix",
            "trimSuffix",
            "upper",
            "lower",
            "title",
            "replace",
            "contains",
            "hasPrefix",
            "hasSuffix",
            "split",
            "join",
            "list",
            "dict",
            "hasKey",
            "keys",
            "b64enc",
            "b64dec",
            "semverCompare",
            "substr",
            "int",
            "toString",
            "ternary",
            "coalesce",
            "not",
            "printf",
            "and",
            "or",
            "eq",
            "ne",
            "lt",
            "le",
            "gt",
            "ge",
            "len",
            "index",
            "print",
        ] {
            assert!(is_known(name), "{name}");
        }
    }

    #[test]
    fn title_and_int_follow_go() {
        assert_eq!(title("hello big-world"), "Hello Big-World");
        assert_eq!(title("hello_world"), "Hello_world");
        assert_eq!(to_int(&Value::str("0x1F")), 31);
        assert_eq!(to_int(&Value::str("12.0")), 12);
        assert_eq!(to_int(&Value::Float(3.9)), 3);
        assert_eq!(to_int(&Value::str("abc")), 0);
    }
}
