//! `repo-add` and `repo-remove`, run in a builder container on a copy of the current
//! database: the host needs no pacman, and the database is written by pacman's own tools.
use super::DbNames;
use super::merge::{MergeError, Source, entry_dirs, merge_archives};
use crate::alpm::{RepoEntry, package_file_parts, read_sync_db};
use crate::docker::{ContainerSpec, Docker, DockerError, ExecSpec};
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

pub struct RepoTool {
    pub docker: Docker,
    pub image: String,
}

/// Fewest package files per repo-add process when the work is split: below this, starting
/// another process costs more than it saves.
const MIN_FILES_PER_PART: usize = 4;

/// Most repo-add processes at once, whatever the core count: each spawns a few processes per
/// file and the container's process limit is 1024.
const MAX_PARTS: usize = 8;

impl RepoTool {
    /// Applies additions and removals to `current` (None for a new repository), writing the
    /// new database pair into `out_dir`.
    ///
    /// repo-add works through its files one after another (checksums, a file list per
    /// package), so a large addition is split into parts, one per core: each part gets its own
    /// repo-add on an empty database, side by side, while repo-remove takes out of the current
    /// database the pkgnames that are removed or replaced. The entries are then joined
    /// ([`merge_archives`]), which refuses any pkgname found twice.
    pub async fn update(
        &self,
        repo: &str,
        current: Option<&DbFiles>,
        add: &[Utf8PathBuf],
        remove: &[String],
        out_dir: &Utf8Path,
    ) -> Result<DbFiles, RepoToolError> {
        let names = DbNames::new(repo);
        let io = |path: &Utf8Path| {
            let path = path.to_owned();
            move |source| RepoToolError::Io { path: path.clone(), source }
        };
        fs_err::create_dir_all(out_dir).map_err(io(out_dir))?;
        let split = split_additions(add, cores());
        // What repo-remove takes out: the removals, and when split, every pkgname the parts
        // bring that the current database already lists (repo-add would replace it).
        let mut to_remove: Vec<String> = remove.to_vec();
        if let (Some(parts), Some(cur)) = (&split, current) {
            let listed = read_db(&cur.db)?;
            let adding: BTreeSet<&str> =
                parts.iter().flatten().filter_map(|p| p.file_name().and_then(pkgname_of_file)).collect();
            to_remove.extend(listed.into_iter().map(|e| e.name).filter(|n| adding.contains(n.as_str())));
            to_remove.sort();
            to_remove.dedup();
        }
        let parts: Vec<&[Utf8PathBuf]> = match &split {
            Some(parts) => parts.iter().map(Vec::as_slice).collect(),
            None => Vec::new(),
        };

        let current = current.map(|cur| reconcile_files(cur, &names, out_dir)).transpose()?;
        let current = current.as_ref();
        let input = out_dir.join("repo-input.tar");
        let placed: Vec<(String, &[Utf8PathBuf])> = if parts.is_empty() {
            vec![("repo".to_string(), add)]
        } else {
            parts.iter().enumerate().map(|(i, p)| (format!("part-{i}"), *p)).collect()
        };
        write_input(&input, current, &names, &placed)?;

        let spec = ContainerSpec {
            image: self.image.clone(),
            purpose: "repo-add".into(),
            memory_bytes: None,
            nano_cpus: None,
            pids_limit: Some(1024),
            volumes: Vec::new(),
            // No package's grant: this container runs no PKGBUILD.
            extra_capabilities: Vec::new(),
        };
        self.docker
            .with_container(&spec, async |container| {
                container.upload_tar_file("/repoctl", &input).await?;
                // A copy of every package file: not kept once the container has it.
                let _ = fs_err::remove_file(&input);
                let file_names = |files: &[Utf8PathBuf]| {
                    files.iter().map(|p| p.file_name().unwrap_or_default().to_string()).collect()
                };
                if parts.is_empty() {
                    // Removals first, so a pkgname removed and added in one change ends up present.
                    if !to_remove.is_empty() {
                        run_tool(container, "repo-remove", &names.db_archive, "repo", to_remove.clone()).await?;
                    }
                    if !add.is_empty() || current.is_none() {
                        run_tool(container, "repo-add", &names.db_archive, "repo", file_names(add)).await?;
                    }
                    // Only the two archives come back, not the directory: it also holds every
                    // package file just copied in, which would double the bytes moved.
                    return copy_out(container, "repo", &names, out_dir).await;
                }
                let removal = async {
                    match current.is_some() && !to_remove.is_empty() {
                        true => run_tool(container, "repo-remove", &names.db_archive, "repo", to_remove.clone()).await,
                        false => Ok(()),
                    }
                };
                let additions = parts.iter().enumerate().map(|(i, part)| {
                    run_tool(container, "repo-add", &names.db_archive, format!("part-{i}"), file_names(part))
                });
                let (removed, added) = tokio::join!(removal, futures_util::future::join_all(additions));
                removed?;
                added.into_iter().collect::<Result<Vec<()>, _>>()?;
                let mut dbs = Vec::new();
                let mut files = Vec::new();
                if let Some(cur) = current {
                    let got = match to_remove.is_empty() {
                        // The current database, untouched: the copy on disk is the same.
                        true => cur.clone(),
                        false => copy_out(container, "repo", &names, &out_dir.join("repo")).await?,
                    };
                    files.push(Source::all(&got.files));
                    dbs.push(Source::all(&got.db));
                }
                let mut brought = BTreeSet::new();
                for i in 0..parts.len() {
                    let dir = format!("part-{i}");
                    let got = copy_out(container, &dir, &names, &out_dir.join(&dir)).await?;
                    brought.extend(read_db(&got.db)?.into_iter().map(|e| e.name));
                    dbs.push(Source::all(&got.db));
                    files.push(Source::all(&got.files));
                }
                // repo-remove went by the file names: they must name the packages inside.
                let guessed: BTreeSet<String> =
                    add.iter().filter_map(|p| p.file_name().and_then(pkgname_of_file)).map(str::to_string).collect();
                if brought != guessed {
                    return Err(RepoToolError::Misnamed {
                        files: guessed.difference(&brought).cloned().collect(),
                        inside: brought.difference(&guessed).cloned().collect(),
                    });
                }
                let joined = DbFiles { db: out_dir.join(&names.db_archive), files: out_dir.join(&names.files_archive) };
                merge_archives(&dbs, &joined.db)?;
                merge_archives(&files, &joined.files)?;
                Ok(joined)
            })
            .await
    }
}

