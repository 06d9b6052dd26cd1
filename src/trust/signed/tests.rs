use super::*;

const SECRET: &str = include_str!("../../../tests/fixtures/signing/secret-key.asc");
const PRIMARY: &str = include_str!("../../../tests/fixtures/signing/fingerprint");

fn signer() -> Signer {
    Signer::new(SECRET, &Fingerprint::parse(PRIMARY).unwrap(), "").unwrap()
}

/// A sync database with one entry per (pkgname, file bytes, signature of them or not).
fn database(packages: &[(&str, &[u8], Option<&Signer>)]) -> Vec<u8> {
    use sha2::Digest;
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes, signer) in packages {
        let mut desc = format!(
            "%FILENAME%\n{name}-1.0-1-any.pkg.tar.zst\n\n%NAME%\n{name}\n\n%VERSION%\n1.0-1\n\n%SHA256SUM%\n{:x}\n\n",
            sha2::Sha256::digest(bytes)
        );
        if let Some(signer) = signer {
            let sig = signer.sign_bytes(bytes).unwrap();
            desc.push_str(&format!("%PGPSIG%\n{}\n\n", base64::engine::general_purpose::STANDARD.encode(sig)));
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(desc.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, format!("{name}-1.0-1/desc"), desc.as_bytes()).unwrap();
    }
    builder.into_inner().unwrap()
}

fn tmp() -> (tempfile::TempDir, Utf8PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).unwrap();
    (tmp, dir)
}

#[test]
fn a_database_verifies_by_its_signature_and_a_changed_one_does_not() {
    let signer = signer();
    let db = database(&[("hello", b"hello package", Some(&signer))]);
    let sig = signer.sign_bytes(&db).unwrap();
    let found = Found { sig: Some(&sig), digest_sig: None };
    let trusted = verify("r.db", Some(&db), found, signer.public(), &History::none()).expect("verifies");
    assert_eq!(trusted.entries().len(), 1);
    assert_eq!(trusted.digest(), Some(digest_of(&db).as_str()));
    assert!(trusted.signature_to_republish().is_none());

    // An intruder's entry, written as repo-add writes it, under the old signature.
    let tampered = database(&[("hello", b"intruder's package", None)]);
    let err = verify("r.db", Some(&tampered), found, signer.public(), &History::none()).unwrap_err();
    assert!(matches!(err, Untrusted::BadSignature { .. }), "{err}");
    assert!(err.to_string().contains("r.db does not verify under key"), "{err}");
    let err = verify("r.db", Some(&tampered), Found::default(), signer.public(), &History::none()).unwrap_err();
    assert!(matches!(err, Untrusted::Unsigned { .. }), "{err}");
    assert!(verify("r.db", None, Found::default(), signer.public(), &History::none()).unwrap().entries().is_empty());
}

#[test]
fn a_stale_database_signature_is_replaced_only_by_one_the_key_made_for_these_bytes() {
    let signer = signer();
    let older = database(&[("hello", b"1", Some(&signer))]);
    let db = database(&[("hello", b"2", Some(&signer))]);
    let stale = signer.sign_bytes(&older).unwrap();
    let by_digest = signer.sign_bytes(&db).unwrap();
    let found = Found { sig: Some(&stale), digest_sig: Some(&by_digest) };
    let trusted = verify("r.db", Some(&db), found, signer.public(), &History::none()).unwrap();
    assert_eq!(trusted.signature_to_republish(), Some(by_digest.as_slice()));
    // The digest name is per content.
    assert_ne!(digest_signature_name("r.db", &db), digest_signature_name("r.db", &older));
    assert!(
        digest_signature_name("r.db", &db).starts_with("r.db.") && digest_signature_name("r.db", &db).ends_with(".sig")
    );
    let found = Found { sig: Some(&stale), digest_sig: Some(&stale) };
    assert!(verify("r.db", Some(&db), found, signer.public(), &History::none()).is_err());
}

#[test]
fn every_entry_must_carry_a_signature_by_the_key() {
    let signer = signer();
    let db = database(&[("hello", b"a", Some(&signer)), ("intruder", b"b", None)]);
    let sig = signer.sign_bytes(&db).unwrap();
    let found = Found { sig: Some(&sig), digest_sig: None };
    let err = verify("r.db", Some(&db), found, signer.public(), &History::none()).unwrap_err();
    assert!(
        err.to_string().contains("1 package(s) without a signature") && err.to_string().contains("intruder-1.0-1"),
        "{err}"
    );
}

