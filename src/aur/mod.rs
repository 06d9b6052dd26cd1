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
            for p in packages {
                // Names become paths (clone and scratch directories): refuse what the AUR cannot hold.
                let valid = [&p.name, &p.package_base].iter().all(|n| crate::config::check_package_name(n).is_ok());
                if valid {
                    found.insert(p.name.clone(), from_raur(p));
                } else {
                    tracing::warn!("ignoring an RPC result with an invalid name: {:?} / {:?}", p.name, p.package_base);
                }
            }
        }
        Ok((found, requests))
    }
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
