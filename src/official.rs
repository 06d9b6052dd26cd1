//! What the official Arch repositories hold, read from their real sync databases, so that the
//! plan knows which dependencies pacman will install from them (by pkgname or through
//! `provides`: `cargo` comes from `rust`, `sh` from `bash`) and looks among AUR packages only
//! for the names nothing official satisfies. Nothing here is guessed: the repositories are the
//! ones the builder image's pacman.conf names, downloaded by that image's own pacman.
//!
//! Satisfaction follows libalpm's `_alpm_resolvedep` (lib/libalpm/deps.c), which `pacman -S`
//! and makepkg's dependency installation use: first a package whose pkgname is the dependency's
//! and whose version satisfies it, in repository order; else the first package, in repository
//! order and by pkgname within a repository (the order of libalpm's package cache), whose
//! `provides` satisfies it (`alpm_depcmp`; pacman(8) offers that one first and `--noconfirm`
//! takes it).
use crate::alpm::{DbError, Relation, provided_name, read_sync_db};
use crate::docker::{ContainerSpec, Docker, DockerError, ExecSpec};
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The most the copied-out sync databases may weigh together, as a tar archive (Arch's
/// [extra] is ~9 MiB compressed; core, extra and multilib together ~12 MiB).
const MAX_SYNC_DBS_BYTES: u64 = 256 * 1024 * 1024;
/// The most of syncdbs.sh's output an error keeps (its end, where pacman says what failed).
const MAX_OUTPUT_CHARS: usize = 4000;
/// Where syncdbs.sh leaves the databases in the container.
const CONTAINER_DIR: &str = "/repoctl/syncdbs";
/// The cache's stamp file in `cache_dir`: which builder image, when, and which repositories.
const STAMP: &str = "stamp";

/// One package of an official repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialPackage {
    /// The repository that holds it (`core`, `extra`, ...).
    pub repo: String,
    pub name: String,
    /// `[epoch:]pkgver-pkgrel`, as `%VERSION%` gives it.
    pub version: String,
    /// `%PROVIDES%` as written: `name` or `name=version`.
    pub provides: Vec<String>,
}

/// What the official repositories hold, in pacman.conf order. Lookups by pkgname and by
/// provided name are hash lookups; each list of candidates is in pacman's order.
#[derive(Debug, Clone, Default)]
pub struct OfficialRepos {
    repos: Vec<String>,
    /// By repository in pacman.conf order, then by pkgname (libalpm's package cache order).
    packages: Vec<OfficialPackage>,
    /// pkgname -> indices into `packages`, ascending.
    by_name: HashMap<String, Vec<usize>>,
    /// Provided name (the part of a provision before `=`) -> indices into `packages`, ascending.
    by_provision: HashMap<String, Vec<usize>>,
    /// (repository, SHA-256 of its sync database file as pacman downloaded it, lowercase hex),
    /// in pacman.conf order.
    digests: Vec<(String, String)>,
}

impl OfficialRepos {
    /// From (repository name, sync database bytes) pairs in pacman.conf order; the bytes are a
    /// sync database as pacman downloads it (`NAME.db`, any compression [`read_sync_db`]
    /// reads). Fails on the first database that is not one.
    pub fn from_sync_dbs(dbs: &[(String, Vec<u8>)]) -> Result<OfficialRepos, DbError> {
        Self::index(dbs).map_err(|(_, e)| e)
    }

