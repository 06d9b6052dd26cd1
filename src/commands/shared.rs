//! What several commands share: the builder image, this run's image, the context of builds
//! and VCS checks (with the published dependency files fetched), and where `--out DIR` keeps
//! debug packages. Command modules import this, never each other.
use crate::aur::AurClient;
use crate::build::{BuildContext, RunDirs};
use crate::config::Config;
use crate::docker::{BuildNetwork, Docker};
use crate::error::Error;
use crate::plan::Plan;
use crate::publish::Target;
use crate::ui::{Printer, Reporter};
use camino::Utf8Path;
use futures_util::StreamExt;
use std::sync::Arc;

/// Where `build --out DIR` puts debug packages, and where `repoctl publish DIR` looks for them.
pub(super) const DEBUG_SUBDIR: &str = "debug";

/// The builder image made from `builder.image` (built once, then reused). When it has to be
/// built, that is said, and its build is logged to `LOGS/builder-image.log`. Returns its tag.
/// Errors: an image the daemon neither has nor can pull is a problem at `builder.image`'s line
/// (or, when repo.yaml leaves the default, at the file's start, saying so).
pub(super) async fn prepare_image(
    docker: &Docker,
    config: &Config,
    logs: &Utf8Path,
    printer: &Printer,
) -> Result<String, Error> {
    let base = config.builder.image.as_str();
    let log_path = logs.join("builder-image.log");
    // Opened at the first line: a run that reuses the image keeps the last build's log.
    let mut log: Option<std::io::Result<fs_err::File>> = None;
    let mut sink = |line: &str| {
        let file = log.get_or_insert_with(|| {
            printer.step(&format!("building the builder image from {base} (log: {log_path})"));
            fs_err::create_dir_all(logs).and_then(|()| fs_err::File::create(&log_path))
        });
        if let Ok(file) = file {
            let _ = std::io::Write::write_all(file, line.as_bytes());
        }
    };
    let built = crate::build::ensure_builder_image(docker, base, &mut sink).await;
    let wrote_log = log.as_ref().is_some_and(|f| f.is_ok());
    if let Ok(tag) = &built {
        tracing::info!("builder image {tag}");
    }
    built.map_err(|e| {
        if wrote_log {
            printer.info(&format!("  (image build log: {log_path})"));
        }
        match e {
            crate::docker::DockerError::NoImage(what) => missing_image(config, &what).into(),
            e => e.into(),
        }
    })
}

/// The problem of a builder image that is neither here nor pullable (`what`: the image and why).
fn missing_image(config: &Config, what: &str) -> crate::config::Diagnostics {
    use crate::config::{Diagnostic, Diagnostics, Pos};
    let message = format!("builder image {what} is not present and cannot be pulled here");
    let diagnostic = match config.builder.image_pos {
        Some(pos) => Diagnostic::new(&config.path, pos, message)
            .hint("name an image the Docker daemon has (`docker image ls`) or can pull, such as archlinux:base-devel"),
        None => Diagnostic::new(&config.path, Pos { line: 1, col: 1 }, message).hint(format!(
            "repo.yaml sets no `builder.image`, so the default {} is used: let the daemon pull it (network, registry \
             mirror), or set `builder.image` to an image it has",
            crate::config::DEFAULT_IMAGE
        )),
    };
    Diagnostics(vec![diagnostic])
}

/// This run's image ([`crate::build::choose_run_image`]): the synced image as it is when it saw
/// the same sync databases as the plan (`sync_dbs`, None when unknown), else upgraded once (the
/// keyring, then `pacman -Syu`), logged to `LOGS/run-image.log`. Says which. Release it with
/// [`super::release_run_image`] when the run ends.
pub(super) async fn refresh_image(
    docker: &Docker,
    image: &str,
    sync_dbs: Option<&crate::build::SyncDbs>,
    logs: &Utf8Path,
    printer: &Printer,
) -> Result<crate::build::RunImage, Error> {
    let choice = crate::build::choose_run_image(docker, image, sync_dbs).await?;
    printer.step(&choice.describe());
    let log_path = logs.join("run-image.log");
    let mut log = None;
    let mut sink = |bytes: &[u8]| {
        let file =
            log.get_or_insert_with(|| fs_err::create_dir_all(logs).and_then(|()| fs_err::File::create(&log_path)));
        if let Ok(file) = file {
            let _ = std::io::Write::write_all(file, bytes);
        }
    };
    crate::build::make_run_image(docker, choice, &mut sink).await.map_err(|e| {
        if log.as_ref().is_some_and(|f| f.is_ok()) {
            printer.info(&format!("  (log: {log_path})"));
        }
        e.into()
    })
}

