//! The AUR stand-in (aur_server.py) serving bare repositories from a temporary directory, and
//! publishing fixtures to it with scripts/push-fixture.sh (the script the demo and the
//! benchmarks use too).
use super::process::{Server, http_get, python_server, repo_root, tempdir, text};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::{Command, Stdio};

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

    /// Publishes (or updates with a new commit) the pkgbase `pkgbase` from a directory, with
    /// scripts/push-fixture.sh.
    pub fn push_dir(&self, pkgbase: &str, dir: &Utf8Path) {
        self.push_dated(pkgbase, dir, None);
    }

    /// [`Aur::push_dir`] with a commit of `date` (any date git reads: `@SECONDS`), which the
    /// stand-in reports as LastModified.
    pub fn push_dated(&self, pkgbase: &str, dir: &Utf8Path, date: Option<&str>) {
        let mut cmd = Command::new("bash");
        cmd.arg(repo_root().join("scripts/push-fixture.sh")).args([self.root.as_str(), pkgbase, dir.as_str()]);
        if let Some(date) = date {
            cmd.env("FIXTURE_DATE", date);
        }
        let out = cmd.stdin(Stdio::null()).output().expect("bash");
        assert!(out.status.success(), "push-fixture.sh {pkgbase} {dir} failed:\n{}", text(&out));
    }

    /// Sets what aurweb's database says of PKGBASE's maintainer (None: orphaned).
    pub fn set_maintainer(&self, pkgbase: &str, maintainer: Option<&str>) {
        let path = self.root.join(format!("{pkgbase}.git/maintainer"));
        std::fs::write(path, maintainer.unwrap_or_default()).expect("write the maintainer");
    }

    /// Sets what aurweb's database says of PKGBASE's co-maintainers (`CoMaintainers`, in order).
    pub fn set_comaintainers(&self, pkgbase: &str, comaintainers: &[&str]) {
        let path = self.root.join(format!("{pkgbase}.git/comaintainers"));
        std::fs::write(path, comaintainers.join("\n")).expect("write the co-maintainers");
    }

    /// Arms the stand-in to push `dir` as a new commit of PKGBASE, dated `date` (a git date),
    /// when a client next starts to fetch PKGBASE's repository: a push that lands while
    /// `repoctl update` runs, after its RPC and before its fetch. The stand-in reports the time
    /// of that push as LastModified, as aurweb does for every push.
    pub fn push_on_next_fetch(&self, pkgbase: &str, dir: &Utf8Path, date: &str) {
        let path = self.root.join(format!("{pkgbase}.git/push-on-fetch"));
        let armed = serde_json::json!({"dir": dir.as_str(), "date": date});
        std::fs::write(path, armed.to_string()).expect("arm the push");
    }

    /// Deletes PKGBASE from the AUR, as aurweb's package deletion does: its repository goes.
    pub fn delete(&self, pkgbase: &str) {
        std::fs::remove_dir_all(self.root.join(format!("{pkgbase}.git"))).expect("delete a pkgbase");
    }

    /// RPC requests answered so far.
    pub fn rpc_requests(&self) -> u64 {
        self.stat("rpc_requests")
    }

    /// `.SRCINFO` files served so far (cgit's `plain/.SRCINFO?h=PKGBASE`).
    pub fn srcinfo_requests(&self) -> u64 {
        self.stat("srcinfo_requests")
    }

    /// The repoctl.lock of every synthetic pkgbase (`GET /__synthetic-lock`).
    pub fn synthetic_lock(&self) -> String {
        http_get(&format!("{}/__synthetic-lock", self.url))
    }

    fn stat(&self, key: &str) -> u64 {
        let body = http_get(&format!("{}/__stats", self.url));
        let stats: serde_json::Value = serde_json::from_str(&body).expect("stats JSON");
        stats[key].as_u64().unwrap_or_else(|| panic!("no {key} in {body}"))
    }
}

/// Copies a fixture directory, subdirectories included (an AUR repository's keys/pgp/), for a
/// test to change before it pushes the copy.
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
