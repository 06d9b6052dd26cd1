//! The official repositories as the builder image's pacman sees them: the test image's
//! stand-in [core] (debian-base, which provides sh, glibc, git, ...) and empty [extra].
use crate::support::{TESTBED_IMAGE, docker, repoctl_containers, tempdir};
use std::process::Command;
use std::time::Duration;

/// How many containers labelled with run `run_id` the daemon created between `since` (unix
/// seconds) and now, from its event log.
fn containers_created(run_id: &str, since: u64) -> usize {
    let out = Command::new("docker")
        .args(["events", "--since", &since.to_string(), "--until", &now_secs().to_string()])
        .args(["--filter", "type=container", "--filter", "event=create"])
        .args(["--filter", &format!("label={}={run_id}", repoctl::docker::LABEL_RUN)])
        .args(["--format", "{{.ID}}"])
        .output()
        .expect("docker events");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).count()
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
    let rt = tokio::runtime::Runtime::new().unwrap();
    let since = now_secs() - 1;
    let (builder, cold, warm, stamp_after_cold, stamp_after_warm) = rt.block_on(async {
        let docker = repoctl::docker::Docker::connect(&run_id).await.unwrap();
        let mut log = |line: &str| eprint!("{line}");
        let builder = repoctl::build::ensure_builder_image(&docker, TESTBED_IMAGE, &mut log).await.unwrap();
        let hour = Duration::from_secs(3600);
        let start = std::time::Instant::now();
        let cold = repoctl::official::load(&docker, &builder, &cache, hour).await.unwrap();
        eprintln!("cold load: {:?}", start.elapsed());
        let stamp_after_cold = std::fs::read(cache.join("stamp")).unwrap();
        let start = std::time::Instant::now();
        let warm = repoctl::official::load(&docker, &builder, &cache, hour).await.unwrap();
        eprintln!("warm load: {:?}", start.elapsed());
        let stamp_after_warm = std::fs::read(cache.join("stamp")).unwrap();
        (builder, cold, warm, stamp_after_cold, stamp_after_warm)
    });

    for official in [&cold, &warm] {
        assert_eq!(official.repos(), ["core", "extra"]);
        let sh = official.satisfier("sh").expect("something official provides sh");
        assert_eq!((sh.repo.as_str(), sh.name.as_str()), ("core", "debian-base"));
        assert!(official.satisfier("glibc").is_some());
        assert!(official.satisfier("no-such-name").is_none());
    }
    assert_eq!(cold.len(), warm.len());
    assert!(cache.join("core.db").is_file() && cache.join("extra.db").is_file());
    // The second call read the cache: one container for both calls, the stamp untouched.
    assert_eq!(containers_created(&run_id, since), 1, "the warm call ran a container");
    assert_eq!(stamp_after_cold, stamp_after_warm);

    // A cache older than max_age is fetched again.
    rt.block_on(async {
        let docker = repoctl::docker::Docker::connect(&run_id).await.unwrap();
        repoctl::official::load(&docker, &builder, &cache, Duration::ZERO).await.unwrap();
    });
    assert_eq!(containers_created(&run_id, since), 2, "a stale cache was used");
    assert_ne!(std::fs::read(cache.join("stamp")).unwrap(), stamp_after_cold);
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}
