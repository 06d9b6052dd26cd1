//! `repoctl man [--out-dir DIR]`: the manual pages, made by clap_mangen from the same clap
//! definition as `--help` (roff, man-pages(7) section 1). repoctl(1) also gets the sections a
//! command-line definition cannot give: repo.yaml's keys (from its JSON Schema), exit status,
//! environment, files and examples.
use crate::error::{Error, ExitStatus};
use crate::ui::Printer;
use camino::Utf8Path;

/// Without `out_dir`: prints repoctl(1) on stdout. With it: writes repoctl.1 and one page per
/// subcommand (`repoctl-build.1`, ...; the pages repoctl(1) refers to) into that directory,
/// which must exist.
///
/// Errors: [`Error::Io`] naming the directory when a page cannot be written.
pub fn man(out_dir: Option<&Utf8Path>, printer: &Printer) -> Result<ExitStatus, Error> {
    // As clap_mangen::generate_to does: no `help` subcommand page, global flags propagated.
    let mut command = crate::cli::command().disable_help_subcommand(true);
    command.build();
    let page = main_page(command.clone())?;
    match out_dir {
        Some(dir) => {
            clap_mangen::generate_to(command, dir)
                .map_err(Error::io(format!("cannot write the manual pages into {dir}")))?;
            // repoctl.1 again, whole.
            let path = dir.join("repoctl.1");
            fs_err::write(&path, &page).map_err(Error::io(format!("cannot write the manual pages into {dir}")))?;
            printer.info(&format!("wrote the manual pages into {dir}"));
        }
        None => printer.out(&page),
    }
    Ok(ExitStatus::Success)
}

/// repoctl(1): clap_mangen's page with [`extra_sections`] before its own last ones (the
/// command's after-help, version, authors), in man-pages(7)'s order.
fn main_page(command: clap::Command) -> Result<String, Error> {
    let mut bytes = Vec::new();
    clap_mangen::Man::new(command).render(&mut bytes).map_err(Error::io("cannot render the manual page"))?;
    let page = String::from_utf8_lossy(&bytes).into_owned();
    let at = ["\n.SH EXTRA", "\n.SH VERSION"].iter().find_map(|s| page.find(s)).map_or(page.len(), |i| i + 1);
    Ok(format!("{}{}{}", &page[..at], extra_sections(), &page[at..]))
}

/// Text as roff reads it literally (hand-written: clap_mangen's `roff` is not a dependency of
/// ours): `\` and `-` escaped, a line starting with `.` or `'` made text (groff_man(7)).
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    escaped
        .lines()
        .map(|l| if l.starts_with(['.', '\'']) { format!("\\&{l}") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One `.TP` item: `term` in bold, then `text`.
fn item(term: &str, text: &str) -> String {
    format!(".TP\n\\fB{}\\fR\n{}\n", roff_text(term), roff_text(text))
}

/// REPO.YAML, EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES and SEE ALSO, as roff.
fn extra_sections() -> String {
    let mut out =
        String::from(".SH REPO.YAML\nThe keys repo.yaml may hold, from its JSON Schema (\\fBrepoctl schema\\fR):\n");
    for (key, text) in schema_keys() {
        out.push_str(&item(&key, &text));
    }
    out.push_str(".SH \"EXIT STATUS\"\n");
    for (code, text) in [
        ("0", "Everything asked for was done."),
        (
            "1",
            "Some package failed (build, publish), or for update: a package could not be read or locked, or with --check the lock would change.",
        ),
        (
            "2",
            "Invalid configuration or environment: repo.yaml (each problem at FILE:LINE:COL), Docker, the AUR, the target.",
        ),
        ("130", "Interrupted: containers removed, the repository as its last committed publish left it."),
    ] {
        out.push_str(&item(code, text));
    }
    out.push_str(".SH ENVIRONMENT\n");
    for (name, text) in [
        (
            crate::env::AUR_LOCATION,
            "The AUR to read (default https://aur.archlinux.org); any aurweb-compatible server.",
        ),
        (crate::env::WORK_DIR, "The work directory, as --work-dir."),
        (crate::env::SIGNING_KEY, "The ASCII-armored secret key that signs, when repo.yaml has sign:."),
        ("AWS_*", "The standard AWS credential chain, for an s3: target."),
    ] {
        out.push_str(&item(name, text));
    }
    out.push_str(".SH FILES\n");
    for (name, text) in [
        ("repo.yaml", "The repository: its name, target, builder and packages (--config)."),
        ("repoctl.lock", "Beside repo.yaml: the AUR commit of each pkgbase that build builds; moved by update."),
        (".repoctl/", "Beside repo.yaml: AUR clones, caches, per-run build logs and packages (--work-dir)."),
    ] {
        out.push_str(&item(name, text));
    }
    out.push_str(".SH EXAMPLES\n.nf\n");
    out.push_str(&roff_text(
        "repoctl init --local myrepo && cd myrepo   # a repository in ./repo\nrepoctl check\nrepoctl update        # review what each package lets in; it writes repoctl.lock\nrepoctl build\nrepoctl status\nrepoctl provenance PKG",
    ));
    out.push_str("\n.fi\n.SH \"SEE ALSO\"\n");
    out.push_str(&roff_text(
        "The user guide, docs/ in repoctl's source (an mdBook: mdbook build docs): getting started, every repo.yaml \
         key, the trust model, the GitHub workflows, operating a repository, and a troubleshooting section for each \
         kind of error, which every error names on its guide: line.",
    ));
    out.push('\n');
    out
}

/// Each key of repo.yaml's JSON Schema with its description: `name`, `builder.image`,
/// `packages[].nocheck`, ... (each level's keys in alphabetical order).
fn schema_keys() -> Vec<(String, String)> {
    let schema: serde_json::Value = serde_json::from_str(crate::config::JSON_SCHEMA).unwrap_or_default();
    let mut keys = Vec::new();
    collect_keys(&schema, "", &mut keys);
    keys
}

fn collect_keys(node: &serde_json::Value, prefix: &str, keys: &mut Vec<(String, String)>) {
    let Some(properties) = node.get("properties").and_then(|p| p.as_object()) else { return };
    for (name, value) in properties {
        let key = format!("{prefix}{name}");
        let text = value.get("description").and_then(|d| d.as_str()).unwrap_or_default();
        keys.push((key.clone(), text.to_string()));
        collect_keys(value, &format!("{key}."), keys);
        let entry = value.pointer("/items/oneOf/1").or_else(|| value.get("items"));
        if let Some(entry) = entry {
            collect_keys(entry, &format!("{key}[]."), keys);
        }
    }
}
