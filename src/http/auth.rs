//! Who is calling and what they may do. Bearer tokens (API tokens or the admin token) and HTTP Basic
//! (htpasswd) identify a caller with a scope; extractors state what a handler needs. Reads are public
//! unless the registry is private.

use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use sha2::{Digest as _, Sha256};

use super::{ApiError, AppState};
use crate::auth::{Scope, token_hash};
use crate::domain::PackPatterns;
use crate::store::tokens;

/// How long a checked password is remembered (bcrypt is slow on purpose).
const PASSWORD_TTL: Duration = Duration::from_secs(60);
/// How long a token lookup is remembered: a revoked token stops working within this time.
const TOKEN_TTL: Duration = Duration::from_secs(2);

/// A caller who presented valid credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub scope: Scope,
    /// The packs the caller may write.
    pub packs: PackPatterns,
}

impl Caller {
    /// Refuses a write to a pack the caller's credentials do not cover (403 DENIED naming it).
    pub fn may_write(&self, pack: &str) -> Result<(), ApiError> {
        if self.packs.allows(pack) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "{} may write only packs matching {}, not {pack}",
            self.name, self.packs
        )))
    }
}

/// The credential cache's bound.
pub const CREDENTIAL_CACHE_BYTES: u64 = 4 << 20;

#[derive(Clone)]
struct CheckWeight;

impl Weighter<[u8; 32], (Option<Caller>, Instant)> for CheckWeight {
    fn weight(&self, _key: &[u8; 32], value: &(Option<Caller>, Instant)) -> u64 {
        value.0.as_ref().map_or(0, |c| {
            c.name.len()
                + c.packs
                    .patterns()
                    .iter()
                    .map(|p| p.len() + 24)
                    .sum::<usize>()
        }) as u64
            + 96
    }
}

/// Remembered credential checks, keyed by a digest of the credentials (never the secret itself).
pub struct CredentialCache {
    checks: Cache<[u8; 32], (Option<Caller>, Instant), CheckWeight>,
}

impl std::fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialCache")
    }
}

impl Default for CredentialCache {
    fn default() -> Self {
        CredentialCache {
            checks: Cache::with_weighter(10_000, CREDENTIAL_CACHE_BYTES, CheckWeight),
        }
    }
}

impl CredentialCache {
    pub fn bytes(&self) -> u64 {
        self.checks.weight()
    }

    fn get(&self, key: &[u8; 32]) -> Option<Option<Caller>> {
        self.checks
            .get(key)
            .filter(|(_, expires)| Instant::now() < *expires)
            .map(|(caller, _)| caller)
    }

    fn put(&self, key: [u8; 32], caller: Option<Caller>, ttl: Duration) {
        self.checks.insert(key, (caller, Instant::now() + ttl));
    }
}

fn unauthorized(message: &'static str) -> ApiError {
    ApiError::Unauthorized(message)
}

/// Identifies the caller from `Authorization`; `None` when there is no such header.
pub async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not text"))?;
    let (scheme, credentials) = value.split_once(' ').ok_or(unauthorized(
        "the Authorization header must be 'Bearer <token>' or 'Basic <credentials>'",
    ))?;
    let credentials = credentials.trim();
    let key: [u8; 32] = Sha256::digest(value.as_bytes()).into();
    if let Some(known) = state.credentials.get(&key) {
        return known
            .map(Some)
            .ok_or(unauthorized("the credentials are not valid"));
    }
    let (caller, ttl) = if scheme.eq_ignore_ascii_case("bearer") {
        (bearer(state, credentials).await?, TOKEN_TTL)
    } else if scheme.eq_ignore_ascii_case("basic") {
        (basic(state, credentials).await, PASSWORD_TTL)
    } else {
        return Err(unauthorized(
            "the Authorization scheme must be Bearer or Basic",
        ));
    };
    state.credentials.put(key, caller.clone(), ttl);
    caller
        .map(Some)
        .ok_or(unauthorized("the credentials are not valid"))
}

async fn bearer(state: &AppState, token: &str) -> Result<Option<Caller>, ApiError> {
    if let Some(admin) = &state.settings.admin_token
        && admin.matches(token)
    {
        return Ok(Some(Caller {
            name: "admin".to_owned(),
            scope: Scope::Admin,
            packs: PackPatterns::all(),
        }));
    }
    // The lookup is by the token's sha256: the stored value is never compared with the secret.
    let found = tokens::find_active(state.db.reader(), &token_hash(token)).await?;
    Ok(found.map(|(name, scope, packs)| Caller { name, scope, packs }))
}

async fn basic(state: &AppState, credentials: &str) -> Option<Caller> {
    let htpasswd = state.settings.htpasswd.clone()?;
    let decoded = STANDARD.decode(credentials).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    let (user, password) = (user.to_owned(), password.to_owned());
    // bcrypt takes tens of milliseconds: keep it off the async threads.
    let valid =
        tokio::task::spawn_blocking(move || htpasswd.verify(&user, &password).then_some(user))
            .await
            .ok()
            .flatten()?;
    Some(Caller {
        packs: state.settings.user_packs.of(&valid),
        name: valid,
        scope: Scope::Write,
    })
}

async fn require(
    state: &AppState,
    parts: &Parts,
    needed: Scope,
) -> Result<Option<Caller>, ApiError> {
    let caller = identify(state, &parts.headers).await?;
    match &caller {
        None if needed == Scope::Read && !state.settings.private => Ok(None),
        None => Err(unauthorized("this request needs credentials")),
        Some(caller) if caller.scope < needed => Err(ApiError::Forbidden(format!(
            "{} has scope {}; this request needs {needed}",
            caller.name, caller.scope
        ))),
        Some(_) => Ok(caller),
    }
}

/// The caller, who must have presented credentials with at least `needed`.
async fn identified(state: &AppState, parts: &Parts, needed: Scope) -> Result<Caller, ApiError> {
    require(state, parts, needed)
        .await?
        .ok_or(unauthorized("this request needs credentials"))
}

/// A caller who may write (scope write or admin).
#[derive(Debug)]
pub struct WriteAccess(pub Caller);

impl FromRequestParts<AppState> for WriteAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        identified(state, parts, Scope::Write)
            .await
            .map(WriteAccess)
    }
}

/// A caller with the admin scope.
#[derive(Debug)]
pub struct AdminAccess(pub Caller);

impl FromRequestParts<AppState> for AdminAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        identified(state, parts, Scope::Admin)
            .await
            .map(AdminAccess)
    }
}

/// Reads need the read scope on a private registry, and credentials that are presented must be
/// valid (a wrong token is refused even where none is needed).
pub async fn check_read(state: &AppState, parts: &Parts) -> Result<(), ApiError> {
    require(state, parts, Scope::Read).await.map(|_| ())
}

/// A 401 also offers Basic when htpasswd users exist.
pub fn challenge(state: &AppState, mut response: Response) -> Response {
    if response.status() == StatusCode::UNAUTHORIZED && state.settings.htpasswd.is_some() {
        response.headers_mut().append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"packyard\""),
        );
    }
    response
}
