//! Package files checked against the locked commit (issue 23, item 1): a [`CheckedPackage`] is
//! a package file whose `.PKGINFO` says what the locked `.SRCINFO` declares, and only this
//! module makes one. The publisher, the signer and `build --out` take nothing else.
//!
//! Code that runs during a build (the PKGBUILD, an upstream build system or test suite, a
//! `-git` package's upstream) can write any file into makepkg's output directory, and
//! `repo-add` believes whatever `.PKGINFO` a file holds. So every file a build made, and every
//! file `repoctl publish DIR` is handed, is read here, on the host, and accepted only when:
//!
//! - its pkgname is one of the locked `.SRCINFO`'s (for the configured architecture), or
//!   `PKGBASE-debug` when `debug` is on for the pkgbase;
//! - its `pkgbase` is the pkgbase that was built, and its `arch` the configured one or `any`;
//! - its version is the locked `.SRCINFO`'s; a VCS package's pkgver may differ (its pkgver()
//!   decides), and then its pkgrel may be 1, as makepkg's `update_pkgver` resets it;
//! - its name is exactly the one makepkg gives that `.PKGINFO`
//!   (`PKGNAME-[EPOCH:]PKGVER-PKGREL-ARCH.pkg.tar.zst`: makepkg's `create_package`, with the
//!   `PKGEXT` images/builder/build.sh sets) and its bytes are zstd, as that name says;
//! - it holds exactly one `.PKGINFO` (repo-add reads the first, pacman every one).
//!
//! One pass over the file reads the `.PKGINFO` and hashes every byte (SHA-256): the result
//! carries the hash of the bytes that were checked, and whatever reads the file later (the
//! signer, `--out`) checks it again ([`CheckedPackage::verify`]).
//!
//! `repoctl publish DIR` checks the same, and that each file's provenance record
//! (`FILE.provenance.json`) names the commit and files hash repoctl.lock holds for its pkgbase
//! and the file's bytes: [`check_directory`].
use crate::alpm::soname::{Linkage, SonameScan};
use crate::provenance::{Origin, Provenance};
use camino::{Utf8Path, Utf8PathBuf};
use sha2::Digest;
use std::collections::BTreeMap;
use std::io::Read;

/// A `.PKGINFO` larger than this is refused (makepkg's are a few KiB).
const MAX_PKGINFO_BYTES: u64 = 1024 * 1024;

/// A package whose tar stream is longer than this uncompressed is refused: it bounds the time
/// a compression bomb (a few KiB of zstd that decompress to terabytes) costs, at about a
/// minute of decompression. The largest packages in the AUR's binary-repackaging corner
/// (game data, SDKs) are a few tens of GiB installed.
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024 * 1024;

/// The extension of every package file repoctl builds (images/builder/build.sh's `PKGEXT`).
pub const PKGEXT: &str = ".pkg.tar.zst";

/// What the locked commit declares for one pkgbase: what its package files must say. Made by
/// the caller from the locked `.SRCINFO` (a build) or repoctl.lock's entry (`publish DIR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub pkgbase: String,
    /// The pkgnames the locked `.SRCINFO` makes for the configured architecture.
    pub pkgnames: Vec<String>,
    /// `[epoch:]pkgver-pkgrel` of the locked `.SRCINFO`.
    pub version: String,
    /// repo.yaml's `arch` (makepkg's `CARCH`); `any` is accepted besides it.
    pub arch: String,
    /// A VCS package: its pkgver() decides the pkgver.
    pub vcs: bool,
    /// `debug` is on for the pkgbase: `PKGBASE-debug` is accepted.
    pub debug: bool,
    /// A rebuild of the locked commit with a dotted pkgrel (issue 26): then the packages must
    /// be exactly its version, and the locked `.SRCINFO`'s is refused (a VCS package's pkgver
    /// may still differ, with pkgrel 1, as makepkg's `update_pkgver` resets it).
    pub bump: Option<crate::alpm::PkgrelBump>,
}

/// The fields of a `.PKGINFO` the check reads (alpm-pkginfo(5)), each one a valid alpm-types
/// value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkgInfo {
    pub pkgname: String,
    pub pkgbase: String,
    /// `pkgver`: `[epoch:]pkgver-pkgrel`.
    pub version: String,
    pub arch: String,
    /// `depend` lines, in order: what the package needs installed (dependency strings).
    pub depends: Vec<String>,
    /// `provides` lines, in order: `name` or `name=version`.
    pub provides: Vec<String>,
    /// `conflict` lines, in order (repo-add's `%CONFLICTS%`).
    pub conflicts: Vec<String>,
    /// `replaces` lines, in order (repo-add's `%REPLACES%`).
    pub replaces: Vec<String>,
}

/// How a package file's bytes are compressed, told by their first bytes (as libarchive tells).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Zstd,
    Xz,
    Gzip,
    /// A plain tar archive.
    None,
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Gzip => "gzip",
            Compression::None => "an uncompressed tar",
        })
    }
}

