//! Dependency strings and what satisfies them, as pacman decides (libalpm's `alpm_depcmp`:
//! a package satisfies a dependency by its pkgname and version, or through one of its
//! `provides`; a provision without a version never satisfies a versioned dependency).
//!
//! The format is alpm-package-relation(7) (`name`, `name>=1.2`, `name=1:2.0-3`), parsed with
//! alpm-types; a string alpm-types refuses is taken by its name alone, so a malformed version
//! in someone's PKGBUILD is a missed constraint, never a lost dependency.
use alpm_types::{PackageRelation, Version, VersionRequirement};

/// A parsed dependency string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub name: String,
    requirement: Option<VersionRequirement>,
}

impl Relation {
    pub fn parse(text: &str) -> Relation {
        match text.parse::<PackageRelation>() {
            Ok(rel) => Relation { name: rel.name.to_string(), requirement: rel.version_requirement },
            Err(_) => Relation { name: dep_name(text).to_string(), requirement: None },
        }
    }

    /// Whether it has a version constraint.
    pub fn is_versioned(&self) -> bool {
        self.requirement.is_some()
    }

    /// Whether the package `name` at `version` (`[epoch:]pkgver[-pkgrel]`) satisfies it by name.
    pub fn satisfied_by_package(&self, name: &str, version: &str) -> bool {
        name == self.name && self.version_ok(Some(version))
    }

    /// Whether a `provides` string (`foo`, `foo=1.2`) satisfies it: an unversioned provision
    /// satisfies only an unversioned dependency (libalpm `_alpm_depcmp_provides`).
    pub fn satisfied_by_provision(&self, provision: &str) -> bool {
        let version = provision.split_once('=').map(|(_, v)| v.trim());
        provided_name(provision) == self.name && self.version_ok(version)
    }

    fn version_ok(&self, version: Option<&str>) -> bool {
        match (&self.requirement, version) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(req), Some(v)) if super::version::comparable(v) && super::version::comparable(&req.to_string()) => {
                v.parse::<Version>().map(|v| req.is_satisfied_by(&v)).unwrap_or(false)
            }
            (Some(_), Some(_)) => false,
        }
    }
}

/// The package name in a dependency string: `foo>=1.2` -> `foo`.
pub fn dep_name(dep: &str) -> &str {
    dep.split(['<', '>', '=']).next().unwrap_or(dep).trim()
}

/// The name a `provides` entry provides: `foo` of `foo=1.2` (PKGBUILD(5): provisions carry at
/// most an `=version`).
pub fn provided_name(provision: &str) -> &str {
    provision.split_once('=').map_or(provision, |(name, _)| name).trim()
}

impl std::fmt::Display for Relation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.requirement {
            Some(req) => write!(f, "{}{req}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Relation, dep_name};

    #[test]
    fn packages_satisfy_by_name_and_version() {
        let dep = Relation::parse("libthing>=1.0");
        assert!(dep.satisfied_by_package("libthing", "1.2-1"));
        assert!(!dep.satisfied_by_package("libthing", "0.9-1"));
        assert!(!dep.satisfied_by_package("libthing-git", "1.2-1"));
        assert!(Relation::parse("foo").satisfied_by_package("foo", "1:0.1-1"));
        assert!(Relation::parse("foo=1.5").satisfied_by_package("foo", "1.5-3"), "no pkgrel: any pkgrel");
    }

    #[test]
    fn provisions_without_a_version_satisfy_only_unversioned_dependencies() {
        assert!(Relation::parse("libthing>=1.0").satisfied_by_provision("libthing=1.0"));
        assert!(!Relation::parse("libthing>=1.1").satisfied_by_provision("libthing=1.0"));
        assert!(!Relation::parse("libthing>=1.0").satisfied_by_provision("libthing"));
        assert!(Relation::parse("libthing").satisfied_by_provision("libthing"));
        assert!(Relation::parse("libthing").satisfied_by_provision("libthing=2"));
        assert!(!Relation::parse("libthing").satisfied_by_provision("libthing2"));
    }

    #[test]
    fn malformed_versions_keep_the_name() {
        let dep = Relation::parse("foo>=");
        assert_eq!(dep.name, "foo");
        assert!(dep.satisfied_by_provision("foo"));
    }

    #[test]
    fn dependency_strings_lose_their_version_constraint() {
        assert_eq!(dep_name("foo>=1.2"), "foo");
        assert_eq!(dep_name("foo<2"), "foo");
        assert_eq!(dep_name("foo=1:2-3"), "foo");
        assert_eq!(dep_name("foo"), "foo");
    }
}
