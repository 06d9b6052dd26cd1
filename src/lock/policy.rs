//! Whether `repoctl update` may move a pkgbase's lock to the AUR's newest commit, under
//! repo.yaml's `trust:` (issue 14): a cooldown (`min_age`), an allowlist of maintainers, and
//! a hold on every change of maintainer until a person says `--accept PKGBASE`. Co-maintainers
//! can push as the maintainer can, so the allowlist and the hold cover them too (issue 25).
//!
//! Pure: the caller gathers what the AUR says; tests drive it with tables.
use super::Entry;
use crate::config::{AutoUpdate, TrustConfig};
use std::collections::BTreeSet;

/// What the AUR offers for one pkgbase: its newest commit and who maintains it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub commit: String,
    /// Committer date of the commit (seconds since the epoch).
    pub committed: i64,
    /// aurweb's `LastModified`: when the pkgbase was last pushed (set by the server), as the
    /// RPC says it *after* the commit was fetched, so that it is at least the time the fetched
    /// commit was pushed (aurweb records a push before its ref moves).
    pub last_modified: i64,
    /// None: orphaned.
    pub maintainer: Option<String>,
    /// aurweb's `CoMaintainers`, in any order.
    pub comaintainers: Vec<String>,
}

impl Candidate {
    /// When the commit reached the AUR, as far as can be known: the later of its committer
    /// date (which the pusher sets, so can be backdated) and aurweb's LastModified (which the
    /// server sets on push). A backdated commit does not shorten the cooldown.
    pub fn arrived(&self) -> i64 {
        self.committed.max(self.last_modified)
    }
}

/// Why a pkgbase stays at its locked commit (or stays out of the lock).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "hold", rename_all = "kebab-case")]
pub enum Hold {
    /// Younger than `trust.min_age`: taken on the first `update` after `until` (epoch seconds).
    CoolingDown { until: i64 },
    /// `trust.maintainers` does not name its maintainer (None: orphaned).
    MaintainerNotAllowed { maintainer: Option<String> },
    /// `trust.maintainers` does not name these co-maintainers, who can push too.
    ComaintainerNotAllowed { comaintainers: Vec<String> },
    /// The maintainer is not the one locked (orphaned, adopted or handed over): held until
    /// `repoctl update --accept PKGBASE`.
    MaintainerChanged { from: Option<String>, to: Option<String> },
    /// Co-maintainers (who can push) added or removed: held until `repoctl update --accept
    /// PKGBASE`, as a change of maintainer.
    ComaintainersChanged { added: Vec<String>, removed: Vec<String> },
    /// `update --auto` takes only what `trust.auto` lets in without review.
    NeedsReview,
    /// Its AUR repository or `.SRCINFO` could not be read: nothing to review yet.
    Unreadable { error: String },
    /// Its `patches:` (issue 27) do not apply to the AUR's new commit, or the patched package
    /// cannot be read: the old entry (commit and patches) stays until the patches are fixed.
    Patches { error: String },
}

impl std::fmt::Display for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = |m: &Option<String>| m.clone().unwrap_or_else(|| "nobody (orphaned)".to_string());
        match self {
            Hold::CoolingDown { until } => write!(f, "cooling down until {}", super::rfc3339(*until)),
            Hold::MaintainerNotAllowed { maintainer } => write!(
                f,
                "maintained by {}, who is not in trust.maintainers (--accept does not override the list: add the name to it in repo.yaml)",
                who(maintainer)
            ),
            Hold::ComaintainerNotAllowed { comaintainers } => write!(
                f,
                "co-maintained by {}, who can push and is not in trust.maintainers (--accept does not override the list: add the names to it in repo.yaml, or ask the maintainer to remove them)",
                comaintainers.join(", ")
            ),
            Hold::ComaintainersChanged { added, removed } => {
                let lists = [("added", added), ("removed", removed)];
                let parts: Vec<String> =
                    lists.iter().filter(|(_, l)| !l.is_empty()).map(|(w, l)| format!("{w} {}", l.join(", "))).collect();
                write!(f, "co-maintainers changed ({}): held until `repoctl update --accept PKGBASE`", parts.join("; "))
            }
            Hold::MaintainerChanged { from, to } => write!(
                f,
                "maintainer changed from {} to {}: held until `repoctl update --accept PKGBASE`",
                who(from),
                who(to)
            ),
            Hold::NeedsReview => f.write_str("not a version-only change: needs review (trust.auto)"),
            Hold::Unreadable { error } => write!(f, "cannot be read from the AUR: {error}"),
            Hold::Patches { error } => write!(f, "held at its lock entry: {error}"),
        }
    }
}

