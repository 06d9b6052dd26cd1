//! Provenance (issue 14, item 6): for every package file repoctl builds, which AUR commit, which
//! lock and which builder image made it, as a JSON object beside the file.
//!
//! One object per package FILE, named `FILE.provenance.json` ([`sidecar_name`]), the way a
//! signature is `FILE.sig`: a file name is published once and never given new bytes, so its
//! provenance never changes either, and it travels with the file through the publish protocol
//! (uploaded before the database references the file, deleted with it). A file published
//! before provenance existed simply has none: nothing here invents one.
//!
//! This is our own format, a leaf every stage may read: `build` writes it, `publish` carries
//! it, `repoctl provenance` (and later `status`) reads it.
use camino::{Utf8Path, Utf8PathBuf};

/// The format version written in every object's `format`, and the only one this repoctl reads.
pub const FORMAT: u32 = 1;

/// What a provenance object's name adds to its package file's name.
pub const SUFFIX: &str = ".provenance.json";

/// A provenance object larger than this is refused when read from a target.
pub const MAX_BYTES: u64 = 64 * 1024;

/// `FILE.provenance.json`: the provenance object of the package file `file` (a file name, no
/// directory).
pub fn sidecar_name(file: &str) -> String {
    format!("{file}{SUFFIX}")
}

/// The provenance object beside a local package file, when there is one.
pub fn sidecar_of(pkg: &Utf8Path) -> Option<Utf8PathBuf> {
    let sidecar = Utf8PathBuf::from(format!("{pkg}{SUFFIX}"));
    sidecar.is_file().then_some(sidecar)
}

/// Where one package file came from. Serialized as pretty JSON in this field order (serde keeps
/// declaration order), so the same record is always the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    /// [`FORMAT`].
    pub format: u32,
    pub pkgname: String,
    pub pkgbase: String,
    /// `[epoch:]pkgver-pkgrel`, as in the file name.
    pub version: String,
    /// The package file's name.
    pub file: String,
    /// SHA-256 of the package file, lowercase hex (as the sync database's `%SHA256SUM%`).
    pub sha256: String,
    pub aur: AurSource,
    pub lock: LockRef,
    pub builder: Builder,
    /// When the file was recorded, at the end of its build: RFC 3339, UTC.
    pub built_at: String,
    /// The repoctl that built it: `repoctl VERSION`.
    pub repoctl: String,
    /// Why it is a rebuild of the locked commit with a dotted pkgrel (issue 26: `rebuild:
    /// libstand.so.1 is gone`), when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebuild: Option<String>,
    /// What it needs and provides (`.PKGINFO` depends and provides, its ELF files' sonames),
    /// read when it was checked; None in a record written before issue 26.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkage: Option<crate::alpm::soname::Linkage>,
}

/// The AUR commit a package was built from, as repoctl.lock names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AurSource {
    /// The pkgbase's git repository (`https://aur.archlinux.org/PKGBASE.git`).
    pub url: String,
    /// The commit checked out and built (40 hex digits).
    pub commit: String,
    /// The lock's hash of that commit's files (`crate::trust::tree::Tree::digest`): `tree-sha256:`
    /// and hex (`sha256:` for a lock written before issue 23).
    pub files: String,
    /// A `path:` package's directory, relative to repo.yaml (issue 27): then `url` and `commit`
    /// are empty and `files` is the digest of the directory's files the lock records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A `git:` package's repository (issue 27): then `url` is its URL too, `commit` the
    /// commit of that repository, and `files` the digest of the subdir's files there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitOrigin>,
    /// `patches:` applied to the commit's files (issue 27): each patch's SHA-256 as repoctl.lock
    /// records it (`sha256:` and hex), in the order they were applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<String>,
}

/// A `git:` package's repository in provenance (issue 27), as repo.yaml and repoctl.lock write it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GitOrigin {
    pub url: String,
    /// The PKGBUILD's directory inside the repository; absent: its root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdir: Option<String>,
}

impl GitOrigin {
    /// `URL` or `URL (subdir DIR)`.
    pub fn describe(&self) -> String {
        match &self.subdir {
            Some(subdir) => format!("{} (subdir {subdir})", self.url),
            None => self.url.clone(),
        }
    }
}

/// The lock a package was built under.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockRef {
    /// `crate::lock::Lock::digest`: `sha256:` and hex of the lock's text.
    pub sha256: String,
}

/// The container image a package was built in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Builder {
    /// repo.yaml's `builder.image` (`archlinux:base-devel`).
    pub image: String,
    /// The Docker image ID (`sha256:...`) of the run's image: `image` with repoctl's recipe,
    /// brought up to date with the mirrors (the synced image, `crate::build::make_run_image`),
    /// the exact system every build of the run started from. It lives only on the machine that
    /// built, until the mirrors move; the ID names what it was.
    pub digest: String,
    /// The Docker image ID of `image` itself, when the daemon had it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_digest: Option<String>,
}

