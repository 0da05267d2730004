"""What a batch run writes and returns: one `BatchRow` per task, and the `BatchReport` of all.

A row is one line of the results file (JSONL), written when its task ends; the report adds up
the rows (verdict counts, pass rate on the hidden tests, tokens, cost, time per task).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain import Verdict

__all__ = ["BatchReport", "BatchRow", "RowStatus", "percentile"]

RowStatus = Literal["verified", "disputed", "failed", "error"]


class BatchRow(BaseModel):
    """One task's outcome. `verdict` is None when solving it raised (`error` says why);
    `hidden_passed` is None when the task carried no hidden tests; `cost_usd` is None when
    some model call had no known price (never a made-up 0)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    task_id: str
    verdict: Verdict | None
    confidence: float = 0.0
    code: str | None = None
    hidden_passed: bool | None = None
    hidden_error: str | None = Field(None, description="why the hidden tests failed, shortened")
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens: int = 0
    unpriced_calls: int = Field(0, description="model calls without a known price")
    cost_usd: float | None = None
    seconds: float = Field(ge=0)
    run_id: str | None = Field(description="the task's own run in the run store")
    batch_id: str | None = Field(None, description="the bench run that recorded this row")
    error: str | None = None
    finished_at: datetime

    @property
    def status(self) -> RowStatus:
        return "error" if self.verdict is None else self.verdict.value


class BatchReport(BaseModel):
    """Every task's row, in the order of the task list, and what they add up to.

    `resumed` counts the rows read back from an earlier, cut run instead of solved now.
    """

    model_config = ConfigDict(frozen=True)

    batch_id: str | None
    results_path: Path
    rows: list[BatchRow]
    resumed: int = 0
    wall_s: float = 0.0

    def count(self, status: RowStatus) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def verified(self) -> bool:
        """True when every task was verified."""
        return all(r.verdict is Verdict.VERIFIED for r in self.rows)

    @property
    def hidden_total(self) -> int:
        return sum(1 for r in self.rows if r.hidden_passed is not None)

    @property
    def hidden_passed(self) -> int:
        return sum(1 for r in self.rows if r.hidden_passed)

    @property
    def pass_rate(self) -> float | None:
        """Share of the tasks with hidden tests whose answer passed them; None without any."""
        return self.hidden_passed / self.hidden_total if self.hidden_total else None

    @property
    def tokens(self) -> int:
        return sum(r.tokens for r in self.rows)

    @property
    def cost_usd(self) -> float | None:
        """The total cost; None when any row's cost is unknown."""
        costs = [r.cost_usd for r in self.rows]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)

    def seconds(self, q: float) -> float | None:
        """The q-quantile (0..1) of the seconds per task, nearest rank; None without rows."""
        return percentile([r.seconds for r in self.rows], q)

    def summary(self) -> dict[str, object]:
        """The figures of the summary table, as JSON-ready values."""
        return {
            "tasks": len(self.rows),
            "resumed": self.resumed,
            "verified": self.count("verified"),
            "disputed": self.count("disputed"),
            "failed": self.count("failed"),
            "errors": self.count("error"),
            "hidden_tests": self.hidden_total,
            "hidden_passed": self.hidden_passed,
            "pass_rate": self.pass_rate,
            "tokens": self.tokens,
            "cost_usd": self.cost_usd,
            "p50_s": self.seconds(0.5),
            "p95_s": self.seconds(0.95),
            "wall_s": self.wall_s,
        }


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least q of the values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
