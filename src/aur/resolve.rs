//! Finding every AUR pkgbase a repository needs, and what satisfies each of their
//! dependencies: the listed packages (by pkgname, or by pkgbase), then, round by round, what
//! their `.SRCINFO` files need for the configured architecture.
//!
//! A dependency is satisfied, in this order (what makepkg's `pacman -S` would find, plus the
//! AUR): an AUR pkgname; an official package (by pkgname or `provides`, from the builder
//! image's sync databases); an AUR pkgbase already known that provides it (a listed one wins
//! over others); a pkgname only the published repository still has (gone from the AUR: kept);
//! else the AUR's `search by=provides`, whose single candidate is taken. Several candidates
//! and none listed is [`Satisfier::Ambiguous`]; nothing at all is [`Satisfier::Missing`], or
//! [`Satisfier::Refused`] when a package of that name is there at a version the requirement
//! refuses (libalpm's `alpm_depcmp`: a package satisfies by its name *and* version).
//! Requests: one RPC `info` per [`super::RPC_BATCH`] new names per round, one `search` per
//! name nothing else satisfies, one `.SRCINFO` per pkgbase whose LastModified changed.
use super::store::{SrcInfoStore, StoreError, Want};
use super::{AurClient, AurError, AurPackage, SrcInfo};
use crate::alpm::{Relation, RepoEntry};
use crate::official::OfficialRepos;
use futures_util::StreamExt;
use std::collections::{BTreeMap, BTreeSet};

/// `.SRCINFO` fetches in flight at once.
const FETCHES_IN_FLIGHT: usize = 16;

/// How a dependency string is satisfied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum Satisfier {
    /// A pkgname of an AUR pkgbase, or (`via_provides`) one of its `provides`.
    Aur { pkgbase: String, pkgname: String, via_provides: bool },
    /// An official repository's package.
    Official { repo: String, pkgname: String },
    /// A pkgname that only the published repository has any more: gone from the AUR.
    Published { pkgbase: String, pkgname: String },
    /// Several AUR pkgbases provide it, and none is listed in repo.yaml.
    Ambiguous { candidates: Vec<String> },
    /// A package has the name it asks for, at a version its requirement refuses (`lib>=3`, and
    /// the AUR's `lib` is 2-1 at the locked commit), and nothing else satisfies it: makepkg
    /// would refuse it in the build. `from`: `AUR`, or the official repository's name.
    Refused { pkgname: String, version: String, from: String },
    /// Nothing official, in the AUR or in the repository satisfies it.
    Missing,
}

/// Everything the AUR (and the official repositories) told about a repository's packages.
#[derive(Debug, Default)]
pub struct Universe {
    /// pkgname -> what the RPC says, for the pkgnames asked and found.
    pub packages: BTreeMap<String, AurPackage>,
    /// pkgbase -> its `.SRCINFO` for the configured architecture.
    pub srcinfo: BTreeMap<String, SrcInfo>,
    /// pkgbase -> its AUR `LastModified` (seconds since the epoch).
    pub last_modified: BTreeMap<String, i64>,
    /// Name listed in repo.yaml -> its pkgbase.
    pub listed: BTreeMap<String, String>,
    /// Listed names that are neither a pkgname nor a pkgbase in the AUR.
    pub unknown: Vec<String>,
    /// Dependency string -> what satisfies it.
    pub satisfiers: BTreeMap<String, Satisfier>,
    /// pkgbase -> why its `.SRCINFO` cannot be used.
    pub broken: BTreeMap<String, String>,
    /// RPC requests made.
    pub requests: usize,
    /// pkgname -> pkgbase, over every `.SRCINFO` (kept with `srcinfo` by [`Universe::add_srcinfo`]).
    by_pkgname: BTreeMap<String, String>,
    /// Provided name -> the pkgbases whose `.SRCINFO` provide it, in pkgbase order.
    by_provision: BTreeMap<String, BTreeSet<String>>,
    /// pkgbases of `path:` entries (issue 27) -> the digest of their directory's files now
    /// ([`crate::trust::tree::Tree::digest`]). Their pkgnames are never asked of the AUR: a
    /// listed `path:` package wins over an AUR package of the same name.
    pub local: BTreeMap<String, String>,
}

