//! What a move of the lock lets in: the flags a reviewer must see.
//!
//! Pure: it compares a pkgbase's files at two AUR commits, and who maintained it then, and
//! says what changed beyond a version bump. The threat is the shape of the AUR takeovers of
//! June 2026: orphaned packages adopted, then updated to fetch from new hosts, to swap a
//! tarball behind an unchanged URL, or to add an install scriptlet. makepkg runs the PKGBUILD;
//! the .SRCINFO only describes it, so both are read: the .SRCINFO for what it names (sources,
//! install scriptlets, dependencies), the PKGBUILD function by function and line by line.
//!
//! Formats: PKGBUILD(5) (bash: functions, `source`, `*sums` arrays, `install`) and SRCINFO(5)
//! (`key = value` lines, a `pkgbase` section then one section per `pkgname`, `KEY_ARCH` keys).
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

const PKGBUILD: &str = "PKGBUILD";
const SRCINFO: &str = ".SRCINFO";

/// The checksum arrays of PKGBUILD(5), each also as `KEY_ARCH`.
const SUMS: &[&str] =
    &["md5sums", "sha1sums", "sha224sums", "sha256sums", "sha384sums", "sha512sums", "b2sums", "cksums"];

/// A pkgbase's files at one AUR commit, and who maintained it then.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Path relative to the repository root (`PKGBUILD`, `.SRCINFO`, `fix.patch`) -> content
    /// (UTF-8, lossy for binary files).
    pub files: BTreeMap<String, String>,
    /// The aurweb RPC's `Maintainer`: None when the pkgbase is orphaned.
    pub maintainer: Option<String>,
    /// The aurweb RPC's `CoMaintainers`, in any order.
    pub comaintainers: Vec<String>,
}

/// One thing a reviewer must see; `Display` gives it as one line with its reason. Lists are
/// sorted. In JSON: `{"flag": "new-hosts", "hosts": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "flag", rename_all = "kebab-case")]
pub enum Flag {
    /// The pkgbase is new to the lock: everything in it is to be read.
    New,
    MaintainerChanged { from: String, to: String },
    /// It has no maintainer any more.
    Orphaned { was: String },
    /// It was orphaned and now has a maintainer: the shape of the June 2026 takeovers.
    Adopted { by: String },
    ComaintainersChanged { added: Vec<String>, removed: Vec<String> },
    /// `source`/`source_ARCH` entries of the .SRCINFO, the new pkgver read as the old one (a
    /// version bump alone changes none); `_ARCH` entries end in ` (ARCH)`.
    SourcesChanged { added: Vec<String>, removed: Vec<String> },
    /// Hosts the new sources are fetched from that the old ones were not (literal URLs).
    NewHosts { hosts: Vec<String> },
    /// `*sums` changed while the literal source lists did not: the same URLs give other files.
    ChecksumsWithoutSources,
    /// An `install=` scriptlet (run as root by pacman) added, removed, or its file changed.
    InstallScript { detail: String },
    /// Bash functions of the PKGBUILD (`pkgver`, `prepare`, `build`, `check`, `package`,
    /// `package_*`, helpers) added, removed, or with another body.
    FunctionsChanged { names: Vec<String> },
    /// Files other than PKGBUILD and .SRCINFO (patches, scriptlets, configs).
    FilesChanged { added: Vec<String>, removed: Vec<String>, changed: Vec<String> },
    /// The PKGBUILD outside its functions changed beyond plain `pkgver=`, `pkgrel=`, `epoch=`
    /// and checksum arrays (the pkgver read as the old one).
    PkgbuildChanged,
    /// .SRCINFO keys (`KEY (PKGNAME)` in a pkgname section) that changed, beyond those the
    /// flags above cover (version, checksums, sources, install), e.g. `depends`, `validpgpkeys`.
    SrcinfoChanged { keys: Vec<String> },
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::New => write!(f, "new to the lock: read the PKGBUILD and every file"),
            Flag::MaintainerChanged { from, to } => write!(f, "maintainer changed from {from} to {to}"),
            Flag::Orphaned { was } => write!(f, "orphaned: {was} no longer maintains it"),
            Flag::Adopted { by } => write!(f, "adopted by {by} after being orphaned, as in the June 2026 takeovers"),
            Flag::ComaintainersChanged { added, removed } => {
                write!(f, "co-maintainers changed: {}", changes(&[("added", added), ("removed", removed)]))
            }
            Flag::SourcesChanged { added, removed } => {
                write!(f, "sources changed: {}", changes(&[("added", added), ("removed", removed)]))
            }
            Flag::NewHosts { hosts } => {
                let hosts: Vec<String> = hosts.iter().map(|h| escape_non_ascii(h)).collect();
                write!(f, "sources from hosts not used before: {}", hosts.join(", "))
            }
            Flag::ChecksumsWithoutSources => {
                write!(f, "checksums changed while the sources did not: the same URLs now give other files")
            }
            Flag::InstallScript { detail } => write!(f, "install scriptlet (run as root by pacman): {detail}"),
            Flag::FunctionsChanged { names } => {
                let names: Vec<String> = names.iter().map(|n| format!("{n}()")).collect();
                write!(f, "PKGBUILD functions changed: {}", names.join(", "))
            }
            Flag::FilesChanged { added, removed, changed } => {
                let lists = [("added", added), ("removed", removed), ("changed", changed)];
                write!(f, "files changed: {}", changes(&lists))
            }
            Flag::PkgbuildChanged => {
                write!(f, "the PKGBUILD changed outside its functions, beyond pkgver, pkgrel, epoch and checksums")
            }
            Flag::SrcinfoChanged { keys } => write!(f, ".SRCINFO changed: {}", keys.join(", ")),
        }
    }
}

