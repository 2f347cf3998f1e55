//! The middleware around every route, outermost first:
//!
//! 1. `SetSensitiveRequestHeadersLayer`: `Authorization`, `ApiKey` and `Cookie` values are marked
//!    sensitive, so nothing that prints headers can show them.
//! 2. `SetRequestIdLayer` / `PropagateRequestIdLayer`: every request has an `X-Request-Id` (the
//!    client's, or a new one), echoed on the response and recorded on the request's span.
//! 3. `TraceLayer`: a span per request (method, matched route, request id) and one log event when
//!    the response head is ready (status, latency; a 5xx's hidden detail at error level).
//! 4. [`MetricsLayer`]: request counts and latency histograms by method, route and status, with
//!    label sets that borrow static strings (no allocation per request).
//! 5. `CompressionLayer`: gzip or zstd for JSON, YAML and text bodies; never for blobs or bodies
//!    that are already encoded (renders carry their own gzip form).
//! 6. `CatchPanicLayer`: a panicking handler is a logged 500 in the usual error shape, never a
//!    dropped connection.
//!
//! `CorsLayer` (with `--cors-origins`) wraps the API routes only: browser pages on those origins may
//! read (`GET`, `HEAD`, and `POST` for searches and renders) without credentials, so writes, which
//! need `Authorization`, stay same-origin.

use std::any::Any;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header,
};
use axum::response::IntoResponse;
use tower::{Layer, Service};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::Span;

use super::ApiError;
use super::error::ErrorDetail;
use super::metrics::{Metrics, RequestLabels};

/// Wraps `router` in the stack above (`metrics` records the requests).
pub fn around(router: Router, metrics: Arc<Metrics>) -> Router {
    // One `Router::layer` call: axum boxes each layer given separately (and clones the box per
    // request), so the stack is composed first.
    router.layer(
        tower::ServiceBuilder::new()
            .layer(sensitive_headers())
            .layer(request_ids())
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(trace())
            .layer(MetricsLayer::new(metrics))
            .layer(catch_panic()),
    )
}

type Trace =
    TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, (), LogResponse, (), (), ()>;

/// A span per request (method, matched route, request id) and one event per response.
pub fn trace() -> Trace {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_response(LogResponse)
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

type PanicResponse = fn(Box<dyn Any + Send + 'static>) -> Response<Body>;

/// A panicking handler answers 500 in the error shape.
pub fn catch_panic() -> CatchPanicLayer<PanicResponse> {
    CatchPanicLayer::custom(panic_response as PanicResponse)
}

/// `X-Request-Id`: the client's, or a new one.
pub fn request_ids() -> SetRequestIdLayer<RequestIds> {
    SetRequestIdLayer::x_request_id(RequestIds::default())
}

/// Credentials are marked sensitive wherever headers might be printed.
pub fn sensitive_headers() -> SetSensitiveRequestHeadersLayer {
    SetSensitiveRequestHeadersLayer::new([
        header::AUTHORIZATION,
        HeaderName::from_static("apikey"),
        header::COOKIE,
    ])
}

type Compressible =
    fn(StatusCode, axum::http::Version, &HeaderMap, &axum::http::Extensions) -> bool;

/// gzip or zstd for JSON, YAML and text bodies (never for the blob routes, which this does not
/// wrap).
pub fn compression() -> CompressionLayer<Compressible> {
    CompressionLayer::new()
        .gzip(true)
        .zstd(true)
        .compress_when(compressible as Compressible)
}

/// Cross-origin reads of the API for `origins` (`*`: any origin); `None` when there are none.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<&str> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        let values = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok());
        AllowOrigin::list(values)
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::HEAD, Method::POST])
            .allow_headers([header::ACCEPT, header::CONTENT_TYPE, header::IF_NONE_MATCH])
            .expose_headers([
                header::ETAG,
                header::LINK,
                header::WARNING,
                HeaderName::from_static("x-pack-version"),
                HeaderName::from_static("x-pack-digest"),
                HeaderName::from_static("x-object-count"),
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}

/// Request ids: a random per-process prefix and a counter (cheaper than a UUID per request, and
/// still unique across replicas and restarts).
#[derive(Clone)]
pub struct RequestIds {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        let mut bytes = [0u8; 6];
        // Without randomness the ids are still unique within the process.
        let _ = getrandom::fill(&mut bytes);
        RequestIds {
            prefix: Arc::from(hex::encode(bytes)),
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut id = String::with_capacity(self.prefix.len() + 17);
        id.push_str(&self.prefix);
        id.push('-');
        // Writing to a String cannot fail.
        let _ = write!(id, "{n:x}");
        HeaderValue::from_maybe_shared(bytes::Bytes::from(id))
            .ok()
            .map(RequestId::new)
    }
}

/// The request's span: method, matched route, request id.
#[derive(Clone, Copy, Debug)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        request_span(request)
    }
}

