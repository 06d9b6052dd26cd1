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
        let yaml = format!("name: prov\n{target}builder:\n  image: {TESTBED_IMAGE}\npackages:\n  - hello\n");
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
    let answer = repo.ok(&["provenance", "hello"]);
    assert!(answer.contains(repo.lock().entries["hello"].commit.as_str()), "{answer}");
    // Issue 29: the path of a package file names it too.
    let path = out_dir.join(V1);
    let json: Value = serde_json::from_str(&repo.ok(&["provenance", "--json", path.as_str()])).expect("JSON");
    assert_eq!(json["file"], V1, "{json}");
}
