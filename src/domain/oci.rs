//! The names of the OCI distribution API (distribution-spec v1.1): repository names (path
//! components joined by `/`), tags, manifest references, and where a pack lives in Palette's OCI
//! layout (`<prefix>/spectro-packs/archive/<name>:<version>`).

use std::fmt;
use std::str::FromStr;

use super::pack_name::follows_component_grammar;
use super::{Digest, PackName};

/// A repository name such as `team/spectro-packs/archive/cni-calico`: components of lowercase
/// letters and digits separated by `.`, `_`, `__` or runs of `-`, joined by `/`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OciNameError {
    #[error("repository name is empty")]
    Empty,
    #[error(
        "repository name is longer than {} characters",
        RepositoryName::MAX_LEN
    )]
    TooLong,
    #[error(
        "repository name {0:?} is invalid: components of lowercase letters and digits separated by '.', '_', '__' or '-', joined by '/'"
    )]
    Invalid(String),
    #[error("tag {0:?} is invalid: [a-zA-Z0-9_][a-zA-Z0-9._-]{{0,127}}")]
    InvalidTag(String),
    #[error("reference {0:?} is neither a tag nor a sha256 digest")]
    InvalidDigest(String),
}

impl RepositoryName {
    /// Distribution's limit; the spec leaves it to registries.
    pub const MAX_LEN: usize = 255;
    /// The spec's name grammar, for the API document.
    pub const PATTERN: &'static str =
        "^[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*$";

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The pack a repository holds in Palette's layout under `prefix` (empty: none), if it is one:
    /// `<prefix>/spectro-packs/archive/<pack>`.
    pub fn palette_pack(&self, prefix: &str) -> Option<PackName> {
        let prefix = prefix.trim_matches('/');
        let rest = match prefix.is_empty() {
            true => self.0.as_str(),
            false => self.0.strip_prefix(prefix)?.strip_prefix('/')?,
        };
        rest.strip_prefix("spectro-packs/archive/")?.parse().ok()
    }

    /// The repository of `pack` in Palette's layout under `prefix`.
    pub fn of_palette_pack(prefix: &str, pack: &PackName) -> RepositoryName {
        let prefix = prefix.trim_matches('/');
        let path = match prefix.is_empty() {
            true => format!("spectro-packs/archive/{pack}"),
            false => format!("{prefix}/spectro-packs/archive/{pack}"),
        };
        RepositoryName(path)
    }
}

impl FromStr for RepositoryName {
    type Err = OciNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err(OciNameError::Empty);
        }
        if text.len() > Self::MAX_LEN {
            return Err(OciNameError::TooLong);
        }
        if !text.split('/').all(follows_component_grammar) {
            return Err(OciNameError::Invalid(text.to_owned()));
        }
        Ok(RepositoryName(text.to_owned()))
    }
}

text_display!(RepositoryName);

/// A tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub const MAX_LEN: usize = 128;
    pub const PATTERN: &'static str = "^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$";

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Tag {
    type Err = OciNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = text.as_bytes();
        let first = bytes
            .first()
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        let rest = bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !first || !rest || bytes.len() > Self::MAX_LEN {
            return Err(OciNameError::InvalidTag(text.to_owned()));
        }
        Ok(Tag(text.to_owned()))
    }
}

text_display!(Tag);

/// What a manifest request names: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Tag(Tag),
    Digest(Digest),
}

impl FromStr for Reference {
    type Err = OciNameError;

    /// A reference with a `:` is a digest (tags cannot hold one); anything else is a tag.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.contains(':') {
            true => text
                .parse()
                .map(Reference::Digest)
                .map_err(|_| OciNameError::InvalidDigest(text.to_owned())),
            false => text.parse().map(Reference::Tag),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(tag) => tag.fmt(f),
            Reference::Digest(digest) => digest.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_follow_the_spec_grammar() {
        let pattern = regex::Regex::new(RepositoryName::PATTERN).unwrap();
        for good in [
            "a",
            "library/ubuntu",
            "team/spectro-packs/archive/cni-calico",
            "a__b/c--d/e.f",
        ] {
            assert!(good.parse::<RepositoryName>().is_ok(), "{good}");
            assert!(pattern.is_match(good), "{good}");
        }
        for bad in [
            "",
            "A",
            "a//b",
            "/a",
            "a/",
            "a/-b",
            "a_-b",
            "a/b_",
            &"a".repeat(256),
        ] {
            assert!(bad.parse::<RepositoryName>().is_err(), "{bad}");
            assert!(
                bad.len() > RepositoryName::MAX_LEN || !pattern.is_match(bad),
                "{bad}"
            );
        }
    }

    #[test]
    fn tags_and_references() {
        let pattern = regex::Regex::new(Tag::PATTERN).unwrap();
        for good in ["3.24.6", "latest", "_x", "v1.0.0-rc.1", &"a".repeat(128)] {
            assert!(good.parse::<Tag>().is_ok(), "{good}");
            assert!(pattern.is_match(good), "{good}");
        }
        for bad in ["", ".x", "-x", "a/b", "a+b", &"a".repeat(129)] {
            assert!(bad.parse::<Tag>().is_err(), "{bad}");
            assert!(!pattern.is_match(bad), "{bad}");
        }
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert!(matches!(digest.parse(), Ok(Reference::Digest(_))));
        assert!(matches!("3.24.6".parse(), Ok(Reference::Tag(_))));
        assert_eq!(
            "sha256:short".parse::<Reference>(),
            Err(OciNameError::InvalidDigest("sha256:short".to_owned()))
        );
    }

    #[test]
    fn palette_layout_finds_the_pack() {
        let with_prefix: RepositoryName = "team/packs/spectro-packs/archive/cni-calico"
            .parse()
            .unwrap();
        assert_eq!(
            with_prefix
                .palette_pack("team/packs")
                .map(|p| p.to_string()),
            Some("cni-calico".to_owned())
        );
        assert_eq!(with_prefix.palette_pack(""), None);
        assert_eq!(with_prefix.palette_pack("team"), None);
        let bare: RepositoryName = "spectro-packs/archive/kubernetes".parse().unwrap();
        assert_eq!(
            bare.palette_pack("").map(|p| p.to_string()),
            Some("kubernetes".to_owned())
        );
        let pack: PackName = "cni-calico".parse().unwrap();
        assert_eq!(
            RepositoryName::of_palette_pack("/team/", &pack).as_str(),
            "team/spectro-packs/archive/cni-calico"
        );
        assert_eq!(
            RepositoryName::of_palette_pack("", &pack).palette_pack(""),
            Some(pack)
        );
        // Deeper paths are not packs.
        let deeper: RepositoryName = "spectro-packs/archive/a/b".parse().unwrap();
        assert_eq!(deeper.palette_pack(""), None);
    }
}
