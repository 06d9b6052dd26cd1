//! Diagnostics through `tracing`, off unless asked for: `-v`, `-vv` or `RUST_LOG`.
//! User-facing output never goes through here; it goes through [`crate::ui::Printer`].
use tracing_subscriber::EnvFilter;

pub fn init(verbosity: u8) {
    let default = match verbosity {
        0 => "warn",
        1 => "repoctl=info",
        _ => "repoctl=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}
