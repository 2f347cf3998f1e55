//! Chart packs against Helm's own engine: every chart of the corpus (`$PACKYARD_CHART_CORPUS`,
//! default `../shared/charts`) with its default values and each of its `ci/*.yaml` values files,
//! packaged and wrapped as a pack whose `charts.<name>` are those values, rendered by packyard
//! (the pack read and checked as a publish does, then rendered as a server renders it) and by
//! `helm template --include-crds` on Helm's Go engine (`helm_template.py` on helm-python-sdk,
//! installed by `.ci/tools`, named by `$HELM_TEMPLATE_PYTHON`).
//!
//! A case is deterministic when packyard renders it identically under two different seeds; its
//! output must then be byte-identical to Helm's. Otherwise (random passwords, certificates,
//! checksums of them) the documents must be the same, in the same order, with equal values
//! everywhere but generated strings (same length, generated characters only where they differ)
//! and certificates (parseable, same subject). A case Helm refuses must fail in packyard too,
//! naming the template Helm names.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use packyard::registry::offline;
use packyard::registry::rendering::{Format, RenderInputs};
use packyard::render::output::from_helm_stream;
use serde_json::Value;

struct Case {
    label: String,
    chart_dir: PathBuf,
    name: String,
    version: String,
    values: Option<PathBuf>,
}

fn cases(corpus: &Path) -> Vec<Case> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Chart.yaml").exists())
        .collect();
    folders.sort();
    let mut cases = Vec::new();
    for dir in folders {
        let text = std::fs::read_to_string(dir.join("Chart.yaml")).unwrap();
        let chart = packyard::pack::yaml::parse(&text, "Chart.yaml", &mut Vec::new()).unwrap();
        let name = chart["name"].as_str().unwrap().to_owned();
        let version = chart["version"].as_str().unwrap().to_owned();
        let folder = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut values: Vec<PathBuf> = std::fs::read_dir(dir.join("ci"))
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                    .collect()
            })
            .unwrap_or_default();
        values.sort();
        for values in std::iter::once(None).chain(values.into_iter().map(Some)) {
            let label = match &values {
                Some(file) => format!("{folder}/{}", file.file_name().unwrap().to_string_lossy()),
                None => format!("{folder}/default"),
            };
            cases.push(Case {
                label,
                chart_dir: dir.clone(),
                name: name.clone(),
                version: version.clone(),
                values,
            });
        }
    }
    cases
}

/// Helm's outputs: one Python process renders every case into `out` (`<i>.yaml` or `<i>.err`).
fn run_oracle(corpus: &Path, cases: &[Case], out: &Path) -> Option<()> {
    let Some(python) = std::env::var_os("HELM_TEMPLATE_PYTHON") else {
        common::skip(
            "HELM_TEMPLATE_PYTHON is not set (eval \"$(.ci/tools)\" installs helm-python-sdk and sets it)",
        );
        return None;
    };
    let jobs: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            serde_json::json!({
                "dir": c.chart_dir,
                "values": c.values.iter().collect::<Vec<_>>(),
                "release": c.name,
                "out": out.join(i.to_string()),
            })
        })
        .collect();
    std::fs::write(out.join("jobs.json"), serde_json::to_vec(&jobs).unwrap()).unwrap();
    let driver = r#"
import json, sys
sys.path.insert(0, sys.argv[1]); sys.dont_write_bytecode = True
from helm_template import helm_template, HelmTemplateError
import helm_python
for job in json.load(open(sys.argv[2])):
    try:
        text = helm_template(job["dir"], job["values"], release=job["release"], namespace="default",
                             kube_version="1.30.0", include_crds=True)
        open(job["out"] + ".yaml", "w").write(text)
    except (HelmTemplateError, helm_python.HelmError) as e:
        open(job["out"] + ".err", "w").write(str(getattr(e, "detail", None) or e))
"#;
    let status = Command::new(python)
        .arg("-c")
        .arg(driver)
        .arg(corpus)
        .arg(out.join("jobs.json"))
        // A schema that $refs a URL fails locally instead of reaching for the network.
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .status()
        .expect("the oracle's Python runs");
    assert!(status.success(), "the oracle failed to run");
    Some(())
}

