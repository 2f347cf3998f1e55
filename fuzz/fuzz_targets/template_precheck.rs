//! The publish-time template checks (unclosed blocks, stray `end`, unknown functions).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(source) = std::str::from_utf8(data) {
        let _ = packyard::render::precheck::check(source);
    }
});
