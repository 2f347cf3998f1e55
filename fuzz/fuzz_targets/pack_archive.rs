//! The pack archive reader and the pack reader behind it: any bytes a client can POST to /v1/packs.
#![no_main]

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::pack_archive(data));
