//! Joining database archives whose entries are disjoint: what lets several `repo-add`
//! processes each write the entries of some of the packages (side by side, on every core) and
//! still publish one database. Only whole entries are copied, byte for byte as repo-add wrote
//! them; nothing here decides what an entry says. A name-version or pkgname found in two
//! inputs is an error, never a silent choice.
use crate::alpm::decompressor;
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

/// What one database archive may hold once decompressed (the files database of a large
/// repository is the biggest: Arch's [extra] is ~60 MiB).
const MAX_ARCHIVE_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("cannot read the database archive {path}")]
    Read {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the database archive {path}")]
    Write {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{entry} is in both {first} and {second}")]
    Duplicate { entry: String, first: Utf8PathBuf, second: Utf8PathBuf },
    #[error("the database archive {path} holds an unexpected entry {entry}")]
    Unexpected { path: Utf8PathBuf, entry: String },
    #[error("the database archive {path} is larger than {} MiB uncompressed", MAX_ARCHIVE_BYTES >> 20)]
    TooLarge { path: Utf8PathBuf },
}

/// One database archive to join, and which of its entries to keep.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: Utf8PathBuf,
    /// Only these `NAME-VERSION` directories (None: all of them).
    pub only: Option<BTreeSet<String>>,
}

impl Source {
    pub fn all(path: &Utf8Path) -> Source {
        Source { path: path.to_owned(), only: None }
    }
}

/// The `NAME-VERSION` directories a database archive holds.
pub fn entry_dirs(path: &Utf8Path) -> Result<BTreeSet<String>, MergeError> {
    let read = |source| MergeError::Read { path: path.to_owned(), source };
    let bytes = fs_err::read(path).map_err(read)?;
    let mut limited = decompressor(&bytes).map_err(read)?.take(MAX_ARCHIVE_BYTES);
    let mut archive = tar::Archive::new(crate::alpm::TarGuard::new(&mut limited, u64::MAX));
    let mut dirs = BTreeSet::new();
    for entry in archive.entries().map_err(read)? {
        let entry = entry.map_err(read)?;
        let path = entry.path().map_err(read)?.to_string_lossy().into_owned();
        if let Some(dir) = path.split('/').next().filter(|d| !d.is_empty()) {
            dirs.insert(dir.to_string());
        }
    }
    Ok(dirs)
}

/// Writes the zstd-compressed union of `inputs` (database archives, any compression) to `out`.
/// Entries are `NAME-VERSION/` directories and the files in them; each `NAME-VERSION` kept
/// must come from one input only, and so must each pkgname (`NAME`, read from the `desc`).
pub fn merge_archives(inputs: &[Source], out: &Utf8Path) -> Result<(), MergeError> {
    let mut union = Union::create(out)?;
    for source in inputs {
        union.append(source)?;
    }
    union.finish()
}

/// The archive [`merge_archives`] is writing, and where each entry in it came from.
struct Union<'a> {
    out: &'a Utf8Path,
    builder: tar::Builder<zstd::stream::write::Encoder<'static, fs_err::File>>,
    /// entry directory -> the input it came from
    dirs: BTreeMap<String, &'a Utf8Path>,
    /// pkgname -> (its directory, input)
    pkgnames: BTreeMap<String, (String, &'a Utf8Path)>,
}

