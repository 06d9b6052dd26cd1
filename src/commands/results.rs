//! A run's build results as the status object records them (issue 15), and the glue that
//! writes the status object and the repository page after a publish
//! ([`crate::publish::describe_repository`]). Shared by `build` and `publish`: a shard
//! (`build --no-publish --out DIR`) leaves its results in `DIR/repoctl-results-RUN.json` and its
//! build logs in `DIR/logs/`, and `publish DIR` reads every such file it finds. A shard ran AUR
//! code, so what its file says ([`ShardClaim`]) is only shown: what `publish DIR` records of a
//! pkgbase it published, its linkage above all (issue 26), comes from the checked package files
//! ([`publish_entries`]).
use crate::build::{Outcome, PackageResult};
use crate::error::Error;
use crate::plan::Plan;
use crate::publish::status::{BuildLinkage, BuildResult, PackageStatus};
use crate::publish::{Description, Target};
use crate::ui::{Printer, Reporter};
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeMap;

/// pkgbase -> status entry.
pub(crate) type Results = BTreeMap<String, PackageStatus>;

/// What a shard's results file's name starts with.
const RESULTS_PREFIX: &str = "repoctl-results-";

/// The status entries of a run's results: the version made (built) or attempted (the plan's
/// AUR version), the locked commit, and for a failure its kind and the first line of its error.
pub(crate) fn status_entries(
    plan: &Plan,
    results: &[PackageResult],
    run_id: &str,
    official: &crate::official::OfficialRepos,
) -> Results {
    let now = crate::lock::rfc3339(jiff::Timestamp::now().as_second());
    let mut entries = Results::new();
    for r in results {
        let step = plan.step(&r.pkgbase);
        let attempted = step.and_then(|s| s.aur_version.clone());
        let (result, kind, reason, version) = match &r.outcome {
            Outcome::Built { version, .. } => (BuildResult::Built, None, None, Some(version.clone())),
            Outcome::Failed { kind, error, .. } => {
                (BuildResult::Failed, Some(kind.label().to_string()), Some(one_line(error)), attempted)
            }
            Outcome::Skipped { reason } => (BuildResult::Skipped, None, Some(one_line(reason)), attempted),
        };
        let commit = step.and_then(|s| s.commit.clone());
        // What the next `plan --shards` expects this pkgbase to take (issue 28); a skip ran nothing.
        let duration_secs = (result != BuildResult::Skipped).then_some(r.duration.as_secs());
        let entry = PackageStatus {
            result,
            kind,
            reason,
            version,
            commit,
            time: now.clone(),
            run: run_id.into(),
            duration_secs,
            built: None,
            log: None,
            logs: Vec::new(),
            linkage: linkage_of(plan, step, &r.outcome, official),
        };
        entries.insert(r.pkgbase.clone(), entry);
    }
    entries
}

/// The status entries of the plan's steps that cannot be built ([`crate::plan::Action::Blocked`]:
/// a dependency nothing provides, a cycle, a dependency that is blocked or not locked):
/// skipped, of kind `blocked`, with their problems as the reason, so that the page and the
/// status object list them with the failures.
pub(crate) fn blocked_entries(plan: &Plan, run_id: &str) -> Results {
    let now = crate::lock::rfc3339(jiff::Timestamp::now().as_second());
    let blocked = plan.packages.iter().filter(|s| s.action == crate::plan::Action::Blocked);
    blocked
        .map(|step| {
            let problems: Vec<&str> = step.problems.iter().map(|p| p.message.as_str()).collect();
            let reason = one_line(&format!("cannot be built: {}", problems.join("; ")));
            let entry = skipped("blocked", reason, step.aur_version.clone(), step.commit.clone(), (&now, run_id));
            (step.pkgbase.clone(), entry)
        })
        .collect()
}

/// A status entry of a pkgbase this run did not build: skipped, of `kind` (`blocked`, `held`),
/// for `reason`, at `version` and `commit`, recorded at `now` by run `run_id`.
fn skipped(
    kind: &str,
    reason: String,
    version: Option<String>,
    commit: Option<String>,
    (now, run_id): (&str, &str),
) -> PackageStatus {
    let entry = bare(BuildResult::Skipped, version, commit, (now, run_id));
    PackageStatus { kind: Some(kind.to_string()), reason: Some(reason), ..entry }
}

