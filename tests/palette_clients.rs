//! Palette's real clients against packyard with the shipped packs (Calico 3.22.5, 3.23.5, 3.24.5,
//! 3.24.6 and Kubernetes 1.24.10): each request exactly as the client's code builds it (the Go
//! SDK `spectrocloud/palette-sdk-go` `client/*.go` through its go-swagger parameters, the Terraform
//! provider `spectrocloud/terraform-provider-spectrocloud`, the docs site's catalog plugin
//! `spectrocloud/librarium` `plugins/packs-integrations.js`): query strings as Go's
//! `url.Values.Encode` writes them, JSON bodies as `encoding/json` writes the SDK's models (nil
//! slices as `null`, struct field order), headers `ApiKey`, `ProjectUid` and a bare
//! `Authorization`. Answers are checked the way the SDK decodes them: against Palette's models
//! (`packs-api.json` from the reference data, and `tests/palette-models/models.json` for the
//! registry, project and error models it lacks), then for what the client reads.

mod common;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::palette::assert_valid;
use common::{ADMIN_TOKEN, TestRegistry, TestResponse, request};
use serde_json::{Value, json};

/// Validates against the models written from the SDK for this test (always present).
fn assert_model(definition: &str, instance: &Value) {
    static MODELS: OnceLock<Value> = OnceLock::new();
    let models = MODELS.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/palette-models/models.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).expect("models.json")).unwrap()
    });
    assert!(
        models["definitions"].get(definition).is_some(),
        "no model {definition}"
    );
    let schema = json!({
        "definitions": models["definitions"],
        "$ref": format!("#/definitions/{definition}"),
    });
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not a {definition}: {errors:#?}\n{instance:#}"
    );
}

async fn calico_registry(adjust: impl FnOnce(&mut packyard::config::ServeConfig)) -> TestRegistry {
    let registry = TestRegistry::with_config(adjust).await;
    let packs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packs");
    packyard::app::load_packs_dir(&registry.state.registry, &packs).await;
    registry
}

