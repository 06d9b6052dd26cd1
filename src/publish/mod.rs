//! Publishing: where the repository lives ([`Target`]: an S3 bucket or a local directory) and
//! the order that keeps it usable at every moment: package files first, then the database
//! archives, then the names pacman downloads, and only then deletion of what no database
//! references any more.
//!
//! After the database, what describes it: the run's build logs (`logs/PKGBASE/RUN.log`,
//! [`logs`]), the status object (`NAME.status.json`, [`status`]; with `NAME.status.json.sig`
//! in a signed repository, [`status::trusted`]), the repository page
//! (`index.html`, [`page`]) and the Atom feed (`NAME.atom`, [`feed`]), written by
//! [`describe_repository`]. A crash before them leaves the previous ones, describing an older
//! database; pacman never reads them.
//!
//! A package file's companions, its signature (`FILE.sig`) and its provenance
//! (`FILE.provenance.json`, [`crate::provenance`]), go up with it and are deleted with it: no
//! database ever references a file whose companions are not there yet, and none outlives it.
mod adopt;
pub mod feed;
pub mod gate;
pub mod history;
mod live;
mod local;
pub mod logs;
mod packages;
pub mod page;
pub mod rollback;
mod s3;
pub mod status;

pub use adopt::{Adoption, adopt};
pub use live::{
    Live, check_conditional_writes, history, read_files_db, read_trusted, republish_signature, trust_remote,
};
pub use local::LocalTarget;
pub use s3::S3Target;

