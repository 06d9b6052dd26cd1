//! The blob reader (issue 23, items 2 and 3): a commit's files as its git objects hold them,
//! and the tree a build is made from, which only a check against repoctl.lock constructs.
//!
//! `git archive` and `git diff` obey the commit's own `.gitattributes` (`export-ignore`,
//! `export-subst`, `-diff`) and leave symlinks out; a checkout runs LFS and other filters. So a
//! commit could hide a file from the lock's hash and from the review that makepkg then uses.
//! [`read`] asks `git ls-tree -r -z --full-tree` and one `git cat-file --batch` (one process
//! per commit, not per file), which apply no attributes and no filters: every entry with its
//! mode, path and bytes. Symlinks are entries whose content is their target (nothing is
//! followed), and `.gitattributes`/`.lfsconfig` are plain files; both are hashed, and the
//! review flags them. A submodule (gitlink) is refused: its files are not in the AUR
//! repository, so nothing could check them.
//!
//! [`Tree::verify`] is the one way to a [`LockedTree`], what the build takes: the tar sent to
//! the container, the `.SRCINFO` the build reads and the key files are made from it, never from
//! a work tree that another command may reset.
use super::git::{GitFailure, git};
use camino::Utf8Path;
use sha2::{Digest, Sha256};

/// The prefix of the lock's `files` value that [`Tree::digest`] makes.
pub const DIGEST_PREFIX: &str = "tree-sha256:";
/// The prefix of the `files` value repoctl wrote before this reader ([`Tree::verify`] says what
/// becomes of it).
pub const LEGACY_PREFIX: &str = "sha256:";
/// The most bytes one commit's files may hold. aurweb refuses blobs over 250 KiB (its
/// git-update hook's `max_blob_size`), so an AUR repository is far smaller; this bounds the
/// memory a hostile `AUR_LOCATION` can make repoctl use.
pub const MAX_TREE_BYTES: u64 = 64 << 20;

/// The three kinds of entry a commit may hold, by their git mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// `100644`.
    File,
    /// `100755`.
    Executable,
    /// `120000`: the content is the link's target, which is never followed.
    Symlink,
}

impl Mode {
    fn parse(mode: &str) -> Option<Mode> {
        match mode {
            "100644" => Some(Mode::File),
            "100755" => Some(Mode::Executable),
            "120000" => Some(Mode::Symlink),
            _ => None,
        }
    }

    /// The mode as git writes it (`100644`, `100755`, `120000`).
    pub fn git(self) -> &'static str {
        match self {
            Mode::File => "100644",
            Mode::Executable => "100755",
            Mode::Symlink => "120000",
        }
    }
}

/// One entry of a commit: its mode, its path from the repository's root (`/`-separated, UTF-8,
/// no `.`, `..` or `.git` component) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    mode: Mode,
    path: String,
    content: Vec<u8>,
}

impl Entry {
    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file's bytes, or a symlink's target.
    pub fn content(&self) -> &[u8] {
        &self.content
    }
}

/// Whether `path` names a file that changes what git tools show or check out
/// (`.gitattributes` in any directory, `.lfsconfig`): flagged by the review.
pub fn is_attribute_file(path: &str) -> bool {
    matches!(path.rsplit('/').next(), Some(".gitattributes" | ".lfsconfig"))
}

/// Every entry of one commit, in byte order of their paths. Made only by [`read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    commit: String,
    entries: Vec<Entry>,
}

impl Tree {
    /// The commit id (40 hex digits).
    pub fn commit(&self) -> &str {
        &self.commit
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.binary_search_by(|e| e.path.as_str().cmp(path)).ok().map(|i| &self.entries[i])
    }

