//! The functions a manifest template may call: Go's text/template builtins (from the engine) plus
//! the Sprig and Helm functions packyard implements, with Sprig's exact behaviours (TEMPLATES.md).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use gotmpl::{FuncMap, TemplateError, Value};
use sha2::{Digest as _, Sha256};

use super::{data, golang, yaml_out};

/// Go's builtins, as provided by the gotmpl engine.
pub const GO_BUILTINS: &[&str] = &[
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt", "ne", "not", "or",
    "print", "printf", "println", "slice", "urlquery",
];

/// Marks an error raised by `fail` or `required`: the pack's own message, shown as is.
pub const FAIL_MARKER: &str = "\u{1}packyard-fail\u{1}";

type Result<T> = std::result::Result<T, TemplateError>;

fn exec_error(message: impl Into<String>) -> TemplateError {
    TemplateError::Exec(message.into())
}

fn arity(name: &str, args: &[Value], expected: usize) -> Result<()> {
    if args.len() == expected {
        Ok(())
    } else {
        Err(TemplateError::ArgCount {
            name: name.to_owned(),
            expected,
            got: args.len(),
        })
    }
}

fn string(text: impl AsRef<str>) -> Value {
    Value::String(Arc::from(text.as_ref()))
}

/// Sprig's `strval`: strings as they are, everything else as Go's `%v`.
pub fn strval(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        Value::Float(f) => golang::format_float(*f, false),
        other => other.to_string(),
    }
}

/// Sprig's `empty`: nil, false, 0, "" and empty collections.
pub fn is_empty(value: &Value) -> bool {
    !value.is_truthy()
}

fn quote(args: &[Value]) -> Result<Value> {
    let parts: Vec<String> = args
        .iter()
        .filter(|v| !matches!(v, Value::Nil))
        .map(|v| golang::quote(&strval(v)))
        .collect();
    Ok(string(parts.join(" ")))
}

fn squote(args: &[Value]) -> Result<Value> {
    let parts: Vec<String> = args
        .iter()
        .filter(|v| !matches!(v, Value::Nil))
        .map(|v| format!("'{}'", strval(v)))
        .collect();
    Ok(string(parts.join(" ")))
}

fn default(args: &[Value]) -> Result<Value> {
    match args {
        [fallback] => Ok(fallback.clone()),
        [fallback, given] => Ok(if is_empty(given) {
            fallback.clone()
        } else {
            given.clone()
        }),
        _ => Err(exec_error(format!(
            "default takes 1 or 2 arguments, got {}",
            args.len()
        ))),
    }
}

fn required(args: &[Value]) -> Result<Value> {
    arity("required", args, 2)?;
    let missing = match &args[1] {
        Value::Nil => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    };
    if missing {
        return Err(exec_error(format!("{FAIL_MARKER}{}", strval(&args[0]))));
    }
    Ok(args[1].clone())
}

fn fail(args: &[Value]) -> Result<Value> {
    arity("fail", args, 1)?;
    Err(exec_error(format!("{FAIL_MARKER}{}", strval(&args[0]))))
}

fn to_yaml(args: &[Value]) -> Result<Value> {
    arity("toYaml", args, 1)?;
    Ok(string(yaml_out::to_yaml(&data::to_json(&args[0]))))
}

fn to_json(args: &[Value]) -> Result<Value> {
    arity("toJson", args, 1)?;
    // serde_json's maps are sorted (BTreeMap), as Go's encoding/json sorts keys.
    let text =
        serde_json::to_string(&data::to_json(&args[0])).map_err(|e| exec_error(e.to_string()))?;
    Ok(string(golang::html_safe_json(&text)))
}

fn from_yaml(args: &[Value]) -> Result<Value> {
    arity("fromYaml", args, 1)?;
    // Like Helm: a document that does not parse yields a map with an Error key.
    match serde_saphyr::from_str::<serde_json::Value>(&strval(&args[0])) {
        Ok(serde_json::Value::Object(map)) => {
            Ok(data::to_template(&serde_json::Value::Object(map)))
        }
        Ok(serde_json::Value::Null) => Ok(Value::Map(Arc::new(BTreeMap::new()))),
        Ok(_) => Ok(error_map("the document is not a mapping")),
        Err(e) => Ok(error_map(&e.without_snippet().to_string())),
    }
}

