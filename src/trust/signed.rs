//! The live sync database as a run may build on it (issue 24, item 1): in a signed repository,
//! only a database whose bytes verify under the configured key, whose every entry carries a
//! package signature by that key, and that is not one this work directory already replaced.
//!
//! Someone who can write the bucket but does not hold the key (a leaked IAM key, a wrong bucket
//! policy) can put any `NAME.db` there. repoctl used to build on whatever it read, and then
//! signed the result: the intruder's entry got the repository's signature. Now [`verify`] is
//! the one gate, and [`TrustedDb`], which only this module makes, is what a publish requires
//! before it changes a database and what the signer requires before it signs one
//! ([`sign_database`]).
//!
//! Where a signature of a database is looked for, in order:
//! 1. `NAME.db.sig` (what pacman reads);
//! 2. the signature stored under the database's digest, [`digest_signature_name`]
//!    (`NAME.db.<sha256>.sig`), which the committing run uploads *before* its commit. A run that
//!    stopped between `NAME.db` and `NAME.db.sig`, or whose `NAME.db.sig` lost a race to a run
//!    that committed right after it, leaves a stale `NAME.db.sig`; this copy still verifies the
//!    live bytes, and the next run publishes it as `NAME.db.sig` ([`TrustedDb::signature_to_republish`]).
//!    No new signature is made for bytes this run did not make.
//!
//! What a valid signature cannot tell is the database's age: an older `NAME.db` put back with
//! its own old signature verifies. [`History`] remembers the databases this work directory
//! committed, so that one it committed and later replaced itself is refused as a rollback; a
//! rollback to a database another machine committed is not detected (the plan then sees the
//! packages behind the lock and rebuilds them).
use crate::alpm::{DbError, RepoEntry, read_sync_db};
use crate::pgp::Fingerprint;
use crate::sign::{PublicKey, SignError, Signer};
use base64::Engine;
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeMap;

/// Why a live database cannot be built on. Every variant names the object (`NAME.db`,
/// `NAME.files`) and the key; `src/error.rs` adds how to recover.
#[derive(Debug, thiserror::Error)]
pub enum Untrusted {
    #[error(
        "{name} is not signed: neither {name}.sig nor a signature by key {key} stored under its digest exists (the repository was published unsigned, or someone who cannot sign replaced it)"
    )]
    Unsigned { name: String, key: Fingerprint },
    #[error("{name} does not verify under key {key}: {why}")]
    BadSignature { name: String, key: Fingerprint, why: String },
    #[error(
        "{name} was put back: it is the database this work directory committed at {committed} and replaced at {replaced} (a rollback)"
    )]
    RolledBack { name: String, committed: String, replaced: String },
    #[error("{name} lists {count} package(s) without a signature by key {key}: {names}")]
    UnsignedEntries { name: String, key: Fingerprint, count: usize, names: String },
    #[error("{name} cannot be read")]
    Db {
        name: String,
        #[source]
        source: DbError,
    },
}

/// How a [`TrustedDb`] came to be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Via {
    /// There is no database yet: the repository is new.
    New,
    /// The repository has no `sign:`: taken as read, nothing to verify against.
    Unsigned,
    /// `NAME.db.sig` verifies it.
    Signature,
    /// The signature stored under its digest verifies it; `NAME.db.sig` is missing or stale.
    DigestSignature(Vec<u8>),
    /// `sign --adopt` checked every package file against its entry ([`adopt`]).
    Adopted,
}

/// The live `NAME.db` as a run may build on it: verified under the key in a signed repository
/// ([`verify`]), every package file checked by `sign --adopt` ([`adopt`]), or taken as read in
/// an unsigned one ([`as_read`]). No other code can make one.
#[derive(Debug, Clone)]
pub struct TrustedDb {
    name: String,
    entries: Vec<RepoEntry>,
    digest: Option<String>,
    key: Option<Fingerprint>,
    via: Via,
}

impl TrustedDb {
    /// The database's entries, in archive order.
    pub fn entries(&self) -> &[RepoEntry] {
        &self.entries
    }

