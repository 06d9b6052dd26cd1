//! The publish gate (issue 26): a publish never commits a database in which its own changes
//! make a package uninstallable that was installable. Two ways a change can do that:
//! - removing a package (or replacing it by a version that no longer provides something)
//!   while another package still needs it: a split package's pkgname the new build no longer
//!   makes, a pkgbase taken out of repo.yaml that a published package depends on;
//! - adding a package whose dependency nothing provides: neither the official repositories
//!   nor the repository after the change.
//!
//! The gate looks at the database the change would make (the live entries, minus the removed
//! pkgnames and those the added files replace, plus the added files' `.PKGINFO` `depend` and
//! `provides`: what repo-add writes into `%DEPENDS%` / `%PROVIDES%`), before a file is
//! uploaded. Each part of the change that strands a package is refused ([`Strand`]) and the
//! rest is looked at again, until what is left strands nothing: a refused addition keeps the
//! published version of its pkgbase, a refused removal keeps the package. What was already
//! uninstallable before the change is not this run's doing, and does not stop it.
//!
//! [`Admitted`] is the only way to the edit a publish applies: only [`admit`] makes one.
use crate::alpm::{Relation, RepoEntry};
use crate::official::OfficialRepos;
use crate::official::installable::{RepoIndex, unsatisfied};
use crate::trust::CheckedPackage;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The part of a change the gate refused.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Culprit {
    /// Every file of this pkgbase is left out (its published version stays).
    Add { pkgbase: String },
    /// This pkgname is not removed.
    Remove { pkgname: String },
}

/// A part of the change that would strand a package, and why (one line, naming the package
/// that would not install and the dependency it would miss).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strand {
    pub culprit: Culprit,
    pub reason: String,
}

impl std::fmt::Display for Strand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.culprit {
            Culprit::Add { pkgbase } => write!(f, "not publishing {pkgbase}: {}", self.reason),
            Culprit::Remove { pkgname } => write!(f, "not removing {pkgname}: {}", self.reason),
        }
    }
}

/// The part of a change that strands nothing: what a publish applies. Only [`admit`] makes
/// one.
pub struct Admitted<'c> {
    add: Vec<&'c CheckedPackage>,
    remove: Vec<String>,
}

impl<'c> Admitted<'c> {
    /// The package files to add.
    pub fn add(&self) -> &[&'c CheckedPackage] {
        &self.add
    }

    /// The pkgnames to remove.
    pub fn remove(&self) -> &[String] {
        &self.remove
    }
}

/// Lets through the part of the change (`add` to `live`, and `remove` from it) that leaves
/// every package installable that was installable in `live`, with `official` as today's
/// official repositories; returns it with the parts refused, in the order they were found.
pub fn admit<'c>(
    live: &[RepoEntry],
    add: Vec<&'c CheckedPackage>,
    remove: &[String],
    official: &OfficialRepos,
) -> (Admitted<'c>, Vec<Strand>) {
    let broken_before: HashSet<(String, String)> =
        unsatisfied(live, official).into_iter().map(|u| (u.pkgname, u.dependency)).collect();
    let mut admitted = Admitted { add, remove: remove.to_vec() };
    let mut refused: Vec<Strand> = Vec::new();
    loop {
        let strands = strands(live, &admitted, official, &broken_before);
        if strands.is_empty() {
            return (admitted, refused);
        }
        let culprits: BTreeSet<&Culprit> = strands.iter().map(|s| &s.culprit).collect();
        let before = (admitted.add.len(), admitted.remove.len());
        admitted.add.retain(|p| !culprits.contains(&Culprit::Add { pkgbase: p.pkgbase().to_string() }));
        admitted.remove.retain(|n| !culprits.contains(&Culprit::Remove { pkgname: n.clone() }));
        let progressed = before != (admitted.add.len(), admitted.remove.len());
        refused.extend(strands);
        if !progressed {
            // Nothing left to refuse that would help: what remains was not this change's doing.
            return (admitted, refused);
        }
    }
}

/// The database `admitted` would make of `live`.
fn after(live: &[RepoEntry], admitted: &Admitted) -> Vec<RepoEntry> {
    let added: BTreeSet<&str> = admitted.add.iter().map(|p| p.pkgname()).collect();
    let removed: BTreeSet<&str> = admitted.remove.iter().map(String::as_str).collect();
    let kept = live.iter().filter(|e| !added.contains(e.name.as_str()) && !removed.contains(e.name.as_str())).cloned();
    kept.chain(admitted.add.iter().map(|p| RepoEntry {
        name: p.pkgname().to_string(),
        base: p.pkgbase().to_string(),
        version: p.version().to_string(),
        filename: p.file_name().to_string(),
        depends: p.depends().to_vec(),
        provides: p.provides().to_vec(),
        ..RepoEntry::default()
    }))
    .collect()
}

/// The parts of `admitted` that strand a package: each dependency unsatisfied after it that was
/// not unsatisfied before (`broken_before`), blamed on the addition that brings it, or on the
/// removals and replacements of what satisfied it in `live`.
fn strands(
    live: &[RepoEntry],
    admitted: &Admitted,
    official: &OfficialRepos,
    broken_before: &HashSet<(String, String)>,
) -> Vec<Strand> {
    let new = after(live, admitted);
    let added: BTreeMap<&str, &CheckedPackage> = admitted.add.iter().map(|p| (p.pkgname(), *p)).collect();
    let removed: BTreeSet<&str> = admitted.remove.iter().map(String::as_str).collect();
    let live_index = RepoIndex::new(live);
    let mut found: Vec<Strand> = Vec::new();
    for u in unsatisfied(&new, official) {
        if broken_before.contains(&(u.pkgname.clone(), u.dependency.clone())) {
            continue;
        }
        let who = format!("{} {}", u.pkgname, u.version);
        if added.contains_key(u.pkgname.as_str()) {
            let reason = format!("{who} depends on {}, which no repository provides", u.dependency);
            found.push(Strand { culprit: Culprit::Add { pkgbase: u.pkgbase.clone() }, reason });
            continue;
        }
        for old in live_index.satisfiers(&Relation::parse(&u.dependency)) {
            let strand = if removed.contains(old.name.as_str()) {
                let reason = format!("{who} still needs it ({}), and nothing else provides that", u.dependency);
                Strand { culprit: Culprit::Remove { pkgname: old.name.clone() }, reason }
            } else if let Some(new) = added.get(old.name.as_str()) {
                let reason = format!(
                    "its {} {} no longer provides {}, which {who} needs",
                    new.pkgname(),
                    new.version(),
                    u.dependency
                );
                Strand { culprit: Culprit::Add { pkgbase: new.pkgbase().to_string() }, reason }
            } else {
                continue;
            };
            if !found.iter().any(|s| s.culprit == strand.culprit) {
                found.push(strand);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests;
