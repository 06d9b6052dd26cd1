//! The only module that speaks to Docker (through bollard). One struct, one method per
//! operation; bollard's types stay in here.
//!
//! Every container carries the labels of [`Docker::labels`], so a run's containers can be found and
//! removed after a crash or Ctrl-C (`repoctl clean`), and none outlives its run. Every
//! container, volume, image and network also names the work directory and the process of the
//! run that made it ([`owner`]): `repoctl clean` works on one work directory's resources and
//! never on a live run's.
mod capability;
mod container;
mod leftover;
mod network;
mod owner;

pub use capability::{Capability, CapabilityError, GRANTABLE_CAPABILITIES, KEPT_CAPABILITIES};
pub use container::{Ahead, AheadWork, Container, ContainerSpec, ExecSpec, Pin, VolumeMount, finish_removals};
pub use leftover::{Leftover, SUPERSEDED, SYNCED, Scope, Survey};
pub use network::BuildNetwork;
pub use owner::{LABEL_PROCESS, LABEL_WORK_DIR, Liveness, Process, work_dir_label};

use bollard::query_parameters::{
    BuildImageOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;
use std::collections::HashMap;

use crate::cause::{BoxError, said};

pub const LABEL_MANAGED: &str = "io.repoctl.managed";
pub const LABEL_RUN: &str = "io.repoctl.run";
pub const LABEL_PURPOSE: &str = "io.repoctl.purpose";
/// On a synced image (`crate::build::synced_image_tag`): the SHA-256 of each official sync
/// database it was upgraded against, as `crate::build::render_sync_dbs` writes them.
pub const LABEL_SYNC_DBS: &str = "io.repoctl.sync-dbs";
/// On a synced image: how many upgrades it is from the builder image (1: upgraded from it).
pub const LABEL_SYNC_GENERATION: &str = "io.repoctl.sync-generation";

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("cannot reach the Docker daemon")]
    Connect(#[source] BoxError),
    #[error("Docker {op} failed")]
    Api {
        op: &'static str,
        #[source]
        source: BoxError,
    },
    #[error("building image {tag} failed")]
    Build {
        tag: String,
        #[source]
        source: BoxError,
    },
    #[error("image {0} is not present and cannot be pulled here")]
    NoImage(String),
    #[error("{0}")]
    Limit(String),
    /// Build containers could not be kept off link-local addresses and this machine's own
    /// ([`network`]): no build runs without that.
    #[error("cannot keep build containers off this machine's addresses: {0}")]
    Guard(String),
}

/// How long [`Docker::remove_image`] keeps trying while the daemon refuses for a reason that
/// passes (a container still being removed, a busy storage layer).
const IMAGE_REMOVAL_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

pub(crate) fn api(op: &'static str) -> impl Fn(bollard::errors::Error) -> DockerError {
    move |e| DockerError::Api { op, source: Box::new(e) }
}

/// Every run this process connected for ([`Docker::connect`]), for [`sweep_runs`].
static CONNECTED: std::sync::Mutex<Vec<Docker>> = std::sync::Mutex::new(Vec::new());

