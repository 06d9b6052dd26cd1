//! The repository's history (issue 29): every publish that changes `NAME.db` keeps that
//! database as a DB-only snapshot, so that `repoctl history` can say what changed when, and
//! `repoctl rollback ID` can put it back ([`super::rollback`]).
//!
//! Layout, beside the repository:
//!
//! ```text
//! history/ID/NAME.db         the database pacman read after that publish (NAME.db's bytes)
//! history/ID/NAME.db.sig     its signature by the repository's key (signed repositories)
//! history/ID/NAME.files      the files database of the same publish, and NAME.files.sig
//! history/ID/record.json     what the publish did (Record), written last
//! history/holds.json         pkgbases a rollback holds back (Holds)
//! NAME-YYYYMMDD.db           the day's last snapshot as a repository of its own (and .sig,
//!                            .files, .files.sig), at the root beside NAME.db: pacman reads
//!                            `[NAME-YYYYMMDD]` at the same Server (keep_daily)
//! ```
//!
//! Why this shape:
//! - **One folder per publish, named by its time.** `ID` is `YYYYMMDDTHHMMSS.mmmZ-XXXXXXXX`
//!   (UTC to the millisecond, then the first 8 hex digits of the database's SHA-256): S3 lists keys in UTF-8 binary
//!   order, so a listing of `history/` is already oldest first and says each snapshot's age
//!   without reading it, and expiry is a comparison of names. A publish only ever writes new
//!   names, so two publishers never race on a shared index; the hash keeps two publishes of the
//!   same second apart.
//! - **DB-only.** No package file is copied: a snapshot's database names files at the
//!   repository's root, which stay there while a kept snapshot references them
//!   ([`Retention`]). A snapshot costs the size of its databases.
//! - **The record last.** A folder without `record.json` is a snapshot still being written, or
//!   one whose publish stopped: [`list`] does not show it, and expiry deletes it.
//! - **Signatures travel with the bytes.** The snapshot's `NAME.db.sig` is the signature the
//!   repository's key made for those bytes when they were published: a rollback verifies it
//!   under the key before anything is trusted, so someone who can write the bucket but not sign
//!   cannot get a database of their own rolled in. The record itself is not signed: it is only
//!   shown; a rollback reads what changes from the verified databases.
use super::{PublishError, Target, io};
use crate::alpm::RepoEntry;
use crate::repo::DbNames;
use camino::{Utf8Path, Utf8PathBuf};
use futures_util::StreamExt;
use std::collections::{BTreeMap, BTreeSet};

/// The folder every snapshot is under, beside `NAME.db`.
pub const DIR: &str = "history";

/// The format version written in every record's and holds object's `format`.
pub const FORMAT: u32 = 1;

/// A record or holds object larger than this is refused when read.
const MAX_RECORD: u64 = 4 * 1024 * 1024;

/// The record's name in a snapshot's folder.
const RECORD: &str = "record.json";

/// What one publish did, as `history/ID/record.json` holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// [`FORMAT`].
    pub format: u32,
    /// The snapshot's id ([`new_id`]).
    pub id: String,
    /// When the database was committed: RFC 3339, UTC.
    pub time: String,
    /// The run that committed it ([`super::status::RunRef::id`]).
    pub run: String,
    /// `sha256:` and hex of the `NAME.db` bytes kept.
    pub database: String,
    /// pkgname versions the database lists and the one before it did not.
    pub added: Vec<PkgVersion>,
    /// pkgname versions the database before it listed and this one does not.
    pub removed: Vec<PkgVersion>,
    /// For a rollback: the id of the snapshot it put back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<String>,
}

/// One pkgname at one version (`[epoch:]pkgver-pkgrel`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct PkgVersion {
    pub pkgname: String,
    pub version: String,
}

/// The id of a snapshot of `db` committed at `time`: `YYYYMMDDTHHMMSS.mmmZ-` and the first 8 hex
/// digits of the bytes' SHA-256 (see the module's doc for why).
pub fn new_id(time: jiff::Timestamp, db: &[u8]) -> String {
    use sha2::Digest;
    let hash = format!("{:x}", sha2::Sha256::digest(db));
    format!("{}-{}", time.strftime("%Y%m%dT%H%M%S%.3fZ"), &hash[..8])
}

