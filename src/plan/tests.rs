//! Plan tables: what the plan decides from repo.yaml, the AUR (as `.SRCINFO` files, through
//! the same resolution as the real AUR), the official repositories and the sync database.
use super::*;
use crate::aur::memory::{MemoryAur, resolve_now, srcinfo};
use crate::official::OfficialRepos;
use crate::official::testing::sync_db;

mod cycles;
mod kinds;
mod local;
mod waves;

/// One pkgname of the AUR: (pkgname, pkgbase, version, depends).
type Pkg = (String, String, String, Vec<String>);

fn aur(name: &str, base: &str, version: &str, depends: &[&str]) -> Pkg {
    (name.into(), base.into(), version.into(), depends.iter().map(|s| s.to_string()).collect())
}

/// `.SRCINFO` texts: one per pkgbase, every pkgname with its own depends.
fn texts(pkgs: &[Pkg]) -> Vec<String> {
    let mut bases: BTreeMap<&str, Vec<&Pkg>> = BTreeMap::new();
    for p in pkgs {
        bases.entry(&p.1).or_default().push(p);
    }
    bases
        .into_iter()
        .map(|(base, pkgs)| {
            let mut text = srcinfo(base, &pkgs[0].2, &[]);
            text.truncate(text.find("\npkgname = ").unwrap() + 1);
            for (name, _, _, depends) in pkgs {
                text.push_str(&format!("\npkgname = {name}\n"));
                for d in depends {
                    text.push_str(&format!("\tdepends = {d}\n"));
                }
            }
            text
        })
        .collect()
}

/// [core] as the plans below see it.
fn official() -> OfficialRepos {
    let core = sync_db(&[
        ("glibc", "2.41-1", &[]),
        ("gcc-libs", "14.2.1-1", &[]),
        ("bash", "5.2-1", &["sh"]),
        ("rust", "1:1.86.0-1", &["cargo"]),
    ]);
    OfficialRepos::from_sync_dbs(&[("core".into(), core)]).unwrap()
}

fn entry(name: &str, base: &str, version: &str) -> RepoEntry {
    RepoEntry {
        name: name.into(),
        base: base.into(),
        version: version.into(),
        filename: format!("{name}-{version}-any.pkg.tar.zst"),
        signed: false,
        ..RepoEntry::default()
    }
}

fn config(listed: &[&str]) -> Config {
    let mut text = String::from("name: r\npackages:\n");
    for l in listed {
        text.push_str(&format!("  - {l}\n"));
    }
    crate::config::parse("repo.yaml".into(), text.as_bytes()).unwrap()
}

/// The universe the real resolution finds in `aur` for `config`.
fn universe(config: &Config, aur: &MemoryAur, repo: &[RepoEntry]) -> Universe {
    let listed: Vec<(String, bool)> = config.packages.iter().map(|p| (p.name.clone(), p.nocheck)).collect();
    let official = official();
    let query = crate::aur::Query {
        listed: &listed,
        arch: &config.arch,
        official: &official,
        published: repo,
        pinned: &Default::default(),
        local: &[],
    };
    resolve_now(aur, &query)
}

fn plan_config(config: &Config, aur: &MemoryAur, repo: &[RepoEntry], only: &[&str]) -> Result<Plan, PlanError> {
    let u = universe(config, aur, repo);
    let only: Vec<String> = only.iter().map(|s| s.to_string()).collect();
    make(&Inputs { config, universe: &u, repo, only: &only, mismatches: &BTreeMap::new(), lock: &lock_all(&u) })
}

/// A lock of every pkgbase the universe has, at the commit it was resolved at.
fn lock_all(u: &Universe) -> crate::lock::Lock {
    let mut lock = crate::lock::Lock::default();
    for (base, info) in &u.srcinfo {
        lock.entries.insert(base.clone(), lock_entry(base, &info.version, &commit_of(base)));
    }
    lock
}

fn commit_of(base: &str) -> String {
    format!("{:0>40}", base.bytes().map(|b| format!("{:x}", b % 16)).collect::<String>())
}

fn lock_entry(base: &str, version: &str, commit: &str) -> crate::lock::Entry {
    crate::lock::Entry {
        path: None,
        git: None,
        name: base.into(),
        commit: commit.into(),
        version: version.into(),
        pkgnames: vec![base.into()],
        maintainer: Some("someone".into()),
        comaintainers: vec![],
        committed: "2026-11-01T00:00:00Z".into(),
        files: format!("sha256:{}", "0".repeat(64)),
        patches: Vec::new(),
    }
}

fn plan(listed: &[&str], pkgs: Vec<Pkg>, repo: &[RepoEntry], only: &[&str]) -> Result<Plan, PlanError> {
    plan_config(&config(listed), &MemoryAur::new(&texts(&pkgs)), repo, only)
}

/// A plan from `.SRCINFO` texts as written.
fn plan_srcinfo(listed: &[&str], texts: &[String], repo: &[RepoEntry]) -> Plan {
    plan_config(&config(listed), &MemoryAur::new(texts), repo, &[]).unwrap()
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.packages.iter().map(|s| (s.pkgbase.clone(), s.action)).collect()
}

