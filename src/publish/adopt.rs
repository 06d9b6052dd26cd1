//! `repoctl sign --adopt`: turning signing on for a repository that was published unsigned,
//! as one explicit act (issue 24, item 1). A publish never signs what it did not build: it
//! refuses a live database that does not verify. Adoption is the one path that signs packages
//! repoctl did not build in this run, and it signs only files it checked first: every package
//! file the database lists is downloaded and its SHA-256 compared with its entry's
//! `%SHA256SUM%` ([`crate::trust::signed::check_published`]); a single mismatch stops it before
//! anything is written. Then the files whose entries have no valid signature by the key are
//! signed, a new database is made by repo-add from every checked file (signatures embedded),
//! and committed as a publish commits: conditional on the database it read.
use super::{Attempt, Change, Edit, Live, PARALLEL_UPLOADS, Publish, PublishError, Target, read_file, read_remote};
use crate::alpm::RepoEntry;
use crate::repo::{DbNames, RepoTool};
use crate::sign::Signer;
use crate::trust::signed::{self, AdoptedFile, History};
use crate::ui::Reporter;
use camino::{Utf8Path, Utf8PathBuf};
use futures_util::StreamExt;

/// What [`adopt`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adoption {
    /// Package files whose entries had no valid signature by the key: signed now (or, in a dry
    /// run, what would be).
    pub signed: Vec<String>,
    /// Package files whose entries carried a valid signature by the key already.
    pub kept: usize,
    /// Objects written (0 in a dry run).
    pub written: usize,
}

/// Adopts the repository `repo` on `target` for `signer`'s key, working in `dir`: checks every
/// package file, then (unless `tool` is None: a dry run, nothing written) signs what is
/// unsigned, re-adds every file with repo-add and commits the signed database; the commit is
/// recorded in `history`. None when the repository has no database. Errors:
/// [`PublishError::Adopt`] listing the files that do not match their entries (nothing written),
/// [`PublishError::Conflict`] when another run replaced the database meanwhile (nothing
/// committed: run it again), the target, repo-add or signing.
pub async fn adopt(
    target: &dyn Target,
    tool: Option<&RepoTool>,
    repo: &str,
    signer: &Signer,
    history: &History,
    dir: &Utf8Path,
    reporter: &dyn Reporter,
) -> Result<Option<Adoption>, PublishError> {
    let _lock = target.lock().await?;
    let names = DbNames::new(repo);
    let remote = read_remote(target, repo, &dir.join("current")).await?;
    let Some(db) = remote.db.clone() else { return Ok(None) };
    reporter.step(&format!(
        "checking the {} package file(s) {} lists against their entries",
        remote.entries.len(),
        names.db
    ));
    let files = check_files(target, &remote.entries, signer, &names.db, &dir.join("files")).await?;
    let trusted = signed::adopt(&names.db, &read_file(&db)?, &files, signer.public())?;
    let unsigned: Vec<&AdoptedFile> = files.iter().filter(|f| !f.is_signed()).collect();
    let mut adoption = Adoption {
        signed: unsigned.iter().map(|f| f.filename().to_string()).collect(),
        kept: files.len() - unsigned.len(),
        written: 0,
    };
    let Some(tool) = tool else { return Ok(Some(adoption)) };
    for file in &unsigned {
        signed::sign_adopted(signer, file)?;
    }
    // Every file re-added as it is: the set of packages does not change, so the gate has
    // nothing to look at and no official repositories are needed.
    let official = crate::official::OfficialRepos::default();
    let change =
        Change { repo, add: &[], remove: &[], signer: Some(signer), history, official: &official, snapshots: None };
    let mut publish = Publish::new(target, tool, &change, reporter);
    let every: Vec<Utf8PathBuf> = files.iter().map(|f| f.path().to_owned()).collect();
    let edit = Edit { add: every.clone(), remove: Vec::new(), live: every, fresh: true };
    match publish.commit_edit(&Live { remote, trusted }, &edit, dir).await? {
        Attempt::Done => {
            adoption.written = publish.finish().uploaded;
            Ok(Some(adoption))
        }
        Attempt::Refused | Attempt::Taken => {
            Err(PublishError::Conflict { name: names.db, target: target.describe(), attempts: 1 })
        }
    }
}

/// Downloads every package file `entries` list into `dir`, [`PARALLEL_UPLOADS`] at a time,
/// and checks each against its entry ([`signed::check_published`]). Errors:
/// [`PublishError::Adopt`] naming every file that does not match (`db`: the database's name),
/// or the target.
async fn check_files(
    target: &dyn Target,
    entries: &[RepoEntry],
    signer: &Signer,
    db: &str,
    dir: &Utf8Path,
) -> Result<Vec<AdoptedFile>, PublishError> {
    fs_err::create_dir_all(dir).map_err(|source| PublishError::Io { path: dir.to_owned(), source })?;
    let checked: Vec<Result<Result<AdoptedFile, String>, PublishError>> = futures_util::stream::iter(entries)
        .map(|entry| async move {
            let path = dir.join(&entry.filename);
            // %CSIZE%: the database says how large the file is; one larger is not it.
            target
                .download(&entry.filename, &path, entry.csize.unwrap_or(crate::trust::package::MAX_UNPACKED_BYTES))
                .await?;
            Ok(signed::check_published(entry, &path, signer.public()))
        })
        .buffer_unordered(PARALLEL_UPLOADS)
        .collect()
        .await;
    let (mut files, mut problems) = (Vec::new(), Vec::new());
    for one in checked {
        match one? {
            Ok(file) => files.push(file),
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        problems.sort();
        return Err(PublishError::Adopt {
            name: db.to_string(),
            target: target.describe(),
            problems: problems.join("; "),
        });
    }
    Ok(files)
}
