//! `repoctl provenance PKG|FILE`: where a published package file came from (issue 14). The
//! target's database says which file a package is now; that file's provenance object
//! (`FILE.provenance.json`, written by the build that made it) says which AUR commit, lock and
//! builder image made it. The record is checked against the database's entry before it is
//! shown: a record that describes other bytes is no answer.
use crate::alpm::RepoEntry;
use crate::error::{Error, ExitStatus};
use crate::provenance::{MAX_BYTES, Provenance, sidecar_name};
use crate::publish::Target;
use crate::ui::Printer;
use camino::{Utf8Path, Utf8PathBuf};

/// Prints the provenance of `package` (a pkgname, or a package file name as the database
/// lists it), looked up in `NAME`, then `NAME-debug`: a few lines, or with `json` the object as
/// published. Exit 1, said on stderr, when the package is not published, or has no provenance
/// (published before repoctl recorded it, or by `repoctl publish` of a file without one), or
/// its record does not describe the file the database lists. Errors: repo.yaml, the target,
/// or a record that is not a provenance object.
pub async fn provenance(
    config_path: &Utf8Path,
    package: &str,
    json: bool,
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let target = crate::publish::open_target(&config).await?;
    let scratch = tempfile::tempdir().map_err(Error::io("cannot create a temporary directory"))?;
    let scratch = Utf8PathBuf::from_path_buf(scratch.path().to_path_buf())
        .unwrap_or_else(|p| p.to_string_lossy().into_owned().into());
    let repos = [config.name.clone(), crate::repo::debug_repo_name(&config.name)];
    let Some((repo, entry)) = find_published(&*target, &repos, package, &scratch).await? else {
        printer.error(&format!("{package} is not published in {} at {}", config.name, target.describe()));
        return Ok(ExitStatus::PackagesFailed);
    };
    let name = sidecar_name(&entry.filename);
    let Some(bytes) = target.fetch(&name, MAX_BYTES).await? else {
        printer.error(&format!(
            "{} {} ({}) has no provenance: it was published before repoctl recorded provenance, or by `repoctl publish` of a file without its .provenance.json; the next build of a new version will have one",
            entry.name, entry.version, entry.filename
        ));
        return Ok(ExitStatus::PackagesFailed);
    };
    let record = Provenance::parse(&name, &bytes)?;
    if let Some(why) = disagreement(&record, &entry) {
        printer.error(&format!("{name} at {} is not the provenance of the published file: {why}", target.describe()));
        return Ok(ExitStatus::PackagesFailed);
    }
    if json {
        printer.out(&String::from_utf8_lossy(&bytes));
    } else {
        printer.out(&crate::ui::escape::terminal(&describe(&record, &repo, &target.describe())));
    }
    Ok(ExitStatus::Success)
}

/// The first of `repos` whose database lists `package` (a pkgname or a file name), with its
/// entry; None when none does. Each database is read into `scratch`.
async fn find_published(
    target: &dyn Target,
    repos: &[String],
    package: &str,
    scratch: &Utf8Path,
) -> Result<Option<(String, RepoEntry)>, Error> {
    for repo in repos {
        let remote = crate::publish::read_remote(target, repo, &scratch.join(repo)).await?;
        let found = remote.entries.into_iter().find(|e| e.name == package || e.filename == package);
        if let Some(entry) = found {
            return Ok(Some((repo.clone(), entry)));
        }
    }
    Ok(None)
}

/// Why `record` does not describe the file `entry` lists (another name, other bytes), or None.
fn disagreement(record: &Provenance, entry: &RepoEntry) -> Option<String> {
    if record.file != entry.filename {
        return Some(format!("it describes {}", record.file));
    }
    match &entry.sha256 {
        Some(sum) if *sum != record.sha256 => Some(format!("its sha256 {} is not the database's {sum}", record.sha256)),
        _ => None,
    }
}

/// The record in a few lines, for a person.
fn describe(record: &Provenance, repo: &str, target: &str) -> String {
    let builder = &record.builder;
    let base = builder.base_digest.as_deref().map(|d| format!(", base image {d}")).unwrap_or_default();
    format!(
        "{} {} ({} in {repo} at {target})\n  sha256:   {}\n  pkgbase:  {}\n  AUR:      {} at commit {}\n  files:    {}\n  lock:     {}\n  builder:  {}: run image {}{base}\n  built:    {} by {}",
        record.pkgname,
        record.version,
        record.file,
        record.sha256,
        record.pkgbase,
        record.aur.url,
        record.aur.commit,
        record.aur.files,
        record.lock.sha256,
        builder.image,
        builder.digest,
        record.built_at,
        record.repoctl,
    )
}
