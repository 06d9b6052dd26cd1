//! The AUR: package metadata over RPC v5 (batched), `.SRCINFO` files over aurweb's cgit, and
//! PKGBUILDs over git.
//!
//! raur speaks the RPC; this module only adds batching, a timeout, and our own
//! [`AurPackage`] type so raur's types stay here. The RPC is used for what it is good at
//! (name -> pkgbase, version, maintainer, LastModified); dependencies come from `.SRCINFO`
//! ([`SrcInfo`]), because the RPC merges every architecture's lists into one.
mod git;
pub mod git_source;
#[cfg(test)]
pub(crate) mod memory;
mod resolve;
mod srcinfo;
mod store;

pub use git::{Commit, GitClone, GitError};
pub use resolve::{Live, LocalPackage, Query, Satisfier, Source, Universe, resolve};
pub use srcinfo::{SrcInfo, SrcInfoError, SrcPackage, srcinfo_version};
pub use store::SrcInfoStore;
pub use store::{StoreError, Want};

use raur::Raur;
use std::collections::BTreeMap;
use std::time::Duration;

/// Names per RPC request: the AUR accepts long argument lists over POST, and a few
/// hundred names keeps every request small while a 5,000-package repository takes ~35.
pub const RPC_BATCH: usize = 150;
const RPC_TIMEOUT: Duration = Duration::from_secs(60);

