//! What a run will do, as plain data: which pkgbases to build, skip or remove, and in which
//! order. [`make`] is a pure function of repo.yaml, the AUR's answers and the repository's
//! current sync database, so it can be printed (`repoctl plan`) and tested with tables.
mod cycles;
mod git_source;
mod graph;
mod mismatch;
pub mod patches;
mod reason;
mod rebuild;
mod vcs;
pub mod waves;

pub use mismatch::{read_mismatches, update_mismatches};
pub use reason::Reason;
pub use rebuild::{Rebuild, official_digest, rebuild_gone_sonames, rebuild_requested};
pub use vcs::{VcsCheck, defer_vcs_checks, read_vcs_checks, record_vcs_checks};

use crate::alpm::{RepoEntry, compare_versions};
use crate::aur::{Satisfier, Universe};
use crate::config::Config;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Build,
    Skip,
    Remove,
    /// Would be built, but cannot be: [`Step::problems`] says why. Its published version, if
    /// any, stays.
    Blocked,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Build => "build",
            Action::Skip => "skip",
            Action::Remove => "remove",
            Action::Blocked => "blocked",
        })
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Step {
    pub pkgbase: String,
    pub pkgnames: Vec<String>,
    pub action: Action,
    /// Why. In `plan --json`: `reason`, the words; and for a VCS check deferred by
    /// `vcs_interval` ([`Reason::VcsCheckedRecently`]) `vcs_check`, an object with `upstream`
    /// (the version pkgver() made then), `last_checked` and `next_check` (RFC 3339, UTC) and
    /// `interval_secs`.
    #[serde(flatten, serialize_with = "reason::serialize_fields")]
    pub reason: Reason,
    pub aur_version: Option<String>,
    pub repo_version: Option<String>,
    /// pkgbases of this run that must be built (or be in the repository) first.
    pub depends_on: Vec<String>,
    /// Listed in repo.yaml (false: an AUR dependency of a listed package).
    pub listed: bool,
    /// pkgbases of this plan that need it directly.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needed_by: Vec<String>,
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
    /// The least time between two such checks (repo.yaml's `vcs_interval`; zero: every run).
    #[serde(skip)]
    pub vcs_interval: std::time::Duration,
    /// Also make and publish its debug packages (repo.yaml's `debug`: the entry's, else the
    /// builder's; AUR dependencies get the builder's): makepkg keeps its `debug` option and they
    /// go to the `NAME-debug` repository. Otherwise makepkg runs with `!debug`.
    #[serde(skip)]
    pub debug: bool,
    /// Capabilities its build containers get besides the kept ones (repo.yaml's entry; none
    /// for AUR dependencies).
    #[serde(skip)]
    pub capabilities: Vec<crate::docker::Capability>,
    /// The file names of its packages in the published repository (empty when not published).
    #[serde(skip)]
    pub published_files: Vec<String>,
    /// The AUR's `LastModified` of the pkgbase (seconds since the epoch), when it has one.
    #[serde(skip)]
    pub last_modified: Option<i64>,
    /// Dependencies it was chosen to satisfy through its `provides`, with who needs them
    /// (`engine (needed by app)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub provides_for: Vec<String>,
    /// Why it cannot be built or updated: a person must act (`check` and `plan` exit 2,
    /// `build` builds everything else and exits 1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    /// What a person should know and need not act on (a dependency gone from the AUR, kept).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The dependency cycle it is in, as a closed walk along the dependencies through every
    /// member (`[a, b, c, a]`); empty when it is in none. In `plan --json`: `cycle`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cycle: Vec<String>,
    /// The AUR commit that is built: the lock's (None: not locked, or gone from the AUR).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The lock's `files` of that commit ([`crate::trust::tree::Tree::verify`] checks it before
    /// the build).
    #[serde(skip)]
    pub files_hash: Option<String>,
    /// For a build, once [`Plan::expect_durations`] ran (`plan`): how long it is expected to
    /// take, in seconds, and where that comes from. In `plan --json`: `expected_secs` and
    /// `expected_from` (`last-build` or `default`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_from: Option<waves::ExpectedFrom>,
    /// A rebuild of the published, locked commit with a dotted pkgrel (issue 26): the version
    /// it makes and why. In `plan --json`: `rebuild`, `{"bump": {"version": "1.0-1.1",
    /// "pkgrel": "1.1"}, "why": "libstand.so.1 is gone"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuild: Option<Rebuild>,
    /// A `path:` package's directory (issue 27): built from its files, checked against the
    /// lock's `files`, instead of an AUR commit. In `plan --json`: `path`, as repo.yaml writes it.
    #[serde(rename = "path", skip_serializing_if = "Option::is_none", serialize_with = "local_written")]
    pub local: Option<crate::config::LocalPath>,
    /// A `git:` package's repository (issue 27): built from the subdir's files at the locked
    /// commit of that repository, checked against the lock's `files`, instead of an AUR commit.
    /// In `plan --json`: `git`, `{"url": "https://...", "subdir": "tool2"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<crate::config::GitSource>,
    /// `patches:` of its repo.yaml entry and the digests repoctl.lock records for them (issue
    /// 27): the build applies them to the locked commit's files once they match
    /// ([`crate::build::patches`]). In `plan --json`: `patches`, as repo.yaml writes them.
    #[serde(skip_serializing_if = "PlannedPatches::is_empty")]
    pub patches: PlannedPatches,
}

