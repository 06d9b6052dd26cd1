//! `repoctl clean`: remove what earlier runs left in the Docker daemon (found by label): the
//! containers (pins included) of runs that are over, superseded synced images that no run holds,
//! run images of older versions, and with `--caches` the synced images and cache volumes.
use crate::docker::Docker;
use crate::error::{Error, ExitStatus};
use crate::ui::Printer;

pub async fn clean(caches: bool, all: bool, dry_run: bool, printer: &Printer) -> Result<ExitStatus, Error> {
    let docker = Docker::connect("clean").await?;
    let mut leftovers = docker.leftovers(caches).await?;
    // A run still going on this machine keeps its containers, unless --all.
    leftovers.retain(|l| all || !l.run.as_deref().is_some_and(run_is_alive));
    if leftovers.is_empty() {
        printer.out("nothing to clean");
        return Ok(ExitStatus::Success);
    }
    for l in &leftovers {
        let run = l.run.as_deref().map(|r| format!(" (run {r})")).unwrap_or_default();
        if dry_run {
            printer.out(&format!("would remove {} {}{run}", l.kind, l.id));
        } else if docker.remove_leftover(l).await? {
            printer.out(&format!("removed {} {}{run}", l.kind, l.id));
        } else {
            printer.out(&format!("kept {} {}: a run still uses it", l.kind, l.id));
        }
    }
    Ok(ExitStatus::Success)
}

/// Run IDs are `<unix seconds>-<pid>`: the run is alive when that process is a repoctl here.
fn run_is_alive(run: &str) -> bool {
    let Some(pid) = run.rsplit('-').next().and_then(|p| p.parse::<u32>().ok()) else { return false };
    if pid == std::process::id() {
        return false;
    }
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "repoctl")
}
