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
    #[error(
        "commit {commit} is not in the history of {url}: the AUR repository was rewritten, or the lock names another pkgbase's commit"
    )]
    NotInHistory { url: String, commit: String },
    #[error("cannot read the files of commit {commit} of {url}")]
    Archive {
        url: String,
        commit: String,
        #[source]
        source: std::io::Error,
    },
}

/// One commit of a pkgbase's history, newest first in [`log`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Commit {
    pub id: String,
    /// Committer date, seconds since the Unix epoch (the pusher sets it: see the README's
    /// trust model before relying on it).
    pub time: i64,
    pub author: String,
    pub subject: String,
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

/// Checks that `commit` is in the history of the fetched head of `checkout` and makes the work
/// tree that commit's files (nothing else: untracked files are removed). Errors:
/// [`GitError::NotInHistory`] when the AUR's history does not contain it.
pub async fn checkout_commit(url: &str, checkout: &Checkout, commit: &str) -> Result<Checkout, GitError> {
    let dir = &checkout.dir;
    let in_history = git(url, Some(dir), &["merge-base", "--is-ancestor", commit, &checkout.commit]).await;
    if in_history.is_err() {
        return Err(GitError::NotInHistory { url: url.to_string(), commit: commit.to_string() });
    }
    git(url, Some(dir), &["reset", "--quiet", "--hard", commit]).await?;
    git(url, Some(dir), &["clean", "-qfdx"]).await?;
    Ok(Checkout { dir: dir.clone(), commit: commit.to_string() })
}

/// Every file of `commit` (path -> bytes), read from the object database with `git archive`,
/// so the work tree's state does not matter. Submodules and empty directories are not files.
pub async fn files_at(
    url: &str,
    dir: &Utf8Path,
    commit: &str,
) -> Result<std::collections::BTreeMap<String, Vec<u8>>, GitError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["archive", "--format=tar", commit])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(GitError::Spawn)?;
    if !output.status.success() {
        return Err(GitError::Failed {
            args: format!("archive {commit}"),
            url: url.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    let err = |source| GitError::Archive { url: url.to_string(), commit: commit.to_string(), source };
    let mut files = std::collections::BTreeMap::new();
    let mut archive = tar::Archive::new(output.stdout.as_slice());
    for entry in archive.entries().map_err(err)? {
        let mut entry = entry.map_err(err)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(err)?.to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).map_err(err)?;
        files.insert(path, bytes);
    }
    Ok(files)
}

/// The newest `limit` commits after `from` up to `to`, newest first (from all of `to`'s history
/// when `from` is None). git stops after `limit`: an old package's history is not read whole.
pub async fn log(
    url: &str,
    dir: &Utf8Path,
    from: Option<&str>,
    to: &str,
    limit: usize,
) -> Result<Vec<Commit>, GitError> {
    let range = from.map_or_else(|| to.to_string(), |f| format!("{f}..{to}"));
    let max = format!("--max-count={limit}");
    let out = git(url, Some(dir), &["log", &max, "--format=%H%x1f%ct%x1f%an%x1f%s", &range, "--"]).await?;
    Ok(out
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\x1f');
            Some(Commit {
                id: f.next()?.to_string(),
                time: f.next()?.parse().ok()?,
                author: f.next()?.to_string(),
                subject: f.next().unwrap_or_default().to_string(),
            })
        })
        .collect())
}

/// `git diff from to`: every file's changes, as a unified diff (coloured for a terminal when
/// `color`).
pub async fn diff(url: &str, dir: &Utf8Path, from: &str, to: &str, color: bool) -> Result<String, GitError> {
    let color = if color { "--color=always" } else { "--no-color" };
    git(url, Some(dir), &["diff", color, "--no-ext-diff", "--stat", "--patch", from, to, "--"]).await
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
