//! Sprig's string functions (the ones packyard's manifest library did not already have), with
//! goutils' and xstrings' rules, and the regular-expression functions on Go's RE2 syntax.

use std::collections::BTreeMap;

use super::{A, I, S, arg_int, arg_str, charged, strval, write_strval};
use crate::render::goregex;
use crate::render::gotemplate::Text;
use crate::render::gotemplate::funcs::{FuncMap, FuncResult, error};
use crate::render::gotemplate::value::{ListKind, MapKind, Str, Value};
use crate::render::gotemplate::{Exec, FuncError};

fn one(exec: &Exec<'_>, args: &[Value], f: impl Fn(&str) -> String) -> FuncResult {
    let text = arg_str(args, 0);
    exec.budget.charge(text.len() as u64 * 2)?;
    Ok(Value::string(f(text)))
}

/// [`one`] for functions that hold the text as characters while they work (four bytes each).
fn one_by_chars(exec: &Exec<'_>, args: &[Value], f: impl Fn(&str) -> String) -> FuncResult {
    exec.budget.working_set(arg_str(args, 0).len() as u64 * 4)?;
    one(exec, args, f)
}

/// goutils `Abbreviate(str, offset 0, maxWidth)`.
fn abbreviate(text: &str, offset: usize, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if width < 4 || chars.len() <= width {
        return text.to_owned();
    }
    let mut offset = offset.min(chars.len());
    if chars.len() - offset < width - 3 {
        offset = chars.len() - (width - 3);
    }
    let ellipsis = "...";
    if offset <= 4 {
        return chars[..width - 3].iter().collect::<String>() + ellipsis;
    }
    if width < 7 {
        return text.to_owned();
    }
    if offset + width - 3 < chars.len() {
        let inner: String = chars[offset..].iter().collect();
        return format!("{ellipsis}{}", abbreviate(&inner, 0, width - 3));
    }
    format!(
        "{ellipsis}{}",
        chars[chars.len() - (width - 3)..]
            .iter()
            .collect::<String>()
    )
}

fn initials(text: &str) -> String {
    text.split_whitespace()
        .filter_map(|w| w.chars().next())
        .collect()
}