/// A step's patches (issue 27): the files repo.yaml lists, and what repoctl.lock records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannedPatches {
    pub files: Vec<crate::config::PatchFile>,
    /// The lock entry's `patches` (empty: none locked).
    pub locked: Vec<String>,
}

impl PlannedPatches {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.locked.is_empty()
    }
}

impl serde::Serialize for PlannedPatches {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.files.iter().map(|f| f.written.as_str()))
    }
}

fn local_written<S: serde::Serializer>(local: &Option<crate::config::LocalPath>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(local.as_ref().map_or("", |l| l.written.as_str()))
}

/// Something about one package that a person must fix: what is wrong, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub message: String,
    pub hint: String,
    /// The problem is the dependency cycle of [`Step::cycle`], which its members share.
    #[serde(skip)]
    cycle: bool,
}

impl Problem {
    fn new(message: impl Into<String>, hint: impl Into<String>) -> Problem {
        Problem { message: message.into(), hint: hint.into(), cycle: false }
    }

    /// Whether this is the step's dependency cycle ([`Step::cycle`]): every member has the
    /// same one, word for word.
    pub fn is_cycle(&self) -> bool {
        self.cycle
    }
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
    /// [`crate::lock::Lock::digest`] of the lock the plan was made from, which every package
    /// it builds records as its provenance (None: a plan made without one, in tests).
    #[serde(skip)]
    pub lock_digest: Option<String>,
    /// The official sync databases the plan read, as one digest ([`official_digest`]), which
    /// every build records (a soname found gone while they are the same is not rebuilt again).
    #[serde(skip)]
    pub official: Option<String>,
}

impl Plan {
    pub fn new(packages: Vec<Step>) -> Plan {
        let index = packages.iter().enumerate().map(|(i, s)| (s.pkgbase.clone(), i)).collect();
        Plan { packages, index, moved: BTreeSet::new(), lock_digest: None, official: None }
    }

    pub fn to_build(&self) -> impl Iterator<Item = &Step> {
        self.packages.iter().filter(|s| s.action == Action::Build)
    }

    pub fn to_remove(&self) -> impl Iterator<Item = &Step> {
        self.packages.iter().filter(|s| s.action == Action::Remove)
    }

    /// pkgbases the AUR has and repoctl.lock does not: nothing of them is built.
    pub fn not_locked(&self) -> impl Iterator<Item = &Step> {
        self.packages.iter().filter(|s| s.reason == Reason::NotLocked)
    }

    /// Steps with problems (see [`Step::problems`]).
    pub fn with_problems(&self) -> impl Iterator<Item = &Step> {
        self.packages.iter().filter(|s| !s.problems.is_empty())
    }

    pub fn step(&self, pkgbase: &str) -> Option<&Step> {
        self.index.get(pkgbase).map(|&i| &self.packages[i])
    }

    /// VCS packages the AUR calls up to date, whose upstream may have moved and whose check is
    /// due ([`defer_vcs_checks`]): what `build` asks pkgver() about ([`apply_vcs`]).
    pub fn vcs_candidates(&self) -> impl Iterator<Item = &Step> {
        self.packages
            .iter()
            .filter(|s| s.vcs && s.action == Action::Skip && s.repo_version.is_some() && s.cycle.is_empty())
            .filter(|s| !vcs::deferred(s))
    }

