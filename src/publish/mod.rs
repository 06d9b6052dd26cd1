//! Publishing: where the repository lives ([`Target`]: an S3 bucket or a local directory) and
//! the order that keeps it usable at every moment: package files first, then the database
//! archives, then the names pacman downloads, and only then deletion of what no database
//! references any more.
mod local;
mod s3;

pub use local::LocalTarget;
pub use s3::S3Target;

use crate::alpm::{RepoEntry, read_sync_db};
use crate::config::{Config, TargetConfig};
use crate::repo::{DbFiles, DbNames, RepoTool};
use crate::ui::Reporter;
use async_trait::async_trait;
use camino::{Utf8Path, Utf8PathBuf};
use futures_util::StreamExt;
use std::collections::BTreeSet;
use std::sync::Arc;

/// A sync database larger than this is refused when read from the target.
pub const MAX_DB_FETCH: u64 = 512 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{op} {name} at {target}: {message}")]
    Remote { op: &'static str, name: String, target: String, message: String },
    #[error("I/O error on {path}")]
    Io {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{name} at {target} is larger than {limit} bytes")]
    TooLarge { name: String, target: String, limit: u64 },
    #[error("the published database cannot be read: {0}")]
    Db(#[from] crate::alpm::DbError),
    #[error(transparent)]
    RepoTool(#[from] crate::repo::RepoToolError),
    #[error(
        "{name} at {target} kept changing while publishing ({attempts} attempts); the package files are uploaded but not yet in the database"
    )]
    Conflict { name: String, target: String, attempts: u32 },
    #[error(transparent)]
    Sign(#[from] crate::sign::SignError),
    #[error("cannot lock {path} for publishing")]
    Lock {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What an object is, which decides its Content-Type and Cache-Control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// Package files and their signatures: names are unique, so caches may keep them forever.
    Immutable,
    /// Databases change in place: caches must revalidate.
    Database,
}

impl ObjectKind {
    pub fn of(name: &str) -> ObjectKind {
        if name.contains(".pkg.tar") { ObjectKind::Immutable } else { ObjectKind::Database }
    }

    /// Package files and databases are opaque archives to HTTP; signatures say what they are.
    pub fn content_type(name: &str) -> &'static str {
        if name.ends_with(".sig") { "application/pgp-signature" } else { "application/octet-stream" }
    }

    pub fn cache_control(self) -> &'static str {
        match self {
            ObjectKind::Immutable => "public, max-age=31536000, immutable",
            ObjectKind::Database => "no-cache",
        }
    }
}

/// Where a repository is published. Names are file names relative to the repository root.
#[async_trait]
pub trait Target: Send + Sync {
    /// Where this is, for messages (`s3://bucket/prefix`, a path).
    fn describe(&self) -> String;
    /// An object's bytes, or None when it does not exist.
    async fn fetch(&self, name: &str, limit: u64) -> Result<Option<Vec<u8>>, PublishError>;
    /// Writes an object to a local file.
    async fn download(&self, name: &str, dest: &Utf8Path) -> Result<(), PublishError>;
    /// Creates or replaces an object with a local file's content.
    async fn upload(&self, name: &str, src: &Utf8Path) -> Result<(), PublishError>;
    /// Deletes an object; deleting one that does not exist is not an error.
    async fn delete(&self, name: &str) -> Result<(), PublishError>;
    /// An object's bytes and a token for its version (S3: the ETag), or None when it does not
    /// exist.
    async fn fetch_versioned(&self, name: &str, limit: u64) -> Result<Option<(Vec<u8>, String)>, PublishError>;
    /// Replaces an object only if it is still at version `expected` (None: only if it does not
    /// exist yet). Ok(false) when another writer got there first; nothing was written then.
    async fn upload_if(&self, name: &str, src: &Utf8Path, expected: Option<&str>) -> Result<bool, PublishError>;
    /// Makes every one of `names` (files the live database references) reachable however the
    /// target's readers spell them, writing what an older publish left out (S3: the key AWS
    /// reads for a name with `+`). Returns the objects written; `scratch` is for downloads.
    async fn repair(&self, _names: &[String], _scratch: &Utf8Path) -> Result<usize, PublishError> {
        Ok(0)
    }
    /// Keeps other repoctl processes from publishing here while the guard lives, where the
    /// target has no conditional writes of its own (a local directory: a lock file).
    async fn lock(&self) -> Result<Option<Box<dyn std::any::Any + Send>>, PublishError> {
        Ok(None)
    }
}

/// How many times a publish re-reads the database and re-applies its change after another
/// run replaced the database under it.
pub const MAX_PUBLISH_ATTEMPTS: u32 = 8;

/// Package files uploaded at the same time.
pub const PARALLEL_UPLOADS: usize = 8;

/// The target repo.yaml describes.
pub async fn open_target(config: &Config) -> Result<Arc<dyn Target>, PublishError> {
    Ok(match &config.target {
        TargetConfig::S3(s3) => Arc::new(S3Target::new(s3).await),
        TargetConfig::Local { path } => Arc::new(LocalTarget::new(path.clone())),
    })
}

/// The repository as published now.
pub struct RemoteRepo {
    pub entries: Vec<RepoEntry>,
    /// `NAME.db` as downloaded, None for a new repository.
    pub db: Option<Utf8PathBuf>,
    /// The version of `NAME.db` read, for the conditional write that replaces it.
    pub version: Option<String>,
}

/// Reads the published package list (`name.db`, the name pacman uses). The files database is
/// read only by a publish that changes something ([`read_files_db`]): a run with nothing to do
/// costs one request, however large the file lists are.
pub async fn read_remote(target: &dyn Target, repo: &str, dir: &Utf8Path) -> Result<RemoteRepo, PublishError> {
    let names = DbNames::new(repo);
    let Some((db, version)) = target.fetch_versioned(&names.db, MAX_DB_FETCH).await? else {
        return Ok(RemoteRepo { entries: Vec::new(), db: None, version: None });
    };
    let entries = read_sync_db(&db)?;
    fs_err::create_dir_all(dir).map_err(io(dir))?;
    let db_path = dir.join(&names.db_archive);
    fs_err::write(&db_path, &db).map_err(io(&db_path))?;
    Ok(RemoteRepo { entries, db: Some(db_path), version: Some(version) })
}

/// The published database pair, `NAME.files` fetched now, beside the `NAME.db` that
/// [`read_remote`] read (and after it: writers replace `NAME.files` before `NAME.db`, so it is
/// at least as new). None for a new repository.
pub async fn read_files_db(
    target: &dyn Target,
    repo: &str,
    remote: &RemoteRepo,
) -> Result<Option<DbFiles>, PublishError> {
    let Some(db) = &remote.db else { return Ok(None) };
    let names = DbNames::new(repo);
    let files = db.with_file_name(&names.files_archive);
    match target.fetch(&names.files, MAX_DB_FETCH).await? {
        Some(bytes) => fs_err::write(&files, bytes).map_err(io(&files))?,
        // A files database lost or never made: start one from the package list instead.
        None => fs_err::copy(db, &files).map(drop).map_err(io(&files))?,
    }
    Ok(Some(DbFiles { db: db.clone(), files }))
}

fn io(path: &Utf8Path) -> impl Fn(std::io::Error) -> PublishError + use<> {
    let path = path.to_owned();
    move |source| PublishError::Io { path: path.clone(), source }
}

/// What a publish changes.
pub struct Change<'a> {
    pub repo: &'a str,
    pub add: &'a [Utf8PathBuf],
    /// pkgnames to drop from the database.
    pub remove: &'a [String],
    /// Signs the package files and every new database, when repo.yaml has `sign:`.
    pub signer: Option<&'a crate::sign::Signer>,
}

