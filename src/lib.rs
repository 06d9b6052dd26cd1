//! repoctl: from a declarative repo.yaml of AUR packages to a pacman repository in S3 or a
//! local directory, built in clean containers.
//!
//! The binary is a thin shell over this library: [`run`] dispatches to one module per
//! subcommand in [`commands`], each returning an [`ExitStatus`].
pub mod alpm;
pub mod aur;
pub mod build;
pub mod cause;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diagnostic;
pub mod docker;
pub mod env;
pub mod error;
pub mod lock;
pub mod logging;
pub mod official;
pub mod pgp;
pub mod plan;
pub mod provenance;
pub mod publish;
pub mod repo;
pub mod sign;
pub mod trust;
pub mod ui;

pub use error::{Error, ExitStatus};

/// Runs one command line to completion.
pub async fn run(cli: cli::Cli) -> ExitStatus {
    let printer = ui::Printer::new(cli.global.no_progress);
    let status = commands::dispatch(cli, &printer).await;
    // Containers whose work was done may still be being removed; none is left to the exit.
    commands::warn_unremoved(docker::finish_removals().await, &printer);
    // Then whatever of this process's runs a path left: none outlives the process.
    commands::warn_unremoved(docker::sweep_runs().await, &printer);
    printer.finish();
    match status {
        Ok(status) => status,
        Err(err) => {
            err.report(&printer);
            err.exit_status()
        }
    }
}