/// A `path:` entry of repo.yaml for resolution (issue 27): the `.SRCINFO` made from its
/// directory's files now, or why there is none.
#[derive(Debug, Clone)]
pub struct LocalPackage {
    /// The entry's name (its `name:`, else its directory's name).
    pub name: String,
    /// [`crate::trust::tree::Tree::digest`] of the directory's files.
    pub digest: String,
    pub srcinfo: Result<SrcInfo, String>,
    /// Why `repoctl update` holds it at the lock's files, whose `.SRCINFO` `srcinfo` then is:
    /// the one made of its files now could not be.
    pub held: Option<String>,
}

impl Universe {
    /// The pkgbase that makes `pkgname`, from the RPC or a `.SRCINFO`.
    pub fn pkgbase_of(&self, pkgname: &str) -> Option<&str> {
        if let Some(base) = self.by_pkgname.get(pkgname).filter(|b| self.local.contains_key(*b)) {
            return Some(base);
        }
        match self.packages.get(pkgname) {
            Some(p) => Some(&p.pkgbase),
            None => self.by_pkgname.get(pkgname).map(String::as_str),
        }
    }

    /// Keeps a pkgbase's `.SRCINFO`, indexed by its pkgnames and provisions: resolution looks
    /// names up on every round, so they are not searched for across every `.SRCINFO`.
    fn add_srcinfo(&mut self, info: SrcInfo) {
        for p in &info.packages {
            // A `path:` package keeps its pkgnames whatever an AUR pkgbase also makes.
            if self.by_pkgname.get(&p.name).is_none_or(|b| !self.local.contains_key(b)) {
                self.by_pkgname.insert(p.name.clone(), info.pkgbase.clone());
            }
            for provision in &p.provides {
                let bases = self.by_provision.entry(crate::alpm::provided_name(provision).to_string()).or_default();
                bases.insert(info.pkgbase.clone());
            }
        }
        self.srcinfo.insert(info.pkgbase.clone(), info);
    }

    /// (pkgbase, pkgname) of every usable `.SRCINFO` package whose `provides` satisfies `rel`,
    /// in pkgbase order, then in `.SRCINFO` order.
    fn providers(&self, rel: &Relation) -> Vec<(&str, &str)> {
        let bases = self.by_provision.get(&rel.name).into_iter().flatten();
        bases
            .filter(|b| !self.broken.contains_key(*b))
            .filter_map(|b| self.srcinfo.get(b))
            .flat_map(|s| s.packages.iter().map(move |p| (s.pkgbase.as_str(), p)))
            .filter(|(_, p)| p.provides.iter().any(|v| rel.satisfied_by_provision(v)))
            .map(|(base, p)| (base, p.name.as_str()))
            .collect()
    }
}

/// What a resolution starts from.
pub struct Query<'a> {
    /// Names listed in repo.yaml, with their `nocheck`.
    pub listed: &'a [(String, bool)],
    pub arch: &'a str,
    pub official: &'a OfficialRepos,
    /// The published repository's entries.
    pub published: &'a [RepoEntry],
    /// pkgbase -> the commit whose `.SRCINFO` is used (the lock's); others are read at HEAD.
    pub pinned: &'a BTreeMap<String, String>,
    /// repo.yaml's `path:` entries, with their `.SRCINFO` (issue 27).
    pub local: &'a [LocalPackage],
}

