"""The bench run's own entry in the run store: a parent run whose events list its tasks.

Its manifest's task is `{"kind": "bench", "prompt": "bench: N tasks from FILE", ...}`; each
finished task adds one `bench_task` event (the task's run id, verdict, hidden-test result,
tokens, cost, seconds), so `runs show` and the HTML report can draw the table of tasks, each
pointing at its own run. A resumed bench opens a new parent entry that lists the rows read
back from the results file first (`resumed: true`), so one entry always covers the whole bench.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..events import Recorder
from ..fatal import ends_run
from ..runlog.bench import BENCH_KIND
from .rows import BatchReport, BatchRow

if TYPE_CHECKING:
    from ..config import PipelineConfig
    from ..runlog.store import RunStore
    from ..runlog.writer import RunWriter

__all__ = ["BenchEntry", "row_event"]


def row_event(row: BatchRow, *, resumed: bool = False) -> dict[str, Any]:
    """A row as a `bench_task` event's data: everything but the code (it is in the task's run)."""
    data: dict[str, Any] = row.model_dump(mode="json", exclude={"code", "batch_id"})
    data["status"] = row.status
    data["resumed"] = resumed
    return data


class BenchEntry:
    """Records one bench run in `store`: `open`, `add` per task, then `finish` or `fail`."""

    def __init__(self, store: RunStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self._writer: RunWriter | None = None
        self._recorder: Recorder | None = None

    def open(
        self,
        *,
        tasks_file: Path | None,
        total: int,
        results_path: Path,
        config: PipelineConfig,
        models: dict[str, str],
        concurrency: int,
        secrets: Iterable[str],
        resumed: Iterable[BatchRow],
    ) -> None:
        source = f" from {tasks_file.name}" if tasks_file is not None else ""
        task = {
            "kind": BENCH_KIND,
            "id": f"bench{'-' + tasks_file.stem if tasks_file is not None else ''}",
            "prompt": f"bench: {total} tasks{source}",
            "tasks_file": str(tasks_file) if tasks_file is not None else None,
            "results": str(results_path),
            "tasks": total,
            "concurrency": concurrency,
        }
        secrets = list(secrets)
        self._writer = self.store.open_run(
            self.run_id, task=task, config=config.public_dump(), models=models, secrets=secrets
        )
        self._recorder = Recorder(self.run_id, [self._writer], secrets=secrets)
        self._recorder.emit(
            "run_started", agent="bench", task=task, config=config.public_dump(), models=models
        )
        for row in resumed:
            self.add(row, resumed=True)

    def add(self, row: BatchRow, *, resumed: bool = False) -> None:
        if self._recorder is not None:
            self._recorder.emit("bench_task", agent="bench", **row_event(row, resumed=resumed))

    def finish(self, report: BatchReport) -> None:
        if self._recorder is None or self._writer is None:
            return
        self._recorder.emit(
            "run_finished",
            agent="bench",
            verdict=None,
            summary=report.summary(),
            duration_ms=report.wall_s * 1000,
        )
        self._writer.close(status="finished")

    def fail(self, exc: BaseException) -> None:
        """Close the entry for a bench that stopped: interrupted, or a broken set-up."""
        if self._recorder is None or self._writer is None:
            return
        broken = ends_run(exc) or not isinstance(exc, KeyboardInterrupt | asyncio.CancelledError)
        message = f"{type(exc).__name__}: {exc}".rstrip(": ")
        self._recorder.emit(
            "error", agent="bench", type=type(exc).__name__, message=message, ends_run=broken
        )
        self._writer.abort(message, status="failed" if broken else "interrupted")
