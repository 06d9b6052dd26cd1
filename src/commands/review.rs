//! `repoctl review --base OLD.yaml`: what a change to repo.yaml lets in. For each package it
//! adds or changes: the AUR packages it pulls in, who maintains them on the AUR and when they
//! last changed, and a link to the PKGBUILD at the exact commit a build would use.
use crate::aur::{AurClient, GitClone};
use crate::config::{Config, PackageConfig};
use crate::error::{Error, ExitStatus};
use crate::plan::Inputs;
use crate::ui::Printer;
use crate::ui::escape::{markdown_cell, markdown_code_span, markdown_text, terminal};
use crate::ui::github::markdown_table;
use crate::ui::mermaid::{Node, flowchart};
use camino::{Utf8Path, Utf8PathBuf};
use std::fmt::Write as _;

/// One AUR pkgbase a reviewer should look at.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reviewed {
    pub pkgbase: String,
    /// Every pkgname it makes (its `.SRCINFO`), all of which a build publishes.
    pub pkgnames: Vec<String>,
    pub version: String,
    /// Dependencies it was chosen for through its `provides` (`engine (needed by app)`): no
    /// package of that name exists, and this is the one AUR package that provides it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chosen_through_provides: Vec<String>,
    pub maintainer: Option<String>,
    /// Seconds since the epoch, as the AUR reports it.
    pub last_modified: i64,
    /// The AUR commit a build uses: the one repoctl.lock names; the AUR's head when the lock
    /// does not name one (then `build` does not build it: see `locked`).
    pub commit: String,
    /// repoctl.lock names the commit; false: `build` skips it until `repoctl update` locks it.
    pub locked: bool,
    pub pkgbuild_url: String,
    /// The AUR pkgbases it needs directly (the plan's dependency edges).
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    /// The name as written in repo.yaml.
    pub name: String,
    /// "added" or "changed".
    pub change: &'static str,
    pub package: Reviewed,
    /// AUR packages it needs, directly or not (official-repository packages are not listed).
    pub aur_dependencies: Vec<Reviewed>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Review {
    /// Names to pass to `repoctl build --no-publish`: the entries added or changed.
    pub build: Vec<String>,
    pub entries: Vec<Entry>,
    /// Entries of BASE that are gone: they let nothing in; `build` takes them (and what only
    /// they needed) out of the repository.
    pub removed: Vec<String>,
}

/// `--base PATH`: the repo.yaml before the change.
pub struct Base<'a> {
    pub path: &'a Utf8Path,
    /// `--base-may-be-missing`: a missing file is read as a repo.yaml with no packages.
    pub may_be_missing: bool,
}

pub async fn review(
    config_path: &Utf8Path,
    base_path: Base<'_>,
    work_dir: Option<Utf8PathBuf>,
    json: bool,
    printer: &Printer,
) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let base = load_base(base_path, &config, printer)?;
    let changes = changed_entries(&config, &base);
    let work = super::work_dir(&config, work_dir);
    let aur = AurClient::from_env()?;
    let cache = work.join("aur");
    let official = super::official_repos(&config, &work, printer).await?;
    // The pull request's lock: what its `build` would build.
    let lock = super::read_lock(&config)?;
    let local = super::git_packages::local_and_git(&config, &work, printer, &lock).await?;
    let (universe, _patched) =
        super::patches::resolve_locked(&config, &aur, (&official, &[]), &work, &lock, &local, printer).await?;
    let no_mismatches = Default::default();
    let inputs = |only: &[String]| -> Result<crate::plan::Plan, crate::plan::PlanError> {
        crate::plan::make(&Inputs {
            config: &config,
            universe: &universe,
            repo: &[],
            only,
            mismatches: &no_mismatches,
            lock: &lock,
        })
    };
    // Problems (an unknown name, a dependency nothing or several packages provide) are what a
    // reviewer must see first: they stop the review as they stop `check`.
    let diags = super::plan_diagnostics(&config, &inputs(&[])?);
    if !diags.0.is_empty() {
        return Err(diags.into());
    }

    let mut entries = Vec::new();
    for (entry, change) in &changes {
        let only = [entry.name.clone()];
        let plan = inputs(&only)?;
        let Some(root) = plan.packages.last() else { continue };
        let package = describe(&aur, &universe, root, &cache, &lock, printer).await?;
        let mut aur_dependencies = Vec::new();
        for dep in plan.closure(&root.pkgbase) {
            let Some(step) = plan.step(&dep) else { continue };
            aur_dependencies.push(describe(&aur, &universe, step, &cache, &lock, printer).await?);
        }
        entries.push(Entry { name: entry.name.clone(), change, package, aur_dependencies });
    }
    let removed = base.iter().filter(|b| config.package(&b.name).is_none()).map(|b| b.name.clone()).collect();
    let review = Review { build: entries.iter().map(|e| e.name.clone()).collect(), entries, removed };
    if json {
        printer.out(&serde_json::to_string_pretty(&review).map_err(|e| Error::Usage(e.to_string()))?);
    } else {
        printer.out(&render_text(&review));
    }
    printer.step_summary(&render_markdown(&review));
    Ok(ExitStatus::Success)
}

