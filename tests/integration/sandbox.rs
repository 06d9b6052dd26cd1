//! Build containers are untrusted code runners: what a PKGBUILD finds when it looks around.
use crate::support::{Aur, Pacman, TESTBED_IMAGE, docker, repoctl, repoctl_containers, tempdir, text};

#[test]
fn a_pkgbuild_finds_no_root_no_sudo_no_secrets_and_no_host() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("inspector");
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    let signing = crate::support::repo_root().join("tests/fixtures/signing");
    let fingerprint = std::fs::read_to_string(signing.join("fingerprint")).unwrap();
    std::fs::write(
        &config,
        format!(
            "name: sandbox\nbuilder:\n  image: {TESTBED_IMAGE}\nsign:\n  key: {}\npackages:\n  - inspector\n",
            fingerprint.trim()
        ),
    )
    .unwrap();
    // The host has credentials and the signing key this run signs with; none of it may reach
    // the build.
    let env = [
        ("AUR_LOCATION", aur.url.clone()),
        ("REPOCTL_WORK_DIR", dir.join("work").to_string()),
        ("AWS_ACCESS_KEY_ID", "AKIASANDBOXTEST".into()),
        ("AWS_SECRET_ACCESS_KEY", "do-not-leak".into()),
        ("REPOCTL_SIGNING_KEY", std::fs::read_to_string(signing.join("secret-key.asc")).unwrap()),
        ("GITHUB_TOKEN", "ghs_do-not-leak".into()),
    ];
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(dir.join("repo/inspector-1.0-1-any.pkg.tar.zst.sig").is_file(), "the run did not sign");
    let pacman = Pacman::new("sandbox", &format!("file://{}", dir.join("repo")));
    assert_eq!(pacman.list("sandbox").len(), 1);
    let install = pacman.run(&["-S", "--noconfirm", "inspector"]);
    assert!(install.status.success(), "{}", text(&install));
    let findings = std::fs::read_to_string(pacman.installed_file("usr/share/inspector/findings")).unwrap();
    let get = |key: &str| {
        findings
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key} missing:\n{findings}"))
            .to_string()
    };
    assert_ne!(get("uid"), "0", "makepkg ran as root");
    assert_eq!(get("sudo"), "fails");
    assert_eq!(get("nonewprivs"), "1", "no_new_privs is not set");
    let capbnd = u64::from_str_radix(&get("capbnd"), 16).unwrap();
    // Docker's default set is 0x00000000a80425fb (14 capabilities); ours keeps 8.
    assert_eq!(capbnd.count_ones(), 8, "capability bounding set {capbnd:#x} is not the reduced one");
    assert_eq!(capbnd & (1 << 13), 0, "CAP_NET_RAW is kept");
    assert_eq!(get("docker_socket"), "absent");
    assert_eq!(get("secret_vars"), "0", "credentials or signing variables reached the build:\n{findings}");
    // No host directory is mounted: neither the work directory nor anything of the test's.
    let mounts = findings.split("mounts:").nth(1).unwrap_or_default();
    assert!(!mounts.contains(dir.as_str()), "a host path is mounted:\n{mounts}");
    assert!(!mounts.lines().any(|l| l.contains("/home") || l.contains("docker.sock")), "{mounts}");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// `capabilities: [CAP_IPC_LOCK]` reaches that package's build container and no other: in one
