"""What `mcodeact bench` shows: a progress bar on stderr while it runs, a summary at the end.

On a terminal the bar moves (done, verified, disputed, failed, tokens, cost, ETA); elsewhere
(CI logs, pipes) each finished task is one plain line instead, so the log reads top to bottom.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ..terminal import printable
from .rows import BatchReport, BatchRow

__all__ = ["BatchDisplay", "summary_table"]

_MARK = {"verified": ("✓", "green"), "disputed": ("?", "yellow"), "failed": ("✗", "red")}


class BatchDisplay:
    """A `BatchProgress` for the console: `with display.shown(): ...` around the batch."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.total = 0
        self.counts = {"verified": 0, "disputed": 0, "failed": 0, "error": 0}
        self.tokens = 0
        self.cost = 0.0
        self.cost_known = True
        self.started = time.monotonic()
        self._progress: Progress | None = None
        self._bar: TaskID | None = None

    @contextmanager
    def shown(self) -> Iterator[None]:
        if not self.console.is_terminal:
            yield
            return
        progress = Progress(
            TextColumn("bench"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[tally]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self._progress = progress
        with progress:
            self._bar = progress.add_task("bench", total=self.total or None, tally=self._tally())
            yield
        self._progress = self._bar = None

    def begin(self, total: int, resumed: Sequence[BatchRow]) -> None:
        self.total = total
        for row in resumed:
            self._count(row)
        if resumed:
            self.console.print(
                Text(f"resuming: {len(resumed)} of {total} tasks already have a row", "dim")
            )
        self._refresh(len(resumed))

    def finished(self, row: BatchRow) -> None:
        self._count(row)
        if self._progress is None:  # no live bar: one line per task
            mark, style = _MARK.get(row.status, ("✗", "red"))
            hidden = (
                ""
                if row.hidden_passed is None
                else ("  hidden: pass" if row.hidden_passed else "  hidden: FAIL")
            )
            done = sum(self.counts.values())
            self.console.print(
                Text.assemble(
                    (f"{mark} ", f"bold {style}"),
                    (printable(row.task_id), "bold"),
                    (f"  {row.status}", style),
                    hidden,
                    (f"  {row.seconds:.1f} s  [{done}/{self.total}]", "dim"),
                )
            )
        self._refresh(1)

    def _count(self, row: BatchRow) -> None:
        self.counts[row.status] += 1
        self.tokens += row.tokens
        if row.cost_usd is None:
            self.cost_known = False
        else:
            self.cost += row.cost_usd

    def _tally(self) -> str:
        c = self.counts
        cost = f"${self.cost:.4f}" if self.cost_known else "cost unknown"
        failed = c["failed"] + c["error"]
        return (
            f"[green]{c['verified']} verified[/] [yellow]{c['disputed']} disputed[/] "
            f"[red]{failed} failed[/] · {self.tokens:,} tokens · {cost}"
        )

    def _refresh(self, advance: int) -> None:
        if self._progress is not None and self._bar is not None:
            self._progress.update(self._bar, total=self.total, advance=advance, tally=self._tally())


def summary_table(report: BatchReport) -> Table:
    """Verdict counts, pass rate on the hidden tests, tokens, cost, p50/p95 seconds per task."""
    table = Table(title="bench summary", title_justify="left", show_header=False, box=None)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    n = len(report.rows)
    for status in ("verified", "disputed", "failed", "error"):
        count = report.count(status)
        if status != "error" or count:
            table.add_row(status, f"{count} of {n} ({count / n:.0%})" if n else "0")
    rate = report.pass_rate
    table.add_row(
        "hidden tests",
        "none in the task rows"
        if rate is None
        else f"{report.hidden_passed} of {report.hidden_total} passed ({rate:.1%})",
    )
    table.add_row("tokens", f"{report.tokens:,}")
    cost = report.cost_usd
    table.add_row("cost", "unknown (no price for the model)" if cost is None else f"${cost:.4f}")
    p50, p95 = report.seconds(0.5), report.seconds(0.95)
    if p50 is not None and p95 is not None:
        table.add_row("seconds per task", f"p50 {p50:.2f} · p95 {p95:.2f}")
    resumed = f" ({report.resumed} rows from before)" if report.resumed else ""
    table.add_row("wall time", f"{report.wall_s:.1f} s{resumed}")
    return table
