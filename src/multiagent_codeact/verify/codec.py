"""A JSON form for the values candidates take and return, and the two ways of comparing them.

Stdlib only and free of relative imports: the same source is shipped into the sandbox, where the
harness encodes every output, and used on the host to decode and compare them. Plain JSON would
lose what tells behaviours apart (tuple vs list, 1 vs 1.0, NaN, dict keys that are not strings),
so those travel tagged: {"$t": [...]} is a tuple, {"$d": [[k, v], ...]} a dict, and so on.

Two comparisons, for two questions:
- `equivalent`: do two programs behave the same? Types are exact (1, 1.0 and True differ, so do
  a list and a tuple), dict order counts when `ordered`, and floats match within a tolerance
  only when both sides are floats. Candidates are clustered and rewrites accepted on this.
- `same_value`: does a value satisfy a test written `assert f(x) == y`? Python's `==` (so
  `2.0 == 2`), with float noise forgiven, as the test's author would expect.
"""

import base64
import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 64
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


@dataclass(frozen=True)
class Opaque:
    """A value with no JSON form (an object of the candidate's own class): its type and repr."""

    type: str
    repr: str


@dataclass(frozen=True)
class Stream:
    """What a generator or iterator yielded (consumed up to a cap): iterable, but not a list."""

    items: tuple[Any, ...]
    complete: bool = True

    def __iter__(self) -> Any:
        return iter(self.items)


@dataclass(frozen=True)
class Subtyped:
    """A value of a subclass of a built-in type (a Counter, a namedtuple, an IntEnum member):
    the subclass's name, and the value as its base type. A program that returns a Counter
    behaves differently from one that returns a dict; a test's `==` does not care."""

    type: str
    value: Any


@dataclass(frozen=True)
class Digest:
    """A value too large to ship whole: a hash of its encoding, with floats rounded."""

    sha256: str
    size: int


