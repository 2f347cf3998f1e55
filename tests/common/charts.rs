//! Chart packs for tests: a chart folder packaged as `helm package` would (its `.helmignore`
//! applied, entries under the chart's name) and wrapped in a pack whose `charts.<name>` are the
//! given values.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use packyard::pack::chart::IgnoreRules;

/// A `.tgz` of `chart_dir` under `name/`, without what its `.helmignore` ignores.
pub fn package(chart_dir: &Path, name: &str) -> Vec<u8> {
    let rules = IgnoreRules::parse(
        &std::fs::read_to_string(chart_dir.join(".helmignore")).unwrap_or_default(),
    );
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    add(&mut builder, chart_dir, "", &rules, name);
    builder.into_inner().unwrap().finish().unwrap()
}

fn add(
    builder: &mut tar::Builder<GzEncoder<Vec<u8>>>,
    dir: &Path,
    prefix: &str,
    rules: &IgnoreRules,
    name: &str,
) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            file_name
        } else {
            format!("{prefix}/{file_name}")
        };
        let path = entry.path();
        if path.is_dir() {
            if !rules.ignored(&rel, true) {
                add(builder, &path, &rel, rules, name);
            }
            continue;
        }
        if rules.ignored(&rel, false) {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("{name}/{rel}"), data.as_slice())
            .unwrap();
    }
}

/// Writes a pack folder at `dir` holding the chart archive and `values` as `charts.<name>`
/// (namespace `default`, so the render matches `helm template --namespace default`).
pub fn write_pack(
    dir: &Path,
    chart_dir: &Path,
    chart_name: &str,
    chart_version: &str,
    values: &serde_json::Value,
) {
    std::fs::create_dir_all(dir.join("charts")).unwrap();
    let archive = format!("charts/{chart_name}-{chart_version}.tgz");
    std::fs::write(dir.join(&archive), package(chart_dir, chart_name)).unwrap();
    let pack_json = serde_json::json!({
        "name": "chart-pack",
        "displayName": "Chart pack",
        "version": "1.0.0",
        "layer": "addon",
        "addonType": "system app",
        "cloudTypes": ["all"],
        "charts": [archive],
    });
    std::fs::write(dir.join("pack.json"), pack_json.to_string()).unwrap();
    let values = serde_json::json!({
        "pack": {"namespace": "default"},
        "charts": {chart_name: values},
    });
    // JSON is YAML.
    let mut file = std::fs::File::create(dir.join("values.yaml")).unwrap();
    file.write_all(values.to_string().as_bytes()).unwrap();
}

/// A chart archive from `(path, text)` pairs, under `name/`.
pub fn tgz(name: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("{name}/{path}"), text.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A small chart written for tests: a CRD, a ServiceAccount, a Deployment and a hook, reading
/// its values, the release, the namespace and the Kubernetes version; `required` on
/// `.Values.image`; a `values.schema.json` bounding `replicas`.
pub fn demo_chart() -> Vec<u8> {
    tgz(
        "demo",
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: \"1.2.3\"\ndescription: A demo chart\ndependencies:\n  - name: sub\n    version: 0.1.0\n    condition: sub.enabled\n",
            ),
            (
                "values.yaml",
                "replicas: 1\nimage: nginx\nsub:\n  enabled: true\n",
            ),
            (
                "values.schema.json",
                r#"{"type":"object","properties":{"replicas":{"type":"integer","minimum":1,"maximum":10}}}"#,
            ),
            (
                "crds/widget.yaml",
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n",
            ),
            (
                "templates/_helpers.tpl",
                "{{- define \"demo.labels\" -}}app: {{ .Chart.Name }}\nrelease: {{ .Release.Name }}{{- end -}}",
            ),
            (
                "templates/deployment.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\n  labels:\n    {{- include \"demo.labels\" . | nindent 4 }}\n  annotations:\n    kube: {{ .Capabilities.KubeVersion.Version | quote }}\nspec:\n  replicas: {{ .Values.replicas }}\n  template:\n    spec:\n      containers:\n        - image: {{ required \"image is required\" .Values.image }}\n",
            ),
            (
                "templates/serviceaccount.yaml",
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}\n",
            ),
            (
                "templates/hook.yaml",
                "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Release.Name }}-migrate\n  annotations:\n    helm.sh/hook: pre-install\n",
            ),
            ("templates/NOTES.txt", "Installed {{ .Release.Name }}."),
            (
                "charts/sub/Chart.yaml",
                "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            ),
            (
                "charts/sub/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub-{{ .Release.Name }}\n",
            ),
        ],
    )
}
