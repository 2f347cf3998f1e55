//! Every template function Helm's engine registers, proven against Helm's engine: the calls of
//! `tests/functions/table.yaml` (typical, edge and error inputs for each function) and seeded
//! random pipelines of them are rendered by packyard's chart engine and by Helm's own engine
//! (helm-python-sdk, through `tests/clients/helm_functions.py`, all in one process) and compared
//! byte for byte, error texts included. The table must name every function Helm registers and
//! packyard must register no function Helm lacks.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use packyard::pack::chart::{ChartFile, load_files};
use packyard::render::chart::{ChartRequest, KubeVersion, render_files};
use packyard::render::gotemplate::Budget;
use serde_json::Value;

/// One call of the table.
#[derive(Debug, Clone)]
struct Call {
    function: String,
    call: String,
    /// For random and time-based results: the regex both outputs must match.
    shape: Option<String>,
}

struct Table {
    values: serde_json::Map<String, Value>,
    calls: Vec<Call>,
    functions: BTreeSet<String>,
}

fn table() -> Table {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/functions/table.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed = packyard::pack::yaml::parse(&text, "table.yaml", &mut Vec::new()).unwrap();
    let values = parsed["values"].as_object().cloned().unwrap_or_default();
    let mut calls = Vec::new();
    let mut functions = BTreeSet::new();
    let methods = parsed["methods"].as_object().cloned().unwrap_or_default();
    let sections = parsed["functions"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, list)| (name.clone(), list, true))
        .chain(
            methods
                .iter()
                .map(|(ty, list)| (format!("methods:{ty}"), list, false)),
        );
    for (function, list, is_function) in sections {
        if is_function {
            functions.insert(function.clone());
        }
        let function = &function;
        let list = list
            .as_array()
            .unwrap_or_else(|| panic!("{function}: a list"));
        assert!(!list.is_empty(), "{function} has no calls");
        for item in list {
            let (call, shape) = match item {
                Value::String(call) => (call.clone(), None),
                Value::Object(entry) => (
                    entry["call"].as_str().unwrap().to_owned(),
                    entry["shape"].as_str().map(str::to_owned),
                ),
                other => panic!("{function}: {other} is not a call"),
            };
            calls.push(Call {
                function: function.clone(),
                call,
                shape,
            });
        }
    }
    Table {
        values,
        calls,
        functions,
    }
}

/// What one template renders to, or its error.
type Outcome = Result<String, String>;

/// Chart files beside the templates (`values.yaml`, `charts/<sub>/...`), by path in the chart.
type Files = BTreeMap<String, String>;

/// packyard's chart engine on a chart `fn` whose one template is `text`, with `extra` files.
fn packyard(
    name: &str,
    text: &str,
    values: &serde_json::Map<String, Value>,
    extra: &Files,
) -> Outcome {
    let mut files: Files = [(
        "Chart.yaml".to_owned(),
        "apiVersion: v2\nname: fn\nversion: 0.1.0\n".to_owned(),
    )]
    .into_iter()
    .collect();
    files.extend(extra.clone());
    files.insert(format!("templates/{name}.txt"), text.to_owned());
    let chart = load_files(
        files
            .into_iter()
            .map(|(name, text)| ChartFile {
                name,
                data: Arc::from(text.as_bytes()),
            })
            .collect(),
    )
    .map_err(|e| e.to_string())?;
    let kube_version = KubeVersion::parse("1.30.0").unwrap();
    let request = ChartRequest {
        release: "fn",
        namespace: "default",
        kube_version: &kube_version,
        api_versions: &[],
        values,
        include_crds: false,
    };
    render_files(&chart, &request, &Budget::unlimited())
        .map(|files| {
            files
                .get(&format!("fn/templates/{name}.txt"))
                .cloned()
                .unwrap_or_default()
        })
        .map_err(|e| e.to_string())
}

