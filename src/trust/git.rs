//! The one way repoctl runs `git` (issue 23, item 6): with a cleared environment plus an
//! allow-list, and with every setting that makes git run a program, or fetch from anything but
//! HTTP(S), switched off on its command line.
//!
//! git runs on the host, in a clone that a CI cache may have carried between jobs (issue 25,
//! item 7) and that AUR data fills. Were the environment passed on, every git child (and every
//! hook, fsmonitor or helper it starts) would see `REPOCTL_SIGNING_KEY`, its passphrase, the
//! cloud's `AWS_*` credentials and CI tokens. What is kept, and why:
//! - `PATH` (git finds `git-remote-https`), `HOME` and `XDG_CONFIG_HOME` (the user's own git
//!   configuration: a proxy, a CA bundle, an `insteadOf` for a mirror; it is the runner
//!   owner's, unlike the clone's, and the settings below override it where it matters),
//!   `TMPDIR`;
//! - proxies (`http_proxy`, `https_proxy`, `all_proxy`, `no_proxy`, upper case too) and CA
//!   bundles (`GIT_SSL_CAINFO`, `GIT_SSL_CAPATH`, `SSL_CERT_FILE`, `SSL_CERT_DIR`,
//!   `CURL_CA_BUNDLE`), which a network may need to reach the AUR at all.
//!
//! Set here: `LC_ALL=C` (output is parsed), `GIT_TERMINAL_PROMPT=0` (never ask), the low-speed
//! limit (give up below 1 KiB/s for 60 s), `GIT_ALLOW_PROTOCOL=http:https` (overrides any
//! `protocol.*.allow`: no `ext::`, `file://` or ssh, from `AUR_LOCATION` or anywhere else;
//! `file` alone, and no network, for a `git:` package's `file://` repository that repo.yaml
//! names: [`Transport::File`]),
//! `GIT_NO_REPLACE_OBJECTS=1` (a `refs/replace/` ref cannot swap an object for another) and
//! `GIT_GRAFT_FILE=/dev/null` (nor can `info/grafts` rewrite history).
//!
//! On the command line, before the subcommand (`-c` beats every configuration file, the
//! clone's included; each key below is honoured by git 2.39, Debian 12's):
//! `core.hooksPath=/dev/null` (no hook runs: `reference-transaction` runs on every fetch),
//! `core.fsmonitor=false` (a boolean since git 2.36; before, a program to run), the `protocol`
//! settings again, `credential.helper=` (an empty value clears the list of helpers) and
//! `core.askPass=` (no program is asked for a password), `log.showSignature=false` (no gpg),
//! and `gc.autoDetach=false`/`maintenance.autoDetach=false` (an automatic gc finishes inside the
//! command, while the caller holds the clone, rather than in the background after it).
use camino::Utf8Path;
use std::time::Duration;

/// The longest a single git command may take (an AUR clone is usually a second).
pub const GIT_TIMEOUT: Duration = Duration::from_secs(300);

/// Environment variables passed on to git from repoctl's own environment (see the module
/// documentation for why each).
pub const ALLOWED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "XDG_CONFIG_HOME",
    "TMPDIR",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CURL_CA_BUNDLE",
];

/// Set for every git command, whatever repoctl's environment holds.
const SET_ENV: &[(&str, &str)] = &[
    ("LC_ALL", "C"),
    ("GIT_TERMINAL_PROMPT", "0"),
    ("GIT_HTTP_LOW_SPEED_LIMIT", "1024"),
    ("GIT_HTTP_LOW_SPEED_TIME", "60"),
    ("GIT_NO_REPLACE_OBJECTS", "1"),
    ("GIT_GRAFT_FILE", "/dev/null"),
];

/// `-c KEY=VALUE` settings given to every git command, before its subcommand.
pub const HARDENING: &[&str] = &[
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "protocol.allow=never",
    "protocol.http.allow=always",
    "protocol.https.allow=always",
    "protocol.file.allow=never",
    "protocol.ext.allow=never",
    "credential.helper=",
    // The user's configuration is read (a proxy, a CA bundle), but a header it adds to every
    // request (a token for a mirror) would go to any host a `git:` URL names.
    "http.extraHeader=",
    "core.askPass=",
    "log.showSignature=false",
    "gc.autoDetach=false",
    "maintenance.autoDetach=false",
];

