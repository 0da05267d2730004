"""Turning test code and a task's examples into separate test cases the harness can run.

Test code arrives in every style models and people write: bare `assert` lines, `test_*`
functions, HumanEval's `def check(candidate)`, unittest classes. Each assertion becomes a case of
its own, so one wrong expectation costs one cell of the matrix rather than the whole suite; the
rest (imports, helpers, constants) becomes the group's setup, run once before its cases.
"""

from __future__ import annotations

import ast
import doctest
import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .. import pyast

# Trusted: "example" (from the task), "user" (the task's tests). Generated, and so noisy:
# "candidate" (written with a candidate, by its author), "designer" (written from the task alone,
# by an independent test writer) and "adjudicator" (the test designer's answer, from the task
# alone, on the inputs where rival behaviours disagree).
TestSource = Literal["example", "user", "candidate", "designer", "adjudicator"]
TRUSTED_SOURCES = frozenset({"example", "user"})


class TestCase(BaseModel):
    """One runnable check. `actual`/`expected` are set for `assert ACTUAL == EXPECTED`."""

    model_config = ConfigDict(frozen=True)

    id: str
    src: str
    actual: str | None = None
    expected: str | None = None


class TestGroup(BaseModel):
    """Cases that share a setup, and where they came from."""

    model_config = ConfigDict(frozen=True)

    id: str
    source: TestSource
    author: str | None = None  # the candidate id, for tests a candidate wrote
    setup: str = ""
    cases: list[TestCase] = []
    error: str | None = None  # why the test code could not be used, if it could not
    # Trusted tests stated outright (asserts the user wrote) filter even when no candidate
    # passes them; examples read out of prose or doctests are set aside then (a misreading).
    strict: bool = False


def parse_tests(
    code: str,
    entry_point: str | None,
    *,
    group_id: str,
    source: TestSource,
    author: str | None = None,
    strict: bool = False,
) -> TestGroup:
    """Split test code into cases. Code that does not parse gives a group with `error` set."""
    try:
        tree = pyast.parse(code)
    except SyntaxError as exc:
        return TestGroup(
            id=group_id,
            source=source,
            author=author,
            error=f"the tests do not parse: {exc.msg} (line {exc.lineno})",
        )
    setup: list[ast.stmt] = []
    bodies: list[tuple[list[ast.stmt], ast.stmt]] = []  # (per-case prelude, the check)
    for node in tree.body:
        if _defines_entry(node, entry_point) or _is_main_guard(node) or _calls_check(node):
            continue  # a copy of the solution, a script entry, or a runner of check()
        if isinstance(node, ast.Assert):
            bodies.append(([], node))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "check":
            bodies.extend(_split_check(node, entry_point))
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            setup.append(node)
            bodies.append(([], _call_stmt(node.name)))
        elif isinstance(node, ast.ClassDef) and _is_test_class(node):
            setup.append(node)
            bodies.extend(([], _call_stmt(call)) for call in _unittest_calls(node))
        else:
            setup.append(node)
    cases = [
        _case(f"{group_id}.{i}", prelude, check, entry_point)
        for i, (prelude, check) in enumerate(bodies, start=1)
    ]
    return TestGroup(
        id=group_id,
        source=source,
        author=author,
        strict=strict,
        setup=_implied_imports(tree) + _unparse(setup),
        cases=cases,
        error=None if cases else "no test cases found (expected assert lines or test_* functions)",
    )


def _case(
    case_id: str, prelude: list[ast.stmt], check: ast.stmt, entry_point: str | None
) -> TestCase:
    src = _unparse([*prelude, check])
    if not prelude and isinstance(check, ast.Assert):
        sides = _equality_sides(check.test, entry_point)
        if sides is not None:
            return TestCase(id=case_id, src=src, actual=sides[0], expected=sides[1])
    return TestCase(id=case_id, src=src)


def _equality_sides(test: ast.expr, entry_point: str | None) -> tuple[str, str] | None:
    """(actual, expected) sources for `a == b`, the actual side being the one that calls in."""
    if not (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
    ):
        return None
    left, right = test.left, test.comparators[0]
    if entry_point is not None and _calls(right, entry_point) and not _calls(left, entry_point):
        left, right = right, left
    return ast.unparse(left), ast.unparse(right)


