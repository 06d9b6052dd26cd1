//! The public keys one build may check its sources' PGP signatures with (issue #5).
//!
//! makepkg verifies `source=(... file.sig)` with gpg against the PKGBUILD's `validpgpkeys`, in
//! the build user's keyring, which is empty in a fresh container. AUR repositories ship the
//! keys as `keys/pgp/<FINGERPRINT>.asc`; repo.yaml may add fingerprints (received from a
//! keyserver in the container) and key files. This decides, on the host, what goes in.
use crate::aur::SrcInfo;
use crate::config::PgpKey;
use crate::pgp::Fingerprint;
use camino::Utf8Path;

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
    /// The checkout's `keys/pgp/<FPR>.asc` for each fingerprint in validpgpkeys (only when the
    /// file really holds that key), plus repo.yaml's `pgp_keys` for this package.
    pub fn gather(checkout: &Utf8Path, srcinfo: &SrcInfo, configured: &[PgpKey]) -> BuildKeys {
        let mut keys = BuildKeys { expected: srcinfo.validpgpkeys.clone(), ..BuildKeys::default() };
        let shipped = shipped_key_files(checkout);
        for fpr in &srcinfo.validpgpkeys {
            let Some((name, path)) = shipped.iter().find(|(stem, _)| stem.eq_ignore_ascii_case(fpr)) else {
                continue;
            };
            let shown = format!("keys/pgp/{}", path.file_name().unwrap_or(name));
            match read_bounded(path).map(|text| (crate::pgp::public_key_fingerprints(&text), text)) {
                Ok((Ok(held), text)) if held.iter().any(|h| h.as_str() == fpr) => {
                    keys.notes.push(format!("{shown}: public key {fpr}, listed in validpgpkeys"));
                    keys.files.push((format!("aur-{fpr}.asc"), text));
                }
                Ok((Ok(held), _)) => {
                    keys.notes.push(format!("{shown} holds key {}, not {fpr}: not imported", list(&held)))
                }
                Ok((Err(e), _)) => keys.notes.push(format!("{shown} is not imported: {e}")),
                Err(e) => keys.notes.push(format!("{shown} is not imported: {e}")),
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
        keys
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

/// `keys/pgp/*.asc` in a checkout, as (file stem, path).
fn shipped_key_files(checkout: &Utf8Path) -> Vec<(String, camino::Utf8PathBuf)> {
    let dir = checkout.join("keys/pgp");
    let Ok(entries) = fs_err::read_dir(&dir) else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| camino::Utf8PathBuf::try_from(e.path()).ok())
        .filter(|p| p.extension() == Some("asc") && p.is_file())
        .filter_map(|p| Some((p.file_stem()?.to_string(), p)))
        .collect()
}

fn read_bounded(path: &Utf8Path) -> Result<String, String> {
    use std::io::Read;
    let file = fs_err::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(crate::pgp::MAX_KEY_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > crate::pgp::MAX_KEY_FILE_BYTES {
        return Err("it is larger than 1 MiB".into());
    }
    String::from_utf8(bytes).map_err(|_| "it is not an ASCII-armored key".into())
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

    fn checkout_with(files: &[(&str, &str)]) -> (tempfile::TempDir, camino::Utf8PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        std::fs::create_dir_all(root.join("keys/pgp")).unwrap();
        for (name, body) in files {
            std::fs::write(root.join("keys/pgp").join(name), body).unwrap();
        }
        (dir, root)
    }

    #[test]
    fn shipped_keys_are_imported_only_for_validpgpkeys_and_only_when_they_match_their_name() {
        let signer = include_str!("../../tests/fixtures/pgp/signer.asc");
        let other = include_str!("../../tests/fixtures/pgp/other.asc");
        let (_d, root) = checkout_with(&[
            (&format!("{SIGNER}.asc"), signer),
            (&format!("{OTHER}.asc"), other),
            ("0000000000000000000000000000000000000000.asc", "junk"),
        ]);
        // Only the key named in validpgpkeys.
        let keys = BuildKeys::gather(&root, &srcinfo(&[SIGNER]), &[]);
        assert_eq!(keys.files.len(), 1, "{keys:?}");
        assert_eq!(keys.files[0].1, signer);
        assert_eq!(keys.missing(&[SIGNER.to_string()]), Vec::<String>::new());

        // A file named after one key that holds another is not imported, and says so.
        let (_d, root) = checkout_with(&[(&format!("{SIGNER}.asc"), other)]);
        let keys = BuildKeys::gather(&root, &srcinfo(&[SIGNER]), &[]);
        assert!(keys.files.is_empty());
        assert!(keys.notes[0].contains(&format!("holds key {OTHER}, not {SIGNER}")), "{:?}", keys.notes);
        assert_eq!(keys.missing(&[OTHER.to_string()]), [SIGNER]);

        // No validpgpkeys, no repo.yaml keys: nothing to do.
        assert!(BuildKeys::gather(&root, &srcinfo(&[]), &[]).is_empty());
    }

    #[test]
    fn repo_yaml_keys_are_received_or_copied() {
        let (_d, root) = checkout_with(&[]);
        let fpr = |s: &str| Fingerprint::parse(s).unwrap();
        let configured = [
            PgpKey::Fingerprint(fpr(OTHER)),
            PgpKey::File { path: "k.asc".into(), fingerprints: vec![fpr(SIGNER)], armored: "ARMORED".into() },
        ];
        let keys = BuildKeys::gather(&root, &srcinfo(&[]), &configured);
        assert_eq!(keys.receive, [OTHER]);
        assert_eq!(keys.files, [("repoyaml-1.asc".to_string(), "ARMORED".to_string())]);
        assert_eq!(keys.expected, [OTHER, SIGNER]);
    }

    #[test]
    fn keys_sh_output_is_read_strictly() {
        let out = format!("gpg: key imported\nREPOCTL-KEY {SIGNER}\nREPOCTL-KEY not-hex\n");
        assert_eq!(keyring_from_output(out.as_bytes()), [SIGNER]);
    }
}
