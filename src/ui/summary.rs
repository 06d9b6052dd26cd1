//! Text tables for the plan and the end-of-run summary.

/// Formats rows as aligned columns under a header.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
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
