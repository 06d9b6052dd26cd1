//! `repoctl clean`: remove what earlier runs of this work directory left in the Docker daemon
//! (found by label): the containers (pins included) and networks of runs that are over,
//! superseded synced images that no run holds, and with `--caches` the synced images and cache
//! volumes. `--all-work-dirs` looks at every work directory's resources, and at those of older
//! repoctl versions, which name none. A run that is still going keeps everything it uses,
//! whatever the flags (issue 24, item 6).
use crate::docker::{Docker, Leftover, Scope};
use crate::error::{Error, ExitStatus};
use crate::ui::Printer;
use camino::Utf8Path;

/// What to clean: `caches` adds the cache volumes and synced images; `all_work_dirs` widens the
/// scope from the work directory `work` to every repoctl resource in the daemon; `dry_run`
/// only lists. Errors: the daemon cannot be reached or refuses a removal.
pub async fn clean(
    work: &Utf8Path,
    caches: bool,
    all_work_dirs: bool,
    dry_run: bool,
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let docker = Docker::connect(&super::new_run_id(), work).await?;
    let scope = if all_work_dirs { Scope::Everywhere } else { Scope::WorkDir(docker.work_dir()) };
    let survey = docker.survey(scope, caches).await?;
    let (live, leftovers): (Vec<Leftover>, Vec<Leftover>) = survey.leftovers.into_iter().partition(|l| l.live);
    for l in &leftovers {
        if dry_run {
            printer.out(&format!("would remove {}", describe(l)));
        } else if docker.remove_leftover(l).await? {
            printer.out(&format!("removed {}", describe(l)));
        } else {
            printer.out(&format!("kept {}: something still uses it", describe(l)));
        }
    }
    for l in &live {
        printer.out(&format!("left alone {}: its run is still going", describe(l)));
    }
    if leftovers.is_empty() {
        printer.out(&match scope {
            Scope::WorkDir(dir) => format!("nothing to clean for {dir}"),
            Scope::Everywhere => "nothing to clean".to_string(),
        });
    }
    if survey.out_of_scope > 0 {
        printer.info(&format!(
            "{} resource(s) of other work directories or older repoctl versions not looked at \
(--all-work-dirs includes them)",
            survey.out_of_scope
        ));
    }
    Ok(ExitStatus::Success)
}

fn describe(l: &Leftover) -> String {
    let run = l.run.as_deref().map(|r| format!(" (run {r})")).unwrap_or_default();
    format!("{} {}{run}", l.kind, l.id)
}
