//! `repoctl update [PKG…]`: moves repoctl.lock to the AUR's newest commits that repo.yaml's
//! `trust:` allows, and shows what that lets in (issue 14).
//!
//! Steps: (1) resolve the closure of repo.yaml at the AUR's heads, with held pkgbases at their
//! locked commits (their old dependencies stay in the closure), until the held set settles;
//! (2) for each pkgbase, fetch its AUR repository, read the files at the locked commit and at
//! the head, flag what a reviewer must see, and ask the policy; (3) report; (4) write the lock
//! (never with --check or --since). Nothing here runs AUR code: PKGBUILDs are only read.
use crate::aur::{AurClient, Universe, diff, fetch_pkgbase, files_at, log};
use crate::config::{Config, Diagnostics};
use crate::error::{Error, ExitStatus};
use crate::lock::assess::{self, Snapshot};
use crate::lock::policy::{Candidate, Hold, Mode, decide};
use crate::lock::report::{FlagLine, PackageReport, Report, Side, Status};
use crate::lock::{Entry, Lock};
use crate::ui::Printer;
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::{BTreeMap, BTreeSet};

/// git's empty tree: the "before" of a package new to the lock, so its diff shows every file.
const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
/// Commits listed per package at most (the diff shows all changes anyway).
const MAX_COMMITS: usize = 20;
/// pkgbases fetched and read at once (each a `git fetch` and a few `git` reads).
const EXAMINED_IN_FLIGHT: usize = 8;
/// Rounds of resolution before the held set must have settled.
const MAX_ROUNDS: usize = 4;

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

/// What one run knows: the AUR, where clones live, and whether diffs are coloured.
struct Ctx<'a> {
    config: &'a Config,
    aur: AurClient,
    clones: Utf8PathBuf,
    color: bool,
    now: i64,
    mode: Mode,
    accepted: BTreeSet<String>,
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
        aur: AurClient::from_env()?,
        clones: work.join("aur"),
        color,
        now: jiff::Timestamp::now().as_second(),
        mode: if options.auto { Mode::Auto } else { Mode::Review },
        accepted: BTreeSet::new(),
    };
    let (report, new, problems) = match &options.since {
        Some(base) => (since(&ctx, &Lock::read(base)?, &old).await?, None, Diagnostics(Vec::new())),
        None => {
            let official = super::official_repos(&config, &work, printer).await?;
            let (report, new, problems) = moved(&mut ctx, &old, &official, &work, &options).await?;
            (report, Some(new), problems)
        }
    };
    // A listed package that cannot be locked at all (not in the AUR, a broken .SRCINFO), on
    // its repo.yaml line, as `check` says it: the rest is locked, and the exit code is 1.
    for diag in &problems.0 {
        printer.diagnostic(diag);
    }
    show(&report, &options, printer)?;
    if let Some(new) = new.filter(|_| report.changed && !options.check) {
        new.write(&lock_path)?;
        printer.info(&format!("wrote {lock_path}: review the change and commit it"));
    }
    let unreadable = report.packages.iter().any(|p| matches!(p.held, Some(Hold::Unreadable { .. })));
    let failed = unreadable || !problems.0.is_empty() || (options.check && report.changed);
    Ok(if failed { ExitStatus::PackagesFailed } else { ExitStatus::Success })
}

