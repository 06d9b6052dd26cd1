use super::*;
use std::io::Write as _;

fn declared() -> Declared {
    Declared {
        pkgbase: "tool".into(),
        pkgnames: vec!["tool".into(), "tool-docs".into()],
        version: "2.0-1".into(),
        arch: "x86_64".into(),
        vcs: false,
        debug: false,
        bump: None,
    }
}

fn info(pkgname: &str, pkgbase: &str, version: &str, arch: &str) -> PkgInfo {
    PkgInfo {
        pkgname: pkgname.into(),
        pkgbase: pkgbase.into(),
        version: version.into(),
        arch: arch.into(),
        depends: Vec::new(),
        provides: Vec::new(),
        conflicts: Vec::new(),
        replaces: Vec::new(),
    }
}

/// The pure comparison, one row per rule: (what the .PKGINFO says, the file's name, its
/// compression, changes to the declaration, the mismatches expected, by their messages).
#[test]
fn a_pkginfo_is_compared_with_the_locked_srcinfo() {
    type Row = (PkgInfo, &'static str, Compression, fn(&mut Declared), &'static [&'static str]);
    let same: fn(&mut Declared) = |_| {};
    let vcs: fn(&mut Declared) = |d| d.vcs = true;
    let debug: fn(&mut Declared) = |d| d.debug = true;
    let epoch: fn(&mut Declared) = |d| d.version = "1:2.0-1".into();
    let zst = Compression::Zstd;
    let rows: Vec<Row> = vec![
        (info("tool", "tool", "2.0-1", "x86_64"), "tool-2.0-1-x86_64.pkg.tar.zst", zst, same, &[]),
        (info("tool-docs", "tool", "2.0-1", "any"), "tool-docs-2.0-1-any.pkg.tar.zst", zst, same, &[]),
        // Another listed pkgname, at a higher version, of another pkgbase: the fault of issue 23.
        (
            info("libfoo", "libfoo", "9.0-1", "x86_64"),
            "libfoo-9.0-1-x86_64.pkg.tar.zst",
            zst,
            same,
            &[
                "pkgname libfoo is not one the locked .SRCINFO declares (tool, tool-docs)",
                "pkgbase libfoo, not tool",
                "version 9.0-1, but the locked .SRCINFO says 2.0-1",
            ],
        ),
        // A pkgname the PKGBUILD adds that the .SRCINFO does not list.
        (
            info("tool-extra", "tool", "2.0-1", "x86_64"),
            "tool-extra-2.0-1-x86_64.pkg.tar.zst",
            zst,
            same,
            &["pkgname tool-extra is not one the locked .SRCINFO declares (tool, tool-docs)"],
        ),
        (
            info("tool", "tool", "2.0-1", "aarch64"),
            "tool-2.0-1-aarch64.pkg.tar.zst",
            zst,
            same,
            &["arch aarch64, not x86_64 or any"],
        ),
        // The debug package: only with `debug` on; a declared `-debug` pkgname is ordinary.
        (info("tool-debug", "tool", "2.0-1", "x86_64"), "tool-debug-2.0-1-x86_64.pkg.tar.zst", zst, debug, &[]),
        (
            info("tool-debug", "tool", "2.0-1", "x86_64"),
            "tool-debug-2.0-1-x86_64.pkg.tar.zst",
            zst,
            same,
            &["pkgname tool-debug is a debug package, and `debug` is off for its pkgbase"],
        ),
        (
            info("other-debug", "tool", "2.0-1", "x86_64"),
            "other-debug-2.0-1-x86_64.pkg.tar.zst",
            zst,
            debug,
            &["pkgname other-debug is not one the locked .SRCINFO declares (tool, tool-docs)"],
        ),
        // Versions: pkgrel and epoch count; a VCS package's pkgver may move (pkgrel 1 then).
        (
            info("tool", "tool", "2.0-2", "x86_64"),
            "tool-2.0-2-x86_64.pkg.tar.zst",
            zst,
            same,
            &["version 2.0-2, but the locked .SRCINFO says 2.0-1"],
        ),
        (info("tool", "tool", "1:2.0-1", "x86_64"), "tool-1:2.0-1-x86_64.pkg.tar.zst", zst, epoch, &[]),
        (
            info("tool", "tool", "2.0-1", "x86_64"),
            "tool-2.0-1-x86_64.pkg.tar.zst",
            zst,
            epoch,
            &["version 2.0-1, but the locked .SRCINFO says 1:2.0-1"],
        ),
        (info("tool", "tool", "2.1.r5.gabc-1", "x86_64"), "tool-2.1.r5.gabc-1-x86_64.pkg.tar.zst", zst, vcs, &[]),
        (
            info("tool", "tool", "2.1-1", "x86_64"),
            "tool-2.1-1-x86_64.pkg.tar.zst",
            zst,
            same,
            &["version 2.1-1, but the locked .SRCINFO says 2.0-1"],
        ),
        (
            info("tool", "tool", "1:2.1-1", "x86_64"),
            "tool-1:2.1-1-x86_64.pkg.tar.zst",
            zst,
            vcs,
            &["version 1:2.1-1, but the locked .SRCINFO says 2.0-1 (a VCS package may differ in pkgver only)"],
        ),
        (
            info("tool", "tool", "2.1-3", "x86_64"),
            "tool-2.1-3-x86_64.pkg.tar.zst",
            zst,
            vcs,
            &["version 2.1-3, but the locked .SRCINFO says 2.0-1 (a VCS package may differ in pkgver only)"],
        ),
        // The name makepkg gives it, with the PKGEXT repoctl sets, and zstd bytes.
        (
            info("tool", "tool", "2.0-1", "x86_64"),
            "tool-docs-2.0-1-x86_64.pkg.tar.zst",
            zst,
            same,
            &["makepkg names this package tool-2.0-1-x86_64.pkg.tar.zst, not tool-docs-2.0-1-x86_64.pkg.tar.zst"],
        ),
        (
            info("tool", "tool", "2.0-1", "x86_64"),
            "tool-2.0-1-x86_64.pkg.tar.xz",
            Compression::Xz,
            same,
            &[
                "makepkg names this package tool-2.0-1-x86_64.pkg.tar.zst, not tool-2.0-1-x86_64.pkg.tar.xz",
                "its bytes are xz, not zstd as its name says",
            ],
        ),
        (
            info("tool", "tool", "2.0-1", "x86_64"),
            "tool-2.0-1-x86_64.pkg.tar.zst",
            Compression::None,
            same,
            &["its bytes are an uncompressed tar, not zstd as its name says"],
        ),
    ];
    for (info, file, compression, change, want) in rows {
        let mut d = declared();
        change(&mut d);
        let got: Vec<String> = compare(&info, file, compression, &d).iter().map(ToString::to_string).collect();
        assert_eq!(got, want, "{info:?} as {file}");
    }
}

#[test]
fn the_version_pkgrel_1_after_a_new_pkgver_is_makepkgs_own() {
    assert!(version_allowed("2.1-1", "2.0-3", true), "update_pkgver resets pkgrel to 1");
    assert!(version_allowed("2.1-3", "2.0-3", true));
    assert!(!version_allowed("2.0-1", "2.0-3", true), "the same pkgver keeps its pkgrel");
    assert!(version_allowed("2.0-1", "0:2.0-1", false), "epoch 0 is no epoch");
    assert!(!version_allowed("not a version", "2.0-1", true));
}

#[test]
fn only_a_version_mismatch_is_a_version_mismatch() {
    let version = PackageError::Mismatch {
        file: "f".into(),
        info: Box::new(info("tool", "tool", "2.0-2", "x86_64")),
        mismatches: vec![Mismatch::Version { found: "2.0-2".into(), locked: "2.0-1".into(), vcs: false }],
    };
    assert_eq!(version.only_version(), Some("2.0-2"));
    let more = PackageError::Mismatch {
        file: "f".into(),
        info: Box::new(info("tool", "tool", "2.0-2", "x86_64")),
        mismatches: vec![
            Mismatch::Version { found: "2.0-2".into(), locked: "2.0-1".into(), vcs: false },
            Mismatch::Arch { found: "aarch64".into(), expected: "x86_64".into() },
        ],
    };
    assert_eq!(more.only_version(), None);
}

const PKGINFO: &str = "# Generated by makepkg 7.1.0\n# using fakeroot version 2.1.4\npkgname = tool\npkgbase = tool\n\
xdata = pkgtype=pkg\npkgver = 2.0-1\npkgdesc = \nurl = \nbuilddate = 1796596697\npackager = Unknown Packager\n\
size = 0\narch = x86_64\nlicense = MIT\ndepend = glibc\n";

#[test]
fn pkginfo_is_read_as_makepkg_writes_it() {
    let with_relations = PkgInfo { depends: vec!["glibc".into()], ..info("tool", "tool", "2.0-1", "x86_64") };
    assert_eq!(parse_pkginfo(PKGINFO).unwrap(), with_relations);
    let provides = format!("{PKGINFO}provides = libtool.so=1-64\ndepend = libstand.so=2-64\n");
    let read = parse_pkginfo(&provides).unwrap();
    assert_eq!(
        (read.depends, read.provides),
        (vec!["glibc".into(), "libstand.so=2-64".into()], vec!["libtool.so=1-64".into()])
    );
    let twice = format!("{PKGINFO}pkgname = libfoo\n");
    assert_eq!(parse_pkginfo(&twice).unwrap_err(), "gives `pkgname` twice");
    let no_base = PKGINFO.replace("pkgbase = tool\n", "");
    assert_eq!(parse_pkginfo(&no_base).unwrap_err(), "has no `pkgbase`");
    assert!(parse_pkginfo(&PKGINFO.replace("2.0-1", "2.0")).unwrap_err().starts_with("has pkgver `2.0`"));
    assert!(parse_pkginfo(&PKGINFO.replace("arch = x86_64", "arch = x86 64")).is_err());
    assert!(parse_pkginfo(&PKGINFO.replace("pkgname = tool", "pkgname = ../tool")).is_err());
}

/// Lines repo-add reads otherwise than a `key = value` split does (red-team review): it splits
/// on spaces and `=` and then `declare`s the key as a variable. Each is refused, naming it.
#[test]
fn pkginfo_lines_repo_add_would_read_otherwise_are_refused() {
    for (line, why) in [
        ("pkgname sudo", "not `key = value`"),
        ("pkgver 99-1", "not `key = value`"),
        ("replaces sudo", "not `key = value`"),
        ("pkgname=sudo", "not `key = value`"),
        ("INCLUDE_SIGS = 0", "not one alpm-pkginfo(5) defines"),
        ("pkgfile = other-1-1-x86_64.pkg.tar.zst", "not one alpm-pkginfo(5) defines"),
        ("tmpdir = /tmp/x", "not one alpm-pkginfo(5) defines"),
        (" pkgname = sudo", "leading space"),
        ("pkgname\t= sudo", "tab"),
        ("pkgdesc = x\r", "carriage return"),
    ] {
        let text = format!("{PKGINFO}{line}\n");
        let err = parse_pkginfo(&text).unwrap_err();
        assert!(err.contains(why), "{line:?}: {err}");
    }
    // What makepkg writes for an empty value, with or without the trailing space.
    assert!(parse_pkginfo(&PKGINFO.replace("url = \n", "url =\n")).is_ok());
}

#[test]
fn an_entry_under_a_pkginfo_directory_is_refused() {
    for name in [".PKGINFO/x", "./.PKGINFO/x"] {
        assert!(is_under_pkginfo(name), "{name}");
    }
    for name in [".PKGINFO", "usr/.PKGINFO/x", ".PKGINFOx/y"] {
        assert!(!is_under_pkginfo(name), "{name}");
    }
}

#[test]
fn pkginfo_entries_are_found_however_they_are_spelt() {
    for name in [".PKGINFO", "./.PKGINFO", "/.PKGINFO", "././.PKGINFO", ".//.PKGINFO"] {
        assert!(is_pkginfo(name), "{name}");
    }
    for name in ["usr/.PKGINFO", ".PKGINFO/x", ".PKGINFO.bak", ".BUILDINFO"] {
        assert!(!is_pkginfo(name), "{name}");
    }
}

fn tempdir() -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap();
    (dir, path)
}

/// A package archive of `entries` (name, text) in `dir/name`, zstd-compressed or not.
fn package(dir: &Utf8Path, name: &str, entries: &[(&str, &str)], zstd: bool) -> Utf8PathBuf {
    let mut tar = tar::Builder::new(Vec::new());
    for (entry, text) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, entry, text.as_bytes()).unwrap();
    }
    let bytes = tar.into_inner().unwrap();
    let bytes = if zstd { zstd::encode_all(bytes.as_slice(), 3).unwrap() } else { bytes };
    let path = dir.join(name);
    fs_err::write(&path, bytes).unwrap();
    path
}