/// One way a package file differs from what the locked commit declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// Its pkgname is not one the locked `.SRCINFO` declares (`debug_off`: it is the
    /// `PKGBASE-debug` package, and `debug` is off).
    Pkgname {
        found: String,
        declared: Vec<String>,
        debug_off: bool,
    },
    Pkgbase {
        found: String,
        expected: String,
    },
    Arch {
        found: String,
        expected: String,
    },
    Version {
        found: String,
        locked: String,
        vcs: bool,
    },
    /// Its name is not the one makepkg gives its `.PKGINFO`.
    FileName {
        found: String,
        expected: String,
    },
    /// Its bytes are not zstd, as its `.pkg.tar.zst` name says.
    Compression {
        found: Compression,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Pkgname { found, debug_off: true, .. } => {
                write!(f, "pkgname {found} is a debug package, and `debug` is off for its pkgbase")
            }
            Mismatch::Pkgname { found, declared, .. } => {
                write!(f, "pkgname {found} is not one the locked .SRCINFO declares ({})", declared.join(", "))
            }
            Mismatch::Pkgbase { found, expected } => write!(f, "pkgbase {found}, not {expected}"),
            Mismatch::Arch { found, expected } => write!(f, "arch {found}, not {expected} or any"),
            Mismatch::Version { found, locked, vcs: false } => {
                write!(f, "version {found}, but the locked .SRCINFO says {locked}")
            }
            Mismatch::Version { found, locked, vcs: true } => write!(
                f,
                "version {found}, but the locked .SRCINFO says {locked} (a VCS package may differ in pkgver only)"
            ),
            Mismatch::FileName { found, expected } => {
                write!(f, "makepkg names this package {expected}, not {found}")
            }
            Mismatch::Compression { found } => write!(f, "its bytes are {found}, not zstd as its name says"),
        }
    }
}

/// Why a package file is refused.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("cannot read {path}")]
    Io {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file} is not a package file: {why}")]
    NotAPackage { file: String, why: String },
    #[error("{file} does not match the locked commit: {}", list(.mismatches))]
    Mismatch { file: String, info: Box<PkgInfo>, mismatches: Vec<Mismatch> },
    #[error("{first} and {second} are both pkgname {pkgname}")]
    Duplicate { pkgname: String, first: String, second: String },
    #[error("two versions of pkgname {pkgname} are given ({}): publish one", .files.join(", "))]
    TwoVersions { pkgname: String, files: Vec<String> },
    #[error("{file} is {found}, but {other} of the same build is {version}")]
    Versions { file: String, found: String, other: String, version: String },
    #[error(
        "{file} has no provenance record ({file}{}): only files `build --out` wrote are published",
        crate::provenance::SUFFIX
    )]
    NoProvenance { file: String },
    #[error("{file}'s provenance record is unusable: {why}")]
    Provenance { file: String, why: String },
    #[error("{file} is of pkgbase {pkgbase}, which repoctl.lock does not lock")]
    NotLocked { file: String, pkgbase: String },
    #[error("{file} was built from {what}")]
    NotTheLock { file: String, what: String },
    #[error("{file} changed after it was checked (its SHA-256 was {checked}, now {found})")]
    Changed { file: String, checked: String, found: String },
    #[error("{path} already exists")]
    Exists { path: Utf8PathBuf },
    #[error("{file} was made from another PKGBUILD than this run's build of it (its .BUILDINFO says so)")]
    OtherPkgbuild { file: String },
    #[error(transparent)]
    Sign(#[from] crate::sign::SignError),
}

fn list(mismatches: &[Mismatch]) -> String {
    mismatches.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl PackageError {
    /// The version the file holds, when the only thing wrong with it is its version: the
    /// PKGBUILD made another version than its `.SRCINFO` says (the plan keeps that, so that
    /// the same commit is not built again). Its name is made from its `.PKGINFO`, so a version
    /// alone never makes the name wrong too.
    pub fn only_version(&self) -> Option<&str> {
        match self {
            PackageError::Mismatch { info, mismatches, .. }
                if !mismatches.is_empty() && mismatches.iter().all(|m| matches!(m, Mismatch::Version { .. })) =>
            {
                Some(&info.version)
            }
            _ => None,
        }
    }
}

/// A package file whose `.PKGINFO` matches the locked commit ([`check_file`]): the only kind of
/// package file the publisher, the signer and `build --out` take. Its fields are private and
/// only this module constructs one; it carries the SHA-256 of the bytes that were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedPackage {
    path: Utf8PathBuf,
    file_name: String,
    pkgname: String,
    pkgbase: String,
    version: String,
    arch: String,
    /// Lowercase hex, as the sync database's `%SHA256SUM%`.
    sha256: String,
    /// The file's size in bytes, as the sync database's `%CSIZE%`.
    size: u64,
    /// `.PKGINFO`'s `conflict` and `replaces` lines, as `%CONFLICTS%` and `%REPLACES%`.
    conflicts: Vec<String>,
    replaces: Vec<String>,
    debug: bool,
    /// `.PKGINFO`'s `depend` and `provides` (what the publish gate checks,
    /// [`crate::publish::gate`]) and the sonames its ELF files need and provide, read in the
    /// same pass.
    linkage: Linkage,
}

impl CheckedPackage {
    /// Where the file is now.
    pub fn path(&self) -> &Utf8Path {
        &self.path
    }

