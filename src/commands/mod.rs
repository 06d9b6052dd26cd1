//! One module per subcommand, each an async fn over plain values returning an exit status.
mod add;
mod build;
mod check;
mod clean;
pub mod completions;
mod git_packages;
mod history;
pub mod init;
mod man;
mod patches;
pub(crate) mod plan;
mod provenance;
mod publish;
pub mod render;
mod results;
pub mod review;
mod rollback;
mod shared;
mod sign;
mod status;
mod update;

use crate::aur::{AurClient, Live, Query, SrcInfoStore, Universe};
use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::error::{Error, ExitStatus};
use crate::plan::{Inputs, Plan};
use crate::publish::{RemoteRepo, Target};
use crate::ui::Printer;
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeMap;

pub async fn dispatch(cli: Cli, printer: &Printer) -> Result<ExitStatus, Error> {
    let config_path = cli.global.config.clone();
    let work_dir = cli.global.work_dir.clone();
    match cli.command {
        Command::Check => check::check(&config_path, work_dir, printer).await,
        Command::Plan { json, shards, budget, probe_vcs, packages } => {
            let shards = match (shards, budget) {
                (None, _) => None,
                (Some(crate::cli::Shards::Count(n)), budget) => Some(plan::Sharding::Count(usize::from(n), budget)),
                (Some(crate::cli::Shards::Auto), Some(budget)) => Some(plan::Sharding::Within(budget)),
                (Some(crate::cli::Shards::Auto), None) => {
                    return Err(Error::Usage(
                        "--shards auto needs --budget DURATION (the wall time the builds should fit in, \
                         such as 50m): it picks the fewest shards expected to finish within it"
                            .into(),
                    ));
                }
            };
            let options = plan::Options { json, shards, probe_vcs };
            plan::plan(&config_path, work_dir, options, &packages, printer).await
        }
        Command::Build { packages, no_publish, out, earlier_waves, rebuild } => {
            let options =
                build::Options { only: &packages, no_publish, out: out.as_deref(), earlier_waves, rebuild: &rebuild };
            build::build(&config_path, work_dir, options, printer).await
        }
        Command::Publish { dir } => publish::publish(&config_path, work_dir, &dir, printer).await,
        Command::Sign { adopt: _, dry_run } => sign::sign(&config_path, work_dir, dry_run, printer).await,
        Command::Provenance { package, json } => provenance::provenance(&config_path, &package, json, printer).await,
        Command::Status { json } => status::status(&config_path, work_dir, json, printer).await,
        Command::History { json } => history::history(&config_path, json, printer).await,
        Command::Rollback { id } => rollback::rollback(&config_path, work_dir, &id, printer).await,
        Command::Review { base, base_may_be_missing, json } => {
            let base = review::Base { path: &base, may_be_missing: base_may_be_missing };
            review::review(&config_path, base, work_dir, json, printer).await
        }
        Command::Update { packages, check, accept, auto, json, markdown, since } => {
            let options = update::Options { packages, check, accept, auto, json, markdown, since };
            update::update(&config_path, work_dir, options, printer).await
        }
        Command::Add { packages } => add::add(&config_path, work_dir, &packages, printer).await,
        Command::Init { dir, force, local } => init::init(&dir, force, local, printer),
        Command::Clean { caches, all_work_dirs, dry_run } => {
            let work = work_dir_beside(&config_path, work_dir);
            clean::clean(&work, caches, all_work_dirs, dry_run, printer).await
        }
        Command::Schema => {
            printer.out(crate::config::JSON_SCHEMA);
            Ok(ExitStatus::Success)
        }
        Command::Completions { shell } => completions::completions(shell, printer),
        Command::Man { out_dir } => man::man(out_dir.as_deref(), printer),
    }
}

pub(crate) fn load_config(path: &Utf8Path) -> Result<Config, Error> {
    Ok(crate::config::load(path)?)
}

