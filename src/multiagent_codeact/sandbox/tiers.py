"""Which kind of warm worker a job goes to: lean (no preloads) or full (numpy, pandas, matplotlib).

A full worker is a fork of the interpreter that imported the preloads; it costs several times a
lean one to fork, lock down and tear down (jail/server.py), which is what bounds jobs back to
back. A job that imports none of the preloads loses nothing on a lean worker, and one the scan
misjudges still runs there, at the price of a cold import: the choice is about speed only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Literal

from .. import pyast
from .policy import imported_modules, top_level

Tier = Literal["lean", "full"]

# Calls that run or load code the source does not show: without the caller's word for what
# that code imports, such a job gets a full worker.
_LOADERS = {"exec", "eval", "compile", "run_path", "run_module", "exec_module", "load_module"}
_DYNAMIC_IMPORTS = {"__import__", "import_module"}


def tier_for(tree: ast.AST, preload: Iterable[str], declared: Iterable[str] | None) -> Tier:
    """ "full" when the job may import a preload; `declared`: what the code it loads imports."""
    roots = {top_level(m) for m in preload}
    names = {name for name, _ in imported_modules(tree)}
    names.update(top_level(m) for m in declared or ())
    if names & roots:
        return "full"
    if declared is None and _loads_unseen_code(tree):
        return "full"
    return "lean"


def source_imports(*sources: str) -> set[str]:
    """Top-level modules the sources import; a source that does not parse adds nothing."""
    names: set[str] = set()
    for source in sources:
        try:
            tree = pyast.parse(source)
        except (SyntaxError, ValueError):
            continue
        names.update(name for name, _ in imported_modules(tree))
    return names


def _loads_unseen_code(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in _LOADERS:
            return True
        if name in _DYNAMIC_IMPORTS:
            first = node.args[0] if node.args else None
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                return True
    return False
