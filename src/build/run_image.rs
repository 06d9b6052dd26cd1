//! This run's image (issue #16): the builder image brought up to date with the official
//! repositories (refresh.sh: the keyring first, then `pacman -Syu`, as Arch's own builders do),
//! so that every build container of the run starts from the same, current system and none
//! upgrades itself.
//!
//! It is kept between runs as the synced image, `repoctl-builder:synced-<builder hash>`,
//! labelled with the SHA-256 of each official sync database it was upgraded against. A run whose
//! plan read the same databases uses it as it is, with no container at all; otherwise one
//! container upgrades it (or, with none yet, the builder image) and the result becomes the synced
//! image. Each run holds its image by ID with a pin ([`Docker::pin_image`]), so all its builds see
//! the same packages whatever a concurrent run does to the tag, and the daemon refuses to remove
//! an image a run still holds. A superseded synced image is removed by whoever lets go of it last
//! ([`release_run_image`]).
use crate::docker::{
    ContainerSpec, Docker, DockerError, ExecSpec, LABEL_SYNC_DBS, LABEL_SYNC_GENERATION, Pin, VolumeMount,
};
use std::collections::HashMap;

use super::image::PACMAN_CACHE_VOLUME;

/// (repository, SHA-256 of its sync database in lowercase hex) in pacman.conf order, as
/// [`crate::official::OfficialRepos::sync_db_digests`] gives them.
pub type SyncDbs = [(String, String)];

/// Upgrades in a row on top of one another before a synced image is made from the builder image
/// again: each commit adds a layer, and overlay filesystems stop at about 125 of them.
pub const MAX_GENERATION: u32 = 20;

/// How a run gets its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunImageSource {
    /// The synced image saw the same sync databases as the plan: used as it is.
    Reuse,
    /// The synced image is upgraded (the mirrors changed, or the plan's databases are unknown).
    UpgradeSynced,
    /// The builder image is upgraded: there is no synced image, or it is [`MAX_GENERATION`]
    /// upgrades deep.
    UpgradeBuilder,
}

/// What a synced image's labels say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedLabels {
    /// The sync databases it was upgraded against; None when the label is missing or unreadable.
    pub sync_dbs: Option<Vec<(String, String)>>,
    /// Upgrades since the builder image (1: upgraded from it).
    pub generation: u32,
}

impl SyncedLabels {
    /// Reads [`LABEL_SYNC_DBS`] and [`LABEL_SYNC_GENERATION`]; a missing generation counts as
    /// [`MAX_GENERATION`], so an image of unknown depth is not built upon.
    pub fn from_labels(labels: &HashMap<String, String>) -> SyncedLabels {
        SyncedLabels {
            sync_dbs: labels.get(LABEL_SYNC_DBS).and_then(|v| parse_sync_dbs(v)),
            generation: labels.get(LABEL_SYNC_GENERATION).and_then(|g| g.parse().ok()).unwrap_or(MAX_GENERATION),
        }
    }

    fn to_labels(&self) -> HashMap<String, String> {
        let mut labels = HashMap::from([(LABEL_SYNC_GENERATION.to_string(), self.generation.to_string())]);
        if let Some(dbs) = &self.sync_dbs {
            labels.insert(LABEL_SYNC_DBS.to_string(), render_sync_dbs(dbs));
        }
        labels
    }
}

/// The decision, a pure function of the sync databases the plan read (`current`, None when
/// unknown) and what the synced image says (None: there is none). Reuse only on an exact match,
/// same repositories in the same order: anything else upgrades, which is always correct.
pub fn decide(current: Option<&SyncDbs>, synced: Option<&SyncedLabels>) -> RunImageSource {
    match synced {
        None => RunImageSource::UpgradeBuilder,
        Some(s) if s.generation >= MAX_GENERATION => RunImageSource::UpgradeBuilder,
        Some(s) if current.is_some() && s.sync_dbs.as_deref() == current => RunImageSource::Reuse,
        Some(_) => RunImageSource::UpgradeSynced,
    }
}

