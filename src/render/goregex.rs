//! Go's regular expressions (RE2 syntax) on Rust's `regex` crate: both guarantee linear-time
//! matching, but the syntaxes differ at the edges (Go's `\w`, `\d`, `\s` and `\b` are ASCII-only,
//! a `{` that starts no repetition is a literal, `[` inside a class is a literal, `\Q...\E` quotes,
//! `\<` is a literal `<`), so patterns are translated first, and errors are Go's
//! (`error parsing regexp: missing closing ): `(``). Compiled patterns are cached (bounded in
//! bytes) and each is limited in compiled size, so a hostile pattern costs a bounded amount of
//! memory and time.

use std::sync::{Arc, LazyLock};

use quick_cache::Weighter;
use quick_cache::sync::Cache;
use regex::{Regex, RegexBuilder};
use regex_syntax::ast::ErrorKind;

/// The most memory one compiled pattern may take.
const MAX_COMPILED: usize = 2 << 20;
/// How deeply groups may nest.
const NEST_LIMIT: u32 = 200;
/// The compiled-pattern cache's bound.
pub const CACHE_BYTES: u64 = 16 << 20;
/// Go's largest repetition count.
const MAX_REPEAT: u64 = 1000;

#[derive(Clone)]
struct PatternWeight;

impl Weighter<String, Arc<Regex>> for PatternWeight {
    fn weight(&self, key: &String, _value: &Arc<Regex>) -> u64 {
        // A compiled program is typically tens of times its source; count generously.
        (key.len() as u64 * 64 + 4096).min(MAX_COMPILED as u64)
    }
}

static CACHE: LazyLock<Cache<String, Arc<Regex>, PatternWeight>> =
    LazyLock::new(|| Cache::with_weighter(4096, CACHE_BYTES, PatternWeight));

/// Bytes the pattern cache holds now (for `/metrics`).
pub fn cache_bytes() -> u64 {
    CACHE.weight()
}

/// Go's `regexp/syntax` error codes (`ErrorCode.String()`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Code {
    InvalidCharRange,
    InvalidEscape,
    InvalidNamedCapture,
    InvalidPerlOp,
    InvalidRepeatOp,
    InvalidRepeatSize,
    MissingBracket,
    MissingParen,
    MissingRepeatArgument,
    TrailingBackslash,
    UnexpectedParen,
    NestingDepth,
    Large,
}

impl Code {
    fn text(self) -> &'static str {
        match self {
            Self::InvalidCharRange => "invalid character class range",
            Self::InvalidEscape => "invalid escape sequence",
            Self::InvalidNamedCapture => "invalid named capture",
            Self::InvalidPerlOp => "invalid or unsupported Perl syntax",
            Self::InvalidRepeatOp => "invalid nested repetition operator",
            Self::InvalidRepeatSize => "invalid repeat count",
            Self::MissingBracket => "missing closing ]",
            Self::MissingParen => "missing closing )",
            Self::MissingRepeatArgument => "missing argument to repetition operator",
            Self::TrailingBackslash => "trailing backslash at end of expression",
            Self::UnexpectedParen => "unexpected )",
            Self::NestingDepth => "expression nests too deeply",
            Self::Large => "expression too large",
        }
    }
}

/// Go's `*syntax.Error`: its code and the piece of the pattern it is about.
fn go_error(code: Code, expr: &str) -> String {
    format!("error parsing regexp: {}: `{expr}`", code.text())
}

/// A Go pattern rewritten for the regex crate, with the source offset of each output byte.
struct Translated {
    text: String,
    origin: Vec<usize>,
}

impl Translated {
    fn push(&mut self, text: &str, from: usize) {
        self.text.push_str(text);
        self.origin.extend(std::iter::repeat_n(from, text.len()));
    }

    fn push_char(&mut self, c: char, from: usize) {
        let mut buf = [0u8; 4];
        self.push(c.encode_utf8(&mut buf), from);
    }

