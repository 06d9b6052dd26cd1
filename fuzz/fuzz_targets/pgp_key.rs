//! Armored key files: keys/pgp/<FINGERPRINT>.asc comes from any AUR repository, and is read
//! on the host to learn which key it holds before anything is imported.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = repoctl::pgp::public_key_fingerprints(text);
    }
});
