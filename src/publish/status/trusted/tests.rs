//! The status object's check (the attacker review's F5): only the key's signature of exactly
//! the bytes read makes it trusted in a signed repository.
use super::*;
use crate::publish::status::{BuildResult, PackageStatus, RunRef};
use std::collections::BTreeMap;

const SECRET: &str = include_str!("../../../../tests/fixtures/signing/secret-key.asc");
const PRIMARY: &str = include_str!("../../../../tests/fixtures/signing/fingerprint");
const SUBKEY: &str = include_str!("../../../../tests/fixtures/signing/subkey-fingerprint");
const NAME: &str = "r.status.json";

fn signer(fingerprint: &str) -> Signer {
    Signer::new(SECRET, &Fingerprint::parse(fingerprint).unwrap(), "").unwrap()
}

/// An object with one built entry, as `write` would put it on the target.
fn object() -> Vec<u8> {
    let entry = PackageStatus {
        result: BuildResult::Built,
        kind: None,
        reason: None,
        version: Some("1.0-1".into()),
        commit: None,
        time: "2026-12-07T00:00:00Z".into(),
        run: "1".into(),
        duration_secs: Some(5),
        built: None,
        log: None,
        logs: Vec::new(),
        linkage: None,
    };
    let results = BTreeMap::from([("hello".to_string(), entry)]);
    let run = RunRef { id: "1".into(), time: "2026-12-07T00:00:00Z".into() };
    let status = RepoStatus::merge(None, "r", run, Some("sha256:00".into()), &results, &[]);
    (serde_json::to_string_pretty(&status).unwrap() + "\n").into_bytes()
}

#[test]
fn the_keys_signature_of_the_bytes_read_makes_it_trusted() {
    let (signer, bytes) = (signer(PRIMARY), object());
    let sig = signer.sign_bytes(&bytes).unwrap();
    let read = check(NAME, Some(&bytes), Some(&sig), StatusKey::of_signer(&signer));
    let trusted = read.trusted().expect("a good signature verifies");
    assert_eq!(trusted.status().packages["hello"].version.as_deref(), Some("1.0-1"));
    assert_eq!((read.unverified(), read.warning()), (None, None));
}

#[test]
fn without_a_signature_it_is_shown_but_not_trusted() {
    let (signer, bytes) = (signer(PRIMARY), object());
    let read = check(NAME, Some(&bytes), None, StatusKey::of_signer(&signer));
    assert!(read.trusted().is_none());
    assert!(read.shown().is_some(), "repoctl status still shows it");
    let warning = read.warning().unwrap();
    assert!(warning.starts_with(&format!("r.status.json does not verify under key {}", PRIMARY.trim())), "{warning}");
    assert!(warning.contains("r.status.json.sig does not exist"), "{warning}");
    assert!(warning.contains("its recorded linkage and digests are ignored this run"), "{warning}");
}

#[test]
fn a_signature_by_another_key_is_not_trusted() {
    let bytes = object();
    let theirs = signer(SUBKEY).sign_bytes(&bytes).unwrap();
    let ours = signer(PRIMARY);
    let read = check(NAME, Some(&bytes), Some(&theirs), StatusKey::of_signer(&ours));
    assert!(matches!(read, StatusRead::Unverified { why: Unverified::OtherKey, .. }), "{read:?}");
    let garbage = check(NAME, Some(&bytes), Some(b"not a signature"), StatusKey::of_signer(&ours));
    assert!(matches!(garbage, StatusRead::Unverified { why: Unverified::OtherKey, .. }), "{garbage:?}");
}

#[test]
fn bytes_changed_after_signing_are_not_trusted() {
    let (signer, bytes) = (signer(PRIMARY), object());
    let sig = signer.sign_bytes(&bytes).unwrap();
    let forged = String::from_utf8(bytes).unwrap().replace("\"1.0-1\"", "\"9.9-1\"").into_bytes();
    let read = check(NAME, Some(&forged), Some(&sig), StatusKey::of_signer(&signer));
    assert!(matches!(read, StatusRead::Unverified { why: Unverified::Changed, .. }), "{read:?}");
    assert_eq!(read.shown().unwrap().packages["hello"].version.as_deref(), Some("9.9-1"));
}

#[test]
fn without_a_key_at_hand_nothing_verifies_and_unsigned_repositories_take_it_as_read() {
    let (signer, bytes) = (signer(PRIMARY), object());
    let sig = signer.sign_bytes(&bytes).unwrap();
    let no_key = StatusKey::Signed { fingerprint: signer.fingerprint(), public: None };
    let read = check(NAME, Some(&bytes), Some(&sig), no_key);
    assert!(matches!(read, StatusRead::Unverified { why: Unverified::NoKey, .. }), "{read:?}");
    assert!(check(NAME, Some(&bytes), None, StatusKey::Unsigned).trusted().is_some());
    assert!(check(NAME, Some(&bytes), None, Signing::Adopting(&signer).key()).trusted().is_some(), "adoption");
    assert_eq!(check(NAME, None, Some(&sig), StatusKey::of_signer(&signer)), StatusRead::Missing);
    let unusable = check(NAME, Some(b"<html>"), None, StatusKey::Unsigned);
    assert!(unusable.unusable().is_some_and(|why| why.starts_with("r.status.json is not a status object")));
}

#[test]
fn an_empty_signature_what_an_oversized_one_reads_as_verifies_as_another_keys() {
    let (signer, bytes) = (signer(PRIMARY), object());
    let read = check(NAME, Some(&bytes), Some(&[]), StatusKey::of_signer(&signer));
    assert!(read.trusted().is_none(), "nothing verifies an empty signature");
    assert!(matches!(read, StatusRead::Unverified { why: Unverified::OtherKey, .. }), "{read:?}");
}

#[test]
fn what_an_unverified_object_carries_over_drives_no_decision_and_no_schedule() {
    let bytes = object();
    let shown = RepoStatus::parse(NAME, &bytes).unwrap().for_display();
    let hello = &shown.packages["hello"];
    assert_eq!((hello.duration_secs, hello.linkage.is_none()), (None, true), "no duration for --budget, no linkage");
    assert_eq!((shown.database.as_deref(), shown.page.as_deref()), (None, None), "no digest for the no-op skip");
    assert_eq!(hello.version.as_deref(), Some("1.0-1"), "what the page shows stays");
}
