//! Chart packs through the API on the real router: a pack's charts render as Helm renders them,
//! in `pack.json` order before its manifests, with Palette's conventions (values `charts.<name>`,
//! release `pack.releaseNameOverride.<name>`, namespace `pack.namespace`); a chart that fails is a
//! 422 naming the chart, template and line; `values.schema.json` violations are VALUES_INVALID;
//! a pack with nothing to render says so; publishing reports chart problems as findings;
//! profiles render and validate chart layers; `.Spectro` reaches manifests; seeds repeat.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::charts::{demo_chart, tgz};
use common::packs::TestPack;
use common::{TestRegistry, TestResponse, request};
use serde_json::{Value, json};

fn chart_pack() -> TestPack {
    TestPack::new("demo-app", "1.0.0")
        .file("charts/demo-0.1.0.tgz", demo_chart())
        .file(
            "values.yaml",
            "pack:\n  namespace: apps\n  releaseNameOverride:\n    demo: my-demo\ncharts:\n  demo:\n    replicas: 3\nmanifests:\n  app:\n    replicas: 2\n    image: nginx\n",
        )
        .pack_json(|j| j["charts"] = json!(["charts/demo-0.1.0.tgz"]))
}

async fn render(registry: &TestRegistry, pack: &str, body: Value, accept: &str) -> TestResponse {
    registry
        .send(
            request(
                Method::POST,
                &format!("/v1/packs/{pack}/tags/latest/render"),
            )
            .header("content-type", "application/json")
            .header("accept", accept)
            .body(Body::from(body.to_string()))
            .unwrap(),
        )
        .await
}

fn text(response: &TestResponse) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

/// The source of each document (the comment right after each `---`; manifests may carry
/// `# Source:` comments of their own).
fn sources(stream: &str) -> Vec<&str> {
    let lines: Vec<&str> = stream.lines().collect();
    lines
        .windows(2)
        .filter(|pair| pair[0] == "---")
        .filter_map(|pair| pair[1].strip_prefix("# Source: "))
        .collect()
}

#[tokio::test]
async fn a_chart_pack_renders_its_charts_as_helm_does_then_its_manifests() {
    let registry = TestRegistry::new().await;
    registry.publish_ok(&chart_pack()).await;
    let body = json!({"cloudType": "aws", "kubernetesVersion": "1.29.4"});
    let response = render(&registry, "demo-app", body.clone(), "application/yaml").await;
    assert_eq!(response.status, StatusCode::OK, "{}", text(&response));
    let stream = text(&response);
    assert_eq!(
        sources(&stream),
        [
            "demo/crds/widget.yaml",
            "demo/templates/serviceaccount.yaml",
            "demo/charts/sub/templates/cm.yaml",
            "demo/templates/deployment.yaml",
            "demo/templates/hook.yaml",
            "demo-app@1.0.0/manifests/app.yaml",
        ]
    );
    assert_eq!(response.header("x-object-count"), Some("6"));
    assert!(
        stream.contains("  name: my-demo\n  namespace: apps\n"),
        "{stream}"
    );
    assert!(stream.contains("replicas: 3\n"), "{stream}");
    assert!(stream.contains("kube: \"v1.29.4\""), "{stream}");
    assert!(stream.contains("helm.sh/hook: pre-install"), "{stream}");
    assert!(
        !stream.contains("Installed my-demo"),
        "NOTES.txt is not output"
    );
    // The JSON list holds the same objects.
    let json = render(&registry, "demo-app", body, "application/json").await;
    assert_eq!(json.json()["items"].as_array().unwrap().len(), 6);
    assert_eq!(json.json()["items"][0]["kind"], "CustomResourceDefinition");
    // Disabling the subchart by its condition drops its objects.
    let without_sub =
        json!({"cloudType": "aws", "values": "charts:\n  demo:\n    sub:\n      enabled: false\n"});
    let response = render(&registry, "demo-app", without_sub, "application/yaml").await;
    assert_eq!(
        response.header("x-object-count"),
        Some("5"),
        "{}",
        text(&response)
    );
}

