"""`stream(task)`: a run's events as they happen, then its Solution.

    async for event in mca.stream("Write a function `def add(a, b)`"):
        if event.kind == "token":
            print(event.data["text"], end="")
    ...
    run = mca.stream(task)
    async for event in run: ...
    run.solution                       # once the events have ended

The events are the ones the run log records (events.py), plus the transient `token` events of
streamed replies (`tokens=False` leaves them out, and replies are then not streamed). The run
is `asolve` itself, started on the first `__anext__`; if it raises (no model configured, a
broken endpoint), iterating raises the same exception after the events it emitted. Leaving the
loop early leaves the run going: `await run.aclose()`, or `async with mca.stream(...) as run:`,
cancels it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING

from .domain import Solution, Task
from .events import Event, Sink

if TYPE_CHECKING:
    from .config import PipelineConfig
    from .models import ModelConfig
    from .runlog.store import RunStore
    from .sandbox import Sandbox

__all__ = ["RunStream", "stream"]


class _End:
    """Put on the queue after the run's last event."""


class _QueueSink:
    """Puts events on the stream's queue from whichever thread emits them."""

    def __init__(self, loop: asyncio.AbstractEventLoop, tokens: bool) -> None:
        self.queue: asyncio.Queue[Event | _End] = asyncio.Queue()
        self.wants_tokens = tokens
        self._loop = loop
        self._thread = threading.get_ident()

    def __call__(self, event: Event) -> None:
        if threading.get_ident() == self._thread:
            self.queue.put_nowait(event)
        else:
            self._loop.call_soon_threadsafe(self.queue.put_nowait, event)


class RunStream:
    """An async iterator of one run's events; `solution` when they have ended."""

    def __init__(
        self,
        task: str | Task,
        *,
        config: PipelineConfig | str | os.PathLike[str] | None = None,
        model: ModelConfig | str | None = None,
        sinks: Iterable[Sink] = (),
        sandbox: Sandbox | None = None,
        store: RunStore | None = None,
        run_id: str | None = None,
        tokens: bool = True,
    ) -> None:
        self._task = task
        self._config = config
        self._model = model
        self._sinks = list(sinks)
        self._sandbox = sandbox
        self._store = store
        self._run_id = run_id
        self._tokens = tokens
        self._queue: asyncio.Queue[Event | _End] | None = None
        self._run: asyncio.Task[Solution] | None = None
        self._solution: Solution | None = None
        self._ended = False

    @property
    def solution(self) -> Solution:
        """The run's Solution; only once the events have ended without an error."""
        if self._solution is None:
            raise RuntimeError("the run has not finished: iterate over the stream to its end first")
        return self._solution

    def __aiter__(self) -> RunStream:
        return self

    async def __anext__(self) -> Event:
        if self._ended:
            raise StopAsyncIteration
        queue = self._queue if self._queue is not None else self._start()
        item = await queue.get()
        if isinstance(item, Event):
            return item
        self._ended = True
        assert self._run is not None
        self._solution = self._run.result()  # raises what the run raised
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Cancel the run if it is still going, and wait for it to stop."""
        self._ended = True
        run = self._run
        if run is None or run.done():
            return
        run.cancel()
        try:
            await run
        except asyncio.CancelledError:
            pass
        except Exception:  # it failed while stopping: the caller asked to stop, not to know
            pass

    async def __aenter__(self) -> RunStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _start(self) -> asyncio.Queue[Event | _End]:
        from .pipeline import asolve  # AutoGen and openai load with the pipeline

        sink = _QueueSink(asyncio.get_running_loop(), self._tokens)
        self._queue = sink.queue
        self._run = asyncio.create_task(
            asolve(
                self._task,
                config=self._config,
                model=self._model,
                sinks=[sink, *self._sinks],
                sandbox=self._sandbox,
                store=self._store,
                run_id=self._run_id,
            )
        )
        # Scheduled after every event the run emitted, so it arrives last.
        self._run.add_done_callback(lambda _: sink.queue.put_nowait(_End()))
        return sink.queue


def stream(
    task: str | Task,
    *,
    config: PipelineConfig | str | os.PathLike[str] | None = None,
    model: ModelConfig | str | None = None,
    sinks: Iterable[Sink] = (),
    sandbox: Sandbox | None = None,
    store: RunStore | None = None,
    run_id: str | None = None,
    tokens: bool = True,
) -> RunStream:
    """The events of solving `task`, as they happen; the arguments are `asolve`'s."""
    return RunStream(
        task,
        config=config,
        model=model,
        sinks=sinks,
        sandbox=sandbox,
        store=store,
        run_id=run_id,
        tokens=tokens,
    )