/// Where a run's published dependencies come from: the target, the live database they are
/// checked against, and the key to check their signatures with (signed repositories).
pub(super) struct Published<'a> {
    pub target: &'a dyn Target,
    pub trusted: &'a crate::trust::signed::TrustedDb,
    /// The key's public part in a signed repository.
    pub key: Option<&'a crate::sign::PublicKey>,
}

/// What every build and VCS check of a run shares, the published package files they install
/// fetched first and checked against `published`'s database; its builds go on `network`.
/// Errors: the daemon cannot say what `run_image` is.
#[allow(clippy::too_many_arguments)]
pub(super) async fn build_context(
    config: &Config,
    docker: &Docker,
    run_image: &str,
    network: BuildNetwork,
    dirs: &RunDirs,
    aur: &AurClient,
    published: &Published<'_>,
    plan: &Plan,
    printer: &Printer,
) -> Result<BuildContext, Error> {
    let builder = builder_identity(docker, config, run_image).await?;
    let aur = aur.clone();
    let published = fetch_published(plan, published, dirs, printer).await;
    Ok(BuildContext {
        docker: docker.clone(),
        image: run_image.to_string(),
        arch: config.arch.clone(),
        dirs: dirs.clone(),
        git_url: Box::new(move |base| aur.git_url(base)),
        published,
        earlier: Default::default(),
        jobs: config.builder.jobs as usize,
        reporter: Arc::new(printer.clone()),
        keyserver: config.builder.keyserver.clone(),
        builder,
        build_network: Arc::new(network),
    })
}

/// The builder image as provenance records it: repo.yaml's `builder.image`, the image ID of
/// this run's image `run_image` (what every build starts from), and the image ID of
/// `builder.image` itself when the daemon has it. Errors: the daemon cannot be asked, or no
/// longer has `run_image`.
async fn builder_identity(
    docker: &Docker,
    config: &Config,
    run_image: &str,
) -> Result<crate::provenance::Builder, Error> {
    let digest = docker.image_id(run_image).await?;
    let digest = digest.ok_or_else(|| crate::docker::DockerError::NoImage(run_image.to_string()))?;
    let base_digest = docker.image_id(&config.builder.image).await?;
    Ok(crate::provenance::Builder { image: config.builder.image.clone(), digest, base_digest })
}

/// Downloads the published package files the plan's builds and VCS checks install
/// ([`Plan::published_dependencies`]) into the run's `deps` directory, each checked against its
/// entry in the live database ([`crate::trust::signed::TrustedDb::check_fetched`]). A file that
/// cannot be fetched, or is not the file its entry describes, fails only the builds that need
/// it.
async fn fetch_published(
    plan: &Plan,
    published: &Published<'_>,
    dirs: &RunDirs,
    printer: &Printer,
) -> std::collections::BTreeMap<String, Result<Vec<crate::trust::signed::FetchedPackage>, String>> {
    let needed = plan.published_dependencies();
    if !needed.is_empty() {
        printer.step(&format!("fetching the published packages of {} dependency pkgbase(s)", needed.len()));
    }
    let dir = &dirs.run.join("deps");
    // Several pkgbases at once, as the builds that fetched them used to; each one's files in turn.
    futures_util::stream::iter(needed)
        .map(|(base, files)| async move {
            let mut paths = Vec::new();
            for file in &files {
                match download_one(published, dir, file).await {
                    Ok(path) => paths.push(path),
                    Err(why) => return (base, Err(why)),
                }
            }
            (base, Ok(paths))
        })
        .buffer_unordered(DOWNLOADS_IN_FLIGHT)
        .collect()
        .await
}

/// Published dependency pkgbases fetched at once.
const DOWNLOADS_IN_FLIGHT: usize = 8;

/// One published file into `dir`: to a temporary name, renamed once whole, then checked
/// against its entry; a file that does not match is removed.
async fn download_one(
    published: &Published<'_>,
    dir: &Utf8Path,
    file: &str,
) -> Result<crate::trust::signed::FetchedPackage, String> {
    fs_err::create_dir_all(dir).map_err(|e| e.to_string())?;
    let (part, dest) = (dir.join(format!(".{file}.part")), dir.join(file));
    // %CSIZE% of its entry in the verified database: a larger object is not that file.
    let entry = published.trusted.entries().iter().find(|e| e.filename == file);
    let limit = entry.and_then(|e| e.csize).unwrap_or(crate::trust::package::MAX_UNPACKED_BYTES);
    published.target.download(file, &part, limit).await.map_err(|e| match e {
        crate::publish::PublishError::TooLarge { .. } => format!(
            "the published dependency {file} is not what the repository's database describes: the object is larger \
             than its entry's %CSIZE% ({limit} bytes)"
        ),
        e => format!("cannot fetch dependency {file} from the repository: {}", crate::build::with_causes(&e)),
    })?;
    fs_err::rename(&part, &dest).map_err(|e| e.to_string())?;
    published.trusted.check_fetched(file, &dest, published.key).map_err(|why| {
        let _ = fs_err::remove_file(&dest);
        format!("the published dependency {file} is not what the repository's database describes: {why}")
    })
}

