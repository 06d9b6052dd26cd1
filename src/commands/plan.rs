//! `repoctl plan`: what a build would do, as a table or as JSON in build order.
use crate::aur::AurClient;
use crate::error::{Error, ExitStatus};
use crate::ui::{Printer, render_plan};
use camino::{Utf8Path, Utf8PathBuf};

pub async fn plan(
    config_path: &Utf8Path,
    work_dir: Option<Utf8PathBuf>,
    json: bool,
    only: &[String],
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let work = super::work_dir(&config, work_dir);
    let aur = AurClient::from_env()?;
    let target = crate::publish::open_target(&config).await?;
    let scratch = tempfile::tempdir().map_err(Error::io("cannot create a temporary directory"))?;
    let scratch = Utf8Path::from_path(scratch.path()).map(Utf8Path::to_owned).unwrap_or_else(|| work.join("tmp"));
    let planned = super::make_plan(&config, &*target, &aur, &work, only, &scratch).await?;
    if json {
        let text = serde_json::to_string_pretty(&planned.plan).map_err(|e| Error::Usage(e.to_string()))?;
        printer.out(&text);
    } else {
        printer.out(&render_plan(&planned.plan));
    }
    Ok(ExitStatus::Success)
}