fn a(base: &str, action: Action) -> (String, Action) {
    (base.to_string(), action)
}

#[test]
fn aur_dependencies_come_first_and_are_named_in_depends_on() {
    let pkgs = vec![
        aur("app", "app", "1-1", &["libb>=2", "glibc"]),
        aur("libb", "libb", "2-1", &["liba"]),
        aur("liba", "liba", "1-1", &[]),
    ];
    let p = plan(&["app"], pkgs, &[], &[]).unwrap();
    assert_eq!(actions(&p), [a("liba", Action::Build), a("libb", Action::Build), a("app", Action::Build)]);
    assert_eq!(p.step("app").unwrap().depends_on, ["libb"]);
    assert!(p.step("app").unwrap().listed && !p.step("liba").unwrap().listed);
    assert_eq!(p.closure("app").into_iter().collect::<Vec<_>>(), ["liba", "libb"]);
}

#[test]
fn versions_decide_between_build_and_skip() {
    let pkgs = vec![
        aur("same", "same", "1.0-1", &[]),
        aur("newer", "newer", "1:0.1-1", &[]),
        aur("older", "older", "1.0-1", &[]),
    ];
    let repo = [entry("same", "same", "1.0-1"), entry("newer", "newer", "2.0-1"), entry("older", "older", "1.0-2")];
    let p = plan(&["same", "newer", "older"], pkgs, &repo, &[]).unwrap();
    assert_eq!(p.step("same").unwrap().action, Action::Skip);
    assert_eq!(p.step("newer").unwrap().action, Action::Build, "an epoch beats any pkgver");
    assert_eq!(p.step("older").unwrap().action, Action::Skip, "the repository's pkgrel is newer");
    assert!(p.step("newer").unwrap().reason.to_string().contains("1:0.1-1"));
}

#[test]
fn dropped_packages_and_orphaned_dependencies_are_removed_by_exact_name() {
    let repo = [
        entry("keep", "keep", "1-1"),
        entry("foo", "foo", "1-1"),
        entry("foo-git", "foo-git", "r1-1"),
        entry("gone-a", "gone", "1-1"),
        entry("gone-b", "gone", "1-1"),
    ];
    let p = plan(
        &["keep", "foo-git"],
        vec![aur("keep", "keep", "1-1", &[]), aur("foo-git", "foo-git", "r1-1", &[])],
        &repo,
        &[],
    )
    .unwrap();
    let removed: Vec<(String, Vec<String>)> = p.to_remove().map(|s| (s.pkgbase.clone(), s.pkgnames.clone())).collect();
    assert_eq!(
        removed,
        [("foo".to_string(), vec!["foo".to_string()]), ("gone".into(), vec!["gone-a".into(), "gone-b".into()])]
    );
}

#[test]
fn packages_can_be_listed_by_pkgbase() {
    let pkgs = vec![aur("split-a", "split", "1-1", &[]), aur("split-b", "split", "1-1", &["split-a"])];
    let p = plan(&["split"], pkgs, &[], &[]).unwrap();
    assert_eq!(actions(&p), [a("split", Action::Build)]);
    assert_eq!(p.packages[0].pkgnames, ["split-a", "split-b"]);
    assert!(p.packages[0].depends_on.is_empty(), "a pkgbase does not depend on itself");
}

#[test]
fn unknown_packages_are_problems_of_their_own_and_the_rest_is_planned() {
    let p = plan(&["real", "ghost"], vec![aur("real", "real", "1-1", &[])], &[], &[]).unwrap();
    assert_eq!(actions(&p), [a("ghost", Action::Blocked), a("real", Action::Build)]);
    let ghost = p.step("ghost").unwrap();
    assert!(ghost.problems[0].message.contains("not found in the AUR"), "{:?}", ghost.problems);
    assert!(p.step("real").unwrap().problems.is_empty());
}

#[test]
fn naming_packages_builds_only_them_and_what_they_need_and_removes_nothing() {
    let pkgs =
        vec![aur("app", "app", "1-1", &["lib"]), aur("lib", "lib", "1-1", &[]), aur("other", "other", "1-1", &[])];
    let repo = [entry("app", "app", "1-1"), entry("lib", "lib", "1-1"), entry("stale", "stale", "1-1")];
    let p = plan(&["app", "other"], pkgs, &repo, &["app"]).unwrap();
    assert_eq!(actions(&p), [a("lib", Action::Skip), a("app", Action::Build)]);
    assert!(p.step("app").unwrap().reason.to_string().contains("requested"));
    let err = plan(&["app"], vec![aur("app", "app", "1-1", &[])], &[], &["nope"]).unwrap_err();
    assert!(matches!(err, PlanError::NotListed { .. }));
}

#[test]
fn the_json_plan_has_the_documented_fields() {
    let p = plan(&["app"], vec![aur("app", "app", "1-1", &[])], &[], &[]).unwrap();
    let json = serde_json::to_value(&p).unwrap();
    let step = &json["packages"][0];
    for key in ["pkgbase", "pkgnames", "action", "reason", "aur_version", "repo_version", "depends_on"] {
        assert!(step.get(key).is_some(), "{key} missing from {step}");
    }
    assert_eq!(step["action"], "build");
    assert_eq!(step["repo_version"], serde_json::Value::Null);
}

