//! A repository in an S3 bucket (or any S3-compatible store), through aws-sdk-s3. The only
//! module that knows the SDK. Credentials come from the standard AWS chain (environment,
//! profiles, web identity), never from repo.yaml.
//!
//! Uploads (issue #4, "publishing that never breaks the repository"):
//! - every object carries its SHA-256 as `x-amz-meta-sha256`; a package file whose key already
//!   holds an object of the same size and hash is not sent again, so a run that follows an
//!   interrupted publish only sends what is missing;
//! - files above [`MULTIPART_THRESHOLD`] go up as a multipart upload, each part streamed from
//!   its offset in the file and a few in flight, so memory does not grow with the package; any
//!   failure aborts the upload so that no orphan parts are left to pay for.
//!
//! Names with `+` (issue #11): AWS reads `+` in a request path as a space, so every such object
//! also lives under the key AWS looks up ([`aws_path_alias`]), written and deleted with it.
use super::{Created, ObjectKind, PublishError, Target};
use crate::config::S3Config;
use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, ObjectCannedAcl};
use camino::{Utf8Path, Utf8PathBuf};
use futures_util::{StreamExt, TryStreamExt};
use tokio::io::AsyncWriteExt;

const MIB: u64 = 1024 * 1024;
/// Files larger than this go up in parts (`REPOCTL_MULTIPART_THRESHOLD` overrides it).
pub const MULTIPART_THRESHOLD: u64 = 64 * MIB;
/// The usual part size; larger only when a file would need more than [`MAX_PARTS`].
const PART_SIZE: u64 = 16 * MIB;
/// S3 refuses smaller parts (except the last).
const MIN_PART_SIZE: u64 = 5 * MIB;
/// S3 accepts at most this many parts per upload.
const MAX_PARTS: u64 = 10_000;
/// Parts of one file uploaded at the same time. The publisher sends a few files at once, so
/// at most a few times this many requests are open.
const PARTS_IN_FLIGHT: usize = 4;
/// Read buffer of a part's body: what one part holds in memory at a time.
const READ_BUFFER: usize = 256 * 1024;
/// The object metadata key holding the file's SHA-256 (`x-amz-meta-sha256`).
const SHA256_META: &str = "sha256";

pub struct S3Target {
    client: Client,
    bucket: String,
    prefix: String,
    acl: Option<ObjectCannedAcl>,
    multipart_threshold: u64,
    /// Where pacman reads the repository ([`public_url`]).
    public_url: String,
}

/// The URL pacman reads a bucket's prefix from: under a configured `endpoint` (MinIO, R2,
/// moto) path-style, `ENDPOINT/BUCKET/PREFIX`, as repoctl itself addresses it; on AWS the
/// virtual-hosted address `https://BUCKET.s3.REGION.amazonaws.com/PREFIX` (AWS's documented
/// form, <https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html>), without
/// the region when none is known.
fn public_url(config: &S3Config, region: Option<&str>) -> String {
    let base = match (&config.endpoint, region) {
        (Some(endpoint), _) => format!("{}/{}", endpoint.trim_end_matches('/'), config.bucket),
        (None, Some(region)) => format!("https://{}.s3.{region}.amazonaws.com", config.bucket),
        (None, None) => format!("https://{}.s3.amazonaws.com", config.bucket),
    };
    if config.prefix.is_empty() {
        return base;
    }
    // Each segment of the prefix percent-encoded, as pacman must ask for it.
    let Ok(mut url) = url::Url::parse(&base) else { return format!("{base}/{}", config.prefix) };
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(config.prefix.split('/'));
    }
    url.to_string()
}

/// The multipart threshold: `REPOCTL_MULTIPART_THRESHOLD` (bytes) when set and valid, else
/// [`MULTIPART_THRESHOLD`]. Never below S3's minimum part size.
fn multipart_threshold() -> u64 {
    let configured = std::env::var(crate::env::MULTIPART_THRESHOLD).ok().and_then(|v| v.trim().parse::<u64>().ok());
    configured.unwrap_or(MULTIPART_THRESHOLD).max(MIN_PART_SIZE)
}

