//! History and rollback (issue 29), against a signed repository on moto with real builds:
//! hello 1.0 is published, then 2.0; `history` lists both publishes; a snapshot someone wrote
//! into the bucket without the key is refused; `rollback`, from another work directory, puts
//! 1.0 back and Debian's pacman, trusting only the key, installs it; the next `build` in the
//! first work directory keeps it (hello is held while the lock names 2.0), and says why.
use crate::status::fixture_with;
use crate::support::{Aur, Pacman, S3, SigningKey, TESTBED_IMAGE, docker, repoctl, tempdir, text};
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
    // The day's last publish is a repository of its own at the same server, signed: pacman
    // reads `[hist-YYYYMMDD]`; the page lists it.
    let daily = format!("hist-{}", &newer[..8]);
    let server = format!("{}/{BUCKET}/repo", s3.endpoint);
    let pinned = Pacman::signed(&daily, &server, &key.public_key, &key.fingerprint);
    assert_eq!(pinned.list(&daily), [("hello".to_string(), "2.0-1".to_string())]);
    let page = String::from_utf8(s3.get(BUCKET, "repo/index.html")).unwrap();
    assert!(page.contains(&format!("<li><code>[{daily}]</code></li>")), "{page}");
    // hello 1.0's file is no longer in hist.db, but a kept snapshot lists it: it stays.
    assert!(s3.head(BUCKET, "repo/hello-1.0-1-x86_64.pkg.tar.zst").is_some(), "{:?}", s3.keys(BUCKET));

    // 2. A snapshot written by someone without the key: the older database with an entry of
    // their own is not one the key signed, whatever signature is copied beside it.
    let live = s3.get(BUCKET, "repo/hist.db");
    let forged = "20261201T000000.000Z-0badf00d";
    let mut bytes = s3.get(BUCKET, &format!("repo/history/{older}/hist.db"));
    bytes.extend_from_slice(b"\0intruder");
    let record = String::from_utf8(s3.get(BUCKET, &format!("repo/history/{older}/record.json")))
        .unwrap()
        .replace(older, forged)
        .replace(publishes[1]["database"].as_str().unwrap(), &sha256(&bytes));
    s3.put(BUCKET, &format!("repo/history/{forged}/hist.db"), bytes);
    for name in ["hist.db.sig", "hist.files", "hist.files.sig"] {
        s3.put(
            BUCKET,
            &format!("repo/history/{forged}/{name}"),
            s3.get(BUCKET, &format!("repo/history/{older}/{name}")),
        );
    }
    s3.put(BUCKET, &format!("repo/history/{forged}/record.json"), record.into_bytes());
    let refused = text(&run(&["rollback", forged], 2));
    assert!(refused.contains(&format!("snapshot {forged} cannot be trusted; nothing was rolled back")), "{refused}");
    assert!(refused.contains("does not verify under key"), "{refused}");
    assert_eq!(s3.get(BUCKET, "repo/hist.db"), live, "nothing was written");
    for name in ["hist.db", "hist.db.sig", "hist.files", "hist.files.sig", "record.json"] {
        s3.delete(BUCKET, &format!("repo/history/{forged}/{name}"));
    }

    // 3. The rollback, from another machine (its own work directory): hist.db is the older
    // publish's again, and pacman installs hello 1.0.
    let mut laptop = env.clone();
    laptop.retain(|(k, _)| *k != "REPOCTL_WORK_DIR");
    laptop.push(("REPOCTL_WORK_DIR", dir.join("laptop").to_string()));
    let out = repoctl(&["rollback", older, "--config", config.as_str()], &laptop);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains(&format!("back to {older}")) && said.contains("  + hello 1.0-1\n  - hello 2.0-1"), "{said}");
    assert!(said.contains("hello: repoctl.lock names 2.0-1") && said.contains("`repoctl update hello`"), "{said}");
    assert_eq!(s3.get(BUCKET, "repo/hist.db"), s3.get(BUCKET, &format!("repo/history/{older}/hist.db")));
    let pacman = Pacman::signed("hist", &server, &key.public_key, &key.fingerprint);
    assert_eq!(pacman.list("hist"), [("hello".to_string(), "1.0-1".to_string())]);
    let install = pacman.run(&["-S", "--noconfirm", "hello"]);
    assert!(install.status.success(), "{}", text(&install));
    let greeting = std::fs::read_to_string(pacman.installed_file("/usr/share/hello/greeting.txt")).unwrap();
    assert_eq!(greeting, "hello 1.0\n");
    // The rollback is the day's last publish now.
    assert_eq!(pinned.list(&daily), [("hello".to_string(), "1.0-1".to_string())]);
    let status: serde_json::Value = serde_json::from_slice(&s3.get(BUCKET, "repo/hist.status.json")).unwrap();
    assert_eq!(status["database"].as_str(), Some(sha256(&s3.get(BUCKET, "repo/hist.db")).as_str()), "{status}");
    let page = String::from_utf8(s3.get(BUCKET, "repo/index.html")).unwrap();
    assert!(page.contains("1.0-1") && !page.contains("2.0-1"), "the page describes the rolled-back database");

    // 4. The next build, in the work directory that committed 2.0 after 1.0 (a nightly's), keeps
    // it: the rollback's record, signed by the key, says the older database is back on purpose,
    // and hello is held while the lock names 2.0.
    let out = text(&run(&["build"], 0));
    assert!(out.contains("held since the rollback to"), "{out}");
    assert_eq!(pacman.list("hist"), [("hello".to_string(), "1.0-1".to_string())]);
    let history = history_json(config.as_str(), &env);
    assert_eq!(history["publishes"].as_array().map(Vec::len), Some(3), "{history}");
    assert_eq!(history["publishes"][0]["rollback_to"].as_str(), Some(older), "{history}");
}

/// `sha256:` and hex, as records and the status object name a database.
fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}