def _calls(node: ast.AST, name: str) -> bool:
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id in (name, "candidate")
        for n in ast.walk(node)
    )


def _split_check(
    node: ast.FunctionDef | ast.AsyncFunctionDef, entry_point: str | None
) -> list[tuple[list[ast.stmt], ast.stmt]]:
    # HumanEval style: `def check(candidate): assert candidate(...) == ...`. Each assert is a
    # case; the statements before it (assignments, loops building inputs) are its prelude.
    alias: list[ast.stmt] = []
    params = [a.arg for a in node.args.args]
    if params and entry_point is not None:
        alias = [pyast.parse(f"{params[0]} = {entry_point}").body[0]]
    out: list[tuple[list[ast.stmt], ast.stmt]] = []
    before: list[ast.stmt] = []
    for stmt in node.body:
        if isinstance(stmt, ast.Assert):
            out.append(([*alias, *before], stmt))
        elif not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
            before.append(stmt)
    return out


def _is_test_class(node: ast.ClassDef) -> bool:
    return node.name.startswith("Test") or any(
        isinstance(b, ast.Attribute | ast.Name) and ast.unparse(b).endswith("TestCase")
        for b in node.bases
    )


def _unittest_calls(node: ast.ClassDef) -> Iterable[str]:
    setup = any(isinstance(s, ast.FunctionDef) and s.name == "setUp" for s in node.body)
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name.startswith("test"):
            obj = f"{node.name}({stmt.name!r})" if _is_unittest(node) else f"{node.name}()"
            pre = f"(lambda t: (t.setUp(), t)[1])({obj})" if setup else obj
            yield f"{pre}.{stmt.name}"


def _is_unittest(node: ast.ClassDef) -> bool:
    return any(ast.unparse(b).endswith("TestCase") for b in node.bases)


def _call_stmt(name: str) -> ast.stmt:
    return pyast.parse(f"{name}()").body[0]


def _defines_entry(node: ast.stmt, entry_point: str | None) -> bool:
    if entry_point is None:
        return False
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name == entry_point
    if isinstance(node, ast.ImportFrom):  # `from solution import f`: the module is not there
        return any((a.asname or a.name) == entry_point for a in node.names)
    return False


def _is_main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)


def _calls_check(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "check"
    )


# Modules test code often uses without importing them (an MBPP example reads
# `assert math.isclose(area(2), 12.56)` with no import in sight): the name a module goes by,
# and the module.
IMPLIED_MODULES = {
    "math": "math", "cmath": "cmath", "re": "re", "string": "string", "itertools": "itertools",
    "functools": "functools", "collections": "collections", "heapq": "heapq",
    "bisect": "bisect", "statistics": "statistics", "fractions": "fractions",
    "decimal": "decimal", "datetime": "datetime", "operator": "operator", "random": "random",
    "json": "json", "copy": "copy", "sys": "sys", "np": "numpy", "numpy": "numpy",
}  # fmt: skip


def _implied_imports(tree: ast.Module) -> str:
    """`import m` lines for the modules the code uses as `m.attr` but never binds."""
    bound: set[str] = set()
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            used.add(node.value.id)
    lines = []
    for name in sorted(used - bound):
        module = IMPLIED_MODULES.get(name)
        if module is not None:
            lines.append(f"import {module}" + (f" as {name}" if name != module else ""))
    return "".join(line + "\n" for line in lines)


def _unparse(nodes: list[ast.stmt]) -> str:
    return ast.unparse(ast.Module(body=nodes, type_ignores=[])) if nodes else ""


# -- examples written into a task's prompt --------------------------------------------------

_ARROWS = re.compile(r"^\s*(?:==>|=>|==|->|➞|→|=|returns|should return|should be|gives)\s*")


