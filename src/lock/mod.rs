//! The lock of AUR commits (issue 14): `repoctl.lock`, beside repo.yaml, records for every
//! pkgbase of the closure the AUR commit that may be built, and what it was when a person let
//! it in (version, pkgnames, maintainers, the commit's date, a hash of its files). `build`
//! builds exactly those commits; only `repoctl update` moves them, and shows what it lets in.
//!
//! Format: TOML, as Cargo.lock (docs/src/trust/trust-model.md#what-is-locked says why): one `[[pkgbase]]` table per pkgbase,
//! sorted by name, so a change to the lock is a small, line-oriented diff in a pull request.
pub mod assess;
pub mod diff;
pub mod policy;
pub mod report;

use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The lock file's name, in repo.yaml's directory.
pub const LOCK_FILE: &str = "repoctl.lock";
/// The format version this repoctl reads and writes.
pub const LOCK_VERSION: u32 = 1;

const HEADER: &str = "# repoctl.lock: the AUR commits repoctl may build, one [[pkgbase]] each.\n\
# Written by `repoctl update`, which shows what each change lets in. Review a change to this\n\
# file as you would review code: merging it lets that code run and be signed.\n";

/// One pkgbase as a person let it in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The pkgbase (its AUR git repository's name).
    pub name: String,
    /// A `path:` package's directory (issue 27), relative to repo.yaml as
    /// [`crate::config::LocalPath::written`]; absent for an AUR package. Such an entry has no
    /// commit, no commit date and no maintainer: `files` alone locks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A `git:` package's repository (issue 27): its URL and subdir as repo.yaml writes them;
    /// absent for an AUR package. Such an entry has a commit (of that repository) and a commit
    /// date, no maintainer, and `files` is the digest of the subdir's files at the commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<crate::config::GitSource>,
    /// The AUR git commit (40 hex digits) that is built; empty (and absent from the file) for
    /// a `path:` package.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit: String,
    /// `[epoch:]pkgver-pkgrel` of that commit's `.SRCINFO`.
    pub version: String,
    pub pkgnames: Vec<String>,
    /// The AUR maintainer when it was let in; absent: orphaned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintainer: Option<String>,
    #[serde(default)]
    pub comaintainers: Vec<String>,
    /// The commit's committer date, RFC 3339 (UTC); empty (absent) for a `path:` package.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub committed: String,
    /// The hash of the commit's files: [`crate::trust::tree::Tree::digest`], `tree-sha256:`
    /// and 64 hex digits (`sha256:` in locks written before issue 23, which
    /// [`crate::trust::tree::Tree::verify`] accepts only where it saw every entry).
    pub files: String,
    /// `patches:` of its repo.yaml entry (issue 27): the SHA-256 of each patch file's bytes, in
    /// the order they are applied, as [`crate::trust::patch::digest`] writes it (`sha256:` and
    /// 64 hex digits). Empty (and absent from the file) for an unpatched package. `version` and
    /// `pkgnames` are then those of the patched files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<String>,
}

/// The whole lock: pkgbase -> entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    pub entries: BTreeMap<String, Entry>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFile {
    version: u32,
    #[serde(default)]
    pkgbase: Vec<Entry>,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot read {path}")]
    Read {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `line` counts from 1; 0 when the problem is not at one line.
    #[error("{path}:{line}: {message}")]
    Invalid { path: Utf8PathBuf, line: usize, message: String },
}

impl LockError {
    /// What to do about it, for the edge to print.
    pub fn hint(&self) -> &'static str {
        match self {
            LockError::Invalid { .. } => {
                "repoctl.lock is written by `repoctl update`: restore it from git (`git checkout -- repoctl.lock`) and run `repoctl update` again"
            }
            LockError::Read { .. } | LockError::Write { .. } => "check the file's permissions",
        }
    }
}

/// The lock beside `config_path`.
pub fn path_beside(config_path: &Utf8Path) -> Utf8PathBuf {
    config_path.parent().map_or_else(|| Utf8PathBuf::from(LOCK_FILE), |d| d.join(LOCK_FILE))
}