/// The signer for publishing, when repo.yaml has `sign:`. Its problems (no key in the
/// environment, another key, a wrong passphrase) point at the `sign.key` line, before anything
/// is built or written.
pub(crate) fn signer(config: &Config) -> Result<Option<crate::sign::Signer>, Error> {
    use crate::sign::SignError;
    let Some(sign) = &config.sign else { return Ok(None) };
    crate::sign::Signer::from_env(&config.path, &sign.key).map(Some).map_err(|err| {
        let var = crate::env::SIGNING_KEY;
        let hint = match &err {
            SignError::MissingKey { .. } => format!(
                "export {var} with the ASCII-armored secret key (gpg --armor --export-secret-keys {}); in GitHub Actions, from a secret",
                sign.key
            ),
            SignError::WrongKey { .. } => format!("set `sign.key` to the key in {var}, or put the key {} in {var}", sign.key),
            SignError::CannotSign { .. } => format!(
                "set {} to the key's passphrase, or export the key without one",
                crate::env::SIGNING_KEY_PASSPHRASE
            ),
            _ => format!("export the key with gpg --armor --export-secret-keys {}", sign.key),
        };
        Error::Diagnostics(crate::config::Diagnostics(vec![config.diagnostic_at(sign.pos, err.to_string()).hint(hint)]))
    })
}

/// The public part of the repository's key, for a run that verifies the published database
/// but may not sign (a shard's `build --no-publish`, `provenance`): from `given` when the run
/// has one, else from repo.yaml's `sign.public_key` file, else from the secret key in the
/// environment when it is there. None for an unsigned repository. Errors: a signed repository
/// with none of the three (a diagnostic at `sign.key` saying to add `sign.public_key`), or a
/// `sign.public_key` file that does not hold the key `sign.key` names.
pub(crate) fn public_key(
    config: &Config,
    given: Option<&crate::sign::Signer>,
) -> Result<Option<crate::sign::PublicKey>, Error> {
    let Some(sign) = &config.sign else { return Ok(None) };
    if let Some(signer) = given {
        return Ok(Some(signer.public().clone()));
    }
    if let Some(file) = &sign.public_key {
        return crate::sign::PublicKey::from_armored(&file.armored, &sign.key).map(Some).map_err(|why| {
            let message = format!("key file `{}` is not the public part of key {}: {why}", file.path, sign.key);
            let hint = format!("export it again with `gpg --armor --export {} > {}`", sign.key, file.path);
            Error::Diagnostics(crate::config::Diagnostics(vec![config.diagnostic_at(file.pos, message).hint(hint)]))
        });
    }
    if std::env::var(crate::env::SIGNING_KEY).is_ok_and(|k| !k.trim().is_empty()) {
        return Ok(signer(config)?.map(|s| s.public().clone()));
    }
    let message = format!(
        "the repository is signed with key {}, but this run has neither the secret key ({}) nor its public part to verify the published database with",
        sign.key,
        crate::env::SIGNING_KEY
    );
    let hint = format!(
        "commit the public key (`gpg --armor --export {} > keys/{}.asc`) and add `public_key: keys/{}.asc` under `sign:`",
        sign.key, config.name, config.name
    );
    Err(Error::Diagnostics(crate::config::Diagnostics(vec![config.diagnostic_at(sign.pos, message).hint(hint)])))
}

/// `--work-dir`, or `.repoctl` beside repo.yaml.
pub(crate) fn work_dir(config: &Config, given: Option<Utf8PathBuf>) -> Utf8PathBuf {
    work_dir_beside(&config.path, given)
}

/// `--work-dir`, or `.repoctl` beside the config file `config_path` (which need not be read).
fn work_dir_beside(config_path: &Utf8Path, given: Option<Utf8PathBuf>) -> Utf8PathBuf {
    given.unwrap_or_else(|| config_path.parent().unwrap_or(Utf8Path::new(".")).join(".repoctl"))
}

/// A run's identity: in container names, labels and the run directory. `SECS-RANDOM-PID`:
/// seconds since the epoch (runs sort by start), 48 random bits as 12 hex digits, and the
/// process ID last (where the Docker cleanup reads it for resources without a process
/// label). The random part keeps two runs apart that start in the same second with the same
/// PID: two CI runners or containers in their own PID namespaces sharing one Docker daemon,
/// where a shared ID would let one run's cleanup remove the other's containers.
pub(crate) fn new_run_id() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("{secs}-{:012x}-{}", rand::random::<u64>() >> 16, std::process::id())
}

