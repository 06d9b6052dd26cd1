//! Running the builds of a plan: each pkgbase in its own container, AUR dependencies first,
//! up to `builder.jobs` at a time. A failed build is a result, not an early return: its
//! dependants are skipped with the reason and every other package goes on.
mod artifacts;
mod git_checkout;
mod image;
mod keys;
pub mod local;
mod package;
pub mod patches;
mod provenance;
mod run_image;
mod sources;

pub use artifacts::{ArtifactError, extract_packages};
pub use image::{PACMAN_CACHE_VOLUME, ensure_builder_image};
pub use package::{MAX_LOG_BYTES, log_tail};
pub use run_image::{
    MAX_GENERATION, RunImage, RunImageChoice, RunImageSource, SyncDbs, SyncedLabels, choose_run_image, decide,
    make_run_image, parse_sync_dbs, release_run_image, remove_superseded, render_sync_dbs, synced_image_tag,
};
pub use sources::source_cache_volume;

use crate::aur::{GitClone, GitError, SrcInfo};
use crate::docker::Docker;
use crate::plan::{Action, Plan, Step};
use crate::trust::CheckedPackage;
use crate::trust::tree::{LockedTree, TreeError};
use crate::ui::mermaid::Span;
use crate::ui::{Phase, Reporter};
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// The directories of one run, under the work directory.
#[derive(Debug, Clone)]
pub struct RunDirs {
    /// The work directory (`.repoctl`): caches and state kept between runs.
    pub work: Utf8PathBuf,
    /// Per-pkgbase git clones, kept between runs.
    pub aur_cache: Utf8PathBuf,
    /// This run's directory.
    pub run: Utf8PathBuf,
    /// Package files built in this run.
    pub packages: Utf8PathBuf,
    /// One full log per pkgbase.
    pub logs: Utf8PathBuf,
}

impl RunDirs {
    pub fn new(work_dir: &Utf8Path, run_id: &str) -> std::io::Result<RunDirs> {
        let run = work_dir.join("runs").join(run_id);
        let dirs = RunDirs {
            work: work_dir.to_owned(),
            aur_cache: work_dir.join("aur"),
            packages: run.join("packages"),
            logs: run.join("logs"),
            run,
        };
        for d in [&dirs.aur_cache, &dirs.packages, &dirs.logs] {
            fs_err::create_dir_all(d)?;
        }
        Ok(dirs)
    }
}

#[derive(Debug, Clone)]
pub enum Outcome {
    /// `files` go to the repository; `debug_files` (makepkg's `PKGBASE-debug`, made only when
    /// the package has `debug: true`) to the `NAME-debug` repository.
    Built {
        files: Vec<CheckedPackage>,
        debug_files: Vec<CheckedPackage>,
        version: String,
        /// Where each of `files` and `debug_files` came from, as written beside it
        /// (`FILE.provenance.json`), in that order.
        provenance: Vec<crate::provenance::Provenance>,
    },
    Failed {
        kind: FailureKind,
        /// What happened, with its causes (`X: Y`), one line per cause, sanitized.
        error: String,
        log: Utf8PathBuf,
        tail: Vec<String>,
        /// With [`FailureKind::VersionMismatch`]: the version the PKGBUILD made.
        made: Option<String>,
    },
    Skipped {
        reason: String,
    },
}

