//! The version rules of `trust.auto: version-only` (issue 25, item 2): a move of the lock is a
//! version bump only when the version it names is a newer version.
//!
//! [`super::assess`] compares sources with the new pkgver read as the old one, so a source URL
//! that interpolates `$pkgver` reads as unchanged whatever the pkgver holds. GitHub serves a
//! fork's commits through the parent repository's archive URL, so a pkgver that is a commit id
//! points an unchanged `https://github.com/OWNER/REPO/archive/$pkgver.tar.gz` at any code; a
//! branch name points it at whatever the branch holds when makepkg runs. Hence these flags:
//!
//! | the new commit                                              | flag                     |
//! |-------------------------------------------------------------|--------------------------|
//! | a pkgver (the .SRCINFO's, or the PKGBUILD's plain `pkgver=`) that does not look like a version (table below) | [`Flag::NotAVersion`] |
//! | the PKGBUILD's plain `pkgver=`/`pkgrel=`/`epoch=` not the .SRCINFO's | [`Flag::VersionOutOfStep`] |
//! | a checksum that becomes `SKIP`, or stops being `SKIP`        | [`Flag::SkipChanged`]    |
//! | an epoch added, removed or changed                          | [`Flag::EpochChanged`]   |
//! | `[epoch:]pkgver-pkgrel` not strictly newer than the locked one (pacman's vercmp) | [`Flag::NotNewer`] |
//!
//! What looks like a version. A pkgver is split into components at `.`, `_`, `+` and `~`:
//!
//! | pkgver                                                        | looks like a version       |
//! |---------------------------------------------------------------|----------------------------|
//! | `1.2.3`, `2.0rc1`, `1.0_beta2`, `7.1+dfsg`, `1.0~rc1`, `r1234` | yes                        |
//! | a date or a time in a component: `20261201`, `202612011830`, `20261201183000` | yes |
//! | a component of 7 to 64 hex digits (`abcdef1`, a 40-digit commit id; git-describe's `g1a2b3c4`; 7 or more decimal digits that are not a date) | a commit id: only in a VCS package (below) |
//! | no digit at all: `main`, `latest`, `stable`                   | no: a branch or a word     |
//! | empty, or a character other than ASCII letters, digits, `.`, `_`, `+`, `~`; an empty component (`1..2`) | no |
//!
//! A commit id is a version of a VCS package only: one whose sources include a VCS source
//! (makepkg's protocols `bzr`, `fossil`, `git`, `hg`, `svn`: `git+https://…`, `git://…`), that
//! has a `pkgver()` function (makepkg runs it on the checkout before `prepare()`, so the
//! literal pkgver steers nothing after the download), and whose sources do not name it: no
//! .SRCINFO source holds the pkgver or the commit id, and no line of the PKGBUILD outside its
//! functions, beyond `pkgver=` itself, mentions `pkgver` (a `#commit=${pkgver##*.}`).
//!
//! Nothing is said when neither the PKGBUILD nor the .SRCINFO changed (a move that changes the
//! maintainer only). Pure; the formats are PKGBUILD(5) (pkgver: no `:`, `/`, `-` or whitespace)
//! and SRCINFO(5); the order is alpm-package-version(7), through [`crate::alpm::compare_versions`].
use super::{Flag, PKGBUILD, Parsed, SRCINFO, Snapshot, checksum_array, is_checksum, is_source};
use super::{pkgbase_lists, version_line};
use std::collections::BTreeSet;

/// makepkg's VCS protocols (`get_protocol` in libmakepkg/util/source.sh).
const VCS_PROTOCOLS: &[&str] = &["bzr", "fossil", "git", "hg", "svn"];

