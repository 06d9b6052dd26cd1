//! `repo-add` and `repo-remove`, run in a builder container on a copy of the current
//! database: the host needs no pacman, and the database is written by pacman's own tools.
use super::DbNames;
use super::merge::{MergeError, Source, entry_descs, merge_archives};
use crate::alpm::{RepoEntry, package_file_parts, read_sync_db};
use crate::docker::{Ahead, Container, ContainerSpec, Docker, DockerError, ExecSpec};
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeSet;

const MAX_DB_BYTES: u64 = 1024 * 1024 * 1024;

/// A database pair on local disk.
#[derive(Debug, Clone)]
pub struct DbFiles {
    pub db: Utf8PathBuf,
    pub files: Utf8PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum RepoToolError {
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error("{tool} failed with exit code {code}:\n{output}")]
    Failed { tool: &'static str, code: i64, output: String },
    #[error("I/O error on {path}")]
    Io {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "package file names do not match the packages inside (named {files:?}, inside {inside:?}); rename the files NAME-PKGVER-PKGREL-ARCH.pkg.tar.*"
    )]
    Misnamed { files: Vec<String>, inside: Vec<String> },
    #[error("joining the databases that repo-add wrote side by side failed")]
    Merge(#[from] MergeError),
    #[error("{0} did not produce {1}")]
    Missing(&'static str, String),
}

/// Runs repo-add and repo-remove in containers of `image`.
pub struct RepoTool {
    docker: Docker,
    image: String,
    /// The container for the first update, started while the run builds ([`RepoTool::started_ahead`]).
    ahead: Option<Ahead>,
    /// How repo-add is called in containers of `image`, probed once ([`repo_add_command`]).
    repo_add: std::sync::Arc<tokio::sync::OnceCell<Vec<String>>>,
}

/// Fewest package files per repo-add process when the work is split: below this, starting
/// another process costs more than it saves.
const MIN_FILES_PER_PART: usize = 4;

/// Most repo-add processes at once, whatever the core count: each spawns a few processes per
/// file and the container's process limit is 1024.
const MAX_PARTS: usize = 8;

impl RepoTool {
    /// The Docker connection its containers are made with.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// A tool that starts its container when an update needs it.
    pub fn new(docker: Docker, image: String) -> Self {
        RepoTool { docker, image, ahead: None, repo_add: Default::default() }
    }

    /// A tool whose first update's container is started now, in the background, so that a
    /// run's publish does not wait for it after the builds (0.2-0.4 s of create and start on
    /// fuse-overlayfs, a tenth of a one-package run), nor for the probe of its repo-add.
    /// Never used, it is removed when the tool is dropped.
    pub fn started_ahead(docker: Docker, image: String) -> Self {
        let mut tool = RepoTool::new(docker, image);
        let probed = tool.repo_add.clone();
        // A failed probe is left for the update to repeat and report.
        let probe: crate::docker::AheadWork = Box::new(move |container| {
            Box::pin(async move {
                let _ = probed.get_or_try_init(|| repo_add_command(container)).await;
            })
        });
        tool.ahead = Some(tool.docker.start_ahead(&tool.container_spec(), probe));
        tool
    }

    /// Applies additions and removals to `current` (None for a new repository), writing the
    /// new database pair into `out_dir`.
    ///
    /// repo-add works through its files one after another (checksums, a file list per
    /// package), so a large addition is split into parts, one per core: each part gets its own
    /// repo-add on an empty database, side by side, while repo-remove takes out of the current
    /// database the pkgnames that are removed or replaced. The entries are then joined
    /// (`merge_archives`), which refuses any pkgname found twice.
    pub async fn update(
        &self,
        repo: &str,
        current: Option<&DbFiles>,
        add: &[Utf8PathBuf],
        remove: &[String],
        out_dir: &Utf8Path,
    ) -> Result<DbFiles, RepoToolError> {
        let names = DbNames::new(repo);
        fs_err::create_dir_all(out_dir).map_err(io(out_dir))?;
        let split = split_additions(add, cores());
        let to_remove = pkgnames_to_remove(remove, split.as_deref(), current)?;
        let current = current.map(|cur| reconcile_files(cur, &names, out_dir)).transpose()?;
        let current = current.as_ref();
        let input = out_dir.join("repo-input.tar");
        let placed: Vec<(String, &[Utf8PathBuf])> = match &split {
            None => vec![("repo".to_string(), add)],
            Some(parts) => parts.iter().enumerate().map(|(i, p)| (format!("part-{i}"), p.as_slice())).collect(),
        };
        write_input(&input, current, &names, &placed)?;
        self.docker
            .with_container_ahead(self.ahead.as_ref(), &self.container_spec(), async |container| {
                container.upload_tar_file("/repoctl", &input).await?;
                // A copy of every package file: not kept once the container has it.
                let _ = fs_err::remove_file(&input);
                let session = Session { container, names: &names, out_dir, repo_add: &self.repo_add };
                match &split {
                    None => session.update_in_one(current, add, &to_remove).await,
                    Some(parts) => session.update_side_by_side(current, parts, add, &to_remove).await,
                }
            })
            .await
    }

    /// The container repo-add and repo-remove run in.
    fn container_spec(&self) -> ContainerSpec {
        ContainerSpec {
            image: self.image.clone(),
            purpose: "repo-add".into(),
            memory_bytes: None,
            nano_cpus: None,
            pids_limit: Some(1024),
            volumes: Vec::new(),
            // No package's grant: this container runs no PKGBUILD.
            extra_capabilities: Vec::new(),
            build_network: None,
            // repo-add writes each entry's desc and files under `mktemp -d` in /tmp.
            tmpfs: vec!["/tmp".to_string()],
        }
    }
}

/// What repo-remove takes out of the current database: `remove`, and when the additions are
/// split into `parts`, every pkgname the parts bring that `current` already lists (repo-add
/// would replace it; an empty part database cannot). Sorted and without duplicates when split.
/// Errors: the current database cannot be read.
fn pkgnames_to_remove(
    remove: &[String],
    parts: Option<&[Vec<Utf8PathBuf>]>,
    current: Option<&DbFiles>,
) -> Result<Vec<String>, RepoToolError> {
    let mut to_remove: Vec<String> = remove.to_vec();
    if let (Some(parts), Some(cur)) = (parts, current) {
        let listed = read_db(&cur.db)?;
        let adding: BTreeSet<&str> =
            parts.iter().flatten().filter_map(|p| p.file_name().and_then(pkgname_of_file)).collect();
        to_remove.extend(listed.into_iter().map(|e| e.name).filter(|n| adding.contains(n.as_str())));
        to_remove.sort();
        to_remove.dedup();
    }
    Ok(to_remove)
}

/// One repo-add container with the input copied in: `/repoctl/repo` holds the current
/// database pair (and, unsplit, the package files), `/repoctl/part-N` each part's files.
struct Session<'a> {
    container: &'a Container,
    names: &'a DbNames,
    out_dir: &'a Utf8Path,
    /// How repo-add is called in containers of this image, probed on first use unless it was
    /// ahead ([`repo_add_command`]).
    repo_add: &'a tokio::sync::OnceCell<Vec<String>>,
}

impl Session<'_> {
    /// Unsplit: repo-remove, then repo-add, both on `/repoctl/repo` (removals first, so a
    /// pkgname removed and added in one change ends up present), and the pair copied out
    /// into `out_dir`. A new repository gets repo-add even with nothing to add, to create it.
    /// Errors: a tool fails, or the archives cannot be copied out.
    async fn update_in_one(
        &self,
        current: Option<&DbFiles>,
        add: &[Utf8PathBuf],
        to_remove: &[String],
    ) -> Result<DbFiles, RepoToolError> {
        if !to_remove.is_empty() {
            self.repo_remove("repo", to_remove.to_vec()).await?;
        }
        if !add.is_empty() || current.is_none() {
            self.repo_add("repo", file_names(add)).await?;
        }
        // Only the two archives come back, not the directory: it also holds every package
        // file just copied in, which would double the bytes moved.
        copy_out(self.container, "repo", self.names, self.out_dir).await
    }

