//! Is every package of a repository installable (issue 26)? A published package's `%DEPENDS%`
//! must each be satisfied, as pacman satisfies them, by the official repositories or by the
//! repository itself: an official package dropped, or a library whose versioned `provides`
//! (`libfoo.so=1-64`) moved on, leaves a published package that `pacman -S` refuses, although
//! nothing in the AUR changed.
//!
//! Satisfaction is libalpm's, through [`Relation`] (relations read as `alpm_dep_from_string`
//! reads them, vercmp, never a string compare): a package by its pkgname and version, or a
//! `provides` entry of a package of another pkgname (`resolvedep`); an unversioned provision
//! never satisfies a versioned dependency. Which
//! of several satisfiers pacman would pick does not matter here: one is enough to install.
use super::OfficialRepos;
use crate::alpm::{Relation, RepoEntry, provided_name};
use std::collections::HashMap;

/// A dependency of a package in the repository that neither the official repositories nor
/// the repository itself satisfy: `pacman -S PKGNAME` fails with "unable to satisfy
/// dependency".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Unsatisfied {
    pub pkgname: String,
    pub pkgbase: String,
    /// `[epoch:]pkgver-pkgrel` of the package.
    pub version: String,
    /// The dependency string as `%DEPENDS%` writes it (`oldtool`, `libfoo.so=1-64`).
    pub dependency: String,
}

impl std::fmt::Display for Unsatisfied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} depends on {}, which no repository provides (not the official repositories, not this one)",
            self.pkgname, self.version, self.dependency
        )
    }
}

/// The packages of one repository, indexed for dependency lookups: by pkgname and by
/// provided name (the part of a provision before `=`), each a list of indices.
pub struct RepoIndex<'a> {
    entries: &'a [RepoEntry],
    by_name: HashMap<&'a str, Vec<usize>>,
    by_provision: HashMap<&'a str, Vec<usize>>,
}

impl<'a> RepoIndex<'a> {
    pub fn new(entries: &'a [RepoEntry]) -> RepoIndex<'a> {
        let mut index = RepoIndex { entries, by_name: HashMap::new(), by_provision: HashMap::new() };
        for (i, entry) in entries.iter().enumerate() {
            index.by_name.entry(&entry.name).or_default().push(i);
            for provision in &entry.provides {
                index.by_provision.entry(provided_name(provision)).or_default().push(i);
            }
        }
        index
    }

    /// The packages of the repository that satisfy `relation` as `pacman -S` resolves it
    /// (libalpm's `resolvedep`): by pkgname and version, or a provision of a package of
    /// another pkgname. A package is never its own provider: `lib` 10 providing `lib=12` does
    /// not satisfy `lib>=11` (the provider pass skips the dependency's own name).
    pub fn satisfiers<'b>(&'b self, relation: &'b Relation) -> impl Iterator<Item = &'a RepoEntry> + 'b {
        let named = self.by_name.get(relation.name.as_str()).into_iter().flatten();
        let named = named.map(|&i| &self.entries[i]).filter(|e| relation.satisfied_by_package(&e.name, &e.version));
        let providing = self.by_provision.get(relation.name.as_str()).into_iter().flatten();
        let providing = providing
            .map(|&i| &self.entries[i])
            .filter(|e| e.name != relation.name && e.provides.iter().any(|p| relation.satisfied_by_provision(p)));
        named.chain(providing)
    }
}

