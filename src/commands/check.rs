//! `repoctl check`: repo.yaml is valid, every listed package exists in the AUR, and every
//! dependency of every package is satisfied (officially, by an AUR pkgname, or by exactly one
//! AUR provider). Writes nothing but caches; problems are diagnostics on repo.yaml's lines.
use crate::aur::{AurClient, Universe};
use crate::config::{Config, Diagnostics};
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
    // Check writes nothing that outlives it unless given --work-dir (whose caches it then
    // reuses): the official databases are read into a temporary directory.
    let tmp = tempfile::tempdir().map_err(Error::io("cannot create a temporary directory"))?;
    let work = match work_dir {
        Some(dir) => dir,
        None => Utf8PathBuf::from_path_buf(tmp.path().to_path_buf())
            .map_err(|p| Error::Usage(format!("the temporary directory {} is not UTF-8", p.display())))?,
    };
    let official = super::official_repos(&config, &work, printer).await?;
    // The published repository is not read: a dependency only it still has is a problem here.
    let universe = super::resolve(&config, &aur, &official, &[], None).await?;
    let unknown = unknown_diagnostics(&config, &universe, &aur);
    if !unknown.0.is_empty() {
        return Err(unknown.into());
    }
    let no_mismatches = Default::default();
    let plan = crate::plan::make(&crate::plan::Inputs {
        config: &config,
        universe: &universe,
        repo: &[],
        only: &[],
        mismatches: &no_mismatches,
    })?;
    let diags = super::plan_diagnostics(&config, &plan);
    if !diags.0.is_empty() {
        return Err(diags.into());
    }
    let chosen: Vec<String> = plan
        .packages
        .iter()
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

/// Listed names the AUR knows neither as pkgname nor as pkgbase, on their lines.
fn unknown_diagnostics(config: &Config, universe: &Universe, aur: &AurClient) -> Diagnostics {
    let diags = universe.unknown.iter().filter_map(|name| config.package(name)).map(|p| {
        config.diagnostic_at(p.pos, format!("package `{}` was not found in the AUR", p.name)).hint(format!(
            "check the spelling on {}/packages/{}; official-repository packages need no entry",
            aur.base(),
            p.name
        ))
    });
    Diagnostics(diags.collect())
}