    /// The published package files that this plan's builds and VCS checks install, by
    /// pkgbase: those of the pkgbases they need that this run does not build.
    pub fn published_dependencies(&self) -> BTreeMap<String, Vec<String>> {
        let mut needed = BTreeMap::new();
        let probed = self.packages.iter().filter(|s| s.action == Action::Build).chain(self.vcs_candidates());
        for step in probed {
            for dep in self.closure(&step.pkgbase) {
                if let Some(d) = self.step(&dep).filter(|d| d.action != Action::Build && !d.published_files.is_empty())
                {
                    needed.insert(dep, d.published_files.clone());
                }
            }
        }
        needed
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

/// A pkgbase `repoctl rollback` held back (issue 29): the rollback took away the version the
/// lock names, and a `build` would publish it again. Stored by the publish layer
/// (`history/holds.json` beside the repository); the plan only reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RolledBack {
    /// The lock's commit when the rollback ran (40 hex digits): the hold lasts while the lock
    /// still names it.
    pub commit: String,
    /// That commit's version (`[epoch:]pkgver-pkgrel`), as the lock said.
    pub version: String,
    /// The snapshot the rollback put back (`crate::publish::history`'s id).
    pub snapshot: String,
    /// When: RFC 3339, UTC.
    pub time: String,
}

/// `plan` with every step a rollback holds (`holds`: pkgbase -> hold) skipped: a step that
/// would build the very commit the hold names ([`Step::commit`]), unless it was named on the
/// command line (`build PKG` asks for it on purpose) or rebuilds with a dotted pkgrel (another
/// version, `build --rebuild PKG`). Its VCS check is dropped too.
/// `named`: the packages on the command line (pkgnames or pkgbases).
pub fn hold_rolled_back(mut plan: Plan, holds: &BTreeMap<String, RolledBack>, named: &[String]) -> Plan {
    for step in &mut plan.packages {
        let Some(hold) = holds.get(&step.pkgbase) else { continue };
        let same_commit = step.commit.as_deref() == Some(hold.commit.as_str());
        let is_named = named.iter().any(|n| *n == step.pkgbase || step.pkgnames.contains(n));
        if !same_commit || is_named || matches!(step.reason, Reason::Rebuild { .. }) {
            continue;
        }
        if step.action == Action::Build {
            step.action = Action::Skip;
            step.vcs = false;
            step.reason = Reason::RolledBack { version: hold.version.clone(), snapshot: hold.snapshot.clone() };
        }
    }
    plan
}

/// What stops a plan from being made at all. Problems of single packages (a dependency
/// cycle among them) are never errors: they are the [`Step::problems`] of those packages.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{name} is not listed in repo.yaml, nor an AUR dependency of a listed package")]
    NotListed { name: String },
}

/// What the plan is made from.
pub struct Inputs<'a> {
    pub config: &'a Config,
    /// What the AUR and the official repositories said about the listed packages and
    /// everything they need ([`crate::aur::resolve`]).
    pub universe: &'a Universe,
    /// The repository's sync database as it is now (empty for a new repository).
    pub repo: &'a [RepoEntry],
    /// Only these listed packages (pkgname or pkgbase) and what they need; empty for all.
    pub only: &'a [String],
    /// pkgbases whose `.SRCINFO` and PKGBUILD disagreed on the version when last built
    /// ([`Mismatch`]).
    pub mismatches: &'a BTreeMap<String, Mismatch>,
    /// repoctl.lock: only locked commits are built (the universe was resolved at them).
    pub lock: &'a crate::lock::Lock,
}

/// A build whose package files had another version than its `.SRCINFO` said: until the AUR
/// changes the pkgbase (its LastModified), the plan does not build it again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mismatch {
    /// The AUR's `LastModified` when it was built.
    pub last_modified: i64,
    /// What `.SRCINFO` said.
    pub srcinfo_version: String,
    /// What the PKGBUILD made.
    pub built_version: String,
}

pub fn make(input: &Inputs) -> Result<Plan, PlanError> {
    let u = input.universe;
    let listed = listed_pkgbases(input);
    let (edges, mut problems) = dependency_edges(input, &listed);
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
    for (base, problem) in conflicting_entries(input).into_iter().chain(made_twice(input, &wanted)) {
        problems.entry(base).or_default().push(problem);
    }
    let graph::Ordered { order, cycles } = graph::order(&wanted, &edges);
    let dependants = dependants_of(&wanted, &edges);
    let via_provides = satisfied_through_provides(u);

    let mut steps: Vec<Step> = Vec::with_capacity(order.len());
    for base in &order {
        let entry = listed.get(base).copied();
        let mut step = keep_step(base, u, &repo_by_base, &edges, input.mismatches);
        configure(&mut step, entry, input);
        let known = u.srcinfo.contains_key(base);
        if !input.only.is_empty() && roots.contains(base) && step.action == Action::Skip && known {
            step.action = Action::Build;
            step.reason = Reason::requested(step.reason.clone());
        }
        if known {
            apply_lock(&mut step, input.lock.entries.get(base));
            lock_kind_problems(&mut step, input.lock.entries.get(base), u.local.get(base), config_file(input));
            local_output_problems(&mut step, input.lock.entries.get(base), u.srcinfo.get(base));
        }
        step.provides_for = provides_for(base, u, &dependants, &via_provides);
        step.needed_by = dependants.get(base).cloned().unwrap_or_default();
        if !known && !u.broken.contains_key(base) {
            gone_from_aur(&mut step, entry.is_some(), &dependants, config_file(input));
        }
        step.problems.extend(problems.remove(base).unwrap_or_default());
        steps.push(step);
    }
    cycles::mark_cycles(&mut steps, &cycles, config_file(input));
    block_dependants(&mut steps);
    if input.only.is_empty() {
        let made: BTreeSet<&str> = wanted
            .iter()
            .flat_map(|b| u.srcinfo.get(b).into_iter().flat_map(|s| &s.pkgnames))
            .map(String::as_str)
            .collect();
        steps.extend(removals(input.repo, &wanted, &made));
    }
    let mut plan = Plan::new(steps);
    plan.moved = moved_pkgnames(input);
    plan.lock_digest = Some(input.lock.digest());
    Ok(plan)
}

