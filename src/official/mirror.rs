//! A repository's sync database from its http(s) servers, asked the way pacman asks them
//! (libalpm's `alpm_db_update` in be_sync.c and `curl_set_handle_opts` /
//! `curl_check_finished_download` in dload.c): `GET SERVER/REPO.db`, with `If-Modified-Since`
//! when a copy is kept; the next server on any failure; 304 keeps the copy.
//!
//! Hand-written over reqwest rather than through a crate: no maintained crate speaks pacman's
//! mirror protocol, and what it needs is one conditional GET.
use super::OfficialError;
use std::time::Duration;

/// The most a sync database may weigh: `alpm_db_update`'s hard limit (128 MiB).
const MAX_DB_BYTES: u64 = 128 * 1024 * 1024;
/// How long connecting may take: dload.c's `CURLOPT_CONNECTTIMEOUT`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a transfer may stall: dload.c gives up below 1 byte/s for 10 s
/// (`CURLOPT_LOW_SPEED_LIMIT`/`_TIME`); reqwest's closest is a timeout per read.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What a server said about a repository's database.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Answer {
    /// 304 Not Modified: the kept copy is current.
    Unchanged,
    /// 200: a new database, and when it changed (Unix seconds: its `Last-Modified`, or the time
    /// it was received when the server sent none, as curl leaves pacman's file).
    Changed { bytes: Vec<u8>, modified: i64 },
}

/// Why one server did not give a database.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error("GET {url} failed")]
    Request {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("GET {url} answered {status}")]
    Status { url: String, status: reqwest::StatusCode },
    #[error("{url} is larger than {MAX_DB_BYTES} bytes")]
    TooLarge { url: String },
}

/// An HTTP client for sync databases.
pub(super) struct Mirrors {
    http: reqwest::Client,
}

impl Mirrors {
    /// rustls, the system's proxy settings (as curl reads them for pacman), pacman's timeouts,
    /// and redirects followed (curl: `CURLOPT_FOLLOWLOCATION`, at most 10: reqwest's default).
    pub(super) fn new() -> Result<Mirrors, OfficialError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .user_agent(concat!("repoctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(OfficialError::Client)?;
        Ok(Mirrors { http })
    }

    /// `repo`'s database from the first of `servers` (as pacman-conf prints them) that
    /// answers 200, or 304 to `If-Modified-Since: since` (Unix seconds; not sent when None).
    /// A failure (no connection, a status other than those, a body too large or cut short)
    /// moves on to the next server, as dload.c's `curl_retry_next_server` does. Errors: every
    /// server failed ([`OfficialError::Unreachable`], naming each URL and why).
    pub(super) async fn check(
        &self,
        repo: &str,
        servers: &[String],
        since: Option<i64>,
    ) -> Result<Answer, OfficialError> {
        self.check_file(repo, servers, "db", since).await
    }

    /// As [`check`](Self::check), for `SERVER/REPO.EXT`: `db`, or `files` (the `.files`
    /// database `pacman -Fy` downloads beside it, issue 26).
    pub(super) async fn check_file(
        &self,
        repo: &str,
        servers: &[String],
        ext: &str,
        since: Option<i64>,
    ) -> Result<Answer, OfficialError> {
        let mut failures = Vec::new();
        for server in servers {
            match self.get(&repo_file_url(server, repo, ext), since).await {
                Ok(answer) => return Ok(answer),
                Err(e) => {
                    tracing::debug!("[{repo}]: {}", reason(&e));
                    failures.push(e);
                }
            }
        }
        let tried = failures.iter().map(reason).collect::<Vec<_>>().join("; ");
        let source = failures.pop().ok_or_else(|| OfficialError::NoServer { repo: repo.to_string() })?;
        Err(OfficialError::Unreachable { repo: repo.to_string(), tried, source })
    }

    async fn get(&self, url: &str, since: Option<i64>) -> Result<Answer, MirrorError> {
        let failed = |source| MirrorError::Request { url: url.to_string(), source };
        let mut request = self.http.get(url);
        if let Some(header) = since.and_then(http_date) {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, header);
        }
        let mut response = request.send().await.map_err(failed)?;
        match response.status() {
            reqwest::StatusCode::NOT_MODIFIED if since.is_some() => return Ok(Answer::Unchanged),
            reqwest::StatusCode::OK => {}
            status => return Err(MirrorError::Status { url: url.to_string(), status }),
        }
        let too_large = || MirrorError::TooLarge { url: url.to_string() };
        if response.content_length().is_some_and(|n| n > MAX_DB_BYTES) {
            return Err(too_large());
        }
        let modified = response
            .headers()
            .get(reqwest::header::LAST_MODIFIED)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date)
            .unwrap_or_else(|| jiff::Timestamp::now().as_second());
        let mut bytes = Vec::new();
        // hyper fails the body when it ends before its Content-Length: a truncated database
        // is a failure, as dload.c's "appears to be truncated".
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if (bytes.len() + chunk.len()) as u64 > MAX_DB_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Answer::Changed { bytes, modified })
    }
}

/// `SERVER/REPO.db`, as `alpm_db_update` builds it: the server with one trailing `/` removed
/// (db.c's `sanitize_url`), `/`, the repository name and `.db` (the sync database extension).
/// `SERVER/REPO.files` likewise.
pub(super) fn repo_file_url(server: &str, repo: &str, ext: &str) -> String {
    format!("{}/{repo}.{ext}", server.strip_suffix('/').unwrap_or(server))
}

/// Unix seconds as an HTTP date (RFC 9110 IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`).
pub(super) fn http_date(secs: i64) -> Option<String> {
    let ts = jiff::Timestamp::from_second(secs).ok()?;
    jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&ts).ok()
}

/// An HTTP date as Unix seconds (IMF-fixdate, which RFC 2822's grammar covers).
pub(super) fn parse_http_date(text: &str) -> Option<i64> {
    let parser = jiff::fmt::rfc2822::DateTimeParser::new();
    parser.parse_timestamp(text.trim()).ok().map(|ts| ts.as_second())
}

/// One failure in a line: the URL and the innermost cause (`Connection refused`, `404 Not Found`).
fn reason(e: &MirrorError) -> String {
    match e {
        MirrorError::Request { url, source } => {
            let mut cause: &dyn std::error::Error = source;
            while let Some(next) = cause.source() {
                cause = next;
            }
            format!("{url}: {cause}")
        }
        MirrorError::Status { url, status } => format!("{url}: {status}"),
        MirrorError::TooLarge { url } => format!("{url}: larger than {MAX_DB_BYTES} bytes"),
    }
}
