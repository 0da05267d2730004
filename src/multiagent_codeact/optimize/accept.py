"""The acceptance rule: a rewrite is kept only if it is proven equivalent and measured faster.

Correctness comes first: the rewrite must pass every test the original passed and give the
original's outputs (floats within tolerance) on the differential inputs and on the large ones.
Only then is speed looked at, with both programs timed in the same job, their repeats
interleaved: the summed median time must shrink by `min_speedup` (EffiBench's NET ratio), and
on the largest input the gap between medians must exceed the spread of the samples, so a
lucky run cannot pass for a speedup.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..config import OptimizerConfig
from ..sandbox import Sandbox
from ..verify import codec
from ..verify.runner import CallOutcome, ProgramRun, run_program, same_outcome
from ..verify.testcases import TestGroup
from .profile import profile, time_programs
from .report import Profile, RejectionKind, SizeTiming
from .scaling import SizedInput, growth_ladder

ATOL = RTOL = 1e-9  # as the verifier's scoring


class Baseline(BaseModel):
    """What the original did: the reference every rewrite is held to."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    code: str
    entry_point: str
    run: ProgramRun = Field(description="tests, then differential and large inputs")
    inputs: list[tuple[Any, ...]] = Field(description="differential inputs, then large ones")
    n_differential: int
    large: list[SizedInput] = Field(description="ladder inputs the original was timed on in full")
    profile: Profile
    call_timeout_s: float


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    accepted: bool
    kind: RejectionKind | None = None
    reason: str = ""
    speedup: float | None = None
    before: list[SizeTiming] = Field(default_factory=list)
    after: list[SizeTiming] = Field(default_factory=list)


async def measure_baseline(
    sandbox: Sandbox,
    code: str,
    entry_point: str,
    *,
    tests: Sequence[TestGroup],
    inputs: Sequence[tuple[Any, ...]],
    config: OptimizerConfig,
) -> Baseline:
    """Run the original on the tests and inputs, grow the inputs it answers, and profile it."""
    small = await run_program(
        sandbox, code, entry_point, tests=tests, inputs=inputs, call_timeout_s=config.call_timeout_s
    )
    answered = [
        args for args, out in zip(inputs, small.outputs, strict=False) if out.kind == "value"
    ]
    ladder = growth_ladder(answered)
    prof = await profile(
        sandbox,
        code,
        entry_point,
        ladder,
        repeats=config.repeats,
        stop_s=config.stop_s,
        call_timeout_s=config.call_timeout_s,
    )
    full = {t.size for t in prof.timings if len(t.samples_ns) > 1}
    large = [i for i in ladder if i.size in full]
    slowest = max((t.median_ns / 1e9 for t in prof.timings if t.size in full), default=0.0)
    # Room for a rewrite that is somewhat slower to show it, not to look like a hang.
    timeout = max(config.call_timeout_s, 10 * slowest)
    big = await run_program(
        sandbox, code, entry_point, inputs=[i.args for i in large], call_timeout_s=timeout
    )
    run = small.model_copy(
        update={
            "outputs": [*small.outputs, *big.outputs],
            "duration_ms": small.duration_ms + big.duration_ms,
        }
    )
    return Baseline(
        code=code,
        entry_point=entry_point,
        run=run,
        inputs=[*inputs, *(i.args for i in large)],
        n_differential=len(inputs),
        large=large,
        profile=prof,
        call_timeout_s=timeout,
    )


async def check_rewrite(
    sandbox: Sandbox,
    baseline: Baseline,
    code: str,
    *,
    tests: Sequence[TestGroup],
    config: OptimizerConfig,
) -> Decision:
    """Accept `code` only if it passes every check; otherwise say which check, and how."""
    # A rewrite may take a few times the original's whole run: past that, it hangs.
    budget = 2.0 + baseline.call_timeout_s + 3 * baseline.run.duration_ms / 1000
    run = await run_program(
        sandbox,
        code,
        baseline.entry_point,
        tests=tests,
        inputs=baseline.inputs,
        call_timeout_s=baseline.call_timeout_s,
        budget_s=budget,
    )
    sources = {case.id: case.src for group in tests for case in group.cases}
    problem = correctness_problem(baseline, run, sources)
    if problem is not None:
        return Decision(accepted=False, kind=problem[0], reason=problem[1])
    if not baseline.large:
        return Decision(accepted=False, kind="noise", reason="the original could not be timed")
    timing = await time_programs(
        sandbox,
        [baseline.code, code],
        baseline.entry_point,
        baseline.large,
        repeats=config.repeats,
        stop_s=4 * config.stop_s,
        call_timeout_s=baseline.call_timeout_s,
    )
    if timing.load_error or timing.job_error:
        return Decision(
            accepted=False, kind="load", reason=timing.load_error or timing.job_error or ""
        )
    before = [timing.programs[0].timings[i] for i in sorted(timing.programs[0].timings)]
    after = [timing.programs[1].timings[i] for i in sorted(timing.programs[1].timings)]
    missing = [baseline.large[i].size for i in sorted(timing.programs[1].failures)]
    if missing or len(after) < len(before):
        what = "timed out" if missing else "grew too slow"
        return Decision(
            accepted=False,
            kind="hangs" if missing else "slower",
            reason=f"the rewrite {what} on the large inputs the original handles",
            before=before,
            after=after,
        )
    ok, kind, reason, speedup = speed_decision(before, after, config.min_speedup)
    return Decision(
        accepted=ok, kind=kind, reason=reason, speedup=speedup, before=before, after=after
    )


