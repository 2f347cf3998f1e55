//! The one error type of the HTTP API and its one mapping to statuses and bodies: [`ErrorBody`]
//! (`{"code": "...", "message": "..."}`) everywhere. Registry errors are mapped here and nowhere
//! else.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::palette_errors::CarriedError;
use crate::domain::{DigestError, PackNameError};
use crate::registry::RegistryError;
use crate::registry::error::{FilesError, Limit, PackError, PutError, RenderError, Violation};
use crate::registry::oci::OciError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Boxed: registry errors carry render details, and every handler returns this type.
    #[error(transparent)]
    Registry(Box<RegistryError>),
    #[error("invalid digest: {0}")]
    InvalidDigest(#[from] DigestError),
    #[error("invalid pack name: {0}")]
    InvalidName(#[from] PackNameError),
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
    #[error("invalid request body: {0}")]
    InvalidBody(String),
    #[error("the request body is too large: {0}")]
    BodyTooLarge(String),
    #[error("the request body could not be read: {0}")]
    BodyUnreadable(String),
    #[error("{0}")]
    BodyTooSlow(String),
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    #[error("{0}")]
    NotFound(String),
    #[error("method {0} is not allowed on this resource")]
    MethodNotAllowed(axum::http::Method),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Overloaded(&'static str),
    #[error("the requested range is outside the blob's {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    /// Anything the client cannot fix. The detail goes to the log, never to the client.
    #[error("internal error")]
    Internal(String),
}

/// Every error body: a stable code and a readable message, plus details for values and renders.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ErrorResponse)]
pub struct ErrorBody {
    /// e.g. `BLOB_UNKNOWN`, `VALUES_INVALID`, `UNAUTHORIZED`.
    pub code: &'static str,
    pub message: String,
    /// Every failing value, for values that do not fit a pack's schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<Violation>>,
    /// The pack file a render failed in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The budget a render exceeded (`RENDER_LIMIT`): the flag that sets it, such as
    /// `render-max-output-bytes` or `render-timeout-secs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<&'static str>,
}

/// The hidden detail of a 5xx, carried to the request log through the response extensions.
#[derive(Clone, Debug)]
pub struct ErrorDetail(pub String);

/// How one error is answered: status, code, and the extras some codes carry.
struct Answer {
    status: StatusCode,
    code: &'static str,
    errors: Option<Vec<Violation>>,
    file: Option<String>,
    limit: Option<&'static str>,
}

impl Answer {
    fn new(status: StatusCode, code: &'static str) -> Answer {
        Answer {
            status,
            code,
            errors: None,
            file: None,
            limit: None,
        }
    }
}

impl ApiError {
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(detail.to_string())
    }

    fn answer(&self) -> Answer {
        use StatusCode as S;
        match self {
            ApiError::Registry(error) => registry_answer(error),
            ApiError::InvalidDigest(_) => Answer::new(S::BAD_REQUEST, "DIGEST_INVALID"),
            ApiError::InvalidName(_) => Answer::new(S::BAD_REQUEST, "NAME_INVALID"),
            ApiError::InvalidParameter { .. } => Answer::new(S::BAD_REQUEST, "PARAMETER_INVALID"),
            ApiError::InvalidBody(_) => Answer::new(S::BAD_REQUEST, "BODY_INVALID"),
            ApiError::BodyTooLarge(_) => Answer::new(S::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE"),
            ApiError::BodyUnreadable(_) => Answer::new(S::BAD_REQUEST, "BODY_UNREADABLE"),
            ApiError::BodyTooSlow(_) => Answer::new(S::REQUEST_TIMEOUT, "REQUEST_TIMEOUT"),
            ApiError::UnsupportedMediaType(_) => {
                Answer::new(S::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
            }
            ApiError::NotFound(_) => Answer::new(S::NOT_FOUND, "NOT_FOUND"),
            ApiError::MethodNotAllowed(_) => {
                Answer::new(S::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED")
            }
            ApiError::Unauthorized(_) => Answer::new(S::UNAUTHORIZED, "UNAUTHORIZED"),
            ApiError::Forbidden(_) => Answer::new(S::FORBIDDEN, "DENIED"),
            ApiError::Overloaded(_) => Answer::new(S::SERVICE_UNAVAILABLE, "OVERLOADED"),
            ApiError::RangeNotSatisfiable { .. } => {
                Answer::new(S::RANGE_NOT_SATISFIABLE, "RANGE_NOT_SATISFIABLE")
            }
            ApiError::Internal(_) => Answer::new(S::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
        }
    }

    /// The detail a 5xx keeps for the log.
    fn detail(&self) -> Option<String> {
        match self {
            ApiError::Internal(detail) => Some(detail.clone()),
            ApiError::Registry(error) => registry_detail(error),
            _ => None,
        }
    }

    /// The size of the upload session a chunk out of order was refused for.
    fn upload_size(&self) -> Option<u64> {
        match self {
            ApiError::Registry(error) => match &**error {
                RegistryError::Oci(oci) => match **oci {
                    OciError::RangeInvalid { size } => Some(size),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    /// A blob the database records but the blob store lacks: the blob routes re-check the
    /// database before answering.
    pub fn is_blob_missing(&self) -> bool {
        matches!(self, ApiError::Registry(e) if matches!(**e, RegistryError::BlobMissing(_)))
    }
}

fn registry_detail(error: &RegistryError) -> Option<String> {
    match error {
        RegistryError::Database(_)
        | RegistryError::Storage(_)
        | RegistryError::Corrupt(_)
        | RegistryError::Task(_)
        | RegistryError::BlobMissing(_) => Some(error.to_string()),
        RegistryError::Upload(PutError::Io(error)) => Some(format!("blob store: {error}")),
        RegistryError::Pack(PackError::Files(files)) if files.is_io() => Some(files.to_string()),
        _ => None,
    }
}

fn registry_answer(error: &RegistryError) -> Answer {
    use StatusCode as S;
    match error {
        RegistryError::InvalidName(_) => Answer::new(S::BAD_REQUEST, "NAME_INVALID"),
        RegistryError::PackUnknown(_) | RegistryError::NoneVisible(_) => {
            Answer::new(S::NOT_FOUND, "PACK_UNKNOWN")
        }
        RegistryError::TagUnknown { .. } | RegistryError::VersionUnknown(_) => {
            Answer::new(S::NOT_FOUND, "TAG_UNKNOWN")
        }
        RegistryError::UidUnknown(_) | RegistryError::LogoUnknown(_) => {
            Answer::new(S::NOT_FOUND, "NOT_FOUND")
        }
        RegistryError::RegistryUnknown { .. } => Answer::new(S::NOT_FOUND, "REGISTRY_UNKNOWN"),
        RegistryError::BlobUnknown { .. } => Answer::new(S::NOT_FOUND, "BLOB_UNKNOWN"),
        RegistryError::Conflict(_) => Answer::new(S::CONFLICT, "VERSION_EXISTS"),
        RegistryError::Pack(PackError::Files(files)) => files_answer(files),
        RegistryError::Pack(_) => Answer::new(S::UNPROCESSABLE_ENTITY, "PACK_INVALID"),
        RegistryError::ArchiveTooLarge { .. } => {
            Answer::new(S::PAYLOAD_TOO_LARGE, "ARCHIVE_TOO_LARGE")
        }
        RegistryError::Upload(put) => upload_answer(put),
        RegistryError::Render(render) | RegistryError::RenderOf { error: render, .. } => {
            render_answer(render)
        }
        RegistryError::Oci(oci) => oci_answer(oci),
        RegistryError::Denied(_) => Answer::new(S::FORBIDDEN, "DENIED"),
        RegistryError::Busy(_) => Answer::new(S::SERVICE_UNAVAILABLE, "OVERLOADED"),
        RegistryError::BlobMissing(_)
        | RegistryError::Database(_)
        | RegistryError::Storage(_)
        | RegistryError::Corrupt(_)
        | RegistryError::Task(_) => Answer::new(S::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
    }
}

/// The OCI distribution API's errors, with the spec's codes.
fn oci_answer(error: &OciError) -> Answer {
    use StatusCode as S;
    let (status, code) = match error {
        OciError::BlobUnknown(..) => (S::NOT_FOUND, "BLOB_UNKNOWN"),
        OciError::UploadUnknown(_) => (S::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN"),
        OciError::UploadInvalid(_) => (S::BAD_REQUEST, "BLOB_UPLOAD_INVALID"),
        OciError::RangeInvalid { .. } => (S::RANGE_NOT_SATISFIABLE, "BLOB_UPLOAD_INVALID"),
        OciError::ManifestUnknown(..) => (S::NOT_FOUND, "MANIFEST_UNKNOWN"),
        OciError::ManifestInvalid(_) => (S::BAD_REQUEST, "MANIFEST_INVALID"),
        OciError::ManifestBlobUnknown(..) => (S::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"),
        OciError::ManifestTooLarge(_) => (S::PAYLOAD_TOO_LARGE, "MANIFEST_INVALID"),
        OciError::NameInvalid(_) => (S::BAD_REQUEST, "NAME_INVALID"),
        OciError::DigestInvalid(_) => (S::BAD_REQUEST, "DIGEST_INVALID"),
        OciError::NameUnknown(_) => (S::NOT_FOUND, "NAME_UNKNOWN"),
        OciError::Unsupported(_) => (S::BAD_REQUEST, "UNSUPPORTED"),
        OciError::TooManyRequests(_) => (S::TOO_MANY_REQUESTS, "TOOMANYREQUESTS"),
    };
    Answer::new(status, code)
}

fn files_answer(error: &FilesError) -> Answer {
    match error {
        FilesError::TooManyEntries(_)
        | FilesError::FileTooLarge { .. }
        | FilesError::TooLarge(_) => {
            Answer::new(StatusCode::PAYLOAD_TOO_LARGE, "ARCHIVE_TOO_LARGE")
        }
        FilesError::Io { .. } => Answer::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
        _ => Answer::new(StatusCode::BAD_REQUEST, "ARCHIVE_INVALID"),
    }
}

fn upload_answer(error: &PutError) -> Answer {
    use StatusCode as S;
    match error {
        PutError::DigestMismatch { .. } => Answer::new(S::BAD_REQUEST, "DIGEST_INVALID"),
        PutError::SizeMismatch { .. } => Answer::new(S::BAD_REQUEST, "SIZE_INVALID"),
        PutError::TooLarge { .. } => Answer::new(S::PAYLOAD_TOO_LARGE, "BLOB_TOO_LARGE"),
        PutError::Body(body) if super::limits::is_too_slow(body.as_ref()) => {
            Answer::new(S::REQUEST_TIMEOUT, "REQUEST_TIMEOUT")
        }
        PutError::Body(_) => Answer::new(S::BAD_REQUEST, "BODY_UNREADABLE"),
        PutError::Io(_) => Answer::new(S::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
    }
}

fn render_answer(error: &RenderError) -> Answer {
    let mut answer = Answer::new(StatusCode::UNPROCESSABLE_ENTITY, "RENDER_FAILED");
    match error {
        RenderError::CloudUnsupported { .. } => answer.code = "CLOUD_UNSUPPORTED",
        RenderError::Values(_) | RenderError::Macro(_) => answer.code = "VALUES_INVALID",
        RenderError::Invalid(violations) => {
            answer.code = "VALUES_INVALID";
            answer.errors = Some(violations.clone());
        }
        RenderError::TemplateInvalid(_) => answer.code = "TEMPLATE_INVALID",
        RenderError::Failed { file, .. } | RenderError::Template { file, .. } => {
            answer.file = Some(file.clone());
        }
        RenderError::Output(e) => answer.file = Some(e.source_name.clone()),
        RenderError::Chart { chart, .. } => answer.file = Some(chart.clone()),
        RenderError::Limit(limit) => {
            answer.code = "RENDER_LIMIT";
            answer.limit = Some(limit_flag(limit));
        }
    }
    answer
}

/// The flag that sets the budget a render exceeded.
fn limit_flag(limit: &Limit) -> &'static str {
    match limit {
        Limit::Output(_) => "render-max-output-bytes",
        Limit::Nesting => "max-nesting-depth",
        Limit::Time(_) | Limit::Cancelled => "render-timeout-secs",
    }
}

/// The message a client sees: never a 5xx's detail; a render error's own message (its file is a
/// field of its own).
fn message(error: &ApiError) -> String {
    if error.detail().is_some() {
        return "internal error".to_owned();
    }
    match error {
        ApiError::Registry(error) => registry_message(error),
        other => other.to_string(),
    }
}

fn registry_message(error: &RegistryError) -> String {
    match error {
        RegistryError::Render(
            RenderError::Failed { message, .. } | RenderError::Template { message, .. },
        ) => message.clone(),
        RegistryError::RenderOf {
            pack,
            error: RenderError::Failed { message, .. } | RenderError::Template { message, .. },
        } => format!("{pack}: {message}"),
        RegistryError::Render(RenderError::Output(e)) => e.to_string(),
        RegistryError::Upload(PutError::TooLarge { limit }) => {
            format!("blobs larger than {limit} bytes are refused")
        }
        RegistryError::Pack(PackError::Files(e)) => format!("the pack archive is refused: {e}"),
        RegistryError::Pack(e) => format!("the pack is refused: {e}"),
        other => other.to_string(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let answer = self.answer();
        let body = ErrorBody {
            code: answer.code,
            message: message(&self),
            errors: answer.errors,
            file: answer.file,
            limit: answer.limit,
        };
        let body = std::sync::Arc::new(body);
        let mut response = (answer.status, axum::Json(&*body)).into_response();
        // Carried so that Palette's routes can answer in Palette's error shape.
        response.extensions_mut().insert(CarriedError(body));
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
            ApiError::Registry(error) if matches!(**error, RegistryError::Busy(_)) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::RangeNotSatisfiable { size } => {
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    headers.insert(header::CONTENT_RANGE, value);
                }
            }
            _ => {}
        }
        // An upload chunk out of order: where the session ends, so the client can resume.
        if let Some(size) = self.upload_size()
            && let Ok(value) = HeaderValue::from_str(&format!("0-{}", size.saturating_sub(1)))
        {
            response.headers_mut().insert(header::RANGE, value);
        }
        if let Some(detail) = self.detail() {
            response.extensions_mut().insert(ErrorDetail(detail));
        }
        response
    }
}

impl ApiError {
    /// A request body that could not be read: a too-slow client (the rate guard) is a 408,
    /// anything else says the body could not be read.
    pub fn from_body_error(error: &(dyn std::error::Error + 'static)) -> ApiError {
        if super::limits::is_too_slow(error) {
            return ApiError::BodyTooSlow(error.to_string());
        }
        ApiError::BodyUnreadable(error.to_string())
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> ApiError {
        ApiError::Registry(Box::new(error))
    }
}

impl From<OciError> for ApiError {
    fn from(error: OciError) -> ApiError {
        RegistryError::from(error).into()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        RegistryError::from(error).into()
    }
}

impl From<std::io::Error> for ApiError {
    fn from(error: std::io::Error) -> ApiError {
        RegistryError::from(error).into()
    }
}

pub async fn route_not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

pub async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::MethodNotAllowed(method)
}
