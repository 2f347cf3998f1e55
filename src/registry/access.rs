//! Who is calling and what they may write: bearer tokens (API tokens or the admin token) and HTTP
//! Basic users (htpasswd), checked once and remembered briefly (`cache::credentials`).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

use super::{Registry, RegistryError};
use crate::auth::{AdminToken, Htpasswd, ISSUED_PREFIX, IssuedToken, Scope, UserPacks, token_hash};
use crate::domain::{OciAccess, OciAction, PackName, PackPatterns, RepositoryName};
use crate::store::{secrets, tokens};

/// How long a token issued by the token flow (`/v2/token`) is valid.
pub const ISSUED_TOKEN_TTL: Duration = Duration::from_secs(300);
/// The shared secret that signs issued tokens.
const TOKEN_KEY: &str = "oci-token-key";

/// How long a checked password is remembered (bcrypt is slow on purpose).
const PASSWORD_TTL: Duration = Duration::from_secs(60);
/// How long a token lookup is remembered: a revoked token stops working within this time.
const TOKEN_TTL: Duration = Duration::from_secs(2);

/// The credentials the registry accepts, fixed at start-up.
#[derive(Debug, Default)]
pub struct AccessConfig {
    pub admin_token: Option<AdminToken>,
    /// HTTP Basic users (scope write).
    pub htpasswd: Option<Arc<Htpasswd>>,
    /// The packs each HTTP Basic user may write.
    pub user_packs: UserPacks,
}

/// A caller who presented valid credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub scope: Scope,
    /// The packs the caller may write.
    pub packs: PackPatterns,
    /// For a token issued by the OCI token flow: the only repositories and actions it may use
    /// (and nothing outside the OCI API). `None` for every other credential.
    pub access: Option<OciAccess>,
}

impl Caller {
    /// Refuses a write to a pack the caller's credentials do not cover, naming it.
    pub fn may_write(&self, pack: &PackName) -> Result<(), RegistryError> {
        if self.packs.allows(pack.as_str()) {
            return Ok(());
        }
        Err(RegistryError::Denied(format!(
            "{} may write only packs matching {}, not {pack}",
            self.name, self.packs
        )))
    }

    /// Refuses `action` on `repository` when the caller's token was issued for other
    /// repositories or actions.
    pub fn may_access(
        &self,
        repository: &RepositoryName,
        action: OciAction,
    ) -> Result<(), RegistryError> {
        match &self.access {
            Some(access) if !access.allows(repository, action) => {
                Err(RegistryError::Denied(format!(
                    "the token of {} was not issued to {} {repository}",
                    self.name,
                    action.as_str()
                )))
            }
            _ => Ok(()),
        }
    }

    /// Refuses a caller whose scope is below `needed`, saying what `action` needs.
    pub fn needs(&self, needed: Scope, action: &str) -> Result<(), RegistryError> {
        if self.scope >= needed {
            return Ok(());
        }
        Err(RegistryError::Denied(format!(
            "{} has scope {}; {action} needs {needed}",
            self.name, self.scope
        )))
    }
}

