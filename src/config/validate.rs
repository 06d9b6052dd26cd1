//! From bytes to a validated [`Config`]: every rule repo.yaml must follow, each broken rule a
//! [`Diagnostic`] at the offending value.
use super::schema::{RawBuilder, RawConfig, RawLocal, RawLogs, RawPackage, RawS3, RawSign, RawSnapshots, RawTrust};
use super::*;
use crate::docker::{Capability, CapabilityError, GRANTABLE_CAPABILITIES, KEPT_CAPABILITIES};
use serde_saphyr::{Location, Spanned};
use std::collections::HashMap;
use std::time::Duration;

const CANNED_ACLS: &[&str] = &[
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
];
const TOP_LEVEL_KEYS: &[&str] =
    &["name", "arch", "s3", "local", "builder", "sign", "trust", "logs", "snapshots", "packages"];
const MAX_JOBS: u32 = 64;
const REFERENCE: &str = "see the user guide, docs/src/reference/repo-yaml.md";

pub(super) fn parse(path: &Utf8Path, bytes: &[u8]) -> Result<Config, Diagnostics> {
    let text = as_text(path, bytes).map_err(|d| Diagnostics(vec![d]))?;
    let mut problems = Vec::new();
    // The text parsed now: `text`, then `text` with each refused key's lines blanked out.
    let mut current = text.to_string();
    // The last line blanked out: an error at or before it may be one the blanking made.
    let mut blanked: Option<u64> = None;
    loop {
        let err = match serde_saphyr::from_str_with_options::<RawConfig>(&current, yaml_options()) {
            Ok(raw) => {
                let mut v = Validator { path, problems: Vec::new() };
                let config = v.config(raw);
                if v.problems.is_empty() && problems.is_empty() {
                    return Ok(config);
                }
                problems.extend(v.problems);
                break;
            }
            Err(err) => err,
        };
        let diagnostic = yaml_error(path, &current, &err);
        let line = diagnostic.pos.line;
        if blanked.is_some() && (blanked >= Some(line) || diagnostic.message.starts_with("missing field")) {
            break;
        }
        problems.push(diagnostic);
        match recoverable(&err).then(|| blank_out(&current, line)).flatten() {
            Some(next) if problems.len() < MAX_SALVAGED => (current, blanked) = (next, Some(line)),
            _ => break,
        }
    }
    Err(Diagnostics(problems))
}

/// At most this many problems are gathered by parsing again around refused keys.
const MAX_SALVAGED: usize = 50;

/// Whether parsing can go on past `err` by dropping the key it is at: a value of the wrong type,
/// an unknown or repeated key. A syntax error, a limit or a missing key ends the parse (what
/// follows a syntax error cannot be read reliably).
fn recoverable(err: &serde_saphyr::Error) -> bool {
    use serde_saphyr::Error as E;
    match err.without_snippet() {
        E::DuplicateMappingKey { .. }
        | E::InvalidScalar { .. }
        | E::InvalidBooleanStrict { .. }
        | E::NullIntoString { .. }
        | E::SerdeInvalidType { .. }
        | E::SerdeInvalidValue { .. }
        | E::SerdeInvalidLength { .. }
        | E::SerdeUnknownField { .. }
        | E::SerdeUnknownVariant { .. } => true,
        E::Message { msg, .. } => !msg.starts_with("missing field"),
        _ => false,
    }
}

/// `text` with line `line` (1-based) and the more indented lines under it made empty, so a
/// second parse reads past a refused key and reports the problems after it too (`--help`
/// promises every problem at once). Line numbers stay as they were. Written by hand: the YAML
/// parser stops at its first error and has no recovery. None when there is no such line.
fn blank_out(text: &str, line: u64) -> Option<String> {
    let index = usize::try_from(line).ok()?.checked_sub(1)?;
    let lines: Vec<&str> = text.split('\n').collect();
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let depth = indent(lines.get(index)?);
    let mut out: Vec<&str> = lines[..index].to_vec();
    out.push("");
    let mut rest = lines[index + 1..].iter();
    for l in rest.by_ref() {
        let nested = l.trim().is_empty() || l.trim_start().starts_with('#') || indent(l) > depth;
        if !nested {
            out.push(l);
            break;
        }
        out.push("");
    }
    out.extend(rest);
    Some(out.join("\n"))
}

/// Limits that turn alias bombs and giant documents into a quick error.
fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    options.alias_limits.max_total_replayed_events = 10_000;
    options.alias_limits.max_alias_expansions_per_anchor = 100;
    options.alias_limits.max_replay_stack_depth = 8;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 200_000;
    budget.max_aliases = 100;
    budget.max_anchors = 100;
    budget.max_depth = 64;
    options.budget = Some(budget);
    options
}

/// Rejects oversized files, invalid UTF-8 and control characters before the YAML parser sees them.
fn as_text<'a>(path: &Utf8Path, bytes: &'a [u8]) -> Result<&'a str, Diagnostic> {
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(Diagnostic::new(path, Pos { line: 1, col: 1 }, "file is larger than 1 MiB")
            .hint("repo.yaml should be a short list of packages; is this the right file?"));
    }
    let binary = |offset: usize, what: &str| {
        Diagnostic::new(path, pos_of(bytes, offset), format!("{what}: this is not a YAML text file"))
            .hint("repo.yaml must be UTF-8 text; check that --config names the right file")
    };
    let text = std::str::from_utf8(bytes).map_err(|e| binary(e.valid_up_to(), "invalid UTF-8"))?;
    if let Some(offset) = text.find(|c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(binary(offset, "control character"));
    }
    Ok(text)
}

fn pos_of(bytes: &[u8], offset: usize) -> Pos {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[line_start..]).chars().count() as u64 + 1;
    Pos { line, col }
}

fn yaml_error(path: &Utf8Path, text: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let pos = err.location().map(loc_pos).filter(|p| p.line > 0).unwrap_or(Pos { line: 1, col: 1 });
    if let serde_saphyr::Error::DuplicateMappingKey { key, .. } = err.without_snippet() {
        return duplicate_key(path, text, pos, key.as_deref());
    }
    let message = plain_words(strip_location(&err.to_string()));
    // A missing top-level key belongs to the document, not to whatever line the parser was on.
    let pos = if ["`name`", "`packages`"].iter().any(|k| message == format!("missing field {k}")) {
        Pos { line: 1, col: 1 }
    } else {
        pos
    };
    let hint = yaml_hint(&message, text);
    Diagnostic::new(path, pos, message).hint(hint)
}

/// A key written twice in one mapping. serde-saphyr's own message tells the programmer to set
/// an option; the person editing repo.yaml needs the key, both places and what to do.
fn duplicate_key(path: &Utf8Path, text: &str, pos: Pos, key: Option<&str>) -> Diagnostic {
    let Some(key) = key else {
        return Diagnostic::new(path, pos, "a key is written twice in the same mapping")
            .hint("keep one of the two: a mapping holds each key once");
    };
    let first = first_occurrence(text, pos, key).map(|l| format!(" (first on line {l})")).unwrap_or_default();
    Diagnostic::new(path, pos, format!("`{key}` is set twice in the same mapping{first}"))
        .hint(format!("keep one `{key}:` and delete the other; YAML does not merge them"))
}

/// The line of the first `key:` of the mapping `pos` is in: looking up from `pos` at the same
/// column, until a line less indented or the start of the sequence item (None when not found,
/// as in a flow mapping `{a: 1, a: 2}`).
fn first_occurrence(text: &str, pos: Pos, key: &str) -> Option<u64> {
    let col = usize::try_from(pos.col).ok()?.checked_sub(1)?;
    let before = usize::try_from(pos.line).ok()?.checked_sub(1)?;
    let lines: Vec<&str> = text.lines().take(before).collect();
    for (i, l) in lines.iter().enumerate().rev() {
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        let (head, at) = (l.get(..col)?, l.get(col..)?);
        if !head.chars().all(|c| c == ' ' || c == '-') {
            return None;
        }
        if at.strip_prefix(key).is_some_and(|after| after.trim_start().starts_with(':')) {
            return Some(i as u64 + 1);
        }
        if head.contains('-') {
            return None;
        }
    }
    None
}

/// serde-saphyr appends " at line N, column M"; the position is printed in front instead.
fn strip_location(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message).trim();
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

/// serde's names for numbers mean little to someone editing YAML.
fn plain_words(message: String) -> String {
    match message.as_str() {
        "invalid u32" | "invalid u64" | "invalid i64" | "invalid i32" => "expected a whole number".into(),
        "invalid bool" | "invalid boolean" => "expected true or false".into(),
        _ => message,
    }
}

fn yaml_hint(message: &str, _text: &str) -> String {
    if let Some(field) = between(message, "unknown field `", "`") {
        let known: Vec<&str> = message
            .split_once("expected one of ")
            .map(|(_, list)| list.split(", ").map(|k| k.trim_matches('`')).collect())
            .unwrap_or_default();
        let candidates: Vec<&str> = if known.is_empty() { TOP_LEVEL_KEYS.to_vec() } else { known };
        if let Some(best) = closest(field, &candidates) {
            return format!("did you mean `{best}`? ({REFERENCE})");
        }
        return format!("remove it, or use one of: {} ({REFERENCE})", candidates.join(", "));
    }
    if message.contains("missing field") {
        return format!("add the key; {REFERENCE}");
    }
    if message.contains("alias") || message.contains("budget") || message.contains("limit") {
        return "repo.yaml may use a few anchors and aliases, not expand them without bound".into();
    }
    if message.contains("invalid type") || message.starts_with("invalid ") || message.starts_with("expected ") {
        return format!("check the value's type; {REFERENCE}");
    }
    "fix the YAML syntax at this position (indentation, a missing colon, an unclosed quote or bracket)".into()
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(&s[from..from + len])
}

fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `a/b/../c` -> `a/c`, without touching the file system (the directory may not exist yet).
fn normalize(path: &Utf8Path) -> Utf8PathBuf {
    use camino::Utf8Component;
    let mut out = Utf8PathBuf::new();
    for part in path.components() {
        match part {
            Utf8Component::CurDir => {}
            Utf8Component::ParentDir if matches!(out.components().next_back(), Some(Utf8Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other.as_str()),
        }
    }
    if out.as_str().is_empty() { Utf8PathBuf::from(".") } else { out }
}

fn loc_pos(loc: Location) -> Pos {
    Pos { line: loc.line(), col: loc.column() }
}

struct Validator<'a> {
    path: &'a Utf8Path,
    problems: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn problem(&mut self, loc: Location, message: impl Into<String>, hint: impl Into<String>) {
        self.problems.push(Diagnostic::new(self.path, loc_pos(loc), message).hint(hint));
    }

    fn config(&mut self, raw: RawConfig) -> Config {
        let name = self.repo_name(&raw.name);
        let arch = self.arch(raw.arch.as_ref());
        let target = self.target(raw.s3, raw.local);
        let builder = self.builder(raw.builder);
        let sign = raw.sign.and_then(|s| self.sign(s.value));
        let trust = raw.trust.map(|t| self.trust(t.value)).unwrap_or_default();
        let logs = raw.logs.map(|l| self.logs(l.value)).unwrap_or_default();
        let snapshots = raw.snapshots.map(|s| self.snapshots(s.value)).unwrap_or_default();
        let packages = self.packages(raw.packages);
        Config { path: self.path.to_owned(), name, arch, target, builder, sign, trust, logs, snapshots, packages }
    }

    /// `snapshots:`: how long each publish's snapshot is kept, a duration of at least an hour,
    /// or 0: no history (none is kept, and those there are expire).
    fn snapshots(&mut self, raw: RawSnapshots) -> SnapshotsConfig {
        let mut snapshots = SnapshotsConfig::default();
        let hint = "write a duration such as 14d, 36h or 1d12h (default 14d), or 0 for no history";
        if let Some(keep) = &raw.keep
            && let Some(d) = self.duration_with_unit("keep", keep, hint)
        {
            if !d.is_zero() && d < Duration::from_secs(3_600) {
                self.problem(
                    keep.referenced,
                    format!("`keep` is `{}`: a snapshot kept less than an hour cannot be rolled back to", keep.value),
                    hint,
                );
            } else {
                snapshots.keep = d;
            }
        }
        snapshots
    }

    /// `logs:`: how many build logs of each pkgbase stay published (1 to [`MAX_LOGS_KEPT`]).
    fn logs(&mut self, raw: RawLogs) -> LogsConfig {
        let mut logs = LogsConfig::default();
        if let Some(keep) = &raw.keep {
            match keep.value {
                1..=MAX_LOGS_KEPT => logs.keep = keep.value,
                other => self.problem(
                    keep.referenced,
                    format!("`keep` is {other}: at least one log of each pkgbase stays published"),
                    format!("write a number from 1 to {MAX_LOGS_KEPT} (default {DEFAULT_LOGS_KEPT})"),
                ),
            }
        }
        logs
    }

    /// `trust:`: a duration, AUR user names, and one of [`AutoUpdate::NAMES`].
    fn trust(&mut self, raw: RawTrust) -> TrustConfig {
        let mut trust = TrustConfig::default();
        if let Some(age) = &raw.min_age
            && let Some(d) = self.duration_with_unit("min_age", age, "write a duration such as 3d, 36h or 1d12h")
        {
            trust.min_age = d;
        }
        if let Some(names) = &raw.maintainers {
            for name in names.value.iter().filter(|n| !valid_aur_user(&n.value)) {
                self.problem(
                    name.referenced,
                    format!("`{}` is not an AUR user name", name.value),
                    "write the name as the AUR shows it under Maintainer (letters, digits, `.`, `_`, `-`)",
                );
            }
            trust.maintainers = Some(names.value.iter().map(|n| n.value.clone()).collect());
        }
        if let Some(auto) = &raw.auto {
            match auto.value.as_str() {
                "none" => trust.auto = AutoUpdate::None,
                "version-only" => trust.auto = AutoUpdate::VersionOnly,
                other => self.problem(
                    auto.referenced,
                    format!("`auto` is `{other}`, which is not a policy"),
                    format!("use one of: {}", AutoUpdate::NAMES.join(", ")),
                ),
            }
        }
        trust
    }

    /// `sign.public_key`: an armored public key file relative to repo.yaml; None (and a
    /// problem) when it cannot be read or is not a public key.
    fn public_key_file(&mut self, file: &Spanned<String>) -> Option<crate::config::PublicKeyFile> {
        let base = self.path.parent().unwrap_or(Utf8Path::new("."));
        let path = normalize(&base.join(file.value.trim()));
        match read_key_file(&path) {
            Ok((armored, _)) => Some(crate::config::PublicKeyFile { path, armored, pos: loc_pos(file.referenced) }),
            Err((message, hint)) => {
                self.problem(file.referenced, format!("key file `{}`: {message}", file.value), hint);
                None
            }
        }
    }

    /// `sign.key`; None (and a problem) when it is not a full fingerprint.
    fn sign(&mut self, sign: RawSign) -> Option<SignConfig> {
        let key = &sign.key;
        let public_key = sign.public_key.as_ref().and_then(|file| self.public_key_file(file));
        match Fingerprint::parse(&key.value) {
            Ok(fingerprint) => Some(SignConfig { key: fingerprint, pos: loc_pos(key.referenced), public_key }),
            Err(_) => {
                self.problem(
                    key.referenced,
                    format!("`{}` is not a key fingerprint", key.value),
                    "use the full 40-character fingerprint of the signing key, as `gpg --list-secret-keys --keyid-format none` prints it",
                );
                None
            }
        }
    }

    fn repo_name(&mut self, name: &Spanned<String>) -> String {
        let v = &name.value;
        let valid = v.len() <= 64
            && v.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if !valid {
            self.problem(
                name.referenced,
                format!("invalid repository name `{v}`"),
                "use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit (it becomes NAME.db)",
            );
        }
        v.clone()
    }

    fn arch(&mut self, arch: Option<&Spanned<String>>) -> String {
        let Some(arch) = arch else { return DEFAULT_ARCH.to_string() };
        if arch.value.parse::<alpm_types::Architecture>().is_err() || arch.value == "any" {
            self.problem(
                arch.referenced,
                format!("invalid architecture `{}`", arch.value),
                "use the machine architecture the repository serves, such as x86_64 or aarch64",
            );
        }
        arch.value.clone()
    }

    fn target(&mut self, s3: Option<Spanned<RawS3>>, local: Option<Spanned<RawLocal>>) -> TargetConfig {
        let base = self.path.parent().unwrap_or(Utf8Path::new("."));
        match (s3, local) {
            (Some(s3), Some(local)) => {
                self.problem(
                    local.referenced,
                    "`local` and `s3` are both set",
                    "a repository is published to one place: keep `s3` or `local`",
                );
                TargetConfig::S3(self.s3(s3.value))
            }
            (Some(s3), None) => TargetConfig::S3(self.s3(s3.value)),
            (None, Some(local)) => {
                let path = &local.value.path;
                if path.value.trim().is_empty() {
                    self.problem(
                        path.referenced,
                        "`local.path` is empty",
                        "name the directory to write the repository to",
                    );
                }
                TargetConfig::Local { path: normalize(&base.join(&path.value)) }
            }
            (None, None) => TargetConfig::Local { path: normalize(&base.join(DEFAULT_LOCAL_DIR)) },
        }
    }

    fn s3(&mut self, s3: RawS3) -> S3Config {
        let bucket = &s3.bucket;
        let b = &bucket.value;
        let valid = (3..=63).contains(&b.len())
            && b.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && b.starts_with(|c: char| c.is_ascii_alphanumeric())
            && b.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid {
            self.problem(
                bucket.referenced,
                format!("invalid bucket name `{b}`"),
                "S3 bucket names are 3-63 characters of lowercase letters, digits, '-' and '.'",
            );
        }
        let prefix = s3.prefix.as_ref().map(|p| p.value.trim_matches('/').to_string()).unwrap_or_default();
        if let Some(p) = &s3.prefix
            && prefix.split('/').any(|seg| seg == ".." || seg == "." || (seg.is_empty() && !prefix.is_empty()))
        {
            self.problem(
                p.referenced,
                format!("invalid key prefix `{}`", p.value),
                "use a plain path such as repo/x86_64",
            );
        }
        if let Some(e) = &s3.endpoint
            && !(e.value.starts_with("http://") || e.value.starts_with("https://"))
        {
            self.problem(
                e.referenced,
                format!("invalid endpoint `{}`", e.value),
                "write the full URL, such as https://s3.example.com",
            );
        }
        if let Some(acl) = &s3.acl
            && !CANNED_ACLS.contains(&acl.value.as_str())
        {
            self.problem(
                acl.referenced,
                format!("unknown canned ACL `{}`", acl.value),
                format!("use one of: {}", CANNED_ACLS.join(", ")),
            );
        }
        S3Config {
            bucket: b.clone(),
            prefix,
            region: s3.region.map(|r| r.value),
            endpoint: s3.endpoint.map(|e| e.value.trim_end_matches('/').to_string()),
            acl: s3.acl.map(|a| a.value),
        }
    }

    fn builder(&mut self, builder: Option<Spanned<RawBuilder>>) -> BuilderConfig {
        let raw = builder.map(|b| b.value);
        let image = raw.as_ref().and_then(|b| b.image.as_ref());
        if let Some(image) = image
            && (image.value.trim().is_empty() || image.value.contains(char::is_whitespace))
        {
            self.problem(
                image.referenced,
                format!("invalid image `{}`", image.value),
                "name a Docker image, such as archlinux:base-devel",
            );
        }
        let jobs = raw.as_ref().and_then(|b| b.jobs.as_ref());
        if let Some(jobs) = jobs
            && !(1..=MAX_JOBS).contains(&jobs.value)
        {
            self.problem(
                jobs.referenced,
                format!("`jobs` is {}", jobs.value),
                format!("use a number from 1 to {MAX_JOBS}"),
            );
        }
        let overrides = raw.as_ref().map_or_else(LimitOverrides::default, |b| {
            self.limits(b.timeout.as_ref(), b.memory.as_ref(), b.cpus.as_ref())
        });
        let network = raw.as_ref().and_then(|b| self.network(b.network.as_ref()));
        let keyserver = raw.as_ref().and_then(|b| b.keyserver.as_ref());
        if let Some(k) = keyserver
            && !["hkp://", "hkps://", "http://", "https://"].iter().any(|s| k.value.starts_with(s))
        {
            self.problem(
                k.referenced,
                format!("invalid keyserver `{}`", k.value),
                "write the keyserver's URL, such as hkps://keyserver.ubuntu.com",
            );
        }
        BuilderConfig {
            image: image.map_or_else(|| DEFAULT_IMAGE.to_string(), |i| i.value.clone()),
            image_pos: image.map(|i| loc_pos(i.referenced)),
            jobs: jobs.map_or(DEFAULT_JOBS, |j| j.value),
            limits: overrides.over(Limits::default()),
            network: network.unwrap_or_default(),
            keyserver: keyserver.map(|k| k.value.clone()),
            allow_host: raw.as_ref().map(|b| self.allow_host(b.allow_host.as_deref())).unwrap_or_default(),
            debug: raw.as_ref().and_then(|b| b.debug).unwrap_or(false),
            vcs_interval: raw.as_ref().and_then(|b| self.vcs_interval(b.vcs_interval.as_ref())).unwrap_or_default(),
        }
    }

    /// `allow_host:`: single IPv4 addresses (build containers have no IPv6). Link-local ones
    /// (the cloud's metadata endpoints: 169.254.169.254, fd00:ec2::254 on EC2) are refused, as
    /// are loopback and unspecified ones, which name the container itself.
    fn allow_host(&mut self, addresses: Option<&[Spanned<String>]>) -> Vec<std::net::IpAddr> {
        let mut allowed = Vec::new();
        for a in addresses.unwrap_or_default() {
            let refused = match a.value.trim().parse::<std::net::IpAddr>() {
                Err(_) => "write one IP address per entry, such as 172.17.0.1 (no name, no prefix length)",
                Ok(ip) if is_link_local(&ip) => {
                    "link-local addresses stay unreachable: the cloud's metadata endpoint (169.254.169.254, \
fd00:ec2::254) hands out the machine's credentials"
                }
                Ok(ip) if ip.is_loopback() || ip.is_unspecified() => {
                    "this names the build container itself; write an address of this machine on a network"
                }
                Ok(std::net::IpAddr::V6(_)) => "build containers have no IPv6; write an IPv4 address of this machine",
                Ok(ip) => {
                    allowed.push(ip);
                    continue;
                }
            };
            self.problem(a.referenced, format!("`allow_host` cannot allow `{}`", a.value), refused);
        }
        allowed
    }

    /// `vcs_interval:`: a duration with a unit (`0s` checks every run).
    fn vcs_interval(&mut self, interval: Option<&Spanned<String>>) -> Option<Duration> {
        self.duration_with_unit("vcs_interval", interval?, "write a duration such as 1d, 12h or 0s (check every run)")
    }

    /// The duration `value` of `field` (`3d`, `12h`, `1h30m`: [`parse_duration`]), or None and
    /// a problem: `hint` for what is not a duration, and for a bare number other than `0` a
    /// hint with the units. A bare number would be seconds elsewhere (timeouts), but a cooldown
    /// or an interval of `3` seconds is almost surely a slip for 3 days; `0` is zero in every
    /// unit, so it stands as it is.
    fn duration_with_unit(&mut self, field: &str, value: &Spanned<String>, hint: &str) -> Option<Duration> {
        let unitless = value.value.trim().parse::<u64>().ok().filter(|n| *n > 0);
        match parse_duration(&value.value) {
            Some(_) if let Some(n) = unitless => self.problem(
                value.referenced,
                format!("`{field}` is `{}`, a number without a unit", value.value),
                format!("write {n}d for {n} day(s), or {n}h, {n}m, {n}s"),
            ),
            Some(d) => return Some(d),
            None => self.problem(value.referenced, format!("`{field}` is `{}`, not a duration", value.value), hint),
        }
        None
    }

    fn network(&mut self, network: Option<&Spanned<String>>) -> Option<Network> {
        let n = network?;
        let parsed = Network::parse(&n.value);
        if parsed.is_none() {
            let prefix_of =
                Network::NAMES.iter().copied().find(|name| name.starts_with(n.value.as_str()) && !n.value.is_empty());
            let hint = match closest(&n.value, Network::NAMES).or(prefix_of) {
                Some(best) => format!("did you mean `{best}`? ({REFERENCE})"),
                None => "use `on` (the build has the network) or `offline-build` (sources are fetched with the \
network, then the build runs without it)"
                    .to_string(),
            };
            self.problem(n.referenced, format!("unknown network mode `{}`", n.value), hint);
        }
        parsed
    }

    /// `pgp_keys`: full fingerprints, or armored public key files relative to repo.yaml (read
    /// and checked now, so a bad file is reported at its line before anything is built).
    fn pgp_keys(&mut self, keys: Option<&Spanned<Vec<Spanned<String>>>>) -> Vec<PgpKey> {
        let Some(keys) = keys else { return Vec::new() };
        let base = self.path.parent().unwrap_or(Utf8Path::new("."));
        let mut out = Vec::new();
        for key in &keys.value {
            let v = key.value.trim();
            let not_a_fingerprint = match Fingerprint::parse(v) {
                Ok(fpr) => {
                    out.push(PgpKey::Fingerprint(fpr));
                    continue;
                }
                Err(e) => e,
            };
            if v.is_empty() || not_a_fingerprint.looks_like_key_id() {
                self.problem(
                    key.referenced,
                    format!("`{v}` is not a full key fingerprint"),
                    "write the key's full 40-character fingerprint (`gpg --fingerprint KEYID` shows it; short key \
IDs can be forged), or the path of an armored key file relative to repo.yaml",
                );
                continue;
            }
            let path = normalize(&base.join(v));
            match read_key_file(&path) {
                Ok((armored, fingerprints)) => out.push(PgpKey::File { path, fingerprints, armored }),
                Err((message, hint)) => self.problem(key.referenced, format!("key file `{v}`: {message}"), hint),
            }
        }
        out
    }

    /// `capabilities`: names from the allowlist, each once (`CAP_IPC_LOCK` and `IPC_LOCK` are
    /// the same one).
    fn capabilities(&mut self, caps: Option<&Spanned<Vec<Spanned<String>>>>) -> Vec<Capability> {
        let Some(caps) = caps else { return Vec::new() };
        let mut out: Vec<(Capability, Pos)> = Vec::new();
        for cap in &caps.value {
            match Capability::parse(&cap.value) {
                Err(e) => self.problem(cap.referenced, e.to_string(), capability_hint(&e)),
                Ok(c) => match out.iter().find(|(seen, _)| *seen == c) {
                    Some((_, first)) => self.problem(
                        cap.referenced,
                        format!("capability `{c}` is listed twice (first on line {})", first.line),
                        "remove one of the two (`CAP_` is optional: CAP_IPC_LOCK and IPC_LOCK are the same)",
                    ),
                    None => out.push((c, loc_pos(cap.referenced))),
                },
            }
        }
        out.into_iter().map(|(c, _)| c).collect()
    }

    fn limits(
        &mut self,
        timeout: Option<&Spanned<String>>,
        memory: Option<&Spanned<String>>,
        cpus: Option<&Spanned<f64>>,
    ) -> LimitOverrides {
        let mut out = LimitOverrides::default();
        if let Some(t) = timeout {
            match parse_duration(&t.value) {
                Some(d) if !d.is_zero() => out.timeout = Some(d),
                _ => self.problem(
                    t.referenced,
                    format!("invalid timeout `{}`", t.value),
                    "write a duration such as 90s, 45m, 2h or 1h30m",
                ),
            }
        }
        if let Some(m) = memory {
            match parse_size(&m.value) {
                Some(b) if b >= MIN_MEMORY => out.memory_bytes = Some(b),
                _ => self.problem(
                    m.referenced,
                    format!("invalid memory limit `{}`", m.value),
                    "write a size of at least 64MiB, such as 512MiB or 4GiB (K, M, G are binary units too)",
                ),
            }
        }
        if let Some(c) = cpus {
            if c.value.is_finite() && c.value >= 0.01 && c.value <= 1024.0 {
                out.cpus = Some(c.value);
            } else {
                self.problem(
                    c.referenced,
                    format!("invalid `cpus` {}", c.value),
                    "write a number of CPUs such as 2 or 0.5",
                );
            }
        }
        out
    }

    fn packages(&mut self, packages: Spanned<Vec<Spanned<RawPackage>>>) -> Vec<PackageConfig> {
        let mut seen: HashMap<String, Pos> = HashMap::new();
        let mut out = Vec::new();
        for entry in packages.value {
            let Some(source) = self.source(&entry) else { continue };
            let Some(name) = self.entry_name(&entry, &source) else { continue };
            let loc = if name.referenced == Location::UNKNOWN { entry.referenced } else { name.referenced };
            let pos = loc_pos(loc);
            if let Err(why) = check_package_name(&name.value) {
                let hint = match (&source, &entry.value.name) {
                    (PackageSource::Path(_) | PackageSource::Git(_), None) => {
                        format!(
                            "the entry is named after its directory: add `name:` with the PKGBUILD's pkgbase ({PACKAGE_NAME_RULE})"
                        )
                    }
                    _ => PACKAGE_NAME_RULE.to_string(),
                };
                self.problem(loc, format!("invalid package name `{}`: {why}", name.value), hint);
                continue;
            }
            if let Some(first) = seen.get(&name.value) {
                self.problem(
                    loc,
                    format!("package `{}` is listed twice (first on line {})", name.value, first.line),
                    "remove one of the two entries",
                );
                continue;
            }
            seen.insert(name.value.clone(), pos);
            let settings = &entry.value.settings;
            let limits = self.limits(settings.timeout.as_ref(), settings.memory.as_ref(), settings.cpus.as_ref());
            let network = self.network(settings.network.as_ref());
            let pgp_keys = self.pgp_keys(settings.pgp_keys.as_ref());
            let capabilities = self.capabilities(settings.capabilities.as_ref());
            let vcs_interval = self.vcs_interval(settings.vcs_interval.as_ref());
            let patches = self.patches(entry.value.patches.as_ref(), &source);
            out.push(PackageConfig {
                name: name.value.clone(),
                nocheck: settings.nocheck,
                limits,
                vcs: settings.vcs,
                vcs_interval,
                network,
                pgp_keys,
                debug: settings.debug,
                capabilities,
                source,
                patches,
                pos,
            });
        }
        out
    }

    /// The entry's name: `name:`, or for a `path:` entry without one, the directory's last
    /// component (at the `path:` value). None, and a problem, for a mapping with neither.
    fn entry_name(&mut self, entry: &Spanned<RawPackage>, source: &PackageSource) -> Option<Spanned<String>> {
        if let Some(name) = &entry.value.name {
            return Some(name.clone());
        }
        match (source, &entry.value.path, &entry.value.git) {
            (PackageSource::Path(local), Some(path), _) => {
                let base = local.written.rsplit('/').next().unwrap_or(&local.written).to_string();
                Some(Spanned::new(base, path.referenced, path.defined))
            }
            (PackageSource::Git(git), _, Some(url)) => {
                let at = entry.value.subdir.as_ref().unwrap_or(url);
                Some(Spanned::new(git.default_name(), at.referenced, at.defined))
            }
            _ => {
                self.problem(
                    entry.referenced,
                    "a package entry needs `name:` (an AUR package), `path:` (a PKGBUILD directory) or `git:` (a PKGBUILD repository)",
                    format!(
                        "add `name: PKGNAME`, `path: DIR` for a directory beside repo.yaml, or `git: https://...`; {REFERENCE}"
                    ),
                );
                None
            }
        }
    }

    /// Where the entry's PKGBUILD comes from: `path:`, `git:` (with `subdir:`), else the AUR.
    /// None, and a problem, when what it says cannot be used.
    fn source(&mut self, entry: &Spanned<RawPackage>) -> Option<PackageSource> {
        let raw = &entry.value;
        if let (Some(_), Some(git)) = (&raw.path, &raw.git) {
            let hint = "`path:` is a directory of this repository, `git:` another repository: keep one";
            self.problem(git.referenced, "an entry has both `path:` and `git:`", hint);
            return None;
        }
        if let Some(subdir) = raw.subdir.as_ref().filter(|_| raw.git.is_none()) {
            let hint = "`subdir:` names a directory inside a `git:` repository; for a directory of this \
repository, write `path:`";
            self.problem(subdir.referenced, "`subdir:` without `git:`", hint);
            return None;
        }
        match (&raw.path, &raw.git) {
            (Some(path), _) => self.local_path(path).map(PackageSource::Path),
            (None, Some(git)) => self.git_source(git, raw.subdir.as_ref()).map(PackageSource::Git),
            (None, None) => Some(PackageSource::Aur),
        }
    }

    /// `git:` and `subdir:` ([`super::git_source`]); None, and a problem at each bad value.
    fn git_source(&mut self, url: &Spanned<String>, subdir: Option<&Spanned<String>>) -> Option<GitSource> {
        let base = self.path.parent().filter(|p| !p.as_str().is_empty()).unwrap_or(Utf8Path::new("."));
        let checked_url = super::git_source::check_url(&url.value)
            .and_then(|u| super::git_source::check_file_inside(u, base))
            .map_err(|r| self.problem(url.referenced, r.message, format!("{}; {REFERENCE}", r.hint)))
            .ok();
        let checked_subdir = match subdir {
            Some(s) => match super::git_source::check_subdir(&s.value) {
                Ok(v) => Some(Some(v)),
                Err(r) => {
                    self.problem(s.referenced, r.message, r.hint);
                    None
                }
            },
            None => Some(None),
        };
        Some(GitSource { url: checked_url?, subdir: checked_subdir? })
    }

    /// `path:`: a directory holding a PKGBUILD, relative to repo.yaml and inside its directory
    /// (the repository that holds repo.yaml, whose pull requests review it; symbolic links that
    /// lead out of it are refused too). None, and a problem, otherwise.
    fn local_path(&mut self, path: &Spanned<String>) -> Option<LocalPath> {
        let base = self.path.parent().filter(|p| !p.as_str().is_empty()).unwrap_or(Utf8Path::new("."));
        let v = path.value.trim();
        let written = normalize(Utf8Path::new(v));
        let outside = || {
            format!(
                "a `path:` package lives in the repository that holds repo.yaml, where its pull requests review it: move \
the directory under {base} and write its path relative to repo.yaml"
            )
        };
        if v.is_empty() {
            self.problem(path.referenced, "`path` is empty", "name the PKGBUILD's directory, relative to repo.yaml");
            return None;
        }
        if written.is_absolute() || written.starts_with("..") || written.as_str() == "." {
            self.problem(path.referenced, format!("`{v}` is outside the repository"), outside());
            return None;
        }
        let dir = normalize(&base.join(&written));
        if !dir.is_dir() {
            self.problem(
                path.referenced,
                format!("directory `{v}` does not exist"),
                format!("create it with a PKGBUILD in it, or fix the path: it is relative to repo.yaml ({base})"),
            );
            return None;
        }
        let inside = match (base.canonicalize_utf8(), dir.canonicalize_utf8()) {
            (Ok(b), Ok(d)) => d.starts_with(&b) && d != b,
            _ => false,
        };
        if !inside {
            self.problem(
                path.referenced,
                format!("`{v}` is outside the repository (through a symbolic link)"),
                outside(),
            );
            return None;
        }
        if !dir.join("PKGBUILD").is_file() {
            self.problem(
                path.referenced,
                format!("directory `{v}` has no PKGBUILD"),
                "a `path:` package is a directory with a PKGBUILD (and the files it uses), as in an AUR repository",
            );
            return None;
        }
        Some(LocalPath { dir, written: written.as_str().to_string() })
    }
}