#[test]
fn a_database_this_work_directory_replaced_is_refused_as_a_rollback() {
    let signer = signer();
    let (_t, dir) = tmp();
    let history = History::in_work_dir(&dir, "s3://bucket");
    let old = database(&[("hello", b"1", Some(&signer))]);
    let new = database(&[("hello", b"2", Some(&signer))]);
    let (old_sig, new_sig) = (signer.sign_bytes(&old).unwrap(), signer.sign_bytes(&new).unwrap());
    history.record("r.db", &old).unwrap();
    let found = |sig| Found { sig: Some(sig), digest_sig: None };
    assert!(
        verify("r.db", Some(&old), found(&old_sig), signer.public(), &history).is_ok(),
        "the newest one it committed"
    );
    history.record("r.db", &new).unwrap();
    let err = verify("r.db", Some(&old), found(&old_sig), signer.public(), &history).unwrap_err();
    assert!(matches!(err, Untrusted::RolledBack { .. }), "{err}");
    assert!(verify("r.db", Some(&new), found(&new_sig), signer.public(), &history).is_ok());
    assert!(verify("other.db", Some(&old), found(&old_sig), signer.public(), &history).is_ok(), "per repository");
    // Put back (a rollback this work directory recorded), then replaced again: refused again.
    history.record("r.db", &old).unwrap();
    assert!(verify("r.db", Some(&old), found(&old_sig), signer.public(), &history).is_ok(), "rolled back on purpose");
    history.record("r.db", &new).unwrap();
    let err = verify("r.db", Some(&old), found(&old_sig), signer.public(), &history).unwrap_err();
    assert!(matches!(err, Untrusted::RolledBack { .. }), "{err}");
    let elsewhere = History::in_work_dir(&dir, "s3://another-bucket");
    assert!(verify("r.db", Some(&old), found(&old_sig), signer.public(), &elsewhere).is_ok(), "per target");
}

#[test]
fn a_fetched_dependency_must_be_the_file_its_entry_describes() {
    let signer = signer();
    let (_t, dir) = tmp();
    let db = database(&[("hello", b"hello package", Some(&signer))]);
    let sig = signer.sign_bytes(&db).unwrap();
    let trusted =
        verify("r.db", Some(&db), Found { sig: Some(&sig), digest_sig: None }, signer.public(), &History::none())
            .unwrap();
    let path = dir.join("hello-1.0-1-any.pkg.tar.zst");
    fs_err::write(&path, b"hello package").unwrap();
    let fetched = trusted.check_fetched("hello-1.0-1-any.pkg.tar.zst", &path, Some(signer.public())).unwrap();
    assert_eq!(fetched.path(), path);
    fs_err::write(&path, b"swapped package").unwrap();
    let err = trusted.check_fetched("hello-1.0-1-any.pkg.tar.zst", &path, Some(signer.public())).unwrap_err();
    assert!(err.contains("SHA-256") && err.contains("hello-1.0-1-any.pkg.tar.zst"), "{err}");
    // Unsigned: the checksum is still checked.
    let plain = as_read("r.db", Some(&database(&[("hello", b"hello package", None)]))).unwrap();
    assert!(plain.check_fetched("hello-1.0-1-any.pkg.tar.zst", &path, None).is_err());
    fs_err::write(&path, b"hello package").unwrap();
    assert!(plain.check_fetched("hello-1.0-1-any.pkg.tar.zst", &path, None).is_ok());
    assert!(plain.check_fetched("gone-1-1-any.pkg.tar.zst", &path, None).is_err());
}

#[test]
fn adoption_checks_every_file_and_knows_which_are_signed_already() {
    let signer = signer();
    let (_t, dir) = tmp();
    let db = database(&[("a", b"file a", Some(&signer)), ("b", b"file b", None)]);
    let entries = read_sync_db(&db).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        fs_err::write(&path, bytes).unwrap();
        path
    };
    let a = check_published(&entries[0], &write("a", b"file a"), signer.public()).unwrap();
    let b = check_published(&entries[1], &write("b", b"file b"), signer.public()).unwrap();
    assert!(a.is_signed() && !b.is_signed());
    let err = check_published(&entries[1], &write("b2", b"file B"), signer.public()).unwrap_err();
    assert!(err.contains("b-1.0-1-any.pkg.tar.zst"), "{err}");
    assert!(adopt("r.db", &db, std::slice::from_ref(&a), signer.public()).is_err(), "b was not checked");
    let adopted = adopt("r.db", &db, &[a, b.clone()], signer.public()).unwrap();
    assert_eq!(adopted.entries().len(), 2);
    let sig = sign_adopted(&signer, &b).unwrap();
    assert!(signer.verify(b"file b", &fs_err::read(sig).unwrap()));
}

