//! `repoctl add PKG…`: lists AUR packages in repo.yaml and locks them, with the AUR packages
//! they need, in one step (issue 29, "Tried as a new user would": `update PKG` alone locked a
//! package repo.yaml did not list yet, and a new user had to edit the file first).
//!
//! repo.yaml is edited as text, not re-serialised, so its comments, order and style stay as the
//! user wrote them: each name goes after the last entry of `packages:`, in that list's style
//! (`- NAME` lines or `[a, b]`). The edited text is parsed again and must say exactly what it
//! said before plus the new names, or nothing is written. Then `update NAME…` runs as usual (the
//! same report, flags, cooldown and holds); when it fails (a name the AUR does not have, say),
//! repo.yaml is put back as it was.
use crate::config::Config;
use crate::error::{Error, ExitStatus};
use crate::ui::{Printer, Reporter};
use camino::{Utf8Path, Utf8PathBuf};

pub async fn add(
    config_path: &Utf8Path,
    work_dir: Option<Utf8PathBuf>,
    names: &[String],
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let unique = new_names(&config, names)?;
    on_the_aur(&unique).await?;
    let text = fs_err::read_to_string(&config.path).map_err(Error::io(format!("cannot read {}", config.path)))?;
    let edited = with_packages(&text, &config, &unique).ok_or_else(|| {
        Error::Usage(format!(
            "cannot find where to add to `packages:` in {}: add `- {}` to the list by hand, then run `repoctl update {}`",
            config.path,
            unique.join("` and `- "),
            unique.join(" ")
        ))
    })?;
    check_edit(&config, &edited, &unique)?;
    write(&config.path, &edited)?;
    printer.step(&format!(
        "added {} to {}; locking with what {} need",
        unique.join(", "),
        config.path,
        names_word(&unique)
    ));
    let options = super::update::Options { packages: unique.clone(), ..Default::default() };
    match super::update::update(config_path, work_dir, options, printer).await {
        Ok(status) => Ok(status),
        Err(e) => {
            write(&config.path, &text)?;
            printer.error(&format!("{} is as it was: {} not added", config.path, unique.join(", ")));
            Err(e)
        }
    }
}

/// `names`, each once, in order. Errors: one is not a package name, or repo.yaml lists it.
fn new_names(config: &Config, names: &[String]) -> Result<Vec<String>, Error> {
    let mut unique: Vec<String> = Vec::new();
    for name in names {
        if let Err(why) = crate::config::check_package_name(name) {
            return Err(Error::Usage(format!("`{name}` is not a package name: {why}")));
        }
        if let Some(listed) = config.package(name) {
            return Err(Error::Usage(format!(
                "{name} is already listed at {}:{}; `repoctl update {name}` moves its lock",
                config.path, listed.pos.line
            )));
        }
        if !unique.contains(name) {
            unique.push(name.clone());
        }
    }
    Ok(unique)
}

/// Asks the AUR for `names` (pkgnames), so that a name it does not have is said before
/// repo.yaml changes. Errors: one is missing (named), or the AUR cannot be asked.
async fn on_the_aur(names: &[String]) -> Result<(), Error> {
    let aur = crate::aur::AurClient::from_env()?;
    let (found, _) = aur.info(names).await?;
    let missing: Vec<&str> = names.iter().filter(|n| !found.contains_key(*n)).map(String::as_str).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let verb = if missing.len() == 1 { "is" } else { "are" };
    Err(Error::Usage(format!(
        "{} {verb} not on the AUR at {}: nothing was added (check the spelling; a split package is added by one of its pkgnames)",
        missing.join(", "),
        aur.base()
    )))
}

fn names_word(names: &[String]) -> &'static str {
    if names.len() == 1 { "it" } else { "they" }
}

/// The edited text must parse to the same repo.yaml with `names` appended to its packages, in
/// that order. Errors: it does not (nothing is written).
fn check_edit(config: &Config, edited: &str, names: &[String]) -> Result<(), Error> {
    let fail = |why: String| {
        Error::Usage(format!(
            "adding to {} by hand is safer here ({why}): add `- {}` under `packages:`",
            config.path,
            names.join("` and `- ")
        ))
    };
    let reparsed = crate::config::parse(&config.path, edited.as_bytes()).map_err(|d| fail(d.to_string()))?;
    let (old, new) = reparsed.packages.split_at(config.packages.len().min(reparsed.packages.len()));
    let added: Vec<&str> = new.iter().map(|p| p.name.as_str()).collect();
    let same = Config { packages: old.to_vec(), ..reparsed.clone() } == *config;
    if !same || added != names.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(fail(format!("the edit would list {added:?}")));
    }
    Ok(())
}

