//! Go's regular expressions (RE2 syntax) on Rust's `regex` crate: both guarantee linear-time
//! matching, but Go's `\w`, `\d`, `\s` and `\b` are ASCII-only, so patterns are translated first.
//! Compiled patterns are cached (bounded in bytes) and each is limited in compiled size, so a
//! hostile pattern costs a bounded amount of memory and time.

use std::sync::{Arc, LazyLock};

use quick_cache::Weighter;
use quick_cache::sync::Cache;
use regex::{Regex, RegexBuilder};

/// The most memory one compiled pattern may take.
const MAX_COMPILED: usize = 2 << 20;
/// The compiled-pattern cache's bound.
pub const CACHE_BYTES: u64 = 16 << 20;

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

/// Rewrites Go's ASCII-only classes into explicit ones.
pub fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let replacement = match (next, in_class > 0) {
                    ('w', false) => Some("[0-9A-Za-z_]"),
                    ('w', true) => Some("0-9A-Za-z_"),
                    ('W', _) => Some("[^0-9A-Za-z_]"),
                    ('d', false) => Some("[0-9]"),
                    ('d', true) => Some("0-9"),
                    ('D', _) => Some("[^0-9]"),
                    ('s', false) => Some("[\\t\\n\\f\\r ]"),
                    ('s', true) => Some("\\t\\n\\f\\r "),
                    ('S', _) => Some("[^\\t\\n\\f\\r ]"),
                    ('b', false) => Some("(?-u:\\b)"),
                    ('B', false) => Some("(?-u:\\B)"),
                    _ => None,
                };
                match replacement {
                    Some(text) => out.push_str(text),
                    None => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' => {
                in_class += 1;
                out.push('[');
                // A `]` right after `[` or `[^` is a literal in both syntaxes.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
                if chars.peek() == Some(&':') {
                    // POSIX classes `[:alpha:]` pass through unchanged.
                }
            }
            ']' if in_class > 0 => {
                in_class -= 1;
                out.push(']');
            }
            other => out.push(other),
        }
    }
    out
}

/// The compiled pattern, from the cache when seen before.
pub fn compile(pattern: &str) -> Result<Arc<Regex>, String> {
    if let Some(found) = CACHE.get(pattern) {
        return Ok(found);
    }
    let regex = RegexBuilder::new(&translate(pattern))
        .size_limit(MAX_COMPILED)
        .dfa_size_limit(MAX_COMPILED)
        .nest_limit(200)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => {
                format!("error parsing regexp: expression too large: `{pattern}`")
            }
            other => format!("error parsing regexp: {other}"),
        })?;
    let regex = Arc::new(regex);
    CACHE.insert(pattern.to_owned(), regex.clone());
    Ok(regex)
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
