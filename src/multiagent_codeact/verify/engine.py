"""verify / averify: run every candidate against every test and input, then decide."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import Any

from ..domain import Candidate, Task
from ..sandbox import Sandbox
from .inputs import InputPlan, find_signature, plan_inputs, seed_args, task_domain
from .report import VerificationReport
from .runner import ProgramRun, check_sandbox, run_program
from .scoring import Matrix, ScoringParams, decide
from .testcases import (
    TRUSTED_SOURCES,
    TestGroup,
    examples_from_prompt,
    parse_tests,
    stated_examples,
)


async def averify(
    task: Task,
    candidates: Sequence[Candidate],
    *,
    sandbox: Sandbox | None = None,
    n_inputs: int = 200,
    call_timeout_s: float = 1.0,
    threshold: float = 0.8,
    params: ScoringParams | None = None,
    seed: int = 0,
    generated_tests: Sequence[str] = (),
    inputs: Sequence[tuple[Any, ...]] | None = None,
    call_rejected: bool = False,
    adjudicated_tests: Sequence[str] = (),
) -> VerificationReport:
    """Cross-check `candidates` for `task` by execution and pick one, or abstain.

    Without a `sandbox`, one is started for this call and closed after it; pass one to share
    its warm workers across calls. The task's `files` are given to every job (copied in for
    this call, unless `sandbox` is a view that gives them already). `generated_tests` are test
    suites written apart from any candidate (by a test designer): scored like the candidates'
    own tests, not trusted as filters; `adjudicated_tests` are the designer's answers on inputs
    where rival behaviours disagreed (each suite one judgement). `inputs` replaces the
    Hypothesis draw (see `task_input_plan`, which a caller can draw from while it waits for
    candidates); argument values from the tests are added either way.
    Candidates that fail one of the task's own examples or tests are not called on the inputs
    (they are out already) unless `call_rejected` (for baselines that need every behaviour).
    Bad candidates (code that does not parse, the wrong
    function name, hangs, crashes, floods) are recorded in the evidence, never raised.
    """
    if not candidates:
        raise ValueError("verify needs at least one candidate")
    ids = [c.id for c in candidates]
    if len(set(ids)) != len(ids):
        raise ValueError(f"candidate ids must be unique, got {ids}")
    params = params or ScoringParams(threshold=threshold)
    async with AsyncExitStack() as stack:
        if sandbox is None:
            own = Sandbox(task.limits, pool_size=min(4, len(candidates)))
            sandbox = await stack.enter_async_context(own)
        if task.files and sandbox.inputs is None:  # (the pipeline's sandbox gives them already)
            staged = await asyncio.to_thread(sandbox.input_files, task.files)
            stack.push_async_callback(asyncio.to_thread, staged.close)
            sandbox = sandbox.with_inputs(staged)
        started = time.perf_counter()
        matrix, timings = await execute(
            task, candidates, sandbox=sandbox, n_inputs=n_inputs, call_timeout_s=call_timeout_s,
            seed=seed, generated_tests=generated_tests, inputs=inputs,
            call_rejected=call_rejected, adjudicated_tests=adjudicated_tests,
        )  # fmt: skip
        executed_at = time.perf_counter()
        report = decide(matrix, params)
        done = time.perf_counter()  # before a sandbox of its own is closed
    timings["scoring"] = (done - executed_at) * 1000
    evidence = report.evidence.model_copy(update={"timings_ms": timings})
    return report.model_copy(update={"evidence": evidence, "duration_ms": (done - started) * 1000})


async def execute(
    task: Task,
    candidates: Sequence[Candidate],
    *,
    sandbox: Sandbox,
    n_inputs: int = 200,
    call_timeout_s: float = 1.0,
    seed: int = 0,
    generated_tests: Sequence[str] = (),
    inputs: Sequence[tuple[Any, ...]] | None = None,
    call_rejected: bool = False,
    adjudicated_tests: Sequence[str] = (),
) -> tuple[Matrix, dict[str, float]]:
    """Run every candidate on every test and input: the matrix `decide` reads, and how long
    each stage took. Apart from averify so that the same matrix can be decided on again (the
    calibration benchmark does, under many settings)."""
    check_sandbox(sandbox)
    started = time.perf_counter()
    groups = _test_groups(task, candidates, generated_tests, adjudicated_tests)
    entry = task.entry_point
    if inputs is not None and entry is not None:
        # Inputs known already (drawn while the models thought): one job per candidate, which
        # skips the inputs itself once the candidate fails one of the task's own examples.
        drawn = await _inputs(task, candidates, groups, n_inputs, seed, inputs)
        generated_at = time.perf_counter()
        gate = [] if call_rejected else [c.id for g in groups if g.source in TRUSTED_SOURCES
                                         for c in g.cases]  # fmt: skip
        first = await asyncio.gather(
            *(
                run_program(
                    sandbox,
                    c.code,
                    entry,
                    tests=groups,
                    inputs=drawn,
                    call_timeout_s=call_timeout_s,
                    gate=gate,
                    adaptive_timeout=True,
                )
                for c in candidates
            )
        )
        # A gate that everybody failed is no filter (decide ignores it): run those inputs.
        out = _rejected(groups, first)
        runs = await asyncio.gather(
            *(
                _calls_again(sandbox, c, entry, drawn, call_timeout_s, run)
                if run.gated and i not in out
                else _same(run)
                for i, (c, run) in enumerate(zip(candidates, first, strict=True))
            )
        )
    else:
        # Tests need no inputs: they run while Hypothesis draws them (a few hundred ms).
        inputs_job = asyncio.create_task(_inputs(task, candidates, groups, n_inputs, seed, inputs))
        test_runs = await asyncio.gather(
            *(
                run_program(sandbox, c.code, entry, tests=groups, call_timeout_s=call_timeout_s)
                for c in candidates
            )
        )
        drawn = await inputs_job
        generated_at = time.perf_counter()
        out = set() if call_rejected else _rejected(groups, test_runs)
        call_runs = await asyncio.gather(
            *(
                run_program(
                    sandbox,
                    c.code,
                    entry,
                    inputs=drawn,
                    call_timeout_s=call_timeout_s,
                    adaptive_timeout=True,
                )
                if run.loaded and entry is not None and drawn and i not in out
                else _nothing()
                for i, (c, run) in enumerate(zip(candidates, test_runs, strict=True))
            )
        )
        runs = [_merge(t, c) for t, c in zip(test_runs, call_runs, strict=True)]
    executed_at = time.perf_counter()
    matrix = Matrix(
        candidates=list(candidates),
        runs={c.id: r for c, r in zip(candidates, runs, strict=True)},
        groups=groups,
        inputs=drawn,
        entry_point=entry,
    )
    timings = {
        "tests_and_inputs": (generated_at - started) * 1000,
        "calls": (executed_at - generated_at) * 1000,
    }
    return matrix, timings


def verify(task: Task, candidates: Sequence[Candidate], **kwargs: Any) -> VerificationReport:
    """The synchronous form of `averify`; inside a running event loop, await `averify`."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(averify(task, candidates, **kwargs))
    raise RuntimeError("verify() was called inside a running event loop; use `await averify()`")


