//! What a pkgbase's .SRCINFO says for one architecture, through alpm-srcinfo: the pkgnames it
//! makes, what each of them depends on and provides, and what makepkg must install before it
//! runs. The RPC merges every architecture's lists into one (aurweb stores `depends_aarch64`
//! as plain `depends`), so the dependency graph is made from this, never from the RPC.
//!
//! Format: SRCINFO(5) / alpm-srcinfo(5): a pkgname section's key replaces the pkgbase's list
//! (an empty value clears it), `KEY_ARCH` lists add to `KEY` for that architecture only.
use alpm_srcinfo::SourceInfoV1;

/// .SRCINFO larger than this is refused (real ones are a few KiB).
pub const MAX_SRCINFO_BYTES: u64 = 1024 * 1024;

/// One pkgname of a pkgbase, for the configured architecture.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SrcPackage {
    pub name: String,
    /// Its `depends` (the pkgbase's unless it overrides them), as dependency strings.
    pub depends: Vec<String>,
    /// Its `provides` (`foo`, `foo=1.2`, sonames).
    pub provides: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrcInfo {
    pub pkgbase: String,
    /// `[epoch:]pkgver-pkgrel`.
    pub version: String,
    /// Every pkgname the pkgbase makes for this architecture, in .SRCINFO order.
    pub pkgnames: Vec<String>,
    pub packages: Vec<SrcPackage>,
    /// `makedepends` (with this architecture's `makedepends_ARCH`).
    pub makedepends: Vec<String>,
    /// `checkdepends` (with this architecture's `checkdepends_ARCH`).
    pub checkdepends: Vec<String>,
    /// Fingerprints whose signatures makepkg accepts on the sources (`validpgpkeys`), uppercase.
    pub validpgpkeys: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SrcInfoError {
    #[error("commit {commit} has no .SRCINFO file")]
    Missing { commit: String },
    #[error("the .SRCINFO at commit {commit} is larger than 1 MiB")]
    TooLarge { commit: String },
    #[error("the .SRCINFO at commit {commit} is not valid: {message}")]
    Invalid { commit: String, message: String },
}

impl SrcInfo {
    /// The `.SRCINFO` of a commit, from its blob ([`crate::trust::tree`]): a regular file (not
    /// a symlink) of at most 1 MiB, for `arch`.
    pub fn of_tree(tree: &crate::trust::tree::Tree, arch: &str) -> Result<SrcInfo, SrcInfoError> {
        let commit = tree.commit().to_string();
        let bytes = tree.file(".SRCINFO").ok_or_else(|| SrcInfoError::Missing { commit: commit.clone() })?;
        if bytes.len() as u64 > MAX_SRCINFO_BYTES {
            return Err(SrcInfoError::TooLarge { commit });
        }
        Self::parse(&String::from_utf8_lossy(bytes), arch).map_err(|message| SrcInfoError::Invalid { commit, message })
    }

    pub fn parse(text: &str, arch: &str) -> Result<SrcInfo, String> {
        let info = SourceInfoV1::from_string(text).map_err(|e| e.to_string())?;
        let arch: alpm_types::Architecture = arch.parse().map_err(|e: alpm_types::Error| e.to_string())?;
        let mut packages = Vec::new();
        let mut makedepends: Vec<String> = Vec::new();
        let mut checkdepends: Vec<String> = Vec::new();
        let mut version = None;
        for package in info.packages_for_architecture(arch) {
            version.get_or_insert_with(|| package.version.to_string());
            // makedepends and checkdepends belong to the pkgbase; every merged package repeats them.
            push_new(&mut makedepends, package.make_dependencies.iter().map(|d| d.to_string()));
            push_new(&mut checkdepends, package.check_dependencies.iter().map(|d| d.to_string()));
            packages.push(SrcPackage {
                name: package.name.to_string(),
                depends: package.dependencies.iter().map(|d| d.to_string()).collect(),
                provides: package.provides.iter().map(|p| p.to_string()).collect(),
            });
        }
        let version = version.ok_or_else(|| "it declares no package for this architecture".to_string())?;
        let validpgpkeys = info.base.pgp_fingerprints.iter().map(|k| k.to_string().to_ascii_uppercase()).collect();
        Ok(SrcInfo {
            pkgbase: info.base.name.to_string(),
            version,
            pkgnames: packages.iter().map(|p| p.name.clone()).collect(),
            packages,
            makedepends,
            checkdepends,
            validpgpkeys,
        })
    }

    /// What makepkg installs before it builds (`makepkg -s`: the depends of every pkgname, the
    /// makedepends, and the checkdepends unless `nocheck`), deduplicated, without what the
    /// pkgbase itself makes or provides (split pkgnames depending on each other are built
    /// together).
    pub fn needs(&self, nocheck: bool) -> Vec<String> {
        let mut needs = Vec::new();
        let depends = self.packages.iter().flat_map(|p| p.depends.iter().cloned());
        let check = if nocheck { &[][..] } else { &self.checkdepends[..] };
        push_new(&mut needs, depends.chain(self.makedepends.iter().cloned()).chain(check.iter().cloned()));
        needs.retain(|d| !self.satisfies_itself(d));
        needs
    }

    /// Whether one of its own pkgnames (at its version) or provides satisfies `dep`.
    pub fn satisfies_itself(&self, dep: &str) -> bool {
        let rel = crate::alpm::Relation::parse(dep);
        self.packages.iter().any(|p| {
            rel.satisfied_by_package(&p.name, &self.version) || p.provides.iter().any(|v| rel.satisfied_by_provision(v))
        })
    }
}

/// The `[epoch:]pkgver-pkgrel` a `.SRCINFO` text declares (its pkgbase section).
pub fn srcinfo_version(text: &str) -> Result<String, String> {
    Ok(SourceInfoV1::from_string(text).map_err(|e| e.to_string())?.base.version.to_string())
}

fn push_new(list: &mut Vec<String>, items: impl Iterator<Item = String>) {
    for item in items {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPLIT: &str = "pkgbase = hello\n\tpkgver = 1.0\n\tpkgrel = 2\n\tepoch = 1\n\tarch = any\n\
\tmakedepends = maker>=3\n\tcheckdepends = checker\n\npkgname = hello-a\n\tdepends = liba\n\npkgname = hello-b\n\tdepends = hello-a\n";

    #[test]
    fn split_package_lists_every_pkgname_and_all_build_dependencies() {
        let info = SrcInfo::parse(SPLIT, "x86_64").unwrap();
        assert_eq!(info.pkgbase, "hello");
        assert_eq!(info.version, "1:1.0-2");
        assert_eq!(info.pkgnames, ["hello-a", "hello-b"]);
        assert_eq!(info.needs(false), ["liba", "maker>=3", "checker"], "hello-b's hello-a is built alongside");
        assert_eq!(info.needs(true), ["liba", "maker>=3"], "nocheck: checkdepends are not installed");
        assert!(info.validpgpkeys.is_empty());
    }

    #[test]
    fn dependencies_are_those_of_the_configured_architecture() {
        let text = "pkgbase = multi\n\tpkgver = 1\n\tpkgrel = 1\n\tarch = x86_64\n\tarch = aarch64\n\
\tdepends = common\n\tdepends_aarch64 = armonly-lib\n\tdepends_x86_64 = x86only-lib\n\
\tmakedepends_aarch64 = armonly-maker\n\tprovides_aarch64 = multi-arm\n\npkgname = multi\n";
        let x86 = SrcInfo::parse(text, "x86_64").unwrap();
        assert_eq!(x86.needs(false), ["common", "x86only-lib"]);
        assert!(x86.packages[0].provides.is_empty());
        let arm = SrcInfo::parse(text, "aarch64").unwrap();
        assert_eq!(arm.needs(false), ["common", "armonly-lib", "armonly-maker"]);
        assert_eq!(arm.packages[0].provides, ["multi-arm"]);
    }

    #[test]
    fn a_pkgname_section_replaces_or_clears_the_pkgbase_list() {
        let text = "pkgbase = tk\n\tpkgver = 2\n\tpkgrel = 1\n\tarch = any\n\tdepends = base-dep\n\
\npkgname = tk-cli\n\tdepends = gcc-libs\n\npkgname = python-tk\n\tdepends = python-jsonfive\n\tprovides = tk-py=2\n\
\npkgname = tk-data\n\tdepends =\n";
        let info = SrcInfo::parse(text, "x86_64").unwrap();
        let deps: Vec<_> = info.packages.iter().map(|p| p.depends.clone()).collect();
        assert_eq!(deps, [vec!["gcc-libs".to_string()], vec!["python-jsonfive".to_string()], vec![]]);
        assert_eq!(info.needs(false), ["gcc-libs", "python-jsonfive"], "every pkgname's depends; base-dep overridden");
        assert!(info.satisfies_itself("tk-py>=2"));
        assert!(!info.satisfies_itself("tk-py>=3"));
    }

    #[test]
    fn validpgpkeys_are_read() {
        let text = include_str!("../../tests/fixtures/aur/signed-source/.SRCINFO");
        let info = SrcInfo::parse(text, "x86_64").unwrap();
        assert_eq!(info.validpgpkeys, ["9AFB7BB20A2C795ABA9CDA8777867A0A09675111"]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(SrcInfo::parse("\u{0}\u{1}pkgbase", "x86_64").is_err());
        assert!(SrcInfo::parse("", "x86_64").is_err());
    }
}
