//! Always installable (issue 26): one repository run against the official repositories of two
//! weeks. The test points a tag of its own at `repoctl-testbed:prev`, then at
//! `repoctl-testbed:next` (images/testbed/variants: `oldtool` dropped from [extra], `libstand`
//! bumped), as a runner that pulls `archlinux:base-devel` each night sees the same tag move.
use crate::support::{Bed, docker, repoctl_containers, text};
use camino::Utf8Path;
use std::process::Command;

/// A tag of a test's own, removed (the tag only: the images stay) when dropped.
pub(crate) struct Tag(pub(crate) String);

impl Tag {
    pub(crate) fn point_at(&self, image: &str) {
        let out = Command::new("docker").args(["tag", image, &self.0]).output().expect("docker tag");
        assert!(out.status.success(), "docker tag {image} {}: {}", self.0, String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["image", "rm", &self.0]).output();
    }
}

/// Writes a PKGBUILD and its .SRCINFO for `pkgbase` at `version` (pkgver-1, arch any) making
/// `pkgnames`, each depending on `depends`, into `dir/NAME-VERSION`, and pushes it to the AUR.
fn push(bed: &Bed, dir: &Utf8Path, pkgbase: &str, version: &str, pkgnames: &[&str], depends: &[&str]) {
    let src = dir.join(format!("{pkgbase}-{version}"));
    std::fs::create_dir_all(&src).unwrap();
    let quoted = |list: &[&str]| list.iter().map(|d| format!("'{d}'")).collect::<Vec<_>>().join(" ");
    let mut pkgbuild = format!(
        "pkgbase={pkgbase}\npkgname=({})\npkgver={version}\npkgrel=1\npkgdesc='issue 26'\narch=('any')\nlicense=('MIT')\n\
depends=({})\n",
        quoted(pkgnames),
        quoted(depends)
    );
    let mut srcinfo = format!(
        "pkgbase = {pkgbase}\n\tpkgdesc = issue 26\n\tpkgver = {version}\n\tpkgrel = 1\n\tarch = any\n\tlicense = MIT\n"
    );
    for d in depends {
        srcinfo.push_str(&format!("\tdepends = {d}\n"));
    }
    for name in pkgnames {
        pkgbuild.push_str(&format!(
            "package_{name}() {{\n  install -d \"$pkgdir/usr/share/{name}\"\n  echo {version} > \"$pkgdir/usr/share/{name}/v\"\n}}\n"
        ));
        srcinfo.push_str(&format!("\npkgname = {name}\n"));
    }
    std::fs::write(src.join("PKGBUILD"), pkgbuild).unwrap();
    std::fs::write(src.join(".SRCINFO"), srcinfo).unwrap();
    bed.aur.push_dir(pkgbase, &src);
}

