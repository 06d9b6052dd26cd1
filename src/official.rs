//! What the official Arch repositories hold, read from their real sync databases, so that the
//! plan knows which dependencies pacman will install from them (by pkgname or through
//! `provides`: `cargo` comes from `rust`, `sh` from `bash`) and looks among AUR packages only
//! for the names nothing official satisfies. Nothing here is guessed: the repositories are the
//! ones the builder image's pacman.conf names, downloaded first by that image's own pacman and
//! then kept current from the host as pacman keeps them (a conditional GET per repository on
//! every use; [`load`]), so a plan always sees what `pacman -Sy` would see now.
//!
//! Satisfaction follows libalpm's `_alpm_resolvedep` (lib/libalpm/deps.c), which `pacman -S`
//! and makepkg's dependency installation use: first a package whose pkgname is the dependency's
//! and whose version satisfies it, in repository order; else the first package, in repository
//! order and by pkgname within a repository (the order of libalpm's package cache), whose
//! `provides` satisfies it (`alpm_depcmp`; pacman(8) offers that one first and `--noconfirm`
//! takes it).
use crate::alpm::{DbError, Relation, provided_name, read_sync_db};
use crate::docker::{Docker, DockerError};
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::HashMap;

mod cache;
mod image;
pub mod installable;
mod mirror;

pub use installable::Unsatisfied;
pub use mirror::MirrorError;

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
    /// The library file names the repositories' `.files` databases hold
    /// ([`crate::alpm::soname::library_names_in_files_db`]): the sonames they provide. None when
    /// a repository's `.files` is not at hand (then no soname is called gone).
    libraries: Option<std::collections::BTreeSet<String>>,
}

impl OfficialRepos {
    /// From (repository name, sync database bytes) pairs in pacman.conf order; the bytes are a
    /// sync database as pacman downloads it (`NAME.db`, any compression [`read_sync_db`]
    /// reads). Fails on the first database that is not one.
    pub fn from_sync_dbs(dbs: &[(String, Vec<u8>)]) -> Result<OfficialRepos, DbError> {
        Self::index(dbs.iter().map(|(repo, bytes)| (repo.as_str(), bytes.as_slice()))).map_err(|(_, e)| e)
    }