use crate::alpm::{RepoEntry, read_sync_db};
use crate::config::{Config, TargetConfig};
use crate::repo::{DbFiles, DbNames, RepoTool};
use crate::trust::CheckedPackage;
use crate::trust::signed::{History, TrustedDb};
use crate::ui::Reporter;
use async_trait::async_trait;
use camino::{Utf8Path, Utf8PathBuf};
use futures_util::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
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
    /// The live database cannot be built on (issue 24): nothing was written.
    #[error("the published repository cannot be trusted; nothing was written")]
    Untrusted(#[from] crate::trust::signed::Untrusted),
    #[error("{target} does not refuse conditional writes whose condition fails: it ignored {missing}")]
    NoConditionalWrites { target: String, missing: String },
    #[error("{name} at {target} cannot be adopted: {problems}")]
    Adopt { name: String, target: String, problems: String },
    /// repo-add wrote a database that does not say what this run checked: nothing was written.
    #[error("the new database does not say what was checked, so nothing was published")]
    UnexpectedEntry(#[from] crate::trust::signed::UnexpectedEntry),
    /// A snapshot ([`history`]) or the holds object is missing or cannot be used.
    #[error("snapshot {id} cannot be used: {why}")]
    History { id: String, why: String },
    /// A snapshot's database does not pass the checks a live one must ([`rollback`]): nothing
    /// was written.
    #[error("snapshot {id} cannot be trusted; nothing was rolled back")]
    UntrustedSnapshot {
        id: String,
        #[source]
        source: crate::trust::signed::Untrusted,
    },
    /// Another publish committed `NAME.db` while a rollback was preparing: the rollback wrote
    /// nothing (the other publish is not lost).
    #[error("{name} at {target} changed while rolling back (another publish committed first); nothing was rolled back")]
    RollbackRace { name: String, target: String },
}

/// What [`Target::create`] found under the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// Nothing was there: the object is this file now.
    New,
    /// An object with the same bytes was there already (nothing was written).
    Same,
    /// An object with other bytes is there; it was left as it is.
    Other,
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
    /// Package files and their companions, and build logs ([`logs`]: one name per run).
    pub fn of(name: &str) -> ObjectKind {
        if name.contains(".pkg.tar") || is_log(name) { ObjectKind::Immutable } else { ObjectKind::Database }
    }

    /// `gzip` for a build log on S3 ([`Target::upload_log`]); None for every other object.
    pub fn content_encoding(name: &str) -> Option<&'static str> {
        is_log(name).then_some("gzip")
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
        } else if is_log(name) {
            "text/plain; charset=utf-8"
        } else if name.ends_with(".atom") {
            // RFC 4287, section 7.
            "application/atom+xml"
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

/// Whether `name` is a build log (`logs/PKGBASE/RUN.log`).
fn is_log(name: &str) -> bool {
    name.starts_with("logs/") && name.ends_with(".log")
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
    /// Writes an object of at most `limit` bytes to a local file. Errors:
    /// [`PublishError::TooLarge`] when it is larger (what was written of it stays in `dest`).
    async fn download(&self, name: &str, dest: &Utf8Path, limit: u64) -> Result<(), PublishError>;
    /// Creates or replaces an object with a local file's content.
    async fn upload(&self, name: &str, src: &Utf8Path) -> Result<(), PublishError>;
    /// Creates an object with a local file's content only where there is none: never over
    /// another object (S3: `If-None-Match: *`; a directory: a hard link). Says what it found.
    /// How package files and their companions are written (issue 24, item 2).
    async fn create(&self, name: &str, src: &Utf8Path) -> Result<Created, PublishError>;
    /// Creates or replaces the build log `name` ([`logs`]) with the text in the local file
    /// `text`, stored as a browser reads it from this target: here, as it is (a directory is
    /// served as files: a web server would not say a gzip file is gzip-encoded). S3 stores it
    /// gzip-compressed with `Content-Encoding: gzip`.
    async fn upload_log(&self, name: &str, text: &Utf8Path) -> Result<(), PublishError> {
        self.upload(name, text).await
    }
    /// Deletes an object; deleting one that does not exist is not an error.
    async fn delete(&self, name: &str) -> Result<(), PublishError>;
    /// Whether an object exists (S3: HeadObject), without reading it.
    async fn exists(&self, name: &str) -> Result<bool, PublishError>;
    /// The names of every object under `prefix` (a folder such as `history/`, ending in `/`),
    /// sorted as bytes: S3 lists keys in UTF-8 binary order, and a directory's walk is sorted
    /// to match. Errors: the target.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, PublishError>;
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
    /// What names this target in the work directory's record of targets whose conditional
    /// writes were checked ([`check_conditional_writes`]); None when there is nothing to check
    /// (a directory: its lock file takes their place).
    fn probe_key(&self) -> Option<String> {
        None
    }
    /// Checks that the target refuses a create over an existing object (`If-None-Match: *`)
    /// and a write naming another version (`If-Match`), writing and deleting an object of its
    /// own. Errors: [`PublishError::NoConditionalWrites`] naming what it ignored.
    async fn probe_conditional_writes(&self) -> Result<(), PublishError> {
        Ok(())
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
    /// The pkgbases the run's plan knows ([`status::Update::known`]).
    pub known: Option<&'a [String]>,
    /// How the status object is checked and signed ([`status::Signing`]): the repository's
    /// signer when it is signed (the page names its key), or unsigned.
    pub signing: status::Signing<'a>,
    /// The AUR's web address (`AUR_LOCATION`), for the page's package links.
    pub aur: &'a str,
    /// The live database as the caller read it, when it did (a run with nothing to do: the
    /// plan's read), so that finding both objects current costs no second read of it.
    pub read: Option<&'a RemoteRepo>,
    /// The status object as the caller read it alongside `read` and checked ([`status::read`]),
    /// so that it is not fetched again. Used only with `read`, and only when it is trusted
    /// ([`status::StatusRead::trusted`]: one that does not verify is never current); never newer
    /// than `read` can be trusted to be, so a status object read before a concurrent publish
    /// only makes the objects look out of date, and they are written.
    pub status: Option<&'a status::StatusRead>,
    /// Today's official repositories, when the caller read them: the page names the packages
    /// that do not install ([`page::Page::uninstallable`]). None: it names none.
    pub official: Option<&'a crate::official::OfficialRepos>,
    /// pkgbase -> this run's local build log of it, published as `logs/PKGBASE/RUN.log`
    /// ([`logs`]); a pkgbase of `results` without one gets no log.
    pub logs: &'a BTreeMap<String, Utf8PathBuf>,
    /// How many logs of each pkgbase stay published (repo.yaml's `logs.keep`).
    pub keep_logs: usize,
}

/// What [`describe_repository`] wrote.
pub struct Described {
    pub status: status::RepoStatus,
    /// Why the status object found on the target could not be used (it was replaced).
    pub replaced: Option<String>,
    /// Why the status object found did not verify under the key, when it did not: it was
    /// rewritten signed, with only its display fields ([`status::RepoStatus::for_display`]).
    pub unverified: Option<String>,
    /// Packages the live database lists, as the page shows them.
    pub packages: usize,
    /// Both objects were current already: nothing was written.
    pub unchanged: bool,
}

/// After a publish has committed: reads the live `NAME.db` (with the status object and the
/// dailies beside it), then publishes this run's build logs ([`logs`]: new names, which nothing
/// refers to yet), then writes the status object that describes it ([`status::write`]) with
/// the page ([`page::render`]) and the feed ([`feed::render`]) made from it beside it, all
/// after the database, and last deletes the logs the
/// status object no longer lists (`logs.keep`); `scratch` is for local copies. All under the
/// target's lock ([`lock`], as a publish takes it): another publisher cannot commit a database
/// between the read and the writes, so the objects describe the database that is live (issue 24).
///
/// A run with nothing to record (no results, nothing removed) that read the database already
/// ([`Description::read`]) first reads the status object: when it describes that database and
/// was written with the same page inputs ([`page::inputs_key`]), the objects are current and
/// nothing is written ([`Described::unchanged`]): a no-op nightly costs one GET here (two
/// side by side in a signed repository: the object and its signature, which must verify).
/// Errors: the target fails, or a local file cannot be written.
pub async fn describe_repository(
    target: &dyn Target,
    description: &Description<'_>,
    scratch: &Utf8Path,
    reporter: &dyn Reporter,
) -> Result<Described, PublishError> {
    let missing = |entries: &[RepoEntry]| {
        description.official.map(|o| crate::official::installable::unsatisfied(entries, o)).unwrap_or_default()
    };
    let signing_key = description.signing.fingerprint().map(|f| f.to_string());
    let key = |uninstallable: &[crate::official::Unsatisfied]| {
        page::inputs_key(&target.public_url(), signing_key.as_deref(), description.aur, uninstallable)
    };
    let page_key = key(&description.read.map(|r| missing(&r.entries)).unwrap_or_default());
    if let Some(current) = already_described(target, description, &page_key).await? {
        let packages = description.read.map_or(0, |r| r.entries.len());
        let status = current.into_status();
        return Ok(Described { status, replaced: None, unverified: None, packages, unchanged: true });
    }
    let _lock = lock(target, reporter).await?;
    let (remote, dailies, first) = live_and_dailies(target, description, scratch).await?;
    let uninstallable = missing(&remote.entries);
    let now = crate::lock::rfc3339(jiff::Timestamp::now().as_second());
    let results = publish_logs(target, description, scratch).await?;
    let update = status::Update {
        repo: description.repo,
        run: status::RunRef { id: description.run_id.to_string(), time: now.clone() },
        database: database_digest(&remote)?,
        results: &results,
        forget: description.forget,
        page: Some(key(&uninstallable)),
        known: description.known,
        published: remote.entries.iter().map(|e| e.base.clone()).collect(),
        keep_logs: description.keep_logs,
        published_now: published_now(&remote.entries, &results, &now),
    };
    // The page and the feed are made from the object as merged, and written beside it.
    let shown = Shown { remote: &remote, uninstallable: &uninstallable, dailies: &dailies, now: &now };
    let beside = |status: status::RepoStatus| write_page_and_feed(target, description, shown, status, scratch);
    let written = status::write(target, &update, description.signing, scratch, Some(first), beside).await?;
    let dropped: Vec<String> = written.dropped_logs.into_iter().filter(|n| logs::is_log_name(n)).collect();
    delete_all(target, dropped).await?;
    let (packages, unverified) = (remote.entries.len(), written.unverified);
    Ok(Described { status: written.status, replaced: written.replaced, unverified, packages, unchanged: false })
}

/// What the page shows besides the status object: the live database's entries, the packages
/// that do not install, the daily repositories, and when it was made (RFC 3339, UTC).
#[derive(Clone, Copy)]
struct Shown<'a> {
    remote: &'a RemoteRepo,
    uninstallable: &'a [crate::official::Unsatisfied],
    dailies: &'a [String],
    now: &'a str,
}

/// Writes the page ([`page::render`]) and the feed ([`feed::render`]) made from `status` and
/// `shown`, side by side; `scratch` holds the local copies. Errors: the target.
async fn write_page_and_feed(
    target: &dyn Target,
    description: &Description<'_>,
    shown: Shown<'_>,
    status: status::RepoStatus,
    scratch: &Utf8Path,
) -> Result<(), PublishError> {
    let signing_key = description.signing.fingerprint().map(|f| f.to_string());
    let html = page::render(&page::Page {
        repo: description.repo,
        server: &target.public_url(),
        signing_key: signing_key.as_deref(),
        aur: description.aur,
        entries: &shown.remote.entries,
        status: Some(&status),
        generated: shown.now,
        uninstallable: shown.uninstallable,
        dailies: shown.dailies,
    });
    tokio::try_join!(
        upload_text(target, page::PAGE, &html, scratch),
        write_feed(target, description, &status, shown.now, scratch)
    )?;
    Ok(())
}

/// The live database of the repository (read into `scratch/live`), its daily repositories
/// ([`history::dailies`]) and its status object as [`status::write`] starts from, read side by
/// side: over a slow link each is a round trip or more. Dailies that cannot be listed are none
/// (said in the log). Errors: reading the database or the status object.
async fn live_and_dailies(
    target: &dyn Target,
    description: &Description<'_>,
    scratch: &Utf8Path,
) -> Result<(RemoteRepo, Vec<String>, status::ReadForWrite), PublishError> {
    let (live, repo) = (scratch.join("live"), description.repo);
    let (remote, dailies, status) = tokio::join!(
        read_remote(target, repo, &live),
        history::dailies(target, repo),
        status::read_for_write(target, repo, description.signing.key())
    );
    let dailies = dailies.unwrap_or_else(|e| {
        tracing::warn!("the daily snapshots cannot be listed, the page names none: {e}");
        Vec::new()
    });
    Ok((remote?, dailies, status?))
}

/// This run's results, each with its build log published ([`logs::publish`], from
/// [`Description::logs`]) and named in [`status::PackageStatus::log`]. Errors: the target, or
/// a local file.
async fn publish_logs(
    target: &dyn Target,
    description: &Description<'_>,
    scratch: &Utf8Path,
) -> Result<BTreeMap<String, status::PackageStatus>, PublishError> {
    let mut results = description.results.clone();
    for (base, entry) in results.iter_mut() {
        let Some(local) = description.logs.get(base).filter(|l| l.is_file()) else { continue };
        entry.log = Some(logs::publish(target, base, description.run_id, local, scratch).await?);
    }
    Ok(results)
}

/// The pkgname versions of `live` (the database just committed) that this run's `results`
/// built: one feed entry each ([`feed::Published`]), published at `now`.
fn published_now(
    live: &[RepoEntry],
    results: &BTreeMap<String, status::PackageStatus>,
    now: &str,
) -> Vec<feed::Published> {
    let built = |e: &&RepoEntry| {
        results
            .get(&e.base)
            .filter(|r| r.result == status::BuildResult::Built && r.version.as_ref() == Some(&e.version))
    };
    live.iter()
        .filter_map(|e| built(&e).map(|r| (e, r)))
        .map(|(e, r)| feed::Published {
            pkgname: e.name.clone(),
            version: e.version.clone(),
            pkgbase: e.base.clone(),
            file: e.filename.clone(),
            commit: r.commit.clone(),
            log: r.log.clone(),
            time: now.to_string(),
        })
        .collect()
}

/// Writes `NAME.atom` ([`feed::render`]) from what `status` records. Errors: the target, or
/// the local copy.
async fn write_feed(
    target: &dyn Target,
    description: &Description<'_>,
    status: &status::RepoStatus,
    now: &str,
    scratch: &Utf8Path,
) -> Result<(), PublishError> {
    let server = target.public_url();
    let (repo, aur, entries) = (description.repo, description.aur, &status.feed);
    let text = feed::render(&feed::Feed { repo, server: &server, aur, generated: now, entries });
    upload_text(target, &feed::object_name(repo), &text, scratch).await
}

/// Writes `text` to `scratch/NAME` and uploads it as `name` (replacing what is there).
async fn upload_text(target: &dyn Target, name: &str, text: &str, scratch: &Utf8Path) -> Result<(), PublishError> {
    let path = scratch.join(name);
    fs_err::write(&path, text).map_err(io(&path))?;
    target.upload(name, &path).await
}

/// The status object on the target when it already says everything `description` would (see
/// [`describe_repository`]); None when something is to be written, the caller read no
/// database, or the object does not verify ([`status::TrustedStatus`]: a forged one that
/// claims to be current must not stop its rewrite). An adoption always writes it, signed.
async fn already_described(
    target: &dyn Target,
    description: &Description<'_>,
    page_key: &str,
) -> Result<Option<status::TrustedStatus>, PublishError> {
    let Some(read) = description.read else { return Ok(None) };
    if matches!(description.signing, status::Signing::Adopting(_)) {
        return Ok(None);
    }
    let probe = status::Update {
        repo: description.repo,
        run: status::RunRef { id: description.run_id.to_string(), time: String::new() },
        database: database_digest(read)?,
        results: description.results,
        forget: description.forget,
        page: Some(page_key.to_string()),
        known: description.known,
        published: read.entries.iter().map(|e| e.base.clone()).collect(),
        keep_logs: description.keep_logs,
        published_now: Vec::new(),
    };
    if !probe.is_empty() {
        return Ok(None);
    }
    let current = match description.status {
        Some(read) => read.trusted().cloned(),
        None => status::read(target, description.repo, description.signing.key()).await?.trusted().cloned(),
    };
    Ok(current.filter(|c| probe.already_in(c.status())))
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
    /// Signs the package files and every new database, when repo.yaml has `sign:`; the live
    /// database must then verify under its key before anything is built on it.
    pub signer: Option<&'a crate::sign::Signer>,
    /// The databases this work directory committed: each commit is recorded, and one it
    /// replaced is refused when found live again ([`History`]).
    pub history: &'a History,
    /// Today's official repositories: the publish gate ([`gate`]) refuses the parts of the
    /// change that would leave a package depending on something neither they nor the
    /// repository provide.
    pub official: &'a crate::official::OfficialRepos,
    /// Keep a snapshot of each database committed ([`history`]), and the package files kept
    /// snapshots list; None for a repository without history (`NAME-debug`, `sign --adopt`).
    pub snapshots: Option<Snapshots<'a>>,
}

/// How a publish keeps history ([`history`]).
#[derive(Debug, Clone, Copy)]
pub struct Snapshots<'a> {
    /// The run's id, recorded with each snapshot ([`history::Record::run`]).
    pub run_id: &'a str,
    /// How long a snapshot is kept (repo.yaml's `snapshots.keep`); the newest is always kept,
    /// unless this is zero: then none is kept, and those there are expire.
    pub keep: std::time::Duration,
}

