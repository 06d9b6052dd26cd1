//! `repoctl status` (issue 15): is the published repository what repo.yaml and repoctl.lock
//! ask for? The plan already answers "what would `build` do" from repo.yaml, the lock, the
//! published database and the AUR; this adds what only the target knows (signatures, the
//! status object's last build of each pkgbase) and turns it into one row per pkgbase and a
//! verdict: in sync (exit 0), or behind / failing / to remove (exit 1).
use crate::alpm::RepoEntry;
use crate::aur::{AurClient, Universe};
use crate::error::{Error, ExitStatus};
use crate::plan::{Action, Plan, Reason, Step};
use crate::publish::status::{BuildResult, PackageStatus, RepoStatus, RunRef};
use crate::ui::{Printer, table};
use camino::{Utf8Path, Utf8PathBuf};

/// Where one pkgbase stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Published at the locked version (or kept: gone from the AUR).
    InSync,
    /// `build` would build it: the lock names a version the repository does not have.
    Behind,
    /// Its last build failed (or was skipped for a failed dependency) and it is still to build.
    Failed,
    /// It cannot be built: a problem a person must fix (`plan` shows it).
    Blocked,
    /// The AUR has it, repoctl.lock does not: `repoctl update` must lock it first.
    NotLocked,
}

/// One pkgbase of the plan, as `status` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Row {
    pub pkgbase: String,
    pub pkgnames: Vec<String>,
    pub state: State,
    /// The published version (None: not published).
    pub published: Option<String>,
    /// The version at the locked AUR commit: what `build` builds.
    pub locked: Option<String>,
    /// The AUR's newest version (its RPC), which `repoctl update` would lock.
    pub aur: Option<String>,
    /// Whether every published package of it carries a signature (None: not published).
    pub signed: Option<bool>,
    /// Its last build, from the status object (None: none recorded).
    pub last: Option<PackageStatus>,
    /// Why it is blocked or not locked: the plan's problems, each with its hint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub why: Vec<String>,
}

/// A published package `build` would remove.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Removal {
    pub pkgname: String,
    pub version: String,
}

/// The counts behind the verdict.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Verdict {
    pub in_sync: bool,
    pub behind: usize,
    pub failed: usize,
    pub blocked: usize,
    pub not_locked: usize,
    pub to_remove: usize,
    /// Published packages with a dependency no repository provides ([`Report::uninstallable`]).
    pub uninstallable: usize,
    /// With `sign:`, published packages without a signature (`repoctl sign --adopt` signs them).
    pub unsigned: usize,
    /// pkgbases whose AUR version is newer than the locked one: not drift (the lock is what a
    /// person let in), but `repoctl update` has something to show.
    pub aur_newer: usize,
    /// The one-line verdict.
    pub text: String,
}

/// Everything `status` prints (`--json`: this, serialized).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub repo: String,
    pub target: String,
    pub verdict: Verdict,
    /// Packages the published database lists.
    pub published: usize,
    /// Whether repo.yaml signs the repository, and whether `NAME.db.sig` is on the target.
    pub signing: bool,
    pub database_signature: bool,
    /// The run that last wrote the status object (None: there is none).
    pub status_object: Option<RunRef>,
    /// Whether the status object describes the live database (false: a run stopped between
    /// its database and its status object; the next publish catches up).
    pub status_current: bool,
    /// Why the status object does not verify under the key, when it does not: its rows are
    /// shown, but a run acts on none of its records, and the next publish rewrites it signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_unverified: Option<String>,
    pub packages: Vec<Row>,
    pub remove: Vec<Removal>,
    /// Each published package's dependency that neither today's official sync databases nor
    /// the repository itself satisfy (issue 26): `pacman -S` refuses that package.
    pub uninstallable: Vec<crate::official::Unsatisfied>,
}

pub async fn status(
    config_path: &Utf8Path,
    work_dir: Option<Utf8PathBuf>,
    json: bool,
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let work = super::work_dir(&config, work_dir);
    let aur = AurClient::from_env()?;
    let target = crate::publish::open_target(&config).await?;
    // Nothing of this outlives the command: the database is read into a temporary directory.
    let (_tmp, scratch) = super::scratch_dir()?;
    let public = super::public_key_if_any(&config)?;
    let key = super::status_key(&config, public.as_ref());
    let planned = super::make_plan(&config, (&*target, key), &aur, &work, &[], &scratch, printer).await?;
    if let Some(why) = planned.status.unusable() {
        printer.warn(&format!("ignoring the status object: {why}"));
    }
    let live_db = match &planned.remote.db {
        Some(db) => Some(fs_err::read(db).map_err(Error::io(format!("cannot read {db}")))?),
        None => None,
    };
    let db_sig = format!("{}.sig", crate::repo::DbNames::new(&config.name).db);
    let database_signature = target.fetch(&db_sig, 64 * 1024).await?.is_some();
    let inputs = Inputs {
        repo: &config.name,
        target: &target.describe(),
        signing: config.sign.is_some(),
        database_signature,
        entries: &planned.remote.entries,
        database: live_db.as_deref().map(crate::publish::status::database_digest),
        status: planned.status.shown(),
        status_unverified: planned.status.unverified(),
        uninstallable: &planned.uninstallable,
    };
    let report = report(&inputs, &planned.plan, &planned.universe);
    if json {
        printer.out(&serde_json::to_string_pretty(&report).map_err(|e| Error::Usage(e.to_string()))?);
    } else {
        printer.out(crate::ui::escape::terminal(&render(&report)).trim_end());
    }
    Ok(if report.verdict.in_sync { ExitStatus::Success } else { ExitStatus::PackagesFailed })
}