    /// As [`from_sync_dbs`](Self::from_sync_dbs), naming the repository whose database failed.
    fn index<'a>(dbs: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Result<OfficialRepos, (String, DbError)> {
        let mut official = OfficialRepos::default();
        for (repo, bytes) in dbs {
            official.add_repo(repo, bytes)?;
        }
        Ok(official)
    }

    /// Adds the library names of every repository's `.files` database (None where one is not
    /// at hand: then none are known).
    fn with_libraries_of<'a>(mut self, each: impl IntoIterator<Item = Option<&'a Libraries>>) -> OfficialRepos {
        let mut libraries = std::collections::BTreeSet::new();
        for names in each {
            let Some(names) = names else { return self };
            libraries.extend(names.iter().cloned());
        }
        self.libraries = Some(libraries);
        self
    }

    /// Whether an official package holds a library file named `soname` (None: the `.files`
    /// databases are not at hand, so it is not known).
    pub fn has_library(&self, soname: &str) -> Option<bool> {
        self.libraries.as_ref().map(|l| l.contains(soname))
    }

    /// Adds the repository `repo` from its sync database `bytes`, its packages by pkgname (the
    /// order of libalpm's package cache). Errors: the database does not parse.
    fn add_repo(&mut self, repo: &str, bytes: &[u8]) -> Result<(), (String, DbError)> {
        let mut packages = read_sync_db(bytes).map_err(|e| (repo.to_string(), e))?;
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        self.repos.push(repo.to_string());
        self.digests.push((repo.to_string(), format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(bytes))));
        for p in packages {
            self.add(OfficialPackage {
                repo: repo.to_string(),
                name: p.name,
                version: p.version,
                provides: p.provides,
            });
        }
        Ok(())
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
        self.satisfier_of(&Relation::parse(dep))
    }

    /// Whether something official satisfies `relation` ([`satisfier`](Self::satisfier)).
    pub fn satisfies(&self, relation: &Relation) -> bool {
        self.satisfier_of(relation).is_some()
    }

    /// [`satisfier`](Self::satisfier) of a parsed dependency.
    fn satisfier_of(&self, relation: &Relation) -> Option<&OfficialPackage> {
        let name = &relation.name;
        self.candidates(&self.by_name, name).find(|p| relation.satisfied_by_package(&p.name, &p.version)).or_else(
            || {
                self.candidates(&self.by_provision, name)
                    .find(|p| &p.name != name && p.provides.iter().any(|v| relation.satisfied_by_provision(v)))
            },
        )
    }

    /// The package of pkgname `name` pacman would see first (repository order), whatever its
    /// version.
    pub fn package(&self, name: &str) -> Option<&OfficialPackage> {
        self.candidates(&self.by_name, name).next()
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

    /// These repositories with `names` as the library file names of their `.files` databases.
    #[cfg(test)]
    pub(crate) fn with_libraries(mut self, names: &[&str]) -> OfficialRepos {
        self.libraries = Some(names.iter().map(|n| n.to_string()).collect());
        self
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
    #[error(
        "no server of [{repo}] gave its sync database ({tried}); without it the plan cannot know what is official now"
    )]
    Unreachable {
        repo: String,
        /// Each URL tried, in order, with why it failed.
        tried: String,
        /// The last server's failure.
        #[source]
        source: MirrorError,
    },
    #[error("[{repo}] has no Server in the builder image's pacman.conf")]
    NoServer { repo: String },
    #[error("cannot make an HTTP client to check the official sync databases")]
    Client(#[source] reqwest::Error),
}

/// A repository name that is safe as a file name in the cache.
fn safe_repo_name(repo: &str) -> bool {
    !repo.is_empty() && !repo.starts_with('.') && !repo.contains(['/', '\\', '\0']) && repo != cache::STAMP
}

fn io_at(path: &Utf8Path) -> impl FnOnce(std::io::Error) -> OfficialError + '_ {
    move |source| OfficialError::Io { path: path.to_owned(), source }
}

/// One official repository's sync database, as the cache in `WORK/official` keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SyncDb {
    repo: String,
    /// Its `Server` lines as the builder image's pacman expands them (`pacman-conf
    /// --repo=REPO Server`: `$repo` and `$arch` replaced), in pacman.conf order.
    servers: Vec<String>,
    /// When the database last changed, in Unix seconds, sent as `If-Modified-Since` on the
    /// next check: the `Last-Modified` of the response that brought it (or, with none, the
    /// time it was received: what curl leaves pacman's file with), or the time pacman gave
    /// the file in the image. None: ask unconditionally.
    modified: Option<i64>,
    /// The database file as a server sent it (`REPO.db`, any compression).
    bytes: Vec<u8>,
    /// The library file names of its `.files` database (`REPO.files`, as `pacman -Fy`
    /// downloads it: [`crate::alpm::soname::library_names_in_files_db`]), when that is of the
    /// same state as `bytes`; None otherwise. Kept in the cache as `REPO.libraries`, so that a
    /// run whose databases did not change does not read tens of MiB of file lists again.
    libraries: Option<Libraries>,
}

/// Library file names, sorted.
type Libraries = std::collections::BTreeSet<String>;

/// The library names of a `.files` database's bytes; None (said at debug level) when they are
/// not one: the soname check is then off, never the run.
fn libraries_of(repo: &str, files: &[u8]) -> Option<Libraries> {
    crate::alpm::soname::library_names_in_files_db(files)
        .inspect_err(|e| tracing::debug!("[{repo}]: the .files database is unreadable ({e}); the soname check is off"))
        .ok()
}