/// The official repositories as the builder image's pacman.conf names them, current: read once
/// per builder image through a container of it, kept in `WORK/official` and checked against
/// their servers on every use ([`crate::official::load`]).
pub(crate) async fn official_repos(
    config: &Config,
    work: &Utf8Path,
    printer: &Printer,
) -> Result<crate::official::OfficialRepos, Error> {
    let docker = crate::docker::Docker::connect(&new_run_id(), work).await?;
    let image = shared::prepare_image(&docker, config, &work.join("logs"), printer).await?;
    Ok(crate::official::load(&docker, &image, &work.join("official")).await?)
}

/// Everything the AUR and the official repositories say about the listed packages and what
/// they need. `srcinfo_dir`: where `.SRCINFO` files are kept between runs (None: not kept).
/// `patched`: pkgbase -> the `.SRCINFO` of its patched files (issue 27), used instead of its
/// AUR commit's ([`patches`]).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn resolve(
    config: &Config,
    aur: &AurClient,
    official: &crate::official::OfficialRepos,
    published: &[crate::alpm::RepoEntry],
    srcinfo_dir: Option<&Utf8Path>,
    pinned: &std::collections::BTreeMap<String, String>,
    local: &[crate::aur::LocalPackage],
    patched: &BTreeMap<String, crate::aur::SrcInfo>,
) -> Result<Universe, Error> {
    let listed: Vec<(String, bool)> = config.packages.iter().map(|p| (p.name.clone(), p.nocheck)).collect();
    let store = SrcInfoStore::new(srcinfo_dir);
    let query = Query { listed: &listed, arch: &config.arch, official, published, pinned, local };
    let source = patches::WithPatches { live: Live { aur, store: &store }, patched };
    let universe = crate::aur::resolve(&source, &query).await?;
    tracing::info!(
        "{} .SRCINFO file(s) fetched, {} RPC request(s), {} official package(s) known",
        store.fetched(),
        universe.requests,
        official.len()
    );
    Ok(universe)
}

/// repo.yaml's `path:` entries (issue 27), each with the digest of its directory's files now
/// and the `.SRCINFO` `makepkg --printsrcinfo` makes of them: kept under the work directory by
/// that digest, else made in a builder container ([`crate::build::local`]; Docker is reached
/// only then). A directory that cannot be read, or a PKGBUILD that does not source, is that
/// package's problem (`Err`), not the run's. Errors: Docker or the builder image.
pub(crate) async fn local_packages(
    config: &Config,
    work: &Utf8Path,
    printer: &Printer,
) -> Result<Vec<crate::aur::LocalPackage>, Error> {
    use crate::ui::Reporter as _;
    let mut docker: Option<(crate::docker::Docker, String)> = None;
    let mut out = Vec::new();
    for p in &config.packages {
        let Some(local) = p.local_path() else { continue };
        let tree = match crate::trust::tree::read_dir(&local.dir) {
            Ok(tree) => tree,
            Err(e) => {
                let srcinfo = Err(crate::cause::chain(&e).join(": "));
                out.push(crate::aur::LocalPackage { name: p.name.clone(), digest: String::new(), srcinfo, held: None });
                continue;
            }
        };
        let digest = tree.digest();
        let text = match crate::build::local::cached_srcinfo(work, &digest) {
            Some(text) => Ok(text),
            None => {
                if docker.is_none() {
                    let d = crate::docker::Docker::connect(&new_run_id(), work).await?;
                    let image = shared::prepare_image(&d, config, &work.join("logs"), printer).await?;
                    docker = Some((d, image));
                }
                let (d, image) = docker.as_ref().expect("connected just above");
                printer.step(&format!(
                    "making the .SRCINFO of `{}` in a container (makepkg --printsrcinfo)",
                    local.written
                ));
                crate::build::local::local_srcinfo(d, image, work, &local.written, &tree)
                    .await
                    .map_err(|e| crate::cause::chain(&e).join(": "))
            }
        };
        let srcinfo = text.and_then(|t| local_srcinfo_of(&p.name, &local.written, &t, &config.arch));
        out.push(crate::aur::LocalPackage { name: p.name.clone(), digest, srcinfo, held: None });
    }
    Ok(out)
}