/// Everything a pkgbase's build shares; [`Origin::record`] adds what is file's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub pkgbase: String,
    pub aur: AurSource,
    pub lock: LockRef,
    pub builder: Builder,
    /// RFC 3339, UTC.
    pub built_at: String,
    /// [`Provenance::rebuild`].
    pub rebuild: Option<String>,
}

/// A provenance object that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    #[error("cannot read {path}")]
    Io {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file} is not a package file name (NAME-VERSION-PKGREL-ARCH.pkg.tar*)")]
    NotAPackage { file: String },
    #[error("{name} is not a provenance object")]
    Invalid {
        name: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{name} has format {found}; this repoctl reads format {FORMAT}")]
    Format { name: String, found: u32 },
}

impl Origin {
    /// The provenance of the local package file `pkg`: its name's pkgname and version, and the
    /// SHA-256 of its bytes (read in blocks: a package may be gigabytes; callers in async code
    /// run this on a blocking thread). Errors: `pkg` is not a package file name, or unreadable.
    pub fn record(&self, pkg: &Utf8Path) -> Result<Provenance, ProvenanceError> {
        let file = pkg.file_name().unwrap_or_default().to_string();
        let Some((pkgname, version)) = crate::alpm::package_file_parts(&file) else {
            return Err(ProvenanceError::NotAPackage { file });
        };
        let io = |source| ProvenanceError::Io { path: pkg.to_owned(), source };
        let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
        std::io::copy(&mut fs_err::File::open(pkg).map_err(io)?, &mut hasher).map_err(io)?;
        let digest = sha2::Digest::finalize(hasher);
        Ok(self.record_checked(&file, pkgname, version, &format!("{digest:x}")))
    }

    /// The provenance of the package file named `file`, of `pkgname` at `version`, whose bytes
    /// have the SHA-256 `sha256` (lowercase hex): what a check of the file found
    /// (`crate::trust::CheckedPackage::provenance`), so that the file is not read again.
    pub fn record_checked(&self, file: &str, pkgname: &str, version: &str, sha256: &str) -> Provenance {
        Provenance {
            format: FORMAT,
            pkgname: pkgname.to_string(),
            pkgbase: self.pkgbase.clone(),
            version: version.to_string(),
            sha256: sha256.to_string(),
            file: file.to_string(),
            aur: self.aur.clone(),
            lock: self.lock.clone(),
            builder: self.builder.clone(),
            built_at: self.built_at.clone(),
            repoctl: format!("repoctl {}", env!("CARGO_PKG_VERSION")),
            rebuild: self.rebuild.clone(),
            linkage: None,
        }
    }
}

impl Provenance {
    /// The object as published: pretty JSON, keys in declaration order, a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a provenance record always serializes");
        text.push('\n');
        text
    }

    /// Reads an object named `name` (for messages). Errors: not JSON of this shape, or another
    /// format version.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Provenance, ProvenanceError> {
        #[derive(serde::Deserialize)]
        struct Version {
            format: u32,
        }
        let invalid = |source| ProvenanceError::Invalid { name: name.to_string(), source };
        let found = serde_json::from_slice::<Version>(bytes).map_err(invalid)?.format;
        if found != FORMAT {
            return Err(ProvenanceError::Format { name: name.to_string(), found });
        }
        serde_json::from_slice(bytes).map_err(invalid)
    }

    /// Writes the object beside its package file `pkg` (`pkg.provenance.json`), through a
    /// temporary file and a rename: never half an object. Returns its path.
    pub fn write_beside(&self, pkg: &Utf8Path) -> std::io::Result<Utf8PathBuf> {
        let path = Utf8PathBuf::from(format!("{pkg}{SUFFIX}"));
        let tmp = Utf8PathBuf::from(format!("{path}.part-{}", std::process::id()));
        fs_err::write(&tmp, self.to_json())?;
        fs_err::rename(&tmp, &path)?;
        Ok(path)
    }

    /// One line for a build log or a run summary: `foo 1.0-1 from AUR commit C (files F, lock
    /// L), builder image D`. `short` abbreviates the commit and every digest to 12 hex digits
    /// (the object holds them whole).
    pub fn line(&self, short: bool) -> String {
        let cut = |s: &str| if short { abbreviate(s) } else { s.to_string() };
        let from = match (&self.aur.path, &self.aur.git) {
            (Some(path), _) => format!("directory {path}"),
            (None, Some(git)) => format!("{} at commit {}", git.describe(), cut(&self.aur.commit)),
            (None, None) => format!("AUR commit {}", cut(&self.aur.commit)),
        };
        let from = match self.aur.patches.len() {
            0 => from,
            _ => format!(
                "{from} with patches {}",
                self.aur.patches.iter().map(|p| cut(p)).collect::<Vec<_>>().join(", ")
            ),
        };
        format!(
            "{} {} from {from} (files {}, lock {}), builder image {}",
            self.pkgname,
            self.version,
            cut(&self.aur.files),
            cut(&self.lock.sha256),
            cut(&self.builder.digest)
        )
    }
}

