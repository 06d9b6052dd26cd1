//! What `repoctl update` lets in, as data, and its three renderings: a terminal report (with
//! a coloured diff on a tty), JSON, and Markdown ready to be a pull-request body.
use super::assess::Flag;
use super::policy::Hold;
use crate::aur::Commit;
use crate::ui::escape::{html, markdown_cell, markdown_code_block, markdown_code_span, markdown_text, terminal};

/// GitHub refuses a pull-request body above 65,536 characters; diffs are cut to stay under.
pub const MARKDOWN_LIMIT: usize = 60_000;

/// One side of a move: a commit of a pkgbase and what it was.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Side {
    pub commit: String,
    pub version: String,
    /// None: orphaned.
    pub maintainer: Option<String>,
    /// RFC 3339.
    pub committed: String,
}

/// What happens to one pkgbase's lock entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Not locked before; locked now.
    Added,
    /// Moved to a newer commit (or to a new maintainer, accepted).
    Updated,
    /// The AUR has something newer, which is not taken: [`PackageReport::held`] says why.
    Held,
    /// Locked, and the AUR has nothing newer.
    Unchanged,
    /// Locked, and gone from the AUR (deleted, perhaps as malware): kept, built no more.
    Deleted,
    /// Locked, and no longer needed by repo.yaml: taken out of the lock.
    Dropped,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PackageReport {
    pub pkgbase: String,
    pub status: Status,
    /// The locked commit before (None: new to the lock).
    pub from: Option<Side>,
    /// What the AUR offers (None: deleted or dropped).
    pub to: Option<Side>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<Hold>,
    /// What a reviewer must look at, each a one-line reason.
    pub flags: Vec<FlagLine>,
    /// Only versions and checksums changed (trust.auto: version-only).
    pub version_only: bool,
    /// The commits between `from` and `to`, newest first, at most 20 (the newest).
    pub commits: Vec<Commit>,
    /// `git diff` of every file from `from` to `to` (of every file, for a new package).
    pub diff: String,
    /// A `git:` package's repository (repo.yaml's URL): where it is fetched from, named when
    /// it is gone. None for an AUR or `path:` package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Where the entry came from before, when that differs from where it comes from now (`the
    /// AUR`, `path: DIR`, a `git:` repository): a move of source is what a reviewer must see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_was: Option<String>,
}

/// A flag with its one-line reason, as the report shows it (JSON: the flag's own fields, such
/// as `"flag": "new-hosts", "hosts": [...]`, and `"reason"`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlagLine {
    #[serde(flatten)]
    pub flag: Flag,
    pub reason: String,
}

impl From<Flag> for FlagLine {
    fn from(flag: Flag) -> FlagLine {
        FlagLine { reason: flag.to_string(), flag }
    }
}

/// Everything one `repoctl update` saw and did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// The packages whose entry changes, is held, or is deleted; unchanged ones only count.
    pub packages: Vec<PackageReport>,
    pub unchanged: usize,
    /// Unchanged entries whose `files` value an older repoctl wrote (`sha256:`), rewritten as
    /// `tree-sha256:` (the same commit, whose files matched it).
    #[serde(skip_serializing_if = "is_zero")]
    pub rehashed: usize,
    /// The lock file differs from what it was (written unless --check).
    pub changed: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Report {
    /// The packages whose lock entry moves (added, updated or dropped).
    pub fn moved(&self) -> impl Iterator<Item = &PackageReport> {
        self.packages.iter().filter(|p| matches!(p.status, Status::Added | Status::Updated | Status::Dropped))
    }

    /// The pull request's title: `AUR updates: N packages`, and `, H held` when any are.
    pub fn title(&self) -> String {
        let n = self.moved().count();
        let held = self.packages.iter().filter(|p| p.status == Status::Held).count();
        let held = if held > 0 { format!(", {held} held") } else { String::new() };
        format!("AUR updates: {n} package{}{held}", if n == 1 { "" } else { "s" })
    }
}

fn short(commit: &str) -> &str {
    &commit[..12.min(commit.len())]
}

/// `1.0-1 (abc123def456)` of a side, or `-`.
fn side_text(side: Option<&Side>) -> String {
    side.map_or_else(|| "-".to_string(), |s| format!("{} ({})", s.version, short(&s.commit)))
}

