//! Processes the tests start: the repoctl binary under test, and the servers they talk to
//! (killed when dropped). Also the checkout's root and temporary directories.
use camino::{Utf8Path, Utf8PathBuf};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn repo_root() -> Utf8PathBuf {
    Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn tempdir() -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = Utf8PathBuf::try_from(dir.path().to_path_buf()).expect("UTF-8 temp path");
    (dir, path)
}

/// Runs the repoctl binary. `build`, `plan` and `review`, which build or show only what
/// repoctl.lock lets in, are preceded by `repoctl update` with the same `--config` and
/// environment ([`lock_heads`]), as a user locks the AUR's heads before building. Tests of the
/// lock itself, and of request counts, call [`repoctl_as_is`].
pub fn repoctl(args: &[&str], env: &[(&str, String)]) -> Output {
    lock_heads(args, env, None);
    repoctl_as_is(args, env)
}

/// Runs the repoctl binary with `args` and nothing before it.
pub fn repoctl_as_is(args: &[&str], env: &[(&str, String)]) -> Output {
    repoctl_command(args, env).stdin(Stdio::null()).output().expect("run repoctl")
}

/// Commands whose tests want the AUR's heads locked first.
const LOCKING: &[&str] = &["build", "plan", "review"];

/// When `args` is one of [`LOCKING`], runs `repoctl update` (in `cwd` when given) with the same
/// `--config`: the AUR's heads are locked, as a user's `repoctl update` would lock them with
/// no `trust:` holds. Its outcome is left to the command that follows (a test of a broken
/// repo.yaml sees the command's own error).
pub fn lock_heads(args: &[&str], env: &[(&str, String)], cwd: Option<&Utf8Path>) {
    if !args.first().is_some_and(|a| LOCKING.contains(a)) {
        return;
    }
    let mut update = vec!["update"];
    if let Some(i) = args.iter().position(|a| *a == "--config" || *a == "-c") {
        update.extend(args.get(i..=i + 1).unwrap_or_default());
    }
    let mut cmd = repoctl_command(&update, env);
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    cmd.stdin(Stdio::null()).output().expect("run repoctl update");
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

pub fn text(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A child process killed when dropped.
pub struct Server {
    pub(super) child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Python test server (`script args…`) that prints "PORT <n>" once it listens.
pub(super) fn python_server(script: &Utf8Path, args: &[&str]) -> Server {
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

pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

pub(super) fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port} after 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(super) fn http_get(url: &str) -> String {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async { reqwest::get(url).await.expect("GET").text().await.expect("body") })
}
