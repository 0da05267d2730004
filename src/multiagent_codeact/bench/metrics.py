"""Selection metrics for candidate pools with a known answer (DESIGN.md §6).

random pick is pass@1 (the expected share of correct candidates in a pool), oracle the share
of problems with at least one correct candidate; gap closed puts a strategy between the two:
0 is no better than picking at random, 1 is as good as an oracle.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

BASELINES = ("codet", "majority")


class ProblemResult(BaseModel):
    """How one pool of one problem went."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    n_candidates: int
    n_correct: int
    selected_correct: bool  # no selection counts as wrong
    verdict: str
    confidence: float
    seconds: float
    baselines: dict[str, bool] = Field(default_factory=dict)  # strategy -> picked a correct one

    @property
    def verified(self) -> bool:
        return self.verdict == "verified"


class Strategy(BaseModel):
    model_config = ConfigDict(frozen=True)

    selected: float
    gap_closed: float | None


class SettingSummary(BaseModel):
    """One row of the benchmark: a pool setting over all problems that could take part."""

    model_config = ConfigDict(frozen=True)

    problems: int
    random: float
    oracle: float
    selected: float
    gap_closed: float | None
    verified: int
    false_positives: int
    false_positive_rate: float | None  # share of verified verdicts that are wrong
    abstention: float  # share of verdicts that are not `verified`
    accuracy_when_verified: float | None
    median_seconds: float
    short_pools: int  # pools with fewer candidates than asked (too few distinct mutants)
    baselines: dict[str, Strategy]


def gap_closed(selected: float, random: float, oracle: float) -> float | None:
    """(selected - random) / (oracle - random); None when the oracle is no better than random."""
    if oracle - random <= 1e-12:
        return None
    return (selected - random) / (oracle - random)


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def summarize(results: Sequence[ProblemResult], *, n_candidates: int) -> SettingSummary:
    if not results:
        return SettingSummary(
            problems=0, random=0.0, oracle=0.0, selected=0.0, gap_closed=None, verified=0,
            false_positives=0, false_positive_rate=None, abstention=0.0,
            accuracy_when_verified=None, median_seconds=0.0, short_pools=0, baselines={},
        )  # fmt: skip
    random = _mean([r.n_correct / r.n_candidates for r in results])
    oracle = _mean([float(r.n_correct > 0) for r in results])
    selected = _mean([float(r.selected_correct) for r in results])
    verified = [r for r in results if r.verified]
    false_positives = sum(1 for r in verified if not r.selected_correct)
    baselines = {
        name: Strategy(
            selected=(s := _mean([float(r.baselines.get(name, False)) for r in results])),
            gap_closed=gap_closed(s, random, oracle),
        )
        for name in BASELINES
    }
    return SettingSummary(
        problems=len(results),
        random=random,
        oracle=oracle,
        selected=selected,
        gap_closed=gap_closed(selected, random, oracle),
        verified=len(verified),
        false_positives=false_positives,
        false_positive_rate=false_positives / len(verified) if verified else None,
        abstention=1.0 - len(verified) / len(results),
        accuracy_when_verified=1 - false_positives / len(verified) if verified else None,
        median_seconds=statistics.median(r.seconds for r in results),
        short_pools=sum(1 for r in results if r.n_candidates < n_candidates),
        baselines=baselines,
    )
