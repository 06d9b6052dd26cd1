//! `repoctl build`: plan, build in containers, publish, summarize.
use super::render::{markdown_plan, render_plan};
use super::shared::{DEBUG_SUBDIR, Published, build_context, prepare_image, refresh_image, run_image_and_network};
use crate::aur::AurClient;
use crate::build::{BuildContext, Outcome, PackageResult, RunDirs};
use crate::config::Config;
use crate::docker::Docker;
use crate::error::{Error, ExitStatus};
use crate::plan::Plan;
use crate::publish::{Change, Refused, Target};
use crate::repo::RepoTool;
use crate::trust::CheckedPackage;
use crate::trust::signed::{History, TrustedDb};
use crate::ui::mermaid::{Span, gantt};
use crate::ui::{
    Printer, Reporter, SummaryRow, markdown_provenance, markdown_summary, render_provenance, render_summary,
};
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

/// `--earlier-waves DIR` and the package files checked there, by pkgbase ([`earlier_waves`]).
type EarlierWaves<'a> = Option<(&'a Utf8PathBuf, EarlierFiles)>;

/// `repoctl build`'s arguments besides the config and work directory.
pub struct Options<'a> {
    /// `build PKG…`: only these (pkgnames or pkgbases) and what they need.
    pub only: &'a [String],
    pub no_publish: bool,
    /// `--out DIR` (with `no_publish`).
    pub out: Option<&'a Utf8Path>,
    /// `--earlier-waves DIR` (with `no_publish`): [`earlier_waves`].
    pub earlier_waves: Option<Utf8PathBuf>,
    /// `--rebuild PKG…`: rebuilt from the locked commit with a dotted pkgrel (issue 26).
    pub rebuild: &'a [String],
}

pub async fn build(
    config_path: &Utf8Path,
    work_dir: Option<Utf8PathBuf>,
    options: Options<'_>,
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    // 1. What to do.
    let config = super::load_config(config_path)?;
    let Options { only, no_publish, out, earlier_waves: earlier_dir, rebuild } = options;
    // A wave's inputs are checked before anything else is read: a refused file stops the shard.
    let earlier = match &earlier_dir {
        Some(dir) => Some((dir, checked_earlier_waves(&config, dir, printer).await?)),
        None => None,
    };
    let (run, plan) = Run::plan(&config, work_dir, (only, earlier, rebuild), no_publish, out, printer).await?;
    if plan.to_build().next().is_none() && run.removals.is_empty() && plan.vcs_candidates().next().is_none() {
        // Nothing to build. The live databases verified (Run::plan); a `NAME.db.sig` left stale
        // by a run that stopped or lost a race is put back from the key's own signature of them.
        run.republish_signatures().await?;
        run.describe_unchanged(&plan, None).await?;
        printer.out(&nothing_to_do(&plan, ""));
        return Ok(run.status(false));
    }
    // 2. Docker and the builder image, made once and reused; then this run's image: the synced
    // image, brought up to date only when the mirrors changed since it was.
    let docker = Docker::connect(&run.run_id, &run.dirs.work).await?;
    let logs = &run.dirs.logs;
    let image = run.timeline.time("builder image", prepare_image(&docker, &config, logs, printer));
    let image = image.await?;
    // This run's image, and the network its builds go on, made meanwhile.
    let refresh = refresh_image(&docker, &image, Some(&run.sync_dbs), logs, printer);
    let made = run_image_and_network(&config, &docker, &image, refresh, printer);
    let (network, run_image) = run.timeline.time("image refresh", made).await?;
    let result = run.execute(&docker, &image, &run_image.id, network, plan).await;
    // The run lets go of its image whatever happened; the synced image stays for the next run.
    super::release_run_image(&docker, run_image, printer).await;
    result
}

/// One `repoctl build`: what its steps share.
struct Run<'a> {
    config: &'a Config,
    run_id: String,
    dirs: RunDirs,
    aur: AurClient,
    target: Arc<dyn Target>,
    remote: crate::publish::RemoteRepo,
    /// The live `NAME.db` as the plan read it, trusted: verified under the key when the
    /// repository is signed ([`crate::publish::trust_remote`]), before anything is built on it.
    trusted: TrustedDb,
    /// `NAME-debug.db`, verified alike, when the repository is signed.
    debug_trusted: Option<TrustedDb>,
    /// The databases this work directory committed ([`History`]).
    history: History,
    /// pkgnames the plan takes out of the repository.
    removals: Vec<String>,
    /// `build PKG…`: the plan holds those and what they need, not every pkgbase.
    partial: bool,
    /// Shards (`--no-publish`) never need the key; a publishing run checks it before building.
    signer: Option<crate::sign::Signer>,
    /// The public part of the repository's key ([`super::public_key`]): what the live
    /// databases and the published dependencies were verified with.
    public: Option<crate::sign::PublicKey>,
    no_publish: bool,
    out: Option<&'a Utf8Path>,
    /// Whether the plan has problems (those packages fail, exit 1).
    problems: bool,
    printer: &'a Printer,
    /// When each step of the run began and ended, for the job summary's Gantt chart.
    timeline: Timeline,
    /// The official sync databases the plan read ([`super::Planned::sync_dbs`]).
    sync_dbs: Vec<(String, String)>,
    /// The official repositories the plan read: the publish gate's ([`Change::official`]).
    official: crate::official::OfficialRepos,
    /// Set when the publish gate kept a package this run would have removed (exit 1).
    kept_by_gate: std::sync::atomic::AtomicBool,
    /// The status object as the plan read it, alongside `remote`, and checked
    /// ([`super::Planned::status`]).
    status_object: crate::publish::status::StatusRead,
    /// `--earlier-waves`: the checked files of the pkgbases the plan takes from there.
    earlier: EarlierFiles,
}