/// Part size for a file of `size` bytes: [`PART_SIZE`] (or the threshold, if smaller), grown
/// when needed to stay within [`MAX_PARTS`].
fn part_size(size: u64, threshold: u64) -> u64 {
    PART_SIZE.min(threshold).max(MIN_PART_SIZE).max(size.div_ceil(MAX_PARTS))
}

/// A local file's SHA-256, lowercase hex, read on a blocking thread.
async fn sha256_file(path: &Utf8Path) -> Result<String, PublishError> {
    let owned = path.to_owned();
    let io = |source| PublishError::Io { path: path.to_owned(), source };
    tokio::task::spawn_blocking(move || crate::trust::signed::sha256_of_file(&owned))
        .await
        .map_err(|e| io(std::io::Error::other(e)))?
        .map_err(io)
}

/// What a write asks of the object already under its key (S3's conditional writes:
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>).
#[derive(Debug, Clone, Copy)]
enum Condition<'a> {
    /// Replace whatever is there.
    None,
    /// `If-None-Match: *`: only if there is no object.
    Absent,
    /// `If-Match: ETAG`: only if the object is at this version.
    Version(&'a str),
}

/// The key AWS S3 looks up when a client asks for `name` with an unescaped URL, when that is
/// not `name` itself: each `+` replaced by a space.
///
/// AWS S3 decodes `+` in a request *path* as a space (a long-standing behaviour, as in a form's
/// query string), and pacman puts file names into download URLs unescaped: `GET
/// .../foo-1.0+r3-1-any.pkg.tar.zst` reads the key `foo-1.0 r3-1-any.pkg.tar.zst` and gets 404.
/// apt repositories on S3 use the same workaround: a second object under this name. None for a
/// name without `+`. Repository names cannot hold `+` (`[a-z0-9][a-z0-9._-]*`), so the
/// databases never need one; package files (versions like `1.0+r3`, pkgnames like `libc++`)
/// and their companions (`.sig`, `.provenance.json`) do.
fn aws_path_alias(name: &str) -> Option<String> {
    name.contains('+').then(|| name.replace('+', " "))
}

/// `name` and, when it has one, its [`aws_path_alias`]: the objects one published file is.
fn object_names(name: &str) -> impl Iterator<Item = String> {
    std::iter::once(name.to_string()).chain(aws_path_alias(name))
}

/// Whether a write was refused because its condition did not hold: 412 Precondition Failed,
/// or 409 ConditionalRequestConflict (a concurrent conditional write to the same key).
fn is_precondition_failure(response: Option<&aws_sdk_s3::config::http::HttpResponse>) -> bool {
    response.is_some_and(|r| matches!(r.status().as_u16(), 412 | 409))
}

/// The object the conditional-write probe writes and deletes: repoctl's own name, which no
/// package, database or page can have (they never start with a dot).
fn probe_name() -> String {
    format!(".repoctl-probe-{:016x}", rand::random::<u64>())
}

/// An ETag no object has: what the probe's `If-Match` names.
const NO_SUCH_ETAG: &str = "\"00000000000000000000000000000000\"";

