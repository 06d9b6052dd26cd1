//! The repository's sync database: reading what is published, and changing it with
//! `repo-add` / `repo-remove` in a builder container.
mod db;
mod merge;
mod tool;

pub use db::{DbError, RepoEntry, read_sync_db};
pub use tool::{DbFiles, RepoTool, RepoToolError, repo_add_processes, signature_of as tool_signature};

/// A package file (`*.pkg.tar*`, not its `.sig`), by name.
pub fn is_package_file(name: &str) -> bool {
    name.contains(".pkg.tar") && !name.ends_with(".sig")
}

/// Object names of a repository called `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbNames {
    /// `name.db.tar.zst`: what repo-add writes.
    pub db_archive: String,
    /// `name.files.tar.zst`.
    pub files_archive: String,
    /// `name.db`: what pacman downloads; a real copy, since buckets have no symlinks.
    pub db: String,
    /// `name.files`.
    pub files: String,
}

impl DbNames {
    pub fn new(repo: &str) -> Self {
        DbNames {
            db_archive: format!("{repo}.db.tar.zst"),
            files_archive: format!("{repo}.files.tar.zst"),
            db: format!("{repo}.db"),
            files: format!("{repo}.files"),
        }
    }
}
