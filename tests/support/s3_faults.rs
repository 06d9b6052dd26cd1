//! moto made to misbehave on purpose (s3_faults_proxy.py): a store that ignores conditional
//! writes, and a PUT held back so that two publishers race in one order every time.
use super::process::{Server, python_server, repo_root};
use camino::Utf8PathBuf;
use std::time::{Duration, Instant};

/// The proxy: clients pointed at [`S3Faults::url`] reach moto through it.
pub struct S3Faults {
    pub server: Server,
    /// `http://127.0.0.1:PORT`, to use where the moto endpoint would go.
    pub url: String,
    signal: Option<Utf8PathBuf>,
}

impl S3Faults {
    /// A store that drops `If-Match` and `If-None-Match` before moto sees them.
    pub fn ignoring_conditions(upstream: &str) -> S3Faults {
        S3Faults::start(upstream, &["--drop-conditions"], None)
    }

    /// Holds the first PUT whose key ends with `suffix` until [`S3Faults::release`];
    /// `signal` is an empty directory the proxy and the test share.
    pub fn holding_put(upstream: &str, suffix: &str, signal: Utf8PathBuf) -> S3Faults {
        S3Faults::start(upstream, &["--hold-put", suffix, "--signal", signal.as_str()], Some(signal.clone()))
    }

    fn start(upstream: &str, extra: &[&str], signal: Option<Utf8PathBuf>) -> S3Faults {
        let script = repo_root().join("tests/support/s3_faults_proxy.py");
        let mut args = vec!["--upstream", upstream, "--port", "0"];
        args.extend(extra);
        let server = python_server(&script, &args);
        S3Faults { url: format!("http://127.0.0.1:{}", server.port), server, signal }
    }

    /// Waits until the held PUT arrived (at most `timeout`); false if it never did.
    pub fn wait_held(&self, timeout: Duration) -> bool {
        let Some(signal) = &self.signal else { return false };
        let deadline = Instant::now() + timeout;
        while !signal.join("held").exists() {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }

    /// Lets the held PUT go on to moto.
    pub fn release(&self) {
        if let Some(signal) = &self.signal {
            std::fs::write(signal.join("release"), b"").expect("release the held PUT");
        }
    }
}
