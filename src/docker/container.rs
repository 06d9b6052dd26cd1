//! One container's life: create, start, copy in, exec, copy out, remove.
use super::capability::{Capability, KEPT_CAPABILITIES};
use super::network::BuildNetwork;
use super::{Docker, DockerError, api};
use crate::cause::said;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use futures_util::StreamExt;

/// The longest a container lives, even if repoctl is killed without a chance to remove it.
pub const MAX_CONTAINER_SECS: u64 = 24 * 60 * 60;

/// What a container is created with.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    pub image: String,
    /// Short words for the container name and the purpose label (`build-foo`, `repo-add`).
    pub purpose: String,
    pub memory_bytes: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub pids_limit: Option<i64>,
    /// Named volumes (made with [`Docker::ensure_volume`]) and how they are mounted.
    pub volumes: Vec<VolumeMount>,
    /// Added to [`KEPT_CAPABILITIES`] for this container only: a package's grant from repo.yaml,
    /// given to its build containers and never to repo-add's or the image refresh's.
    pub extra_capabilities: Vec<Capability>,
    /// None: Docker's default bridge. Some: the run's build network, where the container is
    /// kept off link-local addresses and this machine's own ([`super::network`]); its commands
    /// run once those routes are set.
    pub build_network: Option<std::sync::Arc<BuildNetwork>>,
    /// Directories mounted as a tmpfs (memory, gone with the container; `noexec,nosuid,nodev`),
    /// for scratch files a tool writes many of: on fuse-overlayfs each small file is a round
    /// trip to the FUSE daemon (repo-add's `/tmp` took 2.4 s for 20 packages there, 0.9 s on
    /// a tmpfs, on this project's 2-core test machine).
    pub tmpfs: Vec<String>,
}

/// Docker's mounts for `volumes` (None: no mount).
fn mounts(volumes: &[VolumeMount]) -> Option<Vec<bollard::models::Mount>> {
    let mount = |m: &VolumeMount| bollard::models::Mount {
        source: Some(m.volume.clone()),
        target: Some(m.target.clone()),
        typ: Some(bollard::models::MountType::VOLUME),
        read_only: Some(m.read_only),
        ..Default::default()
    };
    (!volumes.is_empty()).then(|| volumes.iter().map(mount).collect())
}

/// A named volume mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMount {
    pub volume: String,
    /// Where it appears in the container.
    pub target: String,
    /// Mounted read-only: nothing in the container, root included, can write it (a container
    /// cannot change its mounts; remounting needs CAP_SYS_ADMIN, which no container holds).
    pub read_only: bool,
}

impl VolumeMount {
    pub fn writable(volume: &str, target: &str) -> VolumeMount {
        VolumeMount { volume: volume.to_string(), target: target.to_string(), read_only: false }
    }

    pub fn read_only(volume: &str, target: &str) -> VolumeMount {
        VolumeMount { read_only: true, ..VolumeMount::writable(volume, target) }
    }
}

/// One command run inside a running container.
#[derive(Debug, Clone)]
pub struct ExecSpec<'a> {
    pub cmd: Vec<String>,
    pub user: &'a str,
    pub env: Vec<String>,
    pub workdir: Option<&'a str>,
}

/// A created and started container. Call [`Container::remove`]; if it is dropped without,
/// removal is started in the background as a fallback.
pub struct Container {
    docker: Docker,
    id: String,
    removed: bool,
    /// On the build network: its routes being set ([`Docker::guard`]), which every
    /// [`Container::exec`] waits for (and fails without); None elsewhere.
    guard: Option<tokio::sync::Mutex<Guard>>,
}

/// Where the routes of a container on the build network are.
enum Guard {
    Setting(tokio::task::JoinHandle<Result<(), DockerError>>),
    Set,
    Failed(String),
}

