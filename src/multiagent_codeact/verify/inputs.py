"""Inputs for differential testing: every candidate is called on the same ones.

Strategies come from Hypothesis. Where the task's examples or the candidates' tests show
argument values, inputs are shaped after them (same types, signs, alphabets, sizes), because a
task that only ever shows positive numbers usually means positive numbers, and candidates that
differ only outside the intended domain would otherwise look like rival behaviours. Type hints
fill in parameters no example shows; with neither, a generic mix still gives a few inputs.
"""

from __future__ import annotations

import ast
import logging
import math
import re
import string
import threading
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)
MAX_INPUT_CHARS = 2000  # inputs larger than this say little more and slow every candidate
_HYPOTHESIS_LOCK = threading.Lock()  # @given runs are not meant to overlap in one process


class Param(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    annotation: str | None = None
    has_default: bool = False


class Signature(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    params: list[Param]


def find_signature(entry_point: str, sources: Iterable[str]) -> Signature | None:
    """The entry point's parameters, from the first source that defines it (prompt first)."""
    for source in sources:
        for text in (source, _def_line_only(source, entry_point)):
            if not text:
                continue
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    node.name == entry_point
                ):
                    return _signature(node)
    return None


def _def_line_only(source: str, entry_point: str) -> str | None:
    # A prose prompt may quote just the header, `def f(x: int) -> int:`, or less: `def f(x)`.
    name = re.escape(entry_point)
    match = re.search(rf"\bdef\s+{name}\s*\(.*?\)\s*(->[^:`\n]*)?:", source, re.S)
    if match:
        return match.group(0).strip() + " ..."
    match = re.search(rf"\bdef\s+{name}\s*\([^()`\n]*\)", source)
    return match.group(0).strip() + ": ..." if match else None


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Signature:
    args = node.args.posonlyargs + node.args.args
    defaults = len(node.args.defaults)
    params = [
        Param(
            name=a.arg,
            annotation=ast.unparse(a.annotation) if a.annotation else None,
            has_default=i >= len(args) - defaults,
        )
        for i, a in enumerate(args)
    ]
    return Signature(name=node.name, params=params)


def seed_args(entry_point: str, sources: Iterable[str]) -> list[tuple[Any, ...]]:
    """Literal positional arguments of every call to the entry point in test or example code."""
    found: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in (entry_point, "candidate")
                and not node.keywords
            ):
                continue
            try:
                args = tuple(ast.literal_eval(a) for a in node.args)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            key = repr(args)
            if key not in seen:
                seen.add(key)
                found.append(args)
    return found


def generate_inputs(
    signature: Signature | None,
    seeds: Sequence[tuple[Any, ...]],
    *,
    n: int = 200,
    seed: int = 0,
) -> list[tuple[Any, ...]]:
    """The seeds themselves first, then up to `n` distinct inputs drawn with Hypothesis."""
    arity = _arity(signature, seeds)
    if arity is None:
        return list(seeds)
    strategies = [
        _param_strategy(
            signature.params[i] if signature else None, [s[i] for s in seeds if len(s) == arity]
        )
        for i in range(arity)
    ]
    known = [
        bool(seeds) or bool(signature and signature.params[i].annotation) for i in range(arity)
    ]
    # Nothing says what the parameters are: draw them of one kind together (all numbers, all
    # text, all lists). Mixing kinds at random mostly finds inputs no task means, on which
    # right implementations differ in how they fail (`[1] + "ab"` raises, `+=` extends).
    combined = (
        st.tuples(*strategies)
        if any(known)
        else st.one_of(*(st.tuples(*[kind] * arity) for kind in _GENERIC_KINDS))
    )
    drawn = _draw(combined, n, seed)
    out: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for args in [*seeds, *drawn]:
        key = repr(args)
        if key in seen or len(key) > MAX_INPUT_CHARS:
            continue
        seen.add(key)
        out.append(args)
        if len(out) >= n + len(seeds):
            break
    return out