    /// `PKGNAME-[EPOCH:]PKGVER-PKGREL-ARCH.pkg.tar.zst`.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    pub fn pkgname(&self) -> &str {
        &self.pkgname
    }

    pub fn pkgbase(&self) -> &str {
        &self.pkgbase
    }

    /// `[epoch:]pkgver-pkgrel`.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn arch(&self) -> &str {
        &self.arch
    }

    /// SHA-256 of the bytes that were checked, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Its `.PKGINFO` `depend` lines: dependency strings (alpm-package-relation(7)).
    pub fn depends(&self) -> &[String] {
        &self.linkage.depends
    }

    /// Its `.PKGINFO` `provides` lines: `name` or `name=version`.
    pub fn provides(&self) -> &[String] {
        &self.linkage.provides
    }

    /// The size of the bytes that were checked, in bytes (`%CSIZE%`).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Its `.PKGINFO` `conflict` lines (`%CONFLICTS%`).
    pub fn conflicts(&self) -> &[String] {
        &self.conflicts
    }

    /// Its `.PKGINFO` `replaces` lines (`%REPLACES%`).
    pub fn replaces(&self) -> &[String] {
        &self.replaces
    }

    /// What it needs and provides: `.PKGINFO`'s depends and provides, and its ELF files'
    /// sonames ([`crate::alpm::soname`]), as read when it was checked.
    pub fn linkage(&self) -> &Linkage {
        &self.linkage
    }

    /// The `PKGBASE-debug` package makepkg splits off (it goes to the `NAME-debug` repository).
    pub fn is_debug(&self) -> bool {
        self.debug
    }

    /// The file's bytes, checked against the hash taken when it was checked. Reads the whole
    /// file into memory (as signing does). Errors: unreadable, or other bytes now.
    pub fn read_verified(&self) -> Result<Vec<u8>, PackageError> {
        let bytes = fs_err::read(&self.path).map_err(|source| PackageError::Io { path: self.path.clone(), source })?;
        self.same_hash(&format!("{:x}", sha2::Sha256::digest(&bytes)))?;
        Ok(bytes)
    }

    /// Checks that the file still has the bytes that were checked, reading it in blocks.
    /// Errors: unreadable, or other bytes now.
    pub fn verify(&self) -> Result<(), PackageError> {
        let found = super::signed::sha256_of_file(&self.path);
        self.same_hash(&found.map_err(|source| PackageError::Io { path: self.path.clone(), source })?)
    }

    fn same_hash(&self, found: &str) -> Result<(), PackageError> {
        if found == self.sha256 {
            return Ok(());
        }
        Err(PackageError::Changed { file: self.file_name.clone(), checked: self.sha256.clone(), found: found.into() })
    }

    /// Writes `FILE.sig`, a detached signature of exactly the bytes that were checked, and
    /// returns its path. Errors: the file changed, the key cannot sign, or the signature
    /// cannot be written.
    pub fn sign(&self, signer: &crate::sign::Signer) -> Result<Utf8PathBuf, PackageError> {
        let bytes = self.read_verified()?;
        let sig = signer
            .sign_bytes(&bytes)
            .map_err(|message| crate::sign::SignError::CannotSign { key: signer.fingerprint().clone(), message })?;
        let out = Utf8PathBuf::from(format!("{}.sig", self.path));
        fs_err::write(&out, sig).map_err(|source| PackageError::Io { path: out.clone(), source })?;
        Ok(out)
    }

    /// Moves the file into `dir` (a rename: the same bytes), refusing to replace a file there.
    /// Errors: a file of that name is there, or the rename fails.
    pub fn move_into(self, dir: &Utf8Path) -> Result<CheckedPackage, PackageError> {
        let dest = dir.join(&self.file_name);
        if dest.exists() {
            return Err(PackageError::Exists { path: dest });
        }
        fs_err::rename(&self.path, &dest).map_err(|source| PackageError::Io { path: dest.clone(), source })?;
        Ok(CheckedPackage { path: dest, ..self })
    }

    /// Copies the file into `dir`, checking that the copy has the bytes that were checked.
    /// Returns the copy's path. Errors: I/O, or other bytes.
    pub fn copy_into(&self, dir: &Utf8Path) -> Result<Utf8PathBuf, PackageError> {
        let dest = dir.join(&self.file_name);
        fs_err::copy(&self.path, &dest).map_err(|source| PackageError::Io { path: dest.clone(), source })?;
        CheckedPackage { path: dest.clone(), ..self.clone() }.verify()?;
        Ok(dest)
    }

    /// Checks `other`, another build of this very file (the live object of the same name a
    /// publish found where this one was to go), as this one was checked: its `.PKGINFO` must
    /// say this file's pkgname, pkgbase, version and arch (so its name is this one's, and its
    /// bytes zstd), and makepkg must have made it from the same PKGBUILD ([`same_pkgbuild`]).
    /// The result carries `other`'s own `depend` and `provides`, for the publish gate. It
    /// parses `other`: call it only once its signature verified. Errors: as [`check_file`], or
    /// [`PackageError::OtherPkgbuild`].
    pub fn check_rebuild(&self, other: &Utf8Path) -> Result<CheckedPackage, PackageError> {
        let declared = Declared {
            pkgbase: self.pkgbase.clone(),
            pkgnames: if self.debug { Vec::new() } else { vec![self.pkgname.clone()] },
            version: self.version.clone(),
            arch: self.arch.clone(),
            vcs: false,
            debug: self.debug,
            // This file's version, dotted pkgrel or not, is the one the other must have.
            bump: None,
        };
        let checked = check_file(other, &declared)?;
        let file = checked.file_name.clone();
        if checked.file_name != self.file_name {
            let mismatches = vec![Mismatch::FileName { found: file.clone(), expected: self.file_name.clone() }];
            let info = PkgInfo {
                pkgname: checked.pkgname,
                pkgbase: checked.pkgbase,
                version: checked.version,
                arch: checked.arch,
                depends: checked.linkage.depends,
                provides: checked.linkage.provides,
                conflicts: checked.conflicts,
                replaces: checked.replaces,
            };
            return Err(PackageError::Mismatch { file, info: Box::new(info), mismatches });
        }
        match same_pkgbuild(other, &self.path) {
            Ok(true) => Ok(checked),
            Ok(false) => Err(PackageError::OtherPkgbuild { file }),
            Err(why) => Err(PackageError::NotAPackage { file, why }),
        }
    }

    /// The file's provenance record: `origin` (what its build shares) and what was checked
    /// here (pkgname, version, name, SHA-256), without reading the file again.
    pub fn provenance(&self, origin: &Origin) -> Provenance {
        let record = origin.record_checked(&self.file_name, &self.pkgname, &self.version, &self.sha256);
        Provenance { linkage: Some(self.linkage.clone()), ..record }
    }
}

