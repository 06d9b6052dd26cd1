//! OpenPGP public keys as packagers hand them around: full fingerprints, and ASCII-armored key
//! files (`keys/pgp/<FINGERPRINT>.asc` in an AUR repository, or a file named in repo.yaml).
//!
//! makepkg checks source signatures with gpg against `validpgpkeys`; gpg inside the build
//! container does the real work. This module only reads enough of a key file on the host to
//! refuse what must not reach a build (a secret key, something that is not a key) and to know
//! which primary-key fingerprints it holds, so that a file is imported only for the key its
//! name claims (issue #5).
use sha2::Digest;

/// A key file larger than this is refused (a public key with many signatures is a few KiB).
pub const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;

const BEGIN_PUBLIC: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const END_PUBLIC: &str = "-----END PGP PUBLIC KEY BLOCK-----";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    #[error("it holds a secret key")]
    Secret,
    #[error("it is not an ASCII-armored public key (no `{BEGIN_PUBLIC}` line)")]
    NotArmored,
    #[error("its armored block is damaged: {0}")]
    Damaged(String),
    #[error("it holds no public key")]
    NoKey,
}

/// A full fingerprint in gpg's form (uppercase hex, no spaces), from what a person may write:
/// `0x` prefix, spaces, lowercase. `None` for anything else, short key IDs included: a 32-bit or
/// 64-bit key ID can be forged, a fingerprint cannot.
pub fn normalize_fingerprint(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    let hex: String = s.chars().filter(|c| *c != ' ').collect();
    let full = hex.len() == 40 || hex.len() == 64;
    (full && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| hex.to_ascii_uppercase())
}

/// Whether `s` looks like an attempt at a key ID or fingerprint (hex digits, maybe spaced)
/// rather than a file name, so a short key ID gets a message about fingerprints.
pub fn looks_like_key_id(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    let hex: String = s.chars().filter(|c| *c != ' ').collect();
    hex.len() >= 8 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

/// The fingerprints of the primary public keys in an armored key file, in file order.
pub fn public_key_fingerprints(text: &str) -> Result<Vec<String>, KeyFileError> {
    if text.contains("PRIVATE KEY BLOCK") {
        return Err(KeyFileError::Secret);
    }
    let start = text.find(BEGIN_PUBLIC).ok_or(KeyFileError::NotArmored)?;
    let rest = &text[start + BEGIN_PUBLIC.len()..];
    let end = rest.find(END_PUBLIC).ok_or_else(|| KeyFileError::Damaged("no END line".into()))?;
    let bytes = dearmor(&rest[..end])?;
    let mut fingerprints = Vec::new();
    for packet in Packets(&bytes) {
        let (tag, body) = packet?;
        match tag {
            5 | 7 => return Err(KeyFileError::Secret),
            6 => fingerprints.push(fingerprint(body)?),
            _ => {}
        }
    }
    if fingerprints.is_empty() { Err(KeyFileError::NoKey) } else { Ok(fingerprints) }
}

/// The base64 body of an armored block: armor headers (`Comment: ...`) and blank lines left
/// out, up to the optional `=XXXX` checksum line (base64 data has no ':' and no spaces).
fn dearmor(block: &str) -> Result<Vec<u8>, KeyFileError> {
    use base64::Engine;
    let data: String = block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(':'))
        .take_while(|l| !l.starts_with('='))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|e| KeyFileError::Damaged(format!("bad base64 ({e})")))
}

/// The fingerprint of a public-key packet body: SHA-1 for v4 keys, SHA-256 for v6 keys.
fn fingerprint(body: &[u8]) -> Result<String, KeyFileError> {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02X}")).collect::<String>();
    match body.first() {
        Some(4) => {
            let len = u16::try_from(body.len()).map_err(|_| KeyFileError::Damaged("key packet too long".into()))?;
            let mut h = <sha1::Sha1 as sha1::Digest>::new();
            sha1::Digest::update(&mut h, [0x99]);
            sha1::Digest::update(&mut h, len.to_be_bytes());
            sha1::Digest::update(&mut h, body);
            Ok(hex(&sha1::Digest::finalize(h)))
        }
        Some(6) => {
            let len = u32::try_from(body.len()).map_err(|_| KeyFileError::Damaged("key packet too long".into()))?;
            let mut h = sha2::Sha256::new();
            h.update([0x9B]);
            h.update(len.to_be_bytes());
            h.update(body);
            Ok(hex(&h.finalize()))
        }
        Some(v) => Err(KeyFileError::Damaged(format!("version {v} keys are not supported (only v4 and v6)"))),
        None => Err(KeyFileError::Damaged("empty key packet".into())),
    }
}