/// Why a build failed, for the summary, the GitHub annotations and the exit status: a user
/// fixes a timeout, a signature and a broken PKGBUILD in different places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// Fetching the pkgbase's git repository from the AUR.
    Fetch,
    /// The AUR's history no longer holds the locked commit, or its files are not the ones the
    /// lock's hash names.
    Lock,
    /// The locked commit holds what repoctl does not build from: a submodule, a path that
    /// leaves its directory, a key file (`keys/pgp/*.asc`) that is a symbolic link.
    Tree,
    /// Its `.SRCINFO` is unreadable, or names another pkgbase.
    Srcinfo,
    /// Package files of its AUR dependencies (built in this run or published) are missing.
    DependencyFiles,
    /// pacman could not install its dependencies.
    Dependencies,
    /// The sources' PGP signatures could not be verified.
    SourceSignature,
    /// makepkg (fetching sources, `pkgver()`, building, packaging) exited non-zero.
    Makepkg,
    /// The build timeout was reached.
    Timeout,
    /// The built packages could not be copied out of the container.
    CopyOut,
    /// Docker refused or lost the container.
    Container,
    /// The PKGBUILD made another version than the locked `.SRCINFO` says (and nothing else is
    /// wrong with its packages): not published, and not built again until the AUR changes it.
    VersionMismatch,
    /// A package file it made does not match the locked commit: a pkgname the `.SRCINFO` does
    /// not declare, another pkgbase, arch or version, a name makepkg would not give it, or not
    /// a package ([`crate::trust::check_build`]). Nothing of it is published.
    PackageCheck,
    /// The build task itself ended abnormally, or a local file could not be written.
    Internal,
    /// Built, but not published: another object already has a file's name with other bytes
    /// (another run's build of the same version), and nothing vouches for it (issue 24).
    Publish,
}

impl FailureKind {
    /// A short label: `makepkg`, `timeout`, `source-signature`...
    pub fn label(self) -> &'static str {
        match self {
            FailureKind::Fetch => "fetch",
            FailureKind::Lock => "lock",
            FailureKind::Tree => "tree",
            FailureKind::Srcinfo => "srcinfo",
            FailureKind::DependencyFiles => "dependency-files",
            FailureKind::Dependencies => "dependencies",
            FailureKind::SourceSignature => "source-signature",
            FailureKind::Makepkg => "makepkg",
            FailureKind::Timeout => "timeout",
            FailureKind::CopyOut => "copy-out",
            FailureKind::Container => "container",
            FailureKind::VersionMismatch => "version-mismatch",
            FailureKind::PackageCheck => "package-check",
            FailureKind::Internal => "internal",
            FailureKind::Publish => "publish",
        }
    }
}

/// A build that failed: its kind, and the error text with every cause.
#[derive(Debug)]
pub struct Failure {
    pub kind: FailureKind,
    pub error: String,
    /// With [`FailureKind::VersionMismatch`]: the version the PKGBUILD made.
    pub made: Option<String>,
}

impl Failure {
    fn new(kind: FailureKind, error: &(dyn std::error::Error + 'static)) -> Failure {
        Failure { kind, error: with_causes(error), made: None }
    }

    fn text(kind: FailureKind, error: impl Into<String>) -> Failure {
        Failure { kind, error: error.into(), made: None }
    }
}

/// An error and its chain of sources on one line, as `error: cause: cause` ([`crate::cause::chain`]).
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    crate::cause::chain(error).join(": ")
}

impl From<package::BuildError> for Failure {
    fn from(e: package::BuildError) -> Failure {
        use package::BuildError as E;
        let kind = match &e {
            E::Docker(_) => FailureKind::Container,
            E::Artifact(_) => FailureKind::CopyOut,
            E::Phase { phase: "installing dependencies" | "downloading dependencies", .. } => FailureKind::Dependencies,
            E::Phase { phase: package::COLLECTING, .. } => FailureKind::CopyOut,
            E::Phase { .. } => FailureKind::Makepkg,
            E::Signatures { .. } => FailureKind::SourceSignature,
            E::KeyLinks(_) => FailureKind::Tree,
            E::Timeout(_) => FailureKind::Timeout,
            E::Log { .. } | E::Task(_) => FailureKind::Internal,
            E::Packages(_) if e.made_version().is_some() => FailureKind::VersionMismatch,
            E::Packages(_) => FailureKind::PackageCheck,
        };
        let made = e.made_version().map(str::to_string);
        let mut failure = Failure::new(kind, &e);
        if made.is_some() {
            failure.error.push_str(", and it is not built again until the AUR changes it");
        }
        Failure { made, ..failure }
    }
}

#[derive(Debug, Clone)]
pub struct PackageResult {
    pub pkgbase: String,
    pub outcome: Outcome,
    /// How long the build took (zero for a package that was skipped).
    pub duration: Duration,
    /// When the build began (when it was skipped, for a package that was).
    pub started: Instant,
    /// The phases the build went through, as the progress display names them, each with when
    /// it began counted from `started`. Each lasts until the next begins, the last until
    /// `duration`. Empty for a package that was skipped.
    pub phases: Vec<(Phase, Duration)>,
}