/// Reads the package file `path` (its `.PKGINFO`, and the SHA-256 of all its bytes, in one
/// pass) and checks it against `declared`. Errors: unreadable, not a package, or a mismatch
/// (every one is named).
pub fn check_file(path: &Utf8Path, declared: &Declared) -> Result<CheckedPackage, PackageError> {
    let file_name = path.file_name().unwrap_or(path.as_str()).to_string();
    let read = read_package(path, &file_name)?;
    let mismatches = compare(&read.info, &file_name, read.compression, declared);
    if !mismatches.is_empty() {
        return Err(PackageError::Mismatch { file: file_name, info: Box::new(read.info), mismatches });
    }
    let debug = is_debug_name(&read.info.pkgname, declared);
    let linkage = read.scan.finish(read.info.depends, read.info.provides);
    Ok(CheckedPackage {
        size: read.size,
        conflicts: read.info.conflicts,
        replaces: read.info.replaces,
        path: path.to_owned(),
        file_name,
        pkgname: read.info.pkgname,
        pkgbase: read.info.pkgbase,
        version: read.info.version,
        arch: read.info.arch,
        sha256: read.sha256,
        debug,
        linkage,
    })
}

/// Checks every file one build of `declared.pkgbase` made ([`check_file`]), and that they are
/// one build: no pkgname twice, one version. Returns every problem found when any file is
/// refused: then nothing of the build may be published.
pub fn check_build(files: &[Utf8PathBuf], declared: &Declared) -> Result<Vec<CheckedPackage>, Vec<PackageError>> {
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match check_file(file, declared) {
            Ok(c) => checked.push(c),
            Err(e) => problems.push(e),
        }
    }
    problems.extend(duplicates(&checked));
    if let Some(first) = checked.first() {
        let others = checked.iter().filter(|c| c.version != first.version);
        problems.extend(others.map(|c| PackageError::Versions {
            file: c.file_name.clone(),
            found: c.version.clone(),
            other: first.file_name.clone(),
            version: first.version.clone(),
        }));
    }
    if problems.is_empty() { Ok(checked) } else { Err(problems) }
}

/// Two checked files of one pkgname: pacman would see one, repo-add keep whichever it read last.
fn duplicates(checked: &[CheckedPackage]) -> Vec<PackageError> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut problems = Vec::new();
    for c in checked {
        if let Some(first) = seen.insert(&c.pkgname, &c.file_name) {
            problems.push(PackageError::Duplicate {
                pkgname: c.pkgname.clone(),
                first: first.to_string(),
                second: c.file_name.clone(),
            });
        }
    }
    problems
}

/// What repoctl.lock holds for one pkgbase, as `publish DIR` checks a file's provenance
/// record against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    /// What the locked commit declares ([`check_file`]'s rules).
    pub declared: Declared,
    /// The locked AUR commit (40 hex digits).
    pub commit: String,
    /// The lock's hash of that commit's files (`sha256:` and hex).
    pub files: String,
    /// The lock's digests of the patches applied to them (issue 27), in order; empty: none.
    pub patches: Vec<String>,
}

/// A file `publish DIR` refuses, with its pkgbase when its record names one: nothing of that
/// pkgbase is published then.
#[derive(Debug)]
pub struct Refusal {
    pub pkgbase: Option<String>,
    pub error: PackageError,
}

/// Checks package files handed to `repoctl publish DIR` (`files`, from DIR and DIR/debug):
/// each must have its provenance record beside it (`FILE.provenance.json`), naming a pkgbase
/// that `locked` (repoctl.lock, looked up by pkgbase) holds, with the lock's commit and files
/// hash, and the file's own name, pkgname, version and SHA-256; and the file must pass
/// [`check_file`] against what the lock declares. Two files of one pkgname are refused (the
/// one named last would win). Returns the accepted files and every refusal; a pkgbase with
/// one refused file has none accepted. Reads every byte of every file: call it on a blocking
/// thread from async code.
pub fn check_directory(
    files: &[Utf8PathBuf],
    locked: &dyn Fn(&str) -> Option<Locked>,
) -> (Vec<CheckedPackage>, Vec<Refusal>) {
    let (files, mut refused) = one_version_each(files);
    let mut checked = Vec::new();
    for file in &files {
        match check_with_provenance(file, locked) {
            Ok(c) => checked.push(c),
            Err(r) => refused.push(r),
        }
    }
    let refused_bases: Vec<String> = refused.iter().filter_map(|r| r.pkgbase.clone()).collect();
    checked.retain(|c| !refused_bases.contains(&c.pkgbase));
    (checked, refused)
}

