//! Publishing: where the repository lives ([`Target`]: an S3 bucket or a local directory) and
//! the order that keeps it usable at every moment: package files first, then the database
//! archives, then the names pacman downloads, and only then deletion of what no database
//! references any more.
//!
//! After the database, what describes it: the status object (`NAME.status.json`, [`status`])
//! and the repository page (`index.html`, [`page`]), written by [`describe_repository`]. A
//! crash before them leaves the previous ones, describing an older database; pacman never
//! reads them.
//!
//! A package file's companions, its signature (`FILE.sig`) and its provenance
//! (`FILE.provenance.json`, [`crate::provenance`]), go up with it and are deleted with it: no
//! database ever references a file whose companions are not there yet, and none outlives it.
mod local;
pub mod page;
mod s3;
pub mod status;

pub use local::LocalTarget;
pub use s3::S3Target;

use crate::alpm::{RepoEntry, read_sync_db};
use crate::config::{Config, TargetConfig};
use crate::repo::{DbFiles, DbNames, RepoTool};
use crate::trust::CheckedPackage;
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
    #[error("{op} {name} at {target} failed")]
    Remote {
        op: &'static str,
        name: String,
        target: String,
        /// The SDK's error (boxed: its types stay in `s3`), or what went wrong in words.
        #[source]
        source: crate::cause::BoxError,
    },
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
    /// A package file changed after it was checked, or cannot be read or signed.
    #[error(transparent)]
    Package(#[from] crate::trust::PackageError),
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
    /// Package files, their signatures and provenance: names are unique, so caches may keep
    /// them forever.
    Immutable,
    /// Databases change in place: caches must revalidate.
    Database,
}

impl ObjectKind {
    pub fn of(name: &str) -> ObjectKind {
        if name.contains(".pkg.tar") { ObjectKind::Immutable } else { ObjectKind::Database }
    }

