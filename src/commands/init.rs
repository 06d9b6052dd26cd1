//! `repoctl init [DIR]`: a starter repo.yaml, its JSON Schema, and the GitHub workflows.
use crate::error::{Error, ExitStatus};
use crate::ui::Printer;
use camino::Utf8Path;

/// What `init` writes, relative to DIR, and the embedded text: an S3 repository built by the
/// GitHub workflows.
pub const FILES: &[(&str, &str)] = &[
    ("repo.yaml", include_str!("../../templates/repo.yaml")),
    ("repo.schema.json", crate::config::JSON_SCHEMA),
    (".github/workflows/repoctl-nightly.yml", include_str!("../../templates/workflows/repoctl-nightly.yml")),
    (".github/workflows/repoctl-pr.yml", include_str!("../../templates/workflows/repoctl-pr.yml")),
    // The one place the workflows' repoctl release is pinned (and verified).
    (".github/actions/install-repoctl/action.yml", include_str!("../../templates/actions/install-repoctl/action.yml")),
];

/// What `init --local` writes: a repository in a directory of this machine, built by hand.
pub const LOCAL_FILES: &[(&str, &str)] =
    &[("repo.yaml", include_str!("../../templates/repo-local.yaml")), ("repo.schema.json", crate::config::JSON_SCHEMA)];

/// Lines `init` makes sure `.gitignore` has (appended when missing; the file is never
/// replaced): the work directory, and with `--local` the published repository.
fn ignored(local: bool) -> &'static [&'static str] {
    if local { &["/.repoctl/", "/repo/"] } else { &["/.repoctl/"] }
}

/// Writes the starter into `dir`: [`LOCAL_FILES`] with `local`, else [`FILES`]; and the
/// [`ignored`] lines into `.gitignore`. Errors: a file exists (without `force`), or cannot be
/// written.
pub fn init(dir: &Utf8Path, force: bool, local: bool, printer: &Printer) -> Result<ExitStatus, Error> {
    let files = if local { LOCAL_FILES } else { FILES };
    let existing: Vec<&str> = files.iter().map(|(p, _)| *p).filter(|p| dir.join(p).exists()).collect();
    if !existing.is_empty() && !force {
        return Err(Error::Usage(format!(
            "{} already exist(s) in {dir}; nothing was written. Re-run with --force to overwrite them",
            existing.join(", ")
        )));
    }
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(Error::io(format!("cannot create {parent}")))?;
        }
        write_whole(&path, text)?;
        printer.info(&format!("wrote {path}"));
    }
    ignore(dir, ignored(local), printer)?;
    printer.out(&next_steps(dir, local));
    Ok(ExitStatus::Success)
}

/// Write then rename: an interrupted init leaves no half-written file.
fn write_whole(path: &Utf8Path, text: &str) -> Result<(), Error> {
    let tmp = path.with_extension("repoctl-tmp");
    fs_err::write(&tmp, text).map_err(Error::io(format!("cannot write {tmp}")))?;
    fs_err::rename(&tmp, path).map_err(Error::io(format!("cannot write {path}")))
}

/// Appends to `DIR/.gitignore` the `lines` it does not have yet (made when missing).
fn ignore(dir: &Utf8Path, lines: &[&str], printer: &Printer) -> Result<(), Error> {
    let path = dir.join(".gitignore");
    let old = match fs_err::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::Io { context: format!("cannot read {path}"), source: e }),
    };
    let has = |line: &str| old.lines().any(|l| l.trim() == line || l.trim() == line.trim_start_matches('/'));
    let missing: Vec<&str> = lines.iter().copied().filter(|l| !has(l)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut text = old.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# repoctl: caches, build logs and packages (the work directory)\n");
    for line in &missing {
        text.push_str(line);
        text.push('\n');
    }
    write_whole(&path, &text)?;
    printer.info(&format!("{} {path}", if old.is_empty() { "wrote" } else { "added to" }));
    Ok(())
}

/// What to do after `init`: without AWS for a local repository.
fn next_steps(dir: &Utf8Path, local: bool) -> String {
    let config = dir.join("repo.yaml");
    if !local {
        return format!(
            "next: add packages with `repoctl add PKG` (or edit {config}, then run `repoctl update`) and read \
             the report (only the AUR commits it writes to repoctl.lock are built); set the repository variables AWS_ROLE_ARN and \
             AWS_REGION (and the secret REPOCTL_SIGNING_KEY if you sign), then commit repoctl.lock with the rest"
        );
    }
    let absolute = std::path::absolute(dir.join("repo"))
        .map_or_else(|_| dir.join("repo").to_string(), |p| p.to_string_lossy().into_owned());
    format!(
        "next: in {dir},\n  \
         repoctl add PKG   # lists PKG in repo.yaml, shows what it lets in, and locks it in repoctl.lock\n  \
         repoctl check     # repo.yaml, and that the AUR has every package\n  \
         repoctl build     # builds the locked commits in containers, writes the repository to {dir}/repo\n\
         pacman reads it with (in /etc/pacman.conf):\n  [myrepo]\n  SigLevel = Optional TrustAll\n  \
         Server = file://{absolute}",
        dir = dir,
    )
}

#[cfg(test)]
mod tests {
    use super::FILES;

    /// The install action pins the repoctl release that wrote it, and every workflow installs
    /// repoctl through that action: upgrading is one line.
    #[test]
    fn the_install_action_pins_this_version_and_every_workflow_uses_it() {
        let (_, action) = FILES.iter().find(|(p, _)| p.ends_with("install-repoctl/action.yml")).expect("action");
        let pinned = format!("REPOCTL_VERSION: \"{}\"", env!("CARGO_PKG_VERSION"));
        assert_eq!(action.matches("REPOCTL_VERSION: ").count(), 1, "one pin:\n{action}");
        assert!(action.contains(&pinned), "the action does not pin {pinned}");
        for (path, text) in FILES.iter().filter(|(p, _)| p.starts_with(".github/workflows/")) {
            assert!(text.contains("uses: ./.github/actions/install-repoctl"), "{path} does not use the install action");
            assert!(!text.contains("REPOCTL_VERSION"), "{path} pins a version of its own");
            assert!(!text.contains("-v1\n"), "{path} caches under a fixed key");
        }
    }

    /// `init --local`'s starter loads as a repository in `DIR/repo`, and lists nothing yet.
    #[test]
    fn the_local_starter_is_a_local_repository() {
        let (_, yaml) = super::LOCAL_FILES.iter().find(|(p, _)| *p == "repo.yaml").expect("repo.yaml");
        let config = crate::config::parse("dir/repo.yaml".into(), yaml.as_bytes()).expect("the starter loads");
        assert_eq!(config.target, crate::config::TargetConfig::Local { path: "dir/repo".into() });
        assert!(config.packages.is_empty());
        assert!(super::LOCAL_FILES.iter().all(|(p, _)| !p.starts_with(".github")));
    }

    /// `cargo install repoctl` installs another program: the crate of that name on crates.io
    /// is not ours. Nothing init writes installs a crate at all.
    #[test]
    fn nothing_init_writes_installs_a_crate() {
        for (path, text) in FILES.iter().chain(super::LOCAL_FILES) {
            assert!(!text.contains("cargo install"), "{path} runs cargo install");
        }
    }
}
