//! What a run will do, as plain data: which pkgbases to build, skip or remove, and in which
//! order. [`make`] is a pure function of repo.yaml, the AUR's answers and the repository's
//! current sync database, so it can be printed (`repoctl plan`) and tested with tables.
mod graph;
mod version;

pub use graph::CycleError;
pub use version::compare_versions;

use crate::aur::{AurPackage, dep_name};
use crate::config::{Config, Pos};
use crate::repo::RepoEntry;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Build,
    Skip,
    Remove,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Build => "build",
            Action::Skip => "skip",
            Action::Remove => "remove",
        })
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Step {
    pub pkgbase: String,
    pub pkgnames: Vec<String>,
    pub action: Action,
    pub reason: String,
    pub aur_version: Option<String>,
    pub repo_version: Option<String>,
    /// pkgbases of this run that must be built (or be in the repository) first.
    pub depends_on: Vec<String>,
    /// Listed in repo.yaml (false: an AUR dependency of a listed package).
    #[serde(skip)]
    pub listed: bool,
    #[serde(skip)]
    pub nocheck: bool,
    /// Time, memory and CPUs this build may use (repo.yaml's builder defaults, or the entry's).
    #[serde(skip)]
    pub limits: crate::config::Limits,
    /// Whether the build keeps the network after its sources are fetched.
    #[serde(skip)]
    pub network: crate::config::Network,
    /// Keys from repo.yaml's entry, imported besides the AUR repository's keys/pgp.
    #[serde(skip)]
    pub pgp_keys: Vec<crate::config::PgpKey>,
    /// A VCS package: when the AUR version is not newer, `build` asks its pkgver() whether
    /// upstream moved before skipping it.
    pub vcs: bool,
    /// Also make and publish its debug packages (repo.yaml's `debug`: the entry's, else the
    /// builder's; AUR dependencies get the builder's): makepkg keeps its `debug` option and they
    /// go to the `NAME-debug` repository. Otherwise makepkg runs with `!debug`.
    #[serde(skip)]
    pub debug: bool,
    /// Capabilities its build containers get besides the kept ones (repo.yaml's entry; none
    /// for AUR dependencies).
    #[serde(skip)]
    pub capabilities: Vec<crate::docker::Capability>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Plan {
    /// Build order: every step comes after the steps it depends on; removals last.
    pub packages: Vec<Step>,
    /// pkgbase -> position in `packages`, for lookups on the scheduler's hot path.
    #[serde(skip)]
    index: HashMap<String, usize>,
    /// Published pkgnames that the AUR now puts under another pkgbase than the repository's
    /// entry names: their new home replaces them, so [`superseded`] leaves them alone even when
    /// that pkgbase is not in this plan (`build --only`).
    #[serde(skip)]
    pub moved: BTreeSet<String>,
}

impl Plan {
    pub fn new(packages: Vec<Step>) -> Plan {
        let index = packages.iter().enumerate().map(|(i, s)| (s.pkgbase.clone(), i)).collect();
        Plan { packages, index, moved: BTreeSet::new() }
    }

    pub fn to_build(&self) -> impl Iterator<Item = &Step> {
        self.packages.iter().filter(|s| s.action == Action::Build)
    }

    pub fn to_remove(&self) -> impl Iterator<Item = &Step> {
        self.packages.iter().filter(|s| s.action == Action::Remove)
    }

    pub fn step(&self, pkgbase: &str) -> Option<&Step> {
        self.index.get(pkgbase).map(|&i| &self.packages[i])
    }

    /// The builds split into at most `n` shards that can run on separate machines: pkgbases
    /// that depend on each other (directly or through other builds) stay in one shard, in build
    /// order; the largest groups are placed first, each on the least loaded shard. Empty shards
    /// are left out, so there are none when nothing is to be built.
    pub fn shards(&self, n: usize) -> Vec<Vec<String>> {
        let builds: Vec<&Step> = self.to_build().collect();
        let pos: HashMap<&str, usize> = builds.iter().enumerate().map(|(i, s)| (s.pkgbase.as_str(), i)).collect();
        // Union-find over builds joined by depends_on.
        let mut parent: Vec<usize> = (0..builds.len()).collect();
        fn find(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for (i, step) in builds.iter().enumerate() {
            for dep in &step.depends_on {
                if let Some(&j) = pos.get(dep.as_str()) {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a] = b;
                }
            }
        }
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut group_of: HashMap<usize, usize> = HashMap::new();
        for i in 0..builds.len() {
            let root = find(&mut parent, i);
            let g = *group_of.entry(root).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(i);
        }
        // Largest first; ties keep build order, so the result is stable.
        groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
        let mut shards: Vec<Vec<usize>> = vec![Vec::new(); n.max(1)];
        for group in groups {
            let lightest = (0..shards.len()).min_by_key(|&k| shards[k].len()).unwrap_or(0);
            shards[lightest].extend(group);
        }
        shards
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(|mut s| {
                s.sort_unstable();
                s.into_iter().map(|i| builds[i].pkgbase.clone()).collect()
            })
            .collect()
    }

    /// Every pkgbase `pkgbase` needs, directly or through other pkgbases.
    pub fn closure(&self, pkgbase: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![pkgbase.to_string()];
        while let Some(base) = todo.pop() {
            if let Some(step) = self.step(&base) {
                for dep in &step.depends_on {
                    if seen.insert(dep.clone()) {
                        todo.push(dep.clone());
                    }
                }
            }
        }
        seen
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{} package(s) not found in the AUR: {}", .0.len(), .0.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "))]
    NotInAur(Vec<(String, Pos)>),
    #[error("{name} is not listed in repo.yaml, nor an AUR dependency of a listed package")]
    NotListed { name: String },
    #[error(transparent)]
    Cycle(#[from] CycleError),
}