/// Where AUR answers come from: [`Live`] (the RPC, cgit and the [`SrcInfoStore`]), or, in
/// unit tests of the planner, a table of `.SRCINFO` files.
#[allow(async_fn_in_trait)]
pub trait Source {
    /// RPC `info`: the pkgnames found, and the number of requests made.
    async fn info(&self, names: &[String]) -> Result<(BTreeMap<String, AurPackage>, usize), AurError>;
    /// RPC `search` by `provides`.
    async fn search_provides(&self, name: &str) -> Result<Vec<AurPackage>, AurError>;
    /// A pkgbase's `.SRCINFO` (None: no such pkgbase); `want` as in [`SrcInfoStore::get`].
    async fn srcinfo(&self, pkgbase: &str, want: Want<'_>, arch: &str) -> Result<Option<SrcInfo>, StoreError>;
}

/// The real AUR, with `.SRCINFO` files kept in a store.
pub struct Live<'a> {
    pub aur: &'a AurClient,
    pub store: &'a SrcInfoStore,
}

impl Source for Live<'_> {
    async fn info(&self, names: &[String]) -> Result<(BTreeMap<String, AurPackage>, usize), AurError> {
        self.aur.info(names).await
    }
    async fn search_provides(&self, name: &str) -> Result<Vec<AurPackage>, AurError> {
        self.aur.search_provides(name).await
    }
    async fn srcinfo(&self, pkgbase: &str, want: Want<'_>, arch: &str) -> Result<Option<SrcInfo>, StoreError> {
        self.store.get(self.aur, pkgbase, want, arch).await
    }
}

enum Decision {
    Done(Satisfier),
    /// Not known yet: ask the RPC whether it is an AUR pkgname.
    Ask(String),
    /// Ask the RPC which AUR packages provide it.
    Search(String),
}

struct Knowledge<'a> {
    universe: &'a Universe,
    asked: &'a BTreeSet<String>,
    searched: &'a BTreeSet<String>,
    official: &'a OfficialRepos,
    published: &'a [RepoEntry],
    listed_bases: BTreeSet<&'a str>,
}

/// Decides what satisfies `dep`, or what must be asked first. Pure: see the module docs for
/// the order.
fn decide(dep: &str, k: &Knowledge) -> Decision {
    let rel = Relation::parse(dep);
    let name = rel.name.as_str();
    // A package of that name whose version the requirement refuses, if nothing else satisfies.
    let mut refused = None;
    if let Some(base) = k.universe.pkgbase_of(name) {
        match k.universe.srcinfo.get(base).map(|s| s.version.as_str()) {
            Some(v) if !rel.satisfied_by_package(name, v) => refused = Some(refusal(name, v, "AUR")),
            _ => {
                let (pkgbase, pkgname) = (base.to_string(), name.to_string());
                return Decision::Done(Satisfier::Aur { pkgbase, pkgname, via_provides: false });
            }
        }
    }
    if !k.asked.contains(name) {
        return Decision::Ask(name.to_string());
    }
    if let Some(p) = k.official.satisfier(dep) {
        return Decision::Done(Satisfier::Official { repo: p.repo.clone(), pkgname: p.name.clone() });
    }
    if let Some(p) = k.official.package(name).filter(|_| refused.is_none()) {
        refused = Some(refusal(name, &p.version, &p.repo));
    }
    let mut providers = k.universe.providers(&rel);
    let bases: BTreeSet<&str> = providers.iter().map(|(b, _)| *b).collect();
    if bases.len() > 1 {
        providers.retain(|(b, _)| k.listed_bases.contains(b));
    }
    let chosen: BTreeSet<&str> = providers.iter().map(|(b, _)| *b).collect();
    match (chosen.len(), providers.first()) {
        (1, Some((base, pkgname))) => {
            return Decision::Done(Satisfier::Aur {
                pkgbase: base.to_string(),
                pkgname: pkgname.to_string(),
                via_provides: true,
            });
        }
        _ if bases.len() > 1 => {
            return Decision::Done(Satisfier::Ambiguous { candidates: bases.iter().map(|b| b.to_string()).collect() });
        }
        _ => {}
    }
    let published = k.published.iter().find(|e| rel.satisfied_by_package(&e.name, &e.version));
    // A kept package's published %DEPENDS% keep what they name, whatever its version; but not
    // in place of an AUR or official package whose version was refused.
    let published = published.or_else(|| {
        let by_name = |e: &&RepoEntry| e.name == name && refused.is_none();
        k.published.iter().find(|e| by_name(e) || e.provides.iter().any(|v| rel.satisfied_by_provision(v)))
    });
    if let Some(e) = published {
        return Decision::Done(Satisfier::Published { pkgbase: e.base.clone(), pkgname: e.name.clone() });
    }
    if !k.searched.contains(name) {
        return Decision::Search(name.to_string());
    }
    Decision::Done(refused.unwrap_or(Satisfier::Missing))
}

