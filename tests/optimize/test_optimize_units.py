"""The pieces without a sandbox: growth fit, noise rule, speed decision, scaling, fast rule."""

from __future__ import annotations

import math

import pytest

from multiagent_codeact.config import OptimizerConfig
from multiagent_codeact.optimize.accept import beyond_noise, speed_decision, speedup_interval
from multiagent_codeact.optimize.optimizer import describe_profile, is_fast
from multiagent_codeact.optimize.profile import growth_exponent
from multiagent_codeact.optimize.report import Profile, SizeTiming
from multiagent_codeact.optimize.scaling import growth_ladder, input_size


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


def paired(size: int, before: list[float], after: list[float]) -> tuple[SizeTiming, SizeTiming]:
    return SizeTiming(size=size, samples_ns=before), SizeTiming(size=size, samples_ns=after)


def test_the_speedup_is_measured_on_the_largest_sizes_only() -> None:
    # Per-call overhead makes the small sizes a tie; the work shows at the large ones.
    sizes = [(1, 10.0, 10.0), (2, 10.0, 10.0), (4, 90.0, 40.0), (8, 360.0, 90.0)]
    before, after = [], []
    for n, old, new in sizes:
        a, b = paired(n, [old, old * 1.01, old * 0.99, old], [new, new * 1.01, new * 0.99, new])
        before.append(a)
        after.append(b)
    ok, kind, reason, speedup = speed_decision(before, after, 1.1)
    assert ok and kind is None
    assert speedup == pytest.approx((90 / 40 * 360 / 90) ** 0.5, rel=0.02)  # sizes 4 and 8
    assert "sizes 4-8" in reason and "95% interval" in reason
    ok, kind, reason, _ = speed_decision(before, after, 4.0)
    assert not ok and kind == "slower" and "4x needed" in reason


def test_a_speedup_whose_interval_includes_one_is_noise_not_a_speedup() -> None:
    # A 0.81x rewrite that one lucky sample makes look 1.13x faster on the median.
    before, after = paired(8, [100, 60, 140, 90, 130, 100], [80, 140, 120, 170, 60, 150])
    ok, kind, _, speedup = speed_decision([before], [after], 1.1)
    assert not ok and kind in ("noise", "slower")
    assert speedup is not None and speedup < 1.1


def test_the_interval_narrows_with_more_samples() -> None:
    few = speedup_interval([0.2, 0.4, 0.1])
    many = speedup_interval([0.2, 0.4, 0.1] * 10)
    assert few[1] < many[1] <= many[0] <= many[2] < few[2]
    assert speedup_interval([]) == (1.0, 0.0, math.inf)


def test_growth_keeps_the_shape_of_real_inputs_instead_of_repeating_one() -> None:
    words = [("the cat",), ("a dog runs",), ("sun",), ("big red ball",)]
    ladder = growth_ladder(words, max_chars=4000)
    large = ladder[-1].args[0]
    assert len(large) > 1000
    assert large.count(" ") > len(large) // 10  # still words with spaces, not one giant word
    assert "cat" in large and "dog" in large  # made of the drawn inputs, not of one of them


def test_growth_keeps_sorted_distinct_lists_sorted_and_distinct() -> None:
    ladder = growth_ladder([([1, 3, 7], 2), ([2, 5], 2), ([0, 4, 9, 11], 2)], max_chars=5000)
    xs, k = ladder[-1].args
    assert len(xs) >= 100 and xs == sorted(xs) and len(set(xs)) == len(xs)
    assert k == 2  # an int beside a sequence stays put
    assert input_size(ladder[-1].args) == len(xs)


def test_integer_arguments_grow_from_one_keeping_their_ratio() -> None:
    ladder = growth_ladder([(10, 5), (3, 1)])
    assert [i.args for i in ladder[:4]] == [(1, 0), (2, 1), (4, 2), (8, 4)]
    assert [i.size for i in ladder[:4]] == [1, 2, 4, 8]


def test_the_ladder_doubles_and_stops_at_the_size_cap() -> None:
    ladder = growth_ladder([([1, 2],), ([5, 1, 4, 1],), ([],)], max_chars=2000)
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