/// The version flags of a move from `old` to `new`, in the order of [`Flag`]'s variants.
pub(super) fn version_flags(old: &Snapshot, new: &Snapshot, before: &Parsed, after: &Parsed) -> Vec<Flag> {
    let unchanged = |path: &str| old.files.get(path) == new.files.get(path);
    if unchanged(PKGBUILD) && unchanged(SRCINFO) {
        return Vec::new();
    }
    let (was, is) = (Versioned::of(before), Versioned::of(after));
    let mut flags = not_a_version(&is, after);
    let (skips_before, skips_after) = (skips(before), skips(after));
    if skips_before != skips_after {
        let named = |set: &BTreeSet<String>, other: &BTreeSet<String>| set.difference(other).cloned().collect();
        flags.push(Flag::SkipChanged {
            to_skip: named(&skips_after, &skips_before),
            from_skip: named(&skips_before, &skips_after),
        });
    }
    if was.epoch != is.epoch || was.pkgbuild_epoch != is.pkgbuild_epoch {
        flags.push(Flag::EpochChanged { from: was.epoch.clone(), to: is.epoch.clone() });
    }
    if let (Some(from), Some(to)) = (was.full(), is.full())
        && crate::alpm::compare_versions(&to, &from) != std::cmp::Ordering::Greater
    {
        flags.push(Flag::NotNewer { from, to });
    }
    flags
}

/// The version fields of one commit: the .SRCINFO's (pkgbase section), and the PKGBUILD's
/// plain `pkgver=`, `pkgrel=`, `epoch=` lines (None where it computes them or has none).
struct Versioned {
    pkgver: Option<String>,
    pkgrel: Option<String>,
    epoch: Option<String>,
    pkgbuild_pkgver: Option<String>,
    pkgbuild_pkgrel: Option<String>,
    pkgbuild_epoch: Option<String>,
}

impl Versioned {
    fn of(parsed: &Parsed) -> Versioned {
        let srcinfo =
            |key: &str| -> Option<String> { parsed.srcinfo.get(&(String::new(), key.to_string()))?.first().cloned() };
        let pkgbuild = |key: &str| -> Option<String> {
            let plain = parsed.pkgbuild.outside.iter().filter_map(|l| version_line(l));
            plain.filter(|(k, _)| *k == key).map(|(_, v)| v.to_string()).next_back()
        };
        // A commit without a .SRCINFO (the AUR refuses them) is read from its PKGBUILD alone.
        let srcinfo = |key: &str| match parsed.srcinfo.is_empty() {
            true => pkgbuild(key),
            false => srcinfo(key),
        };
        Versioned {
            pkgver: srcinfo("pkgver"),
            pkgrel: srcinfo("pkgrel"),
            epoch: srcinfo("epoch"),
            pkgbuild_pkgver: pkgbuild("pkgver"),
            pkgbuild_pkgrel: pkgbuild("pkgrel"),
            pkgbuild_epoch: pkgbuild("epoch"),
        }
    }

    /// `[epoch:]pkgver-pkgrel` of the .SRCINFO, as the lock records it; None without a pkgver.
    fn full(&self) -> Option<String> {
        let epoch = self.epoch.as_ref().map_or(String::new(), |e| format!("{e}:"));
        let pkgrel = self.pkgrel.as_ref().map_or(String::new(), |r| format!("-{r}"));
        Some(format!("{epoch}{}{pkgrel}", self.pkgver.as_ref()?))
    }
}

