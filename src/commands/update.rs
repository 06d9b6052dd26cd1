//! `repoctl update [PKG…]`: moves repoctl.lock to the AUR's newest commits that repo.yaml's
//! `trust:` allows, and shows what that lets in (issue 14).
//!
//! Steps: (1) resolve the closure of repo.yaml at the AUR's heads, with held pkgbases at their
//! locked commits (their old dependencies stay in the closure), until the held set settles;
//! (2) for each pkgbase, fetch its AUR repository, read the files at the locked commit and at
//! the head, flag what a reviewer must see, and ask the policy; (3) report; (4) write the lock
//! (never with --check or --since). Nothing here runs AUR code: PKGBUILDs are only read.
use crate::aur::{AurClient, GitClone, GitError, Universe};
use crate::config::{Config, Diagnostics};
use crate::error::{Error, ExitStatus};
use crate::lock::assess::{self, Snapshot};
use crate::lock::policy::{Candidate, Hold, Mode, decide};
use crate::lock::report::{FlagLine, PackageReport, Report, Side, Status};
use crate::lock::{Entry, Lock};
use crate::trust::tree::{LockedTree, Tree};
use crate::ui::Printer;
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::{BTreeMap, BTreeSet};

mod git;

/// Commits listed per package at most (the diff shows all changes anyway).
const MAX_COMMITS: usize = 20;
/// pkgbases fetched and read at once (each a `git fetch` and a few `git` reads).
const EXAMINED_IN_FLIGHT: usize = 8;
/// Rounds of resolution before the held set must have settled.
const MAX_ROUNDS: usize = 4;

mod patches;

/// How `update` runs.
#[derive(Debug, Default)]
pub struct Options {
    /// Only these pkgbases (or pkgnames) move; empty: all.
    pub packages: Vec<String>,
    /// Write nothing; exit 1 when the lock would change.
    pub check: bool,
    /// pkgbases (or pkgnames) whose change of maintainer a person accepts.
    pub accept: Vec<String>,
    /// Take only what `trust.auto` allows without review.
    pub auto: bool,
    pub json: bool,
    pub markdown: bool,
    /// Report the change from this lock file to the current one, from the AUR's history.
    pub since: Option<Utf8PathBuf>,
}

/// What one run knows: the AUR, where clones live.
struct Ctx<'a> {
    config: &'a Config,
    /// Where a command waiting for a clone another command holds says so.
    printer: &'a Printer,
    aur: AurClient,
    clones: Utf8PathBuf,
    now: i64,
    mode: Mode,
    accepted: BTreeSet<String>,
    /// repo.yaml's `git:` packages as fetched for this run (issue 27).
    git: Vec<git::GitHead>,
}

pub async fn update(
    config_path: &Utf8Path,
    work_dir: Option<Utf8PathBuf>,
    options: Options,
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let work = super::work_dir(&config, work_dir);
    let lock_path = crate::lock::path_beside(&config.path);
    let old = Lock::read(&lock_path)?;
    let color = !options.json && !options.markdown && stdout_is_colour_terminal();
    let mut ctx = Ctx {
        config: &config,
        printer,
        aur: AurClient::from_env()?,
        clones: work.join("aur"),
        now: jiff::Timestamp::now().as_second(),
        mode: if options.auto { Mode::Auto } else { Mode::Review },
        accepted: BTreeSet::new(),
        git: Vec::new(),
    };
    let (report, new, problems) = match &options.since {
        Some(base) => (since(&ctx, &Lock::read(base)?, &old).await?, None, Diagnostics(Vec::new())),
        None => {
            let official = super::official_repos(&config, &work, printer).await?;
            let mut local =
                held_at_lock(super::local_packages(&config, &work, printer).await?, &old, &work, &config.arch);
            ctx.git = git::heads(&config, &work, printer, &old).await?;
            local.extend(ctx.git.iter().map(|h| h.local(&old, &work, &config.arch)));
            let (report, new, problems) = moved(&mut ctx, &old, (&official, &local), &work, &options).await?;
            (report, Some(new), problems)
        }
    };
    // A listed package that cannot be locked at all (not in the AUR, a broken .SRCINFO), on
    // its repo.yaml line, as `check` says it: the rest is locked, and the exit code is 1.
    for diag in &problems.0 {
        printer.diagnostic(diag);
    }
    show(&report, &options, color, printer)?;
    if let Some(new) = new.filter(|_| report.changed && !options.check) {
        new.write(&lock_path)?;
        printer.info(&format!("wrote {lock_path}: review the change and commit it"));
    }
    let unreadable =
        report.packages.iter().any(|p| matches!(p.held, Some(Hold::Unreadable { .. } | Hold::Patches { .. })));
    let failed = unreadable || !problems.0.is_empty() || (options.check && report.changed);
    Ok(if failed { ExitStatus::PackagesFailed } else { ExitStatus::Success })
}

