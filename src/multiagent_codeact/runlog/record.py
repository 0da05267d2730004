"""RunRecord: one run read back from its folder, for `runs show`, exports and reports.

Whatever part of a folder is damaged, the rest stays readable: a solution.json that no longer
validates becomes a line in `problems`, a corrupt events line is skipped and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..domain import Artifact, Solution
from .eventlog import EVENTS_FILE, EventLog
from .model import RunManifest, RunStatus, RunTotals
from .totals import tally
from .writer import SOLUTION_FILE


class StoredArtifact(BaseModel):
    """An artifact as solution.json lists it; `file` is relative to the run folder (None when
    it could not be written)."""

    model_config = ConfigDict(frozen=True)

    name: str
    mime_type: str
    size: int
    file: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """A run as stored. `status` is as reported ("interrupted" when the writer died while the
    manifest still says "running"). `solution` is None until the run finished (or when
    solution.json cannot be read: see `problems`); its artifacts carry their bytes."""

    path: Path
    manifest: RunManifest
    status: RunStatus
    solution: Solution | None = None
    artifacts: list[StoredArtifact] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    @property
    def final(self) -> bool:
        """True when the manifest was closed (finished, failed, cancelled)."""
        return self.manifest.status != "running"

    def events(self) -> EventLog:
        """The events, read lazily; after iterating, `.corrupt` lists the skipped lines."""
        return EventLog(self.path / EVENTS_FILE)

    def totals(self) -> RunTotals:
        """The manifest's totals once the run is closed; counted from the events before."""
        if self.final:
            return self.manifest.totals
        return tally(self.events()).totals()

    def artifact_path(self, artifact: StoredArtifact) -> Path | None:
        """Where an artifact's file is, or None if it was never written."""
        return self.path / artifact.file if artifact.file else None

    def _repr_html_(self) -> str:
        """A compact card for Jupyter: the run's status and totals, then its solution."""
        from .notebook import record_card

        return record_card(self)


def read_solution(folder: Path) -> tuple[Solution | None, list[StoredArtifact], list[str]]:
    """(solution, its artifacts as listed, problems) from solution.json; all empty if absent."""
    path = folder / SOLUTION_FILE
    try:
        data: Any = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None, [], []
    except (OSError, ValueError) as exc:
        return None, [], [f"cannot read {path}: {exc}"]
    if not isinstance(data, dict):
        return None, [], [f"{path} does not hold a JSON object"]
    problems: list[str] = []
    listed: list[StoredArtifact] = []
    for item in data.pop("artifacts", None) or []:
        try:
            listed.append(StoredArtifact.model_validate(item))
        except ValidationError:
            problems.append(f"{path}: an artifact entry is malformed: {item!r:.80}")
    loaded: list[Artifact] = []
    for stored in listed:
        if stored.file is None:
            problems.append(f"artifact {stored.name!r} was not saved")
            continue
        target = (folder / stored.file).resolve()
        if not target.is_relative_to(folder.resolve()):
            problems.append(f"artifact {stored.name!r}: {stored.file!r} is outside the run folder")
            continue
        try:
            blob = target.read_bytes()
        except OSError as exc:
            problems.append(f"artifact {stored.name!r}: cannot read {stored.file}: {exc}")
            continue
        loaded.append(Artifact(name=stored.name, mime_type=stored.mime_type, data=blob))
    try:
        solution = Solution.model_validate({**data, "artifacts": loaded})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        problems.append(f"{path} does not match Solution ({where}: {first['msg']})")
        return None, listed, problems
    return solution, listed, problems
