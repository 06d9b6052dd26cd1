use super::*;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn tree(entries: &[(Mode, &str, &str)]) -> Tree {
    let entries: Vec<(Mode, &str, &[u8])> = entries.iter().map(|(m, p, c)| (*m, *p, c.as_bytes())).collect();
    Tree::for_tests(COMMIT, &entries)
}

/// The `files` value repoctl wrote before issue 23 (lock::files_hash), over what `git archive`
/// gave it: regular files only.
fn old_files_hash(files: &[(&str, &str)]) -> String {
    let files: std::collections::BTreeMap<&str, &str> = files.iter().copied().collect();
    let mut h = Sha256::new();
    for (path, bytes) in files {
        h.update(path.as_bytes());
        h.update(b"\0");
        h.update(bytes.len().to_string().as_bytes());
        h.update(b"\0");
        h.update(bytes.as_bytes());
    }
    format!("sha256:{:x}", h.finalize())
}

#[test]
fn the_digest_covers_every_entrys_mode_path_and_content_and_cannot_be_shifted() {
    use Mode::*;
    let base = tree(&[(File, "PKGBUILD", "pkgver=1"), (File, ".SRCINFO", "x")]);
    let a = base.digest();
    assert!(a.starts_with("tree-sha256:") && a.len() == "tree-sha256:".len() + 64, "{a}");
    assert_eq!(a, tree(&[(File, ".SRCINFO", "x"), (File, "PKGBUILD", "pkgver=1")]).digest(), "order of insertion");
    let others = [
        tree(&[(File, "PKGBUILD", "pkgver=2"), (File, ".SRCINFO", "x")]),
        tree(&[(Executable, "PKGBUILD", "pkgver=1"), (File, ".SRCINFO", "x")]),
        tree(&[(Symlink, "PKGBUILD", "pkgver=1"), (File, ".SRCINFO", "x")]),
        tree(&[(File, "PKGBUILD2", "pkgver=1"), (File, ".SRCINFO", "x")]),
        tree(&[(File, "PKGBUILD", "pkgver=1"), (File, ".SRCINFO", "x"), (File, ".gitattributes", "")]),
    ];
    for other in &others {
        assert_ne!(other.digest(), a, "{other:?}");
    }
    // A byte moved from one file's end to the next file's name changes the digest.
    assert_ne!(
        tree(&[(File, "a", "xb"), (File, "c", "")]).digest(),
        tree(&[(File, "a", "x"), (File, "bc", "")]).digest()
    );
    // Pinned: locks hold these values.
    assert_eq!(tree(&[]).digest(), "tree-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    let mut h = Sha256::new();
    h.update(b"blob\x00100644\x00a\x001\x00x");
    assert_eq!(tree(&[(File, "a", "x")]).digest(), format!("tree-sha256:{:x}", h.finalize()));
}

#[test]
fn a_lock_in_the_new_format_must_match_exactly() {
    let t = tree(&[(Mode::File, "PKGBUILD", "pkgver=1")]);
    let locked = t.digest();
    assert_eq!(t.clone().verify("foo", &locked).unwrap().tree(), &t);
    let edited = tree(&[(Mode::Executable, "PKGBUILD", "pkgver=1")]);
    let err = edited.verify("foo", &locked).unwrap_err();
    assert!(matches!(&err, Mismatch::Digest { found, .. } if found != &locked), "{err:?}");
    assert!(err.to_string().starts_with(&format!("the files of foo at commit {COMMIT} hash to tree-sha256:")), "{err}");
}

/// Lock entries written before issue 23 (`sha256:`) are verified the old way only where the
/// old way saw every entry; otherwise `update` must show what it did not.
#[test]
fn an_old_lock_entry_is_accepted_only_where_the_old_hash_saw_everything() {
    use Mode::*;
    let files = [("PKGBUILD", "pkgver=1"), (".SRCINFO", "x"), ("fix.patch", "+")];
    let old = old_files_hash(&files);
    assert_eq!(old_files_hash(&[]), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    let clean = tree(&[(File, "PKGBUILD", "pkgver=1"), (File, ".SRCINFO", "x"), (Executable, "fix.patch", "+")]);
    assert!(clean.verify("foo", &old).is_ok(), "complete: the old hash vouches for it");

    // What git archive left out: a .gitattributes (export-ignore), a symlink.
    for (mode, path) in [(File, ".gitattributes"), (File, "sub/.gitattributes"), (Symlink, "link")] {
        let t = tree(&[
            (File, "PKGBUILD", "pkgver=1"),
            (File, ".SRCINFO", "x"),
            (File, "fix.patch", "+"),
            (mode, path, "y"),
        ]);
        let err = t.verify("foo", &old).unwrap_err();
        assert_eq!(
            err,
            Mismatch::Incomplete { pkgbase: "foo".into(), commit: COMMIT.into(), paths: vec![path.into()] }
        );
        assert!(err.to_string().contains("run `repoctl update foo` to lock it again"), "{err}");
    }
    // Different bytes: a plain mismatch, stated in the format the lock uses.
    let changed = tree(&[(File, "PKGBUILD", "pkgver=2"), (File, ".SRCINFO", "x"), (File, "fix.patch", "+")]);
    let err = changed.verify("foo", &old).unwrap_err();
    assert!(matches!(&err, Mismatch::Digest { found, .. } if found.starts_with("sha256:")), "{err:?}");
}

#[test]
fn listings_with_submodules_odd_modes_or_escaping_paths_are_refused() {
    let oid = "8e63c3d6e6e9e01576548c532e52f0880d19849f";
    let line = |mode: &str, kind: &str, path: &[u8]| -> Vec<u8> {
        let mut l = format!("{mode} {kind} {oid}       2\t").into_bytes();
        l.extend_from_slice(path);
        l.push(0);
        l
    };
    let ok = line("100644", "blob", b"keys/pgp/A.asc");
    assert_eq!(parse_listing(COMMIT, &ok).unwrap()[0].path, "keys/pgp/A.asc");
    let submodule =
        [line("100644", "blob", b"PKGBUILD"), format!("160000 commit {oid}       -\tvendor\0").into_bytes()].concat();
    assert!(matches!(parse_listing(COMMIT, &submodule), Err(TreeError::Submodule { path, .. }) if path == "vendor"));
    for (mode, kind, path) in [
        ("100644", "blob", &b"../escape"[..]),
        ("100644", "blob", b"a/./b"),
        ("100644", "blob", b".git/config"),
        ("100644", "blob", b"sub/.GIT/hooks/x"),
        ("100644", "blob", b"a//b"),
        ("040000", "tree", b"dir"),
        ("100644", "blob", b"\xff.patch"),
    ] {
        let refused = parse_listing(COMMIT, &line(mode, kind, path));
        assert!(
            matches!(refused, Err(TreeError::Refused { .. })),
            "{mode} {path:?}: {refused:?}",
            refused = refused.err()
        );
    }
}

/// A tree git's fsck would refuse but a plain fetch takes (an AUR maintainer can push one): a
/// link named PKGBUILD, then a file named PKGBUILD, would have made the patch scratch write the
/// file through the link onto the host. Also a file under an entry that is a link.
#[test]
fn a_tree_naming_one_path_twice_or_a_path_under_a_file_is_refused() {
    let oid = "8e63c3d6e6e9e01576548c532e52f0880d19849f";
    let line = |mode: &str, path: &str| format!("{mode} blob {oid}       2\t{path}\0").into_bytes();
    let twice = [line("120000", "PKGBUILD"), line("100644", "PKGBUILD")].concat();
    let refused = parse_listing(COMMIT, &twice).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("PKGBUILD") && refused.contains("listed twice"), "{refused}");
    let under = [line("120000", "src"), line("100644", "src/x")].concat();
    let refused = parse_listing(COMMIT, &under).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("src/x") && refused.contains("not a directory"), "{refused}");
    let fine = [line("100644", "a/b"), line("100644", "a/c"), line("100644", "ab")].concat();
    assert_eq!(parse_listing(COMMIT, &fine).unwrap().len(), 3);
}

