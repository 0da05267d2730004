"""The entry point from the task's wording, and `--entry-point`, `--example`, `--tests`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multiagent_codeact.cli import main
from multiagent_codeact.pipeline import as_task
from multiagent_codeact.task_text import entry_point_in

ROOT = Path(__file__).resolve().parents[1]
ADD = "## Explanation\nSum.\n\n## Code\n```python\ndef add(a, b):\n    return a + b\n```\n"


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("Write a function `def is_prime(n)`", "is_prime"),
        ("Write a function named gcd that ...", "gcd"),
        ("Write a function called `lcm`.", "lcm"),
        ("Write a function add(a, b) that returns the sum of a and b.", "add"),
        ("Write a Python function `add` that sums two numbers", "add"),
        ("Implement a function count_vowels, ignoring case.", "count_vowels"),
        ("Write a function that adds. assert add(2, 3) == 5", "add"),
        ("Given:\n>>> assert total([1, 2]) == 3", "total"),
        ("Write a function def sum(xs)", "sum"),  # said outright: even a builtin's name
        # No function named: a computation, or a name that is a word or a builtin.
        ("What is 2**100?", None),
        ("Write a function to compute the mean", None),
        ("Write a function that returns the largest prime below 100", None),
        ("Check it: assert abs(x - 1) < 1e-9", None),
        ("assert isinstance(result, int)", None),
    ],
)
def test_entry_point_from_wording(text: str, entry: str | None) -> None:
    assert entry_point_in(text) == entry
    assert as_task(text).entry_point == entry


def solve(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str
) -> tuple[int, dict[str, object], str]:
    script = tmp_path / "script.yaml"
    script.write_text(
        json.dumps({"rules": [{"role": "coder", "replies": [ADD]}], "default": "```python\n```"})
    )
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "solve", *args, "--scripted", str(script), "--candidates", "2", "--rounds", "0",
                "--json", "--runs-dir", str(tmp_path / "runs"),
            ]
        )  # fmt: skip
    out, err = capsys.readouterr()
    assert isinstance(exited.value.code, int)
    return exited.value.code, json.loads(out) if out.strip() else {}, err


def test_entry_point_examples_and_tests_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tests = tmp_path / "tests.py"
    tests.write_text("def test_zero():\n    assert add(0, 0) == 0\n")
    code, solution, err = solve(
        capsys, tmp_path, "Sum two numbers.", "--entry-point", "add",
        "--example", "assert add(2, 3) == 5", "--example", "add(-1, 1) == 0",
        "--tests", str(tests),
    )  # fmt: skip
    assert code in (0, 1), err
    task = solution["task"]
    assert isinstance(task, dict)
    assert task["entry_point"] == "add"
    assert task["examples"] == ["assert add(2, 3) == 5", "assert add(-1, 1) == 0"]
    assert "def test_zero" in task["tests"]
    assert "a + b" in str(solution["code"])


def test_an_example_names_the_entry_point(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, solution, err = solve(capsys, tmp_path, "Sum two numbers.", "--example", "add(2, 3) == 5")
    task = solution["task"]
    assert isinstance(task, dict) and task["entry_point"] == "add", err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--entry-point", "not a name"], "Invalid value for --entry-point"),
        (["--example", "add(2, 3) =="], "Invalid value for --example"),
        (["--example", "x = 1"], "is not an assert"),
        (["--tests", "no-such-file.py"], "no such file"),
    ],
)
def test_bad_task_options_are_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    code, _, err = solve(capsys, tmp_path, "Sum two numbers.", *args)
    assert code == 2 and message in err
    assert err.count("\n") == 1
