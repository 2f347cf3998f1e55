//! `.helmignore`: the rules Helm applies when it loads a chart from a folder (`pkg/ignore`), and
//! the shell-style matcher they use (Go's `path/filepath.Match`).

/// One rule of a `.helmignore` file.
#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    negate: bool,
    dir_only: bool,
    anchored: bool,
    whole_path: bool,
}

/// The rules of a `.helmignore`, plus Helm's default (`templates/.?*`: hidden files among the
/// templates are never templates).
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    rules: Vec<Rule>,
}

impl IgnoreRules {
    /// Parses a `.helmignore`. Lines Helm refuses (`**`) are skipped, as they could never match.
    pub fn parse(text: &str) -> IgnoreRules {
        let mut rules = IgnoreRules::default();
        rules.add("templates/.?*");
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.contains("**") {
                continue;
            }
            rules.add(line);
        }
        rules
    }

    fn add(&mut self, line: &str) {
        let (negate, rest) = match line.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let (dir_only, rest) = match rest.strip_suffix('/') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let anchored = rest.starts_with('/');
        let pattern = rest.trim_start_matches('/').to_owned();
        if !anchored && (pattern.is_empty() || glob_match(&pattern, "").is_err()) {
            return;
        }
        self.rules.push(Rule {
            whole_path: anchored || pattern.contains('/'),
            pattern,
            negate,
            dir_only,
            anchored,
        });
    }

    /// Whether `path` (relative to the chart, `/`-separated) is ignored.
    pub fn ignored(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        if path == ".helmignore" {
            return true;
        }
        for rule in &self.rules {
            let subject = if rule.whole_path || rule.anchored {
                path
            } else {
                path.rsplit('/').next().unwrap_or(path)
            };
            let matched = glob_match(&rule.pattern, subject).unwrap_or(false);
            if rule.negate {
                if (rule.dir_only && !is_dir) || !matched {
                    return true;
                }
                continue;
            }
            if rule.dir_only && !is_dir {
                continue;
            }
            if matched {
                return true;
            }
        }
        false
    }
}

/// Go's `filepath.ErrBadPattern`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern")]
pub struct BadPattern;

/// Go's `filepath.Match` on `/`-separated names: `*` and `?` never match `/`, `[...]` classes
/// (with `^` negation and ranges), `\` escapes. A malformed pattern is an error.
pub fn glob_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> Result<bool, BadPattern> {
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' if ni < n.len() && n[ni] != '/' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' if ni < n.len() && n[ni] != '/' => {
                    let (matched, next) = class(p, pi, n[ni])?;
                    if matched {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                '\\' => {
                    let literal = *p.get(pi + 1).ok_or(BadPattern)?;
                    if ni < n.len() && n[ni] == literal {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c if c != '?' && c != '[' && ni < n.len() && n[ni] == c => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        } else if ni == n.len() {
            return Ok(true);
        }
        // Backtrack: let the last star take one more character (never a separator).
        match star {
            Some((sp, sn)) if sn < n.len() && n[sn] != '/' => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => {
                // Check the rest of the pattern is well formed, as Go reports bad patterns.
                validate(&p[pi.min(p.len())..])?;
                return Ok(false);
            }
        }
    }
}

fn validate(p: &[char]) -> Result<(), BadPattern> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => i += 2,
            '[' => i = class(p, i, '\0')?.1,
            _ => i += 1,
        }
    }
    if i > p.len() { Err(BadPattern) } else { Ok(()) }
}

/// Matches `c` against the class starting at `p[start] == '['`; returns the match and the index
/// after the class.
fn class(p: &[char], start: usize, c: char) -> Result<(bool, usize), BadPattern> {
    let mut i = start + 1;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i).ok_or(BadPattern)?;
        if ch == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let lo = if ch == '\\' {
            i += 1;
            *p.get(i).ok_or(BadPattern)?
        } else {
            ch
        };
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|c| *c != ']') {
            i += 1;
            hi = if p[i] == '\\' {
                i += 1;
                *p.get(i).ok_or(BadPattern)?
            } else {
                p[i]
            };
            i += 1;
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
    Ok((matched != negated, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_follow_go() {
        assert_eq!(glob_match("*.tgz", "a.tgz"), Ok(true));
        assert_eq!(glob_match("*.tgz", "x/a.tgz"), Ok(false));
        assert_eq!(glob_match("a?c", "abc"), Ok(true));
        assert_eq!(glob_match("[a-c]x", "bx"), Ok(true));
        assert_eq!(glob_match("[^a-c]x", "bx"), Ok(false));
        assert_eq!(glob_match("ci/*", "ci/x.yaml"), Ok(true));
        assert_eq!(glob_match(".*", ".git"), Ok(true));
        assert_eq!(glob_match("[", "a"), Err(BadPattern));
    }

    #[test]
    fn helmignore_rules_apply_like_helm() {
        let rules = IgnoreRules::parse("# c\n.git/\n*.swp\n/ci\n");
        assert!(rules.ignored(".git", true));
        assert!(!rules.ignored(".git", false));
        assert!(rules.ignored("templates/.hidden", false));
        assert!(!rules.ignored("templates/x.yaml", false));
        assert!(rules.ignored("ci", true));
        assert!(rules.ignored(".helmignore", false));
        // A negative rule that does not match ignores everything else, as Helm's does.
        let negated = IgnoreRules::parse("!keep.txt\n");
        assert!(negated.ignored("other.txt", false));
        assert!(!negated.ignored("keep.txt", false));
    }
}