/// The one-line state of a package: `foo: updated 1.0-1 (…) -> 1.1-1 (…)`. Plain text that
/// quotes the AUR (versions, a hold's error): the caller escapes it for its medium.
pub fn headline(p: &PackageReport) -> String {
    let what = match p.status {
        Status::Added => "added".to_string(),
        Status::Updated => "updated".to_string(),
        Status::Held => format!("held: {}", p.held.as_ref().map(|h| h.to_string()).unwrap_or_default()),
        Status::Unchanged => "unchanged".to_string(),
        Status::Deleted => match &p.repository {
            Some(url) => format!("GONE: {url} no longer has it: the published version is kept, nothing is built"),
            None => "DELETED from the AUR: the published version is kept, nothing is built".to_string(),
        },
        Status::Dropped => "no longer needed: taken out of the lock".to_string(),
    };
    let mut line = format!("{}: {what}: {} -> {}", p.pkgbase, side_text(p.from.as_ref()), side_text(p.to.as_ref()));
    if let Some(url) = p.repository.as_ref().filter(|_| p.status != Status::Deleted) {
        line.push_str(&format!(" from {url}"));
    }
    if let Some(was) = &p.source_was {
        line.push_str(&format!(" (SOURCE CHANGED: was {was})"));
    }
    line
}

