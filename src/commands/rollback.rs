//! `repoctl rollback ID` (issue 29): puts the repository back as the publish `ID` left it
//! ([`crate::publish::rollback`]), then writes the status object and the page for it, and says
//! which pkgbases it holds and how to let them go.
use crate::error::{Error, ExitStatus};
use crate::publish::rollback::{Outcome, Request};
use crate::ui::Printer;
use camino::{Utf8Path, Utf8PathBuf};

/// Rolls the repository `config_path` describes back to the snapshot `id`. Needs the signing
/// key in a signed repository (the snapshot is verified under it). Exit 0 when rolled back or
/// already there. Errors: repo.yaml, the key, a snapshot that cannot be used or trusted, a
/// publish that committed meanwhile (nothing written), the target.
pub(crate) async fn rollback(
    config_path: &Utf8Path,
    work_dir: Option<Utf8PathBuf>,
    id: &str,
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let signer = super::signer(&config)?;
    let lock = super::read_lock(&config)?;
    let work = super::work_dir(&config, work_dir);
    let target = crate::publish::open_target(&config).await?;
    crate::publish::check_conditional_writes(&*target, &work).await?;
    let history = crate::publish::history(&*target, &work);
    let run_id = super::new_run_id();
    let (_tmp, scratch) = super::scratch_dir()?;
    let request =
        Request { repo: &config.name, id, signer: signer.as_ref(), history: &history, lock: &lock, run_id: &run_id };
    let dir = scratch.join("rollback");
    let outcome = tokio::select! {
        outcome = crate::publish::rollback::rollback(&*target, &request, &dir, printer) => outcome?,
        () = super::interrupted() => return Err(Error::Interrupted),
    };
    let db = format!("{}.db", config.name);
    if outcome.unchanged {
        printer.info(&format!("{db} at {} is already the database of {id}: nothing written", target.describe()));
        return Ok(ExitStatus::Success);
    }
    printer.out(&said(&outcome, &db, &target.describe()));
    let results = super::results::Results::new();
    let signing =
        signer.as_ref().map_or(crate::publish::status::Signing::Unsigned, crate::publish::status::Signing::Signed);
    let recorded = super::results::Recorded::without_plan(&run_id, &results, signing);
    super::results::describe(&config, &*target, recorded, &scratch.join("describe"), None, printer).await?;
    Ok(ExitStatus::Success)
}

/// What a rollback tells the user: what the repository has again and no longer, and the holds
/// with how to move them. Escaped for the terminal (versions come from the bucket).
pub(crate) fn said(outcome: &Outcome, db: &str, target: &str) -> String {
    let snapshot = &outcome.snapshot;
    let mut out = format!("rolled {db} at {target} back to {} ({})\n", snapshot.id, snapshot.time);
    for v in &outcome.added {
        out.push_str(&format!("  + {} {}\n", v.pkgname, v.version));
    }
    for v in &outcome.removed {
        out.push_str(&format!("  - {} {}\n", v.pkgname, v.version));
    }
    if let Some(kept) = &outcome.kept {
        out.push_str(&format!(
            "kept as {kept}: to undo it, roll back to the publish listed under it in `repoctl history`\n"
        ));
    }
    if !outcome.held.is_empty() {
        out.push_str("held, so that `repoctl build` does not publish again what this took away, until their lock entries move:\n");
        for (base, hold) in &outcome.held {
            let commit = &hold.commit[..12.min(hold.commit.len())];
            out.push_str(&format!("  {base}: repoctl.lock names {} (commit {commit})\n", hold.version));
        }
        let names = outcome.held.keys().cloned().collect::<Vec<_>>().join(" ");
        out.push_str(&format!(
            "to move them: `repoctl update {names}` locks the AUR's newest commits once they are fixed (review as usual); \
             to publish the locked versions again anyway: `repoctl build {names}`\n"
        ));
    }
    crate::ui::escape::terminal(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::history::{PkgVersion, Record};

    #[test]
    fn a_rollback_says_what_came_back_what_went_and_what_it_holds() {
        let v = |version: &str| PkgVersion { pkgname: "hello".into(), version: version.into() };
        let hold = crate::plan::RolledBack {
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            version: "2.0-1".into(),
            snapshot: "20261206T020000.000Z-beef0001".into(),
            time: "2026-12-07T10:00:00Z".into(),
        };
        let outcome = Outcome {
            snapshot: Record {
                format: 1,
                id: "20261206T020000.000Z-beef0001".into(),
                time: "2026-12-06T02:00:00Z".into(),
                run: "1765000000-0123456789ab-42".into(),
                database: "sha256:00".into(),
                added: vec![v("1.0-1")],
                removed: Vec::new(),
                rollback_to: None,
            },
            kept: Some("20261207T100000.000Z-cafe0001".into()),
            added: vec![v("1.0-1")],
            removed: vec![v("2.0-1")],
            held: [("hello".to_string(), hold)].into(),
            unchanged: false,
        };
        insta::assert_snapshot!("rollback_text", said(&outcome, "hist.db", "s3://bucket/repo"));
    }
}
