//! What repoctl left in the daemon, for `repoctl clean` (issue 24, item 6): found by label,
//! scoped to one work directory unless asked for every one, and never what a live run uses.
use super::owner::{LABEL_WORK_DIR, Liveness, liveness};
use super::{Docker, DockerError, LABEL_MANAGED, LABEL_RUN, LABEL_SYNC_DBS, api};
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListImagesOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
};
use std::collections::HashMap;

/// [`Leftover::kind`] of a synced image that a newer one replaced.
pub const SUPERSEDED: &str = "superseded image";
/// [`Leftover::kind`] of a current synced image (a cache, removed on request), by its tag.
pub const SYNCED: &str = "synced image";

/// Whose resources [`Docker::survey`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Those labelled with this work directory ([`super::work_dir_label`]).
    WorkDir(&'a str),
    /// Every repoctl resource in the daemon: every work directory's, and those of older
    /// repoctl versions, which name none.
    Everywhere,
}

impl Scope<'_> {
    fn covers(&self, labels: &HashMap<String, String>) -> bool {
        match self {
            Scope::Everywhere => true,
            Scope::WorkDir(dir) => labels.get(LABEL_WORK_DIR).is_some_and(|l| l == dir),
        }
    }
}

/// Something repoctl left in the daemon: a container or network of a run, a synced image
/// superseded by a newer one (or a run image of an older repoctl), or (on request) a cache: a
/// current synced image or a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub kind: &'static str,
    /// What to remove it by: container or network ID, image tag or ID, volume name.
    pub id: String,
    /// The run it belongs to, when it belongs to one.
    pub run: Option<String>,
    /// The run that made this container or network is still going (on this machine, or on
    /// another host that cannot be checked): it is never removed.
    pub live: bool,
}

/// What [`Docker::survey`] found.
#[derive(Debug, Clone, Default)]
pub struct Survey {
    /// In scope, live ones included ([`Leftover::live`]).
    pub leftovers: Vec<Leftover>,
    /// How many resources repoctl labelled are out of scope (another work directory's, or an
    /// older repoctl's that names none).
    pub out_of_scope: usize,
}

impl Survey {
    fn add(&mut self, scope: Scope<'_>, labels: &HashMap<String, String>, leftover: Leftover) {
        if scope.covers(labels) {
            self.leftovers.push(leftover);
        } else {
            self.out_of_scope += 1;
        }
    }
}

impl Docker {
    /// What repoctl left in `scope`: containers and networks (live runs' marked as such),
    /// superseded synced images ([`Docker::superseded_images`]), run images of older repoctl
    /// versions (`repoctl-builder:run-*`), and with `caches` the current synced images and the
    /// volumes. Errors: the daemon cannot be asked.
    pub async fn survey(&self, scope: Scope<'_>, caches: bool) -> Result<Survey, DockerError> {
        let filters = HashMap::from([("label".to_string(), vec![format!("{LABEL_MANAGED}=true")])]);
        let mut survey = Survey::default();
        let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        for c in self.client.list_containers(Some(options)).await.map_err(api("list containers"))? {
            let (Some(id), labels) = (c.id, c.labels.unwrap_or_default()) else { continue };
            survey.add(scope, &labels, run_leftover("container", id, &labels));
        }
        let options = ListNetworksOptionsBuilder::default().filters(&filters).build();
        for n in self.client.list_networks(Some(options)).await.map_err(api("list networks"))? {
            let (Some(id), labels) = (n.id, n.labels.unwrap_or_default()) else { continue };
            survey.add(scope, &labels, run_leftover("network", id, &labels));
        }
        self.survey_images(scope, caches, &mut survey).await?;
        if caches {
            let options = ListVolumesOptionsBuilder::default().filters(&filters).build();
            let volumes = self.client.list_volumes(Some(options)).await.map_err(api("list volumes"))?;
            for v in volumes.volumes.unwrap_or_default() {
                let leftover = Leftover { kind: "volume", id: v.name, run: None, live: false };
                survey.add(scope, &v.labels, leftover);
            }
        }
        Ok(survey)
    }

    /// The images of [`Docker::survey`]: older repoctl's run images, superseded synced images,
    /// and with `caches` the current synced images.
    async fn survey_images(&self, scope: Scope<'_>, caches: bool, survey: &mut Survey) -> Result<(), DockerError> {
        let filters = HashMap::from([("label".to_string(), vec![format!("{LABEL_MANAGED}=true")])]);
        let options = ListImagesOptionsBuilder::default().filters(&filters).build();
        let superseded = self.superseded_images().await?;
        for image in self.client.list_images(Some(options)).await.map_err(api("list images"))? {
            let labels = image.labels;
            if superseded.contains(&image.id) {
                let leftover = Leftover { kind: SUPERSEDED, id: image.id.clone(), run: None, live: false };
                survey.add(scope, &labels, leftover);
            }
            for tag in image.repo_tags {
                let leftover = if let Some(run) = tag.strip_prefix("repoctl-builder:run-") {
                    Leftover { kind: "image", run: Some(run.to_string()), id: tag, live: false }
                } else if caches && labels.contains_key(LABEL_SYNC_DBS) && tag.starts_with("repoctl-builder:synced-") {
                    Leftover { kind: SYNCED, id: tag, run: None, live: false }
                } else {
                    continue;
                };
                survey.add(scope, &labels, leftover);
            }
        }
        Ok(())
    }

    /// Removes a leftover; Ok(false) when it stays because something still uses it: an image a
    /// run holds ([`Docker::remove_image_unless_used`]), a volume a container has mounted, a
    /// network a container is connected to. A live run's container or network is never
    /// removed (Ok(false)).
    pub async fn remove_leftover(&self, leftover: &Leftover) -> Result<bool, DockerError> {
        if leftover.live {
            return Ok(false);
        }
        match leftover.kind {
            "container" => self.remove_container(&leftover.id).await.map(|()| true),
            "network" => self.remove_network(&leftover.id).await,
            "image" => self.remove_image(&leftover.id).await.map(|()| true),
            SUPERSEDED | SYNCED => self.remove_image_unless_used(&leftover.id).await,
            _ => match self
                .client
                .remove_volume(&leftover.id, None::<bollard::query_parameters::RemoveVolumeOptions>)
                .await
            {
                Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(true),
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => Ok(false),
                Err(e) => Err(api("remove volume")(e)),
            },
        }
    }
}

/// A container or network found by label: its run, and whether that run is still going.
fn run_leftover(kind: &'static str, id: String, labels: &HashMap<String, String>) -> Leftover {
    let live = liveness(labels) != Liveness::Over;
    Leftover { kind, id, run: labels.get(LABEL_RUN).cloned(), live }
}
