//! Rebuilds of an unchanged AUR commit with a dotted pkgrel (issue 26): the published package
//! links a soname no repository provides any more (an official library bumped it), or
//! `build --rebuild PKG` asks for one. The AUR commit stays the locked one; only pkgrel moves,
//! `1` → `1.1` → `1.2` ([`PkgrelBump`]), so the AUR's next pkgrel still wins.
use super::{Action, Plan, Reason, Step};
use crate::alpm::PkgrelBump;
use std::collections::BTreeMap;

/// A planned rebuild: the version it makes, and why (`libstand.so.1 is gone`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rebuild {
    pub bump: PkgrelBump,
    pub why: String,
}

/// `sha256:` and hex over the official sync databases' (repository, digest) pairs, in
/// pacman.conf order ([`crate::official::OfficialRepos::sync_db_digests`]): the official
/// repositories a plan saw, as one string.
pub fn official_digest(sync_dbs: &[(String, String)]) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for (repo, digest) in sync_dbs {
        hasher.update(format!("{repo} {digest}\n"));
    }
    format!("sha256:{:x}", hasher.finalize())
}

/// `plan` with every pkgbase of `gone` (pkgbase -> the sonames its published packages need
/// that nothing provides now, sorted) that it would skip turned into a rebuild. Left alone: a
/// step the plan builds anyway (its new version fixes it too), one not locked or in a cycle,
/// and one whose published version cannot be bumped ([`PkgrelBump::next`]).
pub fn rebuild_gone_sonames(mut plan: Plan, gone: &BTreeMap<String, Vec<String>>) -> Plan {
    for step in plan.packages.iter_mut() {
        let Some(sonames) = gone.get(&step.pkgbase).filter(|s| !s.is_empty()) else { continue };
        let verb = if sonames.len() == 1 { "is" } else { "are" };
        rebuild(step, format!("{} {verb} gone", sonames.join(", ")));
    }
    plan
}

/// `plan` with the pkgbases `names` (as `build --rebuild` names them: a pkgbase or one of its
/// pkgnames) rebuilt with a dotted pkgrel when the plan would skip them. Returns the plan and
/// the names it could not rebuild so, each with why.
pub fn rebuild_requested(mut plan: Plan, names: &[String]) -> (Plan, Vec<(String, String)>) {
    let mut refused = Vec::new();
    for name in names {
        let found = plan.packages.iter_mut().find(|s| &s.pkgbase == name || s.pkgnames.contains(name));
        let Some(step) = found else {
            refused.push((name.clone(), "it is not in the plan".to_string()));
            continue;
        };
        if step.action == Action::Build && step.rebuild.is_none() {
            continue;
        }
        if !rebuild(step, "requested with --rebuild".into()) {
            refused.push((name.clone(), format!("{} is {} ({})", step.pkgbase, step.action, step.reason)));
        }
    }
    (plan, refused)
}

/// Makes `step` a rebuild for `why`, when it is a skip of a published, locked, buildable
/// pkgbase whose version can be bumped. Returns whether it did.
fn rebuild(step: &mut Step, why: String) -> bool {
    let skipped = step.action == Action::Skip && step.cycle.is_empty() && step.problems.is_empty();
    // Locked: an AUR commit, or a `path:` package's files (issue 27), which have no commit.
    let (Some(locked), Some(_)) = (step.aur_version.as_deref(), step.files_hash.as_ref()) else { return false };
    if !skipped || step.repo_version.is_none() {
        return false;
    }
    let Some(bump) = PkgrelBump::next(locked, step.repo_version.as_deref()) else { return false };
    step.action = Action::Build;
    step.reason = Reason::Rebuild { version: bump.version().to_string(), why: why.clone() };
    step.rebuild = Some(Rebuild { bump, why });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skipped(base: &str, aur: &str, repo: &str) -> Step {
        let entry = crate::alpm::RepoEntry {
            name: base.into(),
            base: base.into(),
            version: repo.into(),
            filename: format!("{base}-{repo}-x86_64.pkg.tar.zst"),
            ..Default::default()
        };
        let none = std::collections::BTreeSet::new();
        let mut step = super::super::removals(&[entry], &none, &std::collections::BTreeSet::new()).remove(0);
        step.action = Action::Skip;
        step.reason = Reason::UpToDate;
        step.aur_version = Some(aur.into());
        step.repo_version = Some(repo.into());
        step.commit = Some("a".repeat(40));
        step.files_hash = Some(format!("tree-sha256:{}", "0".repeat(64)));
        step
    }

    #[test]
    fn a_gone_soname_rebuilds_with_the_next_dotted_pkgrel() {
        let plan = Plan::new(vec![skipped("app", "1.0-1", "1.0-1"), skipped("other", "2-1", "2-1.1")]);
        let gone = BTreeMap::from([
            ("app".to_string(), vec!["libstand.so.1".to_string()]),
            ("other".to_string(), vec!["liba.so.1".to_string(), "libb.so.2".to_string()]),
        ]);
        let plan = rebuild_gone_sonames(plan, &gone);
        let app = plan.step("app").unwrap();
        assert_eq!(app.action, Action::Build);
        assert_eq!(app.reason.to_string(), "rebuild: libstand.so.1 is gone (1.0-1.1)");
        assert_eq!(app.rebuild.as_ref().unwrap().bump.version(), "1.0-1.1");
        let other = plan.step("other").unwrap();
        assert_eq!(other.reason.to_string(), "rebuild: liba.so.1, libb.so.2 are gone (2-1.2)");
    }

    #[test]
    fn a_newer_aur_version_is_built_as_it_is_and_a_request_names_what_it_cannot_rebuild() {
        let mut newer = skipped("app", "1.0-2", "1.0-1.1");
        newer.action = Action::Build;
        newer.reason = Reason::AurNewer { aur: "1.0-2".into(), repo: "1.0-1.1".into() };
        let mut unlocked = skipped("lib", "1-1", "1-1");
        unlocked.commit = None;
        unlocked.files_hash = None;
        let plan = Plan::new(vec![newer, unlocked]);
        let gone = BTreeMap::from([("app".to_string(), vec!["libstand.so.1".to_string()])]);
        let plan = rebuild_gone_sonames(plan, &gone);
        assert_eq!(plan.step("app").unwrap().rebuild, None);
        let (plan, refused) = rebuild_requested(plan, &["app".into(), "lib".into(), "nope".into()]);
        assert_eq!(plan.step("app").unwrap().rebuild, None, "already built at the AUR's new version");
        let names: Vec<&str> = refused.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["lib", "nope"]);
    }
}