    /// Split: repo-remove on the current database and one repo-add per part, side by side;
    /// then every resulting pair is copied out, the file names checked against the packages
    /// inside ([`check_file_names`]), and the pairs joined into `out_dir`. Errors: a tool
    /// fails, a file is misnamed, or the join finds an entry twice.
    async fn update_side_by_side(
        &self,
        current: Option<&DbFiles>,
        parts: &[Vec<Utf8PathBuf>],
        add: &[Utf8PathBuf],
        to_remove: &[String],
    ) -> Result<DbFiles, RepoToolError> {
        let removal = async {
            match current.is_some() && !to_remove.is_empty() {
                true => self.repo_remove("repo", to_remove.to_vec()).await,
                false => Ok(()),
            }
        };
        let additions = parts.iter().enumerate().map(|(i, part)| self.repo_add(format!("part-{i}"), file_names(part)));
        let (removed, added) = tokio::join!(removal, futures_util::future::join_all(additions));
        removed?;
        added.into_iter().collect::<Result<Vec<()>, _>>()?;
        let written = self.copy_out_all(current, parts.len(), !to_remove.is_empty()).await?;
        check_file_names(add, &written.brought)?;
        let names = self.names;
        let joined =
            DbFiles { db: self.out_dir.join(&names.db_archive), files: self.out_dir.join(&names.files_archive) };
        merge_archives(&written.dbs, &joined.db)?;
        merge_archives(&written.files, &joined.files)?;
        Ok(joined)
    }

