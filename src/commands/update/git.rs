//! `repoctl update` for `git:` packages (issue 27): each repository fetched (step 2 (a), on
//! the host), its subdir read at the head and at the locked commit, and the move from one to the
//! other flagged and decided by the same rules as an AUR commit: the same report (commits, diff,
//! flags), `trust.min_age` (from the head's committer date: there is no RPC to say when it was
//! pushed), `trust.auto` and `--accept`.
//!
//! What does not apply, and why: `trust.maintainers` and the maintainer and co-maintainer
//! holds and flags name AUR users; a git repository has no AUR maintainer (who may push to it
//! is that repository's business), so its entries record none and the list is not asked.
//! A repository that is gone (the fetch says it is not there) is reported like a deleted AUR
//! package: kept at its lock entry, flagged, the rest going on.
use super::{Before, Ctx, Examined, MAX_COMMITS, package_report, unreadable};
use crate::aur::{Commit, LocalPackage, SrcInfo};
use crate::config::{Config, GitSource, TrustConfig};
use crate::error::Error;
use crate::lock::assess::{self, Snapshot};
use crate::lock::policy::{Candidate, decide};
use crate::lock::report::{FlagLine, Status};
use crate::lock::{Entry, Lock};
use crate::trust::tree::Tree;
use crate::ui::Printer;
use camino::Utf8Path;

/// One `git:` entry as `update` found its repository.
pub(super) struct GitHead {
    /// The entry's name, which must be the pkgbase its PKGBUILD makes.
    name: String,
    source: GitSource,
    found: Found,
}

enum Found {
    /// The repository is not there any more (deleted, renamed, private): what git said.
    Gone(String),
    /// It cannot be read now, and why: held where it was.
    Unreadable(String),
    Head(Box<Head>),
}

/// The head of a repository and what the review compares it with.
struct Head {
    committed: i64,
    /// From the locked commit (if any) to the head, newest first.
    commits: Vec<Commit>,
    /// The subdir's files at the head.
    tree: Tree,
    srcinfo: SrcInfo,
    /// The `.SRCINFO` made of `tree` (and of `before`'s tree, when it has one), for the review:
    /// a repository need not commit one.
    made: String,
    before: Before,
    before_made: Option<String>,
}

/// Step 2 (a) for every `git:` entry of `config`: fetch, read the head and the locked commit.
/// Errors: Docker or the builder image (a `.SRCINFO` to make); a repository's own trouble is
/// its [`GitHead`]'s.
pub(super) async fn heads(
    config: &Config,
    work: &Utf8Path,
    printer: &Printer,
    old: &Lock,
) -> Result<Vec<GitHead>, Error> {
    let mut maker = crate::commands::git_packages::SrcinfoMaker::new(config, work, printer);
    let mut out = Vec::new();
    for (p, source) in crate::commands::git_packages::git_entries(config) {
        let locked = old.entries.get(&p.name).filter(|e| e.git.as_ref() == Some(source));
        let found = match head(&mut maker, work, printer, &p.name, source, locked).await? {
            Ok(head) => Found::Head(Box::new(head)),
            Err(found) => found,
        };
        out.push(GitHead { name: p.name.clone(), source: source.clone(), found });
    }
    Ok(out)
}

async fn head(
    maker: &mut crate::commands::git_packages::SrcinfoMaker<'_>,
    work: &Utf8Path,
    printer: &Printer,
    name: &str,
    source: &GitSource,
    locked: Option<&Entry>,
) -> Result<Result<Head, Found>, Error> {
    let chain = |e: &crate::aur::GitError| crate::cause::chain(e).join(": ");
    let waiting = |line: &str| printer.info(line);
    let clone = match crate::aur::git_source::open(work, source, &waiting).await {
        Ok(clone) => clone,
        Err(e) if crate::aur::git_source::is_gone(&e) => return Ok(Err(Found::Gone(chain(&e)))),
        Err(e) => return Ok(Err(Found::Unreadable(chain(&e)))),
    };
    let tree = match crate::aur::git_source::tree_at(&clone, source, clone.head()).await {
        Ok(tree) => tree,
        Err(why) => return Ok(Err(Found::Unreadable(why))),
    };
    let (commits, committed) = match super::history(&clone, locked).await {
        Ok(found) => found,
        // The locked commit is gone from the history (rewritten): listed from the head.
        Err(_) => super::history(&clone, None).await.map_err(|e| Error::Aur(e.into()))?,
    };
    let before = match locked {
        None => Before::Nothing,
        Some(o) => match crate::aur::git_source::tree_at(&clone, source, &o.commit).await {
            Ok(t) => t.verify(name, &o.files).map_or_else(|e| Before::Unverified(e.to_string()), Before::Locked),
            Err(why) => {
                Before::Unverified(format!("the repository no longer holds commit {}: {why}", o.short_commit()))
            }
        },
    };
    drop(clone);
    let what = source.describe();
    let srcinfo = match maker.srcinfo_of(name, &what, &tree).await? {
        Ok(info) => info,
        Err(why) => return Ok(Err(Found::Unreadable(why))),
    };
    let made = crate::build::local::cached_srcinfo(work, &tree.digest()).unwrap_or_default();
    let before_made = match before.tree() {
        Some(t) => maker.make(&what, t).await?.ok(),
        None => None,
    };
    Ok(Ok(Head { committed, commits, tree, srcinfo, made, before, before_made }))
}

