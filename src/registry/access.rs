//! Who is calling and what they may write: bearer tokens (API tokens or the admin token) and HTTP
//! Basic users (htpasswd), checked once and remembered briefly (`cache::credentials`).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

use super::{Registry, RegistryError};
use crate::auth::{AdminToken, Htpasswd, Scope, UserPacks, token_hash};
use crate::domain::{PackName, PackPatterns};
use crate::store::tokens;

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

    async fn bearer(&self, token: &str) -> Result<Option<Caller>, RegistryError> {
        if let Some(admin) = &self.inner.access.admin_token
            && admin.matches(token)
        {
            return Ok(Some(Caller {
                name: "admin".to_owned(),
                scope: Scope::Admin,
                packs: PackPatterns::all(),
            }));
        }
        // The lookup is by the token's sha256: the stored value is never compared with the secret.
        let found = tokens::find_active(self.inner.db.reader(), &token_hash(token)).await?;
        Ok(found.map(|(name, scope, packs)| Caller { name, scope, packs }))
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
        })
    }
}