    /// `sha256:` and lowercase hex of the bytes that were verified (None: no database yet).
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The key it verified under (None: an unsigned repository).
    pub fn key(&self) -> Option<&Fingerprint> {
        self.key.as_ref()
    }

    /// A signature by the key over these very bytes, found under the digest name, to be
    /// written as `NAME.db.sig` because the one there is missing or does not verify them.
    pub fn signature_to_republish(&self) -> Option<&[u8]> {
        match &self.via {
            Via::DigestSignature(sig) => Some(sig),
            _ => None,
        }
    }

    /// Checks a package file fetched from the repository (`path`, named `file` in the
    /// database) before a build installs it: its SHA-256 must be the entry's `%SHA256SUM%`, and
    /// in a signed repository its `%PGPSIG%` must be a valid signature of it by `signer`'s key.
    /// Errors: one line naming the file and what does not match.
    pub fn check_fetched(
        &self,
        file: &str,
        path: &Utf8Path,
        public: Option<&PublicKey>,
    ) -> Result<FetchedPackage, String> {
        let entry = self.entries.iter().find(|e| e.filename == file);
        let entry = entry.ok_or_else(|| format!("{file} is not in {}", self.name))?;
        let want =
            entry.sha256.as_deref().ok_or_else(|| format!("{}'s entry for {file} has no %SHA256SUM%", self.name))?;
        let have = sha256_of_file(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        if have != want {
            return Err(format!("{file} as fetched has SHA-256 {have}, but {} says {want}", self.name));
        }
        if let Some(key) = &self.key {
            let public = public.ok_or_else(|| format!("{file}: no key {key} to check its signature with"))?;
            if !embedded_signature_verifies(entry, path, public) {
                return Err(format!("{file}'s signature in {} does not verify it under key {key}", self.name));
            }
        }
        Ok(FetchedPackage { path: path.to_owned() })
    }
}

/// A published package file fetched for a build and checked against its entry
/// ([`TrustedDb::check_fetched`]): what a build installs as a published dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedPackage {
    path: Utf8PathBuf,
}

impl FetchedPackage {
    pub fn path(&self) -> &Utf8Path {
        &self.path
    }
}

/// `sha256:` and lowercase hex of `bytes`: how a database is named in the status object and in
/// [`History`].
pub fn digest_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}

/// A file's SHA-256, lowercase hex, read in blocks (package files can be large).
pub fn sha256_of_file(path: &Utf8Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut fs_err::File::open(path)?, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// Where the signature of a database object (`object`: `NAME.db`, `NAME.files`) with these
/// `bytes` is stored besides `OBJECT.sig`: `OBJECT.<sha256 hex>.sig`, written by the run that
/// made the bytes before its commit, and never replaced (a name per content).
pub fn digest_signature_name(object: &str, bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{object}.{:x}.sig", sha2::Sha256::digest(bytes))
}

/// Whether `sig` (the bytes of `OBJECT.sig`, if any) is a valid signature of `bytes` by the key.
pub fn signature_verifies(bytes: &[u8], sig: Option<&[u8]>, key: &PublicKey) -> bool {
    sig.is_some_and(|sig| key.verify(bytes, sig))
}

/// The signatures found for a live database object (`OBJECT.sig`, and the one under its digest
/// name when that was looked for).
#[derive(Debug, Default, Clone, Copy)]
pub struct Found<'a> {
    pub sig: Option<&'a [u8]>,
    pub digest_sig: Option<&'a [u8]>,
}

/// An unsigned repository's database, taken as read (None: none yet). Errors: it cannot be
/// parsed.
pub fn as_read(name: &str, db: Option<&[u8]>) -> Result<TrustedDb, Untrusted> {
    let via = if db.is_some() { Via::Unsigned } else { Via::New };
    trusted(name, db, None, via)
}

