//! The public keys one build may check its sources' PGP signatures with (issue #5).
//!
//! makepkg verifies `source=(... file.sig)` with gpg against the PKGBUILD's `validpgpkeys`, in
//! the build user's keyring, which is empty in a fresh container. AUR repositories ship the
//! keys as `keys/pgp/<FINGERPRINT>.asc`; repo.yaml may add fingerprints (received from a
//! keyserver in the container) and key files. This decides, on the host, what goes in.
//!
//! The AUR repository's key files are read from the locked commit's blobs, never from a
//! directory on disk, and one that is a symbolic link is refused (issue 23, item 7): a link is
//! not a key, and followed on the host it would read whatever file it names.
use crate::aur::SrcInfo;
use crate::config::PgpKey;
use crate::pgp::Fingerprint;
use crate::trust::tree::{LockedTree, Mode};

/// What to import into the build user's keyring, and what to say about it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BuildKeys {
    /// Armored key files: (file name under /repoctl/keys, contents).
    pub files: Vec<(String, String)>,
    /// Fingerprints to receive from a keyserver.
    pub receive: Vec<Fingerprint>,
    /// Keys a signature is expected from: validpgpkeys and repo.yaml's keys.
    pub expected: Vec<String>,
    /// One line per decision, for the build log.
    pub notes: Vec<String>,
}

impl BuildKeys {
    /// The locked tree's `keys/pgp/<FPR>.asc` for each fingerprint in validpgpkeys (only when
    /// the file really holds that key), plus repo.yaml's `pgp_keys` for this package. Errors:
    /// the tree's `keys`, `keys/pgp` or a `keys/pgp/*.asc` is a symbolic link ([`KeyLinks`]).
    pub fn gather(tree: &LockedTree, srcinfo: &SrcInfo, configured: &[PgpKey]) -> Result<BuildKeys, KeyLinks> {
        let mut keys = BuildKeys { expected: srcinfo.validpgpkeys.clone(), ..BuildKeys::default() };
        let shipped = shipped_key_files(tree)?;
        for fpr in &srcinfo.validpgpkeys {
            let Some((path, bytes)) = shipped.iter().find(|(path, _)| key_stem(path).eq_ignore_ascii_case(fpr)) else {
                continue;
            };
            match key_text(bytes).map(|text| (crate::pgp::public_key_fingerprints(&text), text)) {
                Ok((Ok(held), text)) if held.iter().any(|h| h.as_str() == fpr) => {
                    keys.notes.push(format!("{path}: public key {fpr}, listed in validpgpkeys"));
                    keys.files.push((format!("aur-{fpr}.asc"), text));
                }
                Ok((Ok(held), _)) => {
                    keys.notes.push(format!("{path} holds key {}, not {fpr}: not imported", list(&held)))
                }
                Ok((Err(e), _)) => keys.notes.push(format!("{path} is not imported: {e}")),
                Err(e) => keys.notes.push(format!("{path} is not imported: {e}")),
            }
        }
        for (i, key) in configured.iter().enumerate() {
            match key {
                PgpKey::Fingerprint(fpr) => {
                    keys.notes.push(format!("repo.yaml: key {fpr}, received from a keyserver"));
                    keys.receive.push(fpr.clone());
                    keys.expected.push(fpr.to_string());
                }
                PgpKey::File { path, fingerprints, armored } => {
                    keys.notes.push(format!("repo.yaml: {path}: public key {}", list(fingerprints)));
                    keys.files.push((format!("repoyaml-{i}.asc"), armored.clone()));
                    keys.expected.extend(fingerprints.iter().map(Fingerprint::to_string));
                }
            }
        }
        keys.expected.sort();
        keys.expected.dedup();
        Ok(keys)
    }

    /// Nothing to import and no signature expected: the build skips the keyring step.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.receive.is_empty() && self.expected.is_empty()
    }

    /// Expected keys that the keyring (as keys.sh listed it) does not hold.
    pub fn missing(&self, keyring: &[String]) -> Vec<String> {
        self.expected.iter().filter(|k| !keyring.iter().any(|h| h.eq_ignore_ascii_case(k))).cloned().collect()
    }
}

