//! Text tables for the plan and the end-of-run summary.
use crate::plan::{Action, Plan};

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

pub fn render_plan(plan: &Plan) -> String {
    if plan.packages.is_empty() {
        return "nothing to do: repo.yaml lists no packages\n".into();
    }
    let rows: Vec<Vec<String>> = plan
        .packages
        .iter()
        .map(|s| {
            vec![
                s.pkgbase.clone(),
                s.action.to_string(),
                s.aur_version.clone().unwrap_or_else(|| "-".into()),
                s.repo_version.clone().unwrap_or_else(|| "-".into()),
                s.reason.clone(),
            ]
        })
        .collect();
    let count = |a: Action| plan.packages.iter().filter(|s| s.action == a).count();
    format!(
        "{}\n{} to build, {} up to date, {} to remove\n",
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
            vec![
                format!("`{}`", s.pkgbase),
                s.action.to_string(),
                s.aur_version.clone().unwrap_or_default(),
                s.repo_version.clone().unwrap_or_default(),
                s.reason.clone(),
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
