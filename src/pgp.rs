//! OpenPGP public keys as packagers hand them around: full fingerprints, and ASCII-armored key
//! files (`keys/pgp/<FINGERPRINT>.asc` in an AUR repository, or a file named in repo.yaml).
//!
//! This is a leaf: it imports nothing from the crate, so `config` (which parses `sign.key` and
//! `pgp_keys` into a [`Fingerprint`]), `sign` and `build` can all use it without importing each
//! other (issue #13).
//!
//! makepkg checks source signatures with gpg against `validpgpkeys`; gpg inside the build
//! container does the real work. This module only reads enough of a key file on the host to
//! refuse what must not reach a build (a secret key, something that is not a key) and to know
//! which primary-key fingerprints it holds, so that a file is imported only for the key its
//! name claims (issue #5).
use pgp::armor::{BlockType, Dearmor};
use pgp::packet::{Packet, PacketParser};
use pgp::types::KeyDetails;
use std::io::{BufReader, Read};

/// A key file larger than this is refused (a public key with many signatures is a few KiB).
pub const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;

/// A full OpenPGP fingerprint: 40 hex digits (a v4 key) or 64 (a v6 key), held uppercase and
/// without spaces, the form `gpg --with-colons` prints and repoctl compares and passes on.
///
/// [`Fingerprint::parse`] is the one place that decides what a person may write. The rule:
/// - upper or lower case, with or without a `0x` prefix;
/// - whitespace anywhere between the digits is ignored. gpg prints `ABCD 1234 ...` in groups of
///   four with a double space in the middle, and a fingerprint pasted from a terminal, a web
///   page or a mail may carry tabs, non-breaking spaces or a line break instead. Whitespace can
///   never change which key is meant, so refusing it would only turn a paste into an error;
///   and in `pgp_keys` (where a value that is not a fingerprint is read as a file path) a tab
///   must not turn a fingerprint into a path;
/// - anything else is refused, short key IDs included: a 32-bit or 64-bit key ID can be forged,
///   a fingerprint cannot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(String);

/// Why a text is not a [`Fingerprint`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FingerprintError {
    /// Only hex digits, but not 40 or 64 of them: a key ID or a cut fingerprint.
    #[error("{digits} hex digits, not the 40 of a full fingerprint")]
    WrongLength { digits: usize },
    /// Something besides hex digits, whitespace and a `0x` prefix.
    #[error("not hex digits")]
    NotHex,
}

impl FingerprintError {
    /// Whether the text was an attempt at a key ID or fingerprint (eight or more hex digits)
    /// rather than, say, a file name, so that it gets a message about fingerprints.
    pub fn looks_like_key_id(&self) -> bool {
        matches!(self, FingerprintError::WrongLength { digits } if *digits >= 8)
    }
}

impl Fingerprint {
    /// Reads a fingerprint as a person may write it (the rule is on [`Fingerprint`]).
    pub fn parse(s: &str) -> Result<Fingerprint, FingerprintError> {
        let s = s.trim();
        let s = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
        let hex: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(FingerprintError::NotHex);
        }
        match hex.len() {
            40 | 64 => Ok(Fingerprint(hex.to_ascii_uppercase())),
            digits => Err(FingerprintError::WrongLength { digits }),
        }
    }

    /// The fingerprint of a key rPGP read; None for key versions other than 4 and 6.
    pub fn of_key(fingerprint: &pgp::types::Fingerprint) -> Option<Fingerprint> {
        Fingerprint::parse(&format!("{fingerprint:X}")).ok()
    }

    /// Uppercase hex, no spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = FingerprintError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fingerprint::parse(s)
    }
}