/// How `update` was asked to move the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Everything the policy allows (a person reviews the result before it is merged).
    Review,
    /// Only what `trust.auto` lets in without review (the nightly's direct commit).
    Auto,
}

/// Whether the lock of one pkgbase may move from `locked` (None: not locked yet) to
/// `candidate`. `accepted`: the user named it in `--accept`. `version_only`: the change
/// touches only versions and checksums ([`super::assess::version_only`]). `now`: epoch
/// seconds. The first hold that applies is returned; the order is the order of [`Hold`].
pub fn decide(
    trust: &TrustConfig,
    locked: Option<&Entry>,
    candidate: &Candidate,
    accepted: bool,
    version_only: bool,
    mode: Mode,
    now: i64,
) -> Result<(), Hold> {
    let min_age = i64::try_from(trust.min_age.as_secs()).unwrap_or(i64::MAX);
    let until = candidate.arrived().saturating_add(min_age);
    if until > now {
        return Err(Hold::CoolingDown { until });
    }
    if let Some(allowed) = &trust.maintainers {
        if !candidate.maintainer.as_ref().is_some_and(|m| allowed.contains(m)) {
            return Err(Hold::MaintainerNotAllowed { maintainer: candidate.maintainer.clone() });
        }
        let outside: BTreeSet<&String> = candidate.comaintainers.iter().filter(|c| !allowed.contains(c)).collect();
        if !outside.is_empty() {
            return Err(Hold::ComaintainerNotAllowed { comaintainers: outside.into_iter().cloned().collect() });
        }
    }
    if let Some(locked) = locked.filter(|_| !accepted) {
        if locked.maintainer != candidate.maintainer {
            return Err(Hold::MaintainerChanged { from: locked.maintainer.clone(), to: candidate.maintainer.clone() });
        }
        let (was, is): (BTreeSet<&String>, BTreeSet<&String>) =
            (locked.comaintainers.iter().collect(), candidate.comaintainers.iter().collect());
        if was != is {
            let added = is.difference(&was).map(|s| s.to_string()).collect();
            let removed = was.difference(&is).map(|s| s.to_string()).collect();
            return Err(Hold::ComaintainersChanged { added, removed });
        }
    }
    let auto_ok = trust.auto == AutoUpdate::VersionOnly && version_only && locked.is_some();
    if mode == Mode::Auto && !auto_ok {
        return Err(Hold::NeedsReview);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(min_age_days: u64, maintainers: Option<&[&str]>, auto: AutoUpdate) -> TrustConfig {
        TrustConfig {
            min_age: std::time::Duration::from_secs(min_age_days * 86_400),
            maintainers: maintainers.map(|m| m.iter().map(|s| s.to_string()).collect()),
            auto,
        }
    }

    fn entry(maintainer: Option<&str>) -> Entry {
        Entry {
            name: "foo".into(),
            path: None,
            git: None,
            commit: "a".repeat(40),
            version: "1-1".into(),
            pkgnames: vec!["foo".into()],
            maintainer: maintainer.map(String::from),
            comaintainers: vec![],
            committed: "2026-11-01T00:00:00Z".into(),
            files: format!("sha256:{}", "0".repeat(64)),
            patches: Vec::new(),
        }
    }

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;

    fn candidate(age_days: i64, maintainer: Option<&str>) -> Candidate {
        Candidate {
            commit: "b".repeat(40),
            committed: NOW - age_days * DAY,
            last_modified: NOW - age_days * DAY,
            maintainer: maintainer.map(String::from),
            comaintainers: vec![],
        }
    }

    #[test]
    fn a_commit_younger_than_min_age_cools_down_and_the_same_commit_older_is_taken() {
        let t = trust(3, None, AutoUpdate::None);
        let held =
            decide(&t, Some(&entry(Some("alice"))), &candidate(1, Some("alice")), false, false, Mode::Review, NOW);
        assert_eq!(held, Err(Hold::CoolingDown { until: NOW + 2 * DAY }));
        assert_eq!(held.unwrap_err().to_string(), "cooling down until 2027-01-17T08:00:00Z");
        let later = NOW + 2 * DAY;
        let c = candidate(1, Some("alice"));
        assert_eq!(decide(&t, Some(&entry(Some("alice"))), &c, false, false, Mode::Review, later), Ok(()));
    }

    #[test]
    fn a_backdated_commit_cools_down_from_when_the_aur_received_it() {
        let t = trust(3, None, AutoUpdate::None);
        let mut c = candidate(10, Some("alice"));
        c.last_modified = NOW - 3600;
        let held = decide(&t, Some(&entry(Some("alice"))), &c, false, false, Mode::Review, NOW);
        assert_eq!(held, Err(Hold::CoolingDown { until: NOW - 3600 + 3 * DAY }));
    }

    #[test]
    fn maintainer_changes_hold_until_accepted_and_the_allowlist_always_holds() {
        let t = trust(0, None, AutoUpdate::None);
        let locked = entry(Some("alice"));
        for to in [Some("mallory"), None] {
            let held = decide(&t, Some(&locked), &candidate(5, to), false, false, Mode::Review, NOW);
            assert!(matches!(held, Err(Hold::MaintainerChanged { .. })), "{to:?}: {held:?}");
            assert_eq!(decide(&t, Some(&locked), &candidate(5, to), true, false, Mode::Review, NOW), Ok(()));
        }
        // Adopted after being orphaned: the takeover shape.
        let held = decide(&t, Some(&entry(None)), &candidate(5, Some("mallory")), false, false, Mode::Review, NOW);
        assert_eq!(held, Err(Hold::MaintainerChanged { from: None, to: Some("mallory".into()) }));

        let t = trust(0, Some(&["alice"]), AutoUpdate::None);
        let held = decide(&t, None, &candidate(5, Some("bob")), true, false, Mode::Review, NOW);
        assert_eq!(held, Err(Hold::MaintainerNotAllowed { maintainer: Some("bob".into()) }));
        assert_eq!(decide(&t, None, &candidate(5, Some("alice")), false, false, Mode::Review, NOW), Ok(()));
    }

    #[test]
    fn co_maintainers_are_held_as_maintainers_are() {
        let t = trust(0, None, AutoUpdate::None);
        let mut locked = entry(Some("alice"));
        locked.comaintainers = vec!["carol".into(), "dave".into()];
        let with = |names: &[&str]| Candidate {
            comaintainers: names.iter().map(|n| n.to_string()).collect(),
            ..candidate(5, Some("alice"))
        };
        let decide_for = |c: &Candidate, accepted| decide(&t, Some(&locked), c, accepted, false, Mode::Review, NOW);
        let table: [(&[&str], bool, Result<(), Hold>); 5] = [
            (&["dave", "carol"], false, Ok(())),
            (
                &["carol", "dave", "mallory"],
                false,
                Err(Hold::ComaintainersChanged { added: vec!["mallory".into()], removed: vec![] }),
            ),
            (&["carol"], false, Err(Hold::ComaintainersChanged { added: vec![], removed: vec!["dave".into()] })),
            (
                &[],
                false,
                Err(Hold::ComaintainersChanged { added: vec![], removed: vec!["carol".into(), "dave".into()] }),
            ),
            (&["carol", "dave", "mallory"], true, Ok(())),
        ];
        for (names, accepted, want) in table {
            assert_eq!(decide_for(&with(names), accepted), want, "{names:?} accepted: {accepted}");
        }
        let listed = trust(0, Some(&["alice", "carol"]), AutoUpdate::None);
        let held = decide(&listed, Some(&locked), &with(&["carol", "mallory", "dave"]), true, false, Mode::Review, NOW);
        let outside = vec!["dave".to_string(), "mallory".to_string()];
        assert_eq!(held, Err(Hold::ComaintainerNotAllowed { comaintainers: outside }));
    }

    #[test]
    fn auto_mode_takes_only_version_only_changes_of_locked_packages_when_allowed() {
        let locked = entry(Some("alice"));
        let c = candidate(5, Some("alice"));
        let on = trust(3, None, AutoUpdate::VersionOnly);
        assert_eq!(decide(&on, Some(&locked), &c, false, true, Mode::Auto, NOW), Ok(()));
        assert_eq!(decide(&on, Some(&locked), &c, false, false, Mode::Auto, NOW), Err(Hold::NeedsReview));
        assert_eq!(decide(&on, None, &c, false, true, Mode::Auto, NOW), Err(Hold::NeedsReview), "new: reviewed");
        let off = trust(3, None, AutoUpdate::None);
        assert_eq!(decide(&off, Some(&locked), &c, false, true, Mode::Auto, NOW), Err(Hold::NeedsReview));
        let young = candidate(1, Some("alice"));
        assert!(matches!(
            decide(&on, Some(&locked), &young, false, true, Mode::Auto, NOW),
            Err(Hold::CoolingDown { .. })
        ));
    }
}