    /// The bytes of the regular file at `path` (None for a symlink or nothing).
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.get(path).filter(|e| e.mode != Mode::Symlink).map(|e| e.content.as_slice())
    }

    /// The entries under the directory `dir` (`/`-separated, relative, no `.` or `..`) with
    /// `dir/` cut from their paths, at the same commit: a `git:` package's subdir (issue 27),
    /// whose [`Tree::digest`] is what repoctl.lock records. None when nothing is under `dir`.
    pub fn subtree(&self, dir: &str) -> Option<Tree> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let entries: Vec<Entry> = self
            .entries
            .iter()
            .filter_map(|e| {
                let path = e.path.strip_prefix(&prefix)?;
                Some(Entry { mode: e.mode, path: path.to_string(), content: e.content.clone() })
            })
            .collect();
        // Cutting one common prefix keeps the byte order of the paths.
        (!entries.is_empty()).then(|| Tree { commit: self.commit.clone(), entries })
    }

    /// What repoctl.lock records as `files`: `tree-sha256:` and the SHA-256, in lowercase hex,
    /// of every entry in path order, each as its git type (`blob`), a NUL, its mode as git
    /// writes it, a NUL, its path, a NUL, its length in decimal, a NUL, and its bytes. The
    /// commit id already names all of it, but through SHA-1. Our own format, hence written here.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for e in &self.entries {
            for field in ["blob", e.mode.git(), &e.path, &e.content.len().to_string()] {
                h.update(field.as_bytes());
                h.update(b"\0");
            }
            h.update(&e.content);
        }
        format!("{DIGEST_PREFIX}{:x}", h.finalize())
    }

    /// The `sha256:` value repoctl wrote before this reader, from what `git archive` gave it:
    /// the regular files only, each as its path, a NUL, its length, a NUL, and its bytes.
    fn legacy_digest(&self) -> String {
        let mut h = Sha256::new();
        for e in self.entries.iter().filter(|e| e.mode != Mode::Symlink) {
            h.update(e.path.as_bytes());
            h.update(b"\0");
            h.update(e.content.len().to_string().as_bytes());
            h.update(b"\0");
            h.update(&e.content);
        }
        format!("{LEGACY_PREFIX}{:x}", h.finalize())
    }

    /// What `git archive` may have left out or changed, so that a `sha256:` value does not
    /// vouch for it: every `.gitattributes` (`export-ignore`, `export-subst`) and symlink.
    fn unseen_by_legacy(&self) -> Vec<String> {
        let unseen = |e: &&Entry| e.mode == Mode::Symlink || e.path.rsplit('/').next() == Some(".gitattributes");
        self.entries.iter().filter(unseen).map(|e| e.path.clone()).collect()
    }

    /// The check of this tree against `locked`, the `files` value repoctl.lock records for
    /// `pkgbase` at this commit. A `tree-sha256:` value must equal [`Tree::digest`]. A
    /// `sha256:` value (written by repoctl before issue 23) is accepted only where it saw
    /// everything: the tree holds no `.gitattributes` and no symlink, and its regular files hash
    /// to it the old way (file modes are then bound by the commit id, as they were when the
    /// value was written); `repoctl update` rewrites such an entry in the new format. Errors:
    /// [`Mismatch::Incomplete`] (the old value could not see some entries: `repoctl update`
    /// must show them before they are built), [`Mismatch::Digest`] (the lock was edited, or
    /// names another commit's files).
    pub fn verify(self, pkgbase: &str, locked: &str) -> Result<LockedTree, Mismatch> {
        let found = if locked.starts_with(LEGACY_PREFIX) {
            let unseen = self.unseen_by_legacy();
            if !unseen.is_empty() {
                let (pkgbase, commit) = (pkgbase.to_string(), self.commit.clone());
                return Err(Mismatch::Incomplete { pkgbase, commit, paths: unseen });
            }
            self.legacy_digest()
        } else {
            self.digest()
        };
        if found == locked {
            return Ok(LockedTree { tree: self });
        }
        let (pkgbase, commit, locked) = (pkgbase.to_string(), self.commit.clone(), locked.to_string());
        Err(Mismatch::Digest { pkgbase, commit, found, locked })
    }
}

/// A commit's tree that matched what repoctl.lock records: what a build is made from. Made
/// only by [`Tree::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedTree {
    tree: Tree,
}

impl LockedTree {
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// A locked tree with patches checked against the lock applied (issue 27): made only by
    /// [`super::patch::apply`], from a [`LockedTree`] and [`super::patch::LockedPatches`].
    pub(super) fn from_patched(tree: Tree) -> LockedTree {
        LockedTree { tree }
    }
}

