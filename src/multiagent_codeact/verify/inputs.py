"""Inputs for differential testing: every candidate is called on the same ones.

Strategies come from Hypothesis, drawn from the signature and the task, not from the
examples' range. The examples seed a strategy (their values, and values shaped like them: the
same types, alphabets and sizes, drawn often) but never narrow it: every parameter also draws
from its whole kind, with the edges where bugs live (negatives, zero, empty, very large, unicode,
long runs, repeated and nested elements), unless the task's own words narrow it ("a positive
integer", "a non-empty list"). Type hints decide the kind where no example shows one, and
st.from_type covers hints this module does not know; with neither, a generic mix still gives a
few inputs. Inputs come out smallest first, so a candidate that hangs on a large one (and is
given up on at once) has answered the small ones, and counterexamples are small.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import logging
import math
import re
import string
import threading
import typing
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisDeprecationWarning
from pydantic import BaseModel, ConfigDict

from .. import pyast

logger = logging.getLogger(__name__)

# Inputs are drawn in a worker thread while the run goes on; another thread's use of `random`
# meanwhile (an HTTP client's retry jitter) makes Hypothesis warn against `random` inside
# strategies, which ours never use. A false alarm for the user of this library: kept from them.
warnings.filterwarnings(
    "ignore",
    message="Do not use the `random` module inside strategies",
    category=HypothesisDeprecationWarning,
)
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
                tree = pyast.parse(text)
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
            tree = pyast.parse(source)
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
                args = tuple(pyast.literal_eval(a) for a in node.args)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            key = repr(args)
            if key not in seen:
                seen.add(key)
                found.append(args)
    return found


@dataclass(frozen=True)
class Domain:
    """What the task's words say about its inputs, beyond their types: a lower bound for the
    integers of a named parameter (`by_name`) or of all of them (`min_int`)."""

    min_int: int | None = None  # 0 for "non-negative", 1 for "positive"
    max_int: int | None = None  # only where a range names the parameter: "1 <= n <= 1000"
    non_empty: bool = False
    by_name: tuple[tuple[str, int], ...] = ()
    max_by_name: tuple[tuple[str, int], ...] = ()
    literals: tuple[str, ...] = ()  # short strings the prose quotes: '!', "I", 'db'

    def for_param(self, name: str | None) -> Domain:
        """The domain of one parameter: its own bound where the task names it."""
        own = dict(self.by_name).get(name or "")
        return Domain(
            min_int=self.min_int if own is None else own,
            max_int=dict(self.max_by_name).get(name or ""),
            non_empty=self.non_empty,
            literals=self.literals,
        )

    def for_sole_param(self, name: str) -> Domain:
        """A function of one parameter whose task states one range under another name
        ("1 <= num <= 1000" for `def f(number)`): the range is that parameter's."""
        if name in dict(self.max_by_name):
            return self
        others = [n for n, _ in self.max_by_name]
        if len(others) != 1:
            return self
        (other,) = others
        lows = dict(self.by_name)
        if other in lows:
            lows[name] = lows[other]
        return dataclasses.replace(
            self,
            by_name=tuple(sorted(lows.items())),
            max_by_name=((name, dict(self.max_by_name)[other]),),
        )

    def edges(self) -> list[int]:
        """The stated ends of the range: where off-by-one programs part from right ones."""
        return [e for e in (self.min_int, self.max_int) if e is not None]


_WORD = r"(positive|non-?negative|natural)"
_KIND = r"(?:integer|int|number|whole number)"
_NAMED = [  # (pattern, group of the name, how the bound is read from the match)
    (re.compile(rf"\b{_WORD}\s+{_KIND}\s+`?([a-z_]\w*)`?", re.I), 2),
    (re.compile(rf"`?\b([a-z_]\w*)`?\s+(?:is|be|are)\s+(?:an?\s+)?{_WORD}\b", re.I), 1),
]
_COMPARED: list[tuple[re.Pattern[str], int, Callable[[re.Match[str]], int]]] = [
    (re.compile(r"\b([a-z_]\w*)\s*>=\s*([01])\b"), 1, lambda m: int(m.group(2))),
    (re.compile(r"\b([a-z_]\w*)\s*>\s*0\b"), 1, lambda m: 1),
    # Not "1 <= grid.length" or "0 <= len(x)": a bound on a size, not on the values.
    (re.compile(r"(?<![\w.])([01])\s*<=\s*([a-z_]\w*)(?![\w.(\[])"), 2, lambda m: int(m.group(1))),
    (re.compile(r"(?<![\w.])0\s*<\s*([a-z_]\w*)(?![\w.(\[])"), 1, lambda m: 1),
]
# A range with both ends, literal integers: "1 <= num <= 1000", "0 < k < 50". Only both ends
# together read as a constraint; "n <= 1000" alone is as often a rule the task describes
# ("if n <= 1000, return ..."), which must not fence the inputs in. Powers ("10^5") are not read.
_INT = r"(-?\d+)(?![\d^*.eE])"
_RANGE = re.compile(rf"(?<![\w.^*]){_INT}\s*(<=?)\s*`?([a-z_]\w*)`?\s*(<=?)\s*{_INT}", re.I)
_UNNAMED = re.compile(rf"\b{_WORD}\s+{_KIND}s?\b(?!\s+`?[a-z_]\w*`?\s*[,.;:)]?\s)", re.I)
_NON_EMPTY = re.compile(r"\bnon-?empty\b", re.I)