    /// A character matched literally (escaped when the regex crate would read it as syntax).
    fn literal(&mut self, c: char, from: usize) {
        if regex_syntax::is_meta_character(c) {
            self.push("\\", from);
        }
        self.push_char(c, from);
    }
}

/// Go's repetition `{n}`, `{n,}` or `{n,m}` at the start of `text`: its length and its counts.
fn repeat_at(text: &str) -> Option<(usize, u64, Option<u64>)> {
    let body = text.strip_prefix('{')?;
    let close = body.find('}')?;
    let inner = &body[..close];
    // Go reads no repetition from a count with a leading zero.
    let number = |s: &str| {
        (!s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit())
            && !(s.len() > 1 && s.starts_with('0')))
        .then(|| s.parse::<u64>().unwrap_or(u64::MAX))
    };
    let (min, max) = match inner.split_once(',') {
        None => {
            let n = number(inner)?;
            (n, Some(n))
        }
        Some((min, "")) => (number(min)?, None),
        Some((min, max)) => (number(min)?, Some(number(max)?)),
    };
    Some((close + 2, min, max))
}

/// Go's escapes after a backslash that are not classes or assertions: a punctuation literal,
/// an octal or hex code, or a control character.
fn escape_len(rest: &str) -> Option<usize> {
    let c = rest.chars().next()?;
    if c.is_ascii_punctuation() {
        return Some(1);
    }
    match c {
        'a' | 'f' | 'n' | 'r' | 't' | 'v' => Some(1),
        '0'..='7' => {
            // A single non-zero digit would be a backreference, which Go does not support.
            let digits = rest
                .bytes()
                .take(3)
                .take_while(|b| (b'0'..=b'7').contains(b))
                .count();
            (c == '0' || digits > 1).then_some(digits)
        }
        'x' => {
            let hex = &rest[1..];
            if let Some(body) = hex.strip_prefix('{') {
                let close = body.find('}')?;
                let digits = &body[..close];
                (!digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_hexdigit())
                    && u32::from_str_radix(digits, 16).is_ok_and(|v| v <= 0x10ffff))
                .then_some(close + 3)
            } else {
                let digits = hex.bytes().take(2).filter(u8::is_ascii_hexdigit).count();
                (digits == 2).then_some(3)
            }
        }
        _ => None,
    }
}

/// The character a valid [`escape_len`] escape stands for.
fn escape_char(escape: &str) -> char {
    let mut chars = escape.chars();
    let c = chars.next().unwrap_or('\\');
    let code = match c {
        'a' => 7,
        'f' => 12,
        'n' => 10,
        'r' => 13,
        't' => 9,
        'v' => 11,
        '0'..='7' => u32::from_str_radix(escape, 8).unwrap_or(0),
        'x' => u32::from_str_radix(escape[1..].trim_matches(['{', '}']), 16).unwrap_or(0),
        other => return other,
    };
    char::from_u32(code).unwrap_or('\u{fffd}')
}

/// Go's POSIX class names (`[[:alpha:]]`), which the regex crate spells the same.
const POSIX: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

