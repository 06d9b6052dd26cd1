//! Command-line types only: parsing lives here, behaviour lives in `commands`.
use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand};

/// `repoctl --version`: the package version and the commit it was built from, as
/// `0.1.0 (abc1234 2026-12-03)`, or `0.1.0 (no git commit)` (build.rs says where it looks).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("REPOCTL_COMMIT"), ")");

/// Build AUR packages in clean containers and publish them as a pacman repository
/// (S3 bucket or local directory), as declared in repo.yaml.
#[derive(Debug, Parser)]
#[command(name = "repoctl", version = VERSION, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 ok, 1 some package failed, 2 invalid configuration or environment, 130 interrupted.\n\
Environment: AUR_LOCATION (AUR base URL, default https://aur.archlinux.org), REPOCTL_WORK_DIR, \
AWS_* (standard AWS credential chain)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// More diagnostics on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands that read no repo.yaml and no work directory: the global `--config`,
/// `--work-dir` and `--no-progress` mean nothing to them, so their help, manual page and
/// completions do not offer them ([`command`]) and giving one is an error ([`parse`]) rather
/// than silently ignored (issue 29, new-user item).
pub const WITHOUT_CONFIG: &[&str] = &["init", "schema", "completions", "man"];

/// The global options [`WITHOUT_CONFIG`] takes none of: (clap id, as written).
const CONFIG_OPTIONS: &[(&str, &str)] =
    &[("config", "--config"), ("work_dir", "--work-dir"), ("no_progress", "--no-progress")];

/// repoctl's command line as clap describes it (help, `man`, `completions`), with the global
/// options hidden from the subcommands that ignore them ([`WITHOUT_CONFIG`]).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    // A subcommand's own argument of a global one's id stops clap propagating the global one
    // to it: each gets a hidden stand-in that [`parse`] refuses.
    for name in WITHOUT_CONFIG {
        cmd = cmd.mut_subcommand(name, |sub| {
            CONFIG_OPTIONS.iter().fold(sub, |sub, (id, flag)| {
                let arg = clap::Arg::new(id).long(flag.trim_start_matches('-')).hide(true);
                sub.arg(if *id == "no_progress" { arg.action(clap::ArgAction::SetTrue) } else { arg.num_args(1) })
            })
        });
    }
    cmd
}

/// Parses the process's arguments ([`parse_from`]); on a mistake, prints clap's error and
/// exits 2.
pub fn parse() -> Cli {
    parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit())
}

/// Parses `args` (the program's name first) with [`command`]. Errors: clap's, and a global
/// option given to a subcommand of [`WITHOUT_CONFIG`].
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::FromArgMatches;
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    if let Some((name, sub)) = matches.subcommand()
        && WITHOUT_CONFIG.contains(&name)
    {
        let given = |id: &str| {
            [&matches, sub].iter().any(|m| {
                m.try_get_raw(id).is_ok_and(|v| v.is_some())
                    && m.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
            })
        };
        if let Some((_, flag)) = CONFIG_OPTIONS.iter().find(|(id, _)| given(id)) {
            return Err(cmd.error(
                clap::error::ErrorKind::ArgumentConflict,
                format!("{flag} does nothing for `repoctl {name}`, which reads no repo.yaml and no work directory"),
            ));
        }
    }
    Cli::from_arg_matches(&matches)
}

#[cfg(test)]
mod tests {
    /// Issue 29, new-user item: `schema`, `man`, `completions` and `init` neither offer nor
    /// silently ignore `--config`, `--work-dir` and `--no-progress`.
    #[test]
    fn commands_without_a_config_neither_offer_nor_ignore_the_global_options() {
        let help_of = |name: &str| {
            let mut cmd = super::command();
            cmd.build();
            cmd.find_subcommand_mut(name).unwrap().render_help().to_string()
        };
        for name in super::WITHOUT_CONFIG {
            let help = help_of(name);
            assert!(!help.contains("--config") && !help.contains("--work-dir"), "{name}: {help}");
        }
        let build = help_of("build");
        assert!(build.contains("--config") && build.contains("--work-dir"), "{build}");
        for args in [&["repoctl", "schema", "--config", "x.yaml"][..], &["repoctl", "--work-dir", "w", "man"]] {
            let err = super::parse_from(args).unwrap_err().to_string();
            assert!(err.contains("does nothing for `repoctl"), "{args:?}: {err}");
        }
        assert!(super::parse_from(["repoctl", "schema"]).is_ok());
        assert!(super::parse_from(["repoctl", "--config", "x.yaml", "build"]).is_ok());
    }
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The repository description to use.
    #[arg(long, short = 'c', global = true, default_value = "repo.yaml", value_name = "PATH")]
    pub config: Utf8PathBuf,

