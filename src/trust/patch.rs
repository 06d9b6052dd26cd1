//! Patches over AUR packages (issue 27): `patches:` of a repo.yaml entry, applied in order to
//! the files of the locked AUR commit.
//!
//! A patch is code a person lets in, as an AUR commit is: repoctl.lock records the SHA-256 of
//! each patch file's bytes ([`digest`]), and the bytes are used only as [`LockedPatches`], which
//! only [`verify`] makes, from the files read again and the lock's digests. A patch edited after
//! `repoctl update` is refused, never built. [`apply`] is the one way to a patched
//! [`LockedTree`]: it takes a tree that matched the lock and patches that matched the lock.
//!
//! Applying: `git apply` (through [`super::git::git_in`], with its cleared environment and
//! hardening), in a scratch directory holding the tree's files, with a bare repository of its
//! own as `--git-dir` so that git never finds (and applies relative to) a checkout around the
//! work directory. `git apply` rather than a crate: it is what made the patch (`git diff`),
//! reads every format `git diff` and `diff -u` write, and already refuses paths with `..` or
//! `.git` and paths beyond a symbolic link; no patch crate in the registry cache does all of
//! it. repoctl refuses more before git runs: a patch that would make a symbolic link (its
//! target could lead out of the build directory) or names an absolute path or a `..`
//! component; and after, the patched files are read back with [`super::tree::read_dir`]'s rules.
use super::git::{GitFailure, git, git_in};
use super::tree::{DirError, LockedTree, Mode, Tree, read_dir};
use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest, Sha256};

/// `$GIT_DIR/info/attributes` while patching: no attribute converts a file's bytes.
const NO_CONVERSION: &str = "* -text -eol -crlf -filter -ident -working-tree-encoding\n";

/// The prefix of a patch digest in repoctl.lock.
pub const DIGEST_PREFIX: &str = "sha256:";
/// The most bytes one patch file may hold (a real one is a few KiB).
pub const MAX_PATCH_BYTES: u64 = 4 << 20;

/// What repoctl.lock records for a patch: `sha256:` and the SHA-256 of its bytes, lowercase hex.
pub fn digest(bytes: &[u8]) -> String {
    format!("{DIGEST_PREFIX}{:x}", Sha256::digest(bytes))
}

