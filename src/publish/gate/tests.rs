//! The gate over real package files (a `.PKGINFO` in a zstd tar, checked as a build checks
//! them) and sync database entries.
use super::*;
use crate::official::testing::sync_db;
use camino::Utf8Path;

/// A package file of `pkgbase` making `pkgname` at `version`, checked ([`crate::trust::check_file`]).
fn package(
    dir: &Utf8Path,
    pkgbase: &str,
    pkgname: &str,
    version: &str,
    depends: &[&str],
    provides: &[&str],
) -> CheckedPackage {
    let mut pkginfo = format!("pkgname = {pkgname}\npkgbase = {pkgbase}\npkgver = {version}\narch = x86_64\n");
    for d in depends {
        pkginfo.push_str(&format!("depend = {d}\n"));
    }
    for p in provides {
        pkginfo.push_str(&format!("provides = {p}\n"));
    }
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(pkginfo.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, ".PKGINFO", pkginfo.as_bytes()).unwrap();
    let bytes = zstd::encode_all(tar.into_inner().unwrap().as_slice(), 3).unwrap();
    let path = dir.join(format!("{pkgname}-{version}-x86_64.pkg.tar.zst"));
    fs_err::write(&path, bytes).unwrap();
    let declared = crate::trust::Declared {
        pkgbase: pkgbase.into(),
        pkgnames: vec![pkgname.into()],
        version: version.into(),
        arch: "x86_64".into(),
        vcs: false,
        debug: false,
        bump: None,
    };
    crate::trust::check_file(&path, &declared).unwrap()
}

fn tempdir() -> (tempfile::TempDir, camino::Utf8PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let path = camino::Utf8PathBuf::from_path_buf(t.path().to_path_buf()).unwrap();
    (t, path)
}

fn entry(base: &str, name: &str, version: &str, depends: &[&str], provides: &[&str]) -> RepoEntry {
    RepoEntry {
        name: name.into(),
        base: base.into(),
        version: version.into(),
        filename: format!("{name}-{version}-x86_64.pkg.tar.zst"),
        depends: depends.iter().map(|s| s.to_string()).collect(),
        provides: provides.iter().map(|s| s.to_string()).collect(),
        ..RepoEntry::default()
    }
}

fn official() -> OfficialRepos {
    OfficialRepos::from_sync_dbs(&[("core".into(), sync_db(&[("glibc", "2.42-1", &[])]))]).unwrap()
}

fn culprits(strands: &[Strand]) -> Vec<Culprit> {
    strands.iter().map(|s| s.culprit.clone()).collect()
}

#[test]
fn a_removal_that_strands_a_dependant_is_refused_and_the_rest_goes_through() {
    let live = [
        entry("app", "app", "1-1", &["lib-extra", "glibc"], &[]),
        entry("lib", "lib-extra", "1-1", &[], &[]),
        entry("old", "old", "1-1", &[], &[]),
    ];
    let remove = ["lib-extra".to_string(), "old".to_string()];
    let (admitted, refused) = admit(&live, Vec::new(), &remove, &official());
    assert_eq!(admitted.remove(), ["old"]);
    assert_eq!(culprits(&refused), [Culprit::Remove { pkgname: "lib-extra".into() }]);
    assert_eq!(
        refused[0].to_string(),
        "not removing lib-extra: app 1-1 still needs it (lib-extra), and nothing else provides that"
    );
}

#[test]
fn an_addition_whose_dependency_nothing_provides_is_refused_with_its_pkgbase() {
    let (_t, dir) = tempdir();
    let live = [entry("tool", "tool", "1-1", &["glibc"], &[])];
    let tool = package(&dir, "tool", "tool", "2-1", &["glibc", "oldtool"], &[]);
    let fine = package(&dir, "fine", "fine", "1-1", &["tool>=1"], &[]);
    let (admitted, refused) = admit(&live, vec![&tool, &fine], &[], &official());
    assert_eq!(admitted.add().iter().map(|p| p.pkgname()).collect::<Vec<_>>(), ["fine"]);
    assert_eq!(culprits(&refused), [Culprit::Add { pkgbase: "tool".into() }]);
    assert!(
        refused[0].to_string().contains("tool 2-1 depends on oldtool, which no repository provides"),
        "{}",
        refused[0]
    );
}

#[test]
fn a_new_version_that_drops_a_provision_a_dependant_needs_is_refused() {
    let (_t, dir) = tempdir();
    let live =
        [entry("app", "app", "1-1", &["libx.so=1-64"], &[]), entry("libx", "libx", "1-1", &[], &["libx.so=1-64"])];
    let bumped = package(&dir, "libx", "libx", "2-1", &[], &["libx.so=2-64"]);
    let (admitted, refused) = admit(&live, vec![&bumped], &[], &official());
    assert!(admitted.add().is_empty());
    assert_eq!(culprits(&refused), [Culprit::Add { pkgbase: "libx".into() }]);
    // Rebuilt against it in the same change, the dependant installs: both go through.
    let app = package(&dir, "app", "app", "1-2", &["libx.so=2-64"], &[]);
    let (admitted, refused) = admit(&live, vec![&bumped, &app], &[], &official());
    assert_eq!((admitted.add().len(), refused.len()), (2, 0));
}

#[test]
fn what_was_uninstallable_before_the_change_does_not_stop_it() {
    let live = [entry("app", "app", "1-1", &["gone-officially"], &[]), entry("old", "old", "1-1", &[], &[])];
    let (admitted, refused) = admit(&live, Vec::new(), &["old".to_string()], &official());
    assert_eq!((admitted.remove(), refused.len()), (&["old".to_string()][..], 0));
}
