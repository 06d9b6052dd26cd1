use super::*;

use crate::official::testing::sync_db;

/// [core] and [extra] much as Arch has them, plus the cases the rules turn on.
fn official() -> OfficialRepos {
    let core = sync_db(&[
        ("bash", "5.2.037-5", &["sh"]),
        ("glibc", "2.41+r9+ga1b2c3d-1", &[]),
        ("gcc-libs", "14.2.1+r753+g1cd744a6828f-1", &["libgcc", "libstdc++", "libgcc_s.so=1-64"]),
        ("zz-last", "1.0-1", &["shared-tool=2.0"]),
    ]);
    let extra = sync_db(&[
        ("rust", "1:1.86.0-1", &["cargo", "rustfmt"]),
        ("aa-first", "1.0-1", &["shared-tool=3.0", "extra-only"]),
        ("ab-second", "1.0-1", &["extra-only"]),
        ("pkg-config-ng", "2.3.0-1", &["pkg-config=2.3.0"]),
        ("pkg-config", "0.29-1", &[]),
    ]);
    OfficialRepos::from_sync_dbs(&[("core".into(), core), ("extra".into(), extra)]).unwrap()
}

fn satisfier(official: &OfficialRepos, dep: &str) -> Option<(String, String)> {
    official.satisfier(dep).map(|p| (p.repo.clone(), p.name.clone()))
}

fn some(repo: &str, name: &str) -> Option<(String, String)> {
    Some((repo.to_string(), name.to_string()))
}

#[test]
fn repositories_keep_pacman_conf_order_and_every_package() {
    let official = official();
    assert_eq!(official.repos(), ["core", "extra"]);
    assert_eq!((official.len(), official.is_empty()), (9, false));
    assert!(OfficialRepos::default().is_empty());
}

#[test]
fn a_pkgname_satisfies_with_a_version_that_fits() {
    let official = official();
    assert_eq!(satisfier(&official, "glibc"), some("core", "glibc"));
    assert_eq!(satisfier(&official, "glibc>=2.40"), some("core", "glibc"));
    assert_eq!(satisfier(&official, "rust>=1:1.80"), some("extra", "rust"));
    assert_eq!(satisfier(&official, "glibc>=3"), None, "too old, and nothing provides glibc");
    assert_eq!(satisfier(&official, "rust>=1.90"), some("extra", "rust"), "an epoch outranks any pkgver");
    assert_eq!(satisfier(&official, "rust<1:1.80"), None);
    assert_eq!(satisfier(&official, "no-such-name"), None);
}

#[test]
fn provisions_satisfy_and_an_unversioned_one_only_unversioned_dependencies() {
    let official = official();
    assert_eq!(satisfier(&official, "sh"), some("core", "bash"));
    assert_eq!(satisfier(&official, "cargo"), some("extra", "rust"));
    assert_eq!(satisfier(&official, "libgcc_s.so=1-64"), some("core", "gcc-libs"));
    assert_eq!(satisfier(&official, "libgcc_s.so>=1"), some("core", "gcc-libs"));
    assert_eq!(satisfier(&official, "cargo>=1.0"), None, "rust provides cargo without a version");
    assert_eq!(satisfier(&official, "sh>=5"), None);
}

#[test]
fn repository_order_decides_between_providers_then_pkgname() {
    let official = official();
    // core's zz-last comes before extra's aa-first, whatever their names.
    assert_eq!(satisfier(&official, "shared-tool"), some("core", "zz-last"));
    // A version only the later repository's provider has.
    assert_eq!(satisfier(&official, "shared-tool>=3"), some("extra", "aa-first"));
    // Within one repository, libalpm's package cache is sorted by pkgname.
    assert_eq!(satisfier(&official, "extra-only"), some("extra", "aa-first"));
    let reversed = OfficialRepos::from_sync_dbs(&[
        ("extra".into(), sync_db(&[("aa-first", "1.0-1", &["shared-tool=3.0"])])),
        ("core".into(), sync_db(&[("zz-last", "1.0-1", &["shared-tool=2.0"])])),
    ])
    .unwrap();
    assert_eq!(satisfier(&reversed, "shared-tool"), some("extra", "aa-first"));
}

