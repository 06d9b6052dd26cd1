//! Every planning problem that concerns some packages fails those packages and what needs
//! them, never the plan (issue 24): each kind beside an unrelated package that is still built.
use super::*;

fn diagnostics(listed: &[&str], p: &Plan) -> Vec<String> {
    crate::commands::plan_diagnostics(&config(listed), p).0.iter().map(|d| d.to_string()).collect()
}

/// The plan of `listed` with `pins` (pkgbase -> commit) locked, every other pkgbase but
/// `unlocked` locked at the AUR's head.
fn plan_pinned(listed: &[&str], aur: &MemoryAur, pins: &[(&str, &str)], unlocked: &[&str]) -> Plan {
    let c = config(listed);
    let names: Vec<(String, bool)> = c.packages.iter().map(|p| (p.name.clone(), p.nocheck)).collect();
    let pinned: BTreeMap<String, String> = pins.iter().map(|(b, c)| (b.to_string(), c.to_string())).collect();
    let official = official();
    let query = crate::aur::Query {
        listed: &names,
        arch: &c.arch,
        official: &official,
        published: &[],
        pinned: &pinned,
        local: &[],
    };
    let u = resolve_now(aur, &query);
    let mut lock = lock_all(&u);
    for (base, commit) in &pinned {
        let version = u.srcinfo.get(base).map_or("1-1", |s| s.version.as_str());
        lock.entries.insert(base.clone(), lock_entry(base, version, commit));
    }
    lock.entries.retain(|base, _| !unlocked.contains(&base.as_str()));
    make(&Inputs { config: &c, universe: &u, repo: &[], only: &[], mismatches: &BTreeMap::new(), lock: &lock }).unwrap()
}

/// A listed package's problem is said on its own entry, even when a listed package that needs
/// it comes first in repo.yaml (which is told that it cannot be built, on its own line).
#[test]
fn a_listed_packages_problem_is_on_its_own_line_not_on_a_dependants() {
    let texts = [srcinfo("app", "1-1", &["depends = x"]), srcinfo("x", "1-1", &["depends = nowhere"])];
    let listed = ["app", "x"];
    let p = plan_config(&config(&listed), &MemoryAur::new(&texts), &[], &[]).unwrap();
    let diags = diagnostics(&listed, &p);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert!(diags[0].starts_with("repo.yaml:3:5: app needs x, which cannot be built"), "{diags:#?}");
    assert!(diags[1].starts_with("repo.yaml:4:5: x needs `nowhere`"), "{diags:#?}");
}

/// A dependency of an unlisted AUR dependency that nothing satisfies: on the line of the
/// listed package that pulls it in.
#[test]
fn an_unresolvable_dependency_of_an_unlisted_package_fails_what_needs_it_only() {
    let texts = [
        srcinfo("app", "1-1", &["depends = lib"]),
        srcinfo("lib", "1-1", &["makedepends = nowhere"]),
        srcinfo("other", "1-1", &[]),
    ];
    let listed = ["other", "app"];
    let p = plan_config(&config(&listed), &MemoryAur::new(&texts), &[], &[]).unwrap();
    assert_eq!(actions(&p), [a("lib", Action::Blocked), a("app", Action::Blocked), a("other", Action::Build)]);
    let diags = diagnostics(&listed, &p);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert!(diags.iter().any(|d| d.starts_with("repo.yaml:4:5: app needs lib, which cannot be built")), "{diags:#?}");
    let lib = diags.iter().find(|d| d.starts_with("repo.yaml:4:5: lib needs `nowhere`")).expect("lib's problem");
    assert!(lib.contains("(lib is an AUR dependency of app)"), "{diags:#?}");
}

/// A versioned dependency that the package of that name does not satisfy (the AUR's `lib` is
/// 2-1, `app` needs `lib>=3`): makepkg would refuse it in the build, so it is a problem of
/// `app` now, naming what the AUR has, and `lib` is not built for it.
#[test]
fn a_version_requirement_nothing_satisfies_is_a_problem_of_what_needs_it() {
    let texts = [
        srcinfo("app", "1-1", &["depends = lib>=3"]),
        srcinfo("lib", "2-1", &[]),
        srcinfo("other", "1-1", &["depends = glibc>=99"]),
        srcinfo("fine", "1-1", &["depends = lib>=2"]),
    ];
    let listed = ["app", "other", "fine"];
    let p = plan_config(&config(&listed), &MemoryAur::new(&texts), &[], &[]).unwrap();
    assert_eq!(
        actions(&p),
        [a("app", Action::Blocked), a("lib", Action::Build), a("fine", Action::Build), a("other", Action::Blocked)]
    );
    let app = &p.step("app").unwrap().problems;
    assert!(app[0].message.contains("`lib>=3`") && app[0].message.contains("2-1"), "{app:?}");
    assert!(p.step("app").unwrap().depends_on.is_empty(), "{app:?}");
    let other = &p.step("other").unwrap().problems;
    assert!(other[0].message.contains("`glibc>=99`") && other[0].message.contains("2.41-1"), "{other:?}");
    // A provider that satisfies it is taken instead.
    let texts = [
        srcinfo("app", "1-1", &["depends = lib>=3"]),
        srcinfo("lib", "2-1", &[]),
        srcinfo("lib-git", "r9-1", &["provides = lib=3.1"]),
    ];
    let p = plan_config(&config(&["app"]), &MemoryAur::new(&texts), &[], &[]).unwrap();
    assert_eq!(actions(&p), [a("lib-git", Action::Build), a("app", Action::Build)]);
}