/// [`Flag::NotAVersion`] for each pkgver of the new commit that is not a version of it, and
/// [`Flag::VersionOutOfStep`] for each plain version line of its PKGBUILD that is not the
/// .SRCINFO's.
fn not_a_version(is: &Versioned, after: &Parsed) -> Vec<Flag> {
    let mut flags = Vec::new();
    let mut pkgvers: Vec<&String> = is.pkgver.iter().collect();
    pkgvers.extend(is.pkgbuild_pkgver.iter().filter(|p| Some(*p) != is.pkgver.as_ref()));
    if pkgvers.is_empty() {
        flags.push(Flag::NotAVersion { pkgver: String::new(), why: "the .SRCINFO names no pkgver".into() });
    }
    for pkgver in pkgvers {
        let why = match shape(pkgver) {
            Shape::Version => continue,
            Shape::CommitId(id) => match vcs_refusal(pkgver, &id, after) {
                None => continue,
                Some(why) => format!("`{id}` looks like a commit id, {why}"),
            },
            Shape::Word(why) => why.to_string(),
        };
        flags.push(Flag::NotAVersion { pkgver: pkgver.clone(), why });
    }
    let pairs = [
        ("pkgver", &is.pkgbuild_pkgver, &is.pkgver),
        ("pkgrel", &is.pkgbuild_pkgrel, &is.pkgrel),
        ("epoch", &is.pkgbuild_epoch, &is.epoch),
    ];
    for (key, pkgbuild, srcinfo) in pairs {
        if let Some(written) = pkgbuild.as_ref().filter(|p| Some(*p) != srcinfo.as_ref()) {
            flags.push(Flag::VersionOutOfStep { key: key.into(), pkgbuild: written.clone(), srcinfo: srcinfo.clone() });
        }
    }
    flags
}

/// What a pkgver looks like (the module's table).
#[derive(Debug, PartialEq, Eq)]
enum Shape {
    Version,
    /// The component that looks like a commit id.
    CommitId(String),
    /// Not a version at all, and why.
    Word(&'static str),
}

fn shape(pkgver: &str) -> Shape {
    if pkgver.is_empty() || !pkgver.chars().all(|c| c.is_ascii_alphanumeric() || "._+~".contains(c)) {
        return Shape::Word("a pkgver holds only ASCII letters, digits, `.`, `_`, `+` and `~` (PKGBUILD(5))");
    }
    if !pkgver.bytes().any(|b| b.is_ascii_digit()) {
        return Shape::Word("it holds no digit: a branch or a word, not a version");
    }
    let components: Vec<&str> = pkgver.split(['.', '_', '+', '~']).collect();
    if components.iter().any(|c| c.is_empty()) {
        return Shape::Word("it has an empty component");
    }
    match components.into_iter().find(|c| commit_like(c)) {
        Some(id) => Shape::CommitId(id.to_string()),
        None => Shape::Version,
    }
}

/// 7 to 64 hex digits (git's abbreviated ids are 7 or more; SHA-256 ids are 64), after
/// git-describe's `g`, and not a date or time (`YYYYMMDD[hhmm[ss]]`).
fn commit_like(component: &str) -> bool {
    let hex = |s: &str| (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit());
    let id = component.strip_prefix('g').filter(|rest| hex(rest)).unwrap_or(component);
    hex(id) && !is_date(id)
}

/// `YYYYMMDD`, `YYYYMMDDhhmm` or `YYYYMMDDhhmmss`, with a year from 1970 to 2199.
fn is_date(digits: &str) -> bool {
    if ![8, 12, 14].contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let field = |at: usize, len: usize| digits.get(at..at + len).and_then(|s| s.parse::<u32>().ok());
    let in_range = |at, len, low, high| field(at, len).is_some_and(|v| (low..=high).contains(&v));
    in_range(0, 4, 1970, 2199)
        && in_range(4, 2, 1, 12)
        && in_range(6, 2, 1, 31)
        && (digits.len() < 12 || in_range(8, 2, 0, 23) && in_range(10, 2, 0, 59))
        && (digits.len() < 14 || in_range(12, 2, 0, 59))
}

/// Why a commit-id pkgver is not a version of this commit (None: it is, a VCS package's).
fn vcs_refusal(pkgver: &str, id: &str, after: &Parsed) -> Option<&'static str> {
    let sources: Vec<&String> = pkgbase_lists(&after.srcinfo, is_source).into_iter().flat_map(|(_, v)| v).collect();
    if !sources.iter().any(|s| is_vcs(s)) {
        return Some("and the package has no VCS source: a URL that names the pkgver can fetch any commit");
    }
    if !after.pkgbuild.functions.keys().any(|name| name == "pkgver") {
        return Some("and the VCS package has no pkgver() to compute it from the checkout");
    }
    let id = id.to_ascii_lowercase();
    if sources.iter().any(|s| s.contains(pkgver) || s.to_ascii_lowercase().contains(&id)) {
        return Some("and a source names it");
    }
    let mentions = |line: &String| version_line(line).is_none_or(|(k, _)| k != "pkgver") && line.contains("pkgver");
    if after.pkgbuild.outside.iter().any(mentions) {
        return Some("and the PKGBUILD mentions pkgver outside its functions (a source may name it)");
    }
    None
}