/// The entries of BASE. A pull request that creates repo.yaml has no base version: with
/// `--base-may-be-missing` every entry is then new, and the output says so. Without it a missing
/// file is an error: a mistyped path would otherwise review everything as added and pass.
fn load_base(base: Base<'_>, config: &Config, printer: &Printer) -> Result<Vec<PackageConfig>, Error> {
    let path = base.path;
    if path.exists() {
        return Ok(super::load_config(path)?.packages);
    }
    if !base.may_be_missing {
        return Err(Error::Usage(format!(
            "--base {path} does not exist\n  hint: name the repo.yaml before the change; when there was none (a pull \
             request that creates repo.yaml), add --base-may-be-missing to review every entry as added"
        )));
    }
    printer.info(&format!("{path} does not exist: every entry of {} is reviewed as added", config.path));
    Ok(Vec::new())
}

/// Entries of `config` that `base` does not have, or has with other settings.
fn changed_entries<'a>(config: &'a Config, base: &[PackageConfig]) -> Vec<(&'a PackageConfig, &'static str)> {
    config
        .packages
        .iter()
        .filter_map(|p| match base.iter().find(|b| b.name == p.name) {
            None => Some((p, "added")),
            // Any setting (nocheck, limits, vcs, pgp_keys, network, ...): a key added to pgp_keys is
            // trust given to whoever holds it. Compared, wherever the entry moved in the file.
            Some(b) if PackageConfig { pos: p.pos, ..b.clone() } != *p => Some((p, "changed")),
            Some(_) => None,
        })
        .collect()
}

/// One pkgbase as a reviewer should see it, at the commit `build` would use: the one the lock
/// names (the AUR's head only when it names none, which the review then says).
async fn describe(
    aur: &AurClient,
    universe: &crate::aur::Universe,
    step: &crate::plan::Step,
    cache: &Utf8Path,
    lock: &crate::lock::Lock,
    printer: &Printer,
) -> Result<Reviewed, Error> {
    let pkgbase = step.pkgbase.as_str();
    let info = universe.packages.values().find(|p| p.pkgbase == pkgbase);
    // What a build would use: the locked commit; a pkgbase not locked yet is shown at the
    // AUR's head (and marked so).
    // A `path:` package (issue 27) is the pull request's own files: its PKGBUILD is beside
    // repo.yaml, and the lock names it by its files' digest.
    if let Some(local) = &step.local {
        let files = lock.entries.get(pkgbase).map(|e| e.files.clone()).unwrap_or_default();
        let digest = files.strip_prefix(crate::trust::tree::DIGEST_PREFIX).unwrap_or(&files).to_string();
        return Ok(Reviewed::of(step, lock, digest, format!("{}/PKGBUILD", local.written)));
    }
    if let Some(git) = &step.git {
        return Ok(git_reviewed(step, git, lock));
    }
    let commit = match lock.entries.get(pkgbase) {
        Some(entry) => entry.commit.clone(),
        None => {
            let waiting = |line: &str| printer.info(line);
            let clone = GitClone::open(&aur.git_url(pkgbase), &cache.join(pkgbase), &waiting)
                .await
                .map_err(|e| Error::Aur(e.into()))?;
            clone.head().to_string()
        }
    };
    let url = format!("{}/cgit/aur.git/tree/PKGBUILD?h={pkgbase}&id={commit}", aur.base());
    Ok(Reviewed {
        maintainer: info.and_then(|p| p.maintainer.clone()),
        last_modified: info.map_or(0, |p| p.last_modified),
        ..Reviewed::of(step, lock, commit, url)
    })
}

