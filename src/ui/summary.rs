//! Text tables for the plan and the end-of-run summary.
use super::escape::{markdown_cell, markdown_code_span};

/// Formats rows as aligned columns under a header, for a terminal: each cell on one line,
/// shown with [`super::escape::terminal`] (cells carry AUR versions and reasons).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| super::escape::terminal(&c.replace(['\n', '\r'], " "))).collect())
        .collect();
    let rows = &rows;
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
            let text = [&r.status, &r.version, &r.duration, &r.detail].map(|c| markdown_cell(c));
            [vec![markdown_code_span(&r.pkgbase)], text.to_vec()].concat()
        })
        .collect();
    format!(
        "### {title}\n\n{}",
        super::github::markdown_table(&["Package", "Result", "Version", "Duration", "Detail"], &rows)
    )
}

/// Where each package a run built came from, one line each (`foo 1.0-1 from AUR commit ...`),
/// for under the summary table. Empty when nothing was built.
pub fn render_provenance(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let body: String = lines.iter().map(|l| format!("  {}\n", super::escape::terminal(l))).collect();
    format!("\nProvenance (`repoctl provenance PKG` shows a whole record):\n{body}")
}

/// [`render_provenance`] as Markdown, for under the job summary's table.
pub fn markdown_provenance(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let body: String = lines.iter().map(|l| format!("- {}\n", markdown_code_span(l))).collect();
    format!("\n#### Provenance\n\n{body}")
}

#[cfg(test)]
mod snapshots {
    use super::*;

    #[test]
    fn the_run_summary_is_pinned() {
        let row = |pkgbase: &str, status: &str, version: &str, duration: &str, detail: &str| SummaryRow {
            pkgbase: pkgbase.into(),
            status: status.into(),
            version: version.into(),
            duration: duration.into(),
            detail: detail.into(),
        };
        let rows = [
            row("libfoo", "built", "1.0-1", "12.3s", "1 file(s)"),
            row("broken", "FAILED (makepkg)", "-", "4.0s", "makepkg failed with exit code 4; log: /w/logs/broken.log"),
            row("needs-broken", "skipped", "-", "0.0s", "its dependency broken failed to build"),
            row(
                "player",
                "blocked",
                "-",
                "-",
                "cannot be built: player needs `codec`, which several AUR packages provide",
            ),
            row("old", "remove", "1-1", "-", "no longer listed in repo.yaml nor needed by a listed package"),
        ];
        insta::assert_snapshot!("summary_table", render_summary(&rows));
        insta::assert_snapshot!("summary_markdown", markdown_summary(&rows, "repoctl build: s3://bucket"));
    }

    #[test]
    fn the_provenance_under_the_summary_is_pinned() {
        let lines = [
            "libfoo 1.0-1 from AUR commit 0123456789ab (files sha256:aaaaaaaaaaaa, lock sha256:bbbbbbbbbbbb), builder image sha256:cccccccccccc".to_string(),
            "split-a 1:5-1 from AUR commit 89abcdef0123 (files sha256:dddddddddddd, lock sha256:bbbbbbbbbbbb), builder image sha256:cccccccccccc".to_string(),
        ];
        insta::assert_snapshot!("provenance_lines", render_provenance(&lines));
        insta::assert_snapshot!("provenance_markdown", markdown_provenance(&lines));
        assert_eq!(render_provenance(&[]), "", "nothing built, nothing said");
        assert_eq!(markdown_provenance(&[]), "");
    }
}