#[test]
fn a_pkgname_that_moved_to_another_pkgbase_is_rebuilt_not_removed() {
    // `foo` used to be its own pkgbase; the AUR now makes it from `foo-split`.
    let pkgs = vec![aur("foo", "foo-split", "2-1", &[]), aur("foo-extra", "foo-split", "2-1", &[])];
    let repo = [entry("foo", "foo", "1-1")];
    let p = plan(&["foo"], pkgs, &repo, &[]).unwrap();
    assert_eq!(actions(&p), [a("foo-split", Action::Build)]);
}

#[test]
fn shards_keep_dependants_with_their_dependencies_and_balance_the_rest() {
    let pkgs = vec![
        aur("app", "app", "1-1", &["lib"]),
        aur("lib", "lib", "1-1", &["base-lib"]),
        aur("base-lib", "base-lib", "1-1", &[]),
        aur("tool", "tool", "1-1", &[]),
        aur("other", "other", "1-1", &[]),
        aur("fresh", "fresh", "1-1", &[]),
    ];
    let repo = [entry("fresh", "fresh", "1-1")];
    let p = plan(&["app", "tool", "other", "fresh"], pkgs, &repo, &[]).unwrap();
    let shards = p.shards(2);
    assert_eq!(shards.len(), 2);
    assert_eq!(shards[0], ["base-lib", "lib", "app"], "one chain, in build order, on one shard");
    assert_eq!(shards[1].len(), 2, "the two independent builds balance the other shard: {shards:?}");
    assert!(!shards.concat().contains(&"fresh".to_string()), "up-to-date packages are in no shard");
    assert_eq!(p.shards(10).len(), 3, "never more shards than independent groups");
    assert_eq!(p.shards(1), [p.to_build().map(|s| s.pkgbase.clone()).collect::<Vec<_>>()]);
    // Every shard can be built on its own: a shard may name an unlisted AUR dependency.
    let lib_only =
        plan(&["app"], vec![aur("app", "app", "1-1", &["lib"]), aur("lib", "lib", "1-1", &[])], &[], &["lib"]);
    assert_eq!(actions(&lib_only.unwrap()), [a("lib", Action::Build)]);
}

fn built(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs.iter().map(|(b, names)| (b.to_string(), names.iter().map(|n| n.to_string()).collect())).collect()
}

/// A split pkgname the PKGBUILD stopped making, and a `-debug` package an older repoctl
/// published into the main repository, leave with the new build of their pkgbase; a pkgname
/// that moved to another pkgbase of the plan is left to that one.
#[test]
fn a_rebuilt_pkgbase_takes_out_the_pkgnames_it_no_longer_makes() {
    let pkgs = vec![aur("suite-core", "suite", "2.0-1", &[]), aur("mover", "newhome", "1-1", &[])];
    let repo = [
        entry("suite-core", "suite", "1.0-1"),
        entry("suite-extra", "suite", "1.0-1"),
        entry("suite-debug", "suite", "1.0-1"),
        entry("mover", "suite", "1.0-1"),
    ];
    let full = plan(&["suite", "newhome"], pkgs, &repo, &[]).unwrap();
    let gone = superseded(&repo, &built(&[("suite", &["suite-core"])]), &full);
    assert_eq!(gone, ["suite-extra", "suite-debug"]);
    // Not rebuilt: nothing is taken out (its build may have failed).
    assert!(superseded(&repo, &built(&[]), &full).is_empty());
    // `build --only suite`: newhome is not in the plan, but the AUR says mover is its now.
    let pkgs = vec![aur("suite-core", "suite", "2.0-1", &[]), aur("mover", "newhome", "1-1", &[])];
    let only = plan(&["suite", "newhome"], pkgs, &repo, &["suite"]).unwrap();
    assert!(only.step("newhome").is_none());
    let gone = superseded(&repo, &built(&[("suite", &["suite-core"])]), &only);
    assert_eq!(gone, ["suite-extra", "suite-debug"]);
}