/// Whether `text` is a digest as [`digest`] writes it.
pub fn is_digest(text: &str) -> bool {
    text.strip_prefix(DIGEST_PREFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// One patch file as read now: its path as repo.yaml writes it, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    written: String,
    bytes: Vec<u8>,
}

impl Patch {
    /// Reads `file`, named `written` as repo.yaml writes it (at most [`MAX_PATCH_BYTES`]).
    /// Errors: it cannot be read, or is larger.
    pub fn read(written: &str, file: &Utf8Path) -> Result<Patch, PatchError> {
        use std::io::Read;
        let err = |source| PatchError::Read { patch: written.to_string(), source };
        let mut bytes = Vec::new();
        fs_err::File::open(file).map_err(err)?.take(MAX_PATCH_BYTES + 1).read_to_end(&mut bytes).map_err(err)?;
        if bytes.len() as u64 > MAX_PATCH_BYTES {
            let why = format!("it is larger than {} MiB", MAX_PATCH_BYTES >> 20);
            return Err(PatchError::Refused { patch: written.to_string(), why });
        }
        Ok(Patch { written: written.to_string(), bytes })
    }

    /// The path as repo.yaml writes it (`patches/foo.patch`).
    pub fn written(&self) -> &str {
        &self.written
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// [`digest`] of its bytes.
    pub fn digest(&self) -> String {
        digest(&self.bytes)
    }
}

/// Patches whose bytes hash to repoctl.lock's digests, in the lock's order. Made only by
/// [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPatches {
    patches: Vec<Patch>,
}

impl LockedPatches {
    pub fn patches(&self) -> &[Patch] {
        &self.patches
    }

    /// Their digests, in order: what repoctl.lock records.
    pub fn digests(&self) -> Vec<String> {
        self.patches.iter().map(Patch::digest).collect()
    }
}

/// The check of `patches` (read now) against `locked`, the digests repoctl.lock records for
/// `pkgbase`: as many, each equal, in order. `repoctl update`, which writes the digests, checks
/// them against their own. Errors: [`PatchError::Changed`] (the fix: `repoctl update PKGBASE`).
pub fn verify(pkgbase: &str, patches: Vec<Patch>, locked: &[String]) -> Result<LockedPatches, PatchError> {
    let changed = |patch: &str, found: String| PatchError::Changed {
        pkgbase: pkgbase.to_string(),
        patch: patch.to_string(),
        found,
        locked: locked.join(", "),
    };
    if patches.len() != locked.len() {
        let listed = patches.iter().map(|p| p.written.as_str()).collect::<Vec<_>>().join(", ");
        let found = format!("{} patch(es) listed", patches.len());
        return Err(changed(if listed.is_empty() { "(none)" } else { &listed }, found));
    }
    if let Some((p, _)) = patches.iter().zip(locked).find(|(p, l)| p.digest() != **l) {
        return Err(changed(&p.written, p.digest()));
    }
    Ok(LockedPatches { patches })
}

/// A patch that cannot be read, was changed since the lock, or cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("cannot read patch `{patch}`")]
    Read {
        patch: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the patches of {pkgbase} changed since repoctl.lock was written (`{patch}`: {found}; the lock says {locked}): run `repoctl update {pkgbase}`, review what it shows and commit repoctl.lock"
    )]
    Changed { pkgbase: String, patch: String, found: String, locked: String },
    #[error("patch `{patch}` is refused: {why}")]
    Refused { patch: String, why: String },
    #[error(
        "patch `{patch}` does not apply to commit {commit}: {said}; fix the patch for that commit (or drop it from repo.yaml), then run `repoctl update`"
    )]
    DoesNotApply { patch: String, commit: String, said: String },
    #[error("cannot prepare the files to patch in {path}")]
    Scratch {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run git to apply the patches")]
    Git(#[source] GitFailure),
    #[error("the patched files cannot be read back")]
    Readback(#[source] DirError),
}

/// `tree` with `patches` applied in order, in `scratch` (made, and removed afterwards): the
/// files a build of a patched package is made from, under the AUR commit's id. Errors: a patch
/// refused ([`refusal`]), one that does not apply, or the scratch directory.
pub async fn apply(tree: &LockedTree, patches: &LockedPatches, scratch: &Utf8Path) -> Result<LockedTree, PatchError> {
    for p in &patches.patches {
        if let Some(why) = refusal(&String::from_utf8_lossy(&p.bytes)) {
            return Err(PatchError::Refused { patch: p.written.clone(), why });
        }
    }
    let result = apply_in(tree.tree(), patches, scratch).await;
    let _ = fs_err::remove_dir_all(scratch);
    let patched = result?;
    // `git apply` makes no symbolic link the checks above let through; a link is refused here
    // whatever made it, unless the AUR's own tree has it, unchanged.
    let original = tree.tree();
    if let Some(e) = patched.entries().iter().find(|e| e.mode() == Mode::Symlink && original.get(e.path()) != Some(e)) {
        let why = format!("it makes `{}` a symbolic link", e.path());
        let patch = patches.patches.iter().map(|p| p.written.as_str()).collect::<Vec<_>>().join(", ");
        return Err(PatchError::Refused { patch, why });
    }
    Ok(LockedTree::from_patched(patched.at_commit(original.commit())))
}

/// Steps: (1) a bare repository of its own, for `--git-dir`, whose attributes convert nothing;
/// (2) the tree's files written out;
/// (3) `git apply` of each patch, in order, in the files' directory; (4) the files read back.
async fn apply_in(tree: &Tree, patches: &LockedPatches, scratch: &Utf8Path) -> Result<Tree, PatchError> {
    let _ = fs_err::remove_dir_all(scratch);
    let io = |path: &Utf8Path| {
        let path = path.to_owned();
        move |source| PatchError::Scratch { path, source }
    };
    let (git_dir, files) = (scratch.join("git"), scratch.join("files"));
    fs_err::create_dir_all(&files).map_err(io(&files))?;
    git(None, &["init", "--quiet", "--bare", "--template=", git_dir.as_str()], b"").await.map_err(PatchError::Git)?;
    // `git apply` converts what it reads and writes by the attributes of the tree's own
    // `.gitattributes` (line endings, `ident`, and filter drivers the user's git configuration
    // may define: a program run on the AUR's files). The repository's info/attributes wins over
    // them (gitattributes(5)): the files are patched as the lock hashed them, byte for byte.
    let info = git_dir.join("info");
    fs_err::create_dir_all(&info).map_err(io(&info))?;
    let attributes = info.join("attributes");
    fs_err::write(&attributes, NO_CONVERSION).map_err(io(&attributes))?;
    write_tree(tree, &files).map_err(io(&files))?;
    let work_tree = format!("--work-tree={files}");
    for p in &patches.patches {
        let args = [work_tree.as_str(), "apply", "--whitespace=nowarn", "-"];
        git_in(&files, Some(&git_dir), &args, &p.bytes).await.map_err(|e| match e {
            GitFailure::Exit(said) => PatchError::DoesNotApply {
                patch: p.written.clone(),
                commit: tree.commit().to_string(),
                said: one_line(if said.is_empty() { "git apply failed" } else { &said }),
            },
            other => PatchError::Git(other),
        })?;
    }
    read_dir(&files).map_err(PatchError::Readback)
}

/// Writes `tree`'s entries under `dir`: files with their mode, symbolic links as links (never
/// followed: `git apply` refuses to patch through one).
fn write_tree(tree: &Tree, dir: &Utf8Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for e in tree.entries() {
        let path = dir.join(e.path());
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        match e.mode() {
            Mode::Symlink => {
                use std::os::unix::ffi::OsStrExt;
                std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(e.content()), &path)?;
            }
            mode => {
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                let bits = if mode == Mode::Executable { 0o755 } else { 0o644 };
                // Never through what is there (O_EXCL does not follow a symbolic link): a tree
                // that names one path twice is refused when read, and this holds regardless.
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(bits)
                    .open(&path)
                    .map_err(|e| std::io::Error::new(e.kind(), format!("{path}: {e}")))?;
                file.write_all(e.content())?;
                fs_err::set_permissions(&path, std::fs::Permissions::from_mode(bits))?;
            }
        }
    }
    Ok(())
}

/// Why a patch's text is refused before it is applied, if it is: it makes a symbolic link
/// (mode `120000`), or a file header names an absolute path or one with a `..` or `.git`
/// component (git-diff(1) "generating patches with -p": `diff --git`, `---`/`+++`,
/// `rename`/`copy` `from`/`to`).
pub fn refusal(text: &str) -> Option<String> {
    for line in text.lines() {
        let mode_line =
            ["new file mode ", "new mode "].iter().any(|p| line.starts_with(p)) || line.starts_with("index ");
        // git takes the mode from any of these (an `index A..B MODE` line too) and ignores
        // trailing blanks: `ends_with` alone missed `120000 `.
        if mode_line && line.split_whitespace().last() == Some("120000") {
            return Some("it makes a symbolic link".to_string());
        }
        let paths: Vec<&str> = if let Some(rest) = line.strip_prefix("diff --git ") {
            rest.split(' ').collect()
        } else if let Some(rest) = line.strip_prefix("--- ").or_else(|| line.strip_prefix("+++ ")) {
            vec![rest.split('\t').next().unwrap_or(rest)]
        } else {
            ["rename from ", "rename to ", "copy from ", "copy to "]
                .iter()
                .find_map(|p| line.strip_prefix(p))
                .map(|p| vec![p])
                .unwrap_or_default()
        };
        for path in paths.into_iter().filter(|p| *p != "/dev/null") {
            let unsafe_part = |c: &str| c == ".." || c.eq_ignore_ascii_case(".git");
            if path.starts_with('/') || path.split('/').any(unsafe_part) {
                return Some(format!("it names `{}`, outside the package's files", one_line(path)));
            }
        }
    }
    None
}

/// `text` on one line without control characters (git's words about a patch quote its lines;
/// each medium escapes the rest where it renders them).
fn one_line(text: &str) -> String {
    let lines: Vec<String> = text.lines().map(|l| l.chars().filter(|c| !c.is_control()).collect()).collect();
    lines.join("; ")
}

/// Whether the patched tree's `.SRCINFO` may be stale: a patch changed the PKGBUILD or the
/// `.SRCINFO` itself (then it is made again from the patched files, as for a `path:` package,
/// [`crate::build::local`]).
pub fn srcinfo_stale(original: &LockedTree, patched: &LockedTree) -> bool {
    ["PKGBUILD", ".SRCINFO"].iter().any(|f| original.tree().get(f) != patched.tree().get(f))
}

#[cfg(test)]
mod tests;
