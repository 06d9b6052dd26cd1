//! History (issue 29), against a signed repository on moto with real builds: hello 1.0 is
//! published, then 2.0; `history` lists both publishes, and the file of 1.0 stays while a kept
//! snapshot lists it.
use crate::status::fixture_with;
use crate::support::{Aur, S3, SigningKey, TESTBED_IMAGE, docker, repoctl, tempdir, text};
use camino::Utf8Path;

const BUCKET: &str = "history-bucket";

/// hello at `version`, its greeting saying so (what pacman installs tells the versions apart).
fn hello_at(dir: &Utf8Path, version: &str) {
    fixture_with("hello", dir, |l| {
        l.replace("pkgver=1.0", &format!("pkgver={version}")).replace("pkgver = 1.0", &format!("pkgver = {version}"))
    });
    std::fs::write(dir.join("greeting.txt"), format!("hello {version}\n")).unwrap();
}

fn history_json(config: &str, env: &[(&str, String)]) -> serde_json::Value {
    let out = repoctl(&["history", "--json", "--config", config], env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    serde_json::from_slice(&out.stdout).expect("history --json prints JSON")
}

#[test]
fn history_lists_publishes_and_rollback_brings_back_the_older_state_which_the_next_build_keeps() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    s3.create_bucket(BUCKET);
    let aur = Aur::start();
    let (_h, hello) = tempdir();
    hello_at(&hello, "1.0");
    aur.push_dir("hello", &hello);
    let (_t, dir) = tempdir();
    let key = SigningKey::fixture();
    let config = dir.join("repo.yaml");
    let yaml = format!(
        "name: hist\ns3:\n  bucket: {BUCKET}\n  prefix: repo\n  endpoint: {}\n  acl: public-read\n\
builder:\n  image: {TESTBED_IMAGE}\nsign:\n  key: {}\nsnapshots:\n  keep: 14d\npackages:\n  - hello\n",
        s3.endpoint, key.fingerprint
    );
    std::fs::write(&config, yaml).unwrap();
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));
    env.push(("REPOCTL_WORK_DIR", dir.join("work").to_string()));
    env.push(key.env());
    let run = |args: &[&str], code: i32| {
        let mut all = args.to_vec();
        all.extend(["--config", config.as_str()]);
        let out = repoctl(&all, &env);
        assert_eq!(out.status.code(), Some(code), "repoctl {args:?}:\n{}", text(&out));
        out
    };

    // 1. Two publishes: hello 1.0, then hello 2.0.
    run(&["update"], 0);
    run(&["build"], 0);
    hello_at(&hello, "2.0");
    aur.push_dir("hello", &hello);
    run(&["update"], 0);
    run(&["build"], 0);
    let history = history_json(config.as_str(), &env);
    let publishes = history["publishes"].as_array().expect("publishes");
    assert_eq!(publishes.len(), 2, "{history}");
    let v = |pkgname: &str, version: &str| serde_json::json!([{"pkgname": pkgname, "version": version}]);
    assert_eq!((&publishes[0]["added"], &publishes[0]["removed"]), (&v("hello", "2.0-1"), &v("hello", "1.0-1")));
    assert_eq!((&publishes[1]["added"], &publishes[1]["removed"]), (&v("hello", "1.0-1"), &serde_json::json!([])));
    let (newer, older) = (publishes[0]["id"].as_str().unwrap(), publishes[1]["id"].as_str().unwrap());
    assert!(older < newer, "ids sort by time: {older} {newer}");
    let listed = text(&run(&["history"], 0));
    assert!(listed.contains(&format!("{newer}  ")) && listed.contains("  + hello 2.0-1\n  - hello 1.0-1"), "{listed}");
    // hello 1.0's file is no longer in hist.db, but a kept snapshot lists it: it stays.
    assert!(s3.head(BUCKET, "repo/hello-1.0-1-x86_64.pkg.tar.zst").is_some(), "{:?}", s3.keys(BUCKET));
}
