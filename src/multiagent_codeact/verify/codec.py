"""A JSON form for the values candidates take and return, and tolerant comparison of them.

Stdlib only and free of relative imports: the same source is shipped into the sandbox, where the
harness encodes every output, and used on the host to decode and compare them. Plain JSON would
lose what tells behaviours apart (tuple vs list, 1 vs 1.0, NaN, dict keys that are not strings),
so those travel tagged: {"$t": [...]} is a tuple, {"$d": [[k, v], ...]} a dict, and so on.
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
class Digest:
    """A value too large to ship whole: a hash of its encoding, with floats rounded."""

    sha256: str
    size: int


def encode(value: Any, depth: int = 0) -> Any:
    """The tagged-JSON form of `value`. Never raises: what cannot be encoded becomes Opaque."""
    if depth > MAX_DEPTH:
        return {"$o": ["deep", "<nested too deeply>"]}
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


def _encode_foreign(value: Any, depth: int) -> Any:
    # numpy scalars compare equal to Python numbers; arrays keep a tag of their own, since
    # returning an array where a list is expected is a different behaviour.
    module = type(value).__module__
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


def _sort_key(encoded: Any) -> str:
    return json.dumps(encoded, sort_keys=True)


def dumps_capped(value: Any, max_chars: int) -> str:
    """JSON text of `encode(value)`, or of a Digest when that text would exceed `max_chars`."""
    text = json.dumps(encode(value), allow_nan=False, separators=(",", ":"))
    if len(text) <= max_chars:
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


def decode(encoded: Any) -> Any:
    """The Python value `encode` was given (Opaque and Digest stand in for what was lost)."""
    if isinstance(encoded, list):
        return [decode(v) for v in encoded]
    if not isinstance(encoded, dict):
        return encoded
    ((tag, body),) = encoded.items()
    if tag == "$t":
        return tuple(decode(v) for v in body)
    if tag == "$s":
        return {_hashable(decode(v)) for v in body}
    if tag == "$fs":
        return frozenset(_hashable(decode(v)) for v in body)
    if tag == "$d":
        return {_hashable(decode(k)): decode(v) for k, v in body}
    if tag == "$f":
        return float(body)
    if tag == "$b":
        return base64.b64decode(body)
    if tag == "$c":
        return complex(decode(body[0]), decode(body[1]))
    if tag == "$nd":
        return NdArray(_freeze(decode(body)))
    if tag == "$o":
        return Opaque(body[0], body[1])
    if tag == "$h":
        return Digest(body[0], body[1])
    raise ValueError(f"unknown value tag {tag!r}")


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


def show(value: Any, limit: int = 200) -> str:
    """A short repr for evidence and messages."""
    if isinstance(value, Opaque):
        text = value.repr
    elif isinstance(value, Digest):
        text = f"<large value, {value.size} chars, sha256 {value.sha256[:12]}>"
    elif isinstance(value, NdArray):
        text = f"array({value.items!r})"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