/// A local file about to be uploaded.
struct Source<'a> {
    path: &'a Utf8Path,
    size: u64,
    sha256: String,
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
        let public_url = public_url(config, shared.region().map(|r| r.as_ref()));
        S3Target {
            public_url,
            client: Client::from_conf(builder.build()),
            bucket: config.bucket.clone(),
            prefix: config.prefix.clone(),
            acl: config.acl.as_deref().map(ObjectCannedAcl::from),
            multipart_threshold: multipart_threshold(),
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
        PublishError::Remote { op, name: name.to_string(), target: self.describe(), source: Box::new(err) }
    }

    /// Whether `name` already holds exactly this file: same size and same SHA-256 metadata.
    async fn holds(&self, name: &str, source: &Source<'_>) -> Result<bool, PublishError> {
        Ok(self.head(name).await?.is_some_and(|head| {
            head.content_length().is_some_and(|l| u64::try_from(l).ok() == Some(source.size))
                && head.metadata().and_then(|m| m.get(SHA256_META)).is_some_and(|h| *h == source.sha256)
        }))
    }

    /// The object's metadata, or None when there is no such object.
    async fn head(
        &self,
        name: &str,
    ) -> Result<Option<aws_sdk_s3::operation::head_object::HeadObjectOutput>, PublishError> {
        match self.client.head_object().bucket(&self.bucket).key(self.key(name)).send().await {
            Ok(head) => Ok(Some(head)),
            Err(err) => {
                let not_found = err.as_service_error().is_some_and(|e| e.is_not_found())
                    || err.raw_response().is_some_and(|r| r.status().as_u16() == 404);
                if not_found { Ok(None) } else { Err(self.remote("checking", name, err)) }
            }
        }
    }

    /// One PutObject of the whole file, with its SHA-256 as `x-amz-meta-sha256`. Returns false,
    /// having written nothing, when `condition` does not hold (412; 409 when a concurrent
    /// conditional write to the key is in progress).
    async fn upload_single(
        &self,
        name: &str,
        source: &Source<'_>,
        condition: Condition<'_>,
    ) -> Result<bool, PublishError> {
        let body =
            ByteStream::from_path(source.path).await.map_err(|e| self.remote("reading local file for", name, e))?;
        let kind = ObjectKind::of(name);
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(name))
            .body(body)
            .content_type(ObjectKind::content_type(name))
            .set_content_encoding(ObjectKind::content_encoding(name).map(str::to_string))
            .cache_control(kind.cache_control())
            .metadata(SHA256_META, &source.sha256);
        put = match condition {
            Condition::None => put,
            Condition::Absent => put.if_none_match("*"),
            Condition::Version(etag) => put.if_match(etag),
        };
        if let Some(acl) = &self.acl {
            put = put.acl(acl.clone());
        }
        match put.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_precondition_failure(err.raw_response()) => Ok(false),
            Err(err) => Err(self.remote("uploading", name, err)),
        }
    }

    /// CreateMultipartUpload, the parts (streamed from disk, [`PARTS_IN_FLIGHT`] at a time),
    /// CompleteMultipartUpload; AbortMultipartUpload when anything fails, or when the upload is
    /// dropped half-way (Ctrl-C).
    /// With `absent`, the completion carries `If-None-Match: *`: Ok(false) (the upload
    /// aborted) when an object appeared under the key meanwhile.
    async fn upload_multipart(&self, name: &str, source: &Source<'_>, absent: bool) -> Result<bool, PublishError> {
        let key = self.key(name);
        let mut create = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(ObjectKind::content_type(name))
            .set_content_encoding(ObjectKind::content_encoding(name).map(str::to_string))
            .cache_control(ObjectKind::of(name).cache_control())
            .metadata(SHA256_META, &source.sha256)
            .checksum_algorithm(ChecksumAlgorithm::Crc32);
        if let Some(acl) = &self.acl {
            create = create.acl(acl.clone());
        }
        let created = create.send().await.map_err(|e| self.remote("starting a multipart upload of", name, e))?;
        let Some(upload_id) = created.upload_id().map(str::to_string) else {
            return Err(PublishError::Remote {
                op: "starting a multipart upload of",
                name: name.to_string(),
                target: self.describe(),
                source: crate::cause::said("the server returned no upload id"),
            });
        };
        let guard = AbortOnDrop { client: self.client.clone(), bucket: self.bucket.clone(), key, upload_id };
        let result = match self.upload_parts(name, source, &guard.key, &guard.upload_id).await {
            Ok(parts) => self.complete(name, source, &guard, parts, absent).await,
            Err(e) => Err(e),
        };
        if !matches!(result, Ok(true)) {
            // Parts already sent are stored (and billed) until the upload is aborted.
            guard.abort().await;
        }
        guard.disarm();
        result
    }

    /// CompleteMultipartUpload (with `If-None-Match: *` when `absent`). When its answer is an
    /// error, the object itself decides: the server may have completed the upload and the
    /// answer been lost on the way back (or be unreadable: moto 5.2 answers with the wrong XML
    /// root element, getmoto/moto#10055). Ok(false): the condition did not hold.
    async fn complete(
        &self,
        name: &str,
        source: &Source<'_>,
        upload: &AbortOnDrop,
        parts: Vec<CompletedPart>,
        absent: bool,
    ) -> Result<bool, PublishError> {
        let mut complete = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&upload.key)
            .upload_id(&upload.upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build());
        if absent {
            complete = complete.if_none_match("*");
        }
        match complete.send().await {
            Ok(_) => Ok(true),
            Err(err) if absent && is_precondition_failure(err.raw_response()) => Ok(false),
            Err(err) => {
                if self.holds(name, source).await.unwrap_or(false) {
                    tracing::debug!(name, error = %DisplayErrorContext(&err), "completion answer unusable, object is complete");
                    return Ok(true);
                }
                Err(self.remote("completing the multipart upload of", name, err))
            }
        }
    }

    async fn upload_parts(
        &self,
        name: &str,
        source: &Source<'_>,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<CompletedPart>, PublishError> {
        let part_size = part_size(source.size, self.multipart_threshold);
        let count = source.size.div_ceil(part_size);
        futures_util::stream::iter(0..count)
            .map(|index| async move {
                let offset = index * part_size;
                let length = part_size.min(source.size - offset);
                // Part numbers start at 1; at most MAX_PARTS, so this always fits.
                let number = i32::try_from(index + 1).unwrap_or(i32::MAX);
                let body = ByteStream::read_from()
                    .path(source.path)
                    .offset(offset)
                    .length(Length::Exact(length))
                    .buffer_size(READ_BUFFER)
                    .build()
                    .await
                    .map_err(|e| self.remote("reading local file for", name, e))?;
                let out = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .content_length(i64::try_from(length).unwrap_or(i64::MAX))
                    .checksum_algorithm(ChecksumAlgorithm::Crc32)
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| self.remote("uploading a part of", name, e))?;
                Ok(CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag().map(str::to_string))
                    .set_checksum_crc32(out.checksum_crc32().map(str::to_string))
                    .build())
            })
            .buffered(PARTS_IN_FLIGHT)
            .try_collect()
            .await
    }

    /// One object of [`Target::upload`]: skipped when it already holds these bytes, else sent
    /// whole or in parts, replacing what is there.
    async fn upload_object(&self, name: &str, source: &Source<'_>) -> Result<(), PublishError> {
        if ObjectKind::of(name) == ObjectKind::Immutable && self.holds(name, source).await? {
            tracing::debug!(name, target = %self.describe(), "already uploaded with the same content; not sent again");
            return Ok(());
        }
        if source.size > self.multipart_threshold {
            self.upload_multipart(name, source, false).await.map(drop)
        } else {
            self.upload_single(name, source, Condition::None).await.map(drop)
        }
    }

    /// One object of [`Target::create`]. A HEAD first (what was there decides, and a file
    /// published already costs no upload), then a write with `If-None-Match: *`; when that is
    /// refused, another writer got there in between and the object it wrote decides.
    async fn create_object(&self, name: &str, source: &Source<'_>) -> Result<Created, PublishError> {
        if let Some(found) = self.compare(name, source).await? {
            return Ok(found);
        }
        let written = if source.size > self.multipart_threshold {
            self.upload_multipart(name, source, true).await?
        } else {
            self.upload_single(name, source, Condition::Absent).await?
        };
        if written {
            return Ok(Created::New);
        }
        // Refused: an object appeared (or a concurrent conditional write is still going on: 409,
        // and whatever it leaves is not ours either).
        Ok(self.compare(name, source).await?.unwrap_or(Created::Other))
    }

    /// What the object under `name` is to `source`: None when there is none; Same when it has
    /// the same size and `x-amz-meta-sha256`; Other otherwise (an object without that metadata
    /// was not written by repoctl and counts as other bytes).
    async fn compare(&self, name: &str, source: &Source<'_>) -> Result<Option<Created>, PublishError> {
        Ok(self.head(name).await?.map(|head| {
            let same = head.content_length().is_some_and(|l| u64::try_from(l).ok() == Some(source.size))
                && head.metadata().and_then(|m| m.get(SHA256_META)).is_some_and(|h| *h == source.sha256);
            if same { Created::Same } else { Created::Other }
        }))
    }

    /// A local file about to be written, hashed.
    async fn source<'a>(&self, src: &'a Utf8Path) -> Result<Source<'a>, PublishError> {
        let size = fs_err::metadata(src).map_err(|source| PublishError::Io { path: src.to_owned(), source })?.len();
        Ok(Source { path: src, size, sha256: sha256_file(src).await? })
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