/// A package file a publish did not commit: its name holds other bytes on the target (another
/// run's build of the same version), which no database lists and, in a signed repository, no
/// signature by the key vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The package file's name.
    pub file: String,
    /// Its pkgbase (every file of it is left out, so that a split package is never half new).
    pub pkgbase: String,
    /// One line: why.
    pub reason: String,
    /// True when its name holds other bytes on the target; false when the live database holds
    /// its pkgname newer ([`Downgrade`]).
    pub taken: bool,
}

impl From<&Downgrade> for Refused {
    fn from(d: &Downgrade) -> Refused {
        Refused { file: d.file.clone(), pkgbase: d.pkgbase.clone(), reason: d.to_string(), taken: false }
    }
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
    pub downgrades: Vec<Downgrade>,
    /// Package files left out because their names hold other bytes ([`Refused`]), or because
    /// the gate refused their pkgbase ([`gate::Culprit::Add`]).
    pub refused: Vec<Refused>,
    /// The parts of the change the publish gate refused ([`gate`]): each addition is in
    /// `refused` too; each removal it refused left that package in the repository.
    pub stranded: Vec<gate::Strand>,
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
/// 0. the live database read and trusted ([`read_trusted`]: in a signed repository it must
///    verify under the key, or nothing is written);
/// 1. package files (with their signatures and provenance), which nothing references yet,
///    created (never over other bytes: [`Target::create`]) while repo-add writes the new
///    database;
/// 2. the database archives and `NAME.files`, signed, with the signatures under their digest
///    names ([`crate::trust::signed::digest_signature_name`]);
/// 3. `NAME.db`, the commit point, with a conditional write on the version this attempt read,
///    then `NAME.db.sig`;
/// 4. only then, deletion of files no database references any more, the live database read
///    again just before.
///
/// When another run replaced `NAME.db` in between, the write in 3 is refused: the database is
/// read again, this change re-applied to it (repo-add / repo-remove), and the steps repeated,
/// up to [`MAX_PUBLISH_ATTEMPTS`] times. Two runs publishing at once both end up in it. When a
/// package file's name holds other bytes (step 1), the next attempt takes the live object
/// where the database lists it or the key's signature vouches for it, and otherwise leaves that
/// pkgbase out ([`PublishReport::refused`]).
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
            Attempt::Done => return Ok(publish.finish()),
            Attempt::Refused => publish.back_off(attempt).await,
            Attempt::Taken => {}
        }
    }
    Err(PublishError::Conflict { name: publish.names.db, target: target.describe(), attempts: MAX_PUBLISH_ATTEMPTS })
}