fn stdout_is_colour_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Prints the report in the asked form (the text's diff coloured when `color`); the Markdown
/// also goes to the job summary.
fn show(report: &Report, options: &Options, color: bool, printer: &Printer) -> Result<(), Error> {
    // What a person must act on: a deletion, a package unreadable, a maintainer or
    // co-maintainer to accept or allow.
    let loud = |p: &&PackageReport| {
        p.status == Status::Deleted
            || matches!(
                p.held,
                Some(
                    Hold::Unreadable { .. }
                        | Hold::Patches { .. }
                        | Hold::MaintainerChanged { .. }
                        | Hold::MaintainerNotAllowed { .. }
                        | Hold::ComaintainersChanged { .. }
                        | Hold::ComaintainerNotAllowed { .. }
                )
            )
    };
    for p in report.packages.iter().filter(loud) {
        printer.warn(&crate::lock::report::headline(p));
    }
    let markdown = crate::lock::report::render_markdown(report);
    if options.json {
        printer.out(&serde_json::to_string_pretty(report).map_err(|e| Error::Usage(e.to_string()))?);
    } else if options.markdown {
        printer.out(&markdown);
    } else {
        printer.out(crate::lock::report::render_text(report, color).trim_end());
    }
    printer.step_summary(&markdown);
    Ok(())
}

/// Steps 1 to 3 for the AUR's heads: the report and the lock it leads to.
async fn moved(
    ctx: &mut Ctx<'_>,
    old: &Lock,
    (official, local): (&crate::official::OfficialRepos, &[crate::aur::LocalPackage]),
    work: &Utf8Path,
    options: &Options,
) -> Result<(Report, Lock, Diagnostics), Error> {
    let mut pins: BTreeMap<String, String> = BTreeMap::new();
    let mut examined: BTreeMap<String, Examined> = BTreeMap::new();
    // Issue 27: the patched `.SRCINFO` of the pkgbases patched so far, which the next round
    // resolves with, so that what a patch makes a package need is in the closure.
    let mut patching = patches::State::default();
    for _ in 0..MAX_ROUNDS {
        let universe = resolve_round(ctx, (official, local), work, &pins, &patching.srcinfo).await?;
        let (closure, problems, plan) = closure_of(ctx.config, &universe, old)?;
        ctx.accepted = names_to_bases(&options.accept, &universe, old);
        let selected = with_new_dependencies(names_to_bases(&options.packages, &universe, old), &plan, old);
        let todo: Vec<&String> = closure
            .iter()
            .filter(|b| !examined.contains_key(*b) && (selected.is_empty() || selected.contains(*b)))
            .collect();
        let (todo_local, todo): (Vec<&String>, Vec<&String>) =
            todo.into_iter().partition(|b| universe.local.contains_key(*b));
        let held_local = |b: &String| {
            local
                .iter()
                .find(|l| l.held.is_some() && universe.listed.get(&l.name) == Some(b))
                .and_then(|l| l.held.clone())
        };
        examined.extend(todo_local.into_iter().map(|b| {
            if let Some(found) = git::examine(ctx, &ctx.git, b, old.entries.get(b)) {
                return (b.clone(), found);
            }
            let found = match held_local(b) {
                Some(why) => unreadable(b, old.entries.get(b), why),
                None => examine_local(ctx.config, b, old, &universe),
            };
            (b.clone(), found)
        }));
        examined.extend(examine_all(ctx, &todo, old, &universe).await);
        let todo: Vec<String> = todo.into_iter().cloned().collect();
        let patched_before = patching.srcinfo.clone();
        patches::patch_examined(ctx, old, &universe, work, &todo, &mut examined, &mut patching).await?;
        let held: BTreeMap<String, String> = examined
            .iter()
            .filter(|(b, e)| closure.contains(*b) && e.entry.is_none() && !universe.local.contains_key(*b))
            .filter_map(|(b, _)| old.entries.get(b).map(|o| (b.clone(), o.commit.clone())))
            .collect();
        if held == pins && patching.srcinfo == patched_before {
            let (report, lock) = conclude(old, examined, &closure, &universe, ctx.config, &selected);
            return Ok((report, lock, problems));
        }
        pins = held;
    }
    Err(Error::Usage("the held packages did not settle: run `repoctl update` again, or update them one by one".into()))
}

/// Step 1 of one round: the closure of repo.yaml at the AUR's heads, with `pins` (the held
/// pkgbases at their locked commits) and the `.SRCINFO` of the pkgbases patched so far.
async fn resolve_round(
    ctx: &Ctx<'_>,
    (official, local): (&crate::official::OfficialRepos, &[crate::aur::LocalPackage]),
    work: &Utf8Path,
    pins: &BTreeMap<String, String>,
    patched: &BTreeMap<String, crate::aur::SrcInfo>,
) -> Result<Universe, Error> {
    let srcinfo = work.join("srcinfo");
    super::resolve(ctx.config, &ctx.aur, official, &[], Some(&srcinfo), pins, local, patched).await
}

/// Step 2 for the round's pkgbases: (a) fetch each AUR repository, [`EXAMINED_IN_FLIGHT`] at
/// a time, keeping each clone (and its lock) until it is examined; (b) ask the RPC again, once
/// for all of them ([`after_fetch`]); (c) [`examine`] each head with what the RPC said then.
/// One that cannot be read is held where it was ([`unreadable`]).
async fn examine_all(ctx: &Ctx<'_>, bases: &[&String], old: &Lock, universe: &Universe) -> Vec<(String, Examined)> {
    use futures_util::StreamExt;
    let waiting = |line: &str| ctx.printer.info(line);
    let waiting = &waiting;
    let fetched: Vec<(String, Result<GitClone, Error>)> = futures_util::stream::iter(bases)
        .map(|base| async move {
            let clone = GitClone::open(&ctx.aur.git_url(base), &ctx.clones.join(base.as_str()), waiting).await;
            ((*base).clone(), clone.map_err(|e| Error::Aur(e.into())))
        })
        .buffer_unordered(EXAMINED_IN_FLIGHT)
        .collect()
        .await;
    let heads: Vec<&String> = fetched.iter().filter(|(_, clone)| clone.is_ok()).map(|(base, _)| base).collect();
    let now_says = after_fetch(ctx, &heads, universe).await.map_err(|e| message(&e));
    futures_util::stream::iter(fetched)
        .map(|(base, clone)| {
            let now_says = &now_says;
            async move {
                let locked = old.entries.get(&base);
                let found = match (clone, now_says) {
                    (Err(e), _) => Err(message(&e)),
                    (_, Err(said)) => Err(said.clone()),
                    (Ok(clone), Ok(said)) => match said.get(&base) {
                        Some(rpc) => examine(ctx, &base, locked, clone, rpc, universe).await.map_err(|e| message(&e)),
                        None => Err(GONE_AFTER_FETCH.to_string()),
                    },
                };
                let found = found.unwrap_or_else(|error| unreadable(&base, locked, error));
                (base, found)
            }
        })
        .buffer_unordered(EXAMINED_IN_FLIGHT)
        .collect()
        .await
}

const GONE_AFTER_FETCH: &str =
    "the AUR's RPC no longer knows it after its repository was fetched (deleted during the update?)";

/// What the RPC says of `bases` now, after their repositories were fetched: pkgbase -> the
/// answer for one of its pkgnames. Asked again rather than taken from the resolution, which
/// asked before the fetch: a commit pushed in between is fetched, and its push must count
/// (aurweb sets LastModified, and records co-maintainers, before the pushed ref moves, so an
/// answer given after the fetch is at least as new as the fetched commit). One batched
/// request per [`crate::aur::RPC_BATCH`] names.
async fn after_fetch(
    ctx: &Ctx<'_>,
    bases: &[&String],
    universe: &Universe,
) -> Result<BTreeMap<String, crate::aur::AurPackage>, Error> {
    let pkgnames: BTreeMap<&str, &str> =
        universe.packages.values().map(|p| (p.pkgbase.as_str(), p.name.as_str())).collect();
    let names: Vec<String> =
        bases.iter().map(|b| pkgnames.get(b.as_str()).map_or_else(|| b.to_string(), |n| n.to_string())).collect();
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let (found, _) = ctx.aur.info(&names).await.map_err(Error::Aur)?;
    Ok(found.into_values().map(|p| (p.pkgbase.clone(), p)).collect())
}

/// The pkgbases `build` would need, at the heads (and pins) the universe was resolved at, and
/// the plan's problems on repo.yaml lines ([`super::plan_diagnostics`]) of the pkgbases `old`
/// does not hold: what cannot be locked at all (a name not in the AUR, a broken `.SRCINFO`).
/// A locked pkgbase's trouble is the report's (deleted, unreadable, held), as before.
/// The plan is returned too, for its dependency edges.
fn closure_of(
    config: &Config,
    universe: &Universe,
    old: &Lock,
) -> Result<(BTreeSet<String>, Diagnostics, crate::plan::Plan), Error> {
    let none = BTreeMap::new();
    let empty = Lock::default();
    let plan = crate::plan::make(&crate::plan::Inputs {
        config,
        universe,
        repo: &[],
        only: &[],
        mismatches: &none,
        lock: &empty,
    })?;
    let closure =
        plan.packages.iter().filter(|s| universe.srcinfo.contains_key(&s.pkgbase)).map(|s| s.pkgbase.clone()).collect();
    let mut plan = plan;
    for step in plan.packages.iter_mut().filter(|s| old.entries.contains_key(&s.pkgbase)) {
        step.problems.clear();
    }
    let problems = super::plan_diagnostics(config, &plan);
    Ok((closure, problems, plan))
}

/// `selected` (empty: every pkgbase) and the AUR dependencies of its pkgbases that the lock
/// does not hold yet: `repoctl update PKG`, the guide's way to add a package
/// (docs/src/getting-started.md#adding-a-package), locks what PKG needs, or the build that
/// follows blocks on it. Locked dependencies stay where they are.
fn with_new_dependencies(selected: BTreeSet<String>, plan: &crate::plan::Plan, old: &Lock) -> BTreeSet<String> {
    let new: Vec<String> =
        selected.iter().flat_map(|base| plan.closure(base)).filter(|dep| !old.entries.contains_key(dep)).collect();
    selected.into_iter().chain(new).collect()
}

/// pkgbases named by pkgbase or pkgname, in the AUR or in the lock.
fn names_to_bases(names: &[String], universe: &Universe, lock: &Lock) -> BTreeSet<String> {
    names
        .iter()
        .map(|n| {
            let in_lock =
                lock.entries.values().find(|e| e.name == *n || e.pkgnames.contains(n)).map(|e| e.name.clone());
            universe.pkgbase_of(n).map(String::from).or(in_lock).unwrap_or_else(|| n.clone())
        })
        .collect()
}

/// One pkgbase at the AUR's head: its report, and its new entry when the policy takes it
/// (None: held, and it keeps its old entry, if any).
struct Examined {
    report: PackageReport,
    entry: Option<Entry>,
}

/// `path:` packages whose `.SRCINFO` cannot be made now (the PKGBUILD does not source) are held
/// at the lock, as an AUR package that cannot be read is: resolved with the `.SRCINFO` made of
/// the locked files (kept by their digest), so that what they needed stays locked too, and
/// marked with why. One never locked, or whose locked `.SRCINFO` is gone, stays broken.
fn held_at_lock(
    local: Vec<crate::aur::LocalPackage>,
    old: &Lock,
    work: &Utf8Path,
    arch: &str,
) -> Vec<crate::aur::LocalPackage> {
    local
        .into_iter()
        .map(|l| {
            let Err(why) = &l.srcinfo else { return l };
            let Some(entry) = old.entries.get(&l.name).filter(|e| e.is_local()) else { return l };
            let text = crate::build::local::cached_srcinfo(work, &entry.files);
            let Some(info) = text.and_then(|t| crate::aur::SrcInfo::parse(&t, arch).ok()) else { return l };
            let held = Some(why.clone());
            crate::aur::LocalPackage { name: l.name, digest: entry.files.clone(), srcinfo: Ok(info), held }
        })
        .collect()
}

/// Step 2 for a `path:` package (issue 27): the lock entry of its directory's files now. No
/// policy holds it (its changes are reviewed as the repository's own, in its pull requests),
/// no AUR is asked, and no diff is shown: the pull request that changed the directory shows it.
fn examine_local(config: &Config, base: &str, old: &Lock, universe: &Universe) -> Examined {
    let old = old.entries.get(base);
    let entry_of = |p: &&crate::config::PackageConfig| universe.listed.get(&p.name).is_some_and(|b| b == base);
    let local = config.packages.iter().filter(entry_of).find_map(|p| p.local_path());
    let (Some(local), Some(info), Some(digest)) = (local, universe.srcinfo.get(base), universe.local.get(base)) else {
        return unreadable(base, old, format!("{base} is not a readable `path:` package"));
    };
    let entry = Entry {
        name: base.to_string(),
        path: Some(local.written.clone()),
        git: None,
        commit: String::new(),
        version: info.version.clone(),
        pkgnames: info.pkgnames.clone(),
        maintainer: None,
        comaintainers: Vec::new(),
        committed: String::new(),
        files: digest.clone(),
        patches: Vec::new(),
    };
    let status = match old {
        Some(o) if *o == entry => Status::Unchanged,
        Some(_) => Status::Updated,
        None => Status::Added,
    };
    Examined { report: package_report(base, status, old, Some(&entry)), entry: Some(entry) }
}

/// The locked commit's files as the review compares them.
enum Before {
    /// The pkgbase is new to the lock.
    Nothing,
    /// Its tree, matching the lock's `files`: what a reviewer let in.
    Locked(LockedTree),
    /// It cannot be compared, and why: the AUR no longer holds it, or its files are not what the
    /// lock records (the review then shows every file).
    Unverified(String),
}

impl Before {
    fn tree(&self) -> Option<&Tree> {
        match self {
            Before::Locked(t) => Some(t.tree()),
            _ => None,
        }
    }
}

/// The tree of `old`'s commit from the clone, checked against `old.files`.
async fn before(clone: &GitClone, base: &str, old: Option<&Entry>) -> Before {
    let Some(o) = old else { return Before::Nothing };
    match clone.tree(&o.commit).await {
        Ok(tree) => tree.verify(base, &o.files).map_or_else(|e| Before::Unverified(e.to_string()), Before::Locked),
        Err(e) => Before::Unverified(format!("the AUR repository no longer holds commit {}: {e}", o.short_commit())),
    }
}

/// Step 2 (c) for one pkgbase: its fetched `clone` (read, then let go of), and `rpc`, what the
/// AUR's RPC said of it after the fetch ([`after_fetch`]); then compare and ask the policy.
async fn examine(
    ctx: &Ctx<'_>,
    base: &str,
    old: Option<&Entry>,
    clone: GitClone,
    rpc: &crate::aur::AurPackage,
    universe: &Universe,
) -> Result<Examined, Error> {
    let aur_err = |e: GitError| Error::Aur(e.into());
    let (maintainer, comaintainers) = (rpc.maintainer.clone(), rpc.comaintainers.clone());
    let (commits, committed) = history(&clone, old).await.map_err(aur_err)?;
    let new_tree = clone.head_tree().await.map_err(aur_err)?;
    let before = before(&clone, base, old).await;
    drop(clone);
    let entry = new_entry(ctx, base, &new_tree, committed, maintainer.clone(), comaintainers.clone())?;
    if let Some(kept) = unchanged(old, &entry, &before) {
        let report = package_report(base, Status::Unchanged, old, Some(&entry));
        return Ok(Examined { report, entry: Some(kept) });
    }
    let new_snap = Snapshot::from_tree(&new_tree, maintainer.clone(), comaintainers.clone());
    let (flags, version_only) = compare(old, &before, &new_snap);
    // Never earlier than what the resolution's RPC said, before the fetch.
    let before_fetch = universe.last_modified.get(base).copied().unwrap_or(0);
    let last_modified = rpc.last_modified.max(before_fetch);
    let candidate = Candidate { commit: entry.commit.clone(), committed, last_modified, maintainer, comaintainers };
    let decision =
        decide(&ctx.config.trust, old, &candidate, ctx.accepted.contains(base), version_only, ctx.mode, ctx.now);
    let mut report = decided_report(base, old, &entry, &decision);
    report.flags = flags;
    report.version_only = version_only;
    report.commits = commits;
    report.diff = ctx.diff(before.tree(), &new_tree);
    Ok(Examined { report, entry: decision.ok().map(|()| entry) })
}

impl Ctx<'_> {
    /// The diff from `old` (None: nothing) to `new`, uncoloured: the report colours it after
    /// making the AUR's text safe for a terminal (`lock::report::render_text`).
    fn diff(&self, old: Option<&Tree>, new: &Tree) -> String {
        crate::lock::diff::unified(old, new)
    }
}

