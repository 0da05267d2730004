"""A bench run as the run store keeps it: a parent run whose `bench_task` events list its tasks.

`batch.parent` writes it; this reads it back for `runs show` (a table of the tasks), the
timeline (one line per task) and the HTML report (`html.batch`). Reading tolerates events of
other versions: a field that does not validate leaves that task out, never the whole run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from rich.console import JustifyMethod
from rich.table import Table
from rich.text import Text

from ..events import Event
from ..terminal import printable
from .summary import dollars, seconds

__all__ = ["BENCH_KIND", "BenchTask", "bench_table", "bench_tasks", "is_bench"]

BENCH_KIND = "bench"
STATUS_STYLE = {"verified": "green", "disputed": "yellow", "failed": "red", "error": "red"}


def is_bench(task: Mapping[str, Any]) -> bool:
    """Whether a manifest's task is a bench run's (its tasks are in `bench_task` events)."""
    return task.get("kind") == BENCH_KIND


class BenchTask(BaseModel):
    """One task of a bench as its `bench_task` event has it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    task_id: str
    status: str
    run_id: str | None = None
    confidence: float = 0.0
    hidden_passed: bool | None = None
    hidden_error: str | None = None
    model_calls: int = 0
    tokens: int = 0
    cost_usd: float | None = None
    seconds: float = 0.0
    error: str | None = None
    resumed: bool = False


def bench_tasks(events: Iterable[Event]) -> list[BenchTask]:
    """The tasks of a bench run in the order they finished (a task listed twice: the last)."""
    found: dict[str, BenchTask] = {}
    for event in events:
        if event.kind != "bench_task":
            continue
        try:
            task = BenchTask.model_validate(event.data)
        except ValidationError:
            continue
        found.pop(task.task_id, None)
        found[task.task_id] = task
    return list(found.values())


def bench_table(tasks: list[BenchTask]) -> Table:
    """`runs show` for a bench: one row per task, with the id of its own run to show next."""
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 1))
    for name in ("task", "verdict", "hidden", "time", "tokens", "cost", "run"):
        justify: JustifyMethod = "right" if name in ("time", "tokens", "cost") else "left"
        table.add_column(name, justify=justify, no_wrap=name != "task", overflow="fold")
    for t in tasks:
        hidden = "-" if t.hidden_passed is None else ("pass" if t.hidden_passed else "FAIL")
        table.add_row(
            Text(printable(t.task_id)),
            Text(t.status, STATUS_STYLE.get(t.status, "")),
            Text(hidden, "" if t.hidden_passed is not False else "red"),
            seconds(t.seconds * 1000),
            f"{t.tokens:,}",
            "?" if t.cost_usd is None else dollars(t.cost_usd),
            Text(printable(t.run_id or "-") + (" (resumed)" if t.resumed else ""), "dim"),
        )
    return table
