//! A signed repository, as a user with `SigLevel = Required DatabaseRequired` sees it: Debian's
//! pacman, holding only the repository's public key, installs from the bucket, keeps trusting
//! the database after a removal, and refuses a package whose bytes were swapped.
use crate::support::{Aur, Pacman, S3, TESTBED_IMAGE, docker, repo_root, repoctl, tempdir, text};

const BUCKET: &str = "signed";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("tests/fixtures/signing").join(name)).expect("signing fixture")
}

fn write_config(dir: &camino::Utf8Path, s3: &S3, fingerprint: Option<&str>, packages: &[&str]) -> camino::Utf8PathBuf {
    let path = dir.join("repo.yaml");
    let list: String = packages.iter().map(|p| format!("  - {p}\n")).collect();
    let sign = fingerprint.map(|f| format!("sign:\n  key: {f}\n")).unwrap_or_default();
    std::fs::write(
        &path,
        format!(
            "name: signed\ns3:\n  bucket: {BUCKET}\n  endpoint: {}\n  acl: public-read\nbuilder:\n  image: {TESTBED_IMAGE}\n\
{sign}packages:\n{list}",
            s3.endpoint
        ),
    )
    .unwrap();
    path
}

#[test]
fn pacman_with_required_signatures_installs_and_refuses_swapped_bytes() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    s3.create_bucket(BUCKET);
    let aur = Aur::start();
    aur.push_fixture("hello");
    aur.push_fixture("libfoo");
    let (_t, dir) = tempdir();
    let fingerprint = fixture("fingerprint").trim().to_string();
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));
    env.push(("REPOCTL_WORK_DIR", dir.join("work").to_string()));

    // A repository published unsigned, as most are today.
    let config = write_config(&dir, &s3, None, &["hello", "libfoo"]);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let unsigned = s3.keys(BUCKET);
    assert!(!unsigned.iter().any(|k| k.ends_with(".sig")), "{unsigned:?}");

    // Signing turned on, but no key in the environment: refused before anything is done, at
    // the `sign.key` line.
    write_config(&dir, &s3, Some(&fingerprint), &["hello", "libfoo"]);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("repo.yaml:9:") && stderr.contains("REPOCTL_SIGNING_KEY"), "{stderr}");
    assert_eq!(s3.keys(BUCKET), unsigned, "a refused run changed the bucket");

    // With the key: nothing to build, but the published packages and databases get signed.
    env.push(("REPOCTL_SIGNING_KEY", fixture("secret-key.asc")));
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 published package(s)"), "{}", text(&out));
    let keys = s3.keys(BUCKET);
    for key in [
        "hello-1.0-1-x86_64.pkg.tar.zst.sig",
        "signed.db.sig",
        "signed.files.sig",
        "signed.db.tar.zst.sig",
        "signed.files.tar.zst.sig",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} missing from {keys:?}");
    }

    let server = format!("{}/{BUCKET}", s3.endpoint);
    // The page, rewritten by that run, tells users to require signatures from this key.
    let page = String::from_utf8(s3.get(BUCKET, "index.html")).unwrap();
    assert!(page.contains(&format!("SigLevel = Required DatabaseRequired\nServer = {server}</pre>")), "{page}");
    assert!(page.contains(&format!("--lsign-key {fingerprint}")), "{page}");
    let public_key = repo_root().join("tests/fixtures/signing/public-key.asc");
    let pacman = Pacman::signed("signed", &server, &public_key, &fingerprint);
    let mut listed: Vec<String> = pacman.list("signed").into_iter().map(|(n, _)| n).collect();
    listed.sort();
    assert_eq!(listed, ["hello", "libfoo"]);
    let install = pacman.run(&["-S", "--noconfirm", "hello"]);
    assert!(install.status.success(), "{}", text(&install));

    // A run with nothing to do writes nothing more: no object's ETag or time moves.
    let before = s3.objects(BUCKET);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("signatures repaired"), "{}", text(&out));
    assert_eq!(s3.objects(BUCKET), before, "a run with nothing to do wrote to the bucket");

    // A removal re-signs the database: a strict client still trusts it, and the dropped
    // package's signature goes with its file.
    write_config(&dir, &s3, Some(&fingerprint), &["hello"]);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let listed: Vec<String> = pacman.list("signed").into_iter().map(|(n, _)| n).collect();
    assert_eq!(listed, ["hello"], "the re-signed database is not what pacman sees");
    assert!(!s3.keys(BUCKET).iter().any(|k| k.starts_with("libfoo")), "{:?}", s3.keys(BUCKET));

    // Someone swaps the package's bytes in the bucket: a fresh machine refuses it.
    let key = "hello-1.0-1-x86_64.pkg.tar.zst";
    let mut bytes = s3.get(BUCKET, key);
    let last = bytes.len() - 1;
    bytes[last / 2] ^= 0xff;
    s3.put(BUCKET, key, bytes);
    let fresh = Pacman::signed("signed", &server, &public_key, &fingerprint);
    assert_eq!(fresh.list("signed").len(), 1);
    let install = fresh.run(&["-S", "--noconfirm", "hello"]);
    let output = text(&install);
    assert!(!install.status.success(), "pacman installed a package whose bytes were swapped:\n{output}");
    assert!(output.contains("invalid or corrupted package"), "{output}");
    assert!(!fresh.installed_file("usr/share/hello/greeting.txt").exists());
}
