//! The `repoctl` binary: parse arguments, run, map the outcome to an exit code.
fn main() -> std::process::ExitCode {
    // Only as the completion script asks (the variable and no argument): a variable leaked
    // into a CI job's environment cannot turn `repoctl build` into a silent success.
    if let Some(config) = std::env::var_os(repoctl::commands::completions::PACKAGES_VAR)
        && std::env::args_os().len() == 1
    {
        let config = camino::Utf8PathBuf::from(config.to_string_lossy().into_owned());
        print!("{}", repoctl::commands::completions::package_names(&config));
        return std::process::ExitCode::SUCCESS;
    }
    let cli = repoctl::cli::parse();
    repoctl::logging::init(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    let status = runtime.block_on(repoctl::run(cli));
    std::process::ExitCode::from(status.code())
}