def encode(value: Any, depth: int = 0) -> Any:
    """The tagged-JSON form of `value`. Never raises: what cannot be encoded becomes Opaque."""
    if depth > MAX_DEPTH:
        return {"$o": ["deep", "<nested too deeply>"]}
    if isinstance(value, Subtyped):
        return {"$sub": [value.type, encode(value.value, depth + 1)]}
    kind = type(value)
    if kind not in _EXACT and isinstance(value, _BASES) and not kind.__module__.startswith("numpy"):
        # numpy's float64 subclasses float, but numpy scalars stand for Python numbers here.
        try:
            base: Any = next(b for b in _BASES if isinstance(value, b))
            return {
                "$sub": [f"{kind.__module__}.{kind.__qualname__}", encode(base(value), depth + 1)]
            }
        except Exception:
            return _encode_foreign(value, depth)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return {"$f": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"$t": [encode(v, depth + 1) for v in value]}
    if isinstance(value, (set, frozenset)):
        items = sorted((encode(v, depth + 1) for v in value), key=_sort_key)
        return {"$fs" if isinstance(value, frozenset) else "$s": items}
    if isinstance(value, dict):
        return {"$d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, (bytes, bytearray)):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, complex):
        return {"$c": [encode(value.real), encode(value.imag)]}
    return _encode_foreign(value, depth)


_BASES = (int, float, str, list, tuple, dict, set, frozenset, bytes, bytearray, complex)
_EXACT = frozenset({type(None), bool, *_BASES})

MAX_STREAM_ITEMS = 10_000  # a generator is consumed this far at most: it may be endless


def _encode_foreign(value: Any, depth: int) -> Any:
    # numpy scalars compare equal to Python numbers; arrays keep a tag of their own, since
    # returning an array where a list is expected is a different behaviour.
    kind = type(value)
    module, name = kind.__module__, kind.__name__
    if name == "Decimal" and module in ("decimal", "_decimal", "_pydecimal"):
        return {"$dec": str(value)}
    if name == "Fraction" and module == "fractions":
        return {"$q": [int(value.numerator), int(value.denominator)]}
    if module == "builtins" and (name.endswith("iterator") or name in _ITERATORS):
        items: list[Any] = []
        for item in value:
            if len(items) >= MAX_STREAM_ITEMS:
                return {"$g": [items, False]}
            items.append(encode(item, depth + 1))
        return {"$g": [items, True]}
    if module == "numpy":
        try:
            if hasattr(value, "tolist") and getattr(value, "ndim", 0) > 0:
                return {"$nd": encode(value.tolist(), depth + 1)}
            return encode(value.item(), depth + 1)
        except Exception:
            pass
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<repr failed: {type(exc).__name__}>"
    return {"$o": [type(value).__name__, _ADDRESS.sub("", text)[:500]]}


_ITERATORS = frozenset({"generator", "map", "filter", "zip", "enumerate", "reversed"})


def _sort_key(encoded: Any) -> str:
    return json.dumps(encoded, sort_keys=True)


def dumps_capped(value: Any, max_chars: int) -> str:
    """JSON text of `encode(value)`, or of a Digest when that text would exceed `max_chars`."""
    return cap_encoded(json.dumps(encode(value), allow_nan=False, separators=(",", ":")), max_chars)


def cap_encoded(text: str, max_chars: int) -> str:
    """Encoded JSON text as it is, or a Digest of it when longer than `max_chars` (a Digest
    stays the Digest it is, so capping twice gives what capping once does)."""
    if len(text) <= max_chars or text.startswith('{"$h":'):
        return text
    rounded = json.dumps(_round_floats(json.loads(text)), separators=(",", ":"))
    digest = hashlib.sha256(rounded.encode()).hexdigest()
    # The size of what was hashed: float noise changes the length of the exact text, and two
    # digests of the same rounded values must compare equal.
    return json.dumps({"$h": [digest, len(rounded)]})


def _round_floats(encoded: Any) -> Any:
    if isinstance(encoded, float):
        return float(f"{encoded:.9g}")
    if isinstance(encoded, list):
        return [_round_floats(v) for v in encoded]
    if isinstance(encoded, dict):
        return {k: _round_floats(v) for k, v in encoded.items()}
    return encoded


def decode(encoded: Any, *, subtypes: bool = False) -> Any:
    """The Python value `encode` was given (Opaque and Digest stand in for what was lost).

    A subclass of a built-in type comes back as the stdlib class it was where that is known
    (Counter, OrderedDict, defaultdict), else as its base value; with `subtypes`, as Subtyped,
    for comparing behaviours.
    """
    if isinstance(encoded, list):
        return [decode(v, subtypes=subtypes) for v in encoded]
    if not isinstance(encoded, dict):
        return encoded
    ((tag, body),) = encoded.items()
    if tag == "$t":
        return tuple(decode(v, subtypes=subtypes) for v in body)
    if tag == "$s":
        return {_hashable(decode(v, subtypes=subtypes)) for v in body}
    if tag == "$fs":
        return frozenset(_hashable(decode(v, subtypes=subtypes)) for v in body)
    if tag == "$d":
        return {
            _hashable(decode(k, subtypes=subtypes)): decode(v, subtypes=subtypes) for k, v in body
        }
    if tag == "$f":
        return float(body)
    if tag == "$b":
        return base64.b64decode(body)
    if tag == "$c":
        return complex(decode(body[0], subtypes=subtypes), decode(body[1], subtypes=subtypes))
    if tag == "$nd":
        return NdArray(_freeze(decode(body, subtypes=subtypes)))
    if tag == "$dec":
        import decimal  # on first use only: jobs that never see a Decimal skip the import

        return decimal.Decimal(body)
    if tag == "$q":
        import fractions

        return fractions.Fraction(int(body[0]), int(body[1]))
    if tag == "$g":
        return Stream(tuple(decode(v, subtypes=subtypes) for v in body[0]), bool(body[1]))
    if tag == "$sub":
        value = decode(body[1], subtypes=subtypes)
        return Subtyped(str(body[0]), value) if subtypes else _rebuilt(str(body[0]), value)
    if tag == "$o":
        return Opaque(body[0], body[1])
    if tag == "$h":
        return Digest(body[0], body[1])
    raise ValueError(f"unknown value tag {tag!r}")


def _rebuilt(name: str, value: Any) -> Any:
    import collections  # on first use only

    known: dict[str, Any] = {
        "collections.Counter": collections.Counter,
        "collections.OrderedDict": collections.OrderedDict,
        "collections.defaultdict": lambda items: collections.defaultdict(None, items),
    }
    make = known.get(name)
    return value if make is None else make(value)


@dataclass(frozen=True)
class NdArray:
    """A numpy array as nested tuples: equal to another array with the same elements."""

    items: Any


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _hashable(value: Any) -> Any:
    # Keys and set members were hashable in the candidate; lists appear only through our own
    # tuple-of-array stand-ins, so freezing is enough.
    try:
        hash(value)
    except TypeError:
        return _freeze(value)
    return value


def same_value(a: Any, b: Any, *, atol: float = 0.0, rtol: float = 0.0) -> bool:
    """Python equality, except that floats match within the tolerances and NaN matches NaN."""
    a = a.value if isinstance(a, Subtyped) else a
    b = b.value if isinstance(b, Subtyped) else b
    try:
        if a == b:
            return True
    except Exception:
        return False
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool):
            return False
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            if math.isnan(a) and math.isnan(b):
                return True
            return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
        return False
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(
            same_value(x, y, atol=atol, rtol=rtol) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k], atol=atol, rtol=rtol) for k in a)
    if isinstance(a, complex):
        return same_value(a.real, b.real, atol=atol, rtol=rtol) and same_value(
            a.imag, b.imag, atol=atol, rtol=rtol
        )
    if isinstance(a, NdArray):
        return same_value(a.items, b.items, atol=atol, rtol=rtol)
    return False


