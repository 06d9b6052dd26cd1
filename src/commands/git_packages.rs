//! repo.yaml's `git:` entries for resolution (issue 27): each repository fetched on the host
//! ([`crate::aur::git_source`]), the subdir's files read at the locked commit (at the fetched
//! head when the lock does not hold it yet: the plan then says it is not locked), and the
//! `.SRCINFO` `makepkg --printsrcinfo` makes of them, as for a `path:` package
//! ([`crate::build::local`]): a committed `.SRCINFO` may be missing or stale, so it is never read.
use super::{Config, Error, Printer};
use crate::aur::LocalPackage;
use crate::config::{GitSource, PackageConfig};
use crate::lock::Lock;
use crate::trust::tree::Tree;
use camino::Utf8Path;

/// Makes the `.SRCINFO` of trees nobody has checked against the lock yet, in builder
/// containers; Docker is reached, and the builder image made ready, on the first cache miss only.
pub(crate) struct SrcinfoMaker<'a> {
    config: &'a Config,
    work: &'a Utf8Path,
    printer: &'a Printer,
    docker: Option<(crate::docker::Docker, String)>,
}

impl<'a> SrcinfoMaker<'a> {
    pub(crate) fn new(config: &'a Config, work: &'a Utf8Path, printer: &'a Printer) -> Self {
        SrcinfoMaker { config, work, printer, docker: None }
    }

    /// The `.SRCINFO` text of `tree`, the files of `what` (for messages), or why the PKGBUILD
    /// gives none. Errors: Docker or the builder image.
    pub(crate) async fn make(&mut self, what: &str, tree: &Tree) -> Result<Result<String, String>, Error> {
        use crate::ui::Reporter as _;
        if let Some(text) = crate::build::local::cached_srcinfo(self.work, &tree.digest()) {
            return Ok(Ok(text));
        }
        if self.docker.is_none() {
            let d = crate::docker::Docker::connect(&super::new_run_id(), self.work).await?;
            let image = super::shared::prepare_image(&d, self.config, &self.work.join("logs"), self.printer).await?;
            self.docker = Some((d, image));
        }
        let (d, image) = self.docker.as_ref().expect("connected just above");
        self.printer.step(&format!("making the .SRCINFO of `{what}` in a container (makepkg --printsrcinfo)"));
        let made = crate::build::local::local_srcinfo(d, image, self.work, what, tree).await;
        Ok(made.map_err(|e| crate::cause::chain(&e).join(": ")))
    }

    /// [`SrcinfoMaker::make`], read for the entry `name`, whose pkgbase it must make.
    pub(crate) async fn srcinfo_of(
        &mut self,
        name: &str,
        what: &str,
        tree: &Tree,
    ) -> Result<Result<crate::aur::SrcInfo, String>, Error> {
        let text = self.make(what, tree).await?;
        Ok(text.and_then(|t| super::local_srcinfo_of(name, what, &t, &self.config.arch)))
    }
}

/// The entries of repo.yaml that are `git:` packages, with their repository.
pub(crate) fn git_entries(config: &Config) -> impl Iterator<Item = (&PackageConfig, &GitSource)> {
    config.packages.iter().filter_map(|p| p.git_source().map(|g| (p, g)))
}

/// The commit `lock` holds for the entry `name` of `source`: None when it holds none, or holds
/// another repository or subdir (the plan says so, [`crate::plan`]).
pub(crate) fn locked_commit<'l>(lock: &'l Lock, name: &str, source: &GitSource) -> Option<&'l str> {
    lock.entries.get(name).filter(|e| e.git.as_ref() == Some(source)).map(|e| e.commit.as_str())
}

/// repo.yaml's `path:` entries ([`super::local_packages`]) and its `git:` entries
/// ([`git_packages`]) at the commits `lock` holds: what resolution takes before the AUR.
/// Errors: Docker or the builder image.
pub(crate) async fn local_and_git(
    config: &Config,
    work: &Utf8Path,
    printer: &Printer,
    lock: &Lock,
) -> Result<Vec<LocalPackage>, Error> {
    let mut local = super::local_packages(config, work, printer).await?;
    local.extend(git_packages(config, work, printer, lock).await?);
    Ok(local)
}

/// Each `git:` entry as [`LocalPackage`] at the commit `lock` holds (else at its head). A
/// repository that cannot be fetched, or a PKGBUILD that does not source, is that package's
/// problem (`Err`), not the run's. Errors: Docker or the builder image.
pub(crate) async fn git_packages(
    config: &Config,
    work: &Utf8Path,
    printer: &Printer,
    lock: &Lock,
) -> Result<Vec<LocalPackage>, Error> {
    let mut maker = SrcinfoMaker::new(config, work, printer);
    let mut out = Vec::new();
    for (p, source) in git_entries(config) {
        let waiting = |line: &str| printer.info(line);
        let tree = match crate::aur::git_source::open(work, source, &waiting).await {
            Ok(clone) => {
                let commit = locked_commit(lock, &p.name, source).unwrap_or(clone.head()).to_string();
                crate::aur::git_source::tree_at(&clone, source, &commit).await
            }
            Err(e) => Err(crate::cause::chain(&e).join(": ")),
        };
        let package = match tree {
            Ok(tree) => {
                let srcinfo = maker.srcinfo_of(&p.name, &source.describe(), &tree).await?;
                LocalPackage { name: p.name.clone(), digest: tree.digest(), srcinfo, held: None }
            }
            Err(why) => LocalPackage { name: p.name.clone(), digest: String::new(), srcinfo: Err(why), held: None },
        };
        out.push(package);
    }
    Ok(out)
}