/// The debug repository follows the main one: a removed pkgbase, one with `debug` off, one
/// rebuilt without a debug package, and one no plan knows any more (an earlier run stopped
/// between the two publishes) lose their `-debug` entry; a new debug package replaces it.
#[test]
fn debug_packages_leave_with_their_pkgbase_or_their_setting() {
    let pkgs = vec![aur("keep", "keep", "1-1", &[]), aur("rebuilt", "rebuilt", "2-1", &[])];
    let repo = [entry("gone", "gone", "1-1"), entry("keep", "keep", "1-1"), entry("rebuilt", "rebuilt", "1-1")];
    let debug_repo = ["gone", "keep", "rebuilt", "stranded"].map(|b| entry(&format!("{b}-debug"), b, "1-1"));
    let mut full = plan(&["keep", "rebuilt"], pkgs, &repo, &[]).unwrap();
    for step in full.packages.iter_mut() {
        step.debug = true;
    }
    let rebuilt = built(&[("rebuilt", &["rebuilt"])]);
    let removals = debug_removals(&debug_repo, &repo, &full, &rebuilt, &[]);
    assert_eq!(removals, ["gone-debug", "rebuilt-debug", "stranded-debug"]);
    let removals = debug_removals(&debug_repo, &repo, &full, &rebuilt, &["rebuilt-debug".to_string()]);
    assert_eq!(removals, ["gone-debug", "stranded-debug"]);
    full.packages.iter_mut().for_each(|s| s.debug = false);
    assert_eq!(
        debug_removals(&debug_repo, &repo, &full, &built(&[]), &[]),
        ["gone-debug", "keep-debug", "rebuilt-debug", "stranded-debug"]
    );
    // `build --only rebuilt`: keep is outside the plan but still published, so it keeps its
    // debug package; stranded is in neither.
    let pkgs = vec![aur("keep", "keep", "1-1", &[]), aur("rebuilt", "rebuilt", "2-1", &[])];
    let mut only = plan(&["keep", "rebuilt"], pkgs, &repo, &["rebuilt"]).unwrap();
    only.packages.iter_mut().for_each(|s| s.debug = true);
    assert!(only.step("keep").is_none());
    let removals = debug_removals(&debug_repo, &repo, &only, &rebuilt, &["rebuilt-debug".to_string()]);
    assert_eq!(removals, ["stranded-debug"]);
}

#[test]
fn debug_comes_from_the_entry_or_the_builder_and_capabilities_only_from_the_entry() {
    let text = "name: r\nbuilder:\n  debug: true\npackages:\n  - {name: app, debug: false, capabilities: [IPC_LOCK]}\n  - tool\n";
    let config = crate::config::parse("repo.yaml".into(), text.as_bytes()).unwrap();
    let aur = MemoryAur::new(&texts(&[
        aur("app", "app", "1-1", &["liba"]),
        aur("liba", "liba", "1-1", &[]),
        aur("tool", "tool", "1-1", &[]),
    ]));
    let p = plan_config(&config, &aur, &[], &[]).unwrap();
    let debug = |base: &str| p.step(base).unwrap().debug;
    assert_eq!((debug("app"), debug("liba"), debug("tool")), (false, true, true));
    let caps = |base: &str| p.step(base).unwrap().capabilities.iter().map(|c| c.as_str()).collect::<Vec<_>>();
    assert_eq!((caps("app"), caps("liba"), caps("tool")), (vec!["IPC_LOCK"], vec![], vec![]));
}

/// A split pkgbase as aurweb's users write it: every pkgname with its own depends.
fn toolkit() -> String {
    "pkgbase = toolkit\n\tpkgver = 1.0\n\tpkgrel = 1\n\tarch = any\n\tdepends = python-jsonfive\n\
\npkgname = toolkit-cli\n\tdepends = gcc-libs\n\npkgname = python-toolkit\n\tdepends = python-jsonfive\n"
        .to_string()
}

#[test]
fn the_depends_of_sibling_pkgnames_are_planned() {
    let texts = [toolkit(), srcinfo("python-jsonfive", "0.9-1", &[])];
    let p = plan_srcinfo(&["toolkit-cli"], &texts, &[]);
    assert_eq!(actions(&p), [a("python-jsonfive", Action::Build), a("toolkit", Action::Build)]);
    assert_eq!(p.step("toolkit").unwrap().depends_on, ["python-jsonfive"]);
    assert_eq!(p.step("toolkit").unwrap().pkgnames, ["toolkit-cli", "python-toolkit"]);
}

#[test]
fn a_split_pkgbase_lists_every_pkgname_its_srcinfo_makes() {
    let mut text = "pkgbase = eight\n\tpkgver = 1\n\tpkgrel = 1\n\tarch = any\n".to_string();
    let names: Vec<String> = (1..=8).map(|i| format!("eight-{i}")).collect();
    for n in &names {
        text.push_str(&format!("\npkgname = {n}\n"));
    }
    let p = plan_srcinfo(&["eight-3"], &[text], &[]);
    assert_eq!(p.step("eight").unwrap().pkgnames, names);
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["packages"][0]["pkgnames"].as_array().unwrap().len(), 8);
}

#[test]
fn a_name_only_one_aur_package_provides_is_resolved_to_it_and_said_so() {
    let texts = [srcinfo("app", "1-1", &["depends = engine"]), srcinfo("engine-git", "r5-1", &["provides = engine"])];
    let p = plan_srcinfo(&["app"], &texts, &[]);
    assert_eq!(actions(&p), [a("engine-git", Action::Build), a("app", Action::Build)]);
    assert_eq!(p.step("engine-git").unwrap().provides_for, ["engine (needed by app)"]);
    assert!(p.with_problems().next().is_none());
}

#[test]
fn several_aur_providers_are_a_problem_unless_one_is_listed() {
    let texts = [
        srcinfo("app", "1-1", &["depends = engine"]),
        srcinfo("engine-git", "r5-1", &["provides = engine"]),
        srcinfo("engine-bin", "2-1", &["provides = engine"]),
    ];
    let p = plan_srcinfo(&["app"], &texts, &[]);
    let app = p.step("app").unwrap();
    assert_eq!(app.action, Action::Blocked);
    assert!(
        app.problems[0].message.contains("`engine`") && app.problems[0].message.contains("engine-bin, engine-git"),
        "{app:?}"
    );
    let c = config(&["app", "engine-bin"]);
    let diags = crate::commands::plan_diagnostics(&c, &p);
    assert_eq!(diags.0.len(), 1);
    let p = plan_srcinfo(&["app", "engine-bin"], &texts, &[]);
    assert_eq!(actions(&p), [a("engine-bin", Action::Build), a("app", Action::Build)]);
}

