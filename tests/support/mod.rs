//! The test bed: real components on loopback. A moto S3 server, the AUR-compatible server in
//! aur_server.py, a real Docker daemon with the offline test image, and Debian's pacman as
//! the independent client of the published repository.
#![allow(dead_code)]

use camino::{Utf8Path, Utf8PathBuf};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod aws_proxy;
pub use aws_proxy::AwsPathsProxy;

pub const TESTBED_IMAGE: &str = "repoctl-testbed:latest";

pub fn repo_root() -> Utf8PathBuf {
    Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn tempdir() -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = Utf8PathBuf::try_from(dir.path().to_path_buf()).expect("UTF-8 temp path");
    (dir, path)
}

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
        for image in &leaked {
            let _ = Command::new("docker").args(["rmi", "-f", image]).output();
        }
        if !leaked.is_empty() && !std::thread::panicking() {
            panic!("a run's image was left behind: {leaked:?}");
        }
    }
}

/// `repoctl-builder:run-<seconds>-<pid>`: whether that pid is a repoctl process now.
fn run_is_alive(image: &str) -> bool {
    let Some(pid) = image.rsplit('-').next().and_then(|p| p.parse::<u32>().ok()) else { return false };
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "repoctl")
}

/// The per-run images (`repoctl-builder:run-<run id>`) in the daemon right now.
pub fn run_images() -> Vec<String> {
    let Ok(out) =
        Command::new("docker").args(["images", "--format", "{{.Repository}}:{{.Tag}}", "repoctl-builder"]).output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains(":run-")).map(str::to_string).collect()
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port} after 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Python test server (`script args…`) that prints "PORT <n>" once it listens.
fn python_server(script: &Utf8Path, args: &[&str]) -> Server {
    let mut child = Command::new("python3")
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read port");
    let port: u16 = line.trim().strip_prefix("PORT ").and_then(|p| p.parse().ok()).expect("PORT line");
    Server { child, port }
}

/// moto's S3 server.
pub struct S3 {
    pub server: Server,
    pub endpoint: String,
}

impl S3 {
    pub fn start() -> S3 {
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server (pip install 'moto[server]')");
        wait_for_port(port);
        S3 { server: Server { child, port }, endpoint: format!("http://127.0.0.1:{port}") }
    }

    fn client(&self) -> aws_sdk_s3::Client {
        let creds = aws_sdk_s3::config::Credentials::new("test", "test", None, None, "tests");
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .credentials_provider(creds)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub fn create_bucket(&self, bucket: &str) {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async { self.client().create_bucket().bucket(bucket).send().await.expect("create bucket") });
    }

    /// Keys in the bucket, sorted.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let out = self.client().list_objects_v2().bucket(bucket).send().await.expect("list objects");
            let mut keys: Vec<String> = out.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect();
            keys.sort();
            keys
        })
    }

    /// An object's metadata as a client sees it, or None when it does not exist.
    pub fn head(&self, bucket: &str, key: &str) -> Option<ObjectInfo> {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let out = self.client().head_object().bucket(bucket).key(key).send().await.ok()?;
            Some(ObjectInfo {
                size: out.content_length().unwrap_or(-1),
                etag: out.e_tag().unwrap_or_default().to_string(),
                last_modified: out.last_modified().map(|t| t.to_string()).unwrap_or_default(),
                content_type: out.content_type().unwrap_or_default().to_string(),
                cache_control: out.cache_control().unwrap_or_default().to_string(),
                sha256: out.metadata().and_then(|m| m.get("sha256")).cloned(),
            })
        })
    }

    /// An object's bytes.
    pub fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let out = self.client().get_object().bucket(bucket).key(key).send().await.expect("get object");
            out.body.collect().await.expect("object body").into_bytes().to_vec()
        })
    }

    /// Replaces an object's bytes behind repoctl's back, keeping it public.
    pub fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            self.client()
                .put_object()
                .bucket(bucket)
                .key(key)
                .acl(aws_sdk_s3::types::ObjectCannedAcl::PublicRead)
                .body(bytes.into())
                .send()
                .await
                .expect("put object")
        });
    }

    pub fn delete(&self, bucket: &str, key: &str) {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async { self.client().delete_object().bucket(bucket).key(key).send().await.expect("delete") });
    }

    /// Multipart uploads started and neither completed nor aborted.
    pub fn unfinished_uploads(&self, bucket: &str) -> usize {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let out = self.client().list_multipart_uploads().bucket(bucket).send().await.expect("list uploads");
            out.uploads().len()
        })
    }

    /// Environment for a repoctl process talking to this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