def correctness_problem(
    baseline: Baseline, run: ProgramRun, sources: dict[str, str] | None = None
) -> tuple[RejectionKind, str] | None:
    """The first way `run` departs from the original's behaviour, or None. `sources` maps
    test ids to their code, for messages that quote the test."""
    sources = sources or {}
    if run.load_error is not None:
        return "load", f"the rewrite does not load: {run.load_error.type}: {run.load_error.message}"
    for test_id, before in baseline.run.tests.items():
        after = run.tests.get(test_id)
        if not before.passed or (after is not None and after.passed):
            continue
        test = f"`{sources[test_id].strip()}`" if test_id in sources else test_id
        if after is None or after.kind in ("timeout", "skipped"):
            return "hangs", f"hangs: test {test} got no answer within the time limit"
        if after.actual is not None:
            detail = f"expected {after.expected}, got {after.actual}"
        else:
            detail = f"{after.error.type}: {after.error.message}" if after.error else after.kind
        return "test", f"fails test {test}, which the original passes: {detail}"
    for index, (a, b) in enumerate(zip(baseline.run.outputs, run.outputs, strict=False)):
        if a.kind in ("timeout", "skipped") or same_outcome(a, b, atol=ATOL, rtol=RTOL):
            continue
        where = _where(baseline, index)
        if b.kind in ("timeout", "skipped"):
            limit = baseline.call_timeout_s
            return "hangs", f"hangs: no answer within {limit:g} s on {where}"
        return "output", (
            f"differs from the original on {where}: the original gives {_show(a)}, "
            f"the rewrite gives {_show(b)}"
        )
    return None


def speed_decision(
    before: Sequence[SizeTiming], after: Sequence[SizeTiming], min_speedup: float
) -> tuple[bool, RejectionKind | None, str, float | None]:
    """Faster by `min_speedup` in summed medians, and beyond the noise on the largest input."""
    sizes = {t.size for t in before} & {t.size for t in after}
    if not sizes:
        return False, "noise", "no input was timed for both programs", None
    total_before = sum(t.median_ns for t in before if t.size in sizes)
    total_after = sum(t.median_ns for t in after if t.size in sizes)
    speedup = total_before / max(total_after, 1.0)
    times = f"summed median {total_before / 1e6:.3f} ms before, {total_after / 1e6:.3f} ms after"
    if speedup < min_speedup:
        return (
            False,
            "slower",
            f"{speedup:.2f}x is below the {min_speedup:g}x needed ({times})",
            speedup,
        )
    top = max(sizes)
    a = next(t for t in before if t.size == top)
    b = next(t for t in after if t.size == top)
    if not beyond_noise(a.samples_ns, b.samples_ns):
        return (
            False,
            "noise",
            (
                f"{speedup:.2f}x, but on the largest input (size {top}) the gap between medians "
                f"does not exceed the spread of the samples ({times})"
            ),
            speedup,
        )
    return True, None, f"{speedup:.2f}x faster ({times})", speedup


def beyond_noise(before: Sequence[float], after: Sequence[float]) -> bool:
    """True when `after` is faster by more than the samples' spread: the gap between the
    medians must exceed the two interquartile ranges together. Needs 3+ samples each."""
    if len(before) < 3 or len(after) < 3:
        return False
    gap = statistics.median(before) - statistics.median(after)
    return gap > 0 and gap > _iqr(before) + _iqr(after)


def _iqr(samples: Sequence[float]) -> float:
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return q3 - q1


def _where(baseline: Baseline, index: int) -> str:
    if index >= baseline.n_differential:
        size = baseline.large[index - baseline.n_differential].size
        return f"the large input of size {size}"
    args = ", ".join(codec.show(a, 60) for a in baseline.inputs[index])
    return f"{baseline.entry_point}({args})"


def _show(outcome: CallOutcome) -> str:
    if outcome.kind == "raised":
        return f"an exception ({outcome.error[:200]})"
    if outcome.kind == "timeout":
        return "no answer in time"
    return codec.show(outcome.value, 200)