#[test]
fn names_the_official_repositories_provide_stay_official() {
    let texts = [
        srcinfo("app", "1-1", &["depends = cargo", "depends = sh", "makedepends = glibc>=2"]),
        srcinfo("rust-nightly", "1-1", &["provides = cargo"]),
        srcinfo("busybox-sh", "1-1", &["provides = sh"]),
    ];
    let aur = MemoryAur::new(&texts);
    let p = plan_config(&config(&["app"]), &aur, &[], &[]).unwrap();
    assert_eq!(actions(&p), [a("app", Action::Build)]);
    assert_eq!(aur.searches.load(std::sync::atomic::Ordering::Relaxed), 0, "no AUR search for official names");
}

#[test]
fn another_architectures_dependencies_are_not_planned() {
    let app = "pkgbase = app\n\tpkgver = 1\n\tpkgrel = 1\n\tarch = x86_64\n\tarch = aarch64\n\
\tdepends_aarch64 = armonly-lib\n\tmakedepends_x86_64 = x86-maker\n\npkgname = app\n";
    let texts = [app.to_string(), srcinfo("armonly-lib", "1-1", &[]), srcinfo("x86-maker", "1-1", &[])];
    let p = plan_srcinfo(&["app"], &texts, &[]);
    assert_eq!(actions(&p), [a("x86-maker", Action::Build), a("app", Action::Build)]);
}

#[test]
fn a_listed_provider_is_built_before_what_needs_it() {
    let texts = [
        srcinfo("app", "1-1", &["depends = libthing>=1.0"]),
        srcinfo("libthing-git", "r9-1", &["provides = libthing=1.0"]),
    ];
    let p = plan_srcinfo(&["app", "libthing-git"], &texts, &[]);
    assert_eq!(actions(&p), [a("libthing-git", Action::Build), a("app", Action::Build)]);
    assert_eq!(p.step("app").unwrap().depends_on, ["libthing-git"]);
    // An unversioned provision cannot satisfy a versioned dependency (libalpm).
    let texts = [
        srcinfo("app", "1-1", &["depends = libthing>=1.0"]),
        srcinfo("libthing-git", "r9-1", &["provides = libthing"]),
    ];
    let p = plan_srcinfo(&["app", "libthing-git"], &texts, &[]);
    assert!(p.step("app").unwrap().problems[0].message.contains("libthing>=1.0"));
}

#[test]
fn a_dependency_gone_from_the_aur_is_kept_while_something_needs_it() {
    let texts = [srcinfo("app", "1-2", &["depends = lib"])];
    let repo = [entry("app", "app", "1-1"), entry("lib", "lib", "1-1"), entry("old", "old", "1-1")];
    let p = plan_srcinfo(&["app"], &texts, &repo);
    assert_eq!(actions(&p), [a("lib", Action::Skip), a("app", Action::Build), a("old", Action::Remove)]);
    let lib = p.step("lib").unwrap();
    assert!(lib.warnings[0].contains("gone from the AUR") && lib.problems.is_empty(), "{lib:?}");
    assert_eq!(p.step("app").unwrap().depends_on, ["lib"]);
}

#[test]
fn a_listed_package_gone_from_the_aur_is_kept_and_fails_alone() {
    let texts = [srcinfo("hello", "1.1-1", &[])];
    let repo = [entry("hello", "hello", "1.0-1"), entry("gone", "gone", "1-1")];
    let p = plan_srcinfo(&["hello", "gone"], &texts, &repo);
    assert_eq!(actions(&p), [a("gone", Action::Skip), a("hello", Action::Build)]);
    assert!(p.step("gone").unwrap().problems[0].message.contains("gone from the AUR"));
    assert!(p.to_remove().next().is_none());
    let diags = crate::commands::plan_diagnostics(&config(&["hello", "gone"]), &p);
    assert_eq!(diags.0.len(), 1);
}

#[test]
fn a_dependency_nothing_provides_blocks_its_dependants_only() {
    let texts = [
        srcinfo("lib", "1-1", &["depends = nowhere-to-be-found"]),
        srcinfo("app", "1-1", &["depends = lib"]),
        srcinfo("fine", "1-1", &[]),
    ];
    let p = plan_srcinfo(&["app", "fine"], &texts, &[]);
    assert_eq!(actions(&p), [a("fine", Action::Build), a("lib", Action::Blocked), a("app", Action::Blocked)]);
    assert!(p.step("app").unwrap().problems[0].message.contains("needs lib"));
}