#[test]
fn a_pkgname_beats_a_provider_and_never_provides_itself() {
    let official = official();
    // pkg-config-ng sorts first and provides pkg-config, but the package named so wins.
    assert_eq!(satisfier(&official, "pkg-config"), some("extra", "pkg-config"));
    // Too old by name: a provider with a fitting version is taken.
    assert_eq!(satisfier(&official, "pkg-config>=2"), some("extra", "pkg-config-ng"));
    // A name in a later repository beats a provider in an earlier one.
    let later_name = OfficialRepos::from_sync_dbs(&[
        ("core".into(), sync_db(&[("bash", "5.2-1", &["sh"])])),
        ("extra".into(), sync_db(&[("sh", "1.0-1", &[])])),
    ])
    .unwrap();
    assert_eq!(satisfier(&later_name, "sh"), some("extra", "sh"));
    // A package's own provision of its name does not rescue a version its pkgname fails.
    let own = OfficialRepos::from_sync_dbs(&[("core".into(), sync_db(&[("foo", "1.0-1", &["foo=2.0"])]))]).unwrap();
    assert_eq!(satisfier(&own, "foo>=2"), None);
}

#[test]
fn a_broken_database_is_an_error() {
    let dbs = [("core".to_string(), b"\x28\xb5\x2f\xfdgarbage".to_vec())];
    assert!(OfficialRepos::from_sync_dbs(&dbs).is_err());
    assert_eq!(OfficialRepos::index(&dbs).map(|_| ()).map_err(|(repo, _)| repo), Err("core".to_string()));
}

#[test]
fn the_copied_out_archive_unpacks_in_the_listed_order() {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, body) in [("syncdbs/core.db", "C"), ("syncdbs/extra.db", "E"), ("syncdbs/repos", "extra\ncore\n")] {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, body.as_bytes()).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let dbs = unpack(&tar).unwrap();
    assert_eq!(dbs, [("extra".to_string(), b"E".to_vec()), ("core".to_string(), b"C".to_vec())]);
    let mut missing = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(5);
    header.set_mode(0o644);
    header.set_cksum();
    missing.append_data(&mut header, "syncdbs/repos", &b"core\n"[..]).unwrap();
    assert!(matches!(unpack(&missing.into_inner().unwrap()), Err(OfficialError::Copy(_))));
}

#[test]
fn the_stamp_round_trips_and_refuses_unsafe_names() {
    let stamp = Stamp { builder_image: "repoctl-builder:0011".into(), fetched_ms: 42, repos: vec!["core".into()] };
    assert_eq!(Stamp::parse(&stamp.render()), Some(stamp));
    assert_eq!(Stamp::parse("builder-image x\nfetched-unix-ms 1\nrepo ../etc\n"), None);
    assert_eq!(Stamp::parse("builder-image x\n"), None);
}

#[test]
fn the_cache_is_used_only_when_young_and_of_the_same_image() {
    let dir = tempfile::tempdir().unwrap();
    let dir = Utf8Path::from_path(dir.path()).unwrap();
    let dbs = [("core".to_string(), sync_db(&[("bash", "5.2-1", &["sh"])]))];
    write_cache(dir, "img:a", &dbs).unwrap();
    let hour = Duration::from_secs(3600);
    assert_eq!(read_cache(dir, "img:a", hour).map(|o| o.repos().to_vec()), Some(vec!["core".to_string()]));
    assert!(read_cache(dir, "img:b", hour).is_none(), "another builder image");
    assert!(read_cache(dir, "img:a", Duration::ZERO).is_none(), "too old");
    fs_err::write(dir.join("core.db"), b"garbage").unwrap();
    assert!(read_cache(dir, "img:a", hour).is_none(), "an unreadable copy is fetched again");
    // No temporary file is left beside the cache.
    let mut names: Vec<String> =
        fs_err::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["core.db", "stamp"]);
}