def _arity(signature: Signature | None, seeds: Sequence[tuple[Any, ...]]) -> int | None:
    if signature is not None:
        required = [p for p in signature.params if not p.has_default]
        return len(required) if required or not seeds else len(seeds[0])
    if seeds:
        counts: dict[int, int] = {}
        for s in seeds:
            counts[len(s)] = counts.get(len(s), 0) + 1
        return max(counts, key=counts.__getitem__)
    return None


def _draw(strategy: st.SearchStrategy[tuple[Any, ...]], n: int, seed: int) -> list[tuple[Any, ...]]:
    # One draw per example: several draws from st.data() in one example repeat each other
    # far more (measured: 45 distinct inputs out of 200 draws against 160).
    drawn: list[tuple[Any, ...]] = []

    @settings(
        max_examples=max(1, n),
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @hypothesis_seed(seed)  # derandomize alone draws the same inputs whatever `seed` is
    @given(strategy)
    def collect(args: tuple[Any, ...]) -> None:
        drawn.append(args)

    with _HYPOTHESIS_LOCK:
        try:
            collect()
        except Exception as exc:
            # `collect` only appends, so a failure is Hypothesis's own (seen: FlakyFailure when
            # drawing beside a busy event loop). What was drawn is sound: keep it.
            logger.warning("Hypothesis stopped drawing inputs after %d: %r", len(drawn), exc)
    return drawn


# -- strategies -----------------------------------------------------------------------------

_GENERIC_KINDS: tuple[st.SearchStrategy[Any], ...] = (
    st.integers(-100, 100),
    st.text(max_size=10),
    st.lists(st.integers(-100, 100), max_size=10),
)
_GENERIC = st.one_of(*_GENERIC_KINDS)


def _param_strategy(param: Param | None, values: list[Any]) -> st.SearchStrategy[Any]:
    if values:
        shaped = shape_strategy(values)
        if shaped is not None:
            return shaped
    hint = _resolve(param.annotation) if param and param.annotation else None
    if hint is not None:
        return hint_strategy(hint)
    return _GENERIC


def shape_strategy(values: list[Any]) -> st.SearchStrategy[Any] | None:
    """A strategy for values like these: same types, signs, alphabet and rough size."""
    groups: dict[type, list[Any]] = {}
    for v in values:
        groups.setdefault(_kind(v), []).append(v)
    parts = [s for kind, vs in groups.items() if (s := _shape_of(kind, vs)) is not None]
    if not parts:
        return None
    # Seen values go last: Hypothesis leans towards the first branch of one_of.
    return st.one_of(*parts, st.sampled_from(values))


def _kind(v: Any) -> type:
    if isinstance(v, bool):
        return bool
    if isinstance(v, int | float):
        return float if isinstance(v, float) else int
    return type(v)


def _shape_of(kind: type, values: list[Any]) -> st.SearchStrategy[Any] | None:
    if kind is bool:
        return st.booleans()
    if kind is int:
        lo, hi = min(values), max(values)
        return st.integers(0 if lo >= 0 else min(2 * lo, -10), max(2 * hi, 10))
    if kind is float:
        finite = [v for v in values if math.isfinite(v)]
        lo, hi = (min(finite), max(finite)) if finite else (-10.0, 10.0)
        low = 0.0 if lo >= 0 else min(2 * lo, -10.0)
        return st.floats(low, max(2 * hi, 10.0), allow_nan=False, allow_infinity=False)
    if kind is str:
        return _text_like(values)
    if kind is type(None):
        return st.none()
    if kind in (list, tuple, set):
        return _sequence_like(kind, values)
    if kind is dict:
        keys = [k for d in values for k in d]
        vals = [v for d in values for v in d.values()]
        key_s = shape_strategy(keys) if keys else None
        val_s = shape_strategy(vals) if vals else None
        size = max(len(d) for d in values)
        return st.dictionaries(
            key_s if key_s is not None else st.text(string.ascii_lowercase, max_size=5),
            val_s if val_s is not None else st.integers(-10, 10),
            max_size=max(2 * size, 5),
        )
    return None


def _text_like(values: list[str]) -> st.SearchStrategy[str]:
    chars = sorted(set("".join(values)))
    alphabet = "".join(chars) if chars else string.ascii_lowercase
    longest = max(len(v) for v in values)
    size = max(2 * longest, 8)
    # Mostly the examples' own characters, sometimes any printable ones: examples written in
    # lowercase letters rarely mean "and never a digit or a space".
    text = st.one_of(
        st.text(alphabet, max_size=size), st.text(string.printable[:-5], max_size=size)
    )
    if len(chars) > 3:
        # Words and sentences: recombine the pieces the examples use, not only characters.
        words = sorted({w for v in values for w in re.split(r"(\W)", v) if w})
        if words:
            text = st.one_of(text, st.lists(st.sampled_from(words), max_size=8).map("".join))
    return text


def _sequence_like(kind: type, values: list[Any]) -> st.SearchStrategy[Any]:
    if kind is tuple and len({len(v) for v in values}) == 1 and values[0]:
        positions = [shape_strategy([v[i] for v in values]) for i in range(len(values[0]))]
        if all(p is not None for p in positions):
            return st.tuples(*typing.cast(list[st.SearchStrategy[Any]], positions))
    items = [x for v in values for x in v]
    shaped = shape_strategy(items) if items else None
    element = shaped if shaped is not None else st.integers(-10, 10)
    longest = max(len(v) for v in values)
    size = max(2 * longest, 8)
    if kind is set:
        return st.sets(element, max_size=size)
    lists = st.lists(element, max_size=size)
    return lists.map(tuple) if kind is tuple else lists


# -- type hints -----------------------------------------------------------------------------

_HINT_NAMES: dict[str, Any] = {
    **{name: getattr(typing, name) for name in ("List", "Dict", "Tuple", "Set", "Optional",
                                                "Union", "Any", "Sequence", "Iterable",
                                                "Mapping", "FrozenSet")},
    "int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict,
    "tuple": tuple, "set": set, "frozenset": frozenset, "bytes": bytes, "None": None,
    "complex": complex,
}  # fmt: skip


def _resolve(annotation: str) -> Any | None:
    """The type an annotation names, evaluated only over typing names and builtins."""
    try:
        tree = ast.parse(annotation.removeprefix("typing."), mode="eval")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in _HINT_NAMES:
            return None
        if not isinstance(
            node,
            ast.Expression
            | ast.Name
            | ast.Subscript
            | ast.Tuple
            | ast.Load
            | ast.BinOp
            | ast.BitOr
            | ast.Constant
            | ast.List,
        ):
            return None
    try:
        return eval(compile(tree, "<annotation>", "eval"), {"__builtins__": {}}, dict(_HINT_NAMES))
    except Exception:
        return None


def hint_strategy(hint: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Small, finite values of the hinted type: big enough to tell behaviours apart."""
    if depth > 4 or hint is typing.Any:
        return _GENERIC
    simple: dict[Any, st.SearchStrategy[Any]] = {
        int: st.integers(-100, 100),
        float: st.floats(-100, 100, allow_nan=False, allow_infinity=False),
        str: st.text(string.ascii_letters + string.digits + " ", max_size=12),
        bool: st.booleans(),
        bytes: st.binary(max_size=12),
        None: st.none(),
        type(None): st.none(),
        complex: st.complex_numbers(max_magnitude=100, allow_nan=False, allow_infinity=False),
    }
    if hint in simple:
        return simple[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    inner = [hint_strategy(a, depth + 1) for a in args if a is not Ellipsis]
    if origin in (list, typing.Sequence, Sequence) or hint is list:
        return st.lists(inner[0] if inner else st.integers(-100, 100), max_size=10)
    if origin in (set, frozenset) or hint in (set, frozenset):
        return st.sets(inner[0] if inner else st.integers(-100, 100), max_size=10)
    if origin is tuple or hint is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(inner[0], max_size=6).map(tuple)
        return st.tuples(*inner) if inner else st.tuples(st.integers(-100, 100))
    if origin is dict or hint is dict:
        key, value = inner if len(inner) == 2 else (st.text(max_size=5), st.integers(-100, 100))
        return st.dictionaries(key, value, max_size=6)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return st.one_of(*inner)
    try:
        return st.from_type(hint)
    except Exception:
        return _GENERIC
