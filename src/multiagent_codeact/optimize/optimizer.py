"""optimize: make a verified solution faster without ever making it wrong.

The original is profiled on inputs that grow. A solution already fast enough (its largest timed
call under the time budget, growing no faster than `max_exponent`) is left alone without a
model call. Otherwise the optimizer agent gets the code and the profile and proposes rewrites,
one at a time, each put through accept.py; the first that passes every check is kept, and each
rejection goes back to the agent as feedback for the next attempt.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from autogen_core.models import ChatCompletionClient

from ..agents.chat import Conversation, prompt
from ..agents.parsing import parse_coder_reply
from ..config import OptimizerConfig
from ..domain import Task
from ..events import Recorder
from ..sandbox import Sandbox
from ..verify.inputs import InputPlan, find_signature, plan_inputs, seed_args, task_domain
from ..verify.runner import check_sandbox
from ..verify.testcases import TestGroup, examples_from_prompt, parse_tests
from .accept import Baseline, Decision, check_rewrite, measure_baseline
from .profile import profile
from .report import OptimizationReport, Profile, Rejection, SizeTiming

AGENT = "optimizer"


async def optimize(
    task: Task,
    code: str,
    *,
    sandbox: Sandbox,
    client_factory: Callable[[], ChatCompletionClient],
    tests: Sequence[TestGroup] | None = None,
    suites: Sequence[str] = (),
    inputs: Sequence[tuple[Any, ...]] | None = None,
    config: OptimizerConfig | None = None,
    recorder: Recorder | None = None,
) -> OptimizationReport:
    """Profile `code` and, when it is slow, try the optimizer agent's rewrites of it.

    `tests` are the test groups to hold rewrites to (default: the task's examples and tests
    plus `suites`, test code such as the solution's own); `inputs` the differential inputs
    (default: drawn from the task's signature and examples). `client_factory` is called only
    when a model is needed. Never raises for a bad rewrite or a failing model: the report says.
    """
    started = time.perf_counter()
    cfg = config or OptimizerConfig()
    rec = recorder or Recorder("optimize")
    entry = task.entry_point
    if entry is None:
        return _finish(rec, started, status="not_profiled", reason="no function to time")
    check_sandbox(sandbox)
    groups = list(tests) if tests is not None else task_tests(task, suites)
    if inputs is None:
        inputs = await asyncio.to_thread(
            _draw_inputs, _input_plans(task, code, groups), cfg.n_inputs
        )
    baseline = await measure_baseline(
        sandbox, code, entry, tests=groups, inputs=list(inputs), config=cfg
    )
    before = baseline.profile
    common: dict[str, Any] = {
        "before": before,
        # Over the inputs every rewrite is timed on: those the original ran in full.
        "time_before_s": before.total_median_s({i.size for i in baseline.large}) or None,
        "memory_before_bytes": before.peak_memory_bytes,
    }
    if not baseline.large:
        why = "; ".join(before.errors) or "no input could be grown and timed"
        return _finish(rec, started, status="not_profiled", reason=why, **common)
    if is_fast(before, cfg):
        reason = (
            f"already fast: {before.largest_median_s or 0.0:.4f} s on the largest input, "
            f"growth exponent {_exp(before.exponent)}"
        )
        return _finish(rec, started, status="already_fast", reason=reason, **common)
    conversation = Conversation(AGENT, client_factory(), prompt("optimizer"), rec)
    message = prompt(
        "optimizer_task",
        task=task.prompt,
        entry_point=entry,
        code=code,
        profile=describe_profile(before),
    )
    rejected: list[Rejection] = []
    calls = 0
    for attempt in range(1, cfg.max_rewrites + 1):
        try:
            reply = await conversation.say(message)
        except Exception as exc:  # a failing model leaves the original in place
            rec.emit("error", agent=AGENT, type=type(exc).__name__, message=str(exc))
            return _finish(
                rec,
                started,
                status="failed",
                reason=f"the model failed: {exc}",
                rejected=rejected,
                model_calls=calls,
                **common,
            )
        calls += 1
        rewrite, decision = await _check(sandbox, baseline, reply, groups, cfg)
        rec.emit(
            "optimization",
            agent=AGENT,
            attempt=attempt,
            accepted=decision.accepted,
            rejection=decision.kind,
            reason=decision.reason,
            speedup=decision.speedup,
        )
        if decision.accepted and rewrite is not None:
            after = await _profile_rewrite(sandbox, baseline, rewrite, cfg)
            return _finish(
                rec,
                started,
                status="accepted",
                reason=decision.reason,
                code=rewrite,
                speedup=decision.speedup,
                rejected=rejected,
                model_calls=calls,
                time_before_s=_total(decision.before),
                time_after_s=_total(decision.after),
                before=before,
                after=after,
                memory_before_bytes=before.peak_memory_bytes,
                memory_after_bytes=after.peak_memory_bytes,
            )
        rejected.append(
            Rejection(
                attempt=attempt,
                kind=decision.kind or "unusable",
                reason=decision.reason,
                code=rewrite,
                speedup=decision.speedup,
            )
        )
        message = prompt("optimizer_retry", feedback=decision.reason)
    reason = f"no rewrite passed every check ({len(rejected)} rejected); the original stays"
    return _finish(
        rec,
        started,
        status="rejected",
        reason=reason,
        rejected=rejected,
        model_calls=calls,
        **common,
    )


def is_fast(prof: Profile, cfg: OptimizerConfig) -> bool:
    """Fast enough to leave alone: quick on the largest input and growing slowly enough."""
    largest = prof.largest_median_s
    if largest is None or largest > cfg.time_budget_s:
        return False
    return prof.exponent is None or prof.exponent <= cfg.max_exponent


def task_tests(task: Task, suites: Sequence[str] = ()) -> list[TestGroup]:
    """The task's examples and tests, and further test code, as test groups."""
    entry = task.entry_point
    groups = []
    examples = list(dict.fromkeys([*task.examples, *examples_from_prompt(task.prompt, entry)]))
    if examples:
        groups.append(parse_tests("\n".join(examples), entry, group_id="example", source="example"))
    if task.tests.strip():
        groups.append(parse_tests(task.tests, entry, group_id="user", source="user"))
    for i, suite in enumerate(suites, start=1):
        if suite.strip():
            groups.append(parse_tests(suite, entry, group_id=f"s{i}", source="designer"))
    return groups


def describe_profile(prof: Profile) -> str:
    """The profile as the agent reads it."""
    lines = ["Time per call (median of repeated runs) as the input grows:"]
    lines += [f"- size {t.size}: {t.median_ns / 1e6:.3f} ms" for t in prof.timings]
    if prof.exponent is not None:
        lines.append(
            f"Growth: time ~ size^{prof.exponent:.2f} (1 is linear, 2 quadratic; large values "
            "mean exponential)."
        )
    if prof.stopped:
        lines.append(f"Inputs stopped growing: {prof.stopped}.")
    if prof.hot_lines:
        lines.append("Most executed lines in one traced call:")
        lines += [
            f"- line {h.line} in {h.function}, {h.hits} times: {h.source}" for h in prof.hot_lines
        ]
    if prof.peak_memory_bytes is not None:
        lines.append(f"Peak memory: {prof.peak_memory_bytes / 1e6:.1f} MB ({prof.memory_method}).")
    return "\n".join(lines)


async def _check(
    sandbox: Sandbox,
    baseline: Baseline,
    reply: str,
    groups: Sequence[TestGroup],
    cfg: OptimizerConfig,
) -> tuple[str | None, Decision]:
    parsed = parse_coder_reply(reply, baseline.entry_point)
    if parsed.code is None:
        why = "; ".join(parsed.problems) or "no code found"
        return None, Decision(accepted=False, kind="unusable", reason=f"no usable code: {why}")
    if parsed.code.strip() == baseline.code.strip():
        return parsed.code, Decision(
            accepted=False, kind="unusable", reason="the same code as the original"
        )
    decision = await check_rewrite(sandbox, baseline, parsed.code, tests=groups, config=cfg)
    return parsed.code, decision


async def _profile_rewrite(
    sandbox: Sandbox, baseline: Baseline, code: str, cfg: OptimizerConfig
) -> Profile:
    return await profile(
        sandbox,
        code,
        baseline.entry_point,
        baseline.large,
        repeats=cfg.repeats,
        stop_s=cfg.stop_s,
        call_timeout_s=baseline.call_timeout_s,
    )


def _input_plans(task: Task, code: str, groups: Sequence[TestGroup]) -> tuple[InputPlan, ...]:
    """Within the task's stated domain, and over the parameters' whole types. Built here,
    drawn in a thread: see InputPlan."""
    entry = task.entry_point
    assert entry is not None
    sources = [g.setup + "\n" + "\n".join(c.src for c in g.cases) for g in groups]
    seeds = seed_args(entry, sources)
    signature = find_signature(entry, [task.prompt, code])
    return plan_inputs(signature, seeds, task_domain(task.prompt)), plan_inputs(signature, seeds)


def _draw_inputs(plans: tuple[InputPlan, ...], n: int) -> list[tuple[Any, ...]]:
    """Mostly inside the domain the task states, a quarter outside it: the original is the
    oracle here, so what it does there (often: raise the error the task names) is behaviour a
    rewrite must keep, and "1 <= k" in the prose must not hide a rewrite that breaks at k = 0."""
    within, whole = plans
    out: dict[str, tuple[Any, ...]] = {}
    for args in [*within.draw(n - n // 4), *whole.draw(n // 4, seed=1)]:
        out.setdefault(repr(args), args)
    return list(out.values())


def _total(timings: Sequence[SizeTiming]) -> float:
    return sum(t.median_ns for t in timings) / 1e9


def _exp(exponent: float | None) -> str:
    return "unknown" if exponent is None else f"{exponent:.2f}"


def _finish(rec: Recorder, started: float, **fields: Any) -> OptimizationReport:
    report = OptimizationReport(duration_ms=(time.perf_counter() - started) * 1000, **fields)
    rec.emit(
        "optimization",
        agent=AGENT,
        status=report.status,
        reason=report.reason,
        speedup=report.speedup,
        time_before_s=report.time_before_s,
        time_after_s=report.time_after_s,
        rejected=[r.reason for r in report.rejected],
        model_calls=report.model_calls,
    )
    return report
