//! All user-facing output goes through here. Library code reports through [`Reporter`];
//! [`Printer`] decides whether that becomes progress bars (a terminal) or plain lines (CI,
//! pipes, `--no-progress`). Diagnostics for developers go through `tracing` instead.
pub mod escape;
pub mod github;
pub mod mermaid;
mod progress;
mod summary;

pub use summary::{SummaryRow, markdown_provenance, markdown_summary, render_provenance, render_summary, table};

use std::io::{IsTerminal, Write};
use std::sync::Arc;

/// A line of a build's output made safe for a terminal or a CI log ([`escape::log_line`]).
pub use escape::log_line as sanitize_line;

/// Where a package is in its build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Fetching,
    Starting,
    Dependencies,
    Keys,
    Sources,
    Building,
    Collecting,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Fetching => "fetching PKGBUILD",
            Phase::Starting => "starting container",
            Phase::Dependencies => "installing dependencies",
            Phase::Keys => "importing PGP keys",
            Phase::Sources => "fetching sources",
            Phase::Building => "makepkg",
            Phase::Collecting => "collecting packages",
        }
    }
}

/// Progress events from long-running work.
pub trait Reporter: Send + Sync {
    /// The run knows how many packages it will build.
    fn total(&self, packages: usize);
    fn phase(&self, pkgbase: &str, phase: Phase);
    /// A package is done: `ok` is false for failures and skips.
    fn done(&self, pkgbase: &str, ok: bool, line: &str);
    /// A line of general progress ("publishing 3 files to s3://...").
    fn step(&self, line: &str);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// indicatif bars on stderr.
    Progress,
    /// One plain line per event on stderr.
    Plain,
}

/// The one place that writes to the user's terminal.
#[derive(Clone)]
pub struct Printer {
    mode: Mode,
    progress: Option<Arc<progress::Bars>>,
    /// Running under GitHub Actions: annotations, log groups and a job summary.
    github: bool,
    /// `$GITHUB_STEP_SUMMARY`, appended to under GitHub Actions.
    step_summary: Option<std::path::PathBuf>,
}

fn env_true(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "false")
}

impl Printer {
    pub fn new(no_progress: bool) -> Printer {
        let github = env_true(crate::env::GITHUB_ACTIONS);
        let ci = env_true(crate::env::CI);
        let mode =
            if no_progress || ci || github || !std::io::stderr().is_terminal() { Mode::Plain } else { Mode::Progress };
        let step_summary = github
            .then(|| std::env::var_os(crate::env::GITHUB_STEP_SUMMARY))
            .flatten()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from);
        Printer {
            mode,
            progress: (mode == Mode::Progress).then(|| Arc::new(progress::Bars::new())),
            github,
            step_summary,
        }
    }

    pub fn github(&self) -> bool {
        self.github
    }

    /// A problem located in a file: `FILE:LINE:COL: message` for people, plus an annotation on
    /// that line under GitHub Actions.
    pub fn diagnostic(&self, diag: &crate::diagnostic::Diagnostic) {
        self.info(&diag.to_string());
        if self.github {
            let mut message = diag.message.clone();
            if let Some(hint) = &diag.hint {
                message.push_str(&format!("\nhint: {hint}"));
            }
            self.annotate(diag.file.as_str(), diag.pos.line, diag.pos.col, &message);
        }
    }

    /// An error annotation on a line of a file, under GitHub Actions. The path is made relative
    /// to `$GITHUB_WORKSPACE` (the repository root), which is what GitHub matches against the
    /// files of the commit; `--config /abs/path/repo.yaml` would otherwise attach to nothing.
    pub fn annotate(&self, file: &str, line: u64, col: u64, message: &str) {
        if self.github {
            let file = github::workspace_relative(file, std::env::var_os("GITHUB_WORKSPACE").as_deref());
            self.command(&github::error_annotation(&file, line, col, message));
        }
    }

    /// A workflow command. On stderr, which the runner reads as it reads stdout, so that stdout
    /// stays the command's result (`plan --json > plan.json` must stay JSON).
    fn command(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = stderr.write_all(b"\n");
        }
        let _ = stderr.flush();
    }

    /// A build log, collapsed in its own group under GitHub Actions (nothing elsewhere: the
    /// path of the log is printed instead).
    pub fn log_group(&self, title: &str, body: &str) {
        if self.github {
            self.command(&github::group(title, body, &github::fresh_token()));
        }
    }

    /// Appends Markdown to the GitHub job summary, when there is one.
    pub fn step_summary(&self, markdown: &str) {
        let Some(path) = &self.step_summary else { return };
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(format!("{markdown}\n").as_bytes()));
        if let Err(e) = written {
            self.warn(&format!("cannot write the job summary to {}: {e}", path.display()));
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Results meant for stdout (plans, JSON, summaries).
    pub fn out(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = stdout.write_all(b"\n");
        }
        let _ = stdout.flush();
    }

    /// Messages for the person running repoctl (stderr), above any progress bars. They may
    /// quote AUR text (an error naming a source, a headline with a version): control and
    /// invisible characters are shown, not printed ([`escape::terminal`]).
    pub fn info(&self, line: &str) {
        let line = escape::terminal(line);
        match &self.progress {
            Some(bars) => bars.println(&line),
            None => stderr_line(&line),
        }
    }

    pub fn warn(&self, line: &str) {
        self.info(&format!("warning: {line}"));
    }

    /// An error for the person, and an annotation with no position under GitHub Actions.
    pub fn error(&self, line: &str) {
        self.info(&format!("error: {line}"));
        if self.github {
            self.command(&github::error_plain(line));
        }
    }

    pub fn finish(&self) {
        if let Some(bars) = &self.progress {
            bars.clear();
        }
    }
}

/// One line on stderr. A closed stderr (`repoctl build 2>&1 | head`) is not an error: the run
/// goes on and cleans up after itself, where `eprintln!` would panic and leave its containers.
fn stderr_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(line.as_bytes());
    let _ = stderr.write_all(b"\n");
}

impl Reporter for Printer {
    fn total(&self, packages: usize) {
        match &self.progress {
            Some(bars) => bars.total(packages),
            None => stderr_line(&format!("==> {packages} package(s) to build")),
        }
    }

    fn phase(&self, pkgbase: &str, phase: Phase) {
        match &self.progress {
            Some(bars) => bars.phase(pkgbase, phase),
            None => stderr_line(&format!("  -> {pkgbase}: {}", phase.label())),
        }
    }

    fn done(&self, pkgbase: &str, ok: bool, line: &str) {
        match &self.progress {
            Some(bars) => bars.done(pkgbase, &format!("{} {pkgbase}: {line}", if ok { "✓" } else { "✗" })),
            None => stderr_line(&format!("==> {pkgbase}: {line}")),
        }
    }

    fn step(&self, line: &str) {
        self.info(&format!("==> {line}"));
    }
}