#[tokio::test]
async fn a_chart_that_fails_names_the_chart_template_and_line_and_schema_violations_are_listed() {
    let registry = TestRegistry::new().await;
    registry.publish_ok(&chart_pack()).await;
    let failing = json!({"cloudType": "aws", "values": "charts:\n  demo:\n    image: ''\n"});
    let response = render(&registry, "demo-app", failing, "application/yaml").await;
    assert_eq!(
        response.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "RENDER_FAILED"
    );
    let answer = response.json();
    assert_eq!(answer["file"], "demo");
    assert_eq!(
        answer["message"],
        "chart demo: execution error at (demo/templates/deployment.yaml:15:20): image is required"
    );
    let invalid = json!({"cloudType": "aws", "values": "charts:\n  demo:\n    replicas: 50\n"});
    let response = render(&registry, "demo-app", invalid, "application/yaml").await;
    assert_eq!(
        response.error_code(StatusCode::UNPROCESSABLE_ENTITY),
        "VALUES_INVALID"
    );
    let errors = response.json()["errors"].clone();
    assert_eq!(errors[0]["path"], "charts.demo.replicas", "{errors}");
    assert!(
        errors[0]["message"].as_str().unwrap().contains("50"),
        "{errors}"
    );
    // Profile validation reports it as InvalidValues.
    let validation = registry
        .post_json(
            "/v1/clusterprofiles/validate/packs",
            json!({"cloudType": "aws", "packs": [{"name": "demo-app", "values": "charts:\n  demo:\n    replicas: 50\n"}]}),
        )
        .await;
    assert_eq!(validation.status, StatusCode::OK, "{}", text(&validation));
    assert!(
        validation.body.windows(13).any(|w| w == b"InvalidValues"),
        "{}",
        text(&validation)
    );
}

#[tokio::test]
async fn a_pack_with_nothing_to_render_says_so() {
    let registry = TestRegistry::new().await;
    let empty = TestPack::new("empty", "1.0.0")
        .without("manifests/app.yaml")
        .pack_json(|j| j["kubeManifests"] = json!([]));
    registry.publish_ok(&empty).await;
    let response = render(
        &registry,
        "empty",
        json!({"cloudType": "aws"}),
        "application/yaml",
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("x-object-count"), Some("0"));
    let warning = response.header("warning").unwrap_or_default();
    assert!(
        warning.starts_with("299 - ") && warning.contains("nothing to render"),
        "{warning}"
    );
}

#[tokio::test]
async fn publishing_reports_what_helm_would_refuse_as_findings() {
    let registry = TestRegistry::new().await;
    let broken = tgz(
        "broken",
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: broken\nversion: 0.1.0\ndependencies:\n  - name: absent\n    version: 1.0.0\n",
            ),
            ("templates/a.yaml", "a: 1\nb: {{ if .Values.x }}\n"),
        ],
    );
    let library = tgz(
        "lib",
        &[(
            "Chart.yaml",
            "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
        )],
    );
    let pack = TestPack::new("broken-charts", "1.0.0")
        .file("charts/broken-0.1.0.tgz", broken)
        .file("charts/lib-0.1.0.tgz", library)
        .file("values.yaml", "charts:\n  broken: {}\n  lib: {}\nmanifests:\n  app:\n    replicas: 2\n    image: nginx\n")
        .pack_json(|j| j["charts"] = json!(["charts/broken-0.1.0.tgz", "charts/lib-0.1.0.tgz"]));
    let published = registry.publish_ok(&pack).await;
    let findings = published["warnings"].as_array().unwrap();
    let find = |code: &str| findings.iter().find(|f| f["code"] == code).cloned();
    let parse = find("chart-template-invalid").expect("a parse finding");
    assert_eq!(
        parse["file"],
        "charts/broken-0.1.0.tgz:broken/templates/a.yaml"
    );
    // Go reports an unclosed block where the file ends.
    assert_eq!(parse["line"], 3, "{parse}");
    assert!(
        parse["message"]
            .as_str()
            .unwrap()
            .contains("unexpected EOF"),
        "{parse}"
    );
    assert!(
        find("chart-dependency-missing").unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("absent 1.0.0")
    );
    assert!(find("chart-not-installable").is_some(), "{findings:?}");
}