/// A status entry of `result` at `version` and `commit`, of the build that ended at `time` in
/// run `run`, and nothing else (no kind, reason, duration, log or linkage).
fn bare(
    result: BuildResult,
    version: Option<String>,
    commit: Option<String>,
    (time, run): (&str, &str),
) -> PackageStatus {
    PackageStatus {
        result,
        kind: None,
        reason: None,
        version,
        commit,
        time: time.to_string(),
        run: run.to_string(),
        duration_secs: None,
        built: None,
        log: None,
        logs: Vec::new(),
        linkage: None,
    }
}

/// Why a pkgbase that is not locked is not built, as the status object and the page say it.
pub(crate) const HELD_REASON: &str = "not in repoctl.lock: new, or held by `repoctl update` (cooldown, maintainer change, a patch that does not apply); \
run `repoctl update` to review it";

/// The status entries of the plan's pkgbases that are held (issue 29): the AUR has them and
/// repoctl.lock does not ([`Plan::not_locked`]), because `repoctl update` was not run since
/// they were listed or its trust policy held them. Nothing of them is built until they are
/// locked; skipped, of kind `held`, with [`HELD_REASON`] and the AUR's version, so that the
/// page and the status object list them with the failures. (A pkgbase whose lock entry is kept
/// at an older commit is built at that commit: it is not held here.)
pub(crate) fn held_entries(plan: &Plan, run_id: &str) -> Results {
    let now = crate::lock::rfc3339(jiff::Timestamp::now().as_second());
    plan.not_locked()
        .map(|step| {
            let entry = skipped("held", HELD_REASON.to_string(), step.aur_version.clone(), None, (&now, run_id));
            (step.pkgbase.clone(), entry)
        })
        .collect()
}

/// The held entries ([`held_entries`]) that `current` (the status object read, when it is
/// trusted: a forged one that says them already must not keep them from being recorded) does
/// not already say at the same version: what a run with nothing to build records, so that a
/// nightly whose held packages are as they were writes nothing.
pub(crate) fn newly_held(
    plan: &Plan,
    run_id: &str,
    current: Option<&crate::publish::status::TrustedStatus>,
) -> Results {
    let mut held = held_entries(plan, run_id);
    held.retain(|base, new| {
        let old = current.and_then(|c| c.status().packages.get(base));
        !old.is_some_and(|old| old.kind == new.kind && old.reason == new.reason && old.version == new.version)
    });
    held
}

/// What a build's packages need and provide (issue 26), from the files it made and checked
/// ([`BuildLinkage::of_checked`]), with the official databases its plan read (`official`), and
/// why it was rebuilt, when it was (this run's plan says); None for anything but a build.
fn linkage_of(
    plan: &Plan,
    step: Option<&crate::plan::Step>,
    outcome: &Outcome,
    official: &crate::official::OfficialRepos,
) -> Option<BuildLinkage> {
    let Outcome::Built { files, .. } = outcome else { return None };
    let rebuild = step.and_then(|s| s.rebuild.as_ref()).map(|r| format!("rebuild: {}", r.why));
    Some(BuildLinkage::of_checked(files, official, plan.official.clone(), rebuild))
}

/// The first line of `text`, made safe to print ([`crate::ui::sanitize_line`]).
fn one_line(text: &str) -> String {
    crate::ui::sanitize_line(text.lines().next().unwrap_or_default().trim())
}

/// Writes a shard's results beside its package files (`DIR/repoctl-results-RUN.json`), for
/// `publish DIR` to show: what a [`ShardClaim`] holds of each entry (no linkage: `publish
/// DIR` reads that from the package files). Errors: the file cannot be written.
pub(crate) fn write_results_file(dir: &Utf8Path, run_id: &str, results: &Results) -> Result<(), Error> {
    let path = dir.join(format!("{RESULTS_PREFIX}{run_id}.json"));
    let claims: ShardResults = results.iter().map(|(base, entry)| (base.clone(), ShardClaim::from(entry))).collect();
    let text = serde_json::to_string_pretty(&claims).map_err(|e| Error::Usage(e.to_string()))?;
    fs_err::write(&path, text + "\n").map_err(Error::io(format!("cannot write {path}")))
}