fn render(pack: &Path, seed: u64) -> Result<String, String> {
    let inputs = RenderInputs {
        cloud: "aws".to_owned(),
        kubernetes_version: Some("1.30.0".to_owned()),
        seed: Some(seed),
        ..RenderInputs::default()
    };
    offline::render(pack, inputs, false, Format::Yaml)
        .map(|body| String::from_utf8(body).unwrap())
        .map_err(|e| e.to_string())
}

fn is_generated(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+/=_-".contains(c)
}

fn pem_blocks(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = after[..label_end].to_owned();
        let end_marker = format!("-----END {label}-----");
        let Some(end) = after.find(&end_marker) else {
            break;
        };
        let body: String = after[label_end + 5..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap_or_default();
        blocks.push((label, der));
        rest = &after[end + end_marker.len()..];
    }
    blocks
}

fn subject(der: &[u8]) -> Result<String, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    Ok(cert.subject().to_string())
}

/// Two PEM texts (or base64 of them) holding the same kinds of blocks, certificates with the
/// same subject.
fn same_pem(ours: &str, theirs: &str) -> Result<bool, String> {
    let decode = |s: &str| {
        if s.contains("-----BEGIN ") {
            Some(s.to_owned())
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|t| t.contains("-----BEGIN "))
        }
    };
    let (Some(a), Some(b)) = (decode(ours), decode(theirs)) else {
        return Ok(false);
    };
    let (x, y) = (pem_blocks(&a), pem_blocks(&b));
    if x.len() != y.len() {
        return Err(format!("{} PEM blocks against Helm's {}", x.len(), y.len()));
    }
    for ((label_x, der_x), (label_y, der_y)) in x.iter().zip(&y) {
        if label_x != label_y {
            return Err(format!("a {label_x} where Helm has a {label_y}"));
        }
        if der_x.is_empty() {
            return Err(format!("an undecodable {label_x}"));
        }
        if label_x == "CERTIFICATE" && subject(der_x)? != subject(der_y)? {
            return Err(format!(
                "subject {} against Helm's {}",
                subject(der_x)?,
                subject(der_y)?
            ));
        }
    }
    Ok(true)
}

fn similar(ours: &Value, theirs: &Value, path: &str) -> Result<(), String> {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let (keys_a, keys_b): (Vec<_>, Vec<_>) = (a.keys().collect(), b.keys().collect());
            if keys_a != keys_b {
                return Err(format!("{path}: keys {keys_a:?} against Helm's {keys_b:?}"));
            }
            a.iter()
                .try_for_each(|(k, v)| similar(v, &b[k], &format!("{path}.{k}")))
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .try_for_each(|(i, (x, y))| similar(x, y, &format!("{path}[{i}]"))),
        (Value::String(a), Value::String(b)) if a != b => {
            if same_pem(a, b).map_err(|e| format!("{path}: {e}"))? {
                return Ok(());
            }
            let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            let generated = x.len() == y.len()
                && x.iter()
                    .zip(&y)
                    .all(|(p, q)| p == q || (is_generated(*p) && is_generated(*q)));
            if generated {
                Ok(())
            } else {
                Err(format!("{path}: {a:?} against Helm's {b:?}"))
            }
        }
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("{path}: {a} against Helm's {b}")),
    }
}

fn same_shape(ours: &str, theirs: &str) -> Result<(), String> {
    let (a, b) = (from_helm_stream(ours), from_helm_stream(theirs));
    let sources = |docs: &[packyard::render::output::Document]| {
        docs.iter().map(|d| d.source.clone()).collect::<Vec<_>>()
    };
    if sources(&a) != sources(&b) {
        return Err(format!(
            "documents {:?}\nHelm's {:?}",
            sources(&a),
            sources(&b)
        ));
    }
    for (x, y) in a.iter().zip(&b) {
        if x.text == y.text {
            continue;
        }
        let parse = |t: &str| {
            packyard::pack::yaml::parse(t, "doc", &mut Vec::new()).map_err(|e| e.to_string())
        };
        similar(&parse(&x.text)?, &parse(&y.text)?, &x.source)?;
    }
    Ok(())
}

