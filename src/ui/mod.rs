//! All user-facing output goes through here. Library code reports through [`Reporter`];
//! [`Printer`] decides whether that becomes progress bars (a terminal) or plain lines (CI,
//! pipes, `--no-progress`). Diagnostics for developers go through `tracing` instead.
mod progress;
mod summary;

pub use summary::{SummaryRow, render_plan, render_summary};

use std::io::{IsTerminal, Write};
use std::sync::Arc;

/// Where a package is in its build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Fetching,
    Starting,
    Dependencies,
    Building,
    Collecting,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Fetching => "fetching PKGBUILD",
            Phase::Starting => "starting container",
            Phase::Dependencies => "installing dependencies",
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
}

impl Printer {
    pub fn new(no_progress: bool) -> Printer {
        let ci = std::env::var_os(crate::env::CI).is_some_and(|v| !v.is_empty() && v != "false");
        let mode = if no_progress || ci || !std::io::stderr().is_terminal() { Mode::Plain } else { Mode::Progress };
        Printer { mode, progress: (mode == Mode::Progress).then(|| Arc::new(progress::Bars::new())) }
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

    /// Messages for the person running repoctl (stderr), above any progress bars.
    pub fn info(&self, line: &str) {
        match &self.progress {
            Some(bars) => bars.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub fn warn(&self, line: &str) {
        self.info(&format!("warning: {line}"));
    }

    pub fn error(&self, line: &str) {
        self.info(&format!("error: {line}"));
    }

    pub fn finish(&self) {
        if let Some(bars) = &self.progress {
            bars.clear();
        }
    }
}

impl Reporter for Printer {
    fn total(&self, packages: usize) {
        match &self.progress {
            Some(bars) => bars.total(packages),
            None => eprintln!("==> {packages} package(s) to build"),
        }
    }

    fn phase(&self, pkgbase: &str, phase: Phase) {
        match &self.progress {
            Some(bars) => bars.phase(pkgbase, phase),
            None => eprintln!("  -> {pkgbase}: {}", phase.label()),
        }
    }

    fn done(&self, pkgbase: &str, ok: bool, line: &str) {
        match &self.progress {
            Some(bars) => bars.done(pkgbase, &format!("{} {pkgbase}: {line}", if ok { "✓" } else { "✗" })),
            None => eprintln!("==> {pkgbase}: {line}"),
        }
    }

    fn step(&self, line: &str) {
        self.info(&format!("==> {line}"));
    }
}
