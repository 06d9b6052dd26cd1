//! Package files and their companions on the target (issue 24, item 2): created, never written
//! over other bytes. A database a run committed describes each of its files by `%SHA256SUM%`;
//! a second run that built the same version (makepkg's BUILDDATE makes the bytes differ) and
//! replaced the object would leave that database describing bytes that are gone, and pacman
//! refusing the package. So a package file is created only where its name is free
//! ([`Target::create`]), and its companions only once the file there is this run's bytes.
use super::{Created, PARALLEL_UPLOADS, PublishError, Target};
use crate::sign::Signer;
use crate::trust::CheckedPackage;
use camino::{Utf8Path, Utf8PathBuf};
use futures_util::StreamExt;

/// A detached signature larger than this is not read (real ones are a few hundred bytes).
const MAX_SIGNATURE: u64 = 64 * 1024;

/// What [`place_all`] did.
#[derive(Debug, Default)]
pub(super) struct Placement {
    /// Objects written.
    pub written: usize,
    /// Package files whose names now hold their bytes, with their companions.
    pub placed: Vec<Utf8PathBuf>,
    /// Package files whose names hold other bytes: nothing of theirs was written.
    pub taken: Vec<Utf8PathBuf>,
}

/// How one package file went.
enum Placed {
    /// The name holds these bytes (created now, or found), and the companions are up; the
    /// objects written.
    Up(usize),
    /// The name holds other bytes.
    Taken,
}

/// Places `files` on the target, [`PARALLEL_UPLOADS`] at a time, each before its companions
/// ([`place_one`]); those in `live` are the live objects themselves (downloaded), and only a
/// missing or invalid `.sig` of theirs goes up. Errors: the first the target gives.
pub(super) async fn place_all(
    target: &dyn Target,
    files: &[&Utf8PathBuf],
    live: &[Utf8PathBuf],
    signer: Option<&Signer>,
) -> Result<Placement, PublishError> {
    let done: Vec<Result<(Utf8PathBuf, Placed), PublishError>> = futures_util::stream::iter(files)
        .map(|file| async move {
            let placed = place_one(target, file, live.contains(file), signer).await?;
            Ok(((*file).clone(), placed))
        })
        .buffer_unordered(PARALLEL_UPLOADS)
        .collect()
        .await;
    let mut placement = Placement::default();
    for one in done {
        match one? {
            (file, Placed::Up(written)) => {
                placement.written += written;
                placement.placed.push(file);
            }
            (file, Placed::Taken) => placement.taken.push(file),
        }
    }
    Ok(placement)
}

/// One package file (`file`; `live`: it is the live object already), then its `.sig`
/// ([`place_signature`]) and its provenance record ([`place_provenance`]) when they are
/// beside it. Errors: the target.
async fn place_one(
    target: &dyn Target,
    file: &Utf8Path,
    live: bool,
    signer: Option<&Signer>,
) -> Result<Placed, PublishError> {
    let name = file.file_name().unwrap_or_default();
    let created = if live { Created::Same } else { target.create(name, file).await? };
    let mut written = match created {
        Created::Other => return Ok(Placed::Taken),
        Created::New => 1,
        Created::Same => 0,
    };
    if let Some(sig) = crate::repo::tool_signature(file) {
        written += place_signature(target, name, file, &sig, signer).await?;
    }
    if let Some(record) = crate::provenance::sidecar_of(file).filter(|_| !live) {
        written += place_provenance(target, &record, created == Created::New).await?;
    }
    Ok(Placed::Up(written))
}

/// `NAME.sig` for the package file `file` (on the target as `name`), from `sig`. One there
/// already that is a valid signature of the file by the key stays (it is as good as this one,
/// and a database may embed it); one that is not (another key's, another build's, a stray) is a
/// signature of nothing the repository holds, and this valid one replaces it. Returns the
/// objects written. Errors: the target.
async fn place_signature(
    target: &dyn Target,
    name: &str,
    file: &Utf8Path,
    sig: &Utf8Path,
    signer: Option<&Signer>,
) -> Result<usize, PublishError> {
    let sig_name = format!("{name}.sig");
    match target.create(&sig_name, sig).await? {
        Created::New => return Ok(1),
        Created::Same => return Ok(0),
        Created::Other => {}
    }
    if let Some(signer) = signer
        && let Some(there) = target.fetch(&sig_name, MAX_SIGNATURE).await?
        && verifies(signer, file, &there)
    {
        return Ok(0);
    }
    target.upload(&sig_name, sig).await?;
    Ok(1)
}

