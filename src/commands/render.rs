//! The plan as people read it: the terminal table and the job summary's Markdown. Here, above
//! `plan`, because `ui` is a leaf that knows nothing of plans.
use crate::plan::{Action, Plan, Step};
use crate::ui::escape::{markdown_cell, markdown_code_span, markdown_text};
use crate::ui::table;

/// The pkgbase, and its pkgnames when they are not just the pkgbase: `toolkit (toolkit-cli,
/// python-toolkit)`.
fn package_cell(s: &Step) -> String {
    if s.pkgnames.len() == 1 && s.pkgnames[0] == s.pkgbase || s.pkgnames.is_empty() {
        s.pkgbase.clone()
    } else {
        format!("{} ({})", s.pkgbase, s.pkgnames.join(", "))
    }
}

/// The reason; for an AUR dependency, who needs it, or what it was chosen for through
/// `provides` (a listed package is the user's own choice: it just provides).
fn reason_cell(s: &Step) -> String {
    let mut reason = s.reason.to_string();
    let via = if s.listed { "provides" } else { "chosen through provides" };
    for why in &s.provides_for {
        reason.push_str(&format!("; {via}: {why}"));
    }
    let said = matches!(s.reason, crate::plan::Reason::GoneNeeded { .. });
    if !s.listed && !said && s.provides_for.is_empty() && !s.needed_by.is_empty() {
        reason.push_str(&format!("; needed by {}", s.needed_by.join(", ")));
    }
    reason
}

/// The version the lock gives `s` (the `.SRCINFO` at its locked commit): what `build` builds.
/// None for a pkgbase the lock does not name, whose AUR version nothing would build.
fn locked_version(s: &Step) -> Option<&str> {
    (s.reason != crate::plan::Reason::NotLocked).then_some(s.aur_version.as_deref()).flatten()
}

pub fn render_plan(plan: &Plan) -> String {
    if plan.packages.is_empty() {
        return "nothing to do: repo.yaml lists no packages\n".into();
    }
    let rows: Vec<Vec<String>> = plan
        .packages
        .iter()
        .map(|s| {
            vec![
                package_cell(s),
                s.action.to_string(),
                locked_version(s).unwrap_or("-").to_string(),
                s.repo_version.clone().unwrap_or_else(|| "-".into()),
                reason_cell(s),
            ]
        })
        .collect();
    let count = |a: Action| plan.packages.iter().filter(|s| s.action == a).count();
    let blocked = match count(Action::Blocked) {
        0 => String::new(),
        n => format!(", {n} blocked"),
    };
    let not_locked = plan.not_locked().count();
    let unlocked = match not_locked {
        0 => String::new(),
        n => format!(", {n} not locked"),
    };
    format!(
        "{}\n{} to build, {} up to date, {} to remove{blocked}{unlocked}\n",
        table(&["PKGBASE", "ACTION", "LOCKED", "REPOSITORY", "REASON"], &rows).trim_end(),
        count(Action::Build),
        count(Action::Skip) - not_locked,
        count(Action::Remove)
    )
}

/// The plan as a Markdown table, for the GitHub job summary.
pub fn markdown_plan(plan: &Plan, title: &str) -> String {
    let rows: Vec<Vec<String>> = plan
        .packages
        .iter()
        .map(|s| {
            let names = package_cell(s);
            let rest = names.strip_prefix(s.pkgbase.as_str()).unwrap_or_default();
            vec![
                format!("{}{}", markdown_code_span(&s.pkgbase), markdown_text(rest)),
                markdown_cell(&s.action.to_string()),
                markdown_cell(locked_version(s).unwrap_or_default()),
                markdown_cell(s.repo_version.as_deref().unwrap_or_default()),
                markdown_cell(&reason_cell(s)),
            ]
        })
        .collect();
    if rows.is_empty() {
        return format!("### {title}\n\nrepo.yaml lists no packages.\n");
    }
    format!(
        "### {title}\n\n{}",
        crate::ui::github::markdown_table(
            &["Package", "Action", "Locked version", "Repository version", "Reason"],
            &rows
        )
    )
}