impl PackageResult {
    /// A result for a package whose build never ran.
    fn not_run(pkgbase: String, outcome: Outcome) -> PackageResult {
        PackageResult { pkgbase, outcome, duration: Duration::ZERO, started: Instant::now(), phases: Vec::new() }
    }

    /// The build's phases as bars of the run's Gantt chart ([`crate::ui::mermaid::gantt`]),
    /// `run_started` being when the run began. Together they cover the build from its start
    /// to its end, the first phase starting with the build (`duration`, the summary table's
    /// time, to the millisecond). The last phase of a failed build is marked failed. Empty for
    /// a package whose build never ran.
    pub fn spans(&self, run_started: Instant) -> Vec<Span> {
        let base = self.started.saturating_duration_since(run_started);
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let end = ms(base + self.duration);
        let failed = matches!(self.outcome, Outcome::Failed { .. });
        let mut spans: Vec<Span> = Vec::with_capacity(self.phases.len());
        for (i, (phase, began)) in self.phases.iter().enumerate() {
            let start = if i == 0 { ms(base) } else { ms(base + *began).min(end) };
            let next = self.phases.get(i + 1).map_or(end, |(_, b)| ms(base + *b).clamp(start, end));
            spans.push(Span {
                pkgbase: Some(self.pkgbase.clone()),
                name: phase.label().to_string(),
                start_ms: start,
                duration_ms: next - start,
                failed: failed && i + 1 == self.phases.len(),
            });
        }
        spans
    }
}

/// What every build of a run shares.
pub struct BuildContext {
    pub docker: Docker,
    /// The builder image tag.
    pub image: String,
    pub arch: String,
    pub dirs: RunDirs,
    pub git_url: Box<dyn Fn(&str) -> String + Send + Sync>,
    /// Where to fetch dependencies that are already published.
    /// Package files of published pkgbases the builds need ([`Plan::published_dependencies`]),
    /// fetched by the caller before the builds start; an `Err` says why a pkgbase's could not be.
    /// Each was checked against the live database's entry ([`crate::trust::signed::FetchedPackage`]: its
    /// `%SHA256SUM%`, and its signature in a signed repository) before a build installs it.
    pub published: BTreeMap<String, Result<Vec<crate::trust::signed::FetchedPackage>, String>>,
    /// `build --earlier-waves DIR`: package files of pkgbases earlier waves built, by pkgbase,
    /// each checked against its provenance record and repoctl.lock; the plan does not build
    /// them, and dependants install them ([`dependency_files`]).
    pub earlier: BTreeMap<String, Vec<crate::trust::CheckedPackage>>,
    pub jobs: usize,
    pub reporter: Arc<dyn Reporter>,
    /// Where repo.yaml's `pgp_keys` fingerprints are received from (None: gpg's default).
    pub keyserver: Option<String>,
    /// The image every build of the run starts from, as provenance records it.
    pub builder: crate::provenance::Builder,
    /// The network every build container of the run is attached to.
    pub build_network: Arc<crate::docker::BuildNetwork>,
}

/// Builds every `build` step of the plan; returns one result per such step, in plan order.
pub async fn run(ctx: Arc<BuildContext>, plan: Arc<Plan>) -> Vec<PackageResult> {
    let todo: Vec<&Step> = plan.to_build().collect();
    ctx.reporter.total(todo.len());
    let mut s = Scheduler {
        pending: todo.iter().map(|s| s.pkgbase.clone()).collect(),
        built: Arc::default(),
        results: BTreeMap::new(),
        running: JoinSet::new(),
    };
    loop {
        s.start_ready(&ctx, &plan);
        let Some(joined) = s.running.join_next().await else { break };
        match joined {
            Ok(result) => s.finished(&*ctx.reporter, result),
            Err(e) => tracing::error!("build task ended abnormally: {e}"),
        }
    }
    // A build task that ended abnormally leaves its dependants waiting: they are skipped too.
    for base in std::mem::take(&mut s.pending) {
        s.skip(&*ctx.reporter, base, "a build it depends on ended abnormally".to_string());
    }
    todo.iter()
        .map(|step| {
            s.results.remove(&step.pkgbase).unwrap_or_else(|| {
                let outcome = Outcome::Failed {
                    kind: FailureKind::Internal,
                    error: "the build task ended abnormally".into(),
                    log: ctx.dirs.logs.join(format!("{}.log", step.pkgbase)),
                    tail: Vec::new(),
                    made: None,
                };
                PackageResult::not_run(step.pkgbase.clone(), outcome)
            })
        })
        .collect()
}

