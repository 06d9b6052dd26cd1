//! `repoctl plan`: what a build would do, as a table or as JSON in build order.
use super::render::{markdown_plan, render_plan};
use crate::aur::AurClient;
use crate::error::{Error, ExitStatus};
use crate::plan::Plan;
use crate::plan::waves::{NoFit, Schedule, human};
use crate::ui::Printer;
use camino::{Utf8Path, Utf8PathBuf};

/// How to show the plan.
pub struct Options {
    /// One JSON object instead of a table.
    pub json: bool,
    /// Split the builds over machines.
    pub shards: Option<Sharding>,
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
    let public = super::public_key_if_any(&config)?;
    let key = super::status_key(&config, public.as_ref());
    let mut planned = super::make_plan(&config, (&*target, key), &aur, &work, only, &scratch, printer).await?;
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
    planned.plan.expect_durations(&super::recorded_durations(planned.status.trusted()));
    // A plan that cannot meet its budget prints nothing on stdout: a workflow reading it stops
    // here, in seconds, rather than running shards that GitHub kills at its time limit.
    let schedule = shards.map(|s| s.schedule(&planned.plan)).transpose()?;
    if json {
        let mut value = serde_json::to_value(&planned.plan).map_err(|e| Error::Usage(e.to_string()))?;
        if let (Some(schedule), Some(object)) = (&schedule, value.as_object_mut()) {
            object.insert("shards".into(), serde_json::json!(schedule.shards));
            object.insert("waves".into(), serde_json::json!(schedule.waves));
            object.insert("schedule".into(), serde_json::json!(schedule));
        }
        let text = serde_json::to_string_pretty(&value).map_err(|e| Error::Usage(e.to_string()))?;
        printer.out(&text);
    } else {
        printer.out(&render_plan(&planned.plan));
        if let Some(schedule) = &schedule {
            printer.out(&render_schedule(schedule));
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

/// How `plan` splits the builds over machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharding {
    /// At most this many shards per wave; with a budget (seconds), exceeding it is an error.
    Count(usize, Option<u64>),
    /// The fewest shards (up to [`MAX_SHARDS`]) expected to finish within this many seconds.
    Within(u64),
}

/// The most shards `--shards auto` uses: what `--shards N` accepts, and the number of jobs
/// one GitHub Actions matrix may have.
pub const MAX_SHARDS: usize = 256;

impl Sharding {
    /// `plan`'s schedule. Errors: it is expected to take longer than the budget.
    fn schedule(self, plan: &Plan) -> Result<Schedule, Error> {
        match self {
            Sharding::Within(budget) => Ok(plan.schedule_within(budget, MAX_SHARDS)?),
            Sharding::Count(n, budget) => {
                let schedule = plan.schedule(n);
                match budget {
                    Some(budget) if schedule.expected_secs > budget => Err(NoFit {
                        budget_secs: budget,
                        critical_path_secs: schedule.critical_path_secs,
                        max: n,
                        shards: n,
                        makespan_secs: schedule.expected_secs,
                    }
                    .into()),
                    _ => Ok(schedule),
                }
            }
        }
    }
}

/// The schedule as `plan` prints it under the table: one line per shard (`shard K:` in one
/// wave, `wave W shard K:` in several), the expected wall time against the lower bound, and
/// the builds whose time is the default because none was recorded.
pub fn render_schedule(schedule: &Schedule) -> String {
    let mut out = String::new();
    let several = schedule.waves.len() > 1;
    for (w, wave) in schedule.waves.iter().enumerate() {
        for (k, shard) in wave.iter().enumerate() {
            let at = if several { format!("wave {} shard {}", w + 1, k + 1) } else { format!("shard {}", k + 1) };
            out.push_str(&format!("{at}: {}\n", shard.join(" ")));
        }
    }
    if schedule.waves.is_empty() {
        return out;
    }
    let shards = schedule.waves.iter().map(Vec::len).max().unwrap_or(0);
    out.push_str(&format!(
        "expected wall time: {} ({shards} shard(s), {} wave(s)); no split over {} shard(s) can beat {}\n",
        human(schedule.expected_secs),
        schedule.waves.len(),
        schedule.max_shards,
        human(schedule.lower_bound_secs),
    ));
    if !schedule.unknown.is_empty() {
        const SHOWN: usize = 10;
        let mut names = schedule.unknown.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(" ");
        if schedule.unknown.len() > SHOWN {
            names.push_str(&format!(" and {} more", schedule.unknown.len() - SHOWN));
        }
        out.push_str(&format!(
            "{} build(s) have no recorded duration and are expected to take {} (the default): {names}\n",
            schedule.unknown.len(),
            human(schedule.default_build_secs),
        ));
    }
    out
}
