"""RunStore: where runs are recorded (`open_run`) and read back (`list`, `get`, `follow`).

    <root>/                 $MCODEACT_RUNS_DIR, or ./.mcodeact/runs
        index.sqlite        a cache of run summaries; rebuilt from the folders when in doubt
        <run id>/           see `runlog.model` for what a run folder holds

Reading never trusts the index over the folders: ids are resolved from the folder names, and
a row that still says "running" is checked against its run.json and its writer's process.
"""

from __future__ import annotations

import builtins
import difflib
import json
import logging
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from ..domain import Task
from ..errors import AmbiguousRunIdError, RunNotFoundError, RunStoreError
from ..events import REDACTED, Event
from .eventlog import EVENTS_FILE, EventLog, parse_line
from .index import INDEX_FILE, RunIndex
from .liveness import this_host, writer_alive
from .model import RunManifest, RunStatus, RunSummary
from .record import RunRecord, read_solution
from .totals import tally
from .writer import MANIFEST_FILE, RunWriter, register, write_manifest

logger = logging.getLogger(__name__)

ENV_VAR = "MCODEACT_RUNS_DIR"
DEFAULT_ROOT = Path(".mcodeact") / "runs"
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
STATUSES: tuple[str, ...] = get_args(RunStatus)


class RunStore:
    """A folder of runs and its index. Cheap to construct: nothing is touched until used."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self._index = RunIndex(self.root / INDEX_FILE, self._scan)

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    # -- writing --------------------------------------------------------------------------
    def open_run(
        self,
        run_id: str,
        *,
        task: Task | Mapping[str, Any],
        config: BaseModel | Mapping[str, Any] | None = None,
        models: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
    ) -> RunWriter:
        """Create the run's folder and its "running" manifest; return the writer (the sink).

        `secrets` (API keys) are replaced by "[REDACTED]" wherever they occur in the task or
        the config, as the Recorder does for events. Raises RunStoreError when the folder
        cannot be created: a run that cannot be recorded should be noticed before it starts.
        """
        if not RUN_ID.fullmatch(run_id):
            raise RunStoreError(
                f"run id {run_id!r} cannot name a folder: use letters, digits, '.', '_' and '-' "
                "(at most 128, starting with a letter or digit)"
            )
        folder = self.root / run_id
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            folder.mkdir()
        except FileExistsError:
            raise RunStoreError(
                f"a run {run_id!r} exists already in {self.root}; pick another run id"
            ) from None
        except OSError as exc:
            raise RunStoreError(
                f"cannot create the run folder {folder}: {exc.strerror or exc}; set "
                f"{ENV_VAR} to a writable folder"
            ) from exc
        manifest = RunManifest(
            run_id=run_id,
            task=_scrubbed(_as_dict(task), secrets),
            config=_scrubbed(_as_dict(config), secrets),
            models=dict(models or {}),
            started_at=datetime.now(timezone.utc),
            pid=os.getpid(),
            host=this_host(),
        )
        if not write_manifest(folder, manifest):
            raise RunStoreError(f"cannot write {folder / MANIFEST_FILE}; is the disk full?")
        register(self._index, manifest)
        return RunWriter(folder, manifest, self._index)

    # -- reading --------------------------------------------------------------------------
    def list(
        self, *, limit: int | None = None, status: str | None = None, verdict: str | None = None
    ) -> builtins.list[RunSummary]:
        """Summaries of the runs, newest first, optionally of one status or verdict."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status={status!r} is not one of {', '.join(STATUSES)}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit={limit!r} must be 0 or more (or None for all)")
        folders = self._folder_ids()
        if not folders and not self._index.path.exists():
            return []
        stored = None if status is None else ["running" if status == "interrupted" else status]
        try:
            self._index.sync(folders)
            rows = self._index.query(statuses=stored, verdict=verdict)
        except (sqlite3.Error, OSError) as exc:  # a read-only folder, a locked index
            logger.warning("run index %s unusable (%s): reading the folders", self._index.path, exc)
            rows = sorted(
                (RunSummary.of(m) for m in self._scan()),
                key=lambda r: (r.started_at, r.run_id),
                reverse=True,
            )
            rows = [r for r in rows if verdict is None or r.verdict == verdict]
        out: builtins.list[RunSummary] = []
        for row in rows:
            if limit is not None and len(out) >= limit:
                break
            summary = self._current(row) if row.status == "running" else row
            if status is None or summary.status == status:
                out.append(summary)
        return out

    def get(self, run_id: str) -> RunRecord:
        """The run `run_id` names (a unique prefix is enough): manifest, solution, events."""
        folder = self.root / self.resolve(run_id)
        manifest = read_manifest(folder)
        solution, artifacts, problems = read_solution(folder)
        return RunRecord(
            path=folder,
            manifest=manifest,
            status=reported_status(manifest),
            solution=solution,
            artifacts=artifacts,
            problems=problems,
        )

    def resolve(self, run_id: str) -> str:
        """The full id of the run `run_id` names, exactly or as the only id it starts."""
        if RUN_ID.fullmatch(run_id) and (self.root / run_id / MANIFEST_FILE).is_file():
            return run_id
        ids = self._folder_ids()
        matches = sorted(i for i in ids if i.startswith(run_id)) if run_id else []
        if len(matches) == 1:
            return matches[0]
        if matches:
            more = f" and {len(matches) - 8} more" if len(matches) > 8 else ""
            raise AmbiguousRunIdError(
                f"run id prefix {run_id!r} matches {len(matches)} runs: "
                f"{', '.join(matches[:8])}{more}; give more of the id"
            )
        if not ids:
            raise RunNotFoundError(
                f"no run {run_id!r}: there are no runs in {self.root} (set {ENV_VAR} or --runs-dir "
                "to read another folder)"
            )
        inside = sorted(i for i in ids if run_id and run_id in i)  # e.g. the random tail
        close = inside[:3] or difflib.get_close_matches(run_id, ids, n=3, cutoff=0.3)
        hint = f"closest: {', '.join(close)}" if close else "`mcodeact runs list` shows them"
        raise RunNotFoundError(f"no run {run_id!r} in {self.root}; {hint}")

    def follow(
        self, run_id: str, *, poll_s: float = 0.2, timeout_s: float | None = None
    ) -> Iterator[Event]:
        """Events of a run from the first, then as they are appended, until `run_finished`.

        Also stops when the run ends without one (aborted, or its process died) or after
        `timeout_s`. A line still being written is waited for; a corrupt one is skipped
        with a warning in the log.
        """
        folder = self.root / self.resolve(run_id)
        path = folder / EVENTS_FILE
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        offset, pending, ended = 0, b"", False
        while True:
            chunk = _read_from(path, offset)
            if chunk:
                offset += len(chunk)
                *lines, pending = (pending + chunk).split(b"\n")
                for raw in lines:
                    event = _event_or_warn(raw, path)
                    if event is not None:
                        yield event
                        if event.kind == "run_finished":
                            return
                continue
            if ended:  # nothing more after the run ended: a cut last line is all there is
                if pending.strip() and (event := _event_or_warn(pending, path)) is not None:
                    yield event
                return
            ended = reported_status(read_manifest(folder)) != "running"
            if ended:
                continue  # read once more: the last events may have landed meanwhile
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(poll_s)

    def reindex(self) -> int:
        """Rebuild the index from the run folders; return how many runs it holds."""
        if not self.root.exists():
            return 0
        return self._index.rebuild()

    # -- helpers --------------------------------------------------------------------------
    def _folder_ids(self) -> builtins.list[str]:
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        return [
            e.name
            for e in entries
            if e.is_dir(follow_symlinks=False)
            and RUN_ID.fullmatch(e.name)
            and os.path.isfile(os.path.join(e.path, MANIFEST_FILE))
        ]

    def _scan(self) -> Iterator[RunManifest]:
        for run_id in self._folder_ids():
            try:
                manifest = read_manifest(self.root / run_id)
            except RunStoreError as exc:
                logger.warning("%s; left out of the index", exc)
                continue
            yield _with_live_totals(self.root / run_id, manifest)

    def _current(self, row: RunSummary) -> RunSummary:
        """A "running" row checked against its folder: finished since, or interrupted; its
        totals counted from the events so far (the manifest gets them only at the end)."""
        folder = self.root / row.run_id
        try:
            manifest = read_manifest(folder)
        except RunStoreError:
            return row
        if manifest.status != "running":
            register(self._index, manifest)
            return RunSummary.of(manifest)
        live = RunSummary.of(_with_live_totals(folder, manifest))
        return live.model_copy(update={"status": reported_status(manifest)})


