//! Mermaid's own parser, for the charts repoctl writes into Markdown: mermaid_read.py runs
//! Mermaid's real bundle (from the PyPI package mermaidx, which scripts/testbed.sh installs)
//! and says what Mermaid understood. A test compares that with the data the chart was made
//! from, so a chart that Mermaid reads differently from what was meant (a name cut at a `:`,
//! a date read as a duration) fails, not only a chart it rejects.
use super::repo_root;
use std::io::Write;
use std::process::{Command, Stdio};

/// A Gantt task as Mermaid parsed it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Task {
    pub section: String,
    /// Its name, trimmed (Mermaid keeps the space before the `:`).
    pub task: String,
    /// Unix milliseconds.
    pub start: u64,
    pub end: u64,
    pub crit: bool,
}

/// A flowchart node as Mermaid parsed it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct FlowNode {
    pub id: String,
    pub text: String,
    /// `stadium`, `square`, ...
    pub shape: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct FlowEdge {
    pub from: String,
    pub to: String,
}

/// What Mermaid read from one chart.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Chart {
    /// `gantt` or `flowchart-v2`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub tasks: Vec<Task>,
    #[serde(default)]
    pub nodes: Vec<FlowNode>,
    #[serde(default)]
    pub edges: Vec<FlowEdge>,
}

impl Chart {
    /// The label of the node with id `id`.
    pub fn label(&self, id: &str) -> &str {
        self.nodes.iter().find(|n| n.id == id).map_or("", |n| n.text.as_str())
    }
}

/// The bodies of the ```` ```mermaid ```` blocks of a Markdown text, in order.
pub fn mermaid_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_end() == "```mermaid" => current = Some(String::new()),
            Some(body) if line.trim_end() == "```" => {
                blocks.push(std::mem::take(body));
                current = None;
            }
            Some(body) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "a ```mermaid block is not closed:\n{markdown}");
    blocks
}

/// Whether Mermaid's parser is here: required under CI=true (scripts/testbed.sh installs
/// it), else the test that needs it is skipped with a note.
pub fn mermaid_available() -> bool {
    let found = Command::new("python3").args(["-c", "import mermaidx"]).output().is_ok_and(|o| o.status.success());
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    match found {
        true => true,
        false if ci => panic!("CI=true but the PyPI package mermaidx is not installed; run scripts/testbed.sh"),
        false => {
            eprintln!("SKIPPING the Mermaid check: mermaidx is not installed (scripts/testbed.sh installs it)");
            false
        }
    }
}

/// `chart` (a block's body) as Mermaid's own parser reads it; panics with Mermaid's error
/// when Mermaid rejects it. Call [`mermaid_available`] first.
pub fn read_mermaid(chart: &str) -> Chart {
    let script = repo_root().join("tests/support/mermaid_read.py");
    let mut child = Command::new("python3")
        .arg(script.as_str())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().expect("stdin").write_all(chart.as_bytes()).expect("write the chart");
    let out = child.wait_with_output().expect("mermaid_read.py");
    assert!(out.status.success(), "Mermaid rejects the chart:\n{chart}\n{}", String::from_utf8_lossy(&out.stderr));
    let mut read: Chart = serde_json::from_slice(&out.stdout).expect("mermaid_read.py prints JSON");
    for task in &mut read.tasks {
        task.task = task.task.trim().to_string();
    }
    read
}
