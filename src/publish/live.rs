//! The live repository as a publish may build on it (issue 24): `NAME.db` read and trusted
//! ([`crate::trust::signed`]: verified under the key when the repository is signed),
//! `NAME.files` verified alike, a stale `NAME.db.sig` replaced by the signature the key made
//! for the live bytes before their commit, and the one-time check that an S3-compatible store
//! refuses conditional writes whose condition fails (issue 24, item 3).
use super::{MAX_DB_FETCH, PublishError, RemoteRepo, Target, io, read_file, read_remote};
use crate::repo::{DbFiles, DbNames};
use crate::sign::PublicKey;
use crate::trust::signed::{self, Found, History, TrustedDb};
use camino::Utf8Path;

/// A detached signature larger than this is refused when read (real ones are a few hundred
/// bytes).
const MAX_SIGNATURE: u64 = 64 * 1024;

/// How many times the database is read again when it does not verify because it changed while
/// it was read (another run committed between `NAME.db` and its signature).
const MAX_TRUST_READS: u32 = 4;

/// The live database: as read ([`RemoteRepo`]) and as trusted ([`TrustedDb`]).
#[derive(Debug, Clone)]
pub struct Live {
    pub remote: RemoteRepo,
    pub trusted: TrustedDb,
}

/// Reads `NAME.db` (`repo`) into `dir` and trusts it ([`trust_remote`]). A database that does
/// not verify because another run replaced it between the reads is read again. Errors: the
/// target, or [`PublishError::Untrusted`] saying what does not verify.
pub async fn read_trusted(
    target: &dyn Target,
    repo: &str,
    signer: Option<&PublicKey>,
    history: &History,
    dir: &Utf8Path,
) -> Result<Live, PublishError> {
    let mut attempt = 1;
    loop {
        let remote = read_remote(target, repo, dir).await?;
        let err = match trust_remote(target, repo, &remote, signer, history).await {
            Ok(trusted) => return Ok(Live { remote, trusted }),
            Err(e @ PublishError::Untrusted(_)) => e,
            Err(e) => return Err(e),
        };
        if attempt >= MAX_TRUST_READS || !changed(target, repo, &remote).await? {
            return Err(err);
        }
        tracing::debug!("{err}; the database changed meanwhile, reading it again");
        attempt += 1;
    }
}

/// Whether `NAME.db` is no longer at the version `remote` read.
async fn changed(target: &dyn Target, repo: &str, remote: &RemoteRepo) -> Result<bool, PublishError> {
    let now = target.fetch_versioned(&DbNames::new(repo).db, MAX_DB_FETCH).await?;
    Ok(now.map(|(_, version)| version) != remote.version)
}

/// Trusts a database already read: in a signed repository (`signer`), verified under the key
/// by `NAME.db.sig`, else by the signature stored under its digest (one more read, only then);
/// taken as read otherwise. A database this work directory replaced is taken back only when a
/// rollback record signed by the key puts it back ([`super::history::vouched_rollback`]).
/// Errors: the target, or [`PublishError::Untrusted`].
pub async fn trust_remote(
    target: &dyn Target,
    repo: &str,
    remote: &RemoteRepo,
    signer: Option<&PublicKey>,
    history: &History,
) -> Result<TrustedDb, PublishError> {
    let names = DbNames::new(repo);
    let bytes = remote.db.as_deref().map(read_file).transpose()?;
    let Some(signer) = signer else { return Ok(signed::as_read(&names.db, bytes.as_deref())?) };
    let Some(bytes) = bytes else { return Ok(signed::verify(&names.db, None, Found::default(), signer, history)?) };
    let (sig, digest_sig) = signatures_of(target, &names.db, &bytes, signer).await?;
    let found = Found { sig: sig.as_deref(), digest_sig: digest_sig.as_deref() };
    match signed::verify(&names.db, Some(&bytes), found, signer, history) {
        Err(signed::Untrusted::RolledBack { replaced, .. })
            if super::history::vouched_rollback(target, &signed::digest_of(&bytes), &replaced, signer)
                .await?
                .is_some() =>
        {
            // `repoctl rollback` put it back on purpose, perhaps from another machine: it is
            // this work directory's live database from now on.
            if let Err(e) = history.record(&names.db, &bytes) {
                tracing::warn!("cannot record the rolled-back {} in the work directory: {e}", names.db);
            }
            Ok(signed::verify(&names.db, Some(&bytes), found, signer, history)?)
        }
        verified => Ok(verified?),
    }
}