impl Tree {
    /// `self` under the commit id `commit`: a patched tree keeps its AUR commit's id.
    pub(super) fn at_commit(mut self, commit: &str) -> Tree {
        self.commit = commit.to_string();
        self
    }
}

/// A tree that does not match repoctl.lock.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    #[error("the files of {pkgbase} at commit {commit} hash to {found}, but repoctl.lock says {locked}")]
    Digest { pkgbase: String, commit: String, found: String, locked: String },
    #[error(
        "repoctl.lock records the files of {pkgbase} at commit {commit} in the format of an older repoctl (`sha256:`), which did not cover {}: run `repoctl update {pkgbase}` to lock it again, and review what it shows",
        paths.join(", ")
    )]
    Incomplete { pkgbase: String, commit: String, paths: Vec<String> },
}

/// A commit that cannot be read, or holds what repoctl refuses to build from.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("cannot read the files of commit {commit}")]
    Git {
        commit: String,
        #[source]
        source: GitFailure,
    },
    #[error(
        "commit {commit} holds a submodule at `{path}`: its files are not in the AUR repository, so repoctl can neither check nor build them"
    )]
    Submodule { commit: String, path: String },
    #[error("commit {commit} holds `{path}`, which repoctl refuses: {why}")]
    Refused { commit: String, path: String, why: String },
    #[error("the files of commit {commit} hold more than {} MiB", MAX_TREE_BYTES >> 20)]
    TooLarge { commit: String },
    #[error("git's answer for commit {commit} cannot be read: {what}")]
    Garbled { commit: String, what: String },
}

/// Every entry of `commit` (40 hex digits) in the repository `git_dir`, read from its objects:
/// `git ls-tree -r -z -l --full-tree`, then one `git cat-file --batch` for all the blobs.
/// Errors: the commit is not there, holds a submodule, an unusual mode or path (`..`, `.git`,
/// not UTF-8), or more than [`MAX_TREE_BYTES`].
pub async fn read(git_dir: &Utf8Path, commit: &str) -> Result<Tree, TreeError> {
    let fail = |source| TreeError::Git { commit: commit.to_string(), source };
    if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        let why = "not a commit id of 40 hex digits".to_string();
        return Err(TreeError::Refused { commit: commit.to_string(), path: String::new(), why });
    }
    let tree_ish = format!("{commit}^{{commit}}");
    let listing =
        git(Some(git_dir), &["ls-tree", "-r", "-z", "-l", "--full-tree", &tree_ish], b"").await.map_err(fail)?;
    let listed = parse_listing(commit, &listing)?;
    if listed.iter().map(|l| l.size).sum::<u64>() > MAX_TREE_BYTES {
        return Err(TreeError::TooLarge { commit: commit.to_string() });
    }
    let mut request = String::with_capacity(listed.len() * 41);
    for l in &listed {
        request.push_str(&l.oid);
        request.push('\n');
    }
    let blobs = git(Some(git_dir), &["cat-file", "--batch", "--buffer"], request.as_bytes()).await.map_err(fail)?;
    let contents = parse_batch(commit, &listed, &blobs)?;
    let mut entries: Vec<Entry> =
        listed.into_iter().zip(contents).map(|(l, content)| Entry { mode: l.mode, path: l.path, content }).collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Tree { commit: commit.to_string(), entries })
}

/// A `path:` package's directory (issue 27) that cannot be read, or holds what repoctl refuses.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    #[error("cannot read {path}")]
    Io {
        path: camino::Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{dir} holds `{path}`, which repoctl refuses: {why}")]
    Refused { dir: camino::Utf8PathBuf, path: String, why: String },
    #[error("the files of {dir} hold more than {} MiB", MAX_TREE_BYTES >> 20)]
    TooLarge { dir: camino::Utf8PathBuf },
}

