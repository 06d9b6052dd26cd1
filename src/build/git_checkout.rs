//! The files a `git:` package (issue 27) is built from: its repository fetched on the host
//! ([`crate::aur::git_source`], never in a build container), the subdir's files read from the
//! locked commit's objects and checked against the lock's digest
//! ([`crate::trust::tree::Tree::verify`], which alone makes a [`LockedTree`]), and the
//! `.SRCINFO` made of exactly those files when the run was planned ([`super::local`]).
use super::{BuildContext, Failure, FailureKind};
use crate::aur::SrcInfo;
use crate::config::GitSource;
use crate::plan::Step;
use crate::trust::tree::LockedTree;

/// As [`super::checkout`] for an AUR package: everything the build uses afterwards is this
/// tree, in memory, which no other command can change.
pub(super) async fn checkout(
    ctx: &BuildContext,
    step: &Step,
    source: &GitSource,
) -> Result<(LockedTree, SrcInfo), Failure> {
    let base = &step.pkgbase;
    let (Some(commit), Some(hash)) = (&step.commit, &step.files_hash) else {
        return Err(Failure::text(FailureKind::Lock, format!("{base} is not locked: run `repoctl update`")));
    };
    let waiting = |line: &str| ctx.reporter.step(&format!("{base}: {line}"));
    let clone = crate::aur::git_source::open(&ctx.dirs.work, source, &waiting)
        .await
        .map_err(|e| Failure::new(FailureKind::Fetch, &e))?;
    let tree = crate::aur::git_source::tree_at(&clone, source, commit).await;
    drop(clone);
    let tree = tree.map_err(|why| Failure::text(FailureKind::Tree, why))?;
    let tree = tree.verify(base, hash).map_err(|e| Failure::new(FailureKind::Lock, &e))?;
    let text = super::local::cached_srcinfo(&ctx.dirs.work, hash).ok_or_else(|| {
        let why = format!("no .SRCINFO was made from the locked files of {}: run `repoctl plan`", source.describe());
        Failure::text(FailureKind::Srcinfo, why)
    })?;
    let srcinfo = SrcInfo::parse(&text, &ctx.arch).map_err(|e| Failure::text(FailureKind::Srcinfo, e))?;
    if srcinfo.pkgbase != *base {
        let why = format!("the PKGBUILD in {} makes pkgbase {}, not {base}", source.describe(), srcinfo.pkgbase);
        return Err(Failure::text(FailureKind::Srcinfo, why));
    }
    Ok((tree, srcinfo))
}
