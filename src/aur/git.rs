//! A pkgbase's git repository from the AUR, kept between runs in a per-pkgbase directory
//! (`.repoctl/aur/PKGBASE`), so a nightly fetch transfers only what changed.
//!
//! The clone is bare: nothing is ever checked out, so no filter, LFS smudge or checkout hook
//! runs, and nothing is built from files another command could change. Commits are read from
//! their objects ([`crate::trust::tree`]), git runs only through [`crate::trust::git::git`]
//! (a cleared environment, no hooks), and repoctl writes the clone's `config` itself before
//! each fetch, so a clone carried in from elsewhere (a CI cache) brings no settings of its own.
//!
//! One command at a time per clone (issue 23, item 3): [`GitClone::open`] takes a lock file
//! (`.repoctl/aur/.locks/PKGBASE`) that the [`GitClone`] holds until it is dropped, so a `build`
//! and an `update` on one work directory take turns. A command that waits says so; waiting
//! polls, so Ctrl-C stops it at once.
use crate::trust::git::{GitFailure, Transport};
use crate::trust::tree::{Tree, TreeError};
use camino::{Utf8Path, Utf8PathBuf};
use std::time::Duration;

/// Where a fetch puts the AUR's HEAD in the clone (a ref, so that gc keeps its objects).
const HEAD_REF: &str = "refs/repoctl/head";
/// The clone's whole configuration, written before each fetch: whatever was there (a
/// `core.fsmonitor`, an `include.path`, a `credential.helper`) is gone.
const CONFIG: &str = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n";
/// How often a command waiting for a clone looks again.
const LOCK_POLL: Duration = Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("`git {args}` failed for {url}")]
    Failed {
        args: String,
        url: String,
        #[source]
        source: GitFailure,
    },
    #[error("cannot prepare the clone directory {path}")]
    Io {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{url} has no .SRCINFO at commit {commit}: the pkgbase does not exist in the AUR, or its repository is empty"
    )]
    NoSrcinfo { url: String, commit: String },
    #[error(
        "commit {commit} is not in the history of {url}: the AUR repository was rewritten, or the lock names another pkgbase's commit"
    )]
    NotInHistory { url: String, commit: String },
    #[error("cannot use the files of {url}")]
    Tree {
        url: String,
        #[source]
        source: TreeError,
    },
}

/// One commit of a pkgbase's history, newest first in [`GitClone::log`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Commit {
    pub id: String,
    /// Committer date, seconds since the Unix epoch (the pusher sets it: see the guide's
    /// docs/src/trust/trust-model.md#trust-in-repoyaml before relying on it).
    pub time: i64,
    pub author: String,
    pub subject: String,
}

/// A pkgbase's clone, fetched, and held by this command until dropped.
#[derive(Debug)]
pub struct GitClone {
    url: String,
    dir: Utf8PathBuf,
    head: String,
    transport: Transport,
    _lock: fs_err::File,
}

impl GitClone {
    /// Locks `dir` (calling `waiting` once, with a line to show, when another command holds
    /// it), then brings it up to date with `url`'s HEAD, made afresh when it is missing, is a
    /// clone of an older repoctl (with a work tree), or cannot be fetched into.
    pub async fn open(url: &str, dir: &Utf8Path, waiting: &(dyn Fn(&str) + Sync)) -> Result<GitClone, GitError> {
        GitClone::open_over(Transport::Http, url, dir, waiting).await
    }

    /// [`GitClone::open`] fetching over `transport` only: [`Transport::File`] for a `git:`
    /// package's `file://` repository (issue 27), never for the AUR.
    pub async fn open_over(
        transport: Transport,
        url: &str,
        dir: &Utf8Path,
        waiting: &(dyn Fn(&str) + Sync),
    ) -> Result<GitClone, GitError> {
        let lock = lock(dir, waiting).await?;
        let existed = dir.join("HEAD").is_file();
        let head = match fetch(transport, url, dir).await {
            Ok(head) => head,
            Err(err) if existed => {
                tracing::warn!("refreshing {dir} failed ({err}); cloning afresh");
                remove_dir(dir)?;
                fetch(transport, url, dir).await?
            }
            Err(err) => return Err(err),
        };
        Ok(GitClone { url: url.to_string(), dir: dir.to_owned(), head, transport, _lock: lock })
    }

    /// The AUR's HEAD commit as fetched (40 hex digits).
    pub fn head(&self) -> &str {
        &self.head
    }

    /// Every entry of `commit` ([`crate::trust::tree::read`]).
    pub async fn tree(&self, commit: &str) -> Result<Tree, GitError> {
        crate::trust::tree::read(&self.dir, commit)
            .await
            .map_err(|source| GitError::Tree { url: self.url.clone(), source })
    }

    /// [`GitClone::tree`] of the head, which must hold a `.SRCINFO`.
    pub async fn head_tree(&self) -> Result<Tree, GitError> {
        let tree = self.tree(&self.head).await?;
        if tree.file(".SRCINFO").is_none() {
            return Err(GitError::NoSrcinfo { url: self.url.clone(), commit: self.head.clone() });
        }
        Ok(tree)
    }

