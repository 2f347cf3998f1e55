//! Opaque `continue` tokens and Palette's `limit` rule (default and maximum 50).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ApiError;

pub const MAX_LIMIT: u32 = 50;

/// Palette's rule: absent or 0 means 50, anything above 50 is 50.
pub fn limit(requested: Option<i64>) -> Result<u32, ApiError> {
    match requested {
        None | Some(0) => Ok(MAX_LIMIT),
        Some(n) if n < 0 => Err(ApiError::InvalidParameter {
            name: "limit",
            reason: "must not be negative".to_owned(),
        }),
        Some(n) => Ok(u32::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT)),
    }
}

/// A requested `offset`: absent means 0; negative is refused.
pub fn offset(requested: Option<i64>) -> Result<u64, ApiError> {
    match requested {
        Some(offset) if offset < 0 => Err(ApiError::InvalidParameter {
            name: "offset",
            reason: "must not be negative".to_owned(),
        }),
        offset => Ok(u64::try_from(offset.unwrap_or(0)).unwrap_or(0)),
    }
}

pub fn encode<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

pub fn decode<T: DeserializeOwned>(token: &str) -> Result<T, ApiError> {
    let invalid = || ApiError::InvalidParameter {
        name: "continue",
        reason: "not a token this server issued".to_owned(),
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}