/// `added a, b; removed c`, leaving out empty lists.
fn changes(lists: &[(&str, &Vec<String>)]) -> String {
    let parts: Vec<String> =
        lists.iter().filter(|(_, l)| !l.is_empty()).map(|(what, l)| format!("{what} {}", l.join(", "))).collect();
    parts.join("; ")
}

/// A host as the reviewer can tell it apart: `gіthub.com` (Cyrillic і) reads `g\u{456}thub.com`.
fn escape_non_ascii(host: &str) -> String {
    host.chars().map(|c| if c.is_ascii() { c.to_string() } else { c.escape_unicode().to_string() }).collect()
}

/// A .SRCINFO read as SRCINFO(5) lines: (section, key) -> values in file order. The section is
/// "" for pkgbase's and the pkgname for the others; the `pkgbase =`/`pkgname =` lines are
/// entries of their own section.
type Fields = BTreeMap<(String, String), Vec<String>>;

fn parse_srcinfo(text: &str) -> Fields {
    let mut fields = Fields::new();
    let mut section = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').map_or((line, ""), |(k, v)| (k.trim(), v.trim()));
        if key == "pkgname" {
            section = value.to_string();
        }
        fields.entry((section.clone(), key.to_string())).or_default().push(value.to_string());
    }
    fields
}

/// `source` for `source_x86_64`: SRCINFO(5) keys have no `_` but the one before the ARCH.
fn base_key(key: &str) -> &str {
    key.split_once('_').map_or(key, |(base, _)| base)
}

fn is_checksum(key: &str) -> bool {
    SUMS.contains(&base_key(key))
}

fn is_source(key: &str) -> bool {
    base_key(key) == "source"
}

fn is_version(key: &str) -> bool {
    matches!(key, "pkgver" | "pkgrel" | "epoch")
}

/// The pkgbase section's lists whose key passes `keep`, in key order.
fn pkgbase_lists(fields: &Fields, keep: fn(&str) -> bool) -> Vec<(&str, &Vec<String>)> {
    fields.iter().filter(|((section, key), _)| section.is_empty() && keep(key)).map(|((_, k), v)| (k.as_str(), v)).collect()
}

/// The host a source entry is fetched from, lowercased; None for a local file (no `://`).
/// PKGBUILD(5) `source`: `[name::]URL`, split at the first `::` as makepkg does; VCS URLs are
/// `git+https://host/path#tag=...`. By hand rather than with the `url` crate: only host strings
/// of two commits are compared, and `url` takes `git+https` for a non-special scheme whose host
/// it neither lowercases nor maps, so `https` and `git+https` hosts would not compare alike.
fn host(entry: &str) -> Option<String> {
    let url = entry.split_once("::").map_or(entry, |(_, url)| url);
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match host_port.strip_prefix('[') {
        Some(ipv6) => ipv6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// A PKGBUILD split into its functions (name -> header and body lines, trailing whitespace
/// dropped) and the lines outside them.
#[derive(Debug, Default, PartialEq)]
struct Pkgbuild {
    functions: BTreeMap<String, String>,
    outside: Vec<String>,
}

fn split_functions(text: &str) -> Pkgbuild {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut pkgbuild = Pkgbuild::default();
    let mut i = 0;
    while i < lines.len() {
        let Some(name) = function_name(lines[i]) else {
            pkgbuild.outside.push(lines[i].to_string());
            i += 1;
            continue;
        };
        let end = function_end(&lines, i);
        // bash keeps the last definition; both are kept so that either changing shows.
        let body = pkgbuild.functions.entry(name).or_default();
        body.push_str(&lines[i..=end].join("\n"));
        body.push('\n');
        i = end + 1;
    }
    pkgbuild
}

/// The name a line starts a function with: `^\s*(function\s+)?NAME\s*\(\s*\)`.
fn function_name(line: &str) -> Option<String> {
    let line = line.trim_start();
    let line = line.strip_prefix("function").filter(|r| r.starts_with([' ', '\t'])).map_or(line, str::trim_start);
    let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || "_-.+".contains(c))).unwrap_or(line.len());
    let (name, after) = line.split_at(end);
    after.trim_start().strip_prefix('(')?.trim_start().strip_prefix(')')?;
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then(|| name.to_string())
}