/// The commits from the locked one (if any) to the head, newest first (at most
/// [`MAX_COMMITS`]), and the head's committer date. The date is read from the head itself: when
/// only the maintainers change, no commit lies between the locked one and the head.
async fn history(clone: &GitClone, old: Option<&Entry>) -> Result<(Vec<crate::aur::Commit>, i64), GitError> {
    let commits = clone.log(old.map(|o| o.commit.as_str()), clone.head(), MAX_COMMITS).await?;
    let committed = match commits.first().filter(|c| c.id == clone.head()) {
        Some(c) => c.time,
        None => clone.log(None, clone.head(), 1).await?.first().map_or(0, |c| c.time),
    };
    Ok((commits, committed))
}

/// An error and its causes on one line, as a hold shows it.
fn message(error: &Error) -> String {
    crate::cause::chain(error).join(": ")
}

/// `old` kept as it is when the AUR's head is its commit, with the same maintainers, and its
/// files matched the lock; an older repoctl's `sha256:` value is rewritten as `tree-sha256:`.
fn unchanged(old: Option<&Entry>, entry: &Entry, before: &Before) -> Option<Entry> {
    let o = old?;
    let same = o.commit == entry.commit && o.maintainer == entry.maintainer && o.comaintainers == entry.comaintainers;
    (same && matches!(before, Before::Locked(_))).then(|| Entry { files: entry.files.clone(), ..o.clone() })
}