async def _inputs(
    task: Task,
    candidates: Sequence[Candidate],
    groups: list[TestGroup],
    n: int,
    seed: int,
    given: Sequence[tuple[Any, ...]] | None,
) -> list[tuple[Any, ...]]:
    entry = task.entry_point
    if entry is None or n <= 0:
        return []
    sources = [g.setup + "\n" + "\n".join(c.src for c in g.cases) for g in groups]
    seeds = seed_args(entry, sources)
    if given is not None:
        return list({repr(a): a for a in [*seeds, *given]}.values())
    signature = find_signature(entry, [task.prompt, *(c.code for c in candidates)])
    plan = plan_inputs(signature, seeds, task_domain(task.prompt))
    return await asyncio.to_thread(plan.draw, n, seed)


def task_input_plan(task: Task) -> InputPlan | None:
    """How to draw differential inputs from the task alone (its signature and examples), or
    None when the prompt shows neither: then only the candidates' code can say what to call."""
    entry = task.entry_point
    if entry is None:
        return None
    signature = find_signature(entry, [task.prompt])
    seeds = seed_args(entry, [*task.examples, *examples_from_prompt(task.prompt, entry)])
    if signature is None and not seeds:
        return None
    return plan_inputs(signature, seeds, task_domain(task.prompt))


