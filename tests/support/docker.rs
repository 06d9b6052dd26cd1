//! Docker for the tests: one test at a time on the machine (the guard), the leak detector that
//! runs when a test lets go of Docker, and what the tests ask the daemon (labelled containers,
//! run images, the bridge's gateway). Tag formats and labels come from the library.
use super::process::text;
use std::process::Command;

pub const TESTBED_IMAGE: &str = "repoctl-testbed:latest";

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

/// A run's image (`repoctl-builder:run-*`) outliving the run that made it is a leak a user
/// would see as a disk filling up: the test that leaked it fails, naming the image, and the
/// image is removed so that the next test starts clean. Images of runs still going (a repoctl
/// process with that pid: a real run on this machine) are left alone. Runs before the locks
/// are released, and never panics while a test is already failing.
impl Drop for DockerGuard {
    fn drop(&mut self) {
        let leaked: Vec<String> = run_images().into_iter().filter(|image| !run_is_alive(image)).collect();
        // What still used each image says why it stayed (a container the run did not remove, or
        // none: the daemon refused the removal).
        let users: Vec<String> = leaked
            .iter()
            .map(|image| {
                let ps = Command::new("docker")
                    .args(["ps", "-a", "--filter", &format!("ancestor={image}"), "--format", "{{.Names}} {{.Status}}"])
                    .output();
                format!(
                    "{image}: used by [{}]",
                    ps.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
                )
            })
            .collect();
        for image in &leaked {
            let _ = Command::new("docker").args(["rmi", "-f", image]).output();
        }
        if !leaked.is_empty() && !std::thread::panicking() {
            panic!(
                "a run's image was left behind: {users:?} (repoctl warned on stderr if the daemon refused its removal)"
            );
        }
    }
}

/// Whether the run that made the run image `image` is a repoctl process now.
fn run_is_alive(image: &str) -> bool {
    let Some(pid) = repoctl::build::run_image_pid(image) else { return false };
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "repoctl")
}

/// The per-run images ([`repoctl::build::run_image_tag`]) in the daemon right now.
pub fn run_images() -> Vec<String> {
    let prefix = repoctl::build::run_image_tag("");
    let repository = prefix.split_once(':').map_or(prefix.as_str(), |(repository, _)| repository);
    let Ok(out) = Command::new("docker").args(["images", "--format", "{{.Repository}}:{{.Tag}}", repository]).output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with(&prefix)).map(str::to_string).collect()
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
        let docker = match repoctl::docker::Docker::connect("probe").await {
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
        let docker = repoctl::docker::Docker::connect("probe").await.expect("docker");
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
