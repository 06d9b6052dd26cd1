//! Whether the status object may be acted on (the attacker review's F5).
//!
//! `NAME.status.json` records, per pkgbase, what its last build linked against (issue 26) and
//! which database and page inputs the object was written for: a run rebuilds a package whose
//! recorded soname is gone, and a run with nothing new skips the page rewrite when the recorded
//! digests match. Someone who can write the bucket but does not hold the key could forge those
//! records and have repoctl churn rebuilds, suppress them, or skip the rewrite. So in a signed
//! repository every write of the object also writes `NAME.status.json.sig`, a detached
//! signature by the repository's key over exactly the bytes written ([`super::write`]), and a
//! read checks it ([`check`]).
//!
//! [`TrustedStatus`], which only [`check`] makes, is what every decision takes: the soname
//! rebuilds (`commands::gone_sonames`), the no-op skip of the objects' rewrite
//! (`publish::already_described`) and the held packages a no-op records (`newly_held`). An
//! object that does not verify ([`StatusRead::Unverified`]) is still shown (`repoctl status`,
//! marked), never acted on, and rewritten signed by the next publish, which carries over only
//! its display fields ([`super::RepoStatus::for_display`]).
use super::RepoStatus;
use crate::pgp::Fingerprint;
use crate::sign::{PublicKey, Signer};

/// A detached signature larger than this is not one of ours (they are a few hundred bytes).
pub const MAX_SIG_BYTES: u64 = 64 * 1024;

/// `NAME.status.json.sig`: the detached signature of the status object of the repository `repo`.
pub fn signature_name(repo: &str) -> String {
    format!("{}.sig", super::object_name(repo))
}

/// What a run checks the status object with.
#[derive(Debug, Clone, Copy)]
pub enum StatusKey<'a> {
    /// The repository has no `sign:`: its status object is taken as read.
    Unsigned,
    /// The repository is signed with `fingerprint` (repo.yaml's `sign.key`); `public` checks
    /// the signature (None: this run has neither the secret key nor `sign.public_key`, so no
    /// object verifies).
    Signed { fingerprint: &'a Fingerprint, public: Option<&'a PublicKey> },
}

impl<'a> StatusKey<'a> {
    /// The key of a repository signed by `signer`.
    pub fn of_signer(signer: &'a Signer) -> StatusKey<'a> {
        StatusKey::Signed { fingerprint: signer.fingerprint(), public: Some(signer.public()) }
    }

    /// Whether the repository is signed: only then is `NAME.status.json.sig` read.
    pub fn is_signed(&self) -> bool {
        matches!(self, StatusKey::Signed { .. })
    }
}

/// How a run that writes the status object signs it ([`super::write`]).
#[derive(Debug, Clone, Copy)]
pub enum Signing<'a> {
    /// The repository has no `sign:`: the object is written alone and read as it is.
    Unsigned,
    /// The object found must verify under the signer's key to be merged whole, and the one
    /// written is signed.
    Signed(&'a Signer),
    /// `sign --adopt` turning signing on: the object found, written while the repository was
    /// unsigned, is taken over as read (as the adoption takes over the database), and the one
    /// written is signed.
    Adopting(&'a Signer),
}

impl<'a> Signing<'a> {
    /// What the object found is checked with before it is merged.
    pub fn key(&self) -> StatusKey<'a> {
        match self {
            Signing::Unsigned | Signing::Adopting(_) => StatusKey::Unsigned,
            Signing::Signed(signer) => StatusKey::of_signer(signer),
        }
    }

    /// The signer of what is written (None: unsigned).
    pub fn signer(&self) -> Option<&'a Signer> {
        match self {
            Signing::Unsigned => None,
            Signing::Signed(signer) | Signing::Adopting(signer) => Some(signer),
        }
    }

    /// The signing key's fingerprint, when the repository is signed.
    pub fn fingerprint(&self) -> Option<&'a Fingerprint> {
        self.signer().map(Signer::fingerprint)
    }
}

/// Why a status object in a signed repository does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unverified {
    /// There is no `NAME.status.json.sig` (written unsigned, or by someone without the key).
    NoSignature,
    /// The signature is not the key's (another key made it, or it is not a signature).
    OtherKey,
    /// The key's signature, but not of these bytes: the object was changed after it was
    /// signed, or a run stopped (or is) between writing the object and its signature.
    Changed,
    /// This run has no public key to check it with.
    NoKey,
}