impl Docker {
    /// Creates and starts a container that idles until commands are exec'd into it.
    pub async fn start_container(&self, spec: &ContainerSpec) -> Result<Container, DockerError> {
        let name = self.container_name(&spec.purpose);
        let host_config = HostConfig {
            memory: spec.memory_bytes,
            nano_cpus: spec.nano_cpus,
            pids_limit: spec.pids_limit,
            mounts: mounts(&spec.volumes),
            init: Some(true),
            // Untrusted code runs here: no way back to root once a process is unprivileged
            // (setuid binaries such as sudo do nothing), and root itself keeps only what
            // installing packages needs.
            security_opt: Some(vec!["no-new-privileges:true".to_string()]),
            cap_drop: Some(vec!["ALL".to_string()]),
            cap_add: Some(cap_add(&spec.extra_capabilities)),
            // A container whose repoctl died (SIGKILL, power loss) goes away on its own once its
            // bounded idle loop ends.
            auto_remove: Some(true),
            network_mode: spec.build_network.as_ref().map(|n| n.name().to_string()),
            tmpfs: (!spec.tmpfs.is_empty())
                .then(|| spec.tmpfs.iter().map(|d| (d.clone(), "rw,noexec,nosuid,nodev".to_string())).collect()),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            // Idle until removed; exec runs the real work so each phase has its own user and log.
            cmd: Some(vec![
                "/bin/sh".into(),
                "-c".into(),
                format!("trap 'exit 0' TERM; sleep {MAX_CONTAINER_SECS} & wait $!"),
            ]),
            labels: Some(self.labels(&spec.purpose)),
            host_config: Some(host_config),
            network_disabled: None,
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = self.client.create_container(Some(options), body).await.map_err(api("create container"))?;
        let mut container = Container { docker: self.clone(), id: created.id, removed: false, guard: None };
        if let Err(e) = self.client.start_container(&container.id, None).await {
            container.remove().await?;
            return Err(api("start container")(e));
        }
        // On the build network: its routes are set while files are copied in; no command runs
        // in it before they are ([`Container::exec`]).
        if let Some(network) = spec.build_network.clone() {
            let (docker, id, image) = (self.clone(), container.id.clone(), spec.image.clone());
            let setting = tokio::spawn(async move { docker.guard(&id, &image, &network).await });
            container.guard = Some(tokio::sync::Mutex::new(Guard::Setting(setting)));
        }
        Ok(container)
    }
}

impl Docker {
    /// A name no other container of this run has: `repoctl-RUN-SERIAL-PURPOSE`.
    pub(super) fn container_name(&self, purpose: &str) -> String {
        static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let serial = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("repoctl-{}-{serial}-{}", self.run_id, sanitize(purpose))
    }

    /// Pins `image` (a tag or an ID) for this run: creates a container of it that is never
    /// started (labelled as this run's, purpose `pin`), so that the daemon refuses (409) to
    /// remove the image without force while the run goes on. Resolving a tag and pinning its
    /// image are one step, so a tag moved by a concurrent run at that moment cannot leave the run
    /// holding an image it did not pin. Returns None when there is no such image.
    /// Remove the pin with [`Docker::unpin`] (or with the run's containers,
    /// [`Docker::remove_all_of_run`]). Errors: the daemon refuses or cannot be asked.
    pub async fn pin_image(&self, image: &str) -> Result<Option<Pin>, DockerError> {
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            cmd: Some(vec!["true".into()]),
            labels: Some(self.labels("pin")),
            network_disabled: Some(true),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name(&self.container_name("pin")).build();
        let container = match self.client.create_container(Some(options), body).await {
            Ok(created) => created.id,
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(None),
            Err(e) => return Err(api("create container")(e)),
        };
        let pinned = async {
            let info = self.client.inspect_container(&container, None).await.map_err(api("inspect container"))?;
            let image_id = info.image.ok_or_else(|| DockerError::Api {
                op: "inspect container",
                source: said("the daemon did not say which image the container is of"),
            })?;
            let image = self.client.inspect_image(&image_id).await.map_err(api("inspect image"))?;
            let labels = image.config.and_then(|c| c.labels).unwrap_or_default();
            Ok(Pin { container: container.clone(), image_id, labels })
        };
        match pinned.await {
            Ok(pin) => Ok(Some(pin)),
            Err(e) => {
                let _ = self.remove_container(&container).await;
                Err(e)
            }
        }
    }

