"""Inputs that grow: the task's own example inputs scaled up, for timing how cost grows.

Scaling a real input keeps its shape (element types, alphabet, the relation between arguments)
where drawing large random inputs would not. Lists of integers are extended with shifted copies
rather than repeated, so a sorted or duplicate-free list stays sorted and duplicate-free.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..verify import codec

MAX_INPUT_CHARS = 300_000  # the encoded size where the ladder stops: payloads stay small
MAX_STEPS = 16


class SizedInput(BaseModel):
    """One input of the growth ladder: its arguments and the size the growth fit uses."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    size: int
    args: tuple[Any, ...]


def input_size(args: Sequence[Any]) -> int:
    """Total length of the sized arguments, or, when every argument is a number, the largest
    magnitude: the `n` of the usual complexity statements."""
    lengths = [len(a) for a in args if _is_sized(a)]
    if lengths:
        return sum(lengths)
    numbers = [abs(a) for a in args if _is_int(a)]
    return max(numbers, default=0)


def scale(args: Sequence[Any], k: int) -> tuple[Any, ...]:
    """`args` made `k` times as large: sequences and strings extended, integers multiplied
    only when no argument is a sequence (then they are the size)."""
    if any(_is_sized(a) for a in args):
        return tuple(_scale_sized(a, k) if _is_sized(a) else a for a in args)
    return tuple(a * k if _is_int(a) else a for a in args)


def growth_ladder(
    bases: Sequence[Sequence[Any]], *, max_chars: int = MAX_INPUT_CHARS
) -> list[SizedInput]:
    """Inputs of doubling size grown from the largest base; integer-only arguments grow from
    n = 1 (their ratios kept), since a large example may already be far too slow."""
    usable = [tuple(b) for b in bases if input_size(b) > 0]
    if not usable:
        return []
    base = max(usable, key=input_size)
    sized = any(_is_sized(a) for a in base)
    ladder: list[SizedInput] = []
    seen: set[int] = set()
    for step in range(MAX_STEPS):
        args = scale(base, 2**step) if sized else _integers_at(base, 2**step)
        if len(json.dumps(codec.encode(list(args)))) > max_chars:
            break
        size = input_size(args)
        if size not in seen:
            seen.add(size)
            ladder.append(SizedInput(size=size, args=args))
    return ladder


def _integers_at(args: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    # The largest integer becomes n, the others keep their ratio to it.
    top = max(abs(a) for a in args if _is_int(a))
    return tuple(round(a * n / top) if _is_int(a) else a for a in args)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_sized(value: Any) -> bool:
    return isinstance(value, list | tuple | str | bytes | set | frozenset)


def _scale_sized(value: Any, k: int) -> Any:
    if isinstance(value, str | bytes):
        return value * k
    items = list(value)
    if items and all(_is_int(x) for x in items):
        span = max(items) - min(items) + 1
        grown: list[Any] = [x + j * span for j in range(k) for x in items]
    else:
        grown = items * k
    if isinstance(value, tuple):
        return tuple(grown)
    if isinstance(value, set | frozenset):
        return type(value)(grown)
    return grown