    /// Package files and databases are opaque archives to HTTP; signatures and provenance say
    /// what they are.
    pub fn content_type(name: &str) -> &'static str {
        if name.ends_with(".sig") {
            "application/pgp-signature"
        } else if name.ends_with(".json") {
            // Provenance and status objects.
            "application/json"
        } else if name.ends_with(".html") {
            "text/html; charset=utf-8"
        } else {
            "application/octet-stream"
        }
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
    /// The URL pacman reads this repository from (`Server =`): for S3 the bucket's HTTPS
    /// address (path-style under a configured endpoint), for a directory `file://PATH`.
    fn public_url(&self) -> String;
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

/// How long a publish waits for another publisher's lock ([`Target::lock`]) before it says so.
const LOCK_WAIT_SAID_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// [`Target::lock`], saying so when another publisher has held it for
/// [`LOCK_WAIT_SAID_AFTER`] already. Cancelled (Ctrl-C), it holds nothing.
pub async fn lock(
    target: &dyn Target,
    reporter: &dyn Reporter,
) -> Result<Option<Box<dyn std::any::Any + Send>>, PublishError> {
    let locking = target.lock();
    tokio::pin!(locking);
    tokio::select! {
        guard = &mut locking => return guard,
        () = tokio::time::sleep(LOCK_WAIT_SAID_AFTER) => {}
    }
    reporter.step(&format!("waiting for another publisher to finish with {}", target.describe()));
    locking.await
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
#[derive(Debug, Clone)]
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

/// What a run tells the status object and the page, besides the database.
pub struct Description<'a> {
    pub repo: &'a str,
    /// The run's id ([`status::RunRef::id`]).
    pub run_id: &'a str,
    /// pkgbase -> how its build in this run ended.
    pub results: &'a std::collections::BTreeMap<String, status::PackageStatus>,
    /// pkgbases this run removed from the repository.
    pub forget: &'a [String],
    /// The signing key's fingerprint (uppercase hex, as repo.yaml's `sign.key`), when the
    /// repository is signed.
    pub signing_key: Option<&'a str>,
    /// The AUR's web address (`AUR_LOCATION`), for the page's package links.
    pub aur: &'a str,
    /// The live database as the caller read it, when it did (a run with nothing to do: the
    /// plan's read), so that finding both objects current costs no second read of it.
    pub read: Option<&'a RemoteRepo>,
    /// The status object as the caller read it alongside `read` ([`status::read`]: None inside
    /// when there was none or it could not be used), so that it is not fetched again. Used only
    /// with `read`; never newer than `read` can be trusted to be, so a status object read before
    /// a concurrent publish only makes the objects look out of date, and they are written.
    pub status: Option<&'a Option<status::RepoStatus>>,
}

/// What [`describe_repository`] wrote.
pub struct Described {
    pub status: status::RepoStatus,
    /// Why the status object found on the target could not be used (it was replaced).
    pub replaced: Option<String>,
    /// Packages the live database lists, as the page shows them.
    pub packages: usize,
    /// Both objects were current already: nothing was written.
    pub unchanged: bool,
}

/// After a publish has committed: reads the live `NAME.db`, then writes the status object that
/// describes it ([`status::write`]), then the page ([`page::render`]), in that order, both
/// after the database; `scratch` is for local copies. All three under the target's lock
/// ([`lock`], as a publish takes it): another publisher cannot commit a database between the
/// read and the writes, so the two objects describe the database that is live (issue 24).
///
/// A run with nothing to record (no results, nothing removed) that read the database already
/// ([`Description::read`]) first reads the status object: when it describes that database and
/// was written with the same page inputs ([`page::inputs_key`]), both objects are current and
/// nothing is written ([`Described::unchanged`]): a no-op nightly costs one GET here.
/// Errors: the target fails, or a local file cannot be written.
pub async fn describe_repository(
    target: &dyn Target,
    description: &Description<'_>,
    scratch: &Utf8Path,
    reporter: &dyn Reporter,
) -> Result<Described, PublishError> {
    let page_key = page::inputs_key(&target.public_url(), description.signing_key, description.aur);
    if let Some(current) = already_described(target, description, &page_key).await? {
        let packages = description.read.map_or(0, |r| r.entries.len());
        return Ok(Described { status: current, replaced: None, packages, unchanged: true });
    }
    let _lock = lock(target, reporter).await?;
    let remote = read_remote(target, description.repo, &scratch.join("live")).await?;
    let now = crate::lock::rfc3339(jiff::Timestamp::now().as_second());
    let update = status::Update {
        repo: description.repo,
        run: status::RunRef { id: description.run_id.to_string(), time: now.clone() },
        database: database_digest(&remote)?,
        results: description.results,
        forget: description.forget,
        page: Some(page_key),
    };
    let (written, replaced) = status::write(target, &update, scratch).await?;
    let html = page::render(&page::Page {
        repo: description.repo,
        server: &target.public_url(),
        signing_key: description.signing_key,
        aur: description.aur,
        entries: &remote.entries,
        status: Some(&written),
        generated: &now,
    });
    let path = scratch.join(page::PAGE);
    fs_err::write(&path, html).map_err(io(&path))?;
    target.upload(page::PAGE, &path).await?;
    Ok(Described { status: written, replaced, packages: remote.entries.len(), unchanged: false })
}

/// The status object on the target when it already says everything `description` would (see
/// [`describe_repository`]); None when something is to be written, or the caller read no
/// database.
async fn already_described(
    target: &dyn Target,
    description: &Description<'_>,
    page_key: &str,
) -> Result<Option<status::RepoStatus>, PublishError> {
    let Some(read) = description.read else { return Ok(None) };
    let probe = status::Update {
        repo: description.repo,
        run: status::RunRef { id: description.run_id.to_string(), time: String::new() },
        database: database_digest(read)?,
        results: description.results,
        forget: description.forget,
        page: Some(page_key.to_string()),
    };
    if !probe.is_empty() {
        return Ok(None);
    }
    let current = match description.status {
        Some(read) => read.clone(),
        None => status::read(target, description.repo).await?.0,
    };
    Ok(current.filter(|c| probe.already_in(c)))
}

/// [`status::database_digest`] of the database `remote` read (None: there was none).
fn database_digest(remote: &RemoteRepo) -> Result<Option<String>, PublishError> {
    Ok(match &remote.db {
        Some(db) => Some(status::database_digest(&read_file(db)?)),
        None => None,
    })
}

/// What a publish changes.
pub struct Change<'a> {
    pub repo: &'a str,
    /// Package files to add: only files checked against the lock ([`crate::trust`]) can be.
    pub add: &'a [CheckedPackage],
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
    /// The database as read, when this publish had nothing to change in it (every file was
    /// published already): what [`Description::read`] takes, so that describing an unchanged
    /// repository costs no second read.
    pub unchanged: Option<RemoteRepo>,
    /// Package files not added because the database holds their pkgname at a newer version,
    /// or at the same version in another file: repo-add would have replaced it. Every other
    /// file of their pkgbase was left out too.
    pub refused: Vec<Downgrade>,
}