fn stdout_is_colour_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Prints the report in the asked form; the Markdown also goes to the job summary.
fn show(report: &Report, options: &Options, printer: &Printer) -> Result<(), Error> {
    // What a person must act on: a deletion, a package unreadable, a maintainer to accept or allow.
    let loud = |p: &&PackageReport| {
        p.status == Status::Deleted
            || matches!(
                p.held,
                Some(Hold::Unreadable { .. } | Hold::MaintainerChanged { .. } | Hold::MaintainerNotAllowed { .. })
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
        printer.out(crate::lock::report::render_text(report).trim_end());
    }
    printer.step_summary(&markdown);
    Ok(())
}

/// Steps 1 to 3 for the AUR's heads: the report and the lock it leads to.
async fn moved(
    ctx: &mut Ctx<'_>,
    old: &Lock,
    official: &crate::official::OfficialRepos,
    work: &Utf8Path,
    options: &Options,
) -> Result<(Report, Lock, Diagnostics), Error> {
    let mut pins: BTreeMap<String, String> = BTreeMap::new();
    let mut examined: BTreeMap<String, Examined> = BTreeMap::new();
    for _ in 0..MAX_ROUNDS {
        let universe = super::resolve(ctx.config, &ctx.aur, official, &[], Some(&work.join("srcinfo")), &pins).await?;
        let (closure, problems) = closure_of(ctx.config, &universe, old)?;
        ctx.accepted = names_to_bases(&options.accept, &universe, old);
        let selected = names_to_bases(&options.packages, &universe, old);
        let todo: Vec<&String> = closure
            .iter()
            .filter(|b| !examined.contains_key(*b) && (selected.is_empty() || selected.contains(*b)))
            .collect();
        examined.extend(examine_all(ctx, &todo, old, &universe).await);
        let held: BTreeMap<String, String> = examined
            .iter()
            .filter(|(b, e)| closure.contains(*b) && e.entry.is_none())
            .filter_map(|(b, _)| old.entries.get(b).map(|o| (b.clone(), o.commit.clone())))
            .collect();
        if held == pins {
            let (report, lock) = conclude(old, examined, &closure, &universe, ctx.config, &selected);
            return Ok((report, lock, problems));
        }
        pins = held;
    }
    Err(Error::Usage("the held packages did not settle: run `repoctl update` again, or update them one by one".into()))
}

/// [`examine`] of each pkgbase, [`EXAMINED_IN_FLIGHT`] at a time; one that cannot be read is
/// held where it was ([`unreadable`]).
async fn examine_all(ctx: &Ctx<'_>, bases: &[&String], old: &Lock, universe: &Universe) -> Vec<(String, Examined)> {
    use futures_util::StreamExt;
    futures_util::stream::iter(bases)
        .map(|base| async move {
            let found = match examine(ctx, base, old.entries.get(*base), universe).await {
                Ok(found) => found,
                Err(e) => unreadable(base, old.entries.get(*base), &e),
            };
            ((*base).clone(), found)
        })
        .buffer_unordered(EXAMINED_IN_FLIGHT)
        .collect()
        .await
}

/// The pkgbases `build` would need, at the heads (and pins) the universe was resolved at, and
/// the plan's problems on repo.yaml lines ([`super::plan_diagnostics`]) of the pkgbases `old`
/// does not hold: what cannot be locked at all (a name not in the AUR, a broken `.SRCINFO`).
/// A locked pkgbase's trouble is the report's (deleted, unreadable, held), as before.
fn closure_of(config: &Config, universe: &Universe, old: &Lock) -> Result<(BTreeSet<String>, Diagnostics), Error> {
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
    Ok((closure, super::plan_diagnostics(config, &plan)))
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

/// Step 2 for one pkgbase.
async fn examine(ctx: &Ctx<'_>, base: &str, old: Option<&Entry>, universe: &Universe) -> Result<Examined, Error> {
    let url = ctx.aur.git_url(base);
    let head = fetch_pkgbase(&url, &ctx.clones.join(base)).await.map_err(|e| Error::Aur(e.into()))?;
    let aur_err = |e: crate::aur::GitError| Error::Aur(e.into());
    let rpc = universe.packages.values().find(|p| p.pkgbase == base);
    let maintainer = rpc.and_then(|p| p.maintainer.clone());
    let comaintainers = rpc.map(|p| p.comaintainers.clone()).unwrap_or_default();
    let commits =
        log(&url, &head.dir, old.map(|o| o.commit.as_str()), &head.commit, MAX_COMMITS).await.map_err(aur_err)?;
    let committed = commits.first().map_or(0, |c| c.time);
    let new_files = files_at(&url, &head.dir, &head.commit).await.map_err(aur_err)?;
    let entry = new_entry(ctx, base, &head.commit, committed, &new_files, maintainer.clone(), comaintainers.clone())?;
    if let Some(o) =
        old.filter(|o| o.commit == entry.commit && o.maintainer == maintainer && o.comaintainers == comaintainers)
    {
        let report = package_report(base, Status::Unchanged, Some(o), Some(&entry));
        return Ok(Examined { report, entry: Some(o.clone()) });
    }
    // The locked commit's files; a rewritten history has none (the change is then all new).
    let old_files = match old {
        Some(o) => files_at(&url, &head.dir, &o.commit).await.ok(),
        None => None,
    };
    let new_snap = Snapshot::from_files(&new_files, maintainer.clone(), comaintainers);
    let old_snap = old
        .zip(old_files.as_ref())
        .map(|(o, f)| Snapshot::from_files(f, o.maintainer.clone(), o.comaintainers.clone()));
    let flags: Vec<FlagLine> = assess::assess(old_snap.as_ref(), &new_snap).into_iter().map(FlagLine::from).collect();
    let version_only = old_snap.as_ref().is_some_and(|o| assess::version_only(o, &new_snap));
    let last_modified = universe.last_modified.get(base).copied().unwrap_or(committed);
    let candidate = Candidate { commit: entry.commit.clone(), committed, last_modified, maintainer };
    let decision =
        decide(&ctx.config.trust, old, &candidate, ctx.accepted.contains(base), version_only, ctx.mode, ctx.now);
    let from = old_files.as_ref().and(old).map_or(EMPTY_TREE, |o| o.commit.as_str());
    let diff_text = diff(&url, &head.dir, from, &entry.commit, ctx.color).await.map_err(aur_err)?;
    let status = match (&decision, old) {
        (Err(_), _) => Status::Held,
        (Ok(()), None) => Status::Added,
        (Ok(()), Some(_)) => Status::Updated,
    };
    let mut report = package_report(base, status, old, Some(&entry));
    report.held = decision.clone().err();
    report.flags = flags;
    report.version_only = version_only;
    report.commits = commits;
    report.diff = diff_text;
    Ok(Examined { report, entry: decision.ok().map(|()| entry) })
}

/// A pkgbase that could not be examined: held where it was, with the reason.
fn unreadable(base: &str, old: Option<&Entry>, error: &Error) -> Examined {
    let mut report = package_report(base, Status::Held, old, None);
    report.held = Some(Hold::Unreadable { error: crate::cause::chain(error).join(": ") });
    Examined { report, entry: None }
}

/// The lock entry for a pkgbase at `commit`, from that commit's own `.SRCINFO`.
fn new_entry(
    ctx: &Ctx<'_>,
    base: &str,
    commit: &str,
    committed: i64,
    files: &BTreeMap<String, Vec<u8>>,
    maintainer: Option<String>,
    comaintainers: Vec<String>,
) -> Result<Entry, Error> {
    let text = files.get(".SRCINFO").map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
    let info = crate::aur::SrcInfo::parse(&text, &ctx.config.arch)
        .map_err(|message| Error::Usage(format!("the .SRCINFO of {base} at {commit} is not valid: {message}")))?;
    Ok(Entry {
        name: base.to_string(),
        commit: commit.to_string(),
        version: info.version,
        pkgnames: info.pkgnames,
        maintainer,
        comaintainers,
        committed: crate::lock::rfc3339(committed),
        files: crate::lock::files_hash(files),
    })
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
    }
}

fn side(e: &Entry) -> Side {
    Side {
        commit: e.commit.clone(),
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
    (Report { packages, unchanged, changed }, new)
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
        packages.push(lock_change(ctx, from, to).await?);
    }
    Ok(Report { changed: !packages.is_empty(), packages, unchanged })
}

/// The report of one entry's move from `from` to `to`, with the AUR's files at both commits.
async fn lock_change(ctx: &Ctx<'_>, from: Option<&Entry>, to: &Entry) -> Result<PackageReport, Error> {
    let aur_err = |e: crate::aur::GitError| Error::Aur(e.into());
    let url = ctx.aur.git_url(&to.name);
    let head = fetch_pkgbase(&url, &ctx.clones.join(&to.name)).await.map_err(aur_err)?;
    let checked = crate::aur::checkout_commit(&url, &head, &to.commit).await.map_err(aur_err)?;
    let new_files = files_at(&url, &checked.dir, &to.commit).await.map_err(aur_err)?;
    let snapshot = |files: &BTreeMap<String, Vec<u8>>, e: &Entry| {
        Snapshot::from_files(files, e.maintainer.clone(), e.comaintainers.clone())
    };
    let new_snap = snapshot(&new_files, to);
    let old_files = match from {
        Some(f) => Some(files_at(&url, &checked.dir, &f.commit).await.map_err(aur_err)?),
        None => None,
    };
    let old_snap = from.zip(old_files.as_ref()).map(|(f, files)| snapshot(files, f));
    crate::lock::verify_files(&to.name, &to.commit, &to.files, &new_files).map_err(|e| {
        Error::Usage(format!(
            "{e}: the lock was edited by hand; run `repoctl update {}` to lock what the AUR holds",
            to.name
        ))
    })?;
    let status = if from.is_some() { Status::Updated } else { Status::Added };
    let mut report = package_report(&to.name, status, from, Some(to));
    report.flags.extend(assess::assess(old_snap.as_ref(), &new_snap).into_iter().map(FlagLine::from));
    report.version_only = old_snap.as_ref().is_some_and(|o| assess::version_only(o, &new_snap));
    report.commits =
        log(&url, &checked.dir, from.map(|f| f.commit.as_str()), &to.commit, MAX_COMMITS).await.map_err(aur_err)?;
    let before = from.map_or(EMPTY_TREE, |f| f.commit.as_str());
    report.diff = diff(&url, &checked.dir, before, &to.commit, ctx.color).await.map_err(aur_err)?;
    Ok(report)
}
