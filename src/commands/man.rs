//! `repoctl man [--out-dir DIR]`: the manual pages, made by clap_mangen from the same clap
//! definition as `--help` (roff, man-pages(7) section 1).
use crate::error::{Error, ExitStatus};
use crate::ui::Printer;
use camino::Utf8Path;
use clap::CommandFactory;

/// Without `out_dir`: prints repoctl(1) on stdout. With it: writes repoctl.1 and one page per
/// subcommand (`repoctl-build.1`, ...; the pages repoctl(1) refers to) into that directory,
/// which must exist.
///
/// Errors: [`Error::Io`] naming the directory when a page cannot be written.
pub fn man(out_dir: Option<&Utf8Path>, printer: &Printer) -> Result<ExitStatus, Error> {
    // As clap_mangen::generate_to does: no `help` subcommand page, global flags propagated.
    let mut command = crate::cli::Cli::command().disable_help_subcommand(true);
    command.build();
    match out_dir {
        Some(dir) => {
            clap_mangen::generate_to(command, dir)
                .map_err(Error::io(format!("cannot write the manual pages into {dir}")))?;
            printer.info(&format!("wrote the manual pages into {dir}"));
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page).map_err(Error::io("cannot render the manual page"))?;
            printer.out(&String::from_utf8_lossy(&page));
        }
    }
    Ok(ExitStatus::Success)
}
