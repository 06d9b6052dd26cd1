//! Detached OpenPGP signatures for package files and databases, made in this process with
//! rPGP (the `pgp` crate): the secret key comes from `REPOCTL_SIGNING_KEY`, is parsed in
//! memory and never written to disk, handed to gpg, or put in a container.
//!
//! Signatures are binary (not armored), as pacman expects: repo-add embeds a package's `.sig`
//! in the database (`%PGPSIG%`) and refuses armored ones.
//!
//! It takes plain values (the fingerprint repo.yaml names, the file that names it) and returns
//! typed errors; `commands::signer` turns them into a diagnostic at the `sign.key` line. It
//! does not import `config`, and `config` does not import it (issue #13).
use crate::pgp::Fingerprint;
use camino::{Utf8Path, Utf8PathBuf};
use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey, SignedSecretKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::ser::Serialize;
use pgp::types::{KeyDetails, Password};

/// A signing key armored larger than this is refused (real ones are a few KiB).
const MAX_KEY_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{config} signs the repository with key {key}, but {var} is not set")]
    MissingKey { config: Utf8PathBuf, key: Fingerprint, var: &'static str },
    #[error("{var} does not hold an ASCII-armored OpenPGP secret key: {message}")]
    BadKey { var: &'static str, message: String },
    #[error("the key in {var} is not {want} (it has {have})")]
    WrongKey { var: &'static str, want: Fingerprint, have: String },
    #[error("key {key} cannot make signatures: {message}")]
    CannotSign { key: Fingerprint, message: String },
    #[error("I/O error on {path}")]
    Io {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Which part of the key signs: the primary key or one subkey (by its index).
#[derive(Debug, Clone, Copy)]
enum Part {
    Primary,
    Subkey(usize),
}

pub struct Signer {
    key: SignedSecretKey,
    part: Part,
    passphrase: Password,
    fingerprint: Fingerprint,
    /// The same key's public part: what checks signatures.
    public: PublicKey,
}

/// The public part of the repository's key (its primary key or one subkey, named by
/// fingerprint): what checks a database's or package's signature. A run that holds the secret
/// key takes it from the [`Signer`] ([`Signer::public`]); one that must not (a shard's
/// `build --no-publish`, `provenance`) reads it from repo.yaml's `sign.public_key` file
/// ([`PublicKey::from_armored`]).
#[derive(Clone)]
pub struct PublicKey {
    key: SignedPublicKey,
    part: Part,
    fingerprint: Fingerprint,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey").field("fingerprint", &self.fingerprint).finish_non_exhaustive()
    }
}

impl PublicKey {
    /// The key `fingerprint` (a primary key or a subkey) from an ASCII-armored public key
    /// (`gpg --armor --export`). Errors: not such a key (a message), or the key is not there.
    pub fn from_armored(armored: &str, fingerprint: &Fingerprint) -> Result<PublicKey, String> {
        if armored.len() > MAX_KEY_BYTES {
            return Err(format!("larger than {MAX_KEY_BYTES} bytes"));
        }
        let (key, _) = SignedPublicKey::from_string(armored).map_err(|e| e.to_string())?;
        let part = find_part(
            key.primary_key.fingerprint(),
            key.public_subkeys.iter().map(|s| s.key.fingerprint()),
            fingerprint,
        )
        .map_err(|have| format!("it holds {have}, not {fingerprint}"))?;
        Ok(PublicKey { key, part, fingerprint: fingerprint.clone() })
    }

    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// Whether `sig` is a valid signature of `data` by this key.
    pub fn verify(&self, data: &[u8], sig: &[u8]) -> bool {
        self.verify_reader(data, sig)
    }

    /// Whether `sig` (a binary detached signature) is a valid signature by this key of what
    /// `data` yields, read to its end in the hash's own blocks: a package file of any size is
    /// checked without being held in memory. A read error is a failed check.
    pub fn verify_reader(&self, data: impl std::io::Read, sig: &[u8]) -> bool {
        let Ok(sig) = DetachedSignature::from_bytes(sig) else { return false };
        match self.part {
            Part::Primary => sig.signature.verify(&self.key.primary_key, data).is_ok(),
            Part::Subkey(i) => sig.signature.verify(&self.key.public_subkeys[i].key, data).is_ok(),
        }
    }

    /// Whether `sig` parses as one binary detached signature whose issuer (the issuer
    /// fingerprint subpacket, or the issuer key ID where only that is given, RFC 9580 5.2.3.12
    /// and 5.2.3.35) is this key. Says who claims to have signed, not that the signature is
    /// valid over anything: that needs the signed bytes ([`PublicKey::verify_reader`]).
    pub fn is_issuer_of(&self, sig: &[u8]) -> bool {
        let Ok(sig) = DetachedSignature::from_bytes(sig) else { return false };
        let (fingerprint, key_id) = match self.part {
            Part::Primary => (self.key.primary_key.fingerprint(), self.key.primary_key.legacy_key_id()),
            Part::Subkey(i) => {
                (self.key.public_subkeys[i].key.fingerprint(), self.key.public_subkeys[i].key.legacy_key_id())
            }
        };
        let fingerprints = sig.signature.issuer_fingerprint();
        if !fingerprints.is_empty() {
            return fingerprints.contains(&&fingerprint);
        }
        sig.signature.issuer_key_id().contains(&&key_id)
    }
}

/// Which of a key's parts (`primary`, then `subkeys` in order) is `want`; else the
/// fingerprints it has, comma-separated.
fn find_part(
    primary: pgp::types::Fingerprint,
    subkeys: impl Iterator<Item = pgp::types::Fingerprint>,
    want: &Fingerprint,
) -> Result<Part, String> {
    let is_wanted = |f: &pgp::types::Fingerprint| Fingerprint::of_key(f).as_ref() == Some(want);
    if is_wanted(&primary) {
        return Ok(Part::Primary);
    }
    let subkeys: Vec<pgp::types::Fingerprint> = subkeys.collect();
    if let Some(i) = subkeys.iter().position(is_wanted) {
        return Ok(Part::Subkey(i));
    }
    Err(std::iter::once(&primary).chain(&subkeys).map(|f| format!("{f:X}")).collect::<Vec<_>>().join(", "))
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("Signer").field("fingerprint", &self.fingerprint).finish_non_exhaustive()
    }
}

impl Signer {
    /// The signer for `key` (what `config` names, repo.yaml's `sign.key`), with the secret key
    /// from the environment. Checked before anything is built: a key that is missing, is not
    /// `key`, or cannot sign (a wrong passphrase) is an error now, not after an hour of builds.
    pub fn from_env(config: &Utf8Path, key: &Fingerprint) -> Result<Signer, SignError> {
        let armored =
            std::env::var(crate::env::SIGNING_KEY).ok().filter(|k| !k.trim().is_empty()).ok_or_else(|| {
                SignError::MissingKey { config: config.to_owned(), key: key.clone(), var: crate::env::SIGNING_KEY }
            })?;
        let passphrase = std::env::var(crate::env::SIGNING_KEY_PASSPHRASE).unwrap_or_default();
        Signer::new(&armored, key, &passphrase)
    }

    /// A signer for `fingerprint` (the primary key or a subkey) from an armored secret key.
    pub fn new(armored: &str, fingerprint: &Fingerprint, passphrase: &str) -> Result<Signer, SignError> {
        let var = crate::env::SIGNING_KEY;
        if armored.len() > MAX_KEY_BYTES {
            return Err(SignError::BadKey { var, message: format!("larger than {MAX_KEY_BYTES} bytes") });
        }
        let (key, _) =
            SignedSecretKey::from_string(armored).map_err(|e| SignError::BadKey { var, message: e.to_string() })?;
        let want = fingerprint.clone();
        let part =
            find_part(key.primary_key.fingerprint(), key.secret_subkeys.iter().map(|s| s.key.fingerprint()), &want)
                .map_err(|have| SignError::WrongKey { var, want: want.clone(), have })?;
        // `to_public_key` keeps the subkeys in their order, so `part` names the same one.
        let public = PublicKey { key: key.to_public_key(), part, fingerprint: want.clone() };
        let signer = Signer { key, part, passphrase: Password::from(passphrase), fingerprint: want, public };
        // A wrong passphrase or a key that cannot sign shows here, before any build.
        let probe = signer
            .sign_bytes(b"repoctl")
            .map_err(|message| SignError::CannotSign { key: signer.fingerprint.clone(), message })?;
        if !signer.verify(b"repoctl", &probe) {
            return Err(SignError::CannotSign {
                key: signer.fingerprint.clone(),
                message: "its own signature does not verify".into(),
            });
        }
        Ok(signer)
    }

    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// The key's public part, which checks signatures.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The public key, armored: what users import into pacman's keyring.
    pub fn public_key_armored(&self) -> String {
        let public: SignedPublicKey = self.key.to_public_key();
        public.to_armored_string(Default::default()).unwrap_or_default()
    }

    /// A binary detached signature over `data`.
    pub fn sign_bytes(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        let rng = rand::thread_rng();
        let sig = match self.part {
            Part::Primary => DetachedSignature::sign_binary_data(
                rng,
                &self.key.primary_key,
                &self.passphrase,
                HashAlgorithm::Sha256,
                data,
            ),
            Part::Subkey(i) => DetachedSignature::sign_binary_data(
                rng,
                &self.key.secret_subkeys[i].key,
                &self.passphrase,
                HashAlgorithm::Sha256,
                data,
            ),
        };
        sig.and_then(|s| s.to_bytes()).map_err(|e| e.to_string())
    }

    /// Whether `sig` is a valid signature of `data` by this key ([`PublicKey::verify`]).
    pub fn verify(&self, data: &[u8], sig: &[u8]) -> bool {
        self.public.verify(data, sig)
    }

    /// Writes `path.sig`, a detached signature of the file, and returns its path.
    pub fn sign_file(&self, path: &Utf8Path) -> Result<Utf8PathBuf, SignError> {
        let io = |p: &Utf8Path| {
            let p = p.to_owned();
            move |source| SignError::Io { path: p.clone(), source }
        };
        let data = fs_err::read(path).map_err(io(path))?;
        let sig = self
            .sign_bytes(&data)
            .map_err(|message| SignError::CannotSign { key: self.fingerprint.clone(), message })?;
        let out = Utf8PathBuf::from(format!("{path}.sig"));
        fs_err::write(&out, sig).map_err(io(&out))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = include_str!("../tests/fixtures/signing/secret-key.asc");
    const PRIMARY: &str = include_str!("../tests/fixtures/signing/fingerprint");
    const SUBKEY: &str = include_str!("../tests/fixtures/signing/subkey-fingerprint");

    fn fpr(s: &str) -> Fingerprint {
        Fingerprint::parse(s).unwrap()
    }

    #[test]
    fn a_gpg_made_key_signs_with_its_primary_key_or_a_signing_subkey() {
        for key in [fpr(PRIMARY), fpr(SUBKEY)] {
            let signer = Signer::new(SECRET, &key, "").expect("the fixture key loads");
            let sig = signer.sign_bytes(b"package bytes").unwrap();
            assert!(signer.verify(b"package bytes", &sig));
            assert!(!signer.verify(b"package bytez", &sig), "a swapped byte must not verify");
            assert!(!sig.starts_with(b"-----"), "pacman wants binary signatures");
        }
        assert!(Signer::new(SECRET, &fpr(PRIMARY), "").unwrap().public_key_armored().contains("PUBLIC KEY"));
    }

    #[test]
    fn another_key_is_refused_and_the_error_lists_what_the_variable_holds() {
        let err = Signer::new(SECRET, &fpr("0123456789ABCDEF0123456789ABCDEF01234567"), "").unwrap_err();
        let text = err.to_string();
        assert!(text.contains(PRIMARY.trim()) && text.contains(SUBKEY.trim()), "{text}");
    }

    /// The red-team's F4: a run without the secret key checks signatures with the public part
    /// repo.yaml names, exactly as the signer would, for the primary key and for a subkey.
    #[test]
    fn the_public_part_checks_what_the_secret_key_signed() {
        const PUBLIC: &str = include_str!("../tests/fixtures/signing/public-key.asc");
        for key in [fpr(PRIMARY), fpr(SUBKEY)] {
            let sig = Signer::new(SECRET, &key, "").unwrap().sign_bytes(b"NAME.db bytes").unwrap();
            let public = PublicKey::from_armored(PUBLIC, &key).expect("the fixture's public key");
            assert!(public.verify(b"NAME.db bytes", &sig), "{key}");
            assert!(!public.verify(b"NAME.db bytez", &sig), "a swapped byte must not verify");
            assert!(public.is_issuer_of(&sig));
        }
        let primary = Signer::new(SECRET, &fpr(PRIMARY), "").unwrap().sign_bytes(b"x").unwrap();
        assert!(!PublicKey::from_armored(PUBLIC, &fpr(SUBKEY)).unwrap().verify(b"x", &primary), "another part");
        let err = PublicKey::from_armored(PUBLIC, &fpr("0123456789ABCDEF0123456789ABCDEF01234567")).unwrap_err();
        assert!(err.contains(PRIMARY.trim()) && err.contains(SUBKEY.trim()), "{err}");
        assert!(PublicKey::from_armored("not a key", &fpr(PRIMARY)).is_err());
    }

    #[test]
    fn garbage_in_the_key_variable_is_an_error_that_names_it() {
        let err = Signer::new("not a key", &fpr("0123456789ABCDEF0123456789ABCDEF01234567"), "").unwrap_err();
        assert!(err.to_string().contains(crate::env::SIGNING_KEY), "{err}");
    }
}
