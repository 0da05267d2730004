"""verify / averify: run every candidate against every test and input, then decide."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from ..domain import Candidate, Task
from ..sandbox import Sandbox
from .inputs import find_signature, generate_inputs, seed_args
from .report import VerificationReport
from .runner import ProgramRun, check_sandbox, run_program
from .scoring import Matrix, ScoringParams, decide
from .testcases import TestGroup, examples_from_prompt, parse_tests


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
) -> VerificationReport:
    """Cross-check `candidates` for `task` by execution and pick one, or abstain.

    Without a `sandbox`, one is started for this call and closed after it; pass one to share
    its warm workers across calls. `generated_tests` are test suites written apart from any
    candidate (by a test designer): scored like the candidates' own tests, not trusted as
    filters. `inputs` replaces the Hypothesis draw (see `draw_task_inputs`, which a caller can
    run while it waits for candidates); argument values from the tests are added either way.
    Bad candidates (code that does not parse, the wrong
    function name, hangs, crashes, floods) are recorded in the evidence, never raised.
    """
    if not candidates:
        raise ValueError("verify needs at least one candidate")
    ids = [c.id for c in candidates]
    if len(set(ids)) != len(ids):
        raise ValueError(f"candidate ids must be unique, got {ids}")
    params = params or ScoringParams(threshold=threshold)
    if sandbox is None:
        async with Sandbox(task.limits, pool_size=min(4, len(candidates))) as own:
            return await averify(
                task, candidates, sandbox=own, n_inputs=n_inputs,
                call_timeout_s=call_timeout_s, params=params, seed=seed,
                generated_tests=generated_tests, inputs=inputs,
            )  # fmt: skip
    check_sandbox(sandbox)
    started = time.perf_counter()
    groups = _test_groups(task, candidates, generated_tests)
    entry = task.entry_point
    # Tests need no inputs: they run while Hypothesis draws the inputs (a few hundred ms).
    inputs_job = asyncio.create_task(_inputs(task, candidates, groups, n_inputs, seed, inputs))
    test_runs = await asyncio.gather(
        *(
            run_program(sandbox, c.code, entry, tests=groups, call_timeout_s=call_timeout_s)
            for c in candidates
        )
    )
    inputs = await inputs_job
    generated_at = time.perf_counter()
    call_runs = await asyncio.gather(
        *(
            run_program(sandbox, c.code, entry, inputs=inputs, call_timeout_s=call_timeout_s)
            if run.loaded and entry is not None and inputs
            else _nothing()
            for c, run in zip(candidates, test_runs, strict=True)
        )
    )
    runs = [_merge(t, c) for t, c in zip(test_runs, call_runs, strict=True)]
    executed_at = time.perf_counter()
    matrix = Matrix(
        candidates=list(candidates),
        runs={c.id: r for c, r in zip(candidates, runs, strict=True)},
        groups=groups,
        inputs=inputs,
        entry_point=entry,
    )
    report = decide(matrix, params)
    done = time.perf_counter()
    timings = {
        "tests_and_inputs": (generated_at - started) * 1000,
        "calls": (executed_at - generated_at) * 1000,
        "scoring": (done - executed_at) * 1000,
    }
    evidence = report.evidence.model_copy(update={"timings_ms": timings})
    return report.model_copy(update={"evidence": evidence, "duration_ms": (done - started) * 1000})


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
    return await asyncio.to_thread(generate_inputs, signature, seeds, n=n, seed=seed)


def draw_task_inputs(task: Task, n: int = 200, seed: int = 0) -> list[tuple[Any, ...]] | None:
    """Differential inputs from the task alone (its signature and examples), or None when the
    prompt shows neither: then only the candidates' code can say what to call."""
    entry = task.entry_point
    if entry is None:
        return None
    signature = find_signature(entry, [task.prompt])
    seeds = seed_args(entry, [*task.examples, *examples_from_prompt(task.prompt, entry)])
    if signature is None and not seeds:
        return None
    return generate_inputs(signature, seeds, n=n, seed=seed)


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
    task: Task, candidates: Sequence[Candidate], generated_tests: Sequence[str] = ()
) -> list[TestGroup]:
    entry = task.entry_point
    groups: list[TestGroup] = []
    examples = list(dict.fromkeys([*task.examples, *examples_from_prompt(task.prompt, entry)]))
    if examples:
        groups.append(parse_tests("\n".join(examples), entry, group_id="example", source="example"))
    if task.tests.strip():
        groups.append(parse_tests(task.tests, entry, group_id="user", source="user"))
    for i, suite in enumerate(generated_tests, start=1):
        if suite.strip():
            groups.append(parse_tests(suite, entry, group_id=f"d{i}", source="designer"))
    for c in candidates:
        if c.tests.strip():
            groups.append(
                parse_tests(c.tests, entry, group_id=f"t-{c.id}", source="candidate", author=c.id)
            )
    return groups
