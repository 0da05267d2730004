"""`ast` calls that are safe beside the thread that draws differential inputs.

CPython before 3.11.9 (gh-106905) can fail an `ast` call made while another thread is inside
one, with `SystemError: AST constructor recursion depth mismatch`. Hypothesis parses source
while it draws (a digest of the test function, the constants of local modules), and inputs
are drawn in a worker thread while the event loop parses model replies: seen here ending a
solve() with that SystemError. So on those versions every `ast` call of ours, and every draw,
holds one lock; on fixed versions the lock is not taken.
"""

from __future__ import annotations

import ast
import contextlib
import sys
import threading
from collections.abc import Iterator
from types import CodeType
from typing import Any

AFFECTED = sys.version_info < (3, 11, 9)
_LOCK = threading.RLock()


@contextlib.contextmanager
def ast_lock() -> Iterator[None]:
    """Held around anything that may build `ast` objects in another thread (a draw)."""
    if not AFFECTED:
        yield
        return
    with _LOCK:
        yield


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    with ast_lock():
        return ast.parse(source, filename=filename)


def parse_expression(source: str) -> ast.Expression:
    with ast_lock():
        return ast.parse(source, mode="eval")


def literal_eval(node_or_string: str | ast.AST) -> Any:
    with ast_lock():
        return ast.literal_eval(node_or_string)


def compile_tree(tree: ast.Module | ast.Expression, filename: str, mode: str) -> CodeType:
    with ast_lock():
        return compile(tree, filename, mode)