#[test]
fn a_version_mismatch_is_not_rebuilt_until_the_aur_changes() {
    let texts = [srcinfo("app", "1.0-2", &[])];
    let repo = [entry("app", "app", "1.0-1")];
    let c = config(&["app"]);
    let aur = MemoryAur::new(&texts);
    let u = universe(&c, &aur, &repo);
    let lm = u.last_modified["app"];
    let m = |lm| Mismatch { last_modified: lm, srcinfo_version: "1.0-2".into(), built_version: "1.0-1".into() };
    let with = |m: Mismatch| {
        let mismatches = BTreeMap::from([("app".to_string(), m)]);
        make(&Inputs { config: &c, universe: &u, repo: &repo, only: &[], mismatches: &mismatches, lock: &lock_all(&u) })
            .unwrap()
    };
    let p = with(m(lm));
    assert_eq!(p.step("app").unwrap().action, Action::Skip);
    assert!(p.step("app").unwrap().reason.to_string().contains("PKGBUILD makes 1.0-1"));
    assert_eq!(with(m(lm - 1)).step("app").unwrap().action, Action::Build, "the AUR changed since");
}

#[test]
fn what_a_kept_package_depends_on_is_kept_too() {
    // lib is gone from the AUR; its published entry depends on lib2 (still in the AUR, unlisted)
    // and on a name only the published lib3 provides.
    let texts = [srcinfo("app", "1-1", &["depends = lib"]), srcinfo("lib2", "1-1", &[])];
    let mut lib = entry("lib", "lib", "1-1");
    lib.depends = vec!["lib2".into(), "virtual-three".into()];
    let mut lib3 = entry("lib3-impl", "lib3", "1-1");
    lib3.provides = vec!["virtual-three".into()];
    let repo = [entry("app", "app", "1-1"), lib, entry("lib2", "lib2", "1-1"), lib3];
    let p = plan_srcinfo(&["app"], &texts, &repo);
    assert!(p.to_remove().next().is_none(), "{:?}", actions(&p));
    assert_eq!(p.step("lib").unwrap().depends_on, ["lib2", "lib3"]);
}

/// What a person reads: the plan table, the job summary's table and check's diagnostics, for
/// a plan with a split pkgbase, a provider chosen through `provides`, an ambiguous provider, a
/// listed package gone from the AUR and a dependency gone from the AUR but kept.
#[test]
fn plan_output_is_pinned() {
    let texts = [
        toolkit(),
        srcinfo("python-jsonfive", "0.9-1", &[]),
        srcinfo("app", "1-1", &["depends = engine", "depends = lib"]),
        srcinfo("engine-git", "r5-1", &["provides = engine"]),
        srcinfo("player", "2-1", &["depends = codec"]),
        srcinfo("codec-a", "1-1", &["provides = codec"]),
        srcinfo("codec-b", "1-1", &["provides = codec"]),
    ];
    let repo = [entry("lib", "lib", "1-1"), entry("gone", "gone", "1-1"), entry("app", "app", "0.9-1")];
    let listed = ["toolkit-cli", "app", "player", "gone"];
    let p = plan_srcinfo(&listed, &texts, &repo);
    insta::assert_snapshot!("plan_table", crate::commands::render::render_plan(&p));
    insta::assert_snapshot!("plan_markdown", crate::commands::render::markdown_plan(&p, "repoctl plan: r"));
    let diags = crate::commands::plan_diagnostics(&config(&listed), &p);
    let text: Vec<String> = diags.0.iter().map(|d| d.to_string()).collect();
    insta::assert_snapshot!("plan_diagnostics", text.join("\n"));
}

#[test]
fn vcs_answers_turn_skips_into_builds_only_when_upstream_moved() {
    let texts =
        [srcinfo("moved-git", "r1-1", &[]), srcinfo("still-git", "r1-1", &[]), srcinfo("broke-git", "r1-1", &[])];
    let repo = [
        entry("moved-git", "moved-git", "r1-1"),
        entry("still-git", "still-git", "r1-1"),
        entry("broke-git", "broke-git", "r1-1"),
    ];
    let p = plan_srcinfo(&["moved-git", "still-git", "broke-git"], &texts, &repo);
    let candidates: Vec<&str> = p.vcs_candidates().map(|s| s.pkgbase.as_str()).collect();
    assert_eq!(candidates, ["broke-git", "moved-git", "still-git"]);
    let probes = BTreeMap::from([
        ("moved-git".to_string(), Ok("1:r5-1".to_string())),
        ("still-git".to_string(), Ok("r1-1".to_string())),
        ("broke-git".to_string(), Err("no network".to_string())),
    ]);
    let p = apply_vcs(p, &probes);
    assert_eq!(
        actions(&p),
        [a("broke-git", Action::Skip), a("moved-git", Action::Build), a("still-git", Action::Skip)]
    );
    let moved = Reason::VcsMoved { upstream: "1:r5-1".into(), repo: "r1-1".into() };
    assert_eq!(p.step("moved-git").unwrap().reason, moved);
    // pkgver() prints the pkgver; the version compared is the one makepkg makes of it.
    assert_eq!(moved.to_string(), "VCS upstream moved: pkgver() gives r5, so version 1:r5-1; repository has r1-1");
    let still = p.step("still-git").unwrap().reason.to_string();
    assert_eq!(still, "up to date with upstream (pkgver() gives r1, so version r1-1)");
    assert!(p.step("broke-git").unwrap().reason.to_string().contains("no network"));
}

