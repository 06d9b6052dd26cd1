//! The status object (issue 15): `NAME.status.json` beside the sync database, saying per pkgbase
//! how its last build went (built, failed or skipped, with the failure kind and a one-line
//! reason), when, at which version and AUR commit, and which run wrote it. The database says what
//! is published; this says what was tried, which is what `repoctl status` and the repository page
//! need to tell "up to date" from "failing since Tuesday".
//!
//! It is written after the database it describes (a reader never sees a result whose database is
//! not up yet) by read-merge-write: a run only replaces the entries of the pkgbases it built, so a
//! run of one package keeps every other entry. The write is conditional on the version read
//! ([`Target::upload_if`]), re-read and re-merged when another run wrote in between. A crash
//! before it leaves the previous object, describing an older database: the repository itself is
//! whole. The format is our own, versioned by [`FORMAT`]; unknown fields are ignored.
//!
//! In a signed repository each write also writes `NAME.status.json.sig` (the key's detached
//! signature of exactly the bytes written, right after them), and a read checks it: only a
//! [`TrustedStatus`] drives a decision ([`trusted`], the attacker review's F5).
use super::{PublishError, Target};
use camino::Utf8Path;
use std::collections::BTreeMap;

pub mod trusted;

pub use trusted::{Signing, StatusKey, StatusRead, TrustedStatus, Unverified, check, signature_name};

/// The format version written in every object's `format`, and the only one this repoctl reads.
pub const FORMAT: u32 = 1;

/// A status object larger than this is refused when read (one entry is ~300 bytes).
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// How many times a write re-reads and re-merges the object after another run replaced it.
const MAX_WRITE_ATTEMPTS: u32 = 8;

/// `NAME.status.json`: the status object of the repository `repo`.
pub fn object_name(repo: &str) -> String {
    format!("{repo}.status.json")
}

/// `sha256:` and lowercase hex of a database's bytes: how [`RepoStatus::database`] names the
/// `NAME.db` it describes.
pub fn database_digest(db: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{:x}", sha2::Sha256::digest(db))
}

/// The whole object, as JSON (pretty, fields in this order).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RepoStatus {
    /// [`FORMAT`].
    pub format: u32,
    /// The repository name (`NAME` of `NAME.db`).
    pub repo: String,
    /// The run that wrote it last.
    pub run: RunRef,
    /// `sha256:` and hex of `NAME.db` as it was when this object was written: the database it
    /// describes (None: there was none).
    pub database: Option<String>,
    /// pkgbase -> its last build.
    pub packages: BTreeMap<String, PackageStatus>,
    /// What the page (`index.html`) written with this object was made from besides the
    /// database and this object ([`super::page::inputs_key`]: `sha256:` and hex of the public
    /// URL, signing key, AUR address and repoctl's version). With [`Self::database`], it lets a
    /// run with nothing new tell that both objects are already current and write neither.
    /// None: written by a repoctl that did not record it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// The pkgname versions published, newest first, at most [`super::feed::MAX_ENTRIES`]:
    /// what the Atom feed (`NAME.atom`, [`super::feed`]) lists. Empty: written by a repoctl
    /// that did not record them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feed: Vec<super::feed::Published>,
}

/// A run of `repoctl build` (or `publish`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunRef {
    /// The run's id (`SECONDS-RANDOM-PID`, `SECONDS-PID` before; as in the work directory's `runs/`).
    pub id: String,
    /// When it wrote the object: RFC 3339, UTC.
    pub time: String,
}

/// How a pkgbase's last build ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildResult {
    Built,
    Failed,
    /// Not built because something it needs failed.
    Skipped,
}

impl BuildResult {
    pub fn as_str(self) -> &'static str {
        match self {
            BuildResult::Built => "built",
            BuildResult::Failed => "failed",
            BuildResult::Skipped => "skipped",
        }
    }
}