/// The flags of moving from `before` (the lock's `old`) to `new`, and whether it is
/// version-only.
fn compare(old: Option<&Entry>, before: &Before, new: &Snapshot) -> (Vec<FlagLine>, bool) {
    let (flags, version_only) = match (old, before) {
        (Some(o), Before::Locked(tree)) => {
            let old = Snapshot::from_tree(tree.tree(), o.maintainer.clone(), o.comaintainers.clone());
            (assess::assess(Some(&old), new), assess::version_only(&old, new))
        }
        (Some(o), Before::Unverified(why)) => {
            let old = Snapshot {
                maintainer: o.maintainer.clone(),
                comaintainers: o.comaintainers.clone(),
                ..Snapshot::default()
            };
            (assess::assess_unverified(&old, new, why.clone()), false)
        }
        _ => (assess::assess(None, new), false),
    };
    (flags.into_iter().map(FlagLine::from).collect(), version_only)
}

/// A pkgbase that could not be examined: held where it was, with the reason.
fn unreadable(base: &str, old: Option<&Entry>, error: String) -> Examined {
    let mut report = package_report(base, Status::Held, old, None);
    report.held = Some(Hold::Unreadable { error });
    Examined { report, entry: None }
}

/// The lock entry for a pkgbase at `tree`'s commit, from that commit's own `.SRCINFO`; its
/// `files` is the tree's digest.
fn new_entry(
    ctx: &Ctx<'_>,
    base: &str,
    tree: &Tree,
    committed: i64,
    maintainer: Option<String>,
    comaintainers: Vec<String>,
) -> Result<Entry, Error> {
    let info =
        crate::aur::SrcInfo::of_tree(tree, &ctx.config.arch).map_err(|e| Error::Usage(format!("{base}: {e}")))?;
    Ok(Entry {
        name: base.to_string(),
        path: None,
        git: None,
        commit: tree.commit().to_string(),
        version: info.version,
        pkgnames: info.pkgnames,
        maintainer,
        comaintainers,
        committed: crate::lock::rfc3339(committed),
        files: tree.digest(),
        patches: Vec::new(),
    })
}

