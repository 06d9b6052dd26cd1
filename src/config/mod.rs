//! repo.yaml: the declarative description of one pacman repository.
//!
//! [`load`] reads, parses and validates the file and returns either a [`Config`] of plain
//! values or every problem found, each with `file:line:col` and a hint. It never touches
//! the network; asking the AUR whether packages exist is `repoctl check`'s second step.
mod git_source;
mod schema;
mod validate;

pub use crate::diagnostic::{Diagnostic, Diagnostics, Pos};
pub use validate::human_duration;
pub(crate) use validate::{check_package_name, parse_duration};

use crate::pgp::Fingerprint;
use camino::{Utf8Path, Utf8PathBuf};

/// repo.yaml larger than this is refused before parsing (a real one is a few KiB).
/// JSON Schema for repo.yaml, for editors and `repoctl schema`. A unit test keeps its keys
/// equal to the ones the loader accepts.
pub const JSON_SCHEMA: &str = include_str!("repo.schema.json");

pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

pub const DEFAULT_IMAGE: &str = "archlinux:base-devel";
pub const DEFAULT_JOBS: u32 = 2;
pub const DEFAULT_ARCH: &str = "x86_64";
pub const DEFAULT_LOCAL_DIR: &str = "repo";
/// A build that runs longer is stopped and reported as failed.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2 * 3600);

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file this came from.
    pub path: Utf8PathBuf,
    /// The pacman repository name: `<name>.db`, `<name>.files`.
    pub name: String,
    pub arch: String,
    pub target: TargetConfig,
    pub builder: BuilderConfig,
    /// Sign packages and databases; the secret key comes from the environment.
    pub sign: Option<SignConfig>,
    /// What `repoctl update` may let into the lock without a person's `--accept`.
    pub trust: TrustConfig,
    /// What happens to build logs published beside the repository (issue 29).
    pub logs: LogsConfig,
    /// How long the history's snapshots are kept (issue 29).
    pub snapshots: SnapshotsConfig,
    pub packages: Vec<PackageConfig>,
}

/// `snapshots:` in repo.yaml: each publish that changes `NAME.db` keeps it under `history/ID/`
/// (`crate::publish::history`), for `repoctl history` and `repoctl rollback`; a snapshot is
/// kept `keep` long (the newest always), and the package files kept snapshots list with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotsConfig {
    /// How long a snapshot is kept (default [`DEFAULT_SNAPSHOTS_KEPT`]); zero: no history.
    pub keep: std::time::Duration,
}

/// How long snapshots are kept when repo.yaml says nothing: 14 days.
pub const DEFAULT_SNAPSHOTS_KEPT: std::time::Duration = std::time::Duration::from_secs(14 * 86_400);

impl Default for SnapshotsConfig {
    fn default() -> SnapshotsConfig {
        SnapshotsConfig { keep: DEFAULT_SNAPSHOTS_KEPT }
    }
}

/// `logs:` in repo.yaml: each build's log is published as `logs/PKGBASE/RUN.log` beside the
/// repository ([`crate::publish::logs`]), and the last `keep` of each pkgbase are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogsConfig {
    /// How many logs of one pkgbase stay published, newest first (1 to [`MAX_LOGS_KEPT`]).
    pub keep: u32,
}

/// Logs kept per pkgbase when repo.yaml says nothing.
pub const DEFAULT_LOGS_KEPT: u32 = 10;
/// The most `logs.keep` may be: the status object lists every kept log.
pub const MAX_LOGS_KEPT: u32 = 1000;

impl Default for LogsConfig {
    fn default() -> LogsConfig {
        LogsConfig { keep: DEFAULT_LOGS_KEPT }
    }
}

/// `trust:` in repo.yaml: the policy `repoctl update` applies before it moves the lock
/// (issue 14; docs/src/trust/trust-model.md).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrustConfig {
    /// A commit that reached the AUR less than this long ago is not taken yet (default 0).
    pub min_age: std::time::Duration,
    /// When set, only packages these AUR users maintain are let in.
    pub maintainers: Option<Vec<String>>,
    pub auto: AutoUpdate,
}

/// `trust.auto`: what `repoctl update --auto` (the nightly) takes without review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoUpdate {
    /// Nothing: every move of the lock is a reviewed pull request.
    #[default]
    None,
    /// Changes of pkgver, pkgrel, epoch and checksums only, by the same maintainer, older
    /// than `min_age`.
    VersionOnly,
}

