//! A repository in an S3 bucket (or any S3-compatible store), through aws-sdk-s3. The only
//! module that knows the SDK. Credentials come from the standard AWS chain (environment,
//! profiles, web identity), never from repo.yaml.
use super::{ObjectKind, PublishError, Target};
use crate::config::S3Config;
use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ObjectCannedAcl;
use camino::Utf8Path;
use tokio::io::AsyncWriteExt;

pub struct S3Target {
    client: Client,
    bucket: String,
    prefix: String,
    acl: Option<ObjectCannedAcl>,
}

/// `REPOCTL_S3_ANONYMOUS=true`: read the bucket without credentials (unsigned requests).
fn anonymous() -> bool {
    std::env::var_os(crate::env::S3_ANONYMOUS).is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

impl S3Target {
    pub async fn new(config: &S3Config) -> S3Target {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = &config.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if anonymous() {
            // Pull requests plan and build with no secret: a public bucket is read unsigned.
            loader = loader.no_credentials();
        }
        let shared = loader.load().await;
        // Transient errors (throttling, 5xx, dropped connections) are retried with jittered
        // exponential backoff; a user's own AWS_MAX_ATTEMPTS still wins when set.
        let mut builder = aws_sdk_s3::config::Builder::from(&shared);
        if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
            builder = builder.retry_config(
                aws_sdk_s3::config::retry::RetryConfig::standard()
                    .with_max_attempts(5)
                    .with_initial_backoff(std::time::Duration::from_millis(200)),
            );
        }
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint).force_path_style(true);
            if shared.region().is_none() {
                // S3-compatible stores ignore the region, but the SDK wants one to sign.
                builder = builder.region(aws_config::Region::new("us-east-1"));
            }
        }
        S3Target {
            client: Client::from_conf(builder.build()),
            bucket: config.bucket.clone(),
            prefix: config.prefix.clone(),
            acl: config.acl.as_deref().map(ObjectCannedAcl::from),
        }
    }

    fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_string() } else { format!("{}/{name}", self.prefix) }
    }

    fn remote<E: std::error::Error + Send + Sync + 'static>(
        &self,
        op: &'static str,
        name: &str,
        err: E,
    ) -> PublishError {
        PublishError::Remote {
            op,
            name: name.to_string(),
            target: self.describe(),
            message: format!("{}", DisplayErrorContext(err)),
        }
    }

    async fn get(
        &self,
        name: &str,
    ) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, PublishError> {
        match self.client.get_object().bucket(&self.bucket).key(self.key(name)).send().await {
            Ok(out) => Ok(Some(out)),
            Err(err) => {
                let not_found = err.as_service_error().is_some_and(|e| e.is_no_such_key())
                    || err.raw_response().is_some_and(|r| r.status().as_u16() == 404);
                if not_found { Ok(None) } else { Err(self.remote("reading", name, err)) }
            }
        }
    }
}

#[async_trait]
impl Target for S3Target {
    fn describe(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    async fn fetch(&self, name: &str, limit: u64) -> Result<Option<Vec<u8>>, PublishError> {
        Ok(self.fetch_versioned(name, limit).await?.map(|(bytes, _)| bytes))
    }

    async fn fetch_versioned(&self, name: &str, limit: u64) -> Result<Option<(Vec<u8>, String)>, PublishError> {
        let Some(out) = self.get(name).await? else { return Ok(None) };
        if out.content_length().is_some_and(|l| l < 0 || l as u64 > limit) {
            return Err(PublishError::TooLarge { name: name.to_string(), target: self.describe(), limit });
        }
        let etag = out.e_tag().unwrap_or_default().to_string();
        let mut body = out.body;
        let mut bytes = Vec::new();
        while let Some(chunk) = body.try_next().await.map_err(|e| self.remote("reading", name, e))? {
            if bytes.len() as u64 + chunk.len() as u64 > limit {
                return Err(PublishError::TooLarge { name: name.to_string(), target: self.describe(), limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some((bytes, etag)))
    }

    async fn upload_if(&self, name: &str, src: &Utf8Path, expected: Option<&str>) -> Result<bool, PublishError> {
        let body = ByteStream::from_path(src).await.map_err(|e| self.remote("reading local file for", name, e))?;
        let kind = ObjectKind::of(name);
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(name))
            .body(body)
            .content_type(ObjectKind::content_type(name))
            .cache_control(kind.cache_control());
        put = match expected {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        if let Some(acl) = &self.acl {
            put = put.acl(acl.clone());
        }
        match put.send().await {
            Ok(_) => Ok(true),
            // 412: the object is not at that version any more; 409: a concurrent conditional
            // write to the same key is in progress.
            Err(err) if err.raw_response().is_some_and(|r| matches!(r.status().as_u16(), 412 | 409)) => Ok(false),
            Err(err) => Err(self.remote("uploading", name, err)),
        }
    }

    async fn download(&self, name: &str, dest: &Utf8Path) -> Result<(), PublishError> {
        let io = |source| PublishError::Io { path: dest.to_owned(), source };
        let Some(out) = self.get(name).await? else {
            return Err(PublishError::Remote {
                op: "reading",
                name: name.into(),
                target: self.describe(),
                message: "not found".into(),
            });
        };
        let mut body = out.body;
        let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
        while let Some(chunk) = body.try_next().await.map_err(|e| self.remote("reading", name, e))? {
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)
    }

    async fn upload(&self, name: &str, src: &Utf8Path) -> Result<(), PublishError> {
        let body = ByteStream::from_path(src).await.map_err(|e| self.remote("reading local file for", name, e))?;
        let kind = ObjectKind::of(name);
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(name))
            .body(body)
            .content_type(ObjectKind::content_type(name))
            .cache_control(kind.cache_control());
        if let Some(acl) = &self.acl {
            put = put.acl(acl.clone());
        }
        put.send().await.map_err(|e| self.remote("uploading", name, e))?;
        Ok(())
    }

    async fn delete(&self, name: &str) -> Result<(), PublishError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.key(name))
            .send()
            .await
            .map_err(|e| self.remote("deleting", name, e))?;
        Ok(())
    }
}
