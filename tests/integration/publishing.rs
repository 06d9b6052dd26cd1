//! Publishing never loses an update: two runs publishing different packages at the same moment
//! both end up in the database, against an S3 server that enforces conditional writes, and
//! against a local directory (a lock file).
use crate::support::{Aur, Pacman, S3, TESTBED_IMAGE, docker, repoctl, repoctl_containers, tempdir, text};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::{Child, Command, Stdio};

fn spawn_repoctl(args: &[&str], env: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_repoctl"));
    cmd.args(args).env_remove("RUST_LOG").stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn repoctl")
}

fn s3_config(dir: &Utf8Path, s3: &S3, bucket: &str) -> Utf8PathBuf {
    let path = dir.join(format!("{bucket}.yaml"));
    std::fs::write(
        &path,
        format!(
            "name: conc\ns3:\n  bucket: {bucket}\n  endpoint: {}\n  acl: public-read\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - hello\n  - libfoo\n",
            s3.endpoint
        ),
    )
    .unwrap();
    path
}

fn names(pacman: &Pacman) -> Vec<String> {
    let mut n: Vec<String> = pacman.list("conc").into_iter().map(|(n, _)| n).collect();
    n.sort();
    n
}

#[test]
fn concurrent_publishes_of_different_packages_both_land() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    let aur = Aur::start();
    aur.push_fixture("hello");
    aur.push_fixture("libfoo");
    let (_t, dir) = tempdir();
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));

    // Two package sets, as two shards would hand them over.
    s3.create_bucket("prep");
    let prep = s3_config(&dir, &s3, "prep");
    for pkg in ["hello", "libfoo"] {
        let mut e = env.clone();
        e.push(("REPOCTL_WORK_DIR", dir.join(format!("work-{pkg}")).to_string()));
        let out_dir = dir.join(format!("out-{pkg}"));
        let out = repoctl(&["build", "--config", prep.as_str(), "--no-publish", "--out", out_dir.as_str(), pkg], &e);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }

    // Repeated trials: both publishes start together against a fresh bucket.
    let mut conflicts = 0;
    for trial in 0..5 {
        let bucket = format!("conc-{trial}");
        s3.create_bucket(&bucket);
        let config = s3_config(&dir, &s3, &bucket);
        let children: Vec<Child> = ["hello", "libfoo"]
            .iter()
            .map(|pkg| {
                let mut e = env.clone();
                e.push(("REPOCTL_WORK_DIR", dir.join(format!("pub-{trial}-{pkg}")).to_string()));
                spawn_repoctl(&["publish", "--config", config.as_str(), dir.join(format!("out-{pkg}")).as_str()], &e)
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(0), "trial {trial}: {}", text(&out));
            conflicts += String::from_utf8_lossy(&out.stderr).matches("changed while publishing").count();
        }
        let pacman = Pacman::new("conc", &format!("{}/{bucket}", s3.endpoint));
        assert_eq!(names(&pacman), ["hello", "libfoo"], "trial {trial}: an update was lost");
    }
    eprintln!("{conflicts} conflict(s) detected and resolved over 5 trials");

    // And two whole builds started together, each for a different package.
    s3.create_bucket("builds");
    let config = s3_config(&dir, &s3, "builds");
    let children: Vec<Child> = ["hello", "libfoo"]
        .iter()
        .map(|pkg| {
            let mut e = env.clone();
            e.push(("REPOCTL_WORK_DIR", dir.join(format!("build-{pkg}")).to_string()));
            spawn_repoctl(&["build", "--config", config.as_str(), pkg], &e)
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let pacman = Pacman::new("conc", &format!("{}/builds", s3.endpoint));
    assert_eq!(names(&pacman), ["hello", "libfoo"], "concurrent builds lost an update");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

#[test]
fn concurrent_publishes_to_a_local_directory_take_turns() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("hello");
    aur.push_fixture("libfoo");
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    std::fs::write(
        &config,
        format!("name: conc\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - hello\n  - libfoo\n"),
    )
    .unwrap();
    let env = |w: &str| vec![("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join(w).to_string())];
    for pkg in ["hello", "libfoo"] {
        let out_dir = dir.join(format!("out-{pkg}"));
        let out =
            repoctl(&["build", "--config", config.as_str(), "--no-publish", "--out", out_dir.as_str(), pkg], &env(pkg));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let children: Vec<Child> = ["hello", "libfoo"]
        .iter()
        .map(|pkg| {
            let out_dir = dir.join(format!("out-{pkg}"));
            spawn_repoctl(&["publish", "--config", config.as_str(), out_dir.as_str()], &env(&format!("p-{pkg}")))
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let pacman = Pacman::new("conc", &format!("file://{}", dir.join("repo")));
    assert_eq!(names(&pacman), ["hello", "libfoo"]);
}