/// Every entry of the directory `dir` on this machine (a `path:` package's, issue 27), as a
/// [`Tree`] with an empty commit id, hashed by [`Tree::digest`] as a commit's would be: regular
/// files (mode [`Mode::Executable`] when the owner may execute them), symbolic links as their
/// target (never followed), subdirectories walked; paths from `dir`, `/`-separated. Errors: a
/// path that is not UTF-8 or has a `.git` component, another kind of file (a FIFO, a socket),
/// more than [`MAX_TREE_BYTES`], or an I/O error.
pub fn read_dir(dir: &Utf8Path) -> Result<Tree, DirError> {
    let mut entries = Vec::new();
    let mut total = 0u64;
    walk(dir, dir, &mut entries, &mut total)?;
    entries.sort_by(|a: &Entry, b: &Entry| a.path.cmp(&b.path));
    Ok(Tree { commit: String::new(), entries })
}

fn walk(root: &Utf8Path, dir: &Utf8Path, entries: &mut Vec<Entry>, total: &mut u64) -> Result<(), DirError> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    fn io(path: &Utf8Path) -> impl Fn(std::io::Error) -> DirError + '_ {
        move |source| DirError::Io { path: path.to_owned(), source }
    }
    for item in fs_err::read_dir(dir).map_err(io(dir))? {
        let item = item.map_err(io(dir))?;
        let refused = |path: String, why: &str| DirError::Refused { dir: root.to_owned(), path, why: why.to_string() };
        let path = camino::Utf8PathBuf::from_path_buf(item.path())
            .map_err(|p| refused(p.to_string_lossy().into_owned(), "its path is not UTF-8"))?;
        let relative = path.strip_prefix(root).map_or_else(|_| path.to_string(), |p| p.as_str().to_string());
        check_path(&relative).map_err(|why| refused(relative.clone(), why))?;
        let meta = fs_err::symlink_metadata(&path).map_err(io(&path))?;
        let (mode, content) = if meta.file_type().is_symlink() {
            let target = fs_err::read_link(&path).map_err(io(&path))?;
            (Mode::Symlink, target.as_os_str().as_bytes().to_vec())
        } else if meta.is_dir() {
            walk(root, &path, entries, total)?;
            continue;
        } else if meta.is_file() {
            *total += meta.len();
            if *total > MAX_TREE_BYTES {
                return Err(DirError::TooLarge { dir: root.to_owned() });
            }
            let exec = meta.permissions().mode() & 0o100 != 0;
            (if exec { Mode::Executable } else { Mode::File }, fs_err::read(&path).map_err(io(&path))?)
        } else {
            return Err(refused(relative, "it is neither a file, a directory nor a symbolic link"));
        };
        entries.push(Entry { mode, path: relative, content });
    }
    Ok(())
}

/// One line of `git ls-tree -r -z -l`.
struct Listed {
    mode: Mode,
    oid: String,
    size: u64,
    path: String,
}

/// `MODE SP TYPE SP OID SP+ SIZE TAB PATH NUL`, per git-ls-tree(1) with `-z --long`.
fn parse_listing(commit: &str, listing: &[u8]) -> Result<Vec<Listed>, TreeError> {
    let garbled = |what: &str| TreeError::Garbled { commit: commit.to_string(), what: what.to_string() };
    let mut listed = Vec::new();
    for record in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let tab = record.iter().position(|b| *b == b'\t').ok_or_else(|| garbled("an ls-tree line has no tab"))?;
        let path = std::str::from_utf8(&record[tab + 1..]).map_err(|_| TreeError::Refused {
            commit: commit.to_string(),
            path: String::from_utf8_lossy(&record[tab + 1..]).into_owned(),
            why: "its path is not UTF-8".to_string(),
        })?;
        let meta = std::str::from_utf8(&record[..tab]).map_err(|_| garbled("an ls-tree line is not text"))?;
        let fields: Vec<&str> = meta.split_whitespace().collect();
        let [mode, kind, oid, size] = fields[..] else { return Err(garbled("an ls-tree line has not four fields")) };
        let refused = |why: String| TreeError::Refused { commit: commit.to_string(), path: path.to_string(), why };
        if mode == "160000" || kind == "commit" {
            return Err(TreeError::Submodule { commit: commit.to_string(), path: path.to_string() });
        }
        let mode =
            Mode::parse(mode).filter(|_| kind == "blob").ok_or_else(|| refused(format!("mode {mode} {kind}")))?;
        check_path(path).map_err(|why| refused(why.to_string()))?;
        let size = size.parse().map_err(|_| garbled("an ls-tree size is not a number"))?;
        listed.push(Listed { mode, oid: oid.to_string(), size, path: path.to_string() });
    }
    check_unique(commit, &listed)?;
    Ok(listed)
}

