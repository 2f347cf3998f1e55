use std::fmt;
use std::str::FromStr;

/// The packs a credential may write: globs over pack names (`cni-*`, `team-?-*`, `*`), any of
/// which may match. `*` matches any run of characters and `?` one; everything else is literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackPatterns(Vec<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackPatternsError {
    #[error("a pack pattern list may not be empty")]
    Empty,
    #[error(
        "pack pattern {0:?} may only hold lowercase letters, digits, '.', '_', '-', '/' (OCI repository names), '*' and '?'"
    )]
    Invalid(String),
}

impl PackPatterns {
    /// Every pack.
    pub fn all() -> PackPatterns {
        PackPatterns(vec!["*".to_owned()])
    }

    pub fn is_all(&self) -> bool {
        self.0.iter().any(|p| p == "*")
    }

    pub fn allows(&self, pack: &str) -> bool {
        self.0
            .iter()
            .any(|pattern| glob(pattern.as_bytes(), pack.as_bytes()))
    }

    pub fn patterns(&self) -> &[String] {
        &self.0
    }
}

impl Default for PackPatterns {
    fn default() -> PackPatterns {
        PackPatterns::all()
    }
}

/// Glob matching with `*` and `?`, iterative (backtracking to the last `*` only), so any pattern
/// costs at most pattern × name steps.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((star_p, star_n)) = star {
            p = star_p + 1;
            n = star_n + 1;
            star = Some((star_p, star_n + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|b| *b == b'*')
}

impl FromStr for PackPatterns {
    type Err = PackPatternsError;

    /// A comma-separated list: `cni-*,team-*`.
    fn from_str(text: &str) -> Result<PackPatterns, PackPatternsError> {
        let mut patterns = Vec::new();
        for pattern in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let valid = pattern.len() <= 128
                && pattern.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || matches!(b, b'.' | b'_' | b'-' | b'/' | b'*' | b'?')
                });
            if !valid {
                return Err(PackPatternsError::Invalid(pattern.to_owned()));
            }
            if !patterns.iter().any(|p| p == pattern) {
                patterns.push(pattern.to_owned());
            }
        }
        if patterns.is_empty() {
            return Err(PackPatternsError::Empty);
        }
        Ok(PackPatterns(patterns))
    }
}

impl fmt::Display for PackPatterns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_pack_names() {
        let patterns: PackPatterns = "cni-*, team-?-x".parse().unwrap();
        assert!(patterns.allows("cni-calico"));
        assert!(patterns.allows("cni-"));
        assert!(patterns.allows("team-a-x"));
        assert!(!patterns.allows("team-ab-x"));
        assert!(!patterns.allows("csi-aws"));
        assert!(PackPatterns::all().allows("anything"));
        assert!(
            "*calico*"
                .parse::<PackPatterns>()
                .unwrap()
                .allows("cni-calico-x")
        );
        assert_eq!(patterns.to_string(), "cni-*,team-?-x");
    }

    #[test]
    fn refuses_empty_and_odd_patterns() {
        assert_eq!("".parse::<PackPatterns>(), Err(PackPatternsError::Empty));
        assert!(" , ".parse::<PackPatterns>().is_err());
        assert!("CNI-*".parse::<PackPatterns>().is_err());
        assert!("a b".parse::<PackPatterns>().is_err());
        assert!("a:b".parse::<PackPatterns>().is_err());
        // Slashes are for OCI repository names.
        let oci: PackPatterns = "team/*".parse().unwrap();
        assert!(oci.allows("team/app") && !oci.allows("other/app"));
    }

    #[test]
    fn hostile_patterns_stay_cheap() {
        let pattern: PackPatterns = "*a*a*a*a*a*a*a*a*a*a*b".parse().unwrap();
        let name = "a".repeat(200);
        let started = std::time::Instant::now();
        assert!(!pattern.allows(&name));
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
    }
}