    /// Caches, build logs and per-run files [default: .repoctl beside the config file].
    #[arg(long, global = true, env = crate::env::WORK_DIR, value_name = "DIR")]
    pub work_dir: Option<Utf8PathBuf>,

    /// Plain log lines instead of progress bars, even on a terminal.
    #[arg(long, global = true)]
    pub no_progress: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate repo.yaml, and check that every package exists in the AUR and every
    /// dependency is satisfied.
    ///
    /// Dependencies are read from each pkgbase's .SRCINFO for `arch` and looked up in the
    /// official repositories (read once per builder image through a container of it, then
    /// checked against its mirrors: needs Docker), the AUR, and the AUR's providers. Each problem is printed as `FILE:LINE:COL: message` with a
    /// hint, all at once; exits 2 if any. Writes nothing but caches in the work directory.
    Check,

    /// Show what `build` would do, without doing it.
    ///
    /// Reads the AUR, the published repository and the official repositories (read once per
    /// builder image through a container of it, then checked against its mirrors: needs Docker). Exits 2 when a package has a problem
    /// (printed as `FILE:LINE:COL: message` with a hint); `build` would build the rest.
    Plan {
        /// Print one JSON object, packages in build order.
        #[arg(long)]
        json: bool,
        /// Also split the builds for separate machines, at most N (1-256) at once. Shards are
        /// balanced by each build's expected time (its last successful build's, from the status
        /// object; 10m when none was recorded). A library many builds need is built in a wave of
        /// its own and its dependants spread over the next wave's shards (`waves` in the JSON);
        /// `shards` keeps every dependency group whole in one wave. `auto`: the fewest shards
        /// expected to finish within --budget.
        #[arg(long, value_name = "N|auto", value_parser = parse_shards)]
        shards: Option<Shards>,
        /// The wall time the builds should take (`50m`, `5h30m`): with `--shards auto`, the
        /// fewest shards whose waves are expected to fit; with `--shards N`, a check. Exits 2,
        /// printing no plan, when nothing up to 256 shards fits (GitHub stops a job after 6h).
        #[arg(long, value_name = "DURATION", value_parser = parse_budget, requires = "shards")]
        budget: Option<u64>,
        /// Ask VCS packages (`-git`, ...) the AUR calls up to date for their pkgver() in
        /// containers, as `build` does, and show the answer: upstream moved means build. As in
        /// `build`, a package checked less than its `vcs_interval` ago is not asked again (set
        /// `vcs_interval: 0s` on its entry to ask every time).
        #[arg(long)]
        probe_vcs: bool,
        /// Plan only these packages (pkgname or pkgbase) and what they need.
        #[arg(value_name = "PKG")]
        packages: Vec<String>,
    },

    /// Build what the plan says in fresh containers, then publish.
    ///
    /// With package names, only those packages and the AUR packages they need are built;
    /// the rest of the repository is left as it is. A package named is built even when up to
    /// date (a VCS package without asking its pkgver() first).
    Build {
        /// Build only these packages (pkgname or pkgbase) and what they need.
        #[arg(value_name = "PKG")]
        packages: Vec<String>,
        /// Build, and keep the package files in the run directory, but publish nothing.
        #[arg(long)]
        no_publish: bool,
        /// With --no-publish: also copy the package files (and signatures) into DIR, for
        /// `repoctl publish DIR` on another machine.
        #[arg(long, value_name = "DIR", requires = "no_publish")]
        out: Option<Utf8PathBuf>,
        /// With --no-publish: the package files earlier waves built (their --out
        /// directories, merged), for a wave of `plan --shards` (`"waves"`). Each is checked as
        /// `publish DIR` checks it, against its provenance record and repoctl.lock; a pkgbase
        /// found there is not built again, and its files are installed into its dependants'
        /// containers. Exits 2, building nothing, when a file there is refused.
        #[arg(long, value_name = "DIR", requires = "no_publish")]
        earlier_waves: Option<Utf8PathBuf>,
        /// Rebuild PKG (pkgname or pkgbase) from its locked commit with the next dotted pkgrel
        /// (1 -> 1.1 -> 1.2), as repoctl does by itself when a library it links is gone;
        /// repeatable. The AUR's next pkgrel (2) is still newer.
        #[arg(long, value_name = "PKG")]
        rebuild: Vec<String>,
    },