/// The `.SRCINFO` made from the `path:` entry `name`'s directory `written`, which must make the
/// pkgbase `name`: the entry's name is how the lock, `update PKG` and the build find it.
fn local_srcinfo_of(name: &str, written: &str, text: &str, arch: &str) -> Result<crate::aur::SrcInfo, String> {
    let info = crate::aur::SrcInfo::parse(text, arch)
        .map_err(|e| format!("the .SRCINFO made from `{written}` cannot be read: {e}"))?;
    if info.pkgbase != name {
        return Err(format!(
            "the PKGBUILD in `{written}` makes pkgbase {}, not {name}: add `name: {}` to its entry",
            info.pkgbase, info.pkgbase
        ));
    }
    Ok(info)
}

/// The problems of a plan as diagnostics on repo.yaml lines: a listed package's on its own
/// entry; an AUR dependency's on the entry of the first listed package that needs it
/// (directly or not), naming every one that does. A dependency cycle is said once per line:
/// on the entry of each listed member, or, when no member is listed, where its first
/// dependant is, naming its members. Sorted by line.
pub(crate) fn plan_diagnostics(config: &Config, plan: &Plan) -> crate::config::Diagnostics {
    // Each entry's pkgbase, found once (an entry names a pkgbase or one of its pkgnames).
    let mut base_of: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for step in plan.packages.iter().filter(|s| s.listed) {
        base_of.insert(&step.pkgbase, &step.pkgbase);
        for name in &step.pkgnames {
            base_of.entry(name).or_insert(&step.pkgbase);
        }
    }
    let mut diags = Vec::new();
    let mut said = std::collections::HashSet::new();
    for step in plan.with_problems() {
        let needing = needed_by_transitively(plan, &step.pkgbase);
        let entries = config.packages.iter();
        let at: Vec<&crate::config::PackageConfig> =
            entries.filter(|p| base_of.get(p.name.as_str()).is_some_and(|b| needing.contains(b))).collect();
        let own = at.iter().find(|p| step.listed && base_of.get(p.name.as_str()) == Some(&step.pkgbase.as_str()));
        for problem in &step.problems {
            let Some((pos, text)) = locate(plan, step, problem, own.copied(), &at) else { continue };
            if said.insert((pos.line, pos.col, text.clone())) {
                diags.push((pos, config.diagnostic_at(pos, text).hint(problem.hint.clone())));
            }
        }
    }
    diags.sort_by_key(|(pos, _)| (pos.line, pos.col));
    crate::config::Diagnostics(diags.into_iter().map(|(_, d)| d).collect())
}

/// The published packages that `unsatisfied` names (a dependency no repository provides, issue
/// 26) as diagnostics on repo.yaml lines: a listed pkgbase's on its own entry, an AUR
/// dependency's on the first listed entry that needs it. Left out: a pkgbase this run builds or
/// removes (the publish gate checks what it publishes, [`crate::publish::gate`]), and a
/// dependency whose name a package this run builds carries (it may be what satisfies it). An
/// unlisted pkgbase the plan no longer knows is said at the file's start. Sorted by line.
pub(crate) fn uninstallable_diagnostics(
    config: &Config,
    plan: &Plan,
    unsatisfied: &[crate::official::Unsatisfied],
) -> crate::config::Diagnostics {
    use crate::plan::Action;
    let built: std::collections::HashSet<&str> =
        plan.to_build().flat_map(|s| s.pkgnames.iter().map(String::as_str)).collect();
    let mut diags = Vec::new();
    for u in unsatisfied {
        let step = plan.step(&u.pkgbase);
        if step.is_some_and(|s| matches!(s.action, Action::Build | Action::Remove))
            || built.contains(crate::alpm::dep_name(&u.dependency))
        {
            continue;
        }
        let needing = needed_by_transitively(plan, &u.pkgbase);
        let names = |p: &crate::config::PackageConfig| {
            let base = plan.packages.iter().find(|s| s.listed && (s.pkgbase == p.name || s.pkgnames.contains(&p.name)));
            base.map(|s| s.pkgbase.clone()).unwrap_or_else(|| p.name.clone())
        };
        let own = config.packages.iter().find(|p| names(p) == u.pkgbase);
        let entry = own.or_else(|| config.packages.iter().find(|p| needing.contains(names(p).as_str())));
        let pos = entry.map_or_else(crate::config::Pos::default, |p| p.pos);
        let dependant = match (own, entry) {
            (None, Some(p)) => format!(" ({} is an AUR dependency of {})", u.pkgbase, p.name),
            _ => String::new(),
        };
        let hint = format!(
            "the official repositories dropped {dep} or changed its version; rebuilding {base} cannot help unless its PKGBUILD changes: ask its maintainer, or add a package that provides {dep}",
            dep = u.dependency,
            base = u.pkgbase
        );
        diags.push((pos, config.diagnostic_at(pos, format!("uninstallable: {u}{dependant}")).hint(hint)));
    }
    diags.sort_by_key(|(pos, _)| (pos.line, pos.col));
    crate::config::Diagnostics(diags.into_iter().map(|(_, d)| d).collect())
}