impl AutoUpdate {
    pub const NAMES: &[&str] = &["none", "version-only"];
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignConfig {
    /// The signing key's fingerprint (primary key or signing subkey).
    pub key: Fingerprint,
    pub pos: Pos,
    /// `sign.public_key`: the key's public part, from an armored file in the repository
    /// (`gpg --armor --export`), read and checked to be a public key when repo.yaml was
    /// loaded. What a run without the secret key (a shard's `build --no-publish`,
    /// `provenance`) verifies the published database with; that it holds `key` is checked
    /// where it is used ([`crate::sign::PublicKey::from_armored`]).
    pub public_key: Option<PublicKeyFile>,
}

/// An armored public key file named in repo.yaml, as read when it was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyFile {
    pub path: Utf8PathBuf,
    pub armored: String,
    /// Where repo.yaml names it.
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TargetConfig {
    S3(S3Config),
    /// A directory on this machine; pacman reads it with `Server = file://...`.
    Local {
        path: Utf8PathBuf,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct S3Config {
    pub bucket: String,
    /// Key prefix without leading or trailing slashes; empty for the bucket root.
    pub prefix: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub acl: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BuilderConfig {
    pub image: String,
    /// Where `builder.image` is written; None when repo.yaml leaves the default.
    pub image_pos: Option<Pos>,
    pub jobs: u32,
    /// Defaults for every build; a package entry can override each.
    pub limits: Limits,
    /// Whether builds have the network; a package entry can override it.
    pub network: Network,
    /// Where `pgp_keys` fingerprints are received from (default: gpg's own keyserver).
    pub keyserver: Option<String>,
    /// Addresses of this machine that build containers may reach (`allow_host`: a cache or a
    /// mirror it serves); by default they reach none of its addresses and no link-local one
    /// (`crate::docker::BuildNetwork`). IPv4 only; never link-local, loopback or unspecified.
    pub allow_host: Vec<std::net::IpAddr>,
    /// Also publish debug packages (makepkg's `debug` option) into NAME-debug; a package entry
    /// can override it. Default false: makepkg runs with `!debug`.
    pub debug: bool,
    /// The least time between two pkgver() checks of one VCS package's upstream (zero, the
    /// default: every run checks); a package entry can override it.
    pub vcs_interval: std::time::Duration,
}

/// The network a build container has (`network:` in repo.yaml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    /// The whole build has the network, as with a plain `makepkg`.
    #[default]
    On,
    /// Sources are fetched and verified with the network on (`makepkg --verifysource`), then
    /// the container is cut off every network and prepare(), build(), check() and package()
    /// run without one: a PKGBUILD cannot download anything its sources do not declare.
    OfflineBuild,
}

impl Network {
    pub const NAMES: &[&str] = &["on", "offline-build"];

    pub fn parse(s: &str) -> Option<Network> {
        match s {
            "on" => Some(Network::On),
            "offline-build" => Some(Network::OfflineBuild),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Network::On => "on",
            Network::OfflineBuild => "offline-build",
        }
    }
}

/// A public key a package's source signatures may be checked with (`pgp_keys:` in repo.yaml),
/// imported into the build user's keyring before makepkg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgpKey {
    /// A full fingerprint, received from a keyserver inside the container (`gpg --recv-keys`).
    Fingerprint(Fingerprint),
    /// An armored public key file read (and checked) when repo.yaml was loaded.
    File {
        path: Utf8PathBuf,
        /// Fingerprints of the primary keys it holds.
        fingerprints: Vec<Fingerprint>,
        armored: String,
    },
}

/// What one build may use. Enforced by the container (memory, CPUs) and by repoctl (time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub timeout: std::time::Duration,
    pub memory_bytes: Option<u64>,
    pub cpus: Option<f64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { timeout: DEFAULT_TIMEOUT, memory_bytes: None, cpus: None }
    }
}

/// Per-package overrides of [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LimitOverrides {
    pub timeout: Option<std::time::Duration>,
    pub memory_bytes: Option<u64>,
    pub cpus: Option<f64>,
}