    /// The pairs to join after a split update: the current one (copied out of
    /// `/repoctl/repo` when repo-remove `changed` it, else the copy on disk) and each of the
    /// `parts` part databases, into `out_dir/DIR`. Errors: copying out or reading a part.
    async fn copy_out_all(
        &self,
        current: Option<&DbFiles>,
        parts: usize,
        changed: bool,
    ) -> Result<PartDatabases, RepoToolError> {
        let mut written = PartDatabases::default();
        if let Some(cur) = current {
            let got = match changed {
                // The current database, untouched: the copy on disk is the same.
                false => cur.clone(),
                true => copy_out(self.container, "repo", self.names, &self.out_dir.join("repo")).await?,
            };
            written.files.push(Source::all(&got.files));
            written.dbs.push(Source::all(&got.db));
        }
        for i in 0..parts {
            let dir = format!("part-{i}");
            let got = copy_out(self.container, &dir, self.names, &self.out_dir.join(&dir)).await?;
            written.brought.extend(read_db(&got.db)?.into_iter().map(|e| e.name));
            written.dbs.push(Source::all(&got.db));
            written.files.push(Source::all(&got.files));
        }
        Ok(written)
    }

    /// `repo-remove -q NAME.db.tar.zst PKGNAME...` in `/repoctl/DIR`.
    async fn repo_remove(&self, dir: &str, pkgnames: Vec<String>) -> Result<(), RepoToolError> {
        run_tool(self.container, "repo-remove", vec!["repo-remove".into()], &self.names.db_archive, dir, pkgnames).await
    }

    /// `repo-add -q NAME.db.tar.zst FILE...` in `/repoctl/DIR`, with `--include-sigs` where
    /// this image's repo-add has it (probed once per tool, or ahead).
    async fn repo_add(&self, dir: impl AsRef<str>, files: Vec<String>) -> Result<(), RepoToolError> {
        let command = self.repo_add.get_or_try_init(|| repo_add_command(self.container)).await?;
        run_tool(self.container, "repo-add", command.clone(), &self.names.db_archive, dir.as_ref(), files).await
    }
}

/// The database pairs a split update joins, and the pkgnames the parts brought.
#[derive(Default)]
struct PartDatabases {
    dbs: Vec<Source>,
    files: Vec<Source>,
    brought: BTreeSet<String>,
}

/// The names of package files, as repo-add gets them in its working directory.
fn file_names(files: &[Utf8PathBuf]) -> Vec<String> {
    files.iter().map(|p| p.file_name().unwrap_or_default().to_string()).collect()
}