/// The state of [`run`]: builds waiting, running and done.
struct Scheduler {
    /// pkgbases not started yet, in build order.
    pending: Vec<String>,
    /// pkgbase -> package files built in this run (what its dependants install).
    built: Arc<Mutex<HashMap<String, Vec<Utf8PathBuf>>>>,
    results: BTreeMap<String, PackageResult>,
    running: JoinSet<PackageResult>,
}

impl Scheduler {
    /// Skips what can no longer be built (a dependency failed) and starts what is ready, up to
    /// `builder.jobs` at once.
    fn start_ready(&mut self, ctx: &Arc<BuildContext>, plan: &Arc<Plan>) {
        let mut i = 0;
        while i < self.pending.len() {
            let Some(step) = plan.step(&self.pending[i]).cloned() else {
                self.pending.remove(i);
                continue;
            };
            match readiness(&step, plan, &self.results) {
                Ready::Blocked(reason) => {
                    let base = self.pending.remove(i);
                    self.skip(&*ctx.reporter, base, reason);
                }
                Ready::Yes if self.running.len() < ctx.jobs => {
                    self.pending.remove(i);
                    let (ctx, plan, built) = (ctx.clone(), plan.clone(), self.built.clone());
                    self.running.spawn(async move { build_one(&ctx, &plan, &step, &built).await });
                }
                _ => i += 1,
            }
        }
    }

    /// Records a finished build; its package files become available to its dependants.
    fn finished(&mut self, reporter: &dyn Reporter, result: PackageResult) {
        report(reporter, &result);
        if let Outcome::Built { files, .. } = &result.outcome
            && let Ok(mut b) = self.built.lock()
        {
            b.insert(result.pkgbase.clone(), files.iter().map(|f| f.path().to_owned()).collect());
        }
        self.results.insert(result.pkgbase.clone(), result);
    }

    fn skip(&mut self, reporter: &dyn Reporter, base: String, reason: String) {
        reporter.done(&base, false, &format!("skipped: {reason}"));
        self.results.insert(base.clone(), PackageResult::not_run(base, Outcome::Skipped { reason }));
    }
}

enum Ready {
    Yes,
    Wait,
    Blocked(String),
}

fn readiness(step: &Step, plan: &Plan, results: &BTreeMap<String, PackageResult>) -> Ready {
    for dep in &step.depends_on {
        let building = plan.step(dep).is_some_and(|s| s.action == Action::Build);
        if !building {
            continue;
        }
        match results.get(dep).map(|r| &r.outcome) {
            None => return Ready::Wait,
            Some(Outcome::Built { .. }) => {}
            Some(Outcome::Failed { .. }) => return Ready::Blocked(format!("its dependency {dep} failed to build")),
            Some(Outcome::Skipped { .. }) => return Ready::Blocked(format!("its dependency {dep} was skipped")),
        }
    }
    Ready::Yes
}

fn report(reporter: &dyn Reporter, result: &PackageResult) {
    let secs = result.duration.as_secs_f64();
    match &result.outcome {
        Outcome::Built { version, files, debug_files, .. } => {
            let debug = match debug_files.len() {
                0 => String::new(),
                n => format!(" + {n} debug"),
            };
            reporter.done(
                &result.pkgbase,
                true,
                &format!("built {version} ({} file(s){debug}, {secs:.1}s)", files.len()),
            )
        }
        Outcome::Failed { kind, error, log, .. } => {
            reporter.done(&result.pkgbase, false, &format!("FAILED ({}): {error} (log: {log})", kind.label()))
        }
        Outcome::Skipped { reason } => reporter.done(&result.pkgbase, false, &format!("skipped: {reason}")),
    }
}