/// Credentials as a request presented them.
#[derive(Debug, Clone, Copy)]
pub enum Credentials<'a> {
    Bearer(&'a str),
    /// `user:password`, base64 (HTTP Basic).
    Basic(&'a str),
}

impl Registry {
    /// The caller these credentials identify, or `None` when they are not valid.
    pub async fn authenticate(
        &self,
        credentials: Credentials<'_>,
    ) -> Result<Option<Caller>, RegistryError> {
        let key: [u8; 32] = match credentials {
            Credentials::Bearer(token) => Sha256::digest(format!("bearer\0{token}")).into(),
            Credentials::Basic(text) => Sha256::digest(format!("basic\0{text}")).into(),
        };
        let caches = &self.inner.caches;
        if let Some(known) = caches.credentials.get(&key) {
            return Ok(known);
        }
        let (caller, ttl) = match credentials {
            Credentials::Bearer(token) => (self.bearer(token).await?, TOKEN_TTL),
            Credentials::Basic(text) => (self.basic(text).await, PASSWORD_TTL),
        };
        caches.credentials.put(key, caller.clone(), ttl);
        Ok(caller)
    }

    /// Whether HTTP Basic users exist (a 401 then offers Basic too).
    pub fn has_basic_users(&self) -> bool {
        self.inner.access.htpasswd.is_some()
    }

    /// Issues a bearer token for `caller` (anonymous when `None`: pulls only) for the access its
    /// `scope` parameters ask for, as far as the caller's own rights go (an issued token asking
    /// for another goes no further than its own); returns it and its lifetime.
    pub async fn issue_token(
        &self,
        caller: Option<&Caller>,
        wanted: OciAccess,
    ) -> Result<(String, Duration), RegistryError> {
        let writes = match caller {
            Some(caller) => caller.scope >= Scope::Write,
            None => false,
        };
        let mut access = wanted.limited(|action| action == OciAction::Pull || writes);
        if let Some(OciAccess {
            repositories,
            catalog,
        }) = caller.and_then(|c| c.access.as_ref())
        {
            access.repositories.retain(|name, actions| {
                let held = repositories.get(name).cloned().unwrap_or_default();
                actions.retain(|action| held.contains(action));
                !actions.is_empty()
            });
            access.catalog &= *catalog;
        }
        let wanted_scope = if access.writes() {
            Scope::Write
        } else {
            Scope::Read
        };
        let (name, scope, packs) = match caller {
            Some(caller) => (
                caller.name.clone(),
                caller.scope.min(wanted_scope),
                caller.packs.to_string(),
            ),
            None => (
                "anonymous".to_owned(),
                Scope::Read,
                PackPatterns::all().to_string(),
            ),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = IssuedToken {
            name,
            scope,
            packs,
            expires: i64::try_from(now + ISSUED_TOKEN_TTL.as_secs()).unwrap_or(i64::MAX),
            access,
        };
        Ok((claims.sign(self.token_key().await?), ISSUED_TOKEN_TTL))
    }

    /// The key issued tokens are signed with, shared by every replica through the database.
    async fn token_key(&self) -> Result<&[u8], RegistryError> {
        let key = self
            .inner
            .token_key
            .get_or_try_init(|| async {
                let mut fresh = [0u8; 32];
                getrandom::fill(&mut fresh).map_err(|e| RegistryError::Corrupt(e.to_string()))?;
                let stored =
                    secrets::get_or_create(&self.inner.db, TOKEN_KEY, &hex::encode(fresh)).await?;
                hex::decode(stored).map_err(|e| RegistryError::Corrupt(format!("{TOKEN_KEY}: {e}")))
            })
            .await?;
        Ok(key)
    }

    async fn bearer(&self, token: &str) -> Result<Option<Caller>, RegistryError> {
        if token.starts_with(ISSUED_PREFIX) {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            let key = self.token_key().await?;
            return Ok(IssuedToken::verify(key, token, now).and_then(|claims| {
                Some(Caller {
                    packs: claims.packs.parse().ok()?,
                    name: claims.name,
                    scope: claims.scope,
                    access: Some(claims.access),
                })
            }));
        }
        if let Some(admin) = &self.inner.access.admin_token
            && admin.matches(token)
        {
            return Ok(Some(Caller {
                name: "admin".to_owned(),
                scope: Scope::Admin,
                packs: PackPatterns::all(),
                access: None,
            }));
        }
        // The lookup is by the token's sha256: the stored value is never compared with the secret.
        let found = tokens::find_active(self.inner.db.reader(), &token_hash(token)).await?;
        Ok(found.map(|(name, scope, packs)| Caller {
            name,
            scope,
            packs,
            access: None,
        }))
    }

    async fn basic(&self, credentials: &str) -> Option<Caller> {
        let htpasswd = self.inner.access.htpasswd.clone();
        let decoded = STANDARD.decode(credentials.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        // OCI clients (and Palette) log in with a user name and password: an API token is
        // accepted as the password, whatever the user name.
        if let Ok(Some(caller)) = self.bearer(password).await {
            return Some(caller);
        }
        let htpasswd = htpasswd?;
        let (user, password) = (user.to_owned(), password.to_owned());
        // bcrypt takes tens of milliseconds: keep it off the async threads.
        let valid = self
            .spawn_blocking(move || htpasswd.verify(&user, &password).then_some(user))
            .await
            .ok()
            .flatten()?;
        Some(Caller {
            packs: self.inner.access.user_packs.of(&valid),
            name: valid,
            scope: Scope::Write,
            access: None,
        })
    }
}
