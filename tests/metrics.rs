//! `/metrics`: Prometheus text with requests by route and status, latency histograms, blob bytes,
//! publishes, renders, render cache results and the database pools.

mod common;

use axum::http::StatusCode;
use common::TestRegistry;
use common::packs::TestPack;

/// The value of the sample whose line starts with `series` (name and labels exactly).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .and_then(|value| value.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
}

#[tokio::test]
async fn metrics_count_requests_bytes_publishes_and_renders() {
    let registry = TestRegistry::new().await;
    registry.publish_ok(&TestPack::new("demo", "1.0.0")).await;
    let content: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    assert_eq!(
        registry.put_blob("demo", &content).await.status,
        StatusCode::CREATED
    );
    let blob = format!("/v1/demo/blobs/{}", common::digest_of(&content));
    for _ in 0..2 {
        assert_eq!(registry.get(&blob).await.status, StatusCode::OK);
    }
    assert_eq!(
        registry.get("/v1/demo/blobs/sha256:0000").await.status,
        StatusCode::BAD_REQUEST
    );
    let render = "/v1/packs/demo/tags/1.0.0/render?cloudType=aws";
    assert_eq!(
        registry.get(render).await.header("x-render-cache"),
        Some("miss")
    );
    assert_eq!(
        registry.get(render).await.header("x-render-cache"),
        Some("hit")
    );

    let response = registry.get("/metrics").await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        response
            .header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = String::from_utf8(response.body.to_vec()).unwrap();
    let blob_route = r#"method="GET",route="/v1/{pack}/blobs/{*digest}""#;
    assert_eq!(
        sample(
            &text,
            &format!(r#"packyard_http_requests_total{{{blob_route},status="200"}}"#)
        ),
        2.0
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"packyard_http_requests_total{{{blob_route},status="400"}}"#)
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            &format!(
                r#"packyard_http_request_duration_seconds_count{{{blob_route},status="200"}}"#
            )
        ),
        2.0
    );
    let infinite_bucket = text
        .lines()
        .find(|line| {
            line.starts_with("packyard_http_request_duration_seconds_bucket{")
                && line.contains(blob_route)
                && line.contains(r#"status="200""#)
                && line.contains(r#"le="+Inf""#)
        })
        .unwrap_or_else(|| panic!("no +Inf bucket in:\n{text}"));
    assert!(infinite_bucket.ends_with(" 2"), "{infinite_bucket}");
    assert_eq!(sample(&text, "packyard_blob_bytes_served_total"), 10_000.0);
    assert_eq!(
        sample(&text, r#"packyard_publishes_total{outcome="created"}"#),
        1.0
    );
    assert_eq!(sample(&text, r#"packyard_renders_total{kind="pack"}"#), 1.0);
    assert_eq!(
        sample(
            &text,
            r#"packyard_render_cache_requests_total{outcome="hit"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            r#"packyard_render_cache_requests_total{outcome="miss"}"#
        ),
        1.0
    );
    assert!(text.contains("packyard_db_connections{pool="), "{text}");
    // Cache validation against the shared database happens on PostgreSQL only (the renders above
    // resolved a tag through the version-rows cache).
    let generation_reads = sample(&text, "packyard_db_generation_reads_total");
    match registry.db.backend() {
        packyard::store::db::Backend::Sqlite => assert_eq!(generation_reads, 0.0),
        packyard::store::db::Backend::Postgres => assert!(generation_reads >= 1.0),
    }
    // Raw paths never become labels: the series count stays bounded.
    assert!(!text.contains("sha256:"));
    assert!(text.ends_with("# EOF\n"));
}
