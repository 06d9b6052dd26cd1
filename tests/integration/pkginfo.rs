//! Only the packages the locked commit declares are published (issue 23, item 1): what a build
//! makes besides them (a forged file, a pkgname the `.SRCINFO` does not list, a file a process
//! left behind writes later) fails that pkgbase alone, and `repoctl publish DIR` takes only
//! files whose provenance the lock and their bytes vouch for. Real builds in the test image,
//! the result read with Debian's pacman.
use crate::support::{Bed, TESTBED_IMAGE, docker, repoctl_containers, text};
use camino::Utf8Path;
use std::process::Output;

/// A bed whose AUR holds the fixtures `pkgbases` (tests/fixtures/aur), and whose repo.yaml
/// (repository `NAME`, a local directory) lists `listed`.
fn bed(name: &str, pkgbases: &[&str], listed: &[&str]) -> Bed {
    let bed = Bed::empty();
    for p in pkgbases {
        bed.aur.push_fixture(p);
    }
    list(&bed, name, listed);
    bed
}

fn list(bed: &Bed, name: &str, listed: &[&str]) {
    let packages: String = listed.iter().map(|p| format!("  - {p}\n")).collect();
    let yaml = format!(
        "name: {name}\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\n  jobs: 2\npackages:\n{packages}"
    );
    std::fs::write(&bed.config, yaml).unwrap();
}

fn both(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn sorted(mut list: Vec<(String, String)>) -> Vec<(String, String)> {
    list.sort();
    list
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

/// The status object's entry for `pkgbase` (`NAME.status.json` in the published directory).
fn status_entry(bed: &Bed, name: &str, pkgbase: &str) -> serde_json::Value {
    let path = bed.repo().join(format!("{name}.status.json"));
    let object: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    object["packages"][pkgbase].clone()
}

/// Every build log of PKGBASE under the work directory `work` (`runs/*/logs/PKGBASE.log`).
fn build_logs(work: &Utf8Path, pkgbase: &str) -> String {
    let runs = std::fs::read_dir(work.join("runs")).into_iter().flatten().flatten();
    runs.filter_map(|run| std::fs::read_to_string(run.path().join("logs").join(format!("{pkgbase}.log"))).ok())
        .collect()
}

/// Files of the published directory whose names start with `prefix` (none when there is no
/// directory yet).
fn published(repo: &Utf8Path, prefix: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo)
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with(prefix))
        .collect();
    files.sort();
    files
}

