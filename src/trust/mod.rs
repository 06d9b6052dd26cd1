//! Trust: the checks that bind what repoctl builds, signs and publishes to what a person let
//! in through `repoctl.lock`, each enforced by a type that only its check can construct.
//!
//! repoctl's promise is that what the repository serves, signed with its key, is exactly what
//! a person let in through the lock, and that the repository is never left inconsistent. A
//! check that lives in a caller is a check some later path forgets, so every check here
//! returns a value that the next stage requires and that no other code can make (its fields
//! are private and it has no public constructor):
//!
//! - a build tree made only from the locked commit's git objects (issue 23, items 2 and 3);
//! - a package file whose `.PKGINFO` matches the locked `.SRCINFO` (issue 23, item 1);
//! - database bytes that this run verified or committed (issue 24, item 1): [`signed`], the
//!   live sync database a publish builds on ([`signed::TrustedDb`]), the published files a
//!   build installs ([`signed::FetchedPackage`]) and what `sign --adopt` takes over.
//!
//! A leaf: it imports only other leaves (ALPM formats, signatures), so that `build` and
//! `publish` can both require its types.

pub mod signed;