impl Validator<'_> {
    /// `patches:` (issue 27): files relative to repo.yaml and inside its directory (symbolic
    /// links resolved), on an AUR entry only. Problems at the list (a non-AUR entry) or at the
    /// file; the files that pass are kept, in order.
    fn patches(&mut self, patches: Option<&Spanned<Vec<Spanned<String>>>>, source: &PackageSource) -> Vec<PatchFile> {
        let Some(list) = patches else { return Vec::new() };
        if !matches!(source, PackageSource::Aur) {
            self.problem(
                list.referenced,
                "`patches:` applies to an AUR package only",
                match source {
                    PackageSource::Git(_) => "a `git:` package's files are a repository of its own: commit the change there, then `repoctl update`",
                    _ => "a `path:` package is a directory of this repository: change its files instead of patching them",
                },
            );
            return Vec::new();
        }
        list.value.iter().filter_map(|file| self.patch_file(file)).collect()
    }

    /// One `patches:` item: an existing regular file inside the repository, else a problem.
    fn patch_file(&mut self, file: &Spanned<String>) -> Option<PatchFile> {
        let base = self.path.parent().filter(|p| !p.as_str().is_empty()).unwrap_or(Utf8Path::new("."));
        let v = file.value.trim();
        let written = normalize(Utf8Path::new(v));
        let outside = || {
            format!(
                "a patch lives in the repository that holds repo.yaml, where its pull requests review it: move it under \
{base} and write its path relative to repo.yaml"
            )
        };
        if v.is_empty() {
            self.problem(file.referenced, "a patch path is empty", "name a patch file, relative to repo.yaml");
            return None;
        }
        if written.is_absolute() || written.starts_with("..") || written.as_str() == "." {
            self.problem(file.referenced, format!("patch `{v}` is outside the repository"), outside());
            return None;
        }
        let path = normalize(&base.join(&written));
        if !path.is_file() {
            self.problem(
                file.referenced,
                format!("patch file `{v}` does not exist"),
                format!("create it (`git diff > {v}` in a clone of the AUR package), or fix the path: it is relative to repo.yaml ({base})"),
            );
            return None;
        }
        let inside = match (base.canonicalize_utf8(), path.canonicalize_utf8()) {
            (Ok(b), Ok(p)) => p.starts_with(&b),
            _ => false,
        };
        if !inside {
            let message = format!("patch `{v}` is outside the repository (through a symbolic link)");
            self.problem(file.referenced, message, outside());
            return None;
        }
        Some(PatchFile { file: path, written: written.as_str().to_string() })
    }
}

