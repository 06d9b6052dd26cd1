//! What a dependency cycle does to its members (issue 24): it fails them and what needs them,
//! never the run.
//!
//! makepkg installs every `depends`, `makedepends` and `checkdepends` of a pkgbase before it
//! builds it (`makepkg -s`; images/builder/prepare.sh does the same), so for a build a cycle
//! through run-time `depends` is as much a cycle as one through `makedepends`: no member can
//! be built before the others. repoctl never breaks a cycle on its own, by building one member
//! against the others' published packages: which member goes first, against which versions, is
//! a bootstrap a person does by hand (as Arch packagers do for their repositories' cycles),
//! and a repository that needs it could not be made again from repo.yaml and repoctl.lock.
//!
//! pacman does install run-time cycles, so a cycle whose members are all published and none
//! of which this run must build breaks nothing: their packages stay installable. That is a
//! warning (none of them can be built again until the cycle is broken), not a problem.
use super::{Action, Problem, Reason, Step};
use std::collections::BTreeSet;

/// Gives every member of each cycle (closed walks, as [`super::graph::Ordered::cycles`]) its
/// [`Step::cycle`], and what the cycle means for it: a problem of every member when one of
/// them must be built in this run or has no published version (then [`super::block_dependants`]
/// blocks the members and what needs them, and published versions stay), else a warning. The
/// members' pkgver() is not asked ([`super::Plan::vcs_candidates`]): a moved upstream could not
/// be built. `file`: the configuration file's name, for the hint.
pub(super) fn mark_cycles(steps: &mut [Step], cycles: &[Vec<String>], file: &str) {
    for walk in cycles {
        let members: BTreeSet<&str> = walk.iter().map(String::as_str).collect();
        let in_cycle = |s: &Step| members.contains(s.pkgbase.as_str());
        let must_build = |s: &Step| matches!(s.action, Action::Build | Action::Blocked) || s.repo_version.is_none();
        let blocks = steps.iter().filter(|s| in_cycle(s)).any(must_build);
        let named = walk.join(" -> ");
        for step in steps.iter_mut().filter(|s| in_cycle(s)) {
            step.cycle = walk.clone();
            if let Reason::VcsToCheck(why) = &step.reason {
                step.reason = (**why).clone();
            }
            if blocks {
                step.problems.push(problem(&named, &members, file));
            } else {
                step.warnings.push(format!(
                    "dependency cycle: {named}: the published packages stay installable (pacman installs them \
                     together), but none of them can be built again until the cycle is broken"
                ));
            }
        }
    }
}

/// The problem every member of a blocking cycle has, word for word.
fn problem(named: &str, members: &BTreeSet<&str>, file: &str) -> Problem {
    let members: Vec<&str> = members.iter().copied().collect();
    let message = format!(
        "dependency cycle: {named}: makepkg installs what a package needs before it builds it, so none of them \
         can be built before the others"
    );
    let hint = format!(
        "`nocheck: true` on an entry in {file} leaves its checkdepends out, which breaks a cycle through them; \
         otherwise ask the AUR maintainers of {} to break the cycle",
        members.join(", ")
    );
    Problem { cycle: true, ..Problem::new(message, hint) }
}
