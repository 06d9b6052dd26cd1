//! Building one pkgbase in a fresh container, in numbered steps. The container is removed
//! whatever happens; the full log is written to a file as it comes.
use super::artifacts::{self, ArtifactError, MAX_ARTIFACT_BYTES};
use super::keys::{self, BuildKeys};
use super::sources::{Sources, fetch_sources, install_dependencies};
use crate::aur::SrcInfo;
use crate::config::{Network, PgpKey};
use crate::docker::{ContainerSpec, Docker, DockerError, ExecSpec};
use crate::trust::tree::LockedTree;
use crate::trust::{CheckedPackage, Declared, PackageError};
use crate::ui::{Phase, Reporter};
use camino::{Utf8Path, Utf8PathBuf};
use std::io::Write;
use std::sync::Arc;
use tracing::Instrument;

/// Everything one build needs.
pub struct BuildJob<'a> {
    pub pkgbase: &'a str,
    /// The locked commit's files: the PKGBUILD and everything beside it, and its key files.
    pub tree: &'a LockedTree,
    pub srcinfo: &'a SrcInfo,
    /// Package files of AUR dependencies, installable through the container's local repository.
    pub local_packages: Vec<Utf8PathBuf>,
    pub nocheck: bool,
    /// makepkg's `debug` option: false runs it with `!debug` (no debug package is made).
    pub debug: bool,
    /// A VCS package: its pkgver() decides the pkgver of what it makes.
    pub vcs: bool,
    /// A rebuild with a dotted pkgrel (issue 26): the PKGBUILD's pkgrel is set to it, and the
    /// packages must have its version.
    pub bump: Option<&'a crate::alpm::PkgrelBump>,
    /// repo.yaml's `arch`, which the packages' `.PKGINFO` must say (or `any`).
    pub arch: &'a str,
    pub limits: crate::config::Limits,
    /// `offline-build`: sources are fetched first, then the container loses its network.
    pub network: Network,
    /// The run's build network, which keeps the build off link-local addresses and this
    /// machine's own.
    pub build_network: &'a Arc<crate::docker::BuildNetwork>,
    /// repo.yaml's keys for this package, besides the tree's keys/pgp.
    pub pgp_keys: &'a [PgpKey],
    /// Added to this build's containers only (repo.yaml's `capabilities` for the package).
    pub capabilities: &'a [crate::docker::Capability],
    /// Where those keys' fingerprints are received from (None: gpg's default keyserver).
    pub keyserver: Option<&'a str>,
    pub image: &'a str,
    /// Scratch space for this build's archives.
    pub scratch: &'a Utf8Path,
    /// The work directory's label ([`crate::docker::work_dir_label`]): its source caches are its own.
    pub work_dir: &'a str,
    /// Where the package files go.
    pub packages_dir: &'a Utf8Path,
    pub log_path: &'a Utf8Path,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    #[error("{phase} failed with exit code {code}")]
    Phase { phase: &'static str, code: i64 },
    #[error("{phase} could not verify the sources' PGP signatures: {}", signature_problem(.missing))]
    Signatures { phase: &'static str, missing: Vec<String> },
    #[error(transparent)]
    KeyLinks(#[from] keys::KeyLinks),
    #[error("stopped after the build timeout of {} (set `timeout` in repo.yaml's builder or package entry)", human(*.0))]
    Timeout(std::time::Duration),
    #[error("cannot write the build log {path}")]
    Log {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// What the build made does not match the locked commit ([`crate::trust::check_build`]):
    /// every file refused, and why.
    #[error("{}", packages_refused(.0))]
    Packages(Vec<PackageError>),
    #[error("{0}")]
    Task(String),
}

fn packages_refused(problems: &[PackageError]) -> String {
    let all: Vec<String> = problems.iter().map(|p| crate::cause::chain(p).join(": ")).collect();
    format!("not published: {}", all.join("; "))
}

impl BuildError {
    /// The version the build made, when the only thing wrong with its packages is that it is
    /// not the locked `.SRCINFO`'s (`FailureKind::VersionMismatch`).
    pub fn made_version(&self) -> Option<&str> {
        let BuildError::Packages(problems) = self else { return None };
        let versions: Vec<Option<&str>> = problems.iter().map(PackageError::only_version).collect();
        match versions.first() {
            Some(Some(first)) if versions.iter().all(|v| *v == Some(*first)) => Some(first),
            _ => None,
        }
    }
}

pub async fn build(
    docker: &Docker,
    job: &BuildJob<'_>,
    reporter: &dyn Reporter,
) -> Result<Vec<CheckedPackage>, BuildError> {
    let log_err = |source| BuildError::Log { path: job.log_path.to_owned(), source };
    fs_err::create_dir_all(job.scratch).map_err(log_err)?;
    let mut log = CappedLog::create(job.log_path).map_err(log_err)?;
    // The key files to import, from the locked tree (a symlinked one fails the build here).
    let keys = BuildKeys::gather(job.tree, job.srcinfo, job.pgp_keys)?;

    // All within the time limit; each container is removed whatever happened, a timeout
    // included (the exec is abandoned and the container, with everything in it, removed).
    let sources = Sources::for_job(job);
    let work = async {
        // 1. With AUR packages to install: the sources first, in a container of their own.
        if sources == Sources::Fetched {
            let spec = container_spec(job, Sources::InBuild);
            fetch_sources(docker, job, &keys, &spec, Some(reporter), &mut log).await?;
        }
        // 2. A fresh container from the builder image; 3-7 inside it.
        reporter.phase(job.pkgbase, Phase::Starting);
        let spec = container_spec(job, sources);
        docker
            .with_container(&spec, async |container| {
                run_in(docker, container, job, (&keys, sources), reporter, &mut log).await
            })
            .await
    };
    let timeout = job.limits.timeout;
    match tokio::time::timeout(timeout, work).instrument(tracing::debug_span!("build", pkgbase = job.pkgbase)).await {
        Ok(result) => result,
        Err(_) => {
            let _ = writeln!(log, "\n==> repoctl: stopped after the build timeout of {}", human(timeout));
            Err(BuildError::Timeout(timeout))
        }
    }
}

fn signature_problem(missing: &[String]) -> String {
    match missing {
        [] => "a signature is bad or made with a key not in validpgpkeys (the log says which)".into(),
        keys => format!(
            "no public key for {} was available; add keys/pgp/<FINGERPRINT>.asc to the AUR repository, or list \
the key under the package's `pgp_keys` in repo.yaml",
            keys.join(", ")
        ),
    }
}

/// `1h30m`, `45s`: a duration as repo.yaml writes it ([`crate::config::human_duration`]).
fn human(d: std::time::Duration) -> String {
    crate::config::human_duration(d.as_secs())
}

/// For a VCS package: the version its pkgver() reports for the current upstream, found in a
/// fresh container with the same dependencies, limits and source cache as a build, building
/// nothing (its sources fetched apart first when it installs AUR packages, as a build's are).
/// The fetched sources stay in the source cache for the build that may follow.
pub async fn upstream_version(docker: &Docker, job: &BuildJob<'_>) -> Result<String, BuildError> {
    let log_err = |source| BuildError::Log { path: job.log_path.to_owned(), source };
    fs_err::create_dir_all(job.scratch).map_err(log_err)?;
    let mut log = CappedLog::create(job.log_path).map_err(log_err)?;
    let keys = BuildKeys::gather(job.tree, job.srcinfo, job.pgp_keys)?;
    let sources = Sources::for_job(job);
    let probe = async {
        if sources == Sources::Fetched {
            fetch_sources(docker, job, &keys, &container_spec(job, Sources::InBuild), None, &mut log).await?;
        }
        let spec = container_spec(job, sources);
        docker
            .with_container(&spec, async |container| {
                upload_inputs(container, job, &keys).await?;
                install_dependencies(docker, container, job, job.srcinfo.needs(job.nocheck), &mut log).await?;
                let missing = import_keys(container, &keys, job.keyserver, &mut log).await?;
                let mut cmd = vec!["sh".to_string(), "/usr/local/lib/repoctl/vcs.sh".to_string()];
                if sources == Sources::Fetched {
                    cmd.push("--holdver".to_string());
                }
                let output = makepkg_phase(container, "pkgver()", cmd, &missing, job.capabilities, &mut log).await?;
                upstream_srcinfo_version(&String::from_utf8_lossy(&output))
                    .ok_or(BuildError::Phase { phase: "pkgver()", code: -1 })
            })
            .await
    };
    let timeout = job.limits.timeout;
    match tokio::time::timeout(timeout, probe).instrument(tracing::debug_span!("pkgver", pkgbase = job.pkgbase)).await {
        Ok(result) => result,
        Err(_) => Err(BuildError::Timeout(timeout)),
    }
}

/// The version in the `.SRCINFO` vcs.sh prints between its markers after pkgver() ran (the
/// last such block: what the PKGBUILD printed before cannot stand in for it), read with
/// alpm-srcinfo. None when there is no block or it does not parse.
fn upstream_srcinfo_version(output: &str) -> Option<String> {
    let begin = output.rfind("REPOCTL-SRCINFO-BEGIN\n")? + "REPOCTL-SRCINFO-BEGIN\n".len();
    let end = begin + output[begin..].find("REPOCTL-SRCINFO-END")?;
    crate::aur::srcinfo_version(&output[begin..end]).ok()
}

fn container_spec(job: &BuildJob<'_>, sources: Sources) -> ContainerSpec {
    ContainerSpec {
        image: job.image.to_string(),
        purpose: format!("build-{}", job.pkgbase),
        memory_bytes: job.limits.memory_bytes.map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
        nano_cpus: job.limits.cpus.map(|c| (c * 1e9) as i64),
        pids_limit: Some(4096),
        volumes: super::sources::mounts(job, sources),
        extra_capabilities: job.capabilities.to_vec(),
        build_network: Some(job.build_network.clone()),
        tmpfs: Vec::new(),
    }
}

/// The locked commit's files (the PKGBUILD and what it uses, from the verified blobs), the
/// packages it may need from this run, and the key files to import.
pub(super) async fn upload_inputs(
    container: &crate::docker::Container,
    job: &BuildJob<'_>,
    keys: &BuildKeys,
) -> Result<(), BuildError> {
    let src_tar = job.scratch.join("src.tar");
    artifacts::tar_tree(job.tree, "src", &src_tar)?;
    container.upload_tar_file("/repoctl", &src_tar).await?;
    if !keys.files.is_empty() {
        let keys_tar = job.scratch.join("keys.tar");
        artifacts::tar_bytes(&keys.files, "keys", &keys_tar)?;
        container.upload_tar_file("/repoctl", &keys_tar).await?;
    }
    if !job.local_packages.is_empty() {
        let deps_tar = job.scratch.join("localrepo.tar");
        artifacts::tar_files(&job.local_packages, "localrepo", &deps_tar)?;
        container.upload_tar_file("/repoctl", &deps_tar).await?;
    }
    Ok(())
}

async fn run_in(
    docker: &Docker,
    container: &crate::docker::Container,
    job: &BuildJob<'_>,
    (keys, sources): (&BuildKeys, Sources),
    reporter: &dyn Reporter,
    log: &mut CappedLog,
) -> Result<Vec<CheckedPackage>, BuildError> {
    // 3. The PKGBUILD, the packages it may need from this run, the key files it may need.
    timed("copying the inputs in", upload_inputs(container, job, keys)).await?;

    // 4. As root: dependencies, through pacman.
    reporter.phase(job.pkgbase, Phase::Dependencies);
    install_dependencies(docker, container, job, job.srcinfo.needs(job.nocheck), log).await?;

    // 5. As the builder: public keys for the sources' signatures, into its keyring.
    if !keys.is_empty() {
        reporter.phase(job.pkgbase, Phase::Keys);
    }
    let missing = import_keys(container, keys, job.keyserver, log).await?;

    // 6. With `offline-build`: the sources fetched and verified with the network (here, unless
    // a container of their own did), then the network cut off. Fetched sources stay as they
    // are: makepkg does not update VCS sources with --holdver (the source cache may be read-only).
    let mut makepkg_args = Vec::new();
    if job.network == Network::OfflineBuild && sources == Sources::InBuild {
        reporter.phase(job.pkgbase, Phase::Sources);
        let cmd = vec!["sh".to_string(), "/usr/local/lib/repoctl/fetch.sh".to_string()];
        makepkg_phase(container, "fetching sources", cmd, &missing, job.capabilities, log).await?;
    }
    if job.network == Network::OfflineBuild {
        let networks = container.disconnect_networks().await?;
        let _ = writeln!(log, "==> repoctl: network off for the build (disconnected from: {})", networks.join(", "));
    }
    if job.network == Network::OfflineBuild || sources == Sources::Fetched {
        makepkg_args.push("--holdver".to_string());
    }

    // 7. As the unprivileged builder: makepkg (a rebuild's pkgrel set in the PKGBUILD first).
    if let Some(bump) = job.bump {
        set_pkgrel(container, bump, log).await?;
    }
    reporter.phase(job.pkgbase, Phase::Building);
    let mode = if job.debug { "debug" } else { "nodebug" };
    let mut cmd = vec!["sh".to_string(), "/usr/local/lib/repoctl/build.sh".to_string(), mode.to_string()];
    cmd.extend(makepkg_args);
    if job.nocheck {
        cmd.push("--nocheck".into());
    }
    makepkg_phase(container, "makepkg", cmd, &missing, job.capabilities, log).await?;
    collect(container, job, reporter, log).await
}

/// Steps 8 and 9 of a build, after makepkg: the package files it made, checked against the
/// locked commit, in `job.packages_dir`.
async fn collect(
    container: &crate::docker::Container,
    job: &BuildJob<'_>,
    reporter: &dyn Reporter,
    log: &mut CappedLog,
) -> Result<Vec<CheckedPackage>, BuildError> {
    // 8. As root: every process of the builder stopped, then what makepkg made moved where
    // the builder cannot write, and copied out.
    reporter.phase(job.pkgbase, Phase::Collecting);
    let cmd = vec!["sh".to_string(), "/usr/local/lib/repoctl/collect.sh".to_string()];
    exec_phase(container, COLLECTING, cmd, "root", log).await?;
    let out_tar = job.scratch.join("out.tar");
    let copy = container.download_tar("/repoctl/collected", &out_tar, MAX_ARTIFACT_BYTES);
    timed("copying the packages out", copy).await?;
    let made = artifacts::extract_packages(&out_tar, &job.scratch.join("out"))?;

    // 9. On the host: every file's .PKGINFO against the locked commit, in this build's own
    // scratch space; then the files move beside the other builds' packages.
    let checked = timed("checking the packages", check_packages(job, made, log)).await?;
    let mut moved = Vec::with_capacity(checked.len());
    for package in checked {
        moved.push(package.move_into(job.packages_dir).map_err(|e| BuildError::Packages(vec![e]))?);
    }
    Ok(moved)
}

/// Sets the container's copy of the PKGBUILD to make `bump`'s pkgrel: a line `pkgrel=N.M`
/// appended, which makepkg reads last when it sources the PKGBUILD (PKGBUILD(5): pkgrel is
/// `integer[.integer]`, and a package function cannot override it). The locked tree on the
/// host is untouched; the check afterwards accepts exactly `bump`'s version
/// ([`Declared::bump`]). makepkg's `update_pkgver` may still reset it to 1 when a VCS
/// package's pkgver() moves, as for any build.
async fn set_pkgrel(
    container: &crate::docker::Container,
    bump: &crate::alpm::PkgrelBump,
    log: &mut CappedLog,
) -> Result<(), BuildError> {
    let _ = writeln!(log, "==> repoctl: rebuild with pkgrel={} ({})", bump.pkgrel(), bump.version());
    let script =
        r#"printf '\n# repoctl: a rebuild of the locked commit (issue 26)\npkgrel=%s\n' "$1" >> /repoctl/src/PKGBUILD"#;
    let cmd = ["sh", "-c", script, "sh", bump.pkgrel()].map(String::from).to_vec();
    exec_phase(container, "setting the rebuild's pkgrel", cmd, "root", log).await
}

/// The phase that stops the builder's processes and collects the packages (collect.sh).
pub(super) const COLLECTING: &str = "collecting the packages";

/// Checks what the build made against the locked commit ([`crate::trust::check_build`]), on a
/// blocking thread (it reads every byte). Without `debug`, makepkg's `PKGBASE-debug` package
/// (made when the PKGBUILD's own `options=(debug)` asks for one) is left out first, and the log
/// says so: the repository holds the pkgnames the PKGBUILD declares. Errors: a file refused.
async fn check_packages(
    job: &BuildJob<'_>,
    made: Vec<Utf8PathBuf>,
    log: &mut CappedLog,
) -> Result<Vec<CheckedPackage>, BuildError> {
    let declared = Declared {
        pkgbase: job.pkgbase.to_string(),
        pkgnames: job.srcinfo.pkgnames.clone(),
        version: job.srcinfo.version.clone(),
        arch: job.arch.to_string(),
        vcs: job.vcs,
        debug: job.debug,
        bump: job.bump.cloned(),
    };
    let (debug, files): (Vec<_>, Vec<_>) = made.into_iter().partition(|f| {
        crate::alpm::is_debug_package(f.file_name().unwrap_or_default(), job.pkgbase, &declared.pkgnames)
    });
    if !job.debug {
        for file in &debug {
            let _ = fs_err::remove_file(file);
            let name = file.file_name().unwrap_or_default();
            let _ = writeln!(log, "==> repoctl: left out {name}: a debug package, and `debug` is off for this package");
        }
    }
    let files: Vec<Utf8PathBuf> = if job.debug { files.into_iter().chain(debug).collect() } else { files };
    let checked = tokio::task::spawn_blocking(move || crate::trust::check_build(&files, &declared))
        .await
        .map_err(|e| BuildError::Task(format!("checking the packages ended abnormally: {e}")))?;
    match checked {
        Ok(checked) => {
            for c in &checked {
                let _ = writeln!(
                    log,
                    "==> repoctl: checked {} ({} {}, SHA-256 {})",
                    c.file_name(),
                    c.pkgname(),
                    c.version(),
                    c.sha256()
                );
            }
            Ok(checked)
        }
        Err(problems) => {
            for p in &problems {
                let _ = writeln!(log, "==> repoctl: refused: {}", crate::cause::chain(p).join(": "));
            }
            Err(BuildError::Packages(problems))
        }
    }
}

/// Imports `keys` into the builder's keyring (nothing to do without any); returns the expected
/// keys the keyring still lacks, which a failed signature check is then blamed on.
pub(super) async fn import_keys(
    container: &crate::docker::Container,
    keys: &BuildKeys,
    keyserver: Option<&str>,
    log: &mut CappedLog,
) -> Result<Vec<String>, BuildError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    for note in &keys.notes {
        let _ = writeln!(log, "==> repoctl: {note}");
    }
    let mut cmd = vec!["sh".to_string(), "/usr/local/lib/repoctl/keys.sh".to_string()];
    if let Some(url) = keyserver.filter(|_| !keys.receive.is_empty()) {
        cmd.extend(["--keyserver".to_string(), url.to_string()]);
    }
    cmd.extend(keys.receive.iter().map(ToString::to_string));
    let (code, output) = exec_logged(container, "importing PGP keys", cmd, "builder", log).await?;
    if code != 0 {
        return Err(BuildError::Phase { phase: "importing PGP keys", code });
    }
    let missing = keys.missing(&keys::keyring_from_output(&output));
    if !missing.is_empty() {
        let _ = writeln!(
            log,
            "==> repoctl: no public key for {} (expected by validpgpkeys or repo.yaml)",
            missing.join(", ")
        );
    }
    Ok(missing)
}

/// How to run `cmd` as the unprivileged `builder`, holding `caps`. Docker gives a process it
/// starts as a non-root user no effective capabilities, and no-new-privileges forbids gaining
/// them later, so a package granted some (repo.yaml's `capabilities`) starts as root and drops
/// to `builder` through setpriv(1) (util-linux, in Arch's base) with them raised in its
/// ambient set, which survives the switch and the exec of makepkg (capabilities(7)).
fn as_builder(cmd: Vec<String>, caps: &[crate::docker::Capability]) -> (Vec<String>, &'static str) {
    if caps.is_empty() {
        return (cmd, "builder");
    }
    let raised = caps.iter().map(|c| format!("+{}", c.as_str().to_lowercase())).collect::<Vec<_>>().join(",");
    let mut wrapped: Vec<String> =
        ["setpriv", "--reuid=builder", "--regid=builder", "--init-groups", "--reset-env"].map(String::from).to_vec();
    wrapped.push(format!("--inh-caps={raised}"));
    wrapped.push(format!("--ambient-caps={raised}"));
    wrapped.extend(["--", "env", "LC_ALL=C.UTF-8"].map(String::from));
    wrapped.extend(cmd);
    (wrapped, "root")
}

/// A phase that runs makepkg (which checks signatures): a failed check is reported as such,
/// naming the keys that were missing.
pub(super) async fn makepkg_phase(
    container: &crate::docker::Container,
    phase: &'static str,
    cmd: Vec<String>,
    missing: &[String],
    caps: &[crate::docker::Capability],
    log: &mut CappedLog,
) -> Result<Vec<u8>, BuildError> {
    let (cmd, user) = as_builder(cmd, caps);
    let (code, output) = exec_logged(container, phase, cmd, user, log).await?;
    match code {
        0 => Ok(output),
        _ if keys::signature_check_failed(&output) => Err(BuildError::Signatures { phase, missing: missing.to_vec() }),
        code => Err(BuildError::Phase { phase, code }),
    }
}

pub(super) async fn exec_phase(
    container: &crate::docker::Container,
    phase: &'static str,
    cmd: Vec<String>,
    user: &str,
    log: &mut CappedLog,
) -> Result<(), BuildError> {
    let (code, _) = exec_logged(container, phase, cmd, user, log).await?;
    if code == 0 { Ok(()) } else { Err(BuildError::Phase { phase, code }) }
}

/// Logs how long `work` took, at debug level (`-vv`): the per-phase timings of a build.
async fn timed<T>(what: &str, work: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let out = work.await;
    tracing::debug!("{what}: {:.3} s", started.elapsed().as_secs_f64());
    out
}

/// Like [`exec_phase`], also returning the exit code and what the command printed (its last
/// 64 KiB), whatever the exit code.
pub(super) async fn exec_logged(
    container: &crate::docker::Container,
    phase: &'static str,
    cmd: Vec<String>,
    user: &str,
    log: &mut CappedLog,
) -> Result<(i64, Vec<u8>), BuildError> {
    exec_logged_as(container, phase, cmd, user, log, true).await
}

/// [`exec_logged`], with `guarded` false for a command that runs no package's code and may
/// start before the build network's routes are set ([`crate::docker::Container::exec_unguarded`]).
pub(super) async fn exec_logged_as(
    container: &crate::docker::Container,
    phase: &'static str,
    cmd: Vec<String>,
    user: &str,
    log: &mut CappedLog,
    guarded: bool,
) -> Result<(i64, Vec<u8>), BuildError> {
    const MAX: usize = 64 << 10;
    let _ = writeln!(log, "==> repoctl: {phase} (as {user})");
    let spec = ExecSpec { cmd, user, env: vec!["LC_ALL=C.UTF-8".into()], workdir: Some("/repoctl") };
    let mut captured = Vec::new();
    let mut sink = |bytes: &[u8]| {
        let _ = log.write_all(bytes);
        captured.extend_from_slice(bytes);
        if captured.len() > MAX {
            captured.drain(..captured.len() - MAX);
        }
    };
    let code = if guarded {
        timed(phase, container.exec(&spec, &mut sink)).await?
    } else {
        timed(phase, container.exec_unguarded(&spec, &mut sink)).await?
    };
    Ok((code, captured))
}

/// A build log that stops growing at [`MAX_LOG_BYTES`]: a PKGBUILD printing without end
/// cannot fill the disk. The cut is marked in the log.
pub struct CappedLog {
    file: std::fs::File,
    written: u64,
    capped: bool,
}

/// The most of one build's output kept in its log file.
pub const MAX_LOG_BYTES: u64 = 64 << 20;

impl CappedLog {
    pub fn create(path: &Utf8Path) -> std::io::Result<CappedLog> {
        Ok(CappedLog { file: std::fs::File::create(path)?, written: 0, capped: false })
    }
}

impl Write for CappedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.capped {
            return Ok(buf.len());
        }
        let room = MAX_LOG_BYTES.saturating_sub(self.written);
        if (buf.len() as u64) > room {
            self.file.write_all(&buf[..room as usize])?;
            self.file.write_all(b"\n==> repoctl: log cut here: more than 64 MiB of output\n")?;
            self.capped = true;
        } else {
            self.file.write_all(buf)?;
        }
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// The last `n` lines of a log file, for the summary of a failed build, made safe to print:
/// the log is the PKGBUILD's output (see [`crate::ui::sanitize_line`]). Reads at most the last
/// 64 KiB, however long the log.
pub fn log_tail(path: &Utf8Path, n: usize) -> Vec<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut bytes = Vec::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 << 10)));
        let _ = file.take(64 << 10).read_to_end(&mut bytes);
    }
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| crate::ui::sanitize_line(l)).collect()
}

#[cfg(test)]
mod vcs_tests {
    #[test]
    fn the_upstream_version_is_read_from_the_last_srcinfo_block() {
        let srcinfo =
            "pkgbase = tool-git\n\tpkgver = r7.abc\n\tpkgrel = 1\n\tepoch = 2\n\tarch = any\n\npkgname = tool-git\n";
        let output = format!(
            "REPOCTL-SRCINFO-BEGIN\npkgbase = fake\nREPOCTL-SRCINFO-END\nmakepkg noise\nREPOCTL-SRCINFO-BEGIN\n{srcinfo}REPOCTL-SRCINFO-END\n"
        );
        assert_eq!(super::upstream_srcinfo_version(&output).as_deref(), Some("2:r7.abc-1"));
        assert_eq!(super::upstream_srcinfo_version("no markers"), None);
        assert_eq!(super::upstream_srcinfo_version("REPOCTL-SRCINFO-BEGIN\ngarbage\nREPOCTL-SRCINFO-END\n"), None);
    }
}