#[derive(Debug, Default)]
pub struct PublishReport {
    pub uploaded: usize,
    pub deleted: usize,
    /// Times the database was replaced by someone else before this publish could commit.
    pub conflicts: u32,
}

/// Applies `change` to the published repository in the order that keeps it consistent:
///
/// 1. package files (and signatures), which nothing references yet, uploaded while repo-add
///    writes the new database;
/// 2. the database archives and `NAME.files`;
/// 3. `NAME.db`, the commit point, with a conditional write on the version this attempt read;
/// 4. only then, deletion of files the new database no longer references.
///
/// When another run replaced `NAME.db` in between, the write in 3 is refused: the database is
/// read again, this change re-applied to it (repo-add / repo-remove), and the steps repeated,
/// up to [`MAX_PUBLISH_ATTEMPTS`] times. Two runs publishing at once both end up in it.
pub async fn publish(
    target: &dyn Target,
    tool: &RepoTool,
    change: &Change<'_>,
    work: &Utf8Path,
    reporter: &dyn Reporter,
) -> Result<PublishReport, PublishError> {
    let _lock = target.lock().await?;
    let names = DbNames::new(change.repo);
    let mut report = PublishReport::default();
    let mut uploaded: BTreeSet<Utf8PathBuf> = BTreeSet::new();
    if let Some(signer) = change.signer {
        // Before repo-add, which embeds each `.sig` in the database (%PGPSIG%). A `.sig` that
        // came with the file (a shard, an earlier run) is replaced: only this key counts.
        if !change.add.is_empty() {
            reporter.step(&format!("signing {} package file(s) with {}", change.add.len(), signer.fingerprint()));
        }
        for pkg in change.add {
            signer.sign_file(pkg)?;
        }
    }
    for attempt in 1..=MAX_PUBLISH_ATTEMPTS {
        let dir = work.join(format!("attempt-{attempt}"));
        let remote = read_remote(target, change.repo, &dir.join("current")).await?;
        let (mut add, remove) = effective_change(change, &remote.entries, reporter);
        // Packages published before signing was turned on: signed now, in place.
        let resigned = match change.signer {
            Some(signer) => {
                sign_published(target, change, &remote.entries, signer, &dir.join("resign"), reporter).await?
            }
            None => Vec::new(),
        };
        add.extend(resigned.iter().cloned());
        if add.is_empty() && remove.is_empty() {
            if let Some(signer) = change.signer
                && let Some(files) = read_files_db(target, change.repo, &remote).await?
            {
                // Nothing to change, but the signature may be missing (signing just turned
                // on) or stale (a run that lost a race): make it match the live database.
                for (name, path) in [(&names.db, &files.db), (&names.files, &files.files)] {
                    report.uploaded += sign_live(target, name, signer, read_file(path)?, reporter).await?;
                }
            }
            return Ok(report);
        }
        // 1. Package files and signatures: nothing references them yet, so they go up while
        // repo-add writes the new database (the two take about as long as each other).
        let uploads: Vec<Utf8PathBuf> = add
            .iter()
            .flat_map(|p| {
                // A re-signed package is already there: only its new signature goes up.
                let file = (!resigned.contains(p)).then(|| p.clone());
                file.into_iter().chain(crate::repo::tool_signature(p))
            })
            .filter(|p| !uploaded.contains(p))
            .collect();
        if !uploads.is_empty() {
            reporter.step(&format!("uploading {} package file(s) to {}", uploads.len(), target.describe()));
        }
        let files = uploads.into_iter().map(|file| {
            let name = file.file_name().unwrap_or_default().to_string();
            (name, file)
        });
        let next = dir.join("next");
        let processes = crate::repo::repo_add_processes(&add);
        if processes > 1 {
            reporter.step(&format!(
                "adding {} package file(s) to {} with {processes} repo-add processes",
                add.len(),
                names.db
            ));
        }
        let update = async {
            let current = read_files_db(target, change.repo, &remote).await?;
            Ok::<_, PublishError>(tool.update(change.repo, current.as_ref(), &add, &remove, &next).await?)
        };
        let (new, done) = tokio::join!(update, upload_all(target, files));
        for file in done? {
            uploaded.insert(file);
            report.uploaded += 1;
        }
        let new = new?;
        let new_db = read_file(&new.db)?;
        let new_entries = read_sync_db(&new_db)?;
        // The databases' detached signatures, `NAME.db.tar.zst.sig` and `NAME.files.tar.zst.sig`.
        let sigs = match change.signer {
            Some(signer) => Some((signer.sign_file(&new.db)?, signer.sign_file(&new.files)?)),
            None => None,
        };

        // 2. The archives and the files database: real copies, not links.
        reporter.step(&format!("publishing {} and {}", names.db, names.files));
        let mut objects: Vec<(String, Utf8PathBuf)> = vec![
            (names.db_archive.clone(), new.db.clone()),
            (names.files_archive.clone(), new.files.clone()),
            (names.files.clone(), new.files.clone()),
        ];
        if let Some((db_sig, files_sig)) = &sigs {
            objects.push((format!("{}.sig", names.db_archive), db_sig.clone()));
            objects.push((format!("{}.sig", names.files_archive), files_sig.clone()));
            objects.push((format!("{}.sig", names.files), files_sig.clone()));
        }
        report.uploaded += upload_all(target, objects.into_iter()).await?.len();

        // 3. The commit point, only if nobody replaced it since it was read.
        if !target.upload_if(&names.db, &new.db, remote.version.as_deref()).await? {
            reporter.step(&format!(
                "{} changed while publishing (another run?); re-reading it and applying this change again ({attempt}/{MAX_PUBLISH_ATTEMPTS})",
                names.db
            ));
            report.conflicts += 1;
            // Jittered, growing pause so that two runs do not collide again in lockstep.
            let jitter = u64::from(std::process::id() % 7) * 50;
            tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt) + jitter)).await;
            continue;
        }
        report.uploaded += 1;

        // 3b. `NAME.db.sig` follows the database it signs. Between the two writes a client
        // may see the new database with the old signature and must retry `pacman -Sy`: two
        // objects cannot change at once. Unsigned repositories lose stale signatures.
        match (change.signer, &sigs) {
            (Some(signer), Some((db_sig, _))) => {
                target.upload(&format!("{}.sig", names.db), db_sig).await?;
                report.uploaded += 1;
                report.uploaded += settle_db_signature(target, &names, signer, &new_db, reporter).await?;
            }
            _ => {
                let sigs =
                    [&names.db, &names.files, &names.db_archive, &names.files_archive].map(|n| format!("{n}.sig"));
                delete_all(target, sigs).await?;
            }
        }

        // 3c. Files the live database references that an older repoctl published without
        // what this target needs for them (S3: the key AWS reads for a name with `+`).
        let live_files: Vec<String> =
            new_entries.iter().flat_map(|e| [e.filename.clone(), format!("{}.sig", e.filename)]).collect();
        report.uploaded += target.repair(&live_files, &dir.join("repair")).await?;

        // 4. Only now: files that no database references any more.
        let live: BTreeSet<&str> = new_entries.iter().map(|e| e.filename.as_str()).collect();
        let stale: BTreeSet<&str> =
            remote.entries.iter().map(|e| e.filename.as_str()).filter(|f| !live.contains(f)).collect();
        report.deleted += stale.len();
        delete_all(target, stale.iter().flat_map(|f| [f.to_string(), format!("{f}.sig")])).await?;
        return Ok(report);
    }
    Err(PublishError::Conflict { name: names.db.clone(), target: target.describe(), attempts: MAX_PUBLISH_ATTEMPTS })
}

