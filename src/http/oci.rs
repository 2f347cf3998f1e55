//! The OCI distribution API under `/v2/` (distribution-spec v1.1): one route whose path is parsed
//! here, because repository names contain slashes and end in `/blobs/…`, `/manifests/…`,
//! `/tags/list`, `/referrers/…` or `/blobs/uploads/…`. Errors leave as the spec's
//! `{"errors": [...]}` (`oci_errors`).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::identify;
use super::blob_response::{DOCKER_CONTENT_DIGEST, serve};
use super::oci_paths::{Endpoint, endpoint};
use super::respond::header_text;
use super::{ApiError, AppState};
use crate::auth::Scope;
use crate::domain::oci_manifest::{MAX_MANIFEST_BYTES, OCI_INDEX};
use crate::domain::{Digest, OciAccess, OciAction, OciNameError, Reference, RepositoryName};
use crate::registry::Caller;
use crate::registry::oci::{ChunkRange, OciBlob, OciError, UploadSession};

const API_VERSION: HeaderName = HeaderName::from_static("docker-distribution-api-version");
const UPLOAD_UUID: HeaderName = HeaderName::from_static("docker-upload-uuid");
const OCI_SUBJECT: HeaderName = HeaderName::from_static("oci-subject");
const FILTERS_APPLIED: HeaderName = HeaderName::from_static("oci-filters-applied");
/// Tags or repositories in one list when the client does not ask for fewer.
const DEFAULT_PAGE: u32 = 1000;
/// The most a client may ask for in one list.
const MAX_PAGE: u32 = 10_000;

#[derive(Debug, Default, Deserialize)]
struct OciQuery {
    n: Option<i64>,
    last: Option<String>,
    digest: Option<String>,
    mount: Option<String>,
    from: Option<String>,
    #[serde(rename = "artifactType")]
    artifact_type: Option<String>,
}

fn repository(text: &str) -> Result<RepositoryName, ApiError> {
    text.parse()
        .map_err(|e: OciNameError| ApiError::from(OciError::NameInvalid(e.to_string())))
}

fn digest(text: &str) -> Result<Digest, ApiError> {
    Ok(text.parse()?)
}

fn reference(text: &str) -> Result<Reference, ApiError> {
    text.parse().map_err(|e: OciNameError| match e {
        OciNameError::InvalidDigest(_) => ApiError::from(OciError::DigestInvalid(e.to_string())),
        other => ApiError::from(OciError::ManifestInvalid(other.to_string())),
    })
}

/// A reference to read: a tag that is not well formed names nothing, so it is unknown (404
/// MANIFEST_UNKNOWN, as the conformance suite expects for `.INVALID_MANIFEST_NAME`); a malformed
/// digest stays a 400 DIGEST_INVALID.
fn reference_to_read(text: &str, name: &RepositoryName) -> Result<Reference, ApiError> {
    match reference(text) {
        Err(_) if !text.contains(':') => {
            Err(OciError::ManifestUnknown(text.to_owned(), name.clone()).into())
        }
        parsed => parsed,
    }
}

