"""The pieces without a sandbox: growth fit, noise rule, speed decision, scaling, fast rule."""

from __future__ import annotations

import pytest

from multiagent_codeact.config import OptimizerConfig
from multiagent_codeact.optimize.accept import beyond_noise, speed_decision
from multiagent_codeact.optimize.optimizer import describe_profile, is_fast
from multiagent_codeact.optimize.profile import growth_exponent
from multiagent_codeact.optimize.report import Profile, SizeTiming
from multiagent_codeact.optimize.scaling import growth_ladder, input_size, scale


def timings(cost: object, sizes: list[int], overhead: float = 0.0) -> list[SizeTiming]:
    return [SizeTiming(size=n, samples_ns=[overhead + cost(n)]) for n in sizes]  # type: ignore[operator]


SIZES = [2**k for k in range(4, 14)]


@pytest.mark.parametrize(
    ("cost", "expected"),
    [
        (lambda n: 50.0 * n, 1.0),
        (lambda n: 3.0 * n * n, 2.0),
        (lambda n: 0.01 * n**3, 3.0),
    ],
)
def test_growth_exponent_recovers_the_power(cost: object, expected: float) -> None:
    assert growth_exponent(timings(cost, SIZES)) == pytest.approx(expected, abs=0.01)


def test_growth_exponent_ignores_fixed_overhead_at_small_sizes() -> None:
    # 20 µs per call of fixed cost hides linear work until the inputs are large.
    fitted = growth_exponent(timings(lambda n: 200.0 * n, SIZES, overhead=20_000))
    assert fitted is not None and 0.8 < fitted <= 1.0


def test_growth_exponent_needs_two_sizes() -> None:
    assert growth_exponent([]) is None
    assert growth_exponent(timings(lambda n: 1e6, [64])) is None


def test_noise_rule_needs_a_gap_larger_than_the_spread() -> None:
    before = [100.0, 101.0, 99.0, 100.5, 100.2]
    assert beyond_noise(before, [80.0, 80.5, 79.5, 80.2, 80.1])  # tight and apart
    # Medians 1.25x apart, but the samples overlap widely: not a measured difference.
    assert not beyond_noise([100.0, 60.0, 140.0, 90.0, 130.0], [80.0, 40.0, 120.0, 70.0, 110.0])
    assert not beyond_noise(before, [150.0, 151.0, 149.0])  # slower
    assert not beyond_noise([100.0, 100.0], [10.0, 10.0])  # too few samples to know the noise


def test_speed_decision_is_a_ratio_of_summed_medians() -> None:
    before = [
        SizeTiming(size=n, samples_ns=[t, t * 1.01, t * 0.99]) for n, t in [(1, 10.0), (2, 90.0)]
    ]
    after = [
        SizeTiming(size=n, samples_ns=[t, t * 1.01, t * 0.99]) for n, t in [(1, 10.0), (2, 40.0)]
    ]
    ok, kind, reason, speedup = speed_decision(before, after, 1.1)
    assert ok and kind is None and speedup == pytest.approx(2.0)
    ok, kind, reason, _ = speed_decision(before, after, 2.5)
    assert not ok and kind == "slower" and "2.00x is below the 2.5x needed" in reason


def test_speed_decision_rejects_a_speedup_within_the_noise() -> None:
    before = [SizeTiming(size=8, samples_ns=[100.0, 60.0, 140.0, 90.0, 130.0])]
    after = [SizeTiming(size=8, samples_ns=[80.0, 40.0, 120.0, 70.0, 110.0])]
    ok, kind, reason, speedup = speed_decision(before, after, 1.1)
    assert not ok and kind == "noise" and "spread" in reason
    assert speedup == pytest.approx(100 / 80)


def test_scaling_keeps_sorted_distinct_lists_sorted_and_distinct() -> None:
    grown = scale(([1, 3, 7], 2, "ab"), 4)
    xs = grown[0]
    assert len(xs) == 12 and xs == sorted(xs) and len(set(xs)) == 12
    assert grown[1] == 2 and grown[2] == "abababab"  # an int beside a sequence stays put
    assert input_size(grown) == 12 + 8


def test_integer_arguments_grow_from_one_keeping_their_ratio() -> None:
    ladder = growth_ladder([(10, 5), (3, 1)])
    assert [i.args for i in ladder[:4]] == [(1, 0), (2, 1), (4, 2), (8, 4)]
    assert [i.size for i in ladder[:4]] == [1, 2, 4, 8]


def test_the_ladder_grows_the_largest_input_and_stops_at_the_size_cap() -> None:
    ladder = growth_ladder([([1, 2],), ([5, 1, 4, 1],), ([],)], max_chars=2000)
    assert ladder[0].args == ([5, 1, 4, 1],)
    sizes = [i.size for i in ladder]
    assert sizes == sorted(sizes) and sizes[1] == 2 * sizes[0]
    assert sizes[-1] < 2000
    assert growth_ladder([([],), (0,)]) == []  # nothing to grow


def test_fast_rule_needs_both_speed_and_slow_growth() -> None:
    cfg = OptimizerConfig(time_budget_s=0.05, max_exponent=1.5)
    quick = timings(lambda n: 100.0 * n, SIZES)  # 0.8 ms at the largest
    assert is_fast(Profile(timings=quick, exponent=1.0), cfg)
    assert not is_fast(Profile(timings=quick, exponent=2.0), cfg)  # small n hides quadratic
    slow = timings(lambda n: 1e4 * n, SIZES)  # 82 ms at the largest
    assert not is_fast(Profile(timings=slow, exponent=1.0), cfg)
    assert not is_fast(Profile(), cfg)  # nothing measured: not known to be fast


def test_the_agent_reads_the_profile() -> None:
    text = describe_profile(
        Profile(timings=timings(lambda n: 3.0 * n * n, [10, 20]), exponent=2.0, stopped="x")
    )
    assert "size 20: 0.001 ms" in text and "size^2.00" in text and "stopped growing: x" in text
