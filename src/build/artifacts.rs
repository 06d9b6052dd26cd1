//! Files in and out of build containers, as tar archives. What comes out is untrusted: only
//! regular files whose names makepkg reported are taken; links, devices, absolute and `..`
//! paths are refused.
use crate::trust::tree::{LockedTree, Mode, Tree};
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeSet;
use std::io::Read;

/// One package file's size limit when copied out (a big package is a few hundred MiB).
pub const MAX_ARTIFACT_BYTES: u64 = 4 * 1024 * 1024 * 1024;
const MAX_PACKAGELIST_BYTES: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("I/O error on {path}")]
    Io {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the build output holds {what} `{entry}`; only regular package files are accepted")]
    Refused { what: &'static str, entry: String },
    #[error("makepkg reported {0} but did not produce it")]
    Missing(String),
    #[error("makepkg reported no package files")]
    NoPackages,
}

fn io(path: &Utf8Path) -> impl Fn(std::io::Error) -> ArtifactError + '_ {
    move |source| ArtifactError::Io { path: path.to_owned(), source }
}

/// A tar archive of a locked commit's entries under `prefix/`, made from its blobs alone
/// (nothing is read from disk, so no other command can change what goes in): directories
/// 0755, files 0644 or 0755 as git records them, symlinks as links to their target (makepkg
/// may follow them in the container; repoctl never does on the host). Modification times are
/// now, as a checkout would make them.
pub fn tar_tree(tree: &LockedTree, prefix: &str, dest: &Utf8Path) -> Result<(), ArtifactError> {
    tar_entries(tree.tree(), prefix, dest)
}

/// [`tar_tree`] of a tree not checked against the lock: only for `makepkg --printsrcinfo` on a
/// `path:` package's directory ([`super::local`]), which builds and publishes nothing and whose
/// answer is what `update` then locks beside the directory's digest.
pub(super) fn tar_unlocked_tree(tree: &Tree, prefix: &str, dest: &Utf8Path) -> Result<(), ArtifactError> {
    tar_entries(tree, prefix, dest)
}

fn tar_entries(tree: &Tree, prefix: &str, dest: &Utf8Path) -> Result<(), ArtifactError> {
    use std::os::unix::ffi::OsStrExt;
    let file = fs_err::File::create(dest).map_err(io(dest))?;
    let mut builder = tar::Builder::new(file);
    let entries = tree.entries();
    let mut dirs: BTreeSet<&str> = BTreeSet::from([""]);
    for e in entries {
        let mut path = e.path();
        while let Some((parent, _)) = path.rsplit_once('/') {
            dirs.insert(parent);
            path = parent;
        }
    }
    for dir in dirs {
        let name = if dir.is_empty() { format!("{prefix}/") } else { format!("{prefix}/{dir}/") };
        let mut header = header(tar::EntryType::Directory, 0o755, 0);
        builder.append_data(&mut header, name, std::io::empty()).map_err(io(dest))?;
    }
    for e in entries {
        let name = format!("{prefix}/{}", e.path());
        let appended = match e.mode() {
            Mode::Symlink => {
                let mut header = header(tar::EntryType::Symlink, 0o777, 0);
                let target = std::path::Path::new(std::ffi::OsStr::from_bytes(e.content()));
                builder.append_link(&mut header, &name, target)
            }
            mode => {
                let bits = if mode == Mode::Executable { 0o755 } else { 0o644 };
                let mut header = header(tar::EntryType::Regular, bits, e.content().len() as u64);
                builder.append_data(&mut header, &name, e.content())
            }
        };
        appended.map_err(io(dest))?;
    }
    builder.into_inner().map_err(io(dest))?;
    Ok(())
}

/// A tar archive of in-memory files (name, text), flat under `prefix/`: the directory 0755,
/// the files 0644.
pub fn tar_bytes(files: &[(String, String)], prefix: &str, dest: &Utf8Path) -> Result<(), ArtifactError> {
    let file = fs_err::File::create(dest).map_err(io(dest))?;
    let mut builder = tar::Builder::new(file);
    let mut dir = header(tar::EntryType::Directory, 0o755, 0);
    builder.append_data(&mut dir, format!("{prefix}/"), std::io::empty()).map_err(io(dest))?;
    for (name, text) in files {
        let mut file = header(tar::EntryType::Regular, 0o644, text.len() as u64);
        builder.append_data(&mut file, format!("{prefix}/{name}"), text.as_bytes()).map_err(io(dest))?;
    }
    builder.into_inner().map_err(io(dest))?;
    Ok(())
}

/// A GNU header of `kind`, `mode` and `size`, owned by root, modified now.
fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(now);
    header.set_uid(0);
    header.set_gid(0);
    header.set_cksum();
    header
}