/// The one handler of `/v2/…`: parses the path, checks credentials where the request writes, and
/// calls the registry.
pub async fn dispatch(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let rest = uri.path().strip_prefix("/v2/").unwrap_or("");
    let Some(endpoint) = endpoint(rest) else {
        return Err(ApiError::NotFound(format!("no route for {}", uri.path())));
    };
    let query = match uri.query() {
        Some(_) => {
            Query::<OciQuery>::try_from_uri(&uri)
                .map_err(|e| ApiError::InvalidParameter {
                    name: "query",
                    reason: e.body_text(),
                })?
                .0
        }
        None => OciQuery::default(),
    };
    let call = Call {
        state: &state,
        headers: &headers,
    };
    // A token issued for some repositories and actions is good for those alone.
    if let Some((name, action)) = required_access(&endpoint, &method) {
        call.check_access(&repository(name)?, action).await?;
    } else if endpoint == Endpoint::Catalog {
        call.check_catalog().await?;
    }
    let head = method == Method::HEAD;
    match (endpoint, method) {
        (Endpoint::Base, Method::GET | Method::HEAD) => call.base().await,
        (Endpoint::Catalog, Method::GET) => call.catalog(&query).await,
        (Endpoint::Token, Method::GET) => call.token(&uri).await,
        (Endpoint::Tags(name), Method::GET) => call.tags(&repository(name)?, &query).await,
        (Endpoint::Manifest(name, r), Method::GET | Method::HEAD) => {
            let name = repository(name)?;
            call.manifest(&name, &reference_to_read(r, &name)?, head)
                .await
        }
        (Endpoint::Manifest(name, r), Method::PUT) => {
            call.put_manifest(&repository(name)?, &reference(r)?, body)
                .await
        }
        (Endpoint::Manifest(name, r), Method::DELETE) => {
            call.delete_manifest(&repository(name)?, &reference(r)?)
                .await
        }
        (Endpoint::Blob(name, d), Method::GET | Method::HEAD) => {
            call.blob(&repository(name)?, &digest(d)?, head).await
        }
        (Endpoint::Blob(name, d), Method::DELETE) => {
            call.delete_blob(&repository(name)?, &digest(d)?).await
        }
        (Endpoint::Uploads(name), Method::POST) => {
            call.start_upload(&repository(name)?, &query, body).await
        }
        (Endpoint::Upload(name, id), Method::GET) => {
            call.upload_status(&repository(name)?, id).await
        }
        (Endpoint::Upload(name, id), Method::PATCH) => {
            call.append(&repository(name)?, id, body).await
        }
        (Endpoint::Upload(name, id), Method::PUT) => {
            call.finish(&repository(name)?, id, &query, body).await
        }
        (Endpoint::Upload(name, id), Method::DELETE) => call.cancel(&repository(name)?, id).await,
        (Endpoint::Referrers(name, d), Method::GET) => {
            call.referrers(&repository(name)?, &digest(d)?, &query)
                .await
        }
        (_, method) => Err(ApiError::MethodNotAllowed(method)),
    }
}

/// One request's context.
struct Call<'a> {
    state: &'a AppState,
    headers: &'a HeaderMap,
}

/// The access a token request's `scope` parameters ask for.
fn requested_access(query: &str) -> OciAccess {
    // `scope` may repeat, which a query struct cannot hold.
    let scopes: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == "scope")
        .map(|(_, value)| value.into_owned())
        .collect();
    OciAccess::requested(scopes.iter().map(String::as_str))
}

/// The repository a request acts on and what it does to it.
fn required_access<'p>(endpoint: &Endpoint<'p>, method: &Method) -> Option<(&'p str, OciAction)> {
    let action = match *method {
        Method::GET | Method::HEAD => OciAction::Pull,
        Method::DELETE if matches!(endpoint, Endpoint::Manifest(..) | Endpoint::Blob(..)) => {
            OciAction::Delete
        }
        _ => OciAction::Push,
    };
    match endpoint {
        Endpoint::Base | Endpoint::Catalog | Endpoint::Token => None,
        Endpoint::Tags(name)
        | Endpoint::Manifest(name, _)
        | Endpoint::Blob(name, _)
        | Endpoint::Referrers(name, _) => Some((name, action)),
        // Every request on an upload session pushes, whatever its method.
        Endpoint::Uploads(name) | Endpoint::Upload(name, _) => Some((name, OciAction::Push)),
    }
}