/// A package file a publish did not add: repo-add would have downgraded (or replaced at the
/// same version) the pkgname the live database holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downgrade {
    pub file: String,
    pub pkgname: String,
    pub pkgbase: String,
    pub version: String,
    /// The live database's entry: its version and file.
    pub published: String,
    pub published_file: String,
}

impl std::fmt::Display for Downgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (file, name, version, published) = (&self.file, &self.pkgname, &self.version, &self.published);
        match crate::alpm::compare_versions(version, published) {
            std::cmp::Ordering::Less => {
                write!(
                    f,
                    "{file} is {name} {version}, older than the published {published}: not added (repo-add would downgrade it)"
                )
            }
            _ => write!(
                f,
                "{file} is {name} {version}, which is published already as {}: not added",
                self.published_file
            ),
        }
    }
}

/// Applies `change` to the published repository in the order that keeps it consistent:
///
/// 1. package files (with their signatures and provenance), which nothing references yet,
///    uploaded while repo-add writes the new database;
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
    let _lock = lock(target, reporter).await?;
    verify_package_files(change, reporter)?;
    let mut publish = Publish::new(target, tool, change, reporter);
    for attempt in 1..=MAX_PUBLISH_ATTEMPTS {
        match publish.attempt(&work.join(format!("attempt-{attempt}"))).await? {
            Attempt::Done => return Ok(publish.report),
            Attempt::Refused => publish.back_off(attempt).await,
        }
    }
    Err(PublishError::Conflict { name: publish.names.db, target: target.describe(), attempts: MAX_PUBLISH_ATTEMPTS })
}

/// Checks that every package file `change` adds still has the bytes that were checked against
/// the lock, and when it has a signer, signs exactly those bytes (`FILE.sig` beside each, read
/// once). Runs before repo-add, which embeds each `.sig` in the database (%PGPSIG%). A `.sig`
/// that came with the file (a shard, an earlier run) is replaced: only this key counts.
/// Errors: a file changed since its check, cannot be read, or the key cannot sign.
fn verify_package_files(change: &Change<'_>, reporter: &dyn Reporter) -> Result<(), PublishError> {
    let Some(signer) = change.signer else {
        return change.add.iter().try_for_each(|pkg| pkg.verify().map_err(PublishError::from));
    };
    if !change.add.is_empty() {
        reporter.step(&format!("signing {} package file(s) with {}", change.add.len(), signer.fingerprint()));
    }
    for pkg in change.add {
        pkg.sign(signer)?;
    }
    Ok(())
}

/// How one attempt of [`publish`] ended.
enum Attempt {
    /// Committed, or there was nothing to commit.
    Done,
    /// Another run replaced `NAME.db` after this attempt read it: nothing was committed.
    Refused,
}

/// What one attempt changes, against the database it read.
struct Edit {
    /// Package files for repo-add: this change's new ones and the re-signed published ones.
    add: Vec<Utf8PathBuf>,
    /// pkgnames for repo-remove.
    remove: Vec<String>,
    /// Published packages signed now: already on the target, only their `.sig` goes up.
    resigned: Vec<Utf8PathBuf>,
    /// What the change would add that the database holds newer ([`effective_change`]).
    refused: Vec<Downgrade>,
}

/// The detached signatures of a new database pair (`NAME.db.tar.zst.sig`, `NAME.files.tar.zst.sig`).
struct DbSignatures {
    db: Utf8PathBuf,
    files: Utf8PathBuf,
}

/// One publish in progress: what it changes and where, and what it has written so far, which
/// is kept across attempts (a package file uploaded by a refused attempt is not uploaded again).
struct Publish<'a> {
    target: &'a dyn Target,
    tool: &'a RepoTool,
    change: &'a Change<'a>,
    reporter: &'a dyn Reporter,
    names: DbNames,
    report: PublishReport,
    /// Package files and signatures uploaded by this or an earlier attempt.
    uploaded: BTreeSet<Utf8PathBuf>,
}