fn sha256_of(path: &Utf8Path) -> String {
    format!("{:x}", sha2::Sha256::digest(fs_err::read(path).unwrap()))
}

#[test]
fn a_package_made_as_makepkg_makes_it_is_checked_and_hashed_in_one_pass() {
    let (_t, dir) = tempdir();
    // makepkg sorts .BUILDINFO and .MTREE before .PKGINFO.
    let entries =
        [(".BUILDINFO", "format = 2\n"), (".MTREE", "x"), (".PKGINFO", PKGINFO), ("usr/bin/tool", "#!/bin/sh\n")];
    let path = package(&dir, "tool-2.0-1-x86_64.pkg.tar.zst", &entries, true);
    let checked = check_file(&path, &declared()).unwrap();
    assert_eq!(
        (checked.pkgname(), checked.pkgbase(), checked.version(), checked.arch(), checked.file_name()),
        ("tool", "tool", "2.0-1", "x86_64", "tool-2.0-1-x86_64.pkg.tar.zst")
    );
    assert_eq!(checked.sha256(), sha256_of(&path), "the hash is of every byte of the file");
    assert!(!checked.is_debug());
    checked.verify().unwrap();
    assert_eq!(checked.read_verified().unwrap(), fs_err::read(&path).unwrap());

    // Bytes changed after the check: whatever reads the file later refuses it.
    let mut bytes = fs_err::read(&path).unwrap();
    bytes.push(0);
    fs_err::write(&path, bytes).unwrap();
    assert!(matches!(checked.verify(), Err(PackageError::Changed { .. })));
    assert!(matches!(checked.read_verified(), Err(PackageError::Changed { .. })));
    let other = dir.join("other");
    fs_err::create_dir(&other).unwrap();
    assert!(matches!(checked.copy_into(&other), Err(PackageError::Changed { .. })));
}