impl S3Target {
    /// The probe of [`Target::probe_conditional_writes`] on `name`, written from `source`:
    /// creates it, then asks for a create over it and a write with a wrong ETag, both of which
    /// must be refused. Returns what the store let through.
    async fn probe_with(&self, name: &str, source: &Source<'_>) -> Result<Vec<&'static str>, PublishError> {
        if !self.upload_single(name, source, Condition::Absent).await? {
            return Err(PublishError::Remote {
                op: "probing conditional writes with",
                name: name.to_string(),
                target: self.describe(),
                source: crate::cause::said("the probe object exists already"),
            });
        }
        let mut missing = Vec::new();
        if self.upload_single(name, source, Condition::Absent).await? {
            missing.push("If-None-Match: * (a create over an existing object was accepted)");
        }
        if self.upload_single(name, source, Condition::Version(NO_SUCH_ETAG)).await? {
            missing.push("If-Match (a write naming another ETag was accepted)");
        }
        Ok(missing)
    }
}

#[async_trait]
impl Target for S3Target {
    fn public_url(&self) -> String {
        self.public_url.clone()
    }

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

    fn probe_key(&self) -> Option<String> {
        Some(format!("{} at {}", self.describe(), self.public_url))
    }

    async fn probe_conditional_writes(&self) -> Result<(), PublishError> {
        let name = probe_name();
        let tmp =
            tempfile::NamedTempFile::new().map_err(|source| PublishError::Io { path: "tempfile".into(), source })?;
        let path = Utf8Path::from_path(tmp.path()).ok_or_else(|| PublishError::Io {
            path: tmp.path().to_string_lossy().into_owned().into(),
            source: std::io::Error::other("not UTF-8"),
        })?;
        fs_err::write(path, b"repoctl checks that this store refuses conditional writes whose condition fails\n")
            .map_err(|source| PublishError::Io { path: path.to_owned(), source })?;
        let source = self.source(path).await?;
        let probed = self.probe_with(&name, &source).await;
        // The probe object goes whatever the answer was.
        let deleted = self.delete(&name).await;
        let missing = probed?;
        deleted?;
        if missing.is_empty() {
            return Ok(());
        }
        Err(PublishError::NoConditionalWrites { target: self.describe(), missing: missing.join("; ") })
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
        // Only databases and the status object are written this way, and repository names have
        // no `+`: no alias.
        debug_assert!(aws_path_alias(name).is_none(), "{name}: a conditional write cannot cover an alias");
        let condition = expected.map_or(Condition::Absent, Condition::Version);
        self.upload_single(name, &self.source(src).await?, condition).await
    }