/// Published pkgnames whose pkgbase in the AUR is not the one the repository's entry names
/// ([`Plan::moved`]).
fn moved_pkgnames(input: &Inputs) -> BTreeSet<String> {
    let u = input.universe;
    input.repo.iter().filter(|e| u.pkgbase_of(&e.name).is_some_and(|b| b != e.base)).map(|e| e.name.clone()).collect()
}

/// A step's settings: its repo.yaml entry's (`entry`, None for an AUR dependency), else the
/// builder's defaults.
fn configure(step: &mut Step, entry: Option<&crate::config::PackageConfig>, input: &Inputs) {
    let builder = &input.config.builder;
    step.listed = entry.is_some();
    step.nocheck = entry.is_some_and(|p| p.nocheck);
    let base = step.pkgbase.as_str();
    step.vcs = entry.map_or_else(|| crate::config::VCS_SUFFIXES.iter().any(|s| base.ends_with(s)), |p| p.is_vcs());
    if step.vcs && step.action == Action::Skip && input.universe.srcinfo.contains_key(base) {
        step.reason = Reason::VcsToCheck(Box::new(step.reason.clone()));
    }
    step.vcs_interval = entry.and_then(|p| p.vcs_interval).unwrap_or(builder.vcs_interval);
    step.limits = entry.map_or(builder.limits, |p| p.limits.over(builder.limits));
    step.network = entry.and_then(|p| p.network).unwrap_or(builder.network);
    step.pgp_keys = entry.map(|p| p.pgp_keys.clone()).unwrap_or_default();
    step.debug = entry.and_then(|p| p.debug).unwrap_or(builder.debug);
    step.capabilities = entry.map(|p| p.capabilities.clone()).unwrap_or_default();
    step.local = entry.and_then(|p| p.local_path().cloned());
    step.git = entry.and_then(|p| p.git_source().cloned());
    step.patches.files = entry.map(|p| p.patches.clone()).unwrap_or_default();
}

/// Listed pkgbase -> its repo.yaml entry. A listed name the AUR does not know stands for
/// itself: the published pkgbase of that name (or making that pkgname) when there is one.
fn listed_pkgbases<'a>(input: &'a Inputs) -> BTreeMap<String, &'a crate::config::PackageConfig> {
    let mut listed = BTreeMap::new();
    for p in &input.config.packages {
        let base = match input.universe.listed.get(&p.name) {
            Some(base) => base.clone(),
            None => input.repo.iter().find(|e| e.name == p.name).map_or_else(|| p.name.clone(), |e| e.base.clone()),
        };
        listed.entry(base).or_insert(p);
    }
    listed
}

/// The name of the configuration file, for hints (`repo.yaml` unless `--config` says otherwise).
fn config_file<'a>(input: &Inputs<'a>) -> &'a str {
    input.config.path.file_name().unwrap_or("repo.yaml")
}

/// Entries of repo.yaml naming pkgnames of one pkgbase with different settings (`nocheck`,
/// `timeout`...): a pkgbase is built once, so which settings apply would be a guess.
fn conflicting_entries(input: &Inputs) -> Vec<(String, Problem)> {
    let mut first: BTreeMap<&str, &crate::config::PackageConfig> = BTreeMap::new();
    let mut found = Vec::new();
    for p in &input.config.packages {
        let Some(base) = input.universe.listed.get(&p.name) else { continue };
        let Some(other) = first.get(base.as_str()).copied() else {
            first.insert(base, p);
            continue;
        };
        let same = crate::config::PackageConfig { name: other.name.clone(), pos: other.pos, ..p.clone() } == *other;
        if !same {
            let message = format!(
                "`{}` (line {}) and `{}` (line {}) are pkgnames of one pkgbase, {base}, with different settings",
                p.name, p.pos.line, other.name, other.pos.line
            );
            let hint = format!(
                "a pkgbase is built once: list `{base}` once in {}, with the settings it needs",
                config_file(input)
            );
            found.push((base.clone(), Problem::new(message, hint)));
        }
    }
    found
}

/// Locked pkgbases of the plan (`wanted`) that make one pkgname, each with its problem: the AUR
/// makes a pkgname in one pkgbase, but a lock can hold one pkgbase at a commit from before the
/// pkgname moved to another. A repository holds one package of a name (repo-add keeps one
/// entry), so which one to publish would be a guess, and publishing both is refused. (A pkgbase
/// not locked is not built, so it conflicts with nothing yet.)
fn made_twice(input: &Inputs, wanted: &BTreeSet<String>) -> Vec<(String, Problem)> {
    let (u, file) = (input.universe, config_file(input));
    let mut makers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let locked = wanted.iter().filter(|b| input.lock.entries.contains_key(*b) && !u.broken.contains_key(*b));
    for base in locked {
        for name in u.srcinfo.get(base).into_iter().flat_map(|s| &s.pkgnames) {
            makers.entry(name).or_default().insert(base);
        }
    }
    let mut found = Vec::new();
    for (name, bases) in makers.into_iter().filter(|(_, b)| b.len() > 1) {
        let all = bases.iter().copied().collect::<Vec<_>>().join(", ");
        for base in bases {
            let message = format!("`{name}` is made by more than one pkgbase of the plan: {all}");
            let hint = format!(
                "a repository holds one package of a name: run `repoctl update` to lock {all} at commits of the AUR \
                 that agree, or keep one of them in {file}"
            );
            found.push((base.to_string(), Problem::new(message, hint)));
        }
    }
    found
}

