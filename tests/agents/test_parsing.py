"""Reply parsing, on replies captured from a live SmolLM2-135M (tests/agents/replies/) and on
the shapes small models keep producing."""

from __future__ import annotations

from pathlib import Path

import pytest

from multiagent_codeact.agents.parsing import parse_coder_reply, parse_tests_reply

REPLIES = Path(__file__).parent / "replies"


def reply(name: str) -> str:
    return (REPLIES / f"{name}.md").read_text()


@pytest.mark.parametrize(
    ("name", "usable", "problem"),
    [
        ("smollm2_add_01_coder", False, "does not parse"),  # the broken line is in the function
        ("smollm2_add_02_coder", True, None),  # a bare fence, nothing else
        ("smollm2_add_03_coder", True, "was left out"),  # a cut-off second block dropped
        ("smollm2_add_04_coder", True, None),  # wrong, but code: the verifier's to reject
        ("smollm2_add_06_coder", False, "does not define a function named 'add'"),
        ("smollm2_add_08_coder", False, "no code block"),  # prose only
    ],
)
def test_captured_coder_replies(name: str, usable: bool, problem: str | None) -> None:
    parsed = parse_coder_reply(reply(name), "add")
    assert parsed.usable is usable
    if problem is None:
        assert parsed.problems == []
    else:
        assert any(problem in p for p in parsed.problems), parsed.problems
    if parsed.code is not None:
        compile(parsed.code, name, "exec")


def test_a_cut_off_test_block_keeps_its_complete_asserts() -> None:
    parsed = parse_coder_reply(reply("smollm2_add_03_coder"), "add")
    assert parsed.code is not None and parsed.code.startswith("def add(a, b):")
    assert "assert add(2, 3) == 5" in parsed.tests
    assert "assert" not in parsed.code.split("\n", 2)[2]  # the asserts moved out of the code


def test_a_designer_that_writes_an_implementation_gives_no_tests() -> None:
    assert parse_tests_reply(reply("smollm2_add_05_test_designer")) == ""


def test_a_designer_implementation_is_dropped_but_its_asserts_kept() -> None:
    text = (
        "Here you go:\n```python\ndef add(a, b):\n    return a - b\n\n"
        "assert add(2, 3) == 5\nassert add(0, 0) == 0\nprint(add(1, 1))\n```\n"
    )
    assert parse_tests_reply(text) == "assert add(2, 3) == 5\nassert add(0, 0) == 0\n"


def test_test_functions_and_their_setup_are_kept() -> None:
    text = "```python\nimport math\nxs = [1, 2]\ndef test_sum():\n    assert sum(xs) == 3\n```"
    tests = parse_tests_reply(text)
    assert "import math" in tests and "xs = [1, 2]" in tests and "def test_sum" in tests


def test_asserts_inside_the_code_become_tests() -> None:
    text = "```python\ndef add(a, b):\n    return a + b\n\nassert add(2, 3) == 5\n```"
    parsed = parse_coder_reply(text, "add")
    assert parsed.code == "def add(a, b):\n    return a + b\n"
    assert parsed.tests == "assert add(2, 3) == 5\n"
    assert parsed.problems == []


def test_asserts_stay_in_a_computation() -> None:
    text = "```python\nresult = 2 + 2\nassert result == 4\n```"
    parsed = parse_coder_reply(text, None)
    assert parsed.code is not None and "assert result == 4" in parsed.code


def test_prose_inside_the_fence_is_dropped_after_the_code() -> None:
    text = (
        "```python\ndef add(a, b):\n    return a + b\n\nImplementation: the function adds "
        "its two arguments and returns the sum.\n```"
    )
    parsed = parse_coder_reply(text, "add")
    assert parsed.code == "def add(a, b):\n    return a + b\n"
    assert any("line 4 on does not parse" in p for p in parsed.problems), parsed.problems


def test_a_function_is_never_cut_in_half() -> None:
    text = "```python\ndef add(a, b):\n    x = (a +\n    return x\n```"
    parsed = parse_coder_reply(text, "add")
    assert parsed.code is None
    assert any("does not parse" in p for p in parsed.problems)


def test_the_salvaged_code_must_still_define_the_entry_point() -> None:
    text = "```python\nimport math\n\ndef add(a, b) return a + b\n```"
    assert parse_coder_reply(text, "add").code is None
