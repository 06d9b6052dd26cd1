//! `path:` packages in the plan (issue 27): they take part like AUR packages, win over an AUR
//! package of the same name, and are built only at the files the lock records.
use super::*;

/// repo.yaml listing `app` (AUR) and `path: pkgbuilds/lib` in a fresh directory, the universe
/// resolved with `lib`'s `.SRCINFO` as made from its files (digest `tree-sha256:1…`).
fn setup() -> (tempfile::TempDir, Config, MemoryAur, Vec<crate::aur::LocalPackage>) {
    let dir = tempfile::tempdir().unwrap();
    let root = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
    fs_err::create_dir_all(root.join("pkgbuilds/lib")).unwrap();
    fs_err::write(root.join("pkgbuilds/lib/PKGBUILD"), "").unwrap();
    let yaml = "name: r\npackages:\n  - app\n  - path: pkgbuilds/lib\n";
    let config = crate::config::parse(&root.join("repo.yaml"), yaml.as_bytes()).unwrap();
    // The AUR has a `lib` too, at a higher version: the listed directory wins.
    let aur = MemoryAur::new(&texts(&[aur("app", "app", "1.0-1", &["lib"]), aur("lib", "lib", "9.0-1", &[])]));
    let info = crate::aur::SrcInfo::parse(&srcinfo("lib", "2.0-1", &[]), "x86_64").unwrap();
    let local =
        vec![crate::aur::LocalPackage { name: "lib".into(), digest: digest('1'), srcinfo: Ok(info), held: None }];
    (dir, config, aur, local)
}

fn digest(c: char) -> String {
    format!("tree-sha256:{}", c.to_string().repeat(64))
}

fn universe_with(config: &Config, aur: &MemoryAur, local: &[crate::aur::LocalPackage]) -> Universe {
    let listed: Vec<(String, bool)> = config.packages.iter().map(|p| (p.name.clone(), p.nocheck)).collect();
    let official = official();
    let query = crate::aur::Query {
        listed: &listed,
        arch: &config.arch,
        official: &official,
        published: &[],
        pinned: &Default::default(),
        local,
    };
    resolve_now(aur, &query)
}

fn local_entry(files: &str) -> crate::lock::Entry {
    crate::lock::Entry {
        path: Some("pkgbuilds/lib".into()),
        commit: String::new(),
        committed: String::new(),
        maintainer: None,
        files: files.into(),
        ..lock_entry("lib", "2.0-1", "")
    }
}

fn plan_with(config: &Config, u: &Universe, lib: crate::lock::Entry) -> Plan {
    let mut lock = crate::lock::Lock::default();
    lock.entries.insert("app".into(), lock_entry("app", "1.0-1", &commit_of("app")));
    lock.entries.insert("lib".into(), lib);
    make(&Inputs { config, universe: u, repo: &[], only: &[], mismatches: &BTreeMap::new(), lock: &lock }).unwrap()
}

#[test]
fn a_path_package_satisfies_a_dependency_before_the_aur_and_is_built_first() {
    let (_dir, config, aur, local) = setup();
    let u = universe_with(&config, &aur, &local);
    assert_eq!(
        u.satisfiers["lib"],
        crate::aur::Satisfier::Aur { pkgbase: "lib".into(), pkgname: "lib".into(), via_provides: false }
    );
    let plan = plan_with(&config, &u, local_entry(&digest('1')));
    assert_eq!(actions(&plan), [("lib".to_string(), Action::Build), ("app".to_string(), Action::Build)]);
    let lib = plan.step("lib").unwrap();
    assert_eq!(lib.aur_version.as_deref(), Some("2.0-1"), "the directory's version, not the AUR's 9.0-1");
    assert_eq!(lib.local.as_ref().map(|l| l.written.as_str()), Some("pkgbuilds/lib"));
    assert_eq!((lib.commit.as_deref(), lib.files_hash.clone()), (None, Some(digest('1'))));
    assert!(lib.problems.is_empty(), "{:?}", lib.problems);
    assert_eq!(plan.step("app").unwrap().depends_on, ["lib"]);
}

#[test]
fn a_directory_changed_since_the_lock_is_not_built_and_says_to_update() {
    let (_dir, config, aur, local) = setup();
    let u = universe_with(&config, &aur, &local);
    let plan = plan_with(&config, &u, local_entry(&digest('2')));
    let lib = plan.step("lib").unwrap();
    assert_eq!(lib.action, Action::Blocked);
    let problem = &lib.problems[0];
    assert!(
        problem.message.starts_with("the files of `pkgbuilds/lib` changed since repoctl.lock was written"),
        "{}",
        problem.message
    );
    assert_eq!(problem.hint, "run `repoctl update lib`, review what it shows and commit repoctl.lock");
    assert_eq!(plan.step("app").unwrap().action, Action::Blocked, "what needs it waits for it");
}

/// Attacker review F1: the same locked files whose PKGBUILD now makes another pkgname or
/// version (it reads the date, the host) is not built: the package check would take them.
#[test]
fn locked_files_that_now_make_other_packages_are_not_built() {
    let (_dir, config, aur, local) = setup();
    let u = universe_with(&config, &aur, &local);
    for (pkgnames, version) in [(vec!["lib", "openssl"], "2.0-1"), (vec!["lib"], "2.0-2")] {
        let entry = crate::lock::Entry {
            pkgnames: pkgnames.iter().map(|n| n.to_string()).collect(),
            version: version.into(),
            ..local_entry(&digest('1'))
        };
        let plan = plan_with(&config, &u, entry);
        let lib = plan.step("lib").unwrap();
        assert_eq!(lib.action, Action::Blocked, "{pkgnames:?} {version}");
        assert!(
            lib.problems[0]
                .message
                .starts_with("the locked files of `pkgbuilds/lib` now make lib 2.0-1, but repoctl.lock says"),
            "{}",
            lib.problems[0].message
        );
    }
}

#[test]
fn a_lock_entry_of_the_other_kind_is_a_problem() {
    let (_dir, config, aur, local) = setup();
    let u = universe_with(&config, &aur, &local);
    let plan = plan_with(&config, &u, lock_entry("lib", "2.0-1", &commit_of("lib")));
    let lib = plan.step("lib").unwrap();
    assert_eq!(
        lib.problems[0].message,
        "repoctl.lock holds lib as an AUR commit, but repo.yaml lists it as a `path:` package"
    );
}

#[test]
fn a_pkgbuild_that_does_not_source_is_that_packages_problem() {
    let (_dir, config, aur, mut local) = setup();
    local[0].srcinfo = Err("`makepkg --printsrcinfo` failed in pkgbuilds/lib (exit code 1): syntax error".into());
    let u = universe_with(&config, &aur, &local);
    let plan = plan_with(&config, &u, local_entry(&digest('1')));
    let lib = plan.step("lib").unwrap();
    assert_eq!(lib.action, Action::Blocked);
    assert_eq!(
        lib.problems[0].hint,
        "fix the PKGBUILD in its directory, or the entry: `makepkg --printsrcinfo` must succeed there and make the entry's pkgbase"
    );
}
