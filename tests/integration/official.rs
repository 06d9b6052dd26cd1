//! The official repositories as the builder image's pacman sees them: the test image's
//! stand-in [core] (debian-base, which provides sh, glibc, git, ...) and empty [extra], served
//! from `file:///srv/archlinux` inside the image. The http(s) path (a conditional GET per
//! repository) is tested against a loopback HTTP server in src/official/tests.rs.
use crate::support::{Bed, TESTBED_IMAGE, docker, repoctl_command, repoctl_containers, tempdir, text};
use std::process::{Command, Output, Stdio};

/// The run label (`io.repoctl.run`) of every repoctl container the daemon created between
/// `since` (Unix seconds) and now, from its event log.
fn containers_created(since: u64) -> Vec<String> {
    let run = repoctl::docker::LABEL_RUN;
    let out = Command::new("docker")
        .args(["events", "--since", &since.to_string(), "--until", &now_secs().to_string()])
        .args(["--filter", "type=container", "--filter", "event=create"])
        .args(["--filter", &format!("label={}", repoctl::docker::LABEL_MANAGED)])
        .args(["--format", &format!("{{{{index .Actor.Attributes \"{run}\"}}}}")])
        .output()
        .expect("docker events");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

fn now_secs() -> u64 {
    // `--until` is exclusive at second resolution: one second on covers the last event.
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1
}

#[test]
fn the_builder_images_sync_databases_say_what_official_packages_satisfy() {
    let Some(_docker) = docker() else { return };
    let (_t, dir) = tempdir();
    let cache = dir.join("official");
    let run_id = format!("official-test-{}", std::process::id());
    let mine = |since| containers_created(since).iter().filter(|r| **r == run_id).count();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let since = now_secs() - 1;
    let (builder, cold, warm, stamp_after_cold, stamp_after_warm) = rt.block_on(async {
        let docker = repoctl::docker::Docker::connect(&run_id, &dir).await.unwrap();
        let mut log = |line: &str| eprint!("{line}");
        let builder = repoctl::build::ensure_builder_image(&docker, TESTBED_IMAGE, &mut log).await.unwrap();
        let start = std::time::Instant::now();
        let cold = repoctl::official::load(&docker, &builder, &cache).await.unwrap();
        eprintln!("cold load: {:?}", start.elapsed());
        let stamp_after_cold = std::fs::read_to_string(cache.join("stamp")).unwrap();
        let start = std::time::Instant::now();
        let warm = repoctl::official::load(&docker, &builder, &cache).await.unwrap();
        eprintln!("warm load: {:?}", start.elapsed());
        let stamp_after_warm = std::fs::read_to_string(cache.join("stamp")).unwrap();
        (builder, cold, warm, stamp_after_cold, stamp_after_warm)
    });

    for official in [&cold, &warm] {
        assert_eq!(official.repos(), ["core", "extra"]);
        let sh = official.satisfier("sh").expect("something official provides sh");
        assert_eq!((sh.repo.as_str(), sh.name.as_str()), ("core", "debian-base"));
        assert!(official.satisfier("glibc").is_some());
        assert!(official.satisfier("no-such-name").is_none());
    }
    assert_eq!(cold.sync_db_digests(), warm.sync_db_digests());
    assert!(cache.join("core.db").is_file() && cache.join("extra.db").is_file());
    // The servers as the image's pacman expands its mirrorlist ($repo, $arch).
    let stamp: serde_json::Value = serde_json::from_str(&stamp_after_cold).unwrap();
    assert_eq!(stamp["repos"][0]["servers"], serde_json::json!(["file:///srv/archlinux/core/os/x86_64"]), "{stamp}");
    // The second call: the databases are files inside the immutable image, so the copy is
    // current; no container, the stamp untouched.
    assert_eq!(mine(since), 1, "the warm call ran a container");
    assert_eq!(stamp_after_cold, stamp_after_warm);

    // The cache of another builder image is not this one's: fetched again through it.
    let other = stamp_after_cold.replace(&builder, "repoctl-builder:another");
    std::fs::write(cache.join("stamp"), other).unwrap();
    rt.block_on(async {
        let docker = repoctl::docker::Docker::connect(&run_id, &dir).await.unwrap();
        repoctl::official::load(&docker, &builder, &cache).await.unwrap();
    });
    assert_eq!(mine(since), 2, "another image's cache was used");
    assert_eq!(std::fs::read_to_string(cache.join("stamp")).unwrap(), stamp_after_cold);
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// `repoctl COMMAND --config repo.yaml ARGS` in `bed`, and the containers it created.
fn run_counting(bed: &Bed, command: &str, args: &[&str]) -> (Output, usize) {
    let since = now_secs() - 1;
    let mut all = vec![command, "--config", bed.config.as_str()];
    all.extend_from_slice(args);
    let mut cmd = repoctl_command(&all, &bed.env());
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run repoctl");
    // Its run id is `SECONDS-PID` (commands::new_run_id).
    let suffix = format!("-{}", child.id());
    let out = child.wait_with_output().expect("wait for repoctl");
    assert_eq!(out.status.code(), Some(0), "repoctl {command}: {}", text(&out));
    let created = containers_created(since).iter().filter(|run| run.ends_with(&suffix)).count();
    (out, created)
}

#[test]
fn a_second_plan_starts_no_container_and_plans_the_same() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.aur.push_fixture("foo-app");
    bed.aur.push_fixture("libfoo");
    let yaml =
        format!("name: official\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - foo-app\n");
    std::fs::write(&bed.config, yaml).unwrap();

    // The first use of the builder image reads its databases through a container.
    let (_, first_update) = run_counting(&bed, "update", &[]);
    let (first, first_plan) = run_counting(&bed, "plan", &["--json"]);
    assert_eq!(first_update + first_plan, 1, "one container for the official databases");

    // A no-op nightly: the lock and the plan again, with no container at all.
    let (_, second_update) = run_counting(&bed, "update", &[]);
    let (second, second_plan) = run_counting(&bed, "plan", &["--json"]);
    assert_eq!((second_update, second_plan), (0, 0), "a warm update or plan started a container");
    let plan = |out: &Output| serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["packages"].clone();
    assert_eq!(plan(&first), plan(&second));
    let packages = plan(&first);
    let order: Vec<&str> = packages.as_array().unwrap().iter().filter_map(|p| p["pkgbase"].as_str()).collect();
    assert_eq!(order, ["libfoo", "foo-app"], "{}", text(&first));
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}