impl Unverified {
    /// Why, in words, for the object `name`.
    pub fn why(self, name: &str) -> String {
        match self {
            Unverified::NoSignature => format!("{name}.sig does not exist"),
            Unverified::OtherKey => format!("{name}.sig was made by another key"),
            Unverified::Changed => format!(
                "{name}.sig is not a signature of its bytes (changed after it was signed, or a run stopped between the two)"
            ),
            Unverified::NoKey => {
                "this run has neither the secret key nor `sign.public_key` to check it with".to_string()
            }
        }
    }
}

/// A status object whose records may drive decisions: the repository is unsigned, or
/// `NAME.status.json.sig` is the key's signature of exactly its bytes. Only [`check`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedStatus {
    status: RepoStatus,
}

impl TrustedStatus {
    /// The object as read.
    pub fn status(&self) -> &RepoStatus {
        &self.status
    }

    /// The object, to merge into the next one ([`super::write`]).
    pub fn into_status(self) -> RepoStatus {
        self.status
    }
}

/// The status object as read beside its signature and checked ([`check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusRead {
    /// There is none.
    Missing,
    /// There is one, but it is not a status object this repoctl reads: why.
    Unusable(String),
    /// It may be acted on.
    Trusted(TrustedStatus),
    /// A signed repository's object that does not verify under `key`: shown, never acted on.
    Unverified { status: RepoStatus, name: String, key: Fingerprint, why: Unverified },
}

impl StatusRead {
    /// The object when it may be acted on.
    pub fn trusted(&self) -> Option<&TrustedStatus> {
        match self {
            StatusRead::Trusted(trusted) => Some(trusted),
            _ => None,
        }
    }

    /// The object as read, verified or not: what is shown (`repoctl status`, the durations
    /// `plan --shards` expects), never what a decision is made on.
    pub fn shown(&self) -> Option<&RepoStatus> {
        match self {
            StatusRead::Trusted(trusted) => Some(&trusted.status),
            StatusRead::Unverified { status, .. } => Some(status),
            StatusRead::Missing | StatusRead::Unusable(_) => None,
        }
    }

    /// Why the object found cannot be read at all.
    pub fn unusable(&self) -> Option<&str> {
        match self {
            StatusRead::Unusable(why) => Some(why),
            _ => None,
        }
    }

    /// `NAME.status.json does not verify under key KEY: WHY`, when it does not.
    pub fn unverified(&self) -> Option<String> {
        match self {
            StatusRead::Unverified { name, key, why, .. } => {
                Some(format!("{name} does not verify under key {key}: {}", why.why(name)))
            }
            _ => None,
        }
    }

    /// The one warning a run that read an unverified object says: what it is and what happens.
    pub fn warning(&self) -> Option<String> {
        self.unverified().map(|what| {
            format!(
                "{what}; its recorded linkage and digests are ignored this run, and the next publish rewrites it signed"
            )
        })
    }
}

/// Checks `bytes` (`name`'s, None: there is none) against `sig` (`NAME.status.json.sig`'s) under
/// `key`, and parses them. Trusted: the repository is unsigned, or `sig` is the key's valid
/// signature of exactly `bytes`. Bytes that do not parse are [`StatusRead::Unusable`] either way.
pub fn check(name: &str, bytes: Option<&[u8]>, sig: Option<&[u8]>, key: StatusKey<'_>) -> StatusRead {
    let Some(bytes) = bytes else { return StatusRead::Missing };
    let status = match RepoStatus::parse(name, bytes) {
        Ok(status) => status,
        Err(e) => return StatusRead::Unusable(e.to_string()),
    };
    let StatusKey::Signed { fingerprint, public } = key else {
        return StatusRead::Trusted(TrustedStatus { status });
    };
    match verdict(bytes, sig, public) {
        Ok(()) => StatusRead::Trusted(TrustedStatus { status }),
        Err(why) => StatusRead::Unverified { status, name: name.to_string(), key: fingerprint.clone(), why },
    }
}

/// Whether `sig` is `public`'s signature of `bytes`, and if not, why.
fn verdict(bytes: &[u8], sig: Option<&[u8]>, public: Option<&PublicKey>) -> Result<(), Unverified> {
    let public = public.ok_or(Unverified::NoKey)?;
    let sig = sig.ok_or(Unverified::NoSignature)?;
    if public.verify(bytes, sig) {
        return Ok(());
    }
    Err(if public.is_issuer_of(sig) { Unverified::Changed } else { Unverified::OtherKey })
}

#[cfg(test)]
mod tests;