/// The pkgbase of a name given on the command line: a listed package or an AUR dependency of
/// one (so that a shard of `plan --shards` can name every pkgbase it builds).
fn pkgbase_in_repo(name: &str, input: &Inputs, everything: &BTreeSet<String>) -> Result<String, PlanError> {
    let u = input.universe;
    let base = u.listed.get(name).map(String::as_str).or_else(|| u.pkgbase_of(name)).unwrap_or(name);
    if everything.contains(base) { Ok(base.to_string()) } else { Err(PlanError::NotListed { name: name.to_string() }) }
}

/// pkgbase -> pkgbases it needs (what satisfies the depends of all its pkgnames, its
/// makedepends and, without `nocheck`, its checkdepends, for the configured architecture), and
/// pkgbase -> the problems that keep it from being built (a dependency nothing or several
/// candidates satisfy, an unusable `.SRCINFO`).
fn dependency_edges(
    input: &Inputs,
    listed: &BTreeMap<String, &crate::config::PackageConfig>,
) -> (BTreeMap<String, BTreeSet<String>>, BTreeMap<String, Vec<Problem>>) {
    let u = input.universe;
    let nocheck: BTreeSet<&str> = listed.iter().filter(|(_, p)| p.nocheck).map(|(b, _)| b.as_str()).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems: BTreeMap<String, Vec<Problem>> = BTreeMap::new();
    for (base, why) in &u.broken {
        let hint = if listed.get(base).is_some_and(|p| p.git_source().is_some()) {
            git_source::BROKEN_HINT
        } else if u.local.contains_key(base) {
            "fix the PKGBUILD in its directory, or the entry: `makepkg --printsrcinfo` must succeed there and make the entry's pkgbase"
        } else {
            "tell its AUR maintainer (its .SRCINFO must match its PKGBUILD); it is built again once fixed"
        };
        problems.entry(base.clone()).or_default().push(Problem::new(why.clone(), hint));
    }
    // A pkgbase gone from the AUR but published needs what its published packages depend on.
    for e in input.repo.iter().filter(|e| !u.srcinfo.contains_key(&e.base) && !u.broken.contains_key(&e.base)) {
        let deps = edges.entry(e.base.clone()).or_default();
        for dep in &e.depends {
            if let Some(Satisfier::Aur { pkgbase, .. } | Satisfier::Published { pkgbase, .. }) = u.satisfiers.get(dep)
                && pkgbase != &e.base
            {
                deps.insert(pkgbase.clone());
            }
        }
    }
    for (base, info) in u.srcinfo.iter().filter(|(b, _)| !u.broken.contains_key(*b)) {
        let deps = edges.entry(base.clone()).or_default();
        for dep in info.needs(nocheck.contains(base.as_str())) {
            match u.satisfiers.get(&dep) {
                Some(Satisfier::Aur { pkgbase, .. } | Satisfier::Published { pkgbase, .. }) => {
                    if pkgbase != base {
                        deps.insert(pkgbase.clone());
                    }
                }
                Some(Satisfier::Official { .. }) => {}
                other => problems.entry(base.clone()).or_default().push(unsatisfied(base, &dep, other, input)),
            }
        }
    }
    (edges, problems)
}

/// The problem of `base`, whose dependency `dep` nothing satisfies (`satisfier`: why).
fn unsatisfied(base: &str, dep: &str, satisfier: Option<&Satisfier>, input: &Inputs) -> Problem {
    let file = config_file(input);
    match satisfier {
        Some(Satisfier::Ambiguous { candidates }) => Problem::new(
            format!(
                "{base} needs `{dep}`: no package has that name, and several AUR packages provide it: {}",
                candidates.join(", ")
            ),
            format!("list the one to use in {file}, e.g. `- {}`", candidates[0]),
        ),
        Some(Satisfier::Refused { pkgname, version, from }) => {
            let (whose, fix) = if from == "AUR" {
                let fix = format!("once the AUR has a {pkgname} that satisfies it, `repoctl update` locks it");
                ("the AUR's".to_string(), fix)
            } else {
                (format!("{from}'s"), format!("wait for the official repositories to update {pkgname}"))
            };
            Problem::new(
                format!("{base} needs `{dep}`, but {whose} {pkgname} is {version}, and nothing else provides it"),
                format!("{fix}; or ask the AUR maintainer of {base} about the requirement"),
            )
        }
        _ => Problem::new(
            format!("{base} needs `{dep}`, and no official, AUR or published package has that name or provides it"),
            format!(
                "check the name on the AUR page of {base}; if an AUR package provides it under another name, list \
                 that package in {file}"
            ),
        ),
    }
}