/// Every dependency of every package in `entries` that neither `official` nor `entries`
/// satisfies, sorted by pkgname then dependency. Pure and in memory: hash lookups per
/// dependency, no download (500 packages cost well under a millisecond).
pub fn unsatisfied(entries: &[RepoEntry], official: &OfficialRepos) -> Vec<Unsatisfied> {
    let index = RepoIndex::new(entries);
    let mut missing: Vec<Unsatisfied> = entries
        .iter()
        .flat_map(|entry| entry.depends.iter().map(move |dep| (entry, dep)))
        .filter(|(_, dep)| !satisfied(dep, &index, official))
        .map(|(entry, dep)| Unsatisfied {
            pkgname: entry.name.clone(),
            pkgbase: entry.base.clone(),
            version: entry.version.clone(),
            dependency: dep.clone(),
        })
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

/// Whether the dependency string `dep` is satisfied by the repository `index` or `official`.
pub fn satisfied(dep: &str, index: &RepoIndex, official: &OfficialRepos) -> bool {
    let relation = Relation::parse(dep);
    index.satisfiers(&relation).next().is_some() || official.satisfies(&relation)
}

/// One published package's recorded linkage ([`crate::alpm::soname::Linkage`]), as the
/// status object keeps it beside its build.
pub struct Recorded<'a> {
    pub pkgbase: &'a str,
    pub pkgname: &'a str,
    /// The version it was recorded for (`[epoch:]pkgver-pkgrel`).
    pub version: &'a str,
    pub linkage: &'a crate::alpm::soname::Linkage,
    /// The needed sonames an official package provided when it was built, sorted: only these
    /// can be gone.
    pub official_then: &'a [String],
}