/// An armored public key file and the fingerprints it holds, or a message and a hint.
fn read_key_file(path: &Utf8Path) -> Result<(String, Vec<Fingerprint>), (String, String)> {
    use std::io::Read;
    const EXPORT: &str = "export the public key with `gpg --armor --export FINGERPRINT > FILE`";
    let file = std::fs::File::open(path).map_err(|e| {
        (
            format!("cannot read {path}: {e}"),
            "key files are relative to repo.yaml; or write the key's full fingerprint to receive it from a keyserver"
                .to_string(),
        )
    })?;
    let mut bytes = Vec::new();
    file.take(crate::pgp::MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| (format!("cannot read {path}: {e}"), "is it a regular file?".to_string()))?;
    if bytes.len() as u64 > crate::pgp::MAX_KEY_FILE_BYTES {
        return Err(("it is larger than 1 MiB".into(), EXPORT.into()));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| ("it is not an ASCII-armored public key".to_string(), EXPORT.to_string()))?;
    match crate::pgp::public_key_fingerprints(&text) {
        Ok(fingerprints) => Ok((text, fingerprints)),
        Err(e @ crate::pgp::KeyFileError::Secret) => {
            Err((e.to_string(), format!("a build must never get a secret key: {EXPORT}")))
        }
        Err(e) => Err((e.to_string(), EXPORT.to_string())),
    }
}

