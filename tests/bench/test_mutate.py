"""Mutants change behaviour where they should; variants never do.

Everything here runs in-process on small trusted references (no sandbox needed): the point is
the rewriting, not isolation.
"""

from __future__ import annotations

import ast
import inspect
import random
from typing import Any

from multiagent_codeact.bench.mutate import (
    OPERATORS,
    correct_variants,
    generate_mutants,
)

PROMPT = '''from typing import List


def score(xs: List[int], limit: int) -> int:
    """Points for items below the limit; bonus when the last one is even."""
'''
BODY = """    total = 0
    for x in xs:
        if x < limit and x >= 0:
            total += 2
        elif x == limit:
            total -= 1
        else:
            total = total * 1
    if xs and xs[-1] % 2 == 0:
        total = max(total, 10)
    best = abs(total)
    return best
"""
CODE = PROMPT + BODY
INPUTS: list[list[Any]] = [
    [[], 3],
    [[1, 2, 3], 3],
    [[5, 1, 4], 4],
    [[-1, 0, 7, 8], 2],
    [[2, 2, 2, 2, 2, 2, 2], 5],
    [[9], 1],
    [[3, 3], 3],
    [[0, 1, 2, 3, 4, 5, 6, 7], 6],
]

RECURSIVE = '''def fib(n: int, *, memo: dict | None = None) -> int:
    """The n-th Fibonacci number."""
'''
RECURSIVE_BODY = """    def step(a, b, k):
        return a if k == 0 else step(b, a + b, k - 1)
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2) if n < 12 else step(a=0, b=1, k=n)
"""


def load(code: str, name: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(code, "<test>", "exec"), namespace)
    return namespace[name]


def outcomes(code: str, name: str, inputs: list[list[Any]]) -> list[Any]:
    fn = load(code, name)
    out: list[Any] = []
    for args in inputs:
        try:
            out.append(("value", fn(*[list(a) if isinstance(a, list) else a for a in args])))
        except Exception as exc:
            out.append(("raised", type(exc).__name__))
    return out


def test_every_operator_fires_and_each_mutant_compiles() -> None:
    mutants = generate_mutants(CODE, "score", prompt=PROMPT)
    assert {m.operator for m in mutants} == set(OPERATORS)
    sources = [m.source for m in mutants]
    assert len(sources) == len(set(sources))  # deduplicated
    for m in mutants:
        compile(m.source, m.location, "exec")
        assert m.location.startswith("L") and m.detail


def test_mutants_leave_the_prompt_alone() -> None:
    docstring = "Points for items below the limit; bonus when the last one is even."
    for m in generate_mutants(CODE, "score", prompt=PROMPT):
        tree = ast.parse(m.source)
        fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
        assert fn.name == "score" and ast.get_docstring(fn) == docstring
        assert ast.unparse(fn.args) == "xs: List[int], limit: int"
        assert int(m.location[1:].split(":")[0]) > PROMPT.count("\n")


def test_most_mutants_change_behaviour() -> None:
    reference = outcomes(CODE, "score", INPUTS)
    mutants = generate_mutants(CODE, "score", prompt=PROMPT)
    changed = [m for m in mutants if outcomes(m.source, "score", INPUTS) != reference]
    # `total * 1` -> `total // 1` and the like are equivalent: the pools filter them out by
    # execution. The rest must really differ.
    assert len(changed) >= 0.8 * len(mutants)
    flipped = next(m for m in mutants if m.detail == "< -> <=")
    assert outcomes(flipped.source, "score", [[[3], 3]]) != outcomes(CODE, "score", [[[3], 3]])


def test_specific_operators() -> None:
    details = {(m.operator, m.detail) for m in generate_mutants(CODE, "score", prompt=PROMPT)}
    assert ("flip_compare", "== -> !=") in details
    assert ("bool_swap", "and -> or") in details
    assert ("drop_branch", "drop elif") in details
    assert ("drop_branch", "drop if") in details
    assert ("negate_condition", "negate test") in details
    assert ("wrong_return", "return best -> return total") in details
    assert ("swap_call", "max -> min") in details
    assert ("arith_swap", "+= -> -=") in details
    assert ("swap_operands", "a % b -> b % a") in details
    assert ("off_by_one", "2 -> 3") in details
    assert ("change_constant", "10 -> 0") in details


def test_mutants_are_deterministic_and_limited_round_robin() -> None:
    a = generate_mutants(CODE, "score", seed=1, limit=12, prompt=PROMPT)
    b = generate_mutants(CODE, "score", seed=1, limit=12, prompt=PROMPT)
    c = generate_mutants(CODE, "score", seed=2, limit=12, prompt=PROMPT)
    assert a == b and len(a) == 12
    assert a != c
    assert len({m.operator for m in a}) >= 8  # the limit spreads across operators
    assert generate_mutants("def f(:\n", "f") == []


def test_range_slice_and_index_bounds() -> None:
    code = (
        "def f(s, k):\n    out = []\n    for i in range(1, k):\n        out.append(s[i])\n"
        "    return s[:k] + out + [len(s)]\n"
    )
    details = {m.detail for m in generate_mutants(code, "f")}
    assert {"range stop +1", "range stop -1", "slice upper +1", "index -1", "len +1"} <= details


def test_variants_behave_exactly_like_the_reference() -> None:
    reference = outcomes(CODE, "score", INPUTS)
    variants = correct_variants(CODE, "score", 12, random.Random(0), prompt=PROMPT)
    assert len(variants) == 12
    assert len({v.source for v in variants}) == 12
    used = set()
    for v in variants:
        assert v.source != CODE and v.transforms
        used.update(v.transforms)
        assert outcomes(v.source, "score", INPUTS) == reference, v.transforms
        fn = load(v.source, "score")
        assert fn(xs=[1, 2], limit=3) == load(CODE, "score")(xs=[1, 2], limit=3)
        assert inspect.signature(fn) == inspect.signature(load(CODE, "score"))
    assert {"rename_locals", "wrapper", "enumerate_loop", "dead_code", "comments"} <= used


def test_variants_are_deterministic_given_the_rng() -> None:
    a = correct_variants(CODE, "score", 4, random.Random(5), prompt=PROMPT)
    b = correct_variants(CODE, "score", 4, random.Random(5), prompt=PROMPT)
    assert a == b


def test_variants_keep_keyword_calls_recursion_and_keyword_only_params() -> None:
    code = RECURSIVE + RECURSIVE_BODY
    inputs: list[list[Any]] = [[n] for n in range(25)]
    reference = outcomes(code, "fib", inputs)
    variants = correct_variants(code, "fib", 10, random.Random(3), prompt=RECURSIVE)
    assert variants
    for v in variants:
        assert outcomes(v.source, "fib", inputs) == reference, v.source
        assert load(v.source, "fib")(n=7, memo=None) == 13
        # `step` is called with keywords: its parameters must keep their names
        assert "step(a=0, b=1, k=n)" in v.source or "(a=0, b=1, k=n)" in v.source


def test_renaming_leaves_the_prompts_helpers_alone() -> None:
    prompt = 'def helper(v):\n    return v * 2\n\n\ndef g(n):\n    """Twice n plus one."""\n'
    code = prompt + "    doubled = helper(n)\n    return doubled + 1\n"
    for v in correct_variants(code, "g", 8, random.Random(0), prompt=prompt):
        assert "def helper(v):\n    return v * 2" in v.source
        assert load(v.source, "g")(4) == 9
