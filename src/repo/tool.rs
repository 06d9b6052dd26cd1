//! `repo-add` and `repo-remove`, run in a builder container on a copy of the current
//! database: the host needs no pacman, and the database is written by pacman's own tools.
use super::DbNames;
use crate::docker::{ContainerSpec, Docker, DockerError, ExecSpec};
use camino::{Utf8Path, Utf8PathBuf};

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
    #[error("{0} did not produce {1}")]
    Missing(&'static str, String),
}

pub struct RepoTool {
    pub docker: Docker,
    pub image: String,
}

impl RepoTool {
    /// Applies additions and removals to `current` (None for a new repository), writing the
    /// new database pair into `out_dir`.
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
        let input = out_dir.join("repo-input.tar");
        {
            let file = fs_err::File::create(&input).map_err(io(&input))?;
            let mut tar = tar::Builder::new(file);
            tar.append_dir("repo", ".").map_err(io(&input))?;
            if let Some(cur) = current {
                tar.append_path_with_name(&cur.db, format!("repo/{}", names.db_archive)).map_err(io(&cur.db))?;
                tar.append_path_with_name(&cur.files, format!("repo/{}", names.files_archive))
                    .map_err(io(&cur.files))?;
            }
            for pkg in add {
                for f in std::iter::once(pkg.clone()).chain(signature_of(pkg)) {
                    let name = format!("repo/{}", f.file_name().unwrap_or_default());
                    tar.append_path_with_name(&f, name).map_err(io(&f))?;
                }
            }
            tar.into_inner().map_err(io(&input))?;
        }

        let spec = ContainerSpec {
            image: self.image.clone(),
            purpose: "repo-add".into(),
            memory_bytes: None,
            nano_cpus: None,
            pids_limit: Some(1024),
            volumes: Vec::new(),
        };
        self.docker
            .with_container(&spec, async |container| {
                container.upload_tar_file("/repoctl", &input).await?;
                // A copy of every package file: not kept once the container has it.
                let _ = fs_err::remove_file(&input);
                let files: Vec<String> = add.iter().map(|p| p.file_name().unwrap_or_default().to_string()).collect();
                // Removals first, so a pkgname removed and added in one change ends up present.
                if !remove.is_empty() {
                    run_tool(container, "repo-remove", &names.db_archive, remove.to_vec()).await?;
                }
                if !files.is_empty() || current.is_none() {
                    run_tool(container, "repo-add", &names.db_archive, files).await?;
                }
                // Only the two archives come back, not the directory: it also holds every
                // package file just copied in, which would double the bytes moved.
                let mut got = Vec::new();
                for archive in [&names.db_archive, &names.files_archive] {
                    let out_tar = out_dir.join(format!("{archive}.tar"));
                    container.download_tar(&format!("/repoctl/repo/{archive}"), &out_tar, MAX_DB_BYTES).await?;
                    got.push(extract_one(&out_tar, archive, out_dir)?);
                }
                let files = got.pop().unwrap_or_default();
                let db = got.pop().unwrap_or_default();
                Ok(DbFiles { db, files })
            })
            .await
    }
}

async fn run_tool(
    container: &crate::docker::Container,
    tool: &'static str,
    db: &str,
    args: Vec<String>,
) -> Result<(), RepoToolError> {
    let mut cmd = vec![tool.to_string(), "-q".to_string(), db.to_string()];
    cmd.extend(args);
    let spec = ExecSpec { cmd, user: "root", env: vec!["LC_ALL=C.UTF-8".into()], workdir: Some("/repoctl/repo") };
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
