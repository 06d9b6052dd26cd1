//! AUR packages with `patches:` in the plan (issue 27). The universe was resolved with their
//! patched `.SRCINFO` (so their version, pkgnames and dependencies are the patched package's);
//! what is left is the lock:
//! - patches that cannot be used (changed since `repoctl update`, unreadable, not applying) are
//!   a problem of the step: it is not built;
//! - a lock whose version is a dotted pkgrel of the patched `.SRCINFO`'s (`1.0-1.1` for
//!   `1.0-1`: `update` moved the patches on an unchanged AUR commit) is built with that pkgrel
//!   ([`PkgrelBump`], as a rebuild is), so clients update;
//! - any other version than the lock's is a problem, as for a `path:` package: the `.SRCINFO`
//!   made by running the patched PKGBUILD must say what a person let in.
use super::{Action, Problem, Reason, Step, rebuild::Rebuild};
use crate::alpm::{PkgrelBump, compare_versions};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Why the lock's version is a bump of the patched `.SRCINFO`'s.
pub const BUMP_WHY: &str = "its patches changed on the same AUR commit";

/// `plan` with the patched steps settled: `problems` (pkgbase -> why its patches cannot be
/// used now) on their steps, and the lock's version (`lock`) taken. Pure.
pub fn settle(mut plan: super::Plan, lock: &crate::lock::Lock, problems: &BTreeMap<String, String>) -> super::Plan {
    for step in plan.packages.iter_mut() {
        if let Some(why) = problems.get(&step.pkgbase) {
            block(step, why.clone(), format!("run `repoctl update {}` and review what it shows", step.pkgbase));
            continue;
        }
        if step.patches.is_empty() {
            continue;
        }
        let Some(entry) = lock.entries.get(&step.pkgbase) else { continue };
        if step.patches.files.is_empty() {
            let why = format!("repoctl.lock holds {} with patches, but repo.yaml lists none", step.pkgbase);
            block(step, why, format!("run `repoctl update {}` and review what it shows", step.pkgbase));
            continue;
        }
        take_locked_version(step, &entry.version);
    }
    plan
}

/// The lock's `version` for a patched step whose `aur_version` is the patched `.SRCINFO`'s.
fn take_locked_version(step: &mut Step, locked: &str) {
    let Some(made) = step.aur_version.clone() else { return };
    if made == locked {
        return;
    }
    let Some(bump) = PkgrelBump::of(&made, locked) else {
        let why = format!(
            "with its patches, {} makes {made}, but repoctl.lock says {locked}: the PKGBUILD's output depends on when or where it runs",
            step.pkgbase
        );
        block(step, why, "make the PKGBUILD's pkgver, pkgrel and epoch plain values, then run `repoctl update`".into());
        return;
    };
    let newer = step.repo_version.as_deref().is_none_or(|r| compare_versions(locked, r) == Ordering::Greater);
    match step.action {
        Action::Skip if newer && step.problems.is_empty() => {
            step.action = Action::Build;
            step.reason = Reason::Rebuild { version: locked.to_string(), why: BUMP_WHY.to_string() };
        }
        Action::Build if !newer => {
            step.action = Action::Skip;
            step.reason = Reason::UpToDate;
            return;
        }
        Action::Build => {}
        _ => return,
    }
    step.rebuild = Some(Rebuild { bump, why: BUMP_WHY.to_string() });
}

