//! The pack archive reader and the pack reader behind it: any bytes a client can POST to /v1/packs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packyard::pack::files::{Limits, PackFiles};

fuzz_target!(|data: &[u8]| {
    // Small limits keep each case fast; the limits themselves are part of what is exercised.
    let limits = Limits {
        max_entries: 64,
        max_file_size: 1 << 20,
        max_total_size: 4 << 20,
        max_path_len: 512,
    };
    if let Ok(files) = PackFiles::from_archive(data, &limits) {
        let _ = packyard::pack::read(&files);
    }
});
