//! The version table the plan is tested with agrees with pacman's own `vercmp` binary.
use crate::support::repo_root;
use std::process::Command;

#[test]
fn the_vercmp_table_agrees_with_pacmans_vercmp() {
    let table = std::fs::read_to_string(repo_root().join("tests/fixtures/vercmp.tsv")).unwrap();
    for line in table.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let out = Command::new("vercmp").args([cols[0], cols[1]]).output().expect("vercmp (pacman-package-manager)");
        let got = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(got, cols[2], "vercmp {} {}", cols[0], cols[1]);
    }
}
