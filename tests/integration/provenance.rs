//! Provenance (issue 14, item 6): every package file a build publishes has
//! `FILE.provenance.json` beside it in the target, naming the locked AUR commit, the lock's
//! digest and the builder image; the record leaves the target with its file; `repoctl
//! provenance` answers "where did this file come from" from it. Each repository is locked with
//! `repoctl update` before it is built, as a user does.
use crate::support::{Aur, S3, TESTBED_IMAGE, docker, repo_root, repoctl, tempdir, text};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value;
use std::process::Output;

const BUCKET: &str = "provenance";
const PREFIX: &str = "repo/x86_64";
const V1: &str = "hello-1.0-1-x86_64.pkg.tar.zst";
const V2: &str = "hello-1.1-1-x86_64.pkg.tar.zst";

/// One repository: repo.yaml (publishing to `target`, YAML lines), its work directory and the
/// environment repoctl runs in.
struct Repo {
    config: Utf8PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Repo {
    fn new(dir: &Utf8Path, aur: &Aur, target: &str, mut env: Vec<(&'static str, String)>) -> Repo {
        let config = dir.join("repo.yaml");
        let yaml = format!(
            "name: prov\n{target}builder:\n  image: {TESTBED_IMAGE}\nsnapshots:\n  keep: 0\npackages:\n  - hello\n"
        );
        std::fs::write(&config, yaml).unwrap();
        env.push(("AUR_LOCATION", aur.url.clone()));
        env.push(("REPOCTL_WORK_DIR", dir.join("work").to_string()));
        Repo { config, env }
    }

    /// `repoctl ARGS --config repo.yaml`.
    fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--config", self.config.as_str()]);
        repoctl(&all, &self.env)
    }

    /// Runs `args`, which must exit 0; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(0), "repoctl {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn lock(&self) -> repoctl::lock::Lock {
        repoctl::lock::Lock::read(&repoctl::lock::path_beside(&self.config)).expect("repoctl.lock")
    }
}