/// `files` less every pkgname that more than one of them is, by name; those are refused
/// (pacman would see one of them, and repo-add keeps the one it reads last: `foo-1.9` after
/// `foo-1.10`). A refusal names the pkgbase its record says, when one is readable.
fn one_version_each(files: &[Utf8PathBuf]) -> (Vec<Utf8PathBuf>, Vec<Refusal>) {
    let mut by_name: BTreeMap<&str, Vec<&Utf8PathBuf>> = BTreeMap::new();
    for file in files {
        let name = file.file_name().unwrap_or_default();
        let pkgname = crate::alpm::package_file_parts(name).map_or(name, |(pkgname, _)| pkgname);
        by_name.entry(pkgname).or_default().push(file);
    }
    let mut kept = Vec::new();
    let mut refused = Vec::new();
    for (pkgname, group) in by_name {
        if group.len() == 1 {
            kept.push(group[0].clone());
            continue;
        }
        let names: Vec<String> = group.iter().map(|f| f.file_name().unwrap_or_default().to_string()).collect();
        let pkgbase = group.iter().find_map(|f| read_record(f, "").ok().map(|r| r.pkgbase));
        refused.push(Refusal { pkgbase, error: PackageError::TwoVersions { pkgname: pkgname.into(), files: names } });
    }
    (kept, refused)
}

/// One file of `publish DIR`: its record, the lock's entry for the record's pkgbase, the file
/// itself, then the record against what the check read ([`check_directory`]).
fn check_with_provenance(file: &Utf8Path, locked: &dyn Fn(&str) -> Option<Locked>) -> Result<CheckedPackage, Refusal> {
    let name = file.file_name().unwrap_or(file.as_str()).to_string();
    let refuse = |pkgbase: Option<&str>, error| Refusal { pkgbase: pkgbase.map(str::to_string), error };
    let record = read_record(file, &name).map_err(|e| refuse(None, e))?;
    let base = Some(record.pkgbase.as_str());
    let Some(lock) = locked(&record.pkgbase) else {
        return Err(refuse(base, PackageError::NotLocked { file: name, pkgbase: record.pkgbase.clone() }));
    };
    if record.aur.commit != lock.commit || record.aur.files != lock.files || record.aur.patches != lock.patches {
        let what = format!(
            "AUR commit {} (files {}, patches [{}]), but repoctl.lock locks {} at {} (files {}, patches [{}])",
            record.aur.commit,
            record.aur.files,
            record.aur.patches.join(", "),
            record.pkgbase,
            lock.commit,
            lock.files,
            lock.patches.join(", ")
        );
        return Err(refuse(base, PackageError::NotTheLock { file: name, what }));
    }
    // A rebuild made elsewhere (issue 26) is not taken: its record's own word is all that says
    // the rebuild was due and which bump it is, and a shard runs AUR code. Taken, any shard
    // could replace any published package with a "rebuild" (the attacker review's F1).
    if record.rebuild.is_some() {
        let why = format!(
            "it is a rebuild with a dotted pkgrel ({}) made elsewhere, and publish DIR cannot tell that the rebuild \
             was due: run `repoctl build --rebuild {}` where the repository is published",
            record.version, record.pkgbase
        );
        return Err(refuse(base, PackageError::Provenance { file: name, why }));
    }
    let declared = lock.declared.clone();
    let checked = check_file(file, &declared).map_err(|e| refuse(base, e))?;
    let said = (&record.file, &record.pkgname, &record.version, &record.sha256);
    if said != (&checked.file_name, &checked.pkgname, &checked.version, &checked.sha256) {
        let why = format!(
            "it describes {} ({} {}, SHA-256 {}), not this file ({} {}, SHA-256 {})",
            record.file,
            record.pkgname,
            record.version,
            record.sha256,
            checked.pkgname,
            checked.version,
            checked.sha256
        );
        return Err(refuse(base, PackageError::Provenance { file: name, why }));
    }
    Ok(checked)
}