fn error_map(message: &str) -> Value {
    Value::Map(Arc::new(BTreeMap::from([(
        Arc::from("Error"),
        string(message),
    )])))
}

fn indent_text(spaces: &Value, text: &Value) -> Result<String> {
    let count = spaces
        .as_int()
        .ok_or_else(|| exec_error("indent: the width must be an integer"))?;
    let pad = " ".repeat(usize::try_from(count).unwrap_or(0));
    Ok(format!(
        "{pad}{}",
        strval(text).replace('\n', &format!("\n{pad}"))
    ))
}

fn indent(args: &[Value]) -> Result<Value> {
    arity("indent", args, 2)?;
    Ok(string(indent_text(&args[0], &args[1])?))
}

fn nindent(args: &[Value]) -> Result<Value> {
    arity("nindent", args, 2)?;
    Ok(string(format!("\n{}", indent_text(&args[0], &args[1])?)))
}

fn one_string(name: &'static str, f: fn(&str) -> String) -> impl Fn(&[Value]) -> Result<Value> {
    move |args: &[Value]| {
        arity(name, args, 1)?;
        Ok(string(f(&strval(&args[0]))))
    }
}

fn title(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at_word_start = true;
    for c in text.chars() {
        if at_word_start && c.is_alphanumeric() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        at_word_start = !c.is_alphanumeric();
    }
    out
}

fn two_strings(
    name: &'static str,
    f: fn(&str, &str) -> Value,
) -> impl Fn(&[Value]) -> Result<Value> {
    move |args: &[Value]| {
        arity(name, args, 2)?;
        Ok(f(&strval(&args[0]), &strval(&args[1])))
    }
}

fn replace(args: &[Value]) -> Result<Value> {
    arity("replace", args, 3)?;
    Ok(string(
        strval(&args[2]).replace(&strval(&args[0]), &strval(&args[1])),
    ))
}

/// Sprig's `split` returns a map `_0`, `_1`, ... (use `splitList` for a list).
fn split(args: &[Value]) -> Result<Value> {
    arity("split", args, 2)?;
    let separator = strval(&args[0]);
    let text = strval(&args[1]);
    let map: BTreeMap<Arc<str>, Value> = text
        .split(separator.as_str())
        .enumerate()
        .map(|(i, part)| (Arc::from(format!("_{i}").as_str()), string(part)))
        .collect();
    Ok(Value::Map(Arc::new(map)))
}

fn split_list(args: &[Value]) -> Result<Value> {
    arity("splitList", args, 2)?;
    let separator = strval(&args[0]);
    let parts: Vec<Value> = strval(&args[1])
        .split(separator.as_str())
        .map(string)
        .collect();
    Ok(Value::List(parts.into()))
}

fn join(args: &[Value]) -> Result<Value> {
    arity("join", args, 2)?;
    let separator = strval(&args[0]);
    let parts: Vec<String> = match &args[1] {
        Value::List(items) => items
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(strval)
            .collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    };
    Ok(string(parts.join(&separator)))
}

fn list(args: &[Value]) -> Result<Value> {
    Ok(Value::List(args.to_vec().into()))
}

fn dict(args: &[Value]) -> Result<Value> {
    let mut map = BTreeMap::new();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or(Value::String(Arc::from("")));
        map.insert(Arc::from(strval(&pair[0]).as_str()), value);
    }
    Ok(Value::Map(Arc::new(map)))
}

fn has_key(args: &[Value]) -> Result<Value> {
    arity("hasKey", args, 2)?;
    match &args[0] {
        Value::Map(map) => Ok(Value::Bool(map.contains_key(strval(&args[1]).as_str()))),
        Value::Nil => Ok(Value::Bool(false)),
        other => Err(exec_error(format!(
            "hasKey: expected a map, got {}",
            other.type_name()
        ))),
    }
}