def examples_from_prompt(prompt: str, entry_point: str | None) -> list[str]:
    """`assert` statements for the examples a prompt shows.

    Understands doctests (`>>> f(1)` then `2`), `assert` lines, and the prose forms seen in
    benchmark prompts: `f(1) == 2`, `f(1) ➞ 2`, `f(1) => 2`, `f(1) returns 2`.
    """
    if entry_point is None:
        return []
    found: list[str] = []
    for example in _doctest_examples(prompt):
        source, want = example.source.strip(), _want(example.want)
        if want and _calls(_parse_expr(source) or ast.Pass(), entry_point):
            _add(found, source, want)
    for line in prompt.splitlines():
        stripped = line.strip()
        if stripped.startswith(">>>"):
            continue
        asserts = _inline_asserts(stripped, entry_point)
        if asserts:
            for stmt in asserts:
                _append_unique(found, stmt)
            continue
        start = stripped.find(entry_point + "(")
        if start < 0 or (
            start > 0 and (stripped[start - 1].isalnum() or stripped[start - 1] in "_.")
        ):
            continue
        end = _matching_paren(stripped, start + len(entry_point))
        if end is None:
            continue
        rest = stripped[end + 1 :]
        arrow = _ARROWS.match(rest)
        if arrow:
            _add(found, stripped[start : end + 1], rest[arrow.end() :].rstrip(" .,;"))
    return found


def stated_examples(prompt: str, entry_point: str | None) -> list[str]:
    """The `assert` statements a prompt states outright, wherever they stand in its text."""
    if entry_point is None:
        return []
    found: list[str] = []
    for line in prompt.splitlines():
        if not line.strip().startswith(">>>"):
            for stmt in _inline_asserts(line.strip(), entry_point):
                _append_unique(found, stmt)
    return found


_ASSERT = re.compile(r"(?<![\w.])assert\s")
_ENDS = re.compile(r"[`;]|\.\s|\.$|,\s+(?:and|or|but)\s|\s+(?:and|or|but)\s+(?=[a-z])")


def _inline_asserts(line: str, entry_point: str) -> list[str]:
    """`assert` statements anywhere in a line of prose ("...the sum. assert add(2, 3) == 5"),
    inside backticks or not: each is cut at the longest prefix that parses."""
    out = []
    for match in _ASSERT.finditer(line):
        rest = line[match.start() :]
        ends = [m.start() for m in _ENDS.finditer(rest)] + [len(rest)]
        for end in sorted(set(ends), reverse=True):
            try:
                body = pyast.parse(rest[:end].strip()).body
            except SyntaxError:
                continue
            if len(body) == 1 and isinstance(body[0], ast.Assert):
                if _calls(body[0].test, entry_point):
                    out.append(ast.unparse(body[0]))
                break
    return out


def _want(text: str) -> str:
    # In a docstring the expected value runs up to the closing quotes, which doctest keeps.
    lines = []
    for line in text.splitlines():
        if line.strip().startswith(('"""', "'''")):
            break
        if line.rstrip().endswith(('"""', "'''")):  # `    6"""`: it closes on the want line
            lines.append(line.rstrip()[:-3])
            break
        lines.append(line)
    return "\n".join(lines).strip()


def _doctest_examples(prompt: str) -> list[doctest.Example]:
    try:
        return doctest.DocTestParser().get_examples(prompt)
    except ValueError:  # inconsistent indentation in a prose prompt
        return []


def _add(found: list[str], call: str, want: str) -> None:
    expected = _parse_expr(want)
    actual = _parse_expr(call)
    if expected is None or actual is None or not _is_value(expected):
        return
    _append_unique(found, f"assert {ast.unparse(actual)} == {ast.unparse(expected)}")


def _append_unique(found: list[str], stmt: str) -> None:
    if stmt not in found:
        found.append(stmt)


def _parse_expr(text: str) -> ast.expr | None:
    try:
        return pyast.parse_expression(text).body
    except SyntaxError:
        return None


_VALUE_NODES = (
    ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp, ast.Load,
    ast.USub, ast.UAdd, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Call, ast.Name,
)  # fmt: skip
_VALUE_CALLS = frozenset({"float", "set", "frozenset", "tuple", "list", "dict"})


def _is_value(node: ast.expr) -> bool:
    """A literal, or a printed value such as float('inf') or set(): not a call into the code."""
    for n in ast.walk(node):
        if not isinstance(n, _VALUE_NODES):
            return False
        if isinstance(n, ast.Name) and n.id not in _VALUE_CALLS:
            return False
        if isinstance(n, ast.Call) and not isinstance(n.func, ast.Name):
            return False
    return True


def _matching_paren(text: str, open_at: int) -> int | None:
    depth = 0
    quote: str | None = None
    for i in range(open_at, len(text)):
        ch = text[i]
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return None