impl<'a> Publish<'a> {
    fn new(target: &'a dyn Target, tool: &'a RepoTool, change: &'a Change<'a>, reporter: &'a dyn Reporter) -> Self {
        let names = DbNames::new(change.repo);
        Publish { target, tool, change, reporter, names, report: PublishReport::default(), uploaded: BTreeSet::new() }
    }

    /// One pass of the commit protocol over the database as it is now, working in `dir`.
    /// Returns [`Attempt::Refused`] when the commit point (step 3) found `NAME.db` replaced;
    /// any other failure is an error, and the published repository is still consistent.
    async fn attempt(&mut self, dir: &Utf8Path) -> Result<Attempt, PublishError> {
        let remote = read_remote(self.target, self.change.repo, &dir.join("current")).await?;
        let edit = self.edit_for(&remote, dir).await?;
        self.report.refused = edit.refused.clone();
        if edit.add.is_empty() && edit.remove.is_empty() {
            self.sign_unchanged_databases(&remote).await?;
            self.report.unchanged = Some(remote);
            return Ok(Attempt::Done);
        }
        // 1. Package files while repo-add writes the new database pair.
        let new = self.upload_packages_while_updating_database(&remote, &edit, dir).await?;
        let new_db = read_file(&new.db)?;
        let new_entries = read_sync_db(&new_db)?;
        let sigs = self.sign_databases(&new)?;
        // 2. The archives and the files database.
        self.upload_database_archives(&new, sigs.as_ref()).await?;
        // 3. The commit point.
        if !self.commit_database(&new, &remote).await? {
            return Ok(Attempt::Refused);
        }
        // 3b. The database's signature, 3c. what older runs left out, 4. deletion.
        self.publish_database_signature(&new_db, sigs.as_ref()).await?;
        self.repair_live_files(&new_entries, dir).await?;
        self.delete_unreferenced(&remote, &new_entries).await?;
        Ok(Attempt::Done)
    }

    /// What this attempt really changes in `remote` ([`effective_change`]), plus the published
    /// packages that have no signature yet, downloaded into `dir/resign` and signed now
    /// ([`sign_published`]) when the change has a signer. Errors: a download or signing fails.
    async fn edit_for(&self, remote: &RemoteRepo, dir: &Utf8Path) -> Result<Edit, PublishError> {
        let (mut add, remove, refused) = effective_change(self.change, &remote.entries, self.reporter);
        // Packages published before signing was turned on: signed now, in place.
        let resigned = match self.change.signer {
            Some(signer) => {
                sign_published(self.target, self.change, &remote.entries, signer, &dir.join("resign"), self.reporter)
                    .await?
            }
            None => Vec::new(),
        };
        add.extend(resigned.iter().cloned());
        Ok(Edit { add, remove, resigned, refused })
    }

    /// With nothing to change, makes `NAME.db.sig` and `NAME.files.sig` match the live
    /// databases when the change has a signer: the signature may be missing (signing just
    /// turned on) or stale (a run that lost a race). Counts what it writes in the report.
    /// Errors: reading or writing the target, or signing.
    async fn sign_unchanged_databases(&mut self, remote: &RemoteRepo) -> Result<(), PublishError> {
        let Some(signer) = self.change.signer else { return Ok(()) };
        let Some(files) = read_files_db(self.target, self.change.repo, remote).await? else { return Ok(()) };
        for (name, path) in [(&self.names.db, &files.db), (&self.names.files, &files.files)] {
            self.report.uploaded += sign_live(self.target, name, signer, read_file(path)?, self.reporter).await?;
        }
        Ok(())
    }

