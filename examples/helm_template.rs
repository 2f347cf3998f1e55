//! `helm template` on packyard's renderer, for comparing with Helm's engine:
//! `helm_template <chart-dir> [--values FILE]... [--release NAME] [--namespace NS]
//! [--kube-version V] [--include-crds] [--seed N]`.

use packyard::pack::chart::load_dir;
use packyard::render::chart::{ChartRequest, KubeVersion, render};
use packyard::render::gotemplate::{Budget, Limits};
use packyard::render::sprig::random;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = None;
    let mut values_files = Vec::new();
    let mut release = None;
    let mut namespace = "default".to_owned();
    let mut kube = "1.30.0".to_owned();
    let mut include_crds = false;
    let mut seed = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--values" | "-f" => {
                values_files.push(args[i + 1].clone());
                i += 1;
            }
            "--release" => {
                release = Some(args[i + 1].clone());
                i += 1;
            }
            "--namespace" => {
                namespace = args[i + 1].clone();
                i += 1;
            }
            "--kube-version" => {
                kube = args[i + 1].clone();
                i += 1;
            }
            "--seed" => {
                seed = args[i + 1].parse().ok();
                i += 1;
            }
            "--include-crds" => include_crds = true,
            other => dir = Some(other.to_owned()),
        }
        i += 1;
    }
    let chart = match load_dir(std::path::Path::new(&dir.expect("a chart folder"))) {
        Ok(chart) => chart,
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::exit(1);
        }
    };
    let mut values = serde_json::Map::new();
    for file in values_files {
        let text = std::fs::read_to_string(&file).expect("a values file");
        let mut findings = Vec::new();
        if let Ok(serde_json::Value::Object(map)) =
            packyard::pack::yaml::parse(&text, &file, &mut findings)
        {
            for (k, v) in map {
                values.insert(k, v);
            }
        }
    }
    let release = release.unwrap_or_else(|| chart.name().to_owned());
    let kube_version = KubeVersion::parse(&kube).expect("a Kubernetes version");
    let request = ChartRequest {
        release: &release,
        namespace: &namespace,
        kube_version: &kube_version,
        api_versions: &[],
        values: &values,
        include_crds,
    };
    let _entropy = random::enter(seed);
    let budget = if std::env::var_os("UNLIMITED").is_some() {
        Budget::unlimited()
    } else {
        Budget::new(Limits::default())
    };
    match render(&chart, &request, &budget) {
        Ok(output) => {
            print!("{}", output.stream());
            if std::env::var_os("UNLIMITED").is_some() {
                eprintln!("budget used: {}", budget.used());
            }
        }
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::exit(1);
        }
    }
}