fn refusal(pkgname: &str, version: &str, from: &str) -> Satisfier {
    Satisfier::Refused { pkgname: pkgname.to_string(), version: version.to_string(), from: from.to_string() }
}

/// Listed pkgbases whose first repo.yaml entry has `nocheck` (the entry the plan uses).
fn nocheck_pkgbases(u: &Universe, query: &Query) -> BTreeSet<String> {
    let mut first: BTreeMap<&str, bool> = BTreeMap::new();
    for (name, nocheck) in query.listed {
        if let Some(base) = u.listed.get(name) {
            first.entry(base.as_str()).or_insert(*nocheck);
        }
    }
    first.into_iter().filter(|(_, n)| *n).map(|(b, _)| b.to_string()).collect()
}

/// pkgbases the AUR no longer has whose published packages stay: listed names the AUR does
/// not know, and what a [`Satisfier::Published`] names.
fn kept_pkgbases(u: &Universe, query: &Query) -> BTreeSet<String> {
    let listed = u.unknown.iter().filter_map(|n| query.published.iter().find(|e| e.name == *n || e.base == *n));
    let needed = u.satisfiers.values().filter_map(|s| match s {
        Satisfier::Published { pkgbase, .. } => Some(pkgbase.clone()),
        _ => None,
    });
    listed.map(|e| e.base.clone()).chain(needed).collect()
}

/// Resolves the listed packages and everything they need; see the module docs.
/// Errors: the AUR cannot be reached. Problems of single packages (unknown names, broken
/// `.SRCINFO`, unsatisfiable dependencies) are in the [`Universe`], not errors.
pub async fn resolve(source: &impl Source, query: &Query<'_>) -> Result<Universe, AurError> {
    let mut r = Resolver {
        source,
        u: Universe::default(),
        asked: BTreeSet::new(),
        searched: BTreeSet::new(),
        nocheck: BTreeSet::new(),
        collected: BTreeSet::new(),
        open: BTreeSet::new(),
    };
    r.listed(query).await?;
    r.nocheck = nocheck_pkgbases(&r.u, query);
    loop {
        r.fetch_srcinfo(query).await?;
        r.collect_needs();
        let kept = kept_pkgbases(&r.u, query);
        let round = r.decide_open(query, &kept);
        if round.to_ask.is_empty() && round.to_search.is_empty() {
            // Settled: every decision is final. Packages newly kept (gone from the AUR) bring
            // their published dependencies into another round.
            r.u.satisfiers.extend(round.decided);
            if kept_pkgbases(&r.u, query) == kept {
                break;
            }
            continue;
        }
        // A satisfier found through provides (or the lack of one) may change once every name
        // of this round has been asked: only final decisions are kept now.
        let fin = |s: &Satisfier| matches!(s, Satisfier::Aur { via_provides: false, .. } | Satisfier::Official { .. });
        r.u.satisfiers.extend(round.decided.into_iter().filter(|(_, s)| fin(s)));
        if round.to_ask.is_empty() {
            r.search(round.to_search).await?;
        } else {
            r.ask(&round.to_ask.into_iter().collect::<Vec<_>>()).await?;
        }
    }
    tracing::info!("resolved {} AUR pkgbase(s) in {} RPC request(s)", r.u.srcinfo.len(), r.u.requests);
    Ok(r.u)
}