/// run, the same PKGBUILD (which fails unless its build() holds IPC_LOCK, as the `builder` user) builds with the
/// grant and fails without it.
#[test]
fn a_granted_capability_reaches_only_its_own_package() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("caps-probe");
    let (_t, dir) = tempdir();
    let plain = dir.join("caps-probe-plain");
    std::fs::create_dir_all(&plain).unwrap();
    let fixture = crate::support::repo_root().join("tests/fixtures/aur/caps-probe");
    for file in ["PKGBUILD", ".SRCINFO"] {
        let text = std::fs::read_to_string(fixture.join(file)).unwrap();
        std::fs::write(plain.join(file), text.replace("caps-probe\n", "caps-probe-plain\n")).unwrap();
    }
    aur.push_dir("caps-probe-plain", &plain);
    let config = dir.join("repo.yaml");
    std::fs::write(
        &config,
        format!(
            "name: caps\nbuilder:\n  image: {TESTBED_IMAGE}\n  jobs: 2\npackages:\n  - name: caps-probe\n    \
capabilities: [CAP_IPC_LOCK]\n  - caps-probe-plain\n"
        ),
    )
    .unwrap();
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(dir.join("repo/caps-probe-1.0-1-any.pkg.tar.zst").is_file(), "the granted build failed:\n{}", text(&out));
    assert!(!dir.join("repo/caps-probe-plain-1.0-1-any.pkg.tar.zst").exists());
    assert!(text(&out).contains("caps-probe: build() does not hold CAP_IPC_LOCK"), "{}", text(&out));
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// Ctrl-C while two builds run: repoctl stops them, removes every container of the run, publishes
/// nothing, and exits 130 within seconds.
#[test]
fn sigint_during_two_builds_leaves_nothing_behind() {
    use std::time::{Duration, Instant};
    let Some(_docker) = docker() else { return };
    let s3 = crate::support::S3::start();
    s3.create_bucket("sigint");
    let aur = Aur::start();
    aur.push_fixture("slow");
    aur.push_fixture("slow-b");
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    std::fs::write(
        &config,
        format!(
            "name: sigint\ns3:\n  bucket: sigint\n  endpoint: {}\nbuilder:\n  image: {TESTBED_IMAGE}\n  jobs: 2\npackages:\n  - slow\n  - slow-b\n",
            s3.endpoint
        ),
    )
    .unwrap();
    let mut env = vec![("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];
    env.extend(s3.env());
    crate::support::lock_heads(&["build", "--config", config.as_str()], &env, None);
    let mut cmd = crate::support::repoctl_command(&["build", "--config", config.as_str()], &[]);
    cmd.env("AUR_LOCATION", &aur.url)
        .env("REPOCTL_WORK_DIR", dir.join("work"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in s3.env() {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    // Wait until both builds are inside their containers (the run image's refresh container
    // comes and goes first).
    let started = Instant::now();
    while count_build_containers() < 2 {
        assert!(started.elapsed() < Duration::from_secs(180), "the two builds never started");
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_secs(2));
    let interrupted = Instant::now();
    let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let took = interrupted.elapsed();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(took < Duration::from_secs(20), "repoctl took {took:?} to stop after SIGINT");
    assert_eq!(repoctl_containers(), 0, "containers left behind after SIGINT");
    assert_eq!(s3.keys("sigint"), Vec::<String>::new(), "something was published");
}

fn count_build_containers() -> usize {
    running_containers().iter().filter(|n| n.contains("-build-")).count()
}

/// The names of the running containers repoctl labelled.
fn running_containers() -> Vec<String> {
    let out = std::process::Command::new("docker")
        .args(["ps", "--filter", "label=io.repoctl.managed=true", "--format", "{{.Names}}"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

/// The publish's repo-add container is started while the build runs. When it is gone by the
/// time the build ends (killed here, as a daemon restart or `docker container prune` would),
/// the publish starts a fresh one: the package is published, and nothing is left behind.
#[test]
fn a_repo_add_container_killed_during_the_build_is_replaced() {
    use std::time::{Duration, Instant};
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    let (_t, dir) = tempdir();
    // `slow`, made to wait 15 s instead of an hour.
    let pause = dir.join("pause");
    std::fs::create_dir_all(&pause).unwrap();
    let fixture = crate::support::repo_root().join("tests/fixtures/aur/slow");
    for file in ["PKGBUILD", ".SRCINFO"] {
        let text = std::fs::read_to_string(fixture.join(file)).unwrap();
        std::fs::write(pause.join(file), text.replace("slow", "pause").replace("sleep 3600", "sleep 15")).unwrap();
    }
    aur.push_dir("pause", &pause);
    let config = dir.join("repo.yaml");
    std::fs::write(&config, format!("name: ahead\nbuilder:\n  image: {TESTBED_IMAGE}\npackages: [pause]\n")).unwrap();
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];
    crate::support::lock_heads(&["build", "--config", config.as_str()], &env, None);
    let mut cmd = crate::support::repoctl_command(&["build", "--config", config.as_str()], &env);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let started = Instant::now();
    let ahead = loop {
        let running = running_containers();
        if running.iter().any(|n| n.contains("-build-pause"))
            && let Some(repo_add) = running.iter().find(|n| n.ends_with("-repo-add"))
        {
            break repo_add.clone();
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no repo-add container while the build ran");
        std::thread::sleep(Duration::from_millis(200));
    };
    let kill = std::process::Command::new("docker").args(["kill", &ahead]).output().unwrap();
    assert!(kill.status.success(), "{}", text(&kill));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pacman = Pacman::new("ahead", &format!("file://{}", dir.join("repo")));
    assert_eq!(pacman.list("ahead"), [("pause".to_string(), "1.0-1".to_string())]);
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// `repoctl clean` finds what a dead run of its work directory left (by label) and removes it;
/// --dry-run only lists.
#[test]
fn clean_removes_the_leftovers_of_dead_runs() {
    let Some(_docker) = docker() else { return };
    let (_t, work) = work_dir();
    let leftover = std::process::Command::new("docker")
        .args(["run", "-d", "--label", "io.repoctl.managed=true", "--label", "io.repoctl.run=1-4194303"])
        .args(["--label", &format!("io.repoctl.work-dir={work}")])
        .args([TESTBED_IMAGE, "sleep", "300"])
        .output()
        .unwrap();
    assert!(leftover.status.success(), "{}", text(&leftover));
    let id = String::from_utf8_lossy(&leftover.stdout).trim().to_string();
    let _gone = Removed(vec![("container", id.clone())]);
    assert_eq!(repoctl_containers(), 1);
    let clean = |extra: &[&str]| repoctl(&[&["clean", "--work-dir", work.as_str()][..], extra].concat(), &[]);

    let dry = clean(&["--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    assert!(String::from_utf8_lossy(&dry.stdout).contains(&format!("would remove container {id} (run 1-4194303)")));
    assert_eq!(repoctl_containers(), 1, "--dry-run removed something");

    let out = clean(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(repoctl_containers(), 0, "{}", text(&out));
    let again = clean(&[]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to clean"), "{}", text(&again));
}

/// A work directory of its own for a test of `clean`, as repoctl labels it (absolute, resolved).
fn work_dir() -> (tempfile::TempDir, camino::Utf8PathBuf) {
    let (t, dir) = tempdir();
    let resolved = camino::Utf8PathBuf::try_from(std::fs::canonicalize(&dir).unwrap()).unwrap();
    (t, resolved)
}

/// What a test made by hand in the daemon (`container`, `volume`, `network`, `image` with its
/// ID), removed when the test ends, passed or failed: the daemon is shared with other checkouts.
struct Removed(Vec<(&'static str, String)>);

impl Drop for Removed {
    fn drop(&mut self) {
        for (what, id) in &self.0 {
            let args: &[&str] = match *what {
                "container" => &["rm", "-f"],
                "image" => &["rmi", "-f"],
                other => &[other, "rm"],
            };
            let _ = std::process::Command::new("docker").args(args).arg(id).output();
        }
    }
}

/// A dead run's pin and the superseded synced image it held: `repoctl clean` removes the pin,
/// then the image (which no run holds any more); a held one would have stayed.
#[test]
fn clean_removes_a_dead_runs_pin_and_the_superseded_image_it_held() {
    use std::process::Command;
    let Some(_docker) = docker() else { return };
    let docker = |args: &[&str]| {
        let out = Command::new("docker").args(args).output().unwrap();
        assert!(out.status.success(), "docker {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // An untagged image labelled as a synced image: what a newer one leaves when it takes the tag.
    let (_t, work) = work_dir();
    let source = docker(&["create", TESTBED_IMAGE, "true"]);
    let label = format!("LABEL {}=core={}", repoctl::docker::LABEL_SYNC_DBS, "0".repeat(64));
    let owner = format!("LABEL io.repoctl.work-dir={work}");
    let image = docker(
        &[
            &["commit", "--change", &label, "--change", "LABEL io.repoctl.managed=true", "--change", &owner][..],
            &[&source],
        ]
        .concat(),
    );
    docker(&["rm", &source]);
    let owner = format!("io.repoctl.work-dir={work}");
    let run = ["--label", "io.repoctl.managed=true", "--label", "io.repoctl.run=1-4194303", "--label", &owner];
    let pin = docker(&[&["create"][..], &run, &["--label", "io.repoctl.purpose=pin", &image, "true"]].concat());
    let _gone = Removed(vec![("container", pin.clone()), ("image", image.clone())]);
    assert_eq!(crate::support::superseded_images(), std::slice::from_ref(&image));

    let dry = repoctl(&["clean", "--dry-run", "--work-dir", work.as_str()], &[]);
    assert!(
        String::from_utf8_lossy(&dry.stdout).contains(&format!("would remove superseded image {image}")),
        "{}",
        text(&dry)
    );
    let out = repoctl(&["clean", "--work-dir", work.as_str()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("removed container {pin}")), "{}", text(&out));
    assert!(stdout.contains(&format!("removed superseded image {image}")), "{}", text(&out));
    assert!(crate::support::superseded_images().is_empty() && crate::support::pins().is_empty());
}

/// A reader that goes away (`repoctl build 2>&1 | head -3`, a CI log reader that stops early)
/// does not stop the run half way: it builds, publishes and removes its containers and pin as
/// it would with a terminal. Printing to a closed pipe used to panic (exit 101) with the pin
/// container left and a package file uploaded that no database listed.
#[test]
fn a_build_whose_output_is_closed_finishes_and_leaves_nothing() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("hello");
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    std::fs::write(&config, format!("name: closed\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - hello\n"))
        .unwrap();
    let env = vec![("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];
    crate::support::lock_heads(&["build", "--config", config.as_str()], &env, None);
    let mut cmd = crate::support::repoctl_command(&["build", "--no-progress", "--config", config.as_str()], &env);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Both ends read by nobody from the start: every write repoctl makes fails with EPIPE.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "repoctl did not finish with a closed output");
    let pacman = Pacman::new("closed", &format!("file://{}", dir.join("repo")));
    assert_eq!(pacman.list("closed"), [("hello".to_string(), "1.0-1".to_string())]);
    assert_eq!(repoctl_containers(), 0, "containers (or the run's pin) left behind");
}

/// A leftover of a dead run of the work directory `work`: a container, a cache volume and a
/// network, labelled as repoctl labels what it makes. Returns (container ID, volume, network).
fn leftovers_of(work: &camino::Utf8Path, tag: &str) -> (String, String, String) {
    let labels = [
        "--label".to_string(),
        "io.repoctl.managed=true".to_string(),
        "--label".to_string(),
        "io.repoctl.run=1-4194303".to_string(),
        "--label".to_string(),
        format!("io.repoctl.work-dir={work}"),
    ];
    let docker = |args: &[&str]| {
        let out = std::process::Command::new("docker").args(args).output().unwrap();
        assert!(out.status.success(), "docker {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let name = format!("repoctl-test-clean-{tag}-{}", std::process::id());
    let container = docker(&[&["run", "-d"][..], &labels, &[TESTBED_IMAGE, "sleep", "300"]].concat());
    docker(&[&["volume", "create"][..], &labels, &[&name]].concat());
    docker(&[&["network", "create"][..], &labels, &[&name]].concat());
    (container, name.clone(), name)
}

impl Removed {
    fn leftovers(made: &(String, String, String)) -> Removed {
        Removed(vec![("container", made.0.clone()), ("volume", made.1.clone()), ("network", made.2.clone())])
    }
}

/// Whether the daemon still has `what` (`container`, `volume` or `network`) `id`.
fn exists(what: &str, id: &str) -> bool {
    std::process::Command::new("docker").args([what, "inspect", id]).output().unwrap().status.success()
}

/// `repoctl clean` works on its own work directory's resources (issue 24, item 6): what a
/// dead run of another work directory left stays, even with --caches, until that one is
/// cleaned; the dry run lists only its own.
#[test]
fn clean_in_one_work_dir_leaves_another_work_dirs_leftovers() {
    let Some(_docker) = docker() else { return };
    let (_t, dir) = tempdir();
    let work = |name: &str| {
        let w = dir.join(name);
        std::fs::create_dir_all(&w).unwrap();
        camino::Utf8PathBuf::try_from(std::fs::canonicalize(&w).unwrap()).unwrap()
    };
    let (a, b) = (work("a"), work("b"));
    let ours = leftovers_of(&a, "a");
    let _ours = Removed::leftovers(&ours);
    let theirs = leftovers_of(&b, "b");
    let _theirs = Removed::leftovers(&theirs);

    let dry = repoctl(&["clean", "--dry-run", "--caches", "--work-dir", a.as_str()], &[]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    let listed = String::from_utf8_lossy(&dry.stdout);
    for id in [&ours.0, &ours.1] {
        assert!(listed.contains(id.as_str()), "{id} of this work dir is not listed:\n{}", text(&dry));
    }
    assert!(!listed.contains(&theirs.0) && !listed.contains(&theirs.1), "another work dir's listed:\n{}", text(&dry));

    let out = repoctl(&["clean", "--caches", "--work-dir", a.as_str()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !exists("container", &ours.0) && !exists("volume", &ours.1) && !exists("network", &ours.2),
        "{}",
        text(&out)
    );
    let kept = exists("container", &theirs.0) && exists("volume", &theirs.1) && exists("network", &theirs.2);
    assert!(kept, "clean in {a} removed what a run in {b} left:\n{}", text(&out));

    let out = repoctl(&["clean", "--caches", "--work-dir", b.as_str()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!exists("container", &theirs.0) && !exists("volume", &theirs.1) && !exists("network", &theirs.2));
    assert_eq!(repoctl_containers(), 0);
}

/// A run that is still going keeps every container and network it made, whatever `clean` is
/// asked: in its own work directory, with and without --caches, and machine-wide with
/// --all-work-dirs --caches. The machine-wide one runs with --dry-run only: the daemon is shared
/// with other checkouts, whose caches are not this test's to remove; it must list the live
/// run's resources as left alone and none as to be removed (`remove_leftover` refuses a live
/// one whatever it is asked). Ctrl-C then ends the run as usual, leaving nothing.
#[test]
fn clean_never_touches_a_live_runs_containers_even_machine_wide() {
    use std::time::{Duration, Instant};
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("slow");
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    std::fs::write(&config, format!("name: live\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - slow\n")).unwrap();
    let work = dir.join("work");
    let env = vec![("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", work.to_string())];
    crate::support::lock_heads(&["build", "--config", config.as_str()], &env, None);
    let mut cmd = crate::support::repoctl_command(&["build", "--config", config.as_str()], &env);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = Interrupted(Some(cmd.spawn().unwrap()));
    let started = Instant::now();
    let owner = loop {
        if let Ok(work) = std::fs::canonicalize(&work) {
            let owner = format!("io.repoctl.work-dir={}", work.display());
            if labelled("ps", "-q", &owner).len() >= 2 {
                break owner; // the pin and the build container (or repo-add's, started ahead)
            }
        }
        assert!(started.elapsed() < Duration::from_secs(180), "the build never started");
        std::thread::sleep(Duration::from_millis(250));
    };
    while !labelled("ps", "-q", &owner).iter().any(|id| container_name(id).contains("-build-slow")) {
        assert!(started.elapsed() < Duration::from_secs(180), "the build never started");
        std::thread::sleep(Duration::from_millis(250));
    }
    // The run's long-lived containers: its pin, the build and repo-add's (started ahead). Not
    // those that come and go by themselves meanwhile (the guard's helpers, the sources' fetch,
    // the pacman cache's copy): one of those may be gone by the time `clean` looks, for no fault
    // of `clean`'s.
    let long_lived = |id: &String| {
        let name = container_name(id);
        ["-pin", "-build-slow", "-repo-add"].iter().any(|purpose| name.ends_with(purpose))
    };
    let all_before: Vec<String> = labelled("ps", "-aq", &owner).into_iter().filter(long_lived).collect();
    assert!(all_before.iter().any(|id| container_name(id).ends_with("-pin")), "the run pinned no image");
    let networks_before = labelled("network ls", "-q", &owner);
    assert!(!networks_before.is_empty(), "the run has no network");

    let (_o, other) = tempdir();
    for args in [
        vec!["clean", "--work-dir", work.as_str()],
        vec!["clean", "--caches", "--work-dir", work.as_str()],
        vec!["clean", "--dry-run", "--all-work-dirs", "--caches", "--work-dir", other.as_str()],
    ] {
        let out = repoctl(&args, &[]);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        for id in all_before.iter().chain(&networks_before) {
            let line = stdout.lines().find(|l| l.contains(id.as_str()));
            let left_alone =
                line.is_some_and(|l| l.starts_with("left alone ") && l.ends_with("its run is still going"));
            assert!(left_alone, "{args:?} does not leave {id} alone: {line:?}\n{}", text(&out));
        }
        let containers = labelled("ps", "-aq", &owner);
        let gone: Vec<&String> = all_before.iter().filter(|c| !containers.contains(c)).collect();
        assert!(gone.is_empty(), "{args:?} removed containers of a live run {gone:?}:\n{}", text(&out));
        let networks = labelled("network ls", "-q", &owner);
        let gone: Vec<&String> = networks_before.iter().filter(|n| !networks.contains(n)).collect();
        assert!(gone.is_empty(), "{args:?} removed networks of a live run {gone:?}:\n{}", text(&out));
    }

    let out = child.interrupt();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert_eq!(repoctl_containers(), 0, "containers left behind after SIGINT");
    assert!(labelled("network ls", "-q", &owner).is_empty(), "the run's network was left behind");
}

/// A repoctl run that is sent SIGINT when the test is done with it, or when it fails: a run
/// left going would hold its containers for an hour.
struct Interrupted(Option<std::process::Child>);

impl Interrupted {
    /// SIGINT, then what the run printed and its exit status.
    fn interrupt(&mut self) -> std::process::Output {
        let child = self.0.take().expect("interrupted once");
        let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
        assert!(kill.success());
        child.wait_with_output().unwrap()
    }
}

impl Drop for Interrupted {
    fn drop(&mut self) {
        if self.0.is_some() {
            let _ = self.interrupt();
        }
    }
}

/// IDs of what repoctl labelled and `label` names, from `docker SUBCOMMAND --filter label=...
/// QUIET_FLAG` (containers with `ps -aq`, networks with `network ls -q`), full IDs.
fn labelled(subcommand: &str, quiet: &str, label: &str) -> Vec<String> {
    let mut args: Vec<&str> = subcommand.split(' ').collect();
    let label = format!("label={label}");
    args.extend(["--filter", "label=io.repoctl.managed=true", "--filter", &label, quiet, "--no-trunc"]);
    let out = std::process::Command::new("docker").args(&args).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

/// A container's name, as `docker inspect` gives it.
fn container_name(id: &str) -> String {
    let out = std::process::Command::new("docker").args(["inspect", "-f", "{{.Name}}", id]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A dependency's install scriptlet runs as root in its dependant's build container (issue 23,
/// item 4). This one (`evil-dep`) writes into every cache it can find there, the dependant's
/// source cache (makepkg's SRCDEST, a volume kept between runs) and the pacman package cache
/// shared by every build on the machine, and leaves a process behind that keeps trying while
/// the dependant builds. The dependant (`victim-git`) downloads a file whose checksum is SKIP
/// and clones a git upstream, as VCS packages do: what it packages is what upstream served, in
/// its first build and in the later ones that a pkgver() check starts when upstream moves,
/// which take the file from the source cache; neither cache holds a trace of the scriptlet.
#[test]
fn a_dependencys_scriptlet_cannot_touch_its_dependants_sources_or_the_pacman_cache() {
    let Some(_docker) = docker() else { return };
    let (_t, dir) = tempdir();
    let upstream = Upstream::serve(&dir);
    let aur = Aur::start();
    push_pkgbuild(&aur, &dir, "evil-dep", EVIL_DEP, Some(("evil.install", EVIL_INSTALL)));
    let victim = VICTIM.replace("@URL@", &upstream.url).replace("@GIT@", &upstream.git);
    push_pkgbuild(&aur, &dir, "victim-git", &victim, None);
    let config = dir.join("repo.yaml");
    let yaml = format!(
        "name: tamper\nbuilder:\n  image: {TESTBED_IMAGE}\n  allow_host: [{}]\npackages:\n  - victim-git\n",
        upstream.host
    );
    std::fs::write(&config, yaml).unwrap();
    let work = dir.join("work");
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", work.to_string())];
    let caches = Caches::of(&work);
    let build = |what: &str, data: &str| {
        let out = repoctl(&["build", "--config", config.as_str()], &env);
        assert_eq!(out.status.code(), Some(0), "{what}: {}\n{}", text(&out), build_logs(&work, "victim-git"));
        assert!(text(&out).contains("victim-git: built"), "{what}: victim-git was not built: {}", text(&out));
        let packaged = installed(&dir, "tamper");
        assert_eq!(
            packaged,
            ("what upstream serves\n".to_string(), format!("{data}\n")),
            "{what} packaged a tampered file"
        );
    };

    build("the first build", "first");
    // Upstream moves, twice: each run checks pkgver() (a VCS package the AUR calls up to date),
    // then builds, the file taken from the source cache and the git mirror updated there; the
    // scriptlet runs in every container that installs evil-dep.
    upstream.commit("second");
    build("a later build", "second");
    upstream.commit("third");
    build("the build after that", "third");

    let (sources, packages) = (caches.list_sources(), caches.list_pacman_cache());
    assert!(!sources.contains("TAMPERED"), "the scriptlet wrote into victim-git's source cache:\n{sources}");
    assert!(sources.contains("data.txt") && sources.contains("up"), "the source cache lacks the downloads:\n{sources}");
    assert!(!packages.contains("TAMPERED"), "the scriptlet wrote into the shared pacman cache:\n{packages}");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

const EVIL_DEP: &str = r#"pkgname=evil-dep
pkgver=1.0
pkgrel=1
pkgdesc='An AUR dependency whose install scriptlet tampers with what it finds'
arch=('any')
license=('MIT')
install=evil.install

package() {
  install -d "$pkgdir/usr/share/evil-dep"
}
"#;

const EVIL_INSTALL: &str = r#"tamper() {
  for d in /repoctl/srcdest /repoctl/srcdest-cache /var/cache/pacman/pkg /var/cache/pacman/shared; do
    echo tampered > "$d/TAMPERED" 2>/dev/null
    [ -f "$d/data.txt" ] && echo tampered > "$d/data.txt" 2>/dev/null
    for repo in "$d"/*/; do
      [ -d "$repo" ] && echo tampered > "$repo/TAMPERED" 2>/dev/null
    done
  done
  return 0
}

post_install() {
  tamper
  # Left behind: it keeps trying while the dependant builds.
  (i=0; while [ $i -lt 240 ]; do tamper; sleep 0.25; i=$((i + 1)); done) > /dev/null 2>&1 &
}
"#;

const VICTIM: &str = r#"pkgname=victim-git
pkgver=r0
pkgrel=1
pkgdesc='Depends on evil-dep; packages a file it downloads, unchecked, and a git upstream'
arch=('any')
license=('MIT')
depends=('evil-dep')
makedepends=('git')
source=("data.txt::@URL@" "up::git+@GIT@#branch=main")
sha256sums=('SKIP' 'SKIP')

pkgver() {
  cd up
  printf 'r%s' "$(git rev-list --count HEAD)"
}

build() {
  sleep 3
}

package() {
  install -Dm644 data.txt "$pkgdir/usr/share/victim/data.txt"
  install -Dm644 up/DATA "$pkgdir/usr/share/victim/DATA"
}
"#;

/// An upstream on this machine, served over HTTP where build containers reach it (the Docker
/// bridge's gateway, which repo.yaml then allows): a file and a git repository (dumb HTTP).
struct Upstream {
    host: String,
    /// The file's URL.
    url: String,
    /// The git repository's URL.
    git: String,
    work: camino::Utf8PathBuf,
    served: camino::Utf8PathBuf,
    _http: Killed,
}

impl Upstream {
    fn serve(dir: &camino::Utf8Path) -> Upstream {
        let served = dir.join("upstream");
        std::fs::create_dir_all(&served).unwrap();
        std::fs::write(served.join("data.txt"), "what upstream serves\n").unwrap();
        let host = crate::support::bridge_gateway();
        let port = std::net::TcpListener::bind("0.0.0.0:0").unwrap().local_addr().unwrap().port();
        let http = std::process::Command::new("python3")
            .args(["-m", "http.server", "--bind", "0.0.0.0", &port.to_string(), "--directory", served.as_str()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let work = dir.join("upstream-work");
        sh(
            dir,
            &format!("git init -q --bare --initial-branch=main {served}/up.git && git clone -q {served}/up.git {work}"),
        );
        let (url, git) = (format!("http://{host}:{port}/data.txt"), format!("http://{host}:{port}/up.git"));
        let upstream = Upstream { host, url, git, work, served, _http: Killed(http) };
        upstream.commit("first");
        upstream
    }

    /// A commit whose DATA holds `data`, pushed and served.
    fn commit(&self, data: &str) {
        sh(
            &self.work,
            &format!(
                "echo {data} > DATA && git add DATA && git -c user.name=u -c user.email=u@example.org commit -q -m {data} \
                 && git push -q origin HEAD:main && git -C {}/up.git update-server-info",
                self.served
            ),
        );
    }
}

fn sh(dir: &camino::Utf8Path, script: &str) {
    let out = std::process::Command::new("sh").arg("-c").arg(script).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{script}: {}", text(&out));
}

/// Every run's build log of `pkgbase` under the work directory `work`, for a failure message.
fn build_logs(work: &camino::Utf8Path, pkgbase: &str) -> String {
    let runs = std::fs::read_dir(work.join("runs")).map(|d| d.flatten().collect::<Vec<_>>()).unwrap_or_default();
    let logs = runs.iter().filter_map(|r| std::fs::read_to_string(r.path().join(format!("logs/{pkgbase}.log"))).ok());
    logs.map(|l| format!("--- {pkgbase}.log\n{l}")).collect()
}

/// Pushes a pkgbase made of `pkgbuild` (and one more file) to `aur`, with its `.SRCINFO`.
fn push_pkgbuild(aur: &Aur, dir: &camino::Utf8Path, pkgbase: &str, pkgbuild: &str, extra: Option<(&str, &str)>) {
    let pkg = dir.join("pkgbuilds").join(pkgbase);
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("PKGBUILD"), pkgbuild).unwrap();
    if let Some((name, body)) = extra {
        std::fs::write(pkg.join(name), body).unwrap();
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("chmod -R a+rwX . && su nobody -s /bin/sh -c 'makepkg --printsrcinfo' > .SRCINFO")
        .current_dir(&pkg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    aur.push_dir(pkgbase, &pkg);
}

/// `usr/share/victim/data.txt` and `DATA` of victim-git as the repository `repo` (in DIR/repo)
/// serves it now.
fn installed(dir: &camino::Utf8Path, repo: &str) -> (String, String) {
    let pacman = Pacman::new(repo, &format!("file://{}", dir.join("repo")));
    let install = pacman.run(&["-Sy", "--noconfirm", "victim-git"]);
    assert!(install.status.success(), "{}", text(&install));
    let read =
        |file: &str| std::fs::read_to_string(pacman.installed_file(&format!("usr/share/victim/{file}"))).unwrap();
    (read("data.txt"), read("DATA"))
}

/// The caches the test looks into: victim's source cache volume (removed when the test ends)
/// and the shared pacman cache (the scriptlet's marks removed from it, if it left any).
struct Caches {
    sources: String,
}

impl Caches {
    fn of(work: &camino::Utf8Path) -> Caches {
        std::fs::create_dir_all(work).unwrap();
        let label = repoctl::docker::work_dir_label(work);
        Caches { sources: repoctl::build::source_cache_volume(&label, "victim-git") }
    }

    fn list(volume: &str) -> String {
        let out = std::process::Command::new("docker")
            .args(["run", "--rm", "--network", "none", "-v", &format!("{volume}:/v:ro"), TESTBED_IMAGE])
            .args(["sh", "-c", "cd /v && find . -maxdepth 3 && cat data.txt 2>/dev/null; true"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn list_sources(&self) -> String {
        Caches::list(&self.sources)
    }

    fn list_pacman_cache(&self) -> String {
        Caches::list(repoctl::build::PACMAN_CACHE_VOLUME)
    }
}

impl Drop for Caches {
    fn drop(&mut self) {
        let cache = format!("{}:/v", repoctl::build::PACMAN_CACHE_VOLUME);
        let _ = std::process::Command::new("docker")
            .args(["run", "--rm", "--network", "none", "-v", &cache, TESTBED_IMAGE, "rm", "-f", "/v/TAMPERED"])
            .output();
        let _ = std::process::Command::new("docker").args(["volume", "rm", "-f", &self.sources]).output();
    }
}

/// A child process killed when the test ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Red-team finding: run IDs were `SECS-PID`, which two processes in separate PID namespaces
/// sharing one daemon (two CI runners, two containers) can both make, and the sweep at a run's
/// end removed every container labelled with its run ID. Run IDs now have a random part; and a
/// container of another process under the same run ID survives the sweep, while this
/// process's own is removed.
#[test]
fn the_end_of_run_sweep_removes_only_this_processs_containers_of_its_run_id() {
    use std::process::Command;
    let Some(_docker) = docker() else { return };
    let (_t, dir) = tempdir();
    // An old-style run ID, which the other process made too.
    let run_id = format!("1700000000-{}", std::process::id());
    let create = |process: &str| {
        let label = |k: &str, v: &str| format!("{k}={v}");
        let out = Command::new("docker")
            .args(["create", "--label", &label(repoctl::docker::LABEL_MANAGED, "true")])
            .args(["--label", &label(repoctl::docker::LABEL_RUN, &run_id)])
            .args(["--label", &label(repoctl::docker::LABEL_PROCESS, process)])
            .args([TESTBED_IMAGE, "true"])
            .output()
            .expect("docker create");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let exists = |id: &str| Command::new("docker").args(["inspect", id]).output().unwrap().status.success();
    let theirs = create("host=another-namespace boot=x pid=1 start=1");
    let ours = create(&repoctl::docker::Process::current().expect("Linux /proc").label());
    let errors = tokio::runtime::Runtime::new().unwrap().block_on(async {
        repoctl::docker::Docker::connect(&run_id, &dir).await.expect("docker");
        repoctl::docker::sweep_runs().await
    });
    let (theirs_left, ours_left) = (exists(&theirs), exists(&ours));
    let _ = Command::new("docker").args(["rm", "-f", &theirs, &ours]).output();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(theirs_left, "the sweep removed another process's container of the same run ID");
    assert!(!ours_left, "the sweep left this process's own container");
}