/// Rewrites a Go pattern for the regex crate, or Go's error for what Go refuses and the regex
/// crate would accept (or refuse with a different text).
fn translate(pattern: &str) -> Result<Translated, String> {
    let mut out = Translated {
        text: String::with_capacity(pattern.len() + 16),
        origin: Vec::with_capacity(pattern.len() + 16),
    };
    // Where the last repetition operator began, while it is the last thing parsed.
    let mut last_repeat: Option<usize> = None;
    // Whether there is something before to repeat (not the start, `(` or `|`).
    let mut repeatable = false;
    let mut i = 0;
    while i < pattern.len() {
        let rest = &pattern[i..];
        let c = rest.chars().next().unwrap_or_default();
        let repeat_len = match c {
            '*' | '+' | '?' => Some(1),
            '{' => repeat_at(rest)
                .map(|(len, min, max)| {
                    if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
                        Err(go_error(Code::InvalidRepeatSize, &rest[..len]))
                    } else {
                        Ok(len)
                    }
                })
                .transpose()?,
            _ => None,
        };
        if let Some(mut len) = repeat_len {
            if rest[len..].starts_with('?') {
                len += 1;
            }
            if let Some(start) = last_repeat {
                return Err(go_error(Code::InvalidRepeatOp, &pattern[start..i + len]));
            }
            if !repeatable {
                return Err(go_error(Code::MissingRepeatArgument, &rest[..len]));
            }
            out.push(&rest[..len], i);
            last_repeat = Some(i);
            i += len;
            continue;
        }
        last_repeat = None;
        let repeatable_before = repeatable;
        repeatable = !matches!(c, '(' | '|');
        match c {
            '\\' => i = escape(pattern, i, &mut out)?,
            '[' => i = class(pattern, i, &mut out)?,
            '{' => {
                // Not a repetition: Go reads a literal brace.
                out.push("\\{", i);
                i += 1;
            }
            '(' if rest.starts_with("(?") => {
                let (next, opened) = perl_group(pattern, i, &mut out)?;
                // Flags alone change what follows, not what can be repeated.
                repeatable = if opened { false } else { repeatable_before };
                i = next;
            }
            _ => {
                out.push_char(c, i);
                i += c.len_utf8();
            }
        }
    }
    Ok(out)
}

/// An escape outside a class, from the backslash at `i`; returns where parsing resumes.
fn escape(pattern: &str, i: usize, out: &mut Translated) -> Result<usize, String> {
    let rest = &pattern[i + 1..];
    let Some(c) = rest.chars().next() else {
        return Err(go_error(Code::TrailingBackslash, ""));
    };
    let class = match c {
        'w' => Some("[0-9A-Za-z_]"),
        'W' => Some("[^0-9A-Za-z_]"),
        'd' => Some("[0-9]"),
        'D' => Some("[^0-9]"),
        's' => Some("[\\t\\n\\f\\r ]"),
        'S' => Some("[^\\t\\n\\f\\r ]"),
        'b' => Some("(?-u:\\b)"),
        'B' => Some("(?-u:\\B)"),
        'A' => Some("\\A"),
        'z' => Some("\\z"),
        _ => None,
    };
    if let Some(text) = class {
        out.push(text, i);
        return Ok(i + 2);
    }
    match c {
        'Q' => {
            // Literal text up to `\E` or the end.
            let body = &rest[1..];
            let (quoted, skip) = match body.find("\\E") {
                Some(end) => (&body[..end], end + 2),
                None => (body, body.len()),
            };
            for (at, q) in quoted.char_indices() {
                out.literal(q, i + 2 + at);
            }
            Ok(i + 2 + skip)
        }
        'p' | 'P' => unicode_class(pattern, i, out),
        _ => simple_escape(pattern, i, out),
    }
}

/// `\pL`, `\p{Greek}`, `\P{^Greek}`: passed on whole (the regex crate knows the same names).
fn unicode_class(pattern: &str, i: usize, out: &mut Translated) -> Result<usize, String> {
    let rest = &pattern[i + 2..];
    let len = if rest.starts_with('{') {
        match rest.find('}') {
            Some(end) => end + 1,
            None => return Err(go_error(Code::InvalidCharRange, &pattern[i..])),
        }
    } else {
        match rest.chars().next() {
            Some(c) => c.len_utf8(),
            None => return Err(go_error(Code::InvalidCharRange, &pattern[i..])),
        }
    };
    out.push(&pattern[i..i + 2 + len], i);
    Ok(i + 2 + len)
}

