//! The template engine alone on a pack's manifests, for bench/render: renders per second cold
//! (parse + execute every time) and warm (parsed once), and a throwaway Helm chart with the same
//! template and values so Helm's own engine can be timed on the same input.
//!
//! cargo run --release --example bench_render_engine -- PACK_DIR CLOUD ITERATIONS CHART_DIR

use std::time::Instant;

use packyard::pack::files::{Limits, PackFiles};
use packyard::render::data::to_template;
use packyard::render::engine::compile;
use packyard::render::macros::MacroContext;
use packyard::render::pipeline::{LoadedVersion, PackRequest, Renderer};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, pack_dir, cloud, iterations, chart_dir] = args.as_slice() else {
        return Err("usage: bench_render_engine PACK_DIR CLOUD ITERATIONS CHART_DIR".into());
    };
    let iterations: u32 = iterations.parse()?;
    let files = PackFiles::from_dir(std::path::Path::new(pack_dir), &Limits::default())?;
    let (pack, assets) = packyard::pack::read(&files)?;
    let manifest = pack
        .manifests
        .first()
        .ok_or("the pack has no manifest")?
        .clone();
    let loaded = LoadedVersion::from_read("bench", pack, &assets);
    let context = MacroContext {
        cloud_type: cloud.clone(),
        ..MacroContext::default()
    };
    let renderer = Renderer::new(0);
    let values = renderer.resolve_values(
        &loaded,
        &PackRequest::default(),
        &context,
        &renderer.budget(None),
    )?;
    let manifest_values = values["manifests"][&manifest.name].clone();
    let data = to_template(&json!({ "Values": manifest_values }));

    // The same input as a chart for Helm: the template and the resolved values.
    let chart = std::path::Path::new(chart_dir);
    std::fs::create_dir_all(chart.join("templates"))?;
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: bench\nversion: 0.1.0\n",
    )?;
    std::fs::write(
        chart
            .join("templates")
            .join(format!("{}.yaml", manifest.name)),
        &manifest.text,
    )?;
    std::fs::write(
        chart.join("values.yaml"),
        packyard::render::yaml_out::to_yaml(&manifest_values) + "\n",
    )?;

    let started = Instant::now();
    let mut output = String::new();
    for _ in 0..iterations {
        output = compile(&manifest.text, false)?.execute(&data)?;
    }
    let cold = f64::from(iterations) / started.elapsed().as_secs_f64();
    let template = compile(&manifest.text, false)?;
    let started = Instant::now();
    for _ in 0..iterations {
        output = template.execute(&data)?;
    }
    let warm = f64::from(iterations) / started.elapsed().as_secs_f64();
    std::fs::write(chart.join("packyard-output.yaml"), &output)?;

    // The whole pipeline with the output cache off, as the render API runs it: resolve the values
    // (presets, macros, schema), execute the parsed template, assemble the YAML stream.
    let renderer = Renderer::new(0);
    let started = Instant::now();
    for _ in 0..iterations {
        let budget = renderer.budget(None);
        let values =
            renderer.resolve_values(&loaded, &PackRequest::default(), &context, &budget)?;
        let (documents, _) = renderer.render(&loaded, &values, false, &budget)?;
        output = packyard::render::output::to_yaml_stream(&documents);
    }
    let pipeline = f64::from(iterations) / started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"cold_per_s": cold, "warm_per_s": warm, "pipeline_per_s": pipeline, "bytes": output.len()})
    );
    Ok(())
}