/// The report of a move of `base` from `old` to `entry` that the policy answered with
/// `decision`: added or updated, or held (and why).
fn decided_report(base: &str, old: Option<&Entry>, entry: &Entry, decision: &Result<(), Hold>) -> PackageReport {
    let status = match (decision, old) {
        (Err(_), _) => Status::Held,
        (Ok(()), None) => Status::Added,
        (Ok(()), Some(_)) => Status::Updated,
    };
    let mut report = package_report(base, status, old, Some(entry));
    report.held = decision.clone().err();
    report
}

fn package_report(base: &str, status: Status, from: Option<&Entry>, to: Option<&Entry>) -> PackageReport {
    PackageReport {
        pkgbase: base.to_string(),
        status,
        from: from.map(side),
        to: to.map(side),
        held: None,
        flags: Vec::new(),
        version_only: false,
        commits: Vec::new(),
        diff: String::new(),
        repository: to.or(from).and_then(|e| e.git.as_ref()).map(|g| g.describe()),
        source_was: from.zip(to).filter(|(f, t)| source_of(f) != source_of(t)).map(|(f, _)| source_of(f)),
    }
}

/// Where a lock entry's files come from, as a report says it.
fn source_of(e: &Entry) -> String {
    match (&e.git, &e.path) {
        (Some(git), _) => git.describe(),
        (None, Some(path)) => format!("path: {path}"),
        (None, None) => "the AUR".to_string(),
    }
}