/// Helm's engine on the same templates, all in one process.
fn helm(
    python: &std::ffi::OsStr,
    corpus: &Path,
    templates: &BTreeMap<String, String>,
    values: &serde_json::Map<String, Value>,
    extra: &Files,
) -> BTreeMap<String, Outcome> {
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/helm_functions.py");
    let mut child = Command::new(python)
        .arg(driver)
        .arg(corpus)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the oracle's Python runs");
    let request = serde_json::json!({"values": values, "templates": templates, "files": extra});
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(request.to_string().as_bytes()).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the oracle failed");
    let answers: BTreeMap<String, Value> = serde_json::from_slice(&output.stdout).unwrap();
    answers
        .into_iter()
        .map(|(name, answer)| {
            let outcome = match (answer.get("out"), answer.get("err")) {
                (Some(out), _) => Ok(out.as_str().unwrap().to_owned()),
                (_, Some(err)) => Err(err.as_str().unwrap().to_owned()),
                _ => panic!("{name}: {answer}"),
            };
            (name, outcome)
        })
        .collect()
}

/// Where Helm is: its Python and the chart corpus holding `helm_template.py`.
fn oracle() -> Option<(std::ffi::OsString, std::path::PathBuf)> {
    if std::env::var_os("PACKYARD_TEST_DATABASE_URL").is_some() {
        // Template functions touch no database: the SQLite phase of CI runs the oracle once.
        eprintln!("skipped: the function oracle runs in the SQLite phase only");
        return None;
    }
    let corpus = common::reference::chart_corpus()?;
    let Some(python) = std::env::var_os("HELM_TEMPLATE_PYTHON") else {
        common::skip(
            "HELM_TEMPLATE_PYTHON is not set (eval \"$(.ci/tools)\" installs helm-python-sdk and sets it)",
        );
        return None;
    };
    Some((python, corpus))
}

fn whole_match(pattern: &str, text: &str) -> bool {
    regex::Regex::new(&format!("^(?s:{pattern})$"))
        .unwrap()
        .is_match(text)
}

/// Compares every template (outputs and errors after `normalize`); returns the disagreements.
fn disagreements(
    named: &[(String, String, Option<String>)],
    values: &serde_json::Map<String, Value>,
    extra: &Files,
    python: &std::ffi::OsStr,
    corpus: &Path,
    normalize: fn(&str) -> String,
) -> Vec<String> {
    let templates: BTreeMap<String, String> = named
        .iter()
        .map(|(name, text, _)| (name.clone(), text.clone()))
        .collect();
    let helm = helm(python, corpus, &templates, values, extra);
    let mut differ = Vec::new();
    for (name, text, shape) in named {
        let ours = packyard(name, text, values, extra);
        let theirs = helm
            .get(name)
            .unwrap_or_else(|| panic!("{name}: no answer"));
        let same = match (&ours, theirs, shape) {
            (Ok(a), Ok(b), Some(shape)) => whole_match(shape, a) && whole_match(shape, b),
            (Ok(a), Ok(b), None) => normalize(a) == normalize(b),
            (Err(a), Err(b), None) => normalize(a) == normalize(b),
            _ => false,
        };
        if !same {
            differ.push(format!(
                "{text}\n    packyard: {ours:?}\n    helm:     {theirs:?}"
            ));
        }
    }
    differ
}

