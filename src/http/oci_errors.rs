//! Errors in the OCI distribution spec's shape on `/v2/`: `{"errors": [{"code", "message",
//! "detail"}]}` with the spec's codes (clients branch on them), and the Basic challenge OCI
//! clients answer. Rewritten in `limits::admit`, the one place every error of a route passes, as
//! for Palette's routes (`palette_errors`).

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde::Serialize;

use super::oci_paths::endpoint;
use super::palette_errors::{CarriedError, with_json_body};
use super::respond::public_base_of;

/// The challenge of every 401 under `/v2/`.
pub const BASIC_CHALLENGE: HeaderValue = HeaderValue::from_static("Basic realm=\"packyard\"");

#[derive(Debug, Serialize)]
struct OciErrors {
    errors: [OciErrorItem; 1],
}

#[derive(Debug, Serialize)]
struct OciErrorItem {
    code: &'static str,
    message: String,
    /// packyard's own error body.
    detail: serde_json::Value,
}

/// Whether a path belongs to the OCI API.
pub fn is_oci_route(path: &str) -> bool {
    path == "/v2" || path.starts_with("/v2/")
}

/// The spec's code for packyard's: the spec's own pass as they are.
fn oci_code(code: &'static str, status: StatusCode) -> &'static str {
    match code {
        "BLOB_UNKNOWN"
        | "BLOB_UPLOAD_INVALID"
        | "BLOB_UPLOAD_UNKNOWN"
        | "DIGEST_INVALID"
        | "MANIFEST_BLOB_UNKNOWN"
        | "MANIFEST_INVALID"
        | "MANIFEST_UNKNOWN"
        | "NAME_INVALID"
        | "NAME_UNKNOWN"
        | "SIZE_INVALID"
        | "UNAUTHORIZED"
        | "DENIED"
        | "UNSUPPORTED"
        | "TOOMANYREQUESTS" => code,
        "BLOB_TOO_LARGE" | "ARCHIVE_TOO_LARGE" => "SIZE_INVALID",
        // A pack pushed to its repository that the publish path refuses or that conflicts.
        "PACK_INVALID" | "ARCHIVE_INVALID" => "MANIFEST_INVALID",
        "VERSION_EXISTS" => "DENIED",
        "OVERLOADED" => "TOOMANYREQUESTS",
        "NOT_FOUND" => "NAME_UNKNOWN",
        _ if status.is_server_error() => "UNKNOWN",
        _ => "UNSUPPORTED",
    }
}

/// What the token flow's challenge is made from, kept (as reference-counted clones) until a
/// response turns out to be a 401: most requests never need it.
#[derive(Debug)]
pub struct ChallengeSource {
    method: Method,
    uri: Uri,
    host: Option<HeaderValue>,
    proto: Option<HeaderValue>,
}

impl ChallengeSource {
    pub fn of(method: &Method, uri: &Uri, headers: &HeaderMap) -> ChallengeSource {
        ChallengeSource {
            method: method.clone(),
            uri: uri.clone(),
            host: headers.get(header::HOST).cloned(),
            proto: headers.get("x-forwarded-proto").cloned(),
        }
    }

    /// The challenge: where to get a token (`/v2/token` of the address the client used) and for
    /// what (`repository:<name>:pull` or `:pull,push`).
    fn challenge(&self) -> Option<HeaderValue> {
        let base = public_base_of(self.host.as_ref(), self.proto.as_ref());
        let service = base
            .split_once("://")
            .map_or(base.as_str(), |(_, host)| host);
        let mut challenge = format!("Bearer realm=\"{base}/v2/token\",service=\"{service}\"");
        let repository = self
            .uri
            .path()
            .strip_prefix("/v2/")
            .and_then(endpoint)
            .and_then(|e| e.repository().map(str::to_owned));
        if let Some(repository) = repository {
            let actions = match self.method {
                Method::GET | Method::HEAD => "pull",
                _ => "pull,push",
            };
            challenge.push_str(&format!(",scope=\"repository:{repository}:{actions}\""));
        }
        HeaderValue::from_str(&challenge).ok()
    }
}

/// Rewrites an error response under `/v2/` into the spec's shape, and a 401's challenge into the
/// Basic one OCI clients answer with a login, then the token flow's for clients that prefer it.
pub fn reshape(response: Response, source: &ChallengeSource) -> Response {
    let Some(CarriedError(body)) = response.extensions().get::<CarriedError>().cloned() else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    let errors = OciErrors {
        errors: [OciErrorItem {
            code: oci_code(body.code, parts.status),
            message: body.message.clone(),
            detail: serde_json::to_value(&*body).unwrap_or_default(),
        }],
    };
    if parts.status == StatusCode::UNAUTHORIZED {
        parts.headers.remove(header::WWW_AUTHENTICATE);
        parts
            .headers
            .insert(header::WWW_AUTHENTICATE, BASIC_CHALLENGE);
        if let Some(bearer) = source.challenge() {
            parts.headers.append(header::WWW_AUTHENTICATE, bearer);
        }
    }
    with_json_body(parts, &errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packyards_codes_become_the_specs() {
        assert_eq!(
            oci_code("BLOB_UNKNOWN", StatusCode::NOT_FOUND),
            "BLOB_UNKNOWN"
        );
        assert_eq!(
            oci_code("BLOB_TOO_LARGE", StatusCode::PAYLOAD_TOO_LARGE),
            "SIZE_INVALID"
        );
        assert_eq!(
            oci_code("OVERLOADED", StatusCode::SERVICE_UNAVAILABLE),
            "TOOMANYREQUESTS"
        );
        assert_eq!(
            oci_code("INTERNAL_ERROR", StatusCode::INTERNAL_SERVER_ERROR),
            "UNKNOWN"
        );
        assert_eq!(
            oci_code("PARAMETER_INVALID", StatusCode::BAD_REQUEST),
            "UNSUPPORTED"
        );
        assert!(is_oci_route("/v2/") && is_oci_route("/v2") && !is_oci_route("/v2x"));
    }
}