/// One side of a report; a `path:` package's "commit" is its files' digest (hex), which is
/// what locks it.
fn side(e: &Entry) -> Side {
    let files = e.files.strip_prefix(crate::trust::tree::DIGEST_PREFIX).unwrap_or(&e.files);
    Side {
        commit: if e.is_local() { files.to_string() } else { e.commit.clone() },
        version: e.version.clone(),
        maintainer: e.maintainer.clone(),
        committed: e.committed.clone(),
    }
}

/// Step 3: the new lock and the report. Entries of pkgbases the AUR no longer has stay while
/// repo.yaml or a dependency still names them (deleted: flagged, kept); other entries the
/// closure does not reach are dropped. With a selection, everything else stays as it was.
fn conclude(
    old: &Lock,
    examined: BTreeMap<String, Examined>,
    closure: &BTreeSet<String>,
    universe: &Universe,
    config: &Config,
    selected: &BTreeSet<String>,
) -> (Report, Lock) {
    let mut new = Lock::default();
    let mut packages = Vec::new();
    let mut unchanged = 0;
    for (base, e) in examined.into_iter().filter(|(b, _)| closure.contains(b)) {
        match e.entry.or_else(|| old.entries.get(&base).cloned()) {
            Some(entry) => new.entries.insert(base.clone(), entry),
            None => None,
        };
        if e.report.status == Status::Unchanged {
            unchanged += 1;
        } else {
            packages.push(e.report);
        }
    }
    let unreached: Vec<(&String, &Entry)> = old.entries.iter().filter(|(b, _)| !new.entries.contains_key(*b)).collect();
    for (base, entry) in unreached {
        // A `path:` package whose PKGBUILD does not source (issue 27): held where it was.
        if let Some(why) = universe.broken.get(base).filter(|_| universe.local.contains_key(base)) {
            new.entries.insert(base.clone(), entry.clone());
            packages.push(unreadable(base, Some(entry), why.clone()).report);
            continue;
        }
        let keep = !selected.is_empty() && !selected.contains(base);
        let deleted = !universe.srcinfo.contains_key(base) && still_named(entry, universe, config);
        if keep || deleted {
            new.entries.insert(base.clone(), entry.clone());
        }
        if deleted {
            packages.push(package_report(base, Status::Deleted, Some(entry), None));
        } else if !keep {
            packages.push(package_report(base, Status::Dropped, Some(entry), None));
        }
    }
    packages.sort_by(|a, b| a.pkgbase.cmp(&b.pkgbase));
    let changed = new != *old;
    let rehashed = new
        .entries
        .iter()
        .filter(|(b, e)| old.entries.get(*b).is_some_and(|o| o.commit == e.commit && o.files != e.files))
        .count();
    (Report { packages, unchanged, rehashed, changed }, new)
}