impl<'a> Union<'a> {
    /// Starts an empty archive at `out`. Errors: `out` cannot be created.
    fn create(out: &'a Utf8Path) -> Result<Union<'a>, MergeError> {
        let file = fs_err::File::create(out).map_err(|source| write_error(out, source))?;
        let encoder = zstd::stream::write::Encoder::new(file, 3).map_err(|source| write_error(out, source))?;
        let mut builder = tar::Builder::new(encoder);
        builder.mode(tar::HeaderMode::Complete);
        Ok(Union { out, builder, dirs: BTreeMap::new(), pkgnames: BTreeMap::new() })
    }

    /// Copies the entries of `source` that it keeps, refusing an entry that is not a
    /// `NAME-VERSION/` directory or a plain file right in one, an entry directory or a pkgname
    /// another input brought, and an input past [`MAX_ARCHIVE_BYTES`] uncompressed.
    fn append(&mut self, source: &'a Source) -> Result<(), MergeError> {
        let input = &source.path;
        let read = |source| MergeError::Read { path: input.clone(), source };
        let bytes = fs_err::read(input).map_err(read)?;
        let mut limited = decompressor(&bytes).map_err(read)?.take(MAX_ARCHIVE_BYTES + 1);
        let mut archive = tar::Archive::new(crate::alpm::TarGuard::new(&mut limited, u64::MAX));
        let mut seen_here = BTreeSet::new();
        for entry in archive.entries().map_err(read)? {
            let mut entry = entry.map_err(read)?;
            let path = entry.path().map_err(read)?.to_string_lossy().into_owned();
            let place = EntryPlace::of(&path).ok_or_else(|| unexpected(input, &path))?;
            let dir = place.dir;
            if source.only.as_ref().is_some_and(|keep| !keep.contains(dir)) {
                continue;
            }
            if seen_here.insert(dir.to_string())
                && let Some(first) = self.dirs.insert(dir.to_string(), input)
            {
                return Err(MergeError::Duplicate {
                    entry: dir.to_string(),
                    first: first.to_owned(),
                    second: input.clone(),
                });
            }
            self.copy_entry(&mut entry, input, &place)?;
        }
        if limited.limit() == 0 {
            return Err(MergeError::TooLarge { path: input.clone() });
        }
        Ok(())
    }

    /// Appends one entry of `input` at `place`: an entry directory, or a file in one (a `desc`
    /// claims its pkgname). Errors: another kind of entry, a `desc` without `%NAME%`, a
    /// pkgname already claimed, reading `input` or writing the union.
    fn copy_entry(
        &mut self,
        entry: &mut tar::Entry<'_, impl Read>,
        input: &'a Utf8Path,
        place: &EntryPlace<'_>,
    ) -> Result<(), MergeError> {
        let EntryPlace { path, dir, file } = *place;
        let mut header = entry.header().clone();
        let write = |source| write_error(self.out, source);
        match (header.entry_type(), file) {
            (tar::EntryType::Directory, None) => {
                self.builder.append_data(&mut header, format!("{dir}/"), std::io::empty()).map_err(write)?;
            }
            (tar::EntryType::Regular, Some(name)) => {
                let mut data = Vec::new();
                entry.read_to_end(&mut data).map_err(|source| MergeError::Read { path: input.to_owned(), source })?;
                if name == "desc" {
                    let pkgname = desc_name(&String::from_utf8_lossy(&data)).ok_or_else(|| unexpected(input, path))?;
                    self.claim_pkgname(pkgname, dir, input)?;
                }
                self.builder.append_data(&mut header, format!("{dir}/{name}"), data.as_slice()).map_err(write)?;
            }
            _ => return Err(unexpected(input, path)),
        }
        Ok(())
    }

    /// Records that `pkgname` is the package of entry `dir` of `input`. Errors:
    /// [`MergeError::Duplicate`] naming both entries when an input already brought it.
    fn claim_pkgname(&mut self, pkgname: String, dir: &str, input: &'a Utf8Path) -> Result<(), MergeError> {
        match self.pkgnames.insert(pkgname.clone(), (dir.to_string(), input)) {
            Some((other, first)) => Err(MergeError::Duplicate {
                entry: format!("package {pkgname} ({other} and {dir})"),
                first: first.to_owned(),
                second: input.to_owned(),
            }),
            None => Ok(()),
        }
    }

    /// Ends the tar and the zstd frame. Errors: writing `out` fails.
    fn finish(self) -> Result<(), MergeError> {
        let write = |source| write_error(self.out, source);
        self.builder.into_inner().map_err(write)?.finish().map_err(write)?;
        Ok(())
    }
}

/// Where a database archive entry sits: its `NAME-VERSION` directory and, for a file in it,
/// the file's name.
#[derive(Clone, Copy)]
struct EntryPlace<'p> {
    /// The entry's path as the archive spells it, for messages.
    path: &'p str,
    dir: &'p str,
    file: Option<&'p str>,
}