/// What the plan is made from.
pub struct Inputs<'a> {
    pub config: &'a Config,
    /// The AUR's answers for every listed name and every AUR dependency found (pkgname -> package).
    pub aur: &'a BTreeMap<String, AurPackage>,
    /// The repository's sync database as it is now (empty for a new repository).
    pub repo: &'a [RepoEntry],
    /// Only these listed packages (pkgname or pkgbase) and what they need; empty for all.
    pub only: &'a [String],
}

pub fn make(input: &Inputs) -> Result<Plan, PlanError> {
    let bases_of = index_pkgbases(input.aur);
    let listed = listed_pkgbases(input, &bases_of)?;
    let edges = dependency_edges(input.aur, &bases_of);
    let everything = graph::reachable(&listed.keys().cloned().collect(), &edges);
    let roots: BTreeSet<String> = if input.only.is_empty() {
        listed.keys().cloned().collect()
    } else {
        input.only.iter().map(|name| pkgbase_in_repo(name, input, &everything)).collect::<Result<_, _>>()?
    };
    let mut repo_by_base: BTreeMap<&str, Vec<&RepoEntry>> = BTreeMap::new();
    for e in input.repo {
        repo_by_base.entry(e.base.as_str()).or_default().push(e);
    }
    let wanted = graph::reachable(&roots, &edges);
    let order = graph::topological(&wanted, &edges)?;

    let mut steps: Vec<Step> = order
        .iter()
        .map(|base| {
            let mut step = keep_step(base, &repo_by_base, &bases_of, &edges);
            step.listed = listed.contains_key(base);
            step.nocheck = listed.get(base).is_some_and(|p| p.nocheck);
            step.vcs = listed
                .get(base)
                .map_or_else(|| crate::config::VCS_SUFFIXES.iter().any(|s| base.ends_with(s)), |p| p.is_vcs());
            if step.vcs && step.action == Action::Skip {
                step.reason.push_str("; VCS package: `build` checks upstream with pkgver()");
            }
            let defaults = input.config.builder.limits;
            step.limits = listed.get(base).map_or(defaults, |p| p.limits.over(defaults));
            let network = input.config.builder.network;
            step.network = listed.get(base).and_then(|p| p.network).unwrap_or(network);
            step.pgp_keys = listed.get(base).map(|p| p.pgp_keys.clone()).unwrap_or_default();
            step.debug = listed.get(base).and_then(|p| p.debug).unwrap_or(input.config.builder.debug);
            step.capabilities = listed.get(base).map(|p| p.capabilities.clone()).unwrap_or_default();
            if !input.only.is_empty() && roots.contains(base) && step.action == Action::Skip {
                step.action = Action::Build;
                step.reason = format!("requested on the command line ({})", step.reason);
            }
            step
        })
        .collect();
    if input.only.is_empty() {
        let made: BTreeSet<&str> =
            wanted.iter().flat_map(|b| bases_of.get(b).into_iter().flatten()).map(|p| p.name.as_str()).collect();
        steps.extend(removals(input.repo, &wanted, &made));
    }
    let mut plan = Plan::new(steps);
    plan.moved = input
        .repo
        .iter()
        .filter(|e| input.aur.get(&e.name).is_some_and(|a| a.pkgbase != e.base))
        .map(|e| e.name.clone())
        .collect();
    Ok(plan)
}