    async fn create(&self, name: &str, src: &Utf8Path) -> Result<Created, PublishError> {
        let source = self.source(src).await?;
        let mut created = Created::Same;
        for object in object_names(name) {
            match self.create_object(&object, &source).await? {
                // The name (or the key AWS reads it from) holds other bytes: not ours to use.
                Created::Other => return Ok(Created::Other),
                Created::New => created = Created::New,
                Created::Same => {}
            }
        }
        Ok(created)
    }

    async fn download(&self, name: &str, dest: &Utf8Path, limit: u64) -> Result<(), PublishError> {
        let io = |source| PublishError::Io { path: dest.to_owned(), source };
        let Some(out) = self.get(name).await? else {
            return Err(PublishError::Remote {
                op: "reading",
                name: name.into(),
                target: self.describe(),
                source: crate::cause::said("not found"),
            });
        };
        let too_large = || PublishError::TooLarge { name: name.to_string(), target: self.describe(), limit };
        if out.content_length().is_some_and(|l| l < 0 || l as u64 > limit) {
            return Err(too_large());
        }
        let mut body = out.body;
        let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
        let mut written: u64 = 0;
        while let Some(chunk) = body.try_next().await.map_err(|e| self.remote("reading", name, e))? {
            written = written.saturating_add(chunk.len() as u64);
            if written > limit {
                return Err(too_large());
            }
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)
    }