/// pkgbase -> the wanted pkgbases that need it directly.
fn dependants_of(
    wanted: &BTreeSet<String>,
    edges: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for base in wanted {
        for dep in edges.get(base).into_iter().flatten() {
            out.entry(dep.clone()).or_default().push(base.clone());
        }
    }
    out
}

/// pkgbase -> the dependency strings it was chosen to satisfy through its `provides`.
fn satisfied_through_provides(u: &Universe) -> BTreeMap<&str, Vec<&str>> {
    let mut by_base: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (dep, s) in &u.satisfiers {
        if let Satisfier::Aur { pkgbase, via_provides: true, .. } = s {
            by_base.entry(pkgbase).or_default().push(dep);
        }
    }
    by_base
}

/// The dependencies `base` was chosen to satisfy through its `provides` (`via_provides`, from
/// [`satisfied_through_provides`]), with who needs them: `engine (needed by app)`.
fn provides_for(
    base: &str,
    u: &Universe,
    dependants: &BTreeMap<String, Vec<String>>,
    via_provides: &BTreeMap<&str, Vec<&str>>,
) -> Vec<String> {
    let needers = dependants.get(base).cloned().unwrap_or_default();
    let deps = via_provides.get(base).into_iter().flatten();
    deps.filter_map(|dep| {
        let who: Vec<&str> = needers
            .iter()
            .filter(|n| u.srcinfo.get(*n).is_some_and(|s| s.needs(false).iter().any(|d| d == dep)))
            .map(String::as_str)
            .collect();
        (!who.is_empty()).then(|| format!("{dep} (needed by {})", who.join(", ")))
    })
    .collect()
}

/// A pkgbase the AUR no longer has: its published version is kept while something needs it.
/// Listed, that is a problem for a person (remove the entry, or find its new name); only
/// needed by others, a warning.
fn gone_from_aur(step: &mut Step, listed: bool, dependants: &BTreeMap<String, Vec<String>>, file: &str) {
    step.action = Action::Skip;
    let needed_by = dependants.get(&step.pkgbase).cloned().unwrap_or_default();
    match (&step.repo_version, listed) {
        (Some(v), true) => {
            step.reason = Reason::GoneKept { version: v.clone() };
            step.problems.push(Problem::new(
                format!(
                    "`{}` is gone from the AUR (deleted or merged): its published {v} is kept, and no longer updated",
                    step.pkgbase
                ),
                format!("remove the entry from {file}, or list the package under its new name"),
            ));
        }
        (None, true) => {
            // Nothing to build and nothing published: blocked, not up to date.
            step.action = Action::Blocked;
            step.reason = Reason::NotFound;
            step.problems.push(Problem::new(
                format!("package `{}` was not found in the AUR", step.pkgbase),
                "check the spelling on the AUR; official-repository packages need no entry",
            ));
        }
        (Some(v), false) => {
            step.reason = Reason::GoneNeeded { version: v.clone(), by: needed_by.clone() };
            step.warnings.push(format!(
                "{} is gone from the AUR; its published {v} is kept because {} need(s) it",
                step.pkgbase,
                needed_by.join(", ")
            ));
        }
        (None, false) => {}
    }
}

/// The lock's commit of a pkgbase the AUR has: built at that commit; with no entry, nothing
/// of it is built (nor is its pkgver() asked), and its reason says so ([`Plan::not_locked`]).
fn apply_lock(step: &mut Step, entry: Option<&crate::lock::Entry>) {
    match entry {
        Some(e) => {
            // A `path:` package's entry has no commit: its `files` alone locks it.
            step.commit = (!e.is_local()).then(|| e.commit.clone());
            step.files_hash = Some(e.files.clone());
            step.patches.locked = e.patches.clone();
        }
        None => {
            step.action = Action::Skip;
            step.reason = Reason::NotLocked;
            step.vcs = false;
        }
    }
}

/// A lock entry of the other kind than repo.yaml's entry (an AUR commit for a `path:` package,
/// or the reverse), or a `path:` package whose directory's files (`now`, their digest) are not
/// the ones the lock records: not built until `repoctl update` locks what is there (issue 27).
fn lock_kind_problems(step: &mut Step, entry: Option<&crate::lock::Entry>, now: Option<&String>, file: &str) {
    let Some(e) = entry else { return };
    if step.git.is_some() || e.git.is_some() {
        return git_source::lock_problems(step, e, file);
    }
    let base = step.pkgbase.clone();
    let update = format!("run `repoctl update {base}`, review what it shows and commit repoctl.lock");
    match (now, &e.path, &step.local) {
        (Some(now), Some(_), Some(local)) if *now != e.files => step.problems.push(Problem::new(
            format!(
                "the files of `{}` changed since repoctl.lock was written ({} there, {now} now)",
                local.written, e.files
            ),
            update,
        )),
        (Some(_), None, _) => step.problems.push(Problem::new(
            format!("repoctl.lock holds {base} as an AUR commit, but {file} lists it as a `path:` package"),
            update,
        )),
        (None, Some(path), _) => step.problems.push(Problem::new(
            format!(
                "repoctl.lock holds {base} as the directory `{path}`, but {file} does not list it as a `path:` package"
            ),
            update,
        )),
        _ => {}
    }
}