fn block(step: &mut Step, why: String, hint: String) {
    step.problems.push(Problem::new(why, hint));
    if step.action == Action::Build {
        step.action = Action::Blocked;
        step.reason = Reason::Blocked(step.problems.iter().map(|p| p.message.clone()).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PatchFile;

    /// A published, locked, patched step: the patched `.SRCINFO` says `made`, the repository
    /// has `repo`.
    fn step(made: &str, repo: Option<&str>) -> Step {
        let entry = crate::alpm::RepoEntry {
            name: "greet".into(),
            base: "greet".into(),
            version: repo.unwrap_or("0-1").into(),
            filename: "greet-0-1-any.pkg.tar.zst".into(),
            ..Default::default()
        };
        let (none, makes) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
        let mut step = super::super::removals(&[entry], &none, &makes).remove(0);
        let older = repo.is_none_or(|r| compare_versions(made, r) == Ordering::Greater);
        (step.action, step.reason) =
            if older { (Action::Build, Reason::UpToDate) } else { (Action::Skip, Reason::UpToDate) };
        step.aur_version = Some(made.into());
        step.repo_version = repo.map(String::from);
        step.commit = Some("a".repeat(40));
        step.patches.files = vec![PatchFile { file: "/r/p.patch".into(), written: "p.patch".into() }];
        step.patches.locked = vec![format!("sha256:{}", "1".repeat(64))];
        step
    }

    fn lock(version: &str) -> crate::lock::Lock {
        let entry = crate::lock::Entry {
            name: "greet".into(),
            path: None,
            git: None,
            commit: "a".repeat(40),
            version: version.into(),
            pkgnames: vec!["greet".into()],
            maintainer: None,
            comaintainers: Vec::new(),
            committed: String::new(),
            files: format!("tree-sha256:{}", "0".repeat(64)),
            patches: vec![format!("sha256:{}", "1".repeat(64))],
        };
        crate::lock::Lock { entries: [("greet".to_string(), entry)].into() }
    }

    fn settled(step: Step, lock_version: &str, problems: &[(&str, &str)]) -> Step {
        let problems = problems.iter().map(|(b, w)| (b.to_string(), w.to_string())).collect();
        settle(super::super::Plan::new(vec![step]), &lock(lock_version), &problems).packages.remove(0)
    }

    #[test]
    fn a_lock_a_dotted_pkgrel_above_the_patched_srcinfo_rebuilds_with_it() {
        let s = settled(step("1.0-1", Some("1.0-1")), "1.0-1.1", &[]);
        assert_eq!((s.action, s.rebuild.as_ref().map(|r| r.bump.version())), (Action::Build, Some("1.0-1.1")));
        assert_eq!(s.reason, Reason::Rebuild { version: "1.0-1.1".into(), why: BUMP_WHY.into() });
        // Not published yet: built with the lock's pkgrel too.
        let s = settled(step("1.0-1", None), "1.0-1.1", &[]);
        assert_eq!(
            (s.action, s.rebuild.map(|r| r.bump.version().to_string())),
            (Action::Build, Some("1.0-1.1".into()))
        );
        // Published at the lock's version: nothing to do.
        let s = settled(step("1.0-1", Some("1.0-1.1")), "1.0-1.1", &[]);
        assert_eq!((s.action, s.rebuild.is_none()), (Action::Skip, true));
    }

    #[test]
    fn the_same_version_is_left_alone_and_another_one_is_a_problem() {
        let s = settled(step("1.0-1", None), "1.0-1", &[]);
        assert_eq!((s.action, s.rebuild.is_none(), s.problems.is_empty()), (Action::Build, true, true));
        let s = settled(step("1.0-2", None), "1.0-1", &[]);
        assert_eq!(s.action, Action::Blocked);
        assert!(s.problems[0].message.contains("with its patches, greet makes 1.0-2, but repoctl.lock says 1.0-1"));
    }

    #[test]
    fn patches_that_cannot_be_used_block_the_step_with_the_fix() {
        let s = settled(step("1.0-1", None), "1.0-1", &[("greet", "the patches of greet changed")]);
        assert_eq!(s.action, Action::Blocked);
        assert_eq!(s.problems[0].hint, "run `repoctl update greet` and review what it shows");
        let mut unlisted = step("1.0-1", None);
        unlisted.patches.files.clear();
        let s = settled(unlisted, "1.0-1", &[]);
        assert!(s.problems[0].message.contains("repoctl.lock holds greet with patches, but repo.yaml lists none"));
    }
}
