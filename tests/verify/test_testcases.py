"""Test code in every style people and models write, split into separately runnable cases."""

from __future__ import annotations

import pytest

from multiagent_codeact.verify import testcases
from multiagent_codeact.verify.testcases import examples_from_prompt, parse_tests


def parse(code: str, entry_point: str | None = "f") -> testcases.TestGroup:
    return parse_tests(code, entry_point, group_id="g", source="user")


# -- parse_tests ------------------------------------------------------------------------------


def test_bare_asserts_become_one_case_each_with_their_sides() -> None:
    group = parse("import math\nassert f(1) == 2\nassert 3 == f(2)\nassert f(3)\n")
    assert group.error is None
    assert group.setup == "import math"
    assert [c.id for c in group.cases] == ["g.1", "g.2", "g.3"]
    first, swapped, plain = group.cases
    assert (first.src, first.actual, first.expected) == ("assert f(1) == 2", "f(1)", "2")
    # The side that calls the entry point is the actual one, whichever side it is written on.
    assert (swapped.actual, swapped.expected) == ("f(2)", "3")
    assert plain.src == "assert f(3)"
    assert plain.actual is None and plain.expected is None


def test_only_a_single_equality_has_sides() -> None:
    group = parse("assert f(1) != 2\nassert 1 == f(1) == 1\nassert f(1) == 1, 'message'\n")
    assert [(c.actual, c.expected) for c in group.cases] == [
        (None, None),
        (None, None),
        ("f(1)", "1"),
    ]


def test_test_functions_are_cases_and_helpers_are_setup() -> None:
    code = (
        "import math\n"
        "def helper(x):\n    return x + 1\n"
        "def test_one():\n    assert f(helper(1)) == 4\n"
        "def test_two():\n    assert f(2) == 4\n"
    )
    group = parse(code)
    assert group.error is None
    assert [c.src for c in group.cases] == ["test_one()", "test_two()"]
    assert "def helper(x)" in group.setup
    assert "def test_one()" in group.setup and "def test_two()" in group.setup


def test_humaneval_check_keeps_the_statements_before_each_assert() -> None:
    code = (
        "METADATA = {'author': 'x'}\n"
        "def check(candidate):\n"
        '    """Runs the checks."""\n'
        "    xs = [1, 2]\n"
        "    assert candidate(xs) == 3\n"
        "    ys = xs + [4]\n"
        "    assert candidate(ys) == 7\n"
        "check(f)\n"
    )
    group = parse(code)
    assert group.error is None
    assert group.setup == "METADATA = {'author': 'x'}"  # check() itself and its call are gone
    assert len(group.cases) == 2
    first, second = group.cases
    assert first.src.splitlines() == ["candidate = f", "xs = [1, 2]", "assert candidate(xs) == 3"]
    assert second.src.splitlines() == [
        "candidate = f",
        "xs = [1, 2]",
        "ys = xs + [4]",
        "assert candidate(ys) == 7",
    ]
    assert "Runs the checks" not in first.src
    # A case with a prelude is run whole, not split into sides.
    assert first.actual is None


def test_unittest_classes_call_setup_before_each_test() -> None:
    code = (
        "import unittest\n"
        "class TestF(unittest.TestCase):\n"
        "    def setUp(self):\n        self.x = 1\n"
        "    def test_one(self):\n        self.assertEqual(f(self.x), 2)\n"
        "    def helper(self):\n        return 0\n"
        "    def test_two(self):\n        self.assertEqual(f(2), 4)\n"
        "if __name__ == '__main__':\n    unittest.main()\n"
    )
    group = parse(code)
    assert group.error is None
    assert [c.src for c in group.cases] == [
        "(lambda t: (t.setUp(), t)[1])(TestF('test_one')).test_one()",
        "(lambda t: (t.setUp(), t)[1])(TestF('test_two')).test_two()",
    ]
    assert "class TestF" in group.setup
    assert "unittest.main" not in group.setup


def test_plain_test_classes_without_setup_are_instantiated_directly() -> None:
    group = parse("class TestF:\n    def test_a(self):\n        assert f(1) == 2\n")
    assert [c.src for c in group.cases] == ["TestF().test_a()"]


def test_code_that_does_not_parse_gives_a_group_with_an_error() -> None:
    group = parse_tests(
        "assert f(1) == 2\nassert f(2 == 4\n", "f", group_id="t-x", source="candidate", author="x"
    )
    assert group.cases == []
    assert group.error is not None
    assert "do not parse" in group.error and "line 2" in group.error
    assert (group.id, group.source, group.author) == ("t-x", "candidate", "x")


def test_code_with_no_checks_gives_a_group_with_an_error() -> None:
    group = parse("x = f(1)\nprint(x)\n")
    assert group.cases == []
    assert group.error is not None and "no test cases" in group.error


def test_copies_of_the_solution_and_imports_of_it_are_dropped() -> None:
    code = (
        "from solution import f\n"
        "from mymodule import f as f\n"
        "def f(x):\n    return x\n"
        "class f:\n    pass\n"
        "from math import sqrt\n"
        "assert f(1) == 2\n"
    )
    group = parse(code)
    assert group.setup == "from math import sqrt"
    assert [c.src for c in group.cases] == ["assert f(1) == 2"]


def test_other_functions_are_kept_when_they_are_not_the_entry_point() -> None:
    group = parse("def g(x):\n    return x\nassert f(g(1)) == 2\n")
    assert "def g(x)" in group.setup