#[test]
fn a_forged_package_in_a_plain_tar_is_refused_naming_the_file_and_each_mismatch() {
    let (_t, dir) = tempdir();
    let forged = PKGINFO
        .replace("pkgname = tool\npkgbase = tool", "pkgname = libfoo\npkgbase = libfoo")
        .replace("2.0-1", "9.0-1");
    let path = package(&dir, "libfoo-9.0-1-x86_64.pkg.tar.zst", &[(".PKGINFO", &forged)], false);
    let err = check_file(&path, &declared()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("libfoo-9.0-1-x86_64.pkg.tar.zst does not match the locked commit: pkgname libfoo"),
        "{text}"
    );
    assert!(text.contains("pkgbase libfoo, not tool") && text.contains("an uncompressed tar"), "{text}");
}

#[test]
fn archives_without_exactly_one_pkginfo_are_not_packages() {
    let (_t, dir) = tempdir();
    let name = "tool-2.0-1-x86_64.pkg.tar.zst";
    let twice = package(&dir, name, &[(".PKGINFO", PKGINFO), ("./.PKGINFO", PKGINFO)], true);
    let err = check_file(&twice, &declared()).unwrap_err().to_string();
    assert!(err.ends_with("it holds more than one .PKGINFO"), "{err}");
    let none = package(&dir, name, &[("usr/bin/tool", "x")], true);
    assert!(check_file(&none, &declared()).unwrap_err().to_string().ends_with("it holds no .PKGINFO"));
    fs_err::write(dir.join(name), b"not an archive at all, but long enough to be one").unwrap();
    assert!(matches!(check_file(&dir.join(name), &declared()), Err(PackageError::NotAPackage { .. })));
}