/// A tar archive of the given files, flat under `prefix/`. Modes are fixed, never the host's:
/// the directory 0755 and the files 0644, so that whoever reads them in the container can,
/// pacman's download user (`DownloadUser = alpm`, which fetches `file://` servers too) included,
/// whatever the umask or the work directory's mode on the host.
pub fn tar_files(files: &[Utf8PathBuf], prefix: &str, dest: &Utf8Path) -> Result<(), ArtifactError> {
    let file = fs_err::File::create(dest).map_err(io(dest))?;
    let mut builder = tar::Builder::new(file);
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    dir.set_mtime(0);
    dir.set_cksum();
    builder.append_data(&mut dir, format!("{prefix}/"), std::io::empty()).map_err(io(dest))?;
    for f in files {
        let name = format!("{prefix}/{}", f.file_name().unwrap_or(f.as_str()));
        let src = fs_err::File::open(f).map_err(io(f))?;
        let meta = src.metadata().map_err(io(f))?;
        let mut header = tar::Header::new_gnu();
        header.set_metadata(&meta);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, &name, src).map_err(io(f))?;
    }
    builder.into_inner().map_err(io(dest))?;
    Ok(())
}

/// Takes the package files named in the archive's `.packagelist` out of `tar` into `dest_dir`.
/// Returns their paths. Anything else that is not a plain file is refused.
pub fn extract_packages(tar: &Utf8Path, dest_dir: &Utf8Path) -> Result<Vec<Utf8PathBuf>, ArtifactError> {
    fs_err::create_dir_all(dest_dir).map_err(io(dest_dir))?;
    let file = fs_err::File::open(tar).map_err(io(tar))?;
    // The file names in it are the build's: its pax and long-name headers are bounded too.
    let mut archive = tar::Archive::new(crate::alpm::TarGuard::new(std::io::BufReader::new(file), u64::MAX));
    let mut reported: Option<Vec<String>> = None;
    let mut extracted: Vec<Utf8PathBuf> = Vec::new();
    for entry in archive.entries().map_err(io(tar))? {
        let mut entry = entry.map_err(io(tar))?;
        let raw = entry.path().map_err(io(tar))?.to_string_lossy().into_owned();
        let kind = entry.header().entry_type();
        check_path(&raw)?;
        if kind.is_dir() {
            continue;
        }
        let what = match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => None,
            tar::EntryType::Symlink => Some("a symbolic link"),
            tar::EntryType::Link => Some("a hard link"),
            tar::EntryType::Char | tar::EntryType::Block => Some("a device"),
            tar::EntryType::Fifo => Some("a FIFO"),
            _ => Some("an unusual entry"),
        };
        if let Some(what) = what {
            return Err(ArtifactError::Refused { what, entry: raw });
        }
        let name = raw.rsplit('/').next().unwrap_or(&raw).to_string();
        if name == ".packagelist" {
            let mut text = String::new();
            (&mut entry).take(MAX_PACKAGELIST_BYTES).read_to_string(&mut text).map_err(io(tar))?;
            reported = Some(text.lines().filter_map(|l| l.rsplit('/').next()).map(str::to_string).collect());
            continue;
        }
        if !crate::alpm::is_package_file(&name) {
            continue;
        }
        if entry.header().size().map_err(io(tar))? > MAX_ARTIFACT_BYTES {
            return Err(ArtifactError::Refused { what: "an oversized file", entry: raw });
        }
        let out = dest_dir.join(&name);
        let mut dest = fs_err::File::create(&out).map_err(io(&out))?;
        std::io::copy(&mut (&mut entry).take(MAX_ARTIFACT_BYTES), &mut dest).map_err(io(&out))?;
        extracted.push(out);
    }
    let reported = reported.filter(|r| !r.is_empty()).ok_or(ArtifactError::NoPackages)?;
    let mut packages = Vec::new();
    for name in &reported {
        match extracted.iter().find(|p| p.file_name() == Some(name.as_str())) {
            Some(path) => packages.push(path.clone()),
            None => return Err(ArtifactError::Missing(name.clone())),
        }
    }
    for stray in extracted.iter().filter(|p| !packages.contains(p)) {
        let _ = fs_err::remove_file(stray);
    }
    Ok(packages)
}