/// `text` with `names` appended to its `packages:` list, in the list's style: after the last
/// entry (and the lines that continue it) for a block list, before the closing `]` of a flow
/// list, or into an empty `[]`. None when the list's shape is not one of those.
fn with_packages(text: &str, config: &Config, names: &[String]) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let offset = |line: usize| lines[..line].iter().map(|l| l.len()).sum::<usize>();
    let Some(last) = config.packages.iter().max_by_key(|p| (p.pos.line, p.pos.col)) else {
        // `packages: []`: the only empty list repo.yaml accepts.
        let at = lines.iter().position(|l| l.starts_with("packages:") && l.contains("[]"))?;
        let start = offset(at) + lines[at].find("[]")?;
        return Some(format!("{}[{}]{}", &text[..start], names.join(", "), &text[start + 2..]));
    };
    let line_idx = usize::try_from(last.pos.line).ok()?.checked_sub(1)?;
    let line = *lines.get(line_idx)?;
    let col = usize::try_from(last.pos.col).ok()?.checked_sub(1)?.min(line.len());
    let before = line.get(..col)?.trim_end();
    if let Some(dash_col) = dash_of(&lines, line_idx, col) {
        let dash = " ".repeat(dash_col);
        // The entry goes on as long as lines are indented past its dash (a mapping's keys).
        let mut end = line_idx;
        for (i, l) in lines.iter().enumerate().skip(line_idx + 1) {
            let content = l.trim_start();
            if content.trim().is_empty() || content.starts_with('#') {
                continue;
            }
            if l.len() - content.len() <= dash_col {
                break;
            }
            end = i;
        }
        let at = offset(end + 1);
        let newline = if text[..at].ends_with('\n') { "" } else { "\n" };
        let added: String = names.iter().map(|n| format!("{dash}- {n}\n")).collect();
        return Some(format!("{}{newline}{added}{}", &text[..at], &text[at..]));
    }
    if before.ends_with('[') || before.ends_with(',') {
        let from = offset(line_idx) + col;
        let close = from + text[from..].find(']')?;
        let added: String = names.iter().map(|n| format!(", {n}")).collect();
        return Some(format!("{}{added}{}", text[..close].trim_end(), &text[close..]));
    }
    None
}

/// The column (0-based) of the `- ` that starts the block-list entry whose name is at
/// `lines[line]`, column `col` (0-based): on that line (`- yay`, `- name: paru`), or on a line
/// above it when the name is a later key of the entry's mapping. None: not a block list.
fn dash_of(lines: &[&str], line: usize, col: usize) -> Option<usize> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let is_dash = |l: &str| l.trim_start().starts_with("- ") || l.trim() == "-";
    let at = (0..=line).rev().find(|&i| is_dash(lines[i]))?;
    let dash = indent(lines[at]);
    let between = lines[at + 1..=line].iter().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    (dash < col && between.into_iter().all(|l| indent(l) > dash)).then_some(dash)
}

/// Writes `text` to `path` through a temporary file beside it, renamed over it.
fn write(path: &Utf8Path, text: &str) -> Result<(), Error> {
    let dir = path.parent().filter(|d| !d.as_str().is_empty()).unwrap_or(Utf8Path::new("."));
    let err = || Error::io(format!("cannot write {path}"));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(err())?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(err())?;
    file.persist(path).map_err(|e| err()(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(text: &str, names: &[&str]) -> Option<String> {
        let config = crate::config::parse(Utf8Path::new("repo.yaml"), text.as_bytes()).unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let edited = with_packages(text, &config, &names)?;
        check_edit(&config, &edited, &names).unwrap();
        Some(edited)
    }

    #[test]
    fn names_go_after_the_last_entry_in_the_lists_own_style() {
        let block = "name: r\nlocal:\n  path: ./repo\npackages:\n  - yay\n  - name: paru\n    nocheck: true\n\n# trailing note\n";
        insta::assert_snapshot!(add(block, &["hello", "foo-bin"]).unwrap(), @r"
        name: r
        local:
          path: ./repo
        packages:
          - yay
          - name: paru
            nocheck: true
          - hello
          - foo-bin

        # trailing note
        ");
        let flow = "name: r\nlocal:\n  path: ./repo\npackages: [yay, paru]  # mine\n";
        insta::assert_snapshot!(add(flow, &["hello"]).unwrap(), @"
        name: r
        local:
          path: ./repo
        packages: [yay, paru, hello]  # mine
        ");
        let unindented = "name: r\nlocal:\n  path: ./repo\npackages:\n- yay\ntrust:\n  min_age: 1d\n";
        insta::assert_snapshot!(add(unindented, &["hello"]).unwrap(), @"
        name: r
        local:
          path: ./repo
        packages:
        - yay
        - hello
        trust:
          min_age: 1d
        ");
        let later_key = "name: r\nlocal:\n  path: ./repo\npackages:\n  - nocheck: true\n    name: paru\n";
        assert_eq!(add(later_key, &["hello"]).unwrap(), format!("{later_key}  - hello\n"));
        let empty = "name: r\nlocal:\n  path: ./repo\npackages: []\n";
        assert_eq!(add(empty, &["hello"]).unwrap(), "name: r\nlocal:\n  path: ./repo\npackages: [hello]\n");
        let no_newline = "name: r\nlocal:\n  path: ./repo\npackages:\n  - yay";
        assert_eq!(add(no_newline, &["hello"]).unwrap(), format!("{no_newline}\n  - hello\n"));
    }
}
