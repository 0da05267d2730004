"""What `mcodeact solve` and `mcodeact run` print when the work is done: for people and `--json`.

Everything a model or a job wrote (code, explanations, reasons, what the code printed, artifact
names) is shown through `terminal.printable`, so its escape sequences are never obeyed.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from .domain import Solution
from .errors import RunStoreError
from .optimize.report import OptimizationReport
from .progress import VERDICT_MARK, VERDICT_STYLE
from .runlog.store import RunStore
from .runlog.summary import clip, plural, span, speedup
from .terminal import printable

__all__ = [
    "artifact_paths",
    "next_steps",
    "optimization_line",
    "render_solution",
    "solution_json",
    "summary_table",
]

_STDOUT_LINES = 12


def artifact_paths(store: RunStore, run_id: str) -> dict[str, Path]:
    """Where the run folder keeps each artifact's file; empty when the run was not recorded."""
    try:
        record = store.get(run_id)
    except RunStoreError:
        return {}
    paths = {a.name: record.artifact_path(a) for a in record.artifacts}
    return {name: path for name, path in paths.items() if path is not None}


def solution_json(solution: Solution, store: RunStore) -> dict[str, Any]:
    """The Solution as JSON, artifacts as name, type, size and file (never their bytes)."""
    data = solution.model_dump(mode="json", exclude={"artifacts"})
    paths = artifact_paths(store, solution.run_id)
    data["artifacts"] = [
        {"name": a.name, "mime_type": a.mime_type, "size": a.size}
        | ({"path": str(paths[a.name])} if a.name in paths else {})
        for a in solution.artifacts
    ]
    data["run_dir"] = str(store.root / solution.run_id)
    return data


def _totals(solution: Solution) -> str:
    calls = sum(u.calls for u in solution.usage.values())
    tokens = sum(u.prompt_tokens + u.completion_tokens for u in solution.usage.values())
    return (
        f"{solution.rounds} round{'s' if solution.rounds != 1 else ''} · "
        f"{solution.duration_ms / 1000:.1f} s · {calls} model calls · {tokens:,} tokens · "
        f"${solution.total_cost_usd:.4f}"
    )


def optimization_line(report: OptimizationReport) -> str:
    """The optimizer's outcome in one line: what changed and what was turned down, and why."""
    if report.accepted:
        head = f"optimized {speedup(report.speedup)} faster"
        if report.time_before_s is not None and report.time_after_s is not None:
            head += f" ({span(report.time_before_s)} -> {span(report.time_after_s)})"
    else:
        status = report.status.replace("_", " ")
        reason = clip(report.reason, 100, flat=True) if report.reason else status
        said = reason.startswith(status) or report.status == "rejected"  # the reason says it
        head = "not optimized: " + (reason if said else f"{status}: {reason}")
    if report.rejected:
        why = "; ".join(f"{r.kind}: {clip(r.reason, 80, flat=True)}" for r in report.rejected[:3])
        more = f"; +{len(report.rejected) - 3} more" if len(report.rejected) > 3 else ""
        head += f"; {plural(len(report.rejected), 'rewrite')} rejected: {why}{more}"
    return head


def render_solution(console: Console, solution: Solution, store: RunStore) -> None:
    """A solution for a person: verdict first, then the code, what it printed and made."""
    verdict = solution.verdict.value
    style = VERDICT_STYLE[verdict]
    console.print(
        Text.assemble(
            (f"{VERDICT_MARK[verdict]} {verdict}", f"bold {style}"),
            (f" (confidence {solution.confidence:.2f})", style),
            (f"  {_totals(solution)}", "dim"),
        )
    )
    reasons = [] if solution.verified else solution.reasons[:5]
    for reason in reasons:
        console.print(Text(printable(f"  - {reason}"), style=style))
    if solution.error and solution.error not in reasons:
        console.print(Text(printable(f"error: {solution.error}"), style="red"))
    if solution.judge:
        console.print(Text.assemble(("judge: ", "bold"), printable(solution.judge)))
    if solution.explanation.strip():
        console.print(Text(printable(solution.explanation.strip())))
    if solution.optimization is not None:
        style = "green" if solution.optimization.accepted else "dim"
        line = printable(optimization_line(solution.optimization))
        console.print(Text(line, style=style))
    if solution.code:
        console.print()
        code = Syntax("", "python").highlight(printable(solution.code.rstrip()))
        code.rstrip()
        for code_line in code.split("\n", allow_blank=True):
            console.print(Text("  ") + code_line if code_line.plain else "")
        console.print()
    if solution.result is not None:
        shown = printable(json.dumps(solution.result, ensure_ascii=False))
        console.print(Text.assemble(("result: ", "bold"), shown[:2000]))
    if solution.stdout.strip():
        lines = solution.stdout.rstrip().splitlines()
        console.print(Text("printed:", style="bold"))
        for line in lines[-_STDOUT_LINES:]:
            console.print(Text(printable(f"  {line}")))
        if len(lines) > _STDOUT_LINES:
            console.print(Text(f"  ({len(lines) - _STDOUT_LINES} earlier lines not shown)", "dim"))
    paths = artifact_paths(store, solution.run_id)
    for a in solution.artifacts:
        where = f" -> {paths[a.name]}" if a.name in paths else ""
        shown = f"artifact: {a.name} ({a.mime_type}, {a.size:,} bytes){where}"
        console.print(Text(printable(shown)))


def summary_table(solutions: list[tuple[str, Solution]]) -> Table:
    """One row per task: verdict, confidence, tokens, cost, time and the run id (whole, to copy)."""
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 1, 0, 0))
    table.add_column("task", overflow="ellipsis", no_wrap=True, ratio=1, min_width=12)
    for name in ("verdict", "conf", "tokens", "cost", "time", "run"):
        right = name in ("conf", "tokens", "cost", "time")
        table.add_column(name, justify="right" if right else "left", no_wrap=True)
    for label, s in solutions:
        verdict = s.verdict.value
        table.add_row(
            label,
            Text(verdict, style=VERDICT_STYLE[verdict]),
            f"{s.confidence:.2f}",
            f"{sum(u.prompt_tokens + u.completion_tokens for u in s.usage.values()):,}",
            f"${s.total_cost_usd:.4f}",
            f"{s.duration_ms / 1000:.1f} s",
            s.run_id,
        )
    return table


def next_steps(
    console: Console, store: RunStore, run_ids: list[str], runs_dir: Path | None
) -> None:
    """Where the runs are and the commands that show them."""
    where = f" --runs-dir {shlex.quote(str(runs_dir))}" if runs_dir else ""
    if len(run_ids) == 1:
        console.print(Text(f"run {run_ids[0]} recorded in {store.root / run_ids[0]}"))
    else:
        console.print(Text(f"{len(run_ids)} runs recorded in {store.root}"))
    first = run_ids[0]
    console.print(Text.assemble(("next: ", "bold"), f"mcodeact runs show {first}{where}"))
    console.print(Text(f"      mcodeact runs export {first} --format html -o report.html{where}"))