impl Lock {
    /// Reads `path`; a missing file is an empty lock (nothing may be built yet). Errors: the
    /// file cannot be read, is not this format, or holds an entry that is not well formed.
    pub fn read(path: &Utf8Path) -> Result<Lock, LockError> {
        match fs_err::read_to_string(path) {
            Ok(text) => Lock::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Lock::default()),
            Err(source) => Err(LockError::Read { path: path.to_owned(), source }),
        }
    }

    /// Parses lock text; `path` is for messages.
    pub fn parse(path: &Utf8Path, text: &str) -> Result<Lock, LockError> {
        let invalid = |line, message| LockError::Invalid { path: path.to_owned(), line, message };
        let file: LockFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| text[..s.start.min(text.len())].lines().count().max(1));
            invalid(line, e.message().to_string())
        })?;
        if file.version != LOCK_VERSION {
            return Err(invalid(0, format!("format version {} (this repoctl reads {LOCK_VERSION})", file.version)));
        }
        let mut entries = BTreeMap::new();
        // The line is looked up only for a message: finding it for every entry scanned the
        // whole text once per pkgbase (seconds for a 5,000-entry lock, bench/plan-5000.sh).
        for entry in file.pkgbase {
            if let Err(message) = entry.check() {
                return Err(invalid(line_of(text, &entry.name), format!("pkgbase {}: {message}", entry.name)));
            }
            let name = entry.name.clone();
            if entries.insert(entry.name.clone(), entry).is_some() {
                return Err(invalid(line_of(text, &name), "a pkgbase is locked twice".to_string()));
            }
        }
        Ok(Lock { entries })
    }

    /// The lock as its file holds it: deterministic, sorted, with the header comment.
    pub fn to_text(&self) -> String {
        let file = LockFile { version: LOCK_VERSION, pkgbase: self.entries.values().cloned().collect() };
        let body = toml::to_string(&file).expect("a lock always serializes");
        format!("{HEADER}\n{body}")
    }

    /// Writes the lock to `path` through a temporary file and a rename: never half a file.
    pub fn write(&self, path: &Utf8Path) -> Result<(), LockError> {
        let err = |source| LockError::Write { path: path.to_owned(), source };
        let tmp = path.with_file_name(format!(".{LOCK_FILE}.{}", std::process::id()));
        fs_err::write(&tmp, self.to_text()).map_err(err)?;
        fs_err::rename(&tmp, path).map_err(err)
    }

    /// pkgbase -> locked commit, for resolution (AUR entries only: a `path:` entry has none,
    /// a `git:` entry's is not the AUR's).
    pub fn pins(&self) -> BTreeMap<String, String> {
        self.entries
            .values()
            .filter(|e| !e.is_local() && e.git.is_none())
            .map(|e| (e.name.clone(), e.commit.clone()))
            .collect()
    }

    /// SHA-256 of the lock's text (`sha256:` + hex), which provenance records.
    pub fn digest(&self) -> String {
        format!("sha256:{:x}", Sha256::digest(self.to_text().as_bytes()))
    }
}

impl Entry {
    /// Names, commit and hash are well formed (they become paths and git arguments).
    fn check(&self) -> Result<(), String> {
        crate::config::check_package_name(&self.name)?;
        if let Some(git) = &self.git {
            crate::config::check_git_source(git).map_err(|why| format!("git `{}`: {why}", git.url))?;
        }
        if let Some(path) = &self.path {
            let plain =
                !path.is_empty() && !path.starts_with('/') && path.split('/').all(|c| !matches!(c, "" | "." | ".."));
            if !plain || !self.commit.is_empty() {
                return Err(format!("path `{path}` is not a plain relative path without a commit"));
            }
        } else if self.commit.len() != 40
            || !self.commit.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(format!("commit `{}` is not 40 lowercase hex digits", self.commit));
        }
        let prefixes = [crate::trust::tree::DIGEST_PREFIX, crate::trust::tree::LEGACY_PREFIX];
        let hash = prefixes.iter().find_map(|p| self.files.strip_prefix(p)).unwrap_or_default();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("files `{}` is not `tree-sha256:` and 64 hex digits", self.files));
        }
        if let Some(bad) = self.patches.iter().find(|p| !crate::trust::patch::is_digest(p)) {
            return Err(format!("patch digest `{bad}` is not `sha256:` and 64 hex digits"));
        }
        if self.is_local() && !self.patches.is_empty() {
            return Err("a `path:` package has no patches".to_string());
        }
        self.pkgnames.iter().try_for_each(|n| crate::config::check_package_name(n))
    }

    /// Whether this is a `path:` package's entry, locked by the digest of its directory.
    pub fn is_local(&self) -> bool {
        self.path.is_some()
    }

    /// The commit, abbreviated as git shows it (12 digits).
    pub fn short_commit(&self) -> &str {
        &self.commit[..12.min(self.commit.len())]
    }
}

/// The line of `name = "PKGBASE"` in the lock text, for messages (1 when not found).
fn line_of(text: &str, pkgbase: &str) -> usize {
    let needle = format!("name = \"{pkgbase}\"");
    text.lines().position(|l| l.trim() == needle).map_or(1, |i| i + 1)
}

/// RFC 3339 in UTC of seconds since the Unix epoch (`2026-11-29T20:43:10Z`).
pub fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map_or_else(|_| secs.to_string(), |t| t.to_string())
}

/// Seconds since the Unix epoch of an RFC 3339 time, or None.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    text.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

#[cfg(test)]
mod tests;
