//! Publishing never loses an update: two runs publishing different packages at the same moment
//! both end up in the database, against an S3 server that enforces conditional writes, and
//! against a local directory (a lock file).
use crate::support::{Aur, Pacman, S3, SigningKey, TESTBED_IMAGE, docker, repoctl, repoctl_containers, tempdir, text};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::{Child, Stdio};

fn spawn_repoctl(args: &[&str], env: &[(&str, String)]) -> Child {
    crate::support::lock_heads(args, env, None);
    crate::support::repoctl_command(args, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn repoctl")
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

/// Package objects (`*.pkg.tar*`, signatures aside) the bucket's `NAME.db` lists, and whether
/// each exists: a consistent repository never lists a file that is not there.
fn listed_files(s3: &S3, bucket: &str) -> Vec<(String, bool)> {
    let keys = s3.keys(bucket);
    let db = s3.get(bucket, "conc.db");
    let entries = repoctl::alpm::read_sync_db(&db).expect("the published database is readable");
    entries.into_iter().map(|e| (e.filename.clone(), keys.contains(&e.filename))).collect()
}

/// A publish killed (SIGKILL: a crash, a cancelled runner) at several points leaves a repository
/// that a strict pacman can use, and the next run completes the work.
#[test]
fn a_publish_killed_midway_leaves_a_usable_repository_and_a_rerun_completes_it() {
    use std::io::BufRead;
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    let aur = Aur::start();
    for p in ["hello", "libfoo", "split-demo"] {
        aur.push_fixture(p);
    }
    let (_t, dir) = tempdir();
    let key = SigningKey::fixture();
    let fingerprint = &key.fingerprint;
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));
    env.push(key.env());
    let config_for = |bucket: &str| {
        let path = dir.join(format!("{bucket}.yaml"));
        std::fs::write(
            &path,
            format!(
                "name: conc\ns3:\n  bucket: {bucket}\n  endpoint: {}\n  acl: public-read\nbuilder:\n  image: {TESTBED_IMAGE}\n\
sign:\n  key: {fingerprint}\npackages:\n  - hello\n  - libfoo\n  - split-demo\n",
                s3.endpoint
            ),
        )
        .unwrap();
        path
    };
    s3.create_bucket("prep");
    let all = dir.join("all");
    let mut e = env.clone();
    e.push(("REPOCTL_WORK_DIR", dir.join("work-prep").to_string()));
    let out = repoctl(&["build", "--config", config_for("prep").as_str(), "--no-publish", "--out", all.as_str()], &e);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let first = dir.join("first");
    std::fs::create_dir_all(&first).unwrap();
    for f in std::fs::read_dir(&all).unwrap() {
        let f = f.unwrap();
        if f.file_name().to_string_lossy().starts_with("hello-") {
            std::fs::copy(f.path(), first.as_std_path().join(f.file_name())).unwrap();
        }
    }

    for (trial, marker) in ["uploading", "publishing conc.db", "signing"].iter().enumerate() {
        let bucket = format!("killed-{trial}");
        s3.create_bucket(&bucket);
        let config = config_for(&bucket);
        let mut e = env.clone();
        e.push(("REPOCTL_WORK_DIR", dir.join(format!("work-{trial}")).to_string()));
        // What users have: a published repository with one package.
        let out = repoctl(&["publish", "--config", config.as_str(), first.as_str()], &e);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));

        // A publish of the rest, killed as soon as it reaches `marker`.
        let mut child = spawn_repoctl(&["publish", "--config", config.as_str(), all.as_str()], &e);
        let stderr = child.stderr.take().unwrap();
        let mut seen = Vec::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let hit = line.contains(marker);
            seen.push(line);
            if hit {
                child.kill().unwrap();
                break;
            }
        }
        let status = child.wait().unwrap();
        assert!(!status.success() || seen.iter().any(|l| l.contains(marker)), "{seen:#?}");

        // Whatever the moment: the database lists only files that exist.
        let listed = listed_files(&s3, &bucket);
        assert!(listed.iter().all(|(_, present)| *present), "trial {trial} ({marker}): missing files {listed:?}");
        eprintln!("killed at {marker:?}: database lists {} file(s)", listed.len());

        // Leftover containers of the killed run are found by label; the next run completes
        // the work, and a strict client installs everything.
        let out = repoctl(&["clean", "--config", config.as_str()], &e);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(repoctl_containers(), 0, "containers left behind after clean");
        let out = repoctl(&["publish", "--config", config.as_str(), all.as_str()], &e);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let listed = listed_files(&s3, &bucket);
        assert!(listed.iter().all(|(_, present)| *present), "{listed:?}");
        let pacman = Pacman::signed("conc", &format!("{}/{bucket}", s3.endpoint), &key.public_key, fingerprint);
        assert_eq!(names(&pacman), ["hello", "libfoo", "split-demo-a", "split-demo-b"], "trial {trial}");
        let install = pacman.run(&["-S", "--noconfirm", "libfoo", "split-demo-a"]);
        assert!(install.status.success(), "trial {trial}: {}", text(&install));
    }
}

