//! pacman's version ordering (vercmp, alpm-package-version(7)), through alpm-types.
use alpm_types::Version;
use std::cmp::Ordering;

/// Compares two `[epoch:]pkgver[-pkgrel]` strings as pacman's vercmp does. A string that
/// alpm-types cannot parse sorts below every valid one, so it is rebuilt rather than trusted.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parse = |v: &str| if comparable(v) { v.parse::<Version>().map_err(|_| ()) } else { Err(()) };
    match (parse(a), parse(b)) {
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

/// Whether alpm-types can compare `version` without panicking: its vercmp parses each run of
/// digits as a `usize` with `expect` (alpm-types 0.13, `version/comparison.rs`), so a run of 20
/// digits or more, which an AUR commit can put in its pkgver, would abort the whole run.
/// Such a version is handled as one alpm-types cannot parse.
pub fn comparable(version: &str) -> bool {
    version.split(|c: char| !c.is_ascii_digit()).all(|run| run.len() < 20)
}

/// The pkgver of an `[epoch:]pkgver[-pkgrel]` string (`r7.abc` of `2:r7.abc-1`), what a
/// PKGBUILD's pkgver() prints; None when alpm-types cannot parse it.
pub fn pkgver_of(version: &str) -> Option<String> {
    version.parse::<Version>().ok().map(|v| v.pkgver.to_string())
}

#[cfg(test)]
mod tests {
    use super::{compare_versions, pkgver_of};

    /// An AUR commit's pkgver with a 20-digit part used to abort repoctl inside alpm-types.
    #[test]
    fn a_version_with_a_twenty_digit_part_is_compared_without_panicking() {
        use std::cmp::Ordering;
        let huge = "99999999999999999999999-1";
        assert_eq!(compare_versions(huge, "1.0-1"), Ordering::Less);
        assert_eq!(compare_versions("1.0-1", huge), Ordering::Greater);
        assert_eq!(compare_versions("9999999999999999999-1", "1-1"), Ordering::Greater);
    }

    #[test]
    fn the_pkgver_is_the_version_without_epoch_and_pkgrel() {
        assert_eq!(pkgver_of("2:r7.abc-1").as_deref(), Some("r7.abc"));
        assert_eq!(pkgver_of("1.0.r3.g1234567-2").as_deref(), Some("1.0.r3.g1234567"));
        assert_eq!(pkgver_of("1.5").as_deref(), Some("1.5"));
        assert_eq!(pkgver_of("not a version"), None);
    }

    /// pacman's own vercmp table; tests/integration checks the same file against Debian's vercmp.
    const VERCMP_TABLE: &str = include_str!("../../tests/fixtures/vercmp.tsv");

    #[test]
    fn version_order_matches_pacmans_vercmp_table() {
        let mut cases = 0;
        for line in VERCMP_TABLE.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let [a, b, want] = line.split('\t').collect::<Vec<_>>()[..] else { panic!("bad line {line:?}") };
            let want: i8 = want.parse().unwrap();
            assert_eq!(compare_versions(a, b) as i8, want, "vercmp {a} {b}");
            assert_eq!(compare_versions(b, a) as i8, -want, "vercmp {b} {a}");
            cases += 1;
        }
        assert!(cases > 40);
    }
}