def test_main_guards_are_dropped_with_what_they_would_run() -> None:
    code = (
        "def test_a():\n    assert f(1) == 2\n"
        "if __name__ == '__main__':\n    test_a()\n    print('done')\n"
        "if '__main__' == __name__:\n    raise SystemExit(1)\n"
    )
    group = parse(code)
    assert [c.src for c in group.cases] == ["test_a()"]
    assert "__name__" not in group.setup and "print" not in group.setup


def test_computation_tasks_keep_every_definition() -> None:
    group = parse("def f(x):\n    return x\nassert f(1) == 1\n", entry_point=None)
    assert "def f(x)" in group.setup
    assert (group.cases[0].actual, group.cases[0].expected) == ("f(1)", "1")


# -- examples_from_prompt -----------------------------------------------------------------------


HUMANEVAL_PROMPT = '''from typing import List


def f(numbers: List[int], k: int) -> List[int]:
    """Multiply every number by k.
    >>> f([1, 2], 3)
    [3, 6]
    >>> f([], 2)
    []
    """
'''


def test_doctest_examples_with_closing_quotes_on_their_own_line() -> None:
    assert examples_from_prompt(HUMANEVAL_PROMPT, "f") == [
        "assert f([1, 2], 3) == [3, 6]",
        "assert f([], 2) == []",
    ]


def test_doctest_want_followed_by_closing_quotes_on_the_same_line() -> None:
    prompt = 'def f(x):\n    """Double it.\n    >>> f(2)\n    4\n    >>> f(3)\n    6"""\n'
    assert examples_from_prompt(prompt, "f") == ["assert f(2) == 4", "assert f(3) == 6"]
    single = "def f(x):\n    '''\n    >>> f('a')\n    'aa''''\n"
    assert examples_from_prompt(single, "f") == ["assert f('a') == 'aa'"]


def test_doctest_values_spanning_lines_and_printed_specials() -> None:
    prompt = (
        "def f(x):\n"
        '    """\n'
        "    >>> f(1)\n    [1,\n     2]\n"
        "    >>> f(2)\n    float('inf')\n"
        "    >>> f(3)\n    {1: 'a'}\n"
        "    >>> f(4)\n    -1.5\n"
        '    """\n'
    )
    assert examples_from_prompt(prompt, "f") == [
        "assert f(1) == [1, 2]",
        "assert f(2) == float('inf')",
        "assert f(3) == {1: 'a'}",
        "assert f(4) == -1.5",
    ]


def test_doctests_with_no_value_or_a_traceback_or_another_function_give_nothing() -> None:
    prompt = (
        ">>> f(0)\n"
        "Traceback (most recent call last):\n"
        "ValueError: zero\n"
        ">>> g(1)\n"
        "2\n"
        ">>> f(2)\n"
        "<function f at 0x7f>\n"
        ">>> f(3)\n"
        "helper(3)\n"
    )
    assert examples_from_prompt(prompt, "f") == []


def test_prose_examples_in_every_arrow_style() -> None:
    prompt = (
        "Examples:\n"
        "f(1) ➞ 2\n"
        "f('ab') => 'abab'\n"
        "f(3) == 6\n"
        "f(4) returns 8.\n"
        "f(5) -> 10\n"
        "f([1, (2, 3)]) should return [1, (2, 3), 1, (2, 3)]\n"
        "    assert f(6) == 12\n"
        "  * f(7) → 14,\n"
    )
    assert examples_from_prompt(prompt, "f") == [
        "assert f(1) == 2",
        "assert f('ab') == 'abab'",
        "assert f(3) == 6",
        "assert f(4) == 8",
        "assert f(5) == 10",
        "assert f([1, (2, 3)]) == [1, (2, 3), 1, (2, 3)]",
        "assert f(6) == 12",
        "assert f(7) == 14",
    ]


def test_parentheses_inside_string_arguments_do_not_end_the_call() -> None:
    assert examples_from_prompt("f('a)b', \")\") ➞ 3", "f") == ["assert f('a)b', ')') == 3"]


@pytest.mark.parametrize(
    "prose",
    [
        "Write a function f(x) that returns the double of x.",
        "f(x) should return twice its input.",
        "Call f(2) to get a value.",
        "The result of f(2) == x must hold.",
        "f(n) returns the n-th prime",
        "Note that myf(2) == 5 and obj.f(2) == 3 and g(2) == 4.",
        "assert g(1) == 2",
        "assert f(1 == 2",
        "Unbalanced f(1 ➞ 2",
    ],
)
def test_prose_that_is_not_an_example_gives_nothing(prose: str) -> None:
    assert examples_from_prompt(prose, "f") == []


def test_examples_are_deduplicated_and_need_an_entry_point() -> None:
    prompt = ">>> f(1)\n2\n\nf(1) == 2\nassert f(1) == 2\n"
    assert examples_from_prompt(prompt, "f") == ["assert f(1) == 2"]
    assert examples_from_prompt(prompt, None) == []


def test_examples_parse_into_cases_with_sides() -> None:
    examples = examples_from_prompt(HUMANEVAL_PROMPT, "f")
    group = parse_tests("\n".join(examples), "f", group_id="example", source="example")
    assert [(c.actual, c.expected) for c in group.cases] == [
        ("f([1, 2], 3)", "[3, 6]"),
        ("f([], 2)", "[]"),
    ]