async fn build_one(
    ctx: &BuildContext,
    plan: &Plan,
    step: &Step,
    built: &Mutex<HashMap<String, Vec<Utf8PathBuf>>>,
) -> PackageResult {
    let started = Instant::now();
    let clock = PhaseClock { reporter: &*ctx.reporter, started, phases: Mutex::default() };
    let base = &step.pkgbase;
    let log = ctx.dirs.logs.join(format!("{base}.log"));
    let outcome = match try_build(ctx, plan, step, built, &log, &clock).await {
        Ok(outcome) => outcome,
        Err(Failure { kind, error, made }) => {
            let before = if log.exists() { "\n" } else { "" };
            append_log(&log, &format!("{before}repoctl: {error}\n"));
            let error = error.lines().map(crate::ui::sanitize_line).collect::<Vec<_>>().join("\n");
            Outcome::Failed { kind, tail: log_tail(&log, 20), error, log: log.clone(), made }
        }
    };
    let phases = clock.phases.into_inner().unwrap_or_default();
    PackageResult { pkgbase: base.clone(), outcome, duration: started.elapsed(), started, phases }
}

/// Passes one build's progress on to the run's reporter, and keeps when each phase began
/// (for [`PackageResult::phases`]).
struct PhaseClock<'a> {
    reporter: &'a dyn Reporter,
    started: Instant,
    phases: Mutex<Vec<(Phase, Duration)>>,
}

impl Reporter for PhaseClock<'_> {
    fn total(&self, packages: usize) {
        self.reporter.total(packages);
    }

    fn phase(&self, pkgbase: &str, phase: Phase) {
        if let Ok(mut phases) = self.phases.lock() {
            phases.push((phase, self.started.elapsed()));
        }
        self.reporter.phase(pkgbase, phase);
    }

    fn done(&self, pkgbase: &str, ok: bool, line: &str) {
        self.reporter.done(pkgbase, ok, line);
    }

    fn step(&self, line: &str) {
        self.reporter.step(line);
    }
}

async fn try_build(
    ctx: &BuildContext,
    plan: &Plan,
    step: &Step,
    built: &Mutex<HashMap<String, Vec<Utf8PathBuf>>>,
    log: &Utf8Path,
    reporter: &dyn Reporter,
) -> Result<Outcome, Failure> {
    let base = &step.pkgbase;
    reporter.phase(base, Phase::Fetching);
    let (tree, srcinfo) = checkout(ctx, step).await?;
    let local_packages = dependency_files(ctx, plan, base, built).await?;
    let scratch = ctx.dirs.run.join("scratch").join(base);
    let job = package::BuildJob {
        pkgbase: base,
        tree: &tree,
        srcinfo: &srcinfo,
        local_packages,
        nocheck: step.nocheck,
        debug: step.debug,
        vcs: step.vcs,
        bump: step.rebuild.as_ref().map(|r| &r.bump),
        arch: &ctx.arch,
        limits: step.limits,
        network: step.network,
        build_network: &ctx.build_network,
        pgp_keys: &step.pgp_keys,
        capabilities: &step.capabilities,
        keyserver: ctx.keyserver.as_deref(),
        image: &ctx.image,
        scratch: &scratch,
        work_dir: ctx.docker.work_dir(),
        packages_dir: &ctx.dirs.packages,
        log_path: log,
    };
    let result = package::build(&ctx.docker, &job, reporter).await;
    // Archives of up to gigabytes: gone whether the build worked or not (the log stays).
    let _ = fs_err::remove_dir_all(&scratch);
    let checked = result?;
    // Checked (crate::trust): makepkg's PKGBASE-debug only when `debug` is on for the package.
    let (debug_files, files): (Vec<CheckedPackage>, Vec<CheckedPackage>) =
        checked.into_iter().partition(CheckedPackage::is_debug);
    let made: Vec<CheckedPackage> = files.iter().chain(&debug_files).cloned().collect();
    let provenance = provenance::record(ctx, plan, step, &made, log)?;
    // What was built: one version (checked), which for a VCS package is pkgver()'s answer.
    let version = files.first().map_or(srcinfo.version, |f| f.version().to_string());
    Ok(Outcome::Built { files, debug_files, version, provenance })
}