/// A package file `tool-2.0-1-x86_64.pkg.tar.zst` in `dir`, checked as a build checks it.
fn checked_tool(dir: &Utf8Path) -> crate::trust::CheckedPackage {
    let pkginfo = "pkgname = tool\npkgbase = tool\npkgver = 2.0-1\nbuilddate = 1796596697\nsize = 0\n\
                   arch = x86_64\nlicense = MIT\nreplaces = tool-old\nconflict = tool-old\ndepend = glibc\n\
                   provides = tool-bin\n";
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(pkginfo.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, ".PKGINFO", pkginfo.as_bytes()).unwrap();
    let path = dir.join("tool-2.0-1-x86_64.pkg.tar.zst");
    fs_err::write(&path, zstd::encode_all(tar.into_inner().unwrap().as_slice(), 3).unwrap()).unwrap();
    let declared = crate::trust::Declared {
        pkgbase: "tool".into(),
        pkgnames: vec!["tool".into()],
        version: "2.0-1".into(),
        arch: "x86_64".into(),
        vcs: false,
        debug: false,
        bump: None,
    };
    crate::trust::check_file(&path, &declared).unwrap()
}

/// A sync database archive in `dir/name` of `descs` (entry directory, desc text).
fn db_archive(dir: &Utf8Path, name: &str, descs: &[(String, String)]) -> Utf8PathBuf {
    let mut builder = tar::Builder::new(Vec::new());
    for (entry, desc) in descs {
        let mut header = tar::Header::new_gnu();
        header.set_size(desc.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, format!("{entry}/desc"), desc.as_bytes()).unwrap();
    }
    let path = dir.join(name);
    fs_err::write(&path, builder.into_inner().unwrap()).unwrap();
    path
}

/// The desc repo-add writes for the checked `tool`, with `edit` applied to its text.
fn tool_desc(pkg: &crate::trust::CheckedPackage, edit: fn(String) -> String) -> (String, String) {
    let desc = format!(
        "%FILENAME%\n{}\n\n%NAME%\ntool\n\n%BASE%\ntool\n\n%VERSION%\n2.0-1\n\n%CSIZE%\n{}\n\n\
         %SHA256SUM%\n{}\n\n%ARCH%\nx86_64\n\n%REPLACES%\ntool-old\n\n%CONFLICTS%\ntool-old\n\n\
         %DEPENDS%\nglibc\n\n%PROVIDES%\ntool-bin\n\n",
        pkg.file_name(),
        pkg.size(),
        pkg.sha256()
    );
    ("tool-2.0-1".into(), edit(desc))
}

