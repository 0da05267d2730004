"""What a run folder holds, as models: the manifest (run.json) and the summary an index keeps.

A run folder is `<runs dir>/<run id>/` with:
    run.json       RunManifest, rewritten atomically at start and at the end
    events.jsonl   one `events.Event` per line, appended and flushed as it happens
    solution.json  the Solution without artifact bytes, written at the end
    artifacts/     the Solution's artifacts (plots, files the code wrote)
The folders are the truth; the SQLite index is a cache that can be rebuilt from them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal["running", "finished", "failed", "interrupted"]


class RunTotals(BaseModel):
    model_config = ConfigDict(frozen=True)

    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    duration_ms: float = 0.0
    events: int = 0
    errors: int = Field(default=0, description="error events: failed model calls, crashed agents")
    unpriced_calls: int = Field(default=0, description="model calls whose cost is unknown (0)")


class RunManifest(BaseModel):
    """run.json. `status` is "running" until the run ends; a running manifest whose process is
    gone is reported as "interrupted" by the store (the file itself is never guessed at)."""

    model_config = ConfigDict(frozen=True)

    format: Literal[1] = 1
    run_id: str
    status: RunStatus = "running"
    task: dict[str, Any]
    config: dict[str, Any] = Field(default_factory=dict, description="without secrets")
    models: dict[str, str] = Field(default_factory=dict, description="role -> model name")
    started_at: datetime
    finished_at: datetime | None = None
    pid: int | None = None
    host: str | None = None
    verdict: str | None = None
    confidence: float | None = None
    error: str | None = None
    write_errors: list[str] = Field(
        default_factory=list,
        description="what the store could not write (events from some point on, an artifact)",
    )
    totals: RunTotals = Field(default_factory=RunTotals)
    artifacts: list[str] = Field(default_factory=list, description="file names in artifacts/")


class RunSummary(BaseModel):
    """One row of `runs list`: what the index keeps about a run, enough to pick one.

    `status` is as reported, not as stored: a "running" manifest whose process is gone reads
    "interrupted" here."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    status: RunStatus
    task: str = Field(description="the task prompt's first line, shortened")
    task_id: str | None = None
    verdict: str | None = None
    confidence: float | None = None
    started_at: datetime
    finished_at: datetime | None = None
    pid: int | None = None
    host: str | None = None
    error: str | None = None
    totals: RunTotals = Field(default_factory=RunTotals)

    @classmethod
    def of(cls, manifest: RunManifest) -> RunSummary:
        prompt = str(manifest.task.get("prompt") or "")
        first = next((line.strip() for line in prompt.splitlines() if line.strip()), "")
        task_id = manifest.task.get("id")
        return cls(
            run_id=manifest.run_id,
            status=manifest.status,
            task=first if len(first) <= 120 else first[:119] + "…",
            task_id=task_id if isinstance(task_id, str) else None,
            verdict=manifest.verdict,
            confidence=manifest.confidence,
            started_at=manifest.started_at,
            finished_at=manifest.finished_at,
            pid=manifest.pid,
            host=manifest.host,
            error=manifest.error,
            totals=manifest.totals,
        )