/// Where a problem of `step` is said, and in which words ([`plan_diagnostics`]): on `own`, its
/// entry when it is listed; else on the first of `at`, the entries that need it, naming them.
/// None: a cycle that a listed member's entry tells.
fn locate(
    plan: &Plan,
    step: &crate::plan::Step,
    problem: &crate::plan::Problem,
    own: Option<&crate::config::PackageConfig>,
    at: &[&crate::config::PackageConfig],
) -> Option<(crate::config::Pos, String)> {
    if let Some(entry) = own {
        return Some((entry.pos, problem.message.clone()));
    }
    let roots: Vec<&str> = at.iter().map(|p| p.name.as_str()).collect();
    let pos = at.first().map_or_else(crate::config::Pos::default, |p| p.pos);
    if problem.is_cycle() {
        let members: std::collections::BTreeSet<&str> = step.cycle.iter().map(String::as_str).collect();
        if members.iter().any(|m| plan.step(m).is_some_and(|s| s.listed)) {
            return None;
        }
        let members = members.into_iter().collect::<Vec<_>>().join(", ");
        return Some((pos, format!("{} ({members}: AUR dependencies of {})", problem.message, roots.join(", "))));
    }
    Some((pos, format!("{} ({} is an AUR dependency of {})", problem.message, step.pkgbase, roots.join(", "))))
}

/// The plan's warnings (a dependency gone from the AUR, kept), and one line for every
/// pkgbase repoctl.lock does not hold yet.
pub(crate) fn print_warnings(plan: &Plan, printer: &Printer) {
    // A cycle's members share their warning: said once.
    let mut said = std::collections::HashSet::new();
    for warning in plan.packages.iter().flat_map(|s| &s.warnings).filter(|w| said.insert(*w)) {
        printer.warn(warning);
    }
    let unlocked: Vec<&str> = plan.not_locked().map(|s| s.pkgbase.as_str()).collect();
    if !unlocked.is_empty() {
        const SHOWN: usize = 10;
        let more = unlocked.len().saturating_sub(SHOWN);
        let names = unlocked.iter().take(SHOWN).copied().collect::<Vec<_>>().join(", ");
        let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
        printer.warn(&format!(
            "{} pkgbase(s) not in repoctl.lock, so not built: {names}{tail}; run `repoctl update` to review and lock them",
            unlocked.len()
        ));
    }
}

/// `pkgbase` and every step that needs it, directly or through others ([`crate::plan::Step::needed_by`]).
fn needed_by_transitively<'a>(plan: &'a Plan, pkgbase: &'a str) -> std::collections::HashSet<&'a str> {
    let mut seen = std::collections::HashSet::from([pkgbase]);
    let mut todo = vec![pkgbase];
    while let Some(base) = todo.pop() {
        for dependant in plan.step(base).into_iter().flat_map(|s| &s.needed_by) {
            if seen.insert(dependant) {
                todo.push(dependant);
            }
        }
    }
    seen
}

/// repoctl.lock beside repo.yaml (empty when there is none yet).
pub(crate) fn read_lock(config: &Config) -> Result<crate::lock::Lock, Error> {
    Ok(crate::lock::Lock::read(&crate::lock::path_beside(&config.path))?)
}