/// The fault of issue 23: `forger`'s build() writes a second package file into makepkg's
/// output directory, a plain tar whose `.PKGINFO` names the listed `libfoo` at 9.0-1. It used
/// to be published over the honest libfoo, with exit 0. Now forger fails with its own kind,
/// naming the file and what is wrong with it; nothing of forger is published; libfoo stays.
#[test]
fn a_forged_package_file_fails_its_pkgbase_and_the_honest_package_stays() {
    let Some(_docker) = docker() else { return };
    let bed = bed("forge", &["hello", "libfoo", "forger"], &["hello", "libfoo"]);
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pacman = bed.pacman("forge");
    let honest = pairs(&[("hello", "1.0-1"), ("libfoo", "2.1-1")]);
    assert_eq!(sorted(pacman.list("forge")), honest);

    list(&bed, "forge", &["hello", "libfoo", "forger"]);
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = both(&out);
    let line = said.lines().find(|l| l.contains("forger") && l.contains("FAILED (package-check)"));
    let line = line.unwrap_or_else(|| panic!("no package-check failure for forger:\n{said}"));
    for part in ["libfoo-9.0-1-any.pkg.tar.zst", "pkgname libfoo is not one the locked .SRCINFO declares (forger)"] {
        assert!(line.contains(part), "{part:?} not in {line:?}");
    }
    assert_eq!(sorted(pacman.list("forge")), honest, "the forged libfoo replaced the honest one");
    assert!(published(&bed.repo(), "forger").is_empty(), "{:?}", published(&bed.repo(), ""));
    assert!(published(&bed.repo(), "libfoo-9").is_empty());
    let entry = status_entry(&bed, "forge", "forger");
    assert_eq!((&entry["result"], &entry["kind"]), (&"failed".into(), &"package-check".into()), "{entry}");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// A PKGBUILD whose `pkgname` array names one more pkgname than its `.SRCINFO`: that pkgname
/// used to be published. Now the pkgbase fails, naming it, and the others publish.
#[test]
fn a_pkgname_the_srcinfo_does_not_declare_fails_its_pkgbase() {
    let Some(_docker) = docker() else { return };
    let bed = bed("undecl", &["hello", "undeclared"], &["hello", "undeclared"]);
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = both(&out);
    assert!(
        said.lines().any(|l| l.contains("FAILED (package-check)")
            && l.contains("pkgname undeclared-extra is not one the locked .SRCINFO declares (undeclared)")),
        "{said}"
    );
    assert_eq!(sorted(bed.pacman("undecl").list("undecl")), pairs(&[("hello", "1.0-1")]));
    assert!(published(&bed.repo(), "undeclared").is_empty(), "{:?}", published(&bed.repo(), ""));
}

/// A process that build() starts and that outlives makepkg: once makepkg's list of what it
/// made is written, it adds a forged libfoo 9.0-1 to the output directory and to the list.
/// Every process of the build user is stopped before the packages are collected, from a
/// directory that user cannot write, so the forged file never reaches the repository.
#[test]
fn a_process_left_behind_by_build_cannot_add_a_package_later() {
    let Some(_docker) = docker() else { return };
    let bed = bed("linger", &["libfoo", "lingerer"], &["libfoo", "lingerer"]);
    let out = bed.run("build", &[]);
    let listed = sorted(bed.pacman("linger").list("linger"));
    assert!(!listed.iter().any(|(n, v)| n == "libfoo" && v == "9.0-1"), "{listed:?}\n{}", text(&out));
    assert!(published(&bed.repo(), "libfoo-9").is_empty(), "{}", text(&out));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(listed, pairs(&[("libfoo", "2.1-1"), ("lingerer", "1.0-1")]));
    let logs = build_logs(&bed.dir.join("work"), "lingerer");
    assert!(logs.contains("process(es) of the build user that outlived makepkg"), "{logs}");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// `repoctl publish DIR` checks what it is handed as a build does, with the provenance record
/// beside each file and repoctl.lock: a file without a record, a file built from another commit
/// than the lock's, two versions of one pkgname, and a file older than the published one are
/// refused, each named, nothing is written, and it exits 1. Each used to be published.
#[test]
fn publish_dir_takes_only_files_the_lock_and_their_records_vouch_for() {
    let Some(_docker) = docker() else { return };
    let bed = bed("pubdir", &["hello"], &["hello"]);
    let (d1, d2) = (bed.dir.join("d1"), bed.dir.join("d2"));
    let out = bed.run("build", &["--no-publish", "--out", d1.as_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lock = bed.dir.join("repoctl.lock");
    let lock_at_1_0 = std::fs::read_to_string(&lock).unwrap();
    let newer = bed.dir.join("hello-1.1");
    crate::support::copy_tree(
        crate::support::repo_root().join("tests/fixtures/aur/hello").as_std_path(),
        newer.as_std_path(),
    );
    for f in ["PKGBUILD", ".SRCINFO"] {
        let text = std::fs::read_to_string(newer.join(f)).unwrap();
        std::fs::write(newer.join(f), text.replace("pkgver=1.0", "pkgver=1.1").replace("pkgver = 1.0", "pkgver = 1.1"))
            .unwrap();
    }
    bed.aur.push_dir("hello", &newer);
    let out = bed.run("build", &["--no-publish", "--out", d2.as_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (old, new) = ("hello-1.0-1-x86_64.pkg.tar.zst", "hello-1.1-1-x86_64.pkg.tar.zst");
    let refused = |dir: &Utf8Path, why: &str| {
        let out = bed.run("publish", &[dir.as_str()]);
        assert_eq!(out.status.code(), Some(1), "{why}: {}", text(&out));
        assert!(both(&out).contains(why), "{why:?} not said:\n{}", text(&out));
        out
    };

    // A file without its provenance record.
    let bare = bed.dir.join("bare");
    std::fs::create_dir(&bare).unwrap();
    std::fs::copy(d2.join(new), bare.join(new)).unwrap();
    refused(&bare, &format!("{new} has no provenance record"));
    assert!(published(&bed.repo(), "hello").is_empty(), "{:?}", published(&bed.repo(), ""));

    // Built from the commit the lock held before: its record names another commit.
    refused(&d1, &format!("{old} was built from AUR commit"));
    assert!(published(&bed.repo(), "hello").is_empty(), "{:?}", published(&bed.repo(), ""));

    // Two versions of one pkgname: today the one named last would win (1.0 over 1.10 too).
    let two = bed.dir.join("two");
    std::fs::create_dir(&two).unwrap();
    for (dir, file) in [(&d1, old), (&d2, new)] {
        for name in [file.to_string(), format!("{file}.provenance.json")] {
            std::fs::copy(dir.join(&name), two.join(&name)).unwrap();
        }
    }
    refused(&two, "two versions of pkgname hello");
    assert!(published(&bed.repo(), "hello").is_empty(), "{:?}", published(&bed.repo(), ""));

    // The lock's own files are published; then the lock goes back to 1.0 (a revert), and
    // 1.0's files are refused: repo-add would downgrade hello.
    let out = bed.run("publish", &[d2.as_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pacman = bed.pacman("pubdir");
    assert_eq!(pacman.list("pubdir"), pairs(&[("hello", "1.1-1")]));
    std::fs::write(&lock, lock_at_1_0).unwrap();
    refused(&d1, &format!("{old} is hello 1.0-1, older than the published 1.1-1"));
    assert_eq!(pacman.list("pubdir"), pairs(&[("hello", "1.1-1")]));
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}