/// One pkgbase's last build.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PackageStatus {
    pub result: BuildResult,
    /// The failure's kind (`makepkg`, `timeout`, ...: `FailureKind::label`), for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// One line: why it failed or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The version attempted (`[epoch:]pkgver-pkgrel`; what was made, when built).
    pub version: Option<String>,
    /// The AUR commit attempted, from repoctl.lock (40 hex digits).
    pub commit: Option<String>,
    /// When the build ended: RFC 3339, UTC.
    pub time: String,
    /// The id of the run that built it ([`RunRef::id`]).
    pub run: String,
    /// How long this attempt's build took, in whole seconds (from its first phase to its end,
    /// as the run's summary table says); None for a package that was skipped, or written by a
    /// repoctl that did not record it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
    /// The last successful build, kept when later attempts fail: what the published version
    /// most likely is (None: never built by a repoctl that wrote this object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built: Option<Built>,
    /// This attempt's build log as published ([`super::logs::object_name`]:
    /// `logs/PKGBASE/RUN.log`, relative to the repository); None when none was (a shard's
    /// results, an older repoctl).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Every published log of this pkgbase, newest first, at most repo.yaml's `logs.keep`: a
    /// log no entry lists is deleted ([`write`] says which).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<String>,
    /// For a build: what its packages need and provide (issue 26). None for a failure or a
    /// skip, or written by a repoctl that did not record it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkage: Option<BuildLinkage>,
}

/// What one build's packages need and provide, recorded when they were built (issue 26), so
/// that every later run checks them against today's official repositories without downloading
/// a package: a soname they need that nothing provides any more makes the plan rebuild them.
///
/// Made only from package files that passed the check ([`BuildLinkage::of_checked`]), or read
/// back from a status object (which, in a signed repository, drives a decision only when it
/// verifies: [`trusted`]). Its fields are private so that nothing else (a shard's results
/// file, which AUR code wrote) can say what a build linked against.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildLinkage {
    /// pkgname -> its `.PKGINFO` depends and provides, and its ELF files' sonames.
    packages: BTreeMap<String, crate::alpm::soname::Linkage>,
    /// The official sync databases the build's plan read (`crate::plan::Plan::official`:
    /// `sha256:` and hex over each repository's name and database digest); for a shard's build,
    /// those `publish DIR` read when it published it.
    official: Option<String>,
    /// The sonames its packages need that an official package held a library file of when it
    /// was built (in the `.files` databases its plan read; for a shard's build, those `publish
    /// DIR` read), sorted. Only these can be found
    /// gone later: a soname no official package listed then (a library of the base system
    /// outside any package, or one the `.files` databases were not at hand for) is never
    /// judged, and a rebuild that still needs a gone soname is not rebuilt again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    official_sonames: Vec<String>,
    /// Why it was rebuilt with a dotted pkgrel (`rebuild: libstand.so.1 is gone`), when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rebuild: Option<String>,
}

impl BuildLinkage {
    /// The linkage of one build made of `files` (its package files, each checked against the
    /// lock: [`crate::trust::CheckedPackage`], whose linkage was read from the file's own
    /// bytes): each pkgname's [`crate::trust::CheckedPackage::linkage`], and of the sonames they
    /// need those `official` holds a library file of now (none when its `.files` databases are
    /// not at hand: then none can be judged gone later, which forces no rebuild). `official_digest`:
    /// [`Self::official`]; `rebuild`: [`Self::rebuild`], from this run's plan or the file's
    /// checked provenance record, never from a shard's word.
    pub fn of_checked<'a>(
        files: impl IntoIterator<Item = &'a crate::trust::CheckedPackage>,
        official: &crate::official::OfficialRepos,
        official_digest: Option<String>,
        rebuild: Option<String>,
    ) -> BuildLinkage {
        let packages: BTreeMap<String, _> =
            files.into_iter().map(|f| (f.pkgname().to_string(), f.linkage().clone())).collect();
        let needed = packages.values().flat_map(|l| &l.needs_sonames);
        let mut official_sonames: Vec<String> =
            needed.filter(|s| official.has_library(s) == Some(true)).cloned().collect();
        official_sonames.sort();
        official_sonames.dedup();
        BuildLinkage { packages, official: official_digest, official_sonames, rebuild }
    }

    /// pkgname -> what it needs and provides ([`crate::alpm::soname::Linkage`]).
    pub fn packages(&self) -> &BTreeMap<String, crate::alpm::soname::Linkage> {
        &self.packages
    }

    /// The official sync databases' digest when it was built (see the field).
    pub fn official(&self) -> Option<&str> {
        self.official.as_deref()
    }

    /// The needed sonames an official package held then, sorted: only these can be gone.
    pub fn official_sonames(&self) -> &[String] {
        &self.official_sonames
    }

    /// Why it was rebuilt with a dotted pkgrel, when it was.
    pub fn rebuild(&self) -> Option<&str> {
        self.rebuild.as_deref()
    }
}

