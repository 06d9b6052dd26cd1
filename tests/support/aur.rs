//! The AUR stand-in (aur_server.py) serving bare repositories from a temporary directory, and
//! publishing fixtures to it.
use super::process::{Server, http_get, python_server, repo_root, tempdir};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::Command;

/// The AUR-compatible server, serving bare repositories from a temporary directory.
pub struct Aur {
    pub server: Server,
    pub url: String,
    pub root: Utf8PathBuf,
    _dir: tempfile::TempDir,
}

impl Aur {
    pub fn start() -> Aur {
        Aur::start_with(0)
    }

    /// With `synthetic` in-memory packages `synth-00000`... besides the git-backed ones.
    pub fn start_with(synthetic: usize) -> Aur {
        let (dir, root) = tempdir();
        let script = repo_root().join("tests/support/aur_server.py");
        let synthetic = synthetic.to_string();
        let server = python_server(&script, &["--root", root.as_str(), "--port", "0", "--synthetic", &synthetic]);
        Aur { url: format!("http://127.0.0.1:{}", server.port), server, root, _dir: dir }
    }

    /// Publishes tests/fixtures/aur/<name> as the pkgbase `name`.
    pub fn push_fixture(&self, name: &str) {
        self.push_dir(name, &repo_root().join("tests/fixtures/aur").join(name));
    }

    /// Publishes (or updates with a new commit) the pkgbase `pkgbase` from a directory.
    pub fn push_dir(&self, pkgbase: &str, dir: &Utf8Path) {
        let (_w, work) = tempdir();
        let bare = self.root.join(format!("{pkgbase}.git"));
        if !bare.exists() {
            git(&self.root, &["init", "--quiet", "--bare", "--initial-branch=master", bare.as_str()]);
        }
        git(&work, &["clone", "--quiet", bare.as_str(), "w"]);
        let w = work.join("w");
        copy_tree(dir.as_std_path(), w.as_std_path());
        git(&w, &["add", "-A"]);
        git(&w, &["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "update"]);
        git(&w, &["push", "--quiet", "origin", "HEAD:master"]);
        git(&bare, &["update-server-info"]);
    }

    /// RPC requests answered so far.
    pub fn rpc_requests(&self) -> u64 {
        self.stat("rpc_requests")
    }

    /// `.SRCINFO` files served so far (cgit's `plain/.SRCINFO?h=PKGBASE`).
    pub fn srcinfo_requests(&self) -> u64 {
        self.stat("srcinfo_requests")
    }

    fn stat(&self, key: &str) -> u64 {
        let body = http_get(&format!("{}/__stats", self.url));
        let stats: serde_json::Value = serde_json::from_str(&body).expect("stats JSON");
        stats[key].as_u64().unwrap_or_else(|| panic!("no {key} in {body}"))
    }
}

/// Copies a fixture directory, subdirectories included (an AUR repository's keys/pgp/).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("fixture dir") {
        let entry = entry.expect("entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).expect("copy fixture");
        }
    }
}

fn git(dir: &Utf8Path, args: &[&str]) {
    let out = Command::new("git").current_dir(dir).args(args).output().expect("git");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}
