//! Credentials and what they may do: API tokens (random, stored only as their sha256), the
//! configured admin token, and HTTP Basic users from an htpasswd file (bcrypt), each with a scope.

pub use crate::domain::{Scope, ScopeError};

use crate::domain::OciAccess;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

/// The prefix of every token packyard issues (recognisable in secret scanners).
pub const TOKEN_PREFIX: &str = "pky_";

/// A new random token: `pky_` and 32 random bytes, base64url.
pub fn generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// A bearer token packyard issues itself (Docker's token flow, `/v2/token`): who it was issued
/// to, with what scope and packs, until when. Signed (HMAC-SHA256) with a key the replicas share;
/// never stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IssuedToken {
    pub name: String,
    pub scope: Scope,
    /// The pack patterns, as `PackPatterns` writes them.
    pub packs: String,
    /// Seconds since the Unix epoch.
    pub expires: i64,
    /// The repositories and actions it was issued for (none in a token that names none).
    #[serde(default)]
    pub access: OciAccess,
}

/// What every issued token starts with.
pub const ISSUED_PREFIX: &str = "pyk1.";

type HmacSha256 = hmac::Hmac<Sha256>;

fn mac(key: &[u8], payload: &str) -> HmacSha256 {
    use hmac::{KeyInit as _, Mac as _};
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(payload.as_bytes());
    mac
}

impl IssuedToken {
    /// The token text: `pyk1.<claims>.<signature>`, both base64url.
    pub fn sign(&self, key: &[u8]) -> String {
        use hmac::Mac as _;
        let claims = serde_json::to_vec(self).expect("claims serialise");
        let payload = URL_SAFE_NO_PAD.encode(claims);
        let signature = URL_SAFE_NO_PAD.encode(mac(key, &payload).finalize().into_bytes());
        format!("{ISSUED_PREFIX}{payload}.{signature}")
    }

    /// The claims of a token this key signed that has not expired by `now` (epoch seconds).
    pub fn verify(key: &[u8], token: &str, now: i64) -> Option<IssuedToken> {
        use hmac::Mac as _;
        let (payload, signature) = token.strip_prefix(ISSUED_PREFIX)?.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        mac(key, payload).verify_slice(&signature).ok()?;
        let claims: IssuedToken =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (claims.expires > now).then_some(claims)
    }
}

/// What the database keeps of a token: its sha256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The admin bearer token of `--admin-token`, kept only as its sha256 so it never sits in memory or
/// logs in clear.
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

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HtpasswdError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: expected user:bcrypt-hash")]
    Malformed { path: String, line: usize },
    #[error("{path}:{line}: only bcrypt hashes ($2a$, $2b$, $2y$) are accepted")]
    NotBcrypt { path: String, line: usize },
    #[error("{path}:{line}: expected user: pattern,pattern ({reason})")]
    BadPacks {
        path: String,
        line: usize,
        reason: String,
    },
}

/// The packs each htpasswd user may write (`--htpasswd-packs`): lines `user: cni-*,team-*`. Users
/// without a line may write every pack.
#[derive(Debug, Clone, Default)]
pub struct UserPacks(HashMap<String, crate::domain::PackPatterns>);

impl UserPacks {
    pub fn load(path: &Path) -> Result<UserPacks, HtpasswdError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| HtpasswdError::Read {
            path: display.clone(),
            source,
        })?;
        Self::parse(&text, &display)
    }

    pub fn parse(text: &str, path: &str) -> Result<UserPacks, HtpasswdError> {
        let mut users = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: String| HtpasswdError::BadPacks {
                path: path.to_owned(),
                line: index + 1,
                reason,
            };
            let (user, patterns) = line
                .split_once(':')
                .ok_or_else(|| bad("no ':'".to_owned()))?;
            let patterns: crate::domain::PackPatterns =
                patterns.parse().map_err(|e| bad(format!("{e}")))?;
            users.insert(user.trim().to_owned(), patterns);
        }
        Ok(UserPacks(users))
    }

    /// The user's packs (every pack when the file does not name the user).
    pub fn of(&self, user: &str) -> crate::domain::PackPatterns {
        self.0.get(user).cloned().unwrap_or_default()
    }
}

/// HTTP Basic users, as an htpasswd file with bcrypt hashes (`htpasswd -B`), the way Palette's own
/// registry authenticates.
#[derive(Clone, Default)]
pub struct Htpasswd {
    users: HashMap<String, String>,
    /// A hash at the users' cost, checked for unknown users so that they take as long as known ones.
    decoy: String,
}

impl fmt::Debug for Htpasswd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Htpasswd({} users)", self.users.len())
    }
}