    /// Step 1: uploads the package files of `edit` and their companions (signature,
    /// provenance) that no attempt uploaded yet
    /// (nothing references them, so they go up while repo-add works: the two take about as
    /// long as each other), and meanwhile applies `edit` to `remote` with repo-add /
    /// repo-remove into `dir/next`. Returns the new database pair. Errors: an upload (which
    /// wins over a repo-add error), reading the files database, or the repo tools.
    async fn upload_packages_while_updating_database(
        &mut self,
        remote: &RemoteRepo,
        edit: &Edit,
        dir: &Utf8Path,
    ) -> Result<DbFiles, PublishError> {
        let uploads = package_uploads(edit, &self.uploaded);
        if !uploads.is_empty() {
            self.reporter.step(&format!("uploading {} package file(s) to {}", uploads.len(), self.target.describe()));
        }
        let files = uploads.into_iter().map(|file| (file.file_name().unwrap_or_default().to_string(), file));
        let processes = crate::repo::repo_add_processes(&edit.add);
        if processes > 1 {
            self.reporter.step(&format!(
                "adding {} package file(s) to {} with {processes} repo-add processes",
                edit.add.len(),
                self.names.db
            ));
        }
        let (target, tool, repo, next) = (self.target, self.tool, self.change.repo, dir.join("next"));
        let update = async {
            let current = read_files_db(target, repo, remote).await?;
            Ok::<_, PublishError>(tool.update(repo, current.as_ref(), &edit.add, &edit.remove, &next).await?)
        };
        let (new, done) = tokio::join!(update, upload_all(target, files));
        for file in done? {
            self.uploaded.insert(file);
            self.report.uploaded += 1;
        }
        new
    }

    /// Signs the new database pair when the change has a signer; None otherwise. The
    /// signatures are written beside the archives. Errors: the key cannot sign.
    fn sign_databases(&self, new: &DbFiles) -> Result<Option<DbSignatures>, PublishError> {
        let Some(signer) = self.change.signer else { return Ok(None) };
        Ok(Some(DbSignatures { db: signer.sign_file(&new.db)?, files: signer.sign_file(&new.files)? }))
    }

    /// Step 2: uploads the archives (`NAME.db.tar.zst`, `NAME.files.tar.zst`), `NAME.files`
    /// (real copies, not links) and, when signed, their signatures. Nothing pacman reads
    /// first changes yet. Counts what it writes in the report. Errors: an upload fails.
    async fn upload_database_archives(
        &mut self,
        new: &DbFiles,
        sigs: Option<&DbSignatures>,
    ) -> Result<(), PublishError> {
        let names = &self.names;
        self.reporter.step(&format!("publishing {} and {}", names.db, names.files));
        let mut objects: Vec<(String, Utf8PathBuf)> = vec![
            (names.db_archive.clone(), new.db.clone()),
            (names.files_archive.clone(), new.files.clone()),
            (names.files.clone(), new.files.clone()),
        ];
        if let Some(sigs) = sigs {
            objects.push((format!("{}.sig", names.db_archive), sigs.db.clone()));
            objects.push((format!("{}.sig", names.files_archive), sigs.files.clone()));
            objects.push((format!("{}.sig", names.files), sigs.files.clone()));
        }
        self.report.uploaded += upload_all(self.target, objects.into_iter()).await?.len();
        Ok(())
    }

    /// Step 3, the commit point: replaces `NAME.db` with `new.db` only if it is still at the
    /// version `remote` read. Returns false, having written nothing, when another run got
    /// there first. Errors: the write fails for another reason.
    async fn commit_database(&mut self, new: &DbFiles, remote: &RemoteRepo) -> Result<bool, PublishError> {
        if !self.target.upload_if(&self.names.db, &new.db, remote.version.as_deref()).await? {
            return Ok(false);
        }
        self.report.uploaded += 1;
        Ok(true)
    }