/// Published packages that the database lists without a signature (the repository was
/// unsigned until now), downloaded and signed, so that repo-add embeds the signature and the
/// `.sig` is uploaded beside them. Packages this change adds or removes are left to it.
async fn sign_published(
    target: &dyn Target,
    change: &Change<'_>,
    current: &[RepoEntry],
    signer: &crate::sign::Signer,
    dir: &Utf8Path,
    reporter: &dyn Reporter,
) -> Result<Vec<Utf8PathBuf>, PublishError> {
    let adding: BTreeSet<&str> = change.add.iter().filter_map(|p| p.file_name()).collect();
    let unsigned: Vec<&RepoEntry> = current
        .iter()
        .filter(|e| !e.signed && !adding.contains(e.filename.as_str()) && !change.remove.contains(&e.name))
        .collect();
    if unsigned.is_empty() {
        return Ok(Vec::new());
    }
    reporter.step(&format!("signing {} published package(s) that have no signature yet", unsigned.len()));
    fs_err::create_dir_all(dir).map_err(|source| PublishError::Io { path: dir.to_owned(), source })?;
    let mut files = Vec::new();
    for entry in unsigned {
        let path = dir.join(&entry.filename);
        target.download(&entry.filename, &path).await?;
        signer.sign_file(&path)?;
        files.push(path);
    }
    Ok(files)
}

