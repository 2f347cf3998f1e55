//! The one error type of the HTTP API and its one mapping to statuses and bodies:
//! `{"code": "...", "message": "..."}` everywhere.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::{Digest, DigestError, PackName, PackNameError};
use crate::store::blobs::PutError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid digest: {0}")]
    InvalidDigest(#[from] DigestError),
    #[error("invalid pack name: {0}")]
    InvalidName(#[from] PackNameError),
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
    #[error("the content's digest is {actual}, not {expected}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("the content is {actual} bytes, but Content-Length said {expected}")]
    SizeMismatch { expected: u64, actual: u64 },
    #[error("the upload could not be read: {0}")]
    BodyUnreadable(String),
    #[error("blobs larger than {limit} bytes are refused")]
    BlobTooLarge { limit: u64 },
    #[error("blob {digest} is not part of pack {pack}")]
    BlobUnknown { pack: PackName, digest: Digest },
    #[error("{0}")]
    NotFound(String),
    #[error("method {0} is not allowed on this resource")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("writes are disabled: the server was started without an admin token")]
    WritesDisabled,
    #[error("the requested range is outside the blob's {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// Anything the client cannot fix. The detail goes to the log, never to the client.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(detail.to_string())
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidDigest(_)
            | ApiError::InvalidName(_)
            | ApiError::InvalidParameter { .. }
            | ApiError::DigestMismatch { .. }
            | ApiError::SizeMismatch { .. }
            | ApiError::BodyUnreadable(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::WritesDisabled => StatusCode::FORBIDDEN,
            ApiError::BlobUnknown { .. } | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BlobTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidDigest(_) | ApiError::DigestMismatch { .. } => "DIGEST_INVALID",
            ApiError::InvalidName(_) => "NAME_INVALID",
            ApiError::InvalidParameter { .. } => "PARAMETER_INVALID",
            ApiError::SizeMismatch { .. } => "SIZE_INVALID",
            ApiError::BodyUnreadable(_) => "BODY_UNREADABLE",
            ApiError::BlobTooLarge { .. } => "BLOB_TOO_LARGE",
            ApiError::BlobUnknown { .. } => "BLOB_UNKNOWN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            ApiError::Unauthorized(_) => "UNAUTHORIZED",
            ApiError::WritesDisabled => "DENIED",
            ApiError::RangeNotSatisfiable { .. } => "RANGE_NOT_SATISFIABLE",
            ApiError::Unavailable(_) => "UNAVAILABLE",
            ApiError::Internal(_) => "INTERNAL_ERROR",
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
}

/// The hidden detail of a 5xx, carried to the request log through the response extensions.
#[derive(Clone, Debug)]
pub struct ErrorDetail(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code(),
            message: self.to_string(),
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"packyard\""),
                );
            }
            ApiError::RangeNotSatisfiable { size } => {
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    headers.insert(header::CONTENT_RANGE, value);
                }
            }
            _ => {}
        }
        if let ApiError::Internal(detail) = self {
            response.extensions_mut().insert(ErrorDetail(detail));
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        ApiError::internal(format!("database: {error}"))
    }
}

impl From<std::io::Error> for ApiError {
    fn from(error: std::io::Error) -> ApiError {
        ApiError::internal(format!("I/O: {error}"))
    }
}

impl From<PutError> for ApiError {
    fn from(error: PutError) -> ApiError {
        match error {
            PutError::DigestMismatch { expected, actual } => {
                ApiError::DigestMismatch { expected, actual }
            }
            PutError::SizeMismatch { expected, actual } => {
                ApiError::SizeMismatch { expected, actual }
            }
            PutError::TooLarge { limit } => ApiError::BlobTooLarge { limit },
            PutError::Body(e) => ApiError::BodyUnreadable(e.to_string()),
            PutError::Io(e) => e.into(),
        }
    }
}

pub async fn route_not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

pub async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}