/// What the report is made from besides the plan.
pub struct Inputs<'a> {
    pub repo: &'a str,
    pub target: &'a str,
    pub signing: bool,
    pub database_signature: bool,
    /// The published database's entries.
    pub entries: &'a [RepoEntry],
    /// [`crate::publish::status::database_digest`] of the live `NAME.db` (None: there is none).
    pub database: Option<String>,
    /// The status object as read, verified or not: what the rows show.
    pub status: Option<&'a RepoStatus>,
    /// Why it does not verify under the key, when it does not
    /// ([`crate::publish::status::StatusRead::unverified`]): shown, marked, never acted on.
    pub status_unverified: Option<String>,
    /// The published packages' unsatisfied dependencies ([`crate::official::installable`]).
    pub uninstallable: &'a [crate::official::Unsatisfied],
}

/// The report: a pure function of the plan, the AUR's answers and what the target holds.
pub fn report(inputs: &Inputs, plan: &Plan, universe: &Universe) -> Report {
    let packages: Vec<Row> =
        plan.packages.iter().filter(|s| s.action != Action::Remove).map(|s| row(s, inputs, universe)).collect();
    let remove: Vec<Removal> = plan
        .to_remove()
        .flat_map(|s| inputs.entries.iter().filter(|e| e.base == s.pkgbase || s.pkgnames.contains(&e.name)))
        .map(|e| Removal { pkgname: e.name.clone(), version: e.version.clone() })
        .collect();
    let count = |state| packages.iter().filter(|r| r.state == state).count();
    let unsigned = if inputs.signing { packages.iter().filter(|r| r.signed == Some(false)).count() } else { 0 };
    let mut verdict = Verdict {
        in_sync: false,
        behind: count(State::Behind),
        failed: count(State::Failed),
        blocked: count(State::Blocked),
        not_locked: count(State::NotLocked),
        to_remove: remove.len(),
        uninstallable: inputs.uninstallable.iter().map(|u| &u.pkgname).collect::<std::collections::BTreeSet<_>>().len(),
        unsigned,
        aur_newer: packages.iter().filter(|r| aur_is_newer(r)).count(),
        text: String::new(),
    };
    verdict.in_sync = drift(&verdict).is_empty();
    verdict.text = verdict_text(&verdict);
    Report {
        repo: inputs.repo.to_string(),
        target: inputs.target.to_string(),
        verdict,
        published: inputs.entries.len(),
        signing: inputs.signing,
        database_signature: inputs.database_signature,
        status_object: inputs.status.map(|s| s.run.clone()),
        status_current: inputs.status.is_some_and(|s| s.database == inputs.database),
        status_unverified: inputs.status_unverified.clone(),
        packages,
        remove,
        uninstallable: inputs.uninstallable.to_vec(),
    }
}

/// One pkgbase's row.
fn row(step: &Step, inputs: &Inputs, universe: &Universe) -> Row {
    let published: Vec<&RepoEntry> = inputs.entries.iter().filter(|e| e.base == step.pkgbase).collect();
    let last = inputs.status.and_then(|s| s.packages.get(&step.pkgbase)).cloned();
    let aur = step.pkgnames.iter().chain(std::iter::once(&step.pkgbase)).find_map(|n| universe.packages.get(n));
    Row {
        pkgbase: step.pkgbase.clone(),
        pkgnames: step.pkgnames.clone(),
        state: state(step, last.as_ref()),
        published: step.repo_version.clone(),
        locked: step.files_hash.as_ref().and(step.aur_version.clone()),
        aur: aur.map(|p| p.version.clone()),
        signed: (!published.is_empty()).then(|| published.iter().all(|e| e.signed)),
        last,
        why: why(step),
    }
}

/// The plan's problems of a blocked step, or what a step that is not locked needs.
fn why(step: &Step) -> Vec<String> {
    let mut why: Vec<String> = step.problems.iter().map(|p| format!("{} (hint: {})", p.message, p.hint)).collect();
    if why.is_empty() && step.reason == Reason::NotLocked {
        why.push("not locked: run `repoctl update` to review and lock it".into());
    }
    why
}

/// The AUR has a newer version than the locked one.
fn aur_is_newer(row: &Row) -> bool {
    match (&row.aur, &row.locked) {
        (Some(aur), Some(locked)) => crate::alpm::compare_versions(aur, locked).is_gt(),
        _ => false,
    }
}

