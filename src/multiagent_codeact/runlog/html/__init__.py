"""The HTML report of one run: one self-contained file a person can open anywhere, offline.

Everything a model wrote (task text, messages, code, explanations, errors, tests) and everything
a run printed is escaped on the way in, because a report is opened in a browser long after the
run and nobody should have to trust what the models said. The page has no script and loads
nothing: CSS is inline, plots are data URIs, and a Content-Security-Policy tells the browser so.
The renderer takes plain inputs (manifest, events, solution, artifact bytes) so it works the
same for a finished run, an interrupted one, and one rebuilt from a store folder.

One module per job: `run` reads the inputs once; `sections` (summary, answer, code),
`evidence`, `rounds`, `optimization`, `calls` and `timeline` (with `waterfall` and the
per-event `describe`) each render one part of the page; `parts`, `markdown` and `style` hold
what they share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...domain import Solution
from ...events import Event
from ..bench import is_bench
from ..model import RunManifest
from .batch import render_bench_html
from .calls import calls_section
from .evidence import evidence_section
from .optimization import optimization_section
from .parts import FORMATTER, esc, gist
from .rounds import caught_line, passes, rounds_section
from .run import Run
from .sections import answer_section, code_section, sticky, summary_section
from .style import CSS
from .timeline import AgentKeys, filter_css, timeline_section

__all__ = ["render_html"]

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def render_html(
    manifest: RunManifest,
    events: Sequence[Event],
    solution: Solution | None,
    artifacts: Mapping[str, bytes],
) -> str:
    """The report page for one run. `artifacts` maps file names to bytes; raster images among
    them are shown inline, the rest listed with their sizes."""
    if is_bench(manifest.task):  # a bench run: a table of its tasks, each with its own report
        return render_bench_html(manifest, events)
    run = Run.of(manifest, sorted(events, key=lambda e: e.seq), solution, artifacts)
    title = f"{run.verdict or manifest.status} · {gist(run.prompt, 80)}"
    rounds = passes(run)
    keys = AgentKeys(run.events)
    links = [
        ("answer", "Answer"),
        ("code", "Code"),
        ("evidence", "Evidence"),
        *([("rounds", "Rounds")] if rounds else []),
        *([("optimization", "Optimization")] if run.optimization else []),
        ("calls", "Model calls"),
        *([("waterfall", "Waterfall")] if run.events else []),
        ("timeline", "Timeline"),
    ]
    body = "\n".join(
        [
            sticky(run, links),
            "<main>",
            summary_section(run, caught_line(rounds)),
            answer_section(run),
            code_section(run),
            evidence_section(run),
            rounds_section(run, rounds),
            optimization_section(run),
            calls_section(run),
            timeline_section(run, keys),
            "</main>",
            f"<footer>multiagent-codeact run report · run {esc(manifest.run_id)}</footer>",
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>\n{CSS}\n{filter_css(keys)}\n"
        f"{FORMATTER.get_style_defs('.hl')}\n</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
