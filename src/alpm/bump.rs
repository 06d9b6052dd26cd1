//! The dotted pkgrel of a rebuild (issue 26): a package rebuilt from the same PKGBUILD because
//! something it links against changed gets pkgrel `N.1`, then `N.2`, as Arch and its peers
//! (ahriman) do. PKGBUILD(5): pkgrel is `integer[.integer]` (makepkg's `lint_pkgrel` checks
//! `+([0-9])?(.+([0-9]))`), and vercmp orders `1.0-1 < 1.0-1.1 < 1.0-1.2 < 1.0-2`, so the AUR's
//! next pkgrel still wins over any rebuild.
use super::compare_versions;
use std::cmp::Ordering;

/// The version a rebuild makes: the locked `.SRCINFO`'s `[epoch:]pkgver-N` with pkgrel `N.M`,
/// newer than what is published. Only [`PkgrelBump::next`] makes one, so a holder knows it is
/// a dotted bump of the locked version and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct PkgrelBump {
    /// `[epoch:]pkgver-N.M`.
    version: String,
    /// `N.M`: what the PKGBUILD's `pkgrel=` is set to for the build.
    pkgrel: String,
}

impl PkgrelBump {
    /// The bump after `published` of the locked version `locked` (`[epoch:]pkgver-N`, as its
    /// `.SRCINFO` says): `N.1` when `published` is `locked` or older or of another pkgver,
    /// `N.(M+1)` when `published` is `locked`'s `N.M`. None when `locked` has no integer pkgrel
    /// (an AUR pkgrel that is already dotted is left alone: its next dot is the AUR's), or when
    /// `published` is newer than any bump of `locked` (the AUR went back: not a rebuild).
    pub fn next(locked: &str, published: Option<&str>) -> Option<PkgrelBump> {
        let (head, rel) = locked.rsplit_once('-')?;
        if rel.is_empty() || !rel.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let minor = published
            .and_then(|p| p.strip_prefix(head)?.strip_prefix('-')?.strip_prefix(rel)?.strip_prefix('.'))
            .and_then(|m| m.parse::<u64>().ok())
            .unwrap_or(0);
        let pkgrel = format!("{rel}.{}", minor.checked_add(1)?);
        let version = format!("{head}-{pkgrel}");
        if published.is_some_and(|p| compare_versions(&version, p) != Ordering::Greater) {
            return None;
        }
        Some(PkgrelBump { version, pkgrel })
    }

    /// `version` as a bump of `locked`, when it is one: `locked`'s `[epoch:]pkgver-N` with
    /// pkgrel `N.M` (M a positive integer). What a shard's provenance record says it rebuilt is
    /// accepted by `publish DIR` only in this shape.
    pub fn of(locked: &str, version: &str) -> Option<PkgrelBump> {
        let (head, rel) = locked.rsplit_once('-')?;
        let minor = version.strip_prefix(head)?.strip_prefix('-')?.strip_prefix(rel)?.strip_prefix('.')?;
        let valid = rel.bytes().all(|b| b.is_ascii_digit()) && !rel.is_empty();
        let minor: u64 = minor.parse().ok().filter(|m| *m > 0 && valid && !minor.starts_with('0'))?;
        let pkgrel = format!("{rel}.{minor}");
        Some(PkgrelBump { version: format!("{head}-{pkgrel}"), pkgrel })
    }

    /// `[epoch:]pkgver-N.M`: the version the rebuilt packages must have.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `N.M`.
    pub fn pkgrel(&self) -> &str {
        &self.pkgrel
    }
}

impl std::fmt::Display for PkgrelBump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(locked: &str, published: Option<&str>) -> Option<String> {
        PkgrelBump::next(locked, published).map(|b| b.version().to_string())
    }

    #[test]
    fn pkgrel_one_becomes_one_point_one_then_one_point_two() {
        assert_eq!(next("1.0-1", Some("1.0-1")).as_deref(), Some("1.0-1.1"));
        assert_eq!(next("1.0-1", Some("1.0-1.1")).as_deref(), Some("1.0-1.2"));
        assert_eq!(next("1.0-1", Some("1.0-1.9")).as_deref(), Some("1.0-1.10"));
        assert_eq!(next("2:1.0-3", Some("2:1.0-3.1")).as_deref(), Some("2:1.0-3.2"));
        assert_eq!(next("1.0-1", None).as_deref(), Some("1.0-1.1"));
        assert_eq!(PkgrelBump::next("1.0-1", Some("1.0-1.1")).unwrap().pkgrel(), "1.2");
    }

    #[test]
    fn the_aur_s_next_pkgrel_still_wins() {
        assert_eq!(compare_versions("1.0-2", "1.0-1.1"), Ordering::Greater);
        assert_eq!(compare_versions("1.0-2", "1.0-1.10"), Ordering::Greater);
        assert_eq!(compare_versions("1.0-1.1", "1.0-1"), Ordering::Greater);
        // Published newer than any bump of the locked version: no bump.
        assert_eq!(next("1.0-1", Some("1.0-2")), None);
        // A dotted AUR pkgrel is the AUR's own.
        assert_eq!(next("1.0-1.5", Some("1.0-1.5")), None);
    }

    #[test]
    fn only_a_dotted_pkgrel_of_the_locked_version_is_a_bump() {
        assert_eq!(PkgrelBump::of("1.0-1", "1.0-1.3").map(|b| b.pkgrel().to_string()).as_deref(), Some("1.3"));
        for not in ["1.0-1", "1.0-2", "1.0-1.0", "1.0-1.01", "1.1-1.1", "1.0-11.1", "1.0-1.x", "1:1.0-1.1"] {
            assert_eq!(PkgrelBump::of("1.0-1", not), None, "{not}");
        }
    }
}
