//! moto's S3 server on loopback, and a client that looks at the bucket behind repoctl's back.
use super::process::{Server, free_port, wait_for_port};
use std::process::{Command, Stdio};

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

    /// Every object in the bucket, by key, with its ETag and last-modified time as the listing
    /// gives them: two listings are equal only when no object was written in between.
    pub fn objects(&self, bucket: &str) -> std::collections::BTreeMap<String, (String, String)> {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let out = self.client().list_objects_v2().bucket(bucket).send().await.expect("list objects");
            out.contents()
                .iter()
                .filter_map(|o| {
                    let modified = o.last_modified().map(|t| t.to_string()).unwrap_or_default();
                    Some((o.key()?.to_string(), (o.e_tag().unwrap_or_default().to_string(), modified)))
                })
                .collect()
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
                content_encoding: out.content_encoding().unwrap_or_default().to_string(),
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
    /// `Content-Encoding` (empty when none).
    pub content_encoding: String,
    /// `x-amz-meta-sha256`.
    pub sha256: Option<String>,
}