impl<'a> Run<'a> {
    /// Reads everything, makes the plan and prints it with its problems.
    async fn plan(
        config: &'a Config,
        work_dir: Option<Utf8PathBuf>,
        (only, earlier, rebuild): (&[String], EarlierWaves<'_>, &[String]),
        no_publish: bool,
        out: Option<&'a Utf8Path>,
        printer: &'a Printer,
    ) -> Result<(Run<'a>, Plan), Error> {
        let timeline = Timeline::start();
        let (signer, public) = keys(config, no_publish)?;
        let work = super::work_dir(config, work_dir);
        let run_id = super::new_run_id();
        let dirs =
            RunDirs::new(&work, &run_id).map_err(Error::io(format!("cannot create the run directory under {work}")))?;
        let aur = AurClient::from_env()?;
        let target = crate::publish::open_target(config).await?;
        let scratch = dirs.run.join("current");
        let key = super::status_key(config, public.as_ref());
        let planned = plan_and_probe(config, (&*target, key, &aur), &work, only, no_publish, &scratch, printer).await?;
        let history = crate::publish::history(&*target, &work);
        let (trusted, debug_trusted) =
            trust_live(config, &*target, &planned.remote, public.as_ref(), &history, &dirs).await?;
        let (plan, taken) = what_to_build(planned.plan, no_publish, earlier, printer);
        let plan = rebuild_requested(plan, rebuild, printer);
        printer.info(render_plan(&plan).trim_end());
        printer.step_summary(&markdown_plan(&plan, &format!("repoctl plan: {}", config.name)));
        let problems = report_problems(config, &plan, &planned.uninstallable, printer);
        let removals = plan.to_remove().flat_map(|s| s.pkgnames.clone()).collect();
        timeline.record("plan", timeline.started);
        let run = Run {
            config,
            run_id,
            dirs,
            aur,
            target,
            remote: planned.remote,
            trusted,
            debug_trusted,
            history,
            removals,
            partial: !only.is_empty(),
            signer,
            public,
            no_publish,
            out,
            problems,
            printer,
            timeline,
            sync_dbs: planned.sync_dbs,
            official: planned.official,
            kept_by_gate: Default::default(),
            status_object: planned.status,
            earlier: taken,
        };
        Ok((run, plan))
    }

    /// The exit status: packages failed, or the plan had problems, or all is well.
    fn status(&self, failed: bool) -> ExitStatus {
        let kept = self.kept_by_gate.load(std::sync::atomic::Ordering::Relaxed);
        if failed || self.problems || kept { ExitStatus::PackagesFailed } else { ExitStatus::Success }
    }

    /// VCS checks, builds, publishing (or `--out`), the summary.
    async fn execute(
        &self,
        docker: &Docker,
        image: &str,
        run_image: &str,
        network: crate::docker::BuildNetwork,
        plan: Plan,
    ) -> Result<ExitStatus, Error> {
        source_caches(docker, &plan).await?;
        let context = self.context(docker, run_image, network, &plan);
        let ctx = Arc::new(self.timeline.time("published dependencies", context).await?);
        // VCS packages the AUR calls up to date may still have moved upstream.
        let probed = Instant::now();
        let probes = super::or_interrupt(docker, crate::build::probe_vcs(&ctx, &plan)).await?;
        if !probes.is_empty() {
            self.timeline.record("VCS pkgver() checks", probed);
        }
        super::shared::record_vcs_checks(&probes, &self.dirs.work, self.printer);
        let plan = crate::plan::apply_vcs(plan, &probes);
        for step in plan.packages.iter().filter(|s| probes.contains_key(&s.pkgbase)) {
            self.printer.step(&format!("{}: {}", step.pkgbase, step.reason));
        }
        let plan = Arc::new(plan);
        if plan.to_build().next().is_none() && self.removals.is_empty() {
            self.describe_unchanged(&plan, Some(docker)).await?;
            self.printer.out(&nothing_to_do(&plan, " (VCS packages included)"));
            return Ok(self.status(false));
        }
        // The publish's repo-add container starts while the builds run, not after them.
        let tool = (!self.no_publish).then(|| RepoTool::started_ahead(docker.clone(), image.to_string()));
        // 3. Builds, stopped cleanly by Ctrl-C or SIGTERM.
        let mut results = super::or_interrupt(docker, crate::build::run(ctx, plan.clone())).await?;
        // The build network goes while the run publishes.
        docker.remove_run_networks_soon();
        self.printer.finish();
        record_mismatches(&plan, &results, &self.dirs, self.printer);
        // A VCS package just built has just been asked: its next check waits its vcs_interval.
        let built_vcs = results.iter().filter(|r| plan.step(&r.pkgbase).is_some_and(|s| s.vcs));
        let built_vcs = built_vcs.filter_map(|r| match &r.outcome {
            Outcome::Built { version, .. } => Some((r.pkgbase.clone(), Ok(version.clone()))),
            _ => None,
        });
        super::shared::record_vcs_checks(&built_vcs.collect(), &self.dirs.work, self.printer);
        // 4. Publish what was built, unless asked not to. A pkgbase whose file name another
        // run's bytes hold was not published: it failed.
        let built = BuiltFiles::of(&results);
        let refused = self.deliver(tool, &plan, &built).await?;
        fail_refused(&mut results, &refused, &self.dirs);
        self.record(docker, &plan, &results).await?;
        // 5. The summary, and the exit code it implies.
        let mut spans = self.timeline.spans();
        spans.extend(results.iter().flat_map(|r| r.spans(self.timeline.started)));
        let chart = gantt(&format!("repoctl build: {}", self.target.describe()), self.timeline.unix_ms, &spans);
        summarize(self.config, &plan, &results, &*self.target, &self.dirs, &chart, self.printer);
        Ok(self.status(!refused.is_empty() || results.iter().any(|r| !matches!(r.outcome, Outcome::Built { .. }))))
    }

    /// Records the run's results: after a publish, in the status object (with the page);
    /// with `--no-publish --out DIR`, in `DIR` for `repoctl publish DIR`. Errors: the results
    /// file cannot be written; interrupted (the run's containers are then removed).
    async fn record(&self, docker: &Docker, plan: &Plan, results: &[PackageResult]) -> Result<(), Error> {
        let entries = super::results::status_entries(plan, results, &self.run_id, &self.official);
        match (self.no_publish, self.out) {
            (true, Some(out)) => {
                super::results::write_shard_logs(out, &run_logs(&entries, &self.dirs))?;
                super::results::write_results_file(out, &self.run_id, &entries)
            }
            (true, None) => Ok(()),
            (false, _) => {
                let forget: Vec<String> = plan.to_remove().map(|s| s.pkgbase.clone()).collect();
                let known = known_pkgbases(plan, self.partial);
                let scratch = self.dirs.run.join("describe");
                let (config, target) = (self.config, &*self.target);
                let mut entries = entries;
                entries.extend(super::results::blocked_entries(plan, &self.run_id));
                entries.extend(super::results::held_entries(plan, &self.run_id));
                let logs = run_logs(&entries, &self.dirs);
                let recorded = super::results::Recorded {
                    run_id: &self.run_id,
                    results: &entries,
                    forget: &forget,
                    known: known.as_deref(),
                    read: None,
                    status: Some(&self.status_object),
                    official: Some(&self.official),
                    logs: &logs,
                    signing: self.signing(),
                };
                super::results::describe(config, target, recorded, &scratch, Some(docker), self.printer).await
            }
        }
    }

    /// With nothing to build: the status object and the page are written again only when they
    /// do not describe the database the plan read with today's page inputs (signing just turned
    /// on or off, another public URL, a repository published before repoctl wrote them), or
    /// when a package is newly held ([`super::results::newly_held`]). A no-op nightly reads the
    /// status object and writes nothing. `docker`: the run's, when it
    /// has containers to remove on Ctrl-C.
    async fn describe_unchanged(&self, plan: &Plan, docker: Option<&Docker>) -> Result<(), Error> {
        // Nothing published yet: no page or status object describing a repository without a
        // database (pacman could not read it).
        if self.no_publish || self.remote.db.is_none() {
            return Ok(());
        }
        let scratch = self.dirs.run.join("describe");
        // Held packages (not locked) are news only when the status object does not say so yet.
        let held = super::results::newly_held(plan, &self.run_id, self.status_object.trusted());
        let logs = run_logs(&held, &self.dirs);
        let known = known_pkgbases(plan, self.partial);
        let recorded = super::results::Recorded {
            run_id: &self.run_id,
            results: &held,
            forget: &[],
            known: known.as_deref(),
            read: Some(&self.remote),
            status: Some(&self.status_object),
            official: Some(&self.official),
            logs: &logs,
            signing: self.signing(),
        };
        super::results::describe(self.config, &*self.target, recorded, &scratch, docker, self.printer).await
    }

    /// How this run signs the status object: with its signer, when the repository is signed.
    fn signing(&self) -> crate::publish::status::Signing<'_> {
        self.signer.as_ref().map_or(crate::publish::status::Signing::Unsigned, crate::publish::status::Signing::Signed)
    }

