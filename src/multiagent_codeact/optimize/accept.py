"""The acceptance rule: a rewrite is kept only if it is proven equivalent and measured faster.

Correctness comes first, by exact behavioural equivalence: the rewrite must pass every test the
original passed and, on every differential and large input, return what the original returns
with the same types (1, 1.0 and True differ; so do a list and a tuple; dicts in the same
order), raise the same exception type where it raises, and leave its arguments as the
original leaves them (a rewrite that sorts the caller's list in place differs from one that
does not). Floats match within ATOL/RTOL = 1e-9, and only against floats.

Only then is speed looked at, on the largest inputs (where per-call overhead no longer hides
the work), both programs timed in the same job with their repeats interleaved. The speedup is
the geometric mean of paired ratios, with a 95% interval; it is accepted only when it reaches
`min_speedup` and the interval excludes 1.0. An undecided measurement is repeated, samples
pooled, a few times; still undecided, the rewrite is rejected as noise.
"""

from __future__ import annotations

import math
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
    pooled: dict[int, tuple[list[float], list[float]]] = {}
    decision = Decision(accepted=False, kind="noise", reason="not timed")
    for _ in range(TIMING_ROUNDS):
        timed = await _time_pair(sandbox, baseline, code, config)
        if isinstance(timed, Decision):
            return timed
        for a, b in zip(*timed, strict=True):
            old, new = pooled.setdefault(a.size, ([], []))
            old.extend(a.samples_ns)
            new.extend(b.samples_ns)
        before = [SizeTiming(size=n, samples_ns=old) for n, (old, _) in sorted(pooled.items())]
        after = [SizeTiming(size=n, samples_ns=new) for n, (_, new) in sorted(pooled.items())]
        ok, kind, reason, speedup = speed_decision(before, after, config.min_speedup)
        decision = Decision(
            accepted=ok, kind=kind, reason=reason, speedup=speedup, before=before, after=after
        )
        if kind != "noise":  # decided either way: more samples would not change it
            break
    if decision.accepted:
        return await _replicated(sandbox, baseline, code, config, decision)
    return decision


