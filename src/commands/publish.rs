//! `repoctl publish DIR`: add package files built elsewhere (a shard, `build --no-publish`).
//! Every file is checked as a build checks what it made, against its provenance record and
//! repoctl.lock ([`crate::trust::check_directory`]): what the lock does not vouch for is
//! refused and named, and the rest is published.
use super::shared::{DEBUG_SUBDIR, prepare_image};
use crate::build::RunDirs;
use crate::config::Config;
use crate::docker::Docker;
use crate::error::{Error, ExitStatus};
use crate::publish::{Change, Refused};
use crate::repo::RepoTool;
use crate::trust::signed::History;
use crate::trust::{CheckedPackage, Declared, Locked, Refusal};
use crate::ui::{Printer, Reporter};
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeMap;

pub async fn publish(
    config_path: &Utf8Path,
    work_dir: Option<Utf8PathBuf>,
    dir: &Utf8Path,
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let signer = super::signer(&config)?;
    let files = dir_package_files(dir)?;
    // The shards' results files, read (and refused when damaged) before anything is written:
    // their word is shown, never recorded as linkage ([`super::results::ShardClaim`]).
    let claims = super::results::read_results_files(dir)?;
    let lock = crate::lock::Lock::read(&crate::lock::path_beside(&config.path))?;
    let setup = set_up(&config, work_dir, signer.as_ref(), (&files, claims.is_empty()), printer).await?;
    let (files, already) = leave_out_listed(files, &setup.listed, printer);
    // Something to add: its repo-add container starts while the files are checked.
    let tool = match files.is_empty() {
        true => RepoTool::new(setup.docker.clone(), setup.image.clone()),
        false => RepoTool::started_ahead(setup.docker.clone(), setup.image.clone()),
    };
    let (checked, refused) = check_files(&config, &lock, files).await?;
    let failures = refuse(&refused, &lock, &setup.run_id, printer);
    let (debug, packages): (Vec<CheckedPackage>, Vec<CheckedPackage>) =
        checked.into_iter().partition(CheckedPackage::is_debug);
    if packages.is_empty() && debug.is_empty() && already.is_empty() {
        printer.error(&format!("nothing in {dir} can be published"));
        return Ok(ExitStatus::PackagesFailed);
    }
    let repos = [(config.name.clone(), packages), (crate::repo::debug_repo_name(&config.name), debug)];
    let Setup { run_id, dirs, target, history, listed, docker, official, status, .. } = setup;
    let snapshots = super::snapshots(&config, &run_id);
    let keys = (signer.as_ref(), &history, &official, snapshots);
    let (unchanged, left_out) = publish_repos(&*target, &tool, &repos, keys, &dirs, printer).await?;
    let failed = !refused.is_empty() || !left_out.is_empty();
    let results = to_record(&claims, &repos[0].1, (&lock, &official), (failures, &left_out), &run_id, printer);
    // Nothing was published to NAME: the database read above is still the one to describe.
    let unchanged = if repos[0].1.is_empty() { Some(listed.main) } else { unchanged };
    // What the shards' builds did, then the page, after the database. Nothing new in the
    // database and no results: the status object and page may be current.
    let plain = super::results::Recorded::without_plan(&run_id, &results, signing(signer.as_ref()));
    let recorded = super::results::Recorded {
        logs: &super::results::shard_logs(dir, &results, &lock),
        read: unchanged.as_ref(),
        status: status.as_ref(),
        official: Some(&official),
        ..plain
    };
    let scratch = dirs.run.join("describe");
    super::results::describe(&config, &*target, recorded, &scratch, Some(&docker), printer).await?;
    say_taken(&left_out, printer);
    Ok(if failed { ExitStatus::PackagesFailed } else { ExitStatus::Success })
}