    /// What every build of the run shares: the published dependency files fetched and checked
    /// against the trusted database; its builds go on `network`.
    async fn context(
        &self,
        docker: &Docker,
        run_image: &str,
        network: crate::docker::BuildNetwork,
        plan: &Plan,
    ) -> Result<BuildContext, Error> {
        let published = Published { target: &*self.target, trusted: &self.trusted, key: self.public.as_ref() };
        let (config, dirs, printer) = (self.config, &self.dirs, self.printer);
        let context = build_context(config, docker, run_image, network, dirs, &self.aur, &published, plan, printer);
        Ok(BuildContext { earlier: self.earlier.clone(), ..context.await? })
    }

    /// Publishes what was built with `tool` (None with `--no-publish`), or with `--no-publish`
    /// leaves it (copied to `--out DIR`). Returns the package files a publish left out
    /// ([`Refused`]: names that hold other bytes, and files the database holds newer).
    async fn deliver(&self, tool: Option<RepoTool>, plan: &Plan, built: &BuiltFiles) -> Result<Vec<Refused>, Error> {
        let began = Instant::now();
        if self.no_publish {
            let printer = self.printer;
            printer.info(&format!("not publishing (--no-publish); package files are in {}", self.dirs.packages));
            if let Some(out) = self.out {
                copy_out(&built.files, out)?;
                if !built.debug.is_empty() {
                    copy_out(&built.debug, &out.join(DEBUG_SUBDIR))?;
                }
                printer.info(&format!("copied {} package file(s) to {out}", built.files.len() + built.debug.len()));
                self.timeline.record("copy to --out", began);
            }
        } else if let Some(tool) = tool.filter(|_| !built.files.is_empty() || !self.removals.is_empty()) {
            let refused = self.publish_built(&tool, plan, built).await?;
            self.timeline.record("publish", began);
            return Ok(refused);
        }
        Ok(Vec::new())
    }