/// Checks that every package file `change` adds still has the bytes that were checked against
/// the lock, and when it has a signer, signs exactly those bytes (`FILE.sig` beside each, read
/// once). Runs before repo-add, which embeds each `.sig` in the database (%PGPSIG%). A `.sig`
/// that came with the file (a shard, an earlier run) is replaced: only this key counts.
/// The one place a publish signs package files (`sign --adopt` signs what it checked:
/// [`crate::trust::signed::sign_adopted`]).
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
    /// A package file's name held other bytes: nothing was committed; the next attempt decides
    /// what to do with it ([`Publish::settle_taken`]).
    Taken,
}

/// What one attempt changes, against the database it read.
struct Edit {
    /// Package files for repo-add: this change's new ones, and live objects taken as they are.
    add: Vec<Utf8PathBuf>,
    /// pkgnames for repo-remove.
    remove: Vec<String>,
    /// Package files already on the target, as they are there (downloaded): only a missing or
    /// invalid `.sig` goes up.
    live: Vec<Utf8PathBuf>,
    /// The new database is made from `add` alone, not from the live one (`sign --adopt`, which
    /// re-adds every file it checked).
    fresh: bool,
}

impl Edit {
    fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// The detached signatures of a new database pair (`NAME.db.tar.zst.sig`, `NAME.files.tar.zst.sig`).
struct DbSignatures {
    db: Utf8PathBuf,
    files: Utf8PathBuf,
}

/// The new database pair, each archive checked against what the run checked.
struct CheckedDbFiles {
    db: crate::trust::signed::CheckedDatabase,
    files: crate::trust::signed::CheckedDatabase,
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
    /// Package files placed on the target (created, or found there with the same bytes) by
    /// this or an earlier attempt, with their companions.
    placed: BTreeSet<Utf8PathBuf>,
    /// This change's package files whose names hold other bytes, found by an attempt.
    taken: BTreeSet<Utf8PathBuf>,
    /// Live objects taken in their place: local name -> the downloaded copy, checked
    /// ([`packages::take_live`]).
    adopted: BTreeMap<Utf8PathBuf, CheckedPackage>,
    /// pkgbase of each package file name, from the last database repo-add wrote.
    bases: BTreeMap<String, String>,
}

impl<'a> Publish<'a> {
    fn new(target: &'a dyn Target, tool: &'a RepoTool, change: &'a Change<'a>, reporter: &'a dyn Reporter) -> Self {
        Publish {
            target,
            tool,
            change,
            reporter,
            names: DbNames::new(change.repo),
            report: PublishReport::default(),
            placed: BTreeSet::new(),
            taken: BTreeSet::new(),
            adopted: BTreeMap::new(),
            bases: BTreeMap::new(),
        }
    }

