//! schema.yaml: the YAML reader and Palette's schema DSL (`schema:` pipelines, format patterns).
#![no_main]

use libfuzzer_sys::fuzz_target;
use packyard::pack::{schema, yaml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut findings = Vec::new();
    if let Ok(document) = yaml::parse(text, "schema.yaml", &mut findings) {
        let _ = schema::read(&document, &mut findings);
    }
    // The DSL on its own, with the input as one field's pipeline and as a format pattern.
    let _ = schema::parse_pipeline("field", text);
    let _ = schema::parse_format(text);
});
