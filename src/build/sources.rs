//! Who may write the caches a build container mounts (issue 23, item 4).
//!
//! Installing a build's dependencies runs their install scriptlets as root, and an AUR
//! dependency's scriptlet (or a process it leaves running, or one of its programs the build
//! runs) is another pkgbase's code. A container cannot change its mounts, so the caches that
//! outlive a build are made unwritable for it instead:
//!
//! - the pacman package cache shared by every build on the machine is mounted read-only in
//!   every build container; pacman downloads into the container's own cache. What `pacman -Sw`
//!   fetched from the official mirrors, checked against the sync databases before any package's
//!   code ran, is copied into the shared cache by a container that runs only `cp` and `mv`
//!   ([`keep_downloads`]);
//! - a pkgbase's source cache (makepkg's SRCDEST) is writable only where no AUR package is
//!   installed. A build that installs none fetches its sources itself, as before. One that does
//!   fetches them first in a container of their own, which installs only the official VCS
//!   clients its sources need ([`fetch_sources`]); the build container then mounts the source
//!   cache read-only (prepare.sh links its entries into makepkg's SRCDEST, which makepkg wants
//!   writable) and makepkg runs with `--holdver`.
//!
//! What stays possible: a dependency is part of its dependant's build (its files are installed
//! there, its programs may run there), so it can change that build; not what the caches keep
//! for later builds and other packages.
use super::keys::BuildKeys;
use super::package::{BuildError, BuildJob, CappedLog, exec_logged_as, exec_phase, import_keys, makepkg_phase};
use crate::docker::{Container, ContainerSpec, Docker, ExecSpec, VolumeMount};
use crate::ui::{Phase, Reporter};
use std::io::Write;

/// Where the shared pacman cache appears in a build container: read-only, searched after the
/// container's own `/var/cache/pacman/pkg` (prepare.sh passes both as `--cachedir`).
const SHARED_CACHE: &str = "/var/cache/pacman/shared";

/// Where a build's sources come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sources {
    /// makepkg fetches them in the build container, into a writable source cache: nothing of
    /// another pkgbase is installed there.
    InBuild,
    /// [`fetch_sources`] fetched them before; the build container reads the source cache only.
    Fetched,
}

impl Sources {
    /// A build that installs packages of other AUR pkgbases (its closure's files are uploaded
    /// to its local repository) fetches its sources apart.
    pub fn for_job(job: &BuildJob<'_>) -> Sources {
        if job.local_packages.is_empty() { Sources::InBuild } else { Sources::Fetched }
    }
}

/// The Docker volume that keeps one pkgbase's downloaded sources (makepkg's SRCDEST) between
/// the runs of one work directory (`work_dir`: its [`crate::docker::work_dir_label`]). One per
/// pkgbase and work directory, so one package's build cannot touch another's sources, nor one
/// project's build of a pkgbase (at the commit its lock names) another project's.
pub fn source_cache_volume(work_dir: &str, pkgbase: &str) -> String {
    // pkgbase may hold '@' and '+', which volume names may not.
    let safe: String = pkgbase
        .chars()
        .map(|c| match c {
            '@' => 'A',
            '+' => 'P',
            c => c,
        })
        .collect();
    // The hash keeps `a+b` and `aPb` apart, and one work directory's from another's.
    let mut hash = <sha2::Sha256 as sha2::Digest>::new();
    sha2::Digest::update(&mut hash, pkgbase.as_bytes());
    sha2::Digest::update(&mut hash, b"\0");
    sha2::Digest::update(&mut hash, work_dir.as_bytes());
    let hash = format!("{:x}", sha2::Digest::finalize(hash));
    format!("repoctl-src-{safe}-{}", &hash[..12])
}

/// The volumes of a build container: the shared pacman cache read-only, and the pkgbase's
/// source cache, writable (as makepkg's SRCDEST) only with [`Sources::InBuild`].
pub fn mounts(job: &BuildJob<'_>, sources: Sources) -> Vec<VolumeMount> {
    let srcdest = source_cache_volume(job.work_dir, job.pkgbase);
    vec![
        VolumeMount::read_only(super::image::PACMAN_CACHE_VOLUME, SHARED_CACHE),
        match sources {
            Sources::InBuild => VolumeMount::writable(&srcdest, "/repoctl/srcdest"),
            Sources::Fetched => VolumeMount::read_only(&srcdest, "/repoctl/srcdest-cache"),
        },
    ]
}

/// Before the build of a job whose sources are [`Sources::Fetched`]: a container with no AUR
/// package in it (its local repository empty) and the source cache writable installs the
/// official VCS clients the sources need, imports the keys, and runs fetch.sh (`makepkg
/// --verifysource`: downloads, checksums and signatures), with the build's `keys`. `spec`: the build's, with the source
/// cache writable; `reporter`: where the phase is shown (None for a VCS check). Errors: as a
/// build's.
pub async fn fetch_sources(
    docker: &Docker,
    job: &BuildJob<'_>,
    keys: &BuildKeys,
    spec: &ContainerSpec,
    reporter: Option<&dyn Reporter>,
    log: &mut CappedLog,
) -> Result<(), BuildError> {
    if let Some(reporter) = reporter {
        reporter.phase(job.pkgbase, Phase::Sources);
    }
    let _ = writeln!(log, "==> repoctl: fetching sources in a container with no AUR package installed");
    let bare = BuildJob { local_packages: Vec::new(), ..*job };
    let spec = ContainerSpec { purpose: format!("fetch-{}", job.pkgbase), ..spec.clone() };
    docker
        .with_container(&spec, async |container| {
            super::package::upload_inputs(container, &bare, keys).await?;
            install_dependencies(docker, container, job, vec!["--vcs".to_string()], log).await?;
            let missing = import_keys(container, keys, job.keyserver, log).await?;
            let cmd = vec!["sh".to_string(), "/usr/local/lib/repoctl/fetch.sh".to_string()];
            makepkg_phase(container, "fetching sources", cmd, &missing, job.capabilities, log).await.map(|_| ())
        })
        .await
}

