//! The AUR: package metadata over RPC v5 (batched) and PKGBUILDs over git.
//!
//! raur speaks the RPC; this module only adds batching, a timeout, and our own
//! [`AurPackage`] type so raur's types stay here.
mod git;
mod resolve;
mod srcinfo;

pub use git::{Checkout, GitError, fetch_pkgbase, pkgbase_exists};
pub use resolve::Resolution;
pub use srcinfo::{SrcInfo, SrcInfoError};

use raur::Raur;
use std::collections::BTreeMap;
use std::time::Duration;

/// Names per RPC request: the AUR accepts long argument lists over POST, and a few
/// hundred names keeps every request small while a 5,000-package repository takes ~35.
pub const RPC_BATCH: usize = 150;
const RPC_TIMEOUT: Duration = Duration::from_secs(60);

/// What the AUR says about one pkgname.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AurPackage {
    pub name: String,
    pub pkgbase: String,
    pub version: String,
    pub depends: Vec<String>,
    pub make_depends: Vec<String>,
    pub check_depends: Vec<String>,
    pub provides: Vec<String>,
    pub maintainer: Option<String>,
    pub last_modified: i64,
}

impl AurPackage {
    /// Everything needed to build and install it, as dependency strings (`foo>=1`).
    pub fn all_depends(&self) -> impl Iterator<Item = &String> {
        self.depends.iter().chain(&self.make_depends).chain(&self.check_depends)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AurError {
    #[error("AUR RPC request to {url} failed: {message}")]
    Rpc { url: String, message: String },
    #[error(transparent)]
    Git(#[from] git::GitError),
}

/// An AUR endpoint: `base` is what `AUR_LOCATION` names, such as https://aur.archlinux.org.
#[derive(Clone)]
pub struct AurClient {
    base: String,
    handle: raur::Handle,
}

impl AurClient {
    pub fn new(base: &str) -> Result<Self, AurError> {
        let base = base.trim_end_matches('/').to_string();
        let rpc = format!("{base}/rpc/");
        let client = reqwest::Client::builder()
            .timeout(RPC_TIMEOUT)
            .user_agent(concat!("repoctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AurError::Rpc { url: rpc.clone(), message: e.to_string() })?;
        Ok(AurClient { handle: raur::Handle::new_with_settings(client, rpc), base })
    }

    /// The AUR named by `AUR_LOCATION`, or the real one.
    pub fn from_env() -> Result<Self, AurError> {
        let base = std::env::var(crate::env::AUR_LOCATION).unwrap_or_else(|_| crate::env::DEFAULT_AUR.to_string());
        Self::new(&base)
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
                .map_err(|e| AurError::Rpc { url: self.handle.url().to_string(), message: e.to_string() })?;
            for p in packages.into_iter().filter_map(accept) {
                found.insert(p.name.clone(), p);
            }
        }
        Ok((found, requests))
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
        depends: p.depends,
        make_depends: p.make_depends,
        check_depends: p.check_depends,
        provides: p.provides,
        maintainer: p.maintainer,
        last_modified: p.last_modified,
    }
}

/// The package name in a dependency string: `foo>=1.2` -> `foo`.
pub fn dep_name(dep: &str) -> &str {
    dep.split(['<', '>', '=']).next().unwrap_or(dep).trim()
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

#[cfg(test)]
mod tests {
    use super::dep_name;

    #[test]
    fn dependency_strings_lose_their_version_constraint() {
        assert_eq!(dep_name("foo>=1.2"), "foo");
        assert_eq!(dep_name("foo<2"), "foo");
        assert_eq!(dep_name("foo=1:2-3"), "foo");
        assert_eq!(dep_name("foo"), "foo");
    }
}
