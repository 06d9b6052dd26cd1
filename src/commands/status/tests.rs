//! `status` reports from plans made by the real planner over an AUR in memory.
use super::*;
use crate::aur::memory::{MemoryAur, resolve_now, srcinfo};
use crate::publish::status::RepoStatus;
use std::collections::BTreeMap;

fn entry(name: &str, version: &str, signed: bool) -> RepoEntry {
    RepoEntry {
        name: name.into(),
        base: name.into(),
        version: version.into(),
        filename: format!("{name}-{version}-any.pkg.tar.zst"),
        signed,
        ..RepoEntry::default()
    }
}

fn last(result: BuildResult, version: &str, reason: Option<&str>) -> PackageStatus {
    PackageStatus {
        result,
        kind: (result == BuildResult::Failed).then(|| "makepkg".into()),
        reason: reason.map(String::from),
        version: Some(version.into()),
        commit: Some("1".repeat(40)),
        time: "2026-11-30T01:02:03Z".into(),
        run: "1764464523-42".into(),
        duration_secs: None,
        built: None,
        log: None,
        logs: Vec::new(),
        linkage: None,
    }
}

/// The AUR (`aur`: pkgbase, version), all of it locked at `locked` (pkgbase, version; absent:
/// not locked), the repository `repo`, repo.yaml listing `listed`: the report.
fn report_of(listed: &[&str], aur: &[(&str, &str)], locked: &[(&str, &str)], repo: &[RepoEntry]) -> Report {
    let mut yaml = String::from("name: r\npackages:\n");
    for l in listed {
        yaml.push_str(&format!("  - {l}\n"));
    }
    let config = crate::config::parse("repo.yaml".into(), yaml.as_bytes()).unwrap();
    let texts: Vec<String> = aur.iter().map(|(b, v)| srcinfo(b, v, &[])).collect();
    let mut memory = MemoryAur::new(&texts);
    // Each locked pkgbase is read at its commit, as `build` reads it.
    let commit = |base: &str| format!("{:0>40}", base.bytes().map(|b| format!("{b:02x}")).collect::<String>());
    let mut pinned = BTreeMap::new();
    for (base, version) in locked {
        memory.commits.insert(commit(base), srcinfo(base, version, &[]));
        pinned.insert(base.to_string(), commit(base));
    }
    let official = crate::official::OfficialRepos::from_sync_dbs(&[]).unwrap();
    let names: Vec<(String, bool)> = listed.iter().map(|n| (n.to_string(), false)).collect();
    let query = crate::aur::Query {
        listed: &names,
        arch: "x86_64",
        official: &official,
        published: repo,
        pinned: &pinned,
        local: &[],
    };
    let universe = resolve_now(&memory, &query);
    let mut lock = crate::lock::Lock::default();
    for (base, version) in locked {
        let entry = crate::lock::Entry {
            path: None,
            git: None,
            name: base.to_string(),
            commit: commit(base),
            version: version.to_string(),
            pkgnames: vec![base.to_string()],
            maintainer: None,
            comaintainers: vec![],
            committed: "2026-11-01T00:00:00Z".into(),
            files: format!("sha256:{}", "0".repeat(64)),
            patches: Vec::new(),
        };
        lock.entries.insert(base.to_string(), entry);
    }
    let inputs = crate::plan::Inputs {
        config: &config,
        universe: &universe,
        repo,
        only: &[],
        mismatches: &BTreeMap::new(),
        lock: &lock,
    };
    let plan = crate::plan::make(&inputs).unwrap();
    let status = RepoStatus {
        format: 1,
        repo: "r".into(),
        run: RunRef { id: "1764464523-42".into(), time: "2026-11-30T01:02:03Z".into() },
        database: Some("sha256:live".into()),
        packages: BTreeMap::from([
            ("hello".into(), last(BuildResult::Built, "1.0-1", None)),
            ("broken".into(), last(BuildResult::Failed, "1.0-1", Some("makepkg exited with status 4"))),
        ]),
        page: None,
        feed: Vec::new(),
    };
    let inputs = Inputs {
        repo: "r",
        target: "s3://bucket/repo",
        signing: true,
        database_signature: true,
        entries: repo,
        database: Some("sha256:live".into()),
        status: Some(&status),
        status_unverified: None,
        uninstallable: &crate::official::installable::unsatisfied(repo, &official),
    };
    report(&inputs, &plan, &universe)
}

#[test]
fn drift_failures_removals_and_missing_signatures_are_counted_and_shown() {
    let repo = [entry("hello", "1.0-1", true), entry("libfoo", "2.1-1", true), entry("old", "1-1", false)];
    let report = report_of(
        &["hello", "libfoo", "broken", "fresh"],
        &[("hello", "1.0-1"), ("libfoo", "2.3-1"), ("broken", "1.0-1"), ("fresh", "0.1-1")],
        &[("hello", "1.0-1"), ("libfoo", "2.2-1"), ("broken", "1.0-1")],
        &repo,
    );
    let v = &report.verdict;
    assert_eq!((v.behind, v.failed, v.not_locked, v.to_remove, v.unsigned), (1, 1, 1, 1, 0));
    assert!(!v.in_sync);
    assert_eq!(v.aur_newer, 1, "libfoo: the AUR has 2.3-1, the lock 2.2-1");
    assert_eq!(
        v.text,
        "1 behind, 1 failed, 1 not locked, 1 to remove; 1 newer on the AUR (`repoctl update` shows what they let in)"
    );
    let fresh = report.packages.iter().find(|r| r.pkgbase == "fresh").unwrap();
    assert_eq!(fresh.why, ["not locked: run `repoctl update` to review and lock it"]);
    insta::assert_snapshot!("status_table", render(&report));
}

