//! The `.SRCINFO` of a `path:` package (issue 27): a PKGBUILD directory beside repo.yaml has
//! no AUR to make its `.SRCINFO`, and one committed beside the PKGBUILD may be missing or stale.
//! So repoctl always makes it with `makepkg --printsrcinfo`, from the directory's files, and
//! never reads a committed one (a stale `.SRCINFO` cannot mislead the plan or the package check).
//!
//! A PKGBUILD is code, and sourcing it runs that code: it runs in a builder container as the
//! unprivileged `builder`, labelled, with no network (cut off before the command runs), no
//! volume, no secret and no capability beyond the kept ones, and removed whatever happens
//! ([`crate::docker::Docker::with_container`]). The answer is kept under the work directory
//! (`srcinfo/LOCAL/HEX.SRCINFO`), named by the directory's digest ([`Tree::digest`]): files
//! that hash the same give the same `.SRCINFO`, so a run whose directories did not change starts
//! no container.
use crate::docker::{ContainerSpec, Docker, DockerError, ExecSpec};
use crate::trust::tree::{DIGEST_PREFIX, Tree};
use camino::{Utf8Path, Utf8PathBuf};

/// Where generated `.SRCINFO` files are kept, under the work directory: beside the AUR's
/// (`srcinfo/PKGBASE/`, [`crate::aur::store`]) under a name no pkgbase can have (package names
/// are lower case), so that the AUR store, which prunes its own directory of a pkgbase, can
/// never touch them (a pkgbase named `local` once could).
pub const LOCAL_SRCINFO_DIR: &str = "srcinfo/LOCAL";
/// The most output `makepkg --printsrcinfo` may give (a real `.SRCINFO` is a few KiB).
const MAX_OUTPUT: usize = 1 << 20;
/// How long sourcing a PKGBUILD may take.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
const BEGIN: &str = "REPOCTL-SRCINFO-BEGIN\n";
const END: &str = "REPOCTL-SRCINFO-END";

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error(transparent)]
    Artifact(#[from] super::ArtifactError),
    #[error("`makepkg --printsrcinfo` failed in {dir} (exit code {code}): {said}")]
    Makepkg { dir: String, code: i64, said: String },
    #[error("`makepkg --printsrcinfo` took longer than {} s in {dir}", TIMEOUT.as_secs())]
    Timeout { dir: String },
    #[error("cannot keep the generated .SRCINFO in {path}")]
    Cache {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The cached `.SRCINFO` of a directory whose files hash to `digest` (`tree-sha256:HEX`), when
/// one was generated before.
pub fn cached_srcinfo(work: &Utf8Path, digest: &str) -> Option<String> {
    fs_err::read_to_string(cache_path(work, digest)?).ok()
}

fn cache_path(work: &Utf8Path, digest: &str) -> Option<Utf8PathBuf> {
    let hex = digest.strip_prefix(DIGEST_PREFIX)?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| work.join(LOCAL_SRCINFO_DIR).join(format!("{hex}.SRCINFO")))
}

/// The `.SRCINFO` text of `tree`, the files of the directory `dir` (as repo.yaml writes it, for
/// messages): from the cache under `work`, else made in a container of `image` and kept.
/// `scratch`: where the tar sent to the container is written. Errors: Docker, makepkg (the
/// PKGBUILD does not source), the time limit, the cache cannot be written.
pub async fn local_srcinfo(
    docker: &Docker,
    image: &str,
    work: &Utf8Path,
    dir: &str,
    tree: &Tree,
) -> Result<String, LocalError> {
    let digest = tree.digest();
    if let Some(text) = cached_srcinfo(work, &digest) {
        return Ok(text);
    }
    let scratch = work.join("scratch").join(format!("srcinfo-{}", std::process::id()));
    let cache_err = |path: &Utf8Path| {
        let path = path.to_owned();
        move |source| LocalError::Cache { path, source }
    };
    fs_err::create_dir_all(&scratch).map_err(cache_err(&scratch))?;
    let made = tokio::time::timeout(TIMEOUT, print_srcinfo(docker, image, dir, tree, &scratch)).await;
    let _ = fs_err::remove_dir_all(&scratch);
    let text = made.map_err(|_| LocalError::Timeout { dir: dir.to_string() })??;
    if let Some(path) = cache_path(work, &digest) {
        let parent = path.parent().unwrap_or(work);
        fs_err::create_dir_all(parent).map_err(cache_err(parent))?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        fs_err::write(&tmp, &text).map_err(cache_err(&tmp))?;
        fs_err::rename(&tmp, &path).map_err(cache_err(&path))?;
    }
    Ok(text)
}

/// Steps: (1) a container of the builder image, labelled `srcinfo-…`; (2) cut off every
/// network; (3) the files copied in as `/repoctl/src`, made the builder's; (4) as `builder`,
/// `makepkg --printsrcinfo` ([`run_makepkg`]); (5) the container removed.
async fn print_srcinfo(
    docker: &Docker,
    image: &str,
    dir: &str,
    tree: &Tree,
    scratch: &Utf8Path,
) -> Result<String, LocalError> {
    let tar = scratch.join("src.tar");
    super::artifacts::tar_unlocked_tree(tree, "src", &tar)?;
    let spec = ContainerSpec {
        image: image.to_string(),
        purpose: "srcinfo".to_string(),
        memory_bytes: Some(1 << 30),
        nano_cpus: None,
        pids_limit: Some(512),
        volumes: Vec::new(),
        extra_capabilities: Vec::new(),
        build_network: None,
        tmpfs: Vec::new(),
    };
    docker
        .with_container(&spec, async |container| {
            container.disconnect_networks().await?;
            container.upload_tar_file("/repoctl", &tar).await?;
            // makepkg wants its start directory writable (exit 11 otherwise); chown runs no
            // code of the package and follows no symbolic link.
            let chown = ExecSpec {
                cmd: ["chown", "-R", "builder:builder", "/repoctl/src"].map(String::from).to_vec(),
                user: "root",
                env: Vec::new(),
                workdir: None,
            };
            let code = container.exec(&chown, &mut |_: &[u8]| {}).await?;
            if code != 0 {
                let said = "chown of the copied files failed".to_string();
                return Err(LocalError::Makepkg { dir: dir.to_string(), code, said });
            }
            run_makepkg(container, dir).await
        })
        .await
}

/// `makepkg --printsrcinfo` as `builder` in `/repoctl/src`, its answer written to a file and
/// printed between markers (what the PKGBUILD itself prints cannot pass for it: the last block
/// is read). Errors: makepkg failed, with the last lines it said.
async fn run_makepkg(container: &crate::docker::Container, dir: &str) -> Result<String, LocalError> {
    let script = format!(
        "cd /repoctl/src && makepkg --printsrcinfo > /tmp/out.SRCINFO 2>/tmp/err || {{ c=$?; tail -c 2000 /tmp/err; exit $c; }}; printf '{}'; cat /tmp/out.SRCINFO; echo '{END}'",
        BEGIN.replace('\n', "\\n")
    );
    let exec = ExecSpec {
        cmd: vec!["sh".into(), "-c".into(), script],
        user: "builder",
        env: vec!["LC_ALL=C.UTF-8".into()],
        workdir: Some("/repoctl"),
    };
    let mut output = Vec::new();
    let code = container
        .exec(&exec, &mut |bytes: &[u8]| {
            if output.len() < MAX_OUTPUT {
                output.extend_from_slice(bytes);
            }
        })
        .await?;
    let text = String::from_utf8_lossy(&output).into_owned();
    match (code, between_markers(&text)) {
        (0, Some(srcinfo)) => Ok(srcinfo.to_string()),
        (code, _) => {
            let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            let last = lines[lines.len().saturating_sub(3)..].join(" / ");
            let said = crate::ui::sanitize_line(if last.is_empty() { "no output" } else { &last });
            Err(LocalError::Makepkg { dir: dir.to_string(), code, said })
        }
    }
}

/// The text between the last [`BEGIN`] marker and the [`END`] marker after it.
fn between_markers(output: &str) -> Option<&str> {
    let begin = output.rfind(BEGIN)? + BEGIN.len();
    let end = begin + output[begin..].find(END)?;
    Some(&output[begin..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_marked_block_is_the_srcinfo() {
        let out = "REPOCTL-SRCINFO-BEGIN\nfake\nREPOCTL-SRCINFO-END\nREPOCTL-SRCINFO-BEGIN\npkgbase = a\nREPOCTL-SRCINFO-END\n";
        assert_eq!(between_markers(out), Some("pkgbase = a\n"));
        assert_eq!(between_markers("no markers"), None);
    }

    #[test]
    fn the_cache_is_named_by_the_digest_only() {
        let work = Utf8Path::new("/w");
        let hex = "ab".repeat(32);
        assert_eq!(
            cache_path(work, &format!("tree-sha256:{hex}")),
            Some(Utf8PathBuf::from(format!("/w/srcinfo/LOCAL/{hex}.SRCINFO")))
        );
        assert_eq!(cache_path(work, "tree-sha256:../../etc"), None);
        assert_eq!(cache_path(work, &format!("sha256:{hex}")), None);
    }
}