    /// Removes a pin made by [`Docker::pin_image`]; the image stays.
    pub async fn unpin(&self, pin: &Pin) -> Result<(), DockerError> {
        self.remove_container(&pin.container).await
    }
}

/// An image held for this run by a container that is never started ([`Docker::pin_image`]).
#[derive(Debug, Clone)]
pub struct Pin {
    container: String,
    /// The image's ID (`sha256:...`): what the run uses, whatever its tag points to later.
    pub image_id: String,
    /// The image's labels.
    pub labels: std::collections::HashMap<String, String>,
}

/// Removals of containers whose work is done, still going ([`Docker::with_container`]), and of
/// networks ([`Docker::remove_run_networks_soon`]).
static REMOVALS: std::sync::Mutex<Vec<tokio::task::JoinHandle<Result<(), DockerError>>>> =
    std::sync::Mutex::new(Vec::new());

/// Leaves `removal` going; [`finish_removals`] waits for it.
pub(super) fn remove_in_background_task(removal: tokio::task::JoinHandle<Result<(), DockerError>>) {
    REMOVALS.lock().unwrap_or_else(|p| p.into_inner()).push(removal);
}

/// Waits for every container removal [`Docker::with_container`] left going, and returns the
/// errors of those that failed (each leaves a labelled container that `repoctl clean`
/// removes). Called before a run lets go of its image (a container still being removed holds
/// it) and once more when a command ends, so that no removal is cut short by the exit.
pub async fn finish_removals() -> Vec<DockerError> {
    let pending: Vec<_> = std::mem::take(&mut *REMOVALS.lock().unwrap_or_else(|p| p.into_inner()));
    let mut errors = Vec::new();
    for handle in pending {
        match handle.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(DockerError::Api { op: "remove a container", source: said(e.to_string()) }),
        }
    }
    errors
}

impl Docker {
    /// Runs `work` in a fresh container, then removes the container whatever `work` returned.
    /// The removal goes on while the caller does (0.15-0.2 s per container on fuse-overlayfs,
    /// which would otherwise sit between a build and its publish): [`finish_removals`] waits
    /// for it, and reports a failed one.
    pub async fn with_container<T, E: From<DockerError>>(
        &self,
        spec: &ContainerSpec,
        work: impl AsyncFnOnce(&Container) -> Result<T, E>,
    ) -> Result<T, E> {
        self.with_container_ahead(None, spec, work).await
    }

    /// Starts a container of `spec` in the background, for a [`Docker::with_container_ahead`]
    /// that will need one later: its 0.2-0.4 s of create and start (fuse-overlayfs) then pass
    /// while the run does other work. One never taken is removed when the [`Ahead`] is dropped.
    /// `then` runs in it once it is up (a probe whose answer the later work can use); what it
    /// finds it keeps itself.
    pub fn start_ahead(&self, spec: &ContainerSpec, then: AheadWork) -> Ahead {
        let (docker, spec) = (self.clone(), spec.clone());
        let task = tokio::spawn(async move {
            let started = std::time::Instant::now();
            let container = docker.start_container(&spec).await?;
            then(&container).await;
            tracing::debug!("container for {} started ahead: {:.3} s", spec.purpose, started.elapsed().as_secs_f64());
            Ok(container)
        });
        Ahead { task: std::sync::Mutex::new(Some(task)) }
    }

    /// [`Docker::with_container`], in the container `ahead` started when it has one that is
    /// still running (it is taken: a second call starts a fresh one), else in a fresh one.
    /// `spec` must be what `ahead` was started with.
    pub async fn with_container_ahead<T, E: From<DockerError>>(
        &self,
        ahead: Option<&Ahead>,
        spec: &ContainerSpec,
        work: impl AsyncFnOnce(&Container) -> Result<T, E>,
    ) -> Result<T, E> {
        let started = std::time::Instant::now();
        let container = match self.take_ahead(ahead).await {
            Some(container) => container,
            None => self.start_container(spec).await?,
        };
        tracing::debug!("container for {} created and started: {:.3} s", spec.purpose, started.elapsed().as_secs_f64());
        let result = work(&container).await;
        remove_in_background(container, format!("container for {}", spec.purpose));
        result
    }
}

impl Docker {
    /// The container `ahead` started, once it is up, if it is still running (its idle loop
    /// ends after [`MAX_CONTAINER_SECS`]; a daemon restart ends it sooner). None when there is
    /// none to take or starting it failed (the fresh start that follows reports the error).
    async fn take_ahead(&self, ahead: Option<&Ahead>) -> Option<Container> {
        let task = ahead?.task.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        let container = task.await.ok()?.ok()?;
        let info = self.client.inspect_container(&container.id, None).await.ok();
        match info.and_then(|i| i.state).and_then(|s| s.running) {
            Some(true) => Some(container),
            _ => {
                remove_in_background(container, "a container started ahead that stopped".into());
                None
            }
        }
    }
}

/// What [`Docker::start_ahead`] runs in its container once it is up.
pub type AheadWork = Box<dyn for<'c> FnOnce(&'c Container) -> futures_util::future::BoxFuture<'c, ()> + Send>;

