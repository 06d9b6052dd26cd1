//! What a checkout's .SRCINFO says, through alpm-srcinfo: the pkgnames a pkgbase makes and
//! what must be installed before makepkg runs.
use alpm_srcinfo::SourceInfoV1;
use alpm_types::RelationOrSoname;
use camino::Utf8Path;

/// .SRCINFO larger than this is refused (real ones are a few KiB).
const MAX_SRCINFO_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrcInfo {
    pub pkgbase: String,
    /// `[epoch:]pkgver-pkgrel`.
    pub version: String,
    pub pkgnames: Vec<String>,
    /// depends of every pkgname, makedepends and checkdepends, deduplicated, as dependency strings.
    pub build_depends: Vec<String>,
    /// Fingerprints whose signatures makepkg accepts on the sources (`validpgpkeys`), uppercase.
    pub validpgpkeys: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SrcInfoError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is larger than 1 MiB")]
    TooLarge { path: String },
    #[error("{path} is not a valid .SRCINFO: {message}")]
    Invalid { path: String, message: String },
}

impl SrcInfo {
    pub fn read(path: &Utf8Path, arch: &str) -> Result<SrcInfo, SrcInfoError> {
        let meta = fs_err::metadata(path).map_err(|source| SrcInfoError::Read { path: path.to_string(), source })?;
        if meta.len() > MAX_SRCINFO_BYTES {
            return Err(SrcInfoError::TooLarge { path: path.to_string() });
        }
        let text =
            fs_err::read_to_string(path).map_err(|source| SrcInfoError::Read { path: path.to_string(), source })?;
        Self::parse(&text, arch).map_err(|message| SrcInfoError::Invalid { path: path.to_string(), message })
    }

    pub fn parse(text: &str, arch: &str) -> Result<SrcInfo, String> {
        let info = SourceInfoV1::from_string(text).map_err(|e| e.to_string())?;
        let arch: alpm_types::Architecture = arch.parse().map_err(|e: alpm_types::Error| e.to_string())?;
        let mut pkgnames = Vec::new();
        let mut deps: Vec<String> = Vec::new();
        let mut version = None;
        for package in info.packages_for_architecture(arch) {
            pkgnames.push(package.name.to_string());
            version.get_or_insert_with(|| package.version.to_string());
            for dep in &package.dependencies {
                if let RelationOrSoname::Relation(rel) = dep {
                    deps.push(rel.to_string());
                }
            }
            deps.extend(package.make_dependencies.iter().map(|d| d.to_string()));
            deps.extend(package.check_dependencies.iter().map(|d| d.to_string()));
        }
        // A split package's pkgnames may depend on each other; they are built together.
        let mut seen = std::collections::HashSet::new();
        deps.retain(|d| !pkgnames.iter().any(|n| n == crate::aur::dep_name(d)) && seen.insert(d.clone()));
        let version = version.ok_or_else(|| "it declares no package for this architecture".to_string())?;
        let validpgpkeys = info.base.pgp_fingerprints.iter().map(|k| k.to_string().to_ascii_uppercase()).collect();
        Ok(SrcInfo { pkgbase: info.base.name.to_string(), version, pkgnames, build_depends: deps, validpgpkeys })
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
        assert_eq!(info.build_depends, ["liba", "maker>=3", "checker"], "hello-b's hello-a is built alongside");
        assert!(info.validpgpkeys.is_empty());
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
