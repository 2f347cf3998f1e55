//! Sprig's encodings, hashes, paths, URLs, type tests and `semver`, and Helm's JSON/YAML/TOML
//! conversions that differ from Sprig's (`fromJson` answers a map with an `Error` key rather than
//! failing).

use std::collections::BTreeMap;

use base64::Engine;
use sha2::Digest as _;

use super::{A, S, arg_str, charged};
use crate::render::functions::is_empty;
use crate::render::gotemplate::funcs::{FuncError, FuncMap, FuncResult, error};
use crate::render::gotemplate::value::{self, Str, Ty, Value};
use crate::render::gotemplate::{Budget, Exec, Limit, Text};
use crate::render::{go_json, go_json_errors, yaml_out};

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = buf.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(B32[((bits >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `base32.StdEncoding.DecodeString`: newlines dropped, quanta of eight symbols, padding
/// checked as Go checks it; the error names the offending byte as `CorruptInputError` does.
fn base32_decode(text: &str) -> Result<Vec<u8>, String> {
    let src: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b'\r' && *b != b'\n')
        .collect();
    let corrupt = |at: usize| format!("illegal base32 data at input byte {at}");
    let olen = src.len();
    let mut out = Vec::with_capacity(olen * 5 / 8);
    let mut rest = &src[..];
    let mut end = false;
    while !rest.is_empty() && !end {
        let mut dbuf = [0u8; 8];
        let mut dlen = 8;
        let mut j = 0;
        while j < 8 {
            let Some((&c, after)) = rest.split_first() else {
                return Err(corrupt(olen - rest.len() - j));
            };
            rest = after;
            if c == b'=' && j >= 2 && rest.len() < 8 {
                if rest.len() + j < 7 {
                    return Err(corrupt(olen));
                }
                for k in 0..7 - j {
                    if rest.len() > k && rest[k] != b'=' {
                        return Err(corrupt(olen - rest.len() + k - 1));
                    }
                }
                dlen = j;
                end = true;
                if matches!(dlen, 1 | 3 | 6) {
                    return Err(corrupt(olen - rest.len() - 1));
                }
                break;
            }
            dbuf[j] = B32
                .iter()
                .position(|b| *b == c)
                .ok_or_else(|| corrupt(olen - rest.len() - 1))? as u8;
            j += 1;
        }
        let quantum = [
            dbuf[0] << 3 | dbuf[1] >> 2,
            dbuf[1] << 6 | dbuf[2] << 1 | dbuf[3] >> 4,
            dbuf[3] << 4 | dbuf[4] >> 1,
            dbuf[4] << 7 | dbuf[5] << 2 | dbuf[6] >> 3,
            dbuf[6] << 5 | dbuf[7],
        ];
        let bytes = match dlen {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            _ => 1,
        };
        out.extend_from_slice(&quantum[..bytes]);
    }
    Ok(out)
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// Go's `path.Clean`.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

fn dir(path: &str) -> String {
    let cut = path.rfind('/').map_or(0, |i| i + 1);
    clean(&path[..cut])
}

fn ext(path: &str) -> String {
    for (i, c) in path.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return path[i..].to_owned();
        }
    }
    String::new()
}

/// Sprig's `urlParse`: Go's `url.Parse`, panicking on an error.
fn url_parse(text: &str) -> Result<BTreeMap<Str, Value>, FuncError> {
    let url = super::gourl::parse(text).map_err(|e| error(format!("unable to parse url: {e}")))?;
    Ok([
        ("scheme", url.scheme.as_str()),
        ("host", url.host.as_str()),
        ("hostname", url.hostname()),
        ("path", url.path.as_str()),
        ("query", url.raw_query.as_str()),
        ("opaque", url.opaque.as_str()),
        ("fragment", url.fragment.as_str()),
        ("userinfo", url.userinfo().as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (Str::from(k), Value::str(v)))
    .collect())
}

/// Sprig's `urlJoin`: each part must be a string (`getString` panics otherwise, in the order
/// Go's composite literal evaluates them).
fn url_join(parts: &Value) -> Result<String, FuncError> {
    let Value::Map(map) = parts else {
        return Ok(String::new());
    };
    let get = |key: &str| -> Result<String, FuncError> {
        match map.entries.borrow().get(key) {
            None => Ok(String::new()),
            Some(Value::Str(s)) => Ok(s.to_string()),
            Some(Value::Nil) => Err(super::nil_pointer()),
            Some(other) => Err(error(format!(
                "unable to parse {key} key, must be of type string, but {} found",
                other.type_name()
            ))),
        }
    };
    let url = super::gourl::Url {
        scheme: get("scheme")?,
        host: get("host")?,
        path: get("path")?,
        raw_query: get("query")?,
        opaque: get("opaque")?,
        fragment: get("fragment")?,
        user: super::gourl::parse_userinfo(&get("userinfo")?).map_err(error)?,
        ..Default::default()
    };
    Ok(url.to_go_string())
}

/// Go's `json.Indent(dst, compact, "", "  ")`, written under the budget (indentation can make the
/// pretty form many times longer than the compact one).
fn write_indented_json(out: &mut Text<'_>, compact: &str) -> Result<(), Limit> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = compact.char_indices().peekable();
    // Runs of plain characters are copied whole.
    let mut plain_from: Option<usize> = None;
    let newline = |out: &mut Text<'_>, depth: usize| -> Result<(), Limit> {
        out.put("\n")?;
        out.repeat(' ', depth * 2)
    };
    while let Some((i, c)) = chars.next() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        let structural = matches!(c, '{' | '[' | '}' | ']' | ',' | ':');
        if !structural {
            if c == '"' {
                in_string = true;
            }
            plain_from.get_or_insert(i);
            continue;
        }
        if let Some(start) = plain_from.take() {
            out.put(&compact[start..i])?;
        }
        match c {
            '{' | '[' => {
                out.put_char(c)?;
                if let Some(&(_, close @ ('}' | ']'))) = chars.peek() {
                    out.put_char(close)?;
                    chars.next();
                } else {
                    depth += 1;
                    newline(out, depth)?;
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(out, depth)?;
                out.put_char(c)?;
            }
            ',' => {
                out.put_char(c)?;
                newline(out, depth)?;
            }
            _ => out.put(": ")?,
        }
    }
    if let Some(start) = plain_from {
        out.put(&compact[start..])?;
    }
    Ok(())
}

/// [`write_indented_json`] without a budget (tests).
#[cfg(test)]
fn indent_json(compact: &str) -> String {
    crate::render::gotemplate::budget::text(&Budget::unlimited(), |out| {
        write_indented_json(out, compact)
    })
    .unwrap_or_default()
}

/// Undoes Go's HTML escaping in encoded JSON (`SetEscapeHTML(false)`).
fn unescape_html(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let replaced = [("\\u003c", '<'), ("\\u003e", '>'), ("\\u0026", '&')]
            .iter()
            .find(|(esc, _)| tail.starts_with(esc));
        match replaced {
            Some((esc, c)) => {
                out.push(*c);
                rest = &tail[esc.len()..];
            }
            None => {
                // Any other escape is copied whole (so `\\u003c` stays as written).
                let len = tail[1..].chars().next().map_or(1, |c| 1 + c.len_utf8());
                out.push_str(&tail[..len]);
                rest = &tail[len..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn encode_json(value: &Value, budget: &Budget) -> Result<String, FuncError> {
    go_json::encode(value, budget).map_err(|e| match e {
        go_json::EncodeError::Limit(limit) => FuncError::Limit(limit),
        go_json::EncodeError::Unsupported(v) => error(format!("json: unsupported value: {v}")),
    })
}

fn json_text(exec: &Exec<'_>, value: &Value, pretty: bool, raw: bool, must: bool) -> FuncResult {
    let encoded = match encode_json(value, exec.budget) {
        Ok(text) => text,
        Err(FuncError::Limit(limit)) => return Err(FuncError::Limit(limit)),
        Err(e) if must => return Err(e),
        Err(_) => return Ok(Value::str("")),
    };
    // The unescaped form is no longer than the encoded one, which was charged.
    let encoded = if raw {
        unescape_html(&encoded)
    } else {
        encoded
    };
    if !pretty {
        return Ok(Value::string(encoded));
    }
    let pretty = crate::render::gotemplate::budget::text(exec.budget, |out| {
        write_indented_json(out, &encoded)
    })?;
    Ok(Value::string(pretty))
}

/// A JSON document, or Go's message for it; a budget exceeded stops the render.
fn parse_json(exec: &Exec<'_>, text: &str) -> Result<Result<serde_json::Value, String>, Limit> {
    crate::render::functions::charge_document(exec.budget, text)?;
    Ok(go_json_errors::parse(text))
}

/// `json.Unmarshal` into a `map[string]interface{}`: Go's message for any other kind of value
/// (`null` leaves the map empty).
fn json_map(parsed: Result<serde_json::Value, String>) -> Result<Value, String> {
    match parsed? {
        json @ serde_json::Value::Object(_) => Ok(value::from_json(&json, value::Numbers::Float64)),
        serde_json::Value::Null => Ok(Value::empty_map()),
        other => Err(go_json_errors::type_error(
            &other,
            "map[string]interface {}",
        )),
    }
}

/// `json.Unmarshal` into a `[]interface{}`.
fn json_list(parsed: Result<serde_json::Value, String>) -> Result<Value, String> {
    match parsed? {
        json @ serde_json::Value::Array(_) => Ok(value::from_json(&json, value::Numbers::Float64)),
        serde_json::Value::Null => Ok(Value::list(Vec::new())),
        other => Err(go_json_errors::type_error(&other, "[]interface {}")),
    }
}

/// A YAML document, or the parser's message; a budget exceeded stops the render.
fn parse_yaml(exec: &Exec<'_>, text: &str) -> Result<Result<serde_json::Value, String>, Limit> {
    crate::render::functions::charge_document(exec.budget, text)?;
    let mut ignored = Vec::new();
    Ok(crate::render::functions::parse_helm_yaml(
        text,
        &mut ignored,
    ))
}

fn error_map(message: String) -> Value {
    Value::map(BTreeMap::from([(
        Str::from("Error"),
        Value::string(message),
    )]))
}

fn to_toml(value: &Value, budget: &Budget) -> Result<String, FuncError> {
    match super::toml_out::to_toml(value, budget) {
        Ok(text) => Ok(text),
        Err(super::toml_out::Failure::Encoder(message)) => Ok(message),
        Err(super::toml_out::Failure::Limit(limit)) => Err(limit.into()),
        Err(super::toml_out::Failure::NilDocument) => {
            Err(error("reflect: call of reflect.Value.Type on zero Value"))
        }
    }
}

/// A decoded TOML document as BurntSushi/toml fills a `map[string]interface{}`: integers are
/// int64, datetimes time.Time.
fn from_toml(toml: &toml::Value) -> Value {
    match toml {
        toml::Value::String(s) => Value::str(s),
        toml::Value::Integer(i) => Value::Int64(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => super::time_values::from_toml(d),
        toml::Value::Array(items) => Value::list(items.iter().map(from_toml).collect()),
        toml::Value::Table(table) => Value::map(
            table
                .iter()
                .map(|(k, v)| (Str::from(k.as_str()), from_toml(v)))
                .collect(),
        ),
    }
}

/// A TOML syntax error in BurntSushi's frame (`toml: line N: ...`), in the toml crate's words
/// (BurntSushi's are not ported).
fn toml_error(error: &toml::de::Error) -> String {
    let line = error.span().map(|_| error.to_string()).and_then(|text| {
        text.split_once("at line ")
            .and_then(|(_, rest)| rest.split(',').next().map(str::to_owned))
    });
    let message = error.message().trim();
    match line {
        Some(line) => format!("toml: line {line}: {message}"),
        None => format!("toml: {message}"),
    }
}

/// A `Ty::GoString` argument's bytes.
fn go_string_bytes(value: &Value) -> &[u8] {
    match value {
        Value::Str(s) => s.as_bytes(),
        Value::Bytes(b) => b,
        _ => &[],
    }
}

pub fn register(map: &mut FuncMap) {
    register_encodings(map);
    register_types(map);
    register_documents(map);
}

/// Encodings, hashes, paths and URLs.
fn register_encodings(map: &mut FuncMap) {
    // `.Files.Get` of a binary file is Go's string of raw bytes: encode those bytes.
    map.add("b64enc", &[Ty::GoString], |exec, args| {
        let bytes = go_string_bytes(&args[0]);
        exec.budget.charge(bytes.len() as u64 * 4 / 3 + 4)?;
        Ok(Value::string(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ))
    });
    map.add("b32enc", &[S], |exec, args| {
        charged(exec, base32_encode(arg_str(&args, 0).as_bytes()))
    });
    map.add("b32dec", &[S], |exec, args| {
        let decoded = base32_decode(arg_str(&args, 0))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|e| e);
        charged(exec, decoded)
    });
    map.add("sha1sum", &[S], |_, args| {
        Ok(Value::string(hex::encode(sha1::Sha1::digest(
            arg_str(&args, 0).as_bytes(),
        ))))
    });
    map.add("sha512sum", &[S], |_, args| {
        Ok(Value::string(hex::encode(sha2::Sha512::digest(
            arg_str(&args, 0).as_bytes(),
        ))))
    });
    map.add("adler32sum", &[S], |_, args| {
        Ok(Value::string(
            adler32(arg_str(&args, 0).as_bytes()).to_string(),
        ))
    });
    // Go's path and path/filepath functions are the same on Linux.
    for name in ["base", "osBase"] {
        map.add(name, &[S], |exec, args| {
            charged(exec, base(arg_str(&args, 0)))
        });
    }
    for name in ["dir", "osDir"] {
        map.add(name, &[S], |exec, args| {
            charged(exec, dir(arg_str(&args, 0)))
        });
    }
    for name in ["ext", "osExt"] {
        map.add(name, &[S], |exec, args| {
            charged(exec, ext(arg_str(&args, 0)))
        });
    }
    for name in ["clean", "osClean"] {
        map.add(name, &[S], |exec, args| {
            charged(exec, clean(arg_str(&args, 0)))
        });
    }
    for name in ["isAbs", "osIsAbs"] {
        map.add(name, &[S], |_, args| {
            Ok(Value::Bool(arg_str(&args, 0).starts_with('/')))
        });
    }
    map.add("urlParse", &[S], |_, args| {
        Ok(Value::map(url_parse(arg_str(&args, 0))?))
    });
    map.add("urlJoin", &[Ty::Map], |exec, args| {
        charged(exec, url_join(&args[0])?)
    });
}

/// Type tests, `all`/`any`, `semver`, `getHostByName`.
fn register_types(map: &mut FuncMap) {
    map.add("typeOf", &[A], |_, args| {
        Ok(Value::string(args[0].type_name()))
    });
    map.add("typeIs", &[S, A], |_, args| {
        Ok(Value::Bool(args[1].type_name() == arg_str(&args, 0)))
    });
    map.add("typeIsLike", &[S, A], |_, args| {
        let t = args[1].type_name();
        let target = arg_str(&args, 0);
        Ok(Value::Bool(t == target || format!("*{target}") == t))
    });
    map.add("kindOf", &[A], |_, args| {
        Ok(Value::str(args[0].kind_name()))
    });
    map.add("kindIs", &[S, A], |_, args| {
        Ok(Value::Bool(args[1].kind_name() == arg_str(&args, 0)))
    });
    map.add_variadic("all", &[], A, |_, args| {
        Ok(Value::Bool(args.iter().all(|v| !is_empty(v))))
    });
    map.add_variadic("any", &[], A, |_, args| {
        Ok(Value::Bool(args.iter().any(|v| !is_empty(v))))
    });
    map.add("semver", &[S], |_, args| {
        super::semver_values::SemverVersion::parse(arg_str(&args, 0)).map_err(error)
    });
    map.add("getHostByName", &[S], |_, _| Ok(Value::str("")));
}

/// JSON, YAML and TOML documents to and from values (Helm's and Sprig's forms).
fn register_documents(map: &mut FuncMap) {
    map.add("toPrettyJson", &[A], |exec, args| {
        json_text(exec, &args[0], true, false, false)
    });
    map.add("mustToPrettyJson", &[A], |exec, args| {
        json_text(exec, &args[0], true, false, true)
    });
    map.add("toRawJson", &[A], |exec, args| {
        json_text(exec, &args[0], false, true, false)
    });
    map.add("mustToRawJson", &[A], |exec, args| {
        json_text(exec, &args[0], false, true, true)
    });
    map.add("mustToJson", &[A], |exec, args| {
        json_text(exec, &args[0], false, false, true)
    });
    map.add("fromJson", &[S], |exec, args| {
        let parsed = parse_json(exec, arg_str(&args, 0))?;
        Ok(json_map(parsed).unwrap_or_else(error_map))
    });
    // Sprig's `mustFromJson` unmarshals into an `interface{}`: any kind of value.
    map.add("mustFromJson", &[S], |exec, args| {
        let parsed = parse_json(exec, arg_str(&args, 0))?.map_err(error)?;
        Ok(value::from_json(&parsed, value::Numbers::Float64))
    });
    map.add("fromJsonArray", &[S], |exec, args| {
        let parsed = parse_json(exec, arg_str(&args, 0))?;
        Ok(json_list(parsed).unwrap_or_else(|e| Value::list(vec![Value::string(e)])))
    });
    map.add("fromYamlArray", &[S], |exec, args| {
        let numbers = exec.numbers;
        Ok(match parse_yaml(exec, arg_str(&args, 0))? {
            Ok(json @ serde_json::Value::Array(_)) => value::from_json(&json, numbers),
            Ok(serde_json::Value::Null) => Value::list(Vec::new()),
            Ok(other) => Value::list(vec![Value::string(format!(
                "error unmarshaling JSON: while decoding JSON: {}",
                go_json_errors::type_error(&other, "[]interface {}")
            ))]),
            Err(e) => Value::list(vec![Value::string(e)]),
        })
    });
    map.add("toYamlPretty", &[A], |exec, args| {
        Ok(Value::string(yaml_out::write_yaml_pretty(
            &args[0],
            exec.budget,
        )?))
    });
    map.add("mustToYaml", &[A], |exec, args| {
        Ok(Value::string(yaml_out::write_yaml(&args[0], exec.budget)?))
    });
    map.add("toToml", &[A], |exec, args| {
        Ok(Value::string(to_toml(&args[0], exec.budget)?))
    });
    map.add("fromToml", &[S], |exec, args| {
        let text = arg_str(&args, 0);
        crate::render::functions::charge_document(exec.budget, text)?;
        Ok(match toml::from_str::<toml::Table>(text) {
            Ok(table) => from_toml(&toml::Value::Table(table)),
            Err(e) => error_map(toml_error(&e)),
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_and_paths_follow_go() {
        assert_eq!(base32_encode(b"hello"), "NBSWY3DP");
        assert_eq!(base32_decode("NBSWY3DP").unwrap(), b"hello");
        assert_eq!(adler32(b"hello"), 103_547_413);
        assert_eq!(clean("a/../b/./c/"), "b/c");
        assert_eq!(base("/a/b.txt"), "b.txt");
        assert_eq!(dir("/a/b.txt"), "/a");
        assert_eq!(ext("a/b.tar.gz"), ".gz");
        assert_eq!(
            indent_json(r#"{"a":[1,2],"b":{}}"#),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}"
        );
        assert_eq!(
            unescape_html(r#""\u003cb\u003e \\u003c""#),
            r#""<b> \\u003c""#
        );
        let parts = url_parse("https://user@example.com:8443/p?q=1#f").unwrap();
        assert_eq!(parts[&Str::from("hostname")].as_str(), Some("example.com"));
        assert_eq!(parts[&Str::from("userinfo")].as_str(), Some("user"));
    }
}