/// Everything a plan is made from, read now.
pub(crate) struct Planned {
    pub plan: Plan,
    pub remote: RemoteRepo,
    /// What the AUR said (at the locked commits; its RPC answers are the AUR's heads).
    pub universe: Universe,
    /// The official sync databases the plan read, for the run's image to be compared with
    /// ([`crate::build::choose_run_image`]).
    pub sync_dbs: Vec<(String, String)>,
    /// The official repositories the plan read: what publishing checks installability against.
    pub official: crate::official::OfficialRepos,
    /// The published packages' dependencies that neither the official repositories nor the
    /// repository itself satisfy now (issue 26): an official package dropped, a soname bumped.
    pub uninstallable: Vec<crate::official::Unsatisfied>,
    /// The status object, read alongside the database and its signature, and checked
    /// ([`crate::publish::status::read`]). The plan's soname rebuilds come from it only when it
    /// is trusted ([`gone_sonames`]); `plan` takes the builds' recorded durations from what it
    /// shows ([`recorded_durations`]), `status` its rows, and a `build` with nothing to do
    /// compares it with the database when it is trusted, so that no command reads it twice.
    pub status: crate::publish::status::StatusRead,
}

/// How a command that may not sign checks the status object ([`make_plan`]): unsigned, or
/// under `public`, the key's public part when the run has it ([`public_key`]; None: nothing
/// verifies, and the plan acts on none of the object's records).
pub(crate) fn status_key<'a>(
    config: &'a Config,
    public: Option<&'a crate::sign::PublicKey>,
) -> crate::publish::status::StatusKey<'a> {
    match &config.sign {
        None => crate::publish::status::StatusKey::Unsigned,
        Some(sign) => crate::publish::status::StatusKey::Signed { fingerprint: &sign.key, public },
    }
}

/// The public part of the key for a command that only reads (`plan`, `status`): as
/// [`public_key`], but a signed repository without the secret key or `sign.public_key` is
/// None rather than an error (the status object then does not verify, and says so). Errors: a
/// key that is there but cannot be used.
pub(crate) fn public_key_if_any(config: &Config) -> Result<Option<crate::sign::PublicKey>, Error> {
    let Some(sign) = &config.sign else { return Ok(None) };
    let has_secret = std::env::var(crate::env::SIGNING_KEY).is_ok_and(|k| !k.trim().is_empty());
    if sign.public_key.is_none() && !has_secret {
        return Ok(None);
    }
    public_key(config, None)
}

/// pkgbase -> how long its last successful build took, in seconds, as `status` recorded it
/// (issue 28): what `plan --shards` expects its next build to take. Only from a verified object
/// ([`crate::publish::status::TrustedStatus`]): a forged six-hour duration makes `--budget`
/// find no fit, and the sharded nightly stop before building anything (attacker review).
pub(crate) fn recorded_durations(status: Option<&crate::publish::status::TrustedStatus>) -> BTreeMap<String, u64> {
    let packages = status.into_iter().flat_map(|s| &s.status().packages);
    packages.filter_map(|(base, p)| Some((base.clone(), p.built.as_ref()?.duration_secs?))).collect()
}

/// pkgbase -> the sonames its published packages need that an official package provided when
/// they were built and nothing provides now (issue 26,
/// [`crate::official::installable::gone_sonames`]), from the linkage the status object
/// recorded with each one's last build: only a trusted one's (the attacker review's F5).
fn gone_sonames(
    status: Option<&crate::publish::status::TrustedStatus>,
    entries: &[crate::alpm::RepoEntry],
    official: &crate::official::OfficialRepos,
) -> BTreeMap<String, Vec<String>> {
    use crate::official::installable::Recorded;
    let mut recorded = Vec::new();
    for (pkgbase, entry) in status.into_iter().flat_map(|s| &s.status().packages) {
        let Some((built, linkage)) = entry.built.as_ref().and_then(|b| Some((b, b.linkage.as_ref()?))) else {
            continue;
        };
        for (pkgname, package) in linkage.packages() {
            let (version, official_then) = (built.version.as_str(), linkage.official_sonames());
            recorded.push(Recorded { pkgbase, pkgname, version, linkage: package, official_then });
        }
    }
    crate::official::installable::gone_sonames(&recorded, entries, official)
}