/// The folder of a shard's `--out DIR` its build logs are copied to: `DIR/logs/PKGBASE.log`,
/// for `publish DIR` to publish as a build publishes them ([`shard_logs`]).
pub(crate) const SHARD_LOGS: &str = "logs";

/// Copies a shard's build logs (pkgbase -> this run's local log) into `dir` (its `--out DIR`),
/// as `DIR/logs/PKGBASE.log`. Errors: a log cannot be copied.
pub(crate) fn write_shard_logs(dir: &Utf8Path, logs: &BTreeMap<String, Utf8PathBuf>) -> Result<(), Error> {
    let to = dir.join(SHARD_LOGS);
    fs_err::create_dir_all(&to).map_err(Error::io(format!("cannot create {to}")))?;
    for (base, log) in logs {
        let copy = to.join(format!("{base}.log"));
        fs_err::copy(log, &copy).map_err(Error::io(format!("cannot copy {log} to {copy}")))?;
    }
    Ok(())
}

/// The build logs a shard left in `dir` ([`SHARD_LOGS`]) that `publish DIR` publishes:
/// pkgbase -> `DIR/logs/PKGBASE.log`, only for a pkgbase that both the shards' `results` and
/// repoctl.lock (`lock`, whose names are checked pkgbase names) name, and only a regular file
/// (not a symbolic link, which could point at the publish job's credentials). What is read of
/// each is bounded by [`crate::publish::logs::publish`].
pub(crate) fn shard_logs(dir: &Utf8Path, results: &Results, lock: &crate::lock::Lock) -> BTreeMap<String, Utf8PathBuf> {
    let named = results.keys().filter(|base| lock.entries.contains_key(*base));
    let named = named.filter(|base| crate::config::check_package_name(base).is_ok());
    named
        .filter_map(|base| {
            let log = dir.join(SHARD_LOGS).join(format!("{base}.log"));
            let regular = fs_err::symlink_metadata(&log).is_ok_and(|m| m.file_type().is_file());
            regular.then(|| (base.clone(), log))
        })
        .collect()
}

/// pkgbase -> what a shard's results file says of its build ([`ShardClaim`]).
pub(crate) type ShardResults = BTreeMap<String, ShardClaim>;

/// One pkgbase's entry in a shard's results file (`build --no-publish --out DIR`), as `publish
/// DIR` reads it. The shard runner ran AUR code and is not trusted, so this is its word only,
/// and it holds nothing a decision reads: no linkage (issue 26), no log names, no last build.
/// The fields of an older file that had them (`linkage`, `log`, `logs`, `built`) are not read.
/// What `publish DIR` records in their place comes from the package files it checked
/// ([`publish_entries`]). The JSON is [`PackageStatus`]'s, less those fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ShardClaim {
    pub result: BuildResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub version: Option<String>,
    pub commit: Option<String>,
    pub time: String,
    pub run: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
}

impl From<&PackageStatus> for ShardClaim {
    fn from(entry: &PackageStatus) -> ShardClaim {
        let (result, kind, reason) = (entry.result, entry.kind.clone(), entry.reason.clone());
        let (version, commit, time, run) =
            (entry.version.clone(), entry.commit.clone(), entry.time.clone(), entry.run.clone());
        ShardClaim { result, kind, reason, version, commit, time, run, duration_secs: entry.duration_secs }
    }
}

/// Every shard's results found in `dir` (`repoctl-results-*.json`), merged; a pkgbase in two
/// files keeps the later build (by time). Errors: a file cannot be read or is not results.
pub(crate) fn read_results_files(dir: &Utf8Path) -> Result<ShardResults, Error> {
    let mut all = ShardResults::new();
    for entry in fs_err::read_dir(dir).map_err(Error::io(format!("cannot read {dir}")))? {
        let entry = entry.map_err(Error::io(format!("cannot read {dir}")))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(RESULTS_PREFIX) && name.ends_with(".json")) {
            continue;
        }
        let path = dir.join(&name);
        let text = fs_err::read(&path).map_err(Error::io(format!("cannot read {path}")))?;
        let results: ShardResults = serde_json::from_slice(&text)
            .map_err(|e| Error::Usage(format!("{path} is not a repoctl results file: {e}")))?;
        for (base, new) in results {
            if all.get(&base).is_none_or(|old| old.time <= new.time) {
                all.insert(base, new);
            }
        }
    }
    Ok(all)
}

