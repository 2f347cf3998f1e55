//! Pack versions as published, ordered leniently, and the tags computed from them.

use std::cmp::Ordering;
use std::fmt;

/// A pack version exactly as published (`3.24.6`, `1.5`, `v1.1.0`, `26.04.4`, `1.0.0-rc.1`), with a
/// lenient order: numeric release parts compared as numbers with missing parts as 0, then semver's
/// pre-release rules, then the published spelling so that the order is total.
#[derive(Clone, Debug)]
pub struct Version {
    raw: String,
    release: Vec<u64>,
    pre_release: Vec<Identifier>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Identifier {
    Numeric(u64),
    Alphanumeric(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("version is empty")]
    Empty,
    #[error("version is longer than {} characters", Version::MAX_LEN)]
    TooLong,
    #[error(
        "version {0:?} is not a version: expected numeric parts separated by dots (such as 3.24.6 or 1.5), optionally with a leading v, a -pre-release and a +build suffix"
    )]
    Malformed(String),
    #[error("version {0:?} has more than {max} numeric parts", max = Version::MAX_PARTS)]
    TooManyParts(String),
}

/// Why a version that is accepted is still not strict semver (a lint finding, not an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leniency {
    LeadingV,
    PartCount(usize),
    LeadingZeros,
}

impl fmt::Display for Leniency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Leniency::LeadingV => f.write_str("it has a leading 'v'"),
            Leniency::PartCount(n) => write!(f, "it has {n} numeric parts instead of 3"),
            Leniency::LeadingZeros => f.write_str("a numeric part has a leading zero"),
        }
    }
}

impl Version {
    pub const MAX_LEN: usize = 128;
    pub const MAX_PARTS: usize = 8;
    /// What [`Version::parse`] accepts, as a regular expression, for the API document (numeric
    /// parts of up to 19 digits always fit a u64; the parser also takes a 20-digit one that fits).
    pub const PATTERN: &'static str = r"^[vV]?[0-9]{1,19}(\.[0-9]{1,19}){0,7}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$";