/// pkgbase -> the sonames its published packages need, that an official package provided when
/// it was built ([`Recorded::official_then`]), and that neither an official package (a library
/// file of that name in the `.files` databases) nor a package of the repository (`entries`,
/// by the sonames recorded for it) provides now, sorted. Only records of the
/// version `entries` publishes count; empty when the official `.files` databases are not at
/// hand ([`OfficialRepos::has_library`]). Pure and in memory.
pub fn gone_sonames(
    recorded: &[Recorded],
    entries: &[RepoEntry],
    official: &OfficialRepos,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let published: HashMap<&str, &str> = entries.iter().map(|e| (e.name.as_str(), e.version.as_str())).collect();
    let current: Vec<&Recorded> =
        recorded.iter().filter(|r| published.get(r.pkgname).is_some_and(|v| *v == r.version)).collect();
    let in_repo: std::collections::HashSet<&str> =
        current.iter().flat_map(|r| &r.linkage.provides_sonames).map(String::as_str).collect();
    let mut gone: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for r in current {
        for soname in &r.linkage.needs_sonames {
            let was_official = r.official_then.binary_search(soname).is_ok();
            if was_official && !in_repo.contains(soname.as_str()) && official.has_library(soname) == Some(false) {
                gone.entry(r.pkgbase.to_string()).or_default().push(soname.clone());
            }
        }
    }
    for sonames in gone.values_mut() {
        sonames.sort();
        sonames.dedup();
    }
    gone
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::official::testing::sync_db;

    fn entry(name: &str, version: &str, depends: &[&str], provides: &[&str]) -> RepoEntry {
        RepoEntry {
            name: name.into(),
            base: name.into(),
            version: version.into(),
            filename: format!("{name}-{version}-x86_64.pkg.tar.zst"),
            depends: depends.iter().map(|s| s.to_string()).collect(),
            provides: provides.iter().map(|s| s.to_string()).collect(),
            ..RepoEntry::default()
        }
    }

    fn official(packages: &[(&str, &str, &[&str])]) -> OfficialRepos {
        OfficialRepos::from_sync_dbs(&[("extra".into(), sync_db(packages))]).unwrap()
    }

    #[test]
    fn a_dependency_nothing_provides_is_named_with_its_package() {
        let official = official(&[("libstand", "2-1", &["libstand.so=2-64"])]);
        let repo = [
            entry("tool", "1.0-1", &["oldtool", "libstand"], &[]),
            entry("linked", "1.0-1", &["libstand.so=1-64"], &[]),
            entry("fine", "1.0-1", &["libstand.so>=2", "tool>=1.0"], &[]),
        ];
        let missing: Vec<(String, String)> =
            unsatisfied(&repo, &official).into_iter().map(|u| (u.pkgname, u.dependency)).collect();
        assert_eq!(
            missing,
            [("linked".to_string(), "libstand.so=1-64".to_string()), ("tool".into(), "oldtool".into())]
        );
    }

    #[test]
    fn a_needed_soname_neither_official_nor_the_repository_provides_is_gone() {
        use crate::alpm::soname::Linkage;
        let official = official(&[]).with_libraries(&["libc.so.6", "libstand.so.2"]);
        let repo = [entry("app", "1.0-1", &[], &[]), entry("lib", "1-1", &[], &[]), entry("old", "2-1", &[], &[])];
        let needs =
            |n: &[&str]| Linkage { needs_sonames: n.iter().map(|s| s.to_string()).collect(), ..Linkage::default() };
        let app = needs(&["libc.so.6", "libstand.so.1", "libown.so.3", "libbase.so.1"]);
        // libbase.so.1 was never in an official package (the base system's): never judged.
        let then = ["libc.so.6".to_string(), "libgone.so.1".into(), "libown.so.3".into(), "libstand.so.1".into()];
        let lib = Linkage { provides_sonames: vec!["libown.so.3".into()], ..Linkage::default() };
        let stale = needs(&["libgone.so.1"]);
        let recorded = [
            Recorded { pkgbase: "app", pkgname: "app", version: "1.0-1", linkage: &app, official_then: &then },
            Recorded { pkgbase: "lib", pkgname: "lib", version: "1-1", linkage: &lib, official_then: &then },
            // Recorded for another version than the one published: not used.
            Recorded { pkgbase: "old", pkgname: "old", version: "1-1", linkage: &stale, official_then: &then },
        ];
        let gone = gone_sonames(&recorded, &repo, &official);
        assert_eq!(gone, std::collections::BTreeMap::from([("app".to_string(), vec!["libstand.so.1".to_string()])]));
        // Without the .files databases nothing is called gone.
        assert!(gone_sonames(&recorded, &repo, &super::super::OfficialRepos::default()).is_empty());
    }

    #[test]
    fn the_repository_satisfies_its_own_packages_by_name_version_and_provides() {
        let official = OfficialRepos::default();
        let repo = [
            entry("app", "1-1", &["lib>=2", "virtual", "exact=1:3-1"], &[]),
            entry("lib", "2.1-1", &[], &[]),
            entry("impl", "1-1", &[], &["virtual=5", "exact=1:3-1"]),
        ];
        assert_eq!(unsatisfied(&repo, &official), []);
        // vercmp, not string order: 10 > 9.
        let repo = [entry("app", "1-1", &["lib>=9"], &[]), entry("lib", "10-1", &[], &[])];
        assert_eq!(unsatisfied(&repo, &official), []);
        let repo = [entry("app", "1-1", &["lib>=11"], &[]), entry("lib-ng", "10-1", &[], &["lib=12"])];
        assert_eq!(unsatisfied(&repo, &official), [], "a provision satisfies a versioned dependency");
        // Red-team finding: libalpm's resolvedep never takes a package as its own provider.
        let repo = [entry("app", "1-1", &["lib>=11"], &[]), entry("lib", "10-1", &[], &["lib=12"])];
        assert_eq!(unsatisfied(&repo, &official).len(), 1, "lib 10 providing lib=12 is not lib>=11");
        // Nor are relations trimmed: `lib >=1` names the package `lib `.
        let repo = [entry("app", "1-1", &["lib >=1"], &[]), entry("lib", "10-1", &[], &[])];
        assert_eq!(unsatisfied(&repo, &official).len(), 1);
        let repo = [entry("app", "1-1", &["virtual>=1"], &[]), entry("impl", "1-1", &[], &["virtual"])];
        assert_eq!(unsatisfied(&repo, &official).len(), 1, "an unversioned provision does not");
    }
}