    /// After a refused commit: says so, counts the conflict and waits a jittered, growing
    /// pause (longer with each `attempt`) so that two runs do not collide again in lockstep.
    async fn back_off(&mut self, attempt: u32) {
        self.reporter.step(&format!(
            "{} changed while publishing (another run?); re-reading it and applying this change again ({attempt}/{MAX_PUBLISH_ATTEMPTS})",
            self.names.db
        ));
        self.report.conflicts += 1;
        let jitter = u64::from(std::process::id() % 7) * 50;
        tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt) + jitter)).await;
    }

    /// Step 3b: `NAME.db.sig` follows the database it signs (`new_db`, as committed), then is
    /// settled against a run that committed right after ([`settle_db_signature`]). Between
    /// the two writes a client may see the new database with the old signature and must retry
    /// `pacman -Sy`: two objects cannot change at once. An unsigned repository loses its stale
    /// signatures instead. Counts what it writes in the report. Errors: the target or signing.
    async fn publish_database_signature(
        &mut self,
        new_db: &[u8],
        sigs: Option<&DbSignatures>,
    ) -> Result<(), PublishError> {
        let names = &self.names;
        match (self.change.signer, sigs) {
            (Some(signer), Some(sigs)) => {
                self.target.upload(&format!("{}.sig", names.db), &sigs.db).await?;
                self.report.uploaded += 1;
                self.report.uploaded += settle_db_signature(self.target, names, signer, new_db, self.reporter).await?;
            }
            _ => {
                let sigs =
                    [&names.db, &names.files, &names.db_archive, &names.files_archive].map(|n| format!("{n}.sig"));
                delete_all(self.target, sigs).await?;
            }
        }
        Ok(())
    }

    /// Step 3c: makes the files the live database (`new_entries`) references, and their
    /// companions ([`companions`]), reachable however this target's readers spell them, writing
    /// what an older repoctl left out (S3: the key AWS reads for a name with `+`);
    /// `dir/repair` is scratch space. Counts what it writes in the report. Errors: the target
    /// fails.
    async fn repair_live_files(&mut self, new_entries: &[RepoEntry], dir: &Utf8Path) -> Result<(), PublishError> {
        let live_files: Vec<String> = new_entries.iter().flat_map(|e| with_companions(&e.filename)).collect();
        self.report.uploaded += self.target.repair(&live_files, &dir.join("repair")).await?;
        Ok(())
    }

    /// Step 4, only after the commit: deletes the package files (with their companions:
    /// [`companions`]) that `remote` listed and the new database (`new_entries`) no longer
    /// does. Counts the package files in the report. Errors: a deletion fails.
    async fn delete_unreferenced(
        &mut self,
        remote: &RemoteRepo,
        new_entries: &[RepoEntry],
    ) -> Result<(), PublishError> {
        let live: BTreeSet<&str> = new_entries.iter().map(|e| e.filename.as_str()).collect();
        let stale: BTreeSet<&str> =
            remote.entries.iter().map(|e| e.filename.as_str()).filter(|f| !live.contains(f)).collect();
        self.report.deleted += stale.len();
        delete_all(self.target, stale.iter().flat_map(|f| with_companions(f))).await
    }
}

/// The objects named after a package file that live and die with it: its signature and its
/// provenance object. Either may be absent (an unsigned repository; a file published before
/// provenance existed, or by `repoctl publish` of a file that came without one).
fn companions(file: &str) -> [String; 2] {
    [format!("{file}.sig"), crate::provenance::sidecar_name(file)]
}

/// `file` and its [`companions`]: every object one published package file is.
fn with_companions(file: &str) -> [String; 3] {
    let [sig, provenance] = companions(file);
    [file.to_string(), sig, provenance]
}

