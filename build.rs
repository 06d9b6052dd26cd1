//! Sets `REPOCTL_COMMIT` for `repoctl --version`: the commit this binary was built from, as
//! `SHORT-HASH YYYY-MM-DD` (`git log -1 --format='%h %cs'`), or `no git commit`.
//!
//! Written by hand, not with vergen-gitcl / git-version / built: those ask `git` in the
//! current directory, and makepkg unpacks the release tarball inside the AUR package's own git
//! clone, where that answers with the AUR clone's commit. Here, in this order:
//! 1. `REPOCTL_COMMIT` in the build's environment (a packager's own value);
//! 2. `git`, only when the crate directory is the top of a git work tree;
//! 3. `git-archive-commit.txt`, which `git archive` (and GitHub's tag tarballs) fill in through
//!    `export-subst` (.gitattributes; gitattributes(5));
//! 4. `.cargo_vcs_info.json`, which `cargo package` writes into a crates.io package;
//! 5. else `no git commit`.
use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=REPOCTL_COMMIT");
    println!("cargo:rerun-if-changed=git-archive-commit.txt");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&dir);
    let commit = std::env::var("REPOCTL_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| from_git(dir))
        .or_else(|| from_archive(dir))
        .or_else(|| from_cargo_package(dir))
        .unwrap_or_else(|| "no git commit".to_string());
    println!("cargo:rustc-env=REPOCTL_COMMIT={}", commit.trim());
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn from_git(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it names (a commit).
    for file in ["HEAD", "packed-refs"] {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", file]) {
            println!("cargo:rerun-if-changed={}", dir.join(path).display());
        }
    }
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"])
        && let Some(path) = git(dir, &["rev-parse", "--git-path", &branch])
    {
        println!("cargo:rerun-if-changed={}", dir.join(path).display());
    }
    git(dir, &["log", "-1", "--format=%h %cs"])
}

fn from_archive(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("git-archive-commit.txt")).ok()?;
    let line = text.lines().find(|l| !l.starts_with('#'))?.trim().to_string();
    (!line.is_empty() && !line.contains("$Format")).then_some(line)
}

fn from_cargo_package(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let start = text.find("\"sha1\"")?;
    let hash: String = text[start + 6..].chars().skip_while(|c| !c.is_ascii_hexdigit()).take(7).collect();
    (hash.len() == 7).then_some(hash)
}
