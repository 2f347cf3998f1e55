//! Who is calling, from `Authorization` (Bearer tokens, HTTP Basic, bare tokens) or Palette's
//! `ApiKey` header, checked by the registry.
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

/// Palette's API-key header: its clients send an API key here instead of `Authorization`.
const API_KEY: &str = "apikey";

/// Identifies the caller from `Authorization` (`Bearer`, `Basic`, or a bare token as Palette's
/// clients send session tokens) or from Palette's `ApiKey` header; `None` when there are none.
/// (`ProjectUid`, which Palette's clients add for project scope, means nothing here.)
pub async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    let (value, from_api_key) = match (headers.get(header::AUTHORIZATION), headers.get(API_KEY)) {
        (Some(value), _) => (value, false),
        (None, Some(value)) => (value, true),
        (None, None) => return Ok(None),
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("the credentials header is not text"))?
        .trim();
    let credentials = match value.split_once(' ') {
        _ if from_api_key => Credentials::Bearer(value),
        None => Credentials::Bearer(value),
        Some((scheme, credentials)) if scheme.eq_ignore_ascii_case("bearer") => {
            Credentials::Bearer(credentials.trim())
        }
        Some((scheme, credentials)) if scheme.eq_ignore_ascii_case("basic") => {
            Credentials::Basic(credentials.trim())
        }
        Some(_) => {
            return Err(unauthorized(
                "the Authorization scheme must be Bearer or Basic (or a bare API token)",
            ));
        }
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
    if let Some(Caller {
        access: Some(_),
        name,
        ..
    }) = &caller
        && !parts.uri.path().starts_with("/v2/")
    {
        return Err(ApiError::Forbidden(format!(
            "the token of {name} comes from /v2/token and is good only for the OCI API under /v2/"
        )));
    }
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
