use std::str::FromStr;

/// A pack (repository) name such as `cni-calico`.
///
/// Palette's pack registries are docker-distribution servers, so names follow distribution's
/// single-component rule: lowercase letters and digits, separated by single `.`, `_`, `__` or runs of
/// `-`; at most 128 characters. Such a name is always one safe path segment.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackNameError {
    #[error("pack name is empty")]
    Empty,
    #[error("pack name is longer than {max} characters", max = PackName::MAX_LEN)]
    TooLong,
    #[error("pack name {0:?} is reserved for the registry's own routes")]
    Reserved(String),
    #[error(
        "pack name {0:?} is invalid: use lowercase letters and digits separated by '-', '.' or '_', starting and ending with a letter or digit"
    )]
    Invalid(String),
}

impl PackName {
    pub const MAX_LEN: usize = 128;
    /// [`follows_component_grammar`] as a regular expression, for the API document.
    pub const PATTERN: &'static str = "^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$";
    /// Names that are path segments of the registry's own `/v1/...` routes.
    pub const RESERVED: [&'static str; 3] = ["packs", "registries", "clusterprofiles"];

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Distribution's path component grammar: `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`.
pub(super) fn follows_component_grammar(name: &str) -> bool {
    let bytes = name.as_bytes();
    let mut i = 0;
    let alnum_run = |i: &mut usize| {
        let start = *i;
        while *i < bytes.len() && is_alnum(bytes[*i]) {
            *i += 1;
        }
        *i > start
    };
    if !alnum_run(&mut i) {
        return false;
    }
    while i < bytes.len() {
        match bytes[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if bytes.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while bytes.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
        if !alnum_run(&mut i) {
            return false;
        }
    }
    true
}

impl FromStr for PackName {
    type Err = PackNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(PackNameError::Empty);
        }
        if s.len() > Self::MAX_LEN {
            return Err(PackNameError::TooLong);
        }
        if !follows_component_grammar(s) {
            return Err(PackNameError::Invalid(s.to_owned()));
        }
        if Self::RESERVED.contains(&s) {
            return Err(PackNameError::Reserved(s.to_owned()));
        }
        Ok(PackName(s.to_owned()))
    }
}

text_display!(PackName);

impl AsRef<str> for PackName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for PackName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for PackName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_documented_pattern_is_the_grammar_the_parser_applies() {
        let pattern = regex::Regex::new(PackName::PATTERN).unwrap();
        for name in [
            "cni-calico",
            "a",
            "a.b",
            "a_b",
            "a__b",
            "a---b",
            "a1",
            "0",
            "a-",
            "-a",
            "a..b",
            "a___b",
            "A",
            "a b",
            "a/b",
            "",
            "a_.b",
            "é",
            "a.",
            "_a",
            "a--_b",
            "a__.b",
        ] {
            let parses = name.parse::<PackName>().is_ok() || PackName::RESERVED.contains(&name);
            assert_eq!(pattern.is_match(name), parses, "{name:?}");
        }
    }

    use super::*;

    #[test]
    fn accepts_real_pack_names() {
        for good in [
            "cni-calico",
            "kubernetes",
            "csi-aws-ebs",
            "edge-k8s",
            "a",
            "pack.v2",
            "my_pack",
            "my__pack",
            "a--b",
            "0ad",
        ] {
            assert!(good.parse::<PackName>().is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn refuses_names_that_are_not_one_safe_segment() {
        let too_long = "a".repeat(129);
        for bad in [
            "",
            ".",
            "..",
            "-calico",
            "calico-",
            "cni/calico",
            "CNI-Calico",
            "cni..calico",
            "a___b",
            "a._b",
            "cni calico",
            "%2e%2e",
            "_catalog",
            "packs",
            "registries",
            too_long.as_str(),
        ] {
            assert!(bad.parse::<PackName>().is_err(), "{bad:?} was accepted");
        }
    }
}
