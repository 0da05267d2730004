"""Smoke test of benchmarks/e2e_verdicts.py's core on tiny inline problems.

A real scripted server, sandbox and pipeline: a model that is always right must get every
problem right and verified; one that is never right must get none right, and what it gets
verified is counted as verified-but-wrong.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from multiagent_codeact.bench import Problem
from multiagent_codeact.bench.splits import in_split, split_of
from multiagent_codeact.sandbox import Limits, Sandbox

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "e2e_verdicts.py"

PROBLEMS: list[dict[str, Any]] = [
    {
        "task_id": "Tiny/0",
        "prompt": (
            "def count_big(xs: list, k: int) -> int:\n"
            '    """How many items of xs are greater than k.\n'
            "    >>> count_big([1, 5, 7], 4)\n    2\n"
            '    """\n'
        ),
        "entry_point": "count_big",
        "canonical_solution": (
            "    n = 0\n    for x in xs:\n        if x > k:\n            n += 1\n    return n\n"
        ),
        "base_input": [[[1, 5, 7], 4], [[], 0], [[3, 3, 3], 2], [[-1, 0, 1], 0], [[9], 9]],
        "plus_input": [[[2, 4, 6, 8], 5], [[0], -1], [[5, 5], 5]],
    },
    {
        "task_id": "Tiny/1",
        "prompt": (
            "def clamp_sum(xs: list, cap: int) -> int:\n"
            '    """The sum of xs, but never more than cap.\n'
            "    >>> clamp_sum([1, 2, 3], 10)\n    6\n"
            "    >>> clamp_sum([5, 6], 8)\n    8\n"
            '    """\n'
        ),
        "entry_point": "clamp_sum",
        "canonical_solution": (
            "    total = 0\n    for x in xs:\n        total += x\n"
            "    if total > cap:\n        return cap\n    return total\n"
        ),
        "base_input": [[[1, 2, 3], 10], [[5, 6], 8], [[], 3], [[4], 4], [[-2, 9], 5]],
        "plus_input": [[[1, 1, 1, 1], 2], [[0, 0], 0], [[10, -10], 1]],
    },
]


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("e2e_verdicts", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_split_is_stable_and_roughly_forty_sixty() -> None:
    ids = [f"HumanEval/{i}" for i in range(164)]
    sides = [split_of(t) for t in ids]
    assert sides == [split_of(t) for t in ids]
    assert 0.3 < sides.count("dev") / len(ids) < 0.5
    assert all(in_split(t, "all") for t in ids)


@pytest.mark.slow
async def test_always_right_model_is_verified_and_never_right_model_is_not_right(
    tmp_path: Path,
) -> None:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    bench = load_benchmark()
    problems = [Problem.model_validate(p) for p in PROBLEMS]
    caches = {"cache_dir": tmp_path / "pools", "examples_cache_dir": tmp_path / "examples"}
    async with Sandbox(Limits(timeout_s=30), pool_size=2) as sb:
        report = await bench.bench(
            problems, grid=[(1.0, 1.0), (0.0, 1.0)], split="all", candidates=4, rounds=1,
            verify_inputs=40, sandbox=sb, **caches,
        )  # fmt: skip
        # Code the pipeline changed is not in the pool: it is judged by running it.
        materials, _ = await bench.load_material(problems, sb, **caches)
        judge = bench.HiddenJudge(sb, materials)
        count_big = materials[0]
        right = "def count_big(xs, k):\n    return len([x for x in xs if x > k])\n"
        off_by_one = "def count_big(xs, k):\n    return len([x for x in xs if x >= k])\n"
        assert await judge.right(right, count_big)
        assert not await judge.right(off_by_one, count_big)
        assert not await judge.right("def count_big(xs, k):\n    return 1/0\n", count_big)
        assert not await judge.right("def count_big(:", count_big)
        assert judge.executed == 4

    assert report["material"]["problems"] == 2, report["left_out"]
    assert report["material"]["with_examples"] == 2
    # Some mutants pass the prompt's examples and some do not: both kinds get drawn.
    assert 0 < report["material"]["example_passing_mutants"] < report["material"]["mutants"]

    perfect, hopeless = report["rows"]
    s = perfect["summary"]
    assert s["problems"] == 2
    assert s["oracle"] == s["right"] == s["verified"] == 1.0
    assert s["verified_wrong"] == 0 and perfect["verified_wrong"] == []
    assert s["mean_calls"] >= 4 + 1 + 1  # four coders, the test designer, the judge
    assert perfect["roles"]["coder"] >= 8 and perfect["roles"]["test_designer"] == 2
    assert perfect["roles"]["judge"] == 2
    assert sum(b["n"] for b in perfect["calibration"]["all"]) == 2
    assert sum(b["n"] for b in perfect["calibration"]["verified"]) == 2

    h = hopeless["summary"]
    assert h["oracle"] == h["right"] == 0.0
    assert h["verified_wrong"] == round(h["verified"] * 2)
    assert h["verified_wrong_share"] == h["verified"]
    assert hopeless["verified_wrong"] == [
        r["task_id"] for r in hopeless["results"] if r["verdict"] == "verified"
    ]
    for result in hopeless["results"]:
        assert result["replies"] >= 4 and result["right_replies"] == 0
        assert not any(c["right"] for c in result["candidates"])
        assert all(c["program"].startswith("mutant:") for c in result["candidates"])
        assert all(c["example_passing_mutant"] in (True, False) for c in result["candidates"])
    for result in perfect["results"]:
        assert all(c["program"].startswith("variant:") for c in result["candidates"])
        assert all(c["example_passing_mutant"] is None for c in result["candidates"])
    assert report["judged_by_running"] == 0  # every returned program is a pool program
