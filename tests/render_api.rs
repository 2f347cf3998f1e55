//! The render API over the real router with the shipped packs: formats, validators, headers,
//! errors, presets, macros, strict mode, and cluster profiles (render and validation).

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::packs::TestPack;
use common::{TestRegistry, TestResponse, request};
use serde_json::{Value, json};

async fn with_shipped_packs() -> TestRegistry {
    let registry = TestRegistry::new().await;
    let packs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packs");
    for outcome in registry.state.registry.publish_dir(&packs).await.unwrap() {
        outcome.result.unwrap();
    }
    registry
}

async fn render(
    registry: &TestRegistry,
    pack: &str,
    tag: &str,
    body: Value,
    accept: Option<&str>,
) -> TestResponse {
    let mut builder = request(Method::POST, &format!("/v1/packs/{pack}/tags/{tag}/render"))
        .header("content-type", "application/json");
    if let Some(accept) = accept {
        builder = builder.header("accept", accept);
    }
    registry
        .send(builder.body(Body::from(body.to_string())).unwrap())
        .await
}

fn text(response: &TestResponse) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

/// The value of an env var of calico-node in a rendered YAML stream.
fn calico_env(stream: &str, name: &str) -> Option<String> {
    let documents = packyard::render::output::split_documents("x", stream);
    let objects = packyard::render::output::objects(&documents).unwrap();
    let daemonset = objects.iter().find(|o| o["kind"] == "DaemonSet")?;
    daemonset["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .map(|e| e["value"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn renders_calico_for_azure_with_vxlan_and_all_the_headers() {
    let registry = with_shipped_packs().await;
    let response = render(
        &registry,
        "cni-calico",
        "3.24.x",
        json!({"cloudType": "azure"}),
        None,
    )
    .await;
    assert_eq!(response.status, StatusCode::OK, "{}", text(&response));
    assert_eq!(response.header("content-type"), Some("application/yaml"));
    assert_eq!(response.header("x-pack-version"), Some("3.24.6"));
    assert!(
        response
            .header("x-pack-digest")
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(response.header("x-object-count"), Some("27"));
    assert_eq!(response.header("x-render-cache"), Some("miss"));
    assert!(response.header("warning").is_none());
    let stream = text(&response);
    assert_eq!(
        calico_env(&stream, "CALICO_IPV4POOL_VXLAN").as_deref(),
        Some("Always")
    );
    assert_eq!(
        calico_env(&stream, "CALICO_IPV4POOL_IPIP").as_deref(),
        Some("Never")
    );
    assert!(stream.contains("# Source: cni-calico@3.24.6/manifests/calico.yaml"));

    let again = render(
        &registry,
        "cni-calico",
        "3.24.x",
        json!({"cloudType": "azure"}),
        None,
    )
    .await;
    assert_eq!(again.header("x-render-cache"), Some("hit"));
    assert_eq!(again.body, response.body);
    let etag = response.header("etag").unwrap().to_owned();
    let cached = registry
        .send(
            request(Method::POST, "/v1/packs/cni-calico/tags/3.24.x/render")
                .header("content-type", "application/json")
                .header("if-none-match", &etag)
                .body(Body::from(json!({"cloudType": "azure"}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());
}

#[tokio::test]
async fn json_output_is_a_kubernetes_list() {
    let registry = with_shipped_packs().await;
    let response = render(
        &registry,
        "cni-calico",
        "latest",
        json!({"cloudType": "aws"}),
        Some("application/json"),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let list = response.json();
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap().len(), 27);
    let yaml = render(
        &registry,
        "cni-calico",
        "latest",
        json!({"cloudType": "aws"}),
        None,
    )
    .await;
    assert_ne!(
        yaml.header("etag"),
        response.header("etag"),
        "formats have their own ETag"
    );
}

#[tokio::test]
async fn get_renders_the_defaults_and_deprecated_versions_warn() {
    let registry = with_shipped_packs().await;
    let response = registry
        .get("/v1/packs/cni-calico/tags/3.22.5/render?cloudType=vsphere")
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.header("warning"),
        Some("299 - \"cni-calico 3.22.5 is deprecated\"")
    );
    assert_eq!(
        calico_env(&text(&response), "CALICO_IPV4POOL_IPIP").as_deref(),
        Some("Always")
    );
    let missing_cloud = registry
        .get("/v1/packs/cni-calico/tags/3.22.5/render")
        .await;
    assert_eq!(
        missing_cloud.error_code(StatusCode::BAD_REQUEST),
        "PARAMETER_INVALID"
    );
}

#[tokio::test]
async fn azure_with_ip_in_ip_is_refused_with_the_packs_reason() {
    let registry = with_shipped_packs().await;
    let values = "manifests:\n  calico:\n    encapsulationType: CALICO_IPV4POOL_IPIP\n";
    let response = render(
        &registry,
        "cni-calico",
        "3.24.x",
        json!({"cloudType": "azure", "values": values}),
        None,
    )
    .await;
    assert_eq!(
        response.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "RENDER_FAILED"
    );
    let body = response.json();
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Calico cannot use IP-in-IP")
            && message.contains("Azure's network fabric drops IP-in-IP"),
        "{message}"
    );
    assert_eq!(body["file"], "manifests/calico.yaml");
}

#[tokio::test]
async fn schema_violations_list_every_failing_path() {
    let registry = with_shipped_packs().await;
    let values = "manifests:\n  calico:\n    calicoNetworkCIDR: 10.0.0.0/99\n    encapsulationMode: Sometimes\n    cloudType: gcp\n";
    let response = render(
        &registry,
        "cni-calico",
        "3.24.6",
        json!({"cloudType": "aws", "values": values}),
        None,
    )
    .await;
    assert_eq!(
        response.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "VALUES_INVALID"
    );
    let errors = response.json()["errors"].as_array().unwrap().clone();
    let paths: Vec<&str> = errors.iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "manifests.calico.calicoNetworkCIDR",
            "manifests.calico.cloudType",
            "manifests.calico.encapsulationMode"
        ]
    );
    assert!(errors[1]["message"].as_str().unwrap().contains("read-only"));
    assert!(
        errors[2]["message"]
            .as_str()
            .unwrap()
            .contains("Always, CrossSubnet, Never")
    );
    let bad_yaml = render(
        &registry,
        "cni-calico",
        "3.24.6",
        json!({"cloudType": "aws", "values": "a: [1"}),
        None,
    )
    .await;
    assert_eq!(
        bad_yaml.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "VALUES_INVALID"
    );
    let not_a_map = render(
        &registry,
        "cni-calico",
        "3.24.6",
        json!({"cloudType": "aws", "values": "- 1"}),
        None,
    )
    .await;
    assert_eq!(
        not_a_map.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "VALUES_INVALID"
    );
}

#[tokio::test]
async fn unknown_packs_tags_and_clouds() {
    let registry = with_shipped_packs().await;
    let unknown_pack = render(
        &registry,
        "cni-nothing",
        "1.0.0",
        json!({"cloudType": "aws"}),
        None,
    )
    .await;
    assert_eq!(
        unknown_pack.error_code(StatusCode::NOT_FOUND),
        "PACK_UNKNOWN"
    );
    let unknown_tag = render(
        &registry,
        "cni-calico",
        "9.9.x",
        json!({"cloudType": "aws"}),
        None,
    )
    .await;
    assert_eq!(unknown_tag.error_code(StatusCode::NOT_FOUND), "TAG_UNKNOWN");
    assert!(
        unknown_tag.json()["message"]
            .as_str()
            .unwrap()
            .contains("9.9.x")
    );
    let cloud = render(
        &registry,
        "cni-calico",
        "3.24.6",
        json!({"cloudType": "eks"}),
        None,
    )
    .await;
    assert_eq!(
        cloud.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "CLOUD_UNSUPPORTED"
    );
    assert!(cloud.json()["message"].as_str().unwrap().contains("eks"));
    let no_cloud = render(
        &registry,
        "cni-calico",
        "3.24.6",
        json!({"values": ""}),
        None,
    )
    .await;
    assert_eq!(no_cloud.error_code(StatusCode::BAD_REQUEST), "BODY_INVALID");
    let not_json = registry
        .send(
            request(Method::POST, "/v1/packs/cni-calico/tags/3.24.6/render")
                .header("content-type", "application/json")
                .body(Body::from("{"))
                .unwrap(),
        )
        .await;
    assert_eq!(not_json.error_code(StatusCode::BAD_REQUEST), "BODY_INVALID");
}

#[tokio::test]
async fn presets_apply_from_the_request_and_from_the_values_comment() {
    let registry = with_shipped_packs().await;
    let by_request = render(
        &registry,
        "cni-calico",
        "3.24.6",
        json!({"cloudType": "aws", "presets": ["Encapsulation:vxlan-crosssubnet"]}),
        None,
    )
    .await;
    assert_eq!(by_request.status, StatusCode::OK, "{}", text(&by_request));
    assert_eq!(
        calico_env(&text(&by_request), "CALICO_IPV4POOL_VXLAN").as_deref(),
        Some("CrossSubnet")
    );
    let by_comment = render(
        &registry,
        "cni-calico",
        "3.24.6",
        json!({"cloudType": "aws", "values": "# spectrocloud.com/enabled-presets: Encapsulation:no-encapsulation\n"}),
        None,
    )
    .await;
    assert_eq!(
        calico_env(&text(&by_comment), "CALICO_IPV4POOL_IPIP").as_deref(),
        Some("Never")
    );
    let two = render(
        &registry,
        "cni-calico",
        "3.24.6",
        json!({"cloudType": "aws", "presets": ["Encapsulation:vxlan-always", "Encapsulation:ipip-always"]}),
        None,
    )
    .await;
    assert_eq!(
        two.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "VALUES_INVALID"
    );
    let unknown = render(
        &registry,
        "cni-calico",
        "3.24.6",
        json!({"cloudType": "aws", "presets": ["Nope:x"]}),
        None,
    )
    .await;
    assert_eq!(
        unknown.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "VALUES_INVALID"
    );
}

fn macro_pack() -> TestPack {
    TestPack::new("macros", "1.0.0")
        .file(
            "values.yaml",
            "manifests:\n  app:\n    cluster: '{{ .spectro.system.cluster.name }}'\n    site: '{{ .spectro.var.site | default \"none\" }}'\n    cloud: '{{ .spectro.system.cloud.type }}'\n    region: '{{ .spectro.system.cloud.region }}'\n    helm: '{{ .Release.Name }}'\n    replicas: 2\n",
        )
        .file(
            "manifests/app.yaml",
            "kind: ConfigMap\ndata:\n  cluster: {{ .Values.cluster | quote }}\n  site: {{ .Values.site | quote }}\n  cloud: {{ .Values.cloud | quote }}\n  region: {{ .Values.region | quote }}\n  helm: {{ .Values.helm | quote }}\n  missing: {{ .Values.missing | quote }}\n",
        )
        .file("manifests/raw.yaml", "kind: Secret\ndata:\n  kept: '{{ .NotForUs }}'\n")
        .pack_json(|j| j["kubeManifests"] = json!(["manifests/app.yaml", "manifests/raw.yaml"]))
}

#[tokio::test]
async fn macros_variables_verbatim_manifests_and_strict_mode() {
    let registry = TestRegistry::new().await;
    registry.publish_ok(&macro_pack()).await;
    let body = json!({"cloudType": "aws", "variables": {"site": "berlin"}, "clusterName": "prod-1", "region": "eu-central-1"});
    let response = render(
        &registry,
        "macros",
        "1.0.0",
        body.clone(),
        Some("application/json"),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK, "{}", text(&response));
    let list = response.json();
    let data = &list["items"][0]["data"];
    assert_eq!(data["cluster"], "prod-1");
    assert_eq!(data["site"], "berlin");
    assert_eq!(data["cloud"], "aws");
    assert_eq!(data["region"], "eu-central-1");
    assert_eq!(
        data["helm"], "{{ .Release.Name }}",
        "non-.spectro templates stay as they are"
    );
    assert_eq!(
        data["missing"],
        Value::Null,
        "quote of a missing key renders nothing, as in Helm"
    );
    assert_eq!(
        list["items"][1]["data"]["kept"], "{{ .NotForUs }}",
        "a manifest without values is verbatim"
    );

    let strict = render(&registry, "macros", "1.0.0", body, Some("application/json")).await;
    assert_eq!(strict.status, StatusCode::OK);
    let strict = registry
        .send(
            request(
                Method::POST,
                "/v1/packs/macros/tags/1.0.0/render?strict=true",
            )
            .header("content-type", "application/json")
            .body(Body::from(json!({"cloudType": "aws"}).to_string()))
            .unwrap(),
        )
        .await;
    assert_eq!(
        strict.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "RENDER_FAILED"
    );
    assert!(
        strict.json()["message"]
            .as_str()
            .unwrap()
            .contains("missing")
    );
}

#[tokio::test]
async fn a_template_refused_at_publish_is_refused_at_render_with_the_same_message() {
    let registry = TestRegistry::new().await;
    let published = registry
        .publish_ok(&TestPack::new("broken", "1.0.0").file(
            "manifests/app.yaml",
            "kind: ConfigMap\n{{ if .Values.replicas }}\n",
        ))
        .await;
    let finding = published["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "template-invalid")
        .unwrap()
        .clone();
    let response = render(
        &registry,
        "broken",
        "1.0.0",
        json!({"cloudType": "aws"}),
        None,
    )
    .await;
    assert_eq!(
        response.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "TEMPLATE_INVALID"
    );
    let message = response.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains(finding["message"].as_str().unwrap()),
        "{message}"
    );
    assert!(message.starts_with("manifests/app.yaml:2:"), "{message}");
}

#[tokio::test]
async fn default_values_are_resolved_per_cloud() {
    let registry = with_shipped_packs().await;
    let azure = registry
        .get("/v1/packs/cni-calico/tags/3.24.x/values?cloudType=azure")
        .await;
    assert_eq!(azure.status, StatusCode::OK);
    assert_eq!(azure.header("content-type"), Some("application/yaml"));
    let azure: Value = serde_saphyr::from_str(&text(&azure)).unwrap();
    assert_eq!(
        azure["manifests"]["calico"]["encapsulationType"],
        "CALICO_IPV4POOL_VXLAN"
    );
    assert_eq!(
        azure["manifests"]["calico"]["calicoNetworkCIDR"],
        "192.168.0.0/16"
    );
    let aws: Value = serde_saphyr::from_str(&text(
        &registry
            .get("/v1/packs/cni-calico/tags/3.24.x/values?cloudType=aws")
            .await,
    ))
    .unwrap();
    assert_eq!(
        aws["manifests"]["calico"]["encapsulationType"],
        "CALICO_IPV4POOL_IPIP"
    );
    assert_eq!(aws["manifests"]["calico"]["cloudType"], "aws");
    let unsupported = registry
        .get("/v1/packs/cni-calico/tags/3.24.x/values?cloudType=eks")
        .await;
    assert_eq!(
        unsupported.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "CLOUD_UNSUPPORTED"
    );
}

async fn profile(registry: &TestRegistry, path: &str, body: Value) -> TestResponse {
    registry
        .send(
            request(Method::POST, path)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
}

#[tokio::test]
async fn profile_render_follows_the_kubernetes_pod_cidr_across_layers() {
    let registry = with_shipped_packs().await;
    let body = json!({
        "cloudType": "aws",
        "packs": [
            {"name": "cni-calico", "tag": "3.24.x"},
            {"name": "kubernetes", "tag": "1.24.10", "values": "pack:\n  podCIDR: 10.10.0.0/16\n"}
        ]
    });
    let response = profile(&registry, "/v1/clusterprofiles/render", body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", text(&response));
    let stream = text(&response);
    assert_eq!(
        calico_env(&stream, "CALICO_IPV4POOL_CIDR").as_deref(),
        Some("10.10.0.0/16")
    );
    assert_eq!(
        stream
            .matches("# Source: cni-calico@3.24.6/manifests/calico.yaml")
            .count(),
        27
    );

    let azure_ipip = json!({
        "cloudType": "azure",
        "packs": [{"name": "kubernetes"}, {"name": "cni-calico", "values": "manifests:\n  calico:\n    encapsulationType: CALICO_IPV4POOL_IPIP\n"}]
    });
    let refused = profile(&registry, "/v1/clusterprofiles/render", azure_ipip).await;
    assert_eq!(
        refused.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "RENDER_FAILED"
    );
    assert!(
        refused.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("cni-calico@3.24.6: ")
    );
    for bad in [
        json!({"cloudType": "aws", "packs": []}),
        json!({"cloudType": "aws", "packs": [{"name": "kubernetes"}, {"name": "kubernetes"}]}),
        json!({"packs": [{"name": "kubernetes"}]}),
    ] {
        let response = profile(&registry, "/v1/clusterprofiles/render", bad.clone()).await;
        assert_eq!(
            response.error_code(StatusCode::BAD_REQUEST),
            "BODY_INVALID",
            "{bad}"
        );
    }
}

fn result_codes(body: &Value, pack: &str) -> Vec<String> {
    body["packs"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == pack)
        .unwrap_or_else(|| panic!("no result for {pack}: {body}"))["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn profile_validation_reports_every_problem_in_palettes_shape() {
    let registry = with_shipped_packs().await;
    let clean = profile(
        &registry,
        "/v1/clusterprofiles/validate/packs",
        json!({"cloudType": "aws", "packs": [{"name": "kubernetes"}, {"name": "cni-calico", "tag": "3.24.x"}]}),
    )
    .await;
    assert_eq!(clean.status, StatusCode::OK);
    let clean = clean.json();
    common::palette::assert_valid("v1ClusterProfileValidatorResponse", &clean);
    assert_eq!(result_codes(&clean, "kubernetes"), Vec::<String>::new());
    assert_eq!(result_codes(&clean, "cni-calico"), Vec::<String>::new());
    assert_eq!(clean["packs"]["results"][1]["displayName"], "Calico");

    let mismatch = profile(
        &registry,
        "/v1/clusterprofiles/validate/packs",
        json!({"cloudType": "aws", "packs": [
            {"name": "kubernetes"},
            {"name": "cni-calico", "tag": "3.24.x", "values": "manifests:\n  calico:\n    calicoNetworkCIDR: 172.16.0.0/16\n"}
        ]}),
    )
    .await
    .json();
    common::palette::assert_valid("v1ClusterProfileValidatorResponse", &mismatch);
    assert_eq!(result_codes(&mismatch, "cni-calico"), ["PodCIDRMismatch"]);
    let message = mismatch["packs"]["results"][1]["errors"][0]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("172.16.0.0/16") && message.contains("192.168.0.0/16"),
        "{message}"
    );

    let many = profile(
        &registry,
        "/v1/clusterprofiles/validate/packs",
        json!({"cloudType": "azure", "packs": [
            {"name": "cni-calico", "tag": "3.22.5", "values": "manifests:\n  calico:\n    encapsulationType: CALICO_IPV4POOL_IPIP\n    encapsulationMode: Sometimes\n"},
            {"name": "kubernetes"},
            {"name": "cni-flannel", "tag": "1.0.0"}
        ]}),
    )
    .await
    .json();
    common::palette::assert_valid("v1ClusterProfileValidatorResponse", &many);
    assert_eq!(result_codes(&many, "cni-flannel"), ["PackNotFound"]);
    let calico = result_codes(&many, "cni-calico");
    assert!(calico.contains(&"InvalidValues".to_owned()), "{calico:?}");
    assert!(
        calico.contains(&"DependencyVersion".to_owned()),
        "3.22 does not support Kubernetes 1.24: {calico:?}"
    );

    let ipip_on_azure = profile(
        &registry,
        "/v1/clusterprofiles/validate/packs",
        json!({"cloudType": "azure", "packs": [{"name": "kubernetes"}, {"name": "cni-calico", "values": "manifests:\n  calico:\n    encapsulationType: CALICO_IPV4POOL_IPIP\n"}]}),
    )
    .await
    .json();
    assert_eq!(result_codes(&ipip_on_azure, "cni-calico"), ["RenderFailed"]);

    let alone = profile(
        &registry,
        "/v1/clusterprofiles/validate/packs",
        json!({"cloudType": "aws", "packs": [{"name": "cni-calico"}]}),
    )
    .await
    .json();
    assert_eq!(result_codes(&alone, "cni-calico"), ["DependencyMissing"]);
    let unsupported = profile(
        &registry,
        "/v1/clusterprofiles/validate/packs",
        json!({"cloudType": "eks", "packs": [{"name": "kubernetes"}, {"name": "cni-calico"}]}),
    )
    .await
    .json();
    assert_eq!(
        result_codes(&unsupported, "cni-calico"),
        ["CloudTypeNotSupported"]
    );
}

#[tokio::test]
async fn two_packs_in_a_single_pack_layer_conflict() {
    let registry = with_shipped_packs().await;
    registry
        .publish_ok(&TestPack::new("cni-other", "1.0.0").pack_json(|j| {
            j["layer"] = json!("cni");
            j["cloudTypes"] = json!(["all"]);
        }))
        .await;
    let body = profile(
        &registry,
        "/v1/clusterprofiles/validate/packs",
        json!({"cloudType": "aws", "packs": [{"name": "kubernetes"}, {"name": "cni-calico"}, {"name": "cni-other"}]}),
    )
    .await
    .json();
    assert_eq!(result_codes(&body, "cni-calico"), ["LayerConflict"]);
    assert_eq!(result_codes(&body, "cni-other"), ["LayerConflict"]);
    assert_eq!(result_codes(&body, "kubernetes"), Vec::<String>::new());
}