/// What this run (`run_id`) records in the status object: each pkgbase of `main` (NAME's
/// checked package files) that the publish did not leave out (`left_out`), as built, from
/// those files ([`super::results::publish_entries`], with repoctl.lock and today's official
/// repositories); each failure or skip the shards' results files (`claims`) say, shown only;
/// then the check's `failures` and the pkgbases left out, as failed. A pkgbase a results file
/// says was built but whose files this run did not publish is said and not recorded.
fn to_record(
    claims: &super::results::ShardResults,
    main: &[CheckedPackage],
    (lock, official): (&crate::lock::Lock, &crate::official::OfficialRepos),
    (failures, left_out): (super::results::Results, &[Refused]),
    run_id: &str,
    printer: &Printer,
) -> super::results::Results {
    let published: Vec<&CheckedPackage> =
        main.iter().filter(|p| !left_out.iter().any(|r| r.pkgbase == p.pkgbase())).collect();
    let (mut results, unpublished) = super::results::publish_entries(claims, &published, lock, official, run_id);
    for base in unpublished {
        printer.step(&format!(
            "{base}: its results file says it was built, but this run published none of its package files: not recorded"
        ));
    }
    results.extend(failures);
    record_refused(&mut results, left_out, run_id);
    results
}

/// What a publish of a directory works with, made ready at once.
struct Setup {
    run_id: String,
    dirs: RunDirs,
    target: std::sync::Arc<dyn crate::publish::Target>,
    history: History,
    /// The live databases, read before any package file is.
    listed: Listed,
    docker: Docker,
    /// The builder image repo-add runs in.
    image: String,
    /// The official repositories, for the publish gate (issue 26) and the page.
    official: crate::official::OfficialRepos,
    /// The status object and its signature, read and checked when the run has no results to
    /// record: it may be current already (when it verifies), and a re-publish with nothing new
    /// then waits for no further round trip. A failed read is left to the describe step to
    /// repeat and report.
    status: Option<crate::publish::status::StatusRead>,
}

/// Makes the run's directories and reads the live databases `files` go to (and the status
/// object, when `no_results`) while Docker, the builder image and the official repositories
/// (the gate's, issue 26) are made ready, so a publish of new files waits for no extra round
/// trip and a no-op re-publish reads no package file ([`leave_out_listed`]). Errors: the
/// target, Docker, a database that does not verify, the official repositories.
async fn set_up(
    config: &Config,
    work_dir: Option<Utf8PathBuf>,
    signer: Option<&crate::sign::Signer>,
    (files, no_results): (&[Utf8PathBuf], bool),
    printer: &Printer,
) -> Result<Setup, Error> {
    let run_id = super::new_run_id();
    let work = super::work_dir(config, work_dir);
    let dirs =
        RunDirs::new(&work, &run_id).map_err(Error::io(format!("cannot create the run directory under {work}")))?;
    let target = crate::publish::open_target(config).await?;
    let history = crate::publish::history(&*target, &work);
    let listed_dir = dirs.run.join("listed");
    let status = async {
        match no_results {
            true => crate::publish::status::read(&*target, &config.name, signing(signer).key()).await.ok(),
            false => None,
        }
    };
    let (listed, tool, official, status) = tokio::join!(
        listed_files(&*target, &config.name, files, (signer, &history), &listed_dir),
        repo_image(config, &*target, (&work, &run_id), &dirs, printer),
        super::official_repos(config, &work, printer),
        status,
    );
    let (listed, (docker, image), official) = (listed?, tool?, official?);
    if let Some(warning) = status.as_ref().and_then(crate::publish::status::StatusRead::warning) {
        printer.warn(&warning);
    }
    Ok(Setup { run_id, dirs, target, history, listed, docker, image, official, status })
}

/// How a publish signs the status object: with `signer`, when the repository is signed.
fn signing(signer: Option<&crate::sign::Signer>) -> crate::publish::status::Signing<'_> {
    signer.map_or(crate::publish::status::Signing::Unsigned, crate::publish::status::Signing::Signed)
}

