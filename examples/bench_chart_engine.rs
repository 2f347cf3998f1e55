//! packyard's chart renderer on a chart corpus, one thread: every chart with its default values,
//! `ITERATIONS` sweeps, twice: parse + execute (a fresh parse cache each sweep, as Helm parses
//! every render) and execute only (parsed templates kept, as a server keeps them per version).
//! Writes each chart's output to `OUT/<folder>.yaml` and prints sweeps per second as JSON.
//! Usage: bench_chart_engine CORPUS ITERATIONS OUT

use std::time::Instant;

use packyard::pack::chart::{Chart, load_dir};
use packyard::render::chart::{ChartRequest, KubeVersion, ParseCache, render_cached};
use packyard::render::gotemplate::Budget;
use packyard::render::sprig::random;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [corpus, iterations, out] = args.as_slice() else {
        return Err("usage: bench_chart_engine CORPUS ITERATIONS OUT".into());
    };
    let iterations: u32 = iterations.parse()?;
    let mut charts: Vec<(String, Chart)> = Vec::new();
    let mut folders: Vec<_> = std::fs::read_dir(corpus)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("Chart.yaml").exists())
        .collect();
    folders.sort();
    for folder in folders {
        let name = folder
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        charts.push((name, load_dir(&folder)?));
    }
    let kube = KubeVersion::parse("1.30.0").ok_or("kube version")?;
    let values = serde_json::Map::new();
    let sweep = |caches: &[ParseCache], write: bool| -> Result<(), Box<dyn std::error::Error>> {
        for ((folder, chart), cache) in charts.iter().zip(caches) {
            let request = ChartRequest {
                release: chart.name(),
                namespace: "default",
                kube_version: &kube,
                api_versions: &[],
                values: &values,
                include_crds: true,
            };
            // A chart that fails with its defaults (by design) fails in Helm too.
            let _entropy = random::enter(Some(1));
            let result = render_cached(chart, &request, cache, &Budget::unlimited());
            if write {
                let text = result
                    .map(|o| o.stream())
                    .unwrap_or_else(|e| format!("Error: {e}\n"));
                std::fs::write(format!("{out}/{folder}.yaml"), text)?;
            }
        }
        Ok(())
    };
    std::fs::create_dir_all(out)?;
    let warm: Vec<ParseCache> = charts.iter().map(|_| ParseCache::default()).collect();
    sweep(&warm, true)?;
    let started = Instant::now();
    for _ in 0..iterations {
        let fresh: Vec<ParseCache> = charts.iter().map(|_| ParseCache::default()).collect();
        sweep(&fresh, false)?;
    }
    let parse_execute = f64::from(iterations) / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 0..iterations {
        sweep(&warm, false)?;
    }
    let execute = f64::from(iterations) / started.elapsed().as_secs_f64();
    println!(
        "{{\"charts\": {}, \"parse_execute_per_s\": {parse_execute:.3}, \"execute_per_s\": {execute:.3}}}",
        charts.len()
    );
    Ok(())
}
