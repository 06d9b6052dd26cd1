//! AWS S3's reading of request paths, in front of moto (aws_paths_proxy.py): a `+` in the path
//! is a space there, and moto alone reads it literally.
use super::process::{Server, python_server, repo_root};

/// The proxy: clients pointed at [`AwsPathsProxy::url`] see moto as AWS would answer them.
pub struct AwsPathsProxy {
    pub server: Server,
    /// `http://127.0.0.1:PORT`, to use where the moto endpoint would go.
    pub url: String,
}

impl AwsPathsProxy {
    /// Forwards to `upstream` (moto's endpoint, `http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> AwsPathsProxy {
        let script = repo_root().join("tests/support/aws_paths_proxy.py");
        let server = python_server(&script, &["--upstream", upstream, "--port", "0"]);
        AwsPathsProxy { url: format!("http://127.0.0.1:{}", server.port), server }
    }
}