/// Where a repository's database can come from, judged by the scheme of its servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Every server is `file://`: a file inside the builder image, which is immutable (its tag
    /// is a hash of the base image's ID and the recipe) and gets no volume where repositories
    /// live, so the copy taken once is current for as long as the image exists.
    Image,
    /// Every server is `http://` or `https://`: checked from the host as pacman checks it.
    Mirrors,
    /// Anything else (another scheme, a mix with `file://`, no server): only the image's own
    /// pacman can tell, in a container, every time.
    Container,
}

fn origin(servers: &[String]) -> Origin {
    let scheme = |s: &String| url::Url::parse(s).map(|u| u.scheme().to_string()).unwrap_or_default();
    let schemes: Vec<String> = servers.iter().map(scheme).collect();
    if schemes.is_empty() {
        Origin::Container
    } else if schemes.iter().all(|s| s == "file") {
        Origin::Image
    } else if schemes.iter().all(|s| s == "http" || s == "https") {
        Origin::Mirrors
    } else {
        Origin::Container
    }
}

/// Reads the sync databases of the repositories the builder image's pacman.conf names, current
/// as `pacman -Sy` would make them now; `repoctl-local`, the run's own repository that the
/// builder image's setup.sh adds, is left out.
///
/// 1. The first time for a `builder_image` (a tag from [`crate::build::ensure_builder_image`],
///    immutable: a hash of the base image's ID and the recipe), its own pacman downloads them:
///    images/builder/syncdbs.sh runs `pacman -Sy` in a container (the image's DownloadUser
///    and sandbox) and writes each repository's `Server` lines too; `/repoctl/syncdbs` is
///    copied out. The container is labelled, gets no secrets, no volume and no capability
///    beyond the kept ones, and is removed whatever happens.
/// 2. Every later time, from the cache and the host, with no container: a repository whose
///    servers are all `file://` cannot have changed ([`Origin::Image`]); one whose servers
///    are `http(s)://` is asked with a conditional GET, server by server, as pacman's
///    `alpm_db_update` does ([`mirror`]); 304 keeps the copy, 200 replaces it. A repository
///    with any other server list sends the whole load back to step 1.
///
/// The cache, `cache_dir/<repo>.db` as a server sent it and `cache_dir/stamp` (JSON: the
/// builder image, then per repository its servers and time), is written file by file to a
/// temporary name and renamed; the stamp is removed first and written last, so a crash leaves
/// no cache rather than a mixed one. A cache that cannot be read, or of another builder image,
/// is fetched again as in step 1.
///
/// The copy only informs the plan: the databases are not signature-checked here (Arch signs
/// none of them), and every build's own `pacman -Syu` downloads and checks what it installs.
///
/// Errors: Docker (the daemon, the container, the copy), `pacman -Sy` failing, every server of
/// a repository failing (never a guess from an old copy: a plan from a stale database could
/// pick the wrong provider or miss a new official package), a database that does not parse,
/// and I/O in `cache_dir`.
pub async fn load(docker: &Docker, builder_image: &str, cache_dir: &Utf8Path) -> Result<OfficialRepos, OfficialError> {
    fs_err::create_dir_all(cache_dir).map_err(io_at(cache_dir))?;
    if let Some(official) = from_cache(cache_dir, builder_image).await? {
        return Ok(official);
    }
    let dbs = image::fetch(docker, builder_image, cache_dir).await?;
    let official = index_dbs(&dbs)?;
    cache::store(cache_dir, builder_image, &dbs, &|_| true)?;
    Ok(official)
}

