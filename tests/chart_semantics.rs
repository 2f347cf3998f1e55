//! Helm's chart semantics on small charts written for these tests (the edge cases of Helm's own
//! `coalesce_test.go`, `values_test.go` and `dependencies_test.go`, written anew): values
//! coalescing, globals, subchart scoping, conditions, tags, aliases, import-values, schema
//! validation, the kubeVersion constraint, `.Files`, `.Capabilities`, `tpl`, `include`, hooks,
//! CRDs and output order.

use std::sync::Arc;

use packyard::pack::chart::{Chart, ChartFile, load_files};
use packyard::render::chart::{ChartRequest, KubeVersion, render};
use packyard::render::gotemplate::Budget;

fn chart(files: &[(&str, &str)]) -> Chart {
    load_files(
        files
            .iter()
            .map(|(name, text)| ChartFile {
                name: (*name).to_owned(),
                data: Arc::from(text.as_bytes()),
            })
            .collect(),
    )
    .unwrap()
}

fn render_with(chart: &Chart, values: &str, kube: &str) -> Result<String, String> {
    let values = match packyard::pack::yaml::parse(values, "values", &mut Vec::new()).unwrap() {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    let kube_version = KubeVersion::parse(kube).unwrap();
    let request = ChartRequest {
        release: "rel",
        namespace: "ns",
        kube_version: &kube_version,
        api_versions: &[],
        values: &values,
        include_crds: true,
    };
    render(chart, &request, &Budget::unlimited())
        .map(|out| out.stream())
        .map_err(|e| e.to_string())
}

fn run(chart: &Chart, values: &str) -> String {
    render_with(chart, values, "1.30.0").unwrap_or_else(|e| panic!("{e}"))
}

/// The body of the one document from `template` (without its `# Source` line).
fn body(out: &str, source: &str) -> String {
    out.split("---\n")
        .find(|d| d.starts_with(&format!("# Source: {source}\n")))
        .unwrap_or_else(|| panic!("no {source} in {out}"))
        .split_once('\n')
        .unwrap()
        .1
        .trim_end()
        .to_owned()
}

const PARENT: &str = "apiVersion: v2\nname: parent\nversion: 1.0.0\n";

#[test]
fn user_values_coalesce_over_defaults_and_null_deletes_a_default() {
    let c = chart(&[
        ("Chart.yaml", PARENT),
        (
            "values.yaml",
            "a: 1\nb:\n  c: 2\n  d: 3\nlist: [1, 2]\nkeep: x\n",
        ),
        (
            "templates/v.yaml",
            "a: {{ hasKey .Values \"a\" }}\nb: {{ .Values.b | toJson }}\nlist: {{ .Values.list | toJson }}\nkeep: {{ .Values.keep }}\n",
        ),
    ]);
    let out = run(&c, "a: null\nb:\n  c: 20\n  d: null\nlist: [9]\n");
    assert_eq!(
        body(&out, "parent/templates/v.yaml"),
        "a: false\nb: {\"c\":20}\nlist: [9]\nkeep: x"
    );
}

fn parent_with_sub(parent_values: &str, deps: &str, sub_values: &str) -> Chart {
    let chart_yaml = format!("{PARENT}dependencies:\n{deps}");
    chart(&[
        ("Chart.yaml", &chart_yaml),
        ("values.yaml", parent_values),
        ("templates/p.yaml", "parent: {{ .Values | toJson }}\n"),
        (
            "charts/sub/Chart.yaml",
            "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
        ),
        ("charts/sub/values.yaml", sub_values),
        (
            "charts/sub/templates/s.yaml",
            "sub: {{ .Values | toJson }}\nchart: {{ .Chart.Name }} {{ .Chart.IsRoot }} {{ .Template.BasePath }}\n",
        ),
    ])
}

#[test]
fn globals_flow_down_and_a_subchart_sees_only_its_own_values() {
    let c = parent_with_sub(
        "global:\n  region: eu\nsub:\n  size: 2\nown: 1\n",
        "  - name: sub\n    version: 0.1.x\n",
        "size: 1\ncolor: red\nglobal:\n  region: us\n  tier: gold\n",
    );
    let out = run(&c, "sub:\n  color: blue\n");
    assert_eq!(
        body(&out, "parent/charts/sub/templates/s.yaml"),
        "sub: {\"color\":\"blue\",\"global\":{\"region\":\"eu\",\"tier\":\"gold\"},\"size\":2}\nchart: sub false parent/charts/sub/templates"
    );
    // The parent sees its subchart's coalesced values under its name.
    assert!(body(&out, "parent/templates/p.yaml").contains("\"own\":1"));
}

#[test]
fn conditions_take_the_first_path_that_resolves_and_override_tags() {
    let deps = "  - name: sub\n    version: 0.1.0\n    condition: missing.enabled,sub.enabled\n    tags: [front]\n";
    let c = parent_with_sub("sub:\n  enabled: true\n", deps, "");
    assert!(run(&c, "").contains("charts/sub/templates/s.yaml"));
    assert!(!run(&c, "sub:\n  enabled: false\n").contains("charts/sub/"));
    // A tag alone switches it off, but the condition, when set, decides.
    let tags_only = parent_with_sub(
        "",
        "  - name: sub\n    version: 0.1.0\n    tags: [front]\n",
        "",
    );
    assert!(!run(&tags_only, "tags:\n  front: false\n").contains("charts/sub/"));
    assert!(run(&c, "tags:\n  front: false\n").contains("charts/sub/"));
}

#[test]
fn an_alias_renames_the_subchart_and_its_values() {
    let deps = "  - name: sub\n    version: 0.1.0\n    alias: other\n";
    let c = parent_with_sub("other:\n  size: 5\n", deps, "size: 1\n");
    let out = run(&c, "");
    assert_eq!(
        body(&out, "parent/charts/other/templates/s.yaml"),
        "sub: {\"global\":{},\"size\":5}\nchart: other false parent/charts/other/templates"
    );
}

#[test]
fn import_values_copy_child_values_into_the_parent() {
    let deps = "  - name: sub\n    version: 0.1.0\n    import-values:\n      - data\n      - child: deep.inner\n        parent: imported\n";
    let c = parent_with_sub(
        "imported:\n  mine: 1\n",
        deps,
        "exports:\n  data:\n    exported: yes\ndeep:\n  inner:\n    x: 1\n    mine: 2\n",
    );
    let parent = body(&run(&c, ""), "parent/templates/p.yaml");
    assert!(parent.contains("\"exported\":true"), "{parent}");
    // The parent's own value wins over the imported one.
    assert!(
        parent.contains("\"imported\":{\"mine\":1,\"x\":1}"),
        "{parent}"
    );
}

#[test]
fn a_subchart_default_null_does_not_leak() {
    let c = parent_with_sub(
        "",
        "  - name: sub\n    version: 0.1.0\n",
        "gone: null\nkept: 1\n",
    );
    assert_eq!(
        body(&run(&c, ""), "parent/charts/sub/templates/s.yaml")
            .lines()
            .next()
            .unwrap(),
        "sub: {\"global\":{},\"kept\":1}"
    );
}

#[test]
fn helms_refusals_are_errors_in_helms_words() {
    let c = chart(&[
        (
            "Chart.yaml",
            &format!("{PARENT}kubeVersion: \">=1.31.0-0\"\n"),
        ),
        ("templates/a.yaml", "a: 1\n"),
    ]);
    assert_eq!(
        render_with(&c, "", "1.30.0").unwrap_err(),
        "chart requires kubeVersion: >=1.31.0-0 which is incompatible with Kubernetes v1.30.0"
    );
    assert!(render_with(&c, "", "1.31.2").is_ok());
    let library = chart(&[("Chart.yaml", &format!("{PARENT}type: library\n"))]);
    assert_eq!(
        render_with(&library, "", "1.30.0").unwrap_err(),
        "library charts are not installable"
    );
    let missing = chart(&[(
        "Chart.yaml",
        &format!("{PARENT}dependencies:\n  - name: gone\n    version: 1.0.0\n"),
    )]);
    assert!(
        render_with(&missing, "", "1.30.0")
            .unwrap_err()
            .ends_with("missing in charts/ directory: gone")
    );
    let failing = chart(&[
        ("Chart.yaml", PARENT),
        (
            "templates/a.yaml",
            "a: 1\nb: {{ required \"b is required\" .Values.b }}\n",
        ),
    ]);
    assert_eq!(
        render_with(&failing, "", "1.30.0").unwrap_err(),
        "execution error at (parent/templates/a.yaml:2:6): b is required"
    );
}

#[test]
fn values_schema_violations_are_all_listed_with_their_paths() {
    let schema = r#"{"type":"object","properties":{"replicas":{"type":"integer","minimum":1},"image":{"type":"object","required":["tag"]}}}"#;
    let c = chart(&[
        ("Chart.yaml", PARENT),
        ("values.schema.json", schema),
        ("values.yaml", "replicas: 1\nimage:\n  tag: v1\n"),
        ("templates/a.yaml", "a: 1\n"),
    ]);
    let error = render_with(&c, "replicas: 0\nimage:\n  tag: null\n", "1.30.0").unwrap_err();
    assert!(error.starts_with("values don't meet the specifications of the schema(s) in the following chart(s):\nparent:\n"), "{error}");
    assert!(error.contains("- at '/replicas'"), "{error}");
    assert!(error.contains("- at '/image'"), "{error}");
}

#[test]
fn files_capabilities_tpl_and_include_work_as_in_helm() {
    let c = chart(&[
        ("Chart.yaml", PARENT),
        ("values.yaml", "greeting: \"hello {{ .Release.Name }}\"\n"),
        ("files/a.txt", "line1\nline2\n"),
        ("files/b.json", "{}"),
        (
            "templates/_h.tpl",
            "{{- define \"name\" -}}{{ .Release.Name }}-x{{- end -}}",
        ),
        (
            "templates/f.yaml",
            concat!(
                "get: {{ .Files.Get \"files/a.txt\" | quote }}\n",
                "lines: {{ .Files.Lines \"files/a.txt\" | toJson }}\n",
                "glob: {{ range $p, $_ := .Files.Glob \"files/*\" }}{{ $p }} {{ end }}\n",
                "config: {{ (.Files.Glob \"files/*.txt\").AsConfig | toJson }}\n",
                "has: {{ .Capabilities.APIVersions.Has \"apps/v1\" }} {{ .Capabilities.APIVersions.Has \"apps/v1/Deployment\" }}\n",
                "kube: {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.Minor }}\n",
                "tpl: {{ tpl .Values.greeting . }}\n",
                "include: {{ include \"name\" . }}\n",
                "lookup: {{ lookup \"v1\" \"Secret\" \"ns\" \"x\" | toJson }}\n",
                "release: {{ .Release.Namespace }} {{ .Release.IsInstall }} {{ .Release.Revision }} {{ .Release.Service }}\n",
            ),
        ),
        (
            "templates/loop.yaml",
            "{{- define \"loop\" }}{{ include \"loop\" . }}{{ end }}{{ if .Values.loop }}{{ include \"loop\" . }}{{ end }}",
        ),
    ]);
    let out = run(&c, "");
    assert_eq!(
        body(&out, "parent/templates/f.yaml"),
        concat!(
            "get: \"line1\\nline2\\n\"\n",
            "lines: [\"line1\",\"line2\"]\n",
            "glob: files/a.txt files/b.json \n",
            "config: \"a.txt: |\\n  line1\\n  line2\"\n",
            "has: true false\n",
            "kube: v1.30.0 30\n",
            "tpl: hello rel\n",
            "include: rel-x\n",
            "lookup: {}\n",
            "release: ns true 1 Helm",
        )
    );
    let error = render_with(&c, "loop: true", "1.30.0").unwrap_err();
    assert!(
        error.contains("rendering template has a nested reference name: loop"),
        "{error:.300}"
    );
    // A thousand nested calls make a long chain of messages: the answer keeps its ends.
    assert!(error.len() <= 4200, "{}", error.len());
}

#[test]
fn output_follows_helm_crds_first_then_install_order_then_hooks() {
    let c = chart(&[
        ("Chart.yaml", PARENT),
        (
            "crds/crd.yaml",
            "kind: CustomResourceDefinition\nmetadata:\n  name: c\n",
        ),
        (
            "templates/NOTES.txt",
            "Thanks for installing {{ .Release.Name }}",
        ),
        (
            "templates/a-deploy.yaml",
            "kind: Deployment\nmetadata:\n  name: d\n",
        ),
        (
            "templates/b-hook.yaml",
            "kind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install\n",
        ),
        (
            "templates/c-many.yaml",
            "kind: Service\nmetadata:\n  name: s\n---\n# only a comment\n---\n\n---\nkind: Namespace\nmetadata:\n  name: n\n",
        ),
        ("templates/empty.yaml", "{{- if false }}kind: X{{ end }}"),
    ]);
    let out = run(&c, "");
    let sources: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("# Source: "))
        .collect();
    assert_eq!(
        sources,
        [
            "parent/crds/crd.yaml",
            "parent/templates/c-many.yaml",
            "parent/templates/c-many.yaml",
            "parent/templates/a-deploy.yaml",
            "parent/templates/c-many.yaml",
            "parent/templates/b-hook.yaml",
        ]
    );
    assert!(out.contains("kind: Namespace"));
    assert!(!out.contains("Thanks for installing"));
}
