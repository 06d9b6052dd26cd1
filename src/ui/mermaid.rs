//! Mermaid diagrams for the Markdown that GitHub renders (job summaries, pull request
//! comments): a Gantt chart of a build run, and a flowchart of AUR dependencies. Pure text
//! from plain data; the callers decide what goes in.
//!
//! Syntax: <https://mermaid.js.org/syntax/gantt.html> and
//! <https://mermaid.js.org/syntax/flowchart.html>. What a name may hold follows the lexers of
//! Mermaid's own grammars (`packages/mermaid/src/diagrams/gantt/parser/gantt.jison` and
//! `.../flowchart/parser/flow.jison`), cited where a name is escaped. The integration tests read
//! every chart back with Mermaid's parser (tests/support/mermaid_read.py) and compare.
use std::fmt::Write as _;

/// One bar of a run's Gantt chart: a phase of one package's build, or a step of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The pkgbase whose build this is a phase of; `None` for a step of the run itself (the
    /// plan, the builder image, its refresh, the publish), drawn in [`RUN_SECTION`].
    pub pkgbase: Option<String>,
    /// What was done: a build phase ([`super::Phase::label`]) or a run step (`publish`).
    pub name: String,
    /// When it began, in milliseconds since the run started.
    pub start_ms: u64,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// The build failed in this phase: drawn red (Mermaid's `crit` tag).
    pub failed: bool,
}

/// The section of a run's own steps. It holds a space, which no pkgbase may
/// (PKGBUILD(5): alphanumerics and `@._+-`), so it is never a package's section.
pub const RUN_SECTION: &str = "repoctl run";

/// A fenced ```` ```mermaid ```` Gantt chart of `spans`: a section for the run's own steps,
/// then one per pkgbase in the order its first phase began; each bar named with its duration
/// (`makepkg (12.3s)`, as the summary table writes durations).
///
/// Times are Unix milliseconds (`dateFormat x`): `origin_ms` (when the run started) plus
/// each span's offset, and the axis shows `%H:%M:%S`, which Mermaid draws in the reader's
/// time zone: the clock time of the run wherever it is read. Offsets from a zero origin
/// would read as clock times too, and be wrong by the reader's offset from UTC.
pub fn gantt(title: &str, origin_ms: u64, spans: &[Span]) -> String {
    let mut out = String::from("```mermaid\ngantt\n");
    // The title runs to the end of its line: `"title"\s[^#\n;]+`.
    let title: String = title.chars().map(|c| if matches!(c, '#' | ';' | '\n' | '\r') { ' ' } else { c }).collect();
    let _ = writeln!(out, "    title {title}");
    out.push_str("    dateFormat x\n    axisFormat %H:%M:%S\n    todayMarker off\n");
    let mut id = 0;
    for (section, spans) in sections(spans) {
        let _ = writeln!(out, "    section {}", gantt_text(section));
        for span in spans {
            let start = origin_ms + span.start_ms;
            let name = format!("{} ({:.1}s)", span.name, span.duration_ms as f64 / 1000.0);
            let tag = if span.failed { "crit, " } else { "" };
            let _ = writeln!(out, "    {} :{tag}t{id}, {start}, {}", gantt_text(&name), start + span.duration_ms);
            id += 1;
        }
    }
    out.push_str("```\n");
    out
}

/// The spans by section: the run's own first, then each pkgbase in the order its first span
/// began (the order of `spans` among equal starts). Within a section, in the order given.
fn sections(spans: &[Span]) -> Vec<(&str, Vec<&Span>)> {
    let mut sections: Vec<(&str, Vec<&Span>)> = Vec::new();
    let mut by_start: Vec<&Span> = spans.iter().collect();
    by_start.sort_by_key(|s| (s.pkgbase.is_some(), s.start_ms));
    for span in by_start {
        let name = span.pkgbase.as_deref().unwrap_or(RUN_SECTION);
        if !sections.iter().any(|(n, _)| *n == name) {
            let members = spans.iter().filter(|s| s.pkgbase.as_deref().unwrap_or(RUN_SECTION) == name).collect();
            sections.push((name, members));
        }
    }
    sections
}

