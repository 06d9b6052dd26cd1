//! Every environment variable repoctl reads, in one place.

/// Base URL of the AUR (RPC and git), following aurutils' convention.
pub const AUR_LOCATION: &str = "AUR_LOCATION";
/// Default AUR when `AUR_LOCATION` is unset.
pub const DEFAULT_AUR: &str = "https://aur.archlinux.org";
/// Where repoctl keeps its caches, logs and per-run files (default: `.repoctl` beside repo.yaml).
pub const WORK_DIR: &str = "REPOCTL_WORK_DIR";
/// Set by GitHub Actions; switches output to annotations and groups.
pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
/// Set by most CI systems; disables progress bars.
pub const CI: &str = "CI";
/// Set by GitHub Actions: the file a job appends its Markdown summary to.
pub const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
/// Read the S3 bucket without credentials (unsigned requests), for pull-request jobs that
/// plan and build against a public repository with no secret.
pub const S3_ANONYMOUS: &str = "REPOCTL_S3_ANONYMOUS";
/// The ASCII-armored OpenPGP secret key that signs packages and databases, when repo.yaml has
/// `sign:`. Read by repoctl only: never passed to a container.
pub const SIGNING_KEY: &str = "REPOCTL_SIGNING_KEY";
/// The passphrase of `REPOCTL_SIGNING_KEY`, when it has one.
pub const SIGNING_KEY_PASSPHRASE: &str = "REPOCTL_SIGNING_KEY_PASSPHRASE";
/// Files larger than this many bytes go to S3 as multipart uploads (default 64 MiB). For tests
/// and benchmarks that want multipart with small files; parts are never smaller than 5 MiB.
pub const MULTIPART_THRESHOLD: &str = "REPOCTL_MULTIPART_THRESHOLD";