/// A container being created and started ahead of need ([`Docker::start_ahead`]). Dropped
/// untaken, it is removed in the background, a removal [`finish_removals`] waits for.
pub struct Ahead {
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<Result<Container, DockerError>>>>,
}

impl Drop for Ahead {
    fn drop(&mut self) {
        let Some(task) = self.task.get_mut().unwrap_or_else(|p| p.into_inner()).take() else { return };
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let removal = tokio::spawn(async move {
            match task.await {
                Ok(Ok(container)) => container.remove().await,
                // Never started: nothing to remove (a half-made one is removed by start_container).
                _ => Ok(()),
            }
        });
        REMOVALS.lock().unwrap_or_else(|p| p.into_inner()).push(removal);
    }
}

/// Removes `container` in the background, a removal [`finish_removals`] waits for; `what`
/// names it in the debug log.
fn remove_in_background(container: Container, what: String) {
    let removal = tokio::spawn(async move {
        let removing = std::time::Instant::now();
        let removed = container.remove().await;
        tracing::debug!("{what} removed: {:.3} s", removing.elapsed().as_secs_f64());
        removed
    });
    REMOVALS.lock().unwrap_or_else(|p| p.into_inner()).push(removal);
}

impl Container {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Saves the container's filesystem as the image `repo:tag`, with the labels the container
    /// carries ([`Docker::labels`]) and `labels` on top; returns the new image's ID.
    pub async fn commit(
        &self,
        repo: &str,
        tag: &str,
        labels: std::collections::HashMap<String, String>,
    ) -> Result<String, DockerError> {
        let options = bollard::query_parameters::CommitContainerOptionsBuilder::default()
            .container(&self.id)
            .repo(repo)
            .tag(tag)
            .pause(true)
            .build();
        let mut labels = labels;
        labels.insert(super::LABEL_MANAGED.to_string(), "true".to_string());
        // The daemon merges these with the container's own labels (its run, its purpose).
        let config = bollard::models::ContainerConfig { labels: Some(labels), ..Default::default() };
        let made = self.docker.client.commit_container(options, config).await.map_err(api("commit container"))?;
        Ok(made.id)
    }