/// A successful build, remembered across failures.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Built {
    pub version: String,
    pub commit: Option<String>,
    /// RFC 3339, UTC.
    pub time: String,
    /// How long it took, in whole seconds ([`PackageStatus::duration_secs`]): what `plan
    /// --shards` expects its next build to take (issue 28). None: written by a repoctl that did
    /// not record it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
    /// [`PackageStatus::linkage`] of that build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkage: Option<BuildLinkage>,
}

#[derive(Debug, thiserror::Error)]
#[error("{name} is not a status object of format {FORMAT}: {why}")]
pub struct StatusError {
    pub name: String,
    pub why: String,
}

impl RepoStatus {
    /// Parses an object read from a target; `name` is for messages. Errors: not JSON of this
    /// shape, or another format version.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<RepoStatus, StatusError> {
        let status: RepoStatus =
            serde_json::from_slice(bytes).map_err(|e| StatusError { name: name.into(), why: e.to_string() })?;
        if status.format != FORMAT {
            return Err(StatusError { name: name.into(), why: format!("format {}", status.format) });
        }
        Ok(status)
    }

    /// `previous` (None: no object yet) with this run's results: each pkgbase in `results`
    /// replaced (a failure keeps the previous [`PackageStatus::built`]; its new log, if any,
    /// goes before the previous [`PackageStatus::logs`]), those in `forget` (removed from the
    /// repository) dropped, every other entry kept as it was.
    pub fn merge(
        previous: Option<RepoStatus>,
        repo: &str,
        run: RunRef,
        database: Option<String>,
        results: &BTreeMap<String, PackageStatus>,
        forget: &[String],
    ) -> RepoStatus {
        let mut packages = previous.map(|p| p.packages).unwrap_or_default();
        for (base, new) in results {
            let mut new = new.clone();
            if new.result == BuildResult::Built {
                new.built = new.version.clone().map(|version| Built {
                    version,
                    commit: new.commit.clone(),
                    time: new.time.clone(),
                    duration_secs: new.duration_secs,
                    linkage: new.linkage.clone(),
                });
            } else {
                new.built = packages.get(base).and_then(|old| old.built.clone());
            }
            let older = packages.get(base).map(|old| old.logs.clone()).unwrap_or_default();
            new.logs =
                new.log.iter().cloned().chain(older.into_iter().filter(|l| Some(l) != new.log.as_ref())).collect();
            packages.insert(base.clone(), new);
        }
        packages.retain(|base, _| !forget.contains(base));
        let feed = Vec::new();
        RepoStatus { format: FORMAT, repo: repo.to_string(), run, database, packages, page: None, feed }
    }

    /// Every published log the entries list ([`PackageStatus::logs`]).
    pub fn logs(&self) -> std::collections::BTreeSet<&str> {
        self.packages.values().flat_map(|p| p.logs.iter().map(String::as_str)).collect()
    }

    /// What a write carries over from an object that does not verify ([`StatusRead::Unverified`]):
    /// what is shown (results, versions, times, logs, the feed), without what a decision or the
    /// schedule reads: each build's linkage (issue 26), its duration (`plan --shards`) and the
    /// database and page digests. A
    /// forged entry can thus change what the page says until that pkgbase's next build, not
    /// what repoctl rebuilds or skips.
    pub fn for_display(mut self) -> RepoStatus {
        for entry in self.packages.values_mut() {
            (entry.linkage, entry.duration_secs) = (None, None);
            if let Some(built) = entry.built.as_mut() {
                (built.linkage, built.duration_secs) = (None, None);
            }
        }
        (self.database, self.page) = (None, None);
        self
    }

    /// Keeps the newest `keep` logs of each pkgbase.
    fn trim_logs(&mut self, keep: usize) {
        for entry in self.packages.values_mut() {
            entry.logs.truncate(keep);
        }
    }
}

