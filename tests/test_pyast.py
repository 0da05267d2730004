"""ast calls beside the input-drawing thread (CPython before 3.11.9, gh-106905)."""

from __future__ import annotations

import threading
import time

import pytest

from multiagent_codeact import Task, pyast
from multiagent_codeact.verify.engine import task_input_plan

SOURCE = "\n".join(
    f"def g{i}(a, b):\n    return [x * {i} for x in range(a) if x % 3 == b]" for i in range(300)
)


@pytest.mark.skipif(not pyast.AFFECTED, reason="this CPython's ast is thread-safe")
def test_parsing_while_inputs_are_drawn_in_a_thread_does_not_break_ast() -> None:
    # Unguarded, this loop saw "SystemError: AST constructor recursion depth mismatch" about
    # once in 16 parses here: Hypothesis parses source while it draws.
    plan = task_input_plan(
        Task(prompt="def f(xs: list[int], s: str) -> int:\n    'x'\n", entry_point="f")
    )
    assert plan is not None
    stop = threading.Event()
    draws = 0

    def drawer() -> None:
        nonlocal draws
        while not stop.is_set():
            plan.draw(30)
            draws += 1

    thread = threading.Thread(target=drawer)
    thread.start()
    parses = 0
    try:
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            pyast.parse(SOURCE)  # raises SystemError if the guard does not hold
            parses += 1
    finally:
        stop.set()
        thread.join()
    assert parses >= 3 and draws >= 3
