"""Shared pieces for the optimizer's tests: one sandbox, a scripted model, a slow solution."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from multiagent_codeact import Task
from multiagent_codeact.config import OptimizerConfig
from multiagent_codeact.models import ModelConfig
from multiagent_codeact.sandbox import Limits, Sandbox
from multiagent_codeact.scripted import ScriptedModelServer

KEY_ENV = "MCA_TEST_KEY"

TASK = Task(
    prompt="Write a function `def count_pairs(xs: list[int]) -> int` that counts the pairs "
    "i < j with xs[i] == xs[j].",
    entry_point="count_pairs",
    examples=[
        "assert count_pairs([1, 1, 2]) == 1",
        "assert count_pairs([]) == 0",
        "assert count_pairs([3, 3, 3]) == 3",
    ],
)
QUADRATIC = """\
def count_pairs(xs):
    out = 0
    for i in range(len(xs)):
        for j in range(i):
            if xs[i] == xs[j]:
                out += 1
    return out
"""
LINEAR = """\
from collections import Counter

def count_pairs(xs):
    return sum(c * (c - 1) // 2 for c in Counter(xs).values())
"""
WRONG_ON_A_TEST = """\
def count_pairs(xs):
    return len(xs) - len(set(xs))
"""
WRONG_OUTSIDE_THE_TESTS = """\
from collections import Counter

def count_pairs(xs):
    return sum(c * (c - 1) // 2 for c in Counter(xs).values() if c < 4)
"""
SLOWER = """\
def count_pairs(xs):
    out = 0
    for i in range(len(xs)):
        for j in range(i):
            if sorted([xs[i], xs[j]])[0] == max(xs[i], xs[j]):
                out += 1
    return out
"""
HANGS_ON_LARGE = """\
from collections import Counter

def count_pairs(xs):
    while len(xs) > 200:
        pass
    return sum(c * (c - 1) // 2 for c in Counter(xs).values())
"""
FAST_CONFIG = OptimizerConfig(
    enabled=True, stop_s=0.02, call_timeout_s=0.5, repeats=5, max_rewrites=4
)


def rewrite_reply(code: str) -> str:
    return f"## Explanation\nA faster version.\n\n## Code\n```python\n{code}```\n"


def pair_inputs(n: int = 40, seed: int = 1) -> list[tuple[Any, ...]]:
    """Small lists with many repeats (some value 4+ times), as the differential inputs."""
    rng = random.Random(seed)
    out: list[tuple[Any, ...]] = [([5, 5, 5, 5, 1],), ([2, 7, 1, 8, 2, 8, 1, 8, 2, 8],)]
    out += [([rng.randint(0, 4) for _ in range(rng.randint(0, 12))],) for _ in range(n)]
    return out


def model_for(server: ScriptedModelServer) -> ModelConfig:
    return ModelConfig(
        model="scripted-model", base_url=server.base_url, api_key_env=KEY_ENV, max_retries=0
    )


@pytest.fixture(scope="package")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(Limits(timeout_s=30), pool_size=2) as sb:
        yield sb


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-optimizer-0123456789")
