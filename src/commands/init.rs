//! `repoctl init [DIR]`: a starter repo.yaml, its JSON Schema, and the GitHub workflows.
use crate::error::{Error, ExitStatus};
use crate::ui::Printer;
use camino::Utf8Path;

/// What `init` writes, relative to DIR, and the embedded text.
pub const FILES: &[(&str, &str)] = &[
    ("repo.yaml", include_str!("../../templates/repo.yaml")),
    ("repo.schema.json", crate::config::JSON_SCHEMA),
    (".github/workflows/repoctl-nightly.yml", include_str!("../../templates/workflows/repoctl-nightly.yml")),
    (".github/workflows/repoctl-pr.yml", include_str!("../../templates/workflows/repoctl-pr.yml")),
    // The one place the workflows' repoctl release is pinned (and verified).
    (".github/actions/install-repoctl/action.yml", include_str!("../../templates/actions/install-repoctl/action.yml")),
];

pub fn init(dir: &Utf8Path, force: bool, printer: &Printer) -> Result<ExitStatus, Error> {
    let existing: Vec<&str> = FILES.iter().map(|(p, _)| *p).filter(|p| dir.join(p).exists()).collect();
    if !existing.is_empty() && !force {
        return Err(Error::Usage(format!(
            "{} already exist(s) in {dir}; nothing was written. Re-run with --force to overwrite them",
            existing.join(", ")
        )));
    }
    for (path, text) in FILES {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(Error::io(format!("cannot create {parent}")))?;
        }
        // Write then rename: an interrupted init leaves no half-written file.
        let tmp = path.with_extension("repoctl-tmp");
        fs_err::write(&tmp, text).map_err(Error::io(format!("cannot write {tmp}")))?;
        fs_err::rename(&tmp, &path).map_err(Error::io(format!("cannot write {path}")))?;
        printer.info(&format!("wrote {path}"));
    }
    printer.out(&format!(
        "next: edit {}, run `repoctl check`, then `repoctl update` and read its report (only the AUR \
         commits it writes to repoctl.lock are built); set the repository variables AWS_ROLE_ARN and \
         AWS_REGION (and the secret REPOCTL_SIGNING_KEY if you sign), then commit repoctl.lock with the rest",
        dir.join("repo.yaml")
    ));
    Ok(ExitStatus::Success)
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

    /// `cargo install repoctl` installs another program: the crate of that name on crates.io
    /// is not ours. Nothing init writes installs a crate at all.
    #[test]
    fn nothing_init_writes_installs_a_crate() {
        for (path, text) in FILES {
            assert!(!text.contains("cargo install"), "{path} runs cargo install");
        }
    }
}
