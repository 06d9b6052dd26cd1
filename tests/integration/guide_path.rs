//! The README's five-minute path, run as a reader runs it (issue 29 item 4): its shell block,
//! the same in the guide's "Trying it by hand, offline", from a checkout with `repoctl` on PATH.
//! The fixture AUR, `init --local`, the `sed`, then check, update and build make ./repo.
use crate::support::{docker, repo_root, tempdir};
use std::process::Command;

/// The shell block under the README's "Five minutes from `init` to a repository".
fn five_minute_block(readme: &str) -> String {
    let section = readme.split("## Five minutes from `init` to a repository").nth(1).expect("the section");
    let start = section.find("```sh\n").expect("its shell block") + "```sh\n".len();
    section[start..start + section[start..].find("```").expect("the block's end")].to_string()
}

#[test]
fn the_readmes_five_minute_path_makes_a_repository() {
    let Some(_docker) = docker() else { return };
    let root = repo_root();
    let block = five_minute_block(&std::fs::read_to_string(root.join("README.md")).unwrap());
    let guide = std::fs::read_to_string(root.join("docs/src/getting-started.md")).unwrap();
    assert!(guide.contains(&block), "docs/src/getting-started.md's block differs from the README's:\n{block}");

    // 1. A checkout of one's own: the fixtures and scripts the block names, in a fresh directory.
    let (_t, dir) = tempdir();
    for name in ["tests", "scripts"] {
        std::os::unix::fs::symlink(root.join(name), dir.join(name)).unwrap();
    }
    std::fs::create_dir(dir.join("tmp")).unwrap();
    // 2. The block as written, on a free port instead of 8080; the server it starts goes with it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let script = format!(
        "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{}",
        block.replace("8080", &port.to_string())
    );
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_repoctl")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(&script).current_dir(&dir).env("PATH", path).env("TMPDIR", dir.join("tmp"));
    for var in ["GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "AUR_LOCATION", "REPOCTL_WORK_DIR", "RUST_LOG"] {
        cmd.env_remove(var);
    }
    let out = cmd.stdin(std::process::Stdio::null()).output().expect("run bash");
    let said = crate::support::text(&out);
    assert!(out.status.success(), "the README's five-minute path failed:\n{said}");

    // 3. What the README says comes out: the lock with foo-app and its AUR dependency, and ./repo.
    let lock = std::fs::read_to_string(dir.join("try/repoctl.lock")).expect("try/repoctl.lock");
    assert!(lock.contains("name = \"foo-app\"") && lock.contains("name = \"libfoo\""), "{lock}");
    let repo: Vec<String> = std::fs::read_dir(dir.join("try/repo"))
        .expect("try/repo")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for wanted in ["myrepo.db", "myrepo.status.json", "index.html"] {
        assert!(repo.iter().any(|f| f == wanted), "no {wanted} in try/repo: {repo:?}\n{said}");
    }
    for pkg in ["foo-app-", "libfoo-"] {
        assert!(repo.iter().any(|f| f.starts_with(pkg) && f.ends_with(".pkg.tar.zst")), "no {pkg}* in {repo:?}");
    }
}