fn swapcase(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_uppercase() {
            out.extend(c.to_lowercase());
        } else if c.is_lowercase() {
            // goutils title-cases after whitespace and upper-cases elsewhere: the same for
            // every letter but a few digraphs.
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn untitle(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for c in text.chars() {
        if start {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    out
}

/// Splits into words as xstrings does for case conversions: at separators (`_`, `-`, spaces,
/// `.`) and at lower-to-upper and acronym boundaries.
fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' || c == '.' || c.is_whitespace() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_uppercase() && !current.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push(std::mem::take(&mut current));
            }
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn snakecase(text: &str) -> String {
    words(text)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

fn kebabcase(text: &str) -> String {
    words(text)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("-")
}

/// xstrings `ToCamelCase`: `_`-separated words joined, each capitalised.
fn camelcase(text: &str) -> String {
    let mut out = String::new();
    for part in text.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// goutils `WrapCustom(str, width, newline, wrapLongWords)`.
fn wrap(text: &str, width: usize, newline: &str, long_words: bool) -> String {
    let width = width.max(1);
    let mut out = String::new();
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push_str(newline);
        }
        let mut current = String::new();
        for word in line.split(' ').filter(|w| !w.is_empty()) {
            let mut word = word.to_owned();
            loop {
                if current.is_empty() {
                    if long_words && word.chars().count() > width {
                        let head: String = word.chars().take(width).collect();
                        word = word.chars().skip(width).collect();
                        out.push_str(&head);
                        out.push_str(newline);
                        continue;
                    }
                    current = word;
                } else if current.chars().count() + 1 + word.chars().count() <= width {
                    current.push(' ');
                    current.push_str(&word);
                } else {
                    out.push_str(&current);
                    out.push_str(newline);
                    current = String::new();
                    continue;
                }
                break;
            }
        }
        out.push_str(&current);
    }
    out
}

fn plural(args: &[Value]) -> String {
    if arg_int(args, 2) == 1 {
        arg_str(args, 0).to_owned()
    } else {
        arg_str(args, 1).to_owned()
    }
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn compile(pattern: &str) -> Result<std::sync::Arc<regex::Regex>, FuncError> {
    goregex::compile(pattern).map_err(|e| error(format!("error parsing regexp: {e}")))
}

fn find_all(exec: &Exec<'_>, pattern: &str, text: &str, n: i64) -> FuncResult {
    let re = compile(pattern)?;
    let limit = if n < 0 { usize::MAX } else { n as usize };
    // Counted before they are collected: every position of a long text can match.
    let count = re.find_iter(text).take(limit).count();
    exec.budget.charge(count as u64 * 32 + text.len() as u64)?;
    let found: Vec<Value> = re
        .find_iter(text)
        .take(limit)
        .map(|m| Value::str(m.as_str()))
        .collect();
    Ok(Value::typed_list(ListKind::String, found))
}

/// Go's `Regexp.Split(s, n)`.
fn regex_split(exec: &Exec<'_>, pattern: &str, text: &str, n: i64) -> FuncResult {
    let re = compile(pattern)?;
    if n == 0 {
        return Ok(Value::typed_list(ListKind::String, Vec::new()));
    }
    // At most one part per match and one more, charged before they are made.
    let most = re.find_iter(text).count() + 1;
    let most = if n > 0 { most.min(n as usize) } else { most };
    exec.budget.charge(most as u64 * 32 + text.len() as u64)?;
    if pattern.is_empty() && !text.is_empty() {
        // Go splits after every character (up to n).
        let mut parts: Vec<Value> = Vec::new();
        for (i, c) in text.char_indices() {
            if n > 0 && parts.len() as i64 == n - 1 {
                parts.push(Value::str(&text[i..]));
                return Ok(Value::typed_list(ListKind::String, parts));
            }
            parts.push(Value::string(c.to_string()));
        }
        return Ok(Value::typed_list(ListKind::String, parts));
    }
    let mut parts: Vec<Value> = Vec::new();
    let mut beg = 0;
    for m in re.find_iter(text) {
        if n > 0 && parts.len() as i64 == n - 1 {
            break;
        }
        let end = m.start();
        if m.end() == 0 {
            continue;
        }
        parts.push(Value::str(&text[beg..end]));
        beg = m.end();
    }
    parts.push(Value::str(&text[beg..]));
    Ok(Value::typed_list(ListKind::String, parts))
}

/// Go's `Regexp.ReplaceAllString` template syntax (`$1`, `${name}`) as the regex crate reads it;
/// both treat `$1x` as the group named `1x`.
fn replace_all(exec: &Exec<'_>, args: &[Value], literal: bool) -> FuncResult {
    let re = compile(arg_str(args, 0))?;
    let (text, replacement) = (arg_str(args, 1), arg_str(args, 2));
    let matches = re.find_iter(text).count() as u64;
    exec.budget
        .charge(text.len() as u64 + matches.saturating_mul(replacement.len() as u64 * 2))?;
    Ok(Value::string(if literal {
        re.replace_all(text, regex::NoExpand(replacement))
            .into_owned()
    } else {
        re.replace_all(text, replacement).into_owned()
    }))
}

fn splitn(exec: &Exec<'_>, args: &[Value]) -> FuncResult {
    let (sep, n, text) = (arg_str(args, 0), arg_int(args, 1), arg_str(args, 2));
    let most = crate::render::functions::split_count(text, sep);
    let most = if n > 0 { most.min(n as usize) } else { most };
    exec.budget.charge(text.len() as u64 + most as u64 * 64)?;
    let parts: Vec<&str> = if n == 0 {
        Vec::new()
    } else if n < 0 {
        text.split(sep).collect()
    } else {
        text.splitn(n as usize, sep).collect()
    };
    let map: BTreeMap<Str, Value> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (Str::from(format!("_{i}").as_str()), Value::str(p)))
        .collect();
    Ok(Value::typed_map(MapKind::String, map))
}

fn regex_fn(
    map: &mut FuncMap,
    name: &'static str,
    must: &'static str,
    body: super::super::gotemplate::funcs::Body,
    params: &'static [super::super::gotemplate::value::Ty],
) {
    map.add(name, params, body);
    map.add(must, params, body);
}

pub fn register(map: &mut FuncMap) {
    map.add("abbrev", &[I, S], |exec, args| {
        let width = arg_int(&args, 0).max(0) as usize;
        one_by_chars(exec, &args[1..], |s| abbreviate(s, 0, width))
    });
    map.add("abbrevboth", &[I, I, S], |exec, args| {
        let (left, right) = (
            arg_int(&args, 0).max(0) as usize,
            arg_int(&args, 1).max(0) as usize,
        );
        one_by_chars(exec, &args[2..], |s| abbreviate(s, left, right))
    });
    map.add("initials", &[S], |exec, args| one(exec, &args, initials));
    map.add("swapcase", &[S], |exec, args| one(exec, &args, swapcase));
    map.add("untitle", &[S], |exec, args| one(exec, &args, untitle));
    map.add("snakecase", &[S], |exec, args| {
        one_by_chars(exec, &args, snakecase)
    });
    map.add("kebabcase", &[S], |exec, args| {
        one_by_chars(exec, &args, kebabcase)
    });
    map.add("camelcase", &[S], |exec, args| one(exec, &args, camelcase));
    map.add("nospace", &[S], |exec, args| {
        one(exec, &args, |s| {
            s.chars().filter(|c| !c.is_whitespace()).collect()
        })
    });
    map.add("trimAll", &[S, S], |exec, args| {
        exec.budget
            .working_set(arg_str(&args, 0).len() as u64 * 4)?;
        let cutset: Vec<char> = arg_str(&args, 0).chars().collect();
        one(exec, &args[1..], |s| {
            s.trim_matches(cutset.as_slice()).to_owned()
        })
    });
    map.add("trimall", &[S, S], |exec, args| {
        exec.budget
            .working_set(arg_str(&args, 0).len() as u64 * 4)?;
        let cutset: Vec<char> = arg_str(&args, 0).chars().collect();
        one(exec, &args[1..], |s| {
            s.trim_matches(cutset.as_slice()).to_owned()
        })
    });
    map.add("wrap", &[I, S], |exec, args| {
        let width = arg_int(&args, 0).max(1) as usize;
        one(exec, &args[1..], |s| wrap(s, width, "\n", false))
    });
    map.add("wrapWith", &[I, S, S], |exec, args| {
        let width = arg_int(&args, 0).max(1) as usize;
        let newline = arg_str(&args, 1).to_owned();
        exec.budget
            .charge(newline.len() as u64 * arg_str(&args, 2).len() as u64)?;
        one(exec, &args[2..], |s| wrap(s, width, &newline, true))
    });
    map.add("plural", &[S, S, I], |_, args| {
        Ok(Value::string(plural(&args)))
    });
    map.add_variadic("cat", &[], A, |exec, args| {
        let mut text = String::new();
        let mut out = Text::new(&mut text, exec.budget);
        for (i, arg) in args.iter().filter(|v| !v.is_nil()).enumerate() {
            if i > 0 {
                out.put(" ")?;
            }
            write_strval(&mut out, arg)?;
        }
        Ok(Value::string(text))
    });
    map.add("toStrings", &[A], |exec, args| {
        let budget = exec.budget;
        let one = |item: &Value| -> Result<Value, FuncError> {
            Ok(match item {
                Value::Str(_) => item.clone(),
                other => Value::string(strval(other, budget)?.into_owned()),
            })
        };
        let items: Vec<Value> = match &args[0] {
            Value::List(list) => {
                budget.charge(list.items.len() as u64 * 32 + 32)?;
                list.items.iter().map(one).collect::<Result<_, _>>()?
            }
            other => vec![one(other)?],
        };
        Ok(Value::typed_list(ListKind::String, items))
    });
    map.add("splitn", &[S, I, S], |exec, args| splitn(exec, &args));
    map.add("regexQuoteMeta", &[S], |exec, args| {
        one(exec, &args, quote_meta)
    });
    regex_fn(
        map,
        "regexFind",
        "mustRegexFind",
        |exec, args| {
            let re = compile(arg_str(&args, 0))?;
            let found = re
                .find(arg_str(&args, 1))
                .map_or("", |m| m.as_str())
                .to_owned();
            charged(exec, found)
        },
        &[S, S],
    );
    regex_fn(
        map,
        "regexFindAll",
        "mustRegexFindAll",
        |exec, args| {
            find_all(
                exec,
                arg_str(&args, 0),
                arg_str(&args, 1),
                arg_int(&args, 2),
            )
        },
        &[S, S, I],
    );
    map.add("mustRegexMatch", &[S, S], |_, args| {
        let re = compile(arg_str(&args, 0))?;
        Ok(Value::Bool(re.is_match(arg_str(&args, 1))))
    });
    regex_fn(
        map,
        "regexReplaceAll",
        "mustRegexReplaceAll",
        |exec, args| replace_all(exec, &args, false),
        &[S, S, S],
    );
    regex_fn(
        map,
        "regexReplaceAllLiteral",
        "mustRegexReplaceAllLiteral",
        |exec, args| replace_all(exec, &args, true),
        &[S, S, S],
    );
    regex_fn(
        map,
        "regexSplit",
        "mustRegexSplit",
        |exec, args| {
            regex_split(
                exec,
                arg_str(&args, 0),
                arg_str(&args, 1),
                arg_int(&args, 2),
            )
        },
        &[S, S, I],
    );
    map.add("hello", &[], |_, _| Ok(Value::str("Hello!")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions_follow_xstrings() {
        assert_eq!(snakecase("HelloWorld"), "hello_world");
        assert_eq!(snakecase("HTTPServer"), "http_server");
        assert_eq!(kebabcase("fooBar"), "foo-bar");
        assert_eq!(camelcase("http_server"), "HttpServer");
        assert_eq!(abbreviate("hello world", 0, 5), "he...");
        assert_eq!(initials("First Try"), "FT");
        assert_eq!(quote_meta("a.b*c"), "a\\.b\\*c");
        assert_eq!(wrap("a b c d", 3, "\n", false), "a b\nc d");
    }
}
