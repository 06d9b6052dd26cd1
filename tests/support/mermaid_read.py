#!/usr/bin/env python3
"""Reads one Mermaid chart (stdin) with Mermaid's own parser and prints what it understood, as
JSON on stdout; a chart Mermaid rejects exits 1 with Mermaid's error on stderr.

Mermaid is a JavaScript library and npm is out of reach; the PyPI package mermaidx (installed
by scripts/testbed.sh, pinned) ships Mermaid's real bundle (mermaid.js 11.16.0) and runs it in
QuickJS (quickjs-ng). The chart is first rendered to SVG as GitHub would render it
(mermaidx.render), then parsed again in a fresh context where the parsed model is read out of
Mermaid's diagram database:

  gantt:     {"type": "gantt", "tasks": [{"section", "task", "id", "start", "end", "crit"}]}
             (start and end in Unix milliseconds, as Mermaid computed them)
  flowchart: {"type": "flowchart-v2", "nodes": [{"id", "text", "shape"}],
              "edges": [{"from", "to", "type"}]}

The reading uses mermaidx's engine internals (its QuickJS context with the DOM shim and
Mermaid loaded), which is why the version is pinned.
"""
import json
import sys

import mermaidx
from mermaidx.engines._common import TextMeasurer, run_event_loop
from mermaidx.engines.quickjs_engine import Engine

READ = r"""
globalThis.__renderResult = null;
globalThis.__renderError = null;
__resetDocument();
mermaid.initialize({startOnLoad: false});
mermaid.mermaidAPI.getDiagramFromText(%s).then((diagram) => {
  const db = diagram.db;
  const out = {type: diagram.type};
  if (diagram.type === "gantt") {
    out.tasks = db.getTasks().map((t) => ({
      section: t.section, task: t.task, id: t.id,
      start: t.startTime.getTime(), end: t.endTime.getTime(), crit: !!t.crit,
    }));
  } else {
    const vertices = db.getVertices();
    const list = vertices instanceof Map ? [...vertices.values()] : Object.values(vertices);
    out.nodes = list.map((n) => ({id: n.id, text: n.text, shape: n.type}));
    out.edges = db.getEdges().map((e) => ({from: e.start, to: e.end, type: e.type}));
  }
  globalThis.__renderResult = JSON.stringify(out);
}).catch((e) => { globalThis.__renderError = String((e && e.message) || e); });
"""


def main() -> int:
    chart = sys.stdin.read()
    try:
        mermaidx.render(chart).svg()
    except Exception as e:  # mermaidx raises its own error type for what Mermaid rejects
        print(f"Mermaid cannot render the chart: {e}", file=sys.stderr)
        return 1
    engine = Engine()
    engine._measurer = TextMeasurer()
    ctx = engine._build_context()
    ctx.eval(READ % json.dumps(chart))

    def run_job() -> bool:
        try:
            return bool(ctx.execute_pending_job())
        except StopIteration:
            return False

    run_event_loop(ctx.eval, run_job)
    error = ctx.eval("__flat(globalThis.__renderError)")
    if error:
        print(f"Mermaid cannot parse the chart: {error}", file=sys.stderr)
        return 1
    result = ctx.eval("__flat(globalThis.__renderResult)")
    if not result:
        print("Mermaid's parser did not finish", file=sys.stderr)
        return 1
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