/// What `publish DIR` (run `run_id`) records in the status object, and the pkgbases a shard
/// says it built that this run did not publish (not recorded: their entries stay as they are).
///
/// - Each pkgbase of `published` (NAME's package files this run checked and published, less
///   those a publish left out) as built, from the checked files alone: their version, the
///   commit repoctl.lock (`lock`) locks and their provenance records matched, and their
///   linkage ([`BuildLinkage::of_checked`], with today's official repositories `official`: a
///   soname they hold a library of now is one a later run can find gone). Not a rebuild: a
///   rebuild made elsewhere is refused by the check. Its claim's time, run and duration are
///   kept when the claim is of the same version: shown, and the duration only schedules
///   shards.
/// - Each failure or skip that `claims` (the shards' results files) says of a pkgbase the lock
///   holds, as shown only (its words made safe to print, the lock's commit): a failure keeps
///   the last build's record ([`crate::publish::status::RepoStatus::merge`]).
pub(crate) fn publish_entries(
    claims: &ShardResults,
    published: &[&crate::trust::CheckedPackage],
    lock: &crate::lock::Lock,
    official: &crate::official::OfficialRepos,
    run_id: &str,
) -> (Results, Vec<String>) {
    let now = crate::lock::rfc3339(jiff::Timestamp::now().as_second());
    let mut by_base: BTreeMap<&str, Vec<&crate::trust::CheckedPackage>> = BTreeMap::new();
    for &file in published {
        by_base.entry(file.pkgbase()).or_default().push(file);
    }
    let digest = crate::plan::official_digest(official.sync_db_digests());
    let mut entries = Results::new();
    for (base, files) in by_base {
        let Some(locked) = lock.entries.get(base) else { continue };
        let version = files[0].version().to_string();
        let claim = claims.get(base).filter(|c| c.result == BuildResult::Built && c.version.as_ref() == Some(&version));
        let linkage = BuildLinkage::of_checked(files.iter().copied(), official, Some(digest.clone()), None);
        let (time, run) = claim.map_or((now.clone(), run_id.to_string()), |c| (one_line(&c.time), one_line(&c.run)));
        let entry = bare(BuildResult::Built, Some(version), commit_of(locked), (&time, &run));
        let duration_secs = claim.and_then(|c| c.duration_secs);
        entries.insert(base.to_string(), PackageStatus { duration_secs, linkage: Some(linkage), ..entry });
    }
    let mut unpublished = Vec::new();
    for (base, claim) in claims {
        let Some(locked) = lock.entries.get(base).filter(|_| !entries.contains_key(base)) else { continue };
        if claim.result == BuildResult::Built {
            unpublished.push(base.clone());
            continue;
        }
        entries.insert(base.clone(), shown_claim(claim, locked));
    }
    (entries, unpublished)
}

/// The commit a status entry of `locked`'s pkgbase names: the locked one (None for a `path:`
/// package, which has none).
fn commit_of(locked: &crate::lock::Entry) -> Option<String> {
    (!locked.is_local()).then(|| locked.commit.clone())
}

/// A shard's failure or skip (`claim`) of the pkgbase `locked`, as the status object shows it:
/// its words made safe to print, the lock's commit, and nothing a decision reads.
fn shown_claim(claim: &ShardClaim, locked: &crate::lock::Entry) -> PackageStatus {
    let safe = |text: &Option<String>| text.as_deref().map(one_line);
    let (time, run) = (one_line(&claim.time), one_line(&claim.run));
    let entry = bare(claim.result, safe(&claim.version), commit_of(locked), (&time, &run));
    PackageStatus { kind: safe(&claim.kind), reason: safe(&claim.reason), duration_secs: claim.duration_secs, ..entry }
}

/// Says that the status object found did not verify (`unverified`: why) and was rewritten
/// signed: a warning, unless the run said it already when it read the object (`said`), then a
/// step.
fn say_unverified(unverified: Option<&str>, said: bool, printer: &Printer) {
    let Some(why) = unverified else { return };
    let line = format!("{why}: rewritten signed, without the linkage and digests it recorded");
    if said { printer.step(&line) } else { printer.warn(&line) }
}

