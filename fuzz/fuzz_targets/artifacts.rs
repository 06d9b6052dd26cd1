//! The tar stream copied out of a build container: only regular package files may come out,
//! into the given directory and nowhere else.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = camino::Utf8Path::from_path(dir.path()).expect("UTF-8 temp dir");
    let tar = root.join("out.tar");
    std::fs::write(&tar, data).expect("write input");
    let dest = root.join("out");
    if let Ok(files) = repoctl::build::extract_packages(&tar, &dest) {
        for f in files {
            assert!(f.starts_with(&dest), "{f} escaped {dest}");
        }
    }
});
