//! Docker for the tests: one test at a time on the machine (the guard), the leak detector that
//! runs when a test lets go of Docker, and what the tests ask the daemon (labelled containers,
//! pins, superseded synced images, the bridge's gateway). Tag formats and labels come from the library.
use super::process::text;
use std::process::Command;

/// The offline test image (images/testbed/build.sh). `REPOCTL_TESTBED_IMAGE` at compile time
/// names another tag, to try a changed recipe without retagging the one every checkout uses.
pub const TESTBED_IMAGE: &str = match option_env!("REPOCTL_TESTBED_IMAGE") {
    Some(image) => image,
    None => "repoctl-testbed:latest",
};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// Tests that use Docker run one at a time, so "no container is left" means this test's.
static DOCKER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Held while a test uses Docker: the in-process mutex, plus an exclusive lock on a file in the
/// system temp directory so that test binaries (and several checkouts) on one machine take turns.
pub struct DockerGuard {
    _local: std::sync::MutexGuard<'static, ()>,
    _machine: std::fs::File,
}

/// What a run must not leave behind (issue #16), checked when a test lets go of Docker: a pin
/// container of a run that is over (its image could then never be removed), or a synced image
/// that a newer one superseded and that no run holds (the run that let go of it last should have
/// removed it): a user would see the disk fill up. The current synced image of each builder
/// image (`repoctl-builder:synced-*`) stays: it is the cache, and its tag makes it one per builder
/// image. What leaked is removed so that the next test starts clean, and the test that leaked it
/// fails, naming it. Pins of runs still going (a repoctl process with that pid: a real run on
/// this machine) are left alone. Runs before the locks are released, and never panics while a
/// test is already failing.
impl Drop for DockerGuard {
    fn drop(&mut self) {
        let mut leaked: Vec<String> = Vec::new();
        for (container, run) in pins() {
            if !run_is_alive(&run) {
                let _ = Command::new("docker").args(["rm", "-f", &container]).output();
                leaked.push(format!("pin container {container} of run {run}"));
            }
        }
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let superseded = rt.block_on(async {
            let docker = repoctl::docker::Docker::connect("probe", camino::Utf8Path::new("/nonexistent")).await.ok()?;
            let mut removed = Vec::new();
            for id in docker.superseded_images().await.ok()? {
                // Held by a run (its pin): not a leak. Otherwise removed, and it was one.
                if docker.remove_image_unless_used(&id).await.unwrap_or(false) {
                    removed.push(format!("superseded synced image {id}"));
                }
            }
            Some(removed)
        });
        leaked.extend(superseded.unwrap_or_default());
        remove_orphaned_source_caches();
        if !leaked.is_empty() && !std::thread::panicking() {
            panic!("left behind by a run: {leaked:?} (repoctl warned on stderr if the daemon refused a removal)");
        }
    }
}

/// Source cache volumes are one per pkgbase and work directory: those of the tests' work
/// directories (under the system temp directory) that are gone would pile up run after run.
/// Not a leak (a user's stay for the next run); removed quietly, and only when unused.
fn remove_orphaned_source_caches() {
    let format = format!("{{{{.Name}}}} {{{{.Label \"{}\"}}}}", repoctl::docker::LABEL_WORK_DIR);
    let filter = format!("label={}=source-cache", repoctl::docker::LABEL_PURPOSE);
    let Ok(out) = Command::new("docker").args(["volume", "ls", "--filter", &filter, "--format", &format]).output()
    else {
        return;
    };
    let temp = std::fs::canonicalize(std::env::temp_dir()).unwrap_or_else(|_| std::env::temp_dir());
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((volume, work)) = line.split_once(' ') else { continue };
        let work = std::path::Path::new(work);
        if work.starts_with(&temp) && !work.exists() {
            let _ = Command::new("docker").args(["volume", "rm", volume]).output();
        }
    }
}

/// Whether the run `run` (`SECS-PID`) is a repoctl process now.
fn run_is_alive(run: &str) -> bool {
    let Some(pid) = run.rsplit_once('-').and_then(|(_, pid)| pid.parse::<u32>().ok()) else { return false };
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "repoctl")
}

/// The pin containers ([`repoctl::docker::Docker::pin_image`]) in the daemon now, as
/// (container ID, run).
pub fn pins() -> Vec<(String, String)> {
    let purpose = format!("label={}=pin", repoctl::docker::LABEL_PURPOSE);
    let format = format!("{{{{.ID}}}} {{{{.Label \"{}\"}}}}", repoctl::docker::LABEL_RUN);
    let Ok(out) = Command::new("docker").args(["ps", "-a", "--filter", &purpose, "--format", &format]).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(id, run)| (id.to_string(), run.to_string())))
        .collect()
}

/// The superseded synced images in the daemon now, held or not.
pub fn superseded_images() -> Vec<String> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let docker =
            repoctl::docker::Docker::connect("probe", camino::Utf8Path::new("/nonexistent")).await.expect("docker");
        docker.superseded_images().await.expect("list images")
    })
}

/// Docker, exclusively, when it and the test image are usable. Under CI=true their absence is
/// a failure, never a skip; elsewhere the test says why it skips.
pub fn docker() -> Option<DockerGuard> {
    let local = DOCKER.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let lock_path = std::env::temp_dir().join("repoctl-docker-tests.lock");
    let machine = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("open {}: {e}", lock_path.display()));
    machine.lock().unwrap_or_else(|e| panic!("lock {}: {e}", lock_path.display()));
    let guard = DockerGuard { _local: local, _machine: machine };
    match docker_problem() {
        None => Some(guard),
        Some(why) if in_ci() => panic!("CI=true but {why}; run images/testbed/build.sh and start Docker"),
        Some(why) => {
            eprintln!("SKIPPING: {why} (set CI=true to make this a failure)");
            None
        }
    }
}

fn docker_problem() -> Option<String> {
    let rt = tokio::runtime::Runtime::new().ok()?;
    rt.block_on(async {
        let docker = match repoctl::docker::Docker::connect("probe", camino::Utf8Path::new("/nonexistent")).await {
            Ok(d) => d,
            Err(e) => return Some(format!("no Docker daemon answers ({e})")),
        };
        match docker.image_id(TESTBED_IMAGE).await {
            Ok(Some(_)) => None,
            Ok(None) => Some(format!("the image {TESTBED_IMAGE} is missing")),
            Err(e) => Some(e.to_string()),
        }
    })
}

/// Containers that carry repoctl's label right now.
pub fn repoctl_containers() -> usize {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let docker =
            repoctl::docker::Docker::connect("probe", camino::Utf8Path::new("/nonexistent")).await.expect("docker");
        docker.count_labelled().await.expect("list containers")
    })
}

/// The Docker bridge's gateway (this host, as build containers reach it), or the subnet's first
/// address when the daemon does not record one (as Docker 20.10 does not).
pub fn bridge_gateway() -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(
            "docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}} {{.Subnet}}{{end}}' \
             | awk '{ if ($1 ~ /\\./ && $2 != \"\") print $1; else { split($1, a, \"[./]\"); print a[1]\".\"a[2]\".\"a[3]\".1\" } }'",
        )
        .output()
        .expect("docker network inspect");
    let gateway = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(gateway.split('.').count() == 4, "no bridge gateway: {gateway:?} {}", text(&out));
    gateway
}