#[tokio::test]
async fn manifests_see_the_cluster_as_spectro_and_seeds_repeat_random_values() {
    let registry = TestRegistry::new().await;
    let spectro = TestPack::new("spectro", "1.0.0").file(
        "manifests/app.yaml",
        "kind: ConfigMap\ndata:\n  cluster: {{ .Spectro.cluster }}\n  api: {{ .Spectro.apiServer }}\n  replicas: {{ .Values.replicas | quote }}\n",
    );
    registry.publish_ok(&spectro).await;
    let body =
        json!({"cloudType": "aws", "clusterName": "prod-1", "apiServer": "https://10.0.0.1:6443"});
    let response = render(&registry, "spectro", body, "application/yaml").await;
    let stream = text(&response);
    assert!(
        stream.contains("cluster: prod-1\n  api: https://10.0.0.1:6443\n"),
        "{stream}"
    );

    let random = tgz(
        "rand",
        &[
            ("Chart.yaml", "apiVersion: v2\nname: rand\nversion: 0.1.0\n"),
            (
                "templates/s.yaml",
                "kind: Secret\nmetadata:\n  name: s\ndata:\n  password: {{ randAlphaNum 16 | b64enc }}\n  id: {{ uuidv4 }}\n  ca: {{ (genCA \"demo-ca\" 365).Cert | b64enc }}\n",
            ),
        ],
    );
    let pack = TestPack::new("random", "1.0.0")
        .file("charts/rand-0.1.0.tgz", random)
        .file(
            "values.yaml",
            "charts:\n  rand: {}\nmanifests:\n  app:\n    replicas: 2\n    image: nginx\n",
        )
        .pack_json(|j| j["charts"] = json!(["charts/rand-0.1.0.tgz"]));
    registry.publish_ok(&pack).await;
    let seeded = |seed: u64| json!({"cloudType": "aws", "seed": seed});
    let first = text(&render(&registry, "random", seeded(7), "application/yaml").await);
    let other = text(&render(&registry, "random", seeded(8), "application/yaml").await);
    assert_ne!(first, other);
    // The same seed on a second registry (another renderer, no shared cache) repeats every value.
    let second = TestRegistry::new().await;
    second.publish_ok(&pack).await;
    let again = text(&render(&second, "random", seeded(7), "application/yaml").await);
    assert_eq!(first, again);
    assert!(first.contains("password: "), "{first}");
    // JSON Schema's integers include 7.0; a fraction is refused.
    let float = json!({"cloudType": "aws", "seed": 7.0});
    assert_eq!(
        text(&render(&registry, "random", float, "application/yaml").await),
        first
    );
    let fraction = json!({"cloudType": "aws", "seed": 7.5});
    let refused = render(&registry, "random", fraction, "application/yaml").await;
    assert_eq!(refused.error_code(StatusCode::BAD_REQUEST), "BODY_INVALID");
}

/// A pack wrapping a corpus chart, in `layer`, with `values` as its whole values.yaml.
fn corpus_pack(
    corpus: &std::path::Path,
    folder: &str,
    chart: &str,
    layer: &str,
    values: &str,
) -> TestPack {
    let archive = format!("charts/{chart}.tgz");
    TestPack::new(chart, "1.0.0")
        .without("manifests/app.yaml")
        .without("schema.yaml")
        .without("presets.yaml")
        .file(
            &archive,
            common::charts::package(&corpus.join(folder), chart),
        )
        .file("values.yaml", values)
        .pack_json(|j| {
            j["layer"] = json!(layer);
            j["cloudTypes"] = json!(["all"]);
            j["kubeManifests"] = json!([]);
            j["charts"] = json!([archive]);
        })
}