/// A signed repository's live `NAME.db` (`name`), with the signatures `found` for it,
/// verified under `signer`'s key; [`History`] refuses one this work directory replaced.
/// None (no database) is a new repository. Errors: [`Untrusted`], saying what does not
/// verify.
pub fn verify(
    name: &str,
    db: Option<&[u8]>,
    found: Found<'_>,
    signer: &PublicKey,
    history: &History,
) -> Result<TrustedDb, Untrusted> {
    let key = signer.fingerprint().clone();
    let Some(bytes) = db else { return trusted(name, None, Some(key), Via::New) };
    let via = verify_object(name, bytes, found, signer)?;
    if let Some((committed, replaced)) = history.replaced(name, &digest_of(bytes)) {
        return Err(Untrusted::RolledBack { name: name.to_string(), committed, replaced });
    }
    let db = trusted(name, Some(bytes), Some(key.clone()), via)?;
    let unsigned: Vec<&str> =
        db.entries.iter().filter(|e| !entry_is_signed_by(e, signer)).map(|e| e.filename.as_str()).collect();
    if !unsigned.is_empty() {
        let names = unsigned.iter().take(10).copied().collect::<Vec<_>>().join(", ");
        return Err(Untrusted::UnsignedEntries { name: name.to_string(), key, count: unsigned.len(), names });
    }
    Ok(db)
}

/// A database object other than `NAME.db` (`NAME.files`) that a publish builds on: its bytes
/// must verify under the key like `NAME.db`'s ([`Found`]). Errors: [`Untrusted`].
pub fn verify_files(name: &str, bytes: &[u8], found: Found<'_>, signer: &PublicKey) -> Result<(), Untrusted> {
    verify_object(name, bytes, found, signer).map(drop)
}

/// How `bytes` (the object `name`) verify: by `OBJECT.sig`, else by the signature under its
/// digest. Errors: neither exists, or neither verifies.
fn verify_object(name: &str, bytes: &[u8], found: Found<'_>, signer: &PublicKey) -> Result<Via, Untrusted> {
    let key = signer.fingerprint().clone();
    if signature_verifies(bytes, found.sig, signer) {
        return Ok(Via::Signature);
    }
    if let Some(sig) = found.digest_sig.filter(|sig| signer.verify(bytes, sig)) {
        return Ok(Via::DigestSignature(sig.to_vec()));
    }
    let why = match (found.sig, found.digest_sig) {
        (None, None) => return Err(Untrusted::Unsigned { name: name.to_string(), key }),
        (Some(sig), _) if !signer.is_issuer_of(sig) => format!("{name}.sig was made by another key"),
        _ => format!("{name}.sig is not a signature of its bytes (changed after it was signed)"),
    };
    Err(Untrusted::BadSignature { name: name.to_string(), key, why })
}

fn trusted(name: &str, db: Option<&[u8]>, key: Option<Fingerprint>, via: Via) -> Result<TrustedDb, Untrusted> {
    let entries = match db {
        Some(bytes) => read_sync_db(bytes).map_err(|source| Untrusted::Db { name: name.to_string(), source })?,
        None => Vec::new(),
    };
    Ok(TrustedDb { name: name.to_string(), entries, digest: db.map(digest_of), key, via })
}

/// An entry's `%PGPSIG%`, decoded (None: absent or not base64).
fn embedded_signature(entry: &RepoEntry) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(entry.pgpsig.as_deref()?.trim()).ok()
}

/// Whether the entry carries a signature made by the key. The signed bytes (the package file)
/// are not at hand: the database's own signature vouches for the entry, this for its
/// `%PGPSIG%` being the key's and not another's.
fn entry_is_signed_by(entry: &RepoEntry, signer: &PublicKey) -> bool {
    embedded_signature(entry).is_some_and(|sig| signer.is_issuer_of(&sig))
}

/// Whether the entry's `%PGPSIG%` is a valid signature of the file at `path` by the key.
fn embedded_signature_verifies(entry: &RepoEntry, path: &Utf8Path, signer: &PublicKey) -> bool {
    let Some(sig) = embedded_signature(entry) else { return false };
    fs_err::File::open(path).is_ok_and(|file| signer.verify_reader(std::io::BufReader::new(file), &sig))
}

/// A new database archive (`NAME.db.tar.zst` or `NAME.files.tar.zst`, as repo-add wrote it)
/// whose entries say exactly what the publish meant ([`check_new_database`]). Only that check
/// makes one, and [`sign_database`] signs nothing else.
#[derive(Debug)]
pub struct CheckedDatabase {
    path: Utf8PathBuf,
}

