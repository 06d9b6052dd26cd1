//! Why a step does what it does, as data; the words are written here and nowhere else.
use std::fmt;

/// Why a step builds, skips, removes or is blocked. Rendered by [`fmt::Display`] (plan table,
/// job summary, `plan --json`'s `reason`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    NotInRepository,
    AurNewer {
        aur: String,
        repo: String,
    },
    UpToDate,
    RepoNewer {
        repo: String,
        aur: String,
    },
    /// The AUR has no version for it (nothing else said why).
    UnknownToAur,
    /// `build PKG`: asked for by name though it would be skipped (made by [`Reason::requested`]).
    Requested(Box<Reason>),
    /// Skipped now, but `build` asks its pkgver() whether upstream moved.
    VcsToCheck(Box<Reason>),
    /// pkgver() was asked: `upstream` is the version makepkg makes of its answer
    /// (`[epoch:]pkgver-pkgrel`), newer than the repository's `repo`.
    VcsMoved {
        upstream: String,
        repo: String,
    },
    /// pkgver() was asked, and `upstream` (as in [`Reason::VcsMoved`]) is not newer.
    VcsUpToDate {
        upstream: String,
    },
    VcsCheckFailed {
        repo: String,
        error: String,
    },
    /// Skipped without asking pkgver(): checked at `checked` (seconds since the epoch),
    /// `ago_secs` ago, less than its `vcs_interval` (`interval_secs`), and upstream
    /// (as in [`Reason::VcsMoved`]) was not newer then.
    VcsCheckedRecently {
        upstream: String,
        checked: i64,
        ago_secs: u64,
        interval_secs: u64,
    },
    /// Its `.SRCINFO` and PKGBUILD disagree; not built again until the AUR changes it.
    SrcinfoMismatch {
        srcinfo: String,
        built: String,
    },
    /// Listed, gone from the AUR, its published version kept.
    GoneKept {
        version: String,
    },
    /// Gone from the AUR, kept because other packages need it.
    GoneNeeded {
        version: String,
        by: Vec<String>,
    },
    NotFound,
    /// The AUR has it, repoctl.lock does not: nothing of it is built until `repoctl update`.
    NotLocked,
    /// It cannot be built: the messages of its problems.
    Blocked(Vec<String>),
    /// `build --earlier-waves DIR`: an earlier wave built it (`version`); its files there are
    /// installed into its dependants' containers.
    EarlierWave {
        version: String,
    },
    NoLongerNeeded,
    /// The locked commit again, with a dotted pkgrel (issue 26): `version` is what it makes,
    /// `why` the cause (`libstand.so.1 is gone`, `requested with --rebuild`).
    Rebuild {
        version: String,
        why: String,
    },
    /// `repoctl rollback` put back the snapshot `snapshot`, and the lock still names the commit
    /// of `version`, which the rollback took away: not built until the lock entry moves.
    RolledBack {
        version: String,
        snapshot: String,
    },
}