/// A section or task name as gantt.jison's lexer reads it: a name runs up to the
/// first `#`, `:`, `;` or newline (`"section"\s[^#:\n;]+`, `[^#:\n;]+` for a task), so those
/// become spaces. pkgbases and phase labels never hold them; a name that did would otherwise
/// move its rest into the task's dates.
fn gantt_text(s: &str) -> String {
    s.chars().map(|c| if matches!(c, '#' | ':' | ';' | '\n' | '\r') { ' ' } else { c }).collect()
}

/// A node of a dependency flowchart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// What the node says: a pkgbase.
    pub label: String,
    /// An entry the change adds or changes (drawn as a stadium); the others are what it pulls in.
    pub entry: bool,
}

/// A fenced ```` ```mermaid ```` flowchart, left to right: `nodes`, and an arrow for each
/// `(from, to)` pair of indices into `nodes` (a package to an AUR package it needs). Pairs
/// naming no node are left out.
///
/// Node ids are generated (`n0`, `n1`, ...): flow.jison reads `-`, `.` and `+` in an id as
/// parts of an arrow or a shape in some positions, and pkgbases hold all three. The label
/// goes in quotes, where the lexer takes anything up to the next `"` (`<string>[^"]+`), so a
/// `"` is written as Mermaid's entity `#quot;`, and `#` as `#35;` so no entity is read where
/// none was meant.
pub fn flowchart(nodes: &[Node], edges: &[(usize, usize)]) -> String {
    let mut out = String::from("```mermaid\nflowchart LR\n");
    for (i, node) in nodes.iter().enumerate() {
        let label = node.label.replace('#', "#35;").replace('"', "#quot;");
        let (open, close) = if node.entry { ("([", "])") } else { ("[", "]") };
        let _ = writeln!(out, "    n{i}{open}\"{label}\"{close}");
    }
    for (from, to) in edges.iter().filter(|(f, t)| *f < nodes.len() && *t < nodes.len()) {
        let _ = writeln!(out, "    n{from} --> n{to}");
    }
    out.push_str("```\n");
    out
}

#[cfg(test)]
mod snapshots {
    use super::*;

    fn span(pkgbase: Option<&str>, name: &str, start_ms: u64, duration_ms: u64, failed: bool) -> Span {
        Span { pkgbase: pkgbase.map(Into::into), name: name.into(), start_ms, duration_ms, failed }
    }

    /// Two builds at once, one after them (its dependency), one failed; pkgbases with the
    /// characters pkgnames may hold; a pkgbase named like the run's section would be if it
    /// had no space.
    #[test]
    fn the_run_gantt_chart_is_pinned() {
        let spans = [
            span(None, "plan", 0, 1_200, false),
            span(None, "image refresh", 1_200, 8_000, false),
            span(Some("lib+foo.bar"), "fetching PKGBUILD", 9_200, 300, false),
            span(Some("lib+foo.bar"), "makepkg", 9_500, 20_000, false),
            span(Some("run"), "fetching PKGBUILD", 9_200, 250, false),
            span(Some("run"), "installing dependencies", 9_450, 4_000, true),
            span(Some("app@2_x"), "makepkg", 29_500, 10_000, false),
            span(None, "publish", 39_500, 2_500, false),
        ];
        insta::assert_snapshot!("run_gantt", gantt("repoctl build: s3://bucket/x86_64", 1_764_000_000_000, &spans));
    }

    #[test]
    fn names_cannot_end_a_task_early() {
        let spans = [span(Some("a"), "odd: name; with # all", 0, 5, false)];
        let chart = gantt("t#1: x;", 0, &spans);
        assert!(chart.contains("    title t 1: x \n"), "{chart}");
        assert!(chart.contains("    odd  name  with   all (0.0s) :t0, 0, 5\n"), "{chart}");
    }

    #[test]
    fn the_dependency_flowchart_is_pinned() {
        let node = |label: &str, entry: bool| Node { label: label.into(), entry };
        let nodes = [node("foo-app", true), node("lib+foo.bar", false), node("app@2_x", true), node("q\"#", false)];
        let chart = flowchart(&nodes, &[(0, 1), (2, 1), (2, 3), (2, 9)]);
        insta::assert_snapshot!("dependency_flowchart", chart);
    }
}
