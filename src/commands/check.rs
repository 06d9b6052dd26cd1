//! `repoctl check`: repo.yaml is valid and every package exists in the AUR. Writes nothing.
use crate::aur::AurClient;
use crate::error::{Error, ExitStatus};
use crate::ui::Printer;
use camino::Utf8Path;

pub async fn check(config_path: &Utf8Path, printer: &Printer) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let aur = AurClient::from_env()?;
    let res = super::resolve(&config, &aur, None).await?;
    printer.out(&format!(
        "{}: ok: {} package(s) listed, {} AUR package(s) with dependencies",
        config.path,
        config.packages.len(),
        res.packages.len()
    ));
    Ok(ExitStatus::Success)
}
