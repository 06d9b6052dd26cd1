//! An AUR held in memory, for the planner's unit tests: `.SRCINFO` texts in, the answers
//! aurweb would give out (one RPC result per pkgname; `search by=provides` over every
//! architecture's provides, as aurweb merges them). Integration tests use the real protocol
//! against tests/support/aur_server.py instead.
use super::resolve::Source;
use super::{AurError, AurPackage, SrcInfo, StoreError};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Default)]
pub struct MemoryAur {
    /// pkgbase -> .SRCINFO text at HEAD.
    pub srcinfo: BTreeMap<String, String>,
    /// commit -> .SRCINFO text at that commit (of the pkgbase it names).
    pub commits: BTreeMap<String, String>,
    pub searches: AtomicUsize,
    /// Every `.SRCINFO` request fails as an unreachable AUR would (a timeout).
    pub unreachable: bool,
}

impl MemoryAur {
    pub fn new(texts: &[String]) -> MemoryAur {
        let mut aur = MemoryAur::default();
        for text in texts {
            let base = text.lines().find_map(|l| l.strip_prefix("pkgbase = ")).expect("a pkgbase line").trim();
            aur.srcinfo.insert(base.to_string(), text.clone());
        }
        aur
    }

    /// pkgname -> (pkgbase, version), over every pkgname whatever its architecture.
    fn rows(&self) -> BTreeMap<String, AurPackage> {
        let mut rows = BTreeMap::new();
        for (base, text) in &self.srcinfo {
            let info = ["x86_64", "aarch64", "any"].iter().find_map(|a| SrcInfo::parse(text, a).ok());
            let version = info.as_ref().map(|i| i.version.clone()).unwrap_or_default();
            for name in text.lines().filter_map(|l| l.strip_prefix("pkgname = ")) {
                rows.insert(
                    name.trim().to_string(),
                    AurPackage {
                        name: name.trim().to_string(),
                        pkgbase: base.clone(),
                        version: version.clone(),
                        maintainer: Some("someone".into()),
                        comaintainers: Vec::new(),
                        last_modified: 1_700_000_000,
                    },
                );
            }
        }
        rows
    }
}

/// A `.SRCINFO` of one pkgname: `pkgbase = name`, `arch = any`, and the given `key = value`
/// lines (`depends = foo>=1`, `provides = bar=2`).
pub fn srcinfo(name: &str, version: &str, lines: &[&str]) -> String {
    let (ver, rel) = version.rsplit_once('-').unwrap_or((version, "1"));
    let (epoch, ver) = ver.split_once(':').map_or((None, ver), |(e, v)| (Some(e), v));
    let mut text = format!("pkgbase = {name}\n\tpkgver = {ver}\n\tpkgrel = {rel}\n");
    if let Some(e) = epoch {
        text.push_str(&format!("\tepoch = {e}\n"));
    }
    text.push_str("\tarch = any\n");
    for l in lines {
        text.push_str(&format!("\t{l}\n"));
    }
    text.push_str(&format!("\npkgname = {name}\n"));
    text
}

impl Source for MemoryAur {
    async fn info(&self, names: &[String]) -> Result<(BTreeMap<String, AurPackage>, usize), AurError> {
        let rows = self.rows();
        let found = names.iter().filter_map(|n| rows.get(n).map(|p| (n.clone(), p.clone()))).collect();
        Ok((found, names.len().div_ceil(super::RPC_BATCH)))
    }

    async fn search_provides(&self, name: &str) -> Result<Vec<AurPackage>, AurError> {
        self.searches.fetch_add(1, Ordering::Relaxed);
        let rows = self.rows();
        let provides = |text: &str| {
            text.lines()
                .filter_map(|l| l.trim().split_once(" = "))
                .any(|(k, v)| (k == "provides" || k.starts_with("provides_")) && crate::alpm::dep_name(v) == name)
        };
        Ok(rows.into_values().filter(|p| self.srcinfo.get(&p.pkgbase).is_some_and(|t| provides(t))).collect())
    }

    async fn srcinfo(&self, pkgbase: &str, want: super::Want<'_>, arch: &str) -> Result<Option<SrcInfo>, StoreError> {
        if self.unreachable {
            let source = crate::cause::said("operation timed out");
            return Err(StoreError::Aur(AurError::Rpc { url: format!("memory/{pkgbase}"), source }));
        }
        let text = match want {
            super::Want::Commit(commit) => {
                self.commits.get(commit).filter(|t| t.contains(&format!("pkgbase = {pkgbase}\n")))
            }
            _ => self.srcinfo.get(pkgbase),
        };
        let Some(text) = text else { return Ok(None) };
        SrcInfo::parse(text, arch)
            .map(Some)
            .map_err(|message| StoreError::Invalid { pkgbase: pkgbase.to_string(), message })
    }
}

/// Runs a resolution on a fresh single-threaded runtime.
pub fn resolve_now(aur: &MemoryAur, query: &super::Query<'_>) -> super::Universe {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    rt.block_on(super::resolve(aur, query)).expect("the memory AUR never fails")
}
