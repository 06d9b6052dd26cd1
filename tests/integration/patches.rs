//! AUR packages with `patches:` (issue 27): the AUR's `greet`, patched to install another
//! file, is locked with its patch's digest, built, published and installed with pacman; a
//! changed patch is built only once `repoctl update` locks it, with a higher pkgrel; a patch
//! that no longer applies to the AUR's new commit holds the package, and the rest moves on.
use crate::support::{Bed, TESTBED_IMAGE, docker, repo_root, repoctl_containers, text};

const NAME: &str = "patched";

/// A patch of the greet fixture's PKGBUILD: its installed file says `WORD greet VERSION`.
fn patch_saying(word: &str) -> String {
    format!(
        "diff --git a/PKGBUILD b/PKGBUILD\n--- a/PKGBUILD\n+++ b/PKGBUILD\n@@ -8,4 +8,4 @@ license=('MIT')\n \
package() {{\n   install -d \"$pkgdir/usr/share/greet\"\n-  echo \"greet $pkgver-$pkgrel\" > \"$pkgdir/usr/share/greet/version\"\n\
+  echo \"{word} greet $pkgver-$pkgrel\" > \"$pkgdir/usr/share/greet/version\"\n }}\n"
    )
}

/// A plain AUR package `other` at `version`, written under the bed and pushed.
fn push_other(bed: &Bed, version: &str) {
    let dir = bed.dir.join(format!("aur-other-{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    let pkgbuild = format!(
        "pkgname=other\npkgver={version}\npkgrel=1\npkgdesc='Another package'\narch=('any')\nlicense=('MIT')\n\n\
package() {{\n  install -d \"$pkgdir/usr/share/other\"\n}}\n"
    );
    std::fs::write(dir.join("PKGBUILD"), pkgbuild).unwrap();
    let srcinfo = format!(
        "pkgbase = other\n\tpkgdesc = Another package\n\tpkgver = {version}\n\tpkgrel = 1\n\tarch = any\n\tlicense = MIT\n\npkgname = other\n"
    );
    std::fs::write(dir.join(".SRCINFO"), srcinfo).unwrap();
    bed.aur.push_dir("other", &dir);
}

fn bed(extra: &str) -> Bed {
    let bed = Bed::empty();
    bed.aur.push_dir("greet", &repo_root().join("tests/fixtures/aur-life/greet"));
    std::fs::create_dir_all(bed.dir.join("patches")).unwrap();
    std::fs::write(bed.dir.join("patches/greet.patch"), patch_saying("fixed")).unwrap();
    let yaml = format!(
        "name: {NAME}\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - name: greet\n    patches: [patches/greet.patch]\n{extra}"
    );
    std::fs::write(&bed.config, yaml).unwrap();
    bed
}

fn installed(bed: &Bed) -> String {
    let pacman = bed.pacman(NAME);
    let out = pacman.run(&["-Sy", "--noconfirm", "greet"]);
    assert!(out.status.success(), "pacman -S greet failed:\n{}", text(&out));
    std::fs::read_to_string(pacman.installed_file("usr/share/greet/version")).unwrap().trim().to_string()
}

fn lock(bed: &Bed) -> String {
    std::fs::read_to_string(bed.dir.join("repoctl.lock")).unwrap()
}

#[test]
fn a_patched_aur_package_is_built_installed_and_a_changed_patch_publishes_a_higher_pkgrel() {
    let Some(_docker) = docker() else { return };
    let bed = bed("");

    // update: the AUR commit and the patch's digest are locked; the review shows the patch.
    let out = bed.run_as_is("update", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("patch 1 of 1, patches/greet.patch"), "{}", text(&out));
    // And what it does to the files, as built (not only the patch's own text).
    let effect = text(&out).split("what the patches change in the AUR's files").nth(1).unwrap_or_default().to_string();
    assert!(effect.contains("+  echo \"fixed greet $pkgver-$pkgrel\""), "{}", text(&out));
    let first = lock(&bed);
    assert!(first.contains("version = \"1.0-1\""), "{first}");
    assert!(first.contains("patches = [\"sha256:"), "{first}");

    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(installed(&bed), "fixed greet 1.0-1");
    let out = bed.run_as_is("provenance", &["greet"]);
    let patch_digest = first.split("patches = [\"").nth(1).and_then(|l| l.split('"').next()).unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("patches:  {patch_digest}")), "{}", text(&out));

    // A changed patch is not built before `update` locks it.
    std::fs::write(bed.dir.join("patches/greet.patch"), patch_saying("refixed")).unwrap();
    let out = bed.run_as_is("build", &[]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("run `repoctl update greet`"), "{}", text(&out));
    let out = bed.run_as_is("check", &[]);
    assert_eq!(out.status.code(), Some(2), "check says so on greet's line: {}", text(&out));
    assert!(text(&out).contains("the patches of greet changed since repoctl.lock was written"), "{}", text(&out));

    // update: same AUR commit, another patch: the next dotted pkgrel, so pacman updates.
    let out = bed.run_as_is("update", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let second = lock(&bed);
    assert!(second.contains("version = \"1.0-1.1\""), "{second}");
    // The pull request's view of that lock change shows the new patch.
    let base = bed.dir.join("base.lock");
    std::fs::write(&base, &first).unwrap();
    let out = bed.run_as_is("update", &["--since", base.as_str(), "--markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("+  echo \"refixed greet"), "{}", text(&out));
    // Built as a shard does (build --no-publish --out DIR, then publish DIR): the dotted pkgrel
    // is the lock's version, not a rebuild made elsewhere, so publish DIR takes it.
    let shard = bed.dir.join("shard");
    let out = bed.run_as_is("build", &["--no-publish", "--out", shard.as_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = bed.run_as_is("publish", &[shard.as_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(installed(&bed), "refixed greet 1.0-1.1");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

#[test]
fn a_patch_that_stops_applying_holds_its_package_and_the_rest_moves_on() {
    let Some(_docker) = docker() else { return };
    let bed = bed("  - other\n");
    push_other(&bed, "1.0");
    let out = bed.run_as_is("update", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let before = lock(&bed);

    // The AUR moves greet to 1.1, changing the line the patch changes, and other to 1.1.
    let moved = bed.dir.join("aur-greet-1.1");
    let fixture = repo_root().join("tests/fixtures/aur-life/greet-1.1");
    crate::support::copy_tree(fixture.as_std_path(), moved.as_std_path());
    let pkgbuild = std::fs::read_to_string(moved.join("PKGBUILD")).unwrap();
    std::fs::write(moved.join("PKGBUILD"), pkgbuild.replace("echo \"greet", "echo \"hello")).unwrap();
    bed.aur.push_dir("greet", &moved);
    push_other(&bed, "1.1");

    let out = bed.run_as_is("update", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("patch `patches/greet.patch` does not apply to commit"), "{said}");
    assert!(said.contains("then run `repoctl update`"), "{said}");
    let after = lock(&bed);
    let greet =
        |lock: &str| lock.split("name = \"greet\"").nth(1).unwrap().split("[[pkgbase]]").next().unwrap().to_string();
    assert_eq!(greet(&after), greet(&before), "greet is held at its lock entry");
    assert!(after.contains("name = \"other\"\ncommit = ") && after.contains("version = \"1.1-1\""), "{after}");
}

/// Bad `patches:` exit 2 at their line with a hint, before anything runs: no work directory is
/// made and Docker is not asked.
#[test]
fn bad_patches_exit_2_before_anything_runs() {
    let bed = Bed::empty();
    std::fs::create_dir_all(bed.dir.join("pkgbuilds/mytool")).unwrap();
    std::fs::write(bed.dir.join("pkgbuilds/mytool/PKGBUILD"), "pkgname=mytool\n").unwrap();
    std::fs::create_dir_all(bed.dir.join("patches")).unwrap();
    std::fs::write(bed.dir.join("patches/ok.patch"), patch_saying("fixed")).unwrap();
    let yaml = format!(
        "name: {NAME}\npackages:\n  - name: greet\n    patches: [patches/missing.patch]\n  - path: pkgbuilds/mytool\n    patches: [patches/ok.patch]\n"
    );
    std::fs::write(&bed.config, yaml).unwrap();
    let out = bed.run_as_is("check", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let config = &bed.config;
    let missing = format!("{config}:4:15: patch file `patches/missing.patch` does not exist\n  hint: ");
    assert!(stderr.contains(&missing), "{stderr}");
    let not_aur = format!("{config}:6:14: `patches:` applies to an AUR package only\n  hint: ");
    assert!(stderr.contains(&not_aur), "{stderr}");
    assert!(!bed.dir.join("work").exists(), "nothing ran");
}

/// A patch that adds a dependency: `update` resolves the patched package, so the AUR package
/// it now needs is locked, built and installed with it.
#[test]
fn a_dependency_a_patch_adds_is_locked_built_and_installed() {
    let Some(_docker) = docker() else { return };
    let bed = bed("");
    push_other(&bed, "1.0");
    let depends = "diff --git a/PKGBUILD b/PKGBUILD\n--- a/PKGBUILD\n+++ b/PKGBUILD\n@@ -5,3 +5,4 @@\n \
arch=('any')\n license=('MIT')\n+depends=('other')\n \n";
    std::fs::write(bed.dir.join("patches/depends.patch"), depends).unwrap();
    let yaml = std::fs::read_to_string(&bed.config).unwrap();
    std::fs::write(&bed.config, yaml.replace("[patches/greet.patch]", "[patches/greet.patch, patches/depends.patch]"))
        .unwrap();

    let out = bed.run_as_is("update", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(lock(&bed).contains("name = \"other\"\ncommit = "), "{}", lock(&bed));
    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pacman = bed.pacman(NAME);
    let out = pacman.run(&["-Sy", "--noconfirm", "greet"]);
    assert!(out.status.success(), "pacman -S greet failed:\n{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("other") && pacman.installed_file("usr/share/other").is_dir(),
        "other came with greet:\n{said}"
    );
}
