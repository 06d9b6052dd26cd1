//! The copy of a builder image's sync databases in `WORK/official`: `<repo>.db` as a server
//! sent it, `<repo>.libraries` (the library names of its `.files` database, one a line, when
//! known: issue 26), and `stamp`, which says for which builder image and where each came from.
use super::{OfficialError, SyncDb, io_at, safe_repo_name};
use camino::Utf8Path;

/// The cache's stamp file in the cache directory.
pub(super) const STAMP: &str = "stamp";

/// The stamp, as JSON: `{"builder_image": TAG, "repos": [{"name", "servers", "modified"}]}`,
/// the repositories in pacman.conf order.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Stamp {
    pub(super) builder_image: String,
    pub(super) repos: Vec<StampRepo>,
}

/// One repository in the stamp: [`SyncDb`] without its bytes.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct StampRepo {
    pub(super) name: String,
    pub(super) servers: Vec<String>,
    /// Unix seconds; see [`SyncDb::modified`].
    pub(super) modified: Option<i64>,
}

impl Stamp {
    /// None when `text` is not a stamp or names a repository unsafe as a file name.
    pub(super) fn parse(text: &str) -> Option<Stamp> {
        let stamp: Stamp = serde_json::from_str(text).ok()?;
        stamp.repos.iter().all(|r| safe_repo_name(&r.name)).then_some(stamp)
    }
}

/// The cached databases in pacman.conf order, when the stamp names `builder_image` and every
/// database it lists can be read; None otherwise (the caller fetches them again).
pub(super) fn read(cache_dir: &Utf8Path, builder_image: &str) -> Option<Vec<SyncDb>> {
    let stamp = Stamp::parse(&fs_err::read_to_string(cache_dir.join(STAMP)).ok()?)?;
    if stamp.builder_image != builder_image {
        return None;
    }
    let mut dbs = Vec::new();
    for repo in stamp.repos {
        let bytes = fs_err::read(cache_dir.join(format!("{}.db", repo.name))).ok()?;
        let libraries = fs_err::read_to_string(cache_dir.join(format!("{}.libraries", repo.name)))
            .ok()
            .map(|text| text.lines().filter(|l| !l.is_empty()).map(str::to_string).collect());
        dbs.push(SyncDb { repo: repo.name, servers: repo.servers, modified: repo.modified, bytes, libraries });
    }
    Some(dbs)
}

/// Makes the cache `dbs`, writing the database files `rewrite` selects (the others are already
/// there): the stamp goes first and comes back last, so a crash leaves no cache.
pub(super) fn store(
    cache_dir: &Utf8Path,
    builder_image: &str,
    dbs: &[SyncDb],
    rewrite: &dyn Fn(&SyncDb) -> bool,
) -> Result<(), OfficialError> {
    let stamp_path = cache_dir.join(STAMP);
    match fs_err::remove_file(&stamp_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_at(&stamp_path)(e)),
        _ => {}
    }
    for db in dbs.iter().filter(|db| rewrite(db)) {
        write_atomically(&cache_dir.join(format!("{}.db", db.repo)), &db.bytes)?;
        // `REPO.libraries`: the library names of its `.files` database, one a line.
        let libraries = cache_dir.join(format!("{}.libraries", db.repo));
        match &db.libraries {
            Some(names) => {
                let text: String = names.iter().map(|n| format!("{n}\n")).collect();
                write_atomically(&libraries, text.as_bytes())?
            }
            None => match fs_err::remove_file(&libraries) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_at(&libraries)(e)),
                _ => {}
            },
        }
    }
    let repos = dbs
        .iter()
        .map(|db| StampRepo { name: db.repo.clone(), servers: db.servers.clone(), modified: db.modified })
        .collect();
    let stamp = Stamp { builder_image: builder_image.to_string(), repos };
    let text = serde_json::to_string_pretty(&stamp).map_err(|e| io_at(&stamp_path)(e.into()))?;
    write_atomically(&stamp_path, text.as_bytes())
}

/// Writes `path` through a temporary file beside it and a rename.
fn write_atomically(path: &Utf8Path, bytes: &[u8]) -> Result<(), OfficialError> {
    let dir = path.parent().unwrap_or(Utf8Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io_at(dir))?;
    std::io::Write::write_all(&mut file, bytes).map_err(io_at(path))?;
    file.as_file().sync_all().map_err(io_at(path))?;
    file.persist(path).map_err(|e| io_at(path)(e.error))?;
    Ok(())
}
