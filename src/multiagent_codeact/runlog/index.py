"""The SQLite index of runs: a cache for listing, rebuilt from the run folders whenever in doubt.

The folders are the truth. The index holds one row per run: the columns a query filters and
sorts on, and the whole `RunSummary` as JSON. A missing, corrupt or older-format index file is
deleted and rebuilt; several processes may write it (SQLite locks, we wait up to 10 s).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from datetime import timezone
from pathlib import Path

from pydantic import ValidationError

from .model import RunManifest, RunSummary

logger = logging.getLogger(__name__)

INDEX_FILE = "index.sqlite"
_FORMAT = 1  # PRAGMA user_version; bump when the table changes, old files are rebuilt
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id     TEXT PRIMARY KEY,
    status     TEXT NOT NULL,
    verdict    TEXT,
    started_at TEXT NOT NULL,
    summary    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at DESC, run_id DESC);
"""


class RunIndex:
    """Rows of `RunSummary` keyed by run id. `scan` yields the manifests of the folders: it is
    how a rebuild finds the truth."""

    def __init__(self, path: Path, scan: Callable[[], Iterable[RunManifest]]) -> None:
        self.path = path
        self._scan = scan

    def put(self, manifest: RunManifest) -> None:
        """Add or replace the row of a run (the writer's word is final)."""
        with self._connect() as db:
            _upsert(db, manifest, replace=True)

    def query(
        self, *, statuses: Iterable[str] | None = None, verdict: str | None = None
    ) -> list[RunSummary]:
        """Rows newest first, as stored (a "running" row may be a dead run; the store checks)."""
        sql, args = "SELECT summary FROM runs", []
        where = []
        if statuses is not None:
            wanted = list(statuses)
            where.append(f"status IN ({', '.join('?' * len(wanted))})")
            args.extend(wanted)
        if verdict is not None:
            where.append("verdict = ?")
            args.append(verdict)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_at DESC, run_id DESC"
        with self._connect() as db:
            rows = db.execute(sql, args).fetchall()
        out = []
        for (summary,) in rows:
            try:
                out.append(RunSummary.model_validate_json(summary))
            except ValidationError:
                logger.warning("run index %s: skipped a row it cannot read", self.path)
        return out

    def sync(self, folders: Iterable[str]) -> None:
        """Add rows for folders the index lacks (written elsewhere, or while it was broken) and
        drop rows whose folder is gone. Rows already there are left as they are."""
        present = set(folders)
        with self._connect() as db:
            known = {row[0] for row in db.execute("SELECT run_id FROM runs")}
            gone = known - present
            db.executemany("DELETE FROM runs WHERE run_id = ?", [(r,) for r in gone])
            if present - known:
                for manifest in self._scan():
                    if manifest.run_id not in known:
                        _upsert(db, manifest, replace=False)

    def rebuild(self) -> int:
        """Throw the index away and build it again from the folders; return the run count."""
        self._delete()
        with self._connect() as db:  # a fresh file is filled from the folders
            return int(db.execute("SELECT count(*) FROM runs").fetchone()[0])

    # -- the connection -------------------------------------------------------------------
    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection to a valid index, rebuilding it first when it is missing or broken."""
        try:
            db = self._open()
        except sqlite3.DatabaseError as exc:
            logger.warning("run index %s is unreadable (%s): rebuilding it", self.path, exc)
            self._delete()
            db = self._open()  # a fresh file is filled from the folders
        try:
            with db:  # commits, or rolls back on error
                yield db
        finally:
            db.close()

    def _open(self) -> sqlite3.Connection:
        fresh = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10.0)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if not fresh and version != _FORMAT:
                raise sqlite3.DatabaseError(f"index format {version}, expected {_FORMAT}")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {_FORMAT}")
            db.execute("SELECT count(*) FROM runs").fetchone()
        except BaseException:
            db.close()
            raise
        if fresh:  # a new file: fill it from the folders before anyone reads it
            with db:
                for manifest in self._scan():
                    _upsert(db, manifest, replace=False)
        return db

    def _delete(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()


def _upsert(db: sqlite3.Connection, manifest: RunManifest, *, replace: bool) -> None:
    summary = RunSummary.of(manifest)
    started = manifest.started_at
    if started.tzinfo is not None:
        started = started.astimezone(timezone.utc)
    verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
    db.execute(
        f"{verb} INTO runs (run_id, status, verdict, started_at, summary) VALUES (?, ?, ?, ?, ?)",
        (
            manifest.run_id,
            manifest.status,
            manifest.verdict,
            started.strftime("%Y-%m-%dT%H:%M:%S.%f"),
            summary.model_dump_json(),
        ),
    )