/// The step's locked commit, read from the pkgbase's clone (fetched from the AUR; the commit
/// must be in its history) and checked against the lock ([`crate::trust::tree::Tree::verify`]),
/// and its `.SRCINFO`, which must name the pkgbase. The clone is held only while it is read:
/// everything the build uses afterwards is this tree, in memory, which no other command can
/// change.
async fn checkout(ctx: &BuildContext, step: &Step) -> Result<(LockedTree, SrcInfo), Failure> {
    if let Some(local) = &step.local {
        return checkout_local(ctx, step, local);
    }
    if let Some(git) = &step.git {
        return git_checkout::checkout(ctx, step, git).await;
    }
    let base = &step.pkgbase;
    let url = (ctx.git_url)(base);
    let (Some(commit), Some(hash)) = (&step.commit, &step.files_hash) else {
        return Err(Failure::text(FailureKind::Lock, format!("{base} is not locked: run `repoctl update`")));
    };
    let waiting = |line: &str| ctx.reporter.step(&format!("{base}: {line}"));
    let clone = GitClone::open(&url, &ctx.dirs.aur_cache.join(base), &waiting)
        .await
        .map_err(|e| Failure::new(FailureKind::Fetch, &e))?;
    let started = std::time::Instant::now(); // -vv: the tree's cost (bench/small.sh PHASES=1)
    let tree = clone.tree_in_history(commit).await.map_err(|e| Failure::new(tree_failure(&e), &e))?;
    drop(clone);
    let tree = tree.verify(base, hash).map_err(|e| Failure::new(FailureKind::Lock, &e))?;
    tracing::debug!(pkgbase = %base, "reading and checking the locked tree: {:.3} s", started.elapsed().as_secs_f64());
    if !step.patches.is_empty() {
        return checkout_patched(ctx, step, tree).await;
    }
    let srcinfo = SrcInfo::of_tree(tree.tree(), &ctx.arch).map_err(|e| Failure::new(FailureKind::Srcinfo, &e))?;
    if srcinfo.pkgbase != *base {
        let why = format!(".SRCINFO at {commit} names pkgbase {}, not {base}", srcinfo.pkgbase);
        return Err(Failure::text(FailureKind::Srcinfo, why));
    }
    Ok((tree, srcinfo))
}

/// A `path:` package's files (issue 27), read from its directory and checked against the lock
/// ([`crate::trust::tree::Tree::verify`]: a directory changed since `repoctl update` is not
/// built), and the `.SRCINFO` made of exactly those files ([`local::local_srcinfo`], kept by
/// their digest when the run was planned). Like [`checkout`], everything the build uses
/// afterwards is this tree, in memory.
fn checkout_local(
    ctx: &BuildContext,
    step: &Step,
    local: &crate::config::LocalPath,
) -> Result<(LockedTree, SrcInfo), Failure> {
    let base = &step.pkgbase;
    let Some(hash) = &step.files_hash else {
        return Err(Failure::text(FailureKind::Lock, format!("{base} is not locked: run `repoctl update`")));
    };
    let tree = crate::trust::tree::read_dir(&local.dir).map_err(|e| Failure::new(FailureKind::Tree, &e))?;
    let tree = tree.verify(base, hash).map_err(|e| {
        let found = match &e {
            crate::trust::tree::Mismatch::Digest { found, .. } => found.as_str(),
            crate::trust::tree::Mismatch::Incomplete { .. } => "another format",
        };
        let why = format!(
            "the files of `{}` hash to {found}, but repoctl.lock says {hash}: the directory changed since \
`repoctl update`; run `repoctl update {base}`, review the change and commit repoctl.lock",
            local.written
        );
        Failure::text(FailureKind::Lock, why)
    })?;
    let text = local::cached_srcinfo(&ctx.dirs.work, hash).ok_or_else(|| {
        let why = format!("no .SRCINFO was made from the locked files of `{}`: run `repoctl plan`", local.written);
        Failure::text(FailureKind::Srcinfo, why)
    })?;
    let srcinfo = SrcInfo::parse(&text, &ctx.arch).map_err(|e| Failure::text(FailureKind::Srcinfo, e))?;
    if srcinfo.pkgbase != *base {
        let why = format!("the PKGBUILD in `{}` makes pkgbase {}, not {base}", local.written, srcinfo.pkgbase);
        return Err(Failure::text(FailureKind::Srcinfo, why));
    }
    Ok((tree, srcinfo))
}

