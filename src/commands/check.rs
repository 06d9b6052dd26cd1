//! `repoctl check`: repo.yaml is valid, every listed package exists in the AUR, and every
//! dependency of every package is satisfied (officially, by an AUR pkgname, or by exactly one
//! AUR provider). Every problem is a diagnostic on its repo.yaml line, all of them at once;
//! nothing is written but the caches `plan` keeps too (`.repoctl/official`, `.repoctl/srcinfo`).
use crate::aur::AurClient;
use crate::error::{Error, ExitStatus};
use crate::ui::Printer;
use camino::{Utf8Path, Utf8PathBuf};

pub async fn check(
    config_path: &Utf8Path,
    work_dir: Option<Utf8PathBuf>,
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let aur = AurClient::from_env()?;
    // Caches only (the official databases, .SRCINFO files), as plan keeps them.
    let work = super::work_dir(&config, work_dir);
    let official = super::official_repos(&config, &work, printer).await?;
    // The published repository is not read: a dependency only it still has is a problem here.
    // At the locked commits: what `build` would build.
    let lock = super::read_lock(&config)?;
    let local = super::git_packages::local_and_git(&config, &work, printer, &lock).await?;
    // Patched packages (issue 27) as the build sees them; patches changed since the lock are
    // problems on their entry's line.
    let (universe, patched) =
        super::patches::resolve_locked(&config, &aur, (&official, &[]), &work, &lock, &local, printer).await?;
    let no_mismatches = Default::default();
    let plan = crate::plan::make(&crate::plan::Inputs {
        config: &config,
        universe: &universe,
        repo: &[],
        only: &[],
        mismatches: &no_mismatches,
        lock: &lock,
    })?;
    let plan = crate::plan::patches::settle(plan, &lock, &patched.problems);
    let diags = super::plan_diagnostics(&config, &plan);
    if !diags.0.is_empty() {
        return Err(diags.into());
    }
    // AUR packages repoctl chose (a listed provider is the user's own choice).
    let chosen: Vec<String> = plan
        .packages
        .iter()
        .filter(|s| !s.listed)
        .flat_map(|s| s.provides_for.iter().map(move |p| format!("{} for {p}", s.pkgbase)))
        .collect();
    for line in &chosen {
        printer.info(&format!("chosen through provides: {line}"));
    }
    printer.out(&format!(
        "{}: ok: {} package(s) listed, {} AUR pkgbase(s) with dependencies",
        config.path,
        config.packages.len(),
        plan.packages.len()
    ));
    Ok(ExitStatus::Success)
}