/// Issue 23 item 1 / issue 24 item 1, the red-team's F1: what repo-add wrote is compared with
/// what repoctl checked before anything signs or commits it. Each row is one way the new
/// database could say something else.
#[test]
fn a_new_database_must_say_exactly_what_was_checked() {
    let (_t, dir) = tmp();
    let pkg = checked_tool(&dir);
    let base_bytes = database(&[("hello", b"hello package", None)]);
    let base = as_read("r.db", Some(&base_bytes)).unwrap();
    let hello = base.entries()[0].clone();
    let hello_desc = format!(
        "%FILENAME%\n{}\n\n%NAME%\nhello\n\n%VERSION%\n1.0-1\n\n%SHA256SUM%\n{}\n\n",
        hello.filename,
        hello.sha256.clone().unwrap()
    );
    let added = [&pkg];
    let kept = ("hello-1.0-1".to_string(), hello_desc.clone());

    let good = db_archive(&dir, "good.db", &[kept.clone(), tool_desc(&pkg, |d| d)]);
    let checked = check_new_database(&base, &added, &[], None, &good).expect("what was checked");
    assert_eq!(checked.path(), good);

    type Edit = fn(String) -> String;
    let rows: [(Edit, &str); 9] = [
        (|d| d.replace("%NAME%\ntool", "%NAME%\nsudo"), "another pkgname"),
        (|d| d.replace("%VERSION%\n2.0-1", "%VERSION%\n9.0-1"), "another version"),
        (|d| d.replace("%DEPENDS%\nglibc", "%DEPENDS%\nglibc\nevil"), "another %DEPENDS%"),
        (|d| d.replace("%PROVIDES%\ntool-bin", "%PROVIDES%\nsudo"), "another %PROVIDES%"),
        (|d| d.replace("%SHA256SUM%\n", "%SHA256SUM%\n0"), "another %SHA256SUM%"),
        // The red-team's F6: what pacman reads to replace, refuse or size a package.
        (|d| d.replace("%ARCH%\nx86_64", "%ARCH%\nany"), "another %ARCH%"),
        (|d| d.replace("%CSIZE%\n", "%CSIZE%\n9"), "another %CSIZE%"),
        (|d| d.replace("%REPLACES%\ntool-old", "%REPLACES%\ntool-old\nsudo"), "another %REPLACES%"),
        (|d| d.replace("%CONFLICTS%\ntool-old\n\n", ""), "another %CONFLICTS%"),
    ];
    for (edit, why) in rows {
        let db = db_archive(&dir, "bad.db", &[kept.clone(), tool_desc(&pkg, edit)]);
        let err = check_new_database(&base, &added, &[], None, &db).unwrap_err().to_string();
        assert!(err.contains(why), "{why}: {err}");
    }
    // An entry nobody checked, and a base entry changed.
    let intruder = (
        "sudo-9-1".to_string(),
        "%FILENAME%\nsudo-9-1-x86_64.pkg.tar.zst\n\n%NAME%\nsudo\n\n%VERSION%\n9-1\n\n".into(),
    );
    let db = db_archive(&dir, "bad.db", &[kept.clone(), tool_desc(&pkg, |d| d), intruder]);
    let err = check_new_database(&base, &added, &[], None, &db).unwrap_err().to_string();
    assert!(err.contains("sudo-9-1-x86_64.pkg.tar.zst (sudo 9-1) is neither in the verified database"), "{err}");
    let changed = ("hello-1.0-1".to_string(), hello_desc.replace("%VERSION%\n1.0-1", "%VERSION%\n1.0-2"));
    let db = db_archive(&dir, "bad.db", &[changed, tool_desc(&pkg, |d| d)]);
    assert!(check_new_database(&base, &added, &[], None, &db).is_err());
    // A base entry dropped, though the run neither removed nor replaced it; and removed.
    let db = db_archive(&dir, "bad.db", &[tool_desc(&pkg, |d| d)]);
    let err = check_new_database(&base, &added, &[], None, &db).unwrap_err().to_string();
    assert!(err.contains(&format!("the entry for {} (hello 1.0-1) is gone", hello.filename)), "{err}");
    check_new_database(&base, &added, &["hello".to_string()], None, &db).expect("hello removed");
    // An added file left out of the database.
    let db = db_archive(&dir, "bad.db", std::slice::from_ref(&kept));
    let err = check_new_database(&base, &added, &[], None, &db).unwrap_err().to_string();
    assert!(err.contains("no entry for tool-2.0-1-x86_64.pkg.tar.zst"), "{err}");
    // `sign --adopt`: the base's entries, now with the key's signature of the file; nothing else
    // (the red-team's F6: any %PGPSIG% was accepted).
    let signer = signer();
    let copy = dir.join(&hello.filename);
    fs_err::write(&copy, b"hello package").unwrap();
    let resigned = Resigned { key: signer.public(), files: [(hello.filename.clone(), copy.as_path())].into() };
    let sig = base64::engine::general_purpose::STANDARD.encode(signer.sign_bytes(b"hello package").unwrap());
    let signed = ("hello-1.0-1".to_string(), format!("{hello_desc}%PGPSIG%\n{sig}\n\n"));
    let db = db_archive(&dir, "adopted.db", std::slice::from_ref(&signed));
    assert!(check_new_database(&base, &[], &[], None, &db).is_err(), "a new signature is a change");
    check_new_database(&base, &[], &[], Some(&resigned), &db).expect("re-signed");
    let other = base64::engine::general_purpose::STANDARD.encode(signer.sign_bytes(b"other bytes").unwrap());
    for pgpsig in ["AAAA", other.as_str()] {
        let forged = ("hello-1.0-1".to_string(), format!("{hello_desc}%PGPSIG%\n{pgpsig}\n\n"));
        let db = db_archive(&dir, "adopted.db", std::slice::from_ref(&forged));
        let err = check_new_database(&base, &[], &[], Some(&resigned), &db).unwrap_err().to_string();
        assert!(err.contains("not the key's signature of the file"), "{pgpsig}: {err}");
    }
}
