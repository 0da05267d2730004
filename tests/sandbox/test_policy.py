"""The import allowlist: which imports the static check sees, and what it says."""

from __future__ import annotations

import ast

import pytest

from multiagent_codeact.sandbox.policy import (
    DEFAULT_ALLOWED_IMPORTS,
    forbidden_import,
    imported_modules,
    not_allowed_message,
    resolve_allowlist,
)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import os.path, json as j", [("os", 1), ("json", 1)]),
        ("from collections.abc import Mapping", [("collections", 1)]),
        ("from . import sibling", []),
        ("x = 1\n__import__('socket')", [("socket", 2)]),
        ("import importlib\nimportlib.import_module('ssl.x')", [("importlib", 1), ("ssl", 2)]),
        ("def f():\n    import ctypes\n", [("ctypes", 2)]),
        ("__import__(name)", []),  # not a literal: left to the runtime guard
    ],
)
def test_imported_modules(code: str, expected: list[tuple[str, int]]) -> None:
    assert sorted(imported_modules(ast.parse(code))) == sorted(expected)


def test_first_forbidden_import_is_reported_with_its_line() -> None:
    tree = ast.parse("import math\nimport numpy\nimport socket\nimport ctypes")
    assert forbidden_import(tree, DEFAULT_ALLOWED_IMPORTS) == ("socket", 3)


def test_allowlist_replacement_and_extension() -> None:
    assert resolve_allowlist(None) == DEFAULT_ALLOWED_IMPORTS
    assert resolve_allowlist(["math"], ["scipy.stats"]) == frozenset({"math", "scipy"})
    assert "subprocess" in resolve_allowlist(None, ["subprocess"])


def test_defaults_leave_out_network_and_process_control() -> None:
    for module in ("socket", "ssl", "urllib", "http", "subprocess", "ctypes", "multiprocessing"):
        assert module not in DEFAULT_ALLOWED_IMPORTS


def test_message_names_module_allowed_list_and_fix() -> None:
    msg = not_allowed_message("socket", frozenset({"math", "json"}))
    assert msg.startswith("module 'socket' is not allowed")
    assert "json, math" in msg
    assert "allow_imports=['socket']" in msg and "--allow-import socket" in msg