/// The keys of one or more maps, sorted (Sprig's order is random; sorted is the stable choice).
fn keys(args: &[Value]) -> Result<Value> {
    let mut found: Vec<String> = Vec::new();
    for arg in args {
        match arg {
            Value::Map(map) => found.extend(map.keys().map(|k| k.to_string())),
            other => {
                return Err(exec_error(format!(
                    "keys: expected a map, got {}",
                    other.type_name()
                )));
            }
        }
    }
    found.sort();
    Ok(Value::List(
        found.into_iter().map(string).collect::<Vec<_>>().into(),
    ))
}

fn b64enc(args: &[Value]) -> Result<Value> {
    arity("b64enc", args, 1)?;
    Ok(string(BASE64.encode(strval(&args[0]))))
}

fn b64dec(args: &[Value]) -> Result<Value> {
    arity("b64dec", args, 1)?;
    // Like Sprig: a decoding error becomes the result text.
    Ok(match BASE64.decode(strval(&args[0])) {
        Ok(bytes) => string(String::from_utf8_lossy(&bytes)),
        Err(e) => string(e.to_string()),
    })
}

fn sha256sum(args: &[Value]) -> Result<Value> {
    arity("sha256sum", args, 1)?;
    Ok(string(hex::encode(Sha256::digest(
        strval(&args[0]).as_bytes(),
    ))))
}

/// Parses a version leniently for semver: a leading `v` and missing parts are accepted.
fn lenient_semver(text: &str) -> Option<semver::Version> {
    let text = text.trim().trim_start_matches(['v', 'V']);
    let (core, rest) = match text.find(['-', '+']) {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, ""),
    };
    let mut parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    semver::Version::parse(&format!("{}{rest}", parts.join("."))).ok()
}

