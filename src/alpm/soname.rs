//! What a package file links against and offers to others, read from its ELF files (issue 26):
//! the sonames they need (`DT_NEEDED`) and the sonames its shared objects provide
//! (`DT_SONAME`), as alpm-soname(7) (alpm-sonamev2) defines them. Recorded at build time, so
//! that a later run can tell, from the official `.files` databases alone, that an official
//! library a published package links against is gone (its soname bumped), without downloading
//! the package again.
//!
//! Why not the ALPM project's alpm-soname crate (0.4), which reads the same data with goblin:
//! it opens the package file itself (alpm-package's reader), a fourth read of a file repoctl
//! already reads once to hash and check it; it reads every ELF entry to its end with no bound;
//! it parses `.PKGINFO` with alpm-pkginfo 0.7, which refuses what makepkg 7.1 writes by default
//! (see `parse_pkginfo` in src/trust/package.rs); and its provisions are only those a `.PKGINFO`
//! already lists as `lib:` entries (makepkg's autodeps), which AUR PKGBUILDs rarely enable. So
//! this reads the entries of the one pass src/trust/package.rs makes, with goblin (what alpm-soname
//! uses), bounded per file.
use std::collections::BTreeSet;
use std::io::Read;

/// An ELF file larger than this is not read (its path is listed in [`Linkage::unread`]):
/// goblin parses a whole file in memory, and one is read at a time.
pub const MAX_ELF_BYTES: u64 = 128 * 1024 * 1024;

/// The directories whose shared objects provide sonames to others: makepkg.conf's default
/// `LIB_DIRS=('lib:usr/lib' 'lib32:usr/lib32')` (alpm-sonamev2's lookup directories), as
/// paths inside a package.
pub const LIB_DIRS: &[&str] = &["usr/lib", "usr/lib32"];

/// What one package file needs and provides, as recorded beside its build (the status object's
/// `built.linkage`, and its provenance record).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Linkage {
    /// `.PKGINFO`'s `depend` lines (dependency strings, alpm-package-relation(7)).
    pub depends: Vec<String>,
    /// `.PKGINFO`'s `provides` lines: `name` or `name=version`.
    pub provides: Vec<String>,
    /// Sonames (`libfoo.so.1`) its ELF files need (`DT_NEEDED`) that the package does not
    /// carry itself (as a file of that name or an ELF file's `DT_SONAME`, anywhere in it),
    /// sorted: what another package must provide for it to run.
    pub needs_sonames: Vec<String>,
    /// `DT_SONAME` of its shared objects directly in [`LIB_DIRS`], sorted.
    pub provides_sonames: Vec<String>,
    /// ELF files that were not read (larger than [`MAX_ELF_BYTES`], or not parsable), with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

/// Collects [`Linkage`] from a package's entries, one at a time, as a tar stream gives them.
#[derive(Debug, Default)]
pub struct SonameScan {
    needed: BTreeSet<String>,
    /// File names (last path component) and `DT_SONAME`s anywhere in the package.
    own: BTreeSet<String>,
    provided: BTreeSet<String>,
    unread: Vec<String>,
}