/// OpenPGP packets (RFC 9580 section 4.2): `(tag, body)`; partial lengths are refused, no key
/// packet uses them.
struct Packets<'a>(&'a [u8]);

impl<'a> Iterator for Packets<'a> {
    type Item = Result<(u8, &'a [u8]), KeyFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let result = split_packet(self.0);
        match result {
            Ok((tag, body, rest)) => {
                self.0 = rest;
                Some(Ok((tag, body)))
            }
            Err(e) => {
                self.0 = &[];
                Some(Err(e))
            }
        }
    }
}

fn split_packet(data: &[u8]) -> Result<(u8, &[u8], &[u8]), KeyFileError> {
    let damaged = |what: &str| KeyFileError::Damaged(what.to_string());
    let take = |data: &[u8], at: usize, n: usize| -> Result<u64, KeyFileError> {
        let bytes = data.get(at..at + n).ok_or_else(|| damaged("truncated packet header"))?;
        Ok(bytes.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)))
    };
    let first = data[0];
    if first & 0x80 == 0 {
        return Err(damaged("not an OpenPGP packet"));
    }
    let (tag, header, len) = if first & 0x40 != 0 {
        let o1 = take(data, 1, 1)?;
        match o1 {
            0..=191 => (first & 0x3f, 2, o1),
            192..=223 => (first & 0x3f, 3, ((o1 - 192) << 8) + take(data, 2, 1)? + 192),
            255 => (first & 0x3f, 6, take(data, 2, 4)?),
            _ => return Err(damaged("partial body length in a key file")),
        }
    } else {
        let tag = (first >> 2) & 0x0f;
        match first & 0x03 {
            0 => (tag, 2, take(data, 1, 1)?),
            1 => (tag, 3, take(data, 1, 2)?),
            2 => (tag, 5, take(data, 1, 4)?),
            _ => return Err(damaged("indeterminate packet length in a key file")),
        }
    };
    let end = usize::try_from(len).ok().and_then(|l| l.checked_add(header)).filter(|e| *e <= data.len());
    let end = end.ok_or_else(|| damaged("truncated packet"))?;
    Ok((tag, &data[header..end], &data[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNER: &str = include_str!("../tests/fixtures/pgp/signer.asc");
    const OTHER: &str = include_str!("../tests/fixtures/pgp/other.asc");

    #[test]
    fn fingerprints_are_the_ones_gpg_prints() {
        assert_eq!(public_key_fingerprints(SIGNER).unwrap(), ["9AFB7BB20A2C795ABA9CDA8777867A0A09675111"]);
        assert_eq!(public_key_fingerprints(OTHER).unwrap(), ["3917B631F3C03CEE63BF8FD4C9BEC4CB26FD46D9"]);
        let both = format!("{SIGNER}\n{OTHER}");
        assert_eq!(public_key_fingerprints(&both).unwrap().len(), 1, "one block is read");
    }

    #[test]
    fn what_is_not_a_public_key_is_refused() {
        let secret = SIGNER.replace("PUBLIC KEY", "PRIVATE KEY");
        assert_eq!(public_key_fingerprints(&secret), Err(KeyFileError::Secret));
        assert_eq!(public_key_fingerprints("hello"), Err(KeyFileError::NotArmored));
        let cut: String = SIGNER.lines().take(4).collect::<Vec<_>>().join("\n");
        assert!(matches!(public_key_fingerprints(&cut), Err(KeyFileError::Damaged(_))));
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
    fn fingerprints_are_normalized_and_short_ids_refused() {
        let fpr = "9AFB7BB20A2C795ABA9CDA8777867A0A09675111";
        assert_eq!(normalize_fingerprint(fpr).as_deref(), Some(fpr));
        assert_eq!(normalize_fingerprint("0x9afb 7bb2 0a2c 795a ba9c  da87 7786 7a0a 0967 5111").as_deref(), Some(fpr));
        assert_eq!(normalize_fingerprint("09675111"), None);
        assert_eq!(normalize_fingerprint("77867A0A09675111"), None);
        assert!(looks_like_key_id("77867A0A09675111") && looks_like_key_id("0x09675111"));
        assert!(!looks_like_key_id("keys/me.asc") && !looks_like_key_id("cafe"));
    }
}