/// Reads `NAME.status.json` from `target` and, in a signed repository (`key`), its signature
/// beside it (two requests at once, not one after the other), and checks them ([`check`]).
/// Errors: the target.
pub async fn read(target: &dyn Target, repo: &str, key: StatusKey<'_>) -> Result<StatusRead, PublishError> {
    let name = object_name(repo);
    let (bytes, sig) = tokio::join!(target.fetch(&name, MAX_BYTES), fetch_signature(target, repo, key));
    let bytes = match bytes {
        // Planted to stop every run that reads it: not ours, so not used (rewritten or not).
        Err(e @ PublishError::TooLarge { .. }) => return Ok(StatusRead::Unusable(e.to_string())),
        bytes => bytes?,
    };
    Ok(check(&name, bytes.as_deref(), sig?.as_deref(), key))
}

/// `NAME.status.json.sig` when `key` says the repository is signed (None otherwise, unread).
/// One larger than [`trusted::MAX_SIG_BYTES`] is not the key's: it reads as empty, which
/// verifies as another key's, rather than failing every run that reads it.
async fn fetch_signature(target: &dyn Target, repo: &str, key: StatusKey<'_>) -> Result<Option<Vec<u8>>, PublishError> {
    match key.is_signed() {
        true => match target.fetch(&signature_name(repo), trusted::MAX_SIG_BYTES).await {
            Err(PublishError::TooLarge { .. }) => Ok(Some(Vec::new())),
            fetched => fetched,
        },
        false => Ok(None),
    }
}

/// What one run tells the status object.
pub struct Update<'a> {
    pub repo: &'a str,
    pub run: RunRef,
    /// `sha256:` of the live `NAME.db` this object will describe.
    pub database: Option<String>,
    pub results: &'a BTreeMap<String, PackageStatus>,
    /// pkgbases removed from the repository.
    pub forget: &'a [String],
    /// [`RepoStatus::page`] of the page written after this object.
    pub page: Option<String>,
    /// The pkgbases the run's plan knows (listed, their AUR dependencies, and what the
    /// repository holds); None when the run made no plan (`publish DIR`, `sign`). With it, an
    /// entry of a pkgbase neither known nor in [`Self::published`] is dropped: a package taken
    /// out of repo.yaml before it was ever published (issue 29) has nothing to describe.
    pub known: Option<&'a [String]>,
    /// The pkgbases the live database lists.
    pub published: std::collections::BTreeSet<String>,
    /// How many logs of each pkgbase stay listed (repo.yaml's `logs.keep`).
    pub keep_logs: usize,
    /// The pkgname versions this run published, for the feed ([`RepoStatus::feed`]).
    pub published_now: Vec<super::feed::Published>,
}

impl Update<'_> {
    /// Whether the run has nothing to record: no results and nothing removed.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty() && self.forget.is_empty() && self.published_now.is_empty()
    }

    /// Whether `current`, the object on the target, already says everything this update
    /// would: nothing to record or drop, and it describes the same database and page inputs.
    pub fn already_in(&self, current: &RepoStatus) -> bool {
        let nothing_stale = current.packages.keys().all(|base| self.keeps(base))
            && current.packages.values().all(|p| p.logs.len() <= self.keep_logs);
        self.is_empty() && nothing_stale && current.database == self.database && current.page == self.page
    }

    /// Whether the entry of `base` stays (see [`Self::known`]).
    pub fn keeps(&self, base: &str) -> bool {
        let known = self.known.is_none_or(|known| known.iter().any(|k| k == base));
        known || self.published.contains(base) || self.results.contains_key(base)
    }
}

/// What [`write`] wrote.
pub struct Written {
    pub status: RepoStatus,
    /// Why the object read was unusable (it was replaced), when it was.
    pub replaced: Option<String>,
    /// Why the object read did not verify ([`StatusRead::unverified`]), when it did not: only its
    /// display fields were carried over ([`RepoStatus::for_display`]).
    pub unverified: Option<String>,
    /// The logs the object read listed and the one written does not ([`PackageStatus::logs`]):
    /// to delete once nothing else that is written refers to them.
    pub dropped_logs: Vec<String>,
}