/// Whether a source entry (`[name::]URL`) is fetched by one of makepkg's VCS protocols.
fn is_vcs(entry: &str) -> bool {
    let url = entry.split_once("::").map_or(entry, |(_, url)| url);
    let Some((scheme, _)) = url.split_once("://") else { return false };
    let protocol = scheme.split('+').next().unwrap_or_default();
    VCS_PROTOCOLS.contains(&protocol.to_ascii_lowercase().as_str())
}

/// The checksums that are `SKIP`: `KEY[INDEX]` of the .SRCINFO's pkgbase section, and
/// `PKGBUILD KEY[INDEX]` of the PKGBUILD's plain checksum arrays (what makepkg reads).
fn skips(parsed: &Parsed) -> BTreeSet<String> {
    let mut found: BTreeSet<String> = pkgbase_lists(&parsed.srcinfo, is_checksum)
        .into_iter()
        .flat_map(|(key, values)| {
            values.iter().enumerate().filter(|(_, v)| *v == "SKIP").map(move |(i, _)| format!("{key}[{i}]"))
        })
        .collect();
    let lines = &parsed.pkgbuild.outside;
    let mut i = 0;
    while i < lines.len() {
        let Some(count) = checksum_array(lines, i) else {
            i += 1;
            continue;
        };
        let text = lines[i..i + count].join(" ");
        let (key, items) = text.split_once("=(").unwrap_or_default();
        let items = items.split(')').next().unwrap_or_default().split_whitespace();
        let unquote = |item: &str| item.trim_matches(['\'', '"']).to_string();
        for (n, _) in items.map(unquote).enumerate().filter(|(_, item)| item == "SKIP") {
            found.insert(format!("PKGBUILD {}[{n}]", key.trim()));
        }
        i += count;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::{Snapshot, assess, version_only};

    use super::{Shape, is_vcs, shape};

    /// The module's table of what looks like a version, row by row.
    #[test]
    fn what_looks_like_a_version_is_a_table() {
        let versions = ["1.2.3", "2.0rc1", "1.0_beta2", "7.1+dfsg", "1.0~rc1", "r1234", "20261201", "202612011830"];
        let versions = versions.iter().chain(&["20261201183000", "123456", "2024.12.01", "0.0.1.r12"]);
        for pkgver in versions {
            assert_eq!(shape(pkgver), Shape::Version, "{pkgver}");
        }
        let commits = [
            ("0b5ce3a2d1f4e6c7b8a9d0e1f2a3b4c5d6e7f809", "0b5ce3a2d1f4e6c7b8a9d0e1f2a3b4c5d6e7f809"),
            ("1.3.0.r4.g1a2b3c4", "g1a2b3c4"),
            ("r10.abcdef1", "abcdef1"),
            ("1.2.0.1234567", "1234567"),
            ("1.0.deadbeef", "deadbeef"),
            ("1.0.20261399", "20261399"),
            ("1700000000", "1700000000"),
        ];
        for (pkgver, id) in commits {
            assert_eq!(shape(pkgver), Shape::CommitId(id.into()), "{pkgver}");
        }
        for word in ["main", "latest", "stable", "", "1.0-2", "1:2", "1.0/..", "1 0", "1..2", "1.0.", "v1.0\u{202e}"] {
            assert!(matches!(shape(word), Shape::Word(_)), "{word:?}: {:?}", shape(word));
        }
        assert!(is_vcs("foo::git+https://github.com/foo/foo.git") && is_vcs("svn://svn.example/foo"));
        assert!(!is_vcs("https://github.com/foo/foo.git") && !is_vcs("fix.patch"));
    }

    /// One commit of a small package, its PKGBUILD and .SRCINFO in step.
    #[derive(Clone)]
    struct Pkg {
        pkgver: &'static str,
        pkgrel: &'static str,
        epoch: Option<&'static str>,
        /// The PKGBUILD's source entry, `$pkgver` written as such.
        source: &'static str,
        sums: &'static [&'static str],
        /// A `pkgver()` function (a VCS package's).
        pkgver_function: bool,
        /// The PKGBUILD's `pkgver=`, when it is not the .SRCINFO's.
        pkgbuild_pkgver: Option<&'static str>,
    }

    const SUM_A: &str = "5d3c8e1f0a7b94c2e6f1d8a03b5c7e9f1a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d";
    const SUM_B: &str = "e8a1f7c3d5b9026e4a8c1f3d7b5e9a0c2d4f6a8b0c1e3f5a7b9c0d2e4f6a8b0c";
    const SHA1: &str = "0b5ce3a2d1f4e6c7b8a9d0e1f2a3b4c5d6e7f809";
    const GITHUB: &str = "foo-$pkgver.tar.gz::https://github.com/foo/foo/archive/$pkgver.tar.gz";
    const VCS: &str = "foo::git+https://github.com/foo/foo.git";

    fn release(pkgver: &'static str, sum: &'static str) -> Pkg {
        Pkg {
            pkgver,
            pkgrel: "1",
            epoch: None,
            source: GITHUB,
            sums: if sum == SUM_A { &[SUM_A] } else { &[SUM_B] },
            pkgver_function: false,
            pkgbuild_pkgver: None,
        }
    }

    fn vcs(pkgver: &'static str) -> Pkg {
        Pkg { source: VCS, sums: &["SKIP"], pkgver_function: true, ..release(pkgver, SUM_A) }
    }

    impl Pkg {
        fn snapshot(&self) -> Snapshot {
            let quoted = |items: &[&str]| items.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(" ");
            let mut pkgbuild = format!(
                "pkgname=foo\npkgver={}\npkgrel={}\n",
                self.pkgbuild_pkgver.unwrap_or(self.pkgver),
                self.pkgrel
            );
            let mut srcinfo = format!("pkgbase = foo\n\tpkgver = {}\n\tpkgrel = {}\n", self.pkgver, self.pkgrel);
            if let Some(epoch) = self.epoch {
                pkgbuild.push_str(&format!("epoch={epoch}\n"));
                srcinfo.push_str(&format!("\tepoch = {epoch}\n"));
            }
            pkgbuild.push_str(&format!(
                "arch=('any')\nsource=(\"{}\")\nsha256sums=({})\n\n",
                self.source,
                quoted(self.sums)
            ));
            srcinfo.push_str(&format!("\tarch = any\n\tsource = {}\n", self.source.replace("$pkgver", self.pkgver)));
            for sum in self.sums {
                srcinfo.push_str(&format!("\tsha256sums = {sum}\n"));
            }
            srcinfo.push_str("\npkgname = foo\n");
            if self.pkgver_function {
                pkgbuild.push_str("pkgver() {\n  cd foo\n  printf 'r%s.%s' \"$(git rev-list --count HEAD)\" \"$(git rev-parse --short=7 HEAD)\"\n}\n\n");
            }
            pkgbuild.push_str("package() {\n  install -Dm644 foo/README \"$pkgdir/usr/share/doc/foo/README\"\n}\n");
            let files = [("PKGBUILD".to_string(), pkgbuild), (".SRCINFO".to_string(), srcinfo)];
            Snapshot {
                files: files.into(),
                maintainer: Some("alice".into()),
                comaintainers: vec![],
                ..Default::default()
            }
        }
    }

    fn kinds(old: &Pkg, new: &Pkg) -> Vec<String> {
        let flags = assess(Some(&old.snapshot()), &new.snapshot());
        flags.iter().map(|f| serde_json::to_value(f).unwrap()["flag"].as_str().unwrap().to_string()).collect()
    }

    /// (what, old, new, the flag that must refuse it, or None: version-only).
    #[test]
    fn version_only_admits_only_a_newer_version_shaped_pkgver() {
        let table: Vec<(&str, Pkg, Pkg, Option<&str>)> = vec![
            ("a release bump", release("1.2.0", SUM_A), release("1.3.0", SUM_B), None),
            ("a date", release("20261130", SUM_A), release("20261201", SUM_B), None),
            ("an rc", release("1.3.0rc1", SUM_A), release("1.3.0", SUM_B), None),
            ("pkgrel only", release("1.2.0", SUM_A), Pkg { pkgrel: "2", ..release("1.2.0", SUM_A) }, None),
            ("a VCS package's own pkgver()", vcs("r10.abcdef1"), vcs("r12.1234abc"), None),
            ("a commit id in an unchanged URL", release("1.2.0", SUM_A), release(SHA1, SUM_B), Some("not-a-version")),
            (
                "an abbreviated commit id",
                release("1.2.0", SUM_A),
                release("1.3.0.r4.g1a2b3c4", SUM_B),
                Some("not-a-version"),
            ),
            ("a 7-digit commit id", release("1.2.0", SUM_A), release("1.2.0.1234567", SUM_B), Some("not-a-version")),
            ("a branch name", release("1.2.0", SUM_A), release("main", SUM_B), Some("not-a-version")),
            (
                "a VCS package whose source names its pkgver",
                Pkg { source: "git+https://github.com/foo/foo.git#commit=$pkgver", ..vcs("abcdef1") },
                Pkg { source: "git+https://github.com/foo/foo.git#commit=$pkgver", ..vcs("1234abc") },
                Some("not-a-version"),
            ),
            (
                "a VCS package without pkgver()",
                Pkg { pkgver_function: false, ..vcs("r10.abcdef1") },
                Pkg { pkgver_function: false, ..vcs("r12.1234abc") },
                Some("not-a-version"),
            ),
            (
                "a commit id in the PKGBUILD only",
                release("1.2.0", SUM_A),
                Pkg { pkgbuild_pkgver: Some(SHA1), ..release("1.3.0", SUM_B) },
                Some("not-a-version"),
            ),
            (
                "a checksum to SKIP",
                release("1.2.0", SUM_A),
                Pkg { sums: &["SKIP"], ..release("1.3.0", SUM_B) },
                Some("skip-changed"),
            ),
            (
                "a checksum from SKIP",
                Pkg { sums: &["SKIP"], ..release("1.2.0", SUM_A) },
                release("1.3.0", SUM_B),
                Some("skip-changed"),
            ),
            (
                "an epoch added",
                release("1.2.0", SUM_A),
                Pkg { epoch: Some("1"), ..release("1.3.0", SUM_B) },
                Some("epoch-changed"),
            ),
            (
                "an epoch raised",
                Pkg { epoch: Some("1"), ..release("1.2.0", SUM_A) },
                Pkg { epoch: Some("2"), ..release("1.3.0", SUM_B) },
                Some("epoch-changed"),
            ),
            ("a downgrade", release("1.3.0", SUM_A), release("1.2.0", SUM_B), Some("not-newer")),
            ("the same version", release("1.3.0", SUM_A), release("1.3.0", SUM_B), Some("not-newer")),
            (
                "1.3.0 after 1.3.0rc1 rebuilt as 1.3.0-0",
                release("1.3.0", SUM_A),
                Pkg { pkgrel: "0", ..release("1.3.0", SUM_B) },
                Some("not-newer"),
            ),
        ];
        let mut wrong = Vec::new();
        for (what, old, new, refused_by) in table {
            let kinds = kinds(&old, &new);
            let admitted = version_only(&old.snapshot(), &new.snapshot());
            let right = match refused_by {
                None => admitted,
                Some(kind) => !admitted && kinds.iter().any(|k| k == kind),
            };
            if !right {
                wrong.push(format!("{what}: want {refused_by:?}, flags {kinds:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