/// A new database entry that neither the verified base nor the checked additions account for.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {why}")]
pub struct UnexpectedEntry {
    pub path: Utf8PathBuf,
    pub why: String,
}

/// Checks the new database archive at `path` that a publish made from `base` (the live database
/// it verified), `added` and `removed` (pkgnames): every entry must be one of `base`'s, byte
/// for byte as parsed ([`RepoEntry`] equality), or describe one of `added` (the file name,
/// pkgname, pkgbase, version, `%ARCH%`, `%CSIZE%`, `%SHA256SUM%`, `%DEPENDS%`, `%PROVIDES%`,
/// `%CONFLICTS%` and `%REPLACES%` of its checked file and `.PKGINFO`); every file of `added`
/// must have its entry; and every entry of `base` must still be there unless its pkgname is
/// in `removed` or one of `added` (repo-add replaces that one), so the set of entries is
/// exactly what the publish meant. So what repo-add wrote is compared with what repoctl
/// checked before a key signs it or a commit publishes it (issue 23 item 1 and issue 24 item 1:
/// a `.PKGINFO` repo-add reads otherwise than `trust::package` does cannot change what is
/// served). Errors: the archive cannot be read, or an entry is unexpected (named).
///
/// `resigned` (`sign --adopt`, which re-adds every file of `base` to sign it): an entry may
/// also be `base`'s with another `%PGPSIG%`, which must then be a valid signature of its file
/// by the key ([`Resigned`]).
pub fn check_new_database(
    base: &TrustedDb,
    added: &[&crate::trust::CheckedPackage],
    removed: &[String],
    resigned: Option<&Resigned<'_>>,
    path: &Utf8Path,
) -> Result<CheckedDatabase, UnexpectedEntry> {
    let fail = |why: String| UnexpectedEntry { path: path.to_owned(), why };
    let bytes = fs_err::read(path).map_err(|e| fail(format!("cannot be read: {e}")))?;
    let entries = read_sync_db(&bytes).map_err(|e| fail(format!("cannot be read: {e}")))?;
    let by_file: BTreeMap<&str, &crate::trust::CheckedPackage> = added.iter().map(|p| (p.file_name(), *p)).collect();
    for entry in &entries {
        let unsigned = |e: &RepoEntry| RepoEntry { signed: false, pgpsig: None, ..e.clone() };
        if base.entries.contains(entry) {
            continue;
        }
        if let Some(resigned) = resigned
            && base.entries.iter().any(|b| unsigned(b) == unsigned(entry))
        {
            if !resigned.verifies(entry) {
                return Err(fail(format!(
                    "the entry for {} carries a %PGPSIG% that is not the key's signature of the file",
                    entry.filename
                )));
            }
            continue;
        }
        let Some(add) = by_file.get(entry.filename.as_str()) else {
            return Err(fail(format!(
                "the entry for {} ({} {}) is neither in the verified database nor one of this run's checked packages",
                entry.filename, entry.name, entry.version
            )));
        };
        if let Some(field) = entry_mismatch(entry, add) {
            return Err(fail(format!("the entry for {} has another {field} than the checked package", entry.filename)));
        }
    }
    if let Some(missing) = added.iter().find(|p| !entries.iter().any(|e| e.filename == p.file_name())) {
        return Err(fail(format!("no entry for {}, which this run added", missing.file_name())));
    }
    let replaced = |b: &RepoEntry| removed.contains(&b.name) || added.iter().any(|p| p.pkgname() == b.name);
    let kept = |b: &RepoEntry| entries.iter().any(|e| e.filename == b.filename && e.name == b.name);
    if let Some(dropped) = base.entries.iter().find(|b| !replaced(b) && !kept(b)) {
        return Err(fail(format!(
            "the entry for {} ({} {}) is gone, though this run neither removed nor replaced it",
            dropped.filename, dropped.name, dropped.version
        )));
    }
    Ok(CheckedDatabase { path: path.to_owned() })
}

