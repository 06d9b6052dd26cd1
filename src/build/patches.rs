//! Building an AUR package with `patches:` (issue 27): the locked commit's files, checked
//! against the lock, with the patch files read again, checked against the lock's digests and
//! applied ([`crate::trust::patch`]); and the `.SRCINFO` of the result.
//!
//! A patch that changes the PKGBUILD leaves the commit's `.SRCINFO` stale: it is then made
//! again from the patched files with `makepkg --printsrcinfo` in a builder container, and kept
//! by their digest, exactly as a `path:` package's is ([`super::local`]). The plan, the
//! dependency graph, the lock's version and the build's package check all read that one.
use super::local;
use crate::aur::SrcInfo;
use crate::config::PatchFile;
use crate::docker::Docker;
use crate::trust::patch::{self, Patch, PatchError};
use crate::trust::tree::LockedTree;
use camino::Utf8Path;

/// `tree` (the locked commit's files) with `files` applied in order, once their bytes match
/// `locked`, the digests repoctl.lock records for `pkgbase`. `scratch`: where they are applied
/// (removed afterwards). Errors: a patch unreadable, changed since the lock, refused, or that
/// does not apply.
pub async fn patched_tree(
    pkgbase: &str,
    tree: &LockedTree,
    files: &[PatchFile],
    locked: &[String],
    scratch: &Utf8Path,
) -> Result<LockedTree, PatchError> {
    let patches = patch::verify(pkgbase, read_patches(files)?, locked)?;
    patch::apply(tree, &patches, scratch).await
}

/// Every patch of `files`, read now, in order. Errors: one cannot be read or is too large.
pub fn read_patches(files: &[PatchFile]) -> Result<Vec<Patch>, PatchError> {
    files.iter().map(|f| Patch::read(&f.written, &f.file)).collect()
}

/// Where a patched package's `.SRCINFO` is made when it must be: Docker and the builder image.
pub struct Maker<'a> {
    pub docker: &'a Docker,
    pub image: &'a str,
}

/// The `.SRCINFO` of `patched`, the files of `original` with `pkgbase`'s patches applied: the
/// commit's own when no patch touched the PKGBUILD or the `.SRCINFO`
/// ([`patch::srcinfo_stale`]), else the one made of the patched files, from the cache under
/// `work` or, with `maker`, in a container. It must name `pkgbase`. Errors, as text: no
/// `.SRCINFO` can be had, or it is unreadable or names another pkgbase.
pub async fn patched_srcinfo(
    pkgbase: &str,
    original: &LockedTree,
    patched: &LockedTree,
    work: &Utf8Path,
    maker: Option<Maker<'_>>,
    arch: &str,
) -> Result<SrcInfo, String> {
    let info = if patch::srcinfo_stale(original, patched) {
        let digest = patched.tree().digest();
        let text = match (local::cached_srcinfo(work, &digest), maker) {
            (Some(text), _) => text,
            (None, Some(m)) => {
                let what = format!("{pkgbase} with its patches");
                local::local_srcinfo(m.docker, m.image, work, &what, patched.tree())
                    .await
                    .map_err(|e| crate::cause::chain(&e).join(": "))?
            }
            (None, None) => {
                return Err(format!("no .SRCINFO was made from the patched files of {pkgbase}: run `repoctl plan`"));
            }
        };
        SrcInfo::parse(&text, arch).map_err(|e| format!("the .SRCINFO made from {pkgbase}'s patched files: {e}"))?
    } else {
        SrcInfo::of_tree(patched.tree(), arch).map_err(|e| crate::cause::chain(&e).join(": "))?
    };
    if info.pkgbase != pkgbase {
        return Err(format!("with its patches, {pkgbase}'s PKGBUILD makes pkgbase {}, not {pkgbase}", info.pkgbase));
    }
    Ok(info)
}