    /// The log gzip-compressed beside `text` (`TEXT.gz`), then uploaded: its objects carry
    /// `Content-Encoding: gzip` ([`ObjectKind::content_encoding`]), which browsers decode.
    async fn upload_log(&self, name: &str, text: &Utf8Path) -> Result<(), PublishError> {
        let gz = Utf8PathBuf::from(format!("{text}.gz"));
        let (from, to) = (text.to_owned(), gz.clone());
        tokio::task::spawn_blocking(move || gzip(&from, &to))
            .await
            .map_err(|e| PublishError::Io { path: gz.clone(), source: std::io::Error::other(e) })?
            .map_err(|source| PublishError::Io { path: gz.clone(), source })?;
        self.upload(name, &gz).await
    }

    async fn upload(&self, name: &str, src: &Utf8Path) -> Result<(), PublishError> {
        let source = self.source(src).await?;
        for object in object_names(name) {
            self.upload_object(&object, &source).await?;
        }
        Ok(())
    }

    /// Published files with a `+` whose AWS path alias (`aws_path_alias`) is missing (published by a repoctl
    /// that did not write it) get it now: downloaded once and uploaded under the alias.
    async fn repair(&self, names: &[String], scratch: &Utf8Path) -> Result<usize, PublishError> {
        let mut repaired = 0;
        for (name, alias) in names.iter().filter_map(|n| Some((n, aws_path_alias(n)?))) {
            if self.head(&alias).await?.is_some() || self.head(name).await?.is_none() {
                continue;
            }
            fs_err::create_dir_all(scratch).map_err(|source| PublishError::Io { path: scratch.to_owned(), source })?;
            let local = scratch.join(format!("alias-{repaired}"));
            // The name is one the verified live database lists: its size is what was published.
            self.download(name, &local, u64::MAX).await?;
            let source = self.source(&local).await?;
            // Never over other bytes: a reader of the alias must get what the database describes.
            if self.create_object(&alias, &source).await? == Created::Other {
                tracing::warn!(name, alias, "the AWS path alias holds other bytes; left as it is");
            }
            let _ = fs_err::remove_file(&local);
            repaired += 1;
        }
        Ok(repaired)
    }

    async fn exists(&self, name: &str) -> Result<bool, PublishError> {
        Ok(self.head(name).await?.is_some())
    }

    /// ListObjectsV2 under the target's prefix, every page; names relative to the repository.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, PublishError> {
        let root = self.key("");
        let mut pages =
            self.client.list_objects_v2().bucket(&self.bucket).prefix(self.key(prefix)).into_paginator().send();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.remote("listing", prefix, e))?;
            let keys = page.contents().iter().filter_map(|o| o.key());
            names.extend(keys.filter_map(|k| k.strip_prefix(root.as_str())).map(str::to_string));
        }
        names.sort();
        Ok(names)
    }

    async fn delete(&self, name: &str) -> Result<(), PublishError> {
        for object in object_names(name) {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(self.key(&object))
                .send()
                .await
                .map_err(|e| self.remote("deleting", &object, e))?;
        }
        Ok(())
    }
}