/// Why a git command did not give its output.
#[derive(Debug, thiserror::Error)]
pub enum GitFailure {
    #[error("cannot run git (is it installed?)")]
    Spawn(#[source] std::io::Error),
    #[error("no answer within {} s", GIT_TIMEOUT.as_secs())]
    TimedOut,
    /// git exited non-zero: what it wrote on stderr (trimmed).
    #[error("{0}")]
    Exit(String),
}

/// The pairs of `vars` (repoctl's environment) that git may see: those in [`ALLOWED_ENV`].
pub fn allowed_env(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Vec<(String, std::ffi::OsString)> {
    vars.filter_map(|(k, v)| {
        let k = k.into_string().ok()?;
        ALLOWED_ENV.contains(&k.as_str()).then_some((k, v))
    })
    .collect()
}

/// The transports a git command may fetch over: `GIT_ALLOW_PROTOCOL`, which overrides every
/// `protocol.*.allow` setting, the command line's included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `http` and `https` only: the AUR, and a `git:` package's `https://` repository.
    Http,
    /// `file` only: a `git:` package's `file://` repository (issue 27), which repo.yaml names
    /// (never the AUR's location, which the environment may set). No network transport.
    File,
}

impl Transport {
    fn allowed(self) -> &'static str {
        match self {
            Transport::Http => "http:https",
            Transport::File => "file",
        }
    }
}

/// [`git_over`] with [`Transport::Http`].
pub async fn git(git_dir: Option<&Utf8Path>, args: &[&str], input: &[u8]) -> Result<Vec<u8>, GitFailure> {
    git_over(Transport::Http, git_dir, args, input).await
}

/// Runs `git [HARDENING] [--git-dir=GIT_DIR] ARGS` with `input` on its stdin and returns its
/// stdout; it may fetch over `transport` only. With `git_dir`, git works on that repository and
/// never looks for one in a parent directory (where it could find the user's own checkout).
/// Killed after [`GIT_TIMEOUT`]. Errors: git cannot be started, times out, or exits non-zero
/// ([`GitFailure::Exit`] holds its stderr).
pub async fn git_over(
    transport: Transport,
    git_dir: Option<&Utf8Path>,
    args: &[&str],
    input: &[u8],
) -> Result<Vec<u8>, GitFailure> {
    run(None, transport, git_dir, args, input).await
}

/// [`git`] run in the directory `cwd`: for `git apply`, which patches paths relative to where
/// it runs ([`super::patch`]).
pub async fn git_in(
    cwd: &Utf8Path,
    git_dir: Option<&Utf8Path>,
    args: &[&str],
    input: &[u8],
) -> Result<Vec<u8>, GitFailure> {
    run(Some(cwd), Transport::Http, git_dir, args, input).await
}