/// An AUR package with `patches:` (issue 27): the locked commit's `tree` with the patch files
/// applied once they match the lock's digests ([`patches::patched_tree`]: a patch changed since
/// `repoctl update` is not built), and the `.SRCINFO` of the result ([`patches::patched_srcinfo`]).
async fn checkout_patched(ctx: &BuildContext, step: &Step, tree: LockedTree) -> Result<(LockedTree, SrcInfo), Failure> {
    let base = &step.pkgbase;
    let scratch = ctx.dirs.run.join("scratch").join(format!("{base}.patching"));
    let (files, locked) = (&step.patches.files, &step.patches.locked);
    let patched = patches::patched_tree(base, &tree, files, locked, &scratch).await.map_err(|e| {
        let kind = match e {
            crate::trust::patch::PatchError::Changed { .. } => FailureKind::Lock,
            _ => FailureKind::Tree,
        };
        Failure::new(kind, &e)
    })?;
    let maker = patches::Maker { docker: &ctx.docker, image: &ctx.image };
    let srcinfo = patches::patched_srcinfo(base, &tree, &patched, &ctx.dirs.work, Some(maker), &ctx.arch)
        .await
        .map_err(|e| Failure::text(FailureKind::Srcinfo, e))?;
    Ok((patched, srcinfo))
}

/// The kind of a failure to read the locked commit's tree.
fn tree_failure(e: &GitError) -> FailureKind {
    match e {
        GitError::NotInHistory { .. } => FailureKind::Lock,
        GitError::Tree {
            source: TreeError::Submodule { .. } | TreeError::Refused { .. } | TreeError::TooLarge { .. },
            ..
        } => FailureKind::Tree,
        _ => FailureKind::Fetch,
    }
}

/// Appends `text` to the build log `log` (made if missing). A log that cannot be written loses
/// the note; the build's result does not depend on it.
fn append_log(log: &Utf8Path, text: &str) {
    let _ = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
}

/// Package files of every AUR pkgbase `base` needs: built in this run, built by an earlier wave
/// ([`BuildContext::earlier`]), or published (fetched by the caller: [`BuildContext::published`]).
async fn dependency_files(
    ctx: &BuildContext,
    plan: &Plan,
    base: &str,
    built: &Mutex<HashMap<String, Vec<Utf8PathBuf>>>,
) -> Result<Vec<Utf8PathBuf>, Failure> {
    let mut files = Vec::new();
    for dep in plan.closure(base) {
        if let Some(f) = built.lock().ok().and_then(|b| b.get(&dep).cloned()) {
            files.extend(f);
            continue;
        }
        if let Some(f) = ctx.earlier.get(&dep) {
            files.extend(f.iter().map(|p| p.path().to_owned()));
            continue;
        }
        match ctx.published.get(&dep) {
            Some(Ok(f)) => files.extend(f.iter().map(|p| p.path().to_owned())),
            Some(Err(why)) => return Err(Failure::text(FailureKind::DependencyFiles, why.clone())),
            None => {}
        }
    }
    Ok(files)
}

/// The VCS packages the plan would skip ([`Plan::vcs_candidates`]), each asked for its
/// pkgver() in a container (building nothing), `builder.jobs` at a time: pkgbase -> the
/// version upstream is at now, or why it could not be learnt. [`crate::plan::apply_vcs`]
/// turns the answers into builds.
pub async fn probe_vcs(ctx: &BuildContext, plan: &Plan) -> BTreeMap<String, Result<String, String>> {
    use futures_util::StreamExt;
    let candidates: Vec<&Step> = plan.vcs_candidates().collect();
    if candidates.is_empty() {
        return BTreeMap::new();
    }
    ctx.reporter.step(&format!("checking upstream of {} VCS package(s) with pkgver()", candidates.len()));
    futures_util::stream::iter(candidates)
        .map(|step| async move { (step.pkgbase.clone(), upstream_of(ctx, plan, step).await) })
        .buffer_unordered(ctx.jobs.max(1))
        .collect()
        .await
}