/// A large publish is written by several repo-add processes side by side (one per core, at
/// least four files each) and their entries joined into one database. A strict pacman sees one
/// repository: every package at its version, new versions replacing old ones by pkgname (not
/// added beside them), signatures embedded, and the replaced files gone from the bucket.
#[test]
fn a_large_publish_split_across_repo_add_processes_is_one_signed_database() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    let aur = Aur::start();
    let (_t, dir) = tempdir();
    let key = SigningKey::fixture();
    let fingerprint = &key.fingerprint;
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));
    env.push(key.env());
    let config_for = |bucket: &str| {
        s3.create_bucket(bucket);
        let config = dir.join(format!("{bucket}.yaml"));
        std::fs::write(
            &config,
            format!(
                "name: many\ns3:\n  bucket: {bucket}\n  endpoint: {}\n  acl: public-read\nbuilder:\n  image: {TESTBED_IMAGE}\n\
sign:\n  key: {fingerprint}\nsnapshots:\n  keep: 0\npackages:\n  - many\n",
                s3.endpoint
            ),
        )
        .unwrap();
        config
    };
    let config = config_for("many");
    let pkgnames: Vec<String> = (1..=10).map(|i| format!("many-{i:02}")).collect();
    // One pkgbase, ten packages: version `v` of all of them, built in a container.
    let build = |v: u32| -> Utf8PathBuf {
        let src = dir.join(format!("src-{v}"));
        std::fs::create_dir_all(&src).unwrap();
        let mut pkgbuild = format!(
            "pkgbase=many\npkgname=({})\npkgver={v}\npkgrel=1\npkgdesc='ten packages'\narch=('any')\nlicense=('MIT')\n",
            pkgnames.join(" ")
        );
        let mut srcinfo = format!(
            "pkgbase = many\n\tpkgdesc = ten packages\n\tpkgver = {v}\n\tpkgrel = 1\n\tarch = any\n\tlicense = MIT\n"
        );
        for n in &pkgnames {
            pkgbuild.push_str(&format!(
                "package_{n}() {{ install -d \"$pkgdir/usr/share/{n}\"; echo {v} > \"$pkgdir/usr/share/{n}/version\"; }}\n"
            ));
            srcinfo.push_str(&format!("\npkgname = {n}\n"));
        }
        std::fs::write(src.join("PKGBUILD"), pkgbuild).unwrap();
        std::fs::write(src.join(".SRCINFO"), srcinfo).unwrap();
        aur.push_dir("many", &src);
        let out_dir = dir.join(format!("v{v}"));
        let mut e = env.clone();
        e.push(("REPOCTL_WORK_DIR", dir.join(format!("work-build-{v}")).to_string()));
        let out = repoctl(&["build", "--config", config.as_str(), "--no-publish", "--out", out_dir.as_str()], &e);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        out_dir
    };
    let split = std::thread::available_parallelism().map_or(1, usize::from) >= 2;
    let publish = |config: &Utf8Path, from: &Utf8Path| {
        let mut e = env.clone();
        e.push(("REPOCTL_WORK_DIR", dir.join("work-publish").to_string()));
        let out = repoctl(&["publish", "--config", config.as_str(), from.as_str()], &e);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let said = text(&out);
        assert_eq!(said.contains("with 2 repo-add processes"), split, "{said}");
    };
    let publish_one = |config: &Utf8Path, from: &Utf8Path| {
        let mut e = env.clone();
        e.push(("REPOCTL_WORK_DIR", dir.join("work-publish").to_string()));
        let out = repoctl(&["publish", "--config", config.as_str(), from.as_str()], &e);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    };
    let pacman = Pacman::signed("many", &format!("{}/many", s3.endpoint), &key.public_key, fingerprint);
    let listed = |pacman: &Pacman| {
        let mut l = pacman.list("many");
        l.sort();
        l
    };

    // What a strict client reads: every entry signed in NAME.db (not only a detached .sig
    // beside the file), and NAME.files listing exactly what NAME.db lists.
    let database = |bucket: &str| {
        let read = |key: &str| {
            let mut l: Vec<(String, String, bool)> = repoctl::alpm::read_sync_db(&s3.get(bucket, key))
                .unwrap()
                .into_iter()
                .map(|e| (e.name, e.version, e.signed))
                .collect();
            l.sort();
            l
        };
        let (db, files) = (read("many.db"), read("many.files"));
        // Only NAME-VERSION/, NAME-VERSION/desc and NAME-VERSION/files: nothing nested.
        let local = dir.join(format!("{bucket}.files.tar"));
        std::fs::write(&local, s3.get(bucket, "many.files")).unwrap();
        let listing = std::process::Command::new("bsdtar").args(["-tf", local.as_str()]).output().unwrap();
        assert!(listing.status.success(), "{}", text(&listing));
        for entry in String::from_utf8_lossy(&listing.stdout).lines() {
            let parts: Vec<&str> = entry.trim_end_matches('/').split('/').collect();
            assert!(parts.len() == 1 || (parts.len() == 2 && ["desc", "files"].contains(&parts[1])), "{entry}");
        }
        assert!(db.iter().all(|(_, _, signed)| *signed), "an entry without %PGPSIG%: {db:?}");
        let strip = |l: &[(String, String, bool)]| l.iter().map(|(n, v, _)| (n.clone(), v.clone())).collect::<Vec<_>>();
        assert_eq!(strip(&db), strip(&files), "NAME.files and NAME.db differ");
    };

    let v1 = build(1);
    publish(&config, &v1);
    database("many");
    let expected: Vec<(String, String)> = pkgnames.iter().map(|n| (n.clone(), "1-1".to_string())).collect();
    assert_eq!(listed(&pacman), expected);
    // Two more repositories at version 1, published while the lock still holds it (publish
    // DIR takes only files built from the commit repoctl.lock locks).
    let race = config_for("many-race");
    publish(&race, &v1);
    let small = config_for("many-one");
    publish_one(&small, &v1);

    // Version 2 of eight of them: replaced in the database, the old files deleted. Each file
    // goes with its provenance record.
    let v2 = build(2);
    let eight = dir.join("eight");
    std::fs::create_dir_all(&eight).unwrap();
    let copy = |from: &Utf8Path, to: &Utf8Path, file: &str| {
        for name in [file.to_string(), format!("{file}.provenance.json")] {
            std::fs::copy(from.join(&name), to.join(&name)).unwrap();
        }
    };
    for n in &pkgnames[..8] {
        copy(&v2, &eight, &format!("{n}-2-1-any.pkg.tar.zst"));
    }
    // A run that lost the race for NAME.db had already replaced NAME.files with its own
    // entries (the same eight at version 2), and its signatures: planted here from a second
    // bucket.
    publish(&race, &eight);
    let files_objects =
        |bucket: &str| -> Vec<String> { s3.keys(bucket).into_iter().filter(|k| k.starts_with("many.files")).collect() };
    for key in files_objects("many-race") {
        s3.put("many", &key, s3.get("many-race", &key));
    }
    publish(&config, &eight);
    database("many");
    // The same with one file, which one repo-add writes: given a NAME.files that already held
    // the new entry, repo-add would have nested it inside the stale one.
    let one = dir.join("one");
    std::fs::create_dir_all(&one).unwrap();
    copy(&eight, &one, "many-01-2-1-any.pkg.tar.zst");
    for key in files_objects("many-race") {
        s3.put("many-one", &key, s3.get("many-race", &key));
    }
    publish_one(&small, &one);
    database("many-one");
    let expected: Vec<(String, String)> =
        pkgnames.iter().enumerate().map(|(i, n)| (n.clone(), if i < 8 { "2-1" } else { "1-1" }.to_string())).collect();
    assert_eq!(listed(&pacman), expected);
    let install = pacman.run(&["-S", "--noconfirm", "many-01", "many-10"]);
    assert!(install.status.success(), "{}", text(&install));
    let read = |n: &str| std::fs::read_to_string(pacman.installed_file(&format!("usr/share/{n}/version"))).unwrap();
    assert_eq!((read("many-01").trim(), read("many-10").trim()), ("2", "1"));
    let keys = s3.keys("many");
    assert!(!keys.iter().any(|k| k.starts_with("many-01-1-1")), "the replaced file is still there: {keys:?}");
    assert!(keys.iter().any(|k| k == "many-10-1-1-any.pkg.tar.zst.sig"), "{keys:?}");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// Every entry of the bucket's `conc.db` against its object: (file, whether the object's
