//! A `git:` package's repository (issue 27): a PKGBUILD repository outside the AUR, fetched on
//! the host (never in a build container, whatever its URL) into a bare [`GitClone`] kept under
//! the work directory as `git/KEY`, KEY a digest of the URL (a URL is no file name; two entries
//! of one repository share a clone, and its lock file). The clone keeps every hardening of an
//! AUR clone; a `file://` URL is fetched with the file transport alone
//! ([`crate::trust::git::Transport::File`]), an `https://` one with HTTP(S) alone.
use super::git::{GitClone, GitError};
use crate::config::GitSource;
use crate::trust::git::Transport;
use crate::trust::tree::Tree;
use camino::{Utf8Path, Utf8PathBuf};

/// The directory of `work` (`.repoctl`) that holds the clones of `git:` repositories.
pub const CLONES_DIR: &str = "git";

/// Where `url`'s clone is kept: `WORK/git/` and the first 32 hex digits of the URL's SHA-256.
pub fn clone_dir(work: &Utf8Path, url: &str) -> Utf8PathBuf {
    use sha2::Digest as _;
    let hex = format!("{:x}", sha2::Sha256::digest(url.as_bytes()));
    work.join(CLONES_DIR).join(&hex[..32])
}

/// The only transport `url` may be fetched over.
pub fn transport(url: &str) -> Transport {
    if url.starts_with("file://") { Transport::File } else { Transport::Http }
}

/// Fetches `source`'s repository (its HEAD) into its clone under `work`; held until dropped.
/// Errors: as [`GitClone::open`]; [`is_gone`] tells a repository that is no more.
pub async fn open(work: &Utf8Path, source: &GitSource, waiting: &(dyn Fn(&str) + Sync)) -> Result<GitClone, GitError> {
    let url = source.url.as_str();
    GitClone::open_over(transport(url), url, &clone_dir(work, url), waiting).await
}

/// The files of `source`'s subdir (the whole tree without one) at `commit` of `clone`.
/// Errors: the commit is not in the clone, or holds nothing at the subdir.
pub async fn tree_at(clone: &GitClone, source: &GitSource, commit: &str) -> Result<Tree, String> {
    let tree = clone.tree(commit).await.map_err(|e| crate::cause::chain(&e).join(": "))?;
    match &source.subdir {
        None => Ok(tree),
        Some(dir) => {
            tree.subtree(dir).ok_or_else(|| format!("{} has no directory `{dir}` at commit {commit}", source.url))
        }
    }
}

/// Whether a fetch failed because the repository is not there (any more): deleted, renamed, or
/// private now. What git says then, over HTTP(S) and file://; any other failure (the network,
/// a timeout) is not taken for a deletion.
pub fn is_gone(error: &GitError) -> bool {
    let GitError::Failed { source: crate::trust::git::GitFailure::Exit(said), .. } = error else { return false };
    let said = said.to_ascii_lowercase();
    ["not found", "does not appear to be a git repository", "does not exist", "returned error: 404"]
        .iter()
        .any(|s| said.contains(s))
}
