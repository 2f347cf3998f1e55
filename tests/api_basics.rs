//! Health, the repository catalog, and the error shape of unknown routes and methods.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{TestRegistry, request};

#[tokio::test]
async fn health_is_up_while_the_database_answers() {
    let registry = TestRegistry::new().await;
    let response = registry.get("/health").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), serde_json::json!({"status": "UP"}));
}

#[tokio::test]
async fn health_is_503_with_a_reason_when_the_database_is_gone() {
    let registry = TestRegistry::new().await;
    registry.db.close().await;
    let response = registry.get("/health").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = response.json();
    assert_eq!(body["status"], "DOWN");
    assert!(body["message"].as_str().unwrap().contains("database"));
}

#[tokio::test]
async fn catalog_lists_packs_in_name_order_with_paging() {
    let registry = TestRegistry::new().await;
    for pack in [
        "kubernetes",
        "cni-calico",
        "csi-aws-ebs",
        "addon-x",
        "cni-cilium",
    ] {
        assert_eq!(
            registry.put_blob(pack, pack.as_bytes()).await.status,
            StatusCode::CREATED
        );
    }
    let all = registry.get("/v1/_catalog").await;
    assert_eq!(
        all.json()["repositories"],
        serde_json::json!([
            "addon-x",
            "cni-calico",
            "cni-cilium",
            "csi-aws-ebs",
            "kubernetes"
        ])
    );
    assert!(all.header("link").is_none());

    let first = registry.get("/v1/_catalog?n=2").await;
    assert_eq!(
        first.json()["repositories"],
        serde_json::json!(["addon-x", "cni-calico"])
    );
    let link = first
        .header("link")
        .expect("a Link header for the next page");
    assert_eq!(link, "</v1/_catalog?n=2&last=cni-calico>; rel=\"next\"");

    let second = registry.get("/v1/_catalog?n=2&last=cni-calico").await;
    assert_eq!(
        second.json()["repositories"],
        serde_json::json!(["cni-cilium", "csi-aws-ebs"])
    );
    let third = registry.get("/v1/_catalog?n=2&last=csi-aws-ebs").await;
    assert_eq!(
        third.json()["repositories"],
        serde_json::json!(["kubernetes"])
    );
    assert!(third.header("link").is_none());

    let empty = registry.get("/v1/_catalog?n=0").await;
    assert_eq!(empty.json()["repositories"], serde_json::json!([]));
}

#[tokio::test]
async fn catalog_refuses_bad_paging_parameters() {
    let registry = TestRegistry::new().await;
    for query in ["n=-1", "n=abc", "n=1001", "last=..", "last=UPPER"] {
        let response = registry.get(&format!("/v1/_catalog?{query}")).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{query}");
        response.error_code(StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let registry = TestRegistry::new().await;
    let missing = registry.get("/v3/nothing/here").await;
    assert_eq!(missing.error_code(StatusCode::NOT_FOUND), "NOT_FOUND");
    let wrong_method = registry
        .send(
            request(Method::DELETE, "/v1/_catalog")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        wrong_method.error_code(StatusCode::METHOD_NOT_ALLOWED),
        "METHOD_NOT_ALLOWED"
    );
}

#[tokio::test]
async fn the_catalog_page_and_its_files_are_served_with_validators() {
    let registry = TestRegistry::new().await;
    for path in ["/", "/packs/cni-calico"] {
        let page = registry.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(
            page.header("content-security-policy")
                .unwrap()
                .contains("script-src 'self'")
        );
        assert!(String::from_utf8_lossy(&page.body).contains("/static/app.js"));
    }
    let script = registry.get("/static/app.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(script.header("cache-control"), Some("no-cache"));
    let etag = script.header("etag").unwrap().to_owned();
    let revalidated = registry
        .send(
            request(Method::GET, "/static/app.js")
                .header("if-none-match", &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
    assert!(revalidated.body.is_empty());
    let missing = registry.get("/static/nope.js").await;
    assert_eq!(missing.error_code(StatusCode::NOT_FOUND), "NOT_FOUND");
    let traversal = registry.get("/static/..%2FCargo.toml").await;
    assert_eq!(traversal.status, StatusCode::NOT_FOUND);
    let budget = packyard::http::ui::script_and_style_bytes();
    assert!(
        budget < 100 * 1024,
        "scripts and styles weigh {budget} bytes"
    );
}