    /// Move repoctl.lock to the AUR's newest commits, and show what that lets in.
    ///
    /// `build` builds only the AUR commits repoctl.lock names. This resolves repo.yaml at
    /// the AUR's heads, and for each pkgbase with a newer commit shows every file's diff and
    /// flags what a reviewer must see: a new or changed maintainer (or an orphan adopted),
    /// new source URLs or hosts, checksums changed under the same URLs, install scriptlets,
    /// changed pkgver()/prepare()/build()/package(). repo.yaml's `trust:` holds back commits
    /// younger than `min_age`, maintainers not in `maintainers`, and every change of
    /// maintainer until `--accept`. Packages deleted from the AUR are flagged and kept.
    /// Nothing is built and no AUR code runs. Needs Docker (the official repositories are
    /// read through the builder image, as `plan` does).
    Update {
        /// Move only these packages (pkgbase or pkgname); the rest of the lock stays.
        #[arg(value_name = "PKG")]
        packages: Vec<String>,
        /// Write nothing; exit 1 if the lock would change (for monitoring and CI).
        #[arg(long)]
        check: bool,
        /// Accept the new maintainer of PKG (pkgbase or pkgname); repeatable.
        #[arg(long, value_name = "PKG")]
        accept: Vec<String>,
        /// Take only what `trust.auto` lets in without review (the nightly's direct update).
        #[arg(long)]
        auto: bool,
        /// Print the report as JSON.
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Print the report as Markdown, ready to be a pull-request body.
        #[arg(long)]
        markdown: bool,
        /// Report what changed from the lock file BASE to repoctl.lock (a pull request's lock
        /// change), from the AUR's history; writes nothing.
        #[arg(long, value_name = "BASE", conflicts_with_all = ["check", "auto", "accept", "packages"])]
        since: Option<Utf8PathBuf>,
    },

    /// List AUR packages in repo.yaml and lock them, with the AUR packages they need.
    ///
    /// Appends each PKG (a pkgname or pkgbase) to repo.yaml's `packages:` list, keeping the
    /// file's comments and style, then runs `repoctl update PKG...`: the same report of what
    /// that lets in, with the same flags, cooldown and holds. When the update fails (a name the
    /// AUR does not have), repo.yaml is put back as it was. Example: `repoctl add paru`.
    Add {
        /// The packages to add (pkgname or pkgbase).
        #[arg(value_name = "PKG", required = true)]
        packages: Vec<String>,
    },

    /// Add the package files in DIR (with their .sig files) to the repository and upload them.
    Publish {
        /// A directory holding *.pkg.tar.* files, such as the output of `build --no-publish`.
        dir: Utf8PathBuf,
    },

    /// Turn signing on for a repository that was published unsigned (once, on purpose).
    ///
    /// `build` and `publish` never sign what the bucket holds: in a signed repository (repo.yaml
    /// has `sign:`) they refuse a live database that does not verify under the key, and say so.
    /// `sign --adopt` is the one-time act that takes over a repository as it is: it downloads
    /// every package file NAME.db (and NAME-debug.db) lists and checks it against its entry's
    /// %SHA256SUM% (one mismatch stops it before anything is written), signs the files whose
    /// entries have no valid signature by the key, re-adds every file with repo-add so the
    /// signatures are embedded, and commits the signed database with the usual conditional
    /// write. It prints what it signed. Run it only on a repository you know nobody else wrote
    /// to: what it checks is that the files are the ones the database names, not who made them.
    /// Needs REPOCTL_SIGNING_KEY and Docker (repo-add runs in the builder image).
    Sign {
        /// Take over the repository as it is now (required: signing what repoctl did not build
        /// is never implicit).
        #[arg(long, required = true)]
        adopt: bool,
        /// Check every file and list what would be signed; write nothing (no Docker needed).
        #[arg(long)]
        dry_run: bool,
    },