fn check_path(raw: &str) -> Result<(), ArtifactError> {
    if raw.starts_with('/') {
        return Err(ArtifactError::Refused { what: "an absolute path", entry: raw.to_string() });
    }
    if raw.split('/').any(|seg| seg == "..") {
        return Err(ArtifactError::Refused { what: "a `..` path", entry: raw.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, tar::EntryType, &[u8])]) -> (tempfile::TempDir, Utf8PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::try_from(dir.path().join("out.tar")).unwrap();
        let mut builder = tar::Builder::new(std::fs::File::create(&path).unwrap());
        for (name, kind, body) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            if *kind == tar::EntryType::Symlink {
                header.set_link_name("/etc/passwd").unwrap();
            }
            header.set_cksum();
            builder.append_data(&mut header, name, *body).unwrap();
        }
        builder.finish().unwrap();
        (dir, path)
    }

    #[test]
    fn takes_only_the_reported_package_files() {
        let list = b"/repoctl/out/a-1-1-any.pkg.tar.zst\n";
        let (dir, tar) = archive(&[
            ("out/.packagelist", tar::EntryType::Regular, list),
            ("out/a-1-1-any.pkg.tar.zst", tar::EntryType::Regular, b"pkg"),
            ("out/evil-1-1-any.pkg.tar.zst", tar::EntryType::Regular, b"extra"),
        ]);
        let dest = Utf8PathBuf::try_from(dir.path().join("pkgs")).unwrap();
        let got = extract_packages(&tar, &dest).unwrap();
        assert_eq!(got, [dest.join("a-1-1-any.pkg.tar.zst")]);
        assert!(!dest.join("evil-1-1-any.pkg.tar.zst").exists());
    }

    /// The fault of issue #11: the local repository's mode followed the host's working
    /// directory, and pacman's download user could not read a 0700 one.
    #[test]
    fn files_for_the_container_are_readable_whatever_the_host_modes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        let private = root.join("private");
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        let pkg = private.join("lib-1.2-1-x86_64.pkg.tar.zst");
        std::fs::write(&pkg, b"pkg").unwrap();
        std::fs::set_permissions(&pkg, std::fs::Permissions::from_mode(0o600)).unwrap();
        let tar = root.join("localrepo.tar");
        tar_files(&[pkg], "localrepo", &tar).unwrap();
        let mut archive = tar::Archive::new(std::fs::File::open(&tar).unwrap());
        let modes: Vec<(String, u32)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().display().to_string(), e.header().mode().unwrap())
            })
            .collect();
        assert_eq!(
            modes,
            [("localrepo/".to_string(), 0o755), ("localrepo/lib-1.2-1-x86_64.pkg.tar.zst".to_string(), 0o644)]
        );
    }

    /// The build's input is the locked commit's blobs: every entry with its git mode, links as
    /// links, parent directories first; nothing from any directory on disk.
    #[test]
    fn a_locked_tree_becomes_a_tar_of_its_blobs() {
        use crate::trust::tree::{Mode, Tree};
        let entries: [(Mode, &str, &[u8]); 4] = [
            (Mode::File, "PKGBUILD", b"pkgname=x\n"),
            (Mode::Executable, "scripts/run.sh", b"#!/bin/sh\n"),
            (Mode::Symlink, "link", b"/etc/shadow"),
            (Mode::File, "keys/pgp/A.asc", b"key"),
        ];
        let tree = Tree::for_tests(&"0".repeat(40), &entries);
        let digest = tree.digest();
        let locked = tree.verify("x", &digest).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let tar = Utf8PathBuf::try_from(dir.path().join("src.tar")).unwrap();
        tar_tree(&locked, "src", &tar).unwrap();
        let mut archive = tar::Archive::new(std::fs::File::open(&tar).unwrap());
        let got: Vec<(String, u32, String)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let link = e.link_name().unwrap().map(|l| l.display().to_string()).unwrap_or_default();
                let mut body = String::new();
                std::io::Read::read_to_string(&mut e, &mut body).unwrap();
                (e.path().unwrap().display().to_string(), e.header().mode().unwrap(), format!("{link}{body}"))
            })
            .collect();
        let want = [
            ("src/", 0o755, ""),
            ("src/keys/", 0o755, ""),
            ("src/keys/pgp/", 0o755, ""),
            ("src/scripts/", 0o755, ""),
            ("src/PKGBUILD", 0o644, "pkgname=x\n"),
            ("src/keys/pgp/A.asc", 0o644, "key"),
            ("src/link", 0o777, "/etc/shadow"),
            ("src/scripts/run.sh", 0o755, "#!/bin/sh\n"),
        ];
        let want: Vec<(String, u32, String)> =
            want.iter().map(|(p, m, c)| (p.to_string(), *m, c.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn refuses_links_and_missing_files() {
        let (dir, tar) = archive(&[("out/a-1-1-any.pkg.tar.zst", tar::EntryType::Symlink, b"")]);
        let dest = Utf8PathBuf::try_from(dir.path().join("pkgs")).unwrap();
        assert!(matches!(extract_packages(&tar, &dest), Err(ArtifactError::Refused { .. })));

        let (dir, tar) = archive(&[("out/.packagelist", tar::EntryType::Regular, b"/x/b-1-1-any.pkg.tar.zst\n")]);
        let dest = Utf8PathBuf::try_from(dir.path().join("pkgs")).unwrap();
        assert!(matches!(extract_packages(&tar, &dest), Err(ArtifactError::Missing(_))));
    }
}
