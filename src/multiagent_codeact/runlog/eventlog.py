"""Reading events.jsonl: every good line, with the bad ones skipped and counted, never fatal.

A run killed midway leaves a last line cut short; a disk error or a hand edit can leave
others. One bad line must not hide the rest of the run, so readers skip it and say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ..events import Event

EVENTS_FILE = "events.jsonl"


@dataclass(frozen=True)
class CorruptLine:
    line: int  # 1-based
    reason: str


class EventLog:
    """The events of one events.jsonl, read lazily, in file order.

    Iterate to get the events; afterwards `corrupt` lists the lines that were skipped (a
    new iteration reads the file again and starts the list afresh). A missing file is an
    empty log: a run may have emitted nothing yet.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.corrupt: list[CorruptLine] = []

    @property
    def skipped(self) -> int:
        return len(self.corrupt)

    def __iter__(self) -> Iterator[Event]:
        self.corrupt = []
        try:
            f = self.path.open("rb")
        except FileNotFoundError:
            return
        with f:
            for number, raw in enumerate(f, start=1):
                if not raw.strip():
                    continue
                event, problem = parse_line(raw)
                if event is not None:
                    yield event
                else:
                    self.corrupt.append(CorruptLine(number, problem))

    def describe_corrupt(self) -> str:
        """One line for a user: how many lines were skipped, and which."""
        lines = ", ".join(str(c.line) for c in self.corrupt[:10])
        more = f" and {self.skipped - 10} more" if self.skipped > 10 else ""
        first = self.corrupt[0].reason if self.corrupt else ""
        return (
            f"skipped {self.skipped} corrupted line(s) in {self.path} (line {lines}{more}; "
            f"first problem: {first})"
        )


def parse_line(raw: bytes) -> tuple[Event | None, str]:
    """An event from one line, or None and why not."""
    try:
        return Event.model_validate_json(raw), ""
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        return None, f"{where + ': ' if where else ''}{error['msg']}"[:200]
