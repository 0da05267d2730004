"""The results file: one JSON row per finished task, appended so that a crash loses nothing.

Each row is written with one `write` of the whole line on an O_APPEND descriptor, then
fsynced before the next task's row: a kill -9 can at worst leave the last line torn (cut
short, without its newline). Reading it back for a resume drops a torn last line (the file is
cut back to the last whole row) so its task runs again and is recorded exactly once. A bad
line anywhere else is not a crash's doing: it is an error that names the line. An exclusive
lock on the file keeps a second batch from writing into it at the same time.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
from pathlib import Path
from types import TracebackType

from pydantic import ValidationError

from ..errors import InputFileError
from .rows import BatchRow

__all__ = ["ResultsFile", "count_rows"]


class ResultsFile:
    """Open with `open(resume=...)`, which returns the rows already there; then `append`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()
        self.torn = False
        """Whether `open` dropped a torn last line."""

    def open(self, *, resume: bool) -> dict[str, BatchRow]:
        """Lock the file (created if missing) and read its rows, keyed by task id.

        Without `resume`, a file that already holds rows is refused: appending a second run's
        rows to it would record tasks twice.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise InputFileError(
                f"cannot open the results file {self.path}: {exc.strerror or exc}; pass "
                "--results with a writable path"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InputFileError(
                f"{self.path} is being written by another batch run; wait for it to end, or "
                "pass --results with another file"
            ) from None
        self._fd = fd
        try:
            data = _read_all(fd)
            if data.strip() and not resume:
                raise InputFileError(
                    f"{self.path} already holds results; pass --resume to finish that run "
                    "(finished tasks are skipped), or --results with another file"
                )
            rows, keep = self._parse(data)
            if keep < len(data):
                self.torn = True
                os.ftruncate(fd, keep)
                os.fsync(fd)
        except BaseException:
            self.close()
            raise
        return rows

    async def append(self, row: BatchRow) -> None:
        """Write `row` as one line and make it durable (in a thread: fsync blocks)."""
        line = row.model_dump_json().encode() + b"\n"
        await asyncio.to_thread(self.append_line, line)

    def append_line(self, line: bytes) -> None:
        with self._lock:
            if self._fd is None:
                raise InputFileError(f"{self.path} is not open for writing (call open first)")
            written = os.write(self._fd, line)
            while written < len(line):  # a short write (a full disk): the rest, or an OSError
                written += os.write(self._fd, line[written:])
            os.fsync(self._fd)

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # releases the lock too

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _parse(self, data: bytes) -> tuple[dict[str, BatchRow], int]:
        """The rows, and how many bytes of `data` to keep (less when the last line is torn)."""
        rows: dict[str, BatchRow] = {}
        offset = 0
        lines = data.split(b"\n")
        for lineno, raw in enumerate(lines, start=1):
            last = lineno == len(lines)
            if last:  # no newline after it: "" for a whole file, else a torn line
                return rows, offset
            if raw.strip():
                try:
                    row = BatchRow.model_validate_json(raw)
                except ValidationError as exc:
                    first = exc.errors()[0]
                    key = ".".join(str(p) for p in first["loc"]) or "the line"
                    raise InputFileError(
                        f"{self.path}:{lineno}: not a results row ({key}: {first['msg']}); "
                        "remove the line to run that task again"
                    ) from None
                rows[row.task_id] = row
            offset += len(raw) + 1
        return rows, offset


def count_rows(path: Path) -> int:
    """How many whole rows the file holds now: what a resume would skip."""
    try:
        data = path.read_bytes()
    except OSError:
        return 0
    return sum(1 for line in data.split(b"\n")[:-1] if line.strip())


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)