    /// Publishes what a run built: into `NAME`, with the plan's removals and the pkgnames
    /// rebuilt pkgbases no longer make; then debug packages into `NAME-debug`, which loses the
    /// entries of pkgbases that no longer want one (read from `NAME-debug` itself, so an
    /// earlier run that stopped between the two publishes is caught up). Returns the package
    /// files the publishes left out.
    async fn publish_built(&self, tool: &RepoTool, plan: &Plan, built: &BuiltFiles) -> Result<Vec<Refused>, Error> {
        let (config, target, remote) = (self.config, &*self.target, &self.remote);
        let mut remove = self.removals.clone();
        remove.extend(crate::plan::superseded(&remote.entries, &built.pkgnames, plan));
        let debug_name = crate::repo::debug_repo_name(&config.name);
        let debug_db = crate::publish::read_remote(target, &debug_name, &self.dirs.run.join("debug-current")).await?;
        let debug_made: Vec<String> = built.debug.iter().map(|f| f.pkgname().to_string()).collect();
        let debug_remove =
            crate::plan::debug_removals(&debug_db.entries, &remote.entries, plan, &built.pkgnames, &debug_made);
        let mut refused = Vec::new();
        for (repo, add, remove) in [(&config.name, &built.files, remove), (&debug_name, &built.debug, debug_remove)] {
            let (signer, history, official) = (self.signer.as_ref(), &self.history, &self.official);
            let snapshots = (repo == &config.name).then(|| super::snapshots(config, &self.run_id));
            let change = Change { repo, add, remove: &remove, signer, history, official, snapshots };
            let dir = self.dirs.run.join("publish").join(repo);
            let report = super::publish_or_interrupt(target, tool, &change, &dir, self.printer).await?;
            refused.extend(report.refused.iter().cloned());
            if report.uploaded + report.deleted > 0 || repo == &config.name {
                self.printer.step(&format!(
                    "published {repo} to {}: {} object(s) written, {} package file(s) deleted",
                    target.describe(),
                    report.uploaded,
                    report.deleted
                ));
            }
            for downgrade in &report.downgrades {
                self.printer.error(&format!("refused: {downgrade}"));
                refused.push(Refused::from(downgrade));
            }
            // The gate's refusals: an addition is among `refused` (its build fails); a removal
            // it refused keeps the package, and the run exits 1.
            for strand in &report.stranded {
                self.printer.error(&format!("refused by the installability check: {strand}"));
                if matches!(strand.culprit, crate::publish::gate::Culprit::Remove { .. }) {
                    self.kept_by_gate.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        Ok(refused)
    }

    /// With nothing to build: a `NAME.db.sig` (or `NAME-debug.db.sig`) that does not verify the
    /// live database, which verified by the signature the key made for it before its commit, is
    /// replaced by that signature ([`crate::publish::republish_signature`]). Nothing is signed.
    async fn republish_signatures(&self) -> Result<(), Error> {
        let debug_name = crate::repo::debug_repo_name(&self.config.name);
        let repos = std::iter::once((&self.config.name, &self.trusted))
            .chain(self.debug_trusted.as_ref().map(|t| (&debug_name, t)));
        for (repo, trusted) in repos {
            let scratch = self.dirs.run.join("republish").join(repo);
            if crate::publish::republish_signature(&*self.target, repo, trusted, &scratch).await? > 0 {
                self.printer.step(&format!(
                    "{repo}.db.sig did not verify {repo}.db: replaced by the signature this key made for it before its commit"
                ));
            }
        }
        Ok(())
    }
}

/// pkgbase -> its build log in this run (`runs/RUN/logs/PKGBASE.log`), for every status entry
/// the run records: what is published beside the repository ([`crate::publish::logs`]). A
/// package that was not built (a dependency failed, or the plan blocked it) gets a log of one
/// line that says why, which is what the user saw of it. A log that cannot be written is left
/// out (the status object then names none).
fn run_logs(entries: &super::results::Results, dirs: &RunDirs) -> std::collections::BTreeMap<String, Utf8PathBuf> {
    let mut logs = std::collections::BTreeMap::new();
    for (base, entry) in entries {
        let log = dirs.logs.join(format!("{base}.log"));
        if let Some(reason) = entry.reason.as_ref().filter(|_| !log.exists()) {
            let _ = fs_err::write(&log, format!("==> repoctl: {base} was not built: {reason}\n"));
        }
        if log.is_file() {
            logs.insert(base.clone(), log);
        }
    }
    logs
}

/// Every pkgbase of `plan`: what the status object keeps entries of, besides what is published.
/// None for a partial plan (`build PKG…`), which does not know them all.
/// The plan as this run builds it: without the rebuilds of published versions
/// ([`keep_published`], unless `no_publish`), and without what an earlier wave built
/// ([`take_earlier_waves`], whose files are returned by pkgbase).
fn what_to_build(plan: Plan, no_publish: bool, earlier: EarlierWaves<'_>, printer: &Printer) -> (Plan, EarlierFiles) {
    let plan = if no_publish { plan } else { keep_published(plan, printer) };
    let mut taken = BTreeMap::new();
    let plan = match earlier {
        Some((dir, files)) => take_earlier_waves(plan, files, &mut taken, dir, printer),
        None => plan,
    };
    (plan, taken)
}

/// Package files earlier waves built, checked, by pkgbase ([`checked_earlier_waves`]).
type EarlierFiles = BTreeMap<String, Vec<CheckedPackage>>;

/// `--earlier-waves DIR` (issue 28): the package files of `dir` (and its `debug` subdirectory),
/// checked as `publish DIR` checks them ([`super::publish::check_files`]: each against its
/// provenance record and repoctl.lock), by pkgbase; debug packages are left out (nothing
/// installs them). Errors (exit 2, nothing built): `dir` holds no package files, or one is
/// refused — a wave's files that the lock does not vouch for are not installed into a build.
async fn checked_earlier_waves(config: &Config, dir: &Utf8Path, printer: &Printer) -> Result<EarlierFiles, Error> {
    let files = super::publish::dir_package_files(dir)?;
    let lock = crate::lock::Lock::read(&crate::lock::path_beside(&config.path))?;
    let (checked, refused) = super::publish::check_files(config, &lock, files).await?;
    if !refused.is_empty() {
        for r in &refused {
            printer.error(&format!("refused: {}", crate::cause::chain(&r.error).join(": ")));
        }
        return Err(Error::Usage(format!(
            "{} file(s) in {dir} (--earlier-waves) do not match repoctl.lock: nothing is built on them; \
             were the earlier waves built from another commit of this repository?",
            refused.len()
        )));
    }
    let mut by_base: EarlierFiles = BTreeMap::new();
    for package in checked.into_iter().filter(|p| !p.is_debug()) {
        by_base.entry(package.pkgbase().to_string()).or_default().push(package);
    }
    Ok(by_base)
}

/// `plan` with each build of a pkgbase that an earlier wave built (`files`, from `dir`) skipped
/// ([`crate::plan::Reason::EarlierWave`]) and said; those pkgbases' files go into `taken`.
/// The check already bound the files to the lock's version (a VCS package's to its pkgver()).
fn take_earlier_waves(
    mut plan: Plan,
    mut files: EarlierFiles,
    taken: &mut EarlierFiles,
    dir: &Utf8Path,
    printer: &Printer,
) -> Plan {
    use crate::plan::{Action, Reason};
    for step in plan.packages.iter_mut().filter(|s| s.action == Action::Build) {
        let Some(found) = files.remove(&step.pkgbase) else { continue };
        let version = found.first().map_or_else(String::new, |p| p.version().to_string());
        printer.info(&format!("{}: {version} built by an earlier wave ({dir}): not built again", step.pkgbase));
        step.action = Action::Skip;
        step.reason = Reason::EarlierWave { version };
        // Its dependants install these files, not the published ones.
        step.published_files.clear();
        taken.insert(step.pkgbase.clone(), found);
    }
    plan
}

fn known_pkgbases(plan: &Plan, partial: bool) -> Option<Vec<String>> {
    (!partial).then(|| plan.packages.iter().map(|s| s.pkgbase.clone()).collect())
}

/// `plan` without the rebuilds `build PKG` asks of packages already published at their locked
/// version (not VCS ones, whose upstream may have moved): a publish never replaces a package
/// file with other bytes, so such a rebuild could only be refused after it ran. Each is said.
/// With `--no-publish` (a trial build) the rebuild stands: nothing is replaced.
fn keep_published(mut plan: Plan, printer: &Printer) -> Plan {
    use crate::plan::{Action, Reason};
    for step in plan.packages.iter_mut().filter(|s| s.action == Action::Build && !s.vcs) {
        if !matches!(&step.reason, Reason::Requested(why) if **why == Reason::UpToDate) {
            continue;
        }
        step.action = Action::Skip;
        step.reason = Reason::UpToDate;
        let version = step.repo_version.as_deref().unwrap_or("-");
        printer.info(&format!(
            "{}: {version} is published, the version repoctl.lock names: not rebuilt (a published file is never \
             replaced; `repoctl update {}` moves the lock when the AUR has a newer commit)",
            step.pkgbase, step.pkgbase
        ));
    }
    plan
}

/// `plan` with the packages `--rebuild` names rebuilt with a dotted pkgrel
/// ([`crate::plan::rebuild_requested`]); each it cannot rebuild so is said, with why.
fn rebuild_requested(plan: Plan, names: &[String], printer: &Printer) -> Plan {
    let (plan, refused) = crate::plan::rebuild_requested(plan, names);
    for (name, why) in refused {
        printer.warn(&format!(
            "--rebuild {name}: not rebuilt, {why}; only a published package at its locked version is rebuilt so"
        ));
    }
    plan
}

/// The plan ([`super::make_plan`], its status object checked under `key`), made while the
/// store's conditional writes are checked: a store that would let two publishers overwrite
/// each other is refused before anything is built (asked once per work directory; not with
/// `--no-publish`, which writes nothing).
async fn plan_and_probe(
    config: &Config,
    (target, key, aur): (&dyn Target, crate::publish::status::StatusKey<'_>, &AurClient),
    work: &Utf8Path,
    only: &[String],
    no_publish: bool,
    scratch: &Utf8Path,
    printer: &Printer,
) -> Result<super::Planned, Error> {
    let probe =
        async { if no_publish { Ok(()) } else { crate::publish::check_conditional_writes(target, work).await } };
    let (planned, probed) =
        tokio::join!(super::make_plan(config, (target, key), aur, work, only, scratch, printer), probe);
    probed?;
    planned
}

/// The run's signer (none with `--no-publish`), and what verifies the published database and
/// the dependencies the builds install from it: the signer's key, or without one (a shard
/// holds no secret key) its public part, which a signed repository must then name
/// (`sign.public_key`, [`super::public_key`]). Errors: as [`super::signer`] and
/// [`super::public_key`].
fn keys(
    config: &Config,
    no_publish: bool,
) -> Result<(Option<crate::sign::Signer>, Option<crate::sign::PublicKey>), Error> {
    let signer = if no_publish { None } else { super::signer(config)? };
    let public = super::public_key(config, signer.as_ref())?;
    Ok((signer, public))
}

/// The live databases a run builds on, trusted ([`crate::publish::trust_remote`]): `NAME.db` as
/// the plan read it (`remote`), and, in a signed repository (`key`, its key's public part),
/// `NAME-debug.db` read now into the run directory. Errors: one does not verify (nothing is built or written), or the
/// target fails.
async fn trust_live(
    config: &Config,
    target: &dyn Target,
    remote: &crate::publish::RemoteRepo,
    key: Option<&crate::sign::PublicKey>,
    history: &History,
    dirs: &RunDirs,
) -> Result<(TrustedDb, Option<TrustedDb>), Error> {
    let trusted = crate::publish::trust_remote(target, &config.name, remote, key, history).await?;
    let Some(key) = key else { return Ok((trusted, None)) };
    let debug_name = crate::repo::debug_repo_name(&config.name);
    let dir = dirs.run.join("debug-trusted");
    let debug = crate::publish::read_trusted(target, &debug_name, Some(key), history, &dir).await?;
    Ok((trusted, Some(debug.trusted)))
}

/// Marks the build results of pkgbases a publish left out ([`Refused`]) as failed
/// ([`crate::build::FailureKind::Publish`]): built, but not in the repository.
fn fail_refused(results: &mut [PackageResult], refused: &[Refused], dirs: &RunDirs) {
    for r in results.iter_mut() {
        let Some(why) = refused.iter().find(|f| f.pkgbase == r.pkgbase) else { continue };
        r.outcome = Outcome::Failed {
            kind: crate::build::FailureKind::Publish,
            error: format!("built, but not published: {}", why.reason),
            tail: Vec::new(),
            log: dirs.logs.join(format!("{}.log", r.pkgbase)),
            made: None,
        };
    }
}

/// Prints the plan's problems on the repo.yaml lines they concern (annotations in GitHub
/// Actions), then the published packages that no longer install (`uninstallable`, issue 26:
/// [`super::uninstallable_diagnostics`]), then its warnings; true when there is a problem.
fn report_problems(
    config: &Config,
    plan: &Plan,
    uninstallable: &[crate::official::Unsatisfied],
    printer: &Printer,
) -> bool {
    super::print_warnings(plan, printer);
    let mut diags = super::plan_diagnostics(config, plan).0;
    diags.extend(super::uninstallable_diagnostics(config, plan, uninstallable).0);
    for diag in &diags {
        printer.diagnostic(diag);
    }
    !diags.is_empty()
}

/// Keeps, in the work directory, the builds whose PKGBUILD made another version than the
/// locked `.SRCINFO` says (its pkgrel bumped in `.SRCINFO` only, say): they failed
/// (`version-mismatch`, nothing published), and the next plan does not rebuild the same AUR
/// commit ([`crate::plan::Mismatch`]). A pkgbase built now is forgotten. VCS packages are
/// exempt: their pkgver() decides.
fn record_mismatches(plan: &Plan, results: &[PackageResult], dirs: &RunDirs, printer: &Printer) {
    use crate::build::FailureKind;
    let work = &dirs.work;
    let mut changes = std::collections::BTreeMap::new();
    for r in results {
        let Some(step) = plan.step(&r.pkgbase) else { continue };
        match &r.outcome {
            Outcome::Built { .. } => {
                changes.insert(r.pkgbase.clone(), None);
            }
            Outcome::Failed { kind: FailureKind::VersionMismatch, made: Some(made), .. } if !step.vcs => {
                let (Some(said), Some(lm)) = (&step.aur_version, step.last_modified) else { continue };
                let mismatch = crate::plan::Mismatch {
                    last_modified: lm,
                    srcinfo_version: said.clone(),
                    built_version: made.clone(),
                };
                changes.insert(r.pkgbase.clone(), Some(mismatch));
            }
            _ => {}
        }
    }
    let known = crate::plan::read_mismatches(work);
    changes.retain(|base, m| m.is_some() || known.contains_key(base));
    if let Err(e) = crate::plan::update_mismatches(work, &changes) {
        printer.warn(&format!("cannot record version mismatches in {work}: {e}"));
    }
}

/// When each step of a run began and ended, as bars of the job summary's Gantt chart
/// ([`gantt`]); the builds' phases come with their results ([`PackageResult::spans`]).
struct Timeline {
    /// When the run began: the chart's zero.
    started: Instant,
    /// The same moment in Unix milliseconds, where the chart's time axis starts.
    unix_ms: u64,
    spans: Mutex<Vec<Span>>,
}

impl Timeline {
    fn start() -> Timeline {
        let since_epoch = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        let unix_ms = u64::try_from(since_epoch.as_millis()).unwrap_or(0);
        Timeline { started: Instant::now(), unix_ms, spans: Mutex::default() }
    }

    /// Records the run's step `name` as lasting from `began` until now.
    fn record(&self, name: &str, began: Instant) {
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let start_ms = ms(began.saturating_duration_since(self.started));
        let duration_ms = ms(began.elapsed());
        let span = Span { pkgbase: None, name: name.to_string(), start_ms, duration_ms, failed: false };
        if let Ok(mut spans) = self.spans.lock() {
            spans.push(span);
        }
    }

    /// Awaits `step`, recorded as the run's step `name` whatever it returns.
    async fn time<T>(&self, name: &str, step: impl std::future::Future<Output = T>) -> T {
        let began = Instant::now();
        let out = step.await;
        self.record(name, began);
        out
    }

    fn spans(&self) -> Vec<Span> {
        self.spans.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The package files a run made (each checked against the lock), split by the repository they
/// go to.
struct BuiltFiles {
    files: Vec<CheckedPackage>,
    debug: Vec<CheckedPackage>,
    /// pkgbase -> the pkgnames of its new packages (debug packages not included).
    pkgnames: std::collections::BTreeMap<String, Vec<String>>,
}

impl BuiltFiles {
    fn of(results: &[PackageResult]) -> BuiltFiles {
        let mut built = BuiltFiles { files: Vec::new(), debug: Vec::new(), pkgnames: Default::default() };
        for r in results {
            if let Outcome::Built { files, debug_files, .. } = &r.outcome {
                built.pkgnames.insert(r.pkgbase.clone(), files.iter().map(|f| f.pkgname().to_string()).collect());
                built.files.extend(files.iter().cloned());
                built.debug.extend(debug_files.iter().cloned());
            }
        }
        built
    }
}

/// `--out DIR`: the built package files with their signatures and provenance, copied for
/// another machine (`repoctl publish DIR` checks each file against its provenance record and
/// repoctl.lock). Each copy is checked to have the bytes that were checked at the build.
fn copy_out(files: &[CheckedPackage], out: &Utf8Path) -> Result<(), Error> {
    fs_err::create_dir_all(out).map_err(Error::io(format!("cannot create {out}")))?;
    for file in files {
        file.copy_into(out)?;
        let companions =
            crate::repo::tool_signature(file.path()).into_iter().chain(crate::provenance::sidecar_of(file.path()));
        for from in companions {
            let Some(name) = from.file_name() else { continue };
            fs_err::copy(&from, out.join(name)).map_err(Error::io(format!("cannot copy {from} to {out}")))?;
        }
    }
    Ok(())
}

/// The end-of-run summary (terminal table; job summary with the run's Gantt chart `chart`
/// under the table), the build logs as CI groups, and each failure with the end of its log,
/// annotated on its repo.yaml line under Actions.
fn summarize(
    config: &Config,
    plan: &Plan,
    results: &[PackageResult],
    target: &dyn Target,
    dirs: &RunDirs,
    chart: &str,
    printer: &Printer,
) {
    let rows = summary_rows(plan, results);
    let provenance = provenance_lines(results);
    printer.out(&format!(
        "\nSummary ({}):\n{}{}",
        target.describe(),
        render_summary(&rows),
        render_provenance(&provenance)
    ));
    let title = format!("repoctl build: {}", target.describe());
    let timeline = format!("\n#### Timeline\n\n{chart}");
    printer.step_summary(&format!("{}{timeline}{}", markdown_summary(&rows, &title), markdown_provenance(&provenance)));
    if printer.github() {
        for r in results.iter().filter(|r| !matches!(r.outcome, Outcome::Skipped { .. })) {
            let log = dirs.logs.join(format!("{}.log", r.pkgbase));
            if let Some(body) = log_tail_bytes(&log, GROUP_LOG_LIMIT) {
                printer.log_group(&format!("{} build log ({log})", r.pkgbase), &body);
            }
        }
    }
    for r in results {
        if let Outcome::Failed { kind, tail, log, error, .. } = &r.outcome {
            printer.out(&format!("--- {} failed; last lines of {log}:\n{}\n", r.pkgbase, tail.join("\n")));
            if printer.github() {
                // On the repo.yaml line that asked for it, when the package is listed there.
                let message = format!("{} failed to build ({}): {error} (log: {log})", r.pkgbase, kind.label());
                let names = plan.step(&r.pkgbase).map(|s| s.pkgnames.clone()).unwrap_or_default();
                let entry = config.packages.iter().find(|p| p.name == r.pkgbase || names.contains(&p.name));
                match entry {
                    Some(p) => printer.annotate(config.path.as_str(), p.pos.line, p.pos.col, &message),
                    None => printer.error(&message),
                }
            }
        }
    }
}

/// Where each package file of the run's successful builds came from, one abbreviated line each.
fn provenance_lines(results: &[PackageResult]) -> Vec<String> {
    let records = results.iter().flat_map(|r| match &r.outcome {
        Outcome::Built { provenance, .. } => provenance.as_slice(),
        _ => &[],
    });
    records.map(|p| p.line(true)).collect()
}

/// One row per build result, then one per step that was not built (skip, remove, blocked).
fn summary_rows(plan: &Plan, results: &[PackageResult]) -> Vec<SummaryRow> {
    let mut rows: Vec<SummaryRow> = results
        .iter()
        .map(|r| {
            let (status, version, detail) = match &r.outcome {
                Outcome::Built { version, files, .. } => {
                    // A rebuild with a dotted pkgrel says why (issue 26).
                    let rebuild = plan.step(&r.pkgbase).and_then(|s| s.rebuild.as_ref());
                    let why = rebuild.map(|b| format!("; rebuild: {}", b.why)).unwrap_or_default();
                    ("built".to_string(), version.clone(), format!("{} file(s){why}", files.len()))
                }
                Outcome::Failed { kind, error, log, .. } => {
                    (format!("FAILED ({})", kind.label()), "-".into(), format!("{error}; log: {log}"))
                }
                Outcome::Skipped { reason } => ("skipped".to_string(), "-".into(), reason.clone()),
            };
            let duration = format!("{:.1}s", r.duration.as_secs_f64());
            SummaryRow { pkgbase: r.pkgbase.clone(), status, version, duration, detail }
        })
        .collect();
    for step in plan.packages.iter().filter(|s| s.action != crate::plan::Action::Build) {
        rows.push(SummaryRow {
            pkgbase: step.pkgbase.clone(),
            status: step.action.to_string(),
            version: step.repo_version.clone().unwrap_or_else(|| "-".into()),
            duration: "-".into(),
            detail: step.reason.to_string(),
        });
    }
    rows
}

/// At most this much of each build log goes into the CI log; the whole file is in the run's
/// logs directory (kept as an artifact by the nightly workflow).
const GROUP_LOG_LIMIT: u64 = 1 << 20;

/// The last `limit` bytes of a log, as text, starting at a line boundary when cut.
fn log_tail_bytes(path: &Utf8Path, limit: u64) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let start = len.saturating_sub(limit);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Some(if start > 0 {
        let cut = text.find('\n').map(|i| i + 1).unwrap_or(0);
        format!("[... {start} earlier bytes in {path}]\n{}", &text[cut..])
    } else {
        text
    })
}

/// Makes the source cache volume of every pkgbase the plan builds or checks, a few at a time:
/// one daemon round trip each, which a nightly with hundreds of builds would otherwise wait for
/// one after another. Errors: the daemon refuses one.
async fn source_caches(docker: &Docker, plan: &Plan) -> Result<(), crate::docker::DockerError> {
    use futures_util::StreamExt;
    let steps = plan.packages.iter().filter(|s| s.action == crate::plan::Action::Build || s.vcs);
    let made: Vec<_> = futures_util::stream::iter(steps)
        .map(|step| async move {
            docker
                .ensure_volume(&crate::build::source_cache_volume(docker.work_dir(), &step.pkgbase), "source-cache")
                .await
        })
        .buffer_unordered(8)
        .collect()
        .await;
    made.into_iter().collect()
}

/// The line `build` ends with when it builds nothing (`also`: what else it looked at): up to
/// date; or what is not locked and the command that locks it; or, when the plan blocked some
/// packages (their problems printed above), how many.
fn nothing_to_do(plan: &Plan, also: &str) -> String {
    let unlocked: Vec<&str> = plan.not_locked().map(|s| s.pkgbase.as_str()).collect();
    let blocked = plan.with_problems().count();
    if unlocked.is_empty() && blocked == 0 {
        return format!("nothing to do: the repository is up to date{also}");
    }
    let mut parts = Vec::new();
    if !unlocked.is_empty() {
        parts.push(format!("{} package(s) not locked in repoctl.lock ({})", unlocked.len(), unlocked.join(", ")));
    }
    if blocked > 0 {
        parts.push(format!("{blocked} package(s) blocked (see above)"));
    }
    // As before unlocked packages were said: blocked ones alone leave "the rest up to date".
    if unlocked.is_empty() || plan.packages.len() > unlocked.len() + blocked {
        parts.push("the rest up to date".into());
    }
    let mut line = format!("nothing to build: {}{also}", parts.join(", "));
    if !unlocked.is_empty() {
        line.push_str(
            "\n  hint: `repoctl update` locks them at the AUR's current commits, after showing what each lets in; \
             then run `repoctl build`",
        );
    }
    line
}
