//! Replays fuzz/regressions/<target>/* through the fuzz targets' own code (fuzz/harness.rs): inputs
//! that once crashed a target, or that probe its limits, must never panic again.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

use packyard::pack::files::{Limits, PackFiles};

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn every_regression_input_runs_clean() {
    let mut replayed = 0;
    for (target, run) in harness::TARGETS {
        let inputs = inputs(target);
        assert!(!inputs.is_empty(), "no regression inputs for {target}");
        for (name, data) in inputs {
            // A panic names the input that caused it.
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}/{name} panicked");
            replayed += 1;
        }
    }
    assert!(replayed >= 10);
}

#[test]
fn hostile_archives_are_refused() {
    let limits = Limits {
        max_entries: 64,
        max_file_size: 1 << 20,
        max_total_size: 4 << 20,
        max_path_len: 512,
    };
    for (name, data) in inputs("pack_archive") {
        let refused =
            PackFiles::from_archive(data.as_slice(), &limits, &std::env::temp_dir()).is_err();
        match name.as_str() {
            // Escaping the pack folder, a 64 MiB gzip bomb, a cut-off stream, nothing at all.
            "path-traversal.tar.gz" | "gzip-bomb.tar.gz" | "truncated.tar.gz" | "empty" => {
                assert!(refused, "{name} was accepted")
            }
            _ => {}
        }
    }
}

#[test]
fn values_go_yaml_reads_parse() {
    for (name, data) in inputs("values_merge") {
        if name == "long-comment-run.yaml" {
            let text = String::from_utf8(data).unwrap();
            let (values, _) = text.split_once('\0').unwrap();
            let parsed = packyard::render::values::parse_mapping(values)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(parsed["manifests"]["app"]["replicas"], 3);
        }
    }
}

#[test]
fn hostile_templates_stop_within_their_budget() {
    let inputs = inputs("render_budget");
    assert!(inputs.len() >= 8);
    for (name, data) in inputs {
        let started = std::time::Instant::now();
        harness::render_budget(&data);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{name} took {:?}",
            started.elapsed()
        );
    }
}
