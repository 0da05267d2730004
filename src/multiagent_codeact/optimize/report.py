"""What the optimizer measured and decided: plain pydantic models, cheap to import.

Kept apart from the code that measures (which pulls in the sandbox and Hypothesis) so that a
Solution, a run log or a report can be read without either.
"""

from __future__ import annotations

import statistics
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RejectionKind = Literal[
    "unusable", "load", "test", "output", "hangs", "slower", "noise", "stateful"
]
Status = Literal["accepted", "rejected", "already_fast", "not_profiled", "failed"]


class SizeTiming(BaseModel):
    """Repeated timings of one call on one input; `samples_ns` are per-call nanoseconds."""

    model_config = ConfigDict(frozen=True)

    size: int
    samples_ns: list[float] = Field(min_length=1)

    @property
    def median_ns(self) -> float:
        return statistics.median(self.samples_ns)

    @property
    def min_ns(self) -> float:
        return min(self.samples_ns)


class HotLine(BaseModel):
    """How often one line of the code ran in one traced call."""

    model_config = ConfigDict(frozen=True)

    function: str
    line: int
    hits: int
    source: str = ""


class Profile(BaseModel):
    """How one program's time grows with its input, where the time goes, and its peak memory."""

    model_config = ConfigDict(frozen=True)

    timings: list[SizeTiming] = Field(default_factory=list, description="by growing size")
    exponent: float | None = Field(
        None, description="slope of log time against log size: 1 linear, 2 quadratic"
    )
    stopped: str = Field("", description="why the inputs stopped growing, if before the last")
    hot_lines: list[HotLine] = Field(default_factory=list, description="hottest first")
    hottest_function: str | None = None
    peak_memory_bytes: int | None = None
    memory_method: Literal["tracemalloc", "maxrss"] | None = Field(
        None, description="tracemalloc: the largest call's peak; maxrss: the job's peak RSS"
    )
    errors: list[str] = Field(default_factory=list)

    @property
    def largest_median_s(self) -> float | None:
        return self.timings[-1].median_ns / 1e9 if self.timings else None

    def total_median_s(self, sizes: set[int] | None = None) -> float:
        """Summed median time over the sizes given (all by default): EffiBench's NET style."""
        return sum(t.median_ns for t in self.timings if sizes is None or t.size in sizes) / 1e9


class Rejection(BaseModel):
    """A rewrite that was not kept, and the check it failed."""

    model_config = ConfigDict(frozen=True)

    attempt: int
    kind: RejectionKind
    reason: str
    code: str | None = None
    speedup: float | None = None


class OptimizationReport(BaseModel):
    """The optimizer's outcome. `code` is set only for a rewrite that passed every check."""

    model_config = ConfigDict(frozen=True)

    status: Status
    reason: str = ""
    code: str | None = None
    speedup: float | None = Field(None, description="summed median time before / after")
    time_before_s: float | None = None
    time_after_s: float | None = None
    memory_before_bytes: int | None = None
    memory_after_bytes: int | None = None
    before: Profile | None = None
    after: Profile | None = None
    rejected: list[Rejection] = Field(default_factory=list)
    model_calls: int = 0
    duration_ms: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"
