//! `repoctl provenance PKG|FILE`: where a published package file came from (issue 14). The
//! target's database says which file a package is now; that file's provenance object
//! (`FILE.provenance.json`, written by the build that made it) says which AUR commit, lock and
//! builder image made it. The record is checked against the database's entry before it is
//! shown: a record that describes other bytes is no answer.
//!
//! The record is not signed; the database is, in a signed repository, and it is verified under
//! the key before its entries are believed when the key is at hand (`REPOCTL_SIGNING_KEY`, as
//! for `build`). Without it the answer says that the database was not verified: then the
//! record is as trustworthy as the bucket. What is printed is escaped for the terminal
//! ([`crate::ui::escape`]), JSON included.
use crate::alpm::RepoEntry;
use crate::error::{Error, ExitStatus};
use crate::provenance::{MAX_BYTES, Provenance, sidecar_name};
use crate::publish::Target;
use crate::sign::PublicKey;
use crate::ui::Printer;
use camino::{Utf8Path, Utf8PathBuf};

/// How far the database the record was checked against can be believed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DbTrust {
    /// Verified under the key repo.yaml's `sign.key` names.
    Verified(crate::pgp::Fingerprint),
    /// The repository has no `sign:`.
    Unsigned,
    /// Signed, but no key to verify it with in the environment.
    NotVerified(crate::pgp::Fingerprint),
}

impl DbTrust {
    /// One line: whether what the database says was verified.
    fn describe(&self, db: &str) -> String {
        match self {
            DbTrust::Verified(key) => format!("{db} verified under key {key}"),
            DbTrust::Unsigned => {
                format!("{db} NOT VERIFIED: the repository is unsigned (as trustworthy as the bucket)")
            }
            DbTrust::NotVerified(key) => format!(
                "{db} NOT VERIFIED: neither {} nor sign.public_key gives the key {key} to check its signature with (as trustworthy as the bucket)",
                crate::env::SIGNING_KEY
            ),
        }
    }
}

/// The key to verify the database with, when repo.yaml has `sign:` and either names its public
/// part (`sign.public_key`) or the environment holds the secret key ([`super::public_key`]);
/// None when there is no `sign:` or no key (`DbTrust` says which). Errors: a key is given but
/// is not the configured one or cannot be used.
fn key_for(config: &crate::config::Config) -> Result<(Option<PublicKey>, DbTrust), Error> {
    let Some(sign) = &config.sign else { return Ok((None, DbTrust::Unsigned)) };
    let given = std::env::var(crate::env::SIGNING_KEY).is_ok_and(|k| !k.trim().is_empty());
    if !given && sign.public_key.is_none() {
        return Ok((None, DbTrust::NotVerified(sign.key.clone())));
    }
    Ok((super::public_key(config, None)?, DbTrust::Verified(sign.key.clone())))
}

/// Prints the provenance of `package` (a pkgname; a package file name as the database lists
/// it, or a path to such a file; or a pkgbase: each of its pkgnames), looked up in `NAME`,
/// then `NAME-debug`: a few lines each, or with `json` each object as published (several, for
/// a split pkgbase, one after another: a JSON stream as `jq` reads it). Exit 1, said on stderr,
/// when the package is not published, or one has no provenance (published before repoctl
/// recorded it, or by `repoctl publish` of a file without one), or its record does not describe
/// the file the database lists. Errors: repo.yaml, the target, or a record that is not a
/// provenance object.
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
    let (key, trust) = key_for(&config)?;
    let found = find_published(&*target, &repos, package, key.as_ref(), &scratch).await?;
    if found.is_empty() {
        printer.error(&format!("{package} is not published in {} at {}", config.name, target.describe()));
        return Ok(ExitStatus::PackagesFailed);
    }
    if !matches!(trust, DbTrust::Verified(_)) {
        printer.warn(&trust.describe(&format!("the database of {}", config.name)));
    }
    let mut status = ExitStatus::Success;
    for (repo, entry) in &found {
        let db = crate::repo::DbNames::new(repo).db;
        if !show(&*target, (repo, &trust.describe(&db)), entry, json, printer).await? {
            status = ExitStatus::PackagesFailed;
        }
    }
    Ok(status)
}