    pub fn parse(text: &str) -> Result<Version, VersionError> {
        if text.is_empty() {
            return Err(VersionError::Empty);
        }
        if text.len() > Self::MAX_LEN {
            return Err(VersionError::TooLong);
        }
        let malformed = || VersionError::Malformed(text.to_owned());
        let unprefixed = text
            .strip_prefix('v')
            .or_else(|| text.strip_prefix('V'))
            .unwrap_or(text);
        let (without_build, build) = match unprefixed.split_once('+') {
            Some((head, build)) => (head, Some(build)),
            None => (unprefixed, None),
        };
        let (release_text, pre_text) = match without_build.split_once('-') {
            Some((head, pre)) => (head, Some(pre)),
            None => (without_build, None),
        };
        let release = release_text
            .split('.')
            .map(|part| {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(malformed());
                }
                part.parse::<u64>().map_err(|_| malformed())
            })
            .collect::<Result<Vec<u64>, _>>()?;
        if release.len() > Self::MAX_PARTS {
            return Err(VersionError::TooManyParts(text.to_owned()));
        }
        let identifier_ok =
            |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let pre_release = match pre_text {
            None => Vec::new(),
            Some(pre) => pre
                .split('.')
                .map(|id| {
                    if !identifier_ok(id) {
                        return Err(malformed());
                    }
                    Ok(match id.parse::<u64>() {
                        Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => Identifier::Numeric(n),
                        _ => Identifier::Alphanumeric(id.to_owned()),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        if let Some(build) = build
            && !build.split('.').all(identifier_ok)
        {
            return Err(malformed());
        }
        Ok(Version {
            raw: text.to_owned(),
            release,
            pre_release,
        })
    }

    /// The version exactly as published.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn is_pre_release(&self) -> bool {
        !self.pre_release.is_empty()
    }

    /// The ways this version departs from strict semver (`MAJOR.MINOR.PATCH` without a `v` or
    /// leading zeros); empty when it is strict.
    pub fn leniencies(&self) -> Vec<Leniency> {
        let mut found = Vec::new();
        if self.raw.starts_with(['v', 'V']) {
            found.push(Leniency::LeadingV);
        }
        if self.release.len() != 3 {
            found.push(Leniency::PartCount(self.release.len()));
        }
        let release_text = self
            .raw
            .trim_start_matches(['v', 'V'])
            .split(['-', '+'])
            .next()
            .unwrap_or_default();
        if release_text
            .split('.')
            .any(|part| part.len() > 1 && part.starts_with('0'))
        {
            found.push(Leniency::LeadingZeros);
        }
        found
    }

    /// The numeric release part at `index`, 0 when absent.
    fn part(&self, index: usize) -> u64 {
        self.release.get(index).copied().unwrap_or(0)
    }

    /// Parent tags `X.x` and `X.Y.x`, most general first.
    pub fn parent_tags(&self) -> [String; 2] {
        [
            format!("{}.x", self.part(0)),
            format!("{}.{}.x", self.part(0), self.part(1)),
        ]
    }

    /// True when this version belongs to `line` (the numeric prefix of a parent tag).
    pub fn in_line(&self, line: &[u64]) -> bool {
        line.iter().enumerate().all(|(i, n)| self.part(i) == *n)
    }

    /// A string whose byte order is this version's order, for `ORDER BY` and keyset paging.
    pub fn sort_key(&self) -> String {
        let mut key = self.order_prefix();
        key.push_str(&self.raw);
        key
    }

    /// The part of [`Version::sort_key`] before the spelling: equal for versions that compare
    /// equal (`1.5` and `1.5.0`), so a version's key starts with it.
    pub fn order_prefix(&self) -> String {
        let mut key = String::with_capacity(8 * 21 + 32);
        for index in 0..Self::MAX_PARTS {
            key.push_str(&format!("{:020}.", self.part(index)));
        }
        if self.pre_release.is_empty() {
            // '~' sorts after every pre-release marker: a release outranks its pre-releases.
            key.push('~');
        } else {
            key.push('!');
            // '\u{2}' separates identifiers and '\u{1}' ends the list, so a shorter list of
            // otherwise equal identifiers sorts first, as semver requires.
            for id in &self.pre_release {
                key.push('\u{2}');
                match id {
                    Identifier::Numeric(n) => key.push_str(&format!("0{n:020}")),
                    Identifier::Alphanumeric(s) => {
                        key.push('1');
                        key.push_str(s);
                    }
                }
            }
            key.push('\u{1}');
        }
        // The spelling breaks ties (`1.5` and `1.5.0`); ' ' sorts below every identifier byte.
        key.push(' ');
        key
    }
}

fn compare_pre_release(a: &[Identifier], b: &[Identifier]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    for (x, y) in a.iter().zip(b) {
        let order = match (x, y) {
            (Identifier::Numeric(x), Identifier::Numeric(y)) => x.cmp(y),
            (Identifier::Numeric(_), Identifier::Alphanumeric(_)) => Ordering::Less,
            (Identifier::Alphanumeric(_), Identifier::Numeric(_)) => Ordering::Greater,
            (Identifier::Alphanumeric(x), Identifier::Alphanumeric(y)) => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (0..Self::MAX_PARTS)
            .map(|i| self.part(i).cmp(&other.part(i)))
            .find(|order| *order != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
            .then_with(|| compare_pre_release(&self.pre_release, &other.pre_release))
            .then_with(|| self.raw.cmp(&other.raw))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for Version {}

impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.raw.hash(state);
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// What a client may ask for where a version is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagRef {
    /// `latest`: the newest usable version.
    Latest,
    /// `X.x` or `X.Y.x` (also `v3.24.x`): the newest usable version of that line.
    Line(Vec<u64>),
    /// A concrete version string, matched exactly as published.
    Exact(String),
}

impl TagRef {
    pub fn parse(tag: &str) -> TagRef {
        if tag == "latest" {
            return TagRef::Latest;
        }
        if let Some(prefix) = tag.strip_suffix(".x") {
            let digits = prefix.trim_start_matches(['v', 'V']);
            let parts: Option<Vec<u64>> = digits
                .split('.')
                .map(|p| {
                    (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| p.parse().ok())
                        .flatten()
                })
                .collect();
            if let Some(parts) = parts
                && (1..=2).contains(&parts.len())
            {
                return TagRef::Line(parts);
            }
        }
        TagRef::Exact(tag.to_owned())
    }

    /// The newest of `candidates` this tag names. Lines and `latest` only consider releases unless
    /// the line holds nothing but pre-releases.
    pub fn resolve<'a>(
        &self,
        candidates: impl IntoIterator<Item = &'a Version> + Clone,
    ) -> Option<&'a Version> {
        match self {
            TagRef::Exact(text) => candidates.into_iter().find(|v| v.as_str() == text),
            TagRef::Latest => newest(candidates, |_| true),
            TagRef::Line(line) => newest(candidates, |v| v.in_line(line)),
        }
    }
}

fn newest<'a>(
    candidates: impl IntoIterator<Item = &'a Version> + Clone,
    matches: impl Fn(&Version) -> bool,
) -> Option<&'a Version> {
    let release = candidates
        .clone()
        .into_iter()
        .filter(|v| matches(v) && !v.is_pre_release())
        .max();
    release.or_else(|| candidates.into_iter().filter(|v| matches(v)).max())
}

#[cfg(test)]
mod tests {
    #[test]
    fn what_the_documented_pattern_matches_parses() {
        let pattern = regex::Regex::new(Version::PATTERN).unwrap();
        for text in [
            "3.24.6",
            "v1.5",
            "1",
            "1.2.3-rc.1",
            "1.2.3-rc-1+build.5",
            "1.2.3.4.5.6.7.8",
            "1.2.3.4.5.6.7.8.9",
            "3.24.x",
            "latest",
            "",
            "1..2",
            "1.2-",
            "1.2+",
            "-1",
            "1.2.3-a..b",
            "01.2",
            "V2",
            "1.2.3+",
            "x",
        ] {
            if pattern.is_match(text) {
                assert!(
                    Version::parse(text).is_ok(),
                    "{text:?} matches but does not parse"
                );
            } else {
                assert!(
                    Version::parse(text).is_err(),
                    "{text:?} parses but does not match"
                );
            }
        }
    }

    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn accepts_versions_real_catalogs_hold() {
        for text in [
            "3.24.6",
            "1.5",
            "v1.1.0",
            "26.04.4",
            "1.0.0-rc.1",
            "1.2.3+build.7",
            "3.5.5.0",
        ] {
            assert_eq!(v(text).as_str(), text);
        }
        assert!(v("3.24.6").leniencies().is_empty());
        assert_eq!(v("1.5").leniencies(), vec![Leniency::PartCount(2)]);
        assert_eq!(v("v1.1.0").leniencies(), vec![Leniency::LeadingV]);
        assert_eq!(v("26.04.4").leniencies(), vec![Leniency::LeadingZeros]);
    }

    #[test]
    fn refuses_what_is_not_a_version() {
        for text in [
            "",
            "latest",
            "3.24.x",
            "1..2",
            "1.2.3-",
            "1.2.3-a..b",
            "a.b.c",
            "1.2/3",
            "1.2.3+",
            "1.2 3",
            "1.2.3.4.5.6.7.8.9",
        ] {
            assert!(Version::parse(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn orders_leniently_with_semver_pre_release_rules() {
        let mut versions: Vec<Version> = [
            "3.24.6",
            "1.5",
            "3.24.5",
            "v1.1.0",
            "1.5.1",
            "3.23.5",
            "3.24.6-rc.1",
            "3.24.6-rc.2",
            "3.24.6-beta",
            "3.24.6-rc.1.1",
            "26.04.4",
            "26.4.3",
            "1.10.0",
            "1.9.9",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0",
        ]
        .iter()
        .map(|t| v(t))
        .collect();
        versions.sort();
        let order: Vec<&str> = versions.iter().map(Version::as_str).collect();
        assert_eq!(
            order,
            [
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                "1.0.0",
                "v1.1.0",
                "1.5",
                "1.5.1",
                "1.9.9",
                "1.10.0",
                "3.23.5",
                "3.24.5",
                "3.24.6-beta",
                "3.24.6-rc.1",
                "3.24.6-rc.1.1",
                "3.24.6-rc.2",
                "3.24.6",
                "26.4.3",
                "26.04.4",
            ]
        );
        // The sort key agrees with the order, pair by pair.
        for pair in versions.windows(2) {
            assert!(
                pair[0].sort_key() < pair[1].sort_key(),
                "{} vs {}",
                pair[0],
                pair[1]
            );
        }
        assert!(v("1.5") < v("1.5.0") && v("1.5").sort_key() < v("1.5.0").sort_key());
    }

    #[test]
    fn parent_tags_and_resolution() {
        assert_eq!(
            v("3.24.6").parent_tags(),
            ["3.x".to_owned(), "3.24.x".to_owned()]
        );
        assert_eq!(
            v("1.5").parent_tags(),
            ["1.x".to_owned(), "1.5.x".to_owned()]
        );
        let versions: Vec<Version> = ["3.24.5", "3.24.6", "3.23.5", "3.25.0-rc.1", "4.0.0-beta"]
            .iter()
            .map(|t| v(t))
            .collect();
        let resolve = |tag: &str| {
            TagRef::parse(tag)
                .resolve(versions.iter())
                .map(|v| v.as_str().to_owned())
        };
        assert_eq!(resolve("3.24.x").as_deref(), Some("3.24.6"));
        assert_eq!(resolve("v3.24.x").as_deref(), Some("3.24.6"));
        assert_eq!(resolve("3.23.x").as_deref(), Some("3.23.5"));
        assert_eq!(resolve("3.x").as_deref(), Some("3.24.6"));
        assert_eq!(resolve("latest").as_deref(), Some("3.24.6"));
        // A line with only pre-releases resolves to its newest pre-release.
        assert_eq!(resolve("3.25.x").as_deref(), Some("3.25.0-rc.1"));
        assert_eq!(resolve("4.x").as_deref(), Some("4.0.0-beta"));
        assert_eq!(resolve("3.24.5").as_deref(), Some("3.24.5"));
        assert_eq!(resolve("3.22.x"), None);
        assert_eq!(resolve("9.9.9"), None);
    }
}