/// Uploads `(name, local file)` pairs side by side, [`PARALLEL_UPLOADS`] at a time, each
/// streamed from disk so memory stays flat. Returns the files uploaded; the first error wins.
async fn upload_all(
    target: &dyn Target,
    files: impl Iterator<Item = (String, Utf8PathBuf)>,
) -> Result<Vec<Utf8PathBuf>, PublishError> {
    let done: Vec<Result<Utf8PathBuf, PublishError>> = futures_util::stream::iter(files)
        .map(|(name, file)| async move {
            target.upload(&name, &file).await?;
            Ok(file)
        })
        .buffer_unordered(PARALLEL_UPLOADS)
        .collect()
        .await;
    done.into_iter().collect()
}

/// Deletes objects side by side, [`PARALLEL_UPLOADS`] at a time (absent ones are no error);
/// the first error wins.
async fn delete_all(target: &dyn Target, names: impl IntoIterator<Item = String>) -> Result<(), PublishError> {
    let done: Vec<Result<(), PublishError>> = futures_util::stream::iter(names)
        .map(|name| async move { target.delete(&name).await })
        .buffer_unordered(PARALLEL_UPLOADS)
        .collect()
        .await;
    done.into_iter().collect()
}

fn read_file(path: &Utf8Path) -> Result<Vec<u8>, PublishError> {
    fs_err::read(path).map_err(|source| PublishError::Io { path: path.to_owned(), source })
}

