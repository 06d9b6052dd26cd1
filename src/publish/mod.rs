//! Publishing: where the repository lives ([`Target`]: an S3 bucket or a local directory) and
//! the order that keeps it usable at every moment: package files first, then the database
//! archives, then the names pacman downloads, and only then deletion of what no database
//! references any more.
mod local;
mod s3;

pub use local::LocalTarget;
pub use s3::S3Target;

use crate::config::{Config, TargetConfig};
use crate::repo::{DbFiles, DbNames, RepoEntry, RepoTool, read_sync_db};
use crate::ui::Reporter;
use async_trait::async_trait;
use camino::{Utf8Path, Utf8PathBuf};
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
    Db(#[from] crate::repo::DbError),
    #[error(transparent)]
    RepoTool(#[from] crate::repo::RepoToolError),
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
}

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
    /// The database pair as downloaded, None for a new repository.
    pub files: Option<DbFiles>,
}

/// Reads the published database (`name.db` and `name.files`, the names pacman uses).
pub async fn read_remote(target: &dyn Target, repo: &str, dir: &Utf8Path) -> Result<RemoteRepo, PublishError> {
    let names = DbNames::new(repo);
    let Some(db) = target.fetch(&names.db, MAX_DB_FETCH).await? else {
        return Ok(RemoteRepo { entries: Vec::new(), files: None });
    };
    let entries = read_sync_db(&db)?;
    let io = |path: &Utf8Path| {
        let path = path.to_owned();
        move |source| PublishError::Io { path: path.clone(), source }
    };
    fs_err::create_dir_all(dir).map_err(io(dir))?;
    let db_path = dir.join(&names.db_archive);
    fs_err::write(&db_path, &db).map_err(io(&db_path))?;
    let files_path = dir.join(&names.files_archive);
    match target.fetch(&names.files, MAX_DB_FETCH).await? {
        Some(bytes) => fs_err::write(&files_path, bytes).map_err(io(&files_path))?,
        // A files database lost or never made: start one from the package list instead.
        None => fs_err::write(&files_path, &db).map_err(io(&files_path))?,
    }
    Ok(RemoteRepo { entries, files: Some(DbFiles { db: db_path, files: files_path }) })
}

/// What a publish changes.
pub struct Change<'a> {
    pub repo: &'a str,
    pub add: &'a [Utf8PathBuf],
    /// pkgnames to drop from the database.
    pub remove: &'a [String],
}

#[derive(Debug, Default)]
pub struct PublishReport {
    pub uploaded: usize,
    pub deleted: usize,
}

/// Applies `change` to the published repository in the order that keeps it consistent.
pub async fn publish(
    target: &dyn Target,
    tool: &RepoTool,
    change: &Change<'_>,
    work: &Utf8Path,
    reporter: &dyn Reporter,
) -> Result<PublishReport, PublishError> {
    let names = DbNames::new(change.repo);
    let remote = read_remote(target, change.repo, &work.join("current")).await?;
    let (add, remove) = effective_change(change, &remote.entries, reporter);
    if add.is_empty() && remove.is_empty() {
        return Ok(PublishReport::default());
    }
    let new = tool.update(change.repo, remote.files.as_ref(), &add, &remove, &work.join("next")).await?;
    let new_entries =
        read_sync_db(&fs_err::read(&new.db).map_err(|source| PublishError::Io { path: new.db.clone(), source })?)?;
    let mut report = PublishReport::default();

    // 1. Package files and signatures: nothing references them yet.
    let uploads: Vec<Utf8PathBuf> =
        add.iter().flat_map(|p| std::iter::once(p.clone()).chain(crate::repo::tool_signature(p))).collect();
    reporter.step(&format!("uploading {} package file(s) to {}", uploads.len(), target.describe()));
    for file in &uploads {
        target.upload(file.file_name().unwrap_or_default(), file).await?;
        report.uploaded += 1;
    }

    // 2. The database archives, then the names pacman downloads: real copies, not links.
    reporter.step(&format!("publishing {} and {}", names.db, names.files));
    for (name, path) in [
        (&names.db_archive, &new.db),
        (&names.files_archive, &new.files),
        (&names.db, &new.db),
        (&names.files, &new.files),
    ] {
        target.upload(name, path).await?;
        report.uploaded += 1;
    }

    // 3. Only now: files that no database references any more.
    let live: BTreeSet<&str> = new_entries.iter().map(|e| e.filename.as_str()).collect();
    let stale: BTreeSet<&str> =
        remote.entries.iter().map(|e| e.filename.as_str()).filter(|f| !live.contains(f)).collect();
    for file in stale {
        target.delete(file).await?;
        target.delete(&format!("{file}.sig")).await?;
        report.deleted += 1;
    }
    Ok(report)
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
