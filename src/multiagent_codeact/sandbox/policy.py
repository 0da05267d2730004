"""The import allowlist: a policy layer for fast, explainable rejections. Advisory.

It is not the security boundary (that is the kernel: namespaces, Landlock, seccomp, rlimits, a
uid and a noexec tmpfs per job). Its job is to tell the model "module X is not allowed;
allowed: ..." before anything runs, instead of a cryptic failure deep inside the jail. The same
list is enforced again at import time inside the job, which catches `__import__("x")` and
`exec("import x")` in ordinary code.

It cannot hold against code that means to get round it, and does not try: Python offers no
isolation inside one process. ctypes is in `sys.modules` because numpy loads it (and
`numpy.ctypeslib` hands it out), the guard's closure holds the real `__import__`, the object
graph (`().__class__.__base__.__subclasses__()`) leads to the import machinery, code compiled
under a library's filename looks like library code, and a module can be loaded from a file path.
tests/sandbox/test_policy_tricks.py runs each of these and checks that what they reach (libc,
through ctypes) still cannot read host files, open a network socket, run a program, signal the
server or another job, gain privileges or write outside the work dir.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import sys
from collections.abc import Iterable

# Computation, text, data and plotting: what generated code needs to answer a task. Left out on
# purpose: networking (socket, ssl, http, urllib, ...), process control (subprocess,
# multiprocessing, pty), foreign code (ctypes, cffi) and interpreter internals (gc, inspect).
STDLIB_ALLOWED_IMPORTS: frozenset[str] = frozenset(
    {
        # numbers and algorithms
        "math", "cmath", "decimal", "fractions", "numbers", "random", "statistics",
        "itertools", "functools", "operator", "collections", "heapq", "bisect", "array",
        "copy", "dataclasses", "enum", "typing", "types", "abc", "contextlib", "graphlib",
        # text and data formats
        "re", "string", "textwrap", "unicodedata", "difflib", "json", "csv", "base64",
        "binascii", "struct", "hashlib", "hmac", "secrets", "zlib", "gzip", "bz2", "lzma",
        "zipfile", "tarfile", "pickle", "pprint", "html", "xml", "io", "codecs", "uuid",
        # time, files in the work dir, the interpreter's own view
        "datetime", "time", "calendar", "zoneinfo", "os", "sys", "signal", "pathlib", "glob",
        "fnmatch", "shutil", "tempfile", "warnings", "traceback", "timeit", "sqlite3",
        "logging", "argparse", "__future__", "doctest", "unittest",
    }
)  # fmt: skip

# The preset libraries: core dependencies of this package, so they are installed wherever it is,
# and pre-imported by the sandbox's warm workers (`DEFAULT_PRELOAD`). Pillow comes with
# matplotlib and is loaded by it.
PRESET_LIBRARIES: tuple[str, ...] = ("numpy", "pandas", "matplotlib", "PIL")


@functools.cache
def installed_presets() -> frozenset[str]:
    """The preset libraries this Python can import: the default allowlist names no more."""
    return frozenset(name for name in PRESET_LIBRARIES if importlib.util.find_spec(name))


def default_allowlist() -> frozenset[str]:
    return STDLIB_ALLOWED_IMPORTS | installed_presets()


DEFAULT_ALLOWED_IMPORTS: frozenset[str] = default_allowlist()


def top_level(module: str) -> str:
    return module.split(".", 1)[0]


def resolve_allowlist(
    allowed_imports: Iterable[str] | None, allow_imports: Iterable[str] = ()
) -> frozenset[str]:
    """The allowlist a sandbox uses: a replacement list or the default, plus extra names."""
    base = DEFAULT_ALLOWED_IMPORTS if allowed_imports is None else frozenset(allowed_imports)
    return frozenset(top_level(m) for m in (*base, *allow_imports))


def imported_modules(tree: ast.AST) -> list[tuple[str, int]]:
    """Top-level module names the code imports, with line numbers.

    Covers `import x`, `from x import y` and calls with a literal name to `__import__` and
    `importlib.import_module`. Relative imports are skipped: there is no package to be relative to.
    """
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((top_level(alias.name), node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.module and node.level == 0:
                found.append((top_level(node.module), node.lineno))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((top_level(first.value), node.lineno))
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr in {"__import__", "import_module"}


def forbidden_import(tree: ast.AST, allowlist: frozenset[str]) -> tuple[str, int] | None:
    """The first (module, line) the code imports that the allowlist does not name."""
    for name, line in imported_modules(tree):
        if name not in allowlist:
            return name, line
    return None


def not_allowed_message(module: str, allowlist: frozenset[str]) -> str:
    if _not_installed(module):
        return (
            f"module {module!r} is not installed in the Python the sandbox runs "
            f"({sys.executable}), so it is not allowed; the preset libraries are "
            f"{', '.join(sorted(installed_presets()))}. To use it, install it there "
            f"(pip install {module}) and pass allow_imports=[{module!r}] "
            f"(CLI: --allow-import {module})."
        )
    return (
        f"module {module!r} is not allowed in this sandbox; allowed: "
        f"{', '.join(sorted(allowlist))}. To allow it, pass allow_imports=[{module!r}] "
        f"(CLI: --allow-import {module})."
    )


def _not_installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True