#[test]
fn one_build_makes_each_pkgname_once_and_at_one_version() {
    let (_t, dir) = tempdir();
    let d = Declared { vcs: true, ..declared() };
    let a = package(&dir, "tool-2.0-1-x86_64.pkg.tar.zst", &[(".PKGINFO", PKGINFO)], true);
    let any = PKGINFO.replace("arch = x86_64", "arch = any");
    let b = package(&dir, "tool-2.0-1-any.pkg.tar.zst", &[(".PKGINFO", &any)], true);
    let problems = check_build(&[a.clone(), b], &d).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].to_string().contains("are both pkgname tool"), "{}", problems[0]);

    let docs = PKGINFO.replace("pkgname = tool\n", "pkgname = tool-docs\n").replace("2.0-1", "2.1-1");
    let c = package(&dir, "tool-docs-2.1-1-x86_64.pkg.tar.zst", &[(".PKGINFO", &docs)], true);
    let problems = check_build(&[a.clone(), c], &d).unwrap_err();
    assert!(problems[0].to_string().contains("is 2.1-1, but tool-2.0-1-x86_64.pkg.tar.zst"), "{}", problems[0]);
    assert_eq!(check_build(&[a], &d).unwrap().len(), 1);
}

fn origin() -> Origin {
    Origin {
        pkgbase: "tool".into(),
        aur: crate::provenance::AurSource {
            url: "https://aur.archlinux.org/tool.git".into(),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            files: format!("sha256:{}", "a".repeat(64)),
            path: None,
            git: None,
            patches: Vec::new(),
        },
        lock: crate::provenance::LockRef { sha256: format!("sha256:{}", "b".repeat(64)) },
        builder: crate::provenance::Builder { image: "i".into(), digest: "d".into(), base_digest: None },
        built_at: "2026-12-06T00:00:00Z".into(),
        rebuild: None,
    }
}