fn request_span<B>(request: &Request<B>) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("-", MatchedPath::as_str);
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(target: "packyard::http", "request", method = %request.method(), route, request_id = id)
}

/// One event per response: status and latency (and a 5xx's hidden detail, at error level).
#[derive(Clone, Copy, Debug)]
pub struct LogResponse;

impl<B> OnResponse<B> for LogResponse {
    fn on_response(self, response: &Response<B>, latency: Duration, span: &Span) {
        log_response(response, latency, span);
    }
}

fn log_response<B>(response: &Response<B>, latency: Duration, _span: &Span) {
    let status = response.status().as_u16();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    match response.extensions().get::<ErrorDetail>() {
        Some(ErrorDetail(detail)) => {
            tracing::error!(target: "packyard::http", status, latency_ms, error = %detail, "request failed");
        }
        None => tracing::info!(target: "packyard::http", status, latency_ms, "request"),
    }
}

/// JSON, YAML and text are compressed; blobs (whatever their type), partial and already-encoded
/// bodies never are.
fn compressible(
    status: StatusCode,
    _version: axum::http::Version,
    headers: &HeaderMap,
    _extensions: &axum::http::Extensions,
) -> bool {
    if status == StatusCode::PARTIAL_CONTENT
        || headers.contains_key(super::blob_response::DOCKER_CONTENT_DIGEST)
        || headers.contains_key(header::CONTENT_ENCODING)
    {
        return false;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let small = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|length| length < 256);
    !small
        && [
            "application/json",
            "application/yaml",
            "application/openmetrics-text",
            "text/",
        ]
        .iter()
        .any(|prefix| content_type.starts_with(prefix))
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a handler panicked");
    ApiError::internal(format!("panic: {message}")).into_response()
}

/// Interned route templates: a matched route is one of the router's own, so the set is small and
/// fixed; each is leaked once, and label sets then borrow it.
static ROUTES: LazyLock<RwLock<HashSet<&'static str>>> = LazyLock::new(Default::default);

fn interned(route: &str) -> &'static str {
    if let Some(found) = ROUTES.read().ok().and_then(|set| set.get(route).copied()) {
        return found;
    }
    let Ok(mut set) = ROUTES.write() else {
        return "-";
    };
    if let Some(found) = set.get(route) {
        return found;
    }
    let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Records every request in [`Metrics`]: by method, matched route (never the raw path, so the
/// number of series stays bounded) and status, with the time to the response head.
#[derive(Clone)]
pub struct MetricsLayer {
    metrics: Arc<Metrics>,
}

impl MetricsLayer {
    pub fn new(metrics: Arc<Metrics>) -> MetricsLayer {
        MetricsLayer { metrics }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B, R> Service<Request<B>> for MetricsService<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = MetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or("-", |path| interned(path.as_str()));
        let method = method_label(request.method());
        MetricsFuture {
            inner: self.inner.call(request),
            metrics: Some(self.metrics.clone()),
            method,
            route,
            started: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct MetricsFuture<F> {
        #[pin]
        inner: F,
        metrics: Option<Arc<Metrics>>,
        method: &'static str,
        route: &'static str,
        started: Instant,
    }
}

impl<F, E, R> Future for MetricsFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some(metrics)) = (&result, this.metrics.take()) {
            let labels = RequestLabels {
                method: this.method,
                route: this.route,
                status: response.status().as_u16(),
            };
            metrics.observe_request(&labels, this.started.elapsed().as_secs_f64());
        }
        Poll::Ready(result)
    }
}