/// Reads what a plan is made from and makes it. `(target, key)`: where the repository is, and
/// what its status object is checked with ([`status_key`]); an object that does not verify is
/// said in one warning and none of its records is acted on. Errors: reading, the plan.
pub(crate) async fn make_plan(
    config: &Config,
    (target, key): (&dyn Target, crate::publish::status::StatusKey<'_>),
    aur: &AurClient,
    work: &Utf8Path,
    only: &[String],
    scratch: &Utf8Path,
    printer: &Printer,
) -> Result<Planned, Error> {
    let (remote, status, holds) = tokio::join!(
        crate::publish::read_remote(target, &config.name, scratch),
        crate::publish::status::read(target, &config.name, key),
        crate::publish::history::read_holds(target)
    );
    let (remote, status, holds) = (remote?, status?, holds?);
    if let Some(warning) = status.warning() {
        printer.warn(&warning);
    }
    let lock = read_lock(config)?;
    let official = official_repos(config, work, printer).await?;
    let local = git_packages::local_and_git(config, work, printer, &lock).await?;
    let (universe, patched) =
        patches::resolve_locked(config, aur, (&official, &remote.entries), work, &lock, &local, printer).await?;
    let mismatches = crate::plan::read_mismatches(work);
    let plan = crate::plan::make(&Inputs {
        config,
        universe: &universe,
        repo: &remote.entries,
        only,
        mismatches: &mismatches,
        lock: &lock,
    })?;
    // Issue 27: patched packages take the lock's version, or cannot be built now.
    let plan = crate::plan::patches::settle(plan, &lock, &patched.problems);
    // Issue 29: what a rollback took away is not built again while the lock names it.
    let plan = crate::plan::hold_rolled_back(plan, &holds.holds, only);
    let now = jiff::Timestamp::now().as_second();
    let plan = crate::plan::defer_vcs_checks(plan, &crate::plan::read_vcs_checks(work), now);
    // Issue 26: a published package linking a soname nothing provides any more is rebuilt.
    let official_digest = crate::plan::official_digest(official.sync_db_digests());
    let gone = gone_sonames(status.trusted(), &remote.entries, &official);
    let mut plan = crate::plan::rebuild_gone_sonames(plan, &gone);
    plan.official = Some(official_digest);
    let uninstallable = crate::official::installable::unsatisfied(&remote.entries, &official);
    let sync_dbs = official.sync_db_digests().to_vec();
    Ok(Planned { plan, remote, universe, sync_dbs, official, uninstallable, status })
}

/// Applies `change` to the published repository ([`crate::publish::publish`]), stopped cleanly
/// by Ctrl-C or SIGTERM: then this run's containers are removed and the error is
/// [`Error::Interrupted`]; what was published so far stays consistent (the commit protocol).
pub(crate) async fn publish_or_interrupt(
    target: &dyn Target,
    tool: &crate::repo::RepoTool,
    change: &crate::publish::Change<'_>,
    dir: &Utf8Path,
    printer: &Printer,
) -> Result<crate::publish::PublishReport, Error> {
    Ok(or_interrupt(tool.docker(), crate::publish::publish(target, tool, change, dir, printer)).await??)
}

/// Runs `work` to its end unless Ctrl-C or SIGTERM comes first: then this run's containers
/// (its pin included) are removed ([`interrupt`]) and the error is [`Error::Interrupted`].
pub(crate) async fn or_interrupt<T>(
    docker: &crate::docker::Docker,
    work: impl std::future::Future<Output = T>,
) -> Result<T, Error> {
    tokio::select! {
        out = work => Ok(out),
        _ = interrupted() => Err(interrupt(docker).await),
    }
}

/// Removes this run's containers after Ctrl-C or SIGTERM, the pin of its image among them,
/// then the synced images superseded while it ran that no run holds any more.
pub(crate) async fn interrupt(docker: &crate::docker::Docker) -> Error {
    match docker.remove_all_of_run().await {
        Ok(n) => tracing::info!("removed {n} container(s) after interruption"),
        Err(e) => tracing::warn!("removing containers after interruption failed: {e}"),
    }
    if let Err(e) = crate::build::remove_superseded(docker).await {
        tracing::warn!("removing superseded synced images after interruption failed: {e}");
    }
    Error::Interrupted
}

/// How run `run_id` keeps the history of `config`'s repository (repo.yaml's `snapshots`).
pub(crate) fn snapshots<'a>(config: &Config, run_id: &'a str) -> crate::publish::Snapshots<'a> {
    crate::publish::Snapshots { run_id, keep: config.snapshots.keep }
}