/// `OBJECT.sig`, and when that does not verify `bytes`, the signature under their digest name.
async fn signatures_of(
    target: &dyn Target,
    object: &str,
    bytes: &[u8],
    signer: &PublicKey,
) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>), PublishError> {
    let sig = target.fetch(&format!("{object}.sig"), MAX_SIGNATURE).await?;
    if signed::signature_verifies(bytes, sig.as_deref(), signer) {
        return Ok((sig, None));
    }
    let digest_sig = target.fetch(&signed::digest_signature_name(object, bytes), MAX_SIGNATURE).await?;
    Ok((sig, digest_sig))
}

/// The published database pair, `NAME.files` fetched now, beside the `NAME.db` that `live`
/// read (and after it: writers replace `NAME.files` before `NAME.db`, so it is at least as
/// new); in a signed repository it must verify under the key like `NAME.db`. None for a new
/// repository. Errors: the target, or [`PublishError::Untrusted`].
pub async fn read_files_db(
    target: &dyn Target,
    repo: &str,
    live: &Live,
    signer: Option<&PublicKey>,
) -> Result<Option<DbFiles>, PublishError> {
    let Some(db) = &live.remote.db else { return Ok(None) };
    let names = DbNames::new(repo);
    let files = db.with_file_name(&names.files_archive);
    match target.fetch(&names.files, MAX_DB_FETCH).await? {
        Some(bytes) => {
            if let Some(signer) = signer {
                let (sig, digest_sig) = signatures_of(target, &names.files, &bytes, signer).await?;
                let found = Found { sig: sig.as_deref(), digest_sig: digest_sig.as_deref() };
                signed::verify_files(&names.files, &bytes, found, signer)?;
            }
            fs_err::write(&files, bytes).map_err(io(&files))?
        }
        // A files database lost or never made: start one from the package list instead.
        None => fs_err::copy(db, &files).map(drop).map_err(io(&files))?,
    }
    Ok(Some(DbFiles { db: db.clone(), files }))
}

/// When `NAME.db.sig` (`repo`) is missing or stale and `trusted` was verified by the signature
/// the key made for these bytes before their commit, writes that signature as `NAME.db.sig`:
/// a run that stopped between the two objects, or lost the race for the signature, is
/// repaired without signing anything. `scratch` is for the local copy. Returns the objects
/// written. Errors: the target.
pub async fn republish_signature(
    target: &dyn Target,
    repo: &str,
    trusted: &TrustedDb,
    scratch: &Utf8Path,
) -> Result<usize, PublishError> {
    let Some(sig) = trusted.signature_to_republish() else { return Ok(0) };
    let name = format!("{}.sig", DbNames::new(repo).db);
    fs_err::create_dir_all(scratch).map_err(io(scratch))?;
    let path = scratch.join(&name);
    fs_err::write(&path, sig).map_err(io(&path))?;
    target.upload(&name, &path).await?;
    Ok(1)
}

/// The databases this work directory (`work`) committed to `target` ([`History`]).
pub fn history(target: &dyn Target, work: &Utf8Path) -> History {
    History::in_work_dir(work, &target.probe_key().unwrap_or_else(|| target.describe()))
}

/// Makes sure `target` refuses conditional writes whose condition fails, asking it once per
/// work directory `work` (`WORK/conditional-writes.json` remembers each target that passed):
/// the commit protocol rests on them. Errors: [`PublishError::NoConditionalWrites`] naming
/// what the store ignored (the probe object is deleted), or the target.
pub async fn check_conditional_writes(target: &dyn Target, work: &Utf8Path) -> Result<(), PublishError> {
    let Some(key) = target.probe_key() else { return Ok(()) };
    let path = work.join("conditional-writes.json");
    let mut checked: std::collections::BTreeMap<String, String> =
        fs_err::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    if checked.contains_key(&key) {
        return Ok(());
    }
    target.probe_conditional_writes().await?;
    checked.insert(key, jiff::Timestamp::now().round(jiff::Unit::Second).map(|t| t.to_string()).unwrap_or_default());
    // Not remembered is only a probe more next time.
    let written = fs_err::create_dir_all(work)
        .and_then(|()| fs_err::write(&path, serde_json::to_vec_pretty(&checked).unwrap_or_default()));
    if let Err(e) = written {
        tracing::warn!("cannot remember the conditional-write check in {path}: {e}");
    }
    Ok(())
}
