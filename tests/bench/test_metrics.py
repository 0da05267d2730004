"""Selection metrics: random, oracle, gap closed, false positives, abstention, baselines."""

from __future__ import annotations

import pytest

from multiagent_codeact.bench.metrics import ProblemResult, gap_closed, summarize


def result(
    n_correct: int,
    selected: bool,
    verdict: str,
    *,
    n: int = 5,
    codet: bool = False,
    majority: bool = False,
    seconds: float = 1.0,
) -> ProblemResult:
    return ProblemResult(
        task_id="t",
        n_candidates=n,
        n_correct=n_correct,
        selected_correct=selected,
        verdict=verdict,
        confidence=0.5,
        seconds=seconds,
        baselines={"codet": codet, "majority": majority},
    )


def test_gap_closed() -> None:
    assert gap_closed(0.4, 0.4, 0.9) == 0.0
    assert gap_closed(0.9, 0.4, 0.9) == pytest.approx(1.0)
    assert gap_closed(0.65, 0.4, 0.9) == pytest.approx(0.5)
    assert gap_closed(0.3, 0.4, 0.9) == pytest.approx(-0.2)
    assert gap_closed(1.0, 1.0, 1.0) is None


def test_summary() -> None:
    results = [
        result(2, True, "verified", codet=True, majority=True, seconds=0.5),
        result(2, False, "verified", codet=True, seconds=2.0),  # a false positive
        result(0, False, "failed", seconds=1.0),  # no correct candidate: oracle misses too
        result(1, True, "disputed", n=3, majority=True, seconds=3.0),  # a short pool
    ]
    s = summarize(results, n_candidates=5)
    assert s.problems == 4
    assert s.random == pytest.approx((0.4 + 0.4 + 0.0 + 1 / 3) / 4)
    assert s.oracle == pytest.approx(0.75)
    assert s.selected == pytest.approx(0.5)
    assert s.gap_closed == pytest.approx((0.5 - s.random) / (0.75 - s.random))
    assert s.verified == 2 and s.false_positives == 1 and s.false_positive_rate == 0.5
    assert s.abstention == pytest.approx(0.5)
    assert s.accuracy_when_verified == 0.5
    assert s.median_seconds == pytest.approx(1.5)
    assert s.short_pools == 1
    assert s.baselines["codet"].selected == pytest.approx(0.5)
    assert s.baselines["majority"].selected == pytest.approx(0.5)


def test_no_verified_verdict_has_no_false_positive_rate() -> None:
    s = summarize([result(1, False, "disputed")], n_candidates=5)
    assert s.false_positive_rate is None and s.abstention == 1.0
    assert summarize([], n_candidates=5).problems == 0