/// What to do about a capability name repo.yaml may not use.
fn capability_hint(error: &CapabilityError) -> String {
    let allowed = GRANTABLE_CAPABILITIES.join(", ");
    match error {
        CapabilityError::Unknown(name) => {
            let bare = name.strip_prefix("CAP_").unwrap_or(name).to_ascii_uppercase();
            let upper = Capability::parse(&bare).ok().map(Capability::as_str);
            match upper.or_else(|| closest(&bare, GRANTABLE_CAPABILITIES)) {
                Some(best) => format!("did you mean `{best}`? (a package may be granted {allowed})"),
                None => format!("a package may be granted {allowed}, written in upper case"),
            }
        }
        CapabilityError::Refused(_) => format!(
            "a package may be granted only {allowed}; the others reach past the container (mounts, kernel \
modules, the network, host files); see the user guide, docs/src/builder-image.md#capabilities"
        ),
        CapabilityError::AlreadyKept(_) => {
            format!("remove it: every build container keeps {}", KEPT_CAPABILITIES.join(", "))
        }
    }
}

/// An AUR user name: letters and digits with `.`, `_`, `-` inside. aurweb/util.py
/// valid_username asks new names for 3 to 16 characters and one separator; older accounts
/// predate that, so only the character set is checked.
fn valid_aur_user(name: &str) -> bool {
    let inner = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    (1..=64).contains(&name.len())
        && name.chars().all(inner)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Docker refuses less than 6 MiB; pacman and makepkg need far more than that.
const MIN_MEMORY: u64 = 64 << 20;

/// `1h30m`, `45s`, `0s`: `secs` seconds written as [`parse_duration`] reads them (repo.yaml's
/// timeouts, `--budget`).
pub fn human_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// `90s`, `45m`, `2h`, `1h30m`, `1d`; a bare number is seconds.
pub(crate) fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Some(std::time::Duration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        let n: u64 = std::mem::take(&mut digits).parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    if !digits.is_empty() || s.is_empty() {
        return None;
    }
    Some(std::time::Duration::from_secs(total))
}

/// `512MiB`, `4GiB`, `4G`, `1048576`: bytes (K/M/G/T are binary, as Docker reads them).
pub(crate) fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" | "kb" => 10,
        "m" | "mib" | "mb" => 20,
        "g" | "gib" | "gb" => 30,
        "t" | "tib" | "tb" => 40,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

const PACKAGE_NAME_RULE: &str =
    "package names are lowercase letters, digits and @ . _ + -, and do not start with '-' or '.'";

/// The AUR's package-name rule: alpm-types' `Name`, plus lowercase as the AUR requires.
pub(crate) fn check_package_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("it has uppercase letters".into());
    }
    name.parse::<alpm_types::Name>().map(|_| ()).map_err(|e| e.to_string())
}