/// `0-<last byte>` as the spec's `Range` header of an upload states progress.
fn progress(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

fn upload_location(session: &UploadSession) -> String {
    format!("/v2/{}/blobs/uploads/{}", session.repository, session.id)
}

fn blob_location(name: &RepositoryName, digest: &Digest) -> String {
    format!("/v2/{name}/blobs/{digest}")
}

/// The `Content-Range` of a chunk: `<start>-<end>` as the spec writes it (also `bytes <start>-<end>/<total>`
/// and `bytes=<start>-<end>`, as some clients send).
fn chunk_range(headers: &HeaderMap) -> Result<Option<ChunkRange>, ApiError> {
    let Some(value) = headers.get(header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::from(OciError::UploadInvalid(
            "Content-Range must be <start>-<end>".to_owned(),
        ))
    };
    let text = value.to_str().map_err(|_| invalid())?.trim();
    let text = text
        .strip_prefix("bytes=")
        .or_else(|| text.strip_prefix("bytes "))
        .unwrap_or(text);
    let text = text.split('/').next().unwrap_or(text);
    let (start, end) = text.split_once('-').ok_or_else(invalid)?;
    let start = start.trim().parse().map_err(|_| invalid())?;
    let end = end.trim().parse().map_err(|_| invalid())?;
    Ok(Some(ChunkRange { start, end }))
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn page_size(n: Option<i64>) -> Result<u32, ApiError> {
    match n {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (0..=i64::from(MAX_PAGE)).contains(&n) => Ok(n as u32),
        Some(_) => Err(ApiError::InvalidParameter {
            name: "n",
            reason: format!("must be between 0 and {MAX_PAGE}"),
        }),
    }
}

/// A list page and, when more follow, its `Link` to the next.
fn with_next_link(
    mut items: Vec<String>,
    limit: u32,
    path: &str,
) -> Result<(Vec<String>, HeaderMap), ApiError> {
    let mut headers = HeaderMap::new();
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        if let Some(last) = items.last() {
            let link = format!("<{path}?n={limit}&last={last}>; rel=\"next\"");
            headers.insert(header::LINK, header_text(&link)?);
        }
    }
    Ok((items, headers))
}

/// The whole body, or `None` when it is longer than `limit` (reading stops there).
async fn read_bounded(body: Body, limit: usize) -> Result<Option<bytes::Bytes>, ApiError> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut content = bytes::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::from_body_error(&e))?;
        if content.len() + chunk.len() > limit {
            return Ok(None);
        }
        content.extend_from_slice(&chunk);
    }
    Ok(Some(content.freeze()))
}

fn header(text: &str) -> Result<HeaderValue, ApiError> {
    header_text(text)
}

