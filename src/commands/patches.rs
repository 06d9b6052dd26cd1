//! The plan's prelude for AUR packages with `patches:` (issue 27): each one's locked commit is
//! read (from its clone, checked against the lock), its patch files are read and checked
//! against the lock's digests, applied, and the patched package's `.SRCINFO` is what the
//! resolution, the dependency graph and the plan see ([`resolve`]).
use super::shared;
use crate::aur::{AurClient, GitClone, Live, SrcInfo, Universe};
use crate::config::{Config, PackageConfig};
use crate::error::Error;
use crate::lock::{Entry, Lock};
use crate::ui::Printer;
use camino::Utf8Path;
use std::collections::BTreeMap;

/// What the prelude found: pkgbase -> the patched `.SRCINFO`, or why there is none now.
#[derive(Debug, Default)]
pub(crate) struct Patched {
    pub srcinfo: BTreeMap<String, SrcInfo>,
    /// A problem of the step ([`crate::plan::patches::settle`]).
    pub problems: BTreeMap<String, String>,
}

/// The locked AUR entry of a repo.yaml entry, by pkgbase or pkgname.
pub(crate) fn locked_entry<'a>(lock: &'a Lock, p: &PackageConfig) -> Option<&'a Entry> {
    lock.entries.values().find(|e| !e.is_local() && (e.name == p.name || e.pkgnames.contains(&p.name)))
}

/// Every AUR entry of repo.yaml with `patches:` that the lock holds, patched as the build will
/// patch it; the `.SRCINFO` of files a patch left stale is made in a builder container (Docker
/// is reached only then) and kept by their digest. One whose patches cannot be used now is a
/// problem of that package, not of the run. Errors: Docker or the builder image.
pub(crate) async fn patched_packages(
    config: &Config,
    lock: &Lock,
    aur: &AurClient,
    work: &Utf8Path,
    printer: &Printer,
) -> Result<Patched, Error> {
    let mut docker: Option<(crate::docker::Docker, String)> = None;
    let mut out = Patched::default();
    for p in config.packages.iter().filter(|p| !p.patches.is_empty()) {
        let Some(entry) = locked_entry(lock, p) else { continue };
        let base = entry.name.clone();
        let patched = match patched_tree(aur, work, entry, p, printer).await {
            Ok(trees) => trees,
            Err(why) => {
                out.problems.insert(base, why);
                continue;
            }
        };
        let (original, patched) = patched;
        if crate::trust::patch::srcinfo_stale(&original, &patched)
            && crate::build::local::cached_srcinfo(work, &patched.tree().digest()).is_none()
            && docker.is_none()
        {
            let d = crate::docker::Docker::connect(&super::new_run_id(), work).await?;
            let image = shared::prepare_image(&d, config, &work.join("logs"), printer).await?;
            docker = Some((d, image));
        }
        let maker = docker.as_ref().map(|(d, image)| crate::build::patches::Maker { docker: d, image });
        let info = crate::build::patches::patched_srcinfo(&base, &original, &patched, work, maker, &config.arch).await;
        match info {
            Ok(info) => {
                out.srcinfo.insert(base, info);
            }
            Err(why) => {
                out.problems.insert(base, why);
            }
        }
    }
    Ok(out)
}

/// `entry`'s locked commit from its clone under `work`, checked against the lock, and those
/// files with `p`'s patches applied (checked against the lock's digests). Errors, as text.
async fn patched_tree(
    aur: &AurClient,
    work: &Utf8Path,
    entry: &Entry,
    p: &PackageConfig,
    printer: &Printer,
) -> Result<(crate::trust::tree::LockedTree, crate::trust::tree::LockedTree), String> {
    use crate::ui::Reporter as _;
    let text = |e: &(dyn std::error::Error + 'static)| crate::cause::chain(e).join(": ");
    let base = entry.name.as_str();
    let waiting = |line: &str| printer.step(&format!("{base}: {line}"));
    let clone =
        GitClone::open(&aur.git_url(base), &work.join("aur").join(base), &waiting).await.map_err(|e| text(&e))?;
    let tree = clone.tree_in_history(&entry.commit).await.map_err(|e| text(&e))?;
    drop(clone);
    let original = tree.verify(base, &entry.files).map_err(|e| text(&e))?;
    let scratch = work.join("scratch").join(format!("{base}.patching.{}", std::process::id()));
    let patched = crate::build::patches::patched_tree(base, &original, &p.patches, &entry.patches, &scratch)
        .await
        .map_err(|e| text(&e))?;
    Ok((original, patched))
}

/// The universe at the lock's commits that `plan`, `check` and `review` see (`.SRCINFO` files
/// kept under `work`), with the patched packages' `.SRCINFO` in place of their AUR commit's,
/// and what [`patched_packages`] found. Errors: Docker, the builder image, the AUR.
pub(crate) async fn resolve_locked(
    config: &Config,
    aur: &AurClient,
    (official, published): (&crate::official::OfficialRepos, &[crate::alpm::RepoEntry]),
    work: &Utf8Path,
    lock: &Lock,
    local: &[crate::aur::LocalPackage],
    printer: &Printer,
) -> Result<(Universe, Patched), Error> {
    let patched = patched_packages(config, lock, aur, work, printer).await?;
    let (srcinfo, pins) = (work.join("srcinfo"), lock.pins());
    let universe =
        super::resolve(config, aur, official, published, Some(&srcinfo), &pins, local, &patched.srcinfo).await?;
    Ok((universe, patched))
}

/// The AUR, with the `.SRCINFO` of patched pkgbases replaced by their patched one.
pub(super) struct WithPatches<'a> {
    pub live: Live<'a>,
    pub patched: &'a BTreeMap<String, SrcInfo>,
}

impl crate::aur::Source for WithPatches<'_> {
    async fn info(
        &self,
        names: &[String],
    ) -> Result<(BTreeMap<String, crate::aur::AurPackage>, usize), crate::aur::AurError> {
        self.live.info(names).await
    }

    async fn search_provides(&self, name: &str) -> Result<Vec<crate::aur::AurPackage>, crate::aur::AurError> {
        self.live.search_provides(name).await
    }

    async fn srcinfo(
        &self,
        pkgbase: &str,
        want: crate::aur::Want<'_>,
        arch: &str,
    ) -> Result<Option<SrcInfo>, crate::aur::StoreError> {
        match self.patched.get(pkgbase) {
            Some(info) => Ok(Some(info.clone())),
            None => self.live.srcinfo(pkgbase, want, arch).await,
        }
    }
}