/// What the AUR's RPC says about one pkgname. Its dependency lists are left out on purpose:
/// aurweb merges every architecture's into one (see [`SrcInfo`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AurPackage {
    pub name: String,
    pub pkgbase: String,
    pub version: String,
    /// None when the package is orphaned.
    pub maintainer: Option<String>,
    /// Co-maintainers (aurweb's `CoMaintainers`, in their priority order; sent only when any).
    pub comaintainers: Vec<String>,
    /// Seconds since the Unix epoch of the pkgbase's last push (aurweb's `LastModified`).
    pub last_modified: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum AurError {
    #[error("AUR request to {url} failed")]
    Rpc {
        url: String,
        #[source]
        source: crate::cause::BoxError,
    },
    #[error(transparent)]
    Git(#[from] git::GitError),
}

/// The AUR's web address: `AUR_LOCATION` (no trailing slash), or the real AUR's.
pub fn location() -> String {
    let base = std::env::var(crate::env::AUR_LOCATION).unwrap_or_else(|_| crate::env::DEFAULT_AUR.to_string());
    base.trim_end_matches('/').to_string()
}

/// An AUR endpoint: `base` is what `AUR_LOCATION` names, such as `https://aur.archlinux.org`.
#[derive(Clone)]
pub struct AurClient {
    base: String,
    handle: raur::Handle,
    http: reqwest::Client,
}

impl AurClient {
    pub fn new(base: &str) -> Result<Self, AurError> {
        let base = base.trim_end_matches('/').to_string();
        let rpc = format!("{base}/rpc/");
        let client = reqwest::Client::builder()
            .timeout(RPC_TIMEOUT)
            .user_agent(concat!("repoctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AurError::Rpc { url: rpc.clone(), source: Box::new(e) })?;
        Ok(AurClient { handle: raur::Handle::new_with_settings(client.clone(), rpc), base, http: client })
    }

    /// The AUR named by `AUR_LOCATION`, or the real one.
    pub fn from_env() -> Result<Self, AurError> {
        Self::new(&location())
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The git URL of a pkgbase.
    pub fn git_url(&self, pkgbase: &str) -> String {
        format!("{}/{pkgbase}.git", self.base)
    }

    /// Looks up pkgnames, [`RPC_BATCH`] per request. Names the AUR does not know are absent
    /// from the answer. Returns the answers and the number of requests made.
    pub async fn info(&self, names: &[String]) -> Result<(BTreeMap<String, AurPackage>, usize), AurError> {
        let mut found = BTreeMap::new();
        let mut requests = 0;
        for chunk in names.chunks(RPC_BATCH) {
            requests += 1;
            let packages = self
                .handle
                .raw_info(chunk)
                .await
                .map_err(|e| AurError::Rpc { url: self.handle.url().to_string(), source: Box::new(e) })?;
            for p in packages.into_iter().filter_map(accept) {
                found.insert(p.name.clone(), p);
            }
        }
        Ok((found, requests))
    }
}

impl AurClient {
    /// The pkgbases whose `provides` name `name` (RPC `search` by `provides`, one request). The
    /// RPC cannot say for which architecture; check the candidates' `.SRCINFO`.
    pub async fn search_provides(&self, name: &str) -> Result<Vec<AurPackage>, AurError> {
        let found = self
            .handle
            .search_by(name, raur::SearchBy::Provides)
            .await
            .map_err(|e| AurError::Rpc { url: self.handle.url().to_string(), source: Box::new(e) })?;
        Ok(found.into_iter().filter_map(accept).collect())
    }

    /// The `.SRCINFO` at the head of a pkgbase's git repository, or at commit `at` of it, as
    /// aurweb's cgit serves it (`/cgit/aur.git/plain/.SRCINFO?h=PKGBASE[&id=COMMIT]`), or None
    /// when there is no such pkgbase (or commit). Errors: the request fails, the server answers
    /// other than 200/404, or the file is larger than 1 MiB.
    pub async fn srcinfo_text(&self, pkgbase: &str, at: Option<&str>) -> Result<Option<String>, AurError> {
        let url = format!("{}/cgit/aur.git/plain/.SRCINFO", self.base);
        let mut query = vec![("h", pkgbase)];
        query.extend(at.map(|commit| ("id", commit)));
        let shown = query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        let err = |source: crate::cause::BoxError| AurError::Rpc { url: format!("{url}?{shown}"), source };
        let response = self.http.get(&url).query(&query).send().await.map_err(|e| err(Box::new(e)))?;
        match response.status() {
            reqwest::StatusCode::OK => {}
            reqwest::StatusCode::NOT_FOUND => return Ok(None),
            status => return Err(err(crate::cause::said(format!("HTTP {status}")))),
        }
        if response.content_length().is_some_and(|n| n > srcinfo::MAX_SRCINFO_BYTES) {
            return Err(err(crate::cause::said("larger than 1 MiB")));
        }
        let body = response.bytes().await.map_err(|e| err(Box::new(e)))?;
        if body.len() as u64 > srcinfo::MAX_SRCINFO_BYTES {
            return Err(err(crate::cause::said("larger than 1 MiB")));
        }
        // cgit answers an unknown branch with an error page on some setups: no pkgbase line.
        let text = String::from_utf8_lossy(&body).into_owned();
        Ok(text.lines().any(|l| l.trim_start().starts_with("pkgbase =")).then_some(text))
    }
}

/// One RPC result as repoctl uses it, or None when its names cannot be what the AUR holds
/// (names become paths: clone and scratch directories).
pub fn accept(p: raur::Package) -> Option<AurPackage> {
    let valid = [&p.name, &p.package_base].iter().all(|n| crate::config::check_package_name(n).is_ok());
    if !valid {
        tracing::warn!("ignoring an RPC result with an invalid name: {:?} / {:?}", p.name, p.package_base);
        return None;
    }
    Some(from_raur(p))
}

/// The `results` of an RPC v5 answer, parsed the way raur parses it, then [`accept`]ed. For
/// fuzzing: a hostile answer must be an error or a filtered list, never a panic.
pub fn parse_rpc_results(body: &[u8]) -> Result<Vec<AurPackage>, String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(default)]
        results: Vec<raur::Package>,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(answer.results.into_iter().filter_map(accept).collect())
}

fn from_raur(p: raur::Package) -> AurPackage {
    AurPackage {
        name: p.name,
        pkgbase: p.package_base,
        version: p.version,
        maintainer: p.maintainer,
        comaintainers: p.co_maintainers,
        last_modified: p.last_modified,
    }
}

#[cfg(test)]
mod rpc_tests {
    #[test]
    fn rpc_answers_with_unsafe_names_are_filtered_and_garbage_is_an_error() {
        let p = |name: &str| {
            format!(
                r#"{{"ID":1,"Name":"{name}","PackageBaseID":1,"PackageBase":"{name}","Version":"1-1","Description":null,
"URL":null,"NumVotes":0,"Popularity":0.0,"OutOfDate":null,"Maintainer":null,"FirstSubmitted":0,"LastModified":0,
"URLPath":"x"}}"#
            )
        };
        let body =
            format!(r#"{{"version":5,"type":"multiinfo","resultcount":2,"results":[{},{}]}}"#, p("ok"), p("../x"));
        let got = super::parse_rpc_results(body.as_bytes()).unwrap();
        assert_eq!(got.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["ok"]);
        assert!(super::parse_rpc_results(b"{\"results\": [1]}").is_err());
        assert!(super::parse_rpc_results(b"\xff").is_err());
    }
}