impl Reviewed {
    /// The plan's `step` as reviewed at `commit` (what locks it), its PKGBUILD at
    /// `pkgbuild_url`; no AUR maintainer or time (an AUR package sets them).
    fn of(step: &crate::plan::Step, lock: &crate::lock::Lock, commit: String, pkgbuild_url: String) -> Reviewed {
        Reviewed {
            pkgbase: step.pkgbase.clone(),
            pkgnames: step.pkgnames.clone(),
            version: step.aur_version.clone().unwrap_or_default(),
            chosen_through_provides: step.provides_for.clone(),
            maintainer: None,
            last_modified: 0,
            pkgbuild_url,
            locked: lock.entries.contains_key(&step.pkgbase),
            commit,
            depends_on: step.depends_on.clone(),
        }
    }
}

/// A `git:` package (issue 27): its repository and the locked commit; its history is the
/// repository's, not the AUR's.
fn git_reviewed(step: &crate::plan::Step, git: &crate::config::GitSource, lock: &crate::lock::Lock) -> Reviewed {
    let subdir = git.subdir.as_ref().map_or(String::new(), |d| format!("{d}/"));
    let commit = lock.entries.get(&step.pkgbase).map(|e| e.commit.clone()).unwrap_or_default();
    Reviewed::of(step, lock, commit, format!("{}: {subdir}PKGBUILD", git.url))
}

/// What the review says of a pkgbase the lock does not name.
fn not_locked(r: &Reviewed) -> &'static str {
    if r.locked { "" } else { " (not locked: the AUR's head; `build` skips it until `repoctl update` locks it)" }
}

fn maintainer(r: &Reviewed) -> &str {
    r.maintainer.as_deref().unwrap_or("(orphaned)")
}

/// The review for a terminal, shown with [`terminal`]: versions, maintainers and dependency
/// strings are AUR text.
fn render_text(review: &Review) -> String {
    terminal(&plain_text(review))
}

fn plain_text(review: &Review) -> String {
    let mut out = String::new();
    if !review.removed.is_empty() {
        let _ = writeln!(out, "removed: {} (lets nothing in)", review.removed.join(", "));
    }
    if review.entries.is_empty() {
        out.push_str("no package added or changed\n");
        return out;
    }
    for e in &review.entries {
        let p = &e.package;
        let _ = writeln!(out, "{} ({}): {} {}", e.name, e.change, p.pkgbase, p.version);
        if p.pkgnames.len() > 1 || p.pkgnames.first() != Some(&p.pkgbase) {
            let _ = writeln!(out, "  pkgnames: {}", p.pkgnames.join(" "));
        }
        let _ = writeln!(out, "  AUR maintainer: {}, last updated {}", maintainer(p), utc_date(p.last_modified));
        let _ = writeln!(out, "  PKGBUILD: {}{}", p.pkgbuild_url, not_locked(p));
        if e.aur_dependencies.is_empty() {
            let _ = writeln!(out, "  AUR dependencies: none");
        } else {
            let _ = writeln!(out, "  AUR dependencies:");
            for d in &e.aur_dependencies {
                let _ = writeln!(
                    out,
                    "    {} {} (maintainer {}, updated {}) {}{}",
                    d.pkgbase,
                    d.version,
                    maintainer(d),
                    utc_date(d.last_modified),
                    d.pkgbuild_url,
                    not_locked(d)
                );
                if d.pkgnames.len() > 1 || d.pkgnames.first() != Some(&d.pkgbase) {
                    let _ = writeln!(out, "      pkgnames: {}", d.pkgnames.join(" "));
                }
                for why in &d.chosen_through_provides {
                    let _ = writeln!(out, "      chosen through provides: {why}");
                }
            }
        }
    }
    out
}