/// The label value: `REPO=SHA256` per repository, space-separated, in pacman.conf order.
pub fn render_sync_dbs(dbs: &SyncDbs) -> String {
    dbs.iter().map(|(repo, digest)| format!("{repo}={digest}")).collect::<Vec<_>>().join(" ")
}

/// Reads [`render_sync_dbs`]'s text (syncdigests.sh prints the same pairs, one a line); None
/// when a word is not `REPO=HEX`.
pub fn parse_sync_dbs(text: &str) -> Option<Vec<(String, String)>> {
    text.split_whitespace()
        .map(|word| {
            let (repo, digest) = word.split_once('=')?;
            let hex = digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit());
            (!repo.is_empty() && hex).then(|| (repo.to_string(), digest.to_ascii_lowercase()))
        })
        .collect()
}

/// The synced image's tag for the builder image `builder_tag` (`repoctl-builder:HASH`).
pub fn synced_image_tag(builder_tag: &str) -> String {
    let hash = builder_tag.rsplit_once(':').map_or(builder_tag, |(_, hash)| hash);
    format!("repoctl-builder:synced-{hash}")
}

/// What [`choose_run_image`] found: how this run's image is to be made, and the synced image
/// it pinned, if there is one.
#[derive(Debug)]
pub struct RunImageChoice {
    pub source: RunImageSource,
    synced: Option<Pin>,
    builder_tag: String,
    current: Option<Vec<(String, String)>>,
}

impl RunImageChoice {
    /// One line for the user: which of the three happens, and why.
    pub fn describe(&self) -> String {
        let tag = synced_image_tag(&self.builder_tag);
        let short = |pin: &Pin| pin.image_id.trim_start_matches("sha256:").chars().take(12).collect::<String>();
        match (self.source, &self.synced) {
            (RunImageSource::Reuse, Some(pin)) => {
                format!("builder image is up to date with the mirrors (synced {tag}, image {}): no upgrade", short(pin))
            }
            (RunImageSource::UpgradeSynced, _) if self.current.is_none() => {
                format!(
                    "upgrading {tag} (the mirrors' databases are unknown; archlinux-keyring first, then pacman -Syu)"
                )
            }
            (RunImageSource::UpgradeSynced, _) => {
                format!("upgrading {tag}: the mirrors changed (archlinux-keyring first, then pacman -Syu)")
            }
            _ => format!(
                "upgrading the builder image (archlinux-keyring first, then pacman -Syu), kept as {tag} for the next runs"
            ),
        }
    }
}

/// Step 1: pins the synced image of `builder_tag` (if there is one), reads its labels and
/// decides with `current`, the sync databases the plan read ([`decide`]). Errors: Docker.
pub async fn choose_run_image(
    docker: &Docker,
    builder_tag: &str,
    current: Option<&SyncDbs>,
) -> Result<RunImageChoice, DockerError> {
    let synced = docker.pin_image(&synced_image_tag(builder_tag)).await?;
    let labels = synced.as_ref().map(|pin| SyncedLabels::from_labels(&pin.labels));
    let source = decide(current, labels.as_ref());
    Ok(RunImageChoice { source, synced, builder_tag: builder_tag.to_string(), current: current.map(<[_]>::to_vec) })
}

/// This run's image, held (pinned) until [`release_run_image`].
#[derive(Debug)]
pub struct RunImage {
    /// Its image ID (`sha256:...`): what every container of the run starts from.
    pub id: String,
    pin: Pin,
}