/// When the snapshot `id` was taken, or None when `id` is not an id [`new_id`] makes: only
/// such names are ever read or deleted as snapshots (a name comes from a listing of the
/// bucket, or from the command line).
pub fn time_of(id: &str) -> Option<jiff::Timestamp> {
    let (time, hash) = id.split_once('-')?;
    let hex = hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex || time.len() != 20 || time.as_bytes()[15] != b'.' {
        return None;
    }
    let civil = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%S%.fZ", time).ok()?;
    civil.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// `history/ID/NAME`: an object of the snapshot `id`.
pub fn object(id: &str, name: &str) -> String {
    format!("{DIR}/{id}/{name}")
}

/// Every object a snapshot of `repo` may hold.
fn objects(repo: &str, id: &str) -> Vec<String> {
    let names = DbNames::new(repo);
    [names.db.clone(), format!("{}.sig", names.db), names.files.clone(), format!("{}.sig", names.files)]
        .into_iter()
        .chain([format!("{RECORD}.sig"), RECORD.to_string()])
        .map(|n| object(id, &n))
        .collect()
}

/// What changed from `old` to `new` by pkgname version: (added, removed), each sorted.
pub fn changes(old: &[RepoEntry], new: &[RepoEntry]) -> (Vec<PkgVersion>, Vec<PkgVersion>) {
    let set = |entries: &[RepoEntry]| -> BTreeSet<PkgVersion> {
        entries.iter().map(|e| PkgVersion { pkgname: e.name.clone(), version: e.version.clone() }).collect()
    };
    let (old, new) = (set(old), set(new));
    (new.difference(&old).cloned().collect(), old.difference(&new).cloned().collect())
}

/// The database pair a snapshot keeps, as local files, with their signatures when signed.
pub struct Kept<'a> {
    pub db: &'a Utf8Path,
    pub files: &'a Utf8Path,
    /// (`NAME.db`'s signature, `NAME.files`'s signature).
    pub sigs: Option<(&'a Utf8Path, &'a Utf8Path)>,
}

/// Writes the snapshot `record.id` of `repo`: the databases and their signatures, then the
/// record (`scratch` holds its local copy), and when `signer` is given the record's signature
/// by the key (`record.json.sig`, before the record: what a rollback writes, see
/// [`vouched_rollback`]). Errors: the target, the key, or the local copy.
pub async fn keep(
    target: &dyn Target,
    repo: &str,
    record: &Record,
    kept: &Kept<'_>,
    signer: Option<&crate::sign::Signer>,
    scratch: &Utf8Path,
) -> Result<(), PublishError> {
    let names = DbNames::new(repo);
    let mut objects = vec![(names.db.clone(), kept.db), (names.files.clone(), kept.files)];
    if let Some((db, files)) = kept.sigs {
        objects.push((format!("{}.sig", names.db), db));
        objects.push((format!("{}.sig", names.files), files));
    }
    let mut objects: Vec<(String, Utf8PathBuf)> =
        objects.into_iter().map(|(name, path)| (object(&record.id, &name), path.to_owned())).collect();
    fs_err::create_dir_all(scratch).map_err(io(scratch))?;
    let path = scratch.join(RECORD);
    let text = serde_json::to_vec_pretty(record).map_err(|e| io(&path)(std::io::Error::other(e)))?;
    fs_err::write(&path, &text).map_err(io(&path))?;
    if let Some(signer) = signer {
        let sig = signer
            .sign_bytes(&text)
            .map_err(|message| crate::sign::SignError::CannotSign { key: signer.fingerprint().clone(), message })?;
        let sig_path = scratch.join(format!("{RECORD}.sig"));
        fs_err::write(&sig_path, sig).map_err(io(&sig_path))?;
        objects.push((object(&record.id, &format!("{RECORD}.sig")), sig_path));
    }
    // Side by side (one round trip, not five, over a slow link), then the record, which makes
    // the snapshot complete ([`ids`]).
    super::upload_all(target, objects.into_iter()).await?;
    target.upload(&object(&record.id, RECORD), &path).await
}

