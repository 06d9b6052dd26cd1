//! `.SRCINFO` files kept between runs, one per pkgbase, keyed by the AUR's `LastModified`:
//! a pkgbase whose LastModified did not change since the cached copy is not fetched again, so
//! a nightly plan of an unchanged repository fetches none.
//!
//! Layout: `DIR/PKGBASE/LAST_MODIFIED.SRCINFO` (older ones removed), written to a temporary
//! name and renamed, so an interrupted run never leaves half a file.
use super::{AurClient, AurError, SrcInfo};
use camino::{Utf8Path, Utf8PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct SrcInfoStore {
    /// None: nothing is kept (each `.SRCINFO` is fetched).
    dir: Option<Utf8PathBuf>,
    fetched: AtomicUsize,
}

impl SrcInfoStore {
    pub fn new(dir: Option<&Utf8Path>) -> SrcInfoStore {
        SrcInfoStore { dir: dir.map(Utf8Path::to_owned), fetched: AtomicUsize::new(0) }
    }

    /// How many `.SRCINFO` files were fetched from the AUR so far.
    pub fn fetched(&self) -> usize {
        self.fetched.load(Ordering::Relaxed)
    }

    /// The `.SRCINFO` of `pkgbase` for `arch`: from the store when it holds the one `want`
    /// asks for, else from the AUR. Ok(None): the AUR has no such pkgbase. Errors: the AUR
    /// cannot be reached, or the file is not a valid .SRCINFO for `pkgbase` (the message says
    /// why).
    pub async fn get(
        &self,
        aur: &AurClient,
        pkgbase: &str,
        want: Want<'_>,
        arch: &str,
    ) -> Result<Option<SrcInfo>, StoreError> {
        if let Some(dir) = &self.dir {
            let cached = match want {
                Want::Modified(lm) => Some(dir.join(pkgbase).join(format!("{lm}.SRCINFO"))),
                Want::Commit(commit) => Some(dir.join(pkgbase).join(AT).join(format!("{commit}.SRCINFO"))),
                Want::AnyCached => newest(&dir.join(pkgbase)),
                Want::Fresh => None,
            };
            let text = cached.and_then(|path| fs_err::read_to_string(path).ok());
            if let Some(info) = text.and_then(|text| SrcInfo::parse(&text, arch).ok()) {
                return Ok(Some(info));
            }
        }
        self.fetched.fetch_add(1, Ordering::Relaxed);
        let at = match want {
            Want::Commit(commit) => Some(commit),
            _ => None,
        };
        let Some(text) = aur.srcinfo_text(pkgbase, at).await? else { return Ok(None) };
        let info = SrcInfo::parse(&text, arch)
            .map_err(|message| StoreError::Invalid { pkgbase: pkgbase.to_string(), message })?;
        if info.pkgbase != pkgbase {
            return Err(StoreError::Invalid {
                pkgbase: pkgbase.to_string(),
                message: format!("it names pkgbase {}", info.pkgbase),
            });
        }
        let kept = match want {
            Want::Modified(lm) => Some((dir_of(&self.dir, pkgbase), format!("{lm}.SRCINFO"), true)),
            // A commit's file never changes: kept beside the others, never replaced by them.
            Want::Commit(commit) => {
                Some((dir_of(&self.dir, pkgbase).map(|d| d.join(AT)), format!("{commit}.SRCINFO"), false))
            }
            Want::AnyCached | Want::Fresh => None,
        };
        if let Some((Some(base_dir), name, replace)) = kept {
            let dir = base_dir.clone();
            // File creation is most of a cold plan's time: off the async threads, so fetches go on.
            let written = tokio::task::spawn_blocking(move || store(&base_dir, &name, replace, &text)).await;
            if let Err(e) = written.map_err(std::io::Error::other).and_then(|r| r) {
                tracing::warn!("cannot keep the .SRCINFO of {pkgbase} in {dir}: {e}");
            }
        }
        Ok(Some(info))
    }
}

/// Which `.SRCINFO` of a pkgbase [`SrcInfoStore::get`] wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want<'a> {
    /// The one of this AUR `LastModified`.
    Modified(i64),
    /// The one at this commit of the pkgbase's git repository (the lock's).
    Commit(&'a str),
    /// Any kept copy (the newest), to learn a pkgbase's pkgnames before the RPC is asked.
    AnyCached,
    /// The AUR's, now.
    Fresh,
}

/// The kept `.SRCINFO` with the largest LastModified in a pkgbase's directory.
fn newest(dir: &Utf8Path) -> Option<Utf8PathBuf> {
    let files = fs_err::read_dir(dir).ok()?.flatten();
    let stamped = files.filter_map(|e| {
        let name = e.file_name().into_string().ok()?;
        let lm: i64 = name.strip_suffix(".SRCINFO")?.parse().ok()?;
        Some((lm, dir.join(name)))
    });
    stamped.max_by_key(|(lm, _)| *lm).map(|(_, path)| path)
}

/// The subdirectory of a pkgbase's that keeps `.SRCINFO` files by commit.
const AT: &str = "at";

fn dir_of(store: &Option<Utf8PathBuf>, pkgbase: &str) -> Option<Utf8PathBuf> {
    store.as_ref().map(|d| d.join(pkgbase))
}

/// Writes `dir/name`; with `replace`, removes the pkgbase's other LastModified files.
fn store(dir: &Utf8Path, name: &str, replace: bool, text: &str) -> std::io::Result<()> {
    fs_err::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    fs_err::write(&tmp, text)?;
    fs_err::rename(&tmp, dir.join(name))?;
    if !replace {
        return Ok(());
    }
    for entry in fs_err::read_dir(dir)?.flatten() {
        if entry.file_name().to_str().is_some_and(|n| n != name && n.ends_with(".SRCINFO")) {
            let _ = fs_err::remove_file(entry.path());
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Aur(#[from] AurError),
    #[error("the AUR's .SRCINFO of {pkgbase} is not valid: {message}")]
    Invalid { pkgbase: String, message: String },
}