/// The package files of `dir` and of its `debug` subdirectory (`build --out DIR` puts debug
/// packages there: they go to the NAME-debug repository). Errors: none there, or unreadable.
pub(super) fn dir_package_files(dir: &Utf8Path) -> Result<Vec<Utf8PathBuf>, Error> {
    let mut files = package_files(dir)?;
    let debug_dir = dir.join(DEBUG_SUBDIR);
    if debug_dir.is_dir() {
        files.extend(package_files(&debug_dir)?);
    }
    if files.is_empty() {
        return Err(Error::Usage(format!("{dir} holds no package files (*.pkg.tar.*)")));
    }
    Ok(files)
}

/// Docker for run `run_id` and the builder image repo-add runs in (`dirs` holds its log),
/// made ready while the store's conditional writes are checked (once per work directory
/// `work`): a store that ignores them is refused before anything is written. Errors: Docker,
/// the image, the probe.
async fn repo_image(
    config: &Config,
    target: &dyn crate::publish::Target,
    (work, run_id): (&Utf8Path, &str),
    dirs: &RunDirs,
    printer: &Printer,
) -> Result<(Docker, String), Error> {
    let docker = Docker::connect(run_id, work).await?;
    let probe = crate::publish::check_conditional_writes(target, work);
    let (image, probed) = tokio::join!(prepare_image(&docker, config, &dirs.logs, printer), probe);
    probed?;
    Ok((docker, image?))
}

/// The live databases a publish of `files` adds to, read and trusted as a publish reads them
/// ([`crate::publish::read_trusted`], into `dir`): NAME's, and NAME-debug's when `files` has
/// any in the `debug` subdirectory.
struct Listed {
    main: crate::publish::RemoteRepo,
    debug: Option<crate::publish::RemoteRepo>,
}

/// Reads [`Listed`] for `files`. `keys`: the signer, if any, and the work directory's history,
/// which a database must verify against. Errors: the target, or a database that does not verify.
async fn listed_files(
    target: &dyn crate::publish::Target,
    repo: &str,
    files: &[Utf8PathBuf],
    keys: (Option<&crate::sign::Signer>, &History),
    dir: &Utf8Path,
) -> Result<Listed, Error> {
    let (signer, history) = keys;
    let signer = signer.map(crate::sign::Signer::public);
    let has_debug = files.iter().any(|f| is_in_debug_dir(f));
    let debug_repo = crate::repo::debug_repo_name(repo);
    let (main_dir, debug_dir) = (dir.join(repo), dir.join(&debug_repo));
    let main = crate::publish::read_trusted(target, repo, signer, history, &main_dir);
    let debug = async {
        match has_debug {
            true => crate::publish::read_trusted(target, &debug_repo, signer, history, &debug_dir).await.map(Some),
            false => Ok(None),
        }
    };
    let (main, debug) = tokio::try_join!(main, debug)?;
    Ok(Listed { main: main.remote, debug: debug.map(|d| d.remote) })
}

/// Whether `file` is in a `build --out` directory's `debug` subdirectory (NAME-debug's files).
fn is_in_debug_dir(file: &Utf8Path) -> bool {
    file.parent().and_then(Utf8Path::file_name) == Some(DEBUG_SUBDIR)
}

/// Splits `files` into those to check and publish, and those whose file names the live
/// database they go to already lists: a publish never replaces a listed file (the same name is
/// the same pkgname and version; a different build needs a higher pkgrel), so those are left
/// as they are, and their bytes are neither read nor checked; each is said on `printer`. Both
/// in `files`' order.
fn leave_out_listed(
    files: Vec<Utf8PathBuf>,
    listed: &Listed,
    printer: &Printer,
) -> (Vec<Utf8PathBuf>, Vec<Utf8PathBuf>) {
    let names = |remote: Option<&crate::publish::RemoteRepo>| -> std::collections::BTreeSet<String> {
        remote.map(|r| r.entries.iter().map(|e| e.filename.clone()).collect()).unwrap_or_default()
    };
    let (main, debug) = (names(Some(&listed.main)), names(listed.debug.as_ref()));
    let (files, already): (Vec<Utf8PathBuf>, Vec<Utf8PathBuf>) = files.into_iter().partition(|f| {
        let name = f.file_name().unwrap_or_default();
        !if is_in_debug_dir(f) { debug.contains(name) } else { main.contains(name) }
    });
    for file in &already {
        printer.step(&format!(
            "not replacing {}: already published (bump pkgrel to publish a different build)",
            file.file_name().unwrap_or_default()
        ));
    }
    (files, already)
}

