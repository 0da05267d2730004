"""What verification decided and the evidence it decided on: the run log and reports show it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain import Candidate, ExecError, Verdict
from .testcases import TestSource

CandidateStatus = Literal["ok", "load_error", "rejected"]


class Cell(BaseModel):
    """One candidate against one test case."""

    model_config = ConfigDict(frozen=True)

    test: str
    candidate: str
    outcome: Literal["pass", "fail", "error", "timeout", "skipped"]
    expected: str | None = None
    actual: str | None = None
    error: ExecError | None = None
    calls: list[str] = Field(default_factory=list, description="what a failing test's calls gave")
    in_process: bool = False  # ran beside the candidate: an outcome it could have forged


class TestEvidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    source: TestSource
    author: str | None = None
    code: str
    passed_by: list[str] = Field(default_factory=list)
    credible: bool = True  # an example read out of prose that no candidate passes: not a filter


class CandidateEvidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    origin: str = ""
    status: CandidateStatus
    load_error: ExecError | None = None
    hard_passed: int = 0
    hard_total: int = 0
    tests_passed: int = 0  # tests the candidates wrote, all of them
    tests_total: int = 0
    cluster: int | None = None
    calls: dict[str, int] = Field(default_factory=dict, description="call outcomes by kind")
    failures: list[Cell] = Field(default_factory=list, description="first failed trusted tests")


class ClusterEvidence(BaseModel):
    """Candidates that behaved alike on every differential input."""

    model_config = ConfigDict(frozen=True)

    index: int
    members: list[str]
    tests_passed: float
    score: float
    probability: float


class Counterexample(BaseModel):
    """A smallest input on which the selected behaviour and a rival one differ."""

    model_config = ConfigDict(frozen=True)

    call: str
    cluster: int  # the rival cluster
    selected_output: str
    rival_output: str


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    candidates: list[CandidateEvidence] = Field(default_factory=list)
    tests: list[TestEvidence] = Field(default_factory=list)
    cells: list[Cell] = Field(default_factory=list)
    clusters: list[ClusterEvidence] = Field(default_factory=list)
    counterexamples: list[Counterexample] = Field(default_factory=list)
    inputs: int = 0
    informative_inputs: int = 0
    notes: list[str] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)


class VerificationReport(BaseModel):
    """The verdict on a set of candidates. `selected` may be set even when not verified: it is
    the best pick, for a caller that wants to repair it or show it with a warning."""

    model_config = ConfigDict(frozen=True)

    selected: Candidate | None
    verdict: Verdict
    confidence: float = Field(ge=0.0, le=1.0)
    reasons: list[str] = Field(default_factory=list)
    evidence: Evidence = Field(default_factory=Evidence)
    alternatives: dict[str, str | None] = Field(
        default_factory=dict,
        description="the candidate id each baseline strategy (codet, majority) would pick",
    )
    duration_ms: float = 0.0

    @property
    def verified(self) -> bool:
        return self.verdict is Verdict.VERIFIED

    def summary(self) -> str:
        chosen = self.selected.id if self.selected else "none"
        why = f": {self.reasons[0]}" if self.reasons else ""
        return f"{self.verdict.value} (confidence {self.confidence:.2f}, selected {chosen}){why}"
