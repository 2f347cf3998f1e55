//! schema.yaml: the YAML reader and Palette's schema DSL (`schema:` pipelines, format patterns).
#![no_main]

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::schema_dsl(data));