#[test]
fn every_function_helm_registers_is_in_the_table_and_agrees() {
    let table = table();
    let Some((python, corpus)) = oracle() else {
        return;
    };
    // FUNCTION_ORACLE_ONLY=genCA,toToml narrows a run while working on a few functions.
    let only: Option<BTreeSet<String>> = std::env::var("FUNCTION_ORACLE_ONLY")
        .ok()
        .map(|names| names.split(',').map(str::to_owned).collect());
    let named: Vec<(String, String, Option<String>)> = table
        .calls
        .iter()
        .enumerate()
        .filter(|(_, call)| {
            only.as_ref()
                .is_none_or(|only| only.contains(&call.function))
        })
        .map(|(i, call)| {
            (
                format!(
                    "c{i:04}-{}",
                    call.function
                        .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                ),
                format!("{{{{ {} }}}}", call.call),
                call.shape.clone(),
            )
        })
        .collect();
    let differ = disagreements(
        &named,
        &table.values,
        &Files::new(),
        &python,
        &corpus,
        str::to_owned,
    );
    assert!(
        differ.is_empty(),
        "{} of {} calls differ from Helm:\n{}",
        differ.len(),
        named.len(),
        differ.join("\n")
    );
}

/// Which of `names` Helm's engine defines: a template naming an undefined function fails to parse
/// (`function "x" not defined`), one naming a defined function renders, here to nothing.
fn defined_in_helm(
    names: &BTreeSet<String>,
    python: &std::ffi::OsStr,
    corpus: &Path,
) -> BTreeSet<String> {
    let templates: BTreeMap<String, String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            (
                format!("d{i:04}"),
                format!("{{{{ if false }}}}{{{{ {name} }}}}{{{{ end }}}}"),
            )
        })
        .collect();
    let answers = helm(
        python,
        corpus,
        &templates,
        &serde_json::Map::new(),
        &Files::new(),
    );
    names
        .iter()
        .enumerate()
        .filter_map(|(i, name)| match &answers[&format!("d{i:04}")] {
            Ok(_) => Some(name.clone()),
            Err(e) if e.contains(&format!("function \"{name}\" not defined")) => None,
            Err(e) => panic!("{name}: {e}"),
        })
        .collect()
}

/// Helm's function map cannot be listed through a template, so the candidates are every name the
/// table, packyard or Sprig (with the two Helm removes) knows; each is asked of Helm's parser.
#[test]
fn the_table_names_exactly_helms_functions_and_packyard_registers_no_other() {
    let table = table();
    let Some((python, corpus)) = oracle() else {
        return;
    };
    let packyard: BTreeSet<String> = packyard::render::functions::manifest_funcs()
        .names()
        .map(str::to_owned)
        .collect();
    // Sprig's functions Helm deletes from its map (they read the server's environment).
    let removed = ["env", "expandenv"];
    let candidates: BTreeSet<String> = table
        .functions
        .iter()
        .chain(&packyard)
        .cloned()
        .chain(removed.iter().map(|s| (*s).to_owned()))
        .collect();
    let helm = defined_in_helm(&candidates, &python, &corpus);
    for name in removed {
        assert!(!helm.contains(name), "Helm defines {name}");
    }
    let untested: Vec<_> = helm.difference(&table.functions).collect();
    assert!(
        untested.is_empty(),
        "Helm functions without table calls: {untested:?}"
    );
    let not_helm: Vec<_> = table.functions.difference(&helm).collect();
    assert!(
        not_helm.is_empty(),
        "table sections Helm does not define: {not_helm:?}"
    );
    let extra: Vec<_> = packyard.difference(&helm).collect();
    assert!(
        extra.is_empty(),
        "packyard registers what Helm does not: {extra:?}"
    );
    let missing: Vec<_> = helm.difference(&packyard).collect();
    assert!(
        missing.is_empty(),
        "Helm functions packyard lacks: {missing:?}"
    );
}

/// A parent chart `fn` with subchart `s`, each with `values.yaml`; `dependency` adds lines to the
/// parent's dependency entry.
fn parent_and_subchart(parent_values: &str, sub_values: &str, dependency: &str) -> Files {
    let chart_yaml = format!(
        "apiVersion: v2\nname: fn\nversion: 0.1.0\ndependencies:\n- name: s\n  version: 0.1.0\n{dependency}"
    );
    [
        ("Chart.yaml", chart_yaml.as_str()),
        ("values.yaml", parent_values),
        (
            "charts/s/Chart.yaml",
            "apiVersion: v2\nname: s\nversion: 0.1.0\n",
        ),
        ("charts/s/values.yaml", sub_values),
        ("charts/s/templates/s.txt", "{{ toJson .Values }}"),
    ]
    .into_iter()
    .map(|(path, text)| (path.to_owned(), text.to_owned()))
    .collect()
}

