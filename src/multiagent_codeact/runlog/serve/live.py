"""A run's events as server-sent events, read from the tail of its events.jsonl as it grows.

Why SSE and not polling from the page: the writer appends and flushes one line per event, so
the server sees a new event as soon as it is on disk, and one open response per viewer carries
every event once, in order. The browser's EventSource reconnects by itself and sends the last
`id` it saw; the id is the byte offset just after that event's line, so a reconnect resumes
exactly there, with nothing lost or repeated. The stream ends (an `end` message) once the run
is closed (finished, failed) or reported interrupted, after the last lines are drained.

The tail itself polls the file (a stat and a read every `poll_s`), as `RunStore.follow` does:
it works on every filesystem, and an idle run costs one small read per viewer and interval.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...events import Event
from ..eventlog import EVENTS_FILE, parse_line
from ..model import RunStatus
from ..store import read_manifest, reported_status
from ..summary import describe

__all__ = ["LiveOptions", "event_stream", "parse_offset", "sse"]

_MAX_READ = 1 << 20  # bytes per read: a long log is sent in slices, the loop stays responsive


@dataclass(frozen=True)
class LiveOptions:
    """How the tail behaves: `poll_s` between looks at the file when nothing is new,
    `keepalive_s` between comments that keep proxies (and dead clients) honest."""

    poll_s: float = 0.2
    keepalive_s: float = 15.0
    retry_ms: int = 2000


def sse(data: str, *, event: str | None = None, id: str | None = None) -> str:
    """One server-sent-events message; each line of `data` gets its own `data:` field."""
    head = ""
    if id is not None:
        head += f"id: {id}\n"
    if event is not None:
        head += f"event: {event}\n"
    body = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"{head}{body}\n"


def parse_offset(value: str | None, size: int) -> int:
    """A resume offset from `Last-Event-ID` or `?from=`: 0 when absent or not one we issued."""
    if value is None or not value.strip().isdigit():
        return 0
    offset = int(value)
    return offset if offset <= size else 0


async def event_stream(
    folder: Path, offset: int, options: LiveOptions, *, clock: Callable[[], float] = time.monotonic
) -> AsyncIterator[str]:
    """SSE messages for the run in `folder`, from byte `offset` of its events.jsonl on.

    Messages: `status` first and last ({"status", "verdict", "confidence"}), `run-event` per
    event (the timeline row as JSON, id = offset after it), `end` when nothing more will come.
    """
    path = folder / EVENTS_FILE
    manifest = await asyncio.to_thread(read_manifest, folder)
    start = manifest.started_at.timestamp()
    yield f"retry: {options.retry_ms}\n\n"
    yield sse(json.dumps(_status(folder)), event="status")
    quiet_since = clock()
    ended = False
    while True:
        chunk = await asyncio.to_thread(_read_from, path, offset)
        lines, used = _complete_lines(chunk, final=ended)
        if used:
            for raw, after in lines:
                event, _ = parse_line(raw)
                if event is not None:  # a corrupt line is skipped, as every reader does
                    yield sse(
                        json.dumps(_row(event, start)), event="run-event", id=str(offset + after)
                    )
            offset += used
            quiet_since = clock()
            continue
        if ended:
            yield sse(json.dumps(_status(folder)), event="status")
            yield sse("{}", event="end", id=str(offset))
            return
        ended = await asyncio.to_thread(_closed, folder)
        if ended:
            continue  # drain once more: the last events may have landed meanwhile
        if clock() - quiet_since >= options.keepalive_s:
            yield ": keepalive\n\n"
            quiet_since = clock()
        await asyncio.sleep(options.poll_s)


def _row(event: Event, start: float) -> dict[str, Any]:
    line = describe(event, start)
    return {
        "seq": event.seq,
        "event": event.kind,
        "offset_s": round(line.offset_s, 3),
        "who": line.who,
        "kind": line.kind,
        "text": line.text,
        "tone": line.tone,
        "details": line.details,
    }


def _status(folder: Path) -> dict[str, Any]:
    manifest = read_manifest(folder)
    status: RunStatus = reported_status(manifest)
    return {"status": status, "verdict": manifest.verdict, "confidence": manifest.confidence}


def _closed(folder: Path) -> bool:
    return reported_status(read_manifest(folder)) != "running"


def _read_from(path: Path, offset: int) -> bytes:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            chunk = f.read(_MAX_READ)
            if len(chunk) == _MAX_READ and b"\n" not in chunk:  # one very long line
                chunk += f.read()
            return chunk
    except FileNotFoundError:
        return b""


def _complete_lines(chunk: bytes, *, final: bool) -> tuple[list[tuple[bytes, int]], int]:
    """The whole lines of `chunk` with the offset just after each, and the bytes they use.

    A last line without its newline is still being written and waits for the next read,
    unless the run is over (`final`): then it is all there will be.
    """
    out: list[tuple[bytes, int]] = []
    pos = 0
    while (end := chunk.find(b"\n", pos)) != -1:
        if chunk[pos:end].strip():
            out.append((chunk[pos:end], end + 1))
        pos = end + 1
    if final and chunk[pos:].strip():
        out.append((chunk[pos:], len(chunk)))
        pos = len(chunk)
    return out, pos