/// Step 2: the run's image as `choice` says: the synced image as it is, or one container that
/// upgrades it (or the builder image), whose result is committed as the new synced image and
/// pinned; the image it replaces is let go of ([`remove_superseded`]). The upgrade's output goes
/// to `log`; downloads go to the shared package cache. On an error, nothing stays pinned.
/// Errors: Docker, or the upgrade failing (its exit code; the log says why).
pub async fn make_run_image(
    docker: &Docker,
    choice: RunImageChoice,
    log: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<RunImage, DockerError> {
    let RunImageChoice { source, synced, builder_tag, .. } = choice;
    if let (RunImageSource::Reuse, Some(pin)) = (source, &synced) {
        return Ok(RunImage { id: pin.image_id.clone(), pin: pin.clone() });
    }
    let tag = synced_image_tag(&builder_tag);
    let from = match (&synced, source) {
        (Some(pin), RunImageSource::UpgradeSynced) => Some(pin),
        _ => None,
    };
    let generation = from.map_or(1, |pin| SyncedLabels::from_labels(&pin.labels).generation + 1);
    let from = from.map_or(builder_tag.as_str(), |pin| pin.image_id.as_str());
    let made = async {
        let id = upgrade(docker, from, &tag, generation, log).await?;
        // The tag, not `id`: a concurrent run may have moved it since, to an image as current.
        match docker.pin_image(&tag).await? {
            Some(pin) => Ok(pin),
            None => docker.pin_image(&id).await?.ok_or(DockerError::NoImage(id)),
        }
    }
    .await;
    let unpinned = match &synced {
        Some(old) => docker.unpin(old).await,
        None => Ok(()),
    };
    let pin = made?;
    if let Err(e) = unpinned {
        let _ = docker.unpin(&pin).await;
        return Err(e);
    }
    // What is left over costs disk, not correctness: the end of the run or `repoctl clean` tries again.
    if let Err(e) = remove_superseded(docker).await {
        tracing::warn!("could not remove a superseded synced image yet: {e}");
    }
    Ok(RunImage { id: pin.image_id.clone(), pin })
}

/// One container of `from`: refresh.sh, then syncdigests.sh; committed as `tag` with the
/// digests it printed. Returns the new image's ID.
async fn upgrade(
    docker: &Docker,
    from: &str,
    tag: &str,
    generation: u32,
    log: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<String, DockerError> {
    docker.ensure_volume(PACMAN_CACHE_VOLUME, "pacman-cache").await?;
    let spec = ContainerSpec {
        image: from.to_string(),
        purpose: "refresh".into(),
        memory_bytes: None,
        nano_cpus: None,
        pids_limit: Some(1024),
        volumes: vec![VolumeMount::writable(PACMAN_CACHE_VOLUME, "/var/cache/pacman/pkg")],
        // No package's grant: this container runs no PKGBUILD.
        extra_capabilities: Vec::new(),
        // Runs no AUR code: on Docker's default bridge, as the mirrors' downloads need.
        build_network: None,
        tmpfs: Vec::new(),
    };
    let failed = |what: String| DockerError::Api { op: "refresh the builder image", source: crate::cause::said(what) };
    let script = |name: &str| ExecSpec {
        cmd: vec!["sh".into(), format!("/usr/local/lib/repoctl/{name}")],
        user: "root",
        env: Vec::new(),
        workdir: None,
    };
    docker
        .with_container(&spec, async |container| {
            // 1. The whole upgrade in this one container: never a partial one.
            let code = container.exec(&script("refresh.sh"), log).await?;
            if code != 0 {
                return Err(failed(format!("the system upgrade (keyring, then pacman -Syu) exited with {code}")));
            }
            // 2. What it was upgraded against.
            let mut out = Vec::new();
            let code = container.exec(&script("syncdigests.sh"), &mut |b: &[u8]| out.extend_from_slice(b)).await?;
            let text = String::from_utf8_lossy(&out);
            let sync_dbs = parse_sync_dbs(&text).filter(|_| code == 0);
            let sync_dbs = sync_dbs.ok_or_else(|| failed(format!("syncdigests.sh exited with {code}: {text}")))?;
            // 3. Kept as the synced image.
            let labels = SyncedLabels { sync_dbs: Some(sync_dbs), generation }.to_labels();
            let (repo, tag) = tag.split_once(':').unwrap_or((tag, "latest"));
            container.commit(repo, tag, labels).await
        })
        .await
}

/// At the end of a run, whatever happened: lets go of the run's image, and removes the synced
/// images no tag names any more that no run holds (this run's, if a newer one replaced it while
/// it ran). The current synced image stays for the next run. Errors: Docker.
pub async fn release_run_image(docker: &Docker, image: RunImage) -> Result<(), DockerError> {
    docker.unpin(&image.pin).await?;
    remove_superseded(docker).await.map(|_| ())
}

/// Removes each superseded synced image ([`Docker::superseded_images`]) that no run holds;
/// returns how many went. A held one stays for the run that holds it to remove.
pub async fn remove_superseded(docker: &Docker) -> Result<usize, DockerError> {
    let mut removed = 0;
    for id in docker.superseded_images().await? {
        if docker.remove_image_unless_used(&id).await? {
            tracing::debug!("removed the superseded synced image {id}");
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dbs(pairs: &[(&str, char)]) -> Vec<(String, String)> {
        pairs.iter().map(|(repo, c)| (repo.to_string(), c.to_string().repeat(64))).collect()
    }

    fn synced(pairs: &[(&str, char)], generation: u32) -> SyncedLabels {
        SyncedLabels { sync_dbs: Some(dbs(pairs)), generation }
    }

    #[test]
    fn the_synced_image_is_reused_only_when_it_saw_the_same_databases() {
        let now = dbs(&[("core", 'a'), ("extra", 'b')]);
        let cases = [
            (Some(synced(&[("core", 'a'), ("extra", 'b')], 1)), RunImageSource::Reuse),
            (Some(synced(&[("core", 'a'), ("extra", 'b')], MAX_GENERATION - 1)), RunImageSource::Reuse),
            // A mirror moved.
            (Some(synced(&[("core", 'a'), ("extra", 'c')], 1)), RunImageSource::UpgradeSynced),
            // Another repository, or the same ones in another order.
            (Some(synced(&[("core", 'a')], 1)), RunImageSource::UpgradeSynced),
            (Some(synced(&[("extra", 'b'), ("core", 'a')], 1)), RunImageSource::UpgradeSynced),
            // No label.
            (Some(SyncedLabels { sync_dbs: None, generation: 1 }), RunImageSource::UpgradeSynced),
            // Too many layers: from the builder image again, even when current.
            (Some(synced(&[("core", 'a'), ("extra", 'b')], MAX_GENERATION)), RunImageSource::UpgradeBuilder),
            (None, RunImageSource::UpgradeBuilder),
        ];
        for (image, want) in cases {
            assert_eq!(decide(Some(&now), image.as_ref()), want, "{image:?}");
        }
    }

    #[test]
    fn unknown_databases_always_upgrade() {
        let image = synced(&[("core", 'a')], 1);
        assert_eq!(decide(None, Some(&image)), RunImageSource::UpgradeSynced);
        assert_eq!(decide(None, None), RunImageSource::UpgradeBuilder);
    }

    #[test]
    fn labels_read_back_what_was_written() {
        let labels = synced(&[("core", 'a'), ("extra", 'F')], 3);
        let read = SyncedLabels::from_labels(&labels.to_labels());
        assert_eq!(read.generation, 3);
        assert_eq!(read.sync_dbs, Some(dbs(&[("core", 'a'), ("extra", 'f')])));
        // syncdigests.sh's lines read the same.
        let lines = format!("core={}\nextra={}\n", "a".repeat(64), "b".repeat(64));
        assert_eq!(parse_sync_dbs(&lines), Some(dbs(&[("core", 'a'), ("extra", 'b')])));
        assert_eq!(parse_sync_dbs("core=abc"), None);
        assert_eq!(parse_sync_dbs(&format!("={}", "a".repeat(64))), None);
        // No generation: treated as too deep to build upon.
        let old = HashMap::from([(LABEL_SYNC_DBS.to_string(), render_sync_dbs(&dbs(&[("core", 'a')])))]);
        assert_eq!(SyncedLabels::from_labels(&old).generation, MAX_GENERATION);
    }

    #[test]
    fn the_synced_tag_follows_the_builder_image() {
        assert_eq!(synced_image_tag("repoctl-builder:0123abcd"), "repoctl-builder:synced-0123abcd");
    }
}
