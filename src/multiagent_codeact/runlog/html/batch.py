"""The HTML report of a bench run: its totals and one row per task, each linking to its own
report.

A task's link is `RUN_ID.html`, beside this page: `mcodeact runs export RUN_ID --format html
-o RUN_ID.html` writes it (the page says so), so a folder of exported reports browses offline.
Everything a task carried (ids, errors) is escaped, as in the run report.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...events import Event
from ..bench import BenchTask, bench_tasks
from ..model import RunManifest
from ..totals import tally
from .parts import badge, cost, duration, esc, scroll, total_cost
from .style import CSS

__all__ = ["render_bench_html"]

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_STATUSES = ("verified", "disputed", "failed", "error")


def render_bench_html(manifest: RunManifest, events: Sequence[Event]) -> str:
    """The page for a bench run: a summary card, then the table of its tasks."""
    tasks = bench_tasks(sorted(events, key=lambda e: e.seq))
    totals = manifest.totals if manifest.totals.events else tally(events).totals()
    counts = {s: sum(1 for t in tasks if t.status == s) for s in _STATUSES}
    hidden = [t for t in tasks if t.hidden_passed is not None]
    passed = sum(1 for t in hidden if t.hidden_passed)
    stats = [
        ("tasks", f"{len(tasks)} of {esc(manifest.task.get('tasks', len(tasks)))}"),
        *((s, str(n)) for s, n in counts.items()),
        ("hidden tests passed", f"{passed}/{len(hidden)}" if hidden else "no hidden tests"),
        ("tokens", f"{totals.prompt_tokens + totals.completion_tokens:,}"),
        ("cost", total_cost(totals)),
        ("duration", esc(duration(totals.duration_ms))),
        ("status", esc(manifest.status)),
    ]
    title = f"bench · {manifest.task.get('prompt', manifest.run_id)}"
    body = "\n".join(
        [
            f'<header class="bar">{badge(None, "bench")}'
            f'<span class="bar-task">{esc(title)}</span></header>',
            "<main>",
            '<section id="summary" class="card"><dl class="stats">',
            *(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in stats),
            "</dl>",
            f"<p>results file: <code>{esc(manifest.task.get('results'))}</code></p>",
            "</section>",
            _tasks_section(tasks),
            "</main>",
            f"<footer>multiagent-codeact bench report · run {esc(manifest.run_id)}</footer>",
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n{body}\n"
        "</body>\n</html>\n"
    )


def _tasks_section(tasks: list[BenchTask]) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in ("task", "verdict", "hidden tests", "time", "tokens", "cost", "run")
    )
    rows = [_task_row(t) for t in tasks]
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return (
        '<section id="tasks" class="card"><h2>Tasks</h2>'
        "<p>Each run links to its own report, a file beside this one: "
        "<code>mcodeact runs export RUN --format html -o RUN.html</code> writes it.</p>"
        f"{scroll(table)}</section>"
    )


def _task_row(t: BenchTask) -> str:
    if t.hidden_passed is None:
        hidden = "–"
    else:
        hidden = "pass" if t.hidden_passed else '<span class="error">fail</span>'
        if t.hidden_error:
            hidden += f' <small title="{esc(t.hidden_error)}">why</small>'
    run = f'<a href="{esc(t.run_id)}.html">{esc(t.run_id)}</a>' if t.run_id is not None else "–"
    status = badge(t.status if t.status != "error" else "failed", t.status)
    error = f'<br><span class="error">{esc(t.error)}</span>' if t.error else ""
    return (
        f"<tr><td>{esc(t.task_id)}{error}</td><td>{status}</td><td>{hidden}</td>"
        f"<td>{esc(f'{t.seconds:.1f} s')}</td><td>{t.tokens:,}</td><td>{cost(t.cost_usd)}</td>"
        f"<td>{run}{' (resumed)' if t.resumed else ''}</td></tr>"
    )