/// `build tool-git`: naming a VCS package builds it without asking its pkgver() first, and its
/// reason says so rather than that `build` checks upstream; a VCS package it needs is still
/// checked.
#[test]
fn a_vcs_package_named_on_the_command_line_is_built_without_a_check() {
    let texts = [srcinfo("tool-git", "r1-1", &["depends = lib-git"]), srcinfo("lib-git", "r1-1", &[])];
    let repo = [entry("tool-git", "tool-git", "r1-1"), entry("lib-git", "lib-git", "r1-1")];
    let p = plan_config(&config(&["tool-git"]), &MemoryAur::new(&texts), &repo, &["tool-git"]).unwrap();
    assert_eq!(actions(&p), [a("lib-git", Action::Skip), a("tool-git", Action::Build)]);
    assert_eq!(p.step("tool-git").unwrap().reason.to_string(), "requested on the command line (up to date)");
    assert_eq!(
        p.step("lib-git").unwrap().reason.to_string(),
        "up to date; VCS package: `build` checks upstream with pkgver()"
    );
    let checked: Vec<&str> = p.vcs_candidates().map(|s| s.pkgbase.as_str()).collect();
    assert_eq!(checked, ["lib-git"]);
}

#[test]
fn vcs_checks_within_their_interval_are_not_due_unless_upstream_was_newer() {
    let names = ["fresh-git", "stale-git", "newer-git", "unchecked-git", "every-run-git", "future-git"];
    let texts: Vec<String> = names.iter().map(|n| srcinfo(n, "r1-1", &[])).collect();
    let repo: Vec<RepoEntry> = names.iter().map(|n| entry(n, n, "r1-1")).collect();
    let mut p = plan_srcinfo(&names, &texts, &repo);
    let day = std::time::Duration::from_secs(86_400);
    for step in p.packages.iter_mut().filter(|s| s.pkgbase != "every-run-git") {
        step.vcs_interval = day;
    }
    let now = 1_800_000_000;
    let check = |ago: i64, upstream: &str| VcsCheck { checked: now - ago, upstream: upstream.into() };
    let checks = BTreeMap::from([
        ("fresh-git".to_string(), check(3 * 3600, "r1-1")),
        ("stale-git".to_string(), check(86_400, "r1-1")),
        ("newer-git".to_string(), check(60, "r2-1")),
        ("every-run-git".to_string(), check(60, "r1-1")),
        ("future-git".to_string(), check(-60, "r1-1")),
    ]);
    let p = defer_vcs_checks(p, &checks, now);
    let due: Vec<&str> = p.vcs_candidates().map(|s| s.pkgbase.as_str()).collect();
    assert_eq!(due, ["every-run-git", "future-git", "newer-git", "stale-git", "unchecked-git"]);
    let fresh = p.step("fresh-git").unwrap();
    assert_eq!(fresh.action, Action::Skip);
    assert_eq!(
        fresh.reason.to_string(),
        "up to date with upstream 3h ago (pkgver() gave r1, so version r1-1); checked again after vcs_interval 1d"
    );
    assert!(!p.published_dependencies().contains_key("fresh-git"));
    // `plan --json` says when it was asked and when it is due, in RFC 3339; nothing else has it.
    let json = serde_json::to_value(&p).unwrap();
    let steps = json["packages"].as_array().unwrap();
    let deferred = steps.iter().find(|s| s["pkgbase"] == "fresh-git").unwrap();
    let want = serde_json::json!({
        "upstream": "r1-1",
        "last_checked": "2027-01-15T05:00:00Z",
        "next_check": "2027-01-16T05:00:00Z",
        "interval_secs": 86_400,
    });
    assert_eq!(deferred["vcs_check"], want, "{deferred}");
    assert_eq!(deferred["reason"], fresh.reason.to_string(), "the words stay in `reason`");
    let with_check: Vec<&serde_json::Value> =
        steps.iter().filter_map(|s| s.get("vcs_check").map(|_| &s["pkgbase"])).collect();
    assert_eq!(with_check, ["fresh-git"]);
}

/// An AUR that does not answer is an error of the run, never "not found" (which would make a
/// listed package look deleted).
#[test]
fn an_unreachable_aur_is_an_error_not_an_unknown_package() {
    let c = config(&["split"]);
    let aur = MemoryAur { unreachable: true, ..MemoryAur::new(&texts(&[aur("split-a", "split", "1-1", &[])])) };
    let listed = vec![("split".to_string(), false)];
    let official = official();
    let query = crate::aur::Query {
        listed: &listed,
        arch: &c.arch,
        official: &official,
        published: &[],
        pinned: &Default::default(),
        local: &[],
    };
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let err = rt.block_on(crate::aur::resolve(&aur, &query)).unwrap_err();
    let text = crate::build::with_causes(&err);
    assert!(text.contains("timed out") && !text.contains("not found"), "{text}");
}

