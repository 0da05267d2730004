"""Inputs that grow, for timing how cost grows: larger inputs of the same shape as real ones.

A large input is built from many drawn inputs, not by repeating one: its sized arguments
(lists, strings, tuples, sets, dicts) are the concatenation of the same argument across the
differential inputs the original answered, in a fixed shuffled order, cut to the size wanted.
So a large string keeps the drawn strings' mix of words, spaces and alphabets (repeating one
word-free string would time one giant word), and a large list keeps their spread of values and
repeats. What every drawn list shares is kept too: sorted ones stay sorted, lists without
repeats stay without. Integer-only arguments are the size themselves, and grow from n = 1.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..verify import codec

MAX_INPUT_CHARS = 300_000  # the encoded size where the ladder stops: payloads stay small
MAX_STEPS = 16
VARIANTS = 7  # further inputs per size, besides the one checked for equivalence


class SizedInput(BaseModel):
    """One input of the growth ladder: its arguments, the size the growth fit uses, and other
    inputs of about that size that repeated timings take in turn (so that a rewrite that
    caches its answers across calls cannot time cache hits)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    size: int
    args: tuple[Any, ...]
    variants: list[tuple[Any, ...]] = []


def input_size(args: Sequence[Any]) -> int:
    """Total length of the sized arguments, or, when every argument is a number, the largest
    magnitude: the `n` of the usual complexity statements."""
    lengths = [len(a) for a in args if _is_sized(a)]
    if lengths:
        return sum(lengths)
    numbers = [abs(a) for a in args if _is_int(a)]
    return max(numbers, default=0)


def growth_ladder(
    bases: Sequence[Sequence[Any]], *, max_chars: int = MAX_INPUT_CHARS, seed: int = 0
) -> list[SizedInput]:
    """Inputs of doubling size, built from `bases` (inputs the original answered)."""
    usable = [tuple(b) for b in bases if input_size(b) > 0]
    if not usable:
        return []
    template = max(usable, key=input_size)
    if not any(_is_sized(a) for a in template):
        # Grown from n = 1 anyway: take the sign of a non-negative base where there is one.
        template = max(usable, key=lambda b: (all(a >= 0 for a in b if _is_int(a)), input_size(b)))
        return _integer_ladder(template, max_chars)
    shape = _shape(template)
    pool = [b for b in usable if _shape(b) == shape] or [template]
    order = list(range(len(pool)))
    random.Random(seed).shuffle(order)
    pool = [pool[i] for i in order]
    start = max(1, min(input_size(b) for b in pool))
    rng = random.Random(seed + 1)
    orders = [rng.sample(pool, len(pool)) for _ in range(VARIANTS)]
    ladder: list[SizedInput] = []
    seen: set[int] = set()
    for step in range(MAX_STEPS):
        args = _grown(template, pool, start * 2**step)
        if len(json.dumps(codec.encode(list(args)))) > max_chars:
            break
        size = input_size(args)
        if size not in seen:
            seen.add(size)
            variants = [_grown(template, order, start * 2**step) for order in orders]
            others = [v for v in variants if v != args]
            ladder.append(SizedInput(size=size, args=args, variants=others))
    return ladder


def _grown(template: tuple[Any, ...], pool: list[tuple[Any, ...]], total: int) -> tuple[Any, ...]:
    """`template` with each sized argument grown to its share of `total` from the pool."""
    sized = [i for i, a in enumerate(template) if _is_sized(a)]
    lengths = [max(1, len(template[i])) for i in sized]
    share = {
        i: max(1, round(total * n / sum(lengths))) for i, n in zip(sized, lengths, strict=True)
    }
    out = list(template)
    for i in sized:
        out[i] = _fill([b[i] for b in pool], share[i])
    return tuple(out)


def _fill(parts: list[Any], size: int) -> Any:
    """One value of `size` made of `parts` (values of one kind) one after another."""
    first = parts[0]
    if isinstance(first, str | bytes):
        text: Any = first[:0].join(parts)
        while 0 < len(text) < size:
            text += text
        return text[:size]
    items: list[Any] = []
    distinct = all(len(set(map(repr, _items(p)))) == len(_items(p)) for p in parts)
    ordered = _sortedness(parts)
    seen: set[str] = set()
    rounds = 0
    while len(items) < size and rounds < 64:
        for p in parts:
            for item in _items(p):
                # A further pass: new values with the same spread, not the same ones again.
                x = item + rounds * _span(parts) if rounds and _is_int(item) else item
                key = repr(x)
                if distinct and key in seen:
                    continue
                seen.add(key)
                items.append(x)
        rounds += 1
        if not items:
            break
    items = items[:size]
    if ordered is not None:
        try:
            items.sort(reverse=ordered == "desc")
        except TypeError:
            pass
    if isinstance(first, dict):
        return dict(items)
    if isinstance(first, tuple):
        return tuple(items)
    if isinstance(first, set | frozenset):
        return type(first)(items)
    return items


def _items(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.items())
    return list(value)


def _sortedness(parts: list[Any]) -> str | None:
    """ "asc" or "desc" when every part with two or more items is sorted that way."""
    lists = [
        _items(p)
        for p in parts
        if isinstance(p, list | tuple) and len(p) >= 2 and not isinstance(p, str)
    ]
    if not lists:
        return None
    try:
        if all(all(a <= b for a, b in itertools.pairwise(x)) for x in lists):
            return "asc"
        if all(all(a >= b for a, b in itertools.pairwise(x)) for x in lists):
            return "desc"
    except TypeError:
        return None
    return None


def _span(parts: list[Any]) -> int:
    ints = [x for p in parts for x in _items(p) if _is_int(x)]
    return (max(ints) - min(ints) + 1) if ints else 0


def _shape(args: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(type(a).__name__ for a in args)


def _integer_ladder(template: tuple[Any, ...], max_chars: int) -> list[SizedInput]:
    # The largest integer becomes n, the others keep their ratio to it; from n = 1, since a
    # large drawn value may already be far too slow.
    ladder: list[SizedInput] = []
    seen: set[int] = set()
    for step in range(MAX_STEPS):
        args = _integers_at(template, 2**step)
        if len(json.dumps(codec.encode(list(args)))) > max_chars:
            break
        size = input_size(args)
        if size not in seen:
            seen.add(size)
            variants = [_integers_at(template, 2**step + j) for j in range(1, VARIANTS + 1)]
            ladder.append(SizedInput(size=size, args=args, variants=variants))
    return ladder


def _integers_at(args: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    top = max(abs(a) for a in args if _is_int(a))
    return tuple(round(a * n / top) if _is_int(a) else a for a in args)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_sized(value: Any) -> bool:
    return isinstance(value, list | tuple | str | bytes | set | frozenset | dict)
