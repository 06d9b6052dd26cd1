//! `repoctl publish DIR`: add package files built elsewhere (a shard, `build --no-publish`).
use super::shared::{DEBUG_SUBDIR, prepare_image};
use crate::build::RunDirs;
use crate::docker::Docker;
use crate::error::{Error, ExitStatus};
use crate::publish::Change;
use crate::repo::RepoTool;
use crate::ui::{Printer, Reporter};
use camino::{Utf8Path, Utf8PathBuf};

pub async fn publish(
    config_path: &Utf8Path,
    work_dir: Option<Utf8PathBuf>,
    dir: &Utf8Path,
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let signer = super::signer(&config)?;
    let packages = package_files(dir)?;
    if packages.is_empty() {
        return Err(Error::Usage(format!("{dir} holds no package files (*.pkg.tar.*)")));
    }
    // The shards' results files, read (and refused when damaged) before anything is written.
    let results = super::results::read_results_files(dir)?;
    let work = super::work_dir(&config, work_dir);
    let run_id = super::new_run_id();
    let dirs =
        RunDirs::new(&work, &run_id).map_err(Error::io(format!("cannot create the run directory under {work}")))?;
    let target = crate::publish::open_target(&config).await?;
    let docker = Docker::connect(&run_id, &work).await?;
    let image = prepare_image(&docker, &config.builder.image, &dirs.logs, printer).await?;
    let tool = RepoTool::new(docker.clone(), image);
    // `build --out DIR` puts debug packages in DIR/debug: they go to the NAME-debug repository.
    let debug_dir = dir.join(DEBUG_SUBDIR);
    let debug = if debug_dir.is_dir() { package_files(&debug_dir)? } else { Vec::new() };
    let repos = [(config.name.clone(), packages), (crate::repo::debug_repo_name(&config.name), debug)];
    let publishing = publish_repos(&*target, &tool, &repos, signer.as_ref(), &dirs, printer);
    // With no results to record, the status object may be current already: it is read while
    // the packages are published, so a re-publish with nothing new waits for one round trip
    // fewer. A failed read is left to the describe step to repeat and report.
    let status_read = async {
        match results.is_empty() {
            true => crate::publish::status::read(&*target, &config.name).await.ok().map(|(status, _)| status),
            false => None,
        }
    };
    let (unchanged, status) = tokio::join!(publishing, status_read);
    let unchanged = unchanged?;
    // What the shards' builds did, then the page, after the database.
    let scratch = dirs.run.join("describe");
    // Nothing new in the database and no results: the status object and page may be current.
    let read = unchanged.as_ref();
    let recorded =
        super::results::Recorded { run_id: &run_id, results: &results, forget: &[], read, status: status.as_ref() };
    super::results::describe(&config, &*target, recorded, &scratch, printer).await;
    Ok(ExitStatus::Success)
}

/// Publishes each repository's package files (`repos`: NAME, then NAME-debug; one without
/// files is left alone), saying what each publish wrote. Returns NAME's database as read when
/// that publish changed nothing ([`crate::publish::PublishReport::unchanged`]). Errors: a
/// publish fails or is interrupted.
async fn publish_repos(
    target: &dyn crate::publish::Target,
    tool: &RepoTool,
    repos: &[(String, Vec<Utf8PathBuf>); 2],
    signer: Option<&crate::sign::Signer>,
    dirs: &RunDirs,
    printer: &Printer,
) -> Result<Option<crate::publish::RemoteRepo>, Error> {
    let mut unchanged = None;
    for (i, (repo, add)) in repos.iter().enumerate().filter(|(_, (_, add))| !add.is_empty()) {
        let change = Change { repo, add, remove: &[], signer };
        let dir = dirs.run.join("publish").join(repo);
        let report = super::publish_or_interrupt(target, tool, &change, &dir, printer).await?;
        printer.step(&format!(
            "published {} package file(s) to {repo} at {} ({} object(s) written)",
            add.len(),
            target.describe(),
            report.uploaded
        ));
        if i == 0 {
            unchanged = report.unchanged;
        }
    }
    Ok(unchanged)
}

/// `*.pkg.tar.*` files in `dir`, signatures excluded (they travel with their package).
fn package_files(dir: &Utf8Path) -> Result<Vec<Utf8PathBuf>, Error> {
    let entries = fs_err::read_dir(dir).map_err(Error::io(format!("cannot read {dir}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io(format!("cannot read {dir}")))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if crate::alpm::is_package_file(&name) && entry.file_type().is_ok_and(|t| t.is_file()) {
            files.push(dir.join(name));
        }
    }
    files.sort();
    Ok(files)
}
