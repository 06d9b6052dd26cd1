//! The throwaway signing key the signing tests hand to repoctl and to pacman.
use super::process::repo_root;
use camino::Utf8PathBuf;

/// The throwaway signing key in tests/fixtures/signing.
pub struct SigningKey {
    pub fingerprint: String,
    /// The armored public key, as a user imports it with pacman-key.
    pub public_key: Utf8PathBuf,
    secret_key: String,
}

impl SigningKey {
    pub fn fixture() -> SigningKey {
        let dir = repo_root().join("tests/fixtures/signing");
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("signing fixture");
        SigningKey {
            fingerprint: read("fingerprint").trim().to_string(),
            public_key: dir.join("public-key.asc"),
            secret_key: read("secret-key.asc"),
        }
    }

    /// The environment variable that hands repoctl the secret key.
    pub fn env(&self) -> (&'static str, String) {
        ("REPOCTL_SIGNING_KEY", self.secret_key.clone())
    }
}