/// Two pkgbases of the plan that make one pkgname: `foo` moved from foo-split to its own
/// pkgbase, and foo-split is locked at a commit that still makes it. repo-add keeps one entry
/// per pkgname, so which one is published would be a guess (and the publish would refuse the
/// pair): both are problems, on their lines; the rest is built and published.
#[test]
fn two_pkgbases_making_one_pkgname_are_a_problem_of_both() {
    let split = |names: &[&str]| {
        let mut text = "pkgbase = foo-split\n\tpkgver = 2\n\tpkgrel = 1\n\tarch = any\n".to_string();
        names.iter().for_each(|n| text.push_str(&format!("\npkgname = {n}\n")));
        text
    };
    let mut aur = MemoryAur::new(&[srcinfo("foo", "3-1", &[]), split(&["foo-extra"]), srcinfo("other", "1-1", &[])]);
    let old = "c".repeat(40);
    aur.commits.insert(old.clone(), split(&["foo", "foo-extra"]));
    let listed = ["foo", "foo-split", "other"];
    let p = plan_pinned(&listed, &aur, &[("foo-split", &old)], &[]);
    assert_eq!(actions(&p), [a("foo", Action::Blocked), a("foo-split", Action::Blocked), a("other", Action::Build)]);
    for base in ["foo", "foo-split"] {
        let problems = &p.step(base).unwrap().problems;
        assert!(
            problems[0].message.contains("`foo`") && problems[0].message.contains("foo, foo-split"),
            "{problems:?}"
        );
    }
    let diags = diagnostics(&listed, &p);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    // A pkgbase that is not locked is not built: it conflicts with nothing yet.
    let p = plan_pinned(&listed, &aur, &[("foo-split", &old)], &["foo"]);
    assert_eq!(actions(&p), [a("foo", Action::Skip), a("foo-split", Action::Build), a("other", Action::Build)]);
}

/// A .SRCINFO that alpm-srcinfo refuses, in one pkgbase only, listed or not.
#[test]
fn a_broken_srcinfo_fails_its_pkgbase_and_what_needs_it_only() {
    let broken = "pkgbase = broken\n\tpkgver = 1\n\tpkgrel = 1\n\tarch = any\n\tdepends = \"unterminated\n\npkgname = broken\n\tnonsense key here\n";
    let texts = [broken.to_string(), srcinfo("app", "1-1", &["depends = broken"]), srcinfo("other", "1-1", &[])];
    let p = plan_config(&config(&["app", "other"]), &MemoryAur::new(&texts), &[], &[]).unwrap();
    assert_eq!(actions(&p), [a("broken", Action::Blocked), a("app", Action::Blocked), a("other", Action::Build)]);
    let p = plan_config(&config(&["broken", "other"]), &MemoryAur::new(&texts), &[], &[]).unwrap();
    assert_eq!(actions(&p), [a("broken", Action::Blocked), a("other", Action::Build)]);
    let diags = diagnostics(&["broken", "other"], &p);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert!(diags[0].starts_with("repo.yaml:3:5:"), "{diags:#?}");
}

/// A locked commit the AUR no longer has (history rewritten): that pkgbase fails, the rest
/// is built.
#[test]
fn a_locked_commit_the_aur_lost_fails_its_pkgbase_only() {
    let aur = MemoryAur::new(&[srcinfo("app", "1-1", &[]), srcinfo("other", "1-1", &[])]);
    let p = plan_pinned(&["app", "other"], &aur, &[("app", &"b".repeat(40))], &[]);
    assert_eq!(actions(&p), [a("app", Action::Blocked), a("other", Action::Build)]);
    assert!(p.step("app").unwrap().problems[0].message.contains("no commit"), "{:?}", p.step("app"));
}

/// What a person reads for the kinds above that had no words before: a refused version (of
/// the AUR's package and of an official one) and a pkgname made by two pkgbases.
#[test]
fn the_new_kinds_of_problem_read_as_pinned() {
    let split =
        "pkgbase = foo-split\n\tpkgver = 2\n\tpkgrel = 1\n\tarch = any\n\npkgname = foo\n\npkgname = foo-extra\n";
    let mut aur = MemoryAur::new(&[
        srcinfo("app", "1-1", &["depends = lib>=3", "makedepends = glibc>=99"]),
        srcinfo("lib", "2-1", &[]),
        srcinfo("foo", "3-1", &[]),
        srcinfo("foo-split", "3-1", &[]),
    ]);
    let old = "c".repeat(40);
    aur.commits.insert(old.clone(), split.to_string());
    let listed = ["app", "foo", "foo-split"];
    let p = plan_pinned(&listed, &aur, &[("foo-split", &old)], &[]);
    insta::assert_snapshot!("new_kinds_diagnostics", diagnostics(&listed, &p).join("\n"));
}