/// Step 2 of [`load`]: the cached databases of `builder_image`, each brought up to date from
/// its servers and the cache updated; None when there is no usable cache (none, another
/// image's, a repository only a container can check, or a kept copy that does not parse).
async fn from_cache(cache_dir: &Utf8Path, builder_image: &str) -> Result<Option<OfficialRepos>, OfficialError> {
    let Some(cached) = cache::read(cache_dir, builder_image) else { return Ok(None) };
    if cached.iter().any(|db| origin(&db.servers) == Origin::Container) {
        return Ok(None);
    }
    let (dbs, replaced) = refresh(cached).await?;
    match index_dbs(&dbs) {
        Ok(official) => {
            if !replaced.is_empty() {
                cache::store(cache_dir, builder_image, &dbs, &|db| replaced.contains(&db.repo))?;
            }
            Ok(Some(official))
        }
        // A kept copy damaged on disk: fetched again. A server's new one is its error.
        Err(OfficialError::Db { repo, source }) if !replaced.contains(&repo) => {
            tracing::debug!("the cached sync database of [{repo}] is unreadable ({source}); fetching again");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Brings each cached database up to date from its servers (all at once, as pacman downloads
/// them in parallel). Returns the databases and the repositories whose database was replaced.
async fn refresh(cached: Vec<SyncDb>) -> Result<(Vec<SyncDb>, Vec<String>), OfficialError> {
    let checked = cached.iter().any(|db| origin(&db.servers) == Origin::Mirrors);
    let mirrors = if checked { Some(mirror::Mirrors::new()?) } else { None };
    let answers = futures_util::future::try_join_all(cached.iter().map(async |db| match &mirrors {
        Some(mirrors) if origin(&db.servers) == Origin::Mirrors => {
            mirrors.check(&db.repo, &db.servers, db.modified).await.map(Some)
        }
        _ => Ok(None),
    }))
    .await?;
    let mut replaced = Vec::new();
    let dbs: Vec<SyncDb> = cached
        .into_iter()
        .zip(answers)
        .map(|(db, answer)| match answer {
            Some(mirror::Answer::Changed { bytes, modified }) => {
                replaced.push(db.repo.clone());
                // The `.files` kept is of the old database: not used any more.
                SyncDb { bytes, modified: Some(modified), libraries: None, ..db }
            }
            Some(mirror::Answer::Unchanged) | None => db,
        })
        .collect();
    let dbs = match &mirrors {
        Some(mirrors) => refresh_files(mirrors, dbs, &replaced).await,
        None => dbs,
    };
    Ok((dbs, replaced))
}

/// The `.files` database of each repository in `replaced` (its `.db` just changed on its
/// servers), downloaded again (issue 26): the kept one is of the old state. A repository whose
/// servers do not give it keeps none, which turns the soname check off (said at debug level),
/// never the run.
async fn refresh_files(mirrors: &mirror::Mirrors, dbs: Vec<SyncDb>, replaced: &[String]) -> Vec<SyncDb> {
    let answers = futures_util::future::join_all(dbs.iter().map(async |db| {
        if !replaced.contains(&db.repo) {
            return None;
        }
        match mirrors.check_file(&db.repo, &db.servers, "files", None).await {
            Ok(mirror::Answer::Changed { bytes, .. }) => libraries_of(&db.repo, &bytes),
            Ok(mirror::Answer::Unchanged) => None,
            Err(e) => {
                tracing::debug!("[{}]: no .files database ({e}); the soname check is off", db.repo);
                None
            }
        }
    }))
    .await;
    dbs.into_iter()
        .zip(answers)
        .map(|(db, libraries)| if replaced.contains(&db.repo) { SyncDb { libraries, ..db } } else { db })
        .collect()
}

/// [`OfficialRepos::index`] of `dbs`, naming the repository whose database failed.
fn index_dbs(dbs: &[SyncDb]) -> Result<OfficialRepos, OfficialError> {
    OfficialRepos::index(dbs.iter().map(|db| (db.repo.as_str(), db.bytes.as_slice())))
        .map(|o| o.with_libraries_of(dbs.iter().map(|db| db.libraries.as_ref())))
        .map_err(|(repo, source)| OfficialError::Db { repo, source })
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