/// What `sign --adopt` re-signs: the key, and the downloaded copy of each package file by the
/// name its entry gives ([`AdoptedFile`]s, checked against their entries).
pub struct Resigned<'a> {
    pub key: &'a PublicKey,
    pub files: BTreeMap<String, &'a Utf8Path>,
}

impl Resigned<'_> {
    /// Whether `entry`'s `%PGPSIG%` is a valid signature by the key of its file's copy.
    fn verifies(&self, entry: &RepoEntry) -> bool {
        self.files.get(&entry.filename).is_some_and(|path| embedded_signature_verifies(entry, path, self.key))
    }
}

/// The first field of `entry` that is not what the checked package `p` says (None: none).
fn entry_mismatch(entry: &RepoEntry, p: &crate::trust::CheckedPackage) -> Option<&'static str> {
    [
        ("pkgname", entry.name == p.pkgname()),
        ("pkgbase", entry.base == p.pkgbase()),
        ("version", entry.version == p.version()),
        ("%ARCH%", entry.arch.as_deref() == Some(p.arch())),
        ("%CSIZE%", entry.csize == Some(p.size())),
        ("%SHA256SUM%", entry.sha256.as_deref() == Some(p.sha256())),
        ("%DEPENDS%", entry.depends == p.depends()),
        ("%PROVIDES%", entry.provides == p.provides()),
        ("%CONFLICTS%", entry.conflicts == p.conflicts()),
        ("%REPLACES%", entry.replaces == p.replaces()),
    ]
    .into_iter()
    .find_map(|(field, same)| (!same).then_some(field))
}

impl CheckedDatabase {
    /// The archive checked.
    pub fn path(&self) -> &Utf8Path {
        &self.path
    }
}

/// Signs a database checked by [`check_new_database`] (a publish made it from `base`, the live
/// database it verified, and this run's own checked packages); writes and returns `PATH.sig`.
/// The only way repoctl signs a database: it needs the [`TrustedDb`] it was built on and the
/// check's [`CheckedDatabase`]. Errors: the key cannot sign, or a file cannot be read or
/// written.
pub fn sign_database(signer: &Signer, base: &TrustedDb, db: &CheckedDatabase) -> Result<Utf8PathBuf, SignError> {
    debug_assert!(base.key.is_some() || base.via == Via::New, "a signed publish built on an unsigned database");
    signer.sign_file(&db.path)
}

/// A published package file that `sign --adopt` downloaded and checked against its entry's
/// `%SHA256SUM%` ([`check_published`]).
#[derive(Debug, Clone)]
pub struct AdoptedFile {
    filename: String,
    path: Utf8PathBuf,
    signed: bool,
}

impl AdoptedFile {
    /// The file name the database lists.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// The downloaded copy.
    pub fn path(&self) -> &Utf8Path {
        &self.path
    }

    /// Whether its entry already carries a valid signature of it by the key.
    pub fn is_signed(&self) -> bool {
        self.signed
    }
}

/// Checks a downloaded package file (`path`) against the entry that lists it: its SHA-256 must
/// be `%SHA256SUM%`. When `%PGPSIG%` is already a valid signature of it by the key, that
/// signature is written beside it (`PATH.sig`) for repo-add to embed again. Errors: one line
/// naming the file and what does not match.
pub fn check_published(entry: &RepoEntry, path: &Utf8Path, signer: &PublicKey) -> Result<AdoptedFile, String> {
    let file = &entry.filename;
    let want = entry.sha256.as_deref().ok_or_else(|| format!("{file}: its entry has no %SHA256SUM%"))?;
    let have = sha256_of_file(path).map_err(|e| format!("{file}: cannot read {path}: {e}"))?;
    if have != want {
        return Err(format!("{file}: the object's SHA-256 is {have}, its entry says {want}"));
    }
    let signed = embedded_signature_verifies(entry, path, signer);
    if let Some(sig) = embedded_signature(entry).filter(|_| signed) {
        let sig_path = format!("{path}.sig");
        fs_err::write(&sig_path, sig).map_err(|e| format!("{file}: cannot write {sig_path}: {e}"))?;
    }
    Ok(AdoptedFile { filename: file.clone(), path: path.to_owned(), signed })
}

