//! repo.yaml loader: any bytes give a Config or located diagnostics, never a panic or a hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = repoctl::config::parse(camino::Utf8Path::new("repo.yaml"), data);
});
