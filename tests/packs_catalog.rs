//! The catalog API in Palette's shapes: tags and parent tags, lifecycle states, filters, search,
//! paging, single versions, and every response checked against packs-api.json.

mod common;

use axum::http::StatusCode;
use common::TestRegistry;
use common::packs::TestPack;
use common::palette::assert_valid;
use serde_json::{Value, json};

fn tag<'a>(entity: &'a Value, tag: &str) -> Option<&'a Value> {
    entity["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tag"] == tag)
}

fn tag_version(entity: &Value, name: &str) -> Option<String> {
    tag(entity, name).map(|t| t["version"].as_str().unwrap().to_owned())
}

async fn registry_with_versions(versions: &[&str]) -> TestRegistry {
    let registry = TestRegistry::new().await;
    for version in versions {
        registry
            .publish_ok(&TestPack::new("cni-demo", version))
            .await;
    }
    registry
}

#[tokio::test]
async fn parent_tags_resolve_to_the_newest_patch_and_are_their_own_entries() {
    let registry = registry_with_versions(&["3.24.5", "3.24.6", "3.23.5", "3.22.5"]).await;
    let response = registry.tag_entity("cni-demo", "").await;
    assert_eq!(response.status, StatusCode::OK);
    let entity = response.json();
    assert_valid("v1PackTagEntity", &entity);
    assert_eq!(tag_version(&entity, "3.24.x").as_deref(), Some("3.24.6"));
    assert_eq!(tag_version(&entity, "3.23.x").as_deref(), Some("3.23.5"));
    assert_eq!(tag_version(&entity, "3.22.x").as_deref(), Some("3.22.5"));
    assert_eq!(tag_version(&entity, "3.x").as_deref(), Some("3.24.6"));
    let newest = tag(&entity, "3.24.6").unwrap();
    assert_eq!(newest["parentTags"], json!(["3.x", "3.24.x"]));
    // Every version lists the parent tags it belongs to, wherever they resolve.
    assert_eq!(
        tag(&entity, "3.24.5").unwrap()["parentTags"],
        json!(["3.x", "3.24.x"])
    );
    assert_eq!(
        tag(&entity, "3.22.5").unwrap()["parentTags"],
        json!(["3.x", "3.22.x"])
    );
    assert_eq!(
        tag(&entity, "3.24.x").unwrap()["packUid"],
        newest["packUid"]
    );
    assert_eq!(
        tag(&entity, "3.24.x").unwrap()["parentTags"],
        json!(["3.x"])
    );
    assert_eq!(entity["packValues"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn lifecycle_states_hide_and_show_versions() {
    let registry = registry_with_versions(&["3.24.5", "3.24.6", "3.23.5", "3.22.5"]).await;
    let deprecated = registry.set_state("cni-demo", "3.22.5", "deprecated").await;
    assert_eq!(deprecated.status, StatusCode::OK);
    assert_eq!(deprecated.json()["state"], "deprecated");
    assert_eq!(
        registry
            .set_state("cni-demo", "3.24.6", "disabled")
            .await
            .status,
        StatusCode::OK
    );

    // Default listing: disabled hidden, parent tags skip it, deprecated is flagged.
    let entity = registry.tag_entity("cni-demo", "").await.json();
    assert_valid("v1PackTagEntity", &entity);
    assert!(tag(&entity, "3.24.6").is_none());
    assert_eq!(tag_version(&entity, "3.24.x").as_deref(), Some("3.24.5"));
    let values = entity["packValues"].as_array().unwrap();
    assert_eq!(values.len(), 3);
    let old = values
        .iter()
        .find(|v| v["packUid"] == tag(&entity, "3.22.5").unwrap()["packUid"])
        .unwrap();
    assert_eq!(old["annotations"]["system_state"], "deprecated");

    // states=disabled shows it, flagged; parent tags still do not use it.
    let with_disabled = registry
        .tag_entity("cni-demo", "?states=disabled")
        .await
        .json();
    assert_valid("v1PackTagEntity", &with_disabled);
    assert!(tag(&with_disabled, "3.24.6").is_some());
    assert_eq!(
        tag_version(&with_disabled, "3.24.x").as_deref(),
        Some("3.24.5")
    );
    let disabled_values = with_disabled["packValues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["packUid"] == tag(&with_disabled, "3.24.6").unwrap()["packUid"])
        .unwrap();
    assert_eq!(disabled_values["annotations"]["disabled"], "true");

    // Deleted versions are gone from everything but an explicit states=deleted.
    assert_eq!(
        registry
            .set_state("cni-demo", "3.23.5", "deleted")
            .await
            .status,
        StatusCode::OK
    );
    let entity = registry.tag_entity("cni-demo", "").await.json();
    assert!(tag(&entity, "3.23.5").is_none() && tag(&entity, "3.23.x").is_none());
    let tags = registry.get("/v1/cni-demo/tags/list").await.json();
    assert_eq!(tags["tags"], json!(["3.22.5", "3.24.5"]));
    let deleted = registry
        .tag_entity("cni-demo", "?states=deleted")
        .await
        .json();
    assert!(tag(&deleted, "3.23.5").is_some());

    // Back to active: visible again, and parent tags follow.
    assert_eq!(
        registry
            .set_state("cni-demo", "3.24.6", "active")
            .await
            .status,
        StatusCode::OK
    );
    let entity = registry.tag_entity("cni-demo", "").await.json();
    assert_eq!(tag_version(&entity, "3.24.x").as_deref(), Some("3.24.6"));

    // Every change is in the history.
    let events = packyard::store::versions::list_events(
        registry.db.reader(),
        &"cni-demo".parse().unwrap(),
        &"3.24.6".parse().unwrap(),
    )
    .await
    .unwrap();
    let text = |state: Option<packyard::domain::PackState>| state.map(|s| s.to_string());
    let states: Vec<(Option<String>, Option<String>)> = events
        .iter()
        .filter(|e| e.action.as_str() == "state")
        .map(|e| (text(e.old_state.0), text(e.new_state.0)))
        .collect();
    assert_eq!(
        states,
        vec![
            (Some("active".into()), Some("disabled".into())),
            (Some("disabled".into()), Some("active".into()))
        ]
    );
}

#[tokio::test]
async fn states_come_from_pack_json_annotations_at_publish() {
    let registry = TestRegistry::new().await;
    registry
        .publish_ok(
            &TestPack::new("old", "1.0.0")
                .pack_json(|j| j["annotations"]["system_state"] = json!("deprecated")),
        )
        .await;
    registry
        .publish_ok(
            &TestPack::new("old", "1.1.0")
                .pack_json(|j| j["annotations"]["disabled"] = json!("true")),
        )
        .await;
    let rows = registry.version_rows("old").await;
    let states: Vec<&str> = rows.iter().map(|r| r.state.as_str()).collect();
    assert_eq!(states, vec!["deprecated", "disabled"]);
    let entity = registry.tag_entity("old", "").await.json();
    assert_eq!(tag_version(&entity, "1.x").as_deref(), Some("1.0.0"));
}

#[tokio::test]
async fn bad_state_changes_are_refused_without_changing_anything() {
    let registry = registry_with_versions(&["1.0.0"]).await;
    let unknown_state = registry.set_state("cni-demo", "1.0.0", "retired").await;
    assert_eq!(
        unknown_state.error_code(StatusCode::BAD_REQUEST),
        "BODY_INVALID"
    );
    let unknown_version = registry.set_state("cni-demo", "9.9.9", "deprecated").await;
    assert_eq!(
        unknown_version.error_code(StatusCode::NOT_FOUND),
        "TAG_UNKNOWN"
    );
    let bad_json = registry
        .send(
            common::request(axum::http::Method::PATCH, "/v1/packs/cni-demo/tags/1.0.0")
                .header("authorization", format!("Bearer {}", common::ADMIN_TOKEN))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{\"state\":"))
                .unwrap(),
        )
        .await;
    assert_eq!(bad_json.error_code(StatusCode::BAD_REQUEST), "BODY_INVALID");
    let unauthenticated = registry
        .send(
            common::request(axum::http::Method::PATCH, "/v1/packs/cni-demo/tags/1.0.0")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(r#"{"state":"deprecated"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(
        unauthenticated.error_code(StatusCode::UNAUTHORIZED),
        "UNAUTHORIZED"
    );
    let rows = registry.version_rows("cni-demo").await;
    assert_eq!(rows[0].state.as_str(), "active");
    let events = packyard::store::versions::list_events(
        registry.db.reader(),
        &"cni-demo".parse().unwrap(),
        &"1.0.0".parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(events.iter().all(|e| e.action.as_str() == "publish"));
}

#[tokio::test]
async fn pre_releases_count_only_when_a_line_has_nothing_else() {
    let registry = registry_with_versions(&["2.0.0-rc.1", "1.4.0", "1.5.0-beta.2"]).await;
    let entity = registry.tag_entity("cni-demo", "").await.json();
    assert_eq!(tag_version(&entity, "1.x").as_deref(), Some("1.4.0"));
    assert_eq!(
        tag_version(&entity, "1.5.x").as_deref(),
        Some("1.5.0-beta.2")
    );
    assert_eq!(tag_version(&entity, "2.x").as_deref(), Some("2.0.0-rc.1"));
}

#[tokio::test]
async fn cloud_type_and_layer_filter_versions() {
    let registry = TestRegistry::new().await;
    registry
        .publish_ok(&TestPack::new("cni-demo", "1.0.0"))
        .await; // aws, vsphere
    registry
        .publish_ok(
            &TestPack::new("cni-demo", "1.1.0").pack_json(|j| j["cloudTypes"] = json!(["all"])),
        )
        .await;
    registry
        .publish_ok(
            &TestPack::new("cni-demo", "1.2.0").pack_json(|j| j["cloudTypes"] = json!(["azure"])),
        )
        .await;
    let versions = |entity: Value| -> Vec<String> {
        entity["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| !t["tag"].as_str().unwrap().ends_with(".x"))
            .map(|t| t["version"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        versions(
            registry
                .tag_entity("cni-demo", "?cloudType=aws")
                .await
                .json()
        ),
        ["1.0.0", "1.1.0"]
    );
    assert_eq!(
        versions(
            registry
                .tag_entity("cni-demo", "?cloudType=azure")
                .await
                .json()
        ),
        ["1.1.0", "1.2.0"]
    );
    assert_eq!(
        versions(
            registry
                .tag_entity("cni-demo", "?cloudType=all")
                .await
                .json()
        )
        .len(),
        3
    );
    let aws = registry
        .tag_entity("cni-demo", "?cloudType=aws")
        .await
        .json();
    assert_eq!(tag_version(&aws, "1.x").as_deref(), Some("1.1.0"));
    assert_eq!(
        registry.tag_entity("cni-demo", "?layer=addon").await.status,
        StatusCode::OK
    );
    let wrong_layer = registry.tag_entity("cni-demo", "?layer=cni").await;
    assert_eq!(
        wrong_layer.error_code(StatusCode::NOT_FOUND),
        "PACK_UNKNOWN"
    );
    let bad_states = registry.tag_entity("cni-demo", "?states=gone").await;
    assert_eq!(
        bad_states.error_code(StatusCode::BAD_REQUEST),
        "PARAMETER_INVALID"
    );
}

#[tokio::test]
async fn unknown_packs_and_registries_are_404() {
    let registry = registry_with_versions(&["1.0.0"]).await;
    let unknown = registry.tag_entity("nothing-here", "").await;
    assert_eq!(unknown.error_code(StatusCode::NOT_FOUND), "PACK_UNKNOWN");
    let other_registry = registry
        .get("/v1/packs/cni-demo/registries/000000000000000000000000")
        .await;
    assert_eq!(
        other_registry.error_code(StatusCode::NOT_FOUND),
        "REGISTRY_UNKNOWN"
    );
    let bad_name = registry.tag_entity("Bad..Name", "").await;
    assert_eq!(bad_name.error_code(StatusCode::BAD_REQUEST), "NAME_INVALID");
    assert_eq!(
        registry.get("/v1/nothing-here/tags/list").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn registries_metadata_describes_this_registry() {
    let registry = TestRegistry::new().await;
    let body = registry.get("/v1/registries/metadata").await.json();
    assert_valid("v1RegistriesMetadata", &body);
    assert_eq!(body["items"][0]["uid"], registry.registry_uid().as_str());
    assert_eq!(body["items"][0]["kind"], "pack");
    assert_eq!(body["items"][0]["isPrivate"], false);
    assert_eq!(body["items"][0]["name"], "packyard");
}

async fn catalog_registry() -> TestRegistry {
    let registry = TestRegistry::new().await;
    let cni = |name: &str, version: &str, clouds: Value| {
        TestPack::new(name, version).pack_json(move |j| {
            j["layer"] = json!("cni");
            j["addonType"] = json!("");
            j["cloudTypes"] = clouds;
            j["displayName"] = json!(format!("CNI {}", j["name"].as_str().unwrap()));
        })
    };
    for pack in [
        cni("cni-calico", "3.24.6", json!(["aws", "azure"])),
        cni("cni-calico", "3.23.5", json!(["aws", "azure"])),
        cni("cni-cilium", "1.14.0", json!(["all"])),
        cni("cni-flannel", "0.22.0", json!(["vsphere"])),
        TestPack::new("prometheus", "45.0.0"),
        TestPack::new("prometheus", "44.0.0"),
        TestPack::new("grafana", "9.0.0"),
    ] {
        registry.publish_ok(&pack).await;
    }
    registry
}

fn summary_ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}@{}",
                i["spec"]["name"].as_str().unwrap(),
                i["spec"]["version"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn pack_list_filters_like_palette() {
    let registry = catalog_registry().await;
    let all = registry.get("/v1/packs").await.json();
    assert_valid("v1PackSummaries", &all);
    assert_eq!(all["listmeta"]["count"], 7);
    assert_eq!(
        summary_ids(&all),
        [
            "cni-calico@3.23.5",
            "cni-calico@3.24.6",
            "cni-cilium@1.14.0",
            "cni-flannel@0.22.0",
            "grafana@9.0.0",
            "prometheus@44.0.0",
            "prometheus@45.0.0"
        ]
    );
    let cni_on_aws = registry
        .get("/v1/packs?filters=spec.layer=cniANDspec.cloudTypes_in_aws,all")
        .await
        .json();
    assert_valid("v1PackSummaries", &cni_on_aws);
    assert_eq!(
        summary_ids(&cni_on_aws),
        [
            "cni-calico@3.23.5",
            "cni-calico@3.24.6",
            "cni-cilium@1.14.0"
        ]
    );
    let by_name = registry
        .get("/v1/packs?filters=spec.name=prometheus")
        .await
        .json();
    assert_eq!(
        summary_ids(&by_name),
        ["prometheus@44.0.0", "prometheus@45.0.0"]
    );
    let by_display = registry
        .get("/v1/packs?filters=spec.displayName=CNI%20cni-flannel")
        .await
        .json();
    assert_eq!(summary_ids(&by_display), ["cni-flannel@0.22.0"]);
    let spec = &by_display["items"][0]["spec"];
    assert_eq!(spec["registryUid"], registry.registry_uid().as_str());
    assert!(
        spec["logoUrl"]
            .as_str()
            .unwrap()
            .starts_with("/v1/cni-flannel/blobs/sha256:")
    );
    assert!(spec["digest"].as_str().unwrap().starts_with("sha256:"));
    for bad in ["spec.colour=red", "spec.layer=", "nonsense"] {
        let response = registry.get(&format!("/v1/packs?filters={bad}")).await;
        assert_eq!(
            response.error_code(StatusCode::BAD_REQUEST),
            "PARAMETER_INVALID",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn pack_list_pages_through_continue_tokens() {
    let registry = catalog_registry().await;
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let uri = if token.is_empty() {
            "/v1/packs?limit=3".to_owned()
        } else {
            format!("/v1/packs?limit=3&continue={token}")
        };
        let page = registry.get(&uri).await.json();
        assert_valid("v1PackSummaries", &page);
        assert_eq!(page["listmeta"]["limit"], 3);
        seen.extend(summary_ids(&page));
        // Palette reports where the next page starts.
        assert_eq!(page["listmeta"]["offset"], seen.len());
        pages += 1;
        token = page["listmeta"]["continue"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    let everything = summary_ids(&registry.get("/v1/packs").await.json());
    assert_eq!(seen, everything);
    let clamped = registry.get("/v1/packs?limit=500").await.json();
    assert_eq!(clamped["listmeta"]["limit"], 50);
    for bad in ["limit=-1", "limit=x", "continue=not-a-token"] {
        let response = registry.get(&format!("/v1/packs?{bad}")).await;
        assert_eq!(
            response.error_code(StatusCode::BAD_REQUEST),
            "PARAMETER_INVALID",
            "{bad}"
        );
    }
}

fn search_names(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a search result: {body}"))
        .iter()
        .map(|i| i["spec"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_returns_one_row_per_pack_with_its_latest_version() {
    let registry = catalog_registry().await;
    let all = registry.post_json("/v1/packs/search", json!({})).await;
    assert_eq!(all.status, StatusCode::OK);
    let all = all.json();
    assert_valid("v1PackMetadataList", &all);
    assert_eq!(
        search_names(&all),
        [
            "cni-calico",
            "cni-cilium",
            "cni-flannel",
            "grafana",
            "prometheus"
        ]
    );
    let calico = &all["items"][0]["spec"];
    assert_eq!(calico["registries"][0]["latestVersion"], "3.24.6");
    assert_eq!(
        calico["registries"][0]["uid"],
        registry.registry_uid().as_str()
    );

    let contains = registry
        .post_json(
            "/v1/packs/search",
            json!({"filter": {"name": {"contains": "CNI-C", "ignoreCase": true}}}),
        )
        .await
        .json();
    assert_eq!(search_names(&contains), ["cni-calico", "cni-cilium"]);
    let case_sensitive = registry
        .post_json(
            "/v1/packs/search",
            json!({"filter": {"name": {"contains": "CNI-C", "ignoreCase": false}}}),
        )
        .await
        .json();
    assert_eq!(search_names(&case_sensitive), Vec::<String>::new());
    let prefix = registry
        .post_json(
            "/v1/packs/search",
            json!({"filter": {"displayName": {"beginsWith": "cni cni-c"}}}),
        )
        .await
        .json();
    assert_eq!(search_names(&prefix), ["cni-calico", "cni-cilium"]);
    let text = registry
        .post_json("/v1/packs/search", json!({"filter": {"text": "FLANNEL"}}))
        .await
        .json();
    assert_eq!(search_names(&text), ["cni-flannel"]);
    let by_display_name = registry
        .post_json("/v1/packs/search", json!({"filter": {"text": "pack graf"}}))
        .await
        .json();
    assert_eq!(search_names(&by_display_name), ["grafana"]);
    let not_grafana = registry
        .post_json(
            "/v1/packs/search",
            json!({"filter": {"name": {"ne": "grafana"}, "layer": ["addon"]}}),
        )
        .await
        .json();
    assert_eq!(search_names(&not_grafana), ["prometheus"]);
    let on_vsphere = registry
        .post_json(
            "/v1/packs/search",
            json!({"filter": {"environment": ["vsphere"], "layer": ["cni"]}}),
        )
        .await
        .json();
    assert_eq!(search_names(&on_vsphere), ["cni-cilium", "cni-flannel"]);
    let sorted = registry
        .post_json(
            "/v1/packs/search",
            json!({"filter": {"addOnType": ["monitoring"]}, "sort": [{"field": "name", "order": "desc"}]}),
        )
        .await
        .json();
    assert_eq!(search_names(&sorted), ["prometheus", "grafana"]);
    let other_registry = registry
        .post_json(
            "/v1/packs/search",
            json!({"filter": {"registryUid": ["elsewhere"]}}),
        )
        .await
        .json();
    assert_eq!(search_names(&other_registry), Vec::<String>::new());

    // Paging.
    let first = registry
        .post_json("/v1/packs/search?limit=2", json!({}))
        .await
        .json();
    assert_valid("v1PackMetadataList", &first);
    assert_eq!(search_names(&first), ["cni-calico", "cni-cilium"]);
    let token = first["listmeta"]["continue"].as_str().unwrap();
    let second = registry
        .post_json(
            &format!("/v1/packs/search?limit=2&continue={token}"),
            json!({}),
        )
        .await
        .json();
    assert_eq!(search_names(&second), ["cni-flannel", "grafana"]);
    assert_eq!(first["listmeta"]["count"], 5);

    for bad in [
        json!({"sort": [{"field": "colour"}]}),
        json!({"filter": {"layer": "cni"}}),
        json!({"filter": {"state": ["gone"]}}),
    ] {
        let response = registry.post_json("/v1/packs/search", bad.clone()).await;
        assert_eq!(
            response.error_code(StatusCode::BAD_REQUEST),
            "BODY_INVALID",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn search_follows_lifecycle_changes() {
    let registry = catalog_registry().await;
    registry.set_state("cni-calico", "3.24.6", "disabled").await;
    let all = registry
        .post_json("/v1/packs/search", json!({}))
        .await
        .json();
    assert_eq!(
        all["items"][0]["spec"]["registries"][0]["latestVersion"],
        "3.23.5"
    );
    registry.set_state("cni-calico", "3.23.5", "disabled").await;
    let all = registry
        .post_json("/v1/packs/search", json!({}))
        .await
        .json();
    assert!(!search_names(&all).contains(&"cni-calico".to_owned()));
}

#[tokio::test]
async fn single_versions_by_uid() {
    let registry = TestRegistry::new().await;
    let published = registry
        .publish_ok(&TestPack::new("demo-app", "1.0.0"))
        .await;
    let uid = published["uid"].as_str().unwrap();
    let one = registry.get(&format!("/v1/packs/{uid}")).await;
    assert_eq!(one.status, StatusCode::OK);
    let one = one.json();
    assert_valid("v1PackTagEntity", &one);
    assert_eq!(one["tags"][0]["packUid"], uid);
    let readme = registry
        .get(&format!("/v1/packs/{uid}/readme"))
        .await
        .json();
    assert_valid("v1PackReadme", &readme);
    assert!(readme["readme"].as_str().unwrap().starts_with("# demo-app"));
    let logo = registry.get(&format!("/v1/packs/{uid}/logo")).await;
    assert_eq!(logo.status, StatusCode::OK);
    assert_eq!(logo.header("content-type"), Some("image/png"));
    assert!(logo.header("cache-control").unwrap().contains("immutable"));
    assert_eq!(&logo.body[..], common::packs::TINY_PNG);
    for path in ["", "/readme", "/logo"] {
        let missing = registry
            .get(&format!("/v1/packs/000000000000000000000000{path}"))
            .await;
        assert_eq!(
            missing.error_code(StatusCode::NOT_FOUND),
            "NOT_FOUND",
            "{path}"
        );
    }
    let no_logo = registry
        .publish_ok(&TestPack::new("plain", "1.0.0").without("logo.png"))
        .await;
    let response = registry
        .get(&format!(
            "/v1/packs/{}/logo",
            no_logo["uid"].as_str().unwrap()
        ))
        .await;
    assert_eq!(response.error_code(StatusCode::NOT_FOUND), "NOT_FOUND");
}

#[tokio::test]
async fn one_tag_resolves_to_one_version() {
    let registry = registry_with_versions(&["3.24.5", "3.24.6", "3.23.5", "4.0.0-rc.1"]).await;
    let resolve = |tag: &'static str| {
        let registry = &registry;
        async move {
            registry
                .get(&format!("/v1/packs/cni-demo/tags/{tag}"))
                .await
        }
    };
    for (tag, version) in [
        ("3.24.x", "3.24.6"),
        ("3.x", "3.24.6"),
        ("latest", "3.24.6"),
        ("3.23.5", "3.23.5"),
        ("4.x", "4.0.0-rc.1"),
    ] {
        let response = resolve(tag).await;
        assert_eq!(response.status, StatusCode::OK, "{tag}");
        assert_eq!(response.header("x-pack-version"), Some(version), "{tag}");
        let entity = response.json();
        assert_valid("v1PackTagEntity", &entity);
        assert_eq!(entity["tags"][0]["version"], version);
        assert_eq!(entity["packValues"].as_array().unwrap().len(), 1);
    }
    // A disabled version still resolves by its exact version, not through parent tags.
    registry.set_state("cni-demo", "3.24.6", "disabled").await;
    assert_eq!(
        resolve("3.24.6").await.header("x-pack-version"),
        Some("3.24.6")
    );
    assert_eq!(
        resolve("3.24.x").await.header("x-pack-version"),
        Some("3.24.5")
    );
    // Deleted versions and unknown tags are 404s that name the tag.
    registry.set_state("cni-demo", "3.23.5", "deleted").await;
    for tag in ["3.23.5", "3.23.x", "9.9.9", "5.x"] {
        let response = resolve(tag).await;
        assert_eq!(
            response.error_code(StatusCode::NOT_FOUND),
            "TAG_UNKNOWN",
            "{tag}"
        );
        assert!(response.json()["message"].as_str().unwrap().contains(tag));
    }
    let unknown_pack = registry.get("/v1/packs/nothing/tags/latest").await;
    assert_eq!(
        unknown_pack.error_code(StatusCode::NOT_FOUND),
        "PACK_UNKNOWN"
    );
}