/// A literal escape (punctuation, octal, hex, control), written as the character it stands for.
fn simple_escape(pattern: &str, i: usize, out: &mut Translated) -> Result<usize, String> {
    let rest = &pattern[i + 1..];
    match escape_len(rest) {
        Some(len) => {
            out.literal(escape_char(&rest[..len]), i);
            Ok(i + 1 + len)
        }
        None => {
            // Go's text: the backslash and what it read before giving up.
            let mut chars = rest.char_indices();
            let first = chars.next().map_or(0, |(_, c)| c.len_utf8());
            let read = if let Some(body) = rest.strip_prefix("x{") {
                // Go stops at the first character that is not a hex digit, or at the digit
                // that makes the code too large.
                let mut value = 0u32;
                let mut read = 2;
                for c in body.chars() {
                    read += c.len_utf8();
                    match c.to_digit(16) {
                        Some(d) => {
                            value = value * 16 + d;
                            if value > 0x10ffff {
                                break;
                            }
                        }
                        None => break,
                    }
                }
                read
            } else if rest.starts_with('x') {
                rest.char_indices().nth(3).map_or(rest.len(), |(at, _)| at)
            } else {
                first
            };
            Err(go_error(Code::InvalidEscape, &pattern[i..i + 1 + read]))
        }
    }
}

/// A bracketed class from its `[` at `i`; returns where parsing resumes.
fn class(pattern: &str, start: usize, out: &mut Translated) -> Result<usize, String> {
    let missing = || go_error(Code::MissingBracket, &pattern[start..]);
    out.push("[", start);
    let mut i = start + 1;
    if pattern[i..].starts_with('^') {
        out.push("^", i);
        i += 1;
    }
    // A `]` first is a literal in Go.
    if pattern[i..].starts_with(']') {
        out.push("\\]", i);
        i += 1;
    }
    loop {
        let rest = &pattern[i..];
        let Some(c) = rest.chars().next() else {
            return Err(missing());
        };
        match c {
            ']' => {
                out.push("]", i);
                return Ok(i + 1);
            }
            '[' if rest.starts_with("[:") => match rest[2..].find(":]") {
                Some(end) => {
                    let whole = &rest[..end + 4];
                    let name = &rest[2..2 + end];
                    if !POSIX.contains(&name.strip_prefix('^').unwrap_or(name)) {
                        return Err(go_error(Code::InvalidCharRange, whole));
                    }
                    out.push(whole, i);
                    i += whole.len();
                }
                None => {
                    out.push("\\[", i);
                    i += 1;
                }
            },
            // Literals in Go; nesting and set operators in the regex crate.
            '[' | '&' | '~' => {
                out.push("\\", i);
                out.push_char(c, i);
                i += 1;
            }
            '\\' => {
                let next = rest[1..].chars().next();
                let class = match next {
                    Some('w') => Some("0-9A-Za-z_"),
                    Some('d') => Some("0-9"),
                    Some('s') => Some("\\t\\n\\f\\r "),
                    Some('W') => Some("\\x00-/:-@\\[-^`{-\\x{10FFFF}"),
                    Some('D') => Some("\\x00-/:-\\x{10FFFF}"),
                    Some('S') => Some("\\x00-\\x08\\x0B\\x0E-\\x1F!-\\x{10FFFF}"),
                    None => return Err(missing()),
                    _ => None,
                };
                if let Some(text) = class {
                    out.push(text, i);
                    i += 2;
                } else if matches!(next, Some('p' | 'P')) {
                    i = unicode_class(pattern, i, out)?;
                } else {
                    i = simple_escape(pattern, i, out)?;
                }
            }
            _ => {
                out.push_char(c, i);
                i += c.len_utf8();
            }
        }
    }
}