impl Htpasswd {
    pub fn load(path: &Path) -> Result<Htpasswd, HtpasswdError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| HtpasswdError::Read {
            path: display.clone(),
            source,
        })?;
        Self::parse(&text, &display)
    }

    pub fn parse(text: &str, path: &str) -> Result<Htpasswd, HtpasswdError> {
        let mut users = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, hash) = line.split_once(':').ok_or(HtpasswdError::Malformed {
                path: path.to_owned(),
                line: index + 1,
            })?;
            if !["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
                return Err(HtpasswdError::NotBcrypt {
                    path: path.to_owned(),
                    line: index + 1,
                });
            }
            users.insert(user.to_owned(), hash.to_owned());
        }
        let cost = users
            .values()
            .filter_map(|hash| hash.get(4..6)?.parse::<u32>().ok())
            .max()
            .unwrap_or(bcrypt::DEFAULT_COST);
        let decoy = bcrypt::hash("packyard-decoy", cost).unwrap_or_default();
        Ok(Htpasswd { users, decoy })
    }

    /// Whether `password` is the user's. bcrypt is slow on purpose; callers cache successes.
    pub fn verify(&self, user: &str, password: &str) -> bool {
        match self.users.get(user) {
            Some(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            None => {
                // Same work for unknown users, so timing does not reveal which users exist.
                let _ = bcrypt::verify(password, &self.decoy);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::OciAccess;

    #[test]
    fn issued_tokens_verify_only_with_their_key_and_until_they_expire() {
        let claims = IssuedToken {
            name: "ci".to_owned(),
            scope: Scope::Write,
            packs: "team-*".to_owned(),
            expires: 1_000,
            access: OciAccess::requested(["repository:team-a:pull,push"]),
        };
        let token = claims.sign(b"key");
        assert!(token.starts_with(ISSUED_PREFIX));
        assert_eq!(IssuedToken::verify(b"key", &token, 999), Some(claims));
        assert_eq!(IssuedToken::verify(b"key", &token, 1_000), None, "expired");
        assert_eq!(
            IssuedToken::verify(b"other", &token, 0),
            None,
            "another key"
        );
        // The same signature over claims raised to admin.
        let (_, signature) = token.rsplit_once('.').unwrap();
        let raised = IssuedToken {
            scope: Scope::Admin,
            ..IssuedToken::verify(b"key", &token, 0).unwrap()
        };
        let raised = raised.sign(b"other key");
        let (raised_head, _) = raised.rsplit_once('.').unwrap();
        let forged = format!("{raised_head}.{signature}");
        assert_ne!(forged, token);
        assert_eq!(IssuedToken::verify(b"key", &forged, 0), None);
        assert_eq!(IssuedToken::verify(b"key", "pyk1.nonsense", 0), None);
    }

    use super::*;

    #[test]
    fn admin_token_matches_only_the_same_secret() {
        let token = AdminToken::new("s3cret");
        assert!(token.matches("s3cret"));
        assert!(!token.matches("s3cre"));
        assert!(!token.matches(""));
        assert!(!format!("{token:?}").contains("s3cret"));
    }

    #[test]
    fn scopes_are_ordered_and_parsed() {
        assert!(Scope::Admin > Scope::Write && Scope::Write > Scope::Read);
        assert_eq!("write".parse::<Scope>().unwrap(), Scope::Write);
        assert!("root".parse::<Scope>().is_err());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn user_packs_come_from_their_file() {
        let packs = UserPacks::parse("# who writes what\nalice: cni-*, team-*\n", "packs").unwrap();
        assert!(packs.of("alice").allows("cni-calico"));
        assert!(!packs.of("alice").allows("csi-aws"));
        assert!(packs.of("bob").allows("csi-aws"));
        assert!(UserPacks::parse("alice cni-*\n", "packs").is_err());
        assert!(UserPacks::parse("alice: CNI\n", "packs").is_err());
    }

    #[test]
    fn htpasswd_verifies_bcrypt_users() {
        let hash = bcrypt::hash("pa55", 4).unwrap();
        let file = Htpasswd::parse(&format!("# users\nalice:{hash}\n"), "htpasswd").unwrap();
        assert!(file.verify("alice", "pa55"));
        assert!(!file.verify("alice", "nope"));
        assert!(!file.verify("bob", "pa55"));
        // Unknown users cost a real bcrypt check at the users' cost.
        assert!(file.decoy.starts_with("$2b$04$"), "{}", file.decoy);
        assert!(Htpasswd::parse("alice:{SHA}abc\n", "htpasswd").is_err());
        assert!(Htpasswd::parse("no-colon\n", "htpasswd").is_err());
    }
}
