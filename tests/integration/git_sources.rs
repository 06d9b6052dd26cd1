//! `git:` packages (issue 27): a PKGBUILD repository outside the AUR, here a `file://`
//! repository the test makes with real git commits (the URL must be https:// or file://, and the
//! test bed's AUR stand-in serves plain http, so it cannot stand for an https:// host). Built,
//! published and installed with pacman next to the AUR dependency it needs; a new commit is
//! built only once `repoctl update` reports and locks it; a repository that disappears is
//! reported like a deleted AUR package while the rest moves on.
use crate::support::{Bed, TESTBED_IMAGE, docker, repo_root, repoctl_containers, text};
use camino::Utf8Path;
use std::process::Command;

const NAME: &str = "gitsrc";

/// Runs git in `repo` with a fixed identity and no user configuration.
fn git(repo: &Utf8Path, args: &[&str]) -> String {
    git_dated(repo, args, None)
}

/// [`git`] with the commit dates set to `date` (any date git reads: `@SECONDS`).
fn git_dated(repo: &Utf8Path, args: &[&str], date: Option<&str>) -> String {
    let mut cmd = Command::new("git");
    if let Some(date) = date {
        cmd.env("GIT_AUTHOR_DATE", date).env("GIT_COMMITTER_DATE", date);
    }
    let out = cmd
        .args(["-C", repo.as_str()])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Packager")
        .env("GIT_AUTHOR_EMAIL", "packager@example.org")
        .env("GIT_COMMITTER_NAME", "Packager")
        .env("GIT_COMMITTER_EMAIL", "packager@example.org")
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?} failed:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Commits `tool2/PKGBUILD` (pkgrel `rel`, needing the AUR's `greet`, no `.SRCINFO`) to the
/// repository `upstream/`, made on the first call; returns the commit.
fn commit_tool2(bed: &Bed, rel: u32) -> String {
    commit_tool2_dated(bed, rel, None)
}

fn commit_tool2_dated(bed: &Bed, rel: u32, date: Option<&str>) -> String {
    let repo = bed.dir.join("upstream");
    if !repo.exists() {
        std::fs::create_dir_all(repo.join("tool2")).unwrap();
        git(&repo, &["init", "--quiet", "--initial-branch=main"]);
        std::fs::write(repo.join("README"), "PKGBUILDs of mine\n").unwrap();
    }
    let pkgbuild = format!(
        "pkgname=tool2\npkgver=1.0\npkgrel={rel}\npkgdesc='A package from a git repository'\narch=('any')\n\
license=('MIT')\ndepends=('greet')\n\npackage() {{\n  install -d \"$pkgdir/usr/share/tool2\"\n  \
echo \"tool2 $pkgver-$pkgrel\" > \"$pkgdir/usr/share/tool2/version\"\n}}\n"
    );
    std::fs::write(repo.join("tool2/PKGBUILD"), pkgbuild).unwrap();
    git(&repo, &["add", "-A"]);
    git_dated(&repo, &["commit", "--quiet", "-m", &format!("tool2 1.0-{rel}")], date);
    git(&repo, &["rev-parse", "HEAD"])
}

fn bed() -> Bed {
    let bed = Bed::empty();
    bed.aur.push_dir("greet", &repo_root().join("tests/fixtures/aur-life/greet"));
    commit_tool2(&bed, 1);
    let yaml = format!(
        "name: {NAME}\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - git: file://{}/upstream\n    subdir: tool2\n",
        bed.dir
    );
    std::fs::write(&bed.config, yaml).unwrap();
    bed
}

fn installed_version(bed: &Bed) -> String {
    let pacman = bed.pacman(NAME);
    let out = pacman.run(&["-Sy", "--noconfirm", "tool2"]);
    assert!(out.status.success(), "pacman -S tool2 failed:\n{}", text(&out));
    let version = std::fs::read_to_string(pacman.installed_file("usr/share/tool2/version")).unwrap();
    assert!(pacman.installed_file("usr/share/greet/version").is_file(), "its AUR dependency greet came with it");
    version.trim().to_string()
}

fn lock(bed: &Bed) -> String {
    std::fs::read_to_string(bed.dir.join("repoctl.lock")).unwrap()
}

#[test]
fn a_git_package_is_locked_built_installed_and_moves_only_with_update() {
    let Some(_docker) = docker() else { return };
    let bed = bed();
    let first = git(&bed.dir.join("upstream"), &["rev-parse", "HEAD"]);

    // 1. update locks the repository's commit, its URL and subdir; build, publish, install.
    let out = bed.run_as_is("update", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let locked = lock(&bed);
    assert!(locked.contains(&format!("commit = \"{first}\"")), "{locked}");
    assert!(locked.contains(&format!("url = \"file://{}/upstream\"", bed.dir)), "{locked}");
    assert!(locked.contains("subdir = \"tool2\""), "{locked}");
    assert!(locked.contains("name = \"greet\""), "its AUR dependency is locked too:\n{locked}");
    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(repoctl_containers(), 0, "containers left behind");
    assert_eq!(installed_version(&bed), "tool2 1.0-1");
    let out = bed.run_as_is("provenance", &["tool2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    let source = format!("git:      file://{}/upstream (subdir tool2) at commit {first}", bed.dir);
    assert!(said.contains(&source), "{said}");

    // 2. A new commit is not built until update reports and locks it.
    let first_lock = bed.dir.join("first.lock");
    std::fs::copy(bed.dir.join("repoctl.lock"), &first_lock).unwrap();
    let second = commit_tool2(&bed, 2);
    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(installed_version(&bed), "tool2 1.0-1", "built before update");
    let out = bed.run_as_is("update", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(report.contains("tool2") && report.contains("1.0-1") && report.contains("1.0-2"), "{report}");
    assert!(report.contains("tool2 1.0-2"), "the commit is listed as an AUR commit is:\n{report}");
    assert!(lock(&bed).contains(&format!("commit = \"{second}\"")), "{}", lock(&bed));
    // The pull request's view (`--since`) reads the same commits and diff from the repository.
    let out = bed.run_as_is("update", &["--since", first_lock.as_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let since = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        since.contains("tool2: updated") && since.contains("tool2 1.0-2") && since.contains("+pkgrel=2"),
        "{since}"
    );
    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(installed_version(&bed), "tool2 1.0-2");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// A repository that disappears is reported like a deleted AUR package: its entry kept, the
/// rest (greet's new AUR commit) moving on.
#[test]
fn a_git_repository_that_disappears_is_reported_like_a_deleted_aur_package() {
    let Some(_docker) = docker() else { return };
    let bed = bed();
    let out = bed.run_as_is("update", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let before = lock(&bed);
    let tool2_entry = before.split("[[pkgbase]]").find(|e| e.contains("name = \"tool2\"")).unwrap().to_string();

    std::fs::rename(bed.dir.join("upstream"), bed.dir.join("moved-away")).unwrap();
    let greet2 = bed.dir.join("greet2");
    crate::support::copy_tree(repo_root().join("tests/fixtures/aur-life/greet").as_std_path(), greet2.as_std_path());
    for (file, from, to) in [("PKGBUILD", "pkgrel=1", "pkgrel=2"), (".SRCINFO", "pkgrel = 1", "pkgrel = 2")] {
        let text = std::fs::read_to_string(greet2.join(file)).unwrap().replace(from, to);
        std::fs::write(greet2.join(file), text).unwrap();
    }
    bed.aur.push_dir("greet", &greet2);

    let out = bed.run_as_is("update", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("tool2: GONE: file://"), "{said}");
    assert!(said.contains("/upstream (subdir tool2) no longer has it"), "the repository is named, not the AUR: {said}");
    let after = lock(&bed);
    assert!(after.contains(&tool2_entry), "tool2 stays at its entry:\n{after}");
    assert!(after.contains("version = \"1.0-2\""), "greet moved on:\n{after}");
}

/// `trust.min_age` holds a new commit of a `git:` repository as it holds an AUR commit, from
/// the commit's date: the lock stays where it was, and the report says until when.
#[test]
fn a_new_git_commit_cools_down_like_an_aur_commit() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.aur.push_dir("greet", &repo_root().join("tests/fixtures/aur-life/greet"));
    let old = format!(
        "@{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 30 * 86_400
    );
    let first = commit_tool2_dated(&bed, 1, Some(&old));
    let yaml = format!(
        "name: {NAME}\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\ntrust:\n  min_age: 7d\npackages:\n  - git: file://{}/upstream\n    subdir: tool2\n",
        bed.dir
    );
    std::fs::write(&bed.config, yaml).unwrap();
    let out = bed.run_as_is("update", &["tool2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(lock(&bed).contains(&format!("commit = \"{first}\"")), "{}", lock(&bed));

    commit_tool2(&bed, 2);
    let out = bed.run_as_is("update", &["tool2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("tool2") && said.contains("cooling down until"), "{said}");
    assert!(lock(&bed).contains(&format!("commit = \"{first}\"")), "held at its commit:\n{}", lock(&bed));
}

/// Bad `git:` entries exit 2 at their line with a hint, before anything runs.
#[test]
fn bad_git_entries_exit_2_before_anything_runs() {
    let bed = Bed::empty();
    let yaml = format!(
        "name: {NAME}\npackages:\n  - git: git@example.org:me/pkgbuilds.git\n  - git: https://example.org/me/p.git\n    subdir: ../up\n"
    );
    std::fs::write(&bed.config, yaml).unwrap();
    let out = bed.run_as_is("check", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let config = &bed.config;
    let url = format!("{config}:3:10: `git@example.org:me/pkgbuilds.git` is not an https:// or file:// URL\n  hint: ");
    assert!(stderr.contains(&url), "{stderr}");
    assert!(
        stderr.contains(&format!("{config}:5:13: `../up` leads out of its directory (`..`)\n  hint: ")),
        "{stderr}"
    );
    assert!(!bed.dir.join("work").exists(), "nothing ran");
}

/// A listed `git:` package wins over the AUR's package of the same name, and needs the AUR's
/// `greet`: the plan takes the repository's tool2 1.0-1, not the AUR's 9.0.
#[test]
fn a_git_package_wins_over_the_aur() {
    let Some(_docker) = docker() else { return };
    let bed = bed();
    let aur_tool2 = bed.dir.join("aur-tool2");
    std::fs::create_dir_all(&aur_tool2).unwrap();
    let pkgbuild = "pkgname=tool2\npkgver=9.0\npkgrel=1\narch=('any')\nlicense=('MIT')\npackage() { :; }\n";
    std::fs::write(aur_tool2.join("PKGBUILD"), pkgbuild).unwrap();
    bed.aur.push_dir("tool2", &aur_tool2);
    let out = bed.run("plan", &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = plan["packages"].as_array().unwrap();
    let tool2 = steps.iter().find(|s| s["pkgbase"] == "tool2").unwrap();
    let url = format!("file://{}/upstream", bed.dir);
    assert_eq!(
        (tool2["git"]["url"].as_str(), tool2["git"]["subdir"].as_str(), tool2["aur_version"].as_str()),
        (Some(url.as_str()), Some("tool2"), Some("1.0-1")),
        "{tool2}"
    );
    let greet = steps.iter().find(|s| s["pkgbase"] == "greet").unwrap();
    assert_eq!(greet["git"], serde_json::Value::Null);
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// A `git:` repository that cannot be fetched, and was never locked, is that entry's problem,
/// named on its line with what to check; nothing is locked for it.
#[test]
fn an_unreachable_git_repository_is_named_on_its_line() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    let yaml =
        format!("name: {NAME}\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - git: file://{}/nowhere\n", bed.dir);
    std::fs::write(&bed.config, yaml).unwrap();
    let out = bed.run_as_is("check", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:5:", bed.config)) && stderr.contains("does not appear to be a git repository"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: check that the repository can be fetched from this machine"), "{stderr}");
}