fn render_markdown(review: &Review) -> String {
    let mut out = String::from("### What this change lets in\n\n");
    if !review.removed.is_empty() {
        let names: Vec<String> = review.removed.iter().map(|n| markdown_code_span(n)).collect();
        let _ = writeln!(out, "Removed: {} (lets nothing in).\n", names.join(", "));
    }
    if review.entries.is_empty() {
        out.push_str("No package added or changed.\n");
        return out;
    }
    let mut rows = Vec::new();
    for e in &review.entries {
        let entry = std::iter::once((&e.package, markdown_text(e.change)));
        let dependencies =
            e.aur_dependencies.iter().map(|d| (d, format!("dependency of {}", markdown_code_span(&e.name))));
        for (r, mut via) in entry.chain(dependencies) {
            for why in &r.chosen_through_provides {
                via.push_str(&format!("; chosen through provides: {}", markdown_text(why)));
            }
            if r.pkgnames.len() > 1 || r.pkgnames.first() != Some(&r.pkgbase) {
                via.push_str(&format!("; makes {}", markdown_text(&r.pkgnames.join(", "))));
            }
            rows.push(vec![
                markdown_code_span(&r.pkgbase),
                via,
                markdown_cell(&r.version),
                markdown_cell(maintainer(r)),
                markdown_cell(&utc_date(r.last_modified)),
                pkgbuild_link(r),
            ]);
        }
    }
    let header = ["Package", "Why", "Version", "AUR maintainer", "Last updated", "PKGBUILD"];
    out.push_str(&markdown_table(&header, &rows));
    out.push_str("\n#### AUR dependencies\n\n");
    out.push_str(&dependency_graph(review));
    out
}

/// `[PKGBUILD @ 0123456789ab](URL)`: the URL is made of the AUR's address, a pkgbase (a
/// checked name) and a commit id, so only its text is escaped.
fn pkgbuild_link(r: &Reviewed) -> String {
    let label = markdown_text(&format!("PKGBUILD @ {}", &r.commit[..r.commit.len().min(12)]));
    format!("[{label}]({}){}", r.pkgbuild_url.replace(['(', ')', ' '], ""), markdown_text(not_locked(r)))
}

/// The added and changed entries and every AUR package they pull in, as one Mermaid
/// flowchart (an arrow from a package to each AUR package it needs): the same packages and
/// edges as the table and `--json`, each pkgbase once however many entries need it.
fn dependency_graph(review: &Review) -> String {
    let mut nodes: Vec<Node> = Vec::new();
    let mut needs: Vec<(&str, &str)> = Vec::new();
    for e in &review.entries {
        for (r, entry) in std::iter::once((&e.package, true)).chain(e.aur_dependencies.iter().map(|d| (d, false))) {
            match nodes.iter_mut().find(|n| n.label == r.pkgbase) {
                Some(node) => node.entry |= entry,
                None => nodes.push(Node { label: r.pkgbase.clone(), entry }),
            }
            for dep in &r.depends_on {
                if !needs.contains(&(r.pkgbase.as_str(), dep.as_str())) {
                    needs.push((&r.pkgbase, dep));
                }
            }
        }
    }
    let index = |pkgbase: &str| nodes.iter().position(|n| n.label == pkgbase);
    let edges: Vec<(usize, usize)> = needs.iter().filter_map(|(from, to)| Some((index(from)?, index(to)?))).collect();
    flowchart(&nodes, &edges)
}