    /// [`GitClone::tree`] of `commit`, which must be in the history of the fetched head. Errors:
    /// [`GitError::NotInHistory`] when the AUR's history does not contain it.
    pub async fn tree_in_history(&self, commit: &str) -> Result<Tree, GitError> {
        let args = ["merge-base", "--is-ancestor", commit, self.head.as_str()];
        if git(self.transport, &self.url, Some(&self.dir), &args).await.is_err() {
            return Err(GitError::NotInHistory { url: self.url.clone(), commit: commit.to_string() });
        }
        self.tree(commit).await
    }

    /// The newest `limit` commits after `from` up to `to`, newest first (from all of `to`'s
    /// history when `from` is None). git stops after `limit`: an old package's history is not
    /// read whole.
    pub async fn log(&self, from: Option<&str>, to: &str, limit: usize) -> Result<Vec<Commit>, GitError> {
        let range = from.map_or_else(|| to.to_string(), |f| format!("{f}..{to}"));
        let max = format!("--max-count={limit}");
        let args = ["log", &max, "--no-show-signature", "--format=%H%x1f%ct%x1f%an%x1f%s", &range, "--"];
        let out = git(self.transport, &self.url, Some(&self.dir), &args).await?;
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
}

/// Takes `dir`'s lock file, `.locks/NAME` beside it (no pkgbase starts with a dot), polling
/// while another command holds it.
async fn lock(dir: &Utf8Path, waiting: &(dyn Fn(&str) + Sync)) -> Result<fs_err::File, GitError> {
    let parent = dir.parent().unwrap_or(Utf8Path::new("."));
    let path = parent.join(".locks").join(dir.file_name().unwrap_or("clone"));
    let io = |source| GitError::Io { path: path.clone(), source };
    fs_err::create_dir_all(parent.join(".locks")).map_err(io)?;
    let file = fs_err::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io)?;
    let mut told = false;
    loop {
        match file.file().try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if !told => {
                waiting(&format!("waiting for another repoctl command to let go of {dir}"));
                told = true;
            }
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        tokio::time::sleep(LOCK_POLL).await;
    }
}

/// Makes `dir` a bare repository with repoctl's own config, then fetches `url`'s HEAD into it;
/// returns the head commit.
async fn fetch(transport: Transport, url: &str, dir: &Utf8Path) -> Result<String, GitError> {
    prepare(url, dir).await?;
    let refspec = format!("+HEAD:{HEAD_REF}");
    let args = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", url, &refspec];
    git(transport, url, Some(dir), &args).await?;
    let rev = format!("{HEAD_REF}^{{commit}}");
    let head = git(transport, url, Some(dir), &["rev-parse", "--verify", &rev]).await?;
    Ok(head.trim().to_string())
}

/// `dir` as a bare repository (an older repoctl's clone, which had a work tree, is removed),
/// its config written afresh.
async fn prepare(url: &str, dir: &Utf8Path) -> Result<(), GitError> {
    if dir.join(".git").exists() || (dir.exists() && !dir.join("HEAD").is_file()) {
        remove_dir(dir)?;
    }
    if !dir.exists() {
        let io = |source| GitError::Io { path: dir.to_owned(), source };
        fs_err::create_dir_all(dir).map_err(io)?;
        let init = ["init", "--quiet", "--bare", "--template=", "--object-format=sha1", dir.as_str()];
        git(Transport::Http, url, None, &init).await?;
    }
    let config = dir.join("config");
    fs_err::write(&config, CONFIG).map_err(|source| GitError::Io { path: config.clone(), source })
}

fn remove_dir(dir: &Utf8Path) -> Result<(), GitError> {
    match fs_err::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(GitError::Io { path: dir.to_owned(), source: e }),
        _ => Ok(()),
    }
}

async fn git(transport: Transport, url: &str, git_dir: Option<&Utf8Path>, args: &[&str]) -> Result<String, GitError> {
    let out = crate::trust::git::git_over(transport, git_dir, args, b"").await.map_err(|source| GitError::Failed {
        args: args.join(" "),
        url: url.to_string(),
        source,
    })?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Two commands on one clone take turns: the second waits, says so once, and goes on when
    /// the first lets go; dropping a waiting command (Ctrl-C) ends its wait at once.
    #[tokio::test]
    async fn a_clone_in_use_is_waited_for_and_the_wait_can_be_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let clone = camino::Utf8PathBuf::try_from(dir.path().join("aur/hello")).unwrap();
        let said = AtomicUsize::new(0);
        let waiting = |line: &str| {
            assert!(line.starts_with("waiting for another repoctl command to let go of "), "{line}");
            said.fetch_add(1, Ordering::SeqCst);
        };
        let first = super::lock(&clone, &waiting).await.unwrap();
        assert!(dir.path().join("aur/.locks/hello").is_file());
        let second = tokio::time::timeout(std::time::Duration::from_millis(700), super::lock(&clone, &waiting)).await;
        assert!(second.is_err(), "the second waits while the first holds the clone");
        assert_eq!(said.load(Ordering::SeqCst), 1, "and says so once");
        let second = super::lock(&clone, &waiting);
        tokio::pin!(second);
        assert!(tokio::time::timeout(std::time::Duration::from_millis(300), &mut second).await.is_err());
        drop(first);
        tokio::time::timeout(std::time::Duration::from_secs(2), second).await.unwrap().unwrap();
    }
}