/// Masterminds semver constraints: `||` between alternatives, spaces or commas between terms.
pub fn semver_matches(constraint: &str, version: &str) -> std::result::Result<bool, String> {
    let version =
        lenient_semver(version).ok_or_else(|| format!("invalid semantic version {version:?}"))?;
    for alternative in constraint.split("||") {
        let mut terms: Vec<String> = Vec::new();
        for raw in alternative.split([',', ' ']).filter(|t| !t.is_empty()) {
            // An operator written apart from its version (">= 1.2") joins the next term.
            if matches!(raw, "=" | "!=" | ">" | "<" | ">=" | "<=" | "~" | "^" | "~>") {
                terms.push(raw.to_owned());
            } else if let Some(last) = terms.last_mut()
                && matches!(
                    last.as_str(),
                    "=" | "!=" | ">" | "<" | ">=" | "<=" | "~" | "^" | "~>"
                )
            {
                last.push_str(raw);
            } else {
                terms.push(raw.to_owned());
            }
        }
        let mut all = true;
        for term in &terms {
            let term = term.replace("~>", "~");
            let (op, rest) = term.split_at(
                term.find(|c: char| c.is_ascii_digit() || c == 'v' || c == 'x' || c == '*')
                    .unwrap_or(0),
            );
            let rest = rest.trim_start_matches(['v', 'V']);
            let requirement = if op == "!=" {
                let excluded =
                    lenient_semver(rest).ok_or_else(|| format!("invalid constraint {term:?}"))?;
                all &= version != excluded;
                continue;
            } else {
                format!("{}{rest}", if op.is_empty() { "=" } else { op })
            };
            let requirement = requirement.replace(".x", ".*").replace(".X", ".*");
            let requirement = semver::VersionReq::parse(&requirement)
                .map_err(|e| format!("invalid constraint {term:?}: {e}"))?;
            all &= requirement.matches(&version);
        }
        if all && !terms.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

fn semver_compare(args: &[Value]) -> Result<Value> {
    arity("semverCompare", args, 2)?;
    semver_matches(&strval(&args[0]), &strval(&args[1]))
        .map(Value::Bool)
        .map_err(exec_error)
}

/// Sprig's `substr start end s`: a negative start means 0, a negative or too large end means the end.
fn substr(args: &[Value]) -> Result<Value> {
    arity("substr", args, 3)?;
    let text = strval(&args[2]);
    let chars: Vec<char> = text.chars().collect();
    let start = args[0].as_int().unwrap_or(0);
    let end = args[1].as_int().unwrap_or(-1);
    let start = usize::try_from(start.max(0)).unwrap_or(0).min(chars.len());
    let end = if end < 0 {
        chars.len()
    } else {
        usize::try_from(end).unwrap_or(usize::MAX).min(chars.len())
    };
    Ok(string(
        chars[start..end.max(start)].iter().collect::<String>(),
    ))
}

fn trunc(args: &[Value]) -> Result<Value> {
    arity("trunc", args, 2)?;
    let text: Vec<char> = strval(&args[1]).chars().collect();
    let n = args[0].as_int().unwrap_or(0);
    let kept: String = if n >= 0 {
        text.iter().take(usize::try_from(n).unwrap_or(0)).collect()
    } else {
        let skip = text.len().saturating_sub(usize::try_from(-n).unwrap_or(0));
        text.iter().skip(skip).collect()
    };
    Ok(string(kept))
}

fn repeat(args: &[Value]) -> Result<Value> {
    arity("repeat", args, 2)?;
    let count = usize::try_from(args[0].as_int().unwrap_or(0)).unwrap_or(0);
    const MAX_OUTPUT: usize = 1 << 20;
    let text = strval(&args[1]);
    if text.len().saturating_mul(count) > MAX_OUTPUT {
        return Err(exec_error("repeat: the result would exceed 1 MiB"));
    }
    Ok(string(text.repeat(count)))
}

/// Sprig's `int` (cast.ToInt): numbers truncate, numeric strings parse, anything else is 0.
fn to_int(args: &[Value]) -> Result<Value> {
    arity("int", args, 1)?;
    Ok(Value::Int(match &args[0] {
        Value::Int(i) => *i,
        Value::Uint(u) => i64::try_from(*u).unwrap_or(i64::MAX),
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .or_else(|_| s.trim().parse::<f64>().map(|f| f as i64))
            .unwrap_or(0),
        _ => 0,
    }))
}

fn to_string(args: &[Value]) -> Result<Value> {
    arity("toString", args, 1)?;
    Ok(string(strval(&args[0])))
}

fn ternary(args: &[Value]) -> Result<Value> {
    arity("ternary", args, 3)?;
    Ok(if args[2].is_truthy() {
        args[0].clone()
    } else {
        args[1].clone()
    })
}

fn coalesce(args: &[Value]) -> Result<Value> {
    Ok(args
        .iter()
        .find(|v| !is_empty(v))
        .cloned()
        .unwrap_or(Value::Nil))
}

fn regex_match(args: &[Value]) -> Result<Value> {
    arity("regexMatch", args, 2)?;
    let pattern =
        regex::Regex::new(&strval(&args[0])).map_err(|e| exec_error(format!("regexMatch: {e}")))?;
    Ok(Value::Bool(pattern.is_match(&strval(&args[1]))))
}

fn func(f: impl Fn(&[Value]) -> Result<Value> + Send + Sync + 'static) -> gotmpl::ValueFunc {
    Arc::new(f)
}

static SPRIG: LazyLock<FuncMap> = LazyLock::new(|| {
    let mut map = FuncMap::new();
    map.insert("quote".into(), func(quote));
    map.insert("squote".into(), func(squote));
    map.insert("default".into(), func(default));
    map.insert(
        "empty".into(),
        func(|args: &[Value]| {
            arity("empty", args, 1)?;
            Ok(Value::Bool(is_empty(&args[0])))
        }),
    );
    map.insert("required".into(), func(required));
    map.insert("fail".into(), func(fail));
    map.insert("toYaml".into(), func(to_yaml));
    map.insert("toJson".into(), func(to_json));
    map.insert("fromYaml".into(), func(from_yaml));
    map.insert("indent".into(), func(indent));
    map.insert("nindent".into(), func(nindent));
    map.insert(
        "trim".into(),
        func(one_string("trim", |s| s.trim().to_owned())),
    );
    map.insert("upper".into(), func(one_string("upper", str::to_uppercase)));
    map.insert("lower".into(), func(one_string("lower", str::to_lowercase)));
    map.insert("title".into(), func(one_string("title", title)));
    map.insert(
        "trimPrefix".into(),
        func(two_strings("trimPrefix", |prefix, s| {
            string(s.strip_prefix(prefix).unwrap_or(s))
        })),
    );
    map.insert(
        "trimSuffix".into(),
        func(two_strings("trimSuffix", |suffix, s| {
            string(s.strip_suffix(suffix).unwrap_or(s))
        })),
    );
    map.insert(
        "contains".into(),
        func(two_strings("contains", |needle, s| {
            Value::Bool(s.contains(needle))
        })),
    );
    map.insert(
        "hasPrefix".into(),
        func(two_strings("hasPrefix", |prefix, s| {
            Value::Bool(s.starts_with(prefix))
        })),
    );
    map.insert(
        "hasSuffix".into(),
        func(two_strings("hasSuffix", |suffix, s| {
            Value::Bool(s.ends_with(suffix))
        })),
    );
    map.insert("replace".into(), func(replace));
    map.insert("split".into(), func(split));
    map.insert("splitList".into(), func(split_list));
    map.insert("join".into(), func(join));
    map.insert("list".into(), func(list));
    map.insert("dict".into(), func(dict));
    map.insert("hasKey".into(), func(has_key));
    map.insert("keys".into(), func(keys));
    map.insert("b64enc".into(), func(b64enc));
    map.insert("b64dec".into(), func(b64dec));
    map.insert("sha256sum".into(), func(sha256sum));
    map.insert("semverCompare".into(), func(semver_compare));
    map.insert("substr".into(), func(substr));
    map.insert("trunc".into(), func(trunc));
    map.insert("repeat".into(), func(repeat));
    map.insert("int".into(), func(to_int));
    map.insert("toString".into(), func(to_string));
    map.insert("ternary".into(), func(ternary));
    map.insert("coalesce".into(), func(coalesce));
    map.insert("regexMatch".into(), func(regex_match));
    map
});

/// The Sprig functions, to register on every template.
pub fn sprig() -> &'static FuncMap {
    &SPRIG
}

/// Whether a template may call `name`.
pub fn is_known(name: &str) -> bool {
    GO_BUILTINS.contains(&name) || SPRIG.contains_key(name)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn semver_constraints_follow_masterminds() {
        for (constraint, version, expected) in [
            ("~1.29.0", "v1.29.4", true),
            ("~1.29.0", "1.30.0", false),
            (">=1.22.0 <1.25.0", "1.24.10", true),
            (">= 1.22, < 1.25", "1.25.0", false),
            ("^1.2", "1.9.0", true),
            ("1.2.x", "1.2.7", true),
            ("<1.0 || >=2.0", "2.1.0", true),
            ("<1.0 || >=2.0", "1.5.0", false),
            ("!=1.2.3", "1.2.3", false),
        ] {
            assert_eq!(
                semver_matches(constraint, version),
                Ok(expected),
                "{constraint} {version}"
            );
        }
        assert!(semver_matches("~1.29.0", "not-a-version").is_err());
    }

    #[test]
    fn substr_and_title_follow_sprig() {
        let s = |v: &str| Value::String(Arc::from(v));
        assert_eq!(
            strval(&substr(&[Value::Int(0), Value::Int(4), s("1.29.4")]).unwrap()),
            "1.29"
        );
        assert_eq!(
            strval(&substr(&[Value::Int(2), Value::Int(-1), s("abcdef")]).unwrap()),
            "cdef"
        );
        assert_eq!(
            strval(&substr(&[Value::Int(-3), Value::Int(2), s("abcdef")]).unwrap()),
            "ab"
        );
        assert_eq!(title("hello big-world"), "Hello Big-World");
    }
}