fn list(fingerprints: &[Fingerprint]) -> String {
    fingerprints.iter().map(Fingerprint::as_str).collect::<Vec<_>>().join(", ")
}

/// Key files of an AUR repository that are symbolic links (issue 23, item 7).
#[derive(Debug, thiserror::Error)]
#[error(
    "the AUR repository's {} {} a symbolic link, which repoctl does not read as a key: the AUR maintainer must commit the key file itself, or list the key under the package's `pgp_keys` in repo.yaml",
    paths.join(", "),
    if paths.len() == 1 { "is" } else { "are" }
)]
pub struct KeyLinks {
    pub paths: Vec<String>,
}

/// `keys/pgp/*.asc` of the tree, as (path, bytes). Errors: `keys`, `keys/pgp` or one of those
/// files is a symbolic link.
fn shipped_key_files(tree: &LockedTree) -> Result<Vec<(&str, &[u8])>, KeyLinks> {
    let entries = tree.tree().entries();
    let is_key_file =
        |path: &str| path.strip_prefix("keys/pgp/").is_some_and(|name| !name.contains('/') && name.ends_with(".asc"));
    let links: Vec<String> = entries
        .iter()
        .filter(|e| e.mode() == Mode::Symlink && (matches!(e.path(), "keys" | "keys/pgp") || is_key_file(e.path())))
        .map(|e| e.path().to_string())
        .collect();
    if !links.is_empty() {
        return Err(KeyLinks { paths: links });
    }
    Ok(entries.iter().filter(|e| is_key_file(e.path())).map(|e| (e.path(), e.content())).collect())
}

/// `keys/pgp/FPR.asc` -> `FPR`.
fn key_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".asc").unwrap_or(name)
}

fn key_text(bytes: &[u8]) -> Result<String, String> {
    if bytes.len() as u64 > crate::pgp::MAX_KEY_FILE_BYTES {
        return Err("it is larger than 1 MiB".into());
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| "it is not an ASCII-armored key".into())
}

/// The fingerprints keys.sh reported (`REPOCTL-KEY <fingerprint>` lines).
pub fn keyring_from_output(output: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(output)
        .lines()
        .filter_map(|l| l.strip_prefix("REPOCTL-KEY "))
        .map(|f| f.trim().to_ascii_uppercase())
        .filter(|f| f.len() <= 64 && f.chars().all(|c| c.is_ascii_hexdigit()))
        .collect()
}

/// Whether makepkg's output says a signature check failed.
pub fn signature_check_failed(output: &[u8]) -> bool {
    let text = String::from_utf8_lossy(output);
    text.contains("PGP signatures could not be verified")
}

#[cfg(test)]
mod tests {
    use super::*;
    const SIGNER: &str = "9AFB7BB20A2C795ABA9CDA8777867A0A09675111";
    const OTHER: &str = "3917B631F3C03CEE63BF8FD4C9BEC4CB26FD46D9";