#[test]
fn a_dropped_official_dependency_fails_status_and_the_gate_keeps_what_a_dependant_needs() {
    let Some(_docker) = docker() else { return };
    let tag = Tag(format!("repoctl-testbed:it-installable-{}", std::process::id()));
    tag.point_at("repoctl-testbed:prev");
    let bed = Bed::empty();
    let (_s, sources) = crate::support::tempdir();
    // usestool needs the official oldtool; needsextra needs splitlib's second package.
    push(&bed, &sources, "usestool", "1.0", &["usestool"], &["oldtool"]);
    push(&bed, &sources, "splitlib", "1.0", &["splitlib", "splitlib-extra"], &[]);
    push(&bed, &sources, "needsextra", "1.0", &["needsextra"], &["splitlib-extra"]);
    let yaml = format!(
        "name: inst\nlocal:\n  path: ./repo\nbuilder:\n  image: {}\npackages:\n  - usestool\n  - splitlib\n  - needsextra\n",
        tag.0
    );
    std::fs::write(&bed.config, yaml).unwrap();

    // Week 1: everything installs.
    let built = bed.run("build", &["--no-progress"]);
    assert_eq!(built.status.code(), Some(0), "{}", text(&built));
    let status = bed.run("status", &[]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));

    // splitlib 1.1 no longer makes splitlib-extra: the run would take it out, stranding
    // needsextra. The gate keeps it, publishes the rest, and the run exits 1 saying so.
    push(&bed, &sources, "splitlib", "1.1", &["splitlib"], &[]);
    let built = bed.run("build", &["--no-progress"]);
    assert_eq!(built.status.code(), Some(1), "{}", text(&built));
    let said = text(&built);
    assert!(said.contains("not removing splitlib-extra: needsextra 1.0-1 still needs it (splitlib-extra)"), "{said}");
    let listed = bed.pacman("inst").list("inst");
    assert!(listed.contains(&("splitlib".to_string(), "1.1-1".to_string())), "the rest is published: {listed:?}");
    assert!(listed.contains(&("splitlib-extra".to_string(), "1.0-1".to_string())), "kept: {listed:?}");
    let installed = bed.pacman("inst").run(&["-Sy", "--noconfirm", "needsextra"]);
    assert!(installed.status.success(), "{}", text(&installed));

    // Week 2: the same tag, another image; oldtool is gone from [extra].
    tag.point_at("repoctl-testbed:next");
    let status = bed.run("status", &[]);
    let said = text(&status);
    assert_eq!(status.status.code(), Some(1), "{said}");
    assert!(said.contains("uninstallable: usestool (1.0-1) depends on oldtool"), "{said}");
    let json = bed.run("status", &["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let missing = &report["uninstallable"];
    assert!(
        missing.as_array().unwrap().iter().any(|u| u["pkgname"] == "usestool" && u["dependency"] == "oldtool"),
        "{report:#}"
    );
    // `build` says it on usestool's repo.yaml line (line 7) and exits 1.
    let built = bed.run("build", &["--no-progress"]);
    let said = text(&built);
    assert_eq!(built.status.code(), Some(1), "{said}");
    let line = said.lines().find(|l| l.contains("uninstallable: usestool 1.0-1 depends on oldtool"));
    assert!(line.is_some_and(|l| l.contains("repo.yaml:7:")), "{said}");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// A C package that links the official libstand (`cc -lstand`, depends on libstand), as
/// `standapp` 1.0-1 in the AUR.
pub(crate) fn push_standapp(bed: &Bed, dir: &Utf8Path) {
    let src = dir.join("standapp");
    std::fs::create_dir_all(&src).unwrap();
    let pkgbuild = r#"pkgname=standapp
pkgver=1.0
pkgrel=1
pkgdesc='links libstand (issue 26)'
arch=('x86_64')
license=('MIT')
depends=('libstand')
build() {
  printf '#include <stand.h>\nint main(void) { return stand_version() == 0; }\n' > main.c
  cc -o standapp main.c -lstand
}
package() {
  install -Dm755 standapp "$pkgdir/usr/bin/standapp"
}
"#;
    let srcinfo = "pkgbase = standapp\n\tpkgdesc = links libstand (issue 26)\n\tpkgver = 1.0\n\tpkgrel = 1\n\
\tarch = x86_64\n\tlicense = MIT\n\tdepends = libstand\n\npkgname = standapp\n";
    std::fs::write(src.join("PKGBUILD"), pkgbuild).unwrap();
    std::fs::write(src.join(".SRCINFO"), srcinfo).unwrap();
    bed.aur.push_dir("standapp", &src);
}

/// The sonames `/usr/bin/standapp` needs, as Debian's pacman installed it from the published
/// repository (`-dd`: libstand is official, and this pacman knows only the published one).
fn installed_needs(bed: &Bed) -> Vec<String> {
    let pacman = bed.pacman("sonames");
    let installed = pacman.run(&["-Sydd", "--noconfirm", "standapp"]);
    assert!(installed.status.success(), "{}", text(&installed));
    let bytes = std::fs::read(pacman.installed_file("/usr/bin/standapp")).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    elf.libraries.iter().map(|l| l.to_string()).collect()
}

#[test]
fn a_package_linking_a_bumped_soname_is_rebuilt_with_a_dotted_pkgrel() {
    let Some(_docker) = docker() else { return };
    let tag = Tag(format!("repoctl-testbed:it-sonames-{}", std::process::id()));
    tag.point_at("repoctl-testbed:prev");
    let bed = Bed::empty();
    let (_s, sources) = crate::support::tempdir();
    push_standapp(&bed, &sources);
    let yaml =
        format!("name: sonames\nlocal:\n  path: ./repo\nbuilder:\n  image: {}\npackages:\n  - standapp\n", tag.0);
    std::fs::write(&bed.config, yaml).unwrap();

    // Week 1: built against libstand.so.1.
    let built = bed.run("build", &["--no-progress"]);
    assert_eq!(built.status.code(), Some(0), "{}", text(&built));
    assert!(installed_needs(&bed).contains(&"libstand.so.1".to_string()));

    // Week 2: the same tag, libstand bumped to libstand.so.2; the AUR commit is unchanged.
    tag.point_at("repoctl-testbed:next");
    let plan = bed.run("plan", &[]);
    assert!(text(&plan).contains("rebuild: libstand.so.1 is gone (1.0-1.1)"), "{}", text(&plan));
    let built = bed.run("build", &["--no-progress"]);
    let said = text(&built);
    assert_eq!(built.status.code(), Some(0), "{said}");
    assert!(said.contains("rebuild: libstand.so.1 is gone (1.0-1.1)"), "the plan says why: {said}");
    assert!(said.contains("file(s); rebuild: libstand.so.1 is gone"), "the run's summary says why: {said}");
    let listed = bed.pacman("sonames").list("sonames");
    assert!(listed.contains(&("standapp".to_string(), "1.0-1.1".to_string())), "{listed:?}");
    let needs = installed_needs(&bed);
    assert!(needs.contains(&"libstand.so.2".to_string()) && !needs.contains(&"libstand.so.1".to_string()), "{needs:?}");
    let record = bed.repo().join("standapp-1.0-1.1-x86_64.pkg.tar.zst.provenance.json");
    let record = std::fs::read_to_string(&record).unwrap();
    assert!(record.contains("\"rebuild\": \"rebuild: libstand.so.1 is gone\""), "{record}");
    let status = std::fs::read_to_string(bed.repo().join("sonames.status.json")).unwrap();
    assert!(status.contains("libstand.so.2"), "the new linkage is recorded: {status}");
    let shown = bed.run("status", &[]);
    assert!(text(&shown).contains("built 1.0-1.1 at"), "{}", text(&shown));
    assert!(text(&shown).contains(": rebuild: libstand.so.1 is gone"), "{}", text(&shown));

    // Nothing gone any more: nothing to do.
    let again = bed.run("build", &["--no-progress"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("nothing to do"), "{}", text(&again));

    // By hand: the next dot.
    let forced = bed.run("build", &["--no-progress", "--rebuild", "standapp"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    let listed = bed.pacman("sonames").list("sonames");
    assert!(listed.contains(&("standapp".to_string(), "1.0-1.2".to_string())), "{listed:?}");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}