/// The newest rollback record that puts back the database `digest`, signed by `signer`'s key
/// (`record.json.sig`, made by `repoctl rollback`) and made at or after `replaced` (RFC 3339):
/// a rollback, perhaps on another machine, that a work directory which saw the database
/// replaced ([`crate::trust::signed::Untrusted::RolledBack`]) may take as on purpose. A record
/// without a valid signature by the key vouches for nothing: someone who can write the bucket
/// but not sign cannot put an old database back this way, nor replay an older rollback of it.
/// Errors: the target.
pub async fn vouched_rollback(
    target: &dyn Target,
    digest: &str,
    replaced: &str,
    signer: &crate::sign::PublicKey,
) -> Result<Option<Record>, PublishError> {
    // The work directory rounds its times to the second: a rollback made in the second of the
    // replacement counts as after it.
    let slack = jiff::SignedDuration::from_secs(1);
    let after = replaced.parse::<jiff::Timestamp>().ok().and_then(|t| t.checked_sub(slack).ok());
    for (id, _) in ids(target).await?.into_iter().rev().filter(|(_, complete)| *complete) {
        if time_of(&id).zip(after).is_some_and(|(t, after)| t < after) {
            break;
        }
        let (Some(bytes), Some(sig)) = (
            target.fetch(&object(&id, RECORD), MAX_RECORD).await?,
            target.fetch(&object(&id, &format!("{RECORD}.sig")), MAX_RECORD).await?,
        ) else {
            continue;
        };
        let Ok(record) = serde_json::from_slice::<Record>(&bytes) else { continue };
        if record.id == id && record.rollback_to.is_some() && record.database == digest && signer.verify(&bytes, &sig) {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// The ids of the snapshots on `target`, oldest first: every folder of `history/` whose name
/// is an id ([`time_of`]), with whether its record is there (complete).
async fn ids(target: &dyn Target) -> Result<Vec<(String, bool)>, PublishError> {
    let mut found: BTreeMap<String, bool> = BTreeMap::new();
    for name in target.list(&format!("{DIR}/")).await? {
        let Some((id, file)) = name.strip_prefix(&format!("{DIR}/")).and_then(|r| r.split_once('/')) else {
            continue;
        };
        if time_of(id).is_some() {
            *found.entry(id.to_string()).or_default() |= file == RECORD;
        }
    }
    Ok(found.into_iter().collect())
}

/// Reads the record of the snapshot `id`. Errors: the target, or [`PublishError::History`]
/// when there is none or it is not a record of this format.
pub async fn record(target: &dyn Target, id: &str) -> Result<Record, PublishError> {
    let name = object(id, RECORD);
    let bad = |why: String| PublishError::History { id: id.to_string(), why };
    let bytes = target.fetch(&name, MAX_RECORD).await?.ok_or_else(|| bad(format!("{name} does not exist")))?;
    let record: Record = serde_json::from_slice(&bytes).map_err(|e| bad(format!("{name}: {e}")))?;
    if record.format != FORMAT || record.id != id {
        return Err(bad(format!("{name} is not a record of format {FORMAT} for {id}")));
    }
    Ok(record)
}

/// Every complete snapshot's record, newest first. A record that cannot be read is left out
/// and said in the second list (id and why). Errors: the target.
pub async fn list(target: &dyn Target) -> Result<(Vec<Record>, Vec<String>), PublishError> {
    let (mut records, mut unreadable) = (Vec::new(), Vec::new());
    for (id, _) in ids(target).await?.into_iter().rev().filter(|(_, complete)| *complete) {
        match record(target, &id).await {
            Ok(record) => records.push(record),
            Err(PublishError::History { id, why }) => unreadable.push(format!("{id}: {why}")),
            Err(e) => return Err(e),
        }
    }
    Ok((records, unreadable))
}

/// `NAME-YYYYMMDD`: the repository pacman reads the last snapshot of a UTC day as, at the same
/// `Server` address (`[NAME-YYYYMMDD]` in pacman.conf), from the day of the snapshot `id`
/// (None: not an id).
pub fn daily_repo(repo: &str, id: &str) -> Option<String> {
    time_of(id)?;
    Some(format!("{repo}-{}", &id[..8]))
}

/// The objects of the daily repository `daily` ([`daily_repo`]) at the repository's root:
/// `DAILY.db`, `DAILY.files` and their signatures. Its entries name the shared package files.
fn daily_objects(daily: &str) -> [String; 4] {
    [format!("{daily}.db"), format!("{daily}.db.sig"), format!("{daily}.files"), format!("{daily}.files.sig")]
}

/// Makes the snapshot `id` of `repo` (its databases `kept`) the daily repository of its UTC
/// day ([`daily_repo`]), replacing an earlier snapshot of that day: the last of each day is the
/// one pacman reads. The signatures are the ones kept (a name-independent signature of the
/// same bytes). Errors: the target.
pub async fn keep_daily(target: &dyn Target, repo: &str, id: &str, kept: &Kept<'_>) -> Result<(), PublishError> {
    let Some(daily) = daily_repo(repo, id) else { return Ok(()) };
    let [db, db_sig, files, files_sig] = daily_objects(&daily);
    // The files database (and signatures) side by side first, then `DAILY.db`: a client that
    // finds the new database finds the rest of it.
    let (mut first, mut last) = (vec![(files, kept.files.to_owned())], vec![(db, kept.db.to_owned())]);
    if let Some((d, f)) = kept.sigs {
        first.push((files_sig, f.to_owned()));
        last.push((db_sig, d.to_owned()));
    }
    super::upload_all(target, first.into_iter()).await?;
    super::upload_all(target, last.into_iter()).await.map(drop)
}

/// The daily repositories of `repo` that are on the target (`NAME-YYYYMMDD`), newest first:
/// one per UTC day of a snapshot whose `DAILY.db` exists. Errors: the target.
pub async fn dailies(target: &dyn Target, repo: &str) -> Result<Vec<String>, PublishError> {
    let days: BTreeSet<String> =
        ids(target).await?.into_iter().filter_map(|(id, complete)| complete.then(|| daily_repo(repo, &id))?).collect();
    // One HEAD a day, side by side (a fortnight of them is 14 round trips one after another).
    let looked: Vec<Result<Option<String>, PublishError>> = futures_util::stream::iter(days.into_iter().rev())
        .map(|daily| async move { Ok(target.exists(&format!("{daily}.db")).await?.then_some(daily)) })
        .buffered(super::PARALLEL_UPLOADS)
        .collect()
        .await;
    looked.into_iter().filter_map(Result::transpose).collect()
}

/// Which snapshots stay and which go, and what package files the ones that stay reference.
#[derive(Debug, Default)]
pub struct Retention {
    /// Package files the kept snapshots' databases list: not deleted.
    pub referenced: BTreeSet<String>,
    /// Package files only expired snapshots listed: deleted unless something else lists them.
    pub released: BTreeSet<String>,
    /// The snapshots to delete (after the files).
    pub expired: Vec<String>,
    /// The daily repositories ([`daily_repo`]) of days no kept snapshot is of: deleted with the
    /// expired snapshots.
    pub expired_dailies: Vec<String>,
}

/// Sorts the snapshots of `repo` into kept (taken less than `keep` before `now`, and always
/// the newest complete one; none when `keep` is zero: no history) and expired (the others, and unfinished ones older than `keep`),
/// reading the kept ones' databases only when `needed` is true or something expired (the
/// files they list are then [`Retention::referenced`]). `scratch` is unused space for now.
/// Errors: the target, or a kept database that cannot be read.
pub async fn retention(
    target: &dyn Target,
    repo: &str,
    keep: std::time::Duration,
    now: jiff::Timestamp,
    needed: bool,
) -> Result<Retention, PublishError> {
    let ids = ids(target).await?;
    let newest = ids.iter().rev().find(|(_, complete)| *complete).map(|(id, _)| id.clone());
    let cutoff = now.checked_sub(jiff::SignedDuration::try_from(keep).unwrap_or(jiff::SignedDuration::MAX)).ok();
    let young = |id: &str| match (time_of(id), cutoff) {
        (Some(t), Some(cutoff)) => t >= cutoff,
        _ => true,
    };
    let off = keep.is_zero();
    let (kept, expired): (Vec<_>, Vec<_>) =
        ids.into_iter().partition(|(id, _)| !off && (young(id) || Some(id) == newest.as_ref()));
    let kept_days: BTreeSet<String> = kept.iter().filter_map(|(id, _)| daily_repo(repo, id)).collect();
    let expired_days: BTreeSet<String> = expired.iter().filter_map(|(id, _)| daily_repo(repo, id)).collect();
    let mut retention = Retention {
        expired: expired.iter().map(|(id, _)| id.clone()).collect(),
        expired_dailies: expired_days.difference(&kept_days).cloned().collect(),
        ..Default::default()
    };
    if !needed && retention.expired.is_empty() {
        return Ok(retention);
    }
    let db = DbNames::new(repo).db;
    let kept = kept.iter().filter(|(_, complete)| *complete).map(|(id, _)| object(id, &db));
    retention.referenced = files_of_all(target, kept).await?;
    retention.released = files_of_all(target, expired.iter().map(|(id, _)| object(id, &db))).await?;
    // A snapshot is bucket data: only package file names are ever released, so one planted
    // with the name of a database, a signature or the page cannot make a publish delete it.
    retention.released.retain(|f| crate::alpm::is_package_file(f) && !retention.referenced.contains(f));
    Ok(retention)
}

/// The package files the databases `names` list, read side by side (a fortnight of nightly
/// snapshots is a dozen or more GETs). Errors: the target, or a database that cannot be read.
async fn files_of_all(
    target: &dyn Target,
    names: impl Iterator<Item = String>,
) -> Result<BTreeSet<String>, PublishError> {
    let read: Vec<Result<Vec<String>, PublishError>> = futures_util::stream::iter(names)
        .map(|name| async move { files_of(target, &name).await })
        .buffer_unordered(super::PARALLEL_UPLOADS)
        .collect()
        .await;
    let mut files = BTreeSet::new();
    for listed in read {
        files.extend(listed?);
    }
    Ok(files)
}

/// The package files the database `name` lists (none when it is not there).
async fn files_of(target: &dyn Target, name: &str) -> Result<Vec<String>, PublishError> {
    let Some(bytes) = target.fetch(name, super::MAX_DB_FETCH).await? else { return Ok(Vec::new()) };
    Ok(crate::alpm::read_sync_db(&bytes)?.into_iter().map(|e| e.filename).collect())
}

/// Deletes the daily repositories `dailies` ([`daily_repo`]), `DAILY.db` first (what pacman
/// reads first). Errors: the target.
pub async fn delete_dailies(target: &dyn Target, dailies: &[String]) -> Result<(), PublishError> {
    for daily in dailies {
        for name in daily_objects(daily) {
            target.delete(&name).await?;
        }
    }
    Ok(())
}

/// Deletes every object of the snapshots `expired` of `repo`, the record first (so a snapshot
/// half deleted is an unfinished one, which the next expiry takes). Errors: the target.
pub async fn delete(target: &dyn Target, repo: &str, expired: &[String]) -> Result<(), PublishError> {
    for id in expired {
        let mut names = objects(repo, id);
        names.rotate_right(1);
        for name in names {
            target.delete(&name).await?;
        }
    }
    Ok(())
}

/// `history/holds.json`: the pkgbases a rollback holds back, so that the next `build` does
/// not publish again the versions that were rolled away ([`crate::plan::hold_rolled_back`]).
pub fn holds_object() -> String {
    format!("{DIR}/holds.json")
}

/// The holds object's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holds {
    pub format: u32,
    /// pkgbase -> why and until when it is held.
    pub holds: BTreeMap<String, crate::plan::RolledBack>,
}

/// Reads the holds object (empty when there is none). Errors: the target, or one that is not
/// of this format (said, not guessed at: holds decide what is built).
pub async fn read_holds(target: &dyn Target) -> Result<Holds, PublishError> {
    let name = holds_object();
    let Some(bytes) = target.fetch(&name, MAX_RECORD).await? else {
        return Ok(Holds { format: FORMAT, ..Default::default() });
    };
    let bad = |why: String| PublishError::History { id: name.clone(), why };
    let holds: Holds = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    if holds.format != FORMAT {
        return Err(bad(format!("format {} (this repoctl reads {FORMAT})", holds.format)));
    }
    Ok(holds)
}

/// Writes the holds object from `holds` (`scratch` holds the local copy). Errors: the target.
pub async fn write_holds(target: &dyn Target, holds: &Holds, scratch: &Utf8Path) -> Result<(), PublishError> {
    fs_err::create_dir_all(scratch).map_err(io(scratch))?;
    let path: Utf8PathBuf = scratch.join("holds.json");
    let text = serde_json::to_vec_pretty(holds).map_err(|e| io(&path)(std::io::Error::other(e)))?;
    fs_err::write(&path, text).map_err(io(&path))?;
    target.upload(&holds_object(), &path).await
}

/// The local copy of a snapshot object `name` of `id`, downloaded into `dir` (None: absent).
/// Errors: the target, or the local file.
pub async fn fetch_object(
    target: &dyn Target,
    id: &str,
    name: &str,
    dir: &Utf8Path,
) -> Result<Option<Utf8PathBuf>, PublishError> {
    let Some(bytes) = target.fetch(&object(id, name), super::MAX_DB_FETCH).await? else { return Ok(None) };
    fs_err::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(name);
    fs_err::write(&path, bytes).map_err(io(&path))?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_only_ids_are_ids() {
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let a = new_id(t("2026-12-07T08:05:09.5Z"), b"z");
        let b = new_id(t("2026-12-07T08:05:09.512Z"), b"a");
        assert!(a.starts_with("20261207T080509.500Z-") && a.len() == 29, "{a}");
        assert!(a < b, "two publishes in one second sort by time, not by hash");
        assert_eq!(time_of(&a), Some(t("2026-12-07T08:05:09.5Z")));
        for bad in [
            "holds.json",
            "..",
            "20261207T080509.500Z",
            "20261207T080509.500Z-ABCDEF12",
            "20261207T080509Z-abcdef12",
            "20261207T080509.500Z-abc/../x",
        ] {
            assert_eq!(time_of(bad), None, "{bad}");
        }
    }

    /// Snapshots older than `keep` expire, but for the newest; the files only they list are
    /// released, those a kept one lists are referenced.
    #[tokio::test]
    async fn expired_snapshots_release_the_files_only_they_list() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).unwrap();
        let target = super::super::LocalTarget::new(dir.join("repo"));
        let db = |files: &[&str]| {
            let mut builder = tar::Builder::new(Vec::new());
            for f in
                files.iter().map(|f| if f.contains('.') { f.to_string() } else { format!("{f}-1-1-any.pkg.tar.zst") })
            {
                let desc = format!("%FILENAME%\n{f}\n\n%NAME%\n{f}\n\n%VERSION%\n1-1\n\n");
                let mut header = tar::Header::new_gnu();
                header.set_size(desc.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                builder.append_data(&mut header, format!("{f}-1-1/desc"), desc.as_bytes()).unwrap();
            }
            builder.into_inner().unwrap()
        };
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let mut ids = Vec::new();
        for (time, files) in [
            // The oldest also lists the repository's own database, as a planted snapshot could.
            ("2026-11-01T00:00:00Z", vec!["a", "b", "r.db"]),
            ("2026-11-20T00:00:00Z", vec!["b", "c"]),
            ("2026-12-06T00:00:00Z", vec!["c", "d"]),
        ] {
            let bytes = db(&files);
            let path = dir.join("db");
            fs_err::write(&path, &bytes).unwrap();
            let id = new_id(t(time), &bytes);
            let record = Record {
                format: FORMAT,
                id: id.clone(),
                time: time.into(),
                run: "run".into(),
                database: crate::trust::signed::digest_of(&bytes),
                added: Vec::new(),
                removed: Vec::new(),
                rollback_to: None,
            };
            let kept = Kept { db: &path, files: &path, sigs: None };
            keep(&target, "r", &record, &kept, None, &dir.join("scratch")).await.unwrap();
            ids.push(id);
        }
        let week = std::time::Duration::from_secs(7 * 86_400);
        let r = retention(&target, "r", week, t("2026-12-07T00:00:00Z"), true).await.unwrap();
        assert_eq!(r.expired, ids[..2]);
        let pkgs = |names: [&str; 2]| names.map(|n| format!("{n}-1-1-any.pkg.tar.zst")).into();
        assert_eq!(r.referenced, pkgs(["c", "d"]));
        assert_eq!(r.released, pkgs(["a", "b"]), "r.db is not a package file: never released");
        assert_eq!(r.expired_dailies, ["r-20261101", "r-20261120"], "the daily repositories of days left with none");
        // No history (`keep: 0`): every snapshot expires, the newest too.
        let off = retention(&target, "r", std::time::Duration::ZERO, t("2026-12-07T00:00:00Z"), true).await.unwrap();
        assert_eq!((off.expired, off.referenced.len()), (ids.clone(), 0));
        // Long after: the newest stays, whatever its age.
        let r = retention(&target, "r", week, t("2027-06-01T00:00:00Z"), true).await.unwrap();
        assert_eq!(r.expired, ids[..2]);
        delete(&target, "r", &r.expired).await.unwrap();
        let (records, _) = list(&target).await.unwrap();
        assert_eq!(records.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), ids[2..]);
        assert_eq!(target.list("history/").await.unwrap().len(), 3, "the newest one's db, files and record");
    }

    #[test]
    fn changes_are_pkgname_versions_added_and_removed() {
        let e = |name: &str, version: &str| RepoEntry {
            name: name.into(),
            version: version.into(),
            ..RepoEntry::default()
        };
        let (added, removed) = changes(&[e("a", "1-1"), e("b", "1-1")], &[e("a", "2-1"), e("c", "1-1")]);
        let v = |n: &str, v: &str| PkgVersion { pkgname: n.into(), version: v.into() };
        assert_eq!(added, [v("a", "2-1"), v("c", "1-1")]);
        assert_eq!(removed, [v("a", "1-1"), v("b", "1-1")]);
    }
}
