//! The publish-time template checks (unclosed blocks, stray `end`, unknown functions).
#![no_main]

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::template_precheck(data));
