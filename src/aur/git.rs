//! Fetching a pkgbase's git repository from the AUR into a per-pkgbase cache directory.
//!
//! This runs the host's `git` (dumb and smart HTTP both work); the clone is kept between
//! runs so a nightly fetch transfers only what changed.
use camino::{Utf8Path, Utf8PathBuf};
use tokio::process::Command;

#[derive(Debug, Clone)]
pub struct Checkout {
    pub dir: Utf8PathBuf,
    /// The commit that will be built.
    pub commit: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git (is it installed?)")]
    Spawn(#[source] std::io::Error),
    #[error("`git {args}` failed for {url}: {stderr}")]
    Failed { args: String, url: String, stderr: String },
    #[error("{url} has no .SRCINFO: the pkgbase does not exist in the AUR, or its repository is empty")]
    NoSrcinfo { url: String },
}

/// Clones `url` into `dir`, or brings an earlier clone up to date, and returns the commit.
pub async fn fetch_pkgbase(url: &str, dir: &Utf8Path) -> Result<Checkout, GitError> {
    if dir.join(".git").is_dir() {
        let update = async {
            // From `url`, not the clone's origin: AUR_LOCATION may have changed since the clone.
            git(url, Some(dir), &["fetch", "--quiet", "--", url, "HEAD"]).await?;
            git(url, Some(dir), &["reset", "--quiet", "--hard", "FETCH_HEAD"]).await?;
            git(url, Some(dir), &["clean", "-qfdx"]).await
        };
        if let Err(err) = update.await {
            tracing::warn!("refreshing {dir} failed ({err}); cloning afresh");
            let _ = fs_err::remove_dir_all(dir);
        }
    }
    if !dir.join(".git").is_dir() {
        if let Some(parent) = dir.parent() {
            fs_err::create_dir_all(parent).map_err(GitError::Spawn)?;
        }
        git(url, None, &["clone", "--quiet", "--", url, dir.as_str()]).await?;
    }
    if !dir.join(".SRCINFO").is_file() {
        return Err(GitError::NoSrcinfo { url: url.to_string() });
    }
    let commit = git(url, Some(dir), &["rev-parse", "HEAD"]).await?;
    Ok(Checkout { dir: dir.to_owned(), commit: commit.trim().to_string() })
}

/// The longest a single git command may take (an AUR clone is usually a second).
const GIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

async fn git(url: &str, dir: Option<&Utf8Path>, args: &[&str]) -> Result<String, GitError> {
    let mut cmd = Command::new("git");
    if let Some(dir) = dir {
        cmd.arg("-C").arg(dir);
    }
    let output = cmd
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        // A stalled server must not hang the run: give up below 1 KiB/s for 60 s.
        .env("GIT_HTTP_LOW_SPEED_LIMIT", "1024")
        .env("GIT_HTTP_LOW_SPEED_TIME", "60")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    // kill_on_drop: the git process dies with the timed-out future.
    let output = tokio::time::timeout(GIT_TIMEOUT, output)
        .await
        .map_err(|_| GitError::Failed {
            args: args.join(" "),
            url: url.to_string(),
            stderr: format!("no answer within {} s", GIT_TIMEOUT.as_secs()),
        })?
        .map_err(GitError::Spawn)?;
    if !output.status.success() {
        return Err(GitError::Failed {
            args: args.join(" "),
            url: url.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