/// The published log of each pkgbase this run (`run_id`) did not build, as a link a person can
/// open or paste into an issue: `==> PKGBASE not built: log at URL`.
fn say_failed_logs(status: &crate::publish::status::RepoStatus, run_id: &str, server: &str, printer: &Printer) {
    use crate::publish::status::BuildResult;
    for (base, entry) in &status.packages {
        let Some(log) = entry.log.as_ref().filter(|_| entry.run == run_id && entry.result != BuildResult::Built) else {
            continue;
        };
        printer.step(&format!("{base} not built: log at {server}/{}", crate::publish::logs::href(log)));
    }
}

/// What a run records after publishing (see [`describe`]).
pub(crate) struct Recorded<'a> {
    pub run_id: &'a str,
    pub results: &'a Results,
    /// The pkgbases removed.
    pub forget: &'a [String],
    /// The pkgbases the run's plan knows, None without a plan
    /// ([`crate::publish::status::Update::known`]).
    pub known: Option<&'a [String]>,
    /// The live database as the run read it, when it published nothing
    /// ([`crate::publish::Description::read`]).
    pub read: Option<&'a crate::publish::RemoteRepo>,
    /// The status object as read (and checked) alongside `read`
    /// ([`crate::publish::Description::status`]), or by the run's plan: when it did not verify,
    /// the run has said so already.
    pub status: Option<&'a crate::publish::status::StatusRead>,
    /// Today's official repositories, when the command read them ([`Description::official`]).
    pub official: Option<&'a crate::official::OfficialRepos>,
    /// pkgbase -> this run's local build log ([`Description::logs`]).
    pub logs: &'a BTreeMap<String, Utf8PathBuf>,
    /// How the status object is checked and signed ([`crate::publish::status::Signing`]): the
    /// run's signer in a signed repository.
    pub signing: crate::publish::status::Signing<'a>,
}

/// No build logs: a run that built nothing here (`publish DIR`, `sign`, nothing to build).
pub(crate) const NO_LOGS: &BTreeMap<String, Utf8PathBuf> = &BTreeMap::new();

impl<'a> Recorded<'a> {
    /// What a run without a plan records (`publish DIR`, `sign`, `rollback`): `results`,
    /// nothing removed, no entry dropped for want of a plan, no database read beforehand;
    /// `signing` as the run signs.
    pub fn without_plan(run_id: &'a str, results: &'a Results, signing: crate::publish::status::Signing<'a>) -> Self {
        let (forget, known, read, status, official, logs) = (&[][..], None, None, None, None, NO_LOGS);
        Recorded { run_id, results, forget, known, read, status, official, logs, signing }
    }
}

/// After publishing `repo`: records the run's results in the status object and writes the page
/// ([`crate::publish::describe_repository`]), unless both are current already. A problem is a
/// warning, not a failure: the database is committed and whole, and the next publish writes
/// both again. Ctrl-C or SIGTERM (while another publisher holds a local directory's lock, say)
/// stops it: then the run's containers, when it has `docker`, are removed
/// ([`super::or_interrupt`]), and the error is [`Error::Interrupted`], its only one.
pub(crate) async fn describe(
    config: &crate::config::Config,
    target: &dyn Target,
    recorded: Recorded<'_>,
    scratch: &Utf8Path,
    docker: Option<&crate::docker::Docker>,
    printer: &Printer,
) -> Result<(), Error> {
    debug_assert_eq!(config.sign.is_some(), recorded.signing.signer().is_some(), "a signed repository's signer");
    let aur = crate::aur::location();
    let said_unverified = recorded.status.is_some_and(|s| s.unverified().is_some());
    let description = Description {
        repo: &config.name,
        run_id: recorded.run_id,
        results: recorded.results,
        forget: recorded.forget,
        known: recorded.known,
        signing: recorded.signing,
        aur: &aur,
        read: recorded.read,
        status: recorded.status,
        official: recorded.official,
        logs: recorded.logs,
        keep_logs: usize::try_from(config.logs.keep).unwrap_or(usize::MAX),
    };
    let describing = crate::publish::describe_repository(target, &description, scratch, printer);
    let described = match docker {
        Some(docker) => super::or_interrupt(docker, describing).await?,
        None => tokio::select! {
            described = describing => described,
            () = super::interrupted() => return Err(Error::Interrupted),
        },
    };
    match described {
        Ok(described) => say_described(&config.name, target, &described, (recorded.run_id, said_unverified), printer),
        Err(e) => printer.warn(&format!(
            "the repository is published, but its status object and page were not written: {}",
            crate::cause::chain(&e).join(": ")
        )),
    }
    Ok(())
}

