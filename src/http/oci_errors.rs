//! Errors in the OCI distribution spec's shape on `/v2/`: `{"errors": [{"code", "message",
//! "detail"}]}` with the spec's codes (clients branch on them), and the Basic challenge OCI
//! clients answer. Rewritten in `limits::admit`, the one place every error of a route passes, as
//! for Palette's routes (`palette_errors`).

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

use super::oci_paths::endpoint;
use super::palette_errors::{CarriedError, with_json_body};
use super::respond::public_base;

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

/// The token flow's challenge for a request: where to get a token (`/v2/token` of the address
/// the client used) and for what (`repository:<name>:pull` or `:pull,push`).
pub fn bearer_challenge(method: &Method, path: &str, headers: &HeaderMap) -> Option<HeaderValue> {
    let base = public_base(headers);
    let service = base
        .split_once("://")
        .map_or(base.as_str(), |(_, host)| host);
    let mut challenge = format!("Bearer realm=\"{base}/v2/token\",service=\"{service}\"");
    let repository = path
        .strip_prefix("/v2/")
        .and_then(endpoint)
        .and_then(|e| e.repository().map(str::to_owned));
    if let Some(repository) = repository {
        let actions = match *method {
            Method::GET | Method::HEAD => "pull",
            _ => "pull,push",
        };
        challenge.push_str(&format!(",scope=\"repository:{repository}:{actions}\""));
    }
    HeaderValue::from_str(&challenge).ok()
}

/// Rewrites an error response under `/v2/` into the spec's shape, and a 401's challenge into the
/// Basic one OCI clients answer with a login, then the token flow's for clients that prefer it.
pub fn reshape(response: Response, bearer: Option<&HeaderValue>) -> Response {
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
        if let Some(bearer) = bearer {
            parts
                .headers
                .append(header::WWW_AUTHENTICATE, bearer.clone());
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