/// A resolution in progress: what is known, and which names were asked and searched.
struct Resolver<'s, S> {
    source: &'s S,
    u: Universe,
    asked: BTreeSet<String>,
    searched: BTreeSet<String>,
    /// Listed pkgbases whose (first) entry has `nocheck`.
    nocheck: BTreeSet<String>,
    /// pkgbases whose needs are in `open` already: each `.SRCINFO` is read once.
    collected: BTreeSet<String>,
    /// Dependency strings of the `.SRCINFO` files read so far with no satisfier recorded yet.
    open: BTreeSet<String>,
}

/// One round's decisions, and what must be asked before the others can be made.
struct Round {
    decided: Vec<(String, Satisfier)>,
    to_ask: BTreeSet<String>,
    to_search: BTreeSet<String>,
}

impl<S: Source> Resolver<'_, S> {
    /// Round 0: the listed names, as pkgnames, else as pkgbases; fills `u.listed` and
    /// `u.unknown`.
    async fn listed(&mut self, query: &Query<'_>) -> Result<(), AurError> {
        self.local(query.local);
        let names: Vec<String> =
            query.listed.iter().filter(|(n, _)| !self.u.listed.contains_key(n)).map(|(n, _)| n.clone()).collect();
        self.ask(&names).await?;
        let mut by_base: Vec<String> = names.iter().filter(|n| !self.u.packages.contains_key(*n)).cloned().collect();
        by_base.dedup();
        for name in by_base {
            match self.listed_by_pkgbase(&name, query.arch).await {
                Ok(true) => {
                    self.u.listed.insert(name.clone(), name);
                }
                Ok(false) => self.u.unknown.push(name),
                Err(StoreError::Aur(e)) => return Err(e),
                Err(e @ StoreError::Invalid { .. }) => {
                    self.u.broken.insert(name.clone(), e.to_string());
                    self.u.listed.insert(name.clone(), name);
                }
            }
        }
        for (name, _) in query.listed {
            if let Some(p) = self.u.packages.get(name) {
                self.u.listed.insert(name.clone(), p.pkgbase.clone());
            }
        }
        Ok(())
    }

    /// The `path:` entries: listed, known, and their pkgnames taken as asked (the AUR is not
    /// asked about them). One whose `.SRCINFO` could not be made is broken, under its name.
    fn local(&mut self, local: &[LocalPackage]) {
        for l in local {
            match &l.srcinfo {
                Ok(info) => {
                    self.u.local.insert(info.pkgbase.clone(), l.digest.clone());
                    self.asked.extend(info.pkgnames.iter().cloned());
                    self.u.listed.insert(l.name.clone(), info.pkgbase.clone());
                    self.u.add_srcinfo(info.clone());
                }
                Err(why) => {
                    self.u.local.insert(l.name.clone(), l.digest.clone());
                    self.u.broken.insert(l.name.clone(), why.clone());
                    self.u.listed.insert(l.name.clone(), l.name.clone());
                }
            }
        }
    }

    /// Whether `name` is a pkgbase of the AUR: its pkgnames, from a kept .SRCINFO when there
    /// is one (the RPC then says whether they are still this pkgbase's), else from the AUR's.
    async fn listed_by_pkgbase(&mut self, name: &str, arch: &str) -> Result<bool, StoreError> {
        for want in [Want::AnyCached, Want::Fresh] {
            let Some(info) = self.source.srcinfo(name, want, arch).await? else { return Ok(false) };
            self.ask(&info.pkgnames).await?;
            if info.pkgnames.iter().any(|n| self.u.packages.get(n).is_some_and(|p| p.pkgbase == name)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Adds the needs of the `.SRCINFO` files read since the last round (without checkdepends
    /// where the listed entry has `nocheck`) to `open`, and drops what has a satisfier now.
    fn collect_needs(&mut self) {
        let u = &self.u;
        for (base, info) in u.srcinfo.iter().filter(|(b, _)| !u.broken.contains_key(*b)) {
            if self.collected.insert(base.clone()) {
                self.open.extend(info.needs(self.nocheck.contains(base)));
            }
        }
        self.open.retain(|d| !u.satisfiers.contains_key(d));
    }

    /// Decides every open dependency, and the published `%DEPENDS%` of `kept` pkgbases
    /// that have no satisfier recorded.
    fn decide_open(&self, query: &Query<'_>, kept: &BTreeSet<String>) -> Round {
        let u = &self.u;
        let kept_depends = query.published.iter().filter(|e| kept.contains(&e.base)).flat_map(|e| e.depends.clone());
        let deps: BTreeSet<String> =
            self.open.iter().cloned().chain(kept_depends).filter(|d| !u.satisfiers.contains_key(d)).collect();
        let k = Knowledge {
            universe: u,
            asked: &self.asked,
            searched: &self.searched,
            official: query.official,
            published: query.published,
            listed_bases: u.listed.values().map(String::as_str).collect(),
        };
        let mut round = Round { decided: Vec::new(), to_ask: BTreeSet::new(), to_search: BTreeSet::new() };
        for dep in deps {
            match decide(&dep, &k) {
                Decision::Done(s) => round.decided.push((dep, s)),
                Decision::Ask(name) => {
                    round.to_ask.insert(name);
                }
                Decision::Search(name) => {
                    round.to_search.insert(name);
                }
            }
        }
        round
    }

    /// RPC `search by=provides` for each name (one request each); the candidates join
    /// `u.packages`, so their `.SRCINFO` says whether they provide it for this architecture.
    async fn search(&mut self, names: BTreeSet<String>) -> Result<(), AurError> {
        for name in names {
            self.u.requests += 1;
            for p in self.source.search_provides(&name).await? {
                self.u.packages.entry(p.name.clone()).or_insert(p);
            }
            self.searched.insert(name);
        }
        Ok(())
    }

    /// RPC `info` for the names not asked yet; what is found goes into `u.packages`.
    async fn ask(&mut self, names: &[String]) -> Result<(), AurError> {
        let new: Vec<String> = names.iter().filter(|n| self.asked.insert((*n).clone())).cloned().collect();
        if new.is_empty() {
            return Ok(());
        }
        let (found, requests) = self.source.info(&new).await?;
        self.u.requests += requests;
        self.u.packages.extend(found);
        Ok(())
    }

    /// The `.SRCINFO` of every pkgbase of `u.packages` that has none yet.
    async fn fetch_srcinfo(&mut self, query: &Query<'_>) -> Result<(), AurError> {
        let u = &mut self.u;
        let source = self.source;
        let mut wanted: BTreeMap<String, i64> = BTreeMap::new();
        for p in u.packages.values() {
            if !u.srcinfo.contains_key(&p.pkgbase) && !u.broken.contains_key(&p.pkgbase) {
                let lm = wanted.entry(p.pkgbase.clone()).or_insert(p.last_modified);
                *lm = (*lm).max(p.last_modified);
            }
        }
        let results: Vec<_> = futures_util::stream::iter(wanted)
            .map(|(base, lm)| async move {
                let want = query.pinned.get(&base).map_or(Want::Modified(lm), |commit| Want::Commit(commit));
                let got = source.srcinfo(&base, want, query.arch).await;
                (base, lm, got)
            })
            .buffer_unordered(FETCHES_IN_FLIGHT)
            .collect()
            .await;
        for (base, lm, got) in results {
            u.last_modified.insert(base.clone(), lm);
            match got {
                Ok(Some(info)) => {
                    u.add_srcinfo(info);
                }
                Ok(None) => {
                    let why = match query.pinned.get(&base) {
                        Some(commit) => format!("the AUR has no commit {commit} (the locked one) of pkgbase {base}"),
                        None => format!("the AUR has no .SRCINFO for pkgbase {base}"),
                    };
                    u.broken.insert(base.clone(), why);
                }
                Err(StoreError::Aur(e)) => return Err(e),
                Err(e @ StoreError::Invalid { .. }) => {
                    u.broken.insert(base, e.to_string());
                }
            }
        }
        Ok(())
    }
}