/// What HEAD says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: i64,
    pub etag: String,
    pub last_modified: String,
    pub content_type: String,
    pub cache_control: String,
    /// `x-amz-meta-sha256`.
    pub sha256: Option<String>,
}

/// The AUR-compatible server, serving bare repositories from a temporary directory.
pub struct Aur {
    pub server: Server,
    pub url: String,
    pub root: Utf8PathBuf,
    _dir: tempfile::TempDir,
}

impl Aur {
    pub fn start() -> Aur {
        Aur::start_with(0)
    }

    /// With `synthetic` in-memory packages `synth-00000`... besides the git-backed ones.
    pub fn start_with(synthetic: usize) -> Aur {
        let (dir, root) = tempdir();
        let script = repo_root().join("tests/support/aur_server.py");
        let synthetic = synthetic.to_string();
        let server = python_server(&script, &["--root", root.as_str(), "--port", "0", "--synthetic", &synthetic]);
        Aur { url: format!("http://127.0.0.1:{}", server.port), server, root, _dir: dir }
    }

    /// Publishes tests/fixtures/aur/<name> as the pkgbase `name`.
    pub fn push_fixture(&self, name: &str) {
        self.push_dir(name, &repo_root().join("tests/fixtures/aur").join(name));
    }

    /// Publishes (or updates with a new commit) the pkgbase `pkgbase` from a directory.
    pub fn push_dir(&self, pkgbase: &str, dir: &Utf8Path) {
        let (_w, work) = tempdir();
        let bare = self.root.join(format!("{pkgbase}.git"));
        if !bare.exists() {
            git(&self.root, &["init", "--quiet", "--bare", "--initial-branch=master", bare.as_str()]);
        }
        git(&work, &["clone", "--quiet", bare.as_str(), "w"]);
        let w = work.join("w");
        copy_tree(dir.as_std_path(), w.as_std_path());
        git(&w, &["add", "-A"]);
        git(&w, &["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "update"]);
        git(&w, &["push", "--quiet", "origin", "HEAD:master"]);
        git(&bare, &["update-server-info"]);
    }

    /// RPC requests answered so far.
    pub fn rpc_requests(&self) -> u64 {
        self.stat("rpc_requests")
    }

    /// `.SRCINFO` files served so far (cgit's `plain/.SRCINFO?h=PKGBASE`).
    pub fn srcinfo_requests(&self) -> u64 {
        self.stat("srcinfo_requests")
    }

    fn stat(&self, key: &str) -> u64 {
        let body = http_get(&format!("{}/__stats", self.url));
        let stats: serde_json::Value = serde_json::from_str(&body).expect("stats JSON");
        stats[key].as_u64().unwrap_or_else(|| panic!("no {key} in {body}"))
    }
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

/// Copies a fixture directory, subdirectories included (an AUR repository's keys/pgp/).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("fixture dir") {
        let entry = entry.expect("entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).expect("copy fixture");
        }
    }
}

fn git(dir: &Utf8Path, args: &[&str]) {
    let out = Command::new("git").current_dir(dir).args(args).output().expect("git");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn http_get(url: &str) -> String {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async { reqwest::get(url).await.expect("GET").text().await.expect("body") })
}

/// Runs the repoctl binary.
pub fn repoctl(args: &[&str], env: &[(&str, String)]) -> Output {
    repoctl_command(args, env).stdin(Stdio::null()).output().expect("run repoctl")
}

/// repoctl with `args` and `env`, and nothing of the test runner's own CI: these tests also run
/// under GitHub Actions (.github/workflows), whose variables would switch repoctl's output to
/// annotations and append to the runner's job summary. A test that wants them sets them.
pub fn repoctl_command(args: &[&str], env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_repoctl"));
    cmd.args(args).env_remove("RUST_LOG").env("NO_COLOR", "1");
    for var in ["GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_WORKSPACE", "GITHUB_OUTPUT", "GITHUB_ENV"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// The throwaway signing key in tests/fixtures/signing.
pub struct SigningKey {
    pub fingerprint: String,
    /// The armored public key, as a user imports it with pacman-key.
    pub public_key: Utf8PathBuf,
    secret_key: String,
}

impl SigningKey {
    pub fn fixture() -> SigningKey {
        let dir = repo_root().join("tests/fixtures/signing");
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("signing fixture");
        SigningKey {
            fingerprint: read("fingerprint").trim().to_string(),
            public_key: dir.join("public-key.asc"),
            secret_key: read("secret-key.asc"),
        }
    }

    /// The environment variable that hands repoctl the secret key.
    pub fn env(&self) -> (&'static str, String) {
        ("REPOCTL_SIGNING_KEY", self.secret_key.clone())
    }
}

pub fn text(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Debian's pacman, configured as a user's machine with its own root, pointed at a repository.
pub struct Pacman {
    pub dir: Utf8PathBuf,
    _tmp: tempfile::TempDir,
}

impl Pacman {
    pub fn new(repo: &str, server: &str) -> Pacman {
        Pacman::with_siglevel(repo, server, "Never")
    }

    /// A machine that trusts only `public_key` (armored) and requires signed packages and
    /// databases: `SigLevel = Required DatabaseRequired`, the key added with pacman-key and
    /// locally signed, as the README tells users to do.
    pub fn signed(repo: &str, server: &str, public_key: &Utf8Path, fingerprint: &str) -> Pacman {
        let pacman = Pacman::with_siglevel(repo, server, "Required DatabaseRequired");
        let gpgdir = pacman.dir.join("gnupg");
        for args in [vec!["--init"], vec!["--add", public_key.as_str()], vec!["--lsign-key", fingerprint]] {
            let out = Command::new("pacman-key")
                .arg("--gpgdir")
                .arg(&gpgdir)
                .args(&args)
                .stdin(Stdio::null())
                .output()
                .expect("pacman-key");
            assert!(out.status.success(), "pacman-key {args:?}: {}", text(&out));
        }
        pacman
    }

    fn with_siglevel(repo: &str, server: &str, siglevel: &str) -> Pacman {
        let (tmp, dir) = tempdir();
        for d in ["root", "db", "cache", "gnupg", "hooks"] {
            std::fs::create_dir_all(dir.join(d)).expect("mkdir");
        }
        let conf = format!(
            "[options]\nRootDir = {d}/root\nDBPath = {d}/db\nCacheDir = {d}/cache\nLogFile = {d}/pacman.log\n\
GPGDir = {d}/gnupg\nHookDir = {d}/hooks\nArchitecture = auto\nSigLevel = {siglevel}\n\n[{repo}]\nServer = {server}\n",
            d = dir
        );
        std::fs::write(dir.join("pacman.conf"), conf).expect("pacman.conf");
        Pacman { dir, _tmp: tmp }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("pacman")
            .arg("--config")
            .arg(self.dir.join("pacman.conf"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("pacman (apt-get install pacman-package-manager)")
    }

    /// `pacman -Sl repo` as (pkgname, version) pairs, after a refresh.
    pub fn list(&self, repo: &str) -> Vec<(String, String)> {
        let sync = self.run(&["-Syy"]);
        assert!(sync.status.success(), "pacman -Syy failed:\n{}", text(&sync));
        let out = self.run(&["-Sl", repo]);
        assert!(out.status.success(), "pacman -Sl failed:\n{}", text(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                let (_repo, name, version) = (it.next()?, it.next()?, it.next()?);
                Some((name.to_string(), version.to_string()))
            })
            .collect()
    }

    pub fn installed_file(&self, path: &str) -> Utf8PathBuf {
        self.dir.join("root").join(path.trim_start_matches('/'))
    }
}
