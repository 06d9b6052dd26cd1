//! AUR RPC answers: parsed as raur parses them, then filtered by repoctl's name checks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = repoctl::aur::parse_rpc_results(data);
});
