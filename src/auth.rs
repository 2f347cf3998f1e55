//! Credentials: checking a presented secret against the configured one without leaking timing or
//! keeping the secret itself around longer than needed.

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

/// The admin bearer token, kept only as its sha256 so it never sits in memory or logs in clear.
#[derive(Clone)]
pub struct AdminToken {
    hash: [u8; 32],
}

impl AdminToken {
    pub fn new(secret: &str) -> AdminToken {
        AdminToken {
            hash: Sha256::digest(secret.as_bytes()).into(),
        }
    }

    /// Constant-time comparison (over fixed-length hashes, so the length of the secret leaks neither).
    pub fn matches(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.hash.ct_eq(&presented).into()
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_same_secret() {
        let token = AdminToken::new("s3cret");
        assert!(token.matches("s3cret"));
        assert!(!token.matches("s3cre"));
        assert!(!token.matches("s3cret "));
        assert!(!token.matches(""));
        assert!(!format!("{token:?}").contains("s3cret"));
    }
}
