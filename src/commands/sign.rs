//! `repoctl sign --adopt`: turn signing on for a repository that was published unsigned, once
//! and on purpose (issue 24, item 1). `build` and `publish` never sign what the bucket holds:
//! they refuse a live database that does not verify under the key.
use super::shared::prepare_image;
use crate::build::RunDirs;
use crate::docker::Docker;
use crate::error::{Error, ExitStatus};
use crate::publish::{Adoption, Target};
use crate::repo::RepoTool;
use crate::ui::Printer;
use camino::{Utf8Path, Utf8PathBuf};

pub async fn sign(
    config_path: &Utf8Path,
    work_dir: Option<Utf8PathBuf>,
    dry_run: bool,
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let signer = super::signer(&config)?.ok_or_else(|| {
        Error::Usage(format!(
            "{} has no `sign:`: add `sign: {{key: FINGERPRINT}}` to it, then run `repoctl sign --adopt`",
            config.path
        ))
    })?;
    let work = super::work_dir(&config, work_dir);
    let run_id = super::new_run_id();
    let dirs =
        RunDirs::new(&work, &run_id).map_err(Error::io(format!("cannot create the run directory under {work}")))?;
    let target = crate::publish::open_target(&config).await?;
    let history = crate::publish::history(&*target, &work);
    let tool = match dry_run {
        true => None,
        false => Some(repo_tool(&config, &*target, &work, &run_id, &dirs, printer).await?),
    };
    let (mut adopted_any, mut was_unsigned) = (false, false);
    for repo in [config.name.clone(), crate::repo::debug_repo_name(&config.name)] {
        let dir = dirs.run.join("adopt").join(&repo);
        let adopting = crate::publish::adopt(&*target, tool.as_ref(), &repo, &signer, &history, &dir, printer);
        let adoption = match &tool {
            Some(tool) => super::or_interrupt(tool.docker(), adopting).await??,
            None => adopting.await?,
        };
        match adoption {
            Some(adoption) => {
                printer.out(&report(&repo, &adoption, signer.fingerprint().as_str(), dry_run));
                adopted_any = true;
                was_unsigned |= !adoption.signed.is_empty();
            }
            None if repo == config.name => {
                printer.out(&format!("{} has no {repo}.db: nothing to adopt", target.describe()))
            }
            None => {}
        }
    }
    if adopted_any && !dry_run {
        // The page says the repository is signed now, and how to trust the key.
        let none = super::results::Results::new();
        // The status object written while the repository was unsigned is taken over as read,
        // as the database was, and written signed ([`crate::publish::status::Signing::Adopting`]).
        // A repository whose every file the key had signed already was signed: its object must
        // verify as any run's does, so that `--adopt` run as a repair signs no forged linkage.
        let signing = match was_unsigned {
            true => crate::publish::status::Signing::Adopting(&signer),
            false => crate::publish::status::Signing::Signed(&signer),
        };
        let recorded = super::results::Recorded::without_plan(&run_id, &none, signing);
        super::results::describe(&config, &*target, recorded, &dirs.run.join("describe"), None, printer).await?;
    }
    Ok(ExitStatus::Success)
}

/// The repo-add tool an adoption commits with, after the store's conditional writes are
/// checked (once per work directory `work`). Errors: the store ignores them, or Docker.
async fn repo_tool(
    config: &crate::config::Config,
    target: &dyn Target,
    work: &Utf8Path,
    run_id: &str,
    dirs: &RunDirs,
    printer: &Printer,
) -> Result<RepoTool, Error> {
    crate::publish::check_conditional_writes(target, work).await?;
    let docker = Docker::connect(run_id, work).await?;
    let image = prepare_image(&docker, config, &dirs.logs, printer).await?;
    Ok(RepoTool::new(docker, image))
}

/// What an adoption of `repo` signed (or, `dry_run`, would sign) with the key `key`.
fn report(repo: &str, adoption: &Adoption, key: &str, dry_run: bool) -> String {
    let verb = if dry_run { "would sign" } else { "signed" };
    let mut out = format!(
        "{repo}: every package file matches its entry's %SHA256SUM%; {verb} {} package file(s) with {key}",
        adoption.signed.len()
    );
    if adoption.signed.is_empty() {
        out.push('\n');
    } else {
        out.push_str(":\n");
    }
    for file in &adoption.signed {
        out.push_str(&format!("  {}\n", crate::ui::sanitize_line(file)));
    }
    if adoption.kept > 0 {
        out.push_str(&format!("  ({} already signed by this key)\n", adoption.kept));
    }
    match dry_run {
        true => out.push_str(&format!("{verb} {repo}.db and {repo}.files; nothing written (--dry-run)")),
        false => out.push_str(&format!("signed {repo}.db and {repo}.files: {} object(s) written", adoption.written)),
    }
    out
}