#[test]
fn a_batch_answer_that_is_not_what_was_asked_is_refused() {
    let oid = "8e63c3d6e6e9e01576548c532e52f0880d19849f";
    let listed = [Listed { mode: Mode::File, oid: oid.into(), size: 2, path: "a".into() }];
    assert_eq!(parse_batch(COMMIT, &listed, format!("{oid} blob 2\nhi\n").as_bytes()).unwrap(), [b"hi".to_vec()]);
    for answer in
        [format!("{oid} missing\n"), format!("{oid} blob 5\nhi\n"), format!("{} blob 2\nhi\n", "0".repeat(40))]
    {
        assert!(matches!(parse_batch(COMMIT, &listed, answer.as_bytes()), Err(TreeError::Garbled { .. })), "{answer}");
    }
}

/// A real commit, read from its objects: the `.gitattributes` that would hide a file from
/// `git archive` is there and so is the file, a symlink is its target, modes are kept.
#[tokio::test]
async fn a_commit_is_read_with_every_entry_and_no_attribute_applied() {
    let dir = tempfile::tempdir().unwrap();
    let work = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
    let sh = |script: &str| {
        let out = std::process::Command::new("sh").arg("-c").arg(script).current_dir(&work).output().unwrap();
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    sh("git init -q . && printf 'greeting.txt export-ignore\\nPKGBUILD export-subst -diff\\n' > .gitattributes \
        && printf '%s\\n' 'pkgver=1 $Format:%H$' > PKGBUILD && echo hidden > greeting.txt && ln -s /etc/shadow link \
        && mkdir -p keys/pgp && echo key > keys/pgp/A.asc && echo run > run.sh && chmod +x run.sh \
        && git add -A && git -c user.name=t -c user.email=t@t commit -qm one");
    let commit = sh("git rev-parse HEAD").trim().to_string();
    let tree = read(&work.join(".git"), &commit).await.unwrap();
    assert_eq!(tree.commit(), commit);
    let got: Vec<(Mode, &str, &[u8])> = tree.entries().iter().map(|e| (e.mode(), e.path(), e.content())).collect();
    assert_eq!(
        got,
        [
            (Mode::File, ".gitattributes", &b"greeting.txt export-ignore\nPKGBUILD export-subst -diff\n"[..]),
            (Mode::File, "PKGBUILD", b"pkgver=1 $Format:%H$\n"),
            (Mode::File, "greeting.txt", b"hidden\n"),
            (Mode::File, "keys/pgp/A.asc", b"key\n"),
            (Mode::Symlink, "link", b"/etc/shadow"),
            (Mode::Executable, "run.sh", b"run\n"),
        ]
    );
    assert_eq!(tree.file("link"), None, "a symlink is not a file");
    assert_eq!(tree.file("greeting.txt"), Some(&b"hidden\n"[..]));

    // A submodule is refused by name.
    sh(&format!(
        "git update-index --add --cacheinfo 160000,{commit},vendor && git -c user.name=t -c user.email=t@t commit -qm two"
    ));
    let with_submodule = sh("git rev-parse HEAD").trim().to_string();
    let err = read(&work.join(".git"), &with_submodule).await.unwrap_err();
    assert!(err.to_string().contains("holds a submodule at `vendor`"), "{err}");
    assert!(matches!(read(&work.join(".git"), &"0".repeat(40)).await, Err(TreeError::Git { .. })));
}

/// A `path:` package's directory (issue 27) is read as a commit of the same files would be:
/// the same entries, modes and digest; a FIFO and a `.git` directory are refused.
#[tokio::test]
async fn a_directory_reads_and_hashes_as_a_commit_of_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let work = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
    let sh = |script: &str| {
        let out = std::process::Command::new("sh").arg("-c").arg(script).current_dir(&work).output().unwrap();
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    sh("mkdir -p pkg/keys/pgp && printf 'pkgname=x\\n' > pkg/PKGBUILD && echo key > pkg/keys/pgp/A.asc \
        && echo run > pkg/run.sh && chmod +x pkg/run.sh && ln -s ../PKGBUILD pkg/keys/link");
    let from_dir = read_dir(&work.join("pkg")).unwrap();
    assert_eq!(from_dir.commit(), "");
    let got: Vec<(Mode, &str)> = from_dir.entries().iter().map(|e| (e.mode(), e.path())).collect();
    assert_eq!(
        got,
        [
            (Mode::File, "PKGBUILD"),
            (Mode::Symlink, "keys/link"),
            (Mode::File, "keys/pgp/A.asc"),
            (Mode::Executable, "run.sh")
        ]
    );
    sh("cd pkg && git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -qm one");
    let commit = sh("cd pkg && git rev-parse HEAD").trim().to_string();
    let from_git = read(&work.join("pkg/.git"), &commit).await.unwrap();
    assert_eq!(from_git.digest(), read_dir(&work.join("pkg/keys")).map(|_| from_dir.digest()).unwrap());
    let err = read_dir(&work.join("pkg")).unwrap_err();
    assert!(err.to_string().contains("`.git"), "a .git directory is refused: {err}");
    sh("rm -rf pkg/.git && mkfifo pkg/fifo");
    let err = read_dir(&work.join("pkg")).unwrap_err();
    assert!(err.to_string().contains("neither a file, a directory nor a symbolic link"), "{err}");
}

/// A `git:` package's subdir (issue 27) hashes like a repository holding only its files: the
/// same digest as a tree of those files at the root; `tool` does not take `tool2/`'s files.
#[test]
fn a_subtree_cuts_its_directory_and_hashes_like_a_root() {
    use Mode::*;
    let whole = tree(&[
        (File, "README", "x"),
        (File, "tool/PKGBUILD", "pkgver=1"),
        (Executable, "tool/run.sh", "#!/bin/sh"),
        (File, "tool2/PKGBUILD", "pkgver=2"),
    ]);
    let sub = whole.subtree("tool").unwrap();
    let alone = tree(&[(File, "PKGBUILD", "pkgver=1"), (Executable, "run.sh", "#!/bin/sh")]);
    assert_eq!(sub, alone);
    assert_eq!(sub.digest(), alone.digest());
    assert!(whole.subtree("missing").is_none());
}