/// The provenance record beside `file` (named `name`). Errors: none, unreadable, or not a record.
fn read_record(file: &Utf8Path, name: &str) -> Result<Provenance, PackageError> {
    let Some(sidecar) = crate::provenance::sidecar_of(file) else {
        return Err(PackageError::NoProvenance { file: name.to_string() });
    };
    let io = |source| PackageError::Io { path: sidecar.clone(), source };
    let mut bytes = Vec::new();
    fs_err::File::open(&sidecar)
        .map_err(io)?
        .take(crate::provenance::MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > crate::provenance::MAX_BYTES {
        return Err(PackageError::Provenance { file: name.to_string(), why: "it is larger than 64 KiB".into() });
    }
    let sidecar_name = sidecar.file_name().unwrap_or_default();
    Provenance::parse(sidecar_name, &bytes)
        .map_err(|e| PackageError::Provenance { file: name.to_string(), why: crate::cause::chain(&e).join(": ") })
}

/// Whether `pkgname` is makepkg's `PKGBASE-debug` package (makepkg.conf(5), "debug"): a
/// pkgname the `.SRCINFO` does not declare. A declared pkgname ending in `-debug` is ordinary.
fn is_debug_name(pkgname: &str, declared: &Declared) -> bool {
    pkgname.strip_suffix("-debug") == Some(declared.pkgbase.as_str()) && !declared.pkgnames.iter().any(|n| n == pkgname)
}

/// Every way the file `file_name`, whose `.PKGINFO` says `info` and whose bytes are
/// `compression`, differs from what `declared` allows (the rules in this module's header).
/// Empty when it matches.
pub fn compare(info: &PkgInfo, file_name: &str, compression: Compression, declared: &Declared) -> Vec<Mismatch> {
    let mut found = Vec::new();
    let debug = is_debug_name(&info.pkgname, declared);
    let allowed = declared.pkgnames.contains(&info.pkgname) || (debug && declared.debug);
    if !allowed {
        found.push(Mismatch::Pkgname {
            found: info.pkgname.clone(),
            declared: declared.pkgnames.clone(),
            debug_off: debug,
        });
    }
    if info.pkgbase != declared.pkgbase {
        found.push(Mismatch::Pkgbase { found: info.pkgbase.clone(), expected: declared.pkgbase.clone() });
    }
    if info.arch != declared.arch && info.arch != "any" {
        found.push(Mismatch::Arch { found: info.arch.clone(), expected: declared.arch.clone() });
    }
    let wanted = declared.bump.as_ref().map_or(declared.version.as_str(), |b| b.version());
    // A rebuild's version is the planned string itself: `1.0-01.1` compares equal to `1.0-1.1`
    // but is another file, after which no bump is ever newer.
    let allowed = match &declared.bump {
        Some(bump) => info.version == bump.version(),
        None => version_allowed(&info.version, wanted, declared.vcs),
    };
    if !allowed {
        let (found_version, locked) = (info.version.clone(), wanted.to_string());
        found.push(Mismatch::Version { found: found_version, locked, vcs: declared.vcs });
    }
    let expected = format!("{}-{}-{}{PKGEXT}", info.pkgname, info.version, info.arch);
    if file_name != expected {
        found.push(Mismatch::FileName { found: file_name.to_string(), expected });
    }
    if compression != Compression::Zstd {
        found.push(Mismatch::Compression { found: compression });
    }
    found
}

/// Whether a package of version `found` may come from a commit whose `.SRCINFO` says `locked`:
/// the same epoch, pkgver and pkgrel (compared as alpm-package-version(7) values: no epoch is
/// epoch 0). A VCS package's pkgver may differ, and then its pkgrel may also be 1: makepkg's
/// `update_pkgver` sets `pkgrel=1` in the PKGBUILD when pkgver() gives a new pkgver.
fn version_allowed(found: &str, locked: &str, vcs: bool) -> bool {
    let (Ok(f), Ok(l)) = (found.parse::<alpm_types::FullVersion>(), locked.parse::<alpm_types::FullVersion>()) else {
        return false;
    };
    let epoch = |v: &alpm_types::FullVersion| v.epoch.as_ref().map_or(0, |e| e.0);
    if epoch(&f) != epoch(&l) {
        return false;
    }
    if f.pkgver == l.pkgver {
        return f.pkgrel == l.pkgrel;
    }
    vcs && (f.pkgrel == l.pkgrel || f.pkgrel == alpm_types::PackageRelease::new(1, None))
}

/// What one pass over a package file found.
struct ReadPackage {
    info: PkgInfo,
    /// The sonames of its ELF files, read in the same pass.
    scan: SonameScan,
    compression: Compression,
    sha256: String,
    /// Every byte of the file, counted as they were hashed.
    size: u64,
}

/// Reads `path` once: the compression from its first bytes, its only `.PKGINFO` through the
/// decompressed tar stream, and the SHA-256 of every byte of the file (what the stream did not
/// need is hashed after it). Errors: unreadable, bzip2 (not read here), not a tar archive,
/// no `.PKGINFO` or more than one, or a `.PKGINFO` whose fields are not valid.
fn read_package(path: &Utf8Path, file_name: &str) -> Result<ReadPackage, PackageError> {
    let io = |source| PackageError::Io { path: path.to_owned(), source };
    let not = |why: String| PackageError::NotAPackage { file: file_name.to_string(), why };
    let mut hashing = Hashing {
        inner: std::io::BufReader::new(fs_err::File::open(path).map_err(io)?),
        hasher: sha2::Sha256::new(),
        bytes: 0,
    };
    let mut magic = Vec::with_capacity(6);
    (&mut hashing).take(6).read_to_end(&mut magic).map_err(io)?;
    let compression = match magic.as_slice() {
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        [0xfd, b'7', b'z', b'X', b'Z', 0] => Compression::Xz,
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [b'B', b'Z', b'h', ..] => return Err(not("bzip2-compressed, which repoctl does not read".into())),
        _ => Compression::None,
    };
    let stream = std::io::Cursor::new(magic).chain(&mut hashing);
    let mut scan = SonameScan::default();
    let text = match compression {
        Compression::Zstd => pkginfo_text(zstd::stream::read::Decoder::new(stream).map_err(io)?, &mut scan),
        Compression::Xz => pkginfo_text(crate::alpm::xz_decoder(stream, true).map_err(io)?, &mut scan),
        Compression::Gzip => pkginfo_text(flate2::read::MultiGzDecoder::new(stream), &mut scan),
        Compression::None => pkginfo_text(stream, &mut scan),
    }
    .map_err(not)?;
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(io)?;
    let info = parse_pkginfo(&text).map_err(|why| not(format!("its .PKGINFO {why}")))?;
    let size = hashing.bytes;
    Ok(ReadPackage { info, scan, compression, sha256: format!("{:x}", hashing.hasher.finalize()), size })
}

/// Whether the zstd package files `a` and `b` were made from the same PKGBUILD: makepkg writes
/// the SHA-256 of the PKGBUILD it ran into `.BUILDINFO` (`pkgbuild_sha256sum`, BUILDINFO(5)),
/// inside the bytes the package's signature covers. The PKGBUILD holds the checksums of every
/// source but `SKIP`ped ones, so two builds of one version from different commits differ here.
/// Errors: a file unreadable, not zstd tar, or without one `pkgbuild_sha256sum`.
pub fn same_pkgbuild(a: &Utf8Path, b: &Utf8Path) -> Result<bool, String> {
    Ok(pkgbuild_sha256(a)? == pkgbuild_sha256(b)?)
}

/// The `pkgbuild_sha256sum` of the zstd package file `path`'s `.BUILDINFO`.
fn pkgbuild_sha256(path: &Utf8Path) -> Result<String, String> {
    let file = fs_err::File::open(path).map_err(|e| e.to_string())?;
    let decoder = zstd::stream::read::Decoder::new(std::io::BufReader::new(file)).map_err(|e| e.to_string())?;
    let mut archive = tar::Archive::new(crate::alpm::TarGuard::new(decoder, MAX_UNPACKED_BYTES));
    for entry in archive.entries().map_err(|e| format!("{path}: not a tar archive ({e})"))? {
        let entry = entry.map_err(|e| format!("{path}: not a tar archive ({e})"))?;
        let name = entry.path().map_err(|e| e.to_string())?.to_string_lossy().into_owned();
        if without_dot_slashes(&name) != ".BUILDINFO" || entry.size() > MAX_PKGINFO_BYTES {
            continue;
        }
        let mut text = String::new();
        std::io::BufReader::new(entry).read_to_string(&mut text).map_err(|e| e.to_string())?;
        let mut sums = text.split('\n').filter_map(|l| l.strip_prefix("pkgbuild_sha256sum = "));
        return match (sums.next(), sums.next()) {
            (Some(sum), None) => Ok(sum.to_string()),
            _ => Err(format!("{path}: its .BUILDINFO has not exactly one pkgbuild_sha256sum")),
        };
    }
    Err(format!("{path}: it holds no .BUILDINFO"))
}

/// A reader that hashes every byte it passes on.
struct Hashing<R> {
    inner: R,
    hasher: sha2::Sha256,
    /// Bytes read so far.
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The text of the one `.PKGINFO` entry of the tar stream `reader` (read to its end), or why
/// there is none: not a tar archive, no `.PKGINFO`, more than one (repo-add reads the first,
/// pacman every one), not a regular file, or larger than 1 MiB. Every other entry but the
/// package's metadata (`.BUILDINFO`, `.MTREE`, ...) goes through `scan`, which reads the
/// sonames of ELF files (bounded, [`crate::alpm::soname::MAX_ELF_BYTES`]).
fn pkginfo_text(reader: impl Read, scan: &mut SonameScan) -> Result<String, String> {
    let mut archive = tar::Archive::new(crate::alpm::TarGuard::new(reader, MAX_UNPACKED_BYTES));
    let mut found: Option<String> = None;
    let entries = archive.entries().map_err(|e| format!("not a tar archive ({e})"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("not a tar archive ({e})"))?;
        let path = entry.path().map_err(|e| format!("an entry's name is unreadable ({e})"))?;
        let name = path.to_string_lossy();
        if is_under_pkginfo(&name) {
            // `bsdtar -xOqf FILE .PKGINFO`, how repo-add reads it, takes the first entry the
            // pattern matches, and a pattern matches a directory's entries too.
            return Err(format!("it holds `{name}`, which repo-add would read as its .PKGINFO"));
        }
        if !is_pkginfo(&name) {
            let name = name.into_owned();
            if !without_dot_slashes(&name).starts_with('.') {
                let (regular, size) = (entry.header().entry_type().is_file(), entry.size());
                scan.entry(&name, regular, size, &mut entry).map_err(|e| format!("`{name}` is unreadable ({e})"))?;
            }
            continue;
        }
        if found.is_some() {
            return Err("it holds more than one .PKGINFO".into());
        }
        if !entry.header().entry_type().is_file() || entry.size() > MAX_PKGINFO_BYTES {
            return Err("its .PKGINFO is not a regular file of at most 1 MiB".into());
        }
        let mut text = String::new();
        entry.read_to_string(&mut text).map_err(|e| format!("its .PKGINFO is unreadable ({e})"))?;
        found = Some(text);
    }
    found.ok_or_else(|| "it holds no .PKGINFO".to_string())
}

/// Whether a tar entry's name is the package's `.PKGINFO` however it is spelt (`./.PKGINFO`,
/// `/.PKGINFO`): libarchive, which repo-add and pacman read packages with, matches them all.
fn is_pkginfo(name: &str) -> bool {
    without_dot_slashes(name) == ".PKGINFO"
}

/// Whether a tar entry's name is inside a `.PKGINFO` directory (`.PKGINFO/x`, however spelt):
/// bsdtar's pattern `.PKGINFO` matches it too, so repo-add could read it instead of the file.
fn is_under_pkginfo(name: &str) -> bool {
    without_dot_slashes(name).starts_with(".PKGINFO/")
}

/// `name` without its leading `/` and `./` components.
fn without_dot_slashes(name: &str) -> &str {
    let mut rest = name.trim_start_matches('/');
    while let Some(r) = rest.strip_prefix("./") {
        rest = r.trim_start_matches('/');
    }
    rest
}

/// The keys a `.PKGINFO` may hold (alpm-pkginfo(5), versions 1 and 2), and so the only ones
/// repoctl lets through. repo-add (pacman 7.1, `db_write_entry`) reads each line with
/// `IFS=' =' read -r var val` and then runs `declare "$var=$val"`: any other key would set a
/// variable of repo-add's own (`pkgfile`, `pgpsig`, `tmpdir`) while it writes the entry.
const PKGINFO_KEYS: &[&str] = &[
    "pkgname",
    "pkgbase",
    "xdata",
    "pkgver",
    "pkgdesc",
    "url",
    "builddate",
    "packager",
    "size",
    "arch",
    "license",
    "replaces",
    "group",
    "conflict",
    "provides",
    "backup",
    "depend",
    "optdepend",
    "makedepend",
    "checkdepend",
];

/// One line of `.PKGINFO` text as its key and value, read so that repoctl, repo-add and
/// libalpm cannot disagree on it: exactly `KEY = VALUE` (`KEY =` for an empty value), as
/// makepkg writes it (`write_kv_pair`), with KEY one of [`PKGINFO_KEYS`], and no carriage
/// return, tab or leading space (repo-add splits on spaces and `=`, libalpm on the first `=`,
/// Rust's `lines` drops a `\r`). None for a comment (`#` first) or an empty line.
fn pkginfo_line(line: &str) -> Result<Option<(&str, &str)>, String> {
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    // Debug's escaping: the line is the package's text, shown with its control characters escaped.
    let shown = format!("{line:?}");
    if line.contains(['\r', '\t']) || line.starts_with(' ') {
        return Err(format!("has the line {shown}, with a carriage return, tab or leading space"));
    }
    let (key, value) = match line.split_once(" = ") {
        Some(kv) => kv,
        None => (line.strip_suffix(" =").ok_or_else(|| format!("has the line {shown}, not `key = value`"))?, ""),
    };
    if !PKGINFO_KEYS.contains(&key) {
        return Err(format!("has the line {shown}, whose key is not one alpm-pkginfo(5) defines"));
    }
    Ok(Some((key, value)))
}

/// The fields of `.PKGINFO` text the check needs (alpm-pkginfo(5): `key = value` lines,
/// `#` comments), each validated with alpm-types. Every line must be one [`pkginfo_line`]
/// accepts, so that repo-add, which writes the database entry from the same text, reads what
/// this check read. A key given twice is refused: repo-add's and pacman's readers
/// keep the last one, and no makepkg writes one twice.
///
/// Written here rather than with the ALPM project's alpm-pkginfo crate: its 0.7 refuses two
/// things makepkg 7.1 writes by default, `url = ` with an empty value (a PKGBUILD without
/// `url`) and the packager `Unknown Packager` (no PACKAGER set, as in build containers).
pub fn parse_pkginfo(text: &str) -> Result<PkgInfo, String> {
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    let (mut depends, mut provides, mut conflicts, mut replaces) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for line in text.split('\n') {
        let Some((key, value)) = pkginfo_line(line)? else { continue };
        match key {
            "depend" => depends.push(value.to_string()),
            "provides" => provides.push(value.to_string()),
            "conflict" => conflicts.push(value.to_string()),
            "replaces" => replaces.push(value.to_string()),
            _ => {}
        }
        if ["pkgname", "pkgbase", "pkgver", "arch"].contains(&key) && fields.insert(key, value).is_some() {
            return Err(format!("gives `{key}` twice"));
        }
    }
    let get = |key: &str| fields.get(key).copied().filter(|v| !v.is_empty()).ok_or(format!("has no `{key}`"));
    let (pkgname, pkgbase, version, arch) = (get("pkgname")?, get("pkgbase")?, get("pkgver")?, get("arch")?);
    for name in [pkgname, pkgbase] {
        name.parse::<alpm_types::Name>().map_err(|e| format!("names `{name}`, not a package name: {e}"))?;
    }
    version.parse::<alpm_types::FullVersion>().map_err(|e| format!("has pkgver `{version}`: {e}"))?;
    arch.parse::<alpm_types::Architecture>().map_err(|e| format!("has arch `{arch}`: {e}"))?;
    Ok(PkgInfo {
        pkgname: pkgname.into(),
        pkgbase: pkgbase.into(),
        version: version.into(),
        arch: arch.into(),
        depends,
        provides,
        conflicts,
        replaces,
    })
}

#[cfg(test)]
mod tests;