/// Whether repo.yaml lists the entry (by pkgbase or pkgname), or a dependency in the closure
/// names one of its pkgnames and nothing satisfies it any more.
fn still_named(entry: &Entry, universe: &Universe, config: &Config) -> bool {
    let names: BTreeSet<&str> =
        std::iter::once(entry.name.as_str()).chain(entry.pkgnames.iter().map(String::as_str)).collect();
    let listed = config.packages.iter().any(|p| names.contains(p.name.as_str()));
    let needed = universe.satisfiers.iter().any(|(dep, s)| {
        matches!(s, crate::aur::Satisfier::Missing | crate::aur::Satisfier::Refused { .. })
            && names.contains(crate::alpm::dep_name(dep))
    });
    listed || needed
}

/// `--since BASE`: what moving from `base` to `current` lets in, read from the AUR's history
/// (the pull-request workflow's view of a lock change). No policy: merging is the approval.
async fn since(ctx: &Ctx<'_>, base: &Lock, current: &Lock) -> Result<Report, Error> {
    let mut packages = Vec::new();
    let mut unchanged = 0;
    let bases: BTreeSet<&String> = base.entries.keys().chain(current.entries.keys()).collect();
    for name in bases {
        let (from, to) = (base.entries.get(name), current.entries.get(name));
        if from == to {
            unchanged += 1;
            continue;
        }
        let Some(to) = to else {
            packages.push(package_report(name, Status::Dropped, from, None));
            continue;
        };
        if let Some(source) = &to.git {
            // Only a repository repo.yaml names (and checked) is fetched: the lock is
            // pull-request data too.
            if !ctx.config.packages.iter().any(|p| p.git_source() == Some(source)) {
                return Err(Error::Usage(format!(
                    "repoctl.lock's entry {name} names the git: repository {}, which repo.yaml does not: run `repoctl update` after editing repo.yaml",
                    source.describe()
                )));
            }
            packages.push(git::lock_change(ctx, from, to, source).await?);
            continue;
        }
        if to.is_local() {
            // Its files are in the pull request's own diff; there is no AUR history to read.
            let status = if from.is_some() { Status::Updated } else { Status::Added };
            packages.push(package_report(name, status, from, Some(to)));
            continue;
        }
        packages.push(lock_change(ctx, from, to).await?);
    }
    Ok(Report { changed: !packages.is_empty(), packages, unchanged, rehashed: 0 })
}

