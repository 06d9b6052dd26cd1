//! The first read of a builder image's sync databases: its own pacman downloads them in a
//! container (images/builder/syncdbs.sh) and repoctl copies them out with the servers they
//! came from.
use super::{OfficialError, SyncDb, io_at, safe_repo_name};
use crate::docker::{ContainerSpec, Docker, ExecSpec};
use camino::Utf8Path;
use std::collections::HashMap;
use std::io::Read;

/// The most the copied-out sync databases may weigh together, as a tar archive (Arch's
/// [extra] is ~9 MiB compressed; core, extra and multilib together ~12 MiB).
const MAX_SYNC_DBS_BYTES: u64 = 256 * 1024 * 1024;
/// The most of syncdbs.sh's output an error keeps (its end, where pacman says what failed).
const MAX_OUTPUT_CHARS: usize = 4000;
/// Where syncdbs.sh leaves the databases in the container.
const CONTAINER_DIR: &str = "/repoctl/syncdbs";

/// Runs syncdbs.sh in a container of `builder_image` and returns its databases in pacman.conf
/// order, each with its servers and the time pacman gave the file.
pub(super) async fn fetch(
    docker: &Docker,
    builder_image: &str,
    cache_dir: &Utf8Path,
) -> Result<Vec<SyncDb>, OfficialError> {
    let spec = ContainerSpec {
        image: builder_image.to_string(),
        purpose: "official-syncdbs".into(),
        memory_bytes: None,
        nano_cpus: None,
        pids_limit: Some(256),
        volumes: Vec::new(),
        // No package's grant: this container runs no PKGBUILD.
        extra_capabilities: Vec::new(),
        build_network: None,
        tmpfs: Vec::new(),
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
    // 3. Unpack: `repos` gives the order, `servers` the servers, `<repo>.db` each database.
    let bytes = fs_err::read(tar_path).map_err(io_at(tar_path))?;
    unpack(&bytes)
}

/// A file syncdbs.sh wrote: its bytes and its modification time (Unix seconds) in the tar
/// header, which Docker takes from the file and `cp -p` took from pacman's.
struct Entry {
    body: Vec<u8>,
    mtime: u64,
}

/// The databases in the tar of `syncdbs/` that Docker copies out.
pub(super) fn unpack(tar: &[u8]) -> Result<Vec<SyncDb>, OfficialError> {
    let mut files = entries(tar)?;
    let mut text = |name: &str| {
        let entry = files.remove(name).ok_or_else(|| OfficialError::Copy(format!("no `{name}`")))?;
        String::from_utf8(entry.body).map_err(|_| OfficialError::Copy(format!("`{name}` is not UTF-8")))
    };
    let (order, server_lines) = (text("repos")?, text("servers")?);
    let mut servers: HashMap<&str, Vec<String>> = HashMap::new();
    for line in server_lines.lines().filter(|l| !l.is_empty()) {
        let (repo, url) = line.split_once(' ').ok_or_else(|| OfficialError::Copy(format!("`{line}` in `servers`")))?;
        servers.entry(repo).or_default().push(url.to_string());
    }
    order
        .lines()
        .filter(|l| !l.is_empty())
        .map(|repo| {
            if !safe_repo_name(repo) {
                return Err(OfficialError::Copy(format!("unusable repository name `{repo}`")));
            }
            let db = files.remove(&format!("{repo}.db"));
            let db = db.ok_or_else(|| OfficialError::Copy(format!("no database of [{repo}]")))?;
            Ok(SyncDb {
                repo: repo.to_string(),
                servers: servers.remove(repo).unwrap_or_default(),
                modified: i64::try_from(db.mtime).ok().filter(|&t| t > 0),
                bytes: db.body,
                libraries: files.remove(&format!("{repo}.files")).and_then(|f| super::libraries_of(repo, &f.body)),
            })
        })
        .collect()
}

/// The regular files under `syncdbs/` in `tar`, by their name there.
fn entries(tar: &[u8]) -> Result<HashMap<String, Entry>, OfficialError> {
    let bad = |e: std::io::Error| OfficialError::Copy(e.to_string());
    let mut files = HashMap::new();
    for item in tar::Archive::new(tar).entries().map_err(bad)? {
        let mut item = item.map_err(bad)?;
        if !item.header().entry_type().is_file() {
            continue;
        }
        let path = item.path().map_err(bad)?.to_string_lossy().into_owned();
        let Some(name) = path.strip_prefix("syncdbs/") else { continue };
        let name = name.to_string();
        let mtime = item.header().mtime().map_err(bad)?;
        let mut body = Vec::new();
        (&mut item).take(MAX_SYNC_DBS_BYTES).read_to_end(&mut body).map_err(bad)?;
        files.insert(name, Entry { body, mtime });
    }
    Ok(files)
}

/// The end of `text`, at most `max` characters.
fn tail(text: &str, max: usize) -> String {
    let skip = text.chars().count().saturating_sub(max);
    text.chars().skip(skip).collect()
}