def draw_task_inputs(task: Task, n: int = 200, seed: int = 0) -> list[tuple[Any, ...]] | None:
    """Differential inputs from the task alone; see `task_input_plan`."""
    plan = task_input_plan(task)
    return plan.draw(n, seed) if plan is not None else None


def _rejected(groups: list[TestGroup], runs: Sequence[ProgramRun]) -> set[int]:
    """Candidates that fail a trusted case some other candidate passes: the filter will drop
    them, so their behaviour on the inputs would cost time and decide nothing."""
    strict = {c.id for g in groups if g.source in TRUSTED_SOURCES and g.strict for c in g.cases}
    trusted = [c.id for g in groups if g.source in TRUSTED_SOURCES for c in g.cases]
    credible = [
        t for t in trusted if t in strict or any(r.loaded and r.tests[t].passed for r in runs)
    ]
    return {
        i for i, r in enumerate(runs) if r.loaded and not all(r.tests[t].passed for t in credible)
    }


async def _calls_again(
    sandbox: Sandbox,
    candidate: Candidate,
    entry: str,
    inputs: list[tuple[Any, ...]],
    call_timeout_s: float,
    run: ProgramRun,
) -> ProgramRun:
    calls = await run_program(
        sandbox,
        candidate.code,
        entry,
        inputs=inputs,
        call_timeout_s=call_timeout_s,
        adaptive_timeout=True,
    )
    return _merge(run, calls).model_copy(update={"gated": False})


async def _same(run: ProgramRun) -> ProgramRun:
    return run


async def _nothing() -> ProgramRun | None:
    return None


def _merge(tests: ProgramRun, calls: ProgramRun | None) -> ProgramRun:
    if calls is None:
        return tests
    return tests.model_copy(
        update={
            "outputs": calls.outputs,
            "duration_ms": tests.duration_ms + calls.duration_ms,
            "job_error": tests.job_error or calls.job_error,
        }
    )


def _test_groups(
    task: Task,
    candidates: Sequence[Candidate],
    generated_tests: Sequence[str] = (),
    adjudicated_tests: Sequence[str] = (),
) -> list[TestGroup]:
    entry = task.entry_point
    groups: list[TestGroup] = []
    stated = list(dict.fromkeys([*task.examples, *stated_examples(task.prompt, entry)]))
    read = [e for e in examples_from_prompt(task.prompt, entry) if e not in stated]
    if read:  # doctests and prose forms: read out of the text, so possibly misread
        groups.append(parse_tests("\n".join(read), entry, group_id="example", source="example"))
    if stated:
        groups.append(
            parse_tests("\n".join(stated), entry, group_id="stated", source="example", strict=True)
        )
    if task.tests.strip():
        groups.append(parse_tests(task.tests, entry, group_id="user", source="user", strict=True))
    for i, suite in enumerate(generated_tests, start=1):
        if suite.strip():
            groups.append(parse_tests(suite, entry, group_id=f"d{i}", source="designer"))
    for i, suite in enumerate(adjudicated_tests, start=1):
        if suite.strip():
            groups.append(parse_tests(suite, entry, group_id=f"a{i}", source="adjudicator"))
    for c in candidates:
        if c.tests.strip():
            groups.append(
                parse_tests(c.tests, entry, group_id=f"t-{c.id}", source="candidate", author=c.id)
            )
    return groups