/// Removes whatever containers and build networks of this process's runs are still in the daemon
/// when a command ends, and returns the errors of the removals that failed. Every path is meant
/// to remove its own (a pin with the run's image, a container with its work); this is the one
/// place that makes "no container outlives the process that made it" hold whatever path a
/// command took (an error between pinning an image and using it, a future dropped by a
/// `select!`, a removal the daemon refused once). Two list calls per run when nothing is left.
pub async fn sweep_runs() -> Vec<DockerError> {
    let connected: Vec<Docker> = std::mem::take(&mut *CONNECTED.lock().unwrap_or_else(|p| p.into_inner()));
    let mut errors = Vec::new();
    for docker in connected {
        match docker.list_labelled(true).await {
            Ok(left) if left.is_empty() => {
                if let Err(e) = docker.remove_run_networks().await {
                    errors.push(e);
                }
            }
            Ok(left) => {
                tracing::info!("removing {} container(s) of run {} left at its end", left.len(), docker.run_id);
                if let Err(e) = docker.remove_all_of_run().await {
                    errors.push(e);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    errors
}

/// A connection to the daemon, tied to one run of repoctl and its work directory.
#[derive(Clone)]
pub struct Docker {
    client: bollard::Docker,
    run_id: String,
    /// [`LABEL_WORK_DIR`]'s value for this run.
    work_dir: String,
    /// [`LABEL_PROCESS`]'s value for this process (None where /proc cannot say).
    process: Option<String>,
}

impl Docker {
    /// Connects through DOCKER_HOST or the local socket and agrees on an API version. What this
    /// connection creates is labelled with `run_id`, the work directory `work_dir` and this
    /// process.
    pub async fn connect(run_id: &str, work_dir: &camino::Utf8Path) -> Result<Docker, DockerError> {
        let client = bollard::Docker::connect_with_local_defaults().map_err(|e| DockerError::Connect(Box::new(e)))?;
        let client = client.negotiate_version().await.map_err(|e| DockerError::Connect(Box::new(e)))?;
        client.ping().await.map_err(|e| DockerError::Connect(Box::new(e)))?;
        let process = Process::current().map(|p| p.label());
        let docker = Docker { client, run_id: run_id.to_string(), work_dir: work_dir_label(work_dir), process };
        let mut connected = CONNECTED.lock().unwrap_or_else(|p| p.into_inner());
        if !connected.iter().any(|d| d.run_id == docker.run_id) {
            connected.push(docker.clone());
        }
        Ok(docker)
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The work directory this connection's resources are labelled with ([`work_dir_label`]).
    pub fn work_dir(&self) -> &str {
        &self.work_dir
    }

    /// Labels every container (and network) of this run carries: [`Docker::owner_labels`], the
    /// run and the purpose.
    pub fn labels(&self, purpose: &str) -> HashMap<String, String> {
        let mut labels = self.owner_labels();
        labels.insert(LABEL_RUN.to_string(), self.run_id.clone());
        labels.insert(LABEL_PURPOSE.to_string(), purpose.to_string());
        labels
    }

    /// Labels of everything repoctl creates, caches that outlive the run included: repoctl's
    /// mark, the work directory and the process that made it.
    pub fn owner_labels(&self) -> HashMap<String, String> {
        let mut labels = HashMap::from([
            (LABEL_MANAGED.to_string(), "true".to_string()),
            (LABEL_WORK_DIR.to_string(), self.work_dir.clone()),
        ]);
        if let Some(process) = &self.process {
            labels.insert(LABEL_PROCESS.to_string(), process.clone());
        }
        labels
    }

    /// The image's ID, or None when it is not present.
    pub async fn image_id(&self, image: &str) -> Result<Option<String>, DockerError> {
        match self.client.inspect_image(image).await {
            Ok(info) => Ok(info.id),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
            Err(e) => Err(api("inspect image")(e)),
        }
    }

    /// Builds `tag` from a tar build context, passing build output lines to `log`.
    pub async fn build_image(
        &self,
        tag: &str,
        context: Vec<u8>,
        buildargs: &HashMap<String, String>,
        log: &mut (dyn FnMut(&str) + Send),
    ) -> Result<(), DockerError> {
        let labels = self.owner_labels();
        let options = BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .t(tag)
            .rm(true)
            .forcerm(true)
            .buildargs(buildargs)
            .labels(&labels)
            .build();
        let mut stream = self.client.build_image(options, None, Some(bollard::body_full(context.into())));
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| DockerError::Build { tag: tag.to_string(), source: Box::new(e) })?;
            if let Some(detail) = info.error_detail {
                let message = detail.message.unwrap_or_else(|| "unknown error".into());
                return Err(DockerError::Build { tag: tag.to_string(), source: said(message) });
            }
            if let Some(line) = info.stream {
                log(&line);
            }
        }
        match self.image_id(tag).await? {
            Some(_) => Ok(()),
            None => Err(DockerError::Build { tag: tag.to_string(), source: said("the daemon reported no image") }),
        }
    }

    /// The label filters that select this run's containers and networks (the daemon ANDs
    /// them): its run ID and, where /proc could say, this process ([`LABEL_PROCESS`]). Two
    /// processes in different PID namespaces sharing a daemon (two CI runners, two
    /// containers) could once make the same run ID; the process label keeps one from removing
    /// the other's containers even then.
    pub(crate) fn run_filters(&self) -> Vec<String> {
        let mut filters = vec![format!("{LABEL_RUN}={}", self.run_id)];
        if let Some(process) = &self.process {
            filters.push(format!("{LABEL_PROCESS}={process}"));
        }
        filters
    }

    /// IDs of containers carrying repoctl's label: this run's ([`Docker::run_filters`]), or
    /// every run's.
    async fn list_labelled(&self, this_run: bool) -> Result<Vec<String>, DockerError> {
        let labels = if this_run { self.run_filters() } else { vec![format!("{LABEL_MANAGED}=true")] };
        let filters = HashMap::from([("label".to_string(), labels)]);
        let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        let found = self.client.list_containers(Some(options)).await.map_err(api("list containers"))?;
        Ok(found.into_iter().filter_map(|c| c.id).collect())
    }

    /// Removes every container of this run, returning how many.
    async fn remove_run_containers(&self) -> Result<usize, DockerError> {
        let ids = self.list_labelled(true).await?;
        for id in &ids {
            self.remove_container(id).await?;
        }
        Ok(ids.len())
    }

    /// Removes every container of this run that is still there (Ctrl-C, timeouts), and waits
    /// until the daemon lists none: a removal another task started (409, "in progress") is not
    /// done yet, and a container must not outlive the process that made it. Then its networks.
    pub async fn remove_all_of_run(&self) -> Result<usize, DockerError> {
        let mut removed = 0;
        for _ in 0..40 {
            let n = self.remove_run_containers().await?;
            if n == 0 {
                self.remove_run_networks().await?;
                return Ok(removed);
            }
            removed += n;
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        let left = self.list_labelled(true).await?.len();
        if left == 0 {
            self.remove_run_networks().await?;
            Ok(removed)
        } else {
            Err(DockerError::Limit(format!("{left} container(s) of run {} could not be removed", self.run_id)))
        }
    }

    /// Removes a container (forced, with its anonymous volumes) and returns once it is gone.
    /// A 500 (the daemon could not unmount or delete the container's layer yet, "device or
    /// resource busy") is asked again, up to 3 times, a quarter of a second apart.
    async fn remove_container(&self, id: &str) -> Result<(), DockerError> {
        let mut tries = 0;
        loop {
            let options = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
            match self.client.remove_container(id, Some(options)).await {
                Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                    return Ok(());
                }
                // 409: another removal is in progress (a run killed while removing it in the
                // background, or two removers): done only when the container is gone.
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => {
                    return self.gone(id).await;
                }
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 500, .. }) if tries < 3 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
                Err(e) => return Err(api("remove container")(e)),
            }
        }
    }

    /// Waits, up to 60 s, until inspecting container `id` answers 404.
    async fn gone(&self, id: &str) -> Result<(), DockerError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            match self.client.inspect_container(id, None::<bollard::query_parameters::InspectContainerOptions>).await {
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(()),
                Err(e) => return Err(api("inspect container")(e)),
                Ok(_) if std::time::Instant::now() >= deadline => {
                    return Err(DockerError::Limit(format!("container {id} was still being removed after 60 s")));
                }
                Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
    }
}

impl Docker {
    /// Pulls an image from its registry, passing status lines to `log`.
    pub async fn pull_image(&self, image: &str, log: &mut (dyn FnMut(&str) + Send)) -> Result<(), DockerError> {
        let options = bollard::query_parameters::CreateImageOptionsBuilder::default().from_image(image).build();
        let mut stream = self.client.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(status) = info.status {
                        log(&format!("{status}\n"));
                    }
                }
                Err(e) => {
                    tracing::debug!("pull of {image} failed: {e}");
                    return Err(DockerError::NoImage(format!("{image} ({e})")));
                }
            }
        }
        Ok(())
    }
}

