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
    /// A checked package file changed or could not be copied ([`crate::trust::PackageError`]).
    #[error(transparent)]
    Package(#[from] crate::trust::PackageError),
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// `plan --budget`: no number of shards is expected to finish in time.
    #[error(transparent)]
    Budget(#[from] crate::plan::waves::NoFit),
    #[error("{0}")]
    Usage(String),
    #[error("interrupted")]
    Interrupted,
}

/// How to recover when the live database does not verify (issue 24): what to restore, or
/// when taking the repository over with `sign --adopt` is right.
fn untrusted_hint(untrusted: &crate::trust::signed::Untrusted) -> String {
    use crate::trust::signed::Untrusted;
    let restore = "restore it and its .sig from a copy this key signed (bucket versioning, a backup)";
    let adopt = "`repoctl sign --adopt` takes the repository over as it is, once you know every package in it \
                 is yours (`--dry-run` lists what it would sign)";
    match untrusted {
        Untrusted::Unsigned { name, .. } => format!(
            "if the repository was published before `sign:` was set, sign it once: {adopt}; if it was signed, \
             someone who cannot sign replaced {name}: {restore}"
        ),
        Untrusted::BadSignature { .. } | Untrusted::UnsignedEntries { .. } => format!(
            "someone who can write the bucket but not sign changed it, or it was signed with another key: {restore}; \
             or {adopt}"
        ),
        Untrusted::RolledBack { .. } => "restore the newest database, or go back with `repoctl rollback ID` \
             (`repoctl history` lists them), whose signed record says it was on purpose; if you put this one back \
             by hand on purpose, remove the later entries of it from databases.json in the work directory"
            .into(),
        Untrusted::Db { .. } => format!("the object is not a sync database: {restore}"),
    }
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
            Error::Config(crate::config::LoadError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Some("`repoctl init` writes a starter repo.yaml here (`repoctl init --help`); or pass the repository \
                      description with --config PATH (default ./repo.yaml)"
                    .into())
            }
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
                 iproute2 (archlinux:base-devel has it, from `base`); the user guide's docs/src/builder-image.md#the-build-network \
                 says what is blocked"
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
            Error::Package(crate::trust::PackageError::Changed { .. })
            | Error::Publish(crate::publish::PublishError::Package(crate::trust::PackageError::Changed { .. })) => Some(
                "a package file changed in the work directory after repoctl checked it; find what writes there, then build again"
                    .into(),
            ),
            Error::Publish(e) => publish_hint(e),
            Error::Budget(e) => Some(e.hint()),
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
                // Each diagnostic carries its own hint; the guide's section covers them all.
                printer.info(&format!("  guide: {}", self.guide()));
                return;
            }
            Error::Interrupted => {
                printer
                    .error("interrupted; containers removed; the repository is as its last committed publish left it");
                return;
            }
            _ => {}
        }
        printer.error(&crate::cause::chain(self).join("\n  caused by: "));
        if let Some(hint) = self.hint() {
            printer.info(&format!("  hint: {hint}"));
        }
        printer.info(&format!("  guide: {}", self.guide()));
    }

    /// The section of the user guide's troubleshooting chapter (docs/, an mdBook) that covers
    /// this kind of error. tests/guide.rs checks that every section named here exists.
    fn guide(&self) -> &'static str {
        use crate::official::OfficialError;
        match self {
            Error::Config(crate::config::LoadError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                "docs/src/troubleshooting.md#no-repoyaml"
            }
            Error::Config(crate::config::LoadError::Read { .. }) | Error::Io { .. } => {
                "docs/src/troubleshooting.md#a-file-cannot-be-read-or-written"
            }
            Error::Config(crate::config::LoadError::Invalid(_)) | Error::Diagnostics(_) => {
                "docs/src/troubleshooting.md#a-problem-in-repoyaml"
            }
            Error::Aur(_) => "docs/src/troubleshooting.md#the-aur-cannot-be-reached",
            Error::Plan(_) | Error::Usage(_) => "docs/src/troubleshooting.md#a-command-line-mistake",
            Error::Docker(e) | Error::Official(OfficialError::Docker(e)) => docker_guide(e),
            Error::Official(_) => "docs/src/troubleshooting.md#the-official-repositories-cannot-be-read",
            Error::Publish(e) => publish_guide(e),
            Error::Lock(crate::lock::LockError::Invalid { .. }) => "docs/src/troubleshooting.md#repoctllock-is-invalid",
            Error::Lock(_) => "docs/src/troubleshooting.md#a-file-cannot-be-read-or-written",
            Error::Provenance(_) => "docs/src/troubleshooting.md#no-provenance-record",
            Error::Package(e) => package_guide(e),
            Error::Budget(_) => "docs/src/troubleshooting.md#no-split-fits-the-budget",
            Error::Interrupted => "docs/src/troubleshooting.md#interrupted",
        }
    }
}

