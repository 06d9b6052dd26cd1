//! Packages that are not plain AUR packages (issue 27): a `path:` PKGBUILD directory beside
//! repo.yaml, with no `.SRCINFO`, built, published and installed with pacman, next to the AUR
//! dependency it needs; a change to the directory is built only once `repoctl update` locks it.
use crate::support::{Bed, TESTBED_IMAGE, docker, repo_root, repoctl_containers, text};

const NAME: &str = "sources";

/// `pkgbuilds/mytool` (pkgrel `rel`), which needs the AUR's `greet` and installs a file saying
/// its version. No `.SRCINFO`: repoctl makes it.
fn write_mytool(bed: &Bed, rel: u32) {
    let dir = bed.dir.join("pkgbuilds/mytool");
    std::fs::create_dir_all(&dir).unwrap();
    let pkgbuild = format!(
        "pkgname=mytool\npkgver=1.0\npkgrel={rel}\npkgdesc='A package of this repository'\narch=('any')\n\
license=('MIT')\ndepends=('greet')\n\npackage() {{\n  install -d \"$pkgdir/usr/share/mytool\"\n  \
echo \"mytool $pkgver-$pkgrel\" > \"$pkgdir/usr/share/mytool/version\"\n}}\n"
    );
    std::fs::write(dir.join("PKGBUILD"), pkgbuild).unwrap();
}

fn bed() -> Bed {
    let bed = Bed::empty();
    bed.aur.push_dir("greet", &repo_root().join("tests/fixtures/aur-life/greet"));
    write_mytool(&bed, 1);
    let yaml = format!(
        "name: {NAME}\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - path: pkgbuilds/mytool\n"
    );
    std::fs::write(&bed.config, yaml).unwrap();
    bed
}

fn installed_version(bed: &Bed) -> String {
    let pacman = bed.pacman(NAME);
    let out = pacman.run(&["-Sy", "--noconfirm", "mytool"]);
    assert!(out.status.success(), "pacman -S mytool failed:\n{}", text(&out));
    let version = std::fs::read_to_string(pacman.installed_file("usr/share/mytool/version")).unwrap();
    assert!(pacman.installed_file("usr/share/greet/version").is_file(), "its AUR dependency greet came with it");
    version.trim().to_string()
}

#[test]
fn a_path_package_without_srcinfo_is_locked_built_published_and_installed() {
    let Some(_docker) = docker() else { return };
    let bed = bed();

    // update: the directory's files are locked by their digest, greet by its AUR commit.
    let out = bed.run_as_is("update", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lock = std::fs::read_to_string(bed.dir.join("repoctl.lock")).unwrap();
    assert!(lock.contains("name = \"mytool\"\npath = \"pkgbuilds/mytool\"\nversion = \"1.0-1\""), "{lock}");
    assert!(lock.contains("name = \"greet\"\ncommit = "), "{lock}");
    let cached = std::fs::read_dir(bed.dir.join("work/srcinfo/LOCAL")).unwrap().count();
    assert_eq!(cached, 1, "one .SRCINFO made, kept by the directory's digest");
    assert!(!bed.dir.join("pkgbuilds/mytool/.SRCINFO").exists(), "the directory is not written to");

    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(repoctl_containers(), 0, "containers left behind");
    assert_eq!(installed_version(&bed), "mytool 1.0-1");
    // Provenance names the directory and the digest the lock records.
    let out = bed.run_as_is("provenance", &["mytool"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    let files = lock.split("path = \"pkgbuilds/mytool\"").nth(1).and_then(|l| l.split("files = \"").nth(1)).unwrap();
    let files = &files[..files.find('"').unwrap()];
    assert!(said.contains("path:     pkgbuilds/mytool (beside repo.yaml)") && said.contains(files), "{said}");

    // A changed directory is not built until `update` locks it.
    write_mytool(&bed, 2);
    let out = bed.run_as_is("build", &[]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("the files of `pkgbuilds/mytool` changed since repoctl.lock was written"), "{said}");
    assert!(said.contains("run `repoctl update mytool`"), "{said}");

    let out = bed.run_as_is("update", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(installed_version(&bed), "mytool 1.0-2");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// Bad `path:` entries exit 2 at their line with a hint, before anything runs: no work
/// directory is made and Docker is not asked.
#[test]
fn bad_path_entries_exit_2_before_anything_runs() {
    let bed = Bed::empty();
    std::fs::create_dir_all(bed.dir.join("pkgbuilds/empty")).unwrap();
    let yaml = format!(
        "name: {NAME}\npackages:\n  - path: pkgbuilds/missing\n  - path: ../outside\n  - path: pkgbuilds/empty\n"
    );
    std::fs::write(&bed.config, yaml).unwrap();
    let out = bed.run_as_is("check", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let config = &bed.config;
    assert!(
        stderr.contains(&format!("{config}:3:11: directory `pkgbuilds/missing` does not exist\n  hint: ")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{config}:4:11: `../outside` is outside the repository\n  hint: ")), "{stderr}");
    assert!(
        stderr.contains(&format!("{config}:5:11: directory `pkgbuilds/empty` has no PKGBUILD\n  hint: ")),
        "{stderr}"
    );
    assert!(!bed.dir.join("work").exists(), "nothing ran");
}

/// A listed `path:` package wins over the AUR's package of the same name; a PKGBUILD that does
/// not source is that entry's problem, on its line.
#[test]
fn a_path_package_wins_over_the_aur_and_a_broken_one_is_named_on_its_line() {
    let Some(_docker) = docker() else { return };
    let bed = bed();
    let aur_mytool = bed.dir.join("aur-mytool");
    std::fs::create_dir_all(&aur_mytool).unwrap();
    std::fs::write(
        aur_mytool.join("PKGBUILD"),
        "pkgname=mytool\npkgver=9.0\npkgrel=1\narch=('any')\nlicense=('MIT')\npackage() { :; }\n",
    )
    .unwrap();
    bed.aur.push_dir("mytool", &aur_mytool);
    let out = bed.run("plan", &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = plan["packages"].as_array().unwrap();
    let mytool = steps.iter().find(|s| s["pkgbase"] == "mytool").unwrap();
    assert_eq!(
        (mytool["path"].as_str(), mytool["aur_version"].as_str()),
        (Some("pkgbuilds/mytool"), Some("1.0-1")),
        "{mytool}"
    );
    let greet = steps.iter().find(|s| s["pkgbase"] == "greet").unwrap();
    assert_eq!(greet["path"], serde_json::Value::Null);

    std::fs::write(bed.dir.join("pkgbuilds/mytool/PKGBUILD"), "pkgname=mytool\npkgver=1.0\npkgrel=1\narch=(any\n")
        .unwrap();
    let out = bed.run_as_is("check", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:7:11: `makepkg --printsrcinfo` failed in pkgbuilds/mytool", bed.config)),
        "{stderr}"
    );
    assert!(stderr.contains("hint: fix the PKGBUILD in its directory"), "{stderr}");
    // `update` holds it where it was, says why, and exits 1; the rest goes on.
    let locked = std::fs::read_to_string(bed.dir.join("repoctl.lock")).unwrap();
    let out = bed.run_as_is("update", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("`makepkg --printsrcinfo` failed in pkgbuilds/mytool"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(bed.dir.join("repoctl.lock")).unwrap(), locked, "the lock keeps its entry");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}
