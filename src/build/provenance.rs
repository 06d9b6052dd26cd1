//! Each built package file's provenance (issue 14): written beside the file when its build
//! ends, and said in the pkgbase's build log, so that the file carries where it came from into
//! publishing, `build --out DIR` and `repoctl publish DIR`.
use super::{BuildContext, Failure, FailureKind, append_log};
use crate::plan::{Plan, Step};
use crate::provenance::{AurSource, LockRef, Origin, Provenance};
use crate::trust::CheckedPackage;
use camino::Utf8Path;

/// Writes the provenance of `files`, the checked package files `step` made, beside each one
/// (`FILE.provenance.json`), and one line per file in the build log `log`. Returns the records.
/// Each record states what the check read (name, pkgname, version, SHA-256): the file is not
/// read again. Errors fail the build, so that no file is published without the provenance it
/// was built with: the plan has no locked commit or lock digest for it (kind `lock`), or a
/// record cannot be written (kind `internal`).
pub(super) fn record(
    ctx: &BuildContext,
    plan: &Plan,
    step: &Step,
    files: &[CheckedPackage],
    log: &Utf8Path,
) -> Result<Vec<Provenance>, Failure> {
    let origin = origin(ctx, plan, step)?;
    let mut records = Vec::with_capacity(files.len());
    for file in files {
        let record = file.provenance(&origin);
        record.write_beside(file.path()).map_err(|e| Failure::new(FailureKind::Internal, &e))?;
        records.push(record);
    }
    let lines: String = records.iter().map(|r| format!("==> repoctl: provenance: {}\n", r.line(false))).collect();
    append_log(log, &lines);
    Ok(records)
}

/// What every file of `step`'s build shares: the AUR commit and files hash the lock gave the
/// step, the plan's lock digest, the run's builder image, and now as the build time.
fn origin(ctx: &BuildContext, plan: &Plan, step: &Step) -> Result<Origin, Failure> {
    let base = &step.pkgbase;
    let local = step.local.as_ref().map(|l| l.written.clone());
    let commit = if local.is_some() { Some(String::new()) } else { step.commit.clone() };
    let (Some(commit), Some(files), Some(lock)) = (commit, &step.files_hash, &plan.lock_digest) else {
        let why = format!("{base} has no locked commit and lock digest to record as its provenance");
        return Err(Failure::text(FailureKind::Lock, why));
    };
    Ok(Origin {
        pkgbase: base.clone(),
        aur: AurSource {
            url: match (&local, &step.git) {
                (Some(_), _) => String::new(),
                (None, Some(git)) => git.url.clone(),
                (None, None) => (ctx.git_url)(base),
            },
            commit,
            files: files.clone(),
            path: local,
            git: step
                .git
                .as_ref()
                .map(|g| crate::provenance::GitOrigin { url: g.url.clone(), subdir: g.subdir.clone() }),
            patches: step.patches.locked.clone(),
        },
        lock: LockRef { sha256: lock.clone() },
        builder: ctx.builder.clone(),
        built_at: crate::lock::rfc3339(jiff::Timestamp::now().as_second()),
        // A patched package's dotted pkgrel that the lock itself records (issue 27) is its
        // locked version, not a rebuild: publish DIR takes it, bound by the lock like any other.
        rebuild: step
            .rebuild
            .as_ref()
            .filter(|r| r.why != crate::plan::patches::BUMP_WHY)
            .map(|r| format!("rebuild: {}", r.why)),
    })
}
