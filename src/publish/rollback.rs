//! `repoctl rollback ID` (issue 29): puts back the database pair a publish committed, kept as
//! the snapshot `ID` ([`super::history`]), with the same conditional commit a publish uses.
//!
//! 1. The snapshot is read and checked as a live database is ([`crate::trust::signed::verify`]):
//!    in a signed repository its `NAME.db` must verify under the key by the signature kept with
//!    it, every entry must carry a package signature by the key, and its `NAME.files` must
//!    verify too. A database someone wrote into `history/` without the key is refused before
//!    anything is written. Only the work directory's replaced-database check is left out: a
//!    rollback puts back a replaced database on purpose, and records it as committed again.
//! 2. Every package file it lists must still be on the target (kept snapshots keep them).
//! 3. The signatures under the digest names go up (new names: nothing reads them yet), then
//!    `NAME.db` is replaced only if it is still the version read. When another publish
//!    committed meanwhile, nothing else is written and the rollback fails
//!    ([`PublishError::RollbackRace`]): that publish is not lost, and the user decides again.
//! 4. After the commit: `NAME.db.sig`, `NAME.files` and the archives with their signatures, a
//!    snapshot of the rollback itself (so a rollback can be undone the same way), and the holds
//!    ([`super::history::Holds`]) that keep the next `build` from publishing again the versions
//!    it took away, while the lock still names them.
//!
//! Unlike a publish, the commit comes before `NAME.files` and the archives: a rollback refused
//! at the commit must leave nothing of its own where the other publish's files are.
use super::history::{self, Holds, Kept, PkgVersion, Record};
use super::{PublishError, Target, delete_all, io, read_file, read_remote, upload_all};
use crate::alpm::RepoEntry;
use crate::plan::RolledBack;
use crate::repo::DbNames;
use crate::sign::Signer;
use crate::trust::signed::{self, Found, History, TrustedDb};
use crate::ui::Reporter;
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::{BTreeMap, BTreeSet};

/// What a rollback is asked to do.
pub struct Request<'a> {
    pub repo: &'a str,
    /// The snapshot to put back ([`history::new_id`]).
    pub id: &'a str,
    /// The repository's key, when repo.yaml has `sign:`: the snapshot must verify under it.
    pub signer: Option<&'a Signer>,
    /// The work directory's committed databases: the rolled-back one is recorded in it.
    pub history: &'a History,
    /// repoctl.lock: which commits the holds name.
    pub lock: &'a crate::lock::Lock,
    /// The run's id, recorded with the rollback's own snapshot.
    pub run_id: &'a str,
}

/// What a rollback did.
#[derive(Debug)]
pub struct Outcome {
    /// The record of the snapshot put back.
    pub snapshot: Record,
    /// The snapshot of the rollback itself (None: it was not kept, or nothing changed).
    pub kept: Option<String>,
    /// pkgname versions the repository has again, and those it no longer has.
    pub added: Vec<PkgVersion>,
    pub removed: Vec<PkgVersion>,
    /// pkgbase -> its hold, for the pkgbases held now.
    pub held: BTreeMap<String, RolledBack>,
    /// The snapshot was live already: nothing was written.
    pub unchanged: bool,
}

/// The snapshot's database pair as downloaded, with its signatures.
struct Snapshot {
    record: Record,
    db: Utf8PathBuf,
    files: Utf8PathBuf,
    /// (`NAME.db.sig`, `NAME.files.sig`) as kept, when they were.
    sigs: Option<(Utf8PathBuf, Utf8PathBuf)>,
    trusted: TrustedDb,
}

/// Rolls the repository back to the snapshot `request.id` (see the module's doc), working in
/// `dir`, under the target's lock. Errors: [`PublishError::History`] (no such snapshot, its
/// record does not match its database, package files gone), [`PublishError::UntrustedSnapshot`],
/// [`PublishError::RollbackRace`], or the target.
pub async fn rollback(
    target: &dyn Target,
    request: &Request<'_>,
    dir: &Utf8Path,
    reporter: &dyn Reporter,
) -> Result<Outcome, PublishError> {
    let _lock = super::lock(target, reporter).await?;
    let names = DbNames::new(request.repo);
    // 1. The snapshot, checked as a live database; 2. its package files.
    let snapshot = read_snapshot(target, request, &dir.join("snapshot")).await?;
    check_files_present(target, request.id, snapshot.trusted.entries()).await?;
    // The live database: the version the commit is conditional on, and what changes.
    let live = read_remote(target, request.repo, &dir.join("live")).await?;
    let db_bytes = read_file(&snapshot.db)?;
    let (added, removed) = history::changes(&live.entries, snapshot.trusted.entries());
    let mut outcome = Outcome {
        snapshot: snapshot.record.clone(),
        kept: None,
        added,
        removed,
        held: BTreeMap::new(),
        unchanged: false,
    };
    if live.db.as_deref().map(read_file).transpose()?.is_some_and(|b| b == db_bytes) {
        outcome.unchanged = true;
        return Ok(outcome);
    }
    // 3. The digest-named signatures, then the commit point.
    reporter.step(&format!("putting back {} of {}", names.db, request.id));
    upload_all(target, digest_signatures(&names, &snapshot)?.into_iter()).await?;
    if !target.upload_if(&names.db, &snapshot.db, live.version.as_deref()).await? {
        return Err(PublishError::RollbackRace { name: names.db, target: target.describe() });
    }
    if let Err(e) = request.history.record(&names.db, &db_bytes) {
        tracing::warn!("cannot record the rolled-back {} in the work directory: {e}", names.db);
    }
    // 4. What follows the database, its own snapshot, and the holds.
    upload_after_commit(target, &names, &snapshot).await?;
    outcome.kept = keep_rollback(target, request, &snapshot, &outcome, &db_bytes, dir, reporter).await;
    outcome.held = hold(target, request, &live.entries, snapshot.trusted.entries(), dir).await?;
    Ok(outcome)
}

