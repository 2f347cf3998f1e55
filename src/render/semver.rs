//! Masterminds/semver v3, as Sprig's `semverCompare` and Helm's version checks use it: lenient
//! versions (`v1.2`, `1`), constraints with `||`, commas or spaces, wildcards (`1.2.x`, `*`),
//! hyphen ranges, `~`, `^`, and its prerelease rule (a prerelease version only satisfies a
//! constraint that names a prerelease).

use std::cmp::Ordering;
use std::sync::LazyLock;

use regex::Regex;

/// A version as Masterminds parses it leniently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub build: String,
}

static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$",
    )
    .expect("a valid pattern")
});

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let caps = VERSION.captures(text.trim())?;
        let part = |i: usize| -> Option<u64> {
            match caps.get(i) {
                Some(m) => m.as_str().trim_start_matches('.').parse().ok(),
                None => Some(0),
            }
        };
        Some(Version {
            major: part(1)?,
            minor: part(2)?,
            patch: part(3)?,
            pre: caps.get(5).map_or(String::new(), |m| m.as_str().to_owned()),
            build: caps.get(8).map_or(String::new(), |m| m.as_str().to_owned()),
        })
    }

    /// Masterminds' `NewVersion` with its error texts: no surrounding space, `v` the only
    /// prefix, numeric prerelease parts without leading zeros.
    pub fn parse_strict(text: &str) -> Result<Version, String> {
        if text.len() > 256 {
            return Err("version string is too long (max 256 bytes)".to_owned());
        }
        let caps = VERSION
            .captures(text)
            .ok_or_else(|| "invalid semantic version".to_owned())?;
        let part = |i: usize| -> Result<u64, String> {
            match caps.get(i) {
                Some(m) => {
                    let digits = m.as_str().trim_start_matches('.');
                    digits.parse().map_err(|_| {
                        format!(
                            "error parsing version segment: strconv.ParseUint: parsing {}: value \
                             out of range",
                            crate::render::golang::quote(digits)
                        )
                    })
                }
                None => Ok(0),
            }
        };
        let version = Version {
            major: part(1)?,
            minor: part(2)?,
            patch: part(3)?,
            pre: caps.get(5).map_or(String::new(), |m| m.as_str().to_owned()),
            build: caps.get(8).map_or(String::new(), |m| m.as_str().to_owned()),
        };
        if !version.pre.is_empty() {
            validate_prerelease(&version.pre)?;
        }
        if !version.build.is_empty() {
            validate_metadata(&version.build)?;
        }
        Ok(version)
    }

    /// `IncPatch`: a prerelease drops to its release, a release moves up a patch.
    pub fn inc_patch(&self) -> Version {
        Version {
            patch: if self.pre.is_empty() {
                self.patch + 1
            } else {
                self.patch
            },
            pre: String::new(),
            build: String::new(),
            ..self.clone()
        }
    }

    pub fn inc_minor(&self) -> Version {
        Version {
            minor: self.minor + 1,
            patch: 0,
            pre: String::new(),
            build: String::new(),
            ..self.clone()
        }
    }

    pub fn inc_major(&self) -> Version {
        Version {
            major: self.major + 1,
            minor: 0,
            patch: 0,
            pre: String::new(),
            build: String::new(),
        }
    }

    pub fn compare(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| compare_pre(&self.pre, &other.pre))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

/// Masterminds' `validatePrerelease`.
pub fn validate_prerelease(pre: &str) -> Result<(), String> {
    for part in pre.split('.') {
        if part.is_empty() {
            return Err("invalid prerelease string".to_owned());
        }
        if part.bytes().all(|b| b.is_ascii_digit()) {
            if part.len() > 1 && part.starts_with('0') {
                return Err("version segment starts with 0".to_owned());
            }
        } else if !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err("invalid prerelease string".to_owned());
        }
    }
    Ok(())
}

/// Masterminds' `validateMetadata`.
pub fn validate_metadata(build: &str) -> Result<(), String> {
    if build.split('.').all(|part| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }) {
        Ok(())
    } else {
        Err("invalid metadata string".to_owned())
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (mut x, mut y) = (a.split('.'), b.split('.'));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let order = match (p.parse::<u64>(), q.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    _ => p.cmp(q),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Term {
    op: String,
    con: Version,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

static TERM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(!=|>=|=>|<=|=<|~>|>|<|=|~|\^)?\s*(v?[0-9xX*]+(?:\.[0-9xX*]+)?(?:\.[0-9xX*]+)?(?:-[0-9A-Za-z\-.]+)?(?:\+[0-9A-Za-z\-.]+)?)",
    )
    .expect("a valid pattern")
});

static HYPHEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\S+)\s+-\s+(\S+)").expect("a valid pattern"));

fn is_wild(part: &str) -> bool {
    matches!(part, "x" | "X" | "*")
}

