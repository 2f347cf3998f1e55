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
    #[error("{0}")]
    PackUnknown(String),
    #[error("{0}")]
    TagUnknown(String),
    #[error("{0}")]
    RegistryUnknown(String),
    #[error("invalid request body: {0}")]
    InvalidBody(String),
    #[error("the request body is too large: {0}")]
    BodyTooLarge(String),
    #[error("{0}")]
    BodyTooSlow(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the pack archive is refused: {0}")]
    ArchiveInvalid(String),
    #[error("the pack archive is too large: {0}")]
    ArchiveTooLarge(String),
    #[error("the pack is refused: {0}")]
    PackInvalid(String),
    #[error("{0}")]
    VersionConflict(String),
    #[error("{0}")]
    CloudUnsupported(String),
    #[error("{message}")]
    ValuesInvalid {
        message: String,
        errors: Vec<crate::render::validate::Violation>,
    },
    #[error("{0}")]
    TemplateInvalid(String),
    #[error("{message}")]
    RenderFailed {
        message: String,
        file: Option<String>,
    },
    /// A render budget was exceeded; `limit` names the flag that sets it.
    #[error("{message}")]
    RenderLimit {
        message: String,
        limit: &'static str,
    },
    #[error("method {0} is not allowed on this resource")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Overloaded(String),
    #[error("the requested range is outside the blob's {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// Anything the client cannot fix. The detail goes to the log, never to the client.
    #[error("internal error")]
    Internal(String),
    /// A blob the database records but the blob store lacks (removed by gc, or lost). Internal,
    /// but distinct so the blob routes can re-check the database before answering.
    #[error("internal error")]
    BlobFileMissing(String),
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
            | ApiError::BodyUnreadable(_)
            | ApiError::InvalidBody(_)
            | ApiError::ArchiveInvalid(_) => StatusCode::BAD_REQUEST,
            ApiError::PackUnknown(_) | ApiError::TagUnknown(_) | ApiError::RegistryUnknown(_) => {
                StatusCode::NOT_FOUND
            }
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::ArchiveTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::PackInvalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::VersionConflict(_) => StatusCode::CONFLICT,
            ApiError::CloudUnsupported(_)
            | ApiError::ValuesInvalid { .. }
            | ApiError::TemplateInvalid(_)
            | ApiError::RenderFailed { .. }
            | ApiError::RenderLimit { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BlobUnknown { .. } | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BlobTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) | ApiError::BlobFileMissing(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
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
            ApiError::PackUnknown(_) => "PACK_UNKNOWN",
            ApiError::TagUnknown(_) => "TAG_UNKNOWN",
            ApiError::RegistryUnknown(_) => "REGISTRY_UNKNOWN",
            ApiError::InvalidBody(_) => "BODY_INVALID",
            ApiError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::ArchiveInvalid(_) => "ARCHIVE_INVALID",
            ApiError::ArchiveTooLarge(_) => "ARCHIVE_TOO_LARGE",
            ApiError::PackInvalid(_) => "PACK_INVALID",
            ApiError::VersionConflict(_) => "VERSION_EXISTS",
            ApiError::CloudUnsupported(_) => "CLOUD_UNSUPPORTED",
            ApiError::ValuesInvalid { .. } => "VALUES_INVALID",
            ApiError::TemplateInvalid(_) => "TEMPLATE_INVALID",
            ApiError::RenderFailed { .. } => "RENDER_FAILED",
            ApiError::RenderLimit { .. } => "RENDER_LIMIT",
            ApiError::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            ApiError::Unauthorized(_) => "UNAUTHORIZED",
            ApiError::BodyTooLarge(_) => "BODY_TOO_LARGE",
            ApiError::BodyTooSlow(_) => "REQUEST_TIMEOUT",
            ApiError::Forbidden(_) => "DENIED",
            ApiError::Overloaded(_) => "OVERLOADED",
            ApiError::RangeNotSatisfiable { .. } => "RANGE_NOT_SATISFIABLE",
            ApiError::Unavailable(_) => "UNAVAILABLE",
            ApiError::Internal(_) | ApiError::BlobFileMissing(_) => "INTERNAL_ERROR",
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    /// Every failing value, for values that do not fit a pack's schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [crate::render::validate::Violation]>,
    /// The pack file a render failed in.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    /// The budget a render exceeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<&'a str>,
}

/// The hidden detail of a 5xx, carried to the request log through the response extensions.
#[derive(Clone, Debug)]
pub struct ErrorDetail(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code(),
            message: self.to_string(),
            errors: match &self {
                ApiError::ValuesInvalid { errors, .. } => Some(errors.as_slice()),
                _ => None,
            },
            file: match &self {
                ApiError::RenderFailed { file, .. } => file.as_deref(),
                _ => None,
            },
            limit: match &self {
                ApiError::RenderLimit { limit, .. } => Some(limit),
                _ => None,
            },
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
            ApiError::Overloaded(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::RangeNotSatisfiable { size } => {
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    headers.insert(header::CONTENT_RANGE, value);
                }
            }
            _ => {}
        }
        if let ApiError::Internal(detail) | ApiError::BlobFileMissing(detail) = self {
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

impl ApiError {
    /// A failed request body read: a too-slow client (the rate guard) is a 408, anything else says
    /// the body could not be read.
    pub fn from_body_error(error: &(dyn std::error::Error + 'static)) -> ApiError {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(current) = cause {
            if let Some(slow) = current.downcast_ref::<super::limits::TooSlow>() {
                return ApiError::BodyTooSlow(slow.to_string());
            }
            cause = current.source();
        }
        ApiError::BodyUnreadable(error.to_string())
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
            PutError::Body(e) => ApiError::from_body_error(e.as_ref()),
            PutError::Io(e) => e.into(),
        }
    }
}

impl From<crate::registry::publish::PublishError> for ApiError {
    fn from(error: crate::registry::publish::PublishError) -> ApiError {
        use crate::pack::PackError;
        use crate::pack::files::FilesError;
        use crate::registry::publish::PublishError;
        match error {
            PublishError::Pack(PackError::Files(files)) => match files {
                FilesError::TooManyEntries(_)
                | FilesError::FileTooLarge { .. }
                | FilesError::TooLarge(_) => ApiError::ArchiveTooLarge(files.to_string()),
                FilesError::Io { .. } => ApiError::internal(files),
                other => ApiError::ArchiveInvalid(other.to_string()),
            },
            PublishError::Pack(pack) => ApiError::PackInvalid(pack.to_string()),
            conflict @ PublishError::Conflict { .. } => {
                ApiError::VersionConflict(conflict.to_string())
            }
            PublishError::Database(detail) => ApiError::internal(format!("database: {detail}")),
            PublishError::Storage(e) => e.into(),
        }
    }
}

impl From<crate::registry::tags::ResolveError> for ApiError {
    fn from(error: crate::registry::tags::ResolveError) -> ApiError {
        use crate::registry::tags::ResolveError;
        match error {
            ResolveError::UnknownPack(_) => ApiError::PackUnknown(error.to_string()),
            ResolveError::UnknownTag { .. } => ApiError::TagUnknown(error.to_string()),
        }
    }
}

impl From<crate::registry::lifecycle::LifecycleError> for ApiError {
    fn from(error: crate::registry::lifecycle::LifecycleError) -> ApiError {
        use crate::registry::lifecycle::LifecycleError;
        match error {
            LifecycleError::NotFound { .. } => ApiError::TagUnknown(error.to_string()),
            LifecycleError::Database(detail) => ApiError::internal(format!("database: {detail}")),
        }
    }
}

impl From<crate::render::pipeline::RenderError> for ApiError {
    fn from(error: crate::render::pipeline::RenderError) -> ApiError {
        use crate::render::pipeline::RenderError;
        let message = error.to_string();
        match error {
            RenderError::CloudUnsupported { .. } => ApiError::CloudUnsupported(message),
            RenderError::Values(_) | RenderError::Macro(_) => ApiError::ValuesInvalid {
                message,
                errors: Vec::new(),
            },
            RenderError::Invalid(errors) => ApiError::ValuesInvalid { message, errors },
            RenderError::TemplateInvalid(message) => ApiError::TemplateInvalid(message),
            RenderError::Failed { file, message } | RenderError::Template { file, message } => {
                ApiError::RenderFailed {
                    message,
                    file: Some(file),
                }
            }
            RenderError::Output(e) => ApiError::RenderFailed {
                message: e.to_string(),
                file: Some(e.source_name),
            },
            RenderError::Limit(limit) => ApiError::from(limit),
        }
    }
}

impl From<crate::render::gotemplate::Limit> for ApiError {
    fn from(limit: crate::render::gotemplate::Limit) -> ApiError {
        use crate::render::gotemplate::Limit;
        let flag = match limit {
            Limit::Output(_) => "render-max-output-bytes",
            Limit::Nesting => "max-nesting-depth",
            Limit::Time(_) | Limit::Cancelled => "render-timeout-secs",
        };
        ApiError::RenderLimit {
            message: limit.to_string(),
            limit: flag,
        }
    }
}

impl From<crate::registry::loader::LoadError> for ApiError {
    fn from(error: crate::registry::loader::LoadError) -> ApiError {
        ApiError::internal(error)
    }
}

pub async fn route_not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

pub async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}