/// The database `name` (`db`: its bytes) as `sign --adopt` takes it over: trusted because every
/// entry's package file was checked (`files`, [`check_published`]). Errors: an entry has no
/// checked file, or the database cannot be read.
pub fn adopt(name: &str, db: &[u8], files: &[AdoptedFile], signer: &PublicKey) -> Result<TrustedDb, Untrusted> {
    let key = signer.fingerprint().clone();
    let adopted = trusted(name, Some(db), Some(key.clone()), Via::Adopted)?;
    let checked: std::collections::BTreeSet<&str> = files.iter().map(|f| f.filename.as_str()).collect();
    let unchecked: Vec<&str> =
        adopted.entries.iter().map(|e| e.filename.as_str()).filter(|f| !checked.contains(f)).collect();
    if !unchecked.is_empty() {
        let names = unchecked.iter().take(10).copied().collect::<Vec<_>>().join(", ");
        let why = format!("{} package file(s) were not checked: {names}", unchecked.len());
        return Err(Untrusted::BadSignature { name: name.to_string(), key, why });
    }
    Ok(adopted)
}

/// Signs an adopted package file whose entry has no valid signature yet, writing `FILE.sig`
/// beside the download for repo-add to embed. Errors: the key cannot sign, or I/O.
pub fn sign_adopted(signer: &Signer, file: &AdoptedFile) -> Result<Utf8PathBuf, SignError> {
    signer.sign_file(&file.path)
}

/// The databases this work directory committed to one target, per database object name, oldest
/// first (`WORK/databases.json`, keyed by target and name): what lets [`verify`] refuse a
/// database it replaced itself.
#[derive(Debug, Clone)]
pub struct History {
    path: Option<Utf8PathBuf>,
    /// Names the target (`s3://bucket/prefix at URL`, a directory): two buckets holding
    /// repositories of one name have histories of their own.
    target: String,
}

/// One database a run of this work directory committed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Committed {
    /// [`digest_of`] its bytes.
    digest: String,
    /// When it was committed: RFC 3339, UTC.
    time: String,
}

/// How many committed databases [`History`] keeps per repository.
const HISTORY_LENGTH: usize = 200;

impl History {
    /// The history of the target `target` kept in `work` (the work directory).
    pub fn in_work_dir(work: &Utf8Path, target: &str) -> History {
        History { path: Some(work.join("databases.json")), target: target.to_string() }
    }

    /// A history that remembers nothing (`build --no-publish`, tests).
    pub fn none() -> History {
        History { path: None, target: String::new() }
    }

    fn key(&self, name: &str) -> String {
        format!("{} {name}", self.target)
    }

    fn load(&self) -> BTreeMap<String, Vec<Committed>> {
        let Some(path) = &self.path else { return BTreeMap::new() };
        // A lost or damaged file forgets the history: rollbacks go undetected, nothing breaks.
        fs_err::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// (when committed, when replaced) if `digest` is a database `name` this work directory
    /// committed and then replaced by a later commit of its own; its last commit counts (a
    /// database put back by a rollback and replaced again is refused from that replacement on).
    fn replaced(&self, name: &str, digest: &str) -> Option<(String, String)> {
        let all = self.load();
        let list = all.get(&self.key(name))?;
        let i = list.iter().rposition(|c| c.digest == digest)?;
        let last = list.len().checked_sub(1)?;
        (i < last && list[last].digest != digest).then(|| (list[i].time.clone(), list[i + 1].time.clone()))
    }

    /// Records that this run committed `bytes` as `name`. Errors: the file cannot be written.
    pub fn record(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        let mut all = self.load();
        let list = all.entry(self.key(name)).or_default();
        list.push(Committed {
            digest: digest_of(bytes),
            time: jiff::Timestamp::now().round(jiff::Unit::Second).map_or_else(|_| String::new(), |t| t.to_string()),
        });
        let excess = list.len().saturating_sub(HISTORY_LENGTH);
        list.drain(..excess);
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("json.{}", std::process::id()));
        fs_err::write(&tmp, serde_json::to_vec_pretty(&all).map_err(std::io::Error::other)?)?;
        fs_err::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests;