fn parse_term(op: &str, text: &str) -> Result<Term, String> {
    let (core, suffix) = match text.find(['-', '+']) {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, ""),
    };
    let core = core.trim_start_matches(['v', 'V']);
    let parts: Vec<&str> = core.split('.').collect();
    let wild_major = parts.first().is_some_and(|p| is_wild(p));
    let minor_dirty = wild_major || parts.get(1).is_none_or(|p| is_wild(p));
    let patch_dirty = minor_dirty || parts.get(2).is_none_or(|p| is_wild(p));
    let number = |i: usize| match parts.get(i) {
        Some(p) if !is_wild(p) => p.to_owned(),
        _ => "0",
    };
    let normalized = format!("{}.{}.{}{suffix}", number(0), number(1), number(2));
    let con = Version::parse(&normalized)
        .ok_or_else(|| format!("improper constraint: {:?}", format!("{op}{text}")))?;
    let op = match op {
        "=>" => ">=",
        "=<" => "<=",
        "~>" => "~",
        other => other,
    };
    Ok(Term {
        op: if wild_major && op.is_empty() {
            ">=".to_owned()
        } else {
            op.to_owned()
        },
        con,
        minor_dirty,
        patch_dirty,
        dirty: minor_dirty || patch_dirty || wild_major,
    })
}

impl Term {
    fn check(&self, v: &Version) -> bool {
        if !v.pre.is_empty() && self.con.pre.is_empty() {
            return false;
        }
        let c = &self.con;
        match self.op.as_str() {
            "" | "=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    v.compare(c) == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if self.minor_dirty {
                        return false;
                    }
                    if c.minor != v.minor {
                        return true;
                    }
                    !self.patch_dirty && c.patch != v.patch
                } else {
                    v.compare(c) != Ordering::Equal
                }
            }
            ">" => {
                if !self.dirty {
                    return v.compare(c) == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                v.minor > c.minor
            }
            "<" => v.compare(c) == Ordering::Less,
            ">=" => v.compare(c) != Ordering::Less,
            "<=" => {
                if !self.dirty {
                    return v.compare(c) != Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major < c.major;
                }
                if self.minor_dirty {
                    return true;
                }
                v.minor <= c.minor
            }
            "~" => self.tilde(v),
            "^" => {
                if v.compare(c) == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.major == 0 && v.minor == c.minor;
                }
                v.major == 0 && v.minor == 0 && v.patch == c.patch
            }
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return v.major == 0 && v.minor == 0;
        }
        if v.major != c.major {
            return false;
        }
        self.minor_dirty || v.minor == c.minor
    }
}

/// A parsed constraint: alternatives of terms that must all hold.
#[derive(Debug, Clone)]
pub struct Constraints(Vec<Vec<Term>>);

impl Constraints {
    pub fn parse(text: &str) -> Result<Constraints, String> {
        let mut groups = Vec::new();
        for group in text.split("||") {
            let group = HYPHEN.replace_all(group.trim(), ">= $1, <= $2");
            let mut terms = Vec::new();
            let mut rest = group.as_ref();
            while !rest.trim().is_empty() {
                let trimmed = rest.trim_start_matches([' ', ',', '\t']);
                let caps = TERM
                    .captures(trimmed)
                    .filter(|c| c.get(0).is_some_and(|m| m.start() == 0))
                    .ok_or_else(|| format!("improper constraint: {:?}", text.trim()))?;
                let whole = caps.get(0).map_or(0, |m| m.end());
                terms.push(parse_term(
                    caps.get(1).map_or("", |m| m.as_str()),
                    caps.get(2).map_or("", |m| m.as_str()),
                )?);
                rest = &trimmed[whole..];
                if !rest.is_empty() && !rest.starts_with([' ', ',', '\t']) {
                    return Err(format!("improper constraint: {:?}", text.trim()));
                }
            }
            if terms.is_empty() {
                return Err(format!("improper constraint: {:?}", text.trim()));
            }
            groups.push(terms);
        }
        Ok(Constraints(groups))
    }

    pub fn check(&self, version: &Version) -> bool {
        self.0
            .iter()
            .any(|terms| terms.iter().all(|t| t.check(version)))
    }
}

/// `semverCompare constraint version`.
pub fn matches(constraint: &str, version: &str) -> Result<bool, String> {
    // Sprig's semverCompare: the constraint first, then NewVersion (strict: no surrounding space).
    let constraints = Constraints::parse(constraint)?;
    Ok(constraints.check(&Version::parse_strict(version)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_follow_masterminds() {
        for (constraint, version, expected) in [
            (">=1.13-0", "v1.30.0", true),
            ("<1.21-0", "v1.30.0", false),
            (">= 1.23-0", "v1.30.0", true),
            (">=1.19.0-0", "1.30.0-eks-1", true),
            (">=1.19.0", "1.30.0-eks-1", false),
            ("~1.29.0", "v1.29.4", true),
            ("~1.29.0", "1.30.0", false),
            ("^1.2", "1.9.0", true),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("1.2.x", "1.2.7", true),
            ("1.2.x", "1.3.0", false),
            ("*", "3.0.0", true),
            ("<1.0 || >=2.0", "2.1.0", true),
            ("!=1.2.3", "1.2.3", false),
            ("1.2 - 1.4", "1.4.0", true),
            ("1.2 - 1.4", "1.5.0", false),
            (">1.2", "1.2.1", false),
            (">1.2", "1.3.0", true),
            ("<=1.2", "1.2.9", true),
        ] {
            assert_eq!(
                matches(constraint, version),
                Ok(expected),
                "{constraint} {version}"
            );
        }
        assert!(matches("~1.29.0", "not-a-version").is_err());
        assert!(matches("nonsense", "1.0.0").is_err());
    }
}
