"""Pools: composition, simulated tests, and (in the sandbox) which rewrites are kept."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from multiagent_codeact.bench import pools
from multiagent_codeact.bench.humaneval import Problem
from multiagent_codeact.bench.pools import (
    Call,
    PoolTooSmallError,
    ProblemData,
    Program,
    assert_line,
    build_pool,
    compute_problem_data,
    perturb,
    prepare,
    simulated_tests,
    split,
)
from multiagent_codeact.sandbox import Limits, Sandbox

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap missing")

# -- a hand-built ProblemData: what build_pool consumes, no sandbox needed -----------------

BASE: list[list[Any]] = [[1], [2], [3], [4], [5], [6]]
REFERENCE = "def f(n):\n    return n * 2\n"
WRONG = {  # source -> operator; two share a behaviour on purpose
    "def f(n):\n    return n * 3\n": "change_constant",
    "def f(n):\n    return n + 2\n": "arith_swap",
    "def f(n):\n    return n * 2 + 1\n": "off_by_one",
    "def f(n):\n    return 2 * n + 1\n": "swap_operands",
    "def f(n):\n    return n - 2\n": "arith_swap",
}


def run_local(source: str, inputs: list[list[Any]]) -> list[Any]:
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    return [namespace["f"](*args) for args in inputs]


def program(source: str, kind: str, operator: str) -> Program:
    ref = run_local(REFERENCE, BASE)
    got = run_local(source, BASE)
    return Program(
        kind=kind,  # type: ignore[arg-type]
        operator=operator,
        location="L2:11",
        detail="x",
        source=source,
        base=[Call(kind="value", literal=repr(v)) for v in got],
        base_differs=[a != b for a, b in zip(ref, got, strict=True)],
        hidden_correct=kind == "variant",
        signature=repr(got),
    )


def make_data(n_mutants: int = len(WRONG), n_variants: int = 4) -> ProblemData:
    variants = [
        program(f"def f(n):\n    # v{i}\n    return n * 2\n", "variant", "comments")
        for i in range(n_variants)
    ]
    mutants = [program(src, "mutant", op) for src, op in list(WRONG.items())[:n_mutants]]
    return ProblemData(
        task_id="T/0",
        prompt="def f(n):\n    '''Twice n.'''\n",
        entry_point="f",
        float_atol=1e-6,
        base_inputs=BASE,
        reference=[Call(kind="value", literal=repr(v)) for v in run_local(REFERENCE, BASE)],
        hidden_inputs=len(BASE),
        dropped_inputs=0,
        mutants=mutants,
        variants=variants,
        generated_mutants=n_mutants,
        equivalent_mutants=0,
        rejected_variants=0,
    )


def test_split_rounds_half_up() -> None:
    assert [split(5, r) for r in (0.2, 0.4, 0.5, 0.6, 1.0)] == [
        (1, 4), (2, 3), (3, 2), (3, 2), (5, 0),
    ]  # fmt: skip


def test_pool_has_the_requested_composition() -> None:
    data = make_data()
    for rate, n_correct in ((0.2, 1), (0.4, 2), (0.6, 3)):
        candidates, hidden = build_pool(data, 5, rate, 0.2, 4, random.Random(rate))
        assert len(candidates) == 5 and sum(hidden) == n_correct
        assert len({c.id for c in candidates}) == 5
        for c, ok in zip(candidates, hidden, strict=True):
            assert c.origin.startswith("variant:" if ok else "mutant:")
            outputs = run_local(c.code, BASE)
            assert (outputs == run_local(REFERENCE, BASE)) == ok


def test_mutants_prefer_distinct_behaviours() -> None:
    data = make_data()
    behaviours = {m.signature for m in data.mutants}
    assert len(behaviours) == 4  # n*2+1 and 2*n+1 behave alike
    for seed in range(20):
        candidates, hidden = build_pool(data, 5, 0.2, 0.0, 3, random.Random(seed))
        wrong = [c for c, ok in zip(candidates, hidden, strict=True) if not ok]
        assert len({repr(run_local(c.code, BASE)) for c in wrong}) == 4


def test_too_few_mutants_gives_a_smaller_pool() -> None:
    candidates, hidden = build_pool(make_data(n_mutants=1), 5, 0.4, 0.2, 3, random.Random(0))
    assert len(candidates) == 3 and sum(hidden) == 2
    with pytest.raises(PoolTooSmallError, match="no behaviour-changing mutant"):
        build_pool(make_data(n_mutants=0), 5, 0.4, 0.2, 3, random.Random(0))
    _, hidden = build_pool(make_data(n_mutants=0), 3, 1.0, 0.0, 3, random.Random(0))
    assert hidden == [True, True, True]
    with pytest.raises(ValueError, match="rates within"):
        build_pool(make_data(), 5, 1.5, 0.2, 3, random.Random(0))


def test_pools_are_deterministic_given_the_rng() -> None:
    a = build_pool(make_data(), 5, 0.4, 0.2, 4, random.Random(7))
    b = build_pool(make_data(), 5, 0.4, 0.2, 4, random.Random(7))
    assert [c.model_dump() for c in a.candidates] == [c.model_dump() for c in b.candidates]
    assert a.hidden_correct == b.hidden_correct


def failing_lines(tests: str, source: str = REFERENCE) -> list[str]:
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    failed = []
    for line in tests.splitlines():
        try:
            exec(line, namespace)
        except AssertionError:
            failed.append(line)
    return failed


def test_simulated_tests_have_the_wrong_share_and_plausible_wrong_values() -> None:
    data = make_data()
    mutant_outputs = {m.source: run_local(m.source, BASE) for m in data.mutants}
    for seed in range(10):
        tests, n_wrong = simulated_tests(data, 5, 0.4, random.Random(seed))
        lines = tests.splitlines()
        assert len(lines) == 5 and len(set(lines)) == 5 and n_wrong == 2
        failed = failing_lines(tests)
        assert len(failed) == 2
        for line in failed:  # each wrong expectation is what some mutant returns
            call, expected = line.removeprefix("assert ").split(" == ")
            arg = int(call.removeprefix("f(").removesuffix(")"))
            assert any(out[arg - 1] == int(expected) for out in mutant_outputs.values())
    tests, n_wrong = simulated_tests(data, 50, 0.0, random.Random(0))
    assert len(tests.splitlines()) == len(BASE) and n_wrong == 0 and not failing_lines(tests)


def test_wrong_values_fall_back_to_perturbation() -> None:
    data = make_data(n_mutants=0)
    tests, n_wrong = simulated_tests(data, 6, 1.0, random.Random(0))
    assert n_wrong == 6 and len(failing_lines(tests)) == 6


def test_assert_lines_round_trip_and_floats_use_the_tolerance() -> None:
    assert (
        assert_line("f", [[1, 2], "a'b"], (1, {2}), 1e-6) == 'assert f([1, 2], "a\'b") == (1, {2})'
    )
    line = assert_line("g", [0.1], 0.30000000000000004, 1e-6)
    assert line == "assert abs(g(0.1) - 0.30000000000000004) <= 1e-06"
    namespace: dict[str, Any] = {"g": lambda x: x * 3 + 1e-9}
    exec(line, namespace)  # within atol: passes
    assert assert_line("f", [1], float("nan"), 1e-6) is None
    assert assert_line("f", [object()], 1, 1e-6) is None
    for value in (True, 3, 2.5, "ab", "", [1], [], (1,), {"a": 1}, {1}, None):
        wrong = perturb(value, random.Random(0))
        assert wrong != value or type(wrong) is not type(value)


# -- in the sandbox: which mutants and variants survive -----------------------------------

PROMPT = 'def clip_sum(xs: list, hi: int) -> int:\n    """Sum of xs; items >= hi count 2 * hi."""\n'
BODY = (
    "    total = 0\n"
    "    for x in xs:\n"
    "        if x >= hi:\n"
    "            total += 2 * hi\n"
    "        else:\n"
    "            total += x\n"
    "    return total\n"
)
PROBLEM = Problem(
    task_id="Inline/0",
    prompt=PROMPT,
    entry_point="clip_sum",
    canonical_solution=BODY,
    # no base input has an item equal to hi: `x >= hi` -> `x > hi` only shows on plus inputs
    base_input=[[[1, 5, 9], 4], [[], 3], [[2, 2], 10], [[7, -1], 0]],
    plus_input=[[[4, 4, 1], 4], [[3], 3], [[0, 8, 8], 8], [[-5, 6], 1], [[1, 2, 3], 2]],
)


def local_outcomes(source: str, inputs: list[list[Any]]) -> list[Any]:
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    out: list[Any] = []
    for args in inputs:
        try:
            out.append(
                namespace["clip_sum"](*[list(a) if isinstance(a, list) else a for a in args])
            )
        except Exception as exc:
            out.append(type(exc).__name__)
    return out


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(Limits(timeout_s=20, memory_mb=256), pool_size=2) as sandbox:
        yield sandbox


@needs_bwrap
async def test_kept_mutants_really_differ_and_variants_really_match(sb: Sandbox) -> None:
    data = await compute_problem_data(sb, PROBLEM, n_variants=4, max_mutants=40)
    hidden = PROBLEM.hidden_inputs()
    reference = local_outcomes(PROBLEM.reference_code, hidden)
    assert data.hidden_inputs == len(hidden) and data.dropped_inputs == 0
    assert data.mutants and len(data.variants) == 4
    assert data.generated_mutants == len(data.mutants) + data.equivalent_mutants
    for m in data.mutants:
        assert not m.hidden_correct
        assert local_outcomes(m.source, hidden) != reference, m.origin
        expected = local_outcomes(m.source, data.base_inputs)
        for call, want, differs, ref in zip(
            m.base, expected, m.base_differs, reference, strict=False
        ):
            if call.kind == "value":
                assert call.value == want
            assert differs == (want != ref)
    for v in data.variants:
        assert v.hidden_correct and local_outcomes(v.source, hidden) == reference
    subtle = [m for m in data.mutants if m.detail == ">= -> >"]
    assert subtle and not any(subtle[0].base_differs)  # kept for what the plus inputs show
    assert [c.value for c in data.reference] == reference[: len(PROBLEM.base_input)]


@needs_bwrap
async def test_inputs_where_the_reference_hangs_are_dropped(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pools, "CALL_TIMEOUT_S", 0.3)
    problem = Problem(
        task_id="Inline/1",
        prompt="def slow(n: int) -> int:\n",
        entry_point="slow",
        canonical_solution="    while n < 0:\n        pass\n    return n + 1\n",
        base_input=[[1], [-1], [2]],
        plus_input=[[3]],
    )
    data = await compute_problem_data(sb, problem, n_variants=2, max_mutants=6)
    assert data.dropped_inputs == 1 and data.hidden_inputs == 3
    assert data.base_inputs == [[1], [2]]
    assert [c.value for c in data.reference] == [2, 3]


@needs_bwrap
async def test_prepare_caches_on_disk(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    first = await prepare(
        [PROBLEM], tmp_path, sandbox=sb, n_variants=2, max_mutants=10,
        on_done=lambda _d, cached: seen.append(cached),
    )  # fmt: skip
    assert seen == [False] and len(list(tmp_path.glob("*.json"))) == 1

    def no_sandbox(*_a: Any, **_k: Any) -> None:
        raise AssertionError("a cached run must not start a sandbox")

    monkeypatch.setattr(pools, "Sandbox", no_sandbox)
    again = await prepare(
        [PROBLEM], tmp_path, n_variants=2, max_mutants=10,
        on_done=lambda _d, cached: seen.append(cached),
    )  # fmt: skip
    assert seen == [False, True] and again == first
    # other settings are another cache entry
    assert pools.cache_key(PROBLEM, seed=0, n_variants=2, max_mutants=10) != pools.cache_key(
        PROBLEM, seed=1, n_variants=2, max_mutants=10
    )
