//! What each middleware layer adds to a 4 KiB blob GET, in-process (no network, one thread): the
//! routes are built once, then wrapped in the full stack of `http::layers::around`, in the stack
//! without one layer at a time, and in no layers; each serves the same requests. Prints one line
//! per variant: nanoseconds per request (the best of several rounds) and the difference from the
//! full stack. Logs go to stderr as the server's do (bench/layers sends them to a file).
//!
//! cargo run --release --example layer_cost -- [REQUESTS]

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use packyard::config::{LogFormat, ServeConfig};
use packyard::http::layers::{self, MetricsLayer};
use tower::ServiceExt;
use tower_http::request_id::PropagateRequestIdLayer;

/// `routes` in the given layers, composed like `layers::around` (one `Router::layer` call).
macro_rules! stack {
    ($routes:expr $(, $layer:expr)*) => {
        $routes.clone().layer(tower::ServiceBuilder::new()$(.layer($layer))*)
    };
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, usize) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body.len())
}

fn get(uri: &str) -> Request<Body> {
    Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("request")
}

async fn nanos_per_request(router: &Router, uri: &str, requests: u32) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        for _ in 0..requests {
            let (status, length) = send(router, get(uri)).await;
            assert!(status == StatusCode::OK && length == 4096);
        }
        best = best.min(started.elapsed().as_nanos() as f64 / f64::from(requests));
    }
    best
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let requests: u32 = std::env::args().nth(1).map_or(Ok(50_000), |n| n.parse())?;
    let _guard = packyard::telemetry::init(LogFormat::Text);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let mut config = ServeConfig::for_data_dir(dir.path().join("data"));
        config.admin_token = Some("bench".to_owned());
        let state = packyard::app::open(&config).await?;
        let routes = packyard::http::routes(state.clone());
        let blob = vec![7u8; 4096];
        let digest = format!(
            "sha256:{}",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&blob))
        );
        let uri = format!("/v1/bench/blobs/{digest}");
        let put = Request::builder()
            .method(Method::PUT)
            .uri(&uri)
            .header("authorization", "Bearer bench")
            .body(Body::from(blob))?;
        assert_eq!(send(&routes, put).await.0, StatusCode::CREATED);

        let metrics = || MetricsLayer::new(state.metrics.clone());
        let propagate = PropagateRequestIdLayer::x_request_id;
        let variants: Vec<(&str, Router)> = vec![
            (
                "without catch-panic",
                stack!(
                    routes,
                    layers::sensitive_headers(),
                    layers::request_ids(),
                    propagate(),
                    layers::trace(),
                    metrics()
                ),
            ),
            (
                "without metrics",
                stack!(
                    routes,
                    layers::sensitive_headers(),
                    layers::request_ids(),
                    propagate(),
                    layers::trace(),
                    layers::catch_panic()
                ),
            ),
            (
                "without trace",
                stack!(
                    routes,
                    layers::sensitive_headers(),
                    layers::request_ids(),
                    propagate(),
                    metrics(),
                    layers::catch_panic()
                ),
            ),
            (
                "without request-id",
                stack!(
                    routes,
                    layers::sensitive_headers(),
                    layers::trace(),
                    metrics(),
                    layers::catch_panic()
                ),
            ),
            (
                "without sensitive-headers",
                stack!(
                    routes,
                    layers::request_ids(),
                    propagate(),
                    layers::trace(),
                    metrics(),
                    layers::catch_panic()
                ),
            ),
            ("no layers", routes.clone()),
        ];
        let full = stack!(
            routes,
            layers::sensitive_headers(),
            layers::request_ids(),
            propagate(),
            layers::trace(),
            metrics(),
            layers::catch_panic()
        );
        // Warm every variant, then measure them in turn, twice over, keeping each one's best: a
        // busy moment of the machine then costs one round, not one variant.
        let mut best = vec![f64::MAX; variants.len() + 1];
        for round in 0..3 {
            let requests = if round == 0 { requests / 10 } else { requests };
            for (index, router) in std::iter::once(&full)
                .chain(variants.iter().map(|(_, r)| r))
                .enumerate()
            {
                let ns = nanos_per_request(router, &uri, requests).await;
                if round > 0 {
                    best[index] = best[index].min(ns);
                }
            }
        }
        let full_ns = best[0];
        println!("| variant | ns/request | vs the full stack |");
        println!("|---|---|---|");
        println!("| full stack | {full_ns:.0} | |");
        for ((label, _), ns) in variants.iter().zip(&best[1..]) {
            println!("| {label} | {ns:.0} | {:+.0} |", ns - full_ns);
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
