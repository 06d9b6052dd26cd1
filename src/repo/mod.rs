//! Changing the repository's sync database with `repo-add` / `repo-remove` in a builder
//! container, and the names of the repository's files. Reading a sync database and parsing
//! package file names are ALPM formats: they live in [`crate::alpm`], which every stage reads.
mod merge;
mod tool;

pub use tool::{DbFiles, RepoTool, RepoToolError, repo_add_processes, signature_of as tool_signature};

/// The repository that holds a repository's debug packages: `NAME-debug`, beside `NAME` in the
/// same target, the way Arch keeps `core-debug` beside `core`.
pub fn debug_repo_name(repo: &str) -> String {
    format!("{repo}-debug")
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