impl Docker {
    /// Creates the named volume if it is not there yet (caches that outlive runs).
    pub async fn ensure_volume(&self, name: &str, purpose: &str) -> Result<(), DockerError> {
        // A volume that is already there keeps the labels of whoever made it.
        let mut labels = self.owner_labels();
        labels.insert(LABEL_PURPOSE.to_string(), purpose.to_string());
        let request = bollard::models::VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(labels),
            ..Default::default()
        };
        self.client.create_volume(request).await.map_err(api("create volume"))?;
        Ok(())
    }

    /// Removes an image (one already gone is fine) and makes sure it is gone.
    ///
    /// The daemon may refuse for a while after the containers that used the image are removed:
    /// 409 while a removal another task started (Ctrl-C, a timeout) is still going, and 500 when
    /// a storage driver (fuse-overlayfs) still holds the last container's layers ("device or
    /// resource busy"). Both are retried, backing off up to about a minute; a 4xx other than 404
    /// and 409 is not. Errors: the image is still there after the retries, or the daemon cannot
    /// be asked.
    pub async fn remove_image(&self, image: &str) -> Result<(), DockerError> {
        let options = bollard::query_parameters::RemoveImageOptionsBuilder::default().force(true).build();
        let mut delay = std::time::Duration::from_millis(100);
        let mut waited = std::time::Duration::ZERO;
        loop {
            let retryable = match self.client.remove_image(image, Some(options.clone()), None).await {
                Ok(_) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                    match self.client.inspect_image(image).await {
                        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                            return Ok(());
                        }
                        // Still there (another tag went, or the daemon answered early): again.
                        Ok(_) => None,
                        Err(e) => return Err(api("inspect image")(e)),
                    }
                }
                Err(e @ bollard::errors::Error::DockerResponseServerError { status_code: 409 | 500..=599, .. }) => {
                    Some(e)
                }
                Err(e) => return Err(api("remove image")(e)),
            };
            if waited >= IMAGE_REMOVAL_PATIENCE {
                return Err(match retryable {
                    Some(e) => api("remove image")(e),
                    None => DockerError::Api {
                        op: "remove image",
                        source: crate::cause::said(format!("{image} is still there after {}s", waited.as_secs())),
                    },
                });
            }
            tracing::debug!("removing {image} again in {delay:?}: {retryable:?}");
            tokio::time::sleep(delay).await;
            waited += delay;
            delay = (delay * 2).min(std::time::Duration::from_secs(5));
        }
    }

    /// IDs of the synced images (labelled [`LABEL_SYNC_DBS`]) that no tag names any more: a newer
    /// one took the tag. An image that a newer one was made from is not listed (the daemon
    /// keeps it as that one's parent, and it costs no disk of its own).
    pub async fn superseded_images(&self) -> Result<Vec<String>, DockerError> {
        let filters = HashMap::from([
            ("label".to_string(), vec![LABEL_SYNC_DBS.to_string()]),
            ("dangling".to_string(), vec!["true".to_string()]),
        ]);
        let options = bollard::query_parameters::ListImagesOptionsBuilder::default().filters(&filters).build();
        let images = self.client.list_images(Some(options)).await.map_err(api("list images"))?;
        Ok(images.into_iter().map(|i| i.id).collect())
    }

    /// The tags of the current synced images (`repoctl-builder:synced-*`, labelled
    /// [`LABEL_SYNC_DBS`]).
    pub async fn synced_images(&self) -> Result<Vec<String>, DockerError> {
        let filters = HashMap::from([("label".to_string(), vec![LABEL_SYNC_DBS.to_string()])]);
        let options = bollard::query_parameters::ListImagesOptionsBuilder::default().filters(&filters).build();
        let images = self.client.list_images(Some(options)).await.map_err(api("list images"))?;
        Ok(images.into_iter().flat_map(|i| i.repo_tags).filter(|t| t.starts_with("repoctl-builder:synced-")).collect())
    }

    /// Removes `image` (an ID or a tag) unless something still needs it: Ok(false) when the daemon
    /// refuses (409: a container of it exists, such as a run's pin, or a newer image was made
    /// from it), Ok(true) when it is gone. Never forced.
    pub async fn remove_image_unless_used(&self, image: &str) -> Result<bool, DockerError> {
        let options = bollard::query_parameters::RemoveImageOptionsBuilder::default().force(false).build();
        match self.client.remove_image(image, Some(options), None).await {
            Ok(_) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => Ok(false),
            Err(e) => Err(api("remove image")(e)),
        }
    }

    /// How many containers carry repoctl's label, from any run.
    pub async fn count_labelled(&self) -> Result<usize, DockerError> {
        Ok(self.list_labelled(false).await?.len())
    }
}