/// Where a step stands, given its last recorded build.
fn state(step: &Step, last: Option<&PackageStatus>) -> State {
    match step.action {
        Action::Blocked => State::Blocked,
        _ if step.reason == Reason::NotLocked => State::NotLocked,
        // Held (not locked when it was recorded) is no failure: locked since, it is just behind.
        Action::Build if last.is_some_and(|l| l.result != BuildResult::Built && l.kind.as_deref() != Some("held")) => {
            State::Failed
        }
        Action::Build => State::Behind,
        _ => State::InSync,
    }
}

/// "in sync", or the counts that are not zero: "2 behind, 1 failed, 3 to remove"; either way
/// followed by "; 1 newer on the AUR (...)" when `repoctl update` has something to show.
fn verdict_text(v: &Verdict) -> String {
    let mut text = if v.in_sync { "in sync".to_string() } else { drift(v).join(", ") };
    if v.aur_newer > 0 {
        text.push_str(&format!("; {} newer on the AUR (`repoctl update` shows what they let in)", v.aur_newer));
    }
    text
}

/// The counts that are not zero, each as "N what".
fn drift(v: &Verdict) -> Vec<String> {
    [
        (v.behind, "behind"),
        (v.failed, "failed"),
        (v.blocked, "blocked"),
        (v.not_locked, "not locked"),
        (v.to_remove, "to remove"),
        (v.uninstallable, "uninstallable"),
        (v.unsigned, "unsigned"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect()
}

/// The report as text: a header, one row per pkgbase, what would be removed, the verdict last.
pub fn render(report: &Report) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = report
        .packages
        .iter()
        .map(|r| {
            let signed = match r.signed {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            };
            let state = serde_json::to_value(r.state).ok().and_then(|v| v.as_str().map(String::from));
            vec![
                r.pkgbase.clone(),
                state.unwrap_or_default(),
                opt(&r.published),
                opt(&r.locked),
                opt(&r.aur),
                signed.to_string(),
                r.last.as_ref().map_or_else(|| "-".into(), last_build),
            ]
        })
        .collect();
    let mut out = format!("{} at {}: {} package(s) published\n", report.repo, report.target, report.published);
    out.push_str(&table(&["PKGBASE", "STATE", "PUBLISHED", "LOCKED", "AUR", "SIGNED", "LAST BUILD"], &rows));
    for r in &report.packages {
        for why in &r.why {
            out.push_str(&format!("{}: {why}\n", r.pkgbase));
        }
    }
    for r in &report.remove {
        out.push_str(&format!("to remove: {} {} (no longer listed or needed)\n", r.pkgname, r.version));
    }
    out.push_str(&uninstallable_lines(&report.uninstallable));
    if report.signing {
        let sig = if report.database_signature {
            "signed"
        } else {
            "NOT signed (`build` refuses it: run `repoctl sign --adopt`)"
        };
        out.push_str(&format!("database: {sig}\n"));
    }
    out.push_str(&status_object_lines(report));
    out.push_str(&report.verdict.text);
    out.push('\n');
    out
}

/// The run that last wrote the status object, whether it describes the live database, and,
/// when it does not verify under the key, that it is not acted on.
fn status_object_lines(report: &Report) -> String {
    let mut out = match &report.status_object {
        Some(run) if report.status_current => format!("last recorded run: {} at {}\n", run.id, run.time),
        Some(run) => format!(
            "last recorded run: {} at {} (it describes an older database: a run stopped after publishing; the next one records it)\n",
            run.id, run.time
        ),
        None => "last recorded run: none (no status object yet; the next build writes one)\n".to_string(),
    };
    if let Some(why) = &report.status_unverified {
        out.push_str(&format!(
            "status object: UNVERIFIED, {why}: its last builds are shown as recorded, but no run acts on them; the next publish rewrites it signed\n"
        ));
    }
    out
}

/// One line per dependency no repository provides, with its hint.
fn uninstallable_lines(missing: &[crate::official::Unsatisfied]) -> String {
    missing
        .iter()
        .map(|u| {
            format!(
                "uninstallable: {} ({}) depends on {}, which no repository provides (hint: the official repositories dropped it or changed its version; a rebuild of {} cannot help unless its PKGBUILD changes)\n",
                u.pkgname, u.version, u.dependency, u.pkgbase
            )
        })
        .collect()
}

/// `built 1.0-1 at TIME`, `failed (makepkg) 1.1-1 at TIME: reason`, `built 1.0-1.1 at TIME:
/// rebuild: libstand.so.1 is gone`.
fn last_build(last: &PackageStatus) -> String {
    let kind = last.kind.as_ref().map(|k| format!(" ({k})")).unwrap_or_default();
    let version = last.version.as_deref().unwrap_or("-");
    let rebuild = last.linkage.as_ref().and_then(|l| l.rebuild());
    let reason = last.reason.as_deref().or(rebuild).map(|r| format!(": {r}")).unwrap_or_default();
    format!("{}{kind} {version} at {}{reason}", last.result.as_str(), last.time)
}

#[cfg(test)]
mod tests;