/// Helm's rules for `null` while coalescing values, one case per rule; each renders the parent's
/// whole `.Values` (the subchart's are its `s` table) and one value's Go printing.
#[test]
fn nulls_in_values_coalesce_as_helm_does() {
    let Some((python, corpus)) = oracle() else {
        return;
    };
    let cases: &[(&str, &str, &str, Value)] = &[
        (
            "imported values lose their nulls, the parent's own too",
            "a: null\nimp:\n  q: null\n  r: 1\n",
            "ex:\n  q: 7\n  r: null\n  t: null\n  u: 3\n",
            serde_json::json!({"imp": {"v": null}}),
        ),
        (
            "a null chart default (top level and nested) is dropped",
            "a: null\nb: 1\nnest:\n  c: null\n  d: 2\nl: [1, null]\n",
            "",
            serde_json::json!({}),
        ),
        (
            "a user null deletes a chart default, nested too",
            "b: 1\nnest:\n  c: 3\n  d: 2\n",
            "",
            serde_json::json!({"b": null, "nest": {"d": null}}),
        ),
        (
            "a user null without a default is kept",
            "nest:\n  d: 2\n",
            "",
            serde_json::json!({"u": null, "nest": {"e": null}, "m": {"x": null}}),
        ),
        (
            "a subchart's null defaults",
            "",
            "sa: null\nsb:\n  sc: null\n  sd: 2\nse: {}\n",
            serde_json::json!({}),
        ),
        (
            "parent values and user values null a subchart default",
            "s:\n  x: null\n  z: null\n",
            "x: 5\nsb:\n  sd: 2\n  sf: 3\n",
            serde_json::json!({"s": {"sb": {"sd": null, "sg": null}, "y": null}}),
        ),
        (
            "nulls in globals, the parent's over the subchart's",
            "global:\n  g: null\n  h:\n    i: null\n    j: 1\n",
            "global:\n  g: 3\n  k: null\n  h:\n    j: 2\n    l: null\n",
            serde_json::json!({"global": {"m": null, "h": {"j": null}}}),
        ),
        (
            "a null table under a user table, and a table under a user null",
            "t:\n  a: 1\nv: null\n",
            "",
            serde_json::json!({"t": null, "v": {"w": null}}),
        ),
    ];
    let mut differ = Vec::new();
    for (i, (rule, parent, sub, user)) in cases.iter().enumerate() {
        let imports = "  import-values:\n  - child: ex\n    parent: imp\n";
        let files = parent_and_subchart(parent, sub, if i == 0 { imports } else { "" });
        let values = user.as_object().unwrap();
        let named = vec![
            ("values".to_owned(), "{{ toJson .Values }}".to_owned(), None),
            (
                "printed".to_owned(),
                "{{ .Values.a }} {{ .Values.nest }} {{ .Values.global }} {{ .Values.s }}"
                    .to_owned(),
                None,
            ),
        ];
        for d in disagreements(&named, values, &files, &python, &corpus, str::to_owned) {
            differ.push(format!("{rule}: {d}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// values.yaml is read as Helm reads it (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1): `y`, `n`,
/// `on`, `off`, `yes`, `no` are booleans, keys too (then printed "true"/"false"), numbers take
/// underscores, `0x`, `0o`, `0b` and leading-zero octal forms, timestamps and sexagesimals stay
/// strings, merge keys merge, plain non-string keys are printed (`0x10:` is "16"). Left out:
/// go-yaml's numbers with doubled or fractional underscores (`1__0`, `1_0.5`), strings here.
#[test]
fn values_files_read_yaml_as_helm_does() {
    let Some((python, corpus)) = oracle() else {
        return;
    };
    let values_yaml = r#"n: 1
y: 2
on: 3
off: 4
yes: 5
No: 6
v:
  a: yes
  b: no
  c: on
  d: off
  e: y
  f: n
  g: ~
  h: Null
  i: 0x1F
  j: 0o17
  k: 017
  l: 1_000
  q: 1e3
  r: 2001-12-14
  s: 1:30
  t: 0b101
  u: +1
  w: True
  x: FALSE
  z: 1.0
  aa: -0
  ab: 12345678901234567890
  ac: 0.1e-2
  ad: Y
  ae: NO
  af: 0x_1F
  ah: 2001-12-14T21:59:43.10-05:00
  ai: 1e
  aj: .5
  ak: 5.
  al: -.5
  an: 09
  ao: 0b_1
k:
  1: a
  1.5: b
  0x10: d
  "yes": e
  on: f
  1e3: g
  -0: h
  0.1: j
base: &b {x: 1}
merged:
  <<: *b
  y: 2
"#;
    let files: Files = [("values.yaml".to_owned(), values_yaml.to_owned())]
        .into_iter()
        .collect();
    let named = vec![
        ("json".to_owned(), "{{ toJson .Values }}".to_owned(), None),
        (
            "types".to_owned(),
            "{{ range $k, $v := .Values.v }}{{ $k }}={{ typeOf $v }}:{{ $v }} {{ end }}".to_owned(),
            None,
        ),
    ];
    let differ = disagreements(
        &named,
        &serde_json::Map::new(),
        &files,
        &python,
        &corpus,
        str::to_owned,
    );
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// splitmix64: a small seeded generator, so a failing pipeline is reproduced by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// What a pipeline stage takes and gives, so most pipelines stay well typed; `A` is unknown.
#[derive(Clone, Copy, PartialEq)]
enum T {
    S,
    I,
    F,
    L,
    M,
    B,
    A,
}

/// Starting values by type. (`semver` is not a stage: `%f` of a *semver.Version prints Go's
/// struct fields, packyard its String; the table covers its methods.)
const SEEDS: &[(T, &str)] = &[
    (T::S, "\"hello world\""),
    (T::S, "\"Ünïcødé ☃ snow 日本\""),
    (T::S, "\"\""),
    (T::S, "\"a-b_c.d/e\""),
    (T::S, "\"  padded\\t \""),
    (T::S, "\"HTTP2ServerName\""),
    (T::S, "\"1234\""),
    (T::S, "\"-17\""),
    (T::S, "\"3.75\""),
    (T::S, "\"x,y,,z\""),
    (T::S, "\"1.2.3-rc.1+b5\""),
    (T::S, ".Values.uni"),
    (T::S, ".Values.multi"),
    (T::I, "0"),
    (T::I, "7"),
    (T::I, "-3"),
    (T::I, "9223372036854775807"),
    (T::I, "(len \"héllo\")"),
    (T::F, "1.5"),
    (T::F, "-2.25"),
    (T::F, "0.1"),
    (T::F, "1e20"),
    (T::F, ".Values.n"),
    (T::L, "(list 1 \"a\" 2.5 true)"),
    (T::L, "(list \"b\" \"a\" \"b\" \"\")"),
    (T::L, "(list)"),
    (T::L, "(until 5)"),
    (T::L, "(splitList \",\" \"q,w,e\")"),
    (T::L, ".Values.list"),
    (T::L, ".Values.strs"),
    (
        T::M,
        "(dict \"a\" 1 \"b\" (list 2 3) \"c\" (dict \"d\" \"e\"))",
    ),
    (T::M, "(dict)"),
    (T::M, ".Values.map"),
    (T::B, "true"),
    (T::B, "false"),
];

/// Pipeline stages: the piped value is the last argument. `{n}` is a small int (negative
/// sometimes), `{i}` an int operand (zero and extremes too), `{c}` a short string.
const STAGES: &[(T, T, &str)] = &[
    (T::S, T::S, "upper"),
    (T::S, T::S, "lower"),
    (T::S, T::S, "title"),
    (T::S, T::S, "untitle"),
    (T::S, T::S, "trim"),
    (T::S, T::S, "snakecase"),
    (T::S, T::S, "camelcase"),
    (T::S, T::S, "kebabcase"),
    (T::S, T::S, "swapcase"),
    (T::S, T::S, "nospace"),
    (T::S, T::S, "initials"),
    (T::S, T::S, "b64enc"),
    (T::S, T::S, "b64dec"),
    (T::S, T::S, "b32enc"),
    (T::S, T::S, "b32dec"),
    (T::S, T::S, "sha1sum"),
    (T::S, T::S, "sha256sum"),
    (T::S, T::S, "adler32sum"),
    (T::S, T::S, "trunc {n}"),
    (T::S, T::S, "abbrev {n}"),
    (T::S, T::S, "abbrevboth {n} {n}"),
    (T::S, T::S, "indent {n}"),
    (T::S, T::S, "nindent {n}"),
    (T::S, T::S, "replace {c} {c}"),
    (T::S, T::S, "trimPrefix {c}"),
    (T::S, T::S, "trimSuffix {c}"),
    (T::S, T::S, "trimAll {c}"),
    (T::S, T::S, "repeat 2"),
    (T::S, T::S, "wrap {n}"),
    (T::S, T::S, "wrapWith {n} \"|\""),
    (T::S, T::S, "substr {n} {n}"),
    (T::S, T::S, "cat {c}"),
    (T::S, T::S, "regexReplaceAll \"[aeiouö]+\" \"<${0}>\""),
    (T::S, T::S, "regexReplaceAllLiteral \"o\" \"$0\""),
    (T::S, T::S, "regexFind \"[0-9]+\""),
    (T::S, T::S, "urlquery"),
    (T::S, T::S, "html"),
    (T::S, T::S, "js"),
    (T::S, T::S, "base"),
    (T::S, T::S, "dir"),
    (T::S, T::S, "ext"),
    (T::S, T::S, "clean"),
    (T::S, T::S, "sha512sum"),
    (T::S, T::L, "splitList {c}"),
    (T::S, T::L, "regexFindAll \"[a-zé]+\" {n}"),
    (T::S, T::L, "regexSplit \"[ ,.]\" {n}"),
    (T::S, T::M, "split {c}"),
    (T::S, T::M, "splitn {c} {n}"),
    (T::S, T::M, "fromJson"),
    (T::S, T::M, "fromYaml"),
    (T::S, T::L, "fromJsonArray"),
    (T::S, T::I, "atoi"),
    (T::S, T::I, "toDecimal"),
    (T::S, T::B, "contains {c}"),
    (T::S, T::B, "hasPrefix {c}"),
    (T::S, T::B, "hasSuffix {c}"),
    (T::S, T::B, "regexMatch \"^[a-z]\""),
    (T::S, T::B, "semverCompare \">=1.0.0-0\""),
    (T::S, T::B, "isAbs"),
    (T::I, T::I, "add1"),
    (T::I, T::I, "add {i}"),
    (T::I, T::I, "sub {i}"),
    (T::I, T::I, "mul {i}"),
    (T::I, T::I, "div {i}"),
    (T::I, T::I, "mod {i}"),
    (T::I, T::I, "max {i}"),
    (T::I, T::I, "min {i}"),
    (T::I, T::I, "biggest {i}"),
    (T::I, T::S, "plural \"one\" \"many\""),
    (T::I, T::S, "printf \"%d|%x|%o|%b|%c\" 1 2 3 4"),
    (T::I, T::F, "addf 0.5"),
    (T::I, T::F, "mulf 1.5"),
    (T::I, T::F, "divf 3"),
    (T::F, T::F, "floor"),
    (T::F, T::F, "ceil"),
    (T::F, T::F, "round {n}"),
    (T::F, T::F, "subf 1.25"),
    (T::F, T::F, "maxf 2.5 -1"),
    (T::F, T::F, "minf 2.5"),
    (T::F, T::F, "add1f"),
    (T::F, T::S, "printf \"%.3f|%e|%g|%8.2f\" 1.0 2.0 3.0"),
    (T::L, T::L, "uniq"),
    (T::L, T::L, "reverse"),
    (T::L, T::L, "compact"),
    (T::L, T::L, "sortAlpha"),
    (T::L, T::L, "rest"),
    (T::L, T::L, "initial"),
    (T::L, T::L, "concat (list \"z\" 1)"),
    (T::L, T::L, "chunk 2"),
    (T::L, T::L, "toStrings"),
    (T::L, T::L, "mustUniq"),
    (T::L, T::A, "first"),
    (T::L, T::A, "last"),
    (T::L, T::S, "join {c}"),
    (T::L, T::B, "has \"a\""),
    (T::L, T::B, "has 1"),
    (T::M, T::L, "keys | sortAlpha"),
    (T::M, T::M, "merge (dict \"z\" 1 \"a\" 9)"),
    (T::M, T::M, "mergeOverwrite (dict \"a\" 9)"),
    (T::M, T::M, "deepCopy"),
    (T::M, T::A, "dig \"a\" \"none\""),
    (T::M, T::L, "pluck \"a\" (dict \"a\" 0)"),
    (T::B, T::S, "ternary \"yes\" \"no\""),
    (T::B, T::B, "not"),
    (T::B, T::B, "and true"),
    (T::B, T::B, "or false"),
    (T::A, T::S, "toString"),
    (T::A, T::S, "toJson"),
    (T::A, T::S, "toRawJson"),
    (T::A, T::S, "toPrettyJson"),
    (T::A, T::S, "toYaml"),
    (T::A, T::S, "toToml"),
    (T::A, T::S, "quote"),
    (T::A, T::S, "squote"),
    (T::A, T::S, "typeOf"),
    (T::A, T::S, "kindOf"),
    (T::A, T::S, "print"),
    (T::A, T::S, "printf \"%v|%q|%T|%s|%d\" 1 2 3 4"),
    (T::A, T::S, "printf \"%#v\""),
    (T::A, T::I, "len"),
    (T::A, T::I, "int"),
    (T::A, T::I, "int64"),
    (T::A, T::F, "float64"),
    (T::A, T::B, "empty"),
    (T::A, T::B, "kindIs \"string\""),
    (T::A, T::B, "typeIsLike \"[]interface {}\""),
    (T::A, T::B, "deepEqual (list 1)"),
    (T::A, T::B, "eq 1"),
    (T::A, T::B, "lt 2"),
    (T::A, T::A, "default \"dflt\""),
    (T::A, T::A, "coalesce nil"),
    (T::A, T::L, "list 0"),
    (T::A, T::M, "dict \"k\""),
    (T::A, T::L, "append (list 1)"),
];

/// One random pipeline: a seed value and one to four stages, each well typed most of the time
/// (the rest probes conversions and their errors). Returned as its parts, seed first.
fn pipeline(rng: &mut Rng) -> Vec<String> {
    let (mut ty, seed) = SEEDS[rng.below(SEEDS.len())];
    let mut parts = vec![seed.to_owned()];
    for _ in 0..1 + rng.below(4) {
        let typed: Vec<_> = STAGES.iter().filter(|(t, _, _)| *t == ty).collect();
        let stage = if ty != T::A && !typed.is_empty() && rng.below(100) < 80 {
            typed[rng.below(typed.len())]
        } else {
            &STAGES[rng.below(STAGES.len())]
        };
        let mut call = String::new();
        let mut rest = stage.2;
        while let Some(start) = rest.find('{') {
            call.push_str(&rest[..start]);
            let (hole, after) = rest[start..].split_at(3);
            call.push_str(match hole {
                "{n}" => rng.pick(&["0", "1", "2", "3", "5", "8", "12", "-1", "-4"]),
                "{i}" => rng.pick(&["0", "1", "2", "-3", "10", "9223372036854775807"]),
                "{c}" => rng.pick(&[
                    "\",\"", "\" \"", "\"a\"", "\"é\"", "\"-\"", "\"\"", "\"ll\"",
                ]),
                other => other,
            });
            rest = after;
        }
        call.push_str(rest);
        parts.push(call);
        ty = stage.1;
    }
    parts
}

/// libyaml's and BurntSushi's syntax error words are not ported (the table compares their frame):
/// both sides' texts are cut to the frame before comparing.
fn frame_parse_errors(text: &str) -> String {
    let re =
        regex::Regex::new(r"(error converting YAML to JSON: yaml: |toml: line )[^\]]*").unwrap();
    re.replace_all(text, "${1}…").into_owned()
}

/// Random pipelines of the table's functions (seeded: FUNCTION_ORACLE_SEED, default fixed;
/// FUNCTION_ORACLE_PIPELINES, default 600), rendered by both engines and compared byte for byte
/// (parse errors by their frame). Go strings hold any bytes, packyard's are UTF-8: a pipeline
/// where Helm makes a string that is not UTF-8 (b64dec of arbitrary text, a cut inside a
/// character) is found by asking Helm for `b64enc` of every prefix, and counted, not compared.
#[test]
fn random_pipelines_agree_with_helm() {
    use base64::Engine as _;
    let table = table();
    let Some((python, corpus)) = oracle() else {
        return;
    };
    for (_, _, stage) in STAGES {
        let name = stage.split(' ').next().unwrap();
        assert!(
            table.functions.contains(name),
            "{name} is used by the generator but has no table section"
        );
    }
    let seed: u64 = std::env::var("FUNCTION_ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0022);
    let count: usize = std::env::var("FUNCTION_ORACLE_PIPELINES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let mut rng = Rng(seed);
    let pipelines: Vec<Vec<String>> = (0..count).map(|_| pipeline(&mut rng)).collect();
    let mut probes = BTreeMap::new();
    for (i, parts) in pipelines.iter().enumerate() {
        for k in 1..parts.len() {
            probes.insert(
                format!("q{i:05}-{k}"),
                format!("{{{{ {} | b64enc }}}}", parts[..=k].join(" | ")),
            );
        }
    }
    let answers = helm(&python, &corpus, &probes, &table.values, &Files::new());
    let raw_bytes: BTreeSet<usize> = answers
        .iter()
        .filter_map(|(name, answer)| {
            let encoded = answer.as_ref().ok()?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()?;
            let index: usize = name[1..6].parse().unwrap();
            std::str::from_utf8(&bytes).is_err().then_some(index)
        })
        .collect();
    let named: Vec<(String, String, Option<String>)> = pipelines
        .iter()
        .enumerate()
        .filter(|(i, _)| !raw_bytes.contains(i))
        .map(|(i, parts)| {
            (
                format!("p{i:05}"),
                format!("{{{{ {} }}}}", parts.join(" | ")),
                None,
            )
        })
        .collect();
    let differ = disagreements(
        &named,
        &table.values,
        &Files::new(),
        &python,
        &corpus,
        frame_parse_errors,
    );
    println!(
        "seed {seed}: {} pipelines compared, {} left out where Helm's strings are not UTF-8",
        named.len(),
        raw_bytes.len()
    );
    assert!(
        differ.is_empty(),
        "seed {seed}: {} of {} pipelines differ from Helm:\n{}",
        differ.len(),
        named.len(),
        differ.join("\n")
    );
}