/// A temporary directory for what a command reads and drops (removed with the returned guard),
/// and its UTF-8 path. Errors: it cannot be made, or the system's temp path is not UTF-8.
pub(crate) fn scratch_dir() -> Result<(tempfile::TempDir, Utf8PathBuf), Error> {
    let tmp = tempfile::tempdir().map_err(Error::io("cannot create a temporary directory"))?;
    let path = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf())
        .map_err(|p| Error::Usage(format!("the temporary directory {} is not UTF-8", p.display())))?;
    Ok((tmp, path))
}

/// Lets go of this run's image when the run is done, whatever happened
/// ([`crate::build::release_run_image`]): the synced image stays for the next run. A pin or a
/// superseded image left behind costs disk, not correctness, so it is a warning that says how
/// to remove it, not a failure.
pub(crate) async fn release_run_image(
    docker: &crate::docker::Docker,
    run_image: crate::build::RunImage,
    printer: &Printer,
) {
    let id = run_image.id.clone();
    // A container still being removed holds the image and its network: wait for them first.
    warn_unremoved(crate::docker::finish_removals().await, printer);
    let (released, networks) =
        tokio::join!(crate::build::release_run_image(docker, run_image), docker.remove_run_networks());
    if let Err(e) = released {
        printer.warn(&format!(
            "could not let go of this run's image {id}: {}; `repoctl clean` removes what is left",
            crate::cause::chain(&e).join(": ")
        ));
    }
    match networks {
        Ok(0) => {}
        Ok(n) => printer.warn(&format!("{n} network(s) of this run are still in use; `repoctl clean` removes them")),
        Err(e) => printer.warn(&format!(
            "could not remove this run's network: {}; `repoctl clean` removes it",
            crate::cause::chain(&e).join(": ")
        )),
    }
}

/// Says which containers could not be removed ([`crate::docker::finish_removals`]): they cost
/// disk until `repoctl clean`, not correctness, so this is a warning.
pub(crate) fn warn_unremoved(errors: Vec<crate::docker::DockerError>, printer: &Printer) {
    for e in errors {
        printer.warn(&format!(
            "a container could not be removed: {}; `repoctl clean` removes it",
            crate::cause::chain(&e).join(": ")
        ));
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    /// Red-team finding: `SECS-PID` run IDs collide across PID namespaces. Ids made in one
    /// second by one process differ, and end with the PID (what older resources' liveness reads).
    #[test]
    fn run_ids_made_at_once_by_one_process_differ() {
        let ids: std::collections::BTreeSet<String> = (0..1000).map(|_| super::new_run_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            let parts: Vec<&str> = id.split('-').collect();
            assert_eq!(parts.len(), 3, "{id}");
            assert!(parts[0].parse::<u64>().is_ok() && parts[1].len() == 12, "{id}");
            assert_eq!(parts[2], std::process::id().to_string(), "{id}");
        }
    }

    /// A `path:` entry named after its directory must make that pkgbase; else it says which
    /// name to write.
    #[test]
    fn a_path_entrys_name_is_its_pkgbase() {
        let text = crate::aur::memory::srcinfo("mytool", "1.0-1", &[]);
        assert_eq!(super::local_srcinfo_of("mytool", "pkgbuilds/mytool", &text, "x86_64").unwrap().pkgbase, "mytool");
        let err = super::local_srcinfo_of("tool", "pkgbuilds/tool", &text, "x86_64").unwrap_err();
        assert_eq!(
            err,
            "the PKGBUILD in `pkgbuilds/tool` makes pkgbase mytool, not tool: add `name: mytool` to its entry"
        );
        let err = super::local_srcinfo_of("mytool", "pkgbuilds/mytool", "garbage", "x86_64").unwrap_err();
        assert!(err.starts_with("the .SRCINFO made from `pkgbuilds/mytool` cannot be read: "), "{err}");
    }
}