/// Says what [`describe`] wrote of the repository `repo`, for run `run_id`; `said_unverified`:
/// the run already warned that the status object it read does not verify.
fn say_described(
    repo: &str,
    target: &dyn Target,
    described: &crate::publish::Described,
    (run_id, said_unverified): (&str, bool),
    printer: &Printer,
) {
    let (status, page) = (crate::publish::status::object_name(repo), crate::publish::page::PAGE);
    if described.unchanged {
        return printer.info(&format!("{status} and {page} are current: nothing written"));
    }
    if let Some(why) = &described.replaced {
        printer.warn(&format!("replaced an unusable status object: {why}"));
    }
    say_unverified(described.unverified.as_deref(), said_unverified, printer);
    printer.step(&format!(
        "wrote {status}, {page} and {} ({} package(s)) to {}",
        crate::publish::feed::object_name(repo),
        described.packages,
        target.describe()
    ));
    say_failed_logs(&described.status, run_id, &target.public_url(), printer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::page::{Page, render};
    use crate::publish::status::{RepoStatus, RunRef, StatusKey};

    #[test]
    fn a_held_package_is_recorded_with_its_reason_and_listed_on_the_page_once() {
        // Issue 29: `newpkg` is listed but `repoctl update` held it (or was not run): nothing of
        // it is built, and the page says so beside the failures.
        let plan = Plan::new(vec![crate::plan::not_locked_step("newpkg", "2.0-1")]);
        let held = held_entries(&plan, "1764460800-42");
        let entry = &held["newpkg"];
        assert_eq!((entry.result, entry.kind.as_deref()), (BuildResult::Skipped, Some("held")));
        assert_eq!((entry.version.as_deref(), entry.reason.as_deref()), (Some("2.0-1"), Some(HELD_REASON)));
        let json = serde_json::to_value(entry).unwrap();
        assert_eq!((json["result"].as_str(), json["kind"].as_str()), (Some("skipped"), Some("held")), "{json}");

        let run = RunRef { id: "1764460800-42".into(), time: "2026-12-07T06:00:00Z".into() };
        let mut status = RepoStatus::merge(None, "r", run, None, &held, &[]);
        status.packages.get_mut("newpkg").unwrap().time = "2026-12-07T06:00:00Z".into();
        let page = Page {
            repo: "r",
            server: "file:///srv/r",
            signing_key: None,
            aur: "https://aur.archlinux.org",
            entries: &[],
            status: Some(&status),
            generated: "now",
            uninstallable: &[],
            dailies: &[],
        };
        let html = render(&page);
        let section = html.split("<h2>Not built</h2>").nth(1).and_then(|s| s.split("<h2>").next()).unwrap_or_default();
        insta::assert_snapshot!("page_held", section);

        let bytes = serde_json::to_vec(&status).unwrap();
        let read = crate::publish::status::check("r.status.json", Some(&bytes), None, StatusKey::Unsigned);
        assert!(newly_held(&plan, "2", read.trusted()).is_empty(), "already said: a no-op run writes nothing");
        assert_eq!(newly_held(&plan, "2", None).len(), 1, "not said yet");
    }

    #[test]
    fn a_shard_log_is_published_only_for_a_locked_pkgbase_of_its_results_and_only_as_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        let logs = dir.join(SHARD_LOGS);
        fs_err::create_dir_all(&logs).unwrap();
        let secret = dir.join("credentials");
        fs_err::write(&secret, "aws_secret_access_key = x\n").unwrap();
        for base in ["hello", "unlocked", "unlisted"] {
            fs_err::write(logs.join(format!("{base}.log")), "==> repoctl: makepkg\n").unwrap();
        }
        std::os::unix::fs::symlink(&secret, logs.join("linked.log")).unwrap();
        let entry = |name: &str| crate::lock::Entry {
            name: name.into(),
            path: None,
            git: None,
            commit: "a".repeat(40),
            version: "1-1".into(),
            pkgnames: vec![name.into()],
            maintainer: None,
            comaintainers: Vec::new(),
            committed: "2026-12-01T00:00:00Z".into(),
            files: format!("tree-sha256:{}", "0".repeat(64)),
            patches: Vec::new(),
        };
        let lock = crate::lock::Lock {
            entries: ["hello", "linked", "unlisted", "nolog"].map(|n| (n.to_string(), entry(n))).into(),
        };
        let status = held_entries(&Plan::new(vec![crate::plan::not_locked_step("x", "1-1")]), "1")["x"].clone();
        let results: Results =
            ["hello", "unlocked", "linked", "nolog", "../credentials"].map(|b| (b.to_string(), status.clone())).into();
        let found = shard_logs(dir, &results, &lock);
        assert_eq!(found, BTreeMap::from([("hello".to_string(), logs.join("hello.log"))]), "{found:?}");
    }

    /// A lock entry of `name` at version 1.0-1 and commit `a…`.
    fn lock_entry(name: &str) -> crate::lock::Entry {
        crate::lock::Entry {
            name: name.into(),
            path: None,
            git: None,
            commit: "a".repeat(40),
            version: "1.0-1".into(),
            pkgnames: vec![name.into()],
            maintainer: None,
            comaintainers: Vec::new(),
            committed: "2026-12-01T00:00:00Z".into(),
            files: format!("tree-sha256:{}", "0".repeat(64)),
            patches: Vec::new(),
        }
    }

    /// `standapp` 1.0-1, checked: a package whose `usr/bin/standapp` (compiled with the
    /// system's C compiler) links `libstand.so.1`.
    fn standapp(dir: &Utf8Path) -> crate::trust::CheckedPackage {
        let run = |args: &[&str]| {
            let out = std::process::Command::new("cc").current_dir(dir).args(args).output().expect("cc");
            assert!(out.status.success(), "cc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        fs_err::write(dir.join("lib.c"), "int stand(void) { return 1; }\n").unwrap();
        fs_err::write(dir.join("main.c"), "int stand(void);\nint main(void) { return stand(); }\n").unwrap();
        run(&["-shared", "-fPIC", "-Wl,-soname,libstand.so.1", "-o", "libstand.so.1", "lib.c"]);
        run(&["-o", "app", "main.c", dir.join("libstand.so.1").as_str()]);
        let pkginfo = "pkgname = standapp\npkgbase = standapp\npkgver = 1.0-1\narch = x86_64\ndepend = libstand\n";
        let app = fs_err::read(dir.join("app")).unwrap();
        let mut tar = tar::Builder::new(Vec::new());
        for (path, body, mode) in [(".PKGINFO", pkginfo.as_bytes(), 0o644), ("usr/bin/standapp", &app[..], 0o755)] {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(mode);
            header.set_cksum();
            tar.append_data(&mut header, path, body).unwrap();
        }
        let path = dir.join("standapp-1.0-1-x86_64.pkg.tar.zst");
        fs_err::write(&path, zstd::encode_all(tar.into_inner().unwrap().as_slice(), 3).unwrap()).unwrap();
        let declared = crate::trust::Declared {
            pkgbase: "standapp".into(),
            pkgnames: vec!["standapp".into()],
            version: "1.0-1".into(),
            arch: "x86_64".into(),
            vcs: false,
            debug: false,
            bump: None,
        };
        crate::trust::check_file(&path, &declared).unwrap()
    }

    /// The results file a compromised shard runner writes (the attacker review of F5): it says
    /// standapp needs a soname that is gone (a forced rebuild) at a stranger's commit, claims a
    /// build it did not hand over, a failure with a terminal escape in its reason, and a
    /// pkgbase the lock does not hold.
    fn forged_results(dir: &Utf8Path) {
        let forged = serde_json::json!({
            "standapp": {"result": "built", "version": "1.0-1", "commit": "f".repeat(40), "time": "2026-12-07T01:00:00Z",
                "run": "shard-1", "duration_secs": 90,
                "linkage": {"packages": {"standapp": {"depends": [], "provides": [], "needs_sonames": ["libgone.so.7"],
                    "provides_sonames": ["libc.so.6"]}}, "official": null, "official_sonames": ["libgone.so.7"],
                    "rebuild": "rebuild: libgone.so.7 is gone"}},
            "ghost": {"result": "built", "version": "2.0-1", "commit": null, "time": "t", "run": "shard-1"},
            "broken": {"result": "failed", "kind": "makepkg", "reason": "\u{1b}[31mred", "version": "1.0-1",
                "commit": "f".repeat(40), "time": "t", "run": "shard-1"},
            "stranger": {"result": "failed", "version": "1-1", "commit": null, "time": "t", "run": "shard-1"},
        });
        fs_err::write(dir.join("repoctl-results-shard-1.json"), forged.to_string()).unwrap();
    }

    #[test]
    fn publish_dir_records_the_linkage_of_the_checked_files_and_only_shows_a_shards_word() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap();
        let checked = standapp(dir);
        forged_results(dir);
        let claims = read_results_files(dir).unwrap();
        let lock = crate::lock::Lock {
            entries: ["standapp", "ghost", "broken"].map(|n| (n.to_string(), lock_entry(n))).into(),
        };
        let extra = crate::official::testing::sync_db(&[("libstand", "1-1", &[])]);
        let official = crate::official::OfficialRepos::from_sync_dbs(&[("extra".into(), extra)]).unwrap();
        let official = official.with_libraries(&["libstand.so.1", "libc.so.6"]);

        let (entries, unpublished) = publish_entries(&claims, &[&checked], &lock, &official, "publish-run");
        assert_eq!(unpublished, ["ghost"], "a build the shard did not hand over is not recorded");
        assert_eq!(entries.keys().collect::<Vec<_>>(), ["broken", "standapp"], "a stranger is not recorded");
        let built = &entries["standapp"];
        assert_eq!((built.result, built.version.as_deref()), (BuildResult::Built, Some("1.0-1")));
        assert_eq!(built.commit, Some("a".repeat(40)), "the lock's commit, which the provenance record matched");
        assert_eq!((built.time.as_str(), built.duration_secs), ("2026-12-07T01:00:00Z", Some(90)), "shown only");
        let linkage = built.linkage.as_ref().unwrap();
        assert_eq!(linkage.packages(), &BTreeMap::from([("standapp".to_string(), checked.linkage().clone())]));
        assert!(checked.linkage().needs_sonames.contains(&"libstand.so.1".to_string()), "{:?}", checked.linkage());
        assert_eq!(linkage.official_sonames(), ["libc.so.6", "libstand.so.1"], "what official holds today");
        assert_eq!(linkage.official(), Some(crate::plan::official_digest(official.sync_db_digests()).as_str()));
        assert_eq!(linkage.rebuild(), None, "a rebuild made elsewhere is refused by the check");
        let json = serde_json::to_string(&entries).unwrap();
        assert!(!json.contains("libgone") && !json.contains(&"f".repeat(40)), "{json}");
        let broken = &entries["broken"];
        assert_eq!((broken.result, broken.kind.as_deref()), (BuildResult::Failed, Some("makepkg")));
        assert!(!broken.reason.as_deref().unwrap_or_default().contains('\u{1b}'), "{broken:?}");
        assert_eq!((broken.commit.clone(), broken.linkage.as_ref()), (Some("a".repeat(40)), None));

        // A claim of another version lends the build neither its time nor its duration.
        let mut other = claims.clone();
        other.get_mut("standapp").unwrap().version = Some("0.9-1".into());
        let (entries, _) = publish_entries(&other, &[&checked], &lock, &official, "publish-run");
        assert_eq!((entries["standapp"].run.as_str(), entries["standapp"].duration_secs), ("publish-run", None));
        // No claim at all: still recorded as built, from the files.
        let (entries, _) = publish_entries(&ShardResults::new(), &[&checked], &lock, &official, "publish-run");
        assert_eq!(entries["standapp"].linkage.as_ref().map(BuildLinkage::packages), Some(linkage.packages()));
    }
}
