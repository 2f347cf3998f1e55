//! Values merging: a values document and an overlay, deep-merged (see harness.rs).
#![no_main]

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::values_merge(data));
