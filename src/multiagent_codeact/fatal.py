"""Errors that end a run at once, and how the run stops for them.

Most failures during a run are data (a candidate that crashed, one call a server refused). A
broken model endpoint is not: every call would fail the same way, so the first call that shows
it cancels the calls still in flight, the run log records why, and the error reaches the caller
with the run's id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any, TypeGuard

from .errors import ModelError
from .events import Recorder

__all__ = ["ends_run", "gather_or_cancel", "run_failed"]

_CANCEL_GRACE_S = 2.0


def ends_run(exc: BaseException) -> TypeGuard[ModelError]:
    """Whether `exc` must end the run rather than cost one call (see `ModelError.ends_run`)."""
    return isinstance(exc, ModelError) and exc.ends_run


async def gather_or_cancel(*aws: Awaitable[Any]) -> list[Any]:
    """`asyncio.gather`, except that the first exception cancels the others and is raised at
    once, instead of waiting for calls whose answers no longer matter."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:  # we were cancelled: so are they
        await _cancel(tasks)
        raise
    failed = next((t for t in tasks if t.done() and not t.cancelled() and t.exception()), None)
    if failed is not None:
        await _cancel(tasks)
        error = failed.exception()
        assert error is not None
        raise error
    return [t.result() for t in tasks]


def run_failed(exc: ModelError, recorder: Recorder, *, usage: dict[str, Any]) -> None:
    """Record that `exc` ended the run (an error event, then run_finished) and stamp the run
    id on it; the caller raises it."""
    exc.run_id = recorder.run_id
    kind = type(exc).__name__
    recorder.emit(
        "error", agent=getattr(exc, "agent", None), type=kind, message=str(exc), ends_run=True
    )
    recorder.emit(
        "run_finished",
        verdict="failed",
        confidence=0.0,
        error=str(exc),
        error_type=kind,
        usage=usage,
        duration_ms=None,
    )


async def _cancel(tasks: Sequence[asyncio.Future[Any]]) -> None:
    pending = [t for t in tasks if not t.done()]
    for task in pending:
        task.cancel()
    if pending:  # let them account and free their slots; a bounded wait, never a hang
        await asyncio.wait(pending, timeout=_CANCEL_GRACE_S)
    for task in tasks:  # consume what they raised, so asyncio does not warn about it
        if task.done() and not task.cancelled():
            task.exception()
