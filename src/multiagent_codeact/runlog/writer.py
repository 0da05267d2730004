"""RunWriter: records one run into its folder as it happens, and never breaks the run doing so.

Lifecycle: `RunStore.open_run` (folder, run.json "running") -> `writer(event)` per event (one
JSON line, flushed: a crash loses at most the line being written) -> `finish(solution)` or
`abort(reason)` (events fsynced, artifacts, solution.json, final run.json, index row).

A disk that fills up or goes away must not cost the user the solution: every write failure is
logged once, remembered in the manifest's `write_errors`, and the run goes on. The Recorder
would drop a sink that raises, but then nobody would know why the log stops; this says so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ..domain import Solution, Verdict
from ..events import Event
from .eventlog import EVENTS_FILE
from .files import atomic_write, write_artifacts
from .index import RunIndex
from .model import RunManifest, RunStatus, RunTotals
from .totals import Tally

logger = logging.getLogger(__name__)

MANIFEST_FILE = "run.json"
SOLUTION_FILE = "solution.json"
ARTIFACTS_DIR = "artifacts"


class RunWriter:
    """The event sink of one run (`writer(event)`), and what closes it (`finish`, `abort`).

    Thread-safe. Use it as a context manager to mark a run that raises as failed (or
    interrupted, on Ctrl-C or cancellation) instead of leaving it "running".
    """

    def __init__(self, folder: Path, manifest: RunManifest, index: RunIndex) -> None:
        self.folder = folder
        self._manifest = manifest
        self._index = index
        self._lock = threading.Lock()
        self._tally = Tally()
        self._started = time.monotonic()
        self._errors: list[str] = []
        self._closed = False
        self._events: IO[bytes] | None = None
        try:
            self._events = (folder / EVENTS_FILE).open("ab")
        except OSError as exc:
            self._fail("cannot open the event log", exc)

    @property
    def run_id(self) -> str:
        return self._manifest.run_id

    @property
    def manifest(self) -> RunManifest:
        """The manifest as last written (final after `finish` or `abort`)."""
        return self._manifest

    @property
    def totals(self) -> RunTotals:
        with self._lock:
            return self._tally.totals()

    @property
    def write_errors(self) -> list[str]:
        """What could not be written so far; empty when the folder is complete."""
        return list(self._errors)

    # -- the sink -------------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        """Append `event` to events.jsonl and flush it. Never raises for a write failure."""
        line = event.model_dump_json().encode() + b"\n"
        with self._lock:
            self._tally.add(event)
            if self._events is None:
                return
            try:
                self._events.write(line)
                self._events.flush()
            except OSError as exc:
                self._fail(f"cannot write the event log after {self._tally.events - 1} events", exc)

    # -- the end --------------------------------------------------------------------------
    def finish(self, solution: Solution) -> RunManifest:
        """Write the artifacts, solution.json and the final run.json; update the index.

        Status "failed" when the solution failed with an error, "finished" otherwise. Calling
        it again, or after `abort`, changes nothing.
        """
        if not self._close():
            return self._manifest
        files = self._write_artifacts(solution)
        self._write_solution(solution, files)
        failed = solution.verdict is Verdict.FAILED and solution.error is not None
        return self._write_final(
            status="failed" if failed else "finished",
            verdict=solution.verdict.value,
            confidence=solution.confidence,
            error=solution.error,
            duration_ms=solution.duration_ms or None,
            artifacts=sorted(files.values()),
        )

    def abort(self, reason: str, *, status: RunStatus = "failed") -> RunManifest:
        """Close a run that ended without a solution (it raised, or was cancelled)."""
        if not self._close():
            return self._manifest
        return self._write_final(status=status, error=reason)

    def close(self, *, status: RunStatus = "finished", verdict: str | None = None) -> RunManifest:
        """Close a run that has no Solution of its own (a bench run: each task has its own)."""
        if not self._close():
            return self._manifest
        return self._write_final(status=status, verdict=verdict)

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._closed:
            return
        if exc is None:
            self.abort("the run ended without a solution (finish() was not called)")
        elif isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
            self.abort(f"cancelled ({type(exc).__name__})", status="interrupted")
        else:
            self.abort(f"{type(exc).__name__}: {exc}")

    # -- helpers --------------------------------------------------------------------------
    def _close(self) -> bool:
        """Stop taking events and make those written durable; False if already closed."""
        with self._lock:
            if self._closed:
                return False
            self._closed = True
            events, self._events = self._events, None
        if events is not None:
            try:
                events.flush()
                os.fsync(events.fileno())
            except OSError as exc:
                self._fail("cannot sync the event log", exc)
            finally:
                try:
                    events.close()
                except OSError:
                    pass
        return True

    def _write_artifacts(self, solution: Solution) -> dict[str, str]:
        if not solution.artifacts:
            return {}
        try:
            return write_artifacts(solution.artifacts, self.folder / ARTIFACTS_DIR)
        except OSError as exc:
            self._fail("cannot write the artifacts", exc)
            return {}

    def _write_solution(self, solution: Solution, files: dict[str, str]) -> None:
        data: dict[str, Any] = solution.model_dump(mode="json", exclude={"artifacts"})
        data["artifacts"] = [
            {
                "name": a.name,
                "mime_type": a.mime_type,
                "size": a.size,
                "file": f"{ARTIFACTS_DIR}/{files[a.name]}" if a.name in files else None,
            }
            for a in solution.artifacts
        ]
        try:
            atomic_write(self.folder / SOLUTION_FILE, json.dumps(data, indent=2).encode())
        except OSError as exc:
            self._fail(f"cannot write {SOLUTION_FILE}", exc)

    def _write_final(
        self, *, status: RunStatus, duration_ms: float | None = None, **fields: Any
    ) -> RunManifest:
        if duration_ms is None:
            duration_ms = (time.monotonic() - self._started) * 1000
        with self._lock:
            totals = self._tally.totals(duration_ms)
        self._manifest = self._manifest.model_copy(
            update={
                "status": status,
                "finished_at": datetime.now(timezone.utc),
                "totals": totals,
                "write_errors": list(self._errors),
                **fields,
            }
        )
        write_manifest(self.folder, self._manifest)
        register(self._index, self._manifest)
        return self._manifest

    def _fail(self, what: str, exc: OSError) -> None:
        message = f"{what}: {exc}"
        self._errors.append(message)
        if self._events is not None:
            try:
                self._events.close()
            except OSError:
                pass
            self._events = None
        logger.warning(
            "run %s: %s; the run goes on, but its log in %s is incomplete",
            self._manifest.run_id,
            message,
            self.folder,
        )


def write_manifest(folder: Path, manifest: RunManifest) -> bool:
    """Write run.json atomically; log and return False if the disk refuses."""
    try:
        atomic_write(folder / MANIFEST_FILE, manifest.model_dump_json(indent=2).encode())
    except OSError as exc:
        logger.warning("run %s: cannot write %s: %s", manifest.run_id, MANIFEST_FILE, exc)
        return False
    return True


def register(index: RunIndex, manifest: RunManifest) -> None:
    """Update the index row; a failure only costs a rebuild later (the folder is the truth)."""
    try:
        index.put(manifest)
    except (sqlite3.Error, OSError) as exc:
        logger.warning(
            "run %s: cannot update the run index %s (%s); `mcodeact runs reindex` rebuilds it",
            manifest.run_id,
            index.path,
            exc,
        )