/// A split update's repo-remove went by the file names of `add`: they must name the packages
/// inside, the pkgnames the parts `brought`. Errors: [`RepoToolError::Misnamed`] with both
/// differences.
fn check_file_names(add: &[Utf8PathBuf], brought: &BTreeSet<String>) -> Result<(), RepoToolError> {
    let guessed: BTreeSet<String> =
        add.iter().filter_map(|p| p.file_name().and_then(pkgname_of_file)).map(str::to_string).collect();
    if *brought != guessed {
        return Err(RepoToolError::Misnamed {
            files: guessed.difference(brought).cloned().collect(),
            inside: brought.difference(&guessed).cloned().collect(),
        });
    }
    Ok(())
}

fn io(path: &Utf8Path) -> impl Fn(std::io::Error) -> RepoToolError + use<> {
    let path = path.to_owned();
    move |source| RepoToolError::Io { path: path.clone(), source }
}

/// The current pair with a NAME.files that lists exactly what NAME.db lists. They can
/// disagree: a run that lost the race for NAME.db had already replaced NAME.files with its
/// own. NAME.db decides. An entry only in NAME.files goes (left in, it is found twice when
/// split, and repo-add nests the new entry inside it with `cp -a`); an entry only in NAME.db
/// is taken from it, without a file list until that package is published again. Usually they
/// agree, and NAME.files (the biggest object) is used as it is.
///
/// NAME.db decides what an entry says too: one whose `desc` differs between the two (that run's
/// build of the same version, or its signature of it) is taken from NAME.db, so that the pair
/// a publish writes says the same of every package (`trust::signed::check_new_database`
/// holds both to the verified NAME.db).
fn reconcile_files(cur: &DbFiles, names: &DbNames, out_dir: &Utf8Path) -> Result<DbFiles, RepoToolError> {
    let (listed, present) = (entry_descs(&cur.db)?, entry_descs(&cur.files)?);
    if listed == present {
        return Ok(cur.clone());
    }
    let missing: BTreeSet<String> =
        listed.iter().filter(|(dir, desc)| present.get(*dir) != Some(*desc)).map(|(dir, _)| dir.clone()).collect();
    if !missing.is_empty() {
        tracing::warn!(
            "{} lacks {} entries of {} or says otherwise of them: taken from {} without file lists",
            names.files,
            missing.len(),
            names.db,
            names.db
        );
    }
    let kept: BTreeSet<String> = listed.into_keys().filter(|dir| !missing.contains(dir)).collect();
    let files = out_dir.join(format!("current-{}", names.files_archive));
    let sources =
        [Source { path: cur.files.clone(), only: Some(kept) }, Source { path: cur.db.clone(), only: Some(missing) }];
    merge_archives(&sources, &files)?;
    Ok(DbFiles { db: cur.db.clone(), files })
}

/// The tar copied into the container: `repo/` with the current database pair, and each
/// directory of `placed` with its package files and their signatures.
fn write_input(
    input: &Utf8Path,
    current: Option<&DbFiles>,
    names: &DbNames,
    placed: &[(String, &[Utf8PathBuf])],
) -> Result<(), RepoToolError> {
    let file = fs_err::File::create(input).map_err(io(input))?;
    let mut tar = tar::Builder::new(file);
    tar.append_dir("repo", ".").map_err(io(input))?;
    if let Some(cur) = current {
        tar.append_path_with_name(&cur.db, format!("repo/{}", names.db_archive)).map_err(io(&cur.db))?;
        tar.append_path_with_name(&cur.files, format!("repo/{}", names.files_archive)).map_err(io(&cur.files))?;
    }
    for (dir, files) in placed {
        if dir != "repo" {
            tar.append_dir(dir, ".").map_err(io(input))?;
        }
        for pkg in *files {
            for f in std::iter::once(pkg.clone()).chain(signature_of(pkg)) {
                let name = format!("{dir}/{}", f.file_name().unwrap_or_default());
                tar.append_path_with_name(&f, name).map_err(io(&f))?;
            }
        }
    }
    tar.into_inner().map_err(io(input))?;
    Ok(())
}