    /// The report, with each pkgbase the gate refused among the refused files.
    fn finish(mut self) -> PublishReport {
        for strand in &self.report.stranded {
            let gate::Culprit::Add { pkgbase } = &strand.culprit else { continue };
            let file = self.change.add.iter().find(|p| p.pkgbase() == pkgbase).map(|p| p.file_name().to_string());
            let reason = strand.to_string();
            self.report.refused.push(Refused {
                file: file.unwrap_or_default(),
                pkgbase: pkgbase.clone(),
                reason,
                taken: false,
            });
        }
        self.report
    }

    /// One pass of the commit protocol over the database as it is now, working in `dir`.
    /// Returns [`Attempt::Refused`] when the commit point (step 3) found `NAME.db` replaced;
    /// any other failure is an error, and the published repository is still consistent.
    async fn attempt(&mut self, dir: &Utf8Path) -> Result<Attempt, PublishError> {
        let (change, history) = (self.change, self.change.history);
        let live = read_trusted(
            self.target,
            change.repo,
            change.signer.map(crate::sign::Signer::public),
            history,
            &dir.join("current"),
        )
        .await?;
        let edit = self.edit_for(&live.trusted, dir).await?;
        if edit.is_empty() {
            self.report.uploaded += republish_signature(self.target, change.repo, &live.trusted, dir).await?;
            self.report.unchanged = Some(live.remote);
            return Ok(Attempt::Done);
        }
        self.commit_edit(&live, &edit, dir).await
    }

    /// Steps 1 to 4 of [`publish`] for `edit` on `live`, working in `dir`. Errors: the target,
    /// the repo tools or signing; the published repository is consistent whatever fails.
    async fn commit_edit(&mut self, live: &Live, edit: &Edit, dir: &Utf8Path) -> Result<Attempt, PublishError> {
        // 1. Package files while repo-add writes the new database pair.
        let (new, taken) = self.upload_packages_while_updating_database(live, edit, dir).await?;
        let new_db = read_file(&new.db)?;
        let new_entries = read_sync_db(&new_db)?;
        self.bases.extend(new_entries.iter().map(|e| (e.filename.clone(), e.base.clone())));
        if !taken.is_empty() {
            self.taken.extend(taken);
            return Ok(Attempt::Taken);
        }
        let checked = self.check_new_databases(&live.trusted, edit, &new)?;
        let sigs = self.sign_databases(&live.trusted, &checked)?;
        // 2. The archives and the files database.
        self.upload_database_archives(&new, sigs.as_ref()).await?;
        // 3. The commit point.
        if !self.commit_database(&new, &live.remote).await? {
            return Ok(Attempt::Refused);
        }
        if let Err(e) = self.change.history.record(&self.names.db, &new_db) {
            tracing::warn!("cannot record the committed {} in the work directory: {e}", self.names.db);
        }
        // 3b. The database's signature, 3c. its snapshot, 3d. what older runs left out and
        // which snapshots expire, side by side (see `read_retention`), then 4. deletion.
        let stale = Self::stale_files(live, &new_entries);
        let (signed, kept, repaired, retention) = tokio::join!(
            self.publish_database_signature(sigs.as_ref()),
            self.keep_snapshot(live, &new, (&new_db, &new_entries), sigs.as_ref(), dir),
            self.repair_live_files(&new_entries, dir),
            self.read_retention(&stale),
        );
        self.report.uploaded += signed? + kept + repaired?;
        self.delete_unreferenced((live, &new, &new_entries), stale, retention, dir).await?;
        Ok(Attempt::Done)
    }

    /// What this attempt really changes in `trusted` ([`effective_change`]), after the files
    /// whose names held other bytes are settled ([`Publish::settle_taken`]). Errors: the target.
    async fn edit_for(&mut self, trusted: &TrustedDb, dir: &Utf8Path) -> Result<Edit, PublishError> {
        self.settle_taken(trusted, dir).await?;
        self.report.downgrades = downgrades(self.change.add, trusted.entries());
        let downgraded = self.report.downgrades.iter().map(|d| d.pkgbase.as_str());
        let refused: BTreeSet<&str> =
            self.report.refused.iter().map(|r| r.pkgbase.as_str()).chain(downgraded).collect();
        // A file taken from the target stands in for this run's build: the gate reads its own
        // `.PKGINFO` (the two builds may differ in what makepkg found to depend on).
        let candidates: Vec<&CheckedPackage> = self
            .change
            .add
            .iter()
            .filter(|p| !refused.contains(p.pkgbase()))
            .map(|p| self.adopted.get(p.path()).unwrap_or(p))
            .collect();
        // The gate: nothing this change strands goes in (issue 26).
        let (admitted, strands) = gate::admit(trusted.entries(), candidates, self.change.remove, self.change.official);
        for strand in strands.iter().filter(|s| !self.report.stranded.contains(s)) {
            self.reporter.step(&strand.to_string());
        }
        self.report.stranded = strands;
        let wanted: Vec<Utf8PathBuf> = admitted.add().iter().map(|p| p.path().to_owned()).collect();
        let (add, remove) = effective_change(&wanted, admitted.remove(), trusted.entries(), self.reporter);
        let live = add.iter().filter(|p| self.adopted.values().any(|a| a.path() == *p)).cloned().collect();
        Ok(Edit { add, remove, live, fresh: false })
    }