#[tokio::test]
async fn a_profile_renders_kubernetes_calico_a_csi_chart_and_an_add_on_chart_in_layer_order() {
    let Some(corpus) = common::reference::chart_corpus() else {
        return;
    };
    let registry = TestRegistry::new().await;
    let packs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packs");
    for outcome in registry.state.registry.publish_dir(&packs).await.unwrap() {
        outcome.result.unwrap();
    }
    registry
        .publish_ok(&corpus_pack(
            &corpus,
            "aws-ebs-csi-driver-2.64.0",
            "aws-ebs-csi-driver",
            "csi",
            "pack:\n  namespace: kube-system\ncharts:\n  aws-ebs-csi-driver: {}\n",
        ))
        .await;
    // The add-on reads the Kubernetes layer's pod CIDR through a cross-layer macro.
    registry
        .publish_ok(&corpus_pack(
            &corpus,
            "kube-state-metrics-8.4.0",
            "kube-state-metrics",
            "addon",
            "pack:\n  namespace: monitoring\ncharts:\n  kube-state-metrics:\n    customLabels:\n      pod-cidr: '{{ .spectro.pack.kubernetes.pack.podCIDR | replace \"/\" \"-\" }}'\n      kube: '{{ .spectro.system.kubernetes.version }}'\n",
        ))
        .await;
    let body = json!({
        "cloudType": "aws",
        "packs": [
            {"name": "kube-state-metrics"},
            {"name": "aws-ebs-csi-driver"},
            {"name": "cni-calico", "tag": "3.24.x"},
            {"name": "kubernetes", "tag": "1.24.10", "values": "pack:\n  podCIDR: 10.10.0.0/16\n"}
        ]
    });
    let response = registry
        .post_json("/v1/clusterprofiles/render", body.clone())
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", text(&response));
    let stream = text(&response);
    let layer_of = |source: &str| {
        [
            "kubernetes@",
            "cni-calico@",
            "aws-ebs-csi-driver/",
            "kube-state-metrics/",
        ]
        .iter()
        .position(|prefix| source.starts_with(prefix))
        .unwrap_or_else(|| panic!("a document from nowhere: {source}"))
    };
    let layers: Vec<usize> = sources(&stream).into_iter().map(layer_of).collect();
    assert!(
        layers.windows(2).all(|w| w[0] <= w[1]),
        "layers out of order: {layers:?}"
    );
    // The Kubernetes pack has no manifests of its own: it brings values (the pod CIDR, the
    // version) that the other layers read.
    for layer in 1..4 {
        assert!(
            layers.contains(&layer),
            "layer {layer} is missing: {layers:?}"
        );
    }
    assert!(
        stream.contains("pod-cidr: 10.10.0.0-16"),
        "the cross-layer macro"
    );
    assert!(
        stream.contains("kube: 1.24.10"),
        "the profile's Kubernetes version"
    );
    assert!(stream.contains("namespace: monitoring"));
    // Validation sees every layer, charts included, and finds nothing wrong.
    let validation = registry
        .post_json("/v1/clusterprofiles/validate/packs", body)
        .await;
    assert_eq!(validation.status, StatusCode::OK, "{}", text(&validation));
    assert!(
        !text(&validation).contains("RenderFailed"),
        "{}",
        text(&validation)
    );
}

#[tokio::test]
async fn render_budgets_bound_a_chart_as_they_bound_a_manifest() {
    let registry = TestRegistry::with_config(|config| {
        config.render_max_output_bytes = 1 << 20;
        config.render_timeout_secs = 2;
    })
    .await;
    let hostile = tgz(
        "hostile",
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: hostile\nversion: 0.1.0\n",
            ),
            (
                "templates/big.yaml",
                "{{- $s := \"xxxxxxxxxxxxxxxx\" }}{{ range until (int .Values.count) }}{{ $s }}{{ end }}",
            ),
            (
                "templates/_loop.tpl",
                "{{- define \"spin\" }}{{ range 1000000000 }}{{ end }}{{ end }}",
            ),
            (
                "templates/slow.yaml",
                "{{ if .Values.spin }}{{ include \"spin\" . }}{{ end }}",
            ),
            (
                "templates/tpl.yaml",
                "{{ if .Values.again }}{{ tpl .Values.again . }}{{ end }}",
            ),
        ],
    );
    let pack = TestPack::new("hostile", "1.0.0")
        .file("charts/hostile-0.1.0.tgz", hostile)
        .file(
            "values.yaml",
            "charts:\n  hostile:\n    count: 1\nmanifests:\n  app:\n    replicas: 2\n    image: nginx\n",
        )
        .pack_json(|j| j["charts"] = json!(["charts/hostile-0.1.0.tgz"]));
    registry.publish_ok(&pack).await;
    let refused = |values: &str| json!({"cloudType": "aws", "values": values});
    for (values, limit) in [
        (
            "charts:\n  hostile:\n    count: 10000000\n",
            "render-max-output-bytes",
        ),
        (
            "charts:\n  hostile:\n    spin: true\n",
            "render-timeout-secs",
        ),
        // tpl rendering its own text again, forever: stopped by the nesting limit or the budget.
        (
            "charts:\n  hostile:\n    again: '{{ tpl .Values.again . }}'\n",
            "",
        ),
    ] {
        let response = render(&registry, "hostile", refused(values), "application/yaml").await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{values}"
        );
        if !limit.is_empty() {
            assert_eq!(response.json()["code"], "RENDER_LIMIT", "{values}");
            assert_eq!(response.json()["limit"], limit, "{values}");
        }
    }
}
