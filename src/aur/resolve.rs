//! Finding every AUR package a repository needs: the listed ones (by pkgname, or by pkgbase
//! through the AUR's git) and, recursively, their AUR dependencies, in batched RPC requests.
use super::{AurClient, AurError, AurPackage, dep_name};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default)]
pub struct Resolution {
    /// pkgname -> what the AUR says.
    pub packages: BTreeMap<String, AurPackage>,
    /// Listed names that are neither a pkgname nor a pkgbase in the AUR.
    pub unknown: Vec<String>,
    pub requests: usize,
}

impl AurClient {
    /// Resolves `listed` and their AUR dependency closure. `pkgnames_of_base` answers, for a
    /// name the RPC does not know, the pkgnames of the pkgbase of that name (None if none).
    pub async fn resolve<F, Fut>(&self, listed: &[String], pkgnames_of_base: F) -> Result<Resolution, AurError>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Option<Vec<String>>>,
    {
        let mut res = Resolution::default();
        let mut asked: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = listed.to_vec();
        let mut first = true;
        while !todo.is_empty() {
            todo.retain(|n| asked.insert(n.clone()));
            let (found, requests) = self.info(&todo).await?;
            res.requests += requests;
            if first {
                for name in todo.iter().filter(|n| !found.contains_key(*n)) {
                    match pkgnames_of_base(name.clone()).await {
                        Some(names) => {
                            let (more, r) = self.info(&names).await?;
                            res.requests += r;
                            asked.extend(names);
                            res.packages.extend(more);
                        }
                        None => res.unknown.push(name.clone()),
                    }
                }
                first = false;
            }
            res.packages.extend(found);
            todo = res
                .packages
                .values()
                .flat_map(|p| p.all_depends())
                .map(|d| dep_name(d).to_string())
                .filter(|d| !asked.contains(d))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
        }
        Ok(res)
    }
}