    fn srcinfo(validpgpkeys: &[&str]) -> SrcInfo {
        SrcInfo {
            pkgbase: "p".into(),
            version: "1-1".into(),
            pkgnames: vec!["p".into()],
            packages: Vec::new(),
            makedepends: Vec::new(),
            checkdepends: Vec::new(),
            validpgpkeys: validpgpkeys.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// A locked tree holding `keys/pgp/NAME` files (name, content).
    fn tree_with(files: &[(&str, &str)]) -> LockedTree {
        let paths: Vec<String> = files.iter().map(|(name, _)| format!("keys/pgp/{name}")).collect();
        let mut entries: Vec<(Mode, &str, &[u8])> = vec![(Mode::File, "PKGBUILD", b"pkgname=p\n")];
        entries.extend(paths.iter().zip(files).map(|(path, (_, body))| (Mode::File, path.as_str(), body.as_bytes())));
        locked(&entries)
    }

    fn locked(entries: &[(Mode, &str, &[u8])]) -> LockedTree {
        let tree = crate::trust::tree::Tree::for_tests(&"0".repeat(40), entries);
        let digest = tree.digest();
        tree.verify("p", &digest).unwrap()
    }

    #[test]
    fn shipped_keys_are_imported_only_for_validpgpkeys_and_only_when_they_match_their_name() {
        let signer = include_str!("../../tests/fixtures/pgp/signer.asc");
        let other = include_str!("../../tests/fixtures/pgp/other.asc");
        let root = tree_with(&[
            (&format!("{SIGNER}.asc"), signer),
            (&format!("{OTHER}.asc"), other),
            ("0000000000000000000000000000000000000000.asc", "junk"),
        ]);
        // Only the key named in validpgpkeys.
        let keys = BuildKeys::gather(&root, &srcinfo(&[SIGNER]), &[]).unwrap();
        assert_eq!(keys.files.len(), 1, "{keys:?}");
        assert_eq!(keys.files[0].1, signer);
        assert_eq!(keys.missing(&[SIGNER.to_string()]), Vec::<String>::new());

        // A file named after one key that holds another is not imported, and says so.
        let root = tree_with(&[(&format!("{SIGNER}.asc"), other)]);
        let keys = BuildKeys::gather(&root, &srcinfo(&[SIGNER]), &[]).unwrap();
        assert!(keys.files.is_empty());
        assert!(keys.notes[0].contains(&format!("holds key {OTHER}, not {SIGNER}")), "{:?}", keys.notes);
        assert_eq!(keys.missing(&[OTHER.to_string()]), [SIGNER]);

        // No validpgpkeys, no repo.yaml keys: nothing to do.
        assert!(BuildKeys::gather(&root, &srcinfo(&[]), &[]).unwrap().is_empty());
    }

    #[test]
    fn repo_yaml_keys_are_received_or_copied() {
        let root = tree_with(&[]);
        let fpr = |s: &str| Fingerprint::parse(s).unwrap();
        let configured = [
            PgpKey::Fingerprint(fpr(OTHER)),
            PgpKey::File { path: "k.asc".into(), fingerprints: vec![fpr(SIGNER)], armored: "ARMORED".into() },
        ];
        let keys = BuildKeys::gather(&root, &srcinfo(&[]), &configured).unwrap();
        assert_eq!(keys.receive, [OTHER]);
        assert_eq!(keys.files, [("repoyaml-1.asc".to_string(), "ARMORED".to_string())]);
        assert_eq!(keys.expected, [OTHER, SIGNER]);
    }

    /// A key file that is a symbolic link (to a real key on the host, or anything else) is
    /// refused by name, and so is a linked `keys/pgp` or `keys` directory.
    #[test]
    fn key_files_that_are_symbolic_links_are_refused() {
        let signer = include_str!("../../tests/fixtures/pgp/signer.asc");
        let link = format!("keys/pgp/{SIGNER}.asc");
        for (path, target) in [(link.as_str(), "/etc/shadow"), ("keys/pgp", "/root/.gnupg"), ("keys", "/")] {
            let tree = locked(&[
                (Mode::File, "keys/pgp/other.asc", signer.as_bytes()),
                (Mode::Symlink, path, target.as_bytes()),
            ]);
            let err = BuildKeys::gather(&tree, &srcinfo(&[SIGNER]), &[]).unwrap_err();
            assert_eq!(err.paths, [path]);
            assert!(err.to_string().starts_with(&format!("the AUR repository's {path} is a symbolic link")), "{err}");
        }
        // A symlink elsewhere is not a key file's business.
        let tree = locked(&[(Mode::Symlink, "greeting.txt", b"/etc/motd"), (Mode::File, &link, signer.as_bytes())]);
        assert_eq!(BuildKeys::gather(&tree, &srcinfo(&[SIGNER]), &[]).unwrap().files.len(), 1);
    }

    #[test]
    fn keys_sh_output_is_read_strictly() {
        let out = format!("gpg: key imported\nREPOCTL-KEY {SIGNER}\nREPOCTL-KEY not-hex\n");
        assert_eq!(keyring_from_output(out.as_bytes()), [SIGNER]);
    }
}
