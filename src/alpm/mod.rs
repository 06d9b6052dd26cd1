//! ALPM formats: the files and strings pacman, makepkg and repo-add agree on. Every stage
//! reads them (the plan reads the published sync database, a build parses the names of what
//! it made, publishing reads the database it is about to change), so they are a leaf: nothing
//! here imports another module of the crate, the way the ALPM project keeps its formats in
//! crates of their own (alpm-types, alpm-srcinfo, alpm-repo-db).
//!
//! What belongs here is a rule of the format, the same for every repository: a sync database
//! entry, a package file name, a dependency string, the version order. What repoctl decides
//! about its own repository (the debug repository's name, the names it gives the database
//! files) stays in [`crate::repo`].
mod bump;
mod db;
mod filename;
mod relation;
pub mod soname;
mod tar_guard;
mod version;

pub use bump::PkgrelBump;
pub(crate) use db::decompressor;
pub use db::{DbError, RepoEntry, read_sync_db};
pub use filename::{is_debug_package, is_package_file, package_file_parts};
pub use relation::{Relation, dep_name, provided_name};
pub use tar_guard::{MAX_EXTENSION_BYTES, TarGuard, xz_decoder};
pub use version::{compare_versions, pkgver_of};