/// A commit or `ALGO:HEX` digest cut to 12 hex digits, as git abbreviates commits.
fn abbreviate(id: &str) -> String {
    let (prefix, hex) = id.split_once(':').map_or(("", id), |(p, h)| (p, h));
    let hex = &hex[..12.min(hex.len())];
    if prefix.is_empty() { hex.to_string() } else { format!("{prefix}:{hex}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            pkgbase: "foo".into(),
            aur: AurSource {
                url: "https://aur.archlinux.org/foo.git".into(),
                commit: "0123456789abcdef0123456789abcdef01234567".into(),
                files: format!("sha256:{}", "a".repeat(64)),
                path: None,
                git: None,
                patches: Vec::new(),
            },
            lock: LockRef { sha256: format!("sha256:{}", "b".repeat(64)) },
            builder: Builder {
                image: "archlinux:base-devel".into(),
                digest: format!("sha256:{}", "c".repeat(64)),
                base_digest: Some(format!("sha256:{}", "d".repeat(64))),
            },
            built_at: "2026-11-29T21:00:00Z".into(),
            rebuild: None,
        }
    }

    fn package(dir: &Utf8Path, name: &str) -> Utf8PathBuf {
        let path = dir.join(name);
        fs_err::write(&path, b"package bytes").unwrap();
        path
    }

    fn tempdir() -> (tempfile::TempDir, Utf8PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap();
        (dir, path)
    }

    #[test]
    fn the_object_names_the_file_its_bytes_the_commit_the_lock_and_the_image() {
        let (_t, dir) = tempdir();
        let record = origin().record(&package(&dir, "foo-docs-1:2.0-3-any.pkg.tar.zst")).unwrap();
        let expected = format!(
            r#"{{
  "format": 1,
  "pkgname": "foo-docs",
  "pkgbase": "foo",
  "version": "1:2.0-3",
  "file": "foo-docs-1:2.0-3-any.pkg.tar.zst",
  "sha256": "2e547448dcd0f2fcd9dbc386d33f1553369883451898177559bcf3e3b1083d16",
  "aur": {{
    "url": "https://aur.archlinux.org/foo.git",
    "commit": "0123456789abcdef0123456789abcdef01234567",
    "files": "sha256:{a}"
  }},
  "lock": {{
    "sha256": "sha256:{b}"
  }},
  "builder": {{
    "image": "archlinux:base-devel",
    "digest": "sha256:{c}",
    "base_digest": "sha256:{d}"
  }},
  "built_at": "2026-11-29T21:00:00Z",
  "repoctl": "repoctl {version}"
}}
"#,
            a = "a".repeat(64),
            b = "b".repeat(64),
            c = "c".repeat(64),
            d = "d".repeat(64),
            version = env!("CARGO_PKG_VERSION"),
        );
        assert_eq!(record.to_json(), expected);
        assert_eq!(Provenance::parse("x", expected.as_bytes()).unwrap(), record);
    }

    #[test]
    fn it_is_written_beside_its_package_file_and_found_there() {
        let (_t, dir) = tempdir();
        let pkg = package(&dir, "foo-1.0-1-x86_64.pkg.tar.zst");
        assert_eq!(sidecar_of(&pkg), None, "a package built before provenance has none");
        let record = origin().record(&pkg).unwrap();
        let written = record.write_beside(&pkg).unwrap();
        assert_eq!(written.file_name(), Some(sidecar_name("foo-1.0-1-x86_64.pkg.tar.zst").as_str()));
        assert_eq!(sidecar_of(&pkg), Some(written.clone()));
        assert_eq!(Provenance::parse("x", &fs_err::read(&written).unwrap()).unwrap(), record);
        let names: Vec<String> =
            fs_err::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names.len(), 2, "no temporary file is left: {names:?}");
    }

    #[test]
    fn a_line_says_where_the_package_came_from_whole_or_abbreviated() {
        let (_t, dir) = tempdir();
        let record = origin().record(&package(&dir, "foo-1.0-1-x86_64.pkg.tar.zst")).unwrap();
        assert_eq!(
            record.line(true),
            "foo 1.0-1 from AUR commit 0123456789ab (files sha256:aaaaaaaaaaaa, lock sha256:bbbbbbbbbbbb), \
             builder image sha256:cccccccccccc"
        );
        let long = record.line(false);
        assert!(long.contains(&record.aur.commit) && long.contains(&record.lock.sha256), "{long}");
        assert!(long.contains(&record.aur.files) && long.contains(&record.builder.digest), "{long}");
    }

    #[test]
    fn what_is_not_a_package_or_not_this_format_is_refused() {
        let (_t, dir) = tempdir();
        assert!(matches!(origin().record(&package(&dir, "README")), Err(ProvenanceError::NotAPackage { .. })));
        assert!(matches!(Provenance::parse("x", b"{}"), Err(ProvenanceError::Invalid { .. })));
        assert!(matches!(Provenance::parse("x", br#"{"format": 2}"#), Err(ProvenanceError::Format { found: 2, .. })));
        assert!(matches!(Provenance::parse("x", br#"{"format": 1}"#), Err(ProvenanceError::Invalid { .. })));
    }
}