/// Says what to do about each package file left out because its name holds other bytes.
fn say_taken(left_out: &[Refused], printer: &Printer) {
    for r in left_out.iter().filter(|r| r.taken) {
        printer.error(&format!(
            "{} was not published: {} (if no other run is publishing, delete {} and its .sig and .provenance.json, then publish again)",
            r.pkgbase, r.reason, r.file
        ));
    }
}

/// Checks `files` against their provenance records and `lock` on a blocking thread (it reads
/// every byte): the files accepted, and the refusals. Errors: the check ended abnormally.
pub(super) async fn check_files(
    config: &Config,
    lock: &crate::lock::Lock,
    files: Vec<Utf8PathBuf>,
) -> Result<(Vec<CheckedPackage>, Vec<Refusal>), Error> {
    let locked: BTreeMap<String, Locked> = lock.entries.values().map(|e| (e.name.clone(), locked(config, e))).collect();
    let (started, count) = (std::time::Instant::now(), files.len());
    let checked =
        tokio::task::spawn_blocking(move || crate::trust::check_directory(&files, &|base| locked.get(base).cloned()))
            .await
            .map_err(|e| Error::Usage(format!("checking the package files ended abnormally: {e}")));
    tracing::debug!("checking {count} package file(s): {:.3} s", started.elapsed().as_secs_f64());
    checked
}

/// What repoctl.lock's `entry` lets in, with repo.yaml's settings for its pkgbase (its entry's,
/// found by pkgbase or by one of its pkgnames, else the builder's), as a build would check it.
fn locked(config: &Config, entry: &crate::lock::Entry) -> Locked {
    let listed = config.packages.iter().find(|p| p.name == entry.name || entry.pkgnames.contains(&p.name));
    let vcs =
        listed.map_or_else(|| crate::config::VCS_SUFFIXES.iter().any(|s| entry.name.ends_with(s)), |p| p.is_vcs());
    let declared = Declared {
        pkgbase: entry.name.clone(),
        pkgnames: entry.pkgnames.clone(),
        version: entry.version.clone(),
        arch: config.arch.clone(),
        vcs,
        debug: listed.and_then(|p| p.debug).unwrap_or(config.builder.debug),
        bump: None,
    };
    Locked { declared, commit: entry.commit.clone(), files: entry.files.clone(), patches: entry.patches.clone() }
}

/// Says every refusal, and returns each refused pkgbase that repoctl.lock holds as a failure
/// of kind `package-check` (so the status object does not call a shard's build of it
/// published), recorded by run `run_id`.
fn refuse(refused: &[Refusal], lock: &crate::lock::Lock, run_id: &str, printer: &Printer) -> super::results::Results {
    use crate::publish::status::{BuildResult, PackageStatus};
    let now = crate::lock::rfc3339(jiff::Timestamp::now().as_second());
    let mut failures = super::results::Results::new();
    for r in refused {
        let why = crate::cause::chain(&r.error).join(": ");
        printer.error(&format!("refused: {why}"));
        // A pkgbase the lock does not hold is not one of this repository's: nothing to record.
        let Some(entry) = r.pkgbase.as_ref().and_then(|base| lock.entries.get(base)) else { continue };
        let status = PackageStatus {
            result: BuildResult::Failed,
            kind: Some(crate::build::FailureKind::PackageCheck.label().to_string()),
            reason: Some(crate::ui::sanitize_line(&why)),
            version: Some(entry.version.clone()),
            commit: (!entry.is_local()).then(|| entry.commit.clone()),
            time: now.clone(),
            run: run_id.to_string(),
            duration_secs: None,
            built: None,
            log: None,
            logs: Vec::new(),
            linkage: None,
        };
        failures.insert(entry.name.clone(), status);
    }
    failures
}

