//! What each fuzz target does with its input, shared by the libFuzzer targets (fuzz/fuzz_targets)
//! and the regression test that replays fuzz/regressions (tests/fuzz_regressions.rs).

use std::time::{Duration, Instant};

use packyard::pack::files::{Limits, PackFiles};
use packyard::pack::{schema, yaml};
use packyard::render::data::to_template;
use packyard::render::engine::compile;
use packyard::render::gotemplate::{Budget, Limits as RenderLimits};
use packyard::render::values::{deep_merge, parse_mapping};

/// The pack archive reader and the pack reader behind it: any bytes a client can POST to /v1/packs.
pub fn pack_archive(data: &[u8]) {
    // Small limits keep each case fast; the limits themselves are part of what is exercised.
    let limits = Limits {
        max_entries: 64,
        max_file_size: 1 << 20,
        max_total_size: 4 << 20,
        max_path_len: 512,
    };
    if let Ok(files) = PackFiles::from_archive(data, &limits, &std::env::temp_dir()) {
        let _ = packyard::pack::read(&files);
    }
}

/// schema.yaml: the YAML reader and Palette's schema DSL (pipelines, format patterns).
pub fn schema_dsl(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut findings = Vec::new();
    if let Ok(document) = yaml::parse(text, "schema.yaml", &mut findings) {
        let _ = schema::read(&document, &mut findings);
    }
    let _ = schema::parse_pipeline("field", text);
    let _ = schema::parse_format(text);
}

/// The publish-time template checks (unclosed blocks, stray `end`, unknown functions).
pub fn template_precheck(data: &[u8]) {
    if let Ok(source) = std::str::from_utf8(data) {
        let _ = packyard::render::precheck::check(source);
    }
}

/// Values merging: two YAML documents (split at the first NUL byte), the values and the caller's
/// overlay, deep-merged; merging must keep every key of the overlay.
pub fn values_merge(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (base, overlay) = text.split_once('\0').unwrap_or((text, ""));
    let (Ok(mut base), Ok(overlay)) = (parse_mapping(base), parse_mapping(overlay)) else {
        return;
    };
    let expected_keys: Vec<String> = overlay
        .as_object()
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default();
    deep_merge(&mut base, overlay);
    for key in expected_keys {
        assert!(
            base.get(&key).is_some(),
            "merged values lost the overlay key {key:?}"
        );
    }
}

/// The template engine under a small budget: a template and values (split at the first NUL byte)
/// must stop within the budget, whatever they do. Memory is held by libFuzzer's own limits
/// (fuzz/run passes -malloc_limit_mb and -rss_limit_mb), time and bytes are asserted here.
pub fn render_budget(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (template, values) = text.split_once('\0').unwrap_or((text, ""));
    let values = parse_mapping(values).unwrap_or_else(|_| serde_json::json!({}));
    let Ok(compiled) = compile(template, false) else {
        return;
    };
    let limits = RenderLimits {
        max_bytes: 256 << 10,
        timeout: Duration::from_millis(200),
    };
    let budget = Budget::new(limits);
    let started = Instant::now();
    let result = compiled.execute_with(
        &to_template(&serde_json::json!({ "Values": values })),
        &budget,
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "the render ran {elapsed:?}, past its 200 ms deadline"
    );
    assert!(
        budget.used() <= limits.max_bytes,
        "the budget was overspent"
    );
    if let Ok(output) = result {
        assert!(output.len() as u64 <= limits.max_bytes);
    }
}

/// What a target does with one input.
pub type Target = fn(&[u8]);

/// Every target by name, for replaying inputs.
pub const TARGETS: &[(&str, Target)] = &[
    ("pack_archive", pack_archive),
    ("schema_dsl", schema_dsl),
    ("template_precheck", template_precheck),
    ("values_merge", values_merge),
    ("render_budget", render_budget),
];