/// pkgbase -> its pkgnames the AUR told us about.
fn index_pkgbases(aur: &BTreeMap<String, AurPackage>) -> BTreeMap<String, Vec<&AurPackage>> {
    let mut bases: BTreeMap<String, Vec<&AurPackage>> = BTreeMap::new();
    for p in aur.values() {
        bases.entry(p.pkgbase.clone()).or_default().push(p);
    }
    bases
}

/// Listed pkgbase -> its repo.yaml entry; every listed name must be a pkgname or pkgbase.
fn listed_pkgbases<'a>(
    input: &'a Inputs,
    bases_of: &BTreeMap<String, Vec<&AurPackage>>,
) -> Result<BTreeMap<String, &'a crate::config::PackageConfig>, PlanError> {
    let mut listed = BTreeMap::new();
    let mut missing = Vec::new();
    for p in &input.config.packages {
        match input.aur.get(&p.name) {
            Some(aur) => {
                listed.entry(aur.pkgbase.clone()).or_insert(p);
            }
            None if bases_of.contains_key(&p.name) => {
                listed.entry(p.name.clone()).or_insert(p);
            }
            None => missing.push((p.name.clone(), p.pos)),
        }
    }
    if missing.is_empty() { Ok(listed) } else { Err(PlanError::NotInAur(missing)) }
}

/// The pkgbase of a name given on the command line: a listed package or an AUR dependency of
/// one (so that a shard of `plan --shards` can name every pkgbase it builds).
fn pkgbase_in_repo(name: &str, input: &Inputs, everything: &BTreeSet<String>) -> Result<String, PlanError> {
    let base = input.aur.get(name).map_or(name, |p| p.pkgbase.as_str());
    if everything.contains(base) { Ok(base.to_string()) } else { Err(PlanError::NotListed { name: name.to_string() }) }
}

/// pkgbase -> pkgbases it needs (depends, makedepends, checkdepends found in the AUR).
fn dependency_edges(
    aur: &BTreeMap<String, AurPackage>,
    bases_of: &BTreeMap<String, Vec<&AurPackage>>,
) -> BTreeMap<String, BTreeSet<String>> {
    bases_of
        .iter()
        .map(|(base, pkgs)| {
            let deps = pkgs
                .iter()
                .flat_map(|p| p.all_depends())
                .filter_map(|d| aur.get(dep_name(d)))
                .map(|d| d.pkgbase.clone())
                .filter(|d| d != base)
                .collect();
            (base.clone(), deps)
        })
        .collect()
}

fn keep_step(
    base: &str,
    repo_by_base: &BTreeMap<&str, Vec<&RepoEntry>>,
    bases_of: &BTreeMap<String, Vec<&AurPackage>>,
    edges: &BTreeMap<String, BTreeSet<String>>,
) -> Step {
    let aur_pkgs = bases_of.get(base).map(Vec::as_slice).unwrap_or_default();
    let repo_entries: &[&RepoEntry] = repo_by_base.get(base).map(Vec::as_slice).unwrap_or_default();
    let aur_version = aur_pkgs.first().map(|p| p.version.clone());
    let repo_version = repo_entries.iter().map(|e| e.version.clone()).max_by(|a, b| compare_versions(a, b));
    let mut pkgnames: BTreeSet<String> = aur_pkgs.iter().map(|p| p.name.clone()).collect();
    pkgnames.extend(repo_entries.iter().map(|e| e.name.clone()));
    let (action, reason) = decide(aur_version.as_deref(), repo_version.as_deref());
    Step {
        pkgbase: base.to_string(),
        pkgnames: pkgnames.into_iter().collect(),
        action,
        reason,
        aur_version,
        repo_version,
        depends_on: edges.get(base).map(|d| d.iter().cloned().collect()).unwrap_or_default(),
        listed: false,
        nocheck: false,
        limits: crate::config::Limits::default(),
        network: crate::config::Network::default(),
        pgp_keys: Vec::new(),
        vcs: false,
        debug: false,
        capabilities: Vec::new(),
    }
}

