//! GitHub Actions' native output: workflow commands (annotations, log groups) and the Markdown
//! job summary. Pure formatting here; [`super::Printer`] decides when to use it.
use super::escape::terminal;
use std::fmt::Write as _;

/// Escapes the message part of a workflow command.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value (`file=...`) of a workflow command.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=F,line=L,col=C::message` — an annotation on a line of a file; the message
/// may quote AUR text, so control characters are shown ([`terminal`]) before escaping.
pub fn error_annotation(file: &str, line: u64, col: u64, message: &str) -> String {
    format!("::error file={},line={line},col={col}::{}", escape_property(file), escape_data(&terminal(message)))
}

/// `path` as GitHub wants it in an annotation: relative to the workspace (the checkout's root)
/// when it lies inside it, unchanged otherwise.
pub fn workspace_relative(path: &str, workspace: Option<&std::ffi::OsStr>) -> String {
    let Some(workspace) = workspace.filter(|w| !w.is_empty()) else { return path.to_string() };
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.into());
    match absolute.strip_prefix(workspace) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().into_owned(),
        _ => path.to_string(),
    }
}

/// `::error::message` — an annotation with no position.
pub fn error_plain(message: &str) -> String {
    format!("::error::{}", escape_data(&terminal(message)))
}

/// A collapsed group holding `body` verbatim. Workflow commands are switched off inside it with
/// a random token, so a build log cannot inject annotations, masks or environment changes.
pub fn group(title: &str, body: &str, token: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "::group::{}", escape_data(title));
    let _ = writeln!(out, "::stop-commands::{token}");
    out.push_str(body);
    if !body.ends_with('\n') {
        out.push('\n');
    }
    let _ = writeln!(out, "::{token}::");
    out.push_str("::endgroup::\n");
    out
}

/// A token no log line can guess: fresh per group.
pub fn fresh_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.write_u32(std::process::id());
    format!("repoctl-{:016x}", h.finish())
}

/// A Markdown table of cells that are Markdown already: each caller renders its cells with
/// [`super::escape`] ([`super::escape::markdown_cell`] for text, a code span for a name), so
/// that `|`, newlines and HTML in versions, reasons or error messages cannot break the table or
/// inject markup. A cell left empty is drawn `-`.
pub fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let cells: Vec<&str> = row.iter().map(|c| if c.is_empty() { "-" } else { c.as_str() }).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_paths_are_relative_to_the_workspace() {
        let ws = Some(std::ffi::OsStr::new("/home/runner/work/r/r"));
        assert_eq!(workspace_relative("/home/runner/work/r/r/repos/main.yaml", ws), "repos/main.yaml");
        assert_eq!(workspace_relative("/elsewhere/repo.yaml", ws), "/elsewhere/repo.yaml");
        assert_eq!(workspace_relative("/home/runner/work/r/r/repo.yaml", None), "/home/runner/work/r/r/repo.yaml");
    }

    #[test]
    fn annotations_escape_what_would_end_the_command_early() {
        assert_eq!(
            error_annotation("dir,a:b/repo.yaml", 4, 5, "100% wrong\nsee here"),
            "::error file=dir%2Ca%3Ab/repo.yaml,line=4,col=5::100%25 wrong%0Asee here"
        );
    }

    #[test]
    fn a_group_turns_workflow_commands_off_for_the_log() {
        let g = group("hello build log", "::error::injected\n::add-mask::x", "tok");
        let lines: Vec<&str> = g.lines().collect();
        assert_eq!(lines[0], "::group::hello build log");
        assert_eq!(lines[1], "::stop-commands::tok");
        assert_eq!(lines[4], "::tok::", "commands resume only after the log");
        assert_eq!(lines[5], "::endgroup::");
        assert_ne!(fresh_token(), fresh_token());
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        use crate::ui::escape::markdown_cell;
        let t =
            markdown_table(&["a", "b"], &[vec![markdown_cell("x|y"), markdown_cell("<b>\nz")], vec![String::new()]]);
        assert_eq!(t, "| a | b |\n|---|---|\n| x\\|y | &lt;b&gt; z |\n| - |\n");
    }
}
