use super::*;

fn entry(name: &str) -> Entry {
    Entry {
        name: name.into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        version: "1:2.0-3".into(),
        pkgnames: vec![name.into(), format!("{name}-doc")],
        maintainer: Some("alice".into()),
        comaintainers: vec!["bob".into()],
        committed: "2026-11-20T10:00:00Z".into(),
        files: format!("sha256:{}", "ab".repeat(32)),
    }
}

#[test]
fn a_lock_reads_back_what_it_wrote_and_its_text_is_pinned() {
    let mut lock = Lock::default();
    for name in ["zlib-ng", "foo"] {
        lock.entries.insert(name.into(), entry(name));
    }
    lock.entries.get_mut("foo").unwrap().maintainer = None;
    let text = lock.to_text();
    assert_eq!(Lock::parse("repoctl.lock".into(), &text).unwrap(), lock);
    insta::assert_snapshot!("lock_file", text);
}

#[test]
fn a_missing_lock_is_empty_and_a_broken_one_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = Utf8Path::from_path(dir.path()).unwrap().join(LOCK_FILE);
    assert_eq!(Lock::read(&path).unwrap(), Lock::default());

    let mut lock = Lock::default();
    lock.entries.insert("foo".into(), entry("foo"));
    let text = lock.to_text().replace("0123456789abcdef0123456789abcdef01234567", "HEAD");
    let err = Lock::parse("repoctl.lock".into(), &text).unwrap_err();
    let line = text.lines().position(|l| l.contains("name = \"foo\"")).unwrap() + 1;
    assert_eq!(
        err.to_string(),
        format!("repoctl.lock:{line}: pkgbase foo: commit `HEAD` is not 40 lowercase hex digits")
    );

    let err =
        Lock::parse("repoctl.lock".into(), "version = 1\n[[pkgbase]]\nname = \"foo\"\nsurprise = 1\n").unwrap_err();
    assert!(err.to_string().starts_with("repoctl.lock:"), "{err}");
    assert!(err.to_string().contains("surprise") || err.to_string().contains("unknown field"), "{err}");
    let err = Lock::parse("repoctl.lock".into(), "version = 9\n").unwrap_err();
    assert!(err.to_string().contains("format version 9"), "{err}");
    // The same entries twice (the file pasted into itself, a bad merge).
    let text = format!("{}\n{}", lock.to_text(), lock.to_text().lines().skip(4).collect::<Vec<_>>().join("\n"));
    let err = Lock::parse("repoctl.lock".into(), &text).unwrap_err();
    assert!(err.to_string().contains("locked twice") || err.to_string().contains("duplicate"), "{err}");
}

#[test]
fn the_files_hash_covers_names_and_contents_and_cannot_be_shifted() {
    let files = |pairs: &[(&str, &str)]| -> BTreeMap<String, Vec<u8>> {
        pairs.iter().map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())).collect()
    };
    let a = files_hash(&files(&[("PKGBUILD", "pkgver=1"), (".SRCINFO", "x")]));
    assert_eq!(a, files_hash(&files(&[(".SRCINFO", "x"), ("PKGBUILD", "pkgver=1")])), "order of insertion");
    assert_ne!(a, files_hash(&files(&[("PKGBUILD", "pkgver=2"), (".SRCINFO", "x")])));
    assert_ne!(a, files_hash(&files(&[("PKGBUILD", "pkgver=1"), (".SRCINFO", "x"), ("evil.install", "")])));
    // A byte moved from one file's end to the next file's name changes the hash.
    assert_ne!(files_hash(&files(&[("a", "xb"), ("c", "")])), files_hash(&files(&[("a", "x"), ("bc", "")])));
    assert!(a.starts_with("sha256:") && a.len() == 71, "{a}");
    // Locks written by earlier releases hold these hashes: SHA-256 in lowercase hex.
    let empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(files_hash(&BTreeMap::new()), empty);
}

#[test]
fn times_are_rfc3339_in_utc() {
    assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Some(1_700_000_000));
    assert_eq!(parse_rfc3339("yesterday"), None);
}