/// Reads the snapshot `request.id` into `dir` and trusts it as [`super::trust_remote`] trusts a
/// live database, less the replaced-database check. Errors: see [`rollback`].
async fn read_snapshot(target: &dyn Target, request: &Request<'_>, dir: &Utf8Path) -> Result<Snapshot, PublishError> {
    let (id, names) = (request.id, DbNames::new(request.repo));
    let missing = |why: String| PublishError::History { id: id.to_string(), why };
    if history::time_of(id).is_none() {
        return Err(missing("not a snapshot id (`repoctl history` lists them)".into()));
    }
    let record = history::record(target, id).await?;
    let fetch = |name: String| async move { history::fetch_object(target, id, &name, dir).await };
    let db = fetch(names.db.clone()).await?.ok_or_else(|| missing(format!("it has no {}", names.db)))?;
    let bytes = read_file(&db)?;
    if signed::digest_of(&bytes) != record.database {
        return Err(missing(format!("its {} is not the database its record names", names.db)));
    }
    let files = match fetch(names.files.clone()).await? {
        Some(files) => files,
        None => {
            let files = dir.join(&names.files);
            fs_err::copy(&db, &files).map_err(io(&files))?;
            files
        }
    };
    let db_sig = fetch(format!("{}.sig", names.db)).await?;
    let files_sig = fetch(format!("{}.sig", names.files)).await?;
    let untrusted = |source| PublishError::UntrustedSnapshot { id: id.to_string(), source };
    let Some(signer) = request.signer else {
        let trusted = signed::as_read(&names.db, Some(&bytes)).map_err(untrusted)?;
        return Ok(Snapshot { record, db, files, sigs: None, trusted });
    };
    let read = |p: &Option<Utf8PathBuf>| p.as_deref().map(read_file).transpose();
    let (db_sig_bytes, files_sig_bytes) = (read(&db_sig)?, read(&files_sig)?);
    let found = Found { sig: db_sig_bytes.as_deref(), digest_sig: None };
    let trusted =
        signed::verify(&names.db, Some(&bytes), found, signer.public(), &History::none()).map_err(untrusted)?;
    let found = Found { sig: files_sig_bytes.as_deref(), digest_sig: None };
    signed::verify_files(&names.files, &read_file(&files)?, found, signer.public()).map_err(untrusted)?;
    let sigs = db_sig.zip(files_sig);
    Ok(Snapshot { record, db, files, sigs, trusted })
}

