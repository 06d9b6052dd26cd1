use super::*;

fn entry(name: &str) -> Entry {
    Entry {
        name: name.into(),
        path: None,
        git: None,
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        version: "1:2.0-3".into(),
        pkgnames: vec![name.into(), format!("{name}-doc")],
        maintainer: Some("alice".into()),
        comaintainers: vec!["bob".into()],
        committed: "2026-11-20T10:00:00Z".into(),
        files: format!("tree-sha256:{}", "ab".repeat(32)),
        patches: Vec::new(),
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
fn the_files_value_is_the_new_digest_or_the_old_one() {
    let text = |files: &str| {
        let mut lock = Lock::default();
        lock.entries.insert("foo".into(), Entry { files: files.to_string(), ..entry("foo") });
        lock.to_text()
    };
    let hex = "ab".repeat(32);
    for files in [format!("tree-sha256:{hex}"), format!("sha256:{hex}")] {
        assert!(Lock::parse("repoctl.lock".into(), &text(&files)).is_ok(), "{files}");
    }
    for files in [format!("sha1:{hex}"), "tree-sha256:ab".to_string(), format!("tree-sha256:{}", "zz".repeat(32))] {
        let err = Lock::parse("repoctl.lock".into(), &text(&files)).unwrap_err();
        assert!(err.to_string().contains("is not `tree-sha256:` and 64 hex digits"), "{err}");
    }
}

#[test]
fn times_are_rfc3339_in_utc() {
    assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Some(1_700_000_000));
    assert_eq!(parse_rfc3339("yesterday"), None);
}

/// A `path:` package's entry (issue 27): `path` and `files`, no commit, no date, no
/// maintainer; it reads back, is left out of the pins resolution reads commits from, and a path
/// that leaves repo.yaml's directory or an entry with both a path and a commit is refused.
#[test]
fn a_path_entry_has_no_commit_and_reads_back() {
    let mut lock = Lock::default();
    let local = Entry {
        path: Some("pkgbuilds/mytool".into()),
        git: None,
        commit: String::new(),
        committed: String::new(),
        maintainer: None,
        comaintainers: vec![],
        ..entry("mytool")
    };
    lock.entries.insert("mytool".into(), local.clone());
    lock.entries.insert("foo".into(), entry("foo"));
    let text = lock.to_text();
    assert!(
        text.contains(&format!(
            "name = \"mytool\"\npath = \"pkgbuilds/mytool\"\nversion = \"1:2.0-3\"\npkgnames = [\"mytool\", \"mytool-doc\"]\ncomaintainers = []\nfiles = \"{}\"\n",
            local.files
        )),
        "{text}"
    );
    assert_eq!(Lock::parse("repoctl.lock".into(), &text).unwrap(), lock);
    assert_eq!(lock.pins().keys().collect::<Vec<_>>(), ["foo"], "a path: entry has no commit to pin");
    for (path, commit) in [
        ("../elsewhere", ""),
        ("/srv/x", ""),
        ("a//b", ""),
        ("pkgbuilds/mytool", "0123456789abcdef0123456789abcdef01234567"),
    ] {
        let bad = text.replace("path = \"pkgbuilds/mytool\"", &format!("path = \"{path}\"\ncommit = \"{commit}\""));
        let err = Lock::parse("repoctl.lock".into(), &bad).unwrap_err();
        assert!(err.to_string().contains("is not a plain relative path without a commit"), "{path}: {err}");
    }
}

/// A `git:` package's entry (issue 27) records its repository beside the commit, reads back,
/// is not pinned for the AUR, and a URL or subdir repo.yaml would refuse is refused here too.
#[test]
fn a_git_entry_records_its_repository_and_reads_back() {
    let git =
        crate::config::GitSource { url: "https://example.org/me/pkgbuilds.git".into(), subdir: Some("tool2".into()) };
    let mut lock = Lock::default();
    lock.entries
        .insert("tool2".into(), Entry { git: Some(git), maintainer: None, comaintainers: vec![], ..entry("tool2") });
    let text = lock.to_text();
    assert!(text.contains("url = \"https://example.org/me/pkgbuilds.git\"\nsubdir = \"tool2\""), "{text}");
    assert_eq!(Lock::parse("repoctl.lock".into(), &text).unwrap(), lock);
    assert!(lock.pins().is_empty());
    for (from, to) in [("https://example.org/me/pkgbuilds.git", "ssh://example.org/x"), ("\"tool2\"", "\"../x\"")] {
        let bad = text.replace(from, to);
        assert!(Lock::parse("repoctl.lock".into(), &bad).is_err(), "{bad}");
    }
}

/// A patched AUR package's entry (issue 27): its patches' digests, in order, after `files`;
/// it reads back, and a digest that is not `sha256:` and 64 hex digits is refused, as are
/// patches on a `path:` entry.
#[test]
fn a_patched_entry_records_its_patches_in_order_and_reads_back() {
    let mut lock = Lock::default();
    let digests = vec![format!("sha256:{}", "1".repeat(64)), format!("sha256:{}", "2".repeat(64))];
    lock.entries.insert("foo".into(), Entry { patches: digests.clone(), ..entry("foo") });
    let text = lock.to_text();
    let written = format!("files = \"{}\"\npatches = [\"{}\", \"{}\"]\n", entry("foo").files, digests[0], digests[1]);
    assert!(text.contains(&written), "{text}");
    assert_eq!(Lock::parse("repoctl.lock".into(), &text).unwrap(), lock);
    let bad = text.replace(&digests[1], "sha256:beef");
    let err = Lock::parse("repoctl.lock".into(), &bad).unwrap_err();
    assert!(err.to_string().contains("patch digest `sha256:beef` is not `sha256:` and 64 hex digits"), "{err}");
    let local = text.replace("commit = \"0123456789abcdef0123456789abcdef01234567\"", "path = \"pkgbuilds/foo\"");
    let err = Lock::parse("repoctl.lock".into(), &local).unwrap_err();
    assert!(err.to_string().contains("a `path:` package has no patches"), "{err}");
}