impl Call<'_> {
    /// Refuses a caller whose token was issued for other repositories or actions (the caller's
    /// scope is checked where the request needs it).
    async fn check_access(&self, name: &RepositoryName, action: OciAction) -> Result<(), ApiError> {
        if let Some(caller) = identify(self.state, self.headers).await? {
            caller.may_access(name, action)?;
        }
        Ok(())
    }

    /// The repository list, for a token issued with `registry:catalog:*` (or any other
    /// credential).
    async fn check_catalog(&self) -> Result<(), ApiError> {
        match identify(self.state, self.headers).await? {
            Some(Caller {
                access: Some(access),
                name,
                ..
            }) if !access.catalog => Err(ApiError::Forbidden(format!(
                "the token of {name} was not issued for the catalog (registry:catalog:*)"
            ))),
            _ => Ok(()),
        }
    }

    /// The caller, who must be allowed to write.
    async fn writer(&self) -> Result<Caller, ApiError> {
        match identify(self.state, self.headers).await? {
            None => Err(ApiError::Unauthorized("this request needs credentials")),
            Some(caller) if caller.scope < Scope::Write => Err(ApiError::Forbidden(format!(
                "{} has scope {}; pushes and deletes need write",
                caller.name, caller.scope
            ))),
            Some(caller) => Ok(caller),
        }
    }

    /// `GET /v2/`: 200 for a client with valid credentials; 401 with the challenge otherwise,
    /// so that clients log in before they push.
    async fn base(&self) -> Result<Response, ApiError> {
        identify(self.state, self.headers)
            .await?
            .ok_or(ApiError::Unauthorized("log in to use this registry"))?;
        let mut headers = HeaderMap::new();
        headers.insert(API_VERSION, HeaderValue::from_static("registry/2.0"));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok((StatusCode::OK, headers, "{}").into_response())
    }

    /// Docker's token flow: credentials (Basic, or a bearer token) or none (pulls of a public
    /// registry) are traded for a short-lived bearer token with at most the scope the `scope`
    /// parameters ask for (`repository:<name>:pull,push`).
    async fn token(&self, uri: &Uri) -> Result<Response, ApiError> {
        let caller = identify(self.state, self.headers).await?;
        if caller.is_none() && self.state.settings.private {
            return Err(ApiError::Unauthorized("this registry needs credentials"));
        }
        let wanted = requested_access(uri.query().unwrap_or(""));
        let (token, lifetime) = self
            .state
            .registry
            .issue_token(caller.as_ref(), wanted)
            .await?;
        let issued_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(ApiError::internal)?;
        let body = serde_json::json!({
            "token": token,
            "access_token": token,
            "expires_in": lifetime.as_secs(),
            "issued_at": issued_at,
        });
        let mut headers = HeaderMap::new();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok((headers, axum::Json(body)).into_response())
    }

    async fn catalog(&self, query: &OciQuery) -> Result<Response, ApiError> {
        let limit = page_size(query.n)?;
        let names = self
            .state
            .registry
            .oci_repositories(query.last.as_deref(), limit + 1)
            .await?;
        let (repositories, headers) = with_next_link(names, limit, "/v2/_catalog")?;
        #[derive(Serialize)]
        struct Catalog {
            repositories: Vec<String>,
        }
        Ok((headers, axum::Json(Catalog { repositories })).into_response())
    }

    async fn tags(&self, name: &RepositoryName, query: &OciQuery) -> Result<Response, ApiError> {
        let limit = page_size(query.n)?;
        let tags = self
            .state
            .registry
            .oci_tags(name, query.last.as_deref(), limit + 1)
            .await?;
        let (tags, headers) = with_next_link(tags, limit, &format!("/v2/{name}/tags/list"))?;
        #[derive(Serialize)]
        struct TagList<'a> {
            name: &'a str,
            tags: Vec<String>,
        }
        let list = TagList {
            name: name.as_str(),
            tags,
        };
        Ok((headers, axum::Json(list)).into_response())
    }

    async fn manifest(
        &self,
        name: &RepositoryName,
        reference: &Reference,
        head: bool,
    ) -> Result<Response, ApiError> {
        let manifest = self.state.registry.oci_manifest(name, reference).await?;
        let digest = manifest.digest.to_string();
        let mut headers = HeaderMap::with_capacity(5);
        headers.insert(header::CONTENT_TYPE, header(&manifest.media_type)?);
        headers.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from(manifest.content.len()),
        );
        headers.insert(header::ETAG, header(&format!("\"{digest}\""))?);
        headers.insert(DOCKER_CONTENT_DIGEST, header(&digest)?);
        let body = match head {
            true => Body::empty(),
            false => Body::from(manifest.content),
        };
        let mut response = Response::new(body);
        *response.headers_mut() = headers;
        Ok(response)
    }

    async fn put_manifest(
        &self,
        name: &RepositoryName,
        reference: &Reference,
        body: Body,
    ) -> Result<Response, ApiError> {
        let caller = self.writer().await?;
        let too_large = || {
            ApiError::from(OciError::ManifestTooLarge(format!(
                "manifests larger than {MAX_MANIFEST_BYTES} bytes are refused"
            )))
        };
        if content_length(self.headers).is_some_and(|n| n > MAX_MANIFEST_BYTES as u64) {
            return Err(too_large());
        }
        let content = read_bounded(body, MAX_MANIFEST_BYTES)
            .await?
            .ok_or_else(too_large)?;
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let pushed = self
            .state
            .registry
            .put_oci_manifest(name, reference, content_type, content, &caller)
            .await?;
        let mut headers = HeaderMap::new();
        let digest = pushed.digest.to_string();
        headers.insert(
            header::LOCATION,
            header(&format!("/v2/{name}/manifests/{digest}"))?,
        );
        headers.insert(DOCKER_CONTENT_DIGEST, header(&digest)?);
        if let Some(subject) = pushed.subject {
            headers.insert(OCI_SUBJECT, header(&subject.to_string())?);
        }
        Ok((StatusCode::CREATED, headers).into_response())
    }

    async fn delete_manifest(
        &self,
        name: &RepositoryName,
        reference: &Reference,
    ) -> Result<Response, ApiError> {
        let caller = self.writer().await?;
        self.state
            .registry
            .delete_oci_manifest(name, reference, &caller)
            .await?;
        Ok(StatusCode::ACCEPTED.into_response())
    }

    async fn blob(
        &self,
        name: &RepositoryName,
        digest: &Digest,
        head: bool,
    ) -> Result<Response, ApiError> {
        match self.state.registry.oci_blob(name, digest).await? {
            OciBlob::Stored(blob) => serve(self.state, &blob, None, self.headers, !head).await,
            // A pack repository's two-byte config: whole, from memory.
            OciBlob::Inline(content) => {
                let mut headers = HeaderMap::new();
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(content.len()));
                headers.insert(DOCKER_CONTENT_DIGEST, header(&digest.to_string())?);
                let body = if head {
                    Body::empty()
                } else {
                    Body::from(content)
                };
                let mut response = Response::new(body);
                *response.headers_mut() = headers;
                Ok(response)
            }
        }
    }

    async fn delete_blob(
        &self,
        name: &RepositoryName,
        digest: &Digest,
    ) -> Result<Response, ApiError> {
        let caller = self.writer().await?;
        self.state
            .registry
            .delete_oci_blob(name, digest, &caller)
            .await?;
        Ok(StatusCode::ACCEPTED.into_response())
    }

    /// A blob that is now in the repository: 201 with its location.
    fn created_blob(name: &RepositoryName, digest: &Digest) -> Result<Response, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::LOCATION, header(&blob_location(name, digest))?);
        headers.insert(DOCKER_CONTENT_DIGEST, header(&digest.to_string())?);
        Ok((StatusCode::CREATED, headers).into_response())
    }

    /// A session's state: its location, how far it got and its id.
    fn session_headers(session: &UploadSession) -> Result<HeaderMap, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::LOCATION, header(&upload_location(session))?);
        headers.insert(header::RANGE, header(&progress(session.size))?);
        headers.insert(UPLOAD_UUID, header(&session.id)?);
        Ok(headers)
    }

    /// `POST /v2/<name>/blobs/uploads/`: a mount (`?mount=`), a whole blob (`?digest=`) or a
    /// new session.
    async fn start_upload(
        &self,
        name: &RepositoryName,
        query: &OciQuery,
        body: Body,
    ) -> Result<Response, ApiError> {
        let caller = self.writer().await?;
        let registry = &self.state.registry;
        if let Some(mount) = &query.mount {
            let mount = digest(mount)?;
            // An invalid `from`, or one the caller's token may not pull from, is no source: the
            // client gets a session, as with no `from`.
            let from = query.from.as_deref().map(str::parse::<RepositoryName>);
            let mounted = match from {
                Some(Err(_)) => None,
                Some(Ok(from)) if caller.may_access(&from, OciAction::Pull).is_err() => None,
                Some(Ok(from)) => {
                    registry
                        .mount_oci_blob(name, &mount, Some(&from), &caller)
                        .await?
                }
                None => registry.mount_oci_blob(name, &mount, None, &caller).await?,
            };
            if mounted.is_some() {
                return Self::created_blob(name, &mount);
            }
        } else if let Some(whole) = &query.digest {
            let whole = digest(whole)?;
            let blob = registry
                .put_oci_blob(
                    name,
                    whole,
                    content_length(self.headers),
                    body.into_data_stream(),
                    &caller,
                )
                .await?;
            return Self::created_blob(name, &blob.digest);
        }
        let session = registry.start_upload(name, &caller).await?;
        Ok((StatusCode::ACCEPTED, Self::session_headers(&session)?).into_response())
    }

    async fn upload_status(&self, name: &RepositoryName, id: &str) -> Result<Response, ApiError> {
        let session = self.state.registry.upload_status(name, id).await?;
        Ok((StatusCode::NO_CONTENT, Self::session_headers(&session)?).into_response())
    }

    async fn append(
        &self,
        name: &RepositoryName,
        id: &str,
        body: Body,
    ) -> Result<Response, ApiError> {
        let caller = self.writer().await?;
        let range = chunk_range(self.headers)?;
        let session = self
            .state
            .registry
            .append_upload(name, id, range, body.into_data_stream(), &caller)
            .await?;
        Ok((StatusCode::ACCEPTED, Self::session_headers(&session)?).into_response())
    }

    async fn finish(
        &self,
        name: &RepositoryName,
        id: &str,
        query: &OciQuery,
        body: Body,
    ) -> Result<Response, ApiError> {
        let caller = self.writer().await?;
        let Some(text) = &query.digest else {
            return Err(ApiError::from(OciError::DigestInvalid(
                "closing an upload needs ?digest=".to_owned(),
            )));
        };
        let expected = digest(text)?;
        let range = chunk_range(self.headers)?;
        let blob = self
            .state
            .registry
            .finish_upload(name, id, expected, range, body.into_data_stream(), &caller)
            .await?;
        Self::created_blob(name, &blob.digest)
    }

    async fn cancel(&self, name: &RepositoryName, id: &str) -> Result<Response, ApiError> {
        let caller = self.writer().await?;
        self.state.registry.cancel_upload(name, id, &caller).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    async fn referrers(
        &self,
        name: &RepositoryName,
        digest: &Digest,
        query: &OciQuery,
    ) -> Result<Response, ApiError> {
        let filter = query.artifact_type.as_deref().filter(|t| !t.is_empty());
        let found = self
            .state
            .registry
            .oci_referrers(name, digest, filter)
            .await?;
        let manifests: Vec<serde_json::Value> = found
            .into_iter()
            .map(|r| {
                let mut descriptor = serde_json::json!({
                    "mediaType": r.media_type,
                    "digest": r.digest.to_string(),
                    "size": r.size,
                });
                if let Some(artifact_type) = r.artifact_type {
                    descriptor["artifactType"] = artifact_type.into();
                }
                if let Some(annotations) = r
                    .annotations
                    .and_then(|a| serde_json::from_str::<serde_json::Value>(&a).ok())
                {
                    descriptor["annotations"] = annotations;
                }
                descriptor
            })
            .collect();
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": manifests,
        });
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(OCI_INDEX));
        if filter.is_some() {
            headers.insert(FILTERS_APPLIED, HeaderValue::from_static("artifactType"));
        }
        Ok((headers, index.to_string()).into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_ranges_in_the_forms_clients_send() {
        let mut headers = HeaderMap::new();
        for (text, expected) in [
            ("0-9", (0, 9)),
            ("bytes=10-19", (10, 19)),
            ("bytes 5-6/100", (5, 6)),
        ] {
            headers.insert(header::CONTENT_RANGE, HeaderValue::from_static(text));
            let range = chunk_range(&headers).unwrap().unwrap();
            assert_eq!((range.start, range.end), expected);
        }
        headers.insert(header::CONTENT_RANGE, HeaderValue::from_static("nonsense"));
        assert!(chunk_range(&headers).is_err());
    }
}