def _name(param: Param | None) -> str | None:
    return param.name if param is not None else None


def _bound(word: str) -> int:
    return 1 if word.lower() == "positive" else 0


def task_domain(text: str) -> Domain:
    """The domain a task's prose states: "a positive integer n", "0 <= k", "n is non-negative",
    "a list of positive integers", "a non-empty list". A bound that names a parameter holds for
    that parameter only ("1 <= k <= len(arr)" says nothing about arr's elements). Without such
    words the signature's whole type is the domain."""
    by_name: dict[str, int] = {}
    for pattern, group in _NAMED:
        for m in pattern.finditer(text):
            word = m.group(1) if group == 2 else m.group(2)
            by_name[m.group(group)] = max(by_name.get(m.group(group), -1), _bound(word))
    for compared, group, read in _COMPARED:
        for m in compared.finditer(text):
            by_name[m.group(group)] = max(by_name.get(m.group(group), -1), read(m))
    max_by_name: dict[str, int] = {}
    for m in _RANGE.finditer(text):
        low = int(m.group(1)) + (m.group(2) == "<")
        high = int(m.group(5)) - (m.group(4) == "<")
        name = m.group(3)
        if low <= high:
            by_name[name] = max(by_name.get(name, low), low)
            max_by_name[name] = min(max_by_name.get(name, high), high)
    unnamed = [_bound(m.group(1)) for m in _UNNAMED.finditer(text)]
    quoted = dict.fromkeys(m.group(2) for m in _QUOTED.finditer(text) if m.group(2).strip())
    return Domain(
        min_int=min(unnamed) if unnamed else None,
        non_empty=bool(_NON_EMPTY.search(text)),
        by_name=tuple(sorted(by_name.items())),
        max_by_name=tuple(sorted(max_by_name.items())),
        literals=tuple(quoted)[:MAX_LITERALS],
    )


# 'x', "x" or `x`, short: the characters and words a task says matter ("delimited by '.', '?'
# or '!'", "starts with the word "I""), which its examples may never show.
_QUOTED = re.compile(r"""(['"`])([^'"`\n]{1,12})\1""")
MAX_LITERALS = 24


def generate_inputs(
    signature: Signature | None,
    seeds: Sequence[tuple[Any, ...]],
    *,
    n: int = 200,
    seed: int = 0,
    domain: Domain | None = None,
) -> list[tuple[Any, ...]]:
    """The seeds themselves first, then up to `n` distinct inputs drawn with Hypothesis,
    smallest first."""
    return plan_inputs(signature, seeds, domain).draw(n, seed)


@dataclass(frozen=True)
class InputPlan:
    """A strategy for a task's inputs, built and ready to draw from.

    Building reads source code (type hints, through `ast`); drawing does not, so a plan can be
    drawn from in a worker thread. (CPython 3.11 before 3.11.9 can fail an `ast` call made
    while another thread is inside one, gh-106905: keep `ast` on one thread.)"""

    strategy: Any  # st.SearchStrategy[tuple[Any, ...]] | None
    seeds: tuple[tuple[Any, ...], ...]
    # Every short input over the examples' alphabet, when it is tiny: see _small_scope.
    exhaustive: tuple[tuple[Any, ...], ...] = ()

    def draw(self, n: int = 200, seed: int = 0) -> list[tuple[Any, ...]]:
        if self.strategy is None:
            return list(self.seeds)
        drawn = _draw(self.strategy, n, seed)
        out: list[tuple[Any, ...]] = []
        seen: set[str] = set()
        for args in [*self.seeds, *self.exhaustive, *sorted(drawn, key=_size)]:
            key = repr(args)
            if key in seen or len(key) > MAX_INPUT_CHARS:
                continue
            seen.add(key)
            out.append(args)
            if len(out) >= n + len(self.seeds):
                break
        return out