/// `(?` from `i`: Go's named captures and flag groups; returns where parsing resumes and whether
/// a group opened.
fn perl_group(pattern: &str, i: usize, out: &mut Translated) -> Result<(usize, bool), String> {
    let rest = &pattern[i..];
    let named = if rest.len() > 4 && rest[2..].starts_with("P<") {
        Some(4)
    } else if rest.len() > 3 && rest[2..].starts_with('<') {
        Some(3)
    } else {
        None
    };
    if let Some(begin) = named {
        let Some(end) = rest.find('>') else {
            return Err(go_error(Code::InvalidNamedCapture, rest));
        };
        let name = &rest[begin..end];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(go_error(Code::InvalidNamedCapture, &rest[..end + 1]));
        }
        out.push("(?P<", i);
        out.push(name, i + begin);
        out.push(">", i + end);
        return Ok((i + end + 1, true));
    }
    // Flags: i, m, s, U, a negation, then `)` or `:`.
    let mut negated = false;
    let mut saw_flag = false;
    for (at, c) in rest.char_indices().skip(2) {
        match c {
            'i' | 'm' | 's' | 'U' => saw_flag = true,
            '-' if !negated => {
                negated = true;
                saw_flag = false;
            }
            ':' | ')' if !negated || saw_flag => {
                out.push(&rest[..=at], i);
                return Ok((i + at + 1, c == ':'));
            }
            _ => return Err(go_error(Code::InvalidPerlOp, &rest[..at + c.len_utf8()])),
        }
    }
    Err(go_error(Code::InvalidPerlOp, rest))
}

/// Go's text for an error the regex crate found in a translated pattern.
fn rust_error(pattern: &str, translated: &Translated) -> String {
    let origin = |offset: usize| {
        translated
            .origin
            .get(offset)
            .copied()
            .unwrap_or(pattern.len())
    };
    let mut parser = regex_syntax::ParserBuilder::new()
        .nest_limit(NEST_LIMIT)
        .build();
    let (code, span) = match parser.parse(&translated.text) {
        Err(regex_syntax::Error::Parse(e)) => {
            let code = match e.kind() {
                ErrorKind::GroupUnclosed => Code::MissingParen,
                ErrorKind::GroupUnopened => Code::UnexpectedParen,
                ErrorKind::ClassUnclosed => Code::MissingBracket,
                ErrorKind::ClassRangeInvalid | ErrorKind::ClassRangeLiteral => {
                    Code::InvalidCharRange
                }
                ErrorKind::RepetitionMissing => Code::MissingRepeatArgument,
                ErrorKind::RepetitionCountInvalid => Code::InvalidRepeatSize,
                ErrorKind::NestLimitExceeded(_) => Code::NestingDepth,
                ErrorKind::GroupNameDuplicate { .. }
                | ErrorKind::GroupNameEmpty
                | ErrorKind::GroupNameInvalid
                | ErrorKind::GroupNameUnexpectedEof => Code::InvalidNamedCapture,
                ErrorKind::FlagDanglingNegation
                | ErrorKind::FlagDuplicate { .. }
                | ErrorKind::FlagRepeatedNegation { .. }
                | ErrorKind::FlagUnexpectedEof
                | ErrorKind::FlagUnrecognized
                | ErrorKind::UnsupportedLookAround => Code::InvalidPerlOp,
                _ => Code::InvalidEscape,
            };
            (code, *e.span())
        }
        Err(regex_syntax::Error::Translate(e)) => (Code::InvalidCharRange, *e.span()),
        _ => (
            Code::Large,
            regex_syntax::ast::Span::splat(regex_syntax::ast::Position::new(0, 1, 1)),
        ),
    };
    let expr = match code {
        Code::MissingParen | Code::UnexpectedParen | Code::Large | Code::NestingDepth => pattern,
        Code::MissingBracket => &pattern[origin(span.start.offset)..],
        _ => {
            let (start, end) = (origin(span.start.offset), origin(span.end.offset));
            pattern.get(start..end.max(start)).unwrap_or(pattern)
        }
    };
    go_error(code, expr)
}

