//! When each VCS package's upstream was last asked (pkgver()), kept in `WORK/vcs-checks.json`
//! between runs, so that `vcs_interval` can spare a nightly from starting one container per
//! VCS package: a package checked less than its interval ago, and found not newer than what is
//! published, is not checked again ([`defer_vcs_checks`]). A lost file only means every VCS
//! package is checked once more.
use super::{Action, Plan, Reason};
use crate::alpm::compare_versions;
use camino::Utf8Path;
use std::collections::BTreeMap;

const FILE: &str = "vcs-checks.json";

/// One pkgver() check of a VCS package's upstream.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VcsCheck {
    /// When: seconds since the Unix epoch.
    pub checked: i64,
    /// The version pkgver() gave (`[epoch:]pkgver-pkgrel`).
    pub upstream: String,
}

/// pkgbase -> its last check; empty when none was recorded or the file is unreadable.
pub fn read_vcs_checks(work: &Utf8Path) -> BTreeMap<String, VcsCheck> {
    fs_err::read(work.join(FILE)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

/// Records `checks` over the ones kept; write-then-rename.
pub fn record_vcs_checks(work: &Utf8Path, checks: &BTreeMap<String, VcsCheck>) -> std::io::Result<()> {
    if checks.is_empty() {
        return Ok(());
    }
    let mut all = read_vcs_checks(work);
    all.extend(checks.iter().map(|(b, c)| (b.clone(), c.clone())));
    fs_err::create_dir_all(work)?;
    let tmp = work.join(format!(".{FILE}.{}", std::process::id()));
    fs_err::write(&tmp, serde_json::to_vec_pretty(&all).map_err(std::io::Error::other)?)?;
    fs_err::rename(&tmp, work.join(FILE))
}

/// The plan with the VCS checks that are not due taken out of [`Plan::vcs_candidates`]: a
/// candidate whose last check (`checks`) is younger than its [`super::Step::vcs_interval`] at
/// `now` (seconds since the epoch) and gave a version not newer than the published one keeps
/// its skip, with [`Reason::VcsCheckedRecently`]. A check from the future (a clock set back) or
/// that found upstream newer (its build failed, or was not published) is due.
pub fn defer_vcs_checks(mut plan: Plan, checks: &BTreeMap<String, VcsCheck>, now: i64) -> Plan {
    for step in plan.packages.iter_mut() {
        let (Some(check), Some(repo)) = (checks.get(&step.pkgbase), step.repo_version.as_deref()) else { continue };
        if !(step.vcs && step.action == Action::Skip) || step.vcs_interval.is_zero() {
            continue;
        }
        let Ok(ago) = u64::try_from(now - check.checked) else { continue };
        if ago >= step.vcs_interval.as_secs() || compare_versions(&check.upstream, repo).is_gt() {
            continue;
        }
        step.reason = Reason::VcsCheckedRecently {
            upstream: check.upstream.clone(),
            checked: check.checked,
            ago_secs: ago,
            interval_secs: step.vcs_interval.as_secs(),
        };
    }
    plan
}

/// Whether `step`'s pkgver() check was deferred by [`defer_vcs_checks`].
pub(super) fn deferred(step: &super::Step) -> bool {
    matches!(step.reason, Reason::VcsCheckedRecently { .. })
}
