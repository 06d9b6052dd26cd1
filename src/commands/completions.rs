//! `repoctl completions SHELL`: the shell's completion script, made by clap_complete from the
//! same clap definition that parses the command line, so it never lags behind a new flag.
use crate::error::{Error, ExitStatus};
use crate::ui::Printer;

/// Prints the completion script of `shell` for the `repoctl` binary on stdout.
///
/// Errors: none in practice; the script is generated in memory, then printed.
pub fn completions(shell: clap_complete::Shell, printer: &Printer) -> Result<ExitStatus, Error> {
    let mut command = crate::cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "repoctl", &mut script);
    printer.out(&String::from_utf8_lossy(&script));
    Ok(ExitStatus::Success)
}
