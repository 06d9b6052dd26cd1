//! Sync database reader (gzip/xz/zstd/plain tar of desc files) as fetched from the target.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = repoctl::alpm::read_sync_db(data);
});