/// A `path:` package whose locked files now make other pkgnames or another version than the
/// lock records (attacker review of issue 27, F1). An AUR package's `.SRCINFO` is a file of its
/// locked tree, fixed by the digest; a `path:` package's is made by running its PKGBUILD
/// ([`crate::build::local`]), so the same files can say something else on another machine or
/// day (a PKGBUILD that reads the date, the host, the environment). The build's package check
/// takes what that `.SRCINFO` declares; so it must be what a person let in.
fn local_output_problems(step: &mut Step, entry: Option<&crate::lock::Entry>, srcinfo: Option<&crate::aur::SrcInfo>) {
    let (Some(e), Some(srcinfo)) = (entry, srcinfo) else { return };
    // A `git:` package's `.SRCINFO` may be made by running its PKGBUILD too.
    let written = match (&step.local, &step.git) {
        (Some(local), _) if e.is_local() => local.written.clone(),
        (None, Some(git)) if e.git.is_some() => git.describe(),
        _ => return,
    };
    if step.files_hash.as_deref() != Some(e.files.as_str()) {
        return;
    }
    let sorted = |names: &[String]| {
        let mut names = names.to_vec();
        names.sort();
        names
    };
    if srcinfo.version == e.version && sorted(&srcinfo.pkgnames) == sorted(&e.pkgnames) {
        return;
    }
    step.problems.push(Problem::new(
        format!(
            "the locked files of `{}` now make {} {}, but repoctl.lock says {} {}: the PKGBUILD's output depends on when or where it runs",
            written,
            srcinfo.pkgnames.join(" "),
            srcinfo.version,
            e.pkgnames.join(" "),
            e.version
        ),
        "make the PKGBUILD's pkgname, pkgver, pkgrel and epoch plain values, then run `repoctl update` and review what it locks",
    ));
}

/// A step that cannot be built (it has problems, or is not locked) and has no published
/// version blocks the steps that need it, in build order (a cycle's members come before
/// whatever needs them).
fn block_dependants(steps: &mut [Step]) {
    let mut blocked: BTreeSet<String> = BTreeSet::new();
    let mut unlocked: BTreeSet<String> = BTreeSet::new();
    for step in steps.iter_mut() {
        // A member of a cycle has the cycle as its problem, not each other member.
        let blocker = |d: &&String| blocked.contains(*d) && !step.cycle.contains(d);
        let blockers: Vec<String> = step.depends_on.iter().filter(blocker).cloned().collect();
        let not_locked: Vec<String> = step.depends_on.iter().filter(|d| unlocked.contains(*d)).cloned().collect();
        if !not_locked.is_empty() && step.reason != Reason::NotLocked {
            step.problems.push(Problem::new(
                format!("{} needs {}, which is not locked", step.pkgbase, not_locked.join(", ")),
                "run `repoctl update` to review and lock it",
            ));
        }
        if step.reason == Reason::NotLocked && step.repo_version.is_none() {
            unlocked.insert(step.pkgbase.clone());
        }
        if !blockers.is_empty() {
            step.problems.push(Problem::new(
                format!("{} needs {}, which cannot be built", step.pkgbase, blockers.join(", ")),
                format!("fix the problem of {} first", blockers.join(", ")),
            ));
        }
        if !step.problems.is_empty() {
            if step.action == Action::Build {
                step.action = Action::Blocked;
                step.reason = Reason::Blocked(step.problems.iter().map(|p| p.message.clone()).collect());
            }
            if step.repo_version.is_none() {
                blocked.insert(step.pkgbase.clone());
            }
        }
    }
}

