//! repo.yaml as written: serde types that keep the position of every value, so that a
//! problem found after parsing (an invalid name, a duplicate) can still name its line.
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub name: Spanned<String>,
    #[serde(default)]
    pub arch: Option<Spanned<String>>,
    #[serde(default)]
    pub s3: Option<Spanned<RawS3>>,
    #[serde(default)]
    pub local: Option<Spanned<RawLocal>>,
    #[serde(default)]
    pub builder: Option<Spanned<RawBuilder>>,
    #[serde(default)]
    pub sign: Option<Spanned<RawSign>>,
    #[serde(default)]
    pub trust: Option<Spanned<RawTrust>>,
    #[serde(default)]
    pub logs: Option<Spanned<RawLogs>>,
    #[serde(default)]
    pub snapshots: Option<Spanned<RawSnapshots>>,
    pub packages: Spanned<Vec<Spanned<RawPackage>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawS3 {
    pub bucket: Spanned<String>,
    #[serde(default)]
    pub prefix: Option<Spanned<String>>,
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    #[serde(default)]
    pub endpoint: Option<Spanned<String>>,
    #[serde(default)]
    pub acl: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSign {
    pub key: Spanned<String>,
    #[serde(default)]
    pub public_key: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrust {
    #[serde(default)]
    pub min_age: Option<Spanned<String>>,
    #[serde(default)]
    pub maintainers: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub auto: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogs {
    #[serde(default)]
    pub keep: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSnapshots {
    #[serde(default)]
    pub keep: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLocal {
    pub path: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBuilder {
    #[serde(default)]
    pub image: Option<Spanned<String>>,
    #[serde(default)]
    pub jobs: Option<Spanned<u32>>,
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub memory: Option<Spanned<String>>,
    #[serde(default)]
    pub cpus: Option<Spanned<f64>>,
    #[serde(default)]
    pub network: Option<Spanned<String>>,
    #[serde(default)]
    pub keyserver: Option<Spanned<String>>,
    #[serde(default)]
    pub allow_host: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub vcs_interval: Option<Spanned<String>>,
    #[serde(default)]
    pub debug: Option<bool>,
}

/// A package entry: either a bare name or a mapping with `name` (or `path`, issue 27) and
/// per-package settings.
#[derive(Debug)]
pub struct RawPackage {
    /// None only in a mapping that has `path:` (or neither, which the validator refuses).
    pub name: Option<Spanned<String>>,
    /// `path:`: a PKGBUILD directory beside repo.yaml instead of an AUR package.
    pub path: Option<Spanned<String>>,
    /// `git:` and `subdir:`: a PKGBUILD repository outside the AUR (issue 27).
    pub git: Option<Spanned<String>>,
    pub subdir: Option<Spanned<String>>,
    /// `patches:`: patch files relative to repo.yaml, applied in order to an AUR package.
    pub patches: Option<Spanned<Vec<Spanned<String>>>>,
    pub settings: RawPackageSettings,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPackageSettings {
    /// Skip the check() function (makepkg --nocheck).
    #[serde(default)]
    pub nocheck: bool,
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub memory: Option<Spanned<String>>,
    #[serde(default)]
    pub cpus: Option<Spanned<f64>>,
    #[serde(default)]
    pub vcs: Option<bool>,
    #[serde(default)]
    pub vcs_interval: Option<Spanned<String>>,
    #[serde(default)]
    pub network: Option<Spanned<String>>,
    /// Fingerprints, or key files relative to repo.yaml.
    #[serde(default)]
    pub pgp_keys: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub debug: Option<bool>,
    /// Capability names, `IPC_LOCK` or `CAP_IPC_LOCK`.
    #[serde(default)]
    pub capabilities: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPackageLong {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(default)]
    path: Option<Spanned<String>>,
    #[serde(default)]
    git: Option<Spanned<String>>,
    #[serde(default)]
    subdir: Option<Spanned<String>>,
    patches: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    nocheck: bool,
    #[serde(default)]
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    memory: Option<Spanned<String>>,
    #[serde(default)]
    cpus: Option<Spanned<f64>>,
    #[serde(default)]
    vcs: Option<bool>,
    #[serde(default)]
    vcs_interval: Option<Spanned<String>>,
    #[serde(default)]
    network: Option<Spanned<String>>,
    #[serde(default)]
    pgp_keys: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    debug: Option<bool>,
    #[serde(default)]
    capabilities: Option<Spanned<Vec<Spanned<String>>>>,
}

impl<'de> Deserialize<'de> for RawPackage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PackageVisitor;
        impl<'de> Visitor<'de> for PackageVisitor {
            type Value = RawPackage;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a package name, or a mapping with `name:` and per-package settings")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawPackage, E> {
                let unknown = serde_saphyr::Location::UNKNOWN;
                Ok(RawPackage {
                    name: Some(Spanned::new(v.to_owned(), unknown, unknown)),
                    path: None,
                    git: None,
                    subdir: None,
                    patches: None,
                    settings: RawPackageSettings::default(),
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawPackage, A::Error> {
                let long = RawPackageLong::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let settings = RawPackageSettings {
                    nocheck: long.nocheck,
                    timeout: long.timeout,
                    memory: long.memory,
                    cpus: long.cpus,
                    vcs: long.vcs,
                    vcs_interval: long.vcs_interval,
                    network: long.network,
                    pgp_keys: long.pgp_keys,
                    debug: long.debug,
                    capabilities: long.capabilities,
                };
                Ok(RawPackage {
                    name: long.name,
                    path: long.path,
                    git: long.git,
                    subdir: long.subdir,
                    patches: long.patches,
                    settings,
                })
            }
        }
        deserializer.deserialize_any(PackageVisitor)
    }
}
