"""Run logs: one folder per run (run.json, events.jsonl, solution.json, artifacts/) and an
SQLite index of them that can always be rebuilt from the folders.

    store = RunStore()                                  # $MCODEACT_RUNS_DIR or ./.mcodeact/runs
    with store.open_run(run_id, task=task, config=cfg, models=names) as writer:
        solution = await asolve(task, run_id=run_id, sinks=[writer])
        writer.finish(solution)
    store.list(); store.get(run_id).events(); store.follow(run_id)
"""

from .eventlog import CorruptLine, EventLog
from .export import EXPORTERS, Exporter
from .model import RunManifest, RunStatus, RunSummary, RunTotals
from .record import RunRecord, StoredArtifact
from .store import RunStore, default_root
from .writer import RunWriter

__all__ = [
    "EXPORTERS",
    "CorruptLine",
    "EventLog",
    "Exporter",
    "RunManifest",
    "RunRecord",
    "RunStatus",
    "RunStore",
    "RunSummary",
    "RunTotals",
    "RunWriter",
    "StoredArtifact",
    "default_root",
]
