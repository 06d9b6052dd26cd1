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
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if shell == clap_complete::Shell::Bash {
        script.push_str(BASH_PACKAGE_NAMES);
    }
    printer.out(&script);
    Ok(ExitStatus::Success)
}

/// Appended to clap_complete's bash script: package names from repo.yaml and repoctl.lock
/// ([`PACKAGES_VAR`], with the command line's `--config`) where a PKG goes, after
/// clap's own completions. Written by hand: clap_complete's static scripts complete only what
/// the clap definition names, and its dynamic completion is behind an unstable feature.
const BASH_PACKAGE_NAMES: &str = r#"
# repoctl: package names from repo.yaml and repoctl.lock where a PKG goes.
eval "$(declare -f _repoctl | sed '1s/^_repoctl /_repoctl_clap /')"
_repoctl() {
    _repoctl_clap "$@"
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} i sub="" config=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -c|--config) config=${COMP_WORDS[i+1]}; ((i++)) ;;
            --work-dir) ((i++)) ;;
            -*) ;;
            *) [ -z "$sub" ] && sub=${COMP_WORDS[i]} ;;
        esac
    done
    case $prev in
        --accept|--rebuild) ;;
        -c|--config|--work-dir|--out|--earlier-waves|--shards|--budget|--since|--base|--out-dir) return 0 ;;
    esac
    [[ $cur == -* ]] && return 0
    case $sub in
        build|update|plan|provenance)
            local names
            names=$(REPOCTL_COMPLETE_PACKAGES="${config:-repo.yaml}" repoctl 2>/dev/null)
            COMPREPLY+=($(compgen -W "$names" -- "$cur")) ;;
    esac
    return 0
}
"#;

/// With this variable set to a repo.yaml path and no argument, `repoctl` prints the package
/// names the shell completes ([`package_names`]) and exits 0: how the bash script asks,
/// as clap_complete's own dynamic completion asks with `COMPLETE=bash`, so that no hidden
/// subcommand shows up among the completions.
pub const PACKAGES_VAR: &str = "REPOCTL_COMPLETE_PACKAGES";

/// The names [`BASH_PACKAGE_NAMES`] completes, one per line: repo.yaml's packages and
/// repoctl.lock's pkgbases, sorted, once each; nothing when repo.yaml cannot be read.
pub fn package_names(config_path: &camino::Utf8Path) -> String {
    let Ok(config) = crate::config::load(config_path) else { return String::new() };
    let mut names: std::collections::BTreeSet<String> = config.packages.iter().map(|p| p.name.clone()).collect();
    if let Ok(lock) = crate::lock::Lock::read(&crate::lock::path_beside(&config.path)) {
        names.extend(lock.entries.into_keys());
    }
    names.into_iter().map(|n| n + "\n").collect()
}