def equivalent(
    a: Any, b: Any, *, atol: float = 0.0, rtol: float = 0.0, ordered: bool = True
) -> bool:
    """The same behaviour, value for value: exact types all the way down (bool, int and float
    are three types; list and tuple two), floats within the tolerances only against floats,
    NaN like NaN, dicts in the same order when `ordered` (iteration order is observable)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(
            equivalent(x, y, atol=atol, rtol=rtol, ordered=ordered)
            for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, dict):
        if len(a) != len(b):
            return False
        if ordered:
            return all(
                equivalent(ka, kb, ordered=True) and equivalent(va, vb, atol=atol, rtol=rtol)
                for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
            )
        if _typed_keys(a) != _typed_keys(b):
            return False
        return all(equivalent(a[k], b[k], atol=atol, rtol=rtol, ordered=False) for k in a)
    if isinstance(a, (set, frozenset)):
        return _typed_keys(a) == _typed_keys(b)
    if isinstance(a, complex):
        return equivalent(a.real, b.real, atol=atol, rtol=rtol) and equivalent(
            a.imag, b.imag, atol=atol, rtol=rtol
        )
    if isinstance(a, NdArray):
        return equivalent(a.items, b.items, atol=atol, rtol=rtol, ordered=ordered)
    if isinstance(a, Subtyped):
        return a.type == b.type and equivalent(
            a.value, b.value, atol=atol, rtol=rtol, ordered=ordered
        )
    if isinstance(a, Stream):
        return a.complete == b.complete and equivalent(
            a.items, b.items, atol=atol, rtol=rtol, ordered=ordered
        )
    try:
        return bool(a == b)
    except Exception:
        return False


def _typed_keys(items: Any) -> list[str]:
    # Sorted encodings: 1 and 1.0 are one key to Python but encode apart, as they should.
    return sorted(_sort_key(encode(k)) for k in items)


def show(value: Any, limit: int = 200) -> str:
    """A short repr for evidence and messages."""
    if isinstance(value, Opaque):
        text = value.repr
    elif isinstance(value, Digest):
        text = f"<large value, {value.size} chars, sha256 {value.sha256[:12]}>"
    elif isinstance(value, NdArray):
        text = f"array({value.items!r})"
    elif isinstance(value, Subtyped):
        text = f"{value.type.rsplit('.', 1)[-1]}({show(value.value, limit)})"
    elif isinstance(value, Stream):
        more = "" if value.complete else ", ..."
        text = f"<iterator over {list(value.items)!r}{more}>"[: limit + 10]
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
