"""`--entry-point`, `--example` and `--tests` of `mcodeact solve`: saying the task precisely.

The prompt's wording gives the entry point most of the time (task_text.py); these options say
it outright, and add trusted examples and tests the verifier holds every candidate to. Bad
values are usage errors naming the option, before anything starts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import typer
from pydantic import ValidationError

from . import pyast
from .domain import Task
from .task_text import entry_point_in

__all__ = ["with_task_options"]


def with_task_options(
    task: Task, entry_point: str | None, examples: list[str], tests_file: Path | None
) -> Task:
    """`task` with the options applied; the entry point also read from the examples and
    tests when neither the option nor the prompt gives one."""
    shown = [_example(text) for text in examples]
    tests = _tests(tests_file) if tests_file is not None else ""
    updates: dict[str, object] = {}
    if shown:
        updates["examples"] = [*task.examples, *shown]
    if tests:
        updates["tests"] = f"{task.tests.rstrip()}\n{tests}" if task.tests else tests
    entry = entry_point or task.entry_point or entry_point_in("\n".join([*shown, tests]))
    if entry != task.entry_point:
        updates["entry_point"] = entry
    if not updates:
        return task
    try:
        return Task.model_validate(task.model_dump() | updates)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise typer.BadParameter(
            f"{first['msg']} (got {entry!r}): a Python function name, like add or is_prime",
            param_hint="--entry-point",
        ) from None


def _example(text: str) -> str:
    """An assert statement; a bare comparison (`add(2, 3) == 5`) gets its `assert`."""
    text = text.strip()
    try:
        pyast.parse_expression(text)
    except SyntaxError:
        pass
    else:
        return f"assert {text}"
    try:
        tree = pyast.parse(text)
    except SyntaxError as exc:
        raise typer.BadParameter(
            f"{text!r} is not Python ({exc.msg}); give an assert, e.g. 'assert add(2, 3) == 5'",
            param_hint="--example",
        ) from None
    if not tree.body or not all(isinstance(s, ast.Assert) for s in tree.body):
        raise typer.BadParameter(
            f"{text!r} is not an assert; give one, e.g. 'assert add(2, 3) == 5'",
            param_hint="--example",
        )
    return text


def _tests(path: Path) -> str:
    try:
        code = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise typer.BadParameter(f"no such file: {path}", param_hint="--tests") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="--tests") from None
    try:
        pyast.parse(code, filename=str(path))
    except SyntaxError as exc:
        raise typer.BadParameter(
            f"{path}:{exc.lineno}: {exc.msg}; the tests must be Python (asserts, test_*())",
            param_hint="--tests",
        ) from None
    if not code.strip():
        raise typer.BadParameter(f"{path} is empty", param_hint="--tests")
    return code if code.endswith("\n") else code + "\n"
