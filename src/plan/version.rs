//! pacman's version ordering, through alpm-types.
use alpm_types::Version;
use std::cmp::Ordering;

/// Compares two `[epoch:]pkgver[-pkgrel]` strings as pacman's vercmp does. A string that
/// alpm-types cannot parse sorts below every valid one, so it is rebuilt rather than trusted.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (a.parse::<Version>(), b.parse::<Version>()) {
        (Ok(mut a), Ok(mut b)) => {
            // pacman compares pkgrel only when both sides have one (`1.5` == `1.5-1`);
            // alpm-types orders a missing pkgrel first.
            if a.pkgrel.is_none() || b.pkgrel.is_none() {
                a.pkgrel = None;
                b.pkgrel = None;
            }
            // And a missing epoch is epoch 0, as in pacman.
            for v in [&mut a, &mut b] {
                if v.epoch.as_ref().is_some_and(|e| e.to_string() == "0") {
                    v.epoch = None;
                }
            }
            Version::vercmp(&a, &b).cmp(&0)
        }
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => a.cmp(b),
    }
}
