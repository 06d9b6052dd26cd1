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
    /// The workflows install the repoctl release that wrote them.
    #[test]
    fn workflow_templates_pin_this_version() {
        for (path, text) in super::FILES.iter().filter(|(p, _)| p.ends_with(".yml")) {
            let pinned = format!("REPOCTL_VERSION: \"{}\"", env!("CARGO_PKG_VERSION"));
            assert!(text.contains(&pinned), "{path} does not pin {pinned}");
            assert!(!text.contains("-v1\n"), "{path} caches under a fixed key");
        }
    }
}
