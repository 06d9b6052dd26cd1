//! Each built package file's provenance (issue 14): written beside the file when its build
//! ends, and said in the pkgbase's build log, so that the file carries where it came from into
//! publishing, `build --out DIR` and `repoctl publish DIR`.
use super::{BuildContext, Failure, FailureKind, append_log};
use crate::plan::{Plan, Step};
use crate::provenance::{AurSource, LockRef, Origin, Provenance};
use camino::{Utf8Path, Utf8PathBuf};

/// Writes the provenance of `files`, the package files `step` made, beside each one
/// (`FILE.provenance.json`), and one line per file in the build log `log`. Returns the records.
/// Errors fail the build, so that no file is published without the provenance it was built
/// with: the plan has no locked commit or lock digest for it (kind `lock`), or a file cannot
/// be read or its record written (kind `internal`).
pub(super) async fn record(
    ctx: &BuildContext,
    plan: &Plan,
    step: &Step,
    files: Vec<Utf8PathBuf>,
    log: &Utf8Path,
) -> Result<Vec<Provenance>, Failure> {
    let origin = origin(ctx, plan, step)?;
    // Hashing a package of gigabytes is not work for the runtime's threads.
    let records = tokio::task::spawn_blocking(move || write_beside_each(&origin, &files))
        .await
        .map_err(|e| Failure::text(FailureKind::Internal, format!("recording provenance ended abnormally: {e}")))??;
    let lines: String = records.iter().map(|r| format!("==> repoctl: provenance: {}\n", r.line(false))).collect();
    append_log(log, &lines);
    Ok(records)
}

/// What every file of `step`'s build shares: the AUR commit and files hash the lock gave the
/// step, the plan's lock digest, the run's builder image, and now as the build time.
fn origin(ctx: &BuildContext, plan: &Plan, step: &Step) -> Result<Origin, Failure> {
    let base = &step.pkgbase;
    let (Some(commit), Some(files), Some(lock)) = (&step.commit, &step.files_hash, &plan.lock_digest) else {
        let why = format!("{base} has no locked commit and lock digest to record as its provenance");
        return Err(Failure::text(FailureKind::Lock, why));
    };
    Ok(Origin {
        pkgbase: base.clone(),
        aur: AurSource { url: (ctx.git_url)(base), commit: commit.clone(), files: files.clone() },
        lock: LockRef { sha256: lock.clone() },
        builder: ctx.builder.clone(),
        built_at: crate::lock::rfc3339(jiff::Timestamp::now().as_second()),
    })
}

fn write_beside_each(origin: &Origin, files: &[Utf8PathBuf]) -> Result<Vec<Provenance>, Failure> {
    files
        .iter()
        .map(|file| {
            let record = origin.record(file).map_err(|e| Failure::new(FailureKind::Internal, &e))?;
            record.write_beside(file).map_err(|e| Failure::new(FailureKind::Internal, &e))?;
            Ok(record)
        })
        .collect()
}