/// How many repo-add processes [`RepoTool::update`] runs side by side for `add`.
pub fn repo_add_processes(add: &[Utf8PathBuf]) -> usize {
    split_additions(add, cores()).map_or(1, |parts| parts.len())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The entries of a database archive on disk.
fn read_db(path: &Utf8Path) -> Result<Vec<RepoEntry>, RepoToolError> {
    let io = |source| RepoToolError::Io { path: path.to_owned(), source };
    read_sync_db(&fs_err::read(path).map_err(io)?).map_err(|e| io(std::io::Error::other(e)))
}

/// The pkgname a package file's name gives.
fn pkgname_of_file(file: &str) -> Option<&str> {
    package_file_parts(file).map(|(name, _)| name)
}

/// The additions in parts of at least [`MIN_FILES_PER_PART`], one per core; None to keep them
/// in one repo-add (few files, one core, or a pkgname twice: repo-add keeps the last one).
fn split_additions(add: &[Utf8PathBuf], cores: usize) -> Option<Vec<Vec<Utf8PathBuf>>> {
    let count = cores.min(MAX_PARTS).min(add.len() / MIN_FILES_PER_PART);
    if count < 2 {
        return None;
    }
    let mut seen = BTreeSet::new();
    for pkg in add {
        let name = pkg.file_name().and_then(pkgname_of_file)?;
        if !seen.insert(name) {
            return None;
        }
    }
    let mut parts = vec![Vec::new(); count];
    for (i, pkg) in add.iter().enumerate() {
        parts[i % count].push(pkg.clone());
    }
    Some(parts)
}

/// Copies `DIR/NAME.db.tar.zst` and `DIR/NAME.files.tar.zst` out of the container into `dest`.
async fn copy_out(
    container: &Container,
    dir: &str,
    names: &DbNames,
    dest: &Utf8Path,
) -> Result<DbFiles, RepoToolError> {
    fs_err::create_dir_all(dest).map_err(|source| RepoToolError::Io { path: dest.to_owned(), source })?;
    // Both at once: each copy is a round trip through the daemon and fuse-overlayfs.
    let one = async |archive: &str| {
        let out_tar = dest.join(format!("{archive}.tar"));
        container.download_tar(&format!("/repoctl/{dir}/{archive}"), &out_tar, MAX_DB_BYTES).await?;
        extract_one(&out_tar, archive, dest)
    };
    let (db, files) = tokio::join!(one(&names.db_archive), one(&names.files_archive));
    Ok(DbFiles { db: db?, files: files? })
}

/// How this container's repo-add is called: `repo-add`, with `--include-sigs` when its help
/// names the option ([`repo_add_command_for`]). pacman 6.1 stopped embedding `.sig` files in
/// the database unless asked to (`--include-sigs`, which 6.0 does not know): asking whenever
/// the option exists lets pacman find %PGPSIG% with either image.
///
/// The probe is here rather than in a script under images/builder/ because this container's
/// image is not always the builder image: the signature repair of `build` runs on the bare
/// `builder.image` when every published package is signed already (and another run can still
/// bring it an unsigned one to re-sign), and that image has none of the recipe's scripts.
/// The exit code of `repo-add --help` is not looked at, only its text (stdout and stderr),
/// as the shell probe this replaces did. Errors: Docker cannot run the probe.
async fn repo_add_command(container: &Container) -> Result<Vec<String>, RepoToolError> {
    let cmd = vec!["repo-add".to_string(), "--help".to_string()];
    let spec = ExecSpec { cmd, user: "root", env: vec!["LC_ALL=C.UTF-8".into()], workdir: None };
    let mut help = Vec::new();
    container.exec(&spec, &mut |b: &[u8]| help.extend_from_slice(b)).await?;
    Ok(repo_add_command_for(&String::from_utf8_lossy(&help)))
}

/// The repo-add command line (before `-q DB FILE...`) for a repo-add whose `--help` prints
/// `help`: with `--include-sigs` when it knows the option (pacman 6.1 and later).
fn repo_add_command_for(help: &str) -> Vec<String> {
    let mut cmd = vec!["repo-add".to_string()];
    if help.contains("--include-sigs") {
        cmd.push("--include-sigs".to_string());
    }
    cmd
}

/// Runs `command` (a tool and its fixed options) with `-q DB ARGS...` as root in
/// `/repoctl/DIR`. Errors: Docker fails, or [`RepoToolError::Failed`] with the tool's output
/// when it exits with another code than 0 (`tool` names it).
async fn run_tool(
    container: &Container,
    tool: &'static str,
    command: Vec<String>,
    db: &str,
    dir: &str,
    args: Vec<String>,
) -> Result<(), RepoToolError> {
    let mut cmd = command;
    cmd.extend(["-q".to_string(), db.to_string()]);
    cmd.extend(args);
    let workdir = format!("/repoctl/{dir}");
    let spec = ExecSpec { cmd, user: "root", env: vec!["LC_ALL=C.UTF-8".into()], workdir: Some(&workdir) };
    let mut output = Vec::new();
    let code = container.exec(&spec, &mut |b: &[u8]| output.extend_from_slice(b)).await?;
    if code != 0 {
        return Err(RepoToolError::Failed { tool, code, output: String::from_utf8_lossy(&output).into_owned() });
    }
    Ok(())
}

/// `pkg.sig` beside a package file, when there is one.
pub fn signature_of(pkg: &Utf8Path) -> Option<Utf8PathBuf> {
    let sig = Utf8PathBuf::from(format!("{pkg}.sig"));
    sig.is_file().then_some(sig)
}

/// Extracts the regular file `name` from a tar that `docker cp` made of that one file.
fn extract_one(tar: &Utf8Path, name: &str, out_dir: &Utf8Path) -> Result<Utf8PathBuf, RepoToolError> {
    let io = |source| RepoToolError::Io { path: tar.to_owned(), source };
    let file = std::io::BufReader::new(fs_err::File::open(tar).map_err(io)?);
    let mut archive = tar::Archive::new(crate::alpm::TarGuard::new(file, u64::MAX));
    let dest = out_dir.join(name);
    for entry in archive.entries().map_err(io)? {
        let mut entry = entry.map_err(io)?;
        if entry.header().entry_type() != tar::EntryType::Regular || entry.path().map_err(io)?.as_os_str() != name {
            continue;
        }
        let mut out = fs_err::File::create(&dest).map_err(io)?;
        std::io::copy(&mut entry, &mut out).map_err(io)?;
        let _ = fs_err::remove_file(tar);
        return Ok(dest);
    }
    Err(RepoToolError::Missing("repo-add", name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<Utf8PathBuf> {
        names.iter().map(|n| Utf8PathBuf::from(format!("/out/{n}-1-1-any.pkg.tar.zst"))).collect()
    }

    #[test]
    fn large_additions_are_split_one_part_per_core_and_small_ones_are_not() {
        let eight = files(&["a", "b", "c", "d", "e", "f", "g", "h"]);
        let parts = split_additions(&eight, 2).expect("split");
        assert_eq!(parts.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4]);
        assert_eq!(parts.concat().len(), 8);
        // At least four files a part: 8 files on 16 cores are two parts, not sixteen.
        assert_eq!(split_additions(&eight, 16).map(|p| p.len()), Some(2));
        let hundred: Vec<Utf8PathBuf> = (0..100).flat_map(|i| files(&[&format!("p{i}")])).collect();
        assert_eq!(split_additions(&hundred, 64).map(|p| p.len()), Some(MAX_PARTS), "capped");
        assert_eq!(split_additions(&eight, 1), None, "one core");
        assert_eq!(split_additions(&eight[..7], 2), None, "too few files");
    }

    #[test]
    fn repo_add_is_asked_to_embed_signatures_only_when_it_knows_the_option() {
        let pacman_6_1 = "Usage: repo-add [options] <path-to-db> <package> ...\n\
            \x20 --include-sigs   include package PGP signatures in the repository database\n";
        assert_eq!(repo_add_command_for(pacman_6_1), ["repo-add", "--include-sigs"]);
        let pacman_6_0 = "Usage: repo-add [options] <path-to-db> <package> ...\n  -s, --sign       sign database\n";
        assert_eq!(repo_add_command_for(pacman_6_0), ["repo-add"]);
        assert_eq!(repo_add_command_for(""), ["repo-add"], "no help at all: plain repo-add");
    }

    #[test]
    fn a_pkgname_added_twice_stays_in_one_repo_add() {
        let mut add = files(&["a", "b", "c", "d", "e", "f", "g"]);
        add.push(Utf8PathBuf::from("/out/a-2-1-any.pkg.tar.zst"));
        assert_eq!(split_additions(&add, 2), None);
    }
}