/// How many times a publish re-signs a database that another run replaced right after this
/// run's commit.
const MAX_SIGNATURE_SETTLES: u32 = 5;

/// After this run wrote `NAME.db` and `NAME.db.sig`: if another run committed in between, its
/// signature upload may have raced ours, so the live database is read again and signed until
/// the signature matches it. Returns the objects written.
async fn settle_db_signature(
    target: &dyn Target,
    names: &DbNames,
    signer: &crate::sign::Signer,
    ours: &[u8],
    reporter: &dyn Reporter,
) -> Result<usize, PublishError> {
    let mut written = 0;
    let mut signed = ours.to_vec();
    for _ in 0..MAX_SIGNATURE_SETTLES {
        let Some(live) = target.fetch(&names.db, MAX_DB_FETCH).await? else { return Ok(written) };
        if live == signed {
            return Ok(written);
        }
        reporter.step(&format!("{} changed after this run's commit; signing the live database", names.db));
        written += sign_live(target, &names.db, signer, live.clone(), reporter).await?;
        signed = live;
    }
    Ok(written)
}

/// Makes `NAME.sig` a valid signature of `db` (the live content of `name`), uploading one only
/// when the published signature is missing or does not verify. Returns the objects written.
async fn sign_live(
    target: &dyn Target,
    name: &str,
    signer: &crate::sign::Signer,
    db: Vec<u8>,
    reporter: &dyn Reporter,
) -> Result<usize, PublishError> {
    let sig_name = format!("{name}.sig");
    if let Some(sig) = target.fetch(&sig_name, 64 * 1024).await?
        && signer.verify(&db, &sig)
    {
        return Ok(0);
    }
    let sig = signer
        .sign_bytes(&db)
        .map_err(|message| crate::sign::SignError::CannotSign { key: signer.fingerprint().clone(), message })?;
    let tmp = tempfile::NamedTempFile::new().map_err(|source| PublishError::Io { path: "tempfile".into(), source })?;
    let path = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf())
        .unwrap_or_else(|p| p.to_string_lossy().into_owned().into());
    fs_err::write(&path, sig).map_err(|source| PublishError::Io { path: path.clone(), source })?;
    reporter.step(&format!("signing {name} with {}", signer.fingerprint()));
    target.upload(&sig_name, &path).await?;
    Ok(1)
}

/// What a change really does to the database as it is now (another run may have changed it
/// since the plan was made).
///
/// - A file name the database already lists is not uploaded again: package files are served
///   as immutable, and different bytes under a published name break every cache and the
///   checksum pacman verifies. Bump pkgrel to replace a package.
/// - A pkgname that is not in the database is not removed (repo-remove would fail on it).
fn effective_change(
    change: &Change<'_>,
    current: &[RepoEntry],
    reporter: &dyn Reporter,
) -> (Vec<Utf8PathBuf>, Vec<String>) {
    let published: BTreeSet<&str> = current.iter().map(|e| e.filename.as_str()).collect();
    let (add, kept): (Vec<Utf8PathBuf>, Vec<Utf8PathBuf>) =
        change.add.iter().cloned().partition(|p| !published.contains(p.file_name().unwrap_or_default()));
    for p in kept {
        reporter.step(&format!(
            "not replacing {}: already published (bump pkgrel to publish a different build)",
            p.file_name().unwrap_or_default()
        ));
    }
    let names: BTreeSet<&str> = current.iter().map(|e| e.name.as_str()).collect();
    let remove = change.remove.iter().filter(|n| names.contains(n.as_str())).cloned().collect();
    (add, remove)
}
