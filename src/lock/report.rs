//! What `repoctl update` lets in, as data, and its three renderings: a terminal report (with
//! a coloured diff on a tty), JSON, and Markdown ready to be a pull-request body.
use super::assess::Flag;
use super::policy::Hold;
use crate::aur::Commit;

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

/// The one-line state of a package: `foo: updated 1.0-1 (…) -> 1.1-1 (…)`.
pub fn headline(p: &PackageReport) -> String {
    let what = match p.status {
        Status::Added => "added".to_string(),
        Status::Updated => "updated".to_string(),
        Status::Held => format!("held: {}", p.held.as_ref().map(|h| h.to_string()).unwrap_or_default()),
        Status::Unchanged => "unchanged".to_string(),
        Status::Deleted => "DELETED from the AUR: the published version is kept, nothing is built".to_string(),
        Status::Dropped => "no longer needed: taken out of the lock".to_string(),
    };
    format!("{}: {what}: {} -> {}", p.pkgbase, side_text(p.from.as_ref()), side_text(p.to.as_ref()))
}

/// The terminal report: per package a headline, its flags, its commits and its diff (already
/// coloured by git when the caller asked for colour).
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    for p in &report.packages {
        out.push_str(&headline(p));
        out.push('\n');
        for f in &p.flags {
            out.push_str(&format!("  ! {}\n", f.reason));
        }
        for c in &p.commits {
            out.push_str(&format!("  {} {} {}: {}\n", short(&c.id), super::rfc3339(c.time), c.author, c.subject));
        }
        if !p.diff.is_empty() {
            out.push_str(&p.diff);
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
pub fn render_markdown(report: &Report) -> String {
    let mut out = format!("## {}\n\n", report.title());
    out.push_str("Merging this pull request lets these AUR commits be built, signed and published. ");
    out.push_str("Read every flagged change and its diff first.\n\n");
    out.push_str("| pkgbase | status | from | to | flags |\n|---|---|---|---|---|\n");
    for p in &report.packages {
        let flags: Vec<String> = p.flags.iter().map(|f| format!("⚠️ {}", md_cell(&f.reason))).collect();
        let status = match (&p.held, p.status) {
            (Some(h), _) => format!("held: {}", md_cell(&h.to_string())),
            (None, s) => format!("{s:?}").to_lowercase(),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            p.pkgbase,
            status,
            side_text(p.from.as_ref()),
            side_text(p.to.as_ref()),
            flags.join("<br>")
        ));
    }
    out.push_str(&format!("\n{}\n", summary_line(report).trim_end()));
    for p in report.packages.iter().filter(|p| !p.diff.is_empty()) {
        let fence = fence_for(&p.diff);
        let block = format!(
            "\n<details><summary><code>{}</code> diff</summary>\n\n{fence}diff\n{}\n{fence}\n</details>\n",
            p.pkgbase,
            p.diff.trim_end()
        );
        if out.len() + block.len() > MARKDOWN_LIMIT {
            out.push_str(&format!(
                "\n_The diff of `{}` and later ones are too long for a pull-request body: run `repoctl update --check {}` to read them._\n",
                p.pkgbase, p.pkgbase
            ));
            break;
        }
        out.push_str(&block);
    }
    out
}

/// A code fence longer than any run of backticks in `text`, so a diff cannot end it early
/// (CommonMark: a closing fence is at least as long as the opening one).
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Text safe inside a Markdown table cell.
fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