impl PartialEq<str> for Fingerprint {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Fingerprint {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    #[error("it holds a secret key")]
    Secret,
    #[error("it is not an ASCII-armored public key (no `-----BEGIN PGP PUBLIC KEY BLOCK-----` line)")]
    NotArmored,
    #[error("its armored block is damaged: {0}")]
    Damaged(String),
    #[error("it holds no public key")]
    NoKey,
}

/// The fingerprints of the primary public keys in an armored key file, in file order (only the
/// first armored block is read).
///
/// rPGP reads the armor and the packets. This walks the packets itself rather than asking for
/// `SignedPublicKey`s: the composed parser stops quietly at a packet that does not belong in a
/// public key, so a secret subkey inside a PUBLIC KEY block would go unseen and reach the
/// build's keyring. Packets rPGP cannot read (a newer version, an unknown algorithm) are
/// skipped, as its composed parser skips them; gpg in the container has the last word.
pub fn public_key_fingerprints(text: &str) -> Result<Vec<Fingerprint>, KeyFileError> {
    if text.contains("PRIVATE KEY BLOCK") {
        return Err(KeyFileError::Secret);
    }
    let mut armor = Dearmor::new(text.as_bytes());
    armor.read_header().map_err(|_| KeyFileError::NotArmored)?;
    match armor.typ {
        Some(BlockType::PublicKey) => {}
        Some(BlockType::PrivateKey) => return Err(KeyFileError::Secret),
        _ => return Err(KeyFileError::NotArmored),
    }
    let damaged = |e: &dyn std::fmt::Display| KeyFileError::Damaged(e.to_string());
    let mut packets = PacketParser::new(BufReader::new(armor));
    let mut fingerprints = Vec::new();
    for packet in packets.by_ref() {
        match packet {
            Ok(Packet::SecretKey(_) | Packet::SecretSubkey(_)) => return Err(KeyFileError::Secret),
            Ok(Packet::PublicKey(key)) => fingerprints.push(primary_fingerprint(&key)?),
            Ok(_) => {}
            Err(e) if is_unsupported(&e) => {}
            Err(e) => return Err(damaged(&e)),
        }
    }
    // The packet parser stops at the end of the data without looking at the armor's footer and
    // checksum; reading to the end checks them, so a cut block is an error and not a key.
    packets.into_inner().read_to_end(&mut Vec::new()).map_err(|e| damaged(&e))?;
    if fingerprints.is_empty() { Err(KeyFileError::NoKey) } else { Ok(fingerprints) }
}

fn primary_fingerprint(key: &pgp::packet::PublicKey) -> Result<Fingerprint, KeyFileError> {
    Fingerprint::of_key(&key.fingerprint()).ok_or_else(|| {
        KeyFileError::Damaged(format!("version {} keys are not supported (only v4 and v6)", u8::from(key.version())))
    })
}

/// Whether rPGP refused a packet only because it does not support it (what its own key parser
/// skips), rather than because the data is broken.
fn is_unsupported(e: &pgp::errors::Error) -> bool {
    match e {
        pgp::errors::Error::Unsupported { .. } => true,
        pgp::errors::Error::InvalidPacketContent { source } => {
            matches!(**source, pgp::errors::Error::Unsupported { .. })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNER: &str = include_str!("../tests/fixtures/pgp/signer.asc");
    const OTHER: &str = include_str!("../tests/fixtures/pgp/other.asc");
    const BEGIN_PUBLIC: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
    const END_PUBLIC: &str = "-----END PGP PUBLIC KEY BLOCK-----";

    #[test]
    fn fingerprints_are_the_ones_gpg_prints() {
        assert_eq!(public_key_fingerprints(SIGNER).unwrap(), ["9AFB7BB20A2C795ABA9CDA8777867A0A09675111"]);
        assert_eq!(public_key_fingerprints(OTHER).unwrap(), ["3917B631F3C03CEE63BF8FD4C9BEC4CB26FD46D9"]);
        let both = format!("{SIGNER}\n{OTHER}");
        assert_eq!(public_key_fingerprints(&both).unwrap().len(), 1, "one block is read");
        let commented = format!("a key, as a web page shows it:\n{SIGNER}");
        assert_eq!(public_key_fingerprints(&commented).unwrap().len(), 1, "text before the block is ignored");
    }

    #[test]
    fn what_is_not_a_public_key_is_refused() {
        let secret = SIGNER.replace("PUBLIC KEY", "PRIVATE KEY");
        assert_eq!(public_key_fingerprints(&secret), Err(KeyFileError::Secret));
        assert_eq!(public_key_fingerprints("hello"), Err(KeyFileError::NotArmored));
        let cut: String = SIGNER.lines().take(4).collect::<Vec<_>>().join("\n");
        assert!(
            matches!(public_key_fingerprints(&cut), Err(KeyFileError::Damaged(_))),
            "{:?}",
            public_key_fingerprints(&cut)
        );
        let garbage = format!("{BEGIN_PUBLIC}\n\n!!!!\n{END_PUBLIC}\n");
        assert!(matches!(public_key_fingerprints(&garbage), Err(KeyFileError::Damaged(_))));
        let empty = format!("{BEGIN_PUBLIC}\n\n{END_PUBLIC}\n");
        assert_eq!(public_key_fingerprints(&empty), Err(KeyFileError::NoKey));
        // Truncated data inside valid base64 is an error, not a panic.
        for n in 0..SIGNER.len() {
            let _ = public_key_fingerprints(&format!("{}\n{END_PUBLIC}", &SIGNER[..n]));
        }
    }

    #[test]
    fn a_secret_key_in_a_public_block_is_refused() {
        use pgp::composed::{Deserializable, SignedSecretKey};
        use pgp::ser::Serialize;
        let secret = include_str!("../tests/fixtures/signing/secret-key.asc");
        let relabelled = secret.replace("PRIVATE KEY", "PUBLIC KEY");
        assert_eq!(public_key_fingerprints(&relabelled), Err(KeyFileError::Secret));

        // A public key followed by a secret subkey: rPGP's composed parser would stop quietly
        // at the subkey and hand back a public key; the packet walk refuses it.
        let (key, _) = SignedSecretKey::from_string(secret).unwrap();
        struct Both(pgp::composed::SignedPublicKey, pgp::composed::SignedSecretSubKey);
        impl Serialize for Both {
            fn to_writer<W: std::io::Write>(&self, w: &mut W) -> pgp::errors::Result<()> {
                self.0.to_writer(w)?;
                self.1.to_writer(w)
            }
            fn write_len(&self) -> usize {
                self.0.write_len() + self.1.write_len()
            }
        }
        let both = Both(key.to_public_key(), key.secret_subkeys[0].clone());
        let mut armored = Vec::new();
        pgp::armor::write(&both, BlockType::PublicKey, &mut armored, None, true).unwrap();
        let armored = String::from_utf8(armored).unwrap();
        assert!(armored.starts_with(BEGIN_PUBLIC));
        assert_eq!(public_key_fingerprints(&armored), Err(KeyFileError::Secret));
    }

    const FPR: &str = "9AFB7BB20A2C795ABA9CDA8777867A0A09675111";

    fn parse(s: &str) -> Result<String, FingerprintError> {
        Fingerprint::parse(s).map(|f| f.to_string())
    }

    #[test]
    fn a_fingerprint_is_accepted_as_gpg_prints_it() {
        assert_eq!(parse(FPR).as_deref(), Ok(FPR));
        assert_eq!(parse("9AFB 7BB2 0A2C 795A BA9C  DA87 7786 7A0A 0967 5111").as_deref(), Ok(FPR), "gpg's groups");
        assert_eq!(parse("  9AFB7BB20A2C795ABA9CDA8777867A0A09675111\n").as_deref(), Ok(FPR), "trimmed");
        let v6 = "CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9";
        assert_eq!(parse(v6).as_deref(), Ok(v6), "a v6 key's 64 digits");
    }

    #[test]
    fn case_and_a_0x_prefix_do_not_matter() {
        assert_eq!(parse(&FPR.to_ascii_lowercase()).as_deref(), Ok(FPR));
        assert_eq!(parse("0x9afb 7bb2 0a2c 795a ba9c  da87 7786 7a0a 0967 5111").as_deref(), Ok(FPR));
        assert_eq!(parse(&format!("0X{FPR}")).as_deref(), Ok(FPR));
    }

    #[test]
    fn tabs_line_breaks_and_non_breaking_spaces_are_whitespace_like_spaces() {
        // The case from issue #13: `sign.key` and `pgp_keys` both read this through here.
        assert_eq!(parse("9AFB7BB20A2C795ABA9C\tDA8777867A0A09675111").as_deref(), Ok(FPR));
        assert_eq!(parse("9AFB 7BB2 0A2C 795A BA9C\nDA87 7786 7A0A 0967 5111").as_deref(), Ok(FPR));
        assert_eq!(parse("9AFB\u{a0}7BB20A2C795ABA9CDA8777867A0A09675111").as_deref(), Ok(FPR));
    }

    #[test]
    fn key_ids_and_cut_or_long_fingerprints_are_refused_as_key_ids() {
        for (text, digits) in [("09675111", 8), ("77867A0A09675111", 16), (&FPR[1..], 39), (&format!("{FPR}0"), 41)] {
            let err = Fingerprint::parse(text).unwrap_err();
            assert_eq!(err, FingerprintError::WrongLength { digits }, "{text}");
            assert!(err.looks_like_key_id(), "{text}");
        }
        assert!(!Fingerprint::parse("cafe").unwrap_err().looks_like_key_id(), "too short to be a key ID");
        assert!(!Fingerprint::parse("").unwrap_err().looks_like_key_id());
    }

    #[test]
    fn what_is_not_hex_is_refused_and_is_not_a_key_id() {
        for text in [
            "G123456789ABCDEF0123456789ABCDEF01234567",
            "keys/me.asc",
            "9AFB-7BB2-0A2C-795A-BA9C-DA87-7786-7A0A-0967-5111",
        ] {
            assert_eq!(Fingerprint::parse(text), Err(FingerprintError::NotHex), "{text}");
            assert!(!FingerprintError::NotHex.looks_like_key_id());
        }
    }
}