/// SHA-256 is the entry's `%SHA256SUM%`).
fn entries_match_objects(s3: &S3, bucket: &str) -> Vec<(String, bool)> {
    use sha2::Digest;
    let entries = repoctl::alpm::read_sync_db(&s3.get(bucket, "conc.db")).expect("the published database is readable");
    entries
        .into_iter()
        .map(|e| {
            let there = format!("{:x}", sha2::Sha256::digest(s3.get(bucket, &e.filename)));
            let matches = e.sha256.as_deref() == Some(there.as_str());
            (e.filename, matches)
        })
        .collect()
}

/// Two machines build the same locked version (the nightly and a manual run): makepkg's
/// BUILDDATE makes the bytes differ under the same file name. The race is made to happen in
/// the order that broke repositories: run B reads the database, its upload of the file is held
/// (s3_faults_proxy.py), run A uploads the same name and commits, then B's upload goes on. The
/// object the committed database describes is never replaced. And in a signed repository, a
/// file a stopped publish left under the name is taken when the key's signature vouches for it.
#[test]
fn two_builds_of_one_version_never_leave_a_database_describing_other_bytes() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    let aur = Aur::start();
    aur.push_fixture("hello");
    let (_t, dir) = tempdir();
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));
    s3.create_bucket("prep");
    let prep = s3_config(&dir, &s3, "prep");
    let file = "hello-1.0-1-x86_64.pkg.tar.zst";
    for run in ["a", "b"] {
        let mut e = env.clone();
        e.push(("REPOCTL_WORK_DIR", dir.join(format!("work-{run}")).to_string()));
        let out_dir = dir.join(format!("out-{run}"));
        let out =
            repoctl(&["build", "--config", prep.as_str(), "--no-publish", "--out", out_dir.as_str(), "hello"], &e);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let bytes = |run: &str| std::fs::read(dir.join(format!("out-{run}")).join(file)).unwrap();
    assert_ne!(bytes("a"), bytes("b"), "two builds made the same bytes");

    s3.create_bucket("race");
    let signal = dir.join("signal");
    std::fs::create_dir_all(&signal).unwrap();
    let held = crate::support::S3Faults::holding_put(&s3.endpoint, file, signal);
    let direct = s3_config(&dir, &s3, "race");
    let through = dir.join("race-held.yaml");
    let text_of = std::fs::read_to_string(&direct).unwrap().replace(&s3.endpoint, &held.url);
    std::fs::write(&through, text_of).unwrap();
    let mut e = env.clone();
    e.push(("REPOCTL_WORK_DIR", dir.join("pub-b").to_string()));
    let b = spawn_repoctl(&["publish", "--config", through.as_str(), dir.join("out-b").as_str()], &e);
    assert!(held.wait_held(std::time::Duration::from_secs(300)), "run B never uploaded {file}");
    let mut e = env.clone();
    e.push(("REPOCTL_WORK_DIR", dir.join("pub-a").to_string()));
    let a = repoctl(&["publish", "--config", direct.as_str(), dir.join("out-a").as_str()], &e);
    assert_eq!(a.status.code(), Some(0), "{}", text(&a));
    held.release();
    let b = b.wait_with_output().unwrap();
    eprintln!("run B:\n{}", text(&b));
    let matched = entries_match_objects(&s3, "race");
    assert!(matched.iter().all(|(_, ok)| *ok), "a database entry describes other bytes than its object: {matched:?}");
    assert_eq!(s3.get("race", file), bytes("a"), "the committed file was replaced");
    assert_eq!(b.status.code(), Some(0), "run B: the version is published (run A's build): {}", text(&b));
    let pacman = Pacman::new("conc", &format!("{}/race", s3.endpoint));
    let install = pacman.run(&["-Sy", "--noconfirm", "hello"]);
    assert!(install.status.success(), "{}", text(&install));

    // Signed: a publish stopped after it uploaded run A's file and signature, before its commit.
    // Run B's publish of its own build takes run A's, which the key's signature vouches for.
    let key = SigningKey::fixture();
    env.push(key.env());
    let signed_config = |bucket: &str| {
        s3.create_bucket(bucket);
        let path = dir.join(format!("{bucket}.yaml"));
        let text = std::fs::read_to_string(s3_config(&dir, &s3, bucket)).unwrap();
        std::fs::write(&path, text.replace("packages:", &format!("sign:\n  key: {}\npackages:", key.fingerprint)))
            .unwrap();
        path
    };
    let mut e = env.clone();
    e.push(("REPOCTL_WORK_DIR", dir.join("pub-signed-a").to_string()));
    // Publishing A somewhere signs out-a's file in place (out-a/FILE.sig).
    let out = repoctl(&["publish", "--config", signed_config("elsewhere").as_str(), dir.join("out-a").as_str()], &e);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stopped = signed_config("stopped");
    s3.put("stopped", file, bytes("a"));
    s3.put("stopped", &format!("{file}.sig"), std::fs::read(dir.join("out-a").join(format!("{file}.sig"))).unwrap());
    let mut e = env.clone();
    e.push(("REPOCTL_WORK_DIR", dir.join("pub-signed-b").to_string()));
    let out = repoctl(&["publish", "--config", stopped.as_str(), dir.join("out-b").as_str()], &e);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("signed by this key: publishing that build"), "{}", text(&out));
    let matched = entries_match_objects(&s3, "stopped");
    assert_eq!(matched, [(file.to_string(), true)]);
    assert_eq!(s3.get("stopped", file), bytes("a"));
    let strict = Pacman::signed("conc", &format!("{}/stopped", s3.endpoint), &key.public_key, &key.fingerprint);
    let install = strict.run(&["-Sy", "--noconfirm", "hello"]);
    assert!(install.status.success(), "{}", text(&install));
}