/// The first template Helm's error names.
fn first_template(error: &str) -> Option<&str> {
    error
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '"')
        .find(|w| w.contains("/templates/"))
        .map(|w| w.split(':').next().unwrap_or(w))
}

#[derive(Default)]
struct Tally {
    identical: usize,
    shaped: usize,
    refused: usize,
    failures: Vec<String>,
}

fn check(case: &Case, index: usize, oracle: &Path, work: &Path, tally: &mut Tally) {
    let values = match &case.values {
        Some(file) => {
            let text = std::fs::read_to_string(file).unwrap();
            packyard::pack::yaml::parse(&text, "values", &mut Vec::new()).unwrap()
        }
        None => serde_json::json!({}),
    };
    let values = if values.is_null() {
        serde_json::json!({})
    } else {
        values
    };
    let pack = work.join(index.to_string());
    common::charts::write_pack(&pack, &case.chart_dir, &case.name, &case.version, &values);
    let helm_out = std::fs::read_to_string(oracle.join(format!("{index}.yaml")));
    let helm_err = std::fs::read_to_string(oracle.join(format!("{index}.err")));
    let first = render(&pack, 1);
    match (first, helm_out, helm_err) {
        (Ok(ours), Ok(theirs), _) => {
            let deterministic = render(&pack, 2).as_ref() == Ok(&ours);
            if ours == theirs {
                tally.identical += 1;
            } else if deterministic {
                tally.failures.push(format!(
                    "{}: not byte-identical to Helm's output",
                    case.label
                ));
            } else {
                match same_shape(&ours, &theirs) {
                    Ok(()) => tally.shaped += 1,
                    Err(e) => tally.failures.push(format!("{}: {e}", case.label)),
                }
            }
        }
        (Err(ours), Err(_), Ok(theirs)) => match first_template(&theirs) {
            Some(template) if !ours.contains(template) => tally.failures.push(format!(
                "{}: packyard's error does not name {template}: {ours}",
                case.label
            )),
            _ => tally.refused += 1,
        },
        (Err(ours), _, _) => tally
            .failures
            .push(format!("{}: packyard failed: {ours}", case.label)),
        (Ok(_), _, Ok(theirs)) => tally.failures.push(format!(
            "{}: packyard rendered what Helm refuses: {theirs}",
            case.label
        )),
        (Ok(_), Err(e), Err(_)) => panic!("no oracle output for {}: {e}", case.label),
    }
}

#[test]
fn every_corpus_case_renders_as_helm_does() {
    if std::env::var_os("PACKYARD_TEST_DATABASE_URL").is_some() {
        // Chart rendering touches no database: the SQLite phase of CI runs this once.
        eprintln!("skipped: the chart oracle runs in the SQLite phase only");
        return;
    }
    let Some(corpus) = common::reference::chart_corpus() else {
        return;
    };
    let cases = cases(&corpus);
    let oracle = tempfile::tempdir().unwrap();
    if run_oracle(&corpus, &cases, oracle.path()).is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let (cases, oracle, work) = (&cases, oracle.path(), work.path());
                scope.spawn(move || {
                    let mut tally = Tally::default();
                    for (index, case) in cases
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % workers == worker)
                    {
                        check(case, index, oracle, work, &mut tally);
                    }
                    tally
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let total = tallies.iter().fold(Tally::default(), |mut acc, t| {
        acc.identical += t.identical;
        acc.shaped += t.shaped;
        acc.refused += t.refused;
        acc.failures.extend(t.failures.iter().cloned());
        acc
    });
    eprintln!(
        "{} cases: {} byte-identical, {} equal but for generated values, {} refused by both, {} failed",
        cases.len(),
        total.identical,
        total.shaped,
        total.refused,
        total.failures.len()
    );
    assert!(total.failures.is_empty(), "{:#?}", total.failures);
    assert_eq!(total.identical + total.shaped + total.refused, cases.len());
}
