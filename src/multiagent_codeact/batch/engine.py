"""arun_batch: many tasks through `asolve`, N at once, each recorded as it ends.

One warm sandbox serves every task (its pool sized for the concurrency), so a task costs its
model calls and its jobs, not a sandbox start. N workers take the next task from one list, so
at most N runs are in flight. A task that fails, or even raises, is a row like any other and
the batch goes on; a broken set-up (a model endpoint that cannot serve the run, a sandbox that
cannot start, a run store that cannot record) would fail every task the same way, so it stops
the whole batch at once and is raised with its type.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..config import PipelineConfig
from ..domain import Solution, Task
from ..errors import (
    ModelNotConfiguredError,
    RunStoreError,
    SandboxError,
)
from ..events import Event, Sink
from ..fatal import ends_run, gather_or_cancel
from ..runlog.totals import Tally
from ..sandbox import Sandbox
from .hidden import run_hidden_test
from .parent import BenchEntry
from .results import ResultsFile
from .rows import BatchReport, BatchRow
from .tasks import BatchTask

if TYPE_CHECKING:
    from ..models import ModelConfig
    from ..runlog.store import RunStore

__all__ = ["BatchProgress", "Solver", "arun_batch", "pool_size_for", "run_batch"]

MAX_POOL = 64  # the sandbox's own upper bound on workers

Solver = Callable[..., Awaitable[Solution]]
"""`asolve`'s shape: (task, *, config, model, sandbox, store, sinks, run_id) -> Solution."""


class BatchProgress(Protocol):
    """What a display is told: the batch's size once, then each row as its task ends."""

    def begin(self, total: int, resumed: Sequence[BatchRow]) -> None: ...

    def finished(self, row: BatchRow) -> None: ...


def pool_size_for(config: PipelineConfig, concurrency: int) -> int:
    """Sandbox workers for N tasks at once: one per task in flight, at least the config's."""
    return min(MAX_POOL, max(config.sandbox_pool, concurrency))


def run_batch(tasks: Sequence[BatchTask], **options: Any) -> BatchReport:
    """The synchronous form of `arun_batch` (same keyword arguments)."""
    return asyncio.run(arun_batch(tasks, **options))


async def arun_batch(
    tasks: Sequence[BatchTask],
    *,
    config: PipelineConfig,
    results_path: str | os.PathLike[str],
    model: ModelConfig | str | None = None,
    concurrency: int = 4,
    resume: bool = False,
    store: RunStore | None = None,
    sandbox: Sandbox | None = None,
    progress: BatchProgress | None = None,
    tasks_file: Path | None = None,
    solver: Solver | None = None,
) -> BatchReport:
    """Solve every task, `concurrency` at once, appending one row per task to `results_path`.

    With `resume`, tasks that already have a row there are skipped (their rows are part of
    the report); without it, a results file that already holds rows is refused. Each task's
    run is recorded in `store` as `asolve` records it, and the batch itself is one more run
    there (see `batch.parent`). `sandbox` is used as given; else one is started for the
    batch. `solver` stands in for `asolve` (tests, other engines).

    Raises InputFileError for an unusable results file, ModelNotConfiguredError before any
    work, and a broken set-up's typed error (a `ModelError` with `ends_run`, a SandboxError,
    a RunStoreError) as soon as a task shows it; the rows written until then stay.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    from ..pipeline import asolve, new_run_id, resolve_models

    started = time.perf_counter()
    models = resolve_models(config, model)  # no model configured: raised before anything runs
    secrets = [v for m in models.values() if (v := os.environ.get(m.api_key_env))]
    path = Path(results_path)
    with ResultsFile(path) as results:
        done = results.open(resume=resume)
        todo = [t for t in tasks if t.id not in done]
        resumed = [done[t.id] for t in tasks if t.id in done]
        if progress is not None:
            progress.begin(len(tasks), resumed)
        entry = BenchEntry(store, f"{new_run_id()}-bench") if store is not None else None
        batch = _Batch(
            config=config,
            model=model,
            store=store,
            results=results,
            entry=entry,
            progress=progress,
            solver=solver or asolve,
            new_run_id=new_run_id,
        )
        async with _sandbox(sandbox, config, concurrency) as sb:
            if entry is not None:
                entry.open(
                    tasks_file=tasks_file,
                    total=len(tasks),
                    results_path=path,
                    config=config,
                    models={role: m.model for role, m in models.items()},
                    concurrency=concurrency,
                    secrets=secrets,
                    resumed=resumed,
                )
            try:
                new = await batch.run(sb, todo, concurrency)
            except BaseException as exc:
                if entry is not None:
                    entry.fail(exc)
                raise
    rows_by_id = {**done, **{r.task_id: r for r in new}}
    report = BatchReport(
        batch_id=entry.run_id if entry is not None else None,
        results_path=path,
        rows=[rows_by_id[t.id] for t in tasks],
        resumed=len(resumed),
        wall_s=time.perf_counter() - started,
    )
    if entry is not None:
        entry.finish(report)
    return report


@asynccontextmanager
async def _sandbox(
    given: Sandbox | None, config: PipelineConfig, concurrency: int
) -> AsyncIterator[Sandbox]:
    """The caller's sandbox as it is, or one of our own for the batch's lifetime."""
    if given is not None:
        yield given
        return
    pool = pool_size_for(config, concurrency)
    async with Sandbox(
        config.limits,
        pool_size=pool,
        allow_imports=config.allow_imports,
        isolation=config.isolation,
    ) as own:
        yield own


class _Counter:
    """A sink that adds up one run's model calls, tokens and cost as the events arrive."""

    def __init__(self) -> None:
        self.tally = Tally()
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if event.kind == "model_call":
            with self._lock:
                self.tally.add(event)