    /// As [`from_sync_dbs`](Self::from_sync_dbs), naming the repository whose database failed.
    fn index(dbs: &[(String, Vec<u8>)]) -> Result<OfficialRepos, (String, DbError)> {
        let mut official = OfficialRepos::default();
        for (repo, bytes) in dbs {
            let mut packages = read_sync_db(bytes).map_err(|e| (repo.clone(), e))?;
            packages.sort_by(|a, b| a.name.cmp(&b.name));
            official.repos.push(repo.clone());
            official.digests.push((repo.clone(), format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(bytes))));
            for p in packages {
                official.add(OfficialPackage {
                    repo: repo.clone(),
                    name: p.name,
                    version: p.version,
                    provides: p.provides,
                });
            }
        }
        Ok(official)
    }

    fn add(&mut self, package: OfficialPackage) {
        let index = self.packages.len();
        self.by_name.entry(package.name.clone()).or_default().push(index);
        for provision in &package.provides {
            let list = self.by_provision.entry(provided_name(provision).to_string()).or_default();
            if list.last() != Some(&index) {
                list.push(index);
            }
        }
        self.packages.push(package);
    }

    /// The official package pacman would install for a dependency string (`foo`, `foo>=1.2`;
    /// alpm-package-relation(7)): a package of that pkgname whose version satisfies it, else the
    /// first (in repository order, then by pkgname) whose `provides` satisfies it. A provision
    /// without a version never satisfies a versioned dependency, and a package is never its own
    /// provider (`_alpm_resolvedep` skips the pkgname in its provider pass). None when nothing
    /// official does.
    pub fn satisfier(&self, dep: &str) -> Option<&OfficialPackage> {
        let relation = Relation::parse(dep);
        let name = &relation.name;
        self.candidates(&self.by_name, name).find(|p| relation.satisfied_by_package(&p.name, &p.version)).or_else(
            || {
                self.candidates(&self.by_provision, name)
                    .find(|p| &p.name != name && p.provides.iter().any(|v| relation.satisfied_by_provision(v)))
            },
        )
    }

    /// The packages `index` lists under `name`, in pacman's order.
    fn candidates<'a>(
        &'a self,
        index: &'a HashMap<String, Vec<usize>>,
        name: &str,
    ) -> impl Iterator<Item = &'a OfficialPackage> + 'a {
        index.get(name).into_iter().flatten().map(|&i| &self.packages[i])
    }

    /// The repositories' names, in pacman.conf order.
    pub fn repos(&self) -> &[String] {
        &self.repos
    }

    /// Each repository's sync database as (repository, SHA-256 in lowercase hex), in
    /// pacman.conf order: two images or fetches whose digests are equal saw the same
    /// repositories, so `pacman -Syu` would change nothing between them.
    pub fn sync_db_digests(&self) -> &[(String, String)] {
        &self.digests
    }

    /// How many packages all the repositories hold together.
    pub fn len(&self) -> usize {
        self.packages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OfficialError {
    #[error("reading the official repositories through the builder image failed")]
    Docker(#[from] DockerError),
    #[error("`pacman -Sy` in the builder image {image} exited with {code}:\n{output}")]
    Sync { image: String, code: i64, output: String },
    #[error("the sync database of [{repo}] is unreadable")]
    Db {
        repo: String,
        #[source]
        source: DbError,
    },
    #[error("{path}")]
    Io {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the sync databases copied out of the builder image are not what syncdbs.sh writes: {0}")]
    Copy(String),
}

fn io_at(path: &Utf8Path) -> impl FnOnce(std::io::Error) -> OfficialError + '_ {
    move |source| OfficialError::Io { path: path.to_owned(), source }
}

/// Reads the sync databases of the repositories the builder image's pacman.conf names, by
/// running `pacman -Sy` in a container of `builder_image` (a tag from
/// [`crate::build::ensure_builder_image`]; its images/builder/syncdbs.sh) and copying
/// `/var/lib/pacman/sync` out; `repoctl-local`, the run's own repository that the builder
/// image's setup.sh adds, is left out. The container is labelled, gets no secrets, no volume
/// and no capability beyond the kept ones, and is removed whatever happens.
///
/// A copy in `cache_dir` younger than `max_age` (by the time recorded when it was fetched) and
/// fetched through the same `builder_image` is used instead, without Docker. The cache is
/// `cache_dir/<repo>.db`, one per repository as pacman downloaded it, and `cache_dir/stamp`
/// (`builder-image TAG`, `fetched-unix-ms N`, then `repo NAME` per repository in pacman.conf
/// order). Every file is written to a temporary name and renamed; the stamp is removed first
/// and written last, so a crash leaves no cache rather than a mixed one. A cache that cannot be
/// read is fetched again.
///
/// Errors: Docker (the daemon, the container, the copy), `pacman -Sy` failing (a mirror
/// unreachable: never a guess from an old copy), a database that does not parse, and I/O in
/// `cache_dir`.
pub async fn load(
    docker: &Docker,
    builder_image: &str,
    cache_dir: &Utf8Path,
    max_age: Duration,
) -> Result<OfficialRepos, OfficialError> {
    fs_err::create_dir_all(cache_dir).map_err(io_at(cache_dir))?;
    if let Some(official) = read_cache(cache_dir, builder_image, max_age) {
        return Ok(official);
    }
    let dbs = fetch(docker, builder_image, cache_dir).await?;
    let official = OfficialRepos::index(&dbs).map_err(|(repo, source)| OfficialError::Db { repo, source })?;
    write_cache(cache_dir, builder_image, &dbs)?;
    Ok(official)
}

/// Runs syncdbs.sh in a container of `builder_image` and returns (repository, database)
/// pairs in pacman.conf order.
async fn fetch(
    docker: &Docker,
    builder_image: &str,
    cache_dir: &Utf8Path,
) -> Result<Vec<(String, Vec<u8>)>, OfficialError> {
    let spec = ContainerSpec {
        image: builder_image.to_string(),
        purpose: "official-syncdbs".into(),
        memory_bytes: None,
        nano_cpus: None,
        pids_limit: Some(256),
        volumes: Vec::new(),
        // No package's grant: this container runs no PKGBUILD.
        extra_capabilities: Vec::new(),
    };
    let tar = tempfile::Builder::new().prefix(".syncdbs-").suffix(".tar").tempfile_in(cache_dir);
    let tar = tar.map_err(io_at(cache_dir))?;
    let tar_path = Utf8Path::from_path(tar.path())
        .ok_or_else(|| OfficialError::Copy(format!("{} is not UTF-8", tar.path().display())))?;
    docker
        .with_container(&spec, async |container| {
            // 1. Download the databases as the image's pacman does.
            let cmd = ["sh", "/usr/local/lib/repoctl/syncdbs.sh"].map(String::from).to_vec();
            let exec = ExecSpec { cmd, user: "root", env: vec!["LC_ALL=C.UTF-8".into()], workdir: None };
            let mut output = Vec::new();
            let code = container.exec(&exec, &mut |b: &[u8]| output.extend_from_slice(b)).await?;
            if code != 0 {
                let output = tail(&String::from_utf8_lossy(&output), MAX_OUTPUT_CHARS);
                return Err(OfficialError::Sync { image: builder_image.to_string(), code, output });
            }
            // 2. Copy them out, bounded.
            container.download_tar(CONTAINER_DIR, tar_path, MAX_SYNC_DBS_BYTES).await?;
            Ok(())
        })
        .await?;
    // 3. Unpack: `syncdbs/repos` gives the order, `syncdbs/<repo>.db` each database.
    let bytes = fs_err::read(tar_path).map_err(io_at(tar_path))?;
    unpack(&bytes)
}

/// (repository, database) pairs from the tar of `syncdbs/` that Docker copies out.
fn unpack(tar: &[u8]) -> Result<Vec<(String, Vec<u8>)>, OfficialError> {
    let bad = |e: std::io::Error| OfficialError::Copy(e.to_string());
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    for item in tar::Archive::new(tar).entries().map_err(bad)? {
        let mut item = item.map_err(bad)?;
        if !item.header().entry_type().is_file() {
            continue;
        }
        let path = item.path().map_err(bad)?.to_string_lossy().into_owned();
        let Some(name) = path.strip_prefix("syncdbs/") else { continue };
        let mut body = Vec::new();
        (&mut item).take(MAX_SYNC_DBS_BYTES).read_to_end(&mut body).map_err(bad)?;
        files.insert(name.to_string(), body);
    }
    let order = files.remove("repos").ok_or_else(|| OfficialError::Copy("no list of repositories".into()))?;
    let order = String::from_utf8(order).map_err(|_| OfficialError::Copy("the list is not UTF-8".into()))?;
    order
        .lines()
        .filter(|l| !l.is_empty())
        .map(|repo| {
            if !safe_repo_name(repo) {
                return Err(OfficialError::Copy(format!("unusable repository name `{repo}`")));
            }
            let db = files.remove(&format!("{repo}.db"));
            db.map(|db| (repo.to_string(), db)).ok_or_else(|| OfficialError::Copy(format!("no database of [{repo}]")))
        })
        .collect()
}

/// A repository name that is safe as a file name in the cache.
fn safe_repo_name(repo: &str) -> bool {
    !repo.is_empty() && !repo.starts_with('.') && !repo.contains(['/', '\\', '\0']) && repo != STAMP
}

/// The end of `text`, at most `max` characters.
fn tail(text: &str, max: usize) -> String {
    let skip = text.chars().count().saturating_sub(max);
    text.chars().skip(skip).collect()
}

/// The cached repositories, when the stamp names `builder_image`, is younger than `max_age`,
/// and every database it lists reads; None otherwise.
fn read_cache(cache_dir: &Utf8Path, builder_image: &str, max_age: Duration) -> Option<OfficialRepos> {
    let stamp = fs_err::read_to_string(cache_dir.join(STAMP)).ok()?;
    let stamp = Stamp::parse(&stamp)?;
    let age = now_ms().checked_sub(stamp.fetched_ms)?;
    if stamp.builder_image != builder_image || u128::from(age) >= max_age.as_millis() {
        return None;
    }
    let mut dbs = Vec::new();
    for repo in stamp.repos {
        let bytes = fs_err::read(cache_dir.join(format!("{repo}.db"))).ok()?;
        dbs.push((repo, bytes));
    }
    match OfficialRepos::index(&dbs) {
        Ok(official) => Some(official),
        Err((repo, e)) => {
            tracing::debug!("the cached sync database of [{repo}] is unreadable ({e}); fetching again");
            None
        }
    }
}

/// Replaces the cache with `dbs`: the stamp goes first and comes back last.
fn write_cache(cache_dir: &Utf8Path, builder_image: &str, dbs: &[(String, Vec<u8>)]) -> Result<(), OfficialError> {
    let stamp_path = cache_dir.join(STAMP);
    match fs_err::remove_file(&stamp_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_at(&stamp_path)(e)),
        _ => {}
    }
    for (repo, bytes) in dbs {
        write_atomically(&cache_dir.join(format!("{repo}.db")), bytes)?;
    }
    let stamp = Stamp {
        builder_image: builder_image.to_string(),
        fetched_ms: now_ms(),
        repos: dbs.iter().map(|(repo, _)| repo.clone()).collect(),
    };
    write_atomically(&stamp_path, stamp.render().as_bytes())
}

/// Writes `path` through a temporary file beside it and a rename.
fn write_atomically(path: &Utf8Path, bytes: &[u8]) -> Result<(), OfficialError> {
    let dir = path.parent().unwrap_or(Utf8Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io_at(dir))?;
    std::io::Write::write_all(&mut file, bytes).map_err(io_at(path))?;
    file.as_file().sync_all().map_err(io_at(path))?;
    file.persist(path).map_err(|e| io_at(path)(e.error))?;
    Ok(())
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The cache's stamp file.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    builder_image: String,
    fetched_ms: u64,
    repos: Vec<String>,
}

impl Stamp {
    fn render(&self) -> String {
        let mut text = format!("builder-image {}\nfetched-unix-ms {}\n", self.builder_image, self.fetched_ms);
        for repo in &self.repos {
            text.push_str(&format!("repo {repo}\n"));
        }
        text
    }

    fn parse(text: &str) -> Option<Stamp> {
        let mut lines = text.lines();
        let builder_image = lines.next()?.strip_prefix("builder-image ")?.to_string();
        let fetched_ms = lines.next()?.strip_prefix("fetched-unix-ms ")?.parse().ok()?;
        let repos = lines.map(|l| l.strip_prefix("repo ").map(str::to_string)).collect::<Option<Vec<_>>>()?;
        repos.iter().all(|r| safe_repo_name(r)).then_some(Stamp { builder_image, fetched_ms, repos })
    }
}

#[cfg(test)]
mod tests;

/// Test data for other modules' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    /// A gzip'd sync database holding `(pkgname, version, provides)` packages.
    pub(crate) fn sync_db(packages: &[(&str, &str, &[&str])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, version, provides) in packages {
            let mut desc = format!(
                "%FILENAME%\n{name}-{version}-x86_64.pkg.tar.zst\n\n%NAME%\n{name}\n\n%VERSION%\n{version}\n\n"
            );
            if !provides.is_empty() {
                desc.push_str(&format!("%PROVIDES%\n{}\n\n", provides.join("\n")));
            }
            let mut header = tar::Header::new_gnu();
            header.set_size(desc.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, format!("{name}-{version}/desc"), desc.as_bytes()).unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }
}
