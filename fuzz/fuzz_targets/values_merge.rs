//! Values merging: two YAML documents (split at the first NUL byte) parsed as the values and the
//! caller's overlay, then deep-merged; merging must never panic and must keep the overlay's keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packyard::render::values::{deep_merge, parse_mapping};

fuzz_target!(|data: &[u8]| {
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
        assert!(base.get(&key).is_some(), "merged values lost the overlay key {key:?}");
    }
});