    /// The files an earlier attempt found taken (their names hold other bytes): when the live
    /// database lists the name, [`effective_change`] keeps its entry; else, in a signed
    /// repository, the live object is taken when its `.sig` is a valid signature of it by the
    /// key ([`packages::take_live`], into `dir/live`); else its pkgbase is refused. Errors: the
    /// target.
    async fn settle_taken(&mut self, trusted: &TrustedDb, dir: &Utf8Path) -> Result<(), PublishError> {
        let listed: BTreeSet<&str> = trusted.entries().iter().map(|e| e.filename.as_str()).collect();
        for file in std::mem::take(&mut self.taken) {
            let name = file.file_name().unwrap_or_default().to_string();
            if listed.contains(name.as_str()) || self.adopted.contains_key(&file) {
                continue;
            }
            let ours = self.change.add.iter().find(|p| p.path() == file);
            if let (Some(signer), Some(ours)) = (self.change.signer, ours)
                && let Some(copy) = packages::take_live(self.target, ours, signer, &dir.join("live")).await?
            {
                self.reporter.step(&format!(
                    "{name} is already on {} with other bytes, signed by this key: publishing that build instead of this run's",
                    self.target.describe()
                ));
                self.adopted.insert(file, copy);
                continue;
            }
            let pkgbase = self.bases.get(&name).cloned().unwrap_or_else(|| name.clone());
            let reason = format!(
                "{name} is already on {} with other bytes that no database lists{}: another run is publishing the same version, or one stopped before its commit",
                self.target.describe(),
                if self.change.signer.is_some() {
                    " and that are not a build of this PKGBUILD signed by this key"
                } else {
                    ""
                }
            );
            self.reporter.step(&format!("not publishing {pkgbase}: {reason}"));
            self.report.refused.push(Refused { file: name, pkgbase, reason, taken: true });
        }
        Ok(())
    }

    /// Step 1: places the package files of `edit` on the target ([`packages::place_all`]:
    /// created, each before its companions, never over other bytes) while applying `edit` to
    /// `live` with repo-add / repo-remove into `dir/next`. Returns the new database pair and the
    /// files whose names held other bytes. Errors: an upload (which wins over a repo-add
    /// error), reading the files database, or the repo tools.
    async fn upload_packages_while_updating_database(
        &mut self,
        live: &Live,
        edit: &Edit,
        dir: &Utf8Path,
    ) -> Result<(DbFiles, Vec<Utf8PathBuf>), PublishError> {
        let pending: Vec<&Utf8PathBuf> = edit.add.iter().filter(|p| !self.placed.contains(*p)).collect();
        if !pending.is_empty() {
            self.reporter.step(&format!("uploading {} package file(s) to {}", pending.len(), self.target.describe()));
        }
        let processes = crate::repo::repo_add_processes(&edit.add);
        if processes > 1 {
            self.reporter.step(&format!(
                "adding {} package file(s) to {} with {processes} repo-add processes",
                edit.add.len(),
                self.names.db
            ));
        }
        let (target, tool, repo, signer, next) =
            (self.target, self.tool, self.change.repo, self.change.signer, dir.join("next"));
        let update = async {
            let current = match edit.fresh {
                true => None,
                false => read_files_db(target, repo, live, signer.map(crate::sign::Signer::public)).await?,
            };
            Ok::<_, PublishError>(tool.update(repo, current.as_ref(), &edit.add, &edit.remove, &next).await?)
        };
        let placing = packages::place_all(target, &pending, &edit.live, signer);
        let (new, placed) = tokio::join!(update, placing);
        let placed = placed?;
        self.report.uploaded += placed.written;
        self.placed.extend(placed.placed);
        Ok((new?, placed.taken))
    }

    /// Signs the new database pair, made from `base`, when the change has a signer
    /// ([`crate::trust::signed::sign_database`]); None otherwise. The signatures are written
    /// beside the archives. Errors: the key cannot sign.
    fn sign_databases(&self, base: &TrustedDb, new: &CheckedDbFiles) -> Result<Option<DbSignatures>, PublishError> {
        let Some(signer) = self.change.signer else { return Ok(None) };
        let sign = |db| crate::trust::signed::sign_database(signer, base, db);
        Ok(Some(DbSignatures { db: sign(&new.db)?, files: sign(&new.files)? }))
    }

    /// Checks the new database pair repo-add wrote for `edit` on `base` against what this run
    /// checked ([`crate::trust::signed::check_new_database`]), signed or not: nothing is
    /// uploaded or signed that does not say exactly that. A file of `edit` is a checked
    /// package of the change, or the live build of the same version taken in its place and
    /// checked in turn (`adopted`). Errors: an entry that neither `base` nor the checked
    /// packages account for (nothing was written).
    fn check_new_databases(
        &self,
        base: &TrustedDb,
        edit: &Edit,
        new: &DbFiles,
    ) -> Result<CheckedDbFiles, PublishError> {
        use crate::trust::signed::check_new_database;
        let added: Vec<&CheckedPackage> = (self.change.add.iter())
            .map(|p| self.adopted.get(p.path()).unwrap_or(p))
            .filter(|p| edit.add.iter().any(|f| f == p.path()))
            .collect();
        // `sign --adopt` re-signs every live file: each new %PGPSIG% must verify its copy.
        let resigned =
            (edit.fresh).then_some(self.change.signer).flatten().map(|signer| crate::trust::signed::Resigned {
                key: signer.public(),
                files: edit.live.iter().map(|p| (p.file_name().unwrap_or_default().to_string(), p.as_path())).collect(),
            });
        let check =
            |path| check_new_database(base, &added, &edit.remove, resigned.as_ref(), path).map_err(PublishError::from);
        Ok(CheckedDbFiles { db: check(&new.db)?, files: check(&new.files)? })
    }

