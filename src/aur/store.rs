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

    /// The `.SRCINFO` of `pkgbase` for `arch`, from the store when it holds the one of
    /// `last_modified` (None: unknown, always fetched), else from the AUR. Ok(None): the AUR
    /// has no such pkgbase. Errors: the AUR cannot be reached, or the file is not a valid
    /// .SRCINFO for `pkgbase` (the message says why).
    pub async fn get(
        &self,
        aur: &AurClient,
        pkgbase: &str,
        last_modified: Option<i64>,
        arch: &str,
    ) -> Result<Option<(SrcInfo, i64)>, StoreError> {
        if let (Some(dir), Some(lm)) = (&self.dir, last_modified) {
            let path = dir.join(pkgbase).join(format!("{lm}.SRCINFO"));
            if let Ok(text) = fs_err::read_to_string(&path) {
                if let Ok(info) = SrcInfo::parse(&text, arch) {
                    return Ok(Some((info, lm)));
                }
            }
        }
        self.fetched.fetch_add(1, Ordering::Relaxed);
        let Some(text) = aur.srcinfo_text(pkgbase).await? else { return Ok(None) };
        let info = SrcInfo::parse(&text, arch)
            .map_err(|message| StoreError::Invalid { pkgbase: pkgbase.to_string(), message })?;
        if info.pkgbase != pkgbase {
            return Err(StoreError::Invalid {
                pkgbase: pkgbase.to_string(),
                message: format!("it names pkgbase {}", info.pkgbase),
            });
        }
        let lm = last_modified.unwrap_or(0);
        if let (Some(dir), Some(lm)) = (&self.dir, last_modified) {
            if let Err(e) = store(&dir.join(pkgbase), lm, &text) {
                tracing::warn!("cannot keep the .SRCINFO of {pkgbase} in {dir}: {e}");
            }
        }
        Ok(Some((info, lm)))
    }
}

fn store(dir: &Utf8Path, last_modified: i64, text: &str) -> std::io::Result<()> {
    fs_err::create_dir_all(dir)?;
    let name = format!("{last_modified}.SRCINFO");
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    fs_err::write(&tmp, text)?;
    fs_err::rename(&tmp, dir.join(&name))?;
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