/// The local files step 1 uploads for `edit`: each package file with its `.sig` and its
/// provenance object when they are beside it (only the `.sig` of a re-signed package, which is
/// already published with whatever provenance it has), less what `uploaded` holds.
fn package_uploads(edit: &Edit, uploaded: &BTreeSet<Utf8PathBuf>) -> Vec<Utf8PathBuf> {
    edit.add
        .iter()
        .flat_map(|p| {
            let new = !edit.resigned.contains(p);
            let provenance = new.then(|| crate::provenance::sidecar_of(p)).flatten();
            new.then(|| p.clone()).into_iter().chain(crate::repo::tool_signature(p)).chain(provenance)
        })
        .filter(|p| !uploaded.contains(p))
        .collect()
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
    let adding: BTreeSet<&str> = change.add.iter().map(|p| p.file_name()).collect();
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
/// since the plan was made): the package files for repo-add, the pkgnames for repo-remove, and
/// what is refused.
///
/// - A file name the database already lists is not uploaded again: package files are served
///   as immutable, and different bytes under a published name break every cache and the
///   checksum pacman verifies. Bump pkgrel to replace a package.
/// - A file whose pkgname the database holds at a newer version (by vercmp), or at the same
///   version in another file, is refused: repo-add would downgrade it (a lock moved back, a
///   shard built from an older lock, a run that lost a race). Its pkgbase's other files are
///   left out with it, so that a pkgbase is never half updated.
/// - A pkgname that is not in the database is not removed (repo-remove would fail on it).
fn effective_change(
    change: &Change<'_>,
    current: &[RepoEntry],
    reporter: &dyn Reporter,
) -> (Vec<Utf8PathBuf>, Vec<String>, Vec<Downgrade>) {
    let refused = downgrades(change.add, current);
    let refused_bases: BTreeSet<&str> = refused.iter().map(|d| d.pkgbase.as_str()).collect();
    let published: BTreeSet<&str> = current.iter().map(|e| e.filename.as_str()).collect();
    let mut add = Vec::new();
    for p in change.add.iter().filter(|p| !refused_bases.contains(p.pkgbase())) {
        if published.contains(p.file_name()) {
            reporter.step(&format!(
                "not replacing {}: already published (bump pkgrel to publish a different build)",
                p.file_name()
            ));
        } else {
            add.push(p.path().to_owned());
        }
    }
    let names: BTreeSet<&str> = current.iter().map(|e| e.name.as_str()).collect();
    let remove = change.remove.iter().filter(|n| names.contains(n.as_str())).cloned().collect();
    (add, remove, refused)
}

/// The files of `add` that the live database (`current`) holds newer, or at the same version
/// under another file name.
fn downgrades(add: &[CheckedPackage], current: &[RepoEntry]) -> Vec<Downgrade> {
    let live: std::collections::BTreeMap<&str, &RepoEntry> = current.iter().map(|e| (e.name.as_str(), e)).collect();
    add.iter()
        .filter_map(|p| {
            let entry = live.get(p.pkgname())?;
            let older = match crate::alpm::compare_versions(p.version(), &entry.version) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Equal => entry.filename != p.file_name(),
                std::cmp::Ordering::Greater => false,
            };
            older.then(|| Downgrade {
                file: p.file_name().to_string(),
                pkgname: p.pkgname().to_string(),
                pkgbase: p.pkgbase().to_string(),
                version: p.version().to_string(),
                published: entry.version.clone(),
                published_file: entry.filename.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_file_goes_up_with_its_companions_and_a_resigned_one_with_its_signature_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).unwrap();
        let file = |name: &str| {
            let path = dir.join(name);
            fs_err::write(&path, b"x").unwrap();
            path
        };
        let new = file("new-1-1-any.pkg.tar.zst");
        let (new_sig, new_provenance) =
            (file("new-1-1-any.pkg.tar.zst.sig"), file("new-1-1-any.pkg.tar.zst.provenance.json"));
        let old = file("old-1-1-any.pkg.tar.zst");
        let bare = file("bare-1-1-any.pkg.tar.zst");
        let old_sig = file("old-1-1-any.pkg.tar.zst.sig");
        file("old-1-1-any.pkg.tar.zst.provenance.json");
        let edit = Edit {
            add: vec![new.clone(), old.clone(), bare.clone()],
            remove: Vec::new(),
            resigned: vec![old],
            refused: Vec::new(),
        };
        let uploads = package_uploads(&edit, &BTreeSet::new());
        assert_eq!(uploads, [new.clone(), new_sig, new_provenance.clone(), old_sig, bare]);
        let uploaded = BTreeSet::from([new, new_provenance]);
        assert_eq!(package_uploads(&edit, &uploaded).len(), 3, "what an earlier attempt uploaded is not sent again");
    }

    #[test]
    fn a_package_file_lives_and_dies_with_its_signature_and_provenance() {
        assert_eq!(
            with_companions("a-1-1-any.pkg.tar.zst"),
            ["a-1-1-any.pkg.tar.zst", "a-1-1-any.pkg.tar.zst.sig", "a-1-1-any.pkg.tar.zst.provenance.json"]
        );
        assert_eq!(ObjectKind::of("a-1-1-any.pkg.tar.zst.provenance.json"), ObjectKind::Immutable);
        assert_eq!(ObjectKind::content_type("a-1-1-any.pkg.tar.zst.provenance.json"), "application/json");
        assert_eq!(ObjectKind::content_type("a-1-1-any.pkg.tar.zst.sig"), "application/pgp-signature");
    }
}
