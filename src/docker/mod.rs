//! The only module that speaks to Docker (through bollard). One struct, one method per
//! operation; bollard's types stay in here.
//!
//! Every container carries the labels of [`Docker::labels`], so a run's containers can be found and
//! removed after a crash or Ctrl-C (`repoctl clean`), and none outlives its run.
mod capability;
mod container;

pub use capability::{Capability, CapabilityError, GRANTABLE_CAPABILITIES, KEPT_CAPABILITIES};
pub use container::{Ahead, AheadWork, Container, ContainerSpec, ExecSpec, Pin, finish_removals};

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
}

/// How long [`Docker::remove_image`] keeps trying while the daemon refuses for a reason that
/// passes (a container still being removed, a busy storage layer).
const IMAGE_REMOVAL_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

pub(crate) fn api(op: &'static str) -> impl Fn(bollard::errors::Error) -> DockerError {
    move |e| DockerError::Api { op, source: Box::new(e) }
}

/// A connection to the daemon, tied to one run of repoctl.
#[derive(Clone)]
pub struct Docker {
    client: bollard::Docker,
    run_id: String,
}

impl Docker {
    /// Connects through DOCKER_HOST or the local socket and agrees on an API version.
    pub async fn connect(run_id: &str) -> Result<Docker, DockerError> {
        let client = bollard::Docker::connect_with_local_defaults().map_err(|e| DockerError::Connect(Box::new(e)))?;
        let client = client.negotiate_version().await.map_err(|e| DockerError::Connect(Box::new(e)))?;
        client.ping().await.map_err(|e| DockerError::Connect(Box::new(e)))?;
        Ok(Docker { client, run_id: run_id.to_string() })
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Labels every container of this run carries.
    pub fn labels(&self, purpose: &str) -> HashMap<String, String> {
        HashMap::from([
            (LABEL_MANAGED.to_string(), "true".to_string()),
            (LABEL_RUN.to_string(), self.run_id.clone()),
            (LABEL_PURPOSE.to_string(), purpose.to_string()),
        ])
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
        let labels = HashMap::from([(LABEL_MANAGED.to_string(), "true".to_string())]);
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

    /// IDs of containers carrying repoctl's label: every run's, or one run's.
    async fn list_labelled(&self, run_id: Option<&str>) -> Result<Vec<String>, DockerError> {
        let label = match run_id {
            Some(run) => format!("{LABEL_RUN}={run}"),
            None => format!("{LABEL_MANAGED}=true"),
        };
        let filters = HashMap::from([("label".to_string(), vec![label])]);
        let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        let found = self.client.list_containers(Some(options)).await.map_err(api("list containers"))?;
        Ok(found.into_iter().filter_map(|c| c.id).collect())
    }

    /// Removes every container carrying repoctl's label (all runs, or one), returning how many.
    pub async fn remove_labelled(&self, run_id: Option<&str>) -> Result<usize, DockerError> {
        let ids = self.list_labelled(run_id).await?;
        for id in &ids {
            self.remove_container(id).await?;
        }
        Ok(ids.len())
    }

    /// Removes every container of this run that is still there (Ctrl-C, timeouts), and waits
    /// until the daemon lists none: a removal another task started (409, "in progress") is not
    /// done yet, and a container must not outlive the process that made it.
    pub async fn remove_all_of_run(&self) -> Result<usize, DockerError> {
        let mut removed = 0;
        for _ in 0..40 {
            let n = self.remove_labelled(Some(&self.run_id)).await?;
            if n == 0 {
                return Ok(removed);
            }
            removed += n;
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        let left = self.list_labelled(Some(&self.run_id)).await?.len();
        if left == 0 {
            Ok(removed)
        } else {
            Err(DockerError::Limit(format!("{left} container(s) of run {} could not be removed", self.run_id)))
        }
    }

    /// Removes a container (forced, with its anonymous volumes) and returns once it is gone.
    async fn remove_container(&self, id: &str) -> Result<(), DockerError> {
        let options = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
        match self.client.remove_container(id, Some(options)).await {
            Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(()),
            // 409: another removal is in progress (a run killed while removing it in the
            // background, or two removers): done only when the container is gone.
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => self.gone(id).await,
            Err(e) => Err(api("remove container")(e)),
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

/// [`Leftover::kind`] of a synced image that a newer one replaced.
pub const SUPERSEDED: &str = "superseded image";
/// [`Leftover::kind`] of a current synced image (a cache, removed on request), by its tag.
pub const SYNCED: &str = "synced image";

/// Something repoctl left in the daemon: a container of a run that is over, a synced image
/// superseded by a newer one (or a run image of an older repoctl), or (on request) a cache
/// volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub kind: &'static str,
    /// What to remove it by: container ID, image tag or ID, volume name.
    pub id: String,
    /// The run it belongs to, when it belongs to one.
    pub run: Option<String>,
}

impl Docker {
    /// Containers carrying repoctl's label, superseded synced images ([`Docker::superseded_images`]),
    /// run images of older repoctl versions (`repoctl-builder:run-*`), and with `caches`, the
    /// current synced images and the volumes.
    pub async fn leftovers(&self, caches: bool) -> Result<Vec<Leftover>, DockerError> {
        let filters = HashMap::from([("label".to_string(), vec![format!("{LABEL_MANAGED}=true")])]);
        let mut found = Vec::new();
        let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        for c in self.client.list_containers(Some(options)).await.map_err(api("list containers"))? {
            let run = c.labels.as_ref().and_then(|l| l.get(LABEL_RUN).cloned());
            if let Some(id) = c.id {
                found.push(Leftover { kind: "container", id, run });
            }
        }
        let options = bollard::query_parameters::ListImagesOptionsBuilder::default().filters(&filters).build();
        for image in self.client.list_images(Some(options)).await.map_err(api("list images"))? {
            for tag in image.repo_tags {
                if let Some(run) = tag.strip_prefix("repoctl-builder:run-") {
                    found.push(Leftover { kind: "image", run: Some(run.to_string()), id: tag });
                }
            }
        }
        for id in self.superseded_images().await? {
            found.push(Leftover { kind: SUPERSEDED, id, run: None });
        }
        if caches {
            found.extend(self.synced_images().await?.into_iter().map(|id| Leftover { kind: SYNCED, id, run: None }));
            let options = bollard::query_parameters::ListVolumesOptionsBuilder::default().filters(&filters).build();
            let volumes = self.client.list_volumes(Some(options)).await.map_err(api("list volumes"))?;
            for v in volumes.volumes.unwrap_or_default() {
                found.push(Leftover { kind: "volume", id: v.name, run: None });
            }
        }
        Ok(found)
    }

    /// Removes a leftover; Ok(false) when it is a superseded image that a run still holds
    /// ([`Docker::remove_image_unless_used`]), which stays.
    pub async fn remove_leftover(&self, leftover: &Leftover) -> Result<bool, DockerError> {
        match leftover.kind {
            "container" => self.remove_container(&leftover.id).await.map(|()| true),
            "image" => self.remove_image(&leftover.id).await.map(|()| true),
            SUPERSEDED | SYNCED => self.remove_image_unless_used(&leftover.id).await,
            _ => match self
                .client
                .remove_volume(&leftover.id, None::<bollard::query_parameters::RemoveVolumeOptions>)
                .await
            {
                Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(true),
                Err(e) => Err(api("remove volume")(e)),
            },
        }
    }

    /// Creates the named volume if it is not there yet (caches that outlive runs).
    pub async fn ensure_volume(&self, name: &str, purpose: &str) -> Result<(), DockerError> {
        let labels = HashMap::from([
            (LABEL_MANAGED.to_string(), "true".to_string()),
            (LABEL_PURPOSE.to_string(), purpose.to_string()),
        ]);
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
        Ok(self.list_labelled(None).await?.len())
    }
}
