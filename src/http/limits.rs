//! Limits that keep one client from starving the others: a cap on requests in flight (503 with
//! `Retry-After` beyond it), a minimum upload rate (a client that trickles a body is cut off), and a
//! time limit on handlers that do not stream uploads.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body::Frame;
use tokio::sync::OwnedSemaphorePermit;

use super::oci_errors::{ChallengeSource, is_oci_route};
use super::palette_errors::{is_palette_route, reshape};
use super::{ApiError, AppState};
use crate::config::RequestLimits;

/// A response body that holds a request slot until it has been sent.
struct PermitBody {
    inner: Body,
    _permit: OwnedSemaphorePermit,
}

impl http_body::Body for PermitBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The API's one middleware (each layer costs a boxed future per request): at most
/// `--max-concurrent-requests` requests in flight (until their bodies are sent), beyond that 503
/// with `Retry-After` at once rather than queueing without bound; then the checks of [`guard`].
///
/// Errors of Palette's routes are answered in Palette's shape here, the one place every error of
/// a route passes (this middleware's own included).
pub async fn admit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // HTTP/2 requests name their host in `:authority`, not `Host`: one place gives every handler
    // (and the URLs the registry writes) a `Host` to read.
    if !request.headers().contains_key(axum::http::header::HOST)
        && let Some(authority) = request.uri().authority()
        && let Ok(host) = axum::http::HeaderValue::from_str(authority.as_str())
    {
        request.headers_mut().insert(axum::http::header::HOST, host);
    }
    let palette = is_palette_route(request.method(), request.uri().path())
        .then(|| request.headers().get("x-request-id").cloned());
    let oci = is_oci_route(request.uri().path())
        .then(|| ChallengeSource::of(request.method(), request.uri(), request.headers()));
    let shape = |response: Response| match (&palette, &oci) {
        (Some(request_id), _) => reshape(response, request_id.as_ref()),
        (None, Some(source)) => super::oci_errors::reshape(response, source),
        (None, None) => response,
    };
    let Ok(permit) = state.request_permits.clone().try_acquire_owned() else {
        return shape(
            ApiError::Overloaded(
                "the registry is at its limit of concurrent requests; retry shortly",
            )
            .into_response(),
        );
    };
    let (parts, body) = shape(checked(&state, request, next).await).into_parts();
    Response::from_parts(
        parts,
        Body::new(PermitBody {
            inner: body,
            _permit: permit,
        }),
    )
}

/// The error a too-slow upload ends with.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived slower than {0} bytes/s; the connection is cut off")]
pub struct TooSlow(u64);

/// Wraps a request body so that it fails when its average rate stays below the minimum after the
/// grace period (or when nothing arrives for that long).
fn guard_rate(body: Body, limits: RequestLimits) -> Body {
    let started = Instant::now();
    let mut received: u64 = 0;
    let stream = body.into_data_stream();
    let guarded =
        futures_util::stream::unfold((stream, false), move |(mut stream, failed)| async move {
            if failed {
                return None;
            }
            let next = tokio::time::timeout(limits.slow_body_grace, stream.next()).await;
            match next {
                Err(_) => Some((
                    Err(axum::Error::new(TooSlow(limits.min_body_rate))),
                    (stream, true),
                )),
                Ok(None) => None,
                Ok(Some(Err(e))) => Some((Err(e), (stream, true))),
                Ok(Some(Ok(chunk))) => {
                    received += chunk.len() as u64;
                    let elapsed = started.elapsed();
                    let too_slow = elapsed > limits.slow_body_grace
                        && (received as f64) < limits.min_body_rate as f64 * elapsed.as_secs_f64();
                    if too_slow {
                        Some((
                            Err(axum::Error::new(TooSlow(limits.min_body_rate))),
                            (stream, true),
                        ))
                    } else {
                        Some((Ok(chunk), (stream, false)))
                    }
                }
            }
        });
    Body::from_stream(
        Box::pin(guarded) as Pin<Box<dyn Stream<Item = Result<Bytes, axum::Error>> + Send>>
    )
}

/// Whether a request streams a large body (blob and pack uploads): those are bounded by their rate,
/// not by the request time limit.
fn is_upload(request: &Request) -> bool {
    let path = request.uri().path();
    match *request.method() {
        Method::PUT => true,
        Method::POST => path == "/v1/packs" || is_oci_route(path),
        Method::PATCH => is_oci_route(path),
        _ => false,
    }
}

/// Whether a request may carry a body at all (GET and HEAD bodies are ignored by every route).
fn may_have_body(request: &Request) -> bool {
    !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    )
}

/// The per-request checks alone (for `/metrics`, which the request cap never refuses).
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    checked(&state, request, next).await
}

/// Reads need the read scope on a private registry, bodies that trickle in are cut off, and
/// handlers that do not stream an upload must answer within the request time limit.
async fn checked(state: &AppState, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(error) = super::auth::check_read(state, &parts).await {
        return super::auth::challenge(state, error.into_response());
    }
    let mut request = Request::from_parts(parts, body);
    if may_have_body(&request) {
        let (parts, body) = request.into_parts();
        request = Request::from_parts(parts, guard_rate(body, state.settings.limits));
    }
    let response = if is_upload(&request) {
        next.run(request).await
    } else {
        match tokio::time::timeout(state.settings.limits.request_timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => ApiError::Overloaded("the request took longer than the server's time limit")
                .into_response(),
        }
    };
    super::auth::challenge(state, response)
}

/// Whether a body read failed because the client sent too slowly.
pub fn is_too_slow(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.is::<TooSlow>() {
            return true;
        }
        cause = current.source();
    }
    false
}