def stops_batch(exc: BaseException) -> bool:
    """Whether `exc` would fail every task alike, so the batch must stop, not record it."""
    return ends_run(exc) or isinstance(exc, SandboxError | RunStoreError | ModelNotConfiguredError)


class _Batch:
    def __init__(
        self,
        *,
        config: PipelineConfig,
        model: ModelConfig | str | None,
        store: RunStore | None,
        results: ResultsFile,
        entry: BenchEntry | None,
        progress: BatchProgress | None,
        solver: Solver,
        new_run_id: Callable[[], str],
    ) -> None:
        self.config = config
        self.model = model
        self.store = store
        self.results = results
        self.entry = entry
        self.progress = progress
        self.solver = solver
        self.new_run_id = new_run_id

    async def run(
        self, sandbox: Sandbox, todo: list[BatchTask], concurrency: int
    ) -> list[BatchRow]:
        rows: list[BatchRow] = []
        queue: Iterator[BatchTask] = iter(todo)  # one loop, one iterator: each task taken once

        async def worker() -> None:
            for item in queue:
                row = await self.solve_one(sandbox, item)
                await self.results.append(row)  # durable before anyone is told
                rows.append(row)
                if self.entry is not None:
                    self.entry.add(row)
                if self.progress is not None:
                    self.progress.finished(row)

        workers = min(concurrency, len(todo))
        if workers:
            await gather_or_cancel(*(worker() for _ in range(workers)))
        return rows

    async def solve_one(self, sandbox: Sandbox, item: BatchTask) -> BatchRow:
        run_id = self.new_run_id()
        counter = _Counter()
        sinks: list[Sink] = [counter]
        started = time.perf_counter()
        solution: Solution | None = None
        error: str | None = None
        try:
            solution = await self.solver(
                item.task,
                config=self.config,
                model=self.model,
                sandbox=sandbox,
                store=self.store,
                sinks=sinks,
                run_id=run_id,
            )
        except Exception as exc:
            if stops_batch(exc):
                raise
            error = f"{type(exc).__name__}: {exc}".rstrip(": ")
        if solution is not None:
            passed, why = await run_hidden_test(sandbox, item, solution.code)
        elif item.hidden_test is not None:
            passed, why = False, "no code to test: the task raised"
        else:
            passed, why = None, None
        return _row(
            item.task,
            solution,
            counter.tally,
            seconds=time.perf_counter() - started,
            run_id=solution.run_id if solution is not None else run_id,
            batch_id=self.entry.run_id if self.entry is not None else None,
            hidden=(passed, why),
            error=error,
        )


def _row(
    task: Task,
    solution: Solution | None,
    tally: Tally,
    *,
    seconds: float,
    run_id: str,
    batch_id: str | None,
    hidden: tuple[bool | None, str | None],
    error: str | None,
) -> BatchRow:
    assert task.id is not None
    priced = tally.unpriced_calls == 0
    return BatchRow(
        task_id=task.id,
        verdict=solution.verdict if solution is not None else None,
        confidence=solution.confidence if solution is not None else 0.0,
        code=solution.code if solution is not None else None,
        hidden_passed=hidden[0],
        hidden_error=hidden[1],
        model_calls=tally.model_calls,
        prompt_tokens=tally.prompt_tokens,
        completion_tokens=tally.completion_tokens,
        tokens=tally.prompt_tokens + tally.completion_tokens,
        unpriced_calls=tally.unpriced_calls,
        cost_usd=tally.cost_usd if priced else None,
        seconds=seconds,
        run_id=run_id,
        batch_id=batch_id,
        error=error if error is not None else (solution.error if solution is not None else None),
        finished_at=datetime.now(timezone.utc),
    )
