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

/// Go's `string(bytes)` of a byte slice of a string: bytes cut inside a character become U+FFFD,
/// as they show once written out.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// goutils' `AbbreviateFull(str, offset, maxWidth)` (bytes, as Go's string indexing), with
/// Sprig's guards; an argument goutils refuses leaves the text as it is.
fn abbreviate(text: &str, offset: usize, width: usize) -> String {
    let bytes = text.as_bytes();
    let len = bytes.len();
    if text.is_empty() || width < 4 || len <= width {
        return text.to_owned();
    }
    let mut offset = offset.min(len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    if offset <= 4 {
        return lossy(&bytes[..width - 3]) + "...";
    }
    if width < 7 {
        return String::new();
    }
    if offset + width - 3 < len {
        let rest = lossy(&bytes[offset..]);
        return format!("...{}", abbreviate(&rest, 0, width - 3));
    }
    format!("...{}", lossy(&bytes[len - (width - 3)..]))
}

/// goutils' `Initials`: the first byte of every word, each byte read as a rune (Latin-1), words
/// separated by white space.
fn initials(text: &str) -> String {
    let mut out = String::new();
    let mut gap = true;
    for byte in text.bytes() {
        let c = char::from(byte);
        if c.is_whitespace() || c == '\u{85}' || c == '\u{a0}' {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    out
}

/// goutils' `DeleteWhiteSpace`: bytes, each read as a rune (Latin-1), white space left out; the
/// text itself when it holds none.
fn delete_white_space(text: &str) -> String {
    let kept: String = text
        .bytes()
        .map(char::from)
        .filter(|c| !(c.is_whitespace() || *c == '\u{85}' || *c == '\u{a0}'))
        .collect();
    if kept.chars().count() == text.len() {
        return text.to_owned();
    }
    kept
}

/// goutils' `SwapCase`: upper case to lower, lower to upper (Go's title case, which for the
/// letters that have one is their upper case).
fn swapcase(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_uppercase() {
                super::cases::lower_rune(c)
            } else if c.is_lowercase() {
                super::cases::upper_rune(c)
            } else {
                c
            }
        })
        .collect()
}

/// goutils' `Uncapitalize` of each word: its first letter lower-cased.
fn untitle(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for c in text.chars() {
        if start {
            out.push(super::cases::lower_rune(c));
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    out
}

/// goutils' `WrapCustom(str, width, newline, wrapLongWords)` (bytes, as Go's).
fn wrap(text: &str, width: usize, newline: &str, long_words: bool) -> String {
    if text.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let width = width.max(1);
    let bytes = text.as_bytes();
    let len = bytes.len();
    let mut offset = 0;
    let mut out: Vec<u8> = Vec::with_capacity(len + len / width.max(1));
    while len - offset > width {
        if bytes[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = (width + offset + 1).min(len);
        match bytes[offset..end].iter().rposition(|b| *b == b' ') {
            Some(at) => {
                let space = offset + at;
                out.extend_from_slice(&bytes[offset..space]);
                out.extend_from_slice(newline.as_bytes());
                offset = space + 1;
            }
            None if long_words => {
                out.extend_from_slice(&bytes[offset..offset + width]);
                out.extend_from_slice(newline.as_bytes());
                offset += width;
            }
            None => {
                let end = width + offset;
                match bytes[end..].iter().position(|b| *b == b' ') {
                    None => {
                        out.extend_from_slice(&bytes[offset..]);
                        offset = len;
                    }
                    Some(at) => {
                        let space = end + at;
                        out.extend_from_slice(&bytes[offset..space]);
                        out.extend_from_slice(newline.as_bytes());
                        offset = space + 1;
                    }
                }
            }
        }
    }
    out.extend_from_slice(&bytes[offset..]);
    lossy(&out)
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

/// How a regex function compiles its pattern.
type Compiler = fn(&str) -> Result<std::sync::Arc<regex::Regex>, FuncError>;

fn compile(pattern: &str) -> Result<std::sync::Arc<regex::Regex>, FuncError> {
    goregex::compile(pattern).map_err(error)
}

fn panicking(pattern: &str) -> Result<std::sync::Arc<regex::Regex>, FuncError> {
    goregex::must_compile(pattern).map_err(error)
}

fn regex_find(exec: &mut Exec<'_>, args: &[Value], compile: Compiler) -> FuncResult {
    let re = compile(arg_str(args, 0))?;
    let found = re
        .find(arg_str(args, 1))
        .map_or("", |m| m.as_str())
        .to_owned();
    charged(exec, found)
}

fn find_all(exec: &mut Exec<'_>, args: &[Value], compile: Compiler) -> FuncResult {
    let (pattern, text, n) = (arg_str(args, 0), arg_str(args, 1), arg_int(args, 2));
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
fn regex_split(exec: &mut Exec<'_>, args: &[Value], compile: Compiler) -> FuncResult {
    let (pattern, text, n) = (arg_str(args, 0), arg_str(args, 1), arg_int(args, 2));
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
fn replace_all(exec: &Exec<'_>, args: &[Value], compile: Compiler, literal: bool) -> FuncResult {
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
        crate::render::functions::go_split(text, sep).collect()
    } else if sep.is_empty() {
        // Go's explode: n-1 characters, then the rest.
        let n = n as usize;
        let mut parts: Vec<&str> = text
            .char_indices()
            .take(n.saturating_sub(1))
            .map(|(i, c)| &text[i..i + c.len_utf8()])
            .collect();
        let used: usize = parts.iter().map(|p| p.len()).sum();
        if used < text.len() {
            parts.push(&text[used..]);
        }
        parts
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

/// A regex function and its `must` twin: the same work, but Sprig compiles with
/// `regexp.MustCompile` in the first (its panic is the error) and returns the error in the second.
macro_rules! regex_pair {
    ($map:ident, $name:literal, $must:literal, $params:expr, $op:expr) => {
        $map.add($name, $params, |exec, args| $op(exec, &args, panicking));
        $map.add($must, $params, |exec, args| $op(exec, &args, compile));
    };
}

pub fn register(map: &mut FuncMap) {
    map.add("abbrev", &[I, S], |exec, args| {
        let width = arg_int(&args, 0).max(0) as usize;
        one(exec, &args[1..], |s| abbreviate(s, 0, width))
    });
    map.add("abbrevboth", &[I, I, S], |exec, args| {
        let (left, right) = (
            arg_int(&args, 0).max(0) as usize,
            arg_int(&args, 1).max(0) as usize,
        );
        one(exec, &args[2..], |s| {
            // Sprig: `abbrevboth` leaves the text when goutils would refuse.
            if right < 4 || left > 0 && right < 7 {
                s.to_owned()
            } else {
                abbreviate(s, left, right)
            }
        })
    });
    map.add("initials", &[S], |exec, args| one(exec, &args, initials));
    map.add("swapcase", &[S], |exec, args| one(exec, &args, swapcase));
    map.add("untitle", &[S], |exec, args| one(exec, &args, untitle));
    map.add("snakecase", &[S], |exec, args| {
        one(exec, &args, |s| super::cases::lower_case_words(s, '_'))
    });
    map.add("kebabcase", &[S], |exec, args| {
        one(exec, &args, |s| super::cases::lower_case_words(s, '-'))
    });
    map.add("camelcase", &[S], |exec, args| {
        one(exec, &args, super::cases::camel_case)
    });
    map.add("nospace", &[S], |exec, args| {
        one(exec, &args, delete_white_space)
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
        // Sprig's strslice: nils left out, nil itself an empty list.
        let items: Vec<Value> = match &args[0] {
            Value::List(list) => {
                budget.charge(list.items.len() as u64 * 32 + 32)?;
                list.items
                    .iter()
                    .filter(|v| !v.is_nil())
                    .map(one)
                    .collect::<Result<_, _>>()?
            }
            Value::Nil => Vec::new(),
            other => vec![one(other)?],
        };
        Ok(Value::typed_list(ListKind::String, items))
    });
    map.add("splitn", &[S, I, S], |exec, args| splitn(exec, &args));
    map.add("regexQuoteMeta", &[S], |exec, args| {
        one(exec, &args, quote_meta)
    });
    regex_pair!(map, "regexFind", "mustRegexFind", &[S, S], regex_find);
    regex_pair!(
        map,
        "regexFindAll",
        "mustRegexFindAll",
        &[S, S, I],
        find_all
    );
    map.add("mustRegexMatch", &[S, S], |_, args| {
        let re = compile(arg_str(&args, 0))?;
        Ok(Value::Bool(re.is_match(arg_str(&args, 1))))
    });
    regex_pair!(
        map,
        "regexReplaceAll",
        "mustRegexReplaceAll",
        &[S, S, S],
        |exec, args, compile| { replace_all(exec, args, compile, false) }
    );
    regex_pair!(
        map,
        "regexReplaceAllLiteral",
        "mustRegexReplaceAllLiteral",
        &[S, S, S],
        |exec, args, compile| replace_all(exec, args, compile, true)
    );
    regex_pair!(map, "regexSplit", "mustRegexSplit", &[S, S, I], regex_split);
    map.add("hello", &[], |_, _| Ok(Value::str("Hello!")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goutils_works_on_bytes() {
        assert_eq!(abbreviate("hello world", 0, 5), "he...");
        assert_eq!(abbreviate("héllo wörld", 0, 5), "h\u{fffd}...");
        assert_eq!(delete_white_space("a é"), "aÃ©");
        assert_eq!(delete_white_space("aé"), "aé");
        assert_eq!(initials("First Try"), "FT");
        assert_eq!(quote_meta("a.b*c"), "a\\.b\\*c");
        assert_eq!(wrap("a b c d", 3, "\n", false), "a b\nc d");
    }
}