impl GitHead {
    /// For resolution: the head's files and `.SRCINFO`; one that cannot be read now is held at
    /// the lock's files (their `.SRCINFO`, kept by their digest), so what it needed stays
    /// locked; one never locked is broken, with why.
    pub(super) fn local(&self, old: &Lock, work: &Utf8Path, arch: &str) -> LocalPackage {
        let why = match &self.found {
            Found::Head(h) => {
                let (digest, srcinfo) = (h.tree.digest(), Ok(h.srcinfo.clone()));
                return LocalPackage { name: self.name.clone(), digest, srcinfo, held: None };
            }
            Found::Gone(why) | Found::Unreadable(why) => why.clone(),
        };
        let locked = old.entries.get(&self.name).filter(|e| e.git.as_ref() == Some(&self.source));
        let text = locked.and_then(|e| crate::build::local::cached_srcinfo(work, &e.files));
        match (locked, text.and_then(|t| SrcInfo::parse(&t, arch).ok())) {
            (Some(e), Some(info)) => {
                LocalPackage { name: self.name.clone(), digest: e.files.clone(), srcinfo: Ok(info), held: Some(why) }
            }
            _ => LocalPackage { name: self.name.clone(), digest: String::new(), srcinfo: Err(why), held: None },
        }
    }
}

/// Step 2 (c) for the `git:` package `base`, when it is one: None for any other pkgbase.
pub(super) fn examine(ctx: &Ctx<'_>, heads: &[GitHead], base: &str, old: Option<&Entry>) -> Option<Examined> {
    let head = heads.iter().find(|h| h.name == base)?;
    let h = match &head.found {
        // Like a deleted AUR package: its entry kept and flagged (never locked: nothing to keep).
        Found::Gone(why) => {
            let Some(o) = old else { return Some(unreadable(base, None, why.clone())) };
            return Some(Examined { report: package_report(base, Status::Deleted, old, None), entry: Some(o.clone()) });
        }
        Found::Unreadable(why) => return Some(unreadable(base, old, why.clone())),
        Found::Head(h) => h,
    };
    let entry = Entry {
        name: base.to_string(),
        path: None,
        git: Some(head.source.clone()),
        commit: h.tree.commit().to_string(),
        version: h.srcinfo.version.clone(),
        pkgnames: h.srcinfo.pkgnames.clone(),
        maintainer: None,
        comaintainers: Vec::new(),
        committed: crate::lock::rfc3339(h.committed),
        files: h.tree.digest(),
        patches: Vec::new(),
    };
    // A commit that leaves the subdir's files as they are moves nothing: a repository of many
    // PKGBUILDs does not move every entry on each commit.
    if let (Some(o), Before::Locked(_)) = (old, &h.before)
        && (o.commit == entry.commit || o.files == entry.files)
    {
        return Some(Examined {
            report: package_report(base, Status::Unchanged, old, Some(o)),
            entry: Some(o.clone()),
        });
    }
    Some(decided(ctx, base, old, entry, h))
}