/// The provenance record `record` of a package file. One there already with other bytes is
/// replaced only when this run just `created` the file: then it described another build that
/// no database lists. Returns the objects written. Errors: the target.
async fn place_provenance(target: &dyn Target, record: &Utf8Path, created: bool) -> Result<usize, PublishError> {
    let name = record.file_name().unwrap_or_default();
    match target.create(name, record).await? {
        Created::New => Ok(1),
        Created::Same => Ok(0),
        Created::Other if created => target.upload(name, record).await.map(|()| 1),
        Created::Other => Ok(0),
    }
}

/// Whether `sig` is a valid signature of the file at `path` by the key.
fn verifies(signer: &Signer, path: &Utf8Path, sig: &[u8]) -> bool {
    fs_err::File::open(path).is_ok_and(|f| signer.public().verify_reader(std::io::BufReader::new(f), sig))
}

/// How large a live build of the same file as `ours` may be for [`take_live`] to download
/// it: twice this run's build, plus 64 MiB. Two builds of one PKGBUILD differ by timestamps
/// and build paths, not by orders of magnitude; no database lists the live object, so there is
/// no `%CSIZE%` to go by.
fn rebuild_limit(ours: &CheckedPackage) -> u64 {
    let size = fs_err::metadata(ours.path()).map_or(0, |m| m.len());
    size.saturating_mul(2).saturating_add(64 << 20)
}

/// The live object `name` (a package file whose name held other bytes than this run's build
/// `ours`), taken as it is when, in this order:
/// 1. it is at most [`rebuild_limit`] bytes (downloaded into `dir`, its `.sig` beside it);
/// 2. its `.sig` on the target is a valid signature of it by the key (repoctl signs only what
///    it built or checked, so that is a repoctl build of the same version), checked before
///    any of its bytes are parsed;
/// 3. its `.PKGINFO` says what `ours` says and makepkg made it from the same PKGBUILD
///    ([`CheckedPackage::check_rebuild`]): an older signed build of the same version from
///    another commit, put back in the bucket, is not taken.
///
/// Returns it checked, with its own `.PKGINFO`'s relations for the publish gate; None when it
/// is not taken (the reason is logged). Errors: the target.
pub(super) async fn take_live(
    target: &dyn Target,
    ours: &CheckedPackage,
    signer: &Signer,
    dir: &Utf8Path,
) -> Result<Option<CheckedPackage>, PublishError> {
    let name = ours.file_name();
    let Some(sig) = target.fetch(&format!("{name}.sig"), MAX_SIGNATURE).await? else { return Ok(None) };
    fs_err::create_dir_all(dir).map_err(|source| PublishError::Io { path: dir.to_owned(), source })?;
    let path = dir.join(name);
    let not_taken = |why: String| {
        tracing::warn!("not taking the live {name}: {why}");
        let _ = fs_err::remove_file(&path);
        Ok(None)
    };
    match target.download(name, &path, rebuild_limit(ours)).await {
        Err(e @ PublishError::TooLarge { .. }) => return not_taken(e.to_string()),
        other => other?,
    }
    if !verifies(signer, &path, &sig) {
        return not_taken(format!("its .sig is not a signature of it by key {}", signer.fingerprint()));
    }
    let checked = match ours.check_rebuild(&path) {
        Ok(checked) => checked,
        Err(e) => return not_taken(crate::cause::chain(&e).join(": ")),
    };
    let sig_path = Utf8PathBuf::from(format!("{path}.sig"));
    fs_err::write(&sig_path, sig).map_err(|source| PublishError::Io { path: sig_path.clone(), source })?;
    Ok(Some(checked))
}

#[cfg(test)]
mod tests;