/// Records the pkgbases a publish left out ([`Refused`]) as failed in `results`, the status
/// object's entries this run writes (run `run_id`).
fn record_refused(results: &mut super::results::Results, refused: &[Refused], run_id: &str) {
    use crate::publish::status::{BuildResult, PackageStatus};
    let now = crate::lock::rfc3339(jiff::Timestamp::now().as_second());
    for r in refused {
        let entry = results.entry(r.pkgbase.clone()).or_insert_with(|| PackageStatus {
            result: BuildResult::Failed,
            kind: None,
            reason: None,
            version: None,
            commit: None,
            time: now.clone(),
            run: run_id.to_string(),
            duration_secs: None,
            built: None,
            log: None,
            logs: Vec::new(),
            linkage: None,
        });
        entry.result = BuildResult::Failed;
        entry.kind = Some(crate::build::FailureKind::Publish.label().to_string());
        entry.reason = Some(format!("built, but not published: {}", r.reason));
    }
}

/// Publishes each repository's package files (`repos`: NAME, then NAME-debug; one without
/// files is left alone) with `keys` (the signer, if any, the work directory's history, the
/// official repositories, and how NAME keeps snapshots),
/// saying what each publish wrote and what it refused to add (a file older than the
/// database's: [`crate::publish::Downgrade`]). Returns NAME's database as read when that
/// publish changed nothing ([`crate::publish::PublishReport::unchanged`]), and the package
/// files the publishes left out ([`Refused`]: the database holds them newer, or their names
/// hold other bytes). Errors: a publish fails or is interrupted.
async fn publish_repos(
    target: &dyn crate::publish::Target,
    tool: &RepoTool,
    repos: &[(String, Vec<CheckedPackage>); 2],
    keys: (Option<&crate::sign::Signer>, &History, &crate::official::OfficialRepos, crate::publish::Snapshots<'_>),
    dirs: &RunDirs,
    printer: &Printer,
) -> Result<(Option<crate::publish::RemoteRepo>, Vec<Refused>), Error> {
    let (mut unchanged, mut refused) = (None, Vec::new());
    let (signer, history, official, snapshots) = keys;
    for (i, (repo, add)) in repos.iter().enumerate().filter(|(_, (_, add))| !add.is_empty()) {
        // Only NAME keeps history (repos[0]); NAME-debug does not.
        let snapshots = (i == 0).then_some(snapshots);
        let change = Change { repo, add, remove: &[], signer, history, official, snapshots };
        let dir = dirs.run.join("publish").join(repo);
        let report = super::publish_or_interrupt(target, tool, &change, &dir, printer).await?;
        for downgrade in &report.downgrades {
            printer.error(&format!("refused: {downgrade}"));
        }
        for strand in &report.stranded {
            printer.error(&format!("refused by the installability check: {strand}"));
        }
        let left_out = |p: &&CheckedPackage| {
            report.downgrades.iter().any(|d| d.pkgbase == p.pkgbase())
                || report.refused.iter().any(|r| r.pkgbase == p.pkgbase())
        };
        printer.step(&format!(
            "published {} package file(s) to {repo} at {} ({} object(s) written)",
            add.iter().filter(|p| !left_out(p)).count(),
            target.describe(),
            report.uploaded
        ));
        if i == 0 {
            unchanged = report.unchanged;
        }
        refused.extend(report.downgrades.iter().map(Refused::from));
        refused.extend(report.refused);
    }
    Ok((unchanged, refused))
}

/// `*.pkg.tar.*` files in `dir`, signatures excluded (they travel with their package).
fn package_files(dir: &Utf8Path) -> Result<Vec<Utf8PathBuf>, Error> {
    let entries = fs_err::read_dir(dir).map_err(Error::io(format!("cannot read {dir}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io(format!("cannot read {dir}")))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if crate::alpm::is_package_file(&name) && entry.file_type().is_ok_and(|t| t.is_file()) {
            files.push(dir.join(name));
        }
    }
    files.sort();
    Ok(files)
}