/// The guide's section for a Docker error (the daemon, the builder image, the build network).
fn docker_guide(e: &crate::docker::DockerError) -> &'static str {
    use crate::docker::DockerError;
    match e {
        DockerError::NoImage(_) => "docs/src/troubleshooting.md#the-builder-image-is-missing",
        DockerError::Guard(_) => "docs/src/troubleshooting.md#the-builder-image-has-no-ip8",
        _ => "docs/src/troubleshooting.md#docker-does-not-answer",
    }
}

/// The guide's section for a package file that failed a check or changed after it.
fn package_guide(e: &crate::trust::PackageError) -> &'static str {
    match e {
        crate::trust::PackageError::Changed { .. } => {
            "docs/src/troubleshooting.md#a-package-file-changed-in-the-work-directory"
        }
        _ => "docs/src/troubleshooting.md#a-package-failed-to-build",
    }
}

/// The guide's section for a publish that failed as `e`.
fn publish_guide(e: &crate::publish::PublishError) -> &'static str {
    use crate::publish::PublishError;
    match e {
        PublishError::Untrusted(_) => "docs/src/troubleshooting.md#the-live-database-does-not-verify",
        PublishError::NoConditionalWrites { .. } => "docs/src/troubleshooting.md#the-store-ignores-conditional-writes",
        PublishError::Adopt { .. } => "docs/src/troubleshooting.md#sign---adopt-stops",
        PublishError::Sign(_) => "docs/src/troubleshooting.md#the-signing-key-is-refused",
        PublishError::Package(e) => package_guide(e),
        PublishError::RepoTool(_) => "docs/src/troubleshooting.md#repo-add-or-repo-remove-failed",
        PublishError::UnexpectedEntry(_) => {
            "docs/src/troubleshooting.md#the-new-database-does-not-say-what-was-checked"
        }
        PublishError::Lock { .. } | PublishError::Io { .. } => {
            "docs/src/troubleshooting.md#a-file-cannot-be-read-or-written"
        }
        PublishError::Remote { .. }
        | PublishError::TooLarge { .. }
        | PublishError::Conflict { .. }
        | PublishError::Db(_) => "docs/src/troubleshooting.md#the-bucket-cannot-be-read-or-written",
        PublishError::History { .. } => "docs/src/operating/history.md#when-a-snapshot-cannot-be-used",
        PublishError::UntrustedSnapshot { .. } | PublishError::RollbackRace { .. } => {
            "docs/src/operating/history.md#when-a-rollback-is-refused"
        }
    }
}

/// The hint for a publish that failed as `e` (None: its message says it all).
fn publish_hint(e: &crate::publish::PublishError) -> Option<String> {
    use crate::publish::PublishError;
    match e {
        PublishError::Untrusted(untrusted) => Some(untrusted_hint(untrusted)),
        PublishError::NoConditionalWrites { .. } => Some(
            "repoctl commits a database only if nobody replaced it meanwhile, which needs a store that refuses \
             a PUT whose If-Match or If-None-Match fails (AWS S3 does; for MinIO, R2, Garage or Ceph check that \
             the version and settings in use support conditional writes); until then publish to another store \
             or to a local directory (`local:` in repo.yaml)"
                .into(),
        ),
        PublishError::Adopt { .. } => Some(
            "nothing was written; a file that does not match its entry is not what the database promises: \
             rebuild that package (or delete its entry with repo-remove), then run `repoctl sign --adopt` again"
                .into(),
        ),
        PublishError::UnexpectedEntry(_) => Some(
            "repo-add, in the builder image, wrote an entry that no checked package file says: the image's \
             repo-add reads a package otherwise than repoctl (a changed or tampered builder image?); nothing was \
             uploaded or signed. Check `builder.image`, then run again"
                .into(),
        ),
        PublishError::Remote { .. } => {
            Some("check the bucket, the endpoint and the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...)".into())
        }
        PublishError::RollbackRace { .. } => Some(
            "another publish committed while rolling back, and it stays; run `repoctl history` to see it, then \
             `repoctl rollback ID` again if you still want that state"
                .into(),
        ),
        PublishError::UntrustedSnapshot { .. } => Some(
            "the snapshot does not verify under the repository's key: someone who cannot sign wrote it, or it was \
             kept unsigned; roll back to another snapshot (`repoctl history`)"
                .into(),
        ),
        PublishError::History { .. } => Some("`repoctl history` lists the snapshots that can be rolled back to".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_error(kind: std::io::ErrorKind) -> Error {
        let source = std::io::Error::from(kind);
        Error::Config(crate::config::LoadError::Read { path: "repo.yaml".into(), source })
    }

    #[test]
    fn a_missing_repo_yaml_suggests_init() {
        let hint = read_error(std::io::ErrorKind::NotFound).hint().unwrap();
        assert!(hint.starts_with("`repoctl init` writes a starter repo.yaml here"), "{hint}");
        let hint = read_error(std::io::ErrorKind::PermissionDenied).hint().unwrap();
        assert!(!hint.contains("init"), "{hint}");
    }
}
