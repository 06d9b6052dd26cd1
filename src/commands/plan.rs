//! `repoctl plan`: what a build would do, as a table or as JSON in build order.
use super::render::{markdown_plan, render_plan};
use crate::aur::AurClient;
use crate::error::{Error, ExitStatus};
use crate::ui::Printer;
use camino::{Utf8Path, Utf8PathBuf};

/// How to show the plan.
pub struct Options {
    /// One JSON object instead of a table.
    pub json: bool,
    /// Split the builds into at most this many shards.
    pub shards: Option<usize>,
    /// Ask VCS packages' pkgver() in containers first.
    pub probe_vcs: bool,
}

pub async fn plan(
    config_path: &Utf8Path,
    work_dir: Option<Utf8PathBuf>,
    options: Options,
    only: &[String],
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let Options { json, shards, probe_vcs } = options;
    let config = super::load_config(config_path)?;
    let work = super::work_dir(&config, work_dir);
    let aur = AurClient::from_env()?;
    let target = crate::publish::open_target(&config).await?;
    // Plan writes nothing that outlives it: the published database is read into a temporary directory.
    let (_tmp, scratch) = super::scratch_dir()?;
    let mut planned = super::make_plan(&config, &*target, &aur, &work, only, &scratch, printer).await?;
    if probe_vcs {
        planned.plan = super::shared::probe_vcs(
            &config,
            planned.plan,
            &planned.sync_dbs,
            &*target,
            &planned.remote,
            &aur,
            &work,
            printer,
        )
        .await?;
    }
    let shards = shards.map(|n| planned.plan.shards(n));
    if json {
        let mut value = serde_json::to_value(&planned.plan).map_err(|e| Error::Usage(e.to_string()))?;
        if let (Some(shards), Some(object)) = (&shards, value.as_object_mut()) {
            object.insert("shards".into(), serde_json::json!(shards));
        }
        let text = serde_json::to_string_pretty(&value).map_err(|e| Error::Usage(e.to_string()))?;
        printer.out(&text);
    } else {
        printer.out(&render_plan(&planned.plan));
        for (i, shard) in shards.iter().flatten().enumerate() {
            printer.out(&format!("shard {}: {}", i + 1, shard.join(" ")));
        }
    }
    printer.step_summary(&markdown_plan(&planned.plan, &format!("repoctl plan: {}", config.name)));
    super::print_warnings(&planned.plan, printer);
    // A package a person must look at (unknown, ambiguous provider, missing dependency) makes
    // the plan exit 2, as `check` does; `build` would build the rest and exit 1.
    let diags = super::plan_diagnostics(&config, &planned.plan);
    if !diags.0.is_empty() {
        return Err(diags.into());
    }
    Ok(ExitStatus::Success)
}
