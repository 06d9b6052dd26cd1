//! Text tables for the plan and the end-of-run summary.
use crate::plan::{Action, Plan, Step};

/// Formats rows as aligned columns under a header.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

/// The pkgbase, and its pkgnames when they are not just the pkgbase: `toolkit (toolkit-cli,
/// python-toolkit)`.
fn package_cell(s: &Step) -> String {
    if s.pkgnames.len() == 1 && s.pkgnames[0] == s.pkgbase || s.pkgnames.is_empty() {
        s.pkgbase.clone()
    } else {
        format!("{} ({})", s.pkgbase, s.pkgnames.join(", "))
    }
}

/// The reason, and the dependencies the step was chosen for through `provides`.
fn reason_cell(s: &Step) -> String {
    let mut reason = s.reason.to_string();
    for why in &s.provides_for {
        reason.push_str(&format!("; chosen through provides: {why}"));
    }
    reason
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
                s.aur_version.clone().unwrap_or_else(|| "-".into()),
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
    format!(
        "{}\n{} to build, {} up to date, {} to remove{blocked}\n",
        table(&["PKGBASE", "ACTION", "AUR", "REPOSITORY", "REASON"], &rows).trim_end(),
        count(Action::Build),
        count(Action::Skip),
        count(Action::Remove)
    )
}

/// One line of the end-of-run summary.
#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub pkgbase: String,
    pub status: String,
    pub version: String,
    pub duration: String,
    pub detail: String,
}

pub fn render_summary(rows: &[SummaryRow]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| vec![r.pkgbase.clone(), r.status.clone(), r.version.clone(), r.duration.clone(), r.detail.clone()])
        .collect();
    table(&["PKGBASE", "RESULT", "VERSION", "TIME", "DETAIL"], &rows)
}

/// The plan as a Markdown table, for the GitHub job summary.
pub fn markdown_plan(plan: &Plan, title: &str) -> String {
    let rows: Vec<Vec<String>> = plan
        .packages
        .iter()
        .map(|s| {
            let names = package_cell(s);
            let package = match names.strip_prefix(s.pkgbase.as_str()) {
                Some(rest) if !rest.is_empty() => format!("`{}`{rest}", s.pkgbase),
                _ => format!("`{}`", s.pkgbase),
            };
            vec![
                package,
                s.action.to_string(),
                s.aur_version.clone().unwrap_or_default(),
                s.repo_version.clone().unwrap_or_default(),
                reason_cell(s),
            ]
        })
        .collect();
    if rows.is_empty() {
        return format!("### {title}\n\nrepo.yaml lists no packages.\n");
    }
    format!(
        "### {title}\n\n{}",
        super::github::markdown_table(&["Package", "Action", "AUR version", "Repository version", "Reason"], &rows)
    )
}

/// The end-of-run results as a Markdown table, for the GitHub job summary.
pub fn markdown_summary(rows: &[SummaryRow], title: &str) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![format!("`{}`", r.pkgbase), r.status.clone(), r.version.clone(), r.duration.clone(), r.detail.clone()]
        })
        .collect();
    format!(
        "### {title}\n\n{}",
        super::github::markdown_table(&["Package", "Result", "Version", "Duration", "Detail"], &rows)
    )
}
