"""Reading the function a task asks for out of its wording.

People write "def add(a, b)", "a function named add", "function add(a, b)", "a function `add`
that ..." or just an example, "assert add(2, 3) == 5". Without the entry point the verifier
cannot call the candidates, so no differential input runs and agreement means nothing; with a
wrong one every candidate fails. So the forms are tried from the most explicit to the least,
and a name that is an English word or a builtin is never taken.
"""

from __future__ import annotations

import builtins
import re

__all__ = ["entry_point_in"]

_NAME = r"`?([A-Za-z_]\w*)`?"
_NOT_NAMES = frozenset(
    {
        "a", "an", "the", "that", "which", "who", "to", "for", "in", "on", "of", "with",
        "and", "or", "returning", "returns", "return", "taking", "takes", "accepting",
        "accepts", "called", "named", "is", "as", "it", "its", "this", "these", "using",
        "should", "must", "will", "can", "python", "def", "function", "method", "computes",
        "calculates",
    }
)  # fmt: skip
_FORMS = (  # (pattern, explicit): an explicit form may name a builtin ("def sum(")
    (re.compile(r"\bdef\s+([A-Za-z_]\w*)\s*\("), True),
    (re.compile(rf"\bfunction\s+(?:called|named)\s+{_NAME}", re.I), True),
    (re.compile(rf"\bfunction\s+{_NAME}\s*\(", re.I), True),
    (
        re.compile(
            rf"\b(?:a|an|the|one)\s+(?:python\s+)?function\s+{_NAME}\s*"
            r"(?=,|\b(?:that|which|to|returning|taking|accepting|for|in|with)\b)",
            re.I,
        ),
        True,
    ),
    (re.compile(r"\bassert\s+(?:not\s+)?([A-Za-z_]\w*)\s*\("), False),
)
_BUILTINS = frozenset(dir(builtins))


def entry_point_in(text: str) -> str | None:
    """The function `text` asks for, or None when it names none (a computation task)."""
    for form, explicit in _FORMS:
        for match in form.finditer(text):
            name = match.group(1)
            if name.lower() in _NOT_NAMES or (not explicit and name in _BUILTINS):
                continue
            return name
    return None