/// The compiled pattern, from the cache when seen before; Go's error text when it is not valid.
pub fn compile(pattern: &str) -> Result<Arc<Regex>, String> {
    if let Some(found) = CACHE.get(pattern) {
        return Ok(found);
    }
    let translated = translate(pattern)?;
    let regex = RegexBuilder::new(&translated.text)
        .size_limit(MAX_COMPILED)
        .dfa_size_limit(MAX_COMPILED)
        .nest_limit(NEST_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::Syntax(_) => rust_error(pattern, &translated),
            _ => go_error(Code::Large, pattern),
        })?;
    let regex = Arc::new(regex);
    CACHE.insert(pattern.to_owned(), regex.clone());
    Ok(regex)
}

/// What Sprig's non-`must` functions report: `regexp.MustCompile`'s panic, which Go's template
/// engine turns into the call's error.
pub fn must_compile(pattern: &str) -> Result<Arc<Regex>, String> {
    compile(pattern).map_err(|e| {
        let quoted = if pattern
            .chars()
            .all(|c| c != '`' && (c == '\t' || !c.is_control()))
        {
            format!("`{pattern}`")
        } else {
            crate::render::golang::quote(pattern)
        };
        format!("regexp: Compile({quoted}): {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_ascii_like_go() {
        let word = compile(r"^\w+$").unwrap();
        assert!(word.is_match("abc_1"));
        assert!(!word.is_match("é"));
        let class = compile(r"^[\w-]+$").unwrap();
        assert!(class.is_match("a-b"));
        assert!(compile(r"\bx\b").unwrap().is_match("a x b"));
        assert!(compile(r"^[\W]+$").unwrap().is_match("é-"));
        assert!(!compile(r"^[\W]+$").unwrap().is_match("a"));
    }

    #[test]
    fn go_literals_stay_literals() {
        for (pattern, text) in [
            ("^a{$", "a{"),
            ("^{x}$", "{x}"),
            ("^a{01}$", "a{01}"),
            ("^[[]$", "["),
            ("^[a&&b]+$", "a&b"),
            (r"^\Q.*\E$", ".*"),
            (r"^\<$", "<"),
            (r"^\101\x41\x{41}$", "AAA"),
        ] {
            assert!(compile(pattern).unwrap().is_match(text), "{pattern}");
        }
    }

    #[test]
    fn errors_are_gos() {
        for (pattern, error) in [
            ("(", "missing closing ): `(`"),
            ("a)", "unexpected ): `a)`"),
            ("x[a-", "missing closing ]: `[a-`"),
            ("[z-a]", "invalid character class range: `z-a`"),
            ("*", "missing argument to repetition operator: `*`"),
            ("a**", "invalid nested repetition operator: `**`"),
            ("a{1001}", "invalid repeat count: `{1001}`"),
            ("a{2,1}", "invalid repeat count: `{2,1}`"),
            (r"\q", "invalid escape sequence: `\\q`"),
            (r"\1", "invalid escape sequence: `\\1`"),
            ("a\\", "trailing backslash at end of expression: ``"),
            ("(?x)", "invalid or unsupported Perl syntax: `(?x`"),
            ("(?=a)", "invalid or unsupported Perl syntax: `(?=`"),
            ("(?P<>a)", "invalid named capture: `(?P<>`"),
            ("[[:foo:]]", "invalid character class range: `[:foo:]`"),
            (r"\p{Nope}", "invalid character class range: `\\p{Nope}`"),
        ] {
            assert_eq!(
                compile(pattern).err().as_deref(),
                Some(format!("error parsing regexp: {error}").as_str()),
                "{pattern}"
            );
        }
    }

    #[test]
    fn hostile_patterns_are_cheap_or_refused() {
        let started = std::time::Instant::now();
        for _ in 0..250 {
            let pattern = compile(r"\w{1,200}").unwrap();
            assert!(pattern.is_match("x"));
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(compile(r"(\w{1,1000}){1,1000}").is_err());
    }
}