impl SonameScan {
    /// Reads one entry: `path` inside the package (leading `./` or `/` allowed), whether it
    /// is a regular file, its size in bytes, and its body (read only when it starts with the
    /// ELF magic, and then at most [`MAX_ELF_BYTES`]). Errors: reading the body fails.
    pub fn entry(&mut self, path: &str, regular: bool, size: u64, body: &mut dyn Read) -> std::io::Result<()> {
        let path = path.trim_start_matches("./").trim_start_matches('/');
        if let Some(name) = path.rsplit('/').next().filter(|n| !n.is_empty()) {
            self.own.insert(name.to_string());
        }
        if !regular || size < 4 {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(4);
        body.take(4).read_to_end(&mut bytes)?;
        if bytes != b"\x7fELF" {
            return Ok(());
        }
        if size > MAX_ELF_BYTES {
            self.unread.push(format!("{path}: larger than {} MiB", MAX_ELF_BYTES / 1024 / 1024));
            return Ok(());
        }
        body.take(MAX_ELF_BYTES - 4).read_to_end(&mut bytes)?;
        self.elf(path, &bytes);
        Ok(())
    }

    /// The dynamic section of the ELF file `bytes` at `path`.
    fn elf(&mut self, path: &str, bytes: &[u8]) {
        let elf = match goblin::elf::Elf::parse(bytes) {
            Ok(elf) => elf,
            Err(e) => return self.unread.push(format!("{path}: not a readable ELF file ({e})")),
        };
        for name in elf.libraries.iter().chain(&elf.soname) {
            if !plain_name(name) {
                self.unread.push(format!("{path}: a soname that is not a plain file name ({name:?})"));
                return;
            }
        }
        self.needed.extend(elf.libraries.iter().map(|l| l.to_string()));
        if let Some(soname) = elf.soname {
            self.own.insert(soname.to_string());
            let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
            if LIB_DIRS.contains(&dir) {
                self.provided.insert(soname.to_string());
            }
        }
    }

    /// The linkage found, with the `.PKGINFO`'s `depends` and `provides`.
    pub fn finish(self, depends: Vec<String>, provides: Vec<String>) -> Linkage {
        let own = self.own;
        Linkage {
            depends,
            provides,
            needs_sonames: self.needed.into_iter().filter(|s| !own.contains(s)).collect(),
            provides_sonames: self.provided.into_iter().collect(),
            unread: self.unread,
        }
    }
}

/// Whether `name` can be a soname that repoctl records and prints: 1 to 255 printable ASCII
/// characters other than `/` (the text comes from a package a PKGBUILD made, so it is
/// untrusted; a terminal escape or a path is not a library a repository provides).
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.bytes().all(|b| b.is_ascii_graphic() && b != b'/')
}

/// The soname a library file name stands for, when the name is one (`libfoo.so`,
/// `libfoo.so.1`, `libfoo.so.1.2.3`): the name itself. A soname is a file name by ld.so's
/// convention (ldconfig makes a link of that name to the file that carries it), so an
/// official `.files` list that holds `usr/lib/libfoo.so.1` provides `libfoo.so.1`.
pub fn is_library_name(name: &str) -> bool {
    name.contains(".so") && (name.ends_with(".so") || name.split_once(".so.").is_some_and(|(_, v)| !v.is_empty()))
}

/// A `.files` database larger than this once decompressed is refused (Arch's [extra].files is
/// ~500 MiB uncompressed; core, extra and multilib together well under 1 GiB).
const MAX_FILES_DB_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// One package's `files` entry larger than this is refused.
const MAX_FILES_ENTRY_BYTES: u64 = 256 * 1024 * 1024;

/// The library file names ([`is_library_name`]) that the packages of a `.files` sync database
/// (`REPO.files`, as `pacman -Fy` downloads it: the `.db`'s entries plus a
/// `NAME-VERSION/files` per package whose `%FILES%` lists its paths, one a line) hold in a
/// library directory (a path starting with `usr/lib` or `lib`: `usr/lib`, `usr/lib32`, their
/// subdirectories, which ld.so.conf.d may add), by file name. Any compression pacman reads.
/// Errors: not a readable archive, or larger than the bounds.
pub fn library_names_in_files_db(bytes: &[u8]) -> Result<BTreeSet<String>, super::DbError> {
    use super::DbError;
    let reader = super::decompressor(bytes).map_err(DbError::Archive)?;
    let mut limited = reader.take(MAX_FILES_DB_BYTES + 1);
    let mut archive = tar::Archive::new(&mut limited);
    let mut names = BTreeSet::new();
    for item in archive.entries().map_err(DbError::Archive)? {
        let item = item.map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof { DbError::TooLarge } else { DbError::Archive(e) }
        })?;
        let path = item.path().map_err(DbError::Archive)?.to_string_lossy().into_owned();
        if !path.ends_with("/files") {
            continue;
        }
        let mut text = String::new();
        item.take(MAX_FILES_ENTRY_BYTES).read_to_string(&mut text).map_err(DbError::Archive)?;
        let paths = text.lines().skip_while(|l| l.trim() != "%FILES%").skip(1).take_while(|l| !l.is_empty());
        for path in paths.filter(|p| p.starts_with("usr/lib") || p.starts_with("lib")) {
            if let Some(name) = path.rsplit('/').next().filter(|n| is_library_name(n)) {
                names.insert(name.to_string());
            }
        }
    }
    if limited.limit() == 0 {
        return Err(DbError::TooLarge);
    }
    Ok(names)
}

#[cfg(test)]
mod tests;