/// This run's image (`refresh`, [`refresh_image`], stopped by Ctrl-C) and, made meanwhile, its
/// build network ([`Docker::create_build_network`], probed with the builder image `image`).
/// When either fails, the other is let go of. Errors: either's.
pub(super) async fn run_image_and_network(
    config: &Config,
    docker: &Docker,
    image: &str,
    refresh: impl std::future::Future<Output = Result<crate::build::RunImage, Error>>,
    printer: &Printer,
) -> Result<(BuildNetwork, crate::build::RunImage), Error> {
    let network = docker.create_build_network(image, &config.builder.allow_host);
    let (network, run_image) = tokio::join!(network, super::or_interrupt(docker, refresh));
    match (network, run_image) {
        (Ok(network), Ok(Ok(run_image))) => {
            tracing::info!("{}", network.describe());
            Ok((network, run_image))
        }
        (network, Ok(Ok(run_image))) => {
            super::release_run_image(docker, run_image, printer).await;
            Err(network.err().map(Error::from).unwrap_or(Error::Interrupted))
        }
        (_, Ok(Err(e)) | Err(e)) => {
            let _ = docker.remove_run_networks().await;
            Err(e)
        }
    }
}

/// `plan --probe-vcs`: the VCS packages the plan skips are asked for their pkgver() in
/// containers of this run's image (as `build` does before building), and the answers applied
/// to the plan. Builds nothing, publishes nothing; the run's image is released afterwards.
/// `sync_dbs`: the sync databases the plan read ([`super::Planned::sync_dbs`]).
#[allow(clippy::too_many_arguments)]
pub(super) async fn probe_vcs(
    config: &Config,
    plan: Plan,
    sync_dbs: &crate::build::SyncDbs,
    target: &dyn Target,
    remote: &crate::publish::RemoteRepo,
    aur: &AurClient,
    work: &Utf8Path,
    printer: &Printer,
) -> Result<Plan, Error> {
    if plan.vcs_candidates().next().is_none() {
        return Ok(plan);
    }
    let run_id = super::new_run_id();
    let dirs =
        RunDirs::new(work, &run_id).map_err(Error::io(format!("cannot create the run directory under {work}")))?;
    let docker = Docker::connect(&run_id, work).await?;
    let image = prepare_image(&docker, config, &dirs.logs, printer).await?;
    let refresh = refresh_image(&docker, &image, Some(sync_dbs), &dirs.logs, printer);
    let (network, run_image) = run_image_and_network(config, &docker, &image, refresh, printer).await?;
    let probes = async {
        for step in plan.vcs_candidates() {
            docker
                .ensure_volume(&crate::build::source_cache_volume(docker.work_dir(), &step.pkgbase), "source-cache")
                .await?;
        }
        // Nothing is published from here, but the probes install published dependencies: in a
        // signed repository the database is verified with the key's public part, or the run
        // stops (`sign.public_key`), as a shard's build does.
        let key = super::public_key(config, None)?;
        let history = crate::trust::signed::History::none();
        let trusted = crate::publish::trust_remote(target, &config.name, remote, key.as_ref(), &history).await?;
        let published = Published { target, trusted: &trusted, key: key.as_ref() };
        let ctx =
            build_context(config, &docker, &run_image.id, network, &dirs, aur, &published, &plan, printer).await?;
        let probed = super::or_interrupt(&docker, crate::build::probe_vcs(&ctx, &plan)).await;
        docker.remove_run_networks_soon();
        probed
    }
    .await;
    super::release_run_image(&docker, run_image, printer).await;
    let probes = probes?;
    record_vcs_checks(&probes, work, printer);
    Ok(crate::plan::apply_vcs(plan, &probes))
}

/// Records when each VCS package's upstream was asked and what it said, for `vcs_interval`
/// ([`crate::plan::defer_vcs_checks`]); a failed check is not recorded (the next run asks again).
pub(super) fn record_vcs_checks(
    probes: &std::collections::BTreeMap<String, Result<String, String>>,
    work: &Utf8Path,
    printer: &Printer,
) {
    let checked = jiff::Timestamp::now().as_second();
    let checks: std::collections::BTreeMap<String, crate::plan::VcsCheck> = probes
        .iter()
        .filter_map(|(base, p)| Some((base.clone(), crate::plan::VcsCheck { checked, upstream: p.clone().ok()? })))
        .collect();
    if let Err(e) = crate::plan::record_vcs_checks(work, &checks) {
        printer.warn(&format!("cannot record VCS checks in {work}: {e}"));
    }
}