/// How long [`write`] waits, once, before reading again an object whose signature is the key's
/// but not of its bytes: another run may be between writing its object and its signature.
const TORN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Read-merge-write of `NAME.status.json` ([`RepoStatus::merge`], each pkgbase's logs trimmed to
/// [`Update::keep_logs`], this run's publications added to the feed), conditional on the
/// version read and repeated when another run wrote in between; `scratch` holds the local
/// copy uploaded. In a signed repository (`signing`) the object read is merged whole only when
/// it verifies ([`check`]; else only [`RepoStatus::for_display`] of it), and the bytes written
/// are signed: `NAME.status.json.sig` is written right after them. Errors: the target fails,
/// the key cannot sign, or it kept changing for [`MAX_WRITE_ATTEMPTS`] reads.
///
/// `first`: the object as the caller read it ([`read_for_write`], side by side with its own
/// reads, to spare the link a round trip), used by the first attempt instead of reading; a
/// stale one only makes that attempt's conditional write fail and the next one read again.
/// `beside`: what is written from the merged object (the page and the feed), side by side with
/// its conditional write, again after each one that fails: the objects it writes may be
/// newer than the status object for a moment, never older once this returns. Its error wins
/// only when the status object was written.
pub async fn write<F, Fut>(
    target: &dyn Target,
    update: &Update<'_>,
    signing: Signing<'_>,
    scratch: &Utf8Path,
    first: Option<ReadForWrite>,
    beside: F,
) -> Result<Written, PublishError>
where
    F: Fn(RepoStatus) -> Fut,
    Fut: std::future::Future<Output = Result<(), PublishError>>,
{
    let name = object_name(update.repo);
    let io = |source| PublishError::Io { path: scratch.to_owned(), source };
    fs_err::create_dir_all(scratch).map_err(io)?;
    let local = scratch.join(&name);
    let mut waited = false;
    let mut first = first;
    for _ in 0..MAX_WRITE_ATTEMPTS {
        let ReadForWrite { read, version } = match first.take() {
            Some(read) => read,
            None => read_for_write(target, update.repo, signing.key()).await?,
        };
        if !waited && matches!(read, StatusRead::Unverified { why: Unverified::Changed, .. }) {
            waited = true;
            tokio::time::sleep(TORN_WAIT).await;
            continue;
        }
        let unverified = read.unverified();
        let (previous, replaced) = match read {
            StatusRead::Missing => (None, None),
            StatusRead::Unusable(why) => (None, Some(why)),
            StatusRead::Trusted(trusted) => (Some(trusted.into_status()), None),
            StatusRead::Unverified { status, .. } => (Some(status.for_display()), None),
        };
        let (merged, dropped_logs) = merged(previous, update);
        let text = serde_json::to_string_pretty(&merged).map_err(|e| io(std::io::Error::other(e)))? + "\n";
        fs_err::write(&local, &text).map_err(io)?;
        let (wrote, written_beside) =
            tokio::join!(target.upload_if(&name, &local, version.as_deref()), beside(merged.clone()));
        if wrote? {
            // The signature first: a page that failed must not leave the object unsigned.
            write_signature(target, signing, update.repo, text.as_bytes(), scratch).await?;
            written_beside?;
            return Ok(Written { status: merged, replaced, unverified, dropped_logs });
        }
    }
    Err(PublishError::Conflict { name, target: target.describe(), attempts: MAX_WRITE_ATTEMPTS })
}

/// The status object as read for a [`write`]: checked, with the version its conditional write
/// is made on.
pub struct ReadForWrite {
    read: StatusRead,
    /// The object's version (ETag), None when there was none.
    version: Option<String>,
}

/// The object on `target` checked under `key` ([`check`]), with its version for the
/// conditional write of [`write`]; its signature is read beside it. Errors: the target.
pub async fn read_for_write(target: &dyn Target, repo: &str, key: StatusKey<'_>) -> Result<ReadForWrite, PublishError> {
    let name = object_name(repo);
    let (read, sig) = tokio::join!(target.fetch_versioned(&name, MAX_BYTES), fetch_signature(target, repo, key));
    let (read, sig) = (read?, sig?);
    let version = read.as_ref().map(|(_, v)| v.clone());
    Ok(ReadForWrite { read: check(&name, read.as_ref().map(|(b, _)| b.as_slice()), sig.as_deref(), key), version })
}

/// Writes `NAME.status.json.sig`, the signer's detached signature of `bytes` (what was just
/// written as `NAME.status.json`), when `signing` has a signer. Errors: the key cannot sign,
/// the local copy, the target.
async fn write_signature(
    target: &dyn Target,
    signing: Signing<'_>,
    repo: &str,
    bytes: &[u8],
    scratch: &Utf8Path,
) -> Result<(), PublishError> {
    let Some(signer) = signing.signer() else { return Ok(()) };
    let sig = signer
        .sign_bytes(bytes)
        .map_err(|message| crate::sign::SignError::CannotSign { key: signer.fingerprint().clone(), message })?;
    let name = signature_name(repo);
    let local = scratch.join(&name);
    fs_err::write(&local, sig).map_err(|source| PublishError::Io { path: local.clone(), source })?;
    target.upload(&name, &local).await
}

/// `previous` with `update` applied (see [`write`]), and the logs it no longer lists.
fn merged(previous: Option<RepoStatus>, update: &Update<'_>) -> (RepoStatus, Vec<String>) {
    let before: Vec<String> = previous.iter().flat_map(|p| p.logs()).map(str::to_string).collect();
    let feed = previous.as_ref().map(|p| p.feed.clone()).unwrap_or_default();
    let mut merged = RepoStatus::merge(
        previous,
        update.repo,
        update.run.clone(),
        update.database.clone(),
        update.results,
        update.forget,
    );
    merged.page = update.page.clone();
    merged.packages.retain(|base, _| update.keeps(base));
    merged.trim_logs(update.keep_logs);
    merged.feed = super::feed::add(feed, &update.published_now);
    let kept = merged.logs();
    let dropped = before.into_iter().filter(|l| !kept.contains(l.as_str())).collect();
    (merged, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(result: BuildResult, version: &str, commit: &str) -> PackageStatus {
        PackageStatus {
            result,
            kind: (result == BuildResult::Failed).then(|| "makepkg".into()),
            reason: None,
            version: Some(version.into()),
            commit: Some(commit.into()),
            time: "2026-11-30T01:00:00Z".into(),
            run: "2".into(),
            duration_secs: Some(90),
            built: None,
            log: None,
            logs: Vec::new(),
            linkage: None,
        }
    }

    fn run(id: &str) -> RunRef {
        RunRef { id: id.into(), time: "2026-11-30T01:00:00Z".into() }
    }

    #[test]
    fn a_run_replaces_its_packages_keeps_the_others_and_a_failure_keeps_the_last_build() {
        let first = BTreeMap::from([
            ("hello".to_string(), entry(BuildResult::Built, "1.0-1", "aaa")),
            ("libfoo".to_string(), entry(BuildResult::Built, "2.1-1", "bbb")),
            ("gone".to_string(), entry(BuildResult::Built, "1-1", "ccc")),
        ]);
        let one = RepoStatus::merge(None, "r", run("1"), None, &first, &[]);
        assert_eq!(one.packages["hello"].built.as_ref().unwrap().version, "1.0-1");
        let second = BTreeMap::from([("hello".to_string(), entry(BuildResult::Failed, "1.1-1", "ddd"))]);
        let two = RepoStatus::merge(Some(one.clone()), "r", run("2"), None, &second, &["gone".to_string()]);
        let hello = &two.packages["hello"];
        assert_eq!((hello.result, hello.version.as_deref()), (BuildResult::Failed, Some("1.1-1")));
        let built = hello.built.as_ref().unwrap();
        assert_eq!((built.version.as_str(), built.commit.as_deref()), ("1.0-1", Some("aaa")));
        assert_eq!(built.duration_secs, Some(90), "the last successful build's duration is kept across a failure");
        assert_eq!(two.packages["libfoo"], one.packages["libfoo"], "untouched entries are kept as they were");
        assert!(!two.packages.contains_key("gone"), "a removed pkgbase is forgotten");
        assert_eq!(two.run.id, "2");
    }

    #[test]
    fn an_entry_the_plan_does_not_know_and_the_database_does_not_list_is_dropped() {
        // Issue 29: `broken` failed, was never published, and left repo.yaml: its entry goes.
        fn update<'a>(results: &'a BTreeMap<String, PackageStatus>, known: Option<&'a [String]>) -> Update<'a> {
            let published = ["hello".to_string(), "gone-from-aur".to_string()].into();
            let database = Some("sha256:00".into());
            let (keep_logs, published_now) = (10, Vec::new());
            Update {
                repo: "r",
                run: run("3"),
                database,
                results,
                forget: &[],
                page: None,
                known,
                published,
                keep_logs,
                published_now,
            }
        }
        let results = BTreeMap::new();
        let known = ["hello".to_string(), "libfoo".to_string()];
        let with_plan = update(&results, Some(&known));
        for (base, kept) in [("hello", true), ("libfoo", true), ("gone-from-aur", true), ("broken", false)] {
            assert_eq!(with_plan.keeps(base), kept, "{base}");
        }
        let current = RepoStatus::merge(
            None,
            "r",
            run("2"),
            Some("sha256:00".into()),
            &BTreeMap::from([("broken".to_string(), entry(BuildResult::Failed, "1-1", "eee"))]),
            &[],
        );
        assert!(!with_plan.already_in(&current), "a stale entry is a reason to write the object");
        let without_plan = update(&results, None);
        assert!(without_plan.keeps("broken") && without_plan.already_in(&current), "publish DIR knows no plan");
    }

    #[test]
    fn the_object_reads_back_and_another_format_is_refused() {
        let results = BTreeMap::from([("hello".to_string(), entry(BuildResult::Built, "1.0-1", "aaa"))]);
        let status = RepoStatus::merge(None, "r", run("1"), Some("sha256:00".into()), &results, &[]);
        let text = serde_json::to_string_pretty(&status).unwrap();
        assert_eq!(RepoStatus::parse("r.status.json", text.as_bytes()).unwrap(), status);
        let other = text.replace("\"format\": 1", "\"format\": 2");
        let err = RepoStatus::parse("r.status.json", other.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "r.status.json is not a status object of format 1: format 2");
        assert!(RepoStatus::parse("r.status.json", b"<html>").is_err());
    }

    /// [`merged`] of `previous` with `results`, `forget` and `logs.keep` of 2.
    fn apply(
        previous: Option<RepoStatus>,
        results: &BTreeMap<String, PackageStatus>,
        forget: &[String],
    ) -> (RepoStatus, Vec<String>) {
        let (published, published_now) = (Default::default(), Vec::new());
        let (database, page, known) = (None, None, None);
        let update = Update {
            repo: "r",
            run: run("n"),
            database,
            results,
            forget,
            page,
            known,
            published,
            keep_logs: 2,
            published_now,
        };
        merged(previous, &update)
    }

    #[test]
    fn a_pkgbase_keeps_its_newest_logs_and_the_rest_are_dropped() {
        let with_log = |run_id: &str| {
            let mut e = entry(BuildResult::Failed, "1-1", "aaa");
            e.log = Some(format!("logs/hello/{run_id}.log"));
            e
        };
        let mut current: Option<RepoStatus> = None;
        let mut dropped = Vec::new();
        for run_id in ["1", "2", "3"] {
            let results = BTreeMap::from([("hello".to_string(), with_log(run_id))]);
            let (next, gone) = apply(current.take(), &results, &[]);
            current = Some(next);
            dropped.extend(gone);
        }
        let status = current.unwrap();
        assert_eq!(status.packages["hello"].logs, ["logs/hello/3.log", "logs/hello/2.log"]);
        assert_eq!(dropped, ["logs/hello/1.log"], "the oldest beyond keep is dropped");
        let (_, gone) = apply(Some(status), &BTreeMap::new(), &["hello".to_string()]);
        assert_eq!(gone, ["logs/hello/2.log", "logs/hello/3.log"], "a removed pkgbase's logs go with it");
    }
}