/// Two entries naming pkgnames of one pkgbase with different settings: which would apply is a
/// guess, so it is a problem; with the same settings the pkgbase is planned once. `nocheck`
/// follows the entry the plan uses, in the graph as in the build.
#[test]
fn pkgnames_of_one_pkgbase_listed_with_different_settings_are_a_problem() {
    let dual = "pkgbase = dual\n\tpkgver = 1\n\tpkgrel = 1\n\tarch = any\n\tcheckdepends = testkit\n\
\npkgname = dual-a\n\npkgname = dual-b\n"
        .to_string();
    let texts = [dual, srcinfo("testkit", "1-1", &[])];
    let p = plan_srcinfo(&["dual-a", "{name: dual-b, nocheck: true}"], &texts, &[]);
    let step = p.step("dual").unwrap();
    assert_eq!(step.action, Action::Blocked);
    assert!(step.problems[0].message.contains("different settings"), "{:?}", step.problems);
    let p = plan_srcinfo(&["dual-a", "dual-b"], &texts, &[]);
    assert_eq!(actions(&p), [a("testkit", Action::Build), a("dual", Action::Build)]);
    let p = plan_srcinfo(&["{name: dual-a, nocheck: true}", "{name: dual-b, nocheck: true}"], &texts, &[]);
    assert_eq!(actions(&p), [a("dual", Action::Build)]);
    assert!(p.step("dual").unwrap().nocheck);
}

#[test]
fn only_locked_commits_are_built_and_the_rest_waits_for_repoctl_update() {
    // app needs lib; the lock has app at an older commit (1.0-1) than the AUR's head (2.0-1),
    // and no entry for lib nor for new-app.
    let texts =
        [srcinfo("app", "2.0-1", &["depends = lib"]), srcinfo("lib", "1.0-1", &[]), srcinfo("new-app", "1.0-1", &[])];
    let mut aur = MemoryAur::new(&texts);
    let old = "a".repeat(40);
    aur.commits.insert(old.clone(), srcinfo("app", "1.0-1", &["depends = lib"]));
    let c = config(&["app", "new-app"]);
    let listed: Vec<(String, bool)> = c.packages.iter().map(|p| (p.name.clone(), p.nocheck)).collect();
    let mut lock = crate::lock::Lock::default();
    lock.entries.insert("app".into(), lock_entry("app", "1.0-1", &old));
    let official = official();
    let pinned = lock.pins();
    let query = crate::aur::Query {
        listed: &listed,
        arch: &c.arch,
        official: &official,
        published: &[],
        pinned: &pinned,
        local: &[],
    };
    let u = resolve_now(&aur, &query);
    let p = make(&Inputs { config: &c, universe: &u, repo: &[], only: &[], mismatches: &BTreeMap::new(), lock: &lock })
        .unwrap();

    let app = p.step("app").unwrap();
    assert_eq!(app.aur_version.as_deref(), Some("1.0-1"), "the locked commit's version, not the head's");
    assert_eq!(app.commit.as_deref(), Some(old.as_str()));
    assert_eq!(app.action, Action::Blocked, "its dependency is not locked: {app:?}");
    assert_eq!(app.problems[0].message, "app needs lib, which is not locked");
    for base in ["lib", "new-app"] {
        let step = p.step(base).unwrap();
        assert_eq!(
            (step.action, step.reason.to_string()),
            (Action::Skip, "not locked: run repoctl update".to_string())
        );
        assert!(step.problems.is_empty(), "{step:?}");
    }
    let unlocked: Vec<&str> = p.not_locked().map(|s| s.pkgbase.as_str()).collect();
    assert_eq!(unlocked, ["lib", "new-app"]);
}

/// Issue 29: a rollback holds what it took away while the lock names the same commit; a lock
/// entry that moved, or naming the package, lets it build again.
#[test]
fn a_rolled_back_pkgbase_is_held_while_the_lock_names_the_same_commit() {
    let pkgs = || vec![aur("hello", "hello", "2.0-1", &[]), aur("other", "other", "1.0-1", &[])];
    let repo = [entry("hello", "hello", "1.0-1")];
    let hold = |commit: &str| RolledBack {
        commit: commit.into(),
        version: "2.0-1".into(),
        snapshot: "20261206T020000.000Z-0000aaaa".into(),
        time: "2026-12-07T10:00:00Z".into(),
    };
    let holds = |commit: &str| BTreeMap::from([("hello".to_string(), hold(commit))]);
    let held =
        hold_rolled_back(plan(&["hello", "other"], pkgs(), &repo, &[]).unwrap(), &holds(&commit_of("hello")), &[]);
    assert_eq!(actions(&held), [a("hello", Action::Skip), a("other", Action::Build)]);
    assert_eq!(
        held.step("hello").unwrap().reason.to_string(),
        "held since the rollback to 20261206T020000.000Z-0000aaaa: repoctl.lock still names 2.0-1, which it took away (`repoctl update` moves the lock)"
    );
    let moved = hold_rolled_back(plan(&["hello", "other"], pkgs(), &repo, &[]).unwrap(), &holds(&"f".repeat(40)), &[]);
    assert_eq!(actions(&moved), [a("hello", Action::Build), a("other", Action::Build)]);
    let only = ["hello".to_string()];
    let named =
        hold_rolled_back(plan(&["hello"], pkgs(), &repo, &["hello"]).unwrap(), &holds(&commit_of("hello")), &only);
    assert_eq!(named.step("hello").unwrap().action, Action::Build);
}