/// The current pair with a NAME.files that lists exactly what NAME.db lists. They can
/// disagree: a run that lost the race for NAME.db had already replaced NAME.files with its
/// own. NAME.db decides. An entry only in NAME.files goes (left in, it is found twice when
/// split, and repo-add nests the new entry inside it with `cp -a`); an entry only in NAME.db
/// is taken from it, without a file list until that package is published again. Usually they
/// agree, and NAME.files (the biggest object) is used as it is.
fn reconcile_files(cur: &DbFiles, names: &DbNames, out_dir: &Utf8Path) -> Result<DbFiles, RepoToolError> {
    let (listed, present) = (entry_dirs(&cur.db)?, entry_dirs(&cur.files)?);
    if listed == present {
        return Ok(cur.clone());
    }
    let missing: BTreeSet<String> = listed.difference(&present).cloned().collect();
    if !missing.is_empty() {
        tracing::warn!("{} lacks {} entries of {}: taken without file lists", names.files, missing.len(), names.db);
    }
    let files = out_dir.join(format!("current-{}", names.files_archive));
    let sources =
        [Source { path: cur.files.clone(), only: Some(listed) }, Source { path: cur.db.clone(), only: Some(missing) }];
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
    let io = |path: &Utf8Path| {
        let path = path.to_owned();
        move |source| RepoToolError::Io { path: path.clone(), source }
    };
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
    container: &crate::docker::Container,
    dir: &str,
    names: &DbNames,
    dest: &Utf8Path,
) -> Result<DbFiles, RepoToolError> {
    fs_err::create_dir_all(dest).map_err(|source| RepoToolError::Io { path: dest.to_owned(), source })?;
    let mut got = Vec::new();
    for archive in [&names.db_archive, &names.files_archive] {
        let out_tar = dest.join(format!("{archive}.tar"));
        container.download_tar(&format!("/repoctl/{dir}/{archive}"), &out_tar, MAX_DB_BYTES).await?;
        got.push(extract_one(&out_tar, archive, dest)?);
    }
    let files = got.pop().unwrap_or_default();
    let db = got.pop().unwrap_or_default();
    Ok(DbFiles { db, files })
}

async fn run_tool(
    container: &crate::docker::Container,
    tool: &'static str,
    db: &str,
    dir: impl AsRef<str>,
    args: Vec<String>,
) -> Result<(), RepoToolError> {
    let mut cmd = match tool {
        // pacman 6.1 stopped embedding `.sig` files in the database unless asked to
        // (`--include-sigs`, which 6.0 does not know): ask whenever the option exists, so
        // that pacman finds %PGPSIG% with either image.
        "repo-add" => [
            "sh",
            "-c",
            r#"if repo-add --help 2>&1 | grep -q -- --include-sigs; then exec repo-add --include-sigs "$@"; else exec repo-add "$@"; fi"#,
            "repo-add",
        ]
        .map(String::from)
        .to_vec(),
        _ => vec![tool.to_string()],
    };
    cmd.extend(["-q".to_string(), db.to_string()]);
    cmd.extend(args);
    let workdir = format!("/repoctl/{}", dir.as_ref());
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
    let mut archive = tar::Archive::new(fs_err::File::open(tar).map_err(io)?);
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
    fn a_pkgname_added_twice_stays_in_one_repo_add() {
        let mut add = files(&["a", "b", "c", "d", "e", "f", "g"]);
        add.push(Utf8PathBuf::from("/out/a-2-1-any.pkg.tar.zst"));
        assert_eq!(split_additions(&add, 2), None);
    }
}