async def _time_pair(
    sandbox: Sandbox, baseline: Baseline, code: str, config: OptimizerConfig
) -> tuple[list[SizeTiming], list[SizeTiming]] | Decision:
    """One timing job of the original and the rewrite side by side, or why it failed."""
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
    kept = timing.kept_state.get(1)
    if kept and not timing.kept_state.get(0):
        # Timed again on inputs it has seen, a cache answers from memory: the speed-up
        # would be measured on what it remembers, and the memory grows with every call.
        return Decision(
            accepted=False,
            kind="stateful",
            reason="it keeps results across calls, so its timings measure what it remembers, "
            "not what it computes: " + "; ".join(kept),
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
    return before, after


async def _replicated(
    sandbox: Sandbox, baseline: Baseline, code: str, config: OptimizerConfig, first: Decision
) -> Decision:
    """An acceptance measured again in a timing job of its own: a busy patch of the machine
    can make one job's interval exclude 1.0 by chance, two independent ones rarely."""
    timed = await _time_pair(sandbox, baseline, code, config)
    if isinstance(timed, Decision):
        return timed
    ok, _, reason, speedup = speed_decision(*timed, config.min_speedup)
    if ok and speedup is not None and first.speedup is not None:
        # The lower of the two estimates, and the samples it came from.
        return (
            first
            if first.speedup <= speedup
            else first.model_copy(
                update={"speedup": speedup, "reason": reason, "before": timed[0], "after": timed[1]}
            )
        )
    return Decision(
        accepted=False,
        kind="noise",
        reason=f"not reproducibly faster: {first.reason.removeprefix('faster: ')}, but timed "
        f"again in a job of its own, {reason.split(': ', 1)[-1]}",
        speedup=speedup,
        before=timed[0],
        after=timed[1],
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
        if a.kind in ("timeout", "skipped") or same_outcome(
            a, b, atol=ATOL, rtol=RTOL, exact=True, ordered=True
        ):
            continue
        where = _where(baseline, index)
        if b.kind in ("timeout", "skipped"):
            limit = baseline.call_timeout_s
            return "hangs", f"hangs: no answer within {limit:g} s on {where}"
        if a.kind == b.kind == "value" and same_outcome(
            a.model_copy(update={"args_after": None}),
            b.model_copy(update={"args_after": None}),
            atol=ATOL,
            rtol=RTOL,
            exact=True,
            ordered=True,
        ):
            return "output", (
                f"changes its arguments differently from the original on {where}: after the "
                f"call they are {_args_after(b, baseline, index)} with the rewrite, "
                f"{_args_after(a, baseline, index)} with the original"
            )
        return "output", (
            f"differs from the original on {where}: the original gives {_show(a)}, "
            f"the rewrite gives {_show(b)}"
        )
    return None


def _args_after(outcome: CallOutcome, baseline: Baseline, index: int) -> str:
    args = outcome.args_after if outcome.mutated else baseline.inputs[index]
    return ", ".join(codec.show(a, 80) for a in args) + ("" if outcome.mutated else " (unchanged)")


TIMING_ROUNDS = 3  # timing jobs at most, their samples pooled, before "noise" is final
TOP_SIZES = 3  # the speedup is measured on this many of the largest sizes


def speed_decision(
    before: Sequence[SizeTiming], after: Sequence[SizeTiming], min_speedup: float
) -> tuple[bool, RejectionKind | None, str, float | None]:
    """Faster by `min_speedup` on the largest sizes, with a 95% interval that excludes 1.0.

    "slower" when even the interval's top falls short of `min_speedup`; "noise" when the
    measurement cannot tell (more samples might).
    """
    sizes = sorted({t.size for t in before} & {t.size for t in after})
    if not sizes:
        return False, "noise", "no input was timed for both programs", None
    top = sizes[-min(TOP_SIZES, max(1, (len(sizes) + 1) // 2)) :]
    ratios = _log_ratios(before, after, top)
    speedup, low, high = speedup_interval(ratios)
    where = f"size {top[0]}" if len(top) == 1 else f"sizes {top[0]}-{top[-1]}"
    times = (
        f"{speedup:.2f}x on {where} (95% interval {low:.2f}x-{high:.2f}x, "
        f"{len(ratios)} paired samples)"
    )
    if speedup >= min_speedup and low > 1.0:
        return True, None, f"faster: {times}", speedup
    if high < 1.0:
        return (
            False,
            "slower",
            f"{times}: slower than the original; {min_speedup:g}x needed",
            speedup,
        )
    if high < min_speedup:
        return False, "slower", f"not faster enough: {times}; {min_speedup:g}x needed", speedup
    return False, "noise", f"not measurably faster: {times}; the interval includes 1.0", speedup


def _log_ratios(
    before: Sequence[SizeTiming], after: Sequence[SizeTiming], sizes: Sequence[int]
) -> list[float]:
    """log(before / after) for samples taken side by side (the harness interleaves them)."""
    old = {t.size: t.samples_ns for t in before}
    new = {t.size: t.samples_ns for t in after}
    out = []
    for n in sizes:
        for a, b in zip(old[n], new[n], strict=False):
            if a > 0 and b > 0:
                out.append(math.log(a / b))
    return out


def speedup_interval(log_ratios: Sequence[float]) -> tuple[float, float, float]:
    """The geometric-mean speedup and its 95% t-interval, from paired log ratios."""
    if not log_ratios:
        return 1.0, 0.0, math.inf
    mean = statistics.fmean(log_ratios)
    if len(log_ratios) < 2:
        return math.exp(mean), 0.0, math.inf
    half = _t95(len(log_ratios) - 1) * statistics.stdev(log_ratios) / math.sqrt(len(log_ratios))
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half)


_T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26,
        10: 2.23, 12: 2.18, 15: 2.13, 20: 2.09, 30: 2.04, 60: 2.00}  # fmt: skip


def _t95(df: int) -> float:
    """Student's t, two-sided 95%, for `df` degrees of freedom (the next table row down)."""
    fitting = [k for k in _T95 if k <= df]
    return _T95[max(fitting)] if fitting else _T95[1]


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