/// Prints the provenance of the published `entry` of `repo`; false (said on stderr) when it has
/// none or its record describes another file.
async fn show(
    target: &dyn Target,
    (repo, db_trust): (&str, &str),
    entry: &RepoEntry,
    json: bool,
    printer: &Printer,
) -> Result<bool, Error> {
    let name = sidecar_name(&entry.filename);
    let Some(bytes) = target.fetch(&name, MAX_BYTES).await? else {
        printer.error(&format!(
            "{} {} ({}) has no provenance: it was published before repoctl recorded provenance, or by `repoctl publish` of a file without its .provenance.json; the next build of a new version will have one",
            entry.name, entry.version, entry.filename
        ));
        return Ok(false);
    };
    let record = Provenance::parse(&name, &bytes)?;
    if let Some(why) = disagreement(&record, entry) {
        printer.error(&format!("{name} at {} is not the provenance of the published file: {why}", target.describe()));
        return Ok(false);
    }
    if json {
        printer.out(&crate::ui::escape::json(&String::from_utf8_lossy(&bytes)));
    } else {
        let text = format!("{}\n  database: {db_trust}", describe(&record, repo, &target.describe()));
        printer.out(&crate::ui::escape::terminal(&text));
    }
    Ok(true)
}

/// The entries of the first of `repos` whose database lists `package` ([`matching`]); none when
/// no database does. Each database is read into `scratch`, and verified under `key`
/// when there is one ([`crate::publish::read_trusted`]). Errors: the target, or a database
/// that does not verify.
async fn find_published(
    target: &dyn Target,
    repos: &[String],
    package: &str,
    key: Option<&PublicKey>,
    scratch: &Utf8Path,
) -> Result<Vec<(String, RepoEntry)>, Error> {
    let history = crate::trust::signed::History::none();
    for repo in repos {
        let dir = scratch.join(repo);
        let entries = match key {
            Some(key) => {
                crate::publish::read_trusted(target, repo, Some(key), &history, &dir).await?.trusted.entries().to_vec()
            }
            None => crate::publish::read_remote(target, repo, &dir).await?.entries,
        };
        let found = matching(entries, package);
        if !found.is_empty() {
            return Ok(found.into_iter().map(|e| (repo.clone(), e)).collect());
        }
    }
    Ok(Vec::new())
}

/// The entries `package` names: the pkgname, or the package file (a path names its file name);
/// when none is, every pkgname of the pkgbase `package`.
fn matching(entries: Vec<RepoEntry>, package: &str) -> Vec<RepoEntry> {
    let file = Utf8Path::new(package).file_name().unwrap_or(package);
    let (named, others): (Vec<RepoEntry>, Vec<RepoEntry>) =
        entries.into_iter().partition(|e| e.name == package || e.filename == file);
    if !named.is_empty() {
        return named;
    }
    others.into_iter().filter(|e| e.base == package).collect()
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
    let source = match (&record.aur.path, &record.aur.git) {
        (Some(path), _) => format!("path:     {path} (beside repo.yaml)"),
        (None, Some(git)) => format!("git:      {} at commit {}", git.describe(), record.aur.commit),
        (None, None) => format!("AUR:      {} at commit {}", record.aur.url, record.aur.commit),
    };
    // Issue 27: the patches applied to the commit's files, as the lock records them.
    let source = match record.aur.patches.as_slice() {
        [] => source,
        patches => format!("{source}\n  patches:  {}", patches.join(", ")),
    };
    format!(
        "{} {} ({} in {repo} at {target})\n  sha256:   {}\n  pkgbase:  {}\n  {source}\n  files:    {}\n  lock:     {}\n  builder:  {}: run image {}{base}\n  built:    {} by {}",
        record.pkgname,
        record.version,
        record.file,
        record.sha256,
        record.pkgbase,
        record.aur.files,
        record.lock.sha256,
        builder.image,
        builder.digest,
        record.built_at,
        record.repoctl,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, base: &str) -> RepoEntry {
        let filename = format!("{name}-1-1-any.pkg.tar.zst");
        RepoEntry { name: name.into(), base: base.into(), version: "1-1".into(), filename, ..Default::default() }
    }

    fn names(found: Vec<RepoEntry>) -> Vec<String> {
        found.into_iter().map(|e| e.name).collect()
    }

    #[test]
    fn a_package_is_named_by_pkgname_file_path_or_pkgbase() {
        let db = || vec![entry("split-a", "split"), entry("split-b", "split"), entry("split", "other")];
        assert_eq!(names(matching(db(), "split-b")), ["split-b"]);
        assert_eq!(names(matching(db(), "split-a-1-1-any.pkg.tar.zst")), ["split-a"]);
        assert_eq!(names(matching(db(), "./out/split-a-1-1-any.pkg.tar.zst")), ["split-a"]);
        assert_eq!(names(matching(db(), "/srv/repo/split-b-1-1-any.pkg.tar.zst")), ["split-b"]);
        // A pkgname wins over a pkgbase of the same name; a pkgbase names each of its pkgnames.
        assert_eq!(names(matching(db(), "split")), ["split"]);
        assert_eq!(names(matching(db()[..2].to_vec(), "split")), ["split-a", "split-b"]);
        assert!(matching(db(), "nothing").is_empty());
    }
}
