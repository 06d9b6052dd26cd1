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