/// `from` gzip-compressed into `to` (RFC 1952, flate2's default level).
fn gzip(from: &Utf8Path, to: &Utf8Path) -> std::io::Result<()> {
    let mut input = fs_err::File::open(from)?;
    let mut encoder = flate2::write::GzEncoder::new(fs_err::File::create(to)?, flate2::Compression::default());
    std::io::copy(&mut input, &mut encoder)?;
    encoder.finish()?;
    Ok(())
}

/// An unfinished multipart upload, aborted unless [`AbortOnDrop::disarm`] was called: dropped
/// half-way (an interrupted publish), it asks the server to abort in the background.
struct AbortOnDrop {
    client: Client,
    bucket: String,
    key: String,
    upload_id: String,
}

impl AbortOnDrop {
    async fn abort(&self) {
        let abort = self.client.abort_multipart_upload().bucket(&self.bucket).key(&self.key).upload_id(&self.upload_id);
        if let Err(err) = abort.send().await {
            // The publish already failed with the error that matters; this one is for diagnosis.
            tracing::debug!(key = %self.key, error = %DisplayErrorContext(err), "aborting a multipart upload failed");
        }
    }

    fn disarm(mut self) {
        self.upload_id.clear();
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if self.upload_id.is_empty() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let abort = self
                .client
                .abort_multipart_upload()
                .bucket(std::mem::take(&mut self.bucket))
                .key(std::mem::take(&mut self.key))
                .upload_id(std::mem::take(&mut self.upload_id));
            runtime.spawn(async move {
                let _ = abort.send().await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacman_reads_aws_virtual_hosted_and_other_stores_path_style() {
        let mut config = S3Config {
            bucket: "my-bucket".into(),
            prefix: "repo/x86_64".into(),
            region: None,
            endpoint: None,
            acl: None,
        };
        assert_eq!(public_url(&config, Some("eu-west-2")), "https://my-bucket.s3.eu-west-2.amazonaws.com/repo/x86_64");
        assert_eq!(public_url(&config, None), "https://my-bucket.s3.amazonaws.com/repo/x86_64");
        let spaced = S3Config { prefix: "my repo/x86_64".into(), ..config.clone() };
        assert_eq!(public_url(&spaced, None), "https://my-bucket.s3.amazonaws.com/my%20repo/x86_64");
        config.endpoint = Some("http://127.0.0.1:5000/".into());
        config.prefix = String::new();
        assert_eq!(public_url(&config, Some("us-east-1")), "http://127.0.0.1:5000/my-bucket");
    }

    #[test]
    fn parts_are_sixteen_mib_unless_a_file_needs_more_than_ten_thousand() {
        assert_eq!(part_size(300 * MIB, MULTIPART_THRESHOLD), 16 * MIB);
        assert_eq!(part_size(6 * MIB, 5 * MIB), 5 * MIB);
        let huge = 1024 * 1024 * MIB; // 1 TiB
        assert!(huge.div_ceil(part_size(huge, MULTIPART_THRESHOLD)) <= MAX_PARTS);
    }

    #[test]
    fn names_with_plus_get_the_key_aws_reads_from_the_path() {
        let cases = [
            ("foo-1.0+r3-1-any.pkg.tar.zst", Some("foo-1.0 r3-1-any.pkg.tar.zst")),
            ("libplus++-2.0-1-any.pkg.tar.zst.sig", Some("libplus  -2.0-1-any.pkg.tar.zst.sig")),
            ("hello-1.0-1-x86_64.pkg.tar.zst", None),
            ("myrepo.db", None),
        ];
        for (name, alias) in cases {
            assert_eq!(aws_path_alias(name).as_deref(), alias, "{name}");
        }
        let names: Vec<String> = object_names("a+b").collect();
        assert_eq!(names, ["a+b", "a b"]);
        assert_eq!(object_names("a-b").collect::<Vec<_>>(), ["a-b"]);
    }
}
