//! Diagnostics through `tracing`, off unless asked for: `-v`, `-vv` or `RUST_LOG`.
//! User-facing output never goes through here; it goes through [`crate::ui::Printer`].
use tracing_subscriber::EnvFilter;

pub fn init(verbosity: u8) {
    // Other crates' warnings (the AWS SDK's credential chain, say) are not for users: what
    // matters reaches them as repoctl's own error, with its causes.
    let default = match verbosity {
        0 => "error,repoctl=warn",
        1 => "repoctl=info",
        _ => "repoctl=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