#[test]
fn a_repository_at_its_locked_versions_is_in_sync() {
    let repo = [entry("hello", "1.0-1", true)];
    let report = report_of(&["hello"], &[("hello", "1.0-1")], &[("hello", "1.0-1")], &repo);
    assert!(report.verdict.in_sync, "{report:#?}");
    assert_eq!(report.verdict.text, "in sync");
    let unsigned = [entry("hello", "1.0-1", false)];
    let report = report_of(&["hello"], &[("hello", "1.0-1")], &[("hello", "1.0-1")], &unsigned);
    assert_eq!(report.verdict.text, "1 unsigned", "repo.yaml signs, so an unsigned package is drift");
    // A newer AUR version is not drift (the lock is what a person let in), but it is said.
    let report = report_of(&["hello"], &[("hello", "1.1-1")], &[("hello", "1.0-1")], &repo);
    assert!(report.verdict.in_sync, "{report:#?}");
    assert_eq!(report.verdict.text, "in sync; 1 newer on the AUR (`repoctl update` shows what they let in)");
}

#[test]
fn the_json_report_has_the_documented_fields() {
    let repo = [entry("hello", "1.0-1", true)];
    let report = report_of(
        &["hello", "broken"],
        &[("hello", "1.0-1"), ("broken", "1.0-1")],
        &[("hello", "1.0-1"), ("broken", "1.0-1")],
        &repo,
    );
    let json = serde_json::to_value(&report).unwrap();
    // serde_json's map is sorted by key.
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "database_signature",
            "packages",
            "published",
            "remove",
            "repo",
            "signing",
            "status_current",
            "status_object",
            "target",
            "uninstallable",
            "verdict"
        ]
    );
    let broken = json["packages"].as_array().unwrap().iter().find(|p| p["pkgbase"] == "broken").unwrap();
    assert_eq!(broken["state"], "failed");
    assert_eq!(broken["published"], serde_json::Value::Null);
    assert_eq!(broken["locked"], "1.0-1");
    assert_eq!(broken["last"]["result"], "failed");
    assert_eq!(broken["last"]["kind"], "makepkg");
    assert_eq!(json["verdict"]["failed"], 1);
    assert_eq!(json["status_current"], true);
}

/// The attacker review's F5: a status object that does not verify is still shown, marked.
#[test]
fn an_unverified_status_object_is_shown_and_marked() {
    let repo = [entry("hello", "1.0-1", true)];
    let mut report = report_of(&["hello"], &[("hello", "1.0-1")], &[("hello", "1.0-1")], &repo);
    assert!(!render(&report).contains("UNVERIFIED"));
    let why = "r.status.json does not verify under key ABCD: r.status.json.sig does not exist".to_string();
    report.status_unverified = Some(why.clone());
    let text = render(&report);
    assert!(text.contains(&format!("status object: UNVERIFIED, {why}: its last builds are shown")), "{text}");
    assert_eq!(serde_json::to_value(&report).unwrap()["status_unverified"], why.as_str());
}

#[test]
fn a_blocked_package_says_why() {
    let repo = [entry("hello", "1.0-1", true)];
    let report = report_of(&["hello", "helo"], &[("hello", "1.0-1")], &[("hello", "1.0-1")], &repo);
    let helo = report.packages.iter().find(|r| r.pkgbase == "helo").expect("a row for helo");
    assert_eq!(helo.state, State::Blocked);
    assert!(helo.why.iter().any(|w| w.contains("AUR") && w.contains("hint:")), "{:?}", helo.why);
    assert!(render(&report).contains("helo: "), "{}", render(&report));
    assert!(!report.verdict.in_sync);
}

#[test]
fn a_published_package_whose_dependency_nothing_provides_is_not_in_sync() {
    let mut hello = entry("hello", "1.0-1", true);
    hello.depends = vec!["oldtool".into(), "libfoo>=2".into()];
    let repo = [hello, entry("libfoo", "2.1-1", true)];
    let aur = [("hello", "1.0-1"), ("libfoo", "2.1-1")];
    let report = report_of(&["hello", "libfoo"], &aur, &aur, &repo);
    assert!(!report.verdict.in_sync, "{report:#?}");
    assert_eq!(report.verdict.text, "1 uninstallable");
    assert_eq!(report.uninstallable.len(), 1, "libfoo>=2 is satisfied by the repository's libfoo 2.1-1");
    let text = render(&report);
    assert!(text.contains("uninstallable: hello (1.0-1) depends on oldtool, which no repository provides"), "{text}");
}

#[test]
fn a_package_held_when_last_recorded_and_locked_since_is_behind_not_failed() {
    // Issue 29: `build` records a pkgbase that is not locked as skipped, of kind `held`.
    let mut step = crate::plan::not_locked_step("fresh", "0.1-1");
    assert_eq!(state(&step, None), State::NotLocked);
    (step.action, step.reason) = (Action::Build, Reason::NotInRepository);
    let mut held = last(BuildResult::Skipped, "0.1-1", Some("not in repoctl.lock"));
    held.kind = Some("held".into());
    assert_eq!(state(&step, Some(&held)), State::Behind);
    held.kind = None;
    assert_eq!(state(&step, Some(&held)), State::Failed, "skipped for a failed dependency");
}
