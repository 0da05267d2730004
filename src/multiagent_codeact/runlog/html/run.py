"""What the page is made from: a run's manifest, events, solution and files, read once.

A finished run has a Solution with the full verification report; an interrupted one has only
its events. Everything here takes whichever there is, so each section renders both the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ...domain import Solution
from ...events import Event
from ...optimize.report import OptimizationReport, Rejection
from ...verify.report import CandidateEvidence, ClusterEvidence, Counterexample, Evidence
from ..model import RunManifest, RunTotals
from ..totals import tally
from .parts import fraction, num, str_or_none

_M = TypeVar("_M", bound=BaseModel)


@dataclass
class Run:
    manifest: RunManifest
    events: list[Event]
    solution: Solution | None
    files: dict[str, bytes]
    prompt: str = ""
    verdict: str | None = None
    confidence: float | None = None
    totals: RunTotals = field(default_factory=RunTotals)
    start: float | None = None
    evidence: Evidence | None = None
    selected: str | None = None
    final: dict[str, Any] = field(default_factory=dict)  # the final execution event's data
    optimization: OptimizationReport | None = None

    @classmethod
    def of(
        cls,
        manifest: RunManifest,
        events: list[Event],
        solution: Solution | None,
        artifacts: Mapping[str, bytes],
    ) -> Run:
        files = dict(artifacts)
        for a in solution.artifacts if solution else ():
            if a.data and a.name not in files:
                files[a.name] = a.data
        run = cls(manifest, events, solution, files)
        run.prompt = solution.task.prompt if solution else str(manifest.task.get("prompt", ""))
        finished = run.last("run_finished")
        run.verdict = manifest.verdict or (
            solution.verdict.value if solution else str_or_none(finished.get("verdict"))
        )
        run.confidence = manifest.confidence
        if run.confidence is None:
            run.confidence = solution.confidence if solution else num(finished.get("confidence"))
        run.start = events[0].time if events else manifest.started_at.timestamp()
        run.totals = run._totals()
        run.evidence, run.selected = run._evidence()
        run.final = next(
            (e.data for e in reversed(events) if e.kind == "execution" and e.data.get("final")), {}
        )
        run.optimization = solution.optimization if solution else run._optimization_events()
        return run

    def last(self, kind: str) -> dict[str, Any]:
        return next((e.data for e in reversed(self.events) if e.kind == kind), {})

    def of_kind(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def offset(self, event: Event) -> str:
        return f"+{event.time - self.start:.2f} s" if self.start is not None else ""

    def _totals(self) -> RunTotals:
        """The manifest's totals; for a run that never wrote them, what the events add up to
        (counted as the writer counts, calls without a price included)."""
        totals = self.manifest.totals
        if totals.model_calls == 0 and self.of_kind("model_call"):
            totals = tally(self.events).totals()
        if totals.duration_ms == 0:
            m = self.manifest
            ms = (self.solution.duration_ms if self.solution else 0.0) or (
                num(self.last("run_finished").get("duration_ms")) or 0.0
            )
            if not ms and m.finished_at is not None:
                ms = (m.finished_at - m.started_at).total_seconds() * 1000
            if not ms and len(self.events) > 1:
                ms = (self.events[-1].time - self.events[0].time) * 1000
            totals = totals.model_copy(update={"duration_ms": ms})
        return totals

    def _optimization_events(self) -> OptimizationReport | None:
        """For a run without a Solution, what the optimizer's events kept: the outcome and each
        rejected rewrite's reason (not its code, nor the profiles)."""
        events = [e.data for e in self.of_kind("optimization")]
        if not events:
            return None
        outcome = next((d for d in reversed(events) if d.get("status")), None)
        keys = ("status", "reason", "speedup", "time_before_s", "time_after_s", "model_calls")
        fields: dict[str, Any] = (
            {"status": "failed", "reason": "the run ended before the optimizer finished"}
            if outcome is None
            else {k: outcome[k] for k in keys if outcome.get(k) is not None}
        )
        tried = [
            {
                "attempt": d.get("attempt"),
                "kind": d.get("rejection") or "unusable",
                "reason": d.get("reason") or "",
                "speedup": d.get("speedup"),
            }
            for d in events
            if d.get("attempt") is not None and not d.get("accepted")
        ]
        try:
            return OptimizationReport.model_validate(fields | {"rejected": valid(Rejection, tried)})
        except ValidationError:
            return None

    def _evidence(self) -> tuple[Evidence | None, str | None]:
        """The full report when the solution has it; else what the last verdict event kept
        (clusters and counterexamples, no test matrix) and the executions that led to it."""
        report = self.solution.report if self.solution else None
        if report is not None:
            return report.evidence, report.selected.id if report.selected else None
        last = max((i for i, e in enumerate(self.events) if e.kind == "verdict"), default=None)
        if last is None:
            return None, None
        data = self.events[last].data
        previous = max(
            (i for i, e in enumerate(self.events[:last]) if e.kind == "verdict"), default=-1
        )
        rows = [
            candidate_row(e.data)
            for e in self.events[previous + 1 : last]
            if e.kind == "execution" and not e.data.get("final")
        ]
        evidence = Evidence(
            candidates=[r for r in rows if r is not None],
            clusters=valid(ClusterEvidence, data.get("clusters")),
            counterexamples=valid(Counterexample, data.get("counterexamples")),
            notes=[str(n) for n in data.get("notes") or []],
        )
        return evidence, str_or_none(data.get("selected"))


def candidate_row(data: dict[str, Any]) -> CandidateEvidence | None:
    """An execution event as the report's row for its candidate; None if it is malformed."""
    hard = fraction(data.get("trusted"))
    gen = fraction(data.get("generated"))
    try:
        return CandidateEvidence(
            id=str(data.get("candidate")),
            status=data.get("status") or "ok",
            cluster=data.get("cluster"),
            hard_passed=hard[0],
            hard_total=hard[1],
            tests_passed=gen[0],
            tests_total=gen[1],
            load_error=data.get("load_error"),
        )
    except ValidationError:
        return None


def valid(model: type[_M], items: Any) -> list[_M]:
    """The items of a list that validate as `model`; the rest (other versions) dropped."""
    out: list[_M] = []
    for item in items if isinstance(items, list) else []:
        try:
            out.append(model.model_validate(item))
        except ValidationError:
            continue
    return out
