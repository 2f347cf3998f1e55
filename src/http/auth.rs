//! Who may write: the request must carry `Authorization: Bearer <admin token>`.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::{ApiError, AppState};

/// Proof that the request may write. Taking it as a handler argument enforces it.
#[derive(Debug)]
pub struct WriteAccess;

impl FromRequestParts<AppState> for WriteAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(admin_token) = &state.settings.admin_token else {
            return Err(ApiError::WritesDisabled);
        };
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::Unauthorized("this request needs a bearer token"))?;
        let presented = header
            .to_str()
            .ok()
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or(ApiError::Unauthorized(
                "the Authorization header must be 'Bearer <token>'",
            ))?;
        if admin_token.matches(presented) {
            Ok(WriteAccess)
        } else {
            Err(ApiError::Unauthorized("the bearer token is not valid"))
        }
    }
}
