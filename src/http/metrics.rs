//! Prometheus metrics at `/metrics` (text exposition format): requests by route and status with
//! latency histograms, blob bytes served, publishes, renders and render cache results, and the
//! database pools.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::{ApiError, AppState};

/// Borrowed, copied labels: recording a request allocates nothing once its series exists.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: &'static str,
    /// The matched route template (`/v1/{pack}/blobs/{*digest}`), never the raw path, so the
    /// number of series stays bounded.
    pub route: &'static str,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RenderLabels {
    /// `pack` or `profile`.
    pub kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    pub cache: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub pool: &'static str,
    pub state: &'static str,
}

type HistogramFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.1 ms to ~6.5 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

/// Every metric the server exports, registered once at start-up.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: HistogramFamily,
    pub blob_bytes_served: Counter,
    pub publishes: Family<OutcomeLabels, Counter>,
    pub renders: Family<RenderLabels, Counter>,
    pub render_cache: Family<OutcomeLabels, Counter>,
    pool_connections: Family<PoolLabels, Gauge>,
    generation_reads: Counter,
    cache_bytes: Family<CacheLabels, Gauge>,
    /// Connections open (the server keeps it).
    pub http_connections: Gauge,
    /// Connections the server closed, by reason (idle, evicted, refused).
    pub http_connections_closed: Family<ReasonLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("packyard");
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let blob_bytes_served = Counter::default();
        let publishes = Family::<OutcomeLabels, Counter>::default();
        let renders = Family::<RenderLabels, Counter>::default();
        let render_cache = Family::<OutcomeLabels, Counter>::default();
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        let generation_reads = Counter::default();
        let cache_bytes = Family::<CacheLabels, Gauge>::default();
        let http_connections = Gauge::default();
        let http_connections_closed = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "http_connections",
            "HTTP connections open (at most --max-connections)",
            http_connections.clone(),
        );
        registry.register(
            "http_connections_closed",
            "Connections the server closed: idle (no request for --header-timeout-secs), evicted \
             (the longest idle, to admit a new one at the cap), refused (at the cap, none idle)",
            http_connections_closed.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to the response head, by method, route and status",
            request_seconds.clone(),
        );
        registry.register(
            "blob_bytes_served",
            "Blob bytes sent in GET responses",
            blob_bytes_served.clone(),
        );
        registry.register(
            "publishes",
            "Pack publishes by outcome (created, replaced, unchanged)",
            publishes.clone(),
        );
        registry.register(
            "renders",
            "Renders executed (cache misses), by kind",
            renders.clone(),
        );
        registry.register(
            "render_cache_requests",
            "Render requests by cache result (hit, miss)",
            render_cache.clone(),
        );
        registry.register(
            "db_connections",
            "Database pool connections by pool and state (idle, in_use)",
            pool_connections.clone(),
        );
        registry.register(
            "db_generation_reads",
            "Queries of the registry's change counter that validate caches on PostgreSQL (one \
             serves every request that arrived while the previous one ran)",
            generation_reads.clone(),
        );
        registry.register(
            "cache_bytes",
            "Bytes held by each in-memory cache (each is bounded; see the README's Limits)",
            cache_bytes.clone(),
        );
        Metrics {
            registry,
            requests,
            request_seconds,
            blob_bytes_served,
            publishes,
            renders,
            render_cache,
            pool_connections,
            generation_reads,
            cache_bytes,
            http_connections,
            http_connections_closed,
        }
    }
}

impl Metrics {
    pub fn observe_request(&self, labels: &RequestLabels, seconds: f64) {
        self.request_seconds.get_or_create(labels).observe(seconds);
        self.requests.get_or_create(labels).inc();
    }

    pub fn publish(&self, outcome: &'static str) {
        self.publishes
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub fn render(&self, kind: &'static str) {
        self.renders.get_or_create(&RenderLabels { kind }).inc();
    }

    pub fn render_cache(&self, hit: bool) {
        let outcome = if hit { "hit" } else { "miss" };
        self.render_cache
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    fn set_cache(&self, cache: &'static str, bytes: u64) {
        self.cache_bytes
            .get_or_create(&CacheLabels { cache })
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    fn set_pool(&self, pool: &'static str, size: u32, idle: usize) {
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        self.pool_connections
            .get_or_create(&PoolLabels {
                pool,
                state: "idle",
            })
            .set(idle);
        self.pool_connections
            .get_or_create(&PoolLabels {
                pool,
                state: "in_use",
            })
            .set(i64::from(size) - idle);
    }
}

/// `GET /metrics`.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus / OpenMetrics text", content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let metrics: &Arc<Metrics> = &state.metrics;
    let pools = state.registry.pool_stats();
    for (pool, size, idle) in pools.pools {
        metrics.set_pool(pool, size, idle);
    }
    metrics
        .generation_reads
        .inner()
        .store(pools.generation_queries, Ordering::Relaxed);
    for (cache, bytes) in state.registry.cache_sizes() {
        metrics.set_cache(cache, bytes);
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &metrics.registry)
        .map_err(ApiError::internal)?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}
