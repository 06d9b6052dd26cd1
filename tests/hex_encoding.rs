//! Hex digits are written one way in `src/`: a SHA-256 digest by its own `{:x}` (sha2's output
//! formats itself, in lowercase and zero-padded), an OpenPGP fingerprint by rPGP's `{:X}`. A
//! byte-by-byte `{:02x}` loop is a second encoder (ENGINEERING.md: glue written twice becomes
//! one function), and a cut of the digest is a slice of its hex. Test code (`tests.rs` files)
//! may make fixtures however it likes. Its own small binary, as tests/layering.rs.
mod src_tree;
use src_tree::rust_files;
use std::path::Path;

#[test]
fn hex_is_written_by_the_digest_types_not_byte_by_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for file in rust_files(&root.join("src")).iter().filter(|f| !f.ends_with("tests.rs")) {
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.contains(":02x}") || line.contains(":02X}") {
                found.push(format!("{}:{}: {}", file.strip_prefix(root).unwrap().display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "format the digest itself (`{{:x}}`) instead:\n{}", found.join("\n"));
}