fn decide(aur: Option<&str>, repo: Option<&str>) -> (Action, String) {
    match (aur, repo) {
        (_, None) => (Action::Build, "not in the repository".into()),
        (None, Some(_)) => (Action::Skip, "unknown to the AUR".into()),
        (Some(aur), Some(repo)) => match compare_versions(aur, repo) {
            std::cmp::Ordering::Greater => (Action::Build, format!("AUR has {aur}, repository has {repo}")),
            std::cmp::Ordering::Equal => (Action::Skip, "up to date".into()),
            std::cmp::Ordering::Less => (Action::Skip, format!("repository has {repo}, newer than the AUR's {aur}")),
        },
    }
}

/// pkgnames to take out of the repository together with this run's new packages: those a
/// rebuilt pkgbase no longer makes (a split pkgname dropped by the PKGBUILD, a `PKGBASE-debug`
/// published by a repoctl that did not keep debug packages apart). `built` maps each pkgbase
/// built in this run to the pkgnames of its new package files. A pkgname that moved to another
/// pkgbase (another step of the plan makes it, or the AUR says so: [`Plan::moved`]) is left to
/// that pkgbase's build.
pub fn superseded(repo: &[RepoEntry], built: &BTreeMap<String, Vec<String>>, plan: &Plan) -> Vec<String> {
    repo.iter()
        .filter(|e| built.get(&e.base).is_some_and(|names| !names.contains(&e.name)))
        .filter(|e| !plan.moved.contains(&e.name))
        .filter(|e| !plan.packages.iter().any(|s| s.pkgbase != e.base && s.pkgnames.contains(&e.name)))
        .map(|e| e.name.clone())
        .collect()
}

/// pkgnames to take out of the `NAME-debug` repository, whose entries are `debug_repo`: a debug
/// package whose pkgbase is removed or has `debug` off, or was rebuilt in this run (`built`, as
/// for [`superseded`]) without making a new one (the old one would describe another build), or
/// that neither the plan nor `repo` (the main repository) knows any more (an earlier run
/// stopped between the two publishes). A pkgbase outside a partial plan (`build --only`) that
/// `repo` still holds keeps its debug package. `debug_made`: the debug packages this run made,
/// which replace their entries.
pub fn debug_removals(
    debug_repo: &[RepoEntry],
    repo: &[RepoEntry],
    plan: &Plan,
    built: &BTreeMap<String, Vec<String>>,
    debug_made: &[String],
) -> Vec<String> {
    debug_repo
        .iter()
        .filter(|e| {
            let wanted = match plan.step(&e.base) {
                Some(step) => step.debug && step.action != Action::Remove,
                None => repo.iter().any(|r| r.base == e.base),
            };
            !wanted || (built.contains_key(&e.base) && !debug_made.contains(&e.name))
        })
        .map(|e| e.name.clone())
        .collect()
}

/// Repository entries whose pkgbase no listed package needs any more.
/// A pkgname that a wanted pkgbase still makes (it moved between pkgbases) is not removed:
/// its new build replaces the entry.
fn removals(repo: &[RepoEntry], wanted: &BTreeSet<String>, made: &BTreeSet<&str>) -> Vec<Step> {
    let mut gone: BTreeMap<&str, Vec<&RepoEntry>> = BTreeMap::new();
    for e in repo.iter().filter(|e| !wanted.contains(&e.base) && !made.contains(e.name.as_str())) {
        gone.entry(&e.base).or_default().push(e);
    }
    gone.into_iter()
        .map(|(base, entries)| Step {
            pkgbase: base.to_string(),
            pkgnames: entries.iter().map(|e| e.name.clone()).collect(),
            action: Action::Remove,
            reason: "no longer listed in repo.yaml nor needed by a listed package".into(),
            aur_version: None,
            repo_version: entries.first().map(|e| e.version.clone()),
            depends_on: Vec::new(),
            listed: false,
            nocheck: false,
            limits: crate::config::Limits::default(),
            network: crate::config::Network::default(),
            pgp_keys: Vec::new(),
            vcs: false,
            debug: false,
            capabilities: Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests;