def default_root() -> Path:
    """$MCODEACT_RUNS_DIR, or .mcodeact/runs under the current directory."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else DEFAULT_ROOT


def read_manifest(folder: Path) -> RunManifest:
    path = folder / MANIFEST_FILE
    try:
        return RunManifest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise RunNotFoundError(f"no run folder at {folder} (no {MANIFEST_FILE})") from None
    except OSError as exc:
        raise RunStoreError(f"cannot read {path}: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise RunStoreError(
            f"{path} is not a valid run manifest ({where}: {first['msg']}); fix or remove the "
            "folder"
        ) from None


def reported_status(manifest: RunManifest) -> RunStatus:
    """The manifest's status, except "interrupted" for a running one whose writer is gone."""
    if manifest.status == "running" and not writer_alive(
        manifest.pid, manifest.host, manifest.started_at
    ):
        return "interrupted"
    return manifest.status


def _with_live_totals(folder: Path, manifest: RunManifest) -> RunManifest:
    """A manifest that never got its totals (still running, or killed): count the events."""
    if manifest.status != "running":
        return manifest
    return manifest.model_copy(update={"totals": tally(EventLog(folder / EVENTS_FILE)).totals()})


def _read_from(path: Path, offset: int) -> bytes:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read()
    except FileNotFoundError:
        return b""


def _event_or_warn(raw: bytes, path: Path) -> Event | None:
    if not raw.strip():
        return None
    event, problem = parse_line(raw)
    if event is None:
        logger.warning("skipped a corrupted line in %s: %s", path, problem)
    return event


def _as_dict(value: BaseModel | Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, BaseModel):
        dumped: dict[str, Any] = value.model_dump(mode="json")
        return dumped
    return dict(value)


def _scrubbed(data: dict[str, Any], secrets: Iterable[str]) -> dict[str, Any]:
    text = json.dumps(data, default=repr)
    for secret in sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True):
        text = text.replace(json.dumps(secret)[1:-1], REDACTED)
    loaded: dict[str, Any] = json.loads(text)
    return loaded