/// hello with `pkgver=VERSION`, pushed as a new AUR commit.
fn push_hello(aur: &Aur, version: &str) {
    let (_t, dir) = tempdir();
    let fixture = repo_root().join("tests/fixtures/aur/hello");
    for f in ["PKGBUILD", ".SRCINFO", "greeting.txt"] {
        let body = std::fs::read_to_string(fixture.join(f)).unwrap();
        let body = body.replace("pkgver=1.0", &format!("pkgver={version}"));
        std::fs::write(dir.join(f), body.replace("pkgver = 1.0", &format!("pkgver = {version}"))).unwrap();
    }
    aur.push_dir("hello", &dir);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The record says the package came from the lock's commit of hello, under that lock, in the
/// test image, and describes exactly `package` (the file's bytes).
fn assert_record_matches(record: &Value, lock: &repoctl::lock::Lock, aur: &Aur, file: &str, package: &[u8]) {
    let entry = &lock.entries["hello"];
    assert_eq!(record["format"], 1, "{record}");
    assert_eq!((record["pkgname"].as_str(), record["pkgbase"].as_str()), (Some("hello"), Some("hello")));
    assert_eq!(record["file"], file, "{record}");
    assert_eq!(record["sha256"], sha256_hex(package), "the record names other bytes: {record}");
    assert_eq!(record["aur"]["url"], format!("{}/hello.git", aur.url));
    assert_eq!(record["aur"]["commit"], entry.commit.as_str(), "{record}");
    assert_eq!(record["aur"]["files"], entry.files.as_str(), "{record}");
    assert_eq!(record["lock"]["sha256"], lock.digest(), "{record}");
    assert_eq!(record["builder"]["image"], TESTBED_IMAGE);
    let digest = record["builder"]["digest"].as_str().unwrap_or_default();
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "the run image's ID: {record}");
    assert!(record["built_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{record}");
}

/// The build logs (WORK/runs/*/logs/hello.log) of every run, concatenated.
fn build_logs(work: &Utf8Path) -> String {
    let runs = std::fs::read_dir(work.join("runs")).into_iter().flatten().flatten();
    runs.filter_map(|run| std::fs::read_to_string(run.path().join("logs/hello.log")).ok()).collect()
}

#[test]
fn every_published_package_file_has_its_provenance_beside_it_and_loses_it_with_it() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    s3.create_bucket(BUCKET);
    let aur = Aur::start();
    aur.push_fixture("hello");
    let (_t, dir) = tempdir();
    let target =
        format!("s3:\n  bucket: {BUCKET}\n  prefix: {PREFIX}\n  endpoint: {}\n  acl: public-read\n", s3.endpoint);
    let repo = Repo::new(&dir, &aur, &target, s3.env());
    let key = |name: &str| format!("{PREFIX}/{name}");
    let record_of = |file: &str| -> Value {
        serde_json::from_slice(&s3.get(BUCKET, &key(&format!("{file}.provenance.json")))).expect("a JSON record")
    };

    // 1. Locked, then built: the record is in the bucket beside the package file.
    repo.ok(&["update"]);
    let lock = repo.lock();
    let stdout = repo.ok(&["build"]);
    assert_record_matches(&record_of(V1), &lock, &aur, V1, &s3.get(BUCKET, &key(V1)));
    let sidecar = s3.head(BUCKET, &key(&format!("{V1}.provenance.json"))).expect("the record");
    assert_eq!(sidecar.content_type, "application/json");
    // The summary says it in a line, the build log whole.
    let commit = &lock.entries["hello"].commit;
    assert!(stdout.contains(&format!("hello 1.0-1 from AUR commit {}", &commit[..12])), "{stdout}");
    let full =
        format!("hello 1.0-1 from AUR commit {commit} (files {}, lock {})", lock.entries["hello"].files, lock.digest());
    assert!(build_logs(&dir.join("work")).contains(&full), "no provenance line in the build log");

    // 2. Where did this file come from? By pkgname or by file name.
    let answer = repo.ok(&["provenance", "hello"]);
    assert!(answer.contains(commit.as_str()) && answer.contains(&lock.digest()), "{answer}");
    let json: Value = serde_json::from_str(&repo.ok(&["provenance", "--json", V1])).expect("--json prints JSON");
    assert_eq!(json, record_of(V1));

    // 3. A new AUR commit, let in by update and built: the old file leaves with its record.
    push_hello(&aur, "1.1");
    repo.ok(&["update"]);
    let lock2 = repo.lock();
    assert_ne!(lock2.entries["hello"].commit, *commit, "update did not move the lock");
    repo.ok(&["build"]);
    let keys = s3.keys(BUCKET);
    for gone in [V1.to_string(), format!("{V1}.provenance.json")] {
        assert!(!keys.contains(&key(&gone)), "{gone} outlived the database's reference: {keys:?}");
    }
    assert_record_matches(&record_of(V2), &lock2, &aur, V2, &s3.get(BUCKET, &key(V2)));
    assert!(repo.ok(&["provenance", "hello"]).contains(&lock2.entries["hello"].commit));

    // 4. A file with no record (as one published before provenance existed): exit 1, said why.
    s3.delete(BUCKET, &key(&format!("{V2}.provenance.json")));
    let out = repo.run(&["provenance", "hello"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no provenance"), "{}", text(&out));
    let out = repo.run(&["provenance", "no-such-package"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not published"), "{}", text(&out));
}

/// The shard path: `build --no-publish --out DIR` keeps each record beside its file, and
/// `repoctl publish DIR` on another machine uploads it with the file.
#[test]
fn build_out_carries_the_provenance_and_publish_dir_uploads_it() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("hello");
    let (_t, dir) = tempdir();
    let repo = Repo::new(&dir, &aur, "local:\n  path: ./repo\n", Vec::new());
    repo.ok(&["update"]);
    let out_dir = dir.join("out");
    repo.ok(&["build", "--no-publish", "--out", out_dir.as_str()]);
    let carried = std::fs::read(out_dir.join(format!("{V1}.provenance.json"))).expect("the record in --out DIR");
    let record: Value = serde_json::from_slice(&carried).unwrap();
    assert_record_matches(&record, &repo.lock(), &aur, V1, &std::fs::read(out_dir.join(V1)).unwrap());

    repo.ok(&["publish", out_dir.as_str()]);
    let published = std::fs::read(dir.join("repo").join(format!("{V1}.provenance.json"))).expect("published");
    assert_eq!(published, carried);
    // Publishing the directory again: the file the database lists is left as it is, unread
    // (here its local copy no longer even matches its record), not refused nor marked failed.
    let served = std::fs::read(dir.join("repo").join(V1)).unwrap();
    let mut local = std::fs::OpenOptions::new().append(true).open(out_dir.join(V1)).unwrap();
    std::io::Write::write_all(&mut local, b"changed after it was published").unwrap();
    let again = repo.run(&["publish", out_dir.as_str()]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains(&format!("not replacing {V1}: already published")), "{}", text(&again));
    assert_eq!(std::fs::read(dir.join("repo").join(V1)).unwrap(), served, "the published file is unchanged");
    let status = std::fs::read_to_string(dir.join("repo").join("prov.status.json")).unwrap();
    assert!(!status.contains("package-check"), "nothing is recorded as failed: {status}");
    let answer = repo.ok(&["provenance", "hello"]);
    assert!(answer.contains(repo.lock().entries["hello"].commit.as_str()), "{answer}");
    // Issue 29: the path of a package file names it too.
    let path = out_dir.join(V1);
    let json: Value = serde_json::from_str(&repo.ok(&["provenance", "--json", path.as_str()])).expect("JSON");
    assert_eq!(json["file"], V1, "{json}");
}

/// A sync database (an uncompressed tar, as libalpm also reads) with one entry: `file`, whose
/// bytes have the SHA-256 `sha256`.
fn one_entry_db(file: &str, sha256: &str) -> Vec<u8> {
    let desc = format!(
        "%FILENAME%\n{file}\n\n%NAME%\nhello\n\n%BASE%\nhello\n\n%VERSION%\n1.0-1\n\n%SHA256SUM%\n{sha256}\n\n"
    );
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(desc.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "hello-1.0-1/desc", desc.as_bytes()).unwrap();
    tar.into_inner().unwrap()
}

/// Red-team finding: `provenance` read the database without verifying it in a signed
/// repository, and `--json` printed the record's C1 controls and bidi characters raw. Someone
/// who can write the bucket but not sign puts a database and a record there (no build needed):
/// with the key at hand the database is refused; without it the answer says it is not
/// verified; and nothing printed holds a raw control or bidi character.
#[test]
fn provenance_verifies_a_signed_database_and_prints_no_control_characters() {
    let s3 = S3::start();
    s3.create_bucket("planted");
    let (_t, dir) = tempdir();
    let key = crate::support::SigningKey::fixture();
    let config = dir.join("repo.yaml");
    let yaml = format!(
        "name: prov\ns3:\n  bucket: planted\n  endpoint: {}\nsign:\n  key: {}\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - hello\n",
        s3.endpoint, key.fingerprint
    );
    std::fs::write(&config, yaml).unwrap();
    let package = b"not really a package".to_vec();
    let sha256 = sha256_hex(&package);
    s3.put("planted", V1, package);
    s3.put("planted", "prov.db", one_entry_db(V1, &sha256));
    let record = serde_json::json!({
        "format": 1, "pkgname": "hello", "pkgbase": "hello", "version": "1.0-1", "file": V1, "sha256": sha256,
        "aur": {"url": "https://aur.archlinux.org/hello.git", "commit": "a".repeat(40), "files": "tree-sha256:00"},
        "lock": {"sha256": "sha256:00"},
        "builder": {"image": "evil\u{9b}2K\u{202e}gpj.exe", "digest": "sha256:00"},
        "built_at": "2026-12-07T00:00:00Z", "repoctl": "repoctl 0\u{1b}[2K",
    });
    // serde_json writes C1 and bidi characters raw, as a planted record would hold them.
    s3.put("planted", &format!("{V1}.provenance.json"), serde_json::to_vec_pretty(&record).unwrap());
    let mut env = s3.env();
    env.push(("REPOCTL_WORK_DIR", dir.join("work").to_string()));
    let run = |args: &[&str], env: &[(&'static str, String)]| {
        let mut all = args.to_vec();
        all.extend(["--config", config.as_str()]);
        repoctl(&all, env)
    };
    let raw = |s: &str| s.chars().any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c));

    for args in [&["provenance", "hello"][..], &["provenance", "--json", "hello"]] {
        let out = run(args, &env);
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(stderr.contains("NOT VERIFIED: neither REPOCTL_SIGNING_KEY nor sign.public_key"), "{stderr}");
        assert!(!raw(&stdout) && !raw(&stderr), "raw control or bidi characters: {stdout:?}");
        if args.contains(&"--json") {
            let shown: Value = serde_json::from_str(&stdout).expect("still JSON");
            assert_eq!(shown, record, "the same JSON, escaped");
        } else {
            assert!(stdout.contains("evil\\u{9b}2K\\u{202e}gpj.exe"), "{stdout}");
            assert!(stdout.contains("database: prov.db NOT VERIFIED"), "{stdout}");
        }
    }

    env.push(key.env());
    let out = run(&["provenance", "hello"], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("prov.db is not signed"), "{}", text(&out));
    assert!(out.stdout.is_empty(), "nothing of the unverified database is printed: {}", text(&out));

    // The key's public part alone (sign.public_key, the red-team's F4) refuses it as well.
    env.pop();
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::copy(repo_root().join("tests/fixtures/signing/public-key.asc"), dir.join("keys/prov.asc")).unwrap();
    let yaml = std::fs::read_to_string(&config).unwrap();
    let with_public = yaml.replace("sign:\n", "sign:\n  public_key: keys/prov.asc\n");
    std::fs::write(&config, with_public).unwrap();
    let out = run(&["provenance", "hello"], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("prov.db is not signed"), "{}", text(&out));
}