    /// Show where a published package came from: its AUR commit, lock and builder image.
    ///
    /// Reads the target's database for the package's current file, then that file's
    /// provenance object (FILE.provenance.json, written by the build that made it). Exits 1
    /// when the package is not published or has no provenance: it was published before
    /// repoctl recorded provenance, or by `repoctl publish` of a file that came without one.
    Provenance {
        /// A pkgname, a pkgbase (each of its pkgnames), or a package file (its name as the
        /// database lists it, or a path to it).
        #[arg(value_name = "PKG|FILE")]
        package: String,
        /// Print the provenance object (JSON) as published.
        #[arg(long)]
        json: bool,
    },

    /// Show whether the published repository is what repo.yaml and repoctl.lock ask for.
    ///
    /// Reads the target's database, its signatures and its status object (NAME.status.json:
    /// each pkgbase's last build, written by `build` and `publish`; marked UNVERIFIED in a signed
    /// repository when NAME.status.json.sig does not verify it), repo.yaml, repoctl.lock
    /// and the AUR, and prints per package the published version, the locked version `build`
    /// would build, the AUR's newest, whether it is signed, and its last build; then what
    /// `build` would remove, and a verdict. Exits 0 in sync (an AUR newer than the lock is
    /// mentioned, not drift: the lock is what a person let in), 1 when packages are behind,
    /// failed, blocked, not locked, unsigned or to be removed, 2 when repo.yaml or the
    /// environment is unusable. Needs Docker, as `plan` does (the official repositories are
    /// read through the builder image).
    Status {
        /// Print one JSON object (its shape: docs/src/operating/status.md#status---json in the user guide).
        #[arg(long)]
        json: bool,
    },

    /// List the publishes the repository keeps, newest first, with what each changed.
    ///
    /// Each publish that changed NAME.db kept that database (and NAME.files, with their
    /// signatures) as a snapshot under `history/ID/` beside the repository, for repo.yaml's
    /// `snapshots.keep` (default 14d; the newest is always kept); no package file is copied.
    /// Prints per publish its ID (what `repoctl rollback` takes: `YYYYMMDDTHHMMSS.mmmZ-` and 8 hex
    /// digits of the database's SHA-256, so IDs sort by time), when it was committed (UTC), and
    /// `+ pkgname version` for what it added, `- pkgname version` for what it removed. A
    /// rollback is a publish too, and says which ID it put back. Reads the target only.
    History {
        /// Print one JSON object: `{"repo", "publishes": [{"id", "time", "run", "database",
        /// "added": [{"pkgname", "version"}], "removed": [...], "rollback_to"?}]}`, newest first.
        #[arg(long)]
        json: bool,
    },

    /// Put NAME.db, NAME.files, their signatures, the status object and the page back as they
    /// were after an earlier publish.
    ///
    /// Takes the snapshot ID (`repoctl history` lists them) and checks it as a live database is
    /// checked: in a signed repository (repo.yaml has `sign:`, REPOCTL_SIGNING_KEY holds the key)
    /// its NAME.db and NAME.files must verify under the key by the signatures kept with them, and
    /// every entry must carry a package signature by the key, so that nobody who can write the
    /// bucket but cannot sign can have a database of their own rolled in. Every package file it
    /// lists must still be there. Then NAME.db is replaced with the same conditional write a
    /// publish commits with: when another publish committed meanwhile, nothing is rolled back
    /// and it says so (run `repoctl history` and decide again). The pkgbases whose versions it
    /// changes are held: `build` does not publish the lock's version of them again until their
    /// lock entries move (`repoctl update PKG`), or until `repoctl build PKG` names them. Exits 0
    /// when rolled back (or already there), 2 when refused.
    Rollback {
        /// The snapshot to put back, as `repoctl history` prints it (`20261207T020000.000Z-1a2b3c4d`).
        #[arg(value_name = "ID")]
        id: String,
    },