/// `YYYY-MM-DD HH:MM UTC` from seconds since the epoch (proleptic Gregorian calendar).
pub fn utc_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc_date(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_date(1_795_525_200), "2026-11-24 13:00 UTC");
    }

    fn reviewed(pkgbase: &str, depends_on: &[&str]) -> Reviewed {
        Reviewed {
            pkgbase: pkgbase.into(),
            pkgnames: vec![pkgbase.into()],
            version: "1.0-1".into(),
            chosen_through_provides: Vec::new(),
            maintainer: Some("keeper".into()),
            last_modified: 1_795_525_200,
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            locked: true,
            pkgbuild_url: format!("https://aur.example/cgit/aur.git/tree/PKGBUILD?h={pkgbase}&id=0123456789ab"),
            depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
        }
    }

    /// Two added entries that share an AUR dependency: the table lists it under each, the
    /// graph draws it once with an arrow from each.
    #[test]
    fn the_review_markdown_is_pinned() {
        let entry = |name: &str, change, package, deps| Entry {
            name: String::from(name),
            change,
            package,
            aur_dependencies: deps,
        };
        let review = Review {
            build: vec!["foo-app".into(), "bar+qt".into()],
            entries: vec![
                entry(
                    "foo-app",
                    "added",
                    reviewed("foo-app", &["libfoo"]),
                    vec![reviewed("libfoo", &["lib.base"]), reviewed("lib.base", &[])],
                ),
                entry(
                    "bar+qt",
                    "changed",
                    reviewed("bar+qt", &["libfoo"]),
                    vec![reviewed("libfoo", &["lib.base"]), reviewed("lib.base", &[])],
                ),
            ],
            removed: vec!["old".into()],
        };
        insta::assert_snapshot!("review_markdown", render_markdown(&review));
    }

    /// AUR text that would hide the rows after it, or drive a terminal, is shown as text.
    #[test]
    fn the_review_shows_hostile_aur_text_as_text() {
        let mut package = reviewed("foo", &[]);
        package.version = "1.0-1<!--".into();
        package.maintainer = Some("mallory\u{1b}[2K\u{1b}[1A\r`x`|[x](javascript:alert(1))".into());
        package.chosen_through_provides = vec!["codec (needed by <details>)-->".into()];
        let review = Review {
            build: vec!["foo".into()],
            entries: vec![Entry { name: "foo".into(), change: "added", package, aur_dependencies: vec![] }],
            removed: vec![],
        };
        let md = render_markdown(&review);
        for raw in ["<!--", "-->", "<details>", "[x](", "\u{1b}", "\r"] {
            assert!(!md.contains(raw), "{raw:?} is raw in:\n{md}");
        }
        let text = render_text(&review);
        assert!(!text.contains(['\u{1b}', '\r']), "{text:?}");
        insta::assert_snapshot!("review_markdown_hostile", md);
        insta::assert_snapshot!("review_text_hostile", text);
    }

    #[test]
    fn added_and_changed_entries_are_found_by_name_and_settings() {
        let config = crate::config::parse(
            Utf8Path::new("repo.yaml"),
            b"name: r\npackages:\n  - same\n  - new\n  - {name: flipped, nocheck: true}\n  - {name: longer, timeout: 5h}\n",
        )
        .unwrap();
        let base =
            crate::config::parse(Utf8Path::new("base.yaml"), b"name: r\npackages: [same, flipped, longer, dropped]\n")
                .unwrap();
        let got: Vec<(String, &str)> =
            changed_entries(&config, &base.packages).into_iter().map(|(p, c)| (p.name.clone(), c)).collect();
        assert_eq!(
            got,
            [("new".to_string(), "added"), ("flipped".to_string(), "changed"), ("longer".to_string(), "changed")]
        );
    }
}