def plan_inputs(
    signature: Signature | None,
    seeds: Sequence[tuple[Any, ...]],
    domain: Domain | None = None,
) -> InputPlan:
    arity = _arity(signature, seeds)
    if arity is None:
        return InputPlan(None, tuple(seeds))
    dom = domain or Domain()
    params = [signature.params[i] if signature else None for i in range(arity)]
    if arity == 1 and params[0] is not None:
        dom = dom.for_sole_param(params[0].name)
    strategies = [
        _param_strategy(
            params[i],
            [s[i] for s in seeds if len(s) == arity],
            dom.for_param(_name(params[i])),
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
    return InputPlan(combined, tuple(seeds), _small_scope(arity, seeds))


SMALL_SCOPE = 64  # inputs at most: a share of the usual 200 draws


def _small_scope(arity: int, seeds: Sequence[tuple[Any, ...]]) -> tuple[tuple[Any, ...], ...]:
    """All strings up to some length over the examples' alphabet, where it has 2-4 characters.

    Text over a tiny alphabet (brackets, bits, "ab") hides its bugs in a few short shapes
    ("[]][": a scan that starts one index early) that random text of any length rarely hits;
    every string of up to 5 characters is 62 inputs for two characters (the small-scope idea:
    most bugs show on some small input, so try all small ones).
    """
    if arity != 1 or not seeds or not all(len(s) == 1 and isinstance(s[0], str) for s in seeds):
        return ()
    alphabet = sorted(set("".join(s[0] for s in seeds)))
    if not 2 <= len(alphabet) <= 4:
        return ()
    out: list[tuple[Any, ...]] = []
    for length in range(1, 16):
        if len(out) + len(alphabet) ** length > SMALL_SCOPE:
            break
        out.extend(("".join(chars),) for chars in itertools.product(alphabet, repeat=length))
    return tuple(out)


def _size(args: tuple[Any, ...]) -> tuple[int, int]:
    """Smaller first: by the length of the text, then by the magnitude of numbers in it."""
    text = repr(args)
    return len(text), sum(len(str(a)) for a in args if isinstance(a, int))


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

    # Hypothesis parses source while it draws: see pyast.
    with _HYPOTHESIS_LOCK, pyast.ast_lock():
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


def _param_strategy(
    param: Param | None, values: list[Any], domain: Domain = Domain()
) -> st.SearchStrategy[Any]:
    hint = _resolve(param.annotation) if param and param.annotation else None
    if hint is not None and values and not _conforms(values, hint):
        hint = None  # the examples show how the function is really called
    hinted = hint_strategy(hint, domain=domain) if hint is not None else None
    shaped = shape_strategy(values, domain) if values else None
    if shaped is None:
        return hinted if hinted is not None else _GENERIC
    # Shaped like the examples two draws in three, across the whole kind the third: the
    # examples seed the draw, never fence it in.
    wide = hinted if hinted is not None else wide_strategy(values, domain)
    if wide is None:
        return shaped
    return st.one_of(shaped, shaped, wide)


def _conforms(values: list[Any], hint: Any) -> bool:
    """Whether example values are of the hinted type, at the top level (False when unsure)."""
    origin = typing.get_origin(hint) or hint
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return any(_conforms(values, arm) for arm in typing.get_args(hint))
    if not isinstance(origin, type):
        return True
    if origin is float:
        return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if origin is int:
        return all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    if origin in (list, tuple, set, frozenset, dict, str, bytes, bool):
        return all(isinstance(v, origin) for v in values)
    return True


def shape_strategy(values: list[Any], domain: Domain = Domain()) -> st.SearchStrategy[Any] | None:
    """A strategy for values like these: same types, alphabet and rough size."""
    groups: dict[type, list[Any]] = {}
    for v in values:
        groups.setdefault(_kind(v), []).append(v)
    parts = [s for kind, vs in groups.items() if (s := _shape_of(kind, vs, domain)) is not None]
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


def _shape_of(
    kind: type, values: list[Any], domain: Domain = Domain()
) -> st.SearchStrategy[Any] | None:
    if kind is bool:
        return st.booleans()
    if kind is int:
        # Around the examples' magnitudes, on both sides of zero unless the task says not.
        top = max(max(abs(v) for v in values) * 2, 10)
        low = -top if domain.min_int is None else max(domain.min_int, -top)
        if domain.max_int is not None:  # the task's range: all of it, its ends first
            low = min(low if domain.min_int is None else domain.min_int, domain.max_int)
            return st.one_of(st.sampled_from(domain.edges()), st.integers(low, domain.max_int))
        return st.integers(low, top)
    if kind is float:
        finite = [v for v in values if math.isfinite(v)]
        top = max(max((abs(v) for v in finite), default=10.0) * 2, 10.0)
        low = -top if domain.min_int is None else float(domain.min_int)
        return st.floats(low, top, allow_nan=False, allow_infinity=False)
    if kind is str:
        return _text_like(values, domain.literals)
    if kind is type(None):
        return st.none()
    if kind in (list, tuple, set):
        return _sequence_like(kind, values, domain)
    if kind is dict:
        keys = [k for d in values for k in d]
        vals = [v for d in values for v in d.values()]
        key_s = shape_strategy(keys, domain) if keys else None
        val_s = shape_strategy(vals, domain) if vals else None
        size = max(len(d) for d in values)
        return st.dictionaries(
            key_s if key_s is not None else st.text(string.ascii_lowercase, max_size=5),
            val_s if val_s is not None else st.integers(-10, 10),
            max_size=max(2 * size, 5),
        )
    return None


def _text_like(values: list[str], literals: Sequence[str] = ()) -> st.SearchStrategy[str]:
    chars = sorted(set("".join(values)) | set("".join(literals)))
    alphabet = "".join(chars) if chars else string.ascii_lowercase
    longest = max(len(v) for v in values)
    size = max(2 * longest, 8)
    # Mostly the examples' own characters, sometimes any printable ones (examples written in
    # lowercase letters rarely mean "and never a digit or a space"), and sometimes any of the
    # same kind: digits "123" also mean "٣" and "²", letters also mean "É" and "ß".
    kinds = sorted({unicodedata.category(c)[0] for c in chars} - {"C"}) or ["L"]
    text = st.one_of(
        st.text(alphabet, max_size=size),
        st.text(string.printable[:-5], max_size=size),
        st.text(st.characters(categories=kinds), max_size=size),  # type: ignore[arg-type]
    )
    if len(chars) > 3:
        # Words and sentences: recombine the pieces the examples use, and the strings the
        # task quotes, not only characters.
        words = sorted({w for v in values for w in re.split(r"(\W)", v) if w} | set(literals))
        if words:
            pieces = st.lists(st.sampled_from(words), min_size=2, max_size=8).map("".join)
            text = st.one_of(pieces, text)
    return text


def _sequence_like(
    kind: type, values: list[Any], domain: Domain = Domain()
) -> st.SearchStrategy[Any]:
    if kind is tuple and len({len(v) for v in values}) == 1 and values[0]:
        positions = [shape_strategy([v[i] for v in values], domain) for i in range(len(values[0]))]
        if all(p is not None for p in positions):
            return st.tuples(*typing.cast(list[st.SearchStrategy[Any]], positions))
    items = [x for v in values for x in v]
    shaped = shape_strategy(items, domain) if items else None
    element = shaped if shaped is not None else st.integers(-10, 10)
    longest = max(len(v) for v in values)
    size = max(2 * longest, 8)
    least = 1 if domain.non_empty else 0
    if kind is set:
        return st.sets(element, min_size=least, max_size=size)
    lists = st.lists(element, min_size=least, max_size=size)
    return lists.map(tuple) if kind is tuple else lists


# -- the whole kind, edges included --------------------------------------------------------------


def _int_range(domain: Domain, top: int) -> st.SearchStrategy[int]:
    high = top if domain.max_int is None else min(top, domain.max_int)
    low = -top if domain.min_int is None else domain.min_int
    return st.integers(min(low, high), high)


def wide_ints(domain: Domain = Domain()) -> st.SearchStrategy[int]:
    """Integers of every size: mostly small, with zero, signs and a few very large ones."""
    edges = [0, 1, -1, 2, -2, 7, -7, 10, -10, 100, -100, 10**6, -(10**6), 2**31, -(2**63)]
    if domain.min_int is not None:
        edges = [e for e in edges if e >= domain.min_int]
    if domain.max_int is not None:
        edges = [e for e in edges if e <= domain.max_int]
    edges = list(dict.fromkeys([*domain.edges(), *edges]))
    return st.one_of(_int_range(domain, 100), st.sampled_from(edges), _int_range(domain, 10**4))


def wide_floats(domain: Domain = Domain()) -> st.SearchStrategy[float]:
    low = None if domain.min_int is None else float(domain.min_int)
    return st.one_of(
        st.floats(low if low is not None else -100.0, 100.0, allow_nan=False, allow_infinity=False),
        st.sampled_from([0.0, 0.5, 1.0, 1e-9, 1e9] + ([] if low is not None else [-0.0, -1.5])),
        st.floats(min_value=low, allow_nan=False, allow_infinity=False, width=32),
    )


_LETTERS = st.characters(categories=("Lu", "Ll", "Nd", "Zs"))
_ANY_CHAR = st.characters(codec="utf-8", exclude_categories=["Cs"])


def wide_text(domain: Domain = Domain()) -> st.SearchStrategy[str]:
    """Text with what breaks text code: unicode, case, other whitespace, long runs, words."""
    least = 1 if domain.non_empty else 0
    runs = st.lists(
        st.tuples(st.sampled_from("ab Z1é"), st.integers(1, 30)), min_size=max(least, 1), max_size=4
    ).map(lambda parts: "".join(c * k for c, k in parts))
    words = st.lists(
        st.text(string.ascii_letters, min_size=1, max_size=8), min_size=least, max_size=8
    ).map(" ".join)
    return st.one_of(
        st.text(string.printable, min_size=least, max_size=20),
        st.text(_LETTERS, min_size=least, max_size=20),
        st.text(_ANY_CHAR, min_size=least, max_size=12),
        runs,
        words,
    )


def wide_strategy(values: list[Any], domain: Domain = Domain()) -> st.SearchStrategy[Any] | None:
    """The whole kind of the values shown, edges included: the rest of the domain."""
    kinds = {_kind(v) for v in values}
    if len(kinds) != 1:
        return None
    (kind,) = kinds
    if kind is int:
        return wide_ints(domain)
    if kind is float:
        return wide_floats(domain)
    if kind is str:
        return wide_text(domain)
    if kind in (list, tuple, set):
        items = [x for v in values for x in v]
        element = wide_strategy(items, domain) if items else None
        shaped = shape_strategy(items, domain) if items else None
        return _wide_sequence(kind, element, shaped, domain)
    return None


def _wide_sequence(
    kind: type,
    element: st.SearchStrategy[Any] | None,
    shaped: st.SearchStrategy[Any] | None,
    domain: Domain,
) -> st.SearchStrategy[Any]:
    """Empty, long, and full of repeats; elements from the whole kind or like the examples'."""
    base = element if element is not None else wide_ints()
    like = shaped if shaped is not None else base
    least = 1 if domain.non_empty else 0
    repeated = st.lists(like, min_size=1, max_size=3).flatmap(
        lambda pool: st.lists(st.sampled_from(pool), min_size=max(least, 2), max_size=16)
    )
    sequences = st.one_of(
        st.lists(base, min_size=least, max_size=8),
        st.lists(like, min_size=max(least, 10), max_size=20),
        repeated,
    )
    if kind is set:
        return sequences.map(set)
    return sequences.map(tuple) if kind is tuple else sequences


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
        tree = pyast.parse_expression(annotation.removeprefix("typing."))
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
        return eval(
            pyast.compile_tree(tree, "<annotation>", "eval"),
            {"__builtins__": {}},
            dict(_HINT_NAMES),
        )
    except Exception:
        return None


def hint_strategy(hint: Any, depth: int = 0, domain: Domain = Domain()) -> st.SearchStrategy[Any]:
    """Finite values of the hinted type, edges included: enough to tell behaviours apart."""
    if depth > 4 or hint is typing.Any:
        return _GENERIC
    simple: dict[Any, st.SearchStrategy[Any]] = {
        int: wide_ints(domain),
        float: wide_floats(domain),
        str: wide_text(domain),
        bool: st.booleans(),
        bytes: st.binary(max_size=12),
        None: st.none(),
        type(None): st.none(),
        complex: st.complex_numbers(max_magnitude=100, allow_nan=False, allow_infinity=False),
    }
    if hint in simple:
        return simple[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    inner = [hint_strategy(a, depth + 1, domain) for a in args if a is not Ellipsis]
    if origin in (list, typing.Sequence, Sequence) or hint is list:
        return _wide_sequence(list, inner[0] if inner else None, None, domain)
    if origin in (set, frozenset) or hint in (set, frozenset):
        least = 1 if domain.non_empty else 0
        return st.sets(inner[0] if inner else wide_ints(), min_size=least, max_size=12)
    if origin is tuple or hint is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _wide_sequence(tuple, inner[0], None, domain)
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