    /// Extracts a tar file from disk into `dest`, streaming it so memory stays flat.
    pub async fn upload_tar_file(&self, dest: &str, tar: &camino::Utf8Path) -> Result<(), DockerError> {
        let file = tokio::fs::File::open(tar)
            .await
            .map_err(|e| DockerError::Api { op: "copy into container", source: said(format!("{tar}: {e}")) })?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20);
        let options = UploadToContainerOptionsBuilder::default().path(dest).build();
        self.docker
            .client
            .upload_to_container(&self.id, Some(options), bollard::body_try_stream(stream))
            .await
            .map_err(api("copy into container"))
    }

    /// Cuts the container off every network it is connected to, leaving it only loopback; returns
    /// the networks' names. Processes inside cannot undo this: only the Docker API can connect a
    /// container again.
    pub async fn disconnect_networks(&self) -> Result<Vec<String>, DockerError> {
        let info = self.docker.client.inspect_container(&self.id, None).await.map_err(api("inspect container"))?;
        let names: Vec<String> =
            info.network_settings.and_then(|n| n.networks).map(|n| n.into_keys().collect()).unwrap_or_default();
        for name in &names {
            let request = bollard::models::NetworkDisconnectRequest { container: self.id.clone(), force: Some(true) };
            self.docker.client.disconnect_network(name, request).await.map_err(api("disconnect network"))?;
        }
        Ok(names)
    }

    /// Waits until the build network's routes are set in this container (at once elsewhere).
    /// Errors: they could not be set; then nothing may run in it.
    async fn guarded(&self) -> Result<(), DockerError> {
        let Some(guard) = &self.guard else { return Ok(()) };
        let mut state = guard.lock().await;
        if let Guard::Setting(task) = &mut *state {
            *state = match task.await {
                Ok(Ok(())) => Guard::Set,
                Ok(Err(e)) => Guard::Failed(crate::cause::chain(&e).join(": ")),
                Err(e) => Guard::Failed(e.to_string()),
            };
        }
        match &*state {
            Guard::Failed(why) => Err(DockerError::Guard(why.clone())),
            _ => Ok(()),
        }
    }

    /// Runs a command to completion, passing its output to `out`; returns its exit code. On the
    /// build network, once its routes are set.
    pub async fn exec(&self, spec: &ExecSpec<'_>, out: &mut (dyn FnMut(&[u8]) + Send)) -> Result<i64, DockerError> {
        self.guarded().await?;
        self.exec_unguarded(spec, out).await
    }

    /// [`Container::exec`] without waiting for the build network's routes: only for a command
    /// that runs no package's code (prepare.sh's download step: repo-add, `pacman -Sw`).
    pub async fn exec_unguarded(
        &self,
        spec: &ExecSpec<'_>,
        out: &mut (dyn FnMut(&[u8]) + Send),
    ) -> Result<i64, DockerError> {
        let options = CreateExecOptions {
            cmd: Some(spec.cmd.clone()),
            user: Some(spec.user.to_string()),
            env: Some(spec.env.clone()),
            working_dir: spec.workdir.map(str::to_string),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let exec = self.docker.client.create_exec(&self.id, options).await.map_err(api("create exec"))?;
        match self.docker.client.start_exec(&exec.id, None).await.map_err(api("start exec"))? {
            StartExecResults::Attached { mut output, .. } => {
                while let Some(chunk) = output.next().await {
                    let chunk = chunk.map_err(api("read exec output"))?;
                    out(&chunk.into_bytes());
                }
            }
            StartExecResults::Detached => {}
        }
        // The output can end a moment before the daemon records the exit code: asked again
        // soon (every build waits on this several times), then less often, for about 5 s.
        let mut delay = std::time::Duration::from_millis(2);
        let mut waited = std::time::Duration::ZERO;
        while waited < std::time::Duration::from_secs(5) {
            let info = self.docker.client.inspect_exec(&exec.id).await.map_err(api("inspect exec"))?;
            if info.running != Some(true)
                && let Some(code) = info.exit_code
            {
                let what = spec.cmd.iter().take(2).map(String::as_str).collect::<Vec<_>>().join(" ");
                tracing::debug!("exec `{what}` exited {code}: {:.3} s", started.elapsed().as_secs_f64());
                return Ok(code);
            }
            tokio::time::sleep(delay).await;
            waited += delay;
            delay = (delay * 2).min(std::time::Duration::from_millis(100));
        }
        Err(DockerError::Api { op: "inspect exec", source: said("the command's exit code never appeared") })
    }

    /// Writes a tar archive of `path` in the container to `dest`, refused past `max_bytes`.
    pub async fn download_tar(&self, path: &str, dest: &camino::Utf8Path, max_bytes: u64) -> Result<(), DockerError> {
        use tokio::io::AsyncWriteExt;
        let io =
            |e: std::io::Error| DockerError::Api { op: "copy out of container", source: said(format!("{dest}: {e}")) };
        let options = DownloadFromContainerOptionsBuilder::default().path(path).build();
        let mut stream = self.docker.client.download_from_container(&self.id, Some(options));
        let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(api("copy out of container"))?;
            written += chunk.len() as u64;
            if written > max_bytes {
                return Err(DockerError::Limit(format!("{path} in the container is larger than {max_bytes} bytes")));
            }
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)
    }

    /// Stops and removes the container and its anonymous volumes.
    pub async fn remove(mut self) -> Result<(), DockerError> {
        self.removed = true;
        self.docker.remove_container(&self.id).await
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        let docker = self.docker.clone();
        let id = std::mem::take(&mut self.id);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = docker.remove_container(&id).await;
            });
        }
    }
}

/// The capabilities a container keeps after `cap_drop: ALL`.
fn cap_add(extra: &[Capability]) -> Vec<String> {
    let extra = extra.iter().map(|c| c.as_str());
    KEPT_CAPABILITIES.iter().copied().chain(extra).map(str::to_string).collect()
}

/// `s` as a Docker object name may hold it: `[A-Za-z0-9_.-]`, at most 60 characters.
pub(super) fn sanitize(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '-' })
        .take(60)
        .collect();
    cleaned.trim_start_matches(['-', '.', '_']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_adds_to_the_kept_capabilities_and_nothing_else() {
        assert_eq!(cap_add(&[]), KEPT_CAPABILITIES);
        let ipc_lock = Capability::parse("IPC_LOCK").unwrap();
        let caps = cap_add(&[ipc_lock]);
        assert_eq!((caps.len(), caps.last().map(String::as_str)), (KEPT_CAPABILITIES.len() + 1, Some("IPC_LOCK")));
    }
}
