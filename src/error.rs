//! The errors that end a command, their exit codes, and the hints printed with them. This is
//! the only place where errors become text for the user.
use crate::ui::Printer;

/// How a command ended: 0 ok, 1 some package failed, 2 invalid configuration or
/// environment, 130 interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    PackagesFailed,
    Invalid,
    Interrupted,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::PackagesFailed => 1,
            ExitStatus::Invalid => 2,
            ExitStatus::Interrupted => 130,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] crate::config::LoadError),
    /// Problems already located in repo.yaml (printed as diagnostics).
    #[error(transparent)]
    Diagnostics(#[from] crate::config::Diagnostics),
    #[error(transparent)]
    Aur(#[from] crate::aur::AurError),
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error(transparent)]
    Docker(#[from] crate::docker::DockerError),
    #[error(transparent)]
    Publish(#[from] crate::publish::PublishError),
    #[error(transparent)]
    Official(#[from] crate::official::OfficialError),
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    #[error(transparent)]
    Provenance(#[from] crate::provenance::ProvenanceError),
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }

    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::Interrupted => ExitStatus::Interrupted,
            // Everything else stops the run before any package result exists: the
            // configuration or the environment (Docker, S3, the AUR) is not usable.
            _ => ExitStatus::Invalid,
        }
    }

    fn hint(&self) -> Option<String> {
        use crate::docker::DockerError;
        use crate::official::OfficialError;
        match self {
            Error::Config(crate::config::LoadError::Read { .. }) => {
                Some("pass the repository description with --config PATH (default ./repo.yaml)".into())
            }
            Error::Docker(DockerError::Connect(_)) => {
                Some("start the Docker daemon, or point DOCKER_HOST at one: repoctl builds in containers, and check, plan and review read the official repositories through one".into())
            }
            Error::Docker(DockerError::NoImage(_)) => {
                Some("set builder.image in repo.yaml to an image the daemon has or can pull".into())
            }
            Error::Docker(DockerError::Guard(_)) => Some(
                "build containers get their routes from ip(8) in the builder image: use an image with \
                 iproute2 (archlinux:base-devel has it, from `base`); README \"The builder image\" says what is blocked"
                    .into(),
            ),
            Error::Official(OfficialError::Docker(DockerError::Connect(_))) => Some(
                "start the Docker daemon, or point DOCKER_HOST at one: plan and check read the official \
                 repositories' sync databases through the builder image"
                    .into(),
            ),
            Error::Official(OfficialError::Sync { .. }) => Some(
                "the builder image's pacman.conf names repositories whose mirrors must answer; check the \
                 network and the image's /etc/pacman.d/mirrorlist"
                    .into(),
            ),
            Error::Official(OfficialError::Unreachable { .. }) => Some(
                "repoctl checks the official sync databases from this machine against the servers the \
                 builder image's mirrorlist names; check the network (HTTPS_PROXY/HTTP_PROXY apply, as for pacman)"
                    .into(),
            ),
            Error::Aur(_) => Some(format!(
                "check the network and {} (default {})",
                crate::env::AUR_LOCATION,
                crate::env::DEFAULT_AUR
            )),
            Error::Lock(e) => Some(e.hint().to_string()),
            Error::Publish(crate::publish::PublishError::Remote { .. }) => Some(
                "check the bucket, the endpoint and the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...)".into(),
            ),
            _ => None,
        }
    }

    /// Prints the error with its chain of causes and a hint.
    pub fn report(&self, printer: &Printer) {
        match self {
            Error::Diagnostics(d) | Error::Config(crate::config::LoadError::Invalid(d)) => {
                for diag in &d.0 {
                    printer.diagnostic(diag);
                }
                return;
            }
            Error::Interrupted => {
                printer.error("interrupted; containers removed, nothing was published");
                return;
            }
            _ => {}
        }
        printer.error(&crate::cause::chain(self).join("\n  caused by: "));
        if let Some(hint) = self.hint() {
            printer.info(&format!("  hint: {hint}"));
        }
    }
}