/// A GET as the SDK sends it: `ApiKey` from `palette.New(..., apikey)`, and `ProjectUid` when the
/// provider's context is a project.
async fn sdk_get(registry: &TestRegistry, uri: &str) -> TestResponse {
    registry
        .send(
            request(Method::GET, uri)
                .header("ApiKey", ADMIN_TOKEN)
                .header("ProjectUid", "0123456789abcdef01234567")
                .header("Accept", "application/json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
}

/// A POST as the SDK sends it: the body bytes exactly as Go marshals the model.
async fn sdk_post(registry: &TestRegistry, uri: &str, body: &str) -> TestResponse {
    registry
        .send(
            request(Method::POST, uri)
                .header("ApiKey", ADMIN_TOKEN)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .await
}

fn ok(response: &TestResponse) -> Value {
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    response.json()
}

/// Asserts Palette's error shape (`v1Error`) and returns it.
fn palette_error(response: &TestResponse, status: StatusCode, code: &str) -> Value {
    assert_eq!(
        response.status,
        status,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let body = response.json();
    assert_model("v1Error", &body);
    assert_eq!(body["code"], code, "{body}");
    assert!(!body["message"].as_str().unwrap().is_empty());
    assert_eq!(
        body["ref"].as_str(),
        response.header("x-request-id"),
        "ref is the request id"
    );
    body
}

/// (name, version) of every item of a `v1PackSummaries`.
fn summaries(body: &Value) -> BTreeSet<(String, String)> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["spec"]["name"].as_str().unwrap().to_owned(),
                item["spec"]["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

/// `GetPacks(filters, registryUID)`: `GET /v1/packs?filters=<AND-joined>&limit=50` (the
/// go-swagger default limit), query-escaped as `url.Values.Encode` does.
fn get_packs_uri(filters: &str) -> String {
    let escaped: String = filters
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect();
    format!("/v1/packs?filters={escaped}&limit=50")
}

#[tokio::test]
async fn provider_start_up_finds_the_default_project() {
    let registry = calico_registry(|_| {}).await;
    let response = sdk_get(&registry, "/v1/dashboard/projects/metadata").await;
    let body = ok(&response);
    assert_model("v1ProjectsMetadata", &body);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["metadata"]["name"], "Default");
    let uid = items[0]["metadata"]["uid"].as_str().unwrap();
    assert_eq!(uid.len(), 24);
    assert!(uid.bytes().all(|b| b.is_ascii_hexdigit()));
    // Stable: the provider stores it in state.
    let again = ok(&sdk_get(&registry, "/v1/dashboard/projects/metadata").await);
    assert_eq!(again["items"][0]["metadata"]["uid"], uid);
}

#[tokio::test]
async fn pack_data_source_by_name_version_and_cloud_finds_exactly_one() {
    let registry = calico_registry(|_| {}).await;
    let uid = registry.registry_uid();
    let uri =
        get_packs_uri("spec.name=cni-calicoANDspec.version=3.24.6ANDspec.cloudTypes_in_aws,all");
    assert!(
        uri.contains("spec.name%3Dcni-calicoANDspec.version%3D3.24.6AND"),
        "{uri}"
    );
    let body = ok(&sdk_get(&registry, &uri).await);
    assert_valid("v1PackSummaries", &body);
    assert_eq!(summaries(&body), set(&[("cni-calico", "3.24.6")]));
    let spec = &body["items"][0]["spec"];
    // What the provider sets from the one item.
    assert_eq!(spec["registryUid"], uid);
    assert_eq!(spec["type"], "spectro");
    let values = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("packs/cni-calico-3.24.6/values.yaml"),
    )
    .unwrap();
    assert_eq!(spec["values"].as_str().unwrap(), values);
    assert!(!spec["cloudTypes"].as_array().unwrap().is_empty());
    assert_eq!(body["listmeta"]["count"], 1);

    // A cloud the pack does not list (nor `all`) finds nothing.
    let uri = get_packs_uri("spec.name=cni-calicoANDspec.version=3.24.6ANDspec.cloudTypes_in_none");
    assert!(
        ok(&sdk_get(&registry, &uri).await)["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn pack_data_source_by_id_and_the_documented_raw_filters() {
    let registry = calico_registry(|_| {}).await;
    let uid = registry.registry_uid();
    let all = ok(&sdk_get(&registry, &get_packs_uri("spec.name=cni-calico")).await);
    let calico_3_24_5 = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["spec"]["version"] == "3.24.5")
        .unwrap()["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_owned();

    let by_id = ok(&sdk_get(
        &registry,
        &get_packs_uri(&format!("metadata.uid={calico_3_24_5}")),
    )
    .await);
    assert_valid("v1PackSummaries", &by_id);
    assert_eq!(summaries(&by_id), set(&[("cni-calico", "3.24.5")]));

    // Versions compare as versions, and the registry uid is a field like any other.
    let newer = ok(&sdk_get(
        &registry,
        &get_packs_uri(&format!(
            "spec.name=cni-calicoANDspec.version>3.24.0ANDspec.registryUid={uid}"
        )),
    )
    .await);
    assert_eq!(
        summaries(&newer),
        set(&[("cni-calico", "3.24.5"), ("cni-calico", "3.24.6")])
    );
    let below = ok(&sdk_get(
        &registry,
        &get_packs_uri("spec.name=cni-calicoANDspec.version<=3.23.5"),
    )
    .await);
    assert_eq!(
        summaries(&below),
        set(&[("cni-calico", "3.22.5"), ("cni-calico", "3.23.5")])
    );
    let other = ok(&sdk_get(
        &registry,
        &get_packs_uri("spec.name=cni-calicoANDspec.registryUid=somewhere-else"),
    )
    .await);
    assert_eq!(other["items"], json!([]));
    let not_this = ok(&sdk_get(
        &registry,
        &get_packs_uri("spec.name=cni-calicoANDspec.version!=3.24.6"),
    )
    .await);
    assert_eq!(not_this["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn or_filters_join_groups_and_and_binds_tighter() {
    let registry = calico_registry(|_| {}).await;
    let both = ok(&sdk_get(
        &registry,
        &get_packs_uri("spec.name=cni-calicoORspec.name=kubernetes"),
    )
    .await);
    assert_eq!(both["items"].as_array().unwrap().len(), 5);
    assert_eq!(both["listmeta"]["count"], 5);
    let tight = ok(&sdk_get(
        &registry,
        &get_packs_uri("spec.name=kubernetesORspec.name=cni-calicoANDspec.version>=3.24.6"),
    )
    .await);
    assert_eq!(
        summaries(&tight),
        set(&[("cni-calico", "3.24.6"), ("kubernetes", "1.24.10")])
    );
    let layers = ok(&sdk_get(
        &registry,
        &get_packs_uri("spec.layer_in_k8s,csiANDspec.type=spectro"),
    )
    .await);
    assert_eq!(summaries(&layers), set(&[("kubernetes", "1.24.10")]));
    let not_spectro = ok(&sdk_get(&registry, &get_packs_uri("spec.type=helm")).await);
    assert_eq!(not_spectro["items"], json!([]));
}

#[tokio::test]
async fn malformed_filters_are_a_palette_400_that_names_the_problem() {
    let registry = calico_registry(|_| {}).await;
    for (filters, named) in [
        ("spec.colour=red", "spec.colour"),
        ("spec.name=cni-calicoANDspec.version", "spec.version"),
        ("spec.version>three", "three"),
        ("spec.name>cni", "spec.name"),
        ("spec.layer=", "spec.layer"),
    ] {
        let response = sdk_get(&registry, &get_packs_uri(filters)).await;
        let body = palette_error(&response, StatusCode::BAD_REQUEST, "InvalidRequest");
        assert_eq!(body["details"]["code"], "PARAMETER_INVALID");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(named), "{filters}: {message}");
    }
    // Bounded work: at most 4096 characters and 64 terms.
    let long = format!("spec.name_in_{}", vec!["cni-calico"; 1000].join(","));
    let body = palette_error(
        &sdk_get(&registry, &get_packs_uri(&long)).await,
        StatusCode::BAD_REQUEST,
        "InvalidRequest",
    );
    assert!(body["message"].as_str().unwrap().contains("4096"), "{body}");
    let many = vec!["spec.layer=cni"; 65].join("OR");
    let body = palette_error(
        &sdk_get(&registry, &get_packs_uri(&many)).await,
        StatusCode::BAD_REQUEST,
        "InvalidRequest",
    );
    assert!(
        body["message"].as_str().unwrap().contains("64 terms"),
        "{body}"
    );
    let order = sdk_get(&registry, "/v1/packs?orderBy=spec.colour%3D1").await;
    let body = palette_error(&order, StatusCode::BAD_REQUEST, "InvalidRequest");
    assert!(body["message"].as_str().unwrap().contains("spec.colour"));
}

/// The body `setLatestPackVersionToFilters` sends through `SearchPacks`, byte for byte.
fn latest_version_search(name: &str, registry_uid: &str) -> String {
    format!(
        concat!(
            r#"{{"filter":{{"addOnSubType":null,"addOnType":["load balancer","ingress","logging","#,
            r#""monitoring","security","authentication","servicemesh","system app","app services","#,
            r#""registry","csi","cni","integration",""],"environment":["all"],"layer":["kernel","#,
            r#""os","k8s","cni","csi","addon"],"name":{{"eq":"{name}"}},"registryUid":["{uid}"],"#,
            r#""source":null,"state":null,"type":["spectro","helm","manifest","oci"]}},"sort":null}}"#
        ),
        name = name,
        uid = registry_uid
    )
}

#[tokio::test]
async fn latest_version_lookup_searches_with_go_nulls() {
    let registry = calico_registry(|_| {}).await;
    let uid = registry.registry_uid();
    let body = ok(&sdk_post(
        &registry,
        "/v1/packs/search?limit=50",
        &latest_version_search("cni-calico", &uid),
    )
    .await);
    assert_valid("v1PackMetadataList", &body);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{body:#}");
    assert_eq!(items[0]["spec"]["type"], "spectro");
    let registries = items[0]["spec"]["registries"].as_array().unwrap();
    assert_eq!(registries.len(), 1);
    assert_eq!(registries[0]["uid"], uid);
    assert_eq!(registries[0]["latestVersion"], "3.24.6");

    // A pack with an add-on type matches its own type, not "" alone.
    let kubernetes = ok(&sdk_post(
        &registry,
        "/v1/packs/search?limit=50",
        &latest_version_search("kubernetes", &uid),
    )
    .await);
    assert_eq!(
        kubernetes["items"][0]["spec"]["registries"][0]["latestVersion"],
        "1.24.10"
    );
    let no_addon = ok(&sdk_post(
        &registry,
        "/v1/packs/search?limit=50",
        r#"{"filter":{"addOnSubType":null,"addOnType":[""],"environment":null,"layer":null,"registryUid":null,"source":null,"state":null,"type":null},"sort":null}"#,
    )
    .await);
    let names: BTreeSet<&str> = no_addon["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["spec"]["name"].as_str().unwrap())
        .collect();
    assert!(names.contains("cni-calico"), "{no_addon:#}");
}

#[tokio::test]
async fn advance_filters_and_the_docs_catalog_find_registry_packs_as_spectro() {
    let registry = calico_registry(|_| {}).await;
    // `advance_filters { pack_type = ["spectro"], pack_layer = ["cni"] }`.
    let spectro = r#"{"filter":{"addOnSubType":null,"addOnType":null,"environment":null,"layer":["cni"],"name":{"eq":"cni-calico"},"registryUid":null,"source":null,"state":null,"type":["spectro"]},"sort":null}"#;
    let body = ok(&sdk_post(&registry, "/v1/packs/search?limit=50", spectro).await);
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["spec"]["name"], "cni-calico");
    let helm = spectro.replace(r#""type":["spectro"]"#, r#""type":["helm"]"#);
    let body = ok(&sdk_post(&registry, "/v1/packs/search?limit=50", &helm).await);
    assert_eq!(body["items"], json!([]));

    // librarium: `api.post("/v1/packs/search?limit=100", {filter: {type: ["spectro", "oci"]}})`.
    let catalog = registry
        .send(
            request(Method::POST, "/v1/packs/search?limit=100")
                .header("ApiKey", ADMIN_TOKEN)
                .header("Content-Type", "application/json")
                .body(Body::from(r#"{"filter":{"type":["spectro","oci"]}}"#))
                .unwrap(),
        )
        .await;
    let body = ok(&catalog);
    assert_valid("v1PackMetadataList", &body);
    let names: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["spec"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cni-calico", "kubernetes"]);
    assert_eq!(body["listmeta"]["continue"], "");
    // Go's models refuse an unknown pack type: so does the search.
    let unknown = sdk_post(
        &registry,
        "/v1/packs/search",
        r#"{"filter":{"type":["chart"]},"sort":null}"#,
    )
    .await;
    palette_error(&unknown, StatusCode::BAD_REQUEST, "InvalidRequest");
}

#[tokio::test]
async fn every_version_lists_its_parent_tags_and_the_docs_version_tree_is_whole() {
    let registry = calico_registry(|_| {}).await;
    let uid = registry.registry_uid();
    // librarium: `v1/packs/{name}/registries/{uid}?cloudType=aws&layer=cni`.
    let entity = ok(&sdk_get(
        &registry,
        &format!("/v1/packs/cni-calico/registries/{uid}?cloudType=aws&layer=cni"),
    )
    .await);
    assert_valid("v1PackTagEntity", &entity);
    let tags = entity["tags"].as_array().unwrap();
    let entry = |tag: &str| tags.iter().find(|t| t["tag"] == tag).unwrap().clone();
    for version in ["3.24.5", "3.24.6"] {
        let parents = entry(version)["parentTags"].clone();
        assert!(
            parents.as_array().unwrap().contains(&json!("3.24.x")),
            "{version}: {parents}"
        );
        assert!(
            parents.as_array().unwrap().contains(&json!("3.x")),
            "{version}: {parents}"
        );
    }
    // The parent tag entries still say which version they resolve to.
    assert_eq!(entry("3.24.x")["version"], "3.24.6");
    assert_eq!(entry("3.x")["version"], "3.24.6");
    assert_eq!(entry("3.24.x")["parentTags"], json!(["3.x"]));

    // librarium's getAggregatedVersions: roots are the `X.Y.x` tags; each version joins the
    // root its parentTags name.
    let roots: Vec<&str> = tags
        .iter()
        .filter_map(|t| t["tag"].as_str())
        .filter(|t| t.split('.').count() == 3 && t.ends_with(".x"))
        .collect();
    let mut children: Vec<(String, String)> = Vec::new();
    for tag in tags {
        let Some(parent) = tag["parentTags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .find(|p| p.split('.').count() == 3 && p.ends_with(".x"))
        else {
            continue;
        };
        if roots.contains(&parent) {
            children.push((parent.to_owned(), tag["tag"].as_str().unwrap().to_owned()));
        }
    }
    for version in ["3.22.5", "3.23.5", "3.24.5", "3.24.6"] {
        let root = format!("{}.x", &version[..4]);
        assert!(
            children.contains(&(root.clone(), version.to_owned())),
            "{version} is missing under {root}: {children:?}"
        );
    }
}

#[tokio::test]
async fn not_found_is_resource_not_found_on_palettes_routes_only() {
    let registry = calico_registry(|_| {}).await;
    let uid = registry.registry_uid();
    let by_uid = sdk_get(&registry, "/v1/packs/0123456789abcdef01234567").await;
    let body = palette_error(&by_uid, StatusCode::NOT_FOUND, "ResourceNotFound");
    assert_eq!(body["details"]["code"], "NOT_FOUND");
    let wrong_registry = sdk_get(&registry, "/v1/packs/cni-calico/registries/elsewhere").await;
    let body = palette_error(&wrong_registry, StatusCode::NOT_FOUND, "ResourceNotFound");
    assert_eq!(body["details"]["code"], "REGISTRY_UNKNOWN");
    let no_pack = sdk_get(
        &registry,
        &format!("/v1/packs/no-such-pack/registries/{uid}"),
    )
    .await;
    let body = palette_error(&no_pack, StatusCode::NOT_FOUND, "ResourceNotFound");
    assert_eq!(body["details"]["code"], "PACK_UNKNOWN");
    let no_route = sdk_get(&registry, "/v1/registries/nothing/here").await;
    palette_error(&no_route, StatusCode::NOT_FOUND, "ResourceNotFound");
    // A client-supplied request id comes back as the reference.
    let traced = registry
        .send(
            request(Method::GET, "/v1/packs/0123456789abcdef01234567/readme")
                .header("x-request-id", "trace-42")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        palette_error(&traced, StatusCode::NOT_FOUND, "ResourceNotFound")["ref"],
        "trace-42"
    );

    // packyard's own routes keep packyard's codes.
    let own = registry.get("/v1/packs/cni-calico/tags/9.9.9").await;
    assert_eq!(own.error_code(StatusCode::NOT_FOUND), "TAG_UNKNOWN");
    assert!(own.json().get("details").is_none());
}

#[tokio::test]
async fn registry_lookups_answer_with_this_registry_or_an_empty_list() {
    let registry = calico_registry(|_| {}).await;
    let uid = registry.registry_uid();
    let name = registry.state.registry.name().to_owned();

    // GetPackRegistryByName: `V1RegistriesPackList` with its defaults (limit=50, scope=all).
    let packs = ok(&sdk_get(&registry, "/v1/registries/pack?limit=50&scope=all").await);
    assert_model("v1PackRegistries", &packs);
    assert_eq!(packs["items"].as_array().unwrap().len(), 1);
    let item = &packs["items"][0];
    assert_eq!(item["metadata"]["uid"], uid);
    assert_eq!(item["metadata"]["name"], name);
    assert_eq!(item["spec"]["registryUid"], uid);
    assert_eq!(item["spec"]["private"], false);
    assert_eq!(item["spec"]["auth"]["type"], "noAuth");
    assert_eq!(item["status"]["packSyncStatus"]["isSyncSupported"], true);
    let named = ok(&sdk_get(&registry, &format!("/v1/registries/pack?name={name}")).await);
    assert_eq!(named["items"].as_array().unwrap().len(), 1);
    let other = ok(&sdk_get(&registry, "/v1/registries/pack?name=Public%20Repo").await);
    assert_eq!(other["items"], json!([]));
    let filtered = ok(&sdk_get(
        &registry,
        &format!("/v1/registries/pack?filters=metadata.uid%3D{uid}"),
    )
    .await);
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let tenant = ok(&sdk_get(&registry, "/v1/registries/pack?scope=tenant").await);
    assert_eq!(tenant["items"], json!([]));
    let bad_scope = sdk_get(&registry, "/v1/registries/pack?scope=galaxy").await;
    palette_error(&bad_scope, StatusCode::BAD_REQUEST, "InvalidRequest");

    let summary = ok(&sdk_get(&registry, "/v1/registries/pack/summary").await);
    assert_model("v1PackRegistriesSummary", &summary);
    assert_eq!(summary["items"][0]["metadata"]["uid"], uid);
    assert_eq!(summary["items"][0]["status"]["sync"]["status"], "Completed");

    let one = ok(&sdk_get(&registry, &format!("/v1/registries/pack/{uid}")).await);
    assert_model("v1PackRegistry", &one);
    assert_eq!(one["metadata"]["uid"], uid);
    let sync = ok(&sdk_get(&registry, &format!("/v1/registries/pack/{uid}/sync/status")).await);
    assert_model("v1RegistrySyncStatus", &sync);
    assert_valid("v1RegistrySyncStatus", &sync);
    assert_eq!(sync["isSyncSupported"], true);
    let unknown = sdk_get(&registry, "/v1/registries/pack/elsewhere/sync/status").await;
    palette_error(&unknown, StatusCode::NOT_FOUND, "ResourceNotFound");

    // ListHelmRegistries(scope), GetHelmRegistryByName, GetHelmRegistry(uid), ListOCIRegistries.
    let helm = ok(&sdk_get(&registry, "/v1/registries/helm?limit=50").await);
    assert_model("v1HelmRegistries", &helm);
    assert_eq!(helm["items"], json!([]));
    let helm_summary = ok(&sdk_get(
        &registry,
        "/v1/registries/helm/summary?limit=50&scope=project",
    )
    .await);
    assert_model("v1HelmRegistriesSummary", &helm_summary);
    let helm_uid = sdk_get(&registry, &format!("/v1/registries/helm/{uid}")).await;
    palette_error(&helm_uid, StatusCode::NOT_FOUND, "ResourceNotFound");
    let oci = ok(&sdk_get(&registry, "/v1/registries/oci/summary").await);
    assert_model("v1OciRegistries", &oci);
    assert_eq!(oci["items"], json!([]));

    // GetPackRegistryCommonByName: `V1RegistriesMetadata` with scope "" (not sent).
    let metadata = ok(&sdk_get(&registry, "/v1/registries/metadata").await);
    assert_valid("v1RegistriesMetadata", &metadata);
    assert_eq!(metadata["items"][0]["uid"], uid);
    assert_eq!(metadata["items"][0]["isPrivate"], false);
    let tenant = ok(&sdk_get(&registry, "/v1/registries/metadata?scope=tenant").await);
    assert_eq!(tenant["items"], json!([]));
}

#[tokio::test]
async fn palette_credentials_work_like_bearer_tokens() {
    let registry = calico_registry(|config| config.private = true).await;
    let uid = registry.registry_uid();
    // ApiKey (what `palette.New(..., apikey)` sends) and ProjectUid.
    let with_key = ok(&sdk_get(&registry, "/v1/dashboard/projects/metadata").await);
    assert_eq!(with_key["items"][0]["metadata"]["name"], "Default");
    let metadata = ok(&sdk_get(&registry, "/v1/registries/metadata").await);
    assert_eq!(metadata["items"][0]["isPrivate"], true);
    let packs = ok(&sdk_get(&registry, "/v1/registries/pack").await);
    assert_eq!(packs["items"][0]["spec"]["private"], true);
    assert_ne!(packs["items"][0]["spec"]["auth"]["type"], "noAuth");

    // A session token comes as a bare Authorization header.
    let bare = registry
        .send(
            request(
                Method::GET,
                &format!("/v1/packs/cni-calico/registries/{uid}"),
            )
            .header("Authorization", ADMIN_TOKEN)
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    ok(&bare);

    // Without credentials, or with a wrong key: 401, in Palette's shape on Palette's routes.
    let none = registry.get("/v1/packs?limit=50").await;
    palette_error(&none, StatusCode::UNAUTHORIZED, "Unauthorized");
    assert!(none.header("www-authenticate").is_some());
    let wrong = registry
        .send(
            request(Method::GET, "/v1/packs?limit=50")
                .header("ApiKey", "not-a-key")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let body = palette_error(&wrong, StatusCode::UNAUTHORIZED, "Unauthorized");
    assert_eq!(body["details"]["code"], "UNAUTHORIZED");
}

#[tokio::test]
async fn a_bare_authorization_with_a_valid_token_reads_a_public_registry() {
    let registry = calico_registry(|_| {}).await;
    let response = registry
        .send(
            request(Method::GET, "/v1/packs?limit=50")
                .header("Authorization", ADMIN_TOKEN)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(ok(&response)["items"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn offset_order_by_and_listmeta_page_as_palette_does() {
    let registry = calico_registry(|_| {}).await;
    let first = ok(&sdk_get(&registry, "/v1/packs?limit=2&orderBy=spec.version%3D-1").await);
    assert_valid("v1PackSummaries", &first);
    let versions = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["spec"]["version"].as_str().unwrap().to_owned())
            .collect()
    };
    // Versions compare as versions: 1.24.10 (Kubernetes) is below every 3.x.
    assert_eq!(versions(&first), ["3.24.6", "3.24.5"]);
    assert_eq!(first["listmeta"]["count"], 5);
    assert_eq!(first["listmeta"]["limit"], 2);
    assert_eq!(first["listmeta"]["offset"], 2, "the next page starts at 2");
    let token = first["listmeta"]["continue"].as_str().unwrap().to_owned();
    assert!(!token.is_empty());
    let second = ok(&sdk_get(
        &registry,
        &format!("/v1/packs?continue={token}&limit=2&orderBy=spec.version%3D-1"),
    )
    .await);
    assert_eq!(versions(&second), ["3.23.5", "3.22.5"]);
    assert_eq!(second["listmeta"]["offset"], 4);
    let last = ok(&sdk_get(
        &registry,
        "/v1/packs?limit=2&offset=4&orderBy=spec.version%3D-1",
    )
    .await);
    assert_eq!(versions(&last), ["1.24.10"]);
    assert_eq!(last["listmeta"]["continue"], "");
    assert_eq!(last["listmeta"]["offset"], 5);

    // Offsets without an order keep the (name, version) order.
    let skipped = ok(&sdk_get(&registry, "/v1/packs?offset=3&limit=50").await);
    assert_eq!(
        summaries(&skipped),
        set(&[("cni-calico", "3.24.6"), ("kubernetes", "1.24.10")])
    );
    // The search reports its offset the same way.
    let search = ok(&sdk_post(
        &registry,
        "/v1/packs/search?limit=1",
        r#"{"filter":null,"sort":null}"#,
    )
    .await);
    assert_eq!(search["listmeta"]["offset"], 1);
    assert_eq!(search["listmeta"]["count"], 2);
    let negative = sdk_get(&registry, "/v1/packs?offset=-1").await;
    palette_error(&negative, StatusCode::BAD_REQUEST, "InvalidRequest");
}

#[tokio::test]
async fn pack_simple_resolves_a_version_through_the_tag_list_and_get_pack() {
    let registry = calico_registry(|_| {}).await;
    let uid = registry.registry_uid();
    // GetPacksByNameAndRegistry: `V1PacksNameRegistryUIDList` sends its default cloudType=all.
    let entity = ok(&sdk_get(
        &registry,
        &format!("/v1/packs/cni-calico/registries/{uid}?cloudType=all"),
    )
    .await);
    assert_valid("v1PackTagEntity", &entity);
    assert_eq!(entity["registryUid"], uid);
    // The provider takes the first tag whose version matches, then that uid's values.
    let tag = entity["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["version"] == "3.24.5")
        .unwrap();
    let pack_uid = tag["packUid"].as_str().unwrap();
    let values = entity["packValues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["packUid"] == pack_uid)
        .unwrap();
    assert!(values["values"].as_str().unwrap().contains("manifests:"));

    // GetPack(uid) → GetPackRegistry reads `registryUid` from it.
    let one = ok(&sdk_get(&registry, &format!("/v1/packs/{pack_uid}")).await);
    assert_valid("v1PackTagEntity", &one);
    assert_eq!(one["registryUid"], uid);
    assert_eq!(one["tags"][0]["version"], "3.24.5");
    let readme = ok(&sdk_get(&registry, &format!("/v1/packs/{pack_uid}/readme")).await);
    assert_valid("v1PackReadme", &readme);
}
