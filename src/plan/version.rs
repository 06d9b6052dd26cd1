//! pacman's version ordering, through alpm-types.
use alpm_types::Version;
use std::cmp::Ordering;

/// Compares two `[epoch:]pkgver[-pkgrel]` strings as pacman's vercmp does. A string that
/// alpm-types cannot parse sorts below every valid one, so it is rebuilt rather than trusted.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (a.parse::<Version>(), b.parse::<Version>()) {
        (Ok(a), Ok(b)) => Version::vercmp(&a, &b).cmp(&0),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// True when `candidate` is newer than `current`.
pub fn newer(candidate: &str, current: &str) -> bool {
    compare_versions(candidate, current) == Ordering::Greater
}