impl LimitOverrides {
    pub fn over(&self, base: Limits) -> Limits {
        Limits {
            timeout: self.timeout.unwrap_or(base.timeout),
            memory_bytes: self.memory_bytes.or(base.memory_bytes),
            cpus: self.cpus.or(base.cpus),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PackageConfig {
    /// A pkgname or a pkgbase, as the user wrote it.
    pub name: String,
    pub nocheck: bool,
    pub limits: LimitOverrides,
    /// Check upstream with pkgver() (true), never (false), or by name suffix (None).
    pub vcs: Option<bool>,
    /// Overrides `builder.vcs_interval` for this package.
    pub vcs_interval: Option<std::time::Duration>,
    /// Overrides `builder.network` for this package.
    pub network: Option<Network>,
    /// Public keys to import besides the AUR repository's own `keys/pgp/*.asc`.
    pub pgp_keys: Vec<PgpKey>,
    /// Overrides `builder.debug` for this package; the plan's [`crate::plan::Step::debug`]
    /// holds the result.
    pub debug: Option<bool>,
    /// Added to this package's build containers (never to its AUR dependencies' nor to
    /// repo-add's), each one of [`crate::docker::GRANTABLE_CAPABILITIES`], no duplicates.
    pub capabilities: Vec<crate::docker::Capability>,
    /// Where its PKGBUILD comes from: the AUR, or a directory beside repo.yaml (issue 27).
    pub source: PackageSource,
    /// `patches:` (issue 27): patch files applied, in this order, to the locked AUR commit's
    /// files; empty for most entries, and always for a non-AUR one (the loader refuses it).
    pub patches: Vec<PatchFile>,
    /// Where the entry stands in repo.yaml, for messages about it.
    pub pos: Pos,
}

/// Where a listed package's PKGBUILD comes from (issue 27; docs/src/reference/repo-yaml.md).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PackageSource {
    /// The AUR: `name:` is a pkgname or pkgbase, locked by commit.
    #[default]
    Aur,
    /// `path:`: a directory of this repository, locked by a digest of its files.
    Path(LocalPath),
    /// `git:`: a PKGBUILD repository outside the AUR, locked by commit (and the digest of the
    /// subdir's files there).
    Git(GitSource),
}

/// A `git:` entry's repository, checked when repo.yaml was loaded: an `https://` or `file://`
/// URL, and a plain relative `subdir` without `..`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitSource {
    /// As repo.yaml writes it (trimmed): what repoctl fetches, and what the lock and
    /// provenance record.
    pub url: String,
    /// The PKGBUILD's directory inside the repository, `/`-separated, without `.` or `..`;
    /// None: the repository's root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdir: Option<String>,
}

/// Whether `git` holds a URL and subdir repo.yaml would take, and as repo.yaml's loader writes
/// them back (for repoctl.lock and other files that carry one). Errors: the first problem.
pub fn check_git_source(git: &GitSource) -> Result<(), String> {
    let url = git_source::check_url(&git.url).map_err(|r| r.message)?;
    let subdir = git.subdir.as_deref().map(git_source::check_subdir).transpose().map_err(|r| r.message)?;
    if url != git.url || subdir != git.subdir {
        return Err("not written as repo.yaml's loader writes it".into());
    }
    Ok(())
}

/// A `path:` entry's directory, checked when repo.yaml was loaded: it is inside repo.yaml's
/// directory (symbolic links resolved) and holds a PKGBUILD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath {
    /// The directory as repoctl reads it: repo.yaml's directory joined with `written`.
    pub dir: Utf8PathBuf,
    /// As repo.yaml writes it, normalized (`pkgbuilds/mytool`, `/`-separated, no `.` or `..`):
    /// what repoctl.lock and provenance record.
    pub written: String,
}

/// A `patches:` file of an AUR entry (issue 27), checked when repo.yaml was loaded: a regular
/// file inside repo.yaml's directory (symbolic links resolved). Its bytes are read again, and
/// checked against repoctl.lock, by [`crate::trust::patch`] wherever they are used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchFile {
    /// The file as repoctl reads it: repo.yaml's directory joined with `written`.
    pub file: Utf8PathBuf,
    /// As repo.yaml writes it, normalized (`patches/foo.patch`): what the review and messages
    /// show.
    pub written: String,
}

/// Name suffixes of VCS packages, whose AUR version says nothing about upstream.
pub const VCS_SUFFIXES: &[&str] = &["-git", "-hg", "-svn", "-bzr", "-fossil", "-darcs"];

impl PackageConfig {
    /// The `path:` directory of a local package; None for an AUR package.
    pub fn local_path(&self) -> Option<&LocalPath> {
        match &self.source {
            PackageSource::Path(local) => Some(local),
            PackageSource::Aur | PackageSource::Git(_) => None,
        }
    }

    /// The repository of a `git:` package; None for others.
    pub fn git_source(&self) -> Option<&GitSource> {
        match &self.source {
            PackageSource::Git(git) => Some(git),
            PackageSource::Aur | PackageSource::Path(_) => None,
        }
    }

    /// Whether the upstream version is checked with pkgver() before deciding to skip.
    pub fn is_vcs(&self) -> bool {
        self.vcs.unwrap_or_else(|| VCS_SUFFIXES.iter().any(|s| self.name.ends_with(s)))
    }
}

impl Config {
    pub fn package(&self, name: &str) -> Option<&PackageConfig> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// A diagnostic pointing at a package entry, for problems found after loading.
    pub fn diagnostic_at(&self, pos: Pos, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.path, pos, message)
    }
}

/// Errors that stop `load` before any validation can be said about lines.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}")]
    Read {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] Diagnostics),
}

/// Reads and validates `path`.
pub fn load(path: &Utf8Path) -> Result<Config, LoadError> {
    let bytes = read_bounded(path)?;
    parse(path, &bytes).map_err(LoadError::Invalid)
}

/// Parses and validates repo.yaml text; `path` is used in messages and to resolve relative
/// paths. Key files named in `pgp_keys` are read (and checked) here.
pub fn parse(path: &Utf8Path, bytes: &[u8]) -> Result<Config, Diagnostics> {
    // In file order, as a person reads them (the validator finds some in a second pass).
    validate::parse(path, bytes).map_err(|mut d| {
        d.0.sort_by_key(|d| (d.pos.line, d.pos.col));
        d
    })
}

fn read_bounded(path: &Utf8Path) -> Result<Vec<u8>, LoadError> {
    use std::io::Read;
    let err = |source| LoadError::Read { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(err)?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(err)?;
    Ok(bytes)
}