fn locked(base: &str) -> Option<Locked> {
    (base == "tool").then(|| Locked {
        declared: declared(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        files: format!("sha256:{}", "a".repeat(64)),
        patches: Vec::new(),
    })
}

#[test]
fn publish_dir_takes_a_file_whose_record_matches_the_lock_and_its_bytes() {
    let (_t, dir) = tempdir();
    let path = package(&dir, "tool-2.0-1-x86_64.pkg.tar.zst", &[(".PKGINFO", PKGINFO)], true);
    let (none, refused) = check_directory(std::slice::from_ref(&path), &locked);
    assert!(none.is_empty());
    assert!(matches!(refused[0].error, PackageError::NoProvenance { .. }), "{:?}", refused[0]);

    let record = check_file(&path, &declared()).unwrap().provenance(&origin());
    record.write_beside(&path).unwrap();
    let (ok, refused) = check_directory(std::slice::from_ref(&path), &locked);
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(ok[0].sha256(), record.sha256);

    // Built from another commit than the lock's.
    let mut other = record.clone();
    other.aur.commit = "f".repeat(40);
    other.write_beside(&path).unwrap();
    let (_, refused) = check_directory(std::slice::from_ref(&path), &locked);
    assert!(refused[0].error.to_string().contains(&format!("was built from AUR commit {}", "f".repeat(40))));
    assert_eq!(refused[0].pkgbase.as_deref(), Some("tool"));

    // Built with patches the lock does not record (issue 27).
    let mut other = record.clone();
    other.aur.patches = vec![format!("sha256:{}", "1".repeat(64))];
    other.write_beside(&path).unwrap();
    let (_, refused) = check_directory(std::slice::from_ref(&path), &locked);
    assert!(refused[0].error.to_string().contains("patches [sha256:1111"), "{}", refused[0].error);

    // A record that names other bytes.
    let mut other = record.clone();
    other.sha256 = "0".repeat(64);
    other.write_beside(&path).unwrap();
    let (_, refused) = check_directory(std::slice::from_ref(&path), &locked);
    assert!(matches!(refused[0].error, PackageError::Provenance { .. }), "{:?}", refused[0]);

    // A pkgbase the lock does not hold.
    let mut other = record;
    other.pkgbase = "nope".into();
    other.write_beside(&path).unwrap();
    let (_, refused) = check_directory(&[path], &locked);
    assert!(matches!(refused[0].error, PackageError::NotLocked { .. }), "{:?}", refused[0]);
}

#[test]
fn publish_dir_refuses_two_files_of_one_pkgname() {
    let (_t, dir) = tempdir();
    let d = Declared { vcs: true, ..declared() };
    let lock = |base: &str| locked(base).map(|l| Locked { declared: d.clone(), ..l });
    let one = package(&dir, "tool-2.0-1-x86_64.pkg.tar.zst", &[(".PKGINFO", PKGINFO)], true);
    let newer = PKGINFO.replace("2.0-1", "2.10-1");
    let two = package(&dir, "tool-2.10-1-x86_64.pkg.tar.zst", &[(".PKGINFO", &newer)], true);
    for p in [&one, &two] {
        check_file(p, &d).unwrap().provenance(&origin()).write_beside(p).unwrap();
    }
    let (ok, refused) = check_directory(&[one, two], &lock);
    assert!(ok.is_empty(), "{ok:?}");
    let said = refused[0].error.to_string();
    assert_eq!(
        said,
        "two versions of pkgname tool are given (tool-2.0-1-x86_64.pkg.tar.zst, tool-2.10-1-x86_64.pkg.tar.zst): publish one"
    );
    assert_eq!(refused[0].pkgbase.as_deref(), Some("tool"));
}

/// Red-team finding F2: a signed build of the same file name from another PKGBUILD (an older
/// commit of the same version, put back in the bucket) is told apart by its `.BUILDINFO`.
#[test]
fn two_builds_are_of_one_pkgbuild_only_when_their_buildinfo_says_so() {
    let (_t, dir) = tempdir();
    let buildinfo = |sum: &str| format!("format = 2\npkgname = tool\npkgbuild_sha256sum = {sum}\npkgver = 2.0-1\n");
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    for sub in ["ours", "same", "other", "none"] {
        fs_err::create_dir_all(dir.join(sub)).unwrap();
    }
    let ours = package(
        &dir.join("ours"),
        "tool-2.0-1-x86_64.pkg.tar.zst",
        &[(".PKGINFO", PKGINFO), (".BUILDINFO", &buildinfo(&a))],
        true,
    );
    let same = package(
        &dir.join("same"),
        "tool-2.0-1-x86_64.pkg.tar.zst",
        &[(".PKGINFO", PKGINFO), (".BUILDINFO", &buildinfo(&a))],
        true,
    );
    let other = package(
        &dir.join("other"),
        "tool-2.0-1-x86_64.pkg.tar.zst",
        &[(".PKGINFO", PKGINFO), (".BUILDINFO", &buildinfo(&b))],
        true,
    );
    let none = package(&dir.join("none"), "tool-2.0-1-x86_64.pkg.tar.zst", &[(".PKGINFO", PKGINFO)], true);
    assert_eq!(same_pkgbuild(&same, &ours), Ok(true));
    assert_eq!(same_pkgbuild(&other, &ours), Ok(false));
    assert!(same_pkgbuild(&none, &ours).unwrap_err().contains("no .BUILDINFO"));
}

/// Issue 26: a rebuild's check accepts exactly the planned dotted pkgrel, spelt as planned;
/// `publish DIR` takes no rebuild made elsewhere (the attacker review's F1: a shard's record
/// would be all that says it was due).
#[test]
fn a_rebuild_is_accepted_at_its_planned_dotted_pkgrel_only() {
    let (_t, dir) = tempdir();
    let rebuilt = PKGINFO.replace("2.0-1", "2.0-1.1");
    let path = package(&dir, "tool-2.0-1.1-x86_64.pkg.tar.zst", &[(".PKGINFO", &rebuilt)], true);
    let bump = crate::alpm::PkgrelBump::next("2.0-1", Some("2.0-1"));
    let planned = Declared { bump: bump.clone(), ..declared() };
    assert!(check_file(&path, &declared()).is_err(), "the locked version's check refuses 2.0-1.1");
    let record = check_file(&path, &planned).unwrap().provenance(&Origin { rebuild: Some("why".into()), ..origin() });
    let further = Declared { bump: crate::alpm::PkgrelBump::next("2.0-1", Some("2.0-1.1")), ..declared() };
    assert!(check_file(&path, &further).is_err(), "a bump to 2.0-1.2 refuses 2.0-1.1");
    let locked_file = package(&dir, "tool-2.0-1-x86_64.pkg.tar.zst", &[(".PKGINFO", PKGINFO)], true);
    assert!(check_file(&locked_file, &planned).is_err(), "a rebuild refuses the locked version");

    // A rebuild made elsewhere is refused by publish DIR: nothing but its record says it was due.
    record.write_beside(&path).unwrap();
    let (ok, refused) = check_directory(std::slice::from_ref(&path), &locked);
    assert!(ok.is_empty(), "{ok:?}");
    assert!(
        refused[0].error.to_string().contains("is a rebuild with a dotted pkgrel (2.0-1.1) made elsewhere"),
        "{:?}",
        refused[0]
    );
    // A pkgrel spelt otherwise than planned is another file: refused.
    let spelt = PKGINFO.replace("2.0-1", "2.0-01.1");
    let odd = package(&dir, "tool-2.0-01.1-x86_64.pkg.tar.zst", &[(".PKGINFO", &spelt)], true);
    assert!(check_file(&odd, &planned).is_err(), "2.0-01.1 is not the planned 2.0-1.1");
    let mut not_a_rebuild = record;
    not_a_rebuild.rebuild = None;
    not_a_rebuild.write_beside(&path).unwrap();
    let (_, refused) = check_directory(&[path], &locked);
    assert!(refused[0].error.to_string().contains("version 2.0-1.1"), "{:?}", refused[0]);
}

/// Red-team finding (memory bomb): a package whose tar stream holds a pax extended header
/// claiming 256 MiB (here followed by 256 MiB of zeros, a few KiB of zstd) made the `tar` crate
/// read all of it into memory before the check saw an entry. It is refused when its header is
/// read ([`crate::alpm::TarGuard`]), by the check and by the `.BUILDINFO` reader alike.
#[test]
fn a_package_with_an_oversized_pax_header_is_refused_before_its_body_is_read() {
    let (_t, dir) = tempdir();
    let size: u64 = 256 << 20;
    let mut header = tar::Header::new_ustar();
    header.set_path("././@PaxHeader").unwrap();
    header.set_entry_type(tar::EntryType::XHeader);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_cksum();
    let path = dir.join("tool-2.0-1-x86_64.pkg.tar.zst");
    let mut encoder = zstd::Encoder::new(fs_err::File::create(&path).unwrap(), 1).unwrap();
    encoder.write_all(header.as_bytes()).unwrap();
    std::io::copy(&mut std::io::repeat(0).take(size + 1024), &mut encoder).unwrap();
    encoder.finish().unwrap();
    assert!(fs_err::metadata(&path).unwrap().len() < 1 << 20, "the bomb is small");

    let err = check_file(&path, &declared()).unwrap_err();
    assert!(matches!(err, PackageError::NotAPackage { .. }), "{err:?}");
    assert!(err.to_string().contains("pax extended header of 268435456 bytes, more than 1048576"), "{err}");
    let err = same_pkgbuild(&path, &path).unwrap_err();
    assert!(err.contains("pax extended header of 268435456 bytes"), "{err}");
}