/// Checks that every package file of `entries` is on the target. Errors:
/// [`PublishError::History`] naming the first few missing.
async fn check_files_present(target: &dyn Target, id: &str, entries: &[RepoEntry]) -> Result<(), PublishError> {
    let mut missing = Vec::new();
    for entry in entries {
        if !target.exists(&entry.filename).await? {
            missing.push(entry.filename.clone());
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let shown = missing.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    Err(PublishError::History {
        id: id.to_string(),
        why: format!("{} package file(s) it lists are no longer on the target: {shown}", missing.len()),
    })
}

/// The signatures of the snapshot's pair under their digest names (none when unsigned).
fn digest_signatures(names: &DbNames, snapshot: &Snapshot) -> Result<Vec<(String, Utf8PathBuf)>, PublishError> {
    let Some((db_sig, files_sig)) = &snapshot.sigs else { return Ok(Vec::new()) };
    let name = |object: &str, path: &Utf8Path| -> Result<String, PublishError> {
        Ok(signed::digest_signature_name(object, &read_file(path)?))
    };
    Ok(vec![
        (name(&names.db, &snapshot.db)?, db_sig.clone()),
        (name(&names.files, &snapshot.files)?, files_sig.clone()),
    ])
}

/// After the commit: `NAME.db.sig` first (what pacman reads next), then `NAME.files` and the
/// archives with their signatures; in an unsigned snapshot, the stale signatures are deleted.
/// Errors: the target.
async fn upload_after_commit(target: &dyn Target, names: &DbNames, snapshot: &Snapshot) -> Result<(), PublishError> {
    let sig = |n: &str| format!("{n}.sig");
    let Some((db_sig, files_sig)) = &snapshot.sigs else {
        let objects = [(names.files.clone(), snapshot.files.clone())].into_iter().chain([
            (names.db_archive.clone(), snapshot.db.clone()),
            (names.files_archive.clone(), snapshot.files.clone()),
        ]);
        upload_all(target, objects).await?;
        return delete_all(target, [&names.db, &names.files, &names.db_archive, &names.files_archive].map(|n| sig(n)))
            .await;
    };
    target.upload(&sig(&names.db), db_sig).await?;
    let objects = [
        (names.files.clone(), snapshot.files.clone()),
        (sig(&names.files), files_sig.clone()),
        (names.db_archive.clone(), snapshot.db.clone()),
        (sig(&names.db_archive), db_sig.clone()),
        (names.files_archive.clone(), snapshot.files.clone()),
        (sig(&names.files_archive), files_sig.clone()),
    ];
    upload_all(target, objects.into_iter()).await?;
    Ok(())
}

/// Keeps the rollback as a snapshot of its own ([`history::keep`], `rollback_to` naming the
/// snapshot put back). Returns its id, or None when it could not be written (said).
async fn keep_rollback(
    target: &dyn Target,
    request: &Request<'_>,
    snapshot: &Snapshot,
    outcome: &Outcome,
    db: &[u8],
    dir: &Utf8Path,
    reporter: &dyn Reporter,
) -> Option<String> {
    let now = jiff::Timestamp::now();
    let record = Record {
        format: history::FORMAT,
        id: history::new_id(now, db),
        time: crate::lock::rfc3339(now.as_second()),
        run: request.run_id.to_string(),
        database: signed::digest_of(db),
        added: outcome.added.clone(),
        removed: outcome.removed.clone(),
        rollback_to: Some(request.id.to_string()),
    };
    let sigs = snapshot.sigs.as_ref().map(|(d, f)| (d.as_path(), f.as_path()));
    let kept = Kept { db: &snapshot.db, files: &snapshot.files, sigs };
    let kept_too = async {
        history::keep(target, request.repo, &record, &kept, request.signer, &dir.join("history")).await?;
        history::keep_daily(target, request.repo, &record.id, &kept).await
    };
    match kept_too.await {
        Ok(()) => Some(record.id),
        Err(e) => {
            reporter.step(&format!(
                "warning: rolled back, but the rollback's own snapshot was not kept: {}",
                crate::cause::chain(&e).join(": ")
            ));
            None
        }
    }
}

/// Updates the holds object for a rollback from `live` to `snapshot` and returns the holds of
/// the pkgbases it changed: a pkgbase whose published version changed is held at the lock's
/// commit, unless the lock names the version put back (nothing to hold: its hold, if any, is
/// dropped). Holds whose lock entry has moved since are dropped too. Errors: the target.
async fn hold(
    target: &dyn Target,
    request: &Request<'_>,
    live: &[RepoEntry],
    snapshot: &[RepoEntry],
    dir: &Utf8Path,
) -> Result<BTreeMap<String, RolledBack>, PublishError> {
    let mut holds = history::read_holds(target).await.unwrap_or_else(|e| {
        tracing::warn!("the holds object cannot be read, it is written anew: {e}");
        Holds { format: history::FORMAT, ..Holds::default() }
    });
    holds.holds.retain(|base, h| request.lock.entries.get(base).is_some_and(|e| e.commit == h.commit));
    let version_of = |entries: &[RepoEntry], base: &str| -> BTreeSet<String> {
        entries.iter().filter(|e| e.base == base).map(|e| e.version.clone()).collect()
    };
    let bases: BTreeSet<&str> = live.iter().chain(snapshot).map(|e| e.base.as_str()).collect();
    let mut held = BTreeMap::new();
    let time = crate::lock::rfc3339(jiff::Timestamp::now().as_second());
    for base in bases.into_iter().filter(|b| version_of(live, b) != version_of(snapshot, b)) {
        let Some(entry) = request.lock.entries.get(base) else { continue };
        if version_of(snapshot, base).contains(&entry.version) {
            holds.holds.remove(base);
            continue;
        }
        let hold = RolledBack {
            commit: entry.commit.clone(),
            version: entry.version.clone(),
            snapshot: request.id.to_string(),
            time: time.clone(),
        };
        held.insert(base.to_string(), hold.clone());
        holds.holds.insert(base.to_string(), hold);
    }
    history::write_holds(target, &holds, dir).await?;
    Ok(held)
}

#[cfg(test)]
mod tests;