    /// Step 2: uploads the archives (`NAME.db.tar.zst`, `NAME.files.tar.zst`), `NAME.files`
    /// (real copies, not links) and, when signed, their signatures, and the signatures of
    /// `NAME.db` and `NAME.files` under their digest names: a reader that finds `NAME.db.sig`
    /// stale after the commit still finds one that verifies. Nothing pacman reads first
    /// changes yet. Counts what it writes in the report. Errors: an upload fails.
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
            let by_digest = |object: &str, path: &Utf8Path| -> Result<String, PublishError> {
                Ok(crate::trust::signed::digest_signature_name(object, &read_file(path)?))
            };
            objects.push((format!("{}.sig", names.db_archive), sigs.db.clone()));
            objects.push((format!("{}.sig", names.files_archive), sigs.files.clone()));
            objects.push((format!("{}.sig", names.files), sigs.files.clone()));
            objects.push((by_digest(&names.db, &new.db)?, sigs.db.clone()));
            objects.push((by_digest(&names.files, &new.files)?, sigs.files.clone()));
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

    /// Step 3b: `NAME.db.sig` follows the database it signs (as committed). Between the two
    /// writes a client may see the new database with the old signature and must retry `pacman
    /// -Sy`: two objects cannot change at once. A run that commits right after this one may see
    /// its signature overwritten by this late one: readers then verify by the signature under
    /// the digest name, and the next run puts it back as `NAME.db.sig`
    /// ([`republish_signature`]); nothing else is signed. An unsigned repository loses its
    /// stale signatures instead. Returns how many objects it wrote. Errors: the target.
    async fn publish_database_signature(&self, sigs: Option<&DbSignatures>) -> Result<usize, PublishError> {
        let names = &self.names;
        match sigs {
            Some(sigs) => {
                self.target.upload(&format!("{}.sig", names.db), &sigs.db).await?;
                Ok(1)
            }
            None => {
                let sigs =
                    [&names.db, &names.files, &names.db_archive, &names.files_archive].map(|n| format!("{n}.sig"));
                delete_all(self.target, sigs).await?;
                Ok(0)
            }
        }
    }

    /// Step 3c: keeps the database pair just committed (`new`: its `NAME.db` bytes and entries
    /// in `db`) as a snapshot ([`history::keep`]), with what it added and removed compared with
    /// `live`, and as its UTC day's repository ([`history::keep_daily`]), when the change keeps
    /// history. Returns 1 when it kept one. A failure is said, not returned: the database is
    /// committed, and a snapshot missing only shortens the history.
    async fn keep_snapshot(
        &self,
        live: &Live,
        new: &DbFiles,
        db: (&[u8], &[RepoEntry]),
        sigs: Option<&DbSignatures>,
        dir: &Utf8Path,
    ) -> usize {
        let Some(snapshots) = self.change.snapshots.filter(|s| !s.keep.is_zero()) else { return 0 };
        let now = jiff::Timestamp::now();
        let (added, removed) = history::changes(live.trusted.entries(), db.1);
        let record = history::Record {
            format: history::FORMAT,
            id: history::new_id(now, db.0),
            time: crate::lock::rfc3339(now.as_second()),
            run: snapshots.run_id.to_string(),
            database: crate::trust::signed::digest_of(db.0),
            added,
            removed,
            rollback_to: None,
        };
        let kept = history::Kept { db: &new.db, files: &new.files, sigs: sigs.map(|s| (&*s.db, &*s.files)) };
        let kept_too = async {
            history::keep(self.target, self.change.repo, &record, &kept, None, &dir.join("history")).await?;
            history::keep_daily(self.target, self.change.repo, &record.id, &kept).await
        };
        match kept_too.await {
            Ok(()) => 1,
            Err(e) => {
                self.reporter.step(&format!(
                    "warning: {} is published, but its snapshot {} was not kept: {}",
                    self.names.db,
                    record.id,
                    crate::cause::chain(&e).join(": ")
                ));
                0
            }
        }
    }

    /// Step 3d: makes the files the live database (`new_entries`) references, and their
    /// companions ([`companions`]), reachable however this target's readers spell them, writing
    /// what an older repoctl left out (S3: the key AWS reads for a name with `+`);
    /// `dir/repair` is scratch space. Returns how many objects it wrote. Errors: the target
    /// fails.
    async fn repair_live_files(&self, new_entries: &[RepoEntry], dir: &Utf8Path) -> Result<usize, PublishError> {
        let live_files: Vec<String> = new_entries.iter().flat_map(|e| with_companions(&e.filename)).collect();
        self.target.repair(&live_files, &dir.join("repair")).await
    }

    /// The package files `live` listed that the new database (whose entries are
    /// `new_entries`) no longer does.
    fn stale_files(live: &Live, new_entries: &[RepoEntry]) -> BTreeSet<String> {
        let listed: BTreeSet<&str> = new_entries.iter().map(|e| e.filename.as_str()).collect();
        let mut stale: BTreeSet<String> = live.trusted.entries().iter().map(|e| e.filename.clone()).collect();
        stale.retain(|f| !listed.contains(f.as_str()));
        stale
    }

    /// Which snapshots expire and which package files they still hold ([`history::retention`],
    /// reading the kept snapshots' databases when `stale` files are to be deleted); None when
    /// the history cannot be read: which files a snapshot still lists is unknown, so none is
    /// deleted (said as a step). No history kept: nothing expires.
    ///
    /// Read after the commit, side by side with this commit's own snapshot: a listing that
    /// misses that snapshot keeps the previous newest one a run longer, and the files this
    /// snapshot lists are the new database's, which are never deleted.
    async fn read_retention(&self, stale: &BTreeSet<String>) -> Option<history::Retention> {
        let Some(s) = self.change.snapshots else { return Some(history::Retention::default()) };
        let now = jiff::Timestamp::now();
        match history::retention(self.target, self.change.repo, s.keep, now, !stale.is_empty()).await {
            Ok(retention) => Some(retention),
            Err(e) => {
                self.reporter.step(&format!(
                    "warning: the history cannot be read ({}), so no package file is deleted this time (S3: allow s3:ListBucket on the prefix)",
                    crate::cause::chain(&e).join(": ")
                ));
                None
            }
        }
    }