/// Link-local: 169.254.0.0/16 (RFC 3927), fe80::/10 (RFC 4291), and EC2's IPv6 metadata
/// endpoint fd00:ec2::254, which serves the same credentials as 169.254.169.254.
fn is_link_local(ip: &std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_link_local(),
        std::net::IpAddr::V6(v6) => {
            (v6.segments()[0] & 0xffc0) == 0xfe80 || *v6 == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The classic billion-laughs document: 10^11 nodes once expanded.
    fn bomb() -> String {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        s
    }

    #[test]
    fn alias_bombs_are_refused_even_by_a_permissive_type() {
        let started = std::time::Instant::now();
        let result = serde_saphyr::from_str_with_options::<serde_json::Value>(&bomb(), yaml_options());
        assert!(result.is_err(), "the bomb was expanded");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        assert_eq!(pos_of(b"ab\ncd", 4), Pos { line: 2, col: 2 });
        assert_eq!(pos_of(b"x", 0), Pos { line: 1, col: 1 });
    }

    #[test]
    fn local_paths_are_relative_to_repo_yaml() {
        let config =
            parse(Utf8Path::new("examples/demo/repo.yaml"), b"name: d\nlocal:\n  path: ../../out\npackages: []\n")
                .unwrap();
        assert_eq!(config.target, TargetConfig::Local { path: "out".into() });
        let config = parse(Utf8Path::new("/srv/repo.yaml"), b"name: d\npackages: [a]\n").unwrap();
        assert_eq!(config.target, TargetConfig::Local { path: "/srv/repo".into() });
    }

    #[test]
    fn a_cooldown_needs_its_unit() {
        let yaml = |age: &str| format!("name: r\ntrust:\n  min_age: {age}\npackages: [a]\n");
        let err = parse("repo.yaml".into(), yaml("3").as_bytes()).unwrap_err();
        let text = err.0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n");
        assert!(text.contains("repo.yaml:3:") && text.contains("write 3d for 3 day(s)"), "{text}");
        let config = parse("repo.yaml".into(), yaml("3d").as_bytes()).unwrap();
        assert_eq!(config.trust.min_age, std::time::Duration::from_secs(3 * 86_400));
        let config = parse("repo.yaml".into(), yaml("0").as_bytes()).unwrap();
        assert_eq!(config.trust.min_age, std::time::Duration::ZERO);
    }

    #[test]
    fn snapshots_are_kept_14_days_unless_repo_yaml_says_how_long() {
        let yaml = |keep: &str| format!("name: r\nsnapshots:\n  keep: {keep}\npackages: [a]\n");
        let config = parse("repo.yaml".into(), b"name: r\npackages: [a]\n").unwrap();
        assert_eq!(config.snapshots.keep, std::time::Duration::from_secs(14 * 86_400));
        let config = parse("repo.yaml".into(), yaml("30d").as_bytes()).unwrap();
        assert_eq!(config.snapshots.keep, std::time::Duration::from_secs(30 * 86_400));
        let problems = |keep: &str| {
            let err = parse("repo.yaml".into(), yaml(keep).as_bytes()).unwrap_err();
            err.0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
        };
        assert_eq!(
            problems("14"),
            "repo.yaml:3:9: `keep` is `14`, a number without a unit\n  hint: write 14d for 14 day(s), or 14h, 14m, 14s"
        );
        assert!(
            problems("10m").starts_with("repo.yaml:3:9: `keep` is `10m`: a snapshot kept less than an hour"),
            "{}",
            problems("10m")
        );
        assert!(
            problems("two weeks").starts_with("repo.yaml:3:9: `keep` is `two weeks`, not a duration"),
            "{}",
            problems("two weeks")
        );
        assert_eq!(parse("repo.yaml".into(), yaml("0").as_bytes()).unwrap().snapshots.keep, std::time::Duration::ZERO);
    }

    #[test]
    fn a_vcs_interval_needs_its_unit_and_an_entry_overrides_the_builders() {
        let yaml = |v: &str| {
            format!(
                "name: r\nbuilder:\n  vcs_interval: {v}\npackages:\n  - a-git\n  - name: b-git\n    vcs_interval: 2h\n"
            )
        };
        let err = parse("repo.yaml".into(), yaml("1").as_bytes()).unwrap_err();
        let text = err.0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n");
        assert!(text.contains("repo.yaml:3:") && text.contains("write 1d for 1 day(s)"), "{text}");
        let err = parse("repo.yaml".into(), yaml("daily").as_bytes()).unwrap_err();
        assert!(err.0[0].to_string().contains("`vcs_interval` is `daily`, not a duration"), "{}", err.0[0]);
        let config = parse("repo.yaml".into(), yaml("1d").as_bytes()).unwrap();
        assert_eq!(config.builder.vcs_interval, std::time::Duration::from_secs(86_400));
        assert_eq!(config.packages[0].vcs_interval, None);
        assert_eq!(config.packages[1].vcs_interval, Some(std::time::Duration::from_secs(7200)));
        let config = parse("repo.yaml".into(), b"name: r\npackages: [a-git]\n").unwrap();
        assert_eq!(config.builder.vcs_interval, std::time::Duration::ZERO, "every run checks by default");
    }

    /// `min_age`, `builder.vcs_interval` and an entry's `vcs_interval` read a value the same
    /// way: a bare `0` is zero, another bare number is refused with the units as a hint.
    #[test]
    fn every_duration_that_needs_a_unit_reads_a_bare_zero_as_zero() {
        let places = [
            ("min_age", "name: r\ntrust:\n  min_age: V\npackages: [a-git]\n"),
            ("vcs_interval", "name: r\nbuilder:\n  vcs_interval: V\npackages: [a-git]\n"),
            ("vcs_interval", "name: r\npackages:\n  - name: a-git\n    vcs_interval: V\n"),
        ];
        let day = std::time::Duration::from_secs(86_400);
        for (field, yaml) in places {
            let read = |v: &str| parse("repo.yaml".into(), yaml.replace('V', v).as_bytes());
            let durations =
                |c: Config| [Some(c.trust.min_age), Some(c.builder.vcs_interval), c.packages[0].vcs_interval];
            let zero = durations(read("0").unwrap());
            assert!(zero.iter().all(|d| d.is_none_or(|d| d.is_zero())), "{field}: {zero:?}");
            assert!(durations(read("1d").unwrap()).contains(&Some(day)), "{field}");
            let refused = |v: &str| read(v).unwrap_err().0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n");
            let text = refused("7");
            assert!(text.contains(&format!("`{field}` is `7`, a number without a unit")), "{text}");
            assert!(text.contains("write 7d for 7 day(s), or 7h, 7m, 7s"), "{text}");
            let text = refused("weekly");
            assert!(text.contains(&format!("`{field}` is `weekly`, not a duration")), "{text}");
        }
    }

    #[test]
    fn durations_and_sizes_read_like_docker_and_systemd() {
        use std::time::Duration;
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("120"), Some(Duration::from_secs(120)));
        for bad in ["", "5x", "m", "1h30", "-5m", "99999999999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(parse_size("512MiB"), Some(512 << 20));
        assert_eq!(parse_size("4G"), Some(4 << 30));
        assert_eq!(parse_size("1048576"), Some(1 << 20));
        for bad in ["", "4 GiB extra", "GiB", "4PiB", "-1"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn limits_are_set_globally_and_overridden_per_package() {
        let config = parse(
            Utf8Path::new("repo.yaml"),
            b"name: r\nbuilder:\n  timeout: 30m\n  memory: 2GiB\npackages:\n  - a\n  - {name: b, timeout: 5s, cpus: 0.5}\n",
        )
        .unwrap();
        let global = config.builder.limits;
        assert_eq!(global.timeout, std::time::Duration::from_secs(1800));
        let b = config.packages[1].limits.over(global);
        assert_eq!((b.timeout.as_secs(), b.memory_bytes, b.cpus), (5, Some(2 << 30), Some(0.5)));
        assert_eq!(config.packages[0].limits.over(global), global);
        let err = parse(Utf8Path::new("repo.yaml"), b"name: r\npackages:\n  - {name: b, timeout: soon}\n").unwrap_err();
        assert_eq!((err.0[0].pos.line, err.0[0].message.as_str()), (3, "invalid timeout `soon`"));
    }

    #[test]
    fn network_mode_is_set_globally_and_overridden_per_package() {
        let yaml = b"name: r\nbuilder:\n  network: offline-build\npackages:\n  - a\n  - {name: b, network: on}\n";
        let config = parse(Utf8Path::new("repo.yaml"), yaml).unwrap();
        assert_eq!(config.builder.network, Network::OfflineBuild);
        assert_eq!((config.packages[0].network, config.packages[1].network), (None, Some(Network::On)));
        assert_eq!(parse(Utf8Path::new("r.yaml"), b"name: r\npackages: [a]\n").unwrap().builder.network, Network::On);
        let err = parse(Utf8Path::new("repo.yaml"), b"name: r\nbuilder:\n  network: offline\npackages: [a]\n")
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(err.to_string().lines().next(), Some("repo.yaml:3:12: unknown network mode `offline`"));
        assert!(err.hint.unwrap().contains("did you mean `offline-build`?"));
    }

    #[test]
    fn sign_key_and_pgp_keys_read_a_fingerprint_the_same_way() {
        // Issue #13: a tab was accepted in `sign.key` but made `pgp_keys` read the value as a file.
        let fpr = "9AFB7BB20A2C795ABA9CDA8777867A0A09675111";
        for written in [
            "\"9AFB7BB20A2C795ABA9C\\tDA8777867A0A09675111\"",
            "9AFB7BB20A2C795ABA9C\tDA8777867A0A09675111",
            "9AFB 7BB2 0A2C 795A BA9C  DA87 7786 7A0A 0967 5111",
            "0x9afb7bb20a2c795aba9cda8777867a0a09675111",
        ] {
            let text =
                format!("name: r\nsign:\n  key: {written}\npackages:\n  - name: a\n    pgp_keys:\n      - {written}\n");
            let config = parse("repo.yaml".into(), text.as_bytes()).unwrap_or_else(|e| panic!("{written}: {e:?}"));
            assert_eq!(config.sign.unwrap().key, fpr, "{written}");
            assert_eq!(config.packages[0].pgp_keys, [PgpKey::Fingerprint(fpr.parse().unwrap())], "{written}");
        }
        for (written, digits) in [(&fpr[1..], "39"), (&*format!("{fpr}0"), "41")] {
            let text =
                format!("name: r\nsign:\n  key: {written}\npackages:\n  - name: a\n    pgp_keys:\n      - {written}\n");
            let problems: Vec<String> =
                parse("repo.yaml".into(), text.as_bytes()).unwrap_err().0.iter().map(|d| d.message.clone()).collect();
            assert_eq!(
                problems,
                [format!("`{written}` is not a key fingerprint"), format!("`{written}` is not a full key fingerprint")],
                "{digits} digits"
            );
        }
    }

    /// `sign.public_key` (the red-team's F4): a public key file beside repo.yaml, read when
    /// repo.yaml is loaded; a missing file or a secret key is an error at its line.
    #[test]
    fn sign_public_key_is_a_checked_public_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        let public = include_str!("../../tests/fixtures/signing/public-key.asc");
        std::fs::create_dir(root.join("keys")).unwrap();
        std::fs::write(root.join("keys/r.asc"), public).unwrap();
        std::fs::write(root.join("keys/secret.asc"), public.replace("PUBLIC", "PRIVATE")).unwrap();
        let path = root.join("repo.yaml");
        let yaml = |file: &str| {
            format!(
                "name: r\nsign:\n  key: 9AFB7BB20A2C795ABA9CDA8777867A0A09675111\n  public_key: {file}\npackages: [a]\n"
            )
        };
        let sign = parse(&path, yaml("keys/r.asc").as_bytes()).unwrap().sign.unwrap();
        let file = sign.public_key.expect("the public key file");
        assert_eq!((file.path.as_path(), file.armored.as_str()), (root.join("keys/r.asc").as_path(), public));
        for (file, says) in [
            ("keys/missing.asc", format!("{path}:4:15: key file `keys/missing.asc`: cannot read")),
            ("keys/secret.asc", format!("{path}:4:15: key file `keys/secret.asc`: it holds a secret key")),
        ] {
            let problems: Vec<String> =
                parse(&path, yaml(file).as_bytes()).unwrap_err().0.iter().map(|d| d.to_string()).collect();
            assert!(problems.len() == 1 && problems[0].starts_with(&says), "{problems:#?}");
        }
    }

    #[test]
    fn pgp_keys_are_fingerprints_or_checked_key_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        let signer = include_str!("../../tests/fixtures/pgp/signer.asc");
        std::fs::create_dir(root.join("keys")).unwrap();
        std::fs::write(root.join("keys/signer.asc"), signer).unwrap();
        std::fs::write(root.join("keys/secret.asc"), signer.replace("PUBLIC", "PRIVATE")).unwrap();
        std::fs::write(root.join("keys/notes.txt"), "not a key").unwrap();
        let path = root.join("repo.yaml");
        let ok = "name: r\npackages:\n  - name: a\n    pgp_keys:\n      - 0x3917 B631 F3C0 3CEE 63BF  8FD4 C9BE C4CB 26FD 46D9\n      - keys/signer.asc\n";
        let config = parse(&path, ok.as_bytes()).unwrap();
        assert_eq!(
            config.packages[0].pgp_keys[0],
            PgpKey::Fingerprint("3917B631F3C03CEE63BF8FD4C9BEC4CB26FD46D9".parse().unwrap())
        );
        let PgpKey::File { path: key_path, fingerprints, armored } = &config.packages[0].pgp_keys[1] else {
            panic!("{:?}", config.packages[0].pgp_keys)
        };
        assert_eq!(
            (key_path, fingerprints.as_slice()),
            (&root.join("keys/signer.asc"), &["9AFB7BB20A2C795ABA9CDA8777867A0A09675111".parse().unwrap()][..])
        );
        assert_eq!(armored, signer);

        let bad = "name: r\npackages:\n  - name: a\n    pgp_keys:\n      - 09675111\n      - keys/missing.asc\n      - keys/secret.asc\n      - keys/notes.txt\n";
        let problems: Vec<String> = parse(&path, bad.as_bytes()).unwrap_err().0.iter().map(|d| d.to_string()).collect();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        let first_lines: Vec<&str> = problems.iter().map(|p| p.lines().next().unwrap()).collect();
        assert_eq!(first_lines[0], format!("{path}:5:9: `09675111` is not a full key fingerprint"));
        assert!(
            first_lines[1]
                .starts_with(&format!("{path}:6:9: key file `keys/missing.asc`: cannot read {root}/keys/missing.asc")),
            "{problems:#?}"
        );
        assert_eq!(first_lines[2], format!("{path}:7:9: key file `keys/secret.asc`: it holds a secret key"));
        assert!(problems[2].contains("hint: a build must never get a secret key"), "{problems:#?}");
        assert!(
            first_lines[3]
                .starts_with(&format!("{path}:8:9: key file `keys/notes.txt`: it is not an ASCII-armored public key")),
            "{problems:#?}"
        );
        assert!(problems[0].contains("hint: write the key's full 40-character fingerprint"), "{problems:#?}");
    }

    #[test]
    fn debug_is_set_globally_and_overridden_per_package() {
        let yaml = b"name: r\nbuilder:\n  debug: true\npackages:\n  - a\n  - {name: b, debug: false}\n";
        let config = parse(Utf8Path::new("repo.yaml"), yaml).unwrap();
        assert!(config.builder.debug);
        assert_eq!((config.packages[0].debug, config.packages[1].debug), (None, Some(false)));
        assert!(!parse(Utf8Path::new("r.yaml"), b"name: r\npackages: [a]\n").unwrap().builder.debug);
        let hint = "\n  hint: check the value's type; see the user guide, docs/src/reference/repo-yaml.md";
        for (yaml, at) in [
            ("name: r\nbuilder:\n  debug: 3\npackages: [a]\n", "3:10"),
            ("name: r\npackages:\n  - {name: a, debug: 3}\n", "3:22"),
        ] {
            let err = parse(Utf8Path::new("repo.yaml"), yaml.as_bytes()).unwrap_err().0.remove(0);
            assert_eq!(err.to_string(), format!("repo.yaml:{at}: expected true or false{hint}"), "{yaml}");
        }
    }

    fn capability_problems(list: &str) -> Vec<String> {
        let yaml = format!("name: r\npackages:\n  - name: a\n    capabilities: {list}\n");
        let err = parse(Utf8Path::new("repo.yaml"), yaml.as_bytes()).unwrap_err();
        err.0.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn capabilities_are_names_from_the_allowlist_with_or_without_cap() {
        let yaml = b"name: r\npackages:\n  - name: a\n    capabilities: [IPC_LOCK, CAP_SYS_PTRACE]\n  - b\n";
        let config = parse(Utf8Path::new("repo.yaml"), yaml).unwrap();
        let names: Vec<&str> = config.packages[0].capabilities.iter().map(|c| c.as_str()).collect();
        assert_eq!(names, ["IPC_LOCK", "SYS_PTRACE"]);
        assert!(config.packages[1].capabilities.is_empty());
    }

    #[test]
    fn unknown_refused_kept_and_repeated_capabilities_are_errors_at_their_own_place() {
        let allowed = "IPC_LOCK, SYS_NICE, SYS_PTRACE, NET_RAW";
        assert_eq!(
            capability_problems("[IPC_LOK]"),
            [format!(
                "repo.yaml:4:20: `IPC_LOK` is not a Linux capability\n  hint: did you mean `IPC_LOCK`? (a package may \
be granted {allowed})"
            )]
        );
        assert_eq!(
            capability_problems("[ipc_lock]"),
            [format!(
                "repo.yaml:4:20: `ipc_lock` is not a Linux capability\n  hint: did you mean `IPC_LOCK`? (a package may \
be granted {allowed})"
            )]
        );
        assert_eq!(
            capability_problems("[FOO]"),
            [format!(
                "repo.yaml:4:20: `FOO` is not a Linux capability\n  hint: a package may be granted {allowed}, written \
in upper case"
            )]
        );
        assert_eq!(
            capability_problems("[NET_RAW, CAP_SYS_ADMIN]"),
            [format!(
                "repo.yaml:4:29: capability `SYS_ADMIN` is never granted to a build\n  hint: a package may be granted \
only {allowed}; the others reach past the container (mounts, kernel modules, the network, host files); see the user \
guide, docs/src/builder-image.md#capabilities"
            )]
        );
        assert_eq!(
            capability_problems("[CHOWN]"),
            ["repo.yaml:4:20: capability `CHOWN` is already in every build container\n  hint: remove it: every build \
container keeps CHOWN, DAC_OVERRIDE, FOWNER, FSETID, SETUID, SETGID, SETFCAP, SYS_CHROOT"]
        );
        let twice = "\n  hint: remove one of the two (`CAP_` is optional: CAP_IPC_LOCK and IPC_LOCK are the same)";
        assert_eq!(
            capability_problems("[IPC_LOCK, CAP_IPC_LOCK]"),
            [format!("repo.yaml:4:30: capability `IPC_LOCK` is listed twice (first on line 4){twice}")]
        );
        assert_eq!(
            capability_problems("\n      - IPC_LOCK\n      - SYS_NICE\n      - CAP_IPC_LOCK"),
            [format!("repo.yaml:7:9: capability `IPC_LOCK` is listed twice (first on line 5){twice}")]
        );
    }

    #[test]
    fn allow_host_takes_ipv4_addresses_but_never_link_local_ones() {
        let ok =
            parse(Utf8Path::new("r.yaml"), b"name: r\nbuilder:\n  allow_host: [172.17.0.1, 10.0.0.5]\npackages: []\n");
        let want: Vec<std::net::IpAddr> = vec!["172.17.0.1".parse().unwrap(), "10.0.0.5".parse().unwrap()];
        assert_eq!(ok.unwrap().builder.allow_host, want);
        let yaml =
            b"name: r\nbuilder:\n  allow_host:\n    - 169.254.169.254\n    - fd00:ec2::254\n    - fe80::1\n    - \
127.0.0.1\n    - example.org\n    - 'fd00::2'\npackages: []\n";
        let err = parse(Utf8Path::new("r.yaml"), yaml).unwrap_err();
        let lines: Vec<String> =
            err.0.iter().map(|d| d.to_string().lines().next().unwrap_or_default().to_string()).collect();
        let at = |line: usize, what: &str| format!("r.yaml:{line}:7: `allow_host` cannot allow `{what}`");
        let want = [
            at(4, "169.254.169.254"),
            at(5, "fd00:ec2::254"),
            at(6, "fe80::1"),
            at(7, "127.0.0.1"),
            at(8, "example.org"),
            at(9, "fd00::2"),
        ];
        assert_eq!(lines, want);
    }

    #[test]
    fn the_keyserver_is_a_url() {
        let ok =
            parse(Utf8Path::new("r.yaml"), b"name: r\nbuilder:\n  keyserver: hkps://keys.example.org\npackages: []\n");
        assert_eq!(ok.unwrap().builder.keyserver.as_deref(), Some("hkps://keys.example.org"));
        let err = parse(Utf8Path::new("r.yaml"), b"name: r\nbuilder:\n  keyserver: keys.example.org\npackages: []\n")
            .unwrap_err();
        assert_eq!(err.0[0].to_string().lines().next(), Some("r.yaml:3:14: invalid keyserver `keys.example.org`"));
    }

    fn problems_of(yaml: &str) -> Vec<String> {
        let err = crate::config::parse(Utf8Path::new("repo.yaml"), yaml.as_bytes()).unwrap_err();
        err.0.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn a_repeated_key_names_the_key_both_lines_and_the_fix() {
        let problems = problems_of("name: r\nbuilder:\n  jobs: 2\n  image: a:b\n  jobs: 3\nname: s\npackages: [a]\n");
        assert_eq!(
            problems,
            [
                "repo.yaml:5:3: `jobs` is set twice in the same mapping (first on line 3)\n  hint: keep one `jobs:` and \
delete the other; YAML does not merge them",
                "repo.yaml:6:1: `name` is set twice in the same mapping (first on line 1)\n  hint: keep one `name:` and \
delete the other; YAML does not merge them",
            ]
        );
        assert!(!problems.concat().contains("DuplicateKeyPolicy"));
        let items = problems_of("name: r\npackages:\n  - name: a\n  - name: b\n    nocheck: true\n    name: c\n");
        assert_eq!(
            items[0].lines().next(),
            Some("repo.yaml:6:5: `name` is set twice in the same mapping (first on line 4)")
        );
    }

    #[test]
    fn problems_of_every_kind_are_reported_at_once() {
        // A wrong type, an unknown key and a repeated key no longer hide the rest of the file.
        let yaml = "name: my repo\nbuilder:\n  jobs: many\n  imgae: x\n  timeout: forever\n  image: a\n  image: b\npackages:\n  - hello\n  - {name: b, debug: 3}\n  - hello\n";
        let lines: Vec<String> = problems_of(yaml).iter().map(|p| p.lines().next().unwrap().to_string()).collect();
        assert_eq!(
            lines,
            [
                "repo.yaml:1:7: invalid repository name `my repo`",
                "repo.yaml:3:9: expected a whole number",
                "repo.yaml:4:3: unknown field `imgae`, expected one of image, jobs, timeout, memory, cpus, network, \
keyserver, allow_host, vcs_interval, debug",
                "repo.yaml:5:12: invalid timeout `forever`",
                "repo.yaml:7:3: `image` is set twice in the same mapping (first on line 6)",
                "repo.yaml:10:22: expected true or false",
                "repo.yaml:11:5: package `hello` is listed twice (first on line 9)",
            ]
        );
        // A syntax error still ends the parse: what follows it cannot be read reliably.
        assert_eq!(problems_of("name: r\npackages:\n  - [unclosed\n  - Bad_Name\n").len(), 1);
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(closest("nmae", TOP_LEVEL_KEYS), Some("name"));
        assert_eq!(closest("pakages", TOP_LEVEL_KEYS), Some("packages"));
        assert_eq!(closest("zzzzzzzz", TOP_LEVEL_KEYS), None);
    }

    /// The fields serde names when it refuses an unknown one: exactly what the loader accepts.
    fn accepted_keys<T: serde::de::DeserializeOwned + std::fmt::Debug>(doc: &str) -> Vec<String> {
        let err = serde_saphyr::from_str::<T>(doc).expect_err("an unknown key must be refused").to_string();
        let first_line = err.lines().next().unwrap_or_default();
        let list = first_line.split("expected one of").nth(1).unwrap_or_else(|| panic!("no field list in {err}"));
        let mut keys: Vec<String> =
            list.split(',').map(|k| k.trim().trim_matches('`').to_string()).filter(|k| !k.is_empty()).collect();
        keys.sort();
        keys
    }

    fn schema_keys(schema: &serde_json::Value, pointer: &str) -> Vec<String> {
        let props = schema.pointer(pointer).and_then(|v| v.as_object()).unwrap_or_else(|| panic!("{pointer}"));
        let mut keys: Vec<String> = props.keys().cloned().collect();
        keys.sort();
        keys
    }

    #[test]
    fn the_json_schema_names_every_key_the_loader_accepts_and_no_other() {
        use super::super::schema::{RawBuilder, RawLocal, RawS3};
        let schema: serde_json::Value = serde_json::from_str(JSON_SCHEMA).expect("the schema is JSON");
        let bogus = "zz_not_a_key: 1\n";
        assert_eq!(schema_keys(&schema, "/properties"), accepted_keys::<RawConfig>(bogus));
        assert_eq!(schema_keys(&schema, "/properties/s3/properties"), accepted_keys::<RawS3>(bogus));
        assert_eq!(schema_keys(&schema, "/properties/local/properties"), accepted_keys::<RawLocal>(bogus));
        assert_eq!(schema_keys(&schema, "/properties/builder/properties"), accepted_keys::<RawBuilder>(bogus));
        assert_eq!(
            schema_keys(&schema, "/properties/sign/properties"),
            accepted_keys::<super::super::schema::RawSign>(bogus)
        );
        assert_eq!(
            schema_keys(&schema, "/properties/trust/properties"),
            accepted_keys::<super::super::schema::RawTrust>(bogus)
        );
        assert_eq!(
            schema_keys(&schema, "/properties/logs/properties"),
            accepted_keys::<super::super::schema::RawLogs>(bogus)
        );
        assert_eq!(
            schema_keys(&schema, "/properties/snapshots/properties"),
            accepted_keys::<super::super::schema::RawSnapshots>(bogus)
        );
        assert_eq!(
            schema_keys(&schema, "/properties/packages/items/oneOf/1/properties"),
            accepted_keys::<Vec<RawPackage>>("- {name: a, zz_not_a_key: 1}\n")
        );
        let granted = schema
            .pointer("/properties/packages/items/oneOf/1/properties/capabilities/items/enum")
            .and_then(|v| v.as_array())
            .expect("capabilities' enum");
        let mut expected: Vec<String> = GRANTABLE_CAPABILITIES.iter().map(|c| c.to_string()).collect();
        expected.extend(GRANTABLE_CAPABILITIES.iter().map(|c| format!("CAP_{c}")));
        assert_eq!(granted.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>(), expected);
        let mut top: Vec<&str> = TOP_LEVEL_KEYS.to_vec();
        top.sort();
        assert_eq!(schema_keys(&schema, "/properties"), top, "TOP_LEVEL_KEYS (typo hints) is out of date");
    }
}

#[cfg(test)]
mod snapshots {
    /// What a person reads for a repo.yaml with several mistakes: every one, at its line, with
    /// its hint.
    #[test]
    fn errors_with_hints_are_pinned() {
        let text = "name: my repo\nbuilder:\n  jobs: 0\n  timeout: forever\npackages:\n  - hello\n  - hello\n  - Bad_Name\n  - {name: caps, capabilities: [SYS_ADMIN]}\nsign:\n  key: 1234ABCD\n";
        let diags = crate::config::parse("repo.yaml".into(), text.as_bytes()).unwrap_err();
        let text: Vec<String> = diags.0.iter().map(|d| d.to_string()).collect();
        insta::assert_snapshot!("config_errors", text.join("\n"));
    }
}

#[cfg(test)]
mod local_paths {
    use super::*;

    /// A repository with `pkgbuilds/mytool/PKGBUILD`, `pkgbuilds/empty/` and a link leading out.
    fn repository() -> (tempfile::TempDir, Utf8PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        fs_err::create_dir_all(root.join("pkgbuilds/mytool")).unwrap();
        fs_err::create_dir_all(root.join("pkgbuilds/empty")).unwrap();
        fs_err::write(root.join("pkgbuilds/mytool/PKGBUILD"), "pkgname=mytool\n").unwrap();
        std::os::unix::fs::symlink("/etc", root.join("pkgbuilds/escape")).unwrap();
        (dir, root)
    }

    fn problems(root: &Utf8Path, packages: &str) -> String {
        let yaml = format!("name: r\npackages:\n{packages}");
        let err = parse(&root.join("repo.yaml"), yaml.as_bytes()).unwrap_err();
        let text = err.0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n");
        text.replace(root.as_str(), "[REPO]")
    }

    #[test]
    fn a_path_entry_is_named_after_its_directory_and_resolved_beside_repo_yaml() {
        let (_dir, root) = repository();
        let yaml = "name: r\npackages:\n  - path: pkgbuilds/mytool\n  - name: other\n    path: ./pkgbuilds/../pkgbuilds/mytool/\n";
        let config = parse(&root.join("repo.yaml"), yaml.as_bytes()).unwrap();
        assert_eq!(config.packages[0].name, "mytool");
        let local = config.packages[0].local_path().unwrap();
        assert_eq!((local.written.as_str(), local.dir.clone()), ("pkgbuilds/mytool", root.join("pkgbuilds/mytool")));
        assert_eq!(config.packages[1].name, "other");
        assert_eq!(config.packages[1].local_path().unwrap().written, "pkgbuilds/mytool");
        assert_eq!(
            parse(&root.join("repo.yaml"), b"name: r\npackages: [yay]\n").unwrap().packages[0].source,
            PackageSource::Aur
        );
    }

    /// The bad inputs, each at its line and column with its hint.
    #[test]
    fn bad_path_entries_are_pinned() {
        let (_dir, root) = repository();
        let text = problems(
            &root,
            "  - path: pkgbuilds/missing\n  - path: ../elsewhere\n  - path: /srv/pkgbuilds/x\n  - path: pkgbuilds/escape\n  - path: pkgbuilds/empty\n  - path: ''\n  - {nocheck: true}\n  - path: pkgbuilds/mytool\n  - mytool\n",
        );
        insta::assert_snapshot!("bad_path_entries", text);
    }
}

#[cfg(test)]
mod patch_files {
    use super::*;

    /// A repository with `patches/foo.patch`, `pkgbuilds/mytool/PKGBUILD` and a link leading out.
    fn repository() -> (tempfile::TempDir, Utf8PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        fs_err::create_dir_all(root.join("patches")).unwrap();
        fs_err::create_dir_all(root.join("pkgbuilds/mytool")).unwrap();
        fs_err::write(root.join("patches/foo.patch"), "--- a/PKGBUILD\n+++ b/PKGBUILD\n").unwrap();
        fs_err::write(root.join("pkgbuilds/mytool/PKGBUILD"), "pkgname=mytool\n").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("patches/escape.patch")).unwrap();
        (dir, root)
    }

    #[test]
    fn patches_are_files_beside_repo_yaml_in_order() {
        let (_dir, root) = repository();
        let yaml = "name: r\npackages:\n  - name: foo\n    patches: [patches/foo.patch, ./patches/../patches/foo.patch]\n  - bar\n";
        let config = parse(&root.join("repo.yaml"), yaml.as_bytes()).unwrap();
        let written: Vec<&str> = config.packages[0].patches.iter().map(|p| p.written.as_str()).collect();
        assert_eq!(written, ["patches/foo.patch", "patches/foo.patch"]);
        assert_eq!(config.packages[0].patches[0].file, root.join("patches/foo.patch"));
        assert!(config.packages[1].patches.is_empty());
    }

    /// The bad inputs, each at its line and column with its hint.
    #[test]
    fn bad_patches_are_pinned() {
        let (_dir, root) = repository();
        let yaml = "name: r\npackages:\n  - name: foo\n    patches:\n      - patches/missing.patch\n      - ../outside.patch\n      - /etc/passwd\n      - patches/escape.patch\n      - ''\n  - path: pkgbuilds/mytool\n    patches: [patches/foo.patch]\n";
        let err = parse(&root.join("repo.yaml"), yaml.as_bytes()).unwrap_err();
        let text = err.0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n");
        insta::assert_snapshot!("bad_patches", text.replace(root.as_str(), "[REPO]"));
    }
}