fn keep_step(
    base: &str,
    u: &Universe,
    repo_by_base: &BTreeMap<&str, Vec<&RepoEntry>>,
    edges: &BTreeMap<String, BTreeSet<String>>,
    mismatches: &BTreeMap<String, Mismatch>,
) -> Step {
    let info = u.srcinfo.get(base);
    let repo_entries: &[&RepoEntry] = repo_by_base.get(base).map(Vec::as_slice).unwrap_or_default();
    let aur_version = info
        .map(|s| s.version.clone())
        .or_else(|| u.packages.values().find(|p| p.pkgbase == base).map(|p| p.version.clone()));
    let repo_version = repo_entries.iter().map(|e| e.version.clone()).max_by(|a, b| compare_versions(a, b));
    // What it makes; a pkgbase the AUR no longer has is what the repository holds of it.
    let pkgnames = match info {
        Some(s) => s.pkgnames.clone(),
        None => repo_entries.iter().map(|e| e.name.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
    };
    let (mut action, mut reason) = decide(aur_version.as_deref(), repo_version.as_deref());
    if let (Action::Build, Some(m), Some(lm)) = (action, mismatches.get(base), u.last_modified.get(base)) {
        let same_aur = m.last_modified == *lm && aur_version.as_deref() == Some(m.srcinfo_version.as_str());
        if same_aur && repo_version.as_deref() == Some(m.built_version.as_str()) {
            action = Action::Skip;
            reason = Reason::SrcinfoMismatch { srcinfo: m.srcinfo_version.clone(), built: m.built_version.clone() };
        }
    }
    Step {
        pkgbase: base.to_string(),
        pkgnames,
        action,
        reason,
        aur_version,
        repo_version,
        depends_on: edges.get(base).map(|d| d.iter().cloned().collect()).unwrap_or_default(),
        listed: false,
        needed_by: Vec::new(),
        nocheck: false,
        limits: crate::config::Limits::default(),
        network: crate::config::Network::default(),
        pgp_keys: Vec::new(),
        vcs: false,
        vcs_interval: std::time::Duration::ZERO,
        debug: false,
        capabilities: Vec::new(),
        published_files: repo_entries.iter().map(|e| e.filename.clone()).collect(),
        last_modified: u.last_modified.get(base).copied(),
        provides_for: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
        cycle: Vec::new(),
        commit: None,
        files_hash: None,
        expected_secs: None,
        expected_from: None,
        rebuild: None,
        local: None,
        git: None,
        patches: PlannedPatches::default(),
    }
}

fn decide(aur: Option<&str>, repo: Option<&str>) -> (Action, Reason) {
    match (aur, repo) {
        (_, None) => (Action::Build, Reason::NotInRepository),
        (None, Some(_)) => (Action::Skip, Reason::UnknownToAur),
        (Some(aur), Some(repo)) => {
            let (aur, repo) = (aur.to_string(), repo.to_string());
            match compare_versions(&aur, &repo) {
                std::cmp::Ordering::Greater => (Action::Build, Reason::AurNewer { aur, repo }),
                std::cmp::Ordering::Equal => (Action::Skip, Reason::UpToDate),
                std::cmp::Ordering::Less => (Action::Skip, Reason::RepoNewer { repo, aur }),
            }
        }
    }
}

/// The plan once VCS packages' pkgver() answered (pkgbase -> upstream version, or why it could
/// not be learnt): a candidate whose upstream is newer than the repository is built; the others
/// stay skipped, with the answer as their reason. A failed check never fails the run.
pub fn apply_vcs(mut plan: Plan, probes: &BTreeMap<String, Result<String, String>>) -> Plan {
    for step in plan.packages.iter_mut() {
        let (Some(probe), Some(repo)) = (probes.get(&step.pkgbase), step.repo_version.clone()) else { continue };
        if !(step.vcs && step.action == Action::Skip) {
            continue;
        }
        match probe {
            Ok(upstream) if compare_versions(upstream, &repo).is_gt() => {
                step.action = Action::Build;
                step.reason = Reason::VcsMoved { upstream: upstream.clone(), repo };
            }
            Ok(upstream) => step.reason = Reason::VcsUpToDate { upstream: upstream.clone() },
            Err(e) => step.reason = Reason::VcsCheckFailed { repo, error: e.clone() },
        }
    }
    plan
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
            reason: Reason::NoLongerNeeded,
            aur_version: None,
            repo_version: entries.first().map(|e| e.version.clone()),
            depends_on: Vec::new(),
            listed: false,
            needed_by: Vec::new(),
            nocheck: false,
            limits: crate::config::Limits::default(),
            network: crate::config::Network::default(),
            pgp_keys: Vec::new(),
            vcs: false,
            vcs_interval: std::time::Duration::ZERO,
            debug: false,
            capabilities: Vec::new(),
            published_files: Vec::new(),
            last_modified: None,
            provides_for: Vec::new(),
            problems: Vec::new(),
            warnings: Vec::new(),
            cycle: Vec::new(),
            commit: None,
            files_hash: None,
            expected_secs: None,
            expected_from: None,
            rebuild: None,
            local: None,
            git: None,
            patches: PlannedPatches::default(),
        })
        .collect()
}

/// A step of `pkgbase` that the AUR has at `aur_version` and repoctl.lock does not
/// ([`Reason::NotLocked`]), for tests outside the plan.
#[cfg(test)]
pub(crate) fn not_locked_step(pkgbase: &str, aur_version: &str) -> Step {
    let entry = RepoEntry { name: pkgbase.into(), base: pkgbase.into(), ..RepoEntry::default() };
    let mut step = removals(&[entry], &BTreeSet::new(), &BTreeSet::new()).remove(0);
    (step.aur_version, step.repo_version, step.listed) = (Some(aur_version.into()), None, true);
    apply_lock(&mut step, None);
    step
}

#[cfg(test)]
mod tests;