impl<'p> EntryPlace<'p> {
    /// The place of an entry at `path`; None for anything but a directory or a file right in
    /// one (an empty or hidden name, a deeper path).
    fn of(path: &'p str) -> Option<EntryPlace<'p>> {
        let mut parts = path.trim_end_matches('/').splitn(2, '/');
        let dir = parts.next().unwrap_or_default();
        let file = parts.next();
        if dir.is_empty() || dir.starts_with('.') || file.is_some_and(|f| f.contains('/') || f.starts_with('.')) {
            return None;
        }
        Some(EntryPlace { path, dir, file })
    }
}

fn unexpected(input: &Utf8Path, path: &str) -> MergeError {
    MergeError::Unexpected { path: input.to_owned(), entry: path.to_string() }
}

fn write_error(out: &Utf8Path, source: std::io::Error) -> MergeError {
    MergeError::Write { path: out.to_owned(), source }
}

/// `%NAME%` of a desc file.
fn desc_name(desc: &str) -> Option<String> {
    let mut lines = desc.lines();
    while let Some(line) = lines.next() {
        if line == "%NAME%" {
            return lines.next().map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir() -> (tempfile::TempDir, Utf8PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let p = Utf8PathBuf::try_from(t.path().to_path_buf()).unwrap();
        (t, p)
    }

    fn archive(dir: &Utf8Path, name: &str, entries: &[(&str, &str)]) -> Utf8PathBuf {
        let path = dir.join(name);
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            fs_err::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        ));
        for (entry, body) in entries {
            // The name is set raw: the tar crate refuses to write `..`, hostile inputs do not.
            let mut h = tar::Header::new_gnu();
            h.as_gnu_mut().unwrap().name[..entry.len()].copy_from_slice(entry.as_bytes());
            let dir = entry.ends_with('/');
            h.set_entry_type(if dir { tar::EntryType::Directory } else { tar::EntryType::Regular });
            h.set_size(if dir { 0 } else { body.len() as u64 });
            h.set_mode(if dir { 0o755 } else { 0o644 });
            h.set_cksum();
            b.append(&h, if dir { &b""[..] } else { body.as_bytes() }).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap();
        path
    }

    fn desc(name: &str, version: &str) -> String {
        format!(
            "%FILENAME%\n{name}-{version}-any.pkg.tar.zst\n\n%NAME%\n{name}\n\n%BASE%\n{name}\n\n%VERSION%\n{version}\n\n"
        )
    }

    #[test]
    fn the_union_is_a_database_that_lists_every_package_of_every_input() {
        let (_t, dir) = tempdir();
        let (a, b) = (desc("foo", "1-1"), desc("foo-git", "r5.abc-1"));
        let one = archive(&dir, "one.db.tar.gz", &[("foo-1-1/", ""), ("foo-1-1/desc", &a)]);
        let two = archive(&dir, "two.db.tar.gz", &[("foo-git-r5.abc-1/", ""), ("foo-git-r5.abc-1/desc", &b)]);
        let out = dir.join("out.db.tar.zst");
        merge_archives(&[Source::all(&one), Source::all(&two)], &out).unwrap();
        let entries = crate::alpm::read_sync_db(&fs_err::read(&out).unwrap()).unwrap();
        let names: Vec<(&str, &str)> = entries.iter().map(|e| (e.name.as_str(), e.version.as_str())).collect();
        assert_eq!(names, [("foo", "1-1"), ("foo-git", "r5.abc-1")]);
    }

    #[test]
    fn a_package_in_two_inputs_is_an_error_naming_it() {
        let (_t, dir) = tempdir();
        let one = archive(&dir, "one.tar.gz", &[("foo-1-1/desc", &desc("foo", "1-1"))]);
        let two = archive(&dir, "two.tar.gz", &[("foo-2-1/desc", &desc("foo", "2-1"))]);
        let err = merge_archives(&[Source::all(&one), Source::all(&two)], &dir.join("out")).unwrap_err().to_string();
        assert!(err.contains("package foo (foo-1-1 and foo-2-1)"), "{err}");
        let same = archive(&dir, "same.tar.gz", &[("foo-1-1/desc", &desc("foo", "1-1"))]);
        let err = merge_archives(&[Source::all(&one), Source::all(&same)], &dir.join("out")).unwrap_err().to_string();
        assert!(err.starts_with("foo-1-1 is in both"), "{err}");
    }

    #[test]
    fn odd_entries_are_refused() {
        let (_t, dir) = tempdir();
        for bad in ["../x/desc", "foo-1-1/sub/desc", ".hidden/desc", "foo-1-1/.desc"] {
            let a = archive(&dir, "bad.tar.gz", &[(bad, &desc("foo", "1-1"))]);
            let err = merge_archives(&[Source::all(&a)], &dir.join("out")).unwrap_err();
            assert!(matches!(err, MergeError::Unexpected { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn entries_left_out_of_a_source_are_not_joined() {
        // A files database that still holds an entry a lost race uploaded (foo-2-1) while the
        // database it goes with lists foo-1-1: keeping only the database's entries leaves the
        // new foo-2-1 to the part that brings it, instead of finding it twice.
        let (_t, dir) = tempdir();
        let stale = archive(
            &dir,
            "current.files.tar.gz",
            &[("foo-1-1/desc", &desc("foo", "1-1")), ("foo-2-1/desc", &desc("foo", "2-1"))],
        );
        let part = archive(&dir, "part.files.tar.gz", &[("foo-2-1/desc", &desc("foo", "2-1"))]);
        let out = dir.join("out");
        let err = merge_archives(&[Source::all(&stale), Source::all(&part)], &out).unwrap_err();
        assert!(matches!(err, MergeError::Duplicate { .. }), "{err}");
        let kept = Source { path: stale.clone(), only: Some(BTreeSet::new()) };
        merge_archives(&[kept, Source::all(&part)], &out).unwrap();
        assert_eq!(entry_dirs(&out).unwrap(), BTreeSet::from(["foo-2-1".to_string()]));
        assert_eq!(entry_dirs(&stale).unwrap().len(), 2);
    }
}