/// The flags of the move to `entry`, and the policy's answer, as [`super::examine`] gives them.
fn decided(ctx: &Ctx<'_>, base: &str, old: Option<&Entry>, entry: Entry, h: &Head) -> Examined {
    let new = snapshot(&h.tree, Some(&h.made));
    let (flags, version_only) = match (old, &h.before) {
        (Some(_), Before::Locked(t)) => {
            let was = snapshot(t.tree(), h.before_made.as_deref());
            (assess::assess(Some(&was), &new), assess::version_only(&was, &new))
        }
        (Some(_), Before::Unverified(why)) => {
            (assess::assess_unverified(&Snapshot::default(), &new, why.clone()), false)
        }
        _ => (assess::assess(None, &new), false),
    };
    // No AUR maintainer to allow (see the module's documentation).
    let trust = TrustConfig { maintainers: None, ..ctx.config.trust.clone() };
    let candidate = Candidate {
        commit: entry.commit.clone(),
        committed: h.committed,
        last_modified: h.committed,
        maintainer: None,
        comaintainers: Vec::new(),
    };
    // A git commit's date is whatever its pusher wrote, so `trust.min_age` cannot tell how long
    // a commit has been public (an AUR commit's arrival is aurweb's own time): a backdated
    // commit would pass the cooldown and, as a version-only change, be locked by the nightly
    // unreviewed. A git: commit is never taken without review (`--auto` holds it).
    let auto_ok = false;
    let decision = decide(&trust, old, &candidate, ctx.accepted.contains(base), auto_ok, ctx.mode, ctx.now);
    let mut report = super::decided_report(base, old, &entry, &decision);
    report.flags = flags.into_iter().map(FlagLine::from).collect();
    report.version_only = version_only;
    report.commits = h.commits.iter().take(MAX_COMMITS).cloned().collect();
    report.diff = ctx.diff(h.before.tree(), &h.tree);
    Examined { report, entry: decision.ok().map(|()| entry) }
}

/// The review's view of `tree`, with the `.SRCINFO` made of it (`made`) in place of any the
/// repository holds.
fn snapshot(tree: &Tree, made: Option<&str>) -> Snapshot {
    let mut snap = Snapshot::from_tree(tree, None, Vec::new());
    if let Some(made) = made.filter(|m| !m.is_empty()) {
        // The one the build uses wins over one the repository commits (which may be stale on
        // purpose, to hide a new source host from the review).
        snap.files.insert(".SRCINFO".to_string(), made.to_string());
    }
    snap
}

/// `--since BASE` for a `git:` entry: what moving from `from` to `to` lets in, read from the
/// repository's history as [`super::lock_change`] reads the AUR's (no policy: merging is the
/// approval). `to`'s files must be what the lock records. Errors: the repository cannot be
/// fetched, or does not hold `to`'s commit and files.
pub(super) async fn lock_change(
    ctx: &Ctx<'_>,
    from: Option<&Entry>,
    to: &Entry,
    source: &GitSource,
) -> Result<crate::lock::report::PackageReport, Error> {
    let work = ctx.clones.parent().unwrap_or(&ctx.clones);
    let waiting = |line: &str| ctx.printer.info(line);
    let clone = crate::aur::git_source::open(work, source, &waiting).await.map_err(|e| Error::Aur(e.into()))?;
    let new_tree = crate::aur::git_source::tree_at(&clone, source, &to.commit).await.map_err(Error::Usage)?;
    let from = from.filter(|f| f.git.as_ref() == Some(source));
    let before = match from {
        None => Before::Nothing,
        Some(f) => match crate::aur::git_source::tree_at(&clone, source, &f.commit).await {
            Ok(t) => t.verify(&f.name, &f.files).map_or_else(|e| Before::Unverified(e.to_string()), Before::Locked),
            Err(why) => Before::Unverified(why),
        },
    };
    let commits = clone.log(from.map(|f| f.commit.as_str()), &to.commit, MAX_COMMITS).await.unwrap_or_default();
    drop(clone);
    let new_tree = new_tree.verify(&to.name, &to.files).map_err(|e| {
        Error::Usage(format!(
            "{e}: the lock was edited by hand; run `repoctl update {}` to lock what it holds",
            to.name
        ))
    })?;
    // The `.SRCINFO` files made when the commits were locked, when this work directory has them.
    let made = |t: &Tree| crate::build::local::cached_srcinfo(work, &t.digest());
    let new = snapshot(new_tree.tree(), made(new_tree.tree()).as_deref());
    let (flags, version_only) = match (from, &before) {
        (Some(_), Before::Locked(t)) => {
            let was = snapshot(t.tree(), made(t.tree()).as_deref());
            (assess::assess(Some(&was), &new), assess::version_only(&was, &new))
        }
        (Some(_), Before::Unverified(why)) => {
            (assess::assess_unverified(&Snapshot::default(), &new, why.clone()), false)
        }
        _ => (assess::assess(None, &new), false),
    };
    let status = if from.is_some() { Status::Updated } else { Status::Added };
    let mut report = package_report(&to.name, status, from, Some(to));
    report.flags = flags.into_iter().map(FlagLine::from).collect();
    report.version_only = version_only;
    report.commits = commits;
    report.diff = ctx.diff(before.tree(), new_tree.tree());
    Ok(report)
}
