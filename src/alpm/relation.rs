//! Dependency strings and what satisfies them, as pacman decides (libalpm's `alpm_depcmp`:
//! a package satisfies a dependency by its pkgname and version, or through one of its
//! `provides`; a provision without a version never satisfies a versioned dependency).
//!
//! The format is alpm-package-relation(7) (`name`, `name>=1.2`, `name=1:2.0-3`), read the way
//! libalpm reads it (`alpm_dep_from_string`, lib/libalpm/deps.c, pacman 7.1), for `depend`
//! and `provides` alike, so that what the publish gate calls installable is what pacman
//! installs:
//! - a description after `: ` (optdepends' form) is not part of the relation;
//! - the operator is found by looking for `<` anywhere first (`<=` or `<`), then `>` (`>=` or
//!   `>`), then `=`: so `foo=1<2` is the name `foo=1` below version 2;
//! - nothing is trimmed: `foo >= 1` names the package `foo ` (with the space), which no
//!   package is.
//!
//! A version alpm-types cannot parse (or compare: [`super::version::comparable`]) makes the
//! relation its name alone, so a malformed version in someone's PKGBUILD is a missed
//! constraint, never a lost dependency.
use super::version::compare_versions;
use std::cmp::Ordering;

/// A version comparison operator (libalpm's `alpm_depmod_t` but `ANY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ge,
    Le,
    Gt,
    Lt,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Lt => "<",
        }
    }

    /// Whether `ordering` (a version against the required one) meets it (`dep_vercmp`).
    fn admits(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering == Ordering::Equal,
            Op::Ge => ordering != Ordering::Less,
            Op::Le => ordering != Ordering::Greater,
            Op::Gt => ordering == Ordering::Greater,
            Op::Lt => ordering == Ordering::Less,
        }
    }
}

/// `text` split as `alpm_dep_from_string` splits it: the name, and the operator with the
/// version after it when there is one (see the module header).
fn split(text: &str) -> (&str, Option<(Op, &str)>) {
    let text = text.split_once(": ").map_or(text, |(relation, _description)| relation);
    let found = if let Some(i) = text.find('<') {
        Some(if text[i + 1..].starts_with('=') { (i, Op::Le, 2) } else { (i, Op::Lt, 1) })
    } else if let Some(i) = text.find('>') {
        Some(if text[i + 1..].starts_with('=') { (i, Op::Ge, 2) } else { (i, Op::Gt, 1) })
    } else {
        text.find('=').map(|i| (i, Op::Eq, 1))
    };
    match found {
        Some((i, op, len)) => (&text[..i], Some((op, &text[i + len..]))),
        None => (text, None),
    }
}

/// Whether pacman's vercmp can be asked about `version` here ([`compare_versions`] orders
/// what alpm-types cannot parse below everything).
fn valid_version(version: &str) -> bool {
    super::version::comparable(version) && version.parse::<alpm_types::Version>().is_ok()
}

/// A parsed dependency string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub name: String,
    requirement: Option<(Op, String)>,
}

impl Relation {
    pub fn parse(text: &str) -> Relation {
        let (name, requirement) = split(text);
        let requirement = requirement.filter(|(_, v)| valid_version(v)).map(|(op, v)| (op, v.to_string()));
        Relation { name: name.to_string(), requirement }
    }

    /// Whether it has a version constraint.
    pub fn is_versioned(&self) -> bool {
        self.requirement.is_some()
    }

    /// Whether the package `name` at `version` (`[epoch:]pkgver[-pkgrel]`) satisfies it by name
    /// (`_alpm_depcmp_literal`).
    pub fn satisfied_by_package(&self, name: &str, version: &str) -> bool {
        name == self.name && self.version_ok(version)
    }

    /// Whether a `provides` string (`foo`, `foo=1.2`) satisfies it (`_alpm_depcmp_provides`):
    /// any provision of the name satisfies an unversioned dependency; a versioned one only a
    /// provision with `=` and a version that meets it.
    pub fn satisfied_by_provision(&self, provision: &str) -> bool {
        let (name, provided) = split(provision);
        if name != self.name {
            return false;
        }
        match (&self.requirement, provided) {
            (None, _) => true,
            (Some(_), Some((Op::Eq, version))) => self.version_ok(version),
            (Some(_), _) => false,
        }
    }

    fn version_ok(&self, version: &str) -> bool {
        match &self.requirement {
            None => true,
            Some((op, required)) => valid_version(version) && op.admits(compare_versions(version, required)),
        }
    }
}

/// The package name in a dependency string: `foo>=1.2` -> `foo` (as libalpm reads it: see the
/// module header).
pub fn dep_name(dep: &str) -> &str {
    split(dep).0
}

/// The name a `provides` entry provides: `foo` of `foo=1.2` (libalpm reads provisions as
/// dependency strings).
pub fn provided_name(provision: &str) -> &str {
    split(provision).0
}

impl std::fmt::Display for Relation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.requirement {
            Some((op, version)) => write!(f, "{}{}{version}", self.name, op.as_str()),
            None => f.write_str(&self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Relation, dep_name, provided_name};

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

    /// Red-team finding: the gate read relations unlike libalpm's `alpm_dep_from_string`.
    /// Each case is what pacman 7.1 reads: no trimming, `<` then `>` then `=`, `: ` ends it.
    #[test]
    fn relations_are_read_as_libalpm_reads_them() {
        assert_eq!(dep_name("foo >= 1"), "foo ", "no trimming: a name no package has");
        assert!(!Relation::parse("foo >= 1").satisfied_by_package("foo", "1-1"));
        assert!(!Relation::parse(" foo").satisfied_by_provision("foo"));
        assert_eq!(dep_name("foo=1<2"), "foo=1", "`<` is looked for first");
        assert_eq!(dep_name("foo=1>2"), "foo=1", "then `>`");
        assert_eq!(Relation::parse("foo>=1").to_string(), "foo>=1");
        assert_eq!(Relation::parse("foo>1").to_string(), "foo>1");
        assert_eq!(Relation::parse("foo<=1").to_string(), "foo<=1");
        assert_eq!(Relation::parse("foo: for the bar plugin").to_string(), "foo");
        assert_eq!(Relation::parse("foo>=2: newer").to_string(), "foo>=2");
        assert_eq!(provided_name("foo>=1"), "foo");
        // A provision with another operator than `=` satisfies only unversioned dependencies.
        assert!(Relation::parse("foo").satisfied_by_provision("foo>=1"));
        assert!(!Relation::parse("foo>=1").satisfied_by_provision("foo>=1"));
        assert!(!Relation::parse("foo>=1").satisfied_by_provision("foo=1 "), "`1 ` is no version");
        // vercmp: a requirement without pkgrel ignores the package's.
        assert!(Relation::parse("foo<1.5").satisfied_by_package("foo", "1.4-9"));
        assert!(!Relation::parse("foo>1.5").satisfied_by_package("foo", "1.5-9"));
        assert!(Relation::parse("foo>1.5-1").satisfied_by_package("foo", "1.5-2"));
    }

    #[test]
    fn dependency_strings_lose_their_version_constraint() {
        assert_eq!(dep_name("foo>=1.2"), "foo");
        assert_eq!(dep_name("foo<2"), "foo");
        assert_eq!(dep_name("foo=1:2-3"), "foo");
        assert_eq!(dep_name("foo"), "foo");
    }
}