async fn run(
    cwd: Option<&Utf8Path>,
    transport: Transport,
    git_dir: Option<&Utf8Path>,
    args: &[&str],
    input: &[u8],
) -> Result<Vec<u8>, GitFailure> {
    use std::process::Stdio;
    let mut cmd = tokio::process::Command::new("git");
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    cmd.env_clear().envs(allowed_env(std::env::vars_os())).envs(SET_ENV.iter().copied());
    cmd.env("GIT_ALLOW_PROTOCOL", transport.allowed());
    for setting in HARDENING {
        cmd.args(["-c", setting]);
    }
    if let Some(dir) = git_dir {
        cmd.arg(format!("--git-dir={dir}"));
    }
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    cmd.stdin(if input.is_empty() { Stdio::null() } else { Stdio::piped() });
    let mut child = cmd.spawn().map_err(GitFailure::Spawn)?;
    let feed = child.stdin.take().map(|mut stdin| {
        let input = input.to_vec();
        // Written while the output is read: cat-file answers as it reads, and a full pipe
        // each way would stall both.
        tokio::spawn(async move {
            let _ = tokio::io::AsyncWriteExt::write_all(&mut stdin, &input).await;
        })
    });
    // kill_on_drop: the git process dies with the timed-out future.
    let output = tokio::time::timeout(GIT_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| GitFailure::TimedOut)?
        .map_err(GitFailure::Spawn)?;
    if let Some(feed) = feed {
        let _ = feed.await;
    }
    if !output.status.success() {
        return Err(GitFailure::Exit(String::from_utf8_lossy(&output.stderr).trim().to_string()));
    }
    Ok(output.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_git_and_what_a_network_needs_does() {
        let env = [
            ("PATH", "/usr/bin"),
            ("HOME", "/home/ci"),
            ("https_proxy", "http://proxy:3128"),
            ("GIT_SSL_CAINFO", "/etc/ca.pem"),
            ("REPOCTL_SIGNING_KEY", "-----BEGIN PGP PRIVATE KEY BLOCK-----"),
            ("REPOCTL_SIGNING_KEY_PASSPHRASE", "hunter2"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("GITHUB_TOKEN", "ghs_x"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "x"),
            ("GIT_CONFIG_PARAMETERS", "'core.hooksPath'='/tmp/evil'"),
            ("GIT_CONFIG_COUNT", "1"),
            ("GIT_ASKPASS", "/tmp/evil"),
            ("GIT_EXEC_PATH", "/tmp/evil"),
            ("LD_PRELOAD", "/tmp/evil.so"),
        ];
        let kept = allowed_env(env.iter().map(|(k, v)| (k.into(), v.into())));
        let names: Vec<&str> = kept.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["PATH", "HOME", "https_proxy", "GIT_SSL_CAINFO"]);
    }

    /// The settings are read by git as given: a planted `core.hooksPath` in the repository's
    /// own config loses to the command line, and so does a `protocol.ext.allow`.
    #[tokio::test]
    async fn the_command_line_beats_the_repositorys_own_config() {
        let dir = tempfile::tempdir().unwrap();
        let repo = camino::Utf8PathBuf::try_from(dir.path().join("r.git")).unwrap();
        git(None, &["init", "--quiet", "--bare", "--template=", repo.as_str()], b"").await.unwrap();
        for (key, value) in [("core.hooksPath", "/tmp/evil"), ("protocol.ext.allow", "always")] {
            git(Some(&repo), &["config", key, value], b"").await.unwrap();
        }
        for (key, want) in [("core.hooksPath", "/dev/null"), ("protocol.ext.allow", "never")] {
            let got = git(Some(&repo), &["config", "--get", key], b"").await.unwrap();
            assert_eq!(String::from_utf8_lossy(&got).trim(), want, "{key}");
        }
        let ext = git(Some(&repo), &["fetch", "--quiet", "ext::sh -c touch% /tmp/repoctl-ext-ran", "HEAD"], b"").await;
        assert!(matches!(ext, Err(GitFailure::Exit(ref e)) if e.contains("not allowed")), "{ext:?}");
        assert!(!std::path::Path::new("/tmp/repoctl-ext-ran").exists());
    }

    /// A `file://` repository (issue 27) is fetched only over [`Transport::File`], and that
    /// transport fetches nothing else: neither transport opens the other's door.
    #[tokio::test]
    async fn each_transport_fetches_over_its_own_protocol_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        let (source, clone) = (root.join("source.git"), root.join("clone.git"));
        for repo in [&source, &clone] {
            git(None, &["init", "--quiet", "--bare", "--template=", repo.as_str()], b"").await.unwrap();
        }
        let blob = git_over(Transport::File, Some(&source), &["hash-object", "-w", "--stdin"], b"x").await.unwrap();
        let blob = String::from_utf8_lossy(&blob).trim().to_string();
        git(Some(&source), &["update-ref", "refs/tags/t", &blob], b"").await.unwrap();
        let url = format!("file://{source}");
        let fetch = ["fetch", "--quiet", "--no-tags", "--", url.as_str(), "+refs/tags/t:refs/tags/t"];
        let over_http = git_over(Transport::Http, Some(&clone), &fetch, b"").await;
        assert!(matches!(over_http, Err(GitFailure::Exit(ref e)) if e.contains("not allowed")), "{over_http:?}");
        git_over(Transport::File, Some(&clone), &fetch, b"").await.unwrap();
        let https = ["fetch", "--quiet", "--", "https://127.0.0.1:9/x.git", "HEAD"];
        let over_file = git_over(Transport::File, Some(&clone), &https, b"").await;
        assert!(matches!(over_file, Err(GitFailure::Exit(ref e)) if e.contains("not allowed")), "{over_file:?}");
    }
}
