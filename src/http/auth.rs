//! Who is calling, from `Authorization`: Bearer tokens and HTTP Basic, checked by the registry.
//! Extractors state what a handler needs. Reads are public unless the registry is private.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{ApiError, AppState};
use crate::auth::Scope;
use crate::registry::{Caller, Credentials};

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
    let credentials = if scheme.eq_ignore_ascii_case("bearer") {
        Credentials::Bearer(credentials)
    } else if scheme.eq_ignore_ascii_case("basic") {
        Credentials::Basic(credentials)
    } else {
        return Err(unauthorized(
            "the Authorization scheme must be Bearer or Basic",
        ));
    };
    match state.registry.authenticate(credentials).await? {
        Some(caller) => Ok(Some(caller)),
        None => Err(unauthorized("the credentials are not valid")),
    }
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
    if response.status() == StatusCode::UNAUTHORIZED && state.registry.has_basic_users() {
        response.headers_mut().append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"packyard\""),
        );
    }
    response
}