    /// Step 4, only after the commit: deletes the `stale` package files (with their
    /// companions: [`companions`]) and those only expired snapshots listed (`retention`, None:
    /// unknown, nothing is deleted), less those a kept snapshot lists and those the database
    /// lists now, read again just before (another run may have committed one that lists them
    /// again); then the expired snapshots and the signatures under the digest names of the
    /// database pair this commit replaced (`live` to `new`, whose entries are `new_entries`).
    /// Counts the package files in the report. Errors: a read or a deletion fails.
    async fn delete_unreferenced(
        &mut self,
        (live, new, new_entries): (&Live, &DbFiles, &[RepoEntry]),
        mut stale: BTreeSet<String>,
        retention: Option<history::Retention>,
        dir: &Utf8Path,
    ) -> Result<(), PublishError> {
        let listed: BTreeSet<&str> = new_entries.iter().map(|e| e.filename.as_str()).collect();
        let retention = retention.unwrap_or_else(|| {
            stale.clear();
            history::Retention::default()
        });
        stale.extend(retention.released.iter().cloned());
        stale.retain(|f| !listed.contains(f.as_str()) && !retention.referenced.contains(f));
        if !stale.is_empty() {
            let now = read_remote(self.target, self.change.repo, &dir.join("before-deleting")).await?;
            stale.retain(|f| !now.entries.iter().any(|e| e.filename == *f));
        }
        self.report.deleted += stale.len();
        let mut names: Vec<String> = stale.iter().flat_map(|f| with_companions(f)).collect();
        names.extend(self.replaced_digest_signatures(live, new)?);
        delete_all(self.target, names).await?;
        history::delete_dailies(self.target, &retention.expired_dailies).await?;
        history::delete(self.target, self.change.repo, &retention.expired).await
    }

    /// The signatures under the digest names of the database pair `live` read, which this
    /// commit replaced with `new` (none in an unsigned repository; never one `new` has too).
    /// Errors: the local copies cannot be read.
    fn replaced_digest_signatures(&self, live: &Live, new: &DbFiles) -> Result<Vec<String>, PublishError> {
        use crate::trust::signed::digest_signature_name;
        let (Some(_), Some(db)) = (self.change.signer, &live.remote.db) else { return Ok(Vec::new()) };
        let (names, files) = (&self.names, db.with_file_name(&self.names.files_archive));
        let ours = [
            digest_signature_name(&names.db, &read_file(&new.db)?),
            digest_signature_name(&names.files, &read_file(&new.files)?),
        ];
        let mut old = vec![digest_signature_name(&names.db, &read_file(db)?)];
        if let Ok(bytes) = fs_err::read(&files) {
            old.push(digest_signature_name(&names.files, &bytes));
        }
        old.retain(|n| !ours.contains(n));
        Ok(old)
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

/// Uploads `(name, local file)` pairs side by side, [`PARALLEL_UPLOADS`] at a time, each
/// streamed from disk so memory stays flat, replacing what is there (databases and their
/// signatures). Returns the files uploaded; the first error wins.
pub(super) async fn upload_all(
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

/// What a change really does to the database as it is now (`current`; another run may have
/// changed it since the plan was made), given the package files it wants to add (`add`, the
/// files [`downgrades`] did not refuse) and the pkgnames it removes (`remove`).
///
/// - A file name the database already lists is not uploaded again: package files are served
///   as immutable, and different bytes under a published name break every cache and the
///   checksum pacman verifies. Bump pkgrel to replace a package.
/// - A pkgname that is not in the database is not removed (repo-remove would fail on it).
fn effective_change(
    add: &[Utf8PathBuf],
    remove: &[String],
    current: &[RepoEntry],
    reporter: &dyn Reporter,
) -> (Vec<Utf8PathBuf>, Vec<String>) {
    let published: BTreeSet<&str> = current.iter().map(|e| e.filename.as_str()).collect();
    let (add, kept): (Vec<Utf8PathBuf>, Vec<Utf8PathBuf>) =
        add.iter().cloned().partition(|p| !published.contains(p.file_name().unwrap_or_default()));
    for p in kept {
        reporter.step(&format!(
            "not replacing {}: already published (bump pkgrel to publish a different build)",
            p.file_name().unwrap_or_default()
        ));
    }
    let names: BTreeSet<&str> = current.iter().map(|e| e.name.as_str()).collect();
    let remove = remove.iter().filter(|n| names.contains(n.as_str())).cloned().collect();
    (add, remove)
}

/// The files of `add` that the live database (`current`) holds newer (by vercmp), or at the
/// same version under another file name: repo-add would downgrade them (a lock moved back, a
/// shard built from an older lock, a run that lost a race), so they are refused, and their
/// pkgbase's other files with them, so that a pkgbase is never half updated.
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
    fn a_package_file_lives_and_dies_with_its_signature_and_provenance() {
        assert_eq!(
            with_companions("a-1-1-any.pkg.tar.zst"),
            ["a-1-1-any.pkg.tar.zst", "a-1-1-any.pkg.tar.zst.sig", "a-1-1-any.pkg.tar.zst.provenance.json"]
        );
        assert_eq!(ObjectKind::of("a-1-1-any.pkg.tar.zst.provenance.json"), ObjectKind::Immutable);
        assert_eq!(ObjectKind::content_type("a-1-1-any.pkg.tar.zst.provenance.json"), "application/json");
        assert_eq!(ObjectKind::content_type("a-1-1-any.pkg.tar.zst.sig"), "application/pgp-signature");
    }

    #[test]
    fn a_build_log_is_gzip_encoded_text_kept_forever_under_its_run() {
        let log = logs::object_name("lib+foo", "1764460800-42");
        assert_eq!(ObjectKind::content_type(&log), "text/plain; charset=utf-8");
        assert_eq!(ObjectKind::content_encoding(&log), Some("gzip"));
        assert_eq!(ObjectKind::of(&log), ObjectKind::Immutable);
        assert_eq!(ObjectKind::content_encoding("index.html"), None);
        assert_eq!(ObjectKind::content_type("r.atom"), "application/atom+xml");
    }
}
