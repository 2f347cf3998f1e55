//! The template engine under a small budget: bytes and time must hold for any template.
#![no_main]

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::render_budget(data));