impl Reason {
    /// Why a step named on the command line (`build PKG`) is built though it would be skipped
    /// (`why`). Naming a package builds it, so a VCS package is not asked its pkgver() first
    /// and its reason no longer says it will be.
    pub fn requested(why: Reason) -> Reason {
        match why {
            Reason::VcsToCheck(why) => Reason::Requested(why),
            why => Reason::Requested(Box::new(why)),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotInRepository => f.write_str("not in the repository"),
            Reason::AurNewer { aur, repo } => write!(f, "AUR has {aur}, repository has {repo}"),
            Reason::UpToDate => f.write_str("up to date"),
            Reason::RepoNewer { repo, aur } => write!(f, "repository has {repo}, newer than the AUR's {aur}"),
            Reason::UnknownToAur => f.write_str("unknown to the AUR"),
            Reason::Requested(why) => write!(f, "requested on the command line ({why})"),
            Reason::VcsToCheck(why) => write!(f, "{why}; VCS package: `build` checks upstream with pkgver()"),
            Reason::VcsMoved { upstream, repo } => {
                write!(f, "VCS upstream moved: {}; repository has {repo}", answer("gives", upstream))
            }
            Reason::VcsUpToDate { upstream } => write!(f, "up to date with upstream ({})", answer("gives", upstream)),
            Reason::VcsCheckFailed { repo, error } => write!(f, "upstream check failed, kept {repo}: {error}"),
            Reason::VcsCheckedRecently { upstream, ago_secs, interval_secs, .. } => write!(
                f,
                "up to date with upstream {} ago ({}); checked again after vcs_interval {}",
                span(*ago_secs),
                answer("gave", upstream),
                span(*interval_secs)
            ),
            Reason::SrcinfoMismatch { srcinfo, built } => write!(
                f,
                "its .SRCINFO says {srcinfo} but its PKGBUILD makes {built}: not built again until the AUR changes it"
            ),
            Reason::GoneKept { version } => write!(f, "gone from the AUR; published {version} kept"),
            Reason::GoneNeeded { version, by } => {
                write!(f, "gone from the AUR; published {version} kept: {} need(s) it", by.join(", "))
            }
            Reason::NotFound => f.write_str("not found in the AUR"),
            Reason::NotLocked => f.write_str("not locked: run repoctl update"),
            Reason::Blocked(why) => write!(f, "cannot be built: {}", why.join("; ")),
            Reason::EarlierWave { version } => write!(f, "{version} built by an earlier wave: installed from there"),
            Reason::NoLongerNeeded => f.write_str("no longer listed in repo.yaml nor needed by a listed package"),
            Reason::Rebuild { version, why } => write!(f, "rebuild: {why} ({version})"),
            Reason::RolledBack { version, snapshot } => write!(
                f,
                "held since the rollback to {snapshot}: repoctl.lock still names {version}, which it took away (`repoctl update` moves the lock)"
            ),
        }
    }
}

/// What pkgver() answered, as `pkgver() gave r7.abc, so version 2:r7.abc-1`: pkgver() prints
/// the pkgver only, and the version compared with the repository's is the one makepkg makes of
/// it (`[epoch:]pkgver-pkgrel`, [`crate::plan::VcsCheck::upstream`]).
fn answer(verb: &str, version: &str) -> String {
    match crate::alpm::pkgver_of(version) {
        Some(pkgver) if pkgver != version => format!("pkgver() {verb} {pkgver}, so version {version}"),
        _ => format!("pkgver() {verb} version {version}"),
    }
}

/// `2d3h`, `5m`, `40s`: a span of seconds, the two largest units.
fn span(secs: u64) -> String {
    let mut out = String::new();
    let (mut rest, mut parts) = (secs, 0);
    for (n, unit) in [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")] {
        if rest >= n && parts < 2 {
            out.push_str(&format!("{}{unit}", rest / n));
            rest %= n;
            parts += 1;
        } else if parts > 0 {
            parts = 2;
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A step's reason in `plan --json`, flattened into the step: `reason`, the words of
/// [`fmt::Display`]; and for a VCS check deferred by `vcs_interval`
/// ([`Reason::VcsCheckedRecently`]) `vcs_check`, an object with `upstream` (the version pkgver()
/// made then, `[epoch:]pkgver-pkgrel`), `last_checked` and `next_check` (RFC 3339 in UTC: when
/// it was asked, and the first run that asks again) and `interval_secs` (its `vcs_interval`).
pub(super) fn serialize_fields<S: serde::Serializer>(reason: &Reason, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(None)?;
    map.serialize_entry("reason", reason)?;
    if let Reason::VcsCheckedRecently { upstream, checked, interval_secs, .. } = reason {
        let next = checked.saturating_add_unsigned(*interval_secs);
        let check = serde_json::json!({
            "upstream": upstream,
            "last_checked": crate::lock::rfc3339(*checked),
            "next_check": crate::lock::rfc3339(next),
            "interval_secs": interval_secs,
        });
        map.serialize_entry("vcs_check", &check)?;
    }
    map.end()
}
