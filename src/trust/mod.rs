//! Trust: the checks that bind what repoctl builds, signs and publishes to what a person let
//! in through `repoctl.lock`, each enforced by a type that only its check can construct.
//!
//! repoctl's promise is that what the repository serves, signed with its key, is exactly what
//! a person let in through the lock, and that the repository is never left inconsistent. A
//! check that lives in a caller is a check some later path forgets, so every check here
//! returns a value that the next stage requires and that no other code can make (its fields
//! are private and it has no public constructor):
//!
//! - a build tree made only from the locked commit's git objects (issue 23, items 2 and 3):
//!   [`tree::LockedTree`], made by [`tree::Tree::verify`] from what [`tree::read`] read;
//! - a package file whose `.PKGINFO` matches the locked `.SRCINFO` (issue 23, item 1);
//! - database bytes that this run verified or committed (issue 24, item 1): [`signed`], the
//!   live sync database a publish builds on ([`signed::TrustedDb`]), the published files a
//!   build installs ([`signed::FetchedPackage`]) and what `sign --adopt` takes over.
//!
//! And the one way repoctl runs git ([`git::git`]: issue 23, item 6), with a cleared
//! environment and no hooks, so that a cached clone runs nothing and sees no secret.
//!
//! A leaf: it imports only other leaves (ALPM formats, signatures), so that `build` and
//! `publish` can both require its types.
//!
//! Its checks, one submodule each:
//! - [`tree`]: a commit read from its git objects, as [`tree::LockedTree`] once it matches the
//!   lock's `files` (issue 23, items 2 and 3);
//! - [`package`]: package files against the locked `.SRCINFO`, as [`CheckedPackage`] (issue
//!   23, item 1), for builds and for `repoctl publish DIR`;
//! - [`patch`]: `patches:` over an AUR package (issue 27), as [`patch::LockedPatches`] once
//!   they match the lock's digests, applied to a [`tree::LockedTree`] by [`patch::apply`];
//! - [`signed`]: the live database a signed publish builds on, the published files a build
//!   installs, and what `sign --adopt` takes over (issue 24, item 1).
pub mod git;
pub mod package;
pub mod patch;
pub mod signed;
pub mod tree;

pub use package::{CheckedPackage, Declared, Locked, PackageError, Refusal, check_build, check_directory, check_file};