/// The report of one entry's move from `from` to `to`, with the AUR's files at both commits.
/// `to`'s files must be what the lock records.
async fn lock_change(ctx: &Ctx<'_>, from: Option<&Entry>, to: &Entry) -> Result<PackageReport, Error> {
    let aur_err = |e: GitError| Error::Aur(e.into());
    let waiting = |line: &str| ctx.printer.info(line);
    let clone =
        GitClone::open(&ctx.aur.git_url(&to.name), &ctx.clones.join(&to.name), &waiting).await.map_err(aur_err)?;
    let new_tree = clone.tree_in_history(&to.commit).await.map_err(aur_err)?;
    let before = before(&clone, &to.name, from).await;
    let commits = clone.log(from.map(|f| f.commit.as_str()), &to.commit, MAX_COMMITS).await.map_err(aur_err)?;
    drop(clone);
    let new_tree = new_tree.verify(&to.name, &to.files).map_err(|e| match e {
        crate::trust::tree::Mismatch::Digest { .. } => Error::Usage(format!(
            "{e}: the lock was edited by hand; run `repoctl update {}` to lock what the AUR holds",
            to.name
        )),
        crate::trust::tree::Mismatch::Incomplete { .. } => Error::Usage(e.to_string()),
    })?;
    let new_snap = Snapshot::from_tree(new_tree.tree(), to.maintainer.clone(), to.comaintainers.clone());
    let status = if from.is_some() { Status::Updated } else { Status::Added };
    let mut report = package_report(&to.name, status, from, Some(to));
    (report.flags, report.version_only) = compare(from, &before, &new_snap);
    report.commits = commits;
    report.diff = ctx.diff(before.tree(), new_tree.tree());
    report.diff.push_str(&patches::locked_review(ctx.config, to));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(git: Option<&str>, path: Option<&str>) -> Entry {
        Entry {
            name: "yay".into(),
            path: path.map(str::to_string),
            git: git.map(|url| crate::config::GitSource { url: url.into(), subdir: None }),
            commit: "a".repeat(40),
            version: "1.0-1".into(),
            pkgnames: vec!["yay".into()],
            maintainer: None,
            comaintainers: Vec::new(),
            committed: String::new(),
            files: String::new(),
            patches: Vec::new(),
        }
    }

    #[test]
    fn a_move_of_source_is_said_in_the_headline_with_where_it_comes_from_now() {
        let (aur, evil) = (entry(None, None), entry(Some("https://evil.example/yay.git"), None));
        let moved = crate::lock::report::headline(&package_report("yay", Status::Updated, Some(&aur), Some(&evil)));
        assert!(moved.contains(" from https://evil.example/yay.git"), "{moved}");
        assert!(moved.ends_with("(SOURCE CHANGED: was the AUR)"), "{moved}");
        let other = entry(Some("https://elsewhere.example/yay.git"), None);
        let moved = crate::lock::report::headline(&package_report("yay", Status::Updated, Some(&evil), Some(&other)));
        assert!(moved.ends_with("(SOURCE CHANGED: was https://evil.example/yay.git)"), "{moved}");
        let same = crate::lock::report::headline(&package_report("yay", Status::Updated, Some(&aur), Some(&aur)));
        assert!(!same.contains("SOURCE") && !same.contains(" from "), "{same}");
        let local = entry(None, Some("pkgbuilds/yay"));
        let moved = crate::lock::report::headline(&package_report("yay", Status::Updated, Some(&local), Some(&aur)));
        assert!(moved.ends_with("(SOURCE CHANGED: was path: pkgbuilds/yay)"), "{moved}");
    }
}
