//! The lock of AUR commits (issue 14): `repoctl.lock` beside repo.yaml records, for every
//! pkgbase of the closure, the AUR commit that may be built. Nothing else is built.
pub mod assess;
