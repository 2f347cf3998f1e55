//! `/openapi.json`: an OpenAPI 3.1 document generated from the code, covering every route, its
//! parameters, bodies and errors. (.ci/schemathesis checks a live server against it.)

mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::TestRegistry;

#[tokio::test]
async fn the_document_covers_every_route_and_error() {
    let registry = TestRegistry::new().await;
    let response = registry.get("/openapi.json").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let document = response.json();
    assert_eq!(document["openapi"], "3.1.0");

    let operations: BTreeSet<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "put", "post", "patch", "head", "delete"].contains(&k.as_str()))
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    // Every route the router serves (src/http/mod.rs), by method.
    let expected: BTreeSet<String> = [
        "GET /",
        "GET /packs/{name}",
        "GET /static/{file}",
        "GET /health",
        "GET /metrics",
        "GET /openapi.json",
        "GET /v1/_catalog",
        "GET /v1/{pack}/blobs/{digest}",
        "HEAD /v1/{pack}/blobs/{digest}",
        "PUT /v1/{pack}/blobs/{digest}",
        "GET /v1/{pack}/tags/list",
        "GET /v1/registries/metadata",
        "GET /v1/registries/pack",
        "GET /v1/registries/pack/summary",
        "GET /v1/registries/pack/{uid}",
        "GET /v1/registries/pack/{uid}/sync/status",
        "GET /v1/registries/helm",
        "GET /v1/registries/helm/summary",
        "GET /v1/registries/helm/{uid}",
        "GET /v1/registries/oci/summary",
        "GET /v1/dashboard/projects/metadata",
        "GET /v1/packs",
        "POST /v1/packs",
        "POST /v1/packs/search",
        "GET /v1/packs/{pack}",
        "GET /v1/packs/{pack}/readme",
        "GET /v1/packs/{pack}/logo",
        "GET /v1/packs/{pack}/registries/{registry}",
        "GET /v1/packs/{pack}/tags/{version}",
        "PATCH /v1/packs/{pack}/tags/{version}",
        "GET /v1/packs/{pack}/tags/{version}/render",
        "POST /v1/packs/{pack}/tags/{version}/render",
        "GET /v1/packs/{pack}/tags/{version}/values",
        "GET /v1/packs/{pack}/tags/{version}/overview",
        "POST /v1/clusterprofiles/render",
        "POST /v1/clusterprofiles/validate/packs",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(operations, expected);

    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            // Palette's routes answer errors as Palette's v1Error; packyard's own as ErrorResponse.
            let palette = path.starts_with("/v1/registries")
                || path.starts_with("/v1/dashboard")
                || path == "/v1/clusterprofiles/validate/packs"
                || (path.starts_with("/v1/packs") && !path.contains("/tags/"))
                    && !(path == "/v1/packs" && method == "post");
            let schema = match palette {
                true => "#/components/schemas/PaletteError",
                false => "#/components/schemas/ErrorResponse",
            };
            for status in ["400", "401", "403", "404", "413", "422", "500", "503"] {
                let error = &responses[status]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(error, schema, "{method} {path} {status}");
            }
            // There are no Helm registries here: that lookup is always a 404.
            assert!(
                responses.keys().any(|s| s.starts_with('2')) || path == "/v1/registries/helm/{uid}",
                "{method} {path} has no success"
            );
        }
    }
    // Path parameters are declared where they appear.
    let blob = &document["paths"]["/v1/{pack}/blobs/{digest}"]["get"]["parameters"];
    let names: Vec<&str> = blob
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"pack") && names.contains(&"digest"),
        "{names:?}"
    );
    // Bodies reference their schemas, and those schemas exist.
    let search = &document["paths"]["/v1/packs/search"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"]["$ref"];
    assert_eq!(search, "#/components/schemas/PacksFilterSpec");
    for schema in [
        "PacksFilterSpec",
        "PackTagEntity",
        "RenderBody",
        "ProfileBody",
        "ErrorResponse",
        "Overview",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["basic"]["scheme"], "basic");
}

/// The constraints the server enforces are in the document, taken from the types that enforce them.
#[tokio::test]
async fn the_document_states_what_the_server_enforces() {
    let registry = TestRegistry::new().await;
    let document = registry.get("/openapi.json").await.json();
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["PackName"]["pattern"],
        packyard::domain::PackName::PATTERN
    );
    assert_eq!(schemas["PackName"]["maxLength"], 128);
    assert_eq!(schemas["Digest"]["pattern"], "^sha256:[0-9a-f]{64}$");
    assert_eq!(
        schemas["Version"]["pattern"],
        packyard::domain::Version::PATTERN
    );
    let parameter = |path: &str, method: &str, name: &str| {
        document["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
            .clone()
    };
    let blob = parameter("/v1/{pack}/blobs/{digest}", "get", "digest");
    assert_eq!(blob["schema"]["$ref"], "#/components/schemas/Digest");
    let pack = parameter("/v1/packs/{pack}/tags/{version}/render", "get", "pack");
    assert_eq!(pack["schema"]["$ref"], "#/components/schemas/PackName");
    let state_version = parameter("/v1/packs/{pack}/tags/{version}", "patch", "version");
    assert_eq!(
        state_version["schema"]["$ref"],
        "#/components/schemas/Version"
    );
    let cloud = parameter("/v1/packs/{pack}/tags/{version}/render", "get", "cloudType");
    assert_eq!(cloud["required"], true);
    let n = parameter("/v1/_catalog", "get", "n");
    assert_eq!(n["schema"]["maximum"], 1000);
    let last = parameter("/v1/_catalog", "get", "last");
    assert!(
        last.to_string().contains("#/components/schemas/PackName"),
        "{last}"
    );
}

/// JSON bodies are objects: serde would read `[]` as a struct written as an array of its fields.
#[tokio::test]
async fn a_json_body_must_be_an_object() {
    let registry = TestRegistry::new().await;
    let search = registry
        .post_json("/v1/packs/search", serde_json::json!([]))
        .await;
    assert_eq!(search.status, StatusCode::BAD_REQUEST, "{:?}", search.body);
    assert_eq!(search.json()["code"], "InvalidRequest");
    assert_eq!(search.json()["details"]["code"], "BODY_INVALID");
    let object = registry
        .post_json("/v1/packs/search", serde_json::json!({}))
        .await;
    assert_eq!(object.status, StatusCode::OK, "{:?}", object.body);
}