async fn upstream_of(ctx: &BuildContext, plan: &Plan, step: &Step) -> Result<String, String> {
    let base = &step.pkgbase;
    let (tree, srcinfo) = checkout(ctx, step).await.map_err(|f| f.error)?;
    let local_packages = dependency_files(ctx, plan, base, &Mutex::default()).await.map_err(|f| f.error)?;
    let scratch = ctx.dirs.run.join("scratch").join(format!("{base}.vcs"));
    let log = ctx.dirs.logs.join(format!("{base}.pkgver.log"));
    let job = package::BuildJob {
        pkgbase: base,
        tree: &tree,
        srcinfo: &srcinfo,
        local_packages,
        nocheck: step.nocheck,
        debug: false,
        vcs: step.vcs,
        bump: step.rebuild.as_ref().map(|r| &r.bump),
        arch: &ctx.arch,
        limits: step.limits,
        network: step.network,
        build_network: &ctx.build_network,
        pgp_keys: &step.pgp_keys,
        capabilities: &step.capabilities,
        keyserver: ctx.keyserver.as_deref(),
        image: &ctx.image,
        scratch: &scratch,
        work_dir: ctx.docker.work_dir(),
        packages_dir: &ctx.dirs.packages,
        log_path: &log,
    };
    let result = package::upstream_version(&ctx.docker, &job).await;
    let _ = fs_err::remove_dir_all(&scratch);
    result.map_err(|e| format!("{}; log: {log}", with_causes(&e)))
}

#[cfg(test)]
mod timing_tests {
    use super::*;

    /// The chart's bars of one build add up to the summary table's time, from the build's
    /// start, each phase until the next; the phase a build failed in is marked.
    #[test]
    fn a_builds_phases_become_bars_that_cover_its_time() {
        let run = Instant::now();
        let ms = Duration::from_millis;
        let outcome = Outcome::Failed {
            kind: FailureKind::Makepkg,
            error: "x".into(),
            log: "l".into(),
            tail: vec![],
            made: None,
        };
        let result = PackageResult {
            pkgbase: "lib+foo".into(),
            outcome,
            duration: ms(3_200),
            started: run + ms(1_000),
            phases: vec![(Phase::Fetching, ms(2)), (Phase::Starting, ms(500)), (Phase::Building, ms(1_000))],
        };
        let spans = result.spans(run);
        assert!(spans.iter().all(|s| s.pkgbase.as_deref() == Some("lib+foo")));
        let bars: Vec<(&str, u64, u64, bool)> =
            spans.iter().map(|s| (s.name.as_str(), s.start_ms, s.duration_ms, s.failed)).collect();
        assert_eq!(
            bars,
            [
                ("fetching PKGBUILD", 1_000, 500, false),
                ("starting container", 1_500, 500, false),
                ("makepkg", 2_000, 2_200, true)
            ]
        );
        let skipped = PackageResult::not_run("b".into(), Outcome::Skipped { reason: "r".into() });
        assert!(skipped.spans(run).is_empty(), "a package that never started has no bar");
    }
}

#[cfg(test)]
mod failure_tests {
    use super::*;

    #[test]
    fn failures_keep_their_kind_and_every_cause() {
        let io = std::io::Error::other("disk full");
        let artifact = ArtifactError::Io { path: "/x/out.tar".into(), source: io };
        let f = Failure::from(package::BuildError::Artifact(artifact));
        assert_eq!(f.kind, FailureKind::CopyOut);
        assert!(f.error.ends_with(": disk full"), "the cause is kept: {}", f.error);
        let f = Failure::from(package::BuildError::Phase { phase: "installing dependencies", code: 1 });
        assert_eq!(f.kind, FailureKind::Dependencies);
        let f = Failure::from(package::BuildError::Phase { phase: "makepkg", code: 4 });
        assert_eq!((f.kind, f.error.as_str()), (FailureKind::Makepkg, "makepkg failed with exit code 4"));
        let f = Failure::from(package::BuildError::Timeout(Duration::from_secs(60)));
        assert_eq!(f.kind, FailureKind::Timeout);
    }
}