/// The last line of the function whose header is `lines[start]`: where the brace depth, once a
/// `{` is seen, is back to 0. A line-based count: braces inside quotes on one line and after
/// a comment's `#` are skipped, quotes spanning lines are not followed. A miscount only moves
/// lines between a function and the lines outside, and both are compared.
fn function_end(lines: &[&str], start: usize) -> usize {
    let mut depth = 0;
    let mut opened = false;
    for (i, line) in lines.iter().enumerate().skip(start) {
        let (opens, closes) = braces(line);
        depth += opens - closes;
        opened |= opens > 0;
        if opened && depth <= 0 {
            return i;
        }
    }
    lines.len() - 1
}

/// The `{` and `}` of a bash line outside quotes and comments.
fn braces(line: &str) -> (i64, i64) {
    let (mut opens, mut closes, mut quote, mut escaped, mut previous) = (0, 0, None, false, ' ');
    for c in line.chars() {
        match (quote, c) {
            _ if escaped => escaped = false,
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('"'), '\\') | (None, '\\') => escaped = true,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') if previous.is_whitespace() => break,
            (None, '{') => opens += 1,
            (None, '}') => closes += 1,
            _ => {}
        }
        previous = c;
    }
    (opens, closes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_read_from_named_and_vcs_sources_and_local_files_have_none() {
        assert_eq!(host("foo-1.0.tar.gz::https://GitHub.com/foo/foo/archive/v1.0.tar.gz").unwrap(), "github.com");
        assert_eq!(host("git+https://user@gitlab.example:8443/foo.git#tag=v1.0").unwrap(), "gitlab.example");
        assert_eq!(host("foo.tar.gz::https://[2001:db8::1]:8080/foo.tar.gz").unwrap(), "2001:db8::1");
        assert_eq!(host("https://evil.example?x=github.com/").unwrap(), "evil.example");
        assert_eq!(host("fix.patch"), None);
        assert_eq!(host("file:///etc/passwd"), None);
    }

    #[test]
    fn srcinfo_fields_belong_to_their_section() {
        let text = "# Generated by makepkg\npkgbase = foo\n\tpkgver = 1.0\n\tsource_x86_64 = a.tar.gz\n\
\tsha256sums_x86_64 = SKIP\n\tdepends =\n\npkgname = foo-cli\n\tdepends = foo\n";
        let fields = parse_srcinfo(text);
        let get = |section: &str, key: &str| fields[&(section.to_string(), key.to_string())].clone();
        assert_eq!(get("", "pkgbase"), ["foo"]);
        assert_eq!(get("", "depends"), [""]);
        assert_eq!(get("foo-cli", "pkgname"), ["foo-cli"]);
        assert_eq!(get("foo-cli", "depends"), ["foo"]);
        assert_eq!(pkgbase_lists(&fields, is_source), [("source_x86_64", &vec!["a.tar.gz".to_string()])]);
        assert!(is_checksum("sha256sums_x86_64") && is_checksum("b2sums") && !is_checksum("depends"));
    }

    #[test]
    fn functions_end_at_their_closing_brace_whatever_the_header_style() {
        let text = "pkgname=foo\nbuild()\n{\n  echo '}' \"{\" # }\n  make\n}\n\nfunction package_foo-cli () {\n  \
if true; then echo ${pkgver}; fi\n}\n_helper() { make -C \"$srcdir\"; }\nfoo=1\n";
        let pkgbuild = split_functions(text);
        let names: Vec<&String> = pkgbuild.functions.keys().collect();
        assert_eq!(names, ["_helper", "build", "package_foo-cli"]);
        assert_eq!(pkgbuild.functions["build"], "build()\n{\n  echo '}' \"{\" # }\n  make\n}\n");
        assert_eq!(pkgbuild.outside, ["pkgname=foo", "", "foo=1"]);
        assert_eq!(function_name("arch=('x86_64')"), None);
        assert_eq!(function_name("  check() {").unwrap(), "check");
    }
}
