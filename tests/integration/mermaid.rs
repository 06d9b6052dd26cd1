//! The charts repoctl draws in Markdown, read back by Mermaid's own parser (no Docker): the
//! run's Gantt chart and review's dependency flowchart say what the data they were made from
//! says, with the names pkgnames may have (`+`, `.`, `@`, `_`, `-`).
use crate::support::{mermaid_available, mermaid_blocks, read_mermaid};
use repoctl::ui::mermaid::{Node, RUN_SECTION, Span, flowchart, gantt};

#[test]
fn mermaid_reads_the_run_gantt_chart_as_it_was_made() {
    if !mermaid_available() {
        return;
    }
    let span = |pkgbase: Option<&str>, name: &str, start_ms, duration_ms, failed| Span {
        pkgbase: pkgbase.map(Into::into),
        name: name.into(),
        start_ms,
        duration_ms,
        failed,
    };
    let spans = [
        span(None, "plan", 0, 1_234, false),
        span(None, "image refresh", 1_234, 8_000, false),
        span(Some("lib32-foo+bar.qt5"), "fetching PKGBUILD", 9_234, 0, false),
        span(Some("lib32-foo+bar.qt5"), "makepkg", 9_234, 61_001, false),
        span(Some("run"), "installing dependencies", 9_300, 4_000, true),
        span(Some("app@git_x"), "collecting packages", 70_235, 10, false),
        span(None, "publish", 70_245, 2_500, false),
    ];
    let origin = 1_764_000_000_000;
    let markdown = gantt("repoctl build: s3://bucket/x86_64", origin, &spans);
    let blocks = mermaid_blocks(&markdown);
    assert_eq!(blocks.len(), 1, "{markdown}");
    let chart = read_mermaid(&blocks[0]);
    assert_eq!(chart.kind, "gantt");
    assert_eq!(chart.tasks.len(), spans.len(), "{chart:#?}");
    for s in &spans {
        let section = s.pkgbase.as_deref().unwrap_or(RUN_SECTION);
        let found = chart.tasks.iter().find(|t| t.section == section && t.task.starts_with(&format!("{} (", s.name)));
        let Some(t) = found else { panic!("no task {} in section {section}: {chart:#?}", s.name) };
        assert_eq!(
            (t.start, t.end, t.crit),
            (origin + s.start_ms, origin + s.start_ms + s.duration_ms, s.failed),
            "{t:?}"
        );
    }
}

#[test]
fn mermaid_reads_the_dependency_flowchart_as_it_was_made() {
    if !mermaid_available() {
        return;
    }
    let names = ["foo-app", "lib32-foo+bar.qt5", "app@git_x", "end", "graph", "n0", "a--b", "x.-y"];
    let nodes: Vec<Node> =
        names.iter().enumerate().map(|(i, n)| Node { label: n.to_string(), entry: i % 3 == 0 }).collect();
    let edges = [(0, 1), (0, 3), (2, 1), (1, 4), (4, 5), (6, 7), (7, 5)];
    let markdown = flowchart(&nodes, &edges);
    let chart = read_mermaid(&mermaid_blocks(&markdown)[0]);
    assert_eq!(chart.kind, "flowchart-v2");
    assert_eq!(chart.nodes.len(), nodes.len(), "{chart:#?}");
    for (i, node) in nodes.iter().enumerate() {
        let read =
            chart.nodes.iter().find(|n| n.text == node.label).unwrap_or_else(|| panic!("{}: {chart:#?}", node.label));
        assert_eq!(read.id, format!("n{i}"));
        assert_eq!(read.shape, if node.entry { "stadium" } else { "square" }, "{read:?}");
    }
    let mut read: Vec<(&str, &str)> = chart.edges.iter().map(|e| (chart.label(&e.from), chart.label(&e.to))).collect();
    let mut want: Vec<(&str, &str)> = edges.iter().map(|&(f, t)| (names[f], names[t])).collect();
    read.sort();
    want.sort();
    assert_eq!(read, want);
}