/// The terminal report: per package a headline, its flags, its commits and its diff, all of it
/// shown with [`terminal`] (an AUR commit's author, subject or diff cannot erase or move what
/// is printed above it), then, when `color`, the diff coloured by repoctl ([`super::diff::colour`]).
pub fn render_text(report: &Report, color: bool) -> String {
    let mut out = String::new();
    for p in &report.packages {
        let mut text = format!("{}\n", headline(p));
        for f in &p.flags {
            text.push_str(&format!("  ! {}\n", f.reason));
        }
        for c in &p.commits {
            text.push_str(&format!("  {} {} {}: {}\n", short(&c.id), super::rfc3339(c.time), c.author, c.subject));
        }
        out.push_str(&terminal(&text));
        if !p.diff.is_empty() {
            let diff = terminal(&p.diff);
            out.push_str(&if color { super::diff::colour(&diff) } else { diff });
            if !p.diff.ends_with('\n') {
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out
}

/// `2 added, 1 updated, 1 held, 0 deleted, 3 unchanged; repoctl.lock changed`.
pub fn summary_line(report: &Report) -> String {
    let count = |s: Status| report.packages.iter().filter(|p| p.status == s).count();
    let rehashed = match report.rehashed {
        0 => String::new(),
        n => {
            format!(" ({n} unchanged entr{} files hash rewritten as tree-sha256)", if n == 1 { "y's" } else { "ies'" })
        }
    };
    format!(
        "{} added, {} updated, {} held, {} deleted, {} dropped, {} unchanged; repoctl.lock {}{rehashed}\n",
        count(Status::Added),
        count(Status::Updated),
        count(Status::Held),
        count(Status::Deleted),
        count(Status::Dropped),
        report.unchanged,
        if report.changed { "changed" } else { "unchanged" }
    )
}

/// Markdown for a pull-request body (and the job summary): a table of every package, its
/// flags, then each diff in a folded block; diffs are cut to keep under [`MARKDOWN_LIMIT`].
/// Every cell and block that carries AUR text is escaped ([`crate::ui::escape`]): a source
/// entry cannot open an HTML comment that hides the flags after it.
pub fn render_markdown(report: &Report) -> String {
    let mut out = format!("## {}\n\n", report.title());
    out.push_str("Merging this pull request lets these AUR commits be built, signed and published. ");
    out.push_str("Read every flagged change and its diff first.\n\n");
    let rows: Vec<Vec<String>> = report.packages.iter().map(markdown_row).collect();
    out.push_str(&crate::ui::github::markdown_table(&["pkgbase", "status", "from", "to", "flags"], &rows));
    out.push_str(&format!("\n{}\n", summary_line(report).trim_end()));
    for p in report.packages.iter().filter(|p| !p.diff.is_empty()) {
        let block = format!(
            "\n<details><summary><code>{}</code> diff</summary>\n\n{}</details>\n",
            html(&p.pkgbase),
            markdown_code_block("diff", &p.diff)
        );
        if out.len() + block.len() > MARKDOWN_LIMIT {
            let name = markdown_code_span(&p.pkgbase);
            let command = markdown_code_span(&format!("repoctl update --check {}", p.pkgbase));
            out.push_str(&format!(
                "\n_The diff of {name} and later ones are too long for a pull-request body: run {command} to read them._\n"
            ));
            break;
        }
        out.push_str(&block);
    }
    out
}

/// One package's row of the Markdown table, each cell escaped.
fn markdown_row(p: &PackageReport) -> Vec<String> {
    let flags: Vec<String> = p.flags.iter().map(|f| format!("⚠️ {}", markdown_text(&f.reason))).collect();
    let status = match (&p.held, p.status) {
        (Some(h), _) => format!("held: {}", markdown_text(&h.to_string())),
        (None, s) => format!("{s:?}").to_lowercase(),
    };
    vec![
        markdown_code_span(&p.pkgbase),
        status,
        markdown_cell(&side_text(p.from.as_ref())),
        markdown_cell(&side_text(p.to.as_ref())),
        flags.join("<br>"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::assess::Flag;

    /// What an AUR maintainer controls, written to hide a flag or drive a terminal: an HTML
    /// comment opened in one flag and closed in a later one, a `|` that splits the table, a
    /// backtick that opens a code span, a link, a `<details>`, an ANSI erase-line and
    /// cursor-up, a carriage return and a right-to-left override.
    fn hostile() -> Report {
        let side = |commit: &str, version: &str| Side {
            commit: commit.repeat(40),
            version: version.into(),
            maintainer: Some("mallory".into()),
            committed: "2026-12-01T00:00:00Z".into(),
        };
        let flags = vec![
            Flag::SourcesChanged { added: vec!["<!--::payload.txt".into()], removed: vec!["a|b`c".into()] },
            Flag::NewHosts { hosts: vec!["evil.example".into()] },
            Flag::FilesChanged {
                added: vec!["[x](javascript:alert(1))".into(), "<details><summary>fine</summary>".into()],
                removed: vec![],
                changed: vec!["x-->".into()],
            },
            Flag::InstallScript { detail: "install=\u{1b}[2K\u{1b}[1Aok.install added".into() },
        ];
        let commit = Commit {
            id: "c".repeat(40),
            time: 1_795_000_000,
            author: "Mallory \u{1b}[2K\u{1b}[1A".into(),
            subject: "bump\r  ! nothing to see here \u{202e}txt.exe".into(),
        };
        let hostile = PackageReport {
            pkgbase: "foo".into(),
            status: Status::Updated,
            from: Some(side("a", "1.0-1")),
            to: Some(side("b", "1.1-1<!--")),
            held: None,
            flags: flags.into_iter().map(FlagLine::from).collect(),
            version_only: false,
            commits: vec![commit],
            diff:
                "--- a/PKGBUILD\n+++ b/PKGBUILD\n-pkgver=1.0\n+pkgver=1.1\n+echo \u{1b}[2K\u{1b}[1A\r\n+# \u{202e}```\n"
                    .into(),
            repository: None,
            source_was: None,
        };
        let held = PackageReport {
            pkgbase: "bar".into(),
            status: Status::Held,
            held: Some(Hold::Unreadable { error: "HTTP 500 | <img src=x> `x`\u{1b}]0;title\u{7}".into() }),
            ..package("bar")
        };
        Report { packages: vec![hostile, held], unchanged: 0, changed: true, rehashed: 0 }
    }

    fn package(pkgbase: &str) -> PackageReport {
        PackageReport {
            pkgbase: pkgbase.into(),
            status: Status::Unchanged,
            from: None,
            to: None,
            held: None,
            flags: vec![],
            version_only: false,
            commits: vec![],
            diff: String::new(),
            repository: None,
            source_was: None,
        }
    }

    const INVISIBLE: &[char] = &['\u{1b}', '\r', '\u{7}', '\u{202e}'];

    #[test]
    fn the_pull_request_body_shows_every_flag_whatever_the_aur_text_holds() {
        let md = render_markdown(&hostile());
        for raw in ["<!--", "-->", "[x](javascript", "<img", "<details><summary>fine"] {
            assert!(!md.contains(raw), "{raw} is raw in:\n{md}");
        }
        assert!(!md.contains(INVISIBLE), "{md:?}");
        // Each table row is one line with its five cells.
        for row in md.lines().filter(|l| l.starts_with("| `")) {
            assert_eq!(row.replace("\\|", "").matches('|').count(), 6, "{row}");
        }
        insta::assert_snapshot!("update_markdown_hostile", md);
    }

    #[test]
    fn the_terminal_report_cannot_be_driven_by_the_aur_text() {
        let text = render_text(&hostile(), false);
        assert!(!text.contains(INVISIBLE), "{text:?}");
        let coloured = render_text(&hostile(), true);
        let escapes: Vec<&str> = coloured.match_indices('\u{1b}').map(|(i, _)| &coloured[i..i + 5]).collect();
        assert!(escapes.iter().all(|e| e.starts_with("\u{1b}[") && e[2..].contains('m')), "only SGR: {escapes:?}");
        assert!(!coloured.contains(['\r', '\u{7}', '\u{202e}']), "{coloured:?}");
        insta::assert_snapshot!("update_text_hostile", text);
    }
}