/// prepare.sh in `container` (fresh: nothing has run in it): downloads what `deps` need
/// (`pacman -Sw`), keeps what came from the official mirrors in the shared cache
/// ([`keep_downloads`]), then installs (their scriptlets run then), unless nothing was missing.
/// Errors: as a build's.
pub async fn install_dependencies(
    docker: &Docker,
    container: &Container,
    job: &BuildJob<'_>,
    deps: Vec<String>,
    log: &mut CappedLog,
) -> Result<(), BuildError> {
    let prepare = |mode: &str| {
        let mut cmd = vec!["sh".to_string(), "/usr/local/lib/repoctl/prepare.sh".to_string(), mode.to_string()];
        cmd.extend(deps.iter().cloned());
        cmd
    };
    // Runs no package's code (repo-add, `pacman -Sw`): it need not wait for the build
    // network's routes, which are set meanwhile.
    let download = prepare("download");
    let (code, output) = exec_logged_as(container, "downloading dependencies", download, "root", log, false).await?;
    if code != 0 {
        return Err(BuildError::Phase { phase: "downloading dependencies", code });
    }
    let said = String::from_utf8_lossy(&output);
    let fetched = said.lines().rev().find_map(|l| l.strip_prefix("REPOCTL-CACHE-OUT ")?.trim().parse::<u32>().ok());
    if fetched.unwrap_or(0) > 0
        && let Err(e) = keep_downloads(docker, container, job).await
    {
        // A cache that did not grow costs a download next time, not this build.
        let _ = writeln!(log, "==> repoctl: the downloaded packages were not kept in the shared cache: {e}");
    }
    // Nothing was missing: prepare.sh handed the directories over itself; nothing to install.
    if said.lines().any(|l| l == "REPOCTL-READY") {
        return Ok(());
    }
    exec_phase(container, "installing dependencies", prepare("install"), "root", log).await
}

/// Copies what prepare.sh linked into `/repoctl/cache-out` of `container` (before any package's
/// code ran there) into the shared pacman cache, through a fresh container of the job's image
/// that mounts the cache writable and runs only the image's `cp` and `mv`: each file is written
/// under a temporary name and renamed, so a build reading the cache meanwhile never finds half a
/// package. Errors: Docker, or the copy failing.
async fn keep_downloads(docker: &Docker, container: &Container, job: &BuildJob<'_>) -> Result<(), BuildError> {
    let tar = job.scratch.join("cache-out.tar");
    container.download_tar("/repoctl/cache-out", &tar, super::artifacts::MAX_ARTIFACT_BYTES).await?;
    let spec = ContainerSpec {
        image: job.image.to_string(),
        purpose: format!("pacman-cache-{}", job.pkgbase),
        memory_bytes: None,
        nano_cpus: None,
        pids_limit: Some(64),
        volumes: vec![VolumeMount::writable(super::image::PACMAN_CACHE_VOLUME, "/cache")],
        extra_capabilities: Vec::new(),
        // Runs no package's code, and needs no network.
        build_network: None,
        tmpfs: Vec::new(),
    };
    let script = "set -eu; cd /tmp/cache-out; for f in *; do [ -f \"$f\" ] || continue; \
cp \"$f\" \"/cache/.$f.$$\"; mv -f \"/cache/.$f.$$\" \"/cache/$f\"; done";
    let exec =
        ExecSpec { cmd: vec!["sh".into(), "-c".into(), script.into()], user: "root", env: vec![], workdir: None };
    let kept = docker
        .with_container(&spec, async |keeper| {
            keeper.upload_tar_file("/tmp", &tar).await?;
            let mut out = Vec::new();
            match keeper.exec(&exec, &mut |b: &[u8]| out.extend_from_slice(b)).await? {
                0 => Ok(()),
                code => Err(BuildError::Phase { phase: "keeping downloads in the pacman cache", code }),
            }
        })
        .await;
    let _ = fs_err::remove_file(&tar);
    kept
}

#[cfg(test)]
mod tests {
    /// A volume's name must not change between releases: it is where a pkgbase's downloaded
    /// sources wait for the next run of its work directory. The hash is SHA-256 of
    /// `PKGBASE\0WORK_DIR` (checked with Python's hashlib).
    #[test]
    fn a_source_cache_volume_is_named_after_its_pkgbase_its_work_dir_and_their_hash() {
        let name = super::source_cache_volume("/srv/repo/.repoctl", "a+b");
        assert_eq!(name, "repoctl-src-aPb-0a1bf83d5164");
        assert_ne!(super::source_cache_volume("/srv/repo/.repoctl", "aPb"), name);
        assert_ne!(super::source_cache_volume("/srv/other/.repoctl", "a+b"), name);
    }
}
