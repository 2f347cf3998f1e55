use std::fmt;
use std::str::FromStr;

/// A sha256 content digest, `sha256:` followed by 64 lowercase hex characters.
///
/// Parsing is strict on purpose: digests arrive in URLs and become file paths, so anything that is
/// not exactly this form (uppercase, other algorithms, `..`, slashes, percent escapes) is refused
/// before it can reach the file system.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("digest must start with 'sha256:' (the only supported algorithm)")]
    Algorithm,
    #[error("digest must have exactly 64 hex characters after 'sha256:', found {0}")]
    Length(usize),
    #[error("digest must be lowercase hex (0-9, a-f)")]
    NotLowercaseHex,
}

impl Digest {
    pub const PREFIX: &'static str = "sha256:";
    pub const MAX_LEN: usize = 71;
    /// What [`FromStr`] accepts, as a regular expression, for the API document.
    pub const PATTERN: &'static str = "^sha256:[0-9a-f]{64}$";

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Digest(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lowercase hex characters, without the algorithm prefix.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses the hex part alone (64 lowercase hex characters).
    pub fn from_hex(hex_part: &str) -> Result<Self, DigestError> {
        if hex_part.len() != 64 {
            return Err(DigestError::Length(hex_part.chars().count()));
        }
        if !hex_part
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(DigestError::NotLowercaseHex);
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut bytes).map_err(|_| DigestError::NotLowercaseHex)?;
        Ok(Digest(bytes))
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex_part = s.strip_prefix(Self::PREFIX).ok_or(DigestError::Algorithm)?;
        Self::from_hex(hex_part)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_documented_pattern_is_what_parses() {
        let pattern = regex::Regex::new(Digest::PATTERN).unwrap();
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        for text in [
            format!("sha256:{hex}"),
            format!("sha256:{}", hex.to_uppercase()),
            format!("sha256:{}", &hex[..63]),
            format!("sha256:{hex}0"),
            format!("sha512:{hex}"),
            hex.to_owned(),
            "0".to_owned(),
        ] {
            assert_eq!(
                pattern.is_match(&text),
                text.parse::<Digest>().is_ok(),
                "{text}"
            );
            assert!(text.len() <= Digest::MAX_LEN || text.parse::<Digest>().is_err());
        }
    }

    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_and_prints_the_canonical_form() {
        let digest: Digest = format!("sha256:{HEX}").parse().unwrap();
        assert_eq!(digest.to_string(), format!("sha256:{HEX}"));
        assert_eq!(digest.hex(), HEX);
    }

    #[test]
    fn refuses_every_malformed_form() {
        let upper = format!("sha256:{}", HEX.to_uppercase());
        let short = format!("sha256:{}", &HEX[..63]);
        let long = format!("sha256:{HEX}0");
        let sha512 = format!("sha512:{HEX}");
        let dotted = format!("sha256:{}..", &HEX[..62]);
        let slashed = format!("sha256:{}/a", &HEX[..62]);
        for bad in [
            "",
            "sha256:",
            HEX,
            upper.as_str(),
            short.as_str(),
            long.as_str(),
            sha512.as_str(),
            dotted.as_str(),
            slashed.as_str(),
            "sha256:%2e%2e",
            "sha256:../../etc/passwd",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad:?} was accepted");
        }
    }
}