/// A tree git's fsck would refuse (`duplicateEntries`), which a plain fetch takes: one path
/// listed twice (a symbolic link, then a file of the same name), or a path under another entry
/// (`a` a file or link, `a/b` a file). Written out in order, the second would be written through
/// the first. Errors: [`TreeError::Refused`] naming the path.
fn check_unique(commit: &str, listed: &[Listed]) -> Result<(), TreeError> {
    let mut paths = std::collections::BTreeSet::new();
    for l in listed {
        if !paths.insert(l.path.as_str()) {
            let why = "it is listed twice in the tree (git fsck: duplicateEntries)".to_string();
            return Err(TreeError::Refused { commit: commit.to_string(), path: l.path.clone(), why });
        }
    }
    for l in listed {
        let mut ancestors = l.path.match_indices('/').map(|(i, _)| &l.path[..i]);
        if let Some(parent) = ancestors.find(|a| paths.contains(a)) {
            let why = format!("`{parent}` is a file or link of the tree, not a directory");
            return Err(TreeError::Refused { commit: commit.to_string(), path: l.path.clone(), why });
        }
    }
    Ok(())
}

/// A path git's own fsck would accept and that stays under the directory it is written to.
fn check_path(path: &str) -> Result<(), &'static str> {
    for part in path.split('/') {
        match part {
            "" => return Err("its path has an empty component"),
            "." | ".." => return Err("its path has a `.` or `..` component"),
            p if p.eq_ignore_ascii_case(".git") => return Err("its path has a `.git` component"),
            _ => {}
        }
    }
    Ok(())
}

/// The contents `git cat-file --batch` gave for `listed`, in order: for each object
/// `OID SP TYPE SP SIZE LF`, SIZE bytes, then LF (git-cat-file(1), BATCH OUTPUT).
fn parse_batch(commit: &str, listed: &[Listed], mut out: &[u8]) -> Result<Vec<Vec<u8>>, TreeError> {
    let garbled = |what: String| TreeError::Garbled { commit: commit.to_string(), what };
    let mut contents = Vec::with_capacity(listed.len());
    for l in listed {
        let eol = out.iter().position(|b| *b == b'\n').ok_or_else(|| garbled(format!("no header for {}", l.path)))?;
        let header = String::from_utf8_lossy(&out[..eol]).into_owned();
        let mut fields = header.split(' ');
        let (oid, kind, size) = (fields.next(), fields.next(), fields.next().and_then(|s| s.parse::<usize>().ok()));
        let (Some(oid), Some("blob"), Some(size)) = (oid, kind, size) else {
            return Err(garbled(format!("`{header}` for {}", l.path)));
        };
        if oid != l.oid || out.len() < eol + 1 + size + 1 || out[eol + 1 + size] != b'\n' {
            return Err(garbled(format!("the object of {} is not the one asked for, or cut short", l.path)));
        }
        contents.push(out[eol + 1..eol + 1 + size].to_vec());
        out = &out[eol + 1 + size + 1..];
    }
    Ok(contents)
}

#[cfg(test)]
impl Tree {
    /// A tree of `entries` (mode, path, content) at commit `commit`, for other modules' tests:
    /// outside tests only [`read`] makes one.
    pub(crate) fn for_tests(commit: &str, entries: &[(Mode, &str, &[u8])]) -> Tree {
        let mut entries: Vec<Entry> = entries
            .iter()
            .map(|(mode, path, content)| Entry { mode: *mode, path: path.to_string(), content: content.to_vec() })
            .collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Tree { commit: commit.to_string(), entries }
    }
}

#[cfg(test)]
mod tests;
