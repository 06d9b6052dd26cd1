//! A run's build results as the status object records them (issue 15), and the glue that
//! writes the status object and the repository page after a publish
//! ([`crate::publish::describe_repository`]). Shared by `build` and `publish`: a shard
//! (`build --no-publish --out DIR`) leaves its results in `DIR/repoctl-results-RUN.json` and its
//! build logs in `DIR/logs/`, and `publish DIR` records every such file it finds.
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
    PackageStatus {
        result: BuildResult::Skipped,
        kind: Some(kind.to_string()),
        reason: Some(reason),
        version,
        commit,
        time: now.to_string(),
        run: run_id.into(),
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

/// What a build's packages need and provide (issue 26), from the files it made, with the
/// official databases its plan read (`official`), the needed sonames they held, and why it was
/// rebuilt, when it was; None for anything but a build.
fn linkage_of(
    plan: &Plan,
    step: Option<&crate::plan::Step>,
    outcome: &Outcome,
    official: &crate::official::OfficialRepos,
) -> Option<BuildLinkage> {
    let Outcome::Built { files, .. } = outcome else { return None };
    let packages: BTreeMap<String, _> = files.iter().map(|f| (f.pkgname().to_string(), f.linkage().clone())).collect();
    let needed = packages.values().flat_map(|l| &l.needs_sonames);
    let mut official_sonames: Vec<String> = needed.filter(|s| official.has_library(s) == Some(true)).cloned().collect();
    official_sonames.sort();
    official_sonames.dedup();
    let rebuild = step.and_then(|s| s.rebuild.as_ref()).map(|r| format!("rebuild: {}", r.why));
    Some(BuildLinkage { packages, official: plan.official.clone(), official_sonames, rebuild })
}

/// The first line of `text`, made safe to print ([`crate::ui::sanitize_line`]).
fn one_line(text: &str) -> String {
    crate::ui::sanitize_line(text.lines().next().unwrap_or_default().trim())
}

/// Writes a shard's results beside its package files (`DIR/repoctl-results-RUN.json`), for
/// `publish DIR` to record. Errors: the file cannot be written.
pub(crate) fn write_results_file(dir: &Utf8Path, run_id: &str, results: &Results) -> Result<(), Error> {
    let path = dir.join(format!("{RESULTS_PREFIX}{run_id}.json"));
    let text = serde_json::to_string_pretty(results).map_err(|e| Error::Usage(e.to_string()))?;
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

/// Every shard's results found in `dir` (`repoctl-results-*.json`), merged; a pkgbase in two
/// files keeps the later build (by time). Errors: a file cannot be read or is not results.
pub(crate) fn read_results_files(dir: &Utf8Path) -> Result<Results, Error> {
    let mut all = Results::new();
    for entry in fs_err::read_dir(dir).map_err(Error::io(format!("cannot read {dir}")))? {
        let entry = entry.map_err(Error::io(format!("cannot read {dir}")))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(RESULTS_PREFIX) && name.ends_with(".json")) {
            continue;
        }
        let path = dir.join(&name);
        let text = fs_err::read(&path).map_err(Error::io(format!("cannot read {path}")))?;
        let results: Results = serde_json::from_slice(&text)
            .map_err(|e| Error::Usage(format!("{path} is not a repoctl results file: {e}")))?;
        for (base, mut new) in results {
            // A log name in a shard's file is not one of ours (its logs are published from
            // `DIR/logs/`, [`shard_logs`], under names this run makes), and a name
            // the status object lists is deleted when dropped (a results file is AUR code's
            // output, the publish job holds the credentials).
            (new.log, new.logs) = (None, Vec::new());
            if all.get(&base).is_none_or(|old| old.time <= new.time) {
                all.insert(base, new);
            }
        }
    }
    Ok(all)
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
}