    /// Show reviewers what a change to repo.yaml lets in.
    ///
    /// For each package added or changed since the BASE version of repo.yaml: its AUR
    /// dependency closure, AUR maintainer and last update, and a link to the PKGBUILD at the
    /// commit a build would use. Also appended to the GitHub job summary. Needs Docker, as
    /// `check` does.
    Review {
        /// The repo.yaml before the change. A missing file is an error, unless
        /// --base-may-be-missing.
        #[arg(long, value_name = "PATH")]
        base: Utf8PathBuf,
        /// A missing BASE is a repo.yaml with no packages: every entry is reviewed as added (a
        /// pull request that creates repo.yaml).
        #[arg(long)]
        base_may_be_missing: bool,
        /// Print JSON; `.build` lists the names to pass to `repoctl build --no-publish`.
        #[arg(long)]
        json: bool,
    },

    /// Start a repository: write a starter repo.yaml, its JSON Schema and the GitHub
    /// workflows (nightly build, pull-request review) into DIR, and `.repoctl/` into its
    /// .gitignore.
    Init {
        #[arg(default_value = ".", value_name = "DIR")]
        dir: Utf8PathBuf,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
        /// A repository in a directory of this machine (`local:`), built by hand: no S3, no
        /// workflows.
        #[arg(long)]
        local: bool,
    },

    /// Remove what earlier runs of this work directory left in Docker, found by repoctl's labels.
    ///
    /// Containers and networks of runs that are over, pins included; synced builder images that
    /// a newer one replaced and no run holds. The caches (the synced image
    /// `repoctl-builder:synced-*`, pacman packages, sources) stay unless --caches. Only what runs
    /// of this work directory (--work-dir, default .repoctl beside --config) made is looked at,
    /// unless --all-work-dirs. What a run that is still going uses is never removed, whatever the
    /// flags: its process is checked on this machine (a run on another host sharing the daemon
    /// counts as going).
    Clean {
        /// Also remove the caches: the cache volumes and the synced builder images that no run
        /// holds (the next build upgrades the builder image and downloads again).
        #[arg(long)]
        caches: bool,
        /// Every repoctl resource in the daemon, of every work directory and of older repoctl
        /// versions (`repoctl-builder:run-*` images, resources without a work directory label);
        /// live runs' are still spared.
        #[arg(long)]
        all_work_dirs: bool,
        /// Only list what would be removed.
        #[arg(long)]
        dry_run: bool,
    },

    /// Print the JSON Schema of repo.yaml (for editors: `# yaml-language-server: $schema=...`).
    Schema,

    /// Print the shell completion script for repoctl.
    ///
    /// Install it where the shell looks: bash,
    /// `repoctl completions bash > ~/.local/share/bash-completion/completions/repoctl`
    /// (system-wide: /usr/share/bash-completion/completions/repoctl); zsh, as `_repoctl` in a
    /// directory of `$fpath` (/usr/share/zsh/site-functions/_repoctl); fish,
    /// `~/.config/fish/completions/repoctl.fish`.
    Completions {
        /// The shell to complete repoctl in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print repoctl's manual page (roff, section 1), or write every page into a directory.
    ///
    /// `repoctl man | man -l -` reads it now. Packagers: `repoctl man --out-dir DIR` writes
    /// repoctl.1 and one page per subcommand (repoctl-build.1, ...) into DIR, such as
    /// /usr/share/man/man1.
    Man {
        /// Write repoctl.1 and a page for each subcommand into DIR instead (it must exist).
        #[arg(long, value_name = "DIR")]
        out_dir: Option<Utf8PathBuf>,
    },
}

/// `--shards`: a number of shards, or `auto` (the fewest that fit `--budget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shards {
    Count(u16),
    Auto,
}

fn parse_shards(s: &str) -> Result<Shards, String> {
    if s == "auto" {
        return Ok(Shards::Auto);
    }
    match s.parse::<u16>() {
        Ok(n @ 1..=256) => Ok(Shards::Count(n)),
        _ => Err(format!("`{s}` is neither a number of shards from 1 to 256 nor `auto`")),
    }
}

/// `--budget`: whole seconds, from `50m`, `5h30m`, `90s` or a bare number of seconds.
fn parse_budget(s: &str) -> Result<u64, String> {
    match crate::config::parse_duration(s) {
        Some(d) if d.as_secs() > 0 => Ok(d.as_secs()),
        _ => Err(format!("`{s}` is not a duration such as 50m or 5h30m")),
    }
}
