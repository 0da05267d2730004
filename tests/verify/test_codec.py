"""The tagged-JSON form of values, and tolerant comparison of them."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from multiagent_codeact.verify import codec
from multiagent_codeact.verify.codec import Digest, NdArray, Opaque, same_value


def round_trip(value: Any, max_chars: int = 100_000) -> Any:
    """What the host gets back for a value the harness encoded inside the sandbox."""
    return codec.decode(json.loads(codec.dumps_capped(value, max_chars)))


ROUND_TRIPS = [
    None,
    True,
    0,
    -(2**80),
    1.5,
    "text with ünïcode \x00",
    (1, 2),
    [1, 2],
    (),
    [],
    (1,),
    {1, 2, 3},
    frozenset({1, (2, 3)}),
    set(),
    {"a": 1},
    {1: "a", (1, 2): [3], None: 2.5, 1.5: True, frozenset({1}): {2}},
    b"\x00\xffbytes",
    3 + 4j,
    [(1, [{2: (3, {4})}]), {"k": [b"x", 1j]}],
]


@pytest.mark.parametrize("value", ROUND_TRIPS, ids=repr)
def test_round_trip_keeps_value_and_type(value: Any) -> None:
    back = round_trip(value)
    assert back == value
    assert type(back) is type(value)
    assert same_value(back, value)


def test_containers_keep_their_types_all_the_way_down() -> None:
    back = round_trip([(1, [2]), {3: (4,)}, {frozenset({5})}])
    assert type(back[0]) is tuple and type(back[0][1]) is list
    assert type(back[1]) is dict and type(back[1][3]) is tuple
    assert type(next(iter(back[2]))) is frozenset


def test_tuples_lists_sets_and_frozensets_encode_differently() -> None:
    encoded = {json.dumps(codec.encode(v)) for v in ([1, 2], (1, 2), {1, 2}, frozenset({1, 2}))}
    assert len(encoded) == 4
    assert not same_value((1, 2), [1, 2])
    assert not same_value(round_trip((1, 2)), round_trip([1, 2]))


def test_sets_encode_the_same_whatever_their_iteration_order() -> None:
    a = {"pear", "apple", "fig", 3, (1, 2)}
    b = {(1, 2), 3, "fig", "apple", "pear"}
    assert codec.dumps_capped(a, 1000) == codec.dumps_capped(b, 1000)


def test_non_finite_floats_round_trip_through_strict_json() -> None:
    text = codec.dumps_capped([math.nan, math.inf, -math.inf], 1000)
    json.loads(text)  # no bare NaN/Infinity tokens
    nan, inf, ninf = codec.decode(json.loads(text))
    assert math.isnan(nan)
    assert inf == math.inf and ninf == -math.inf


def test_bytearray_comes_back_as_bytes() -> None:
    assert round_trip(bytearray(b"ab")) == b"ab"


def test_numpy_scalars_are_numbers_and_arrays_are_their_own_kind() -> None:
    assert round_trip(np.int64(3)) == 3
    assert type(round_trip(np.float64(0.5))) is float
    array = round_trip(np.arange(4).reshape(2, 2))
    assert array == NdArray(((0, 1), (2, 3)))
    assert not same_value(array, [[0, 1], [2, 3]])
    assert same_value(array, NdArray(((0, 1), (2, 3 + 1e-12))), rtol=1e-9)
    assert codec.show(array) == "array(((0, 1), (2, 3)))"


# -- same_value -------------------------------------------------------------------------------


def test_floats_match_within_the_tolerances_only() -> None:
    assert not same_value(0.1 + 0.2, 0.3)
    assert same_value(0.1 + 0.2, 0.3, rtol=1e-9)
    assert same_value(1e-15, 0.0, atol=1e-12)
    assert not same_value(1.0, 1.001, rtol=1e-9, atol=1e-9)
    assert same_value([1.0, (2.0, {"k": 3.0})], [1.0, (2.0 + 1e-12, {"k": 3.0})], rtol=1e-9)
    assert not same_value([1.0], [1.0, 2.0], rtol=1e-9)
    assert same_value(1 + 1j, 1 + 1.0000000000001j, rtol=1e-9)


def test_nan_matches_nan_and_nothing_else() -> None:
    assert same_value(math.nan, math.nan)
    assert same_value([math.nan, (1, math.nan)], [math.nan, (1, math.nan)])
    assert same_value({"x": math.nan}, {"x": math.nan})
    assert not same_value(math.nan, 0.0, atol=1e9)
    assert not same_value(math.nan, math.inf)


def test_values_of_different_kinds_do_not_match() -> None:
    assert not same_value("1", 1)
    assert not same_value(True, 2.0)
    assert not same_value(None, 0.0, atol=1.0)
    assert not same_value({1: 1.0}, {2: 1.0}, rtol=1.0)
    assert not same_value(b"a", "a")


def test_comparisons_that_raise_count_as_different() -> None:
    class Angry:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no")

        __hash__ = object.__hash__

    assert not same_value(Angry(), 1)


# -- large values ---------------------------------------------------------------------------------


def test_small_values_ship_whole_and_large_ones_as_a_digest() -> None:
    assert round_trip(list(range(10)), max_chars=100) == list(range(10))
    big = round_trip(list(range(10_000)), max_chars=100)
    assert isinstance(big, Digest)
    assert len(big.sha256) == 64
    assert big.size > 100
    assert round_trip(list(range(10_000)), max_chars=100) == big
    assert round_trip(list(range(1, 10_001)), max_chars=100) != big
    assert "large value" in codec.show(big)


def test_digests_ignore_float_noise_below_one_part_in_a_billion() -> None:
    values = [1 / 3 + i for i in range(2000)]
    exact = round_trip(values, max_chars=4096)
    noisy = round_trip([v * (1 + 1e-12) for v in values], max_chars=4096)
    different = round_trip([v * (1 + 1e-6) for v in values], max_chars=4096)
    assert isinstance(exact, Digest)
    assert noisy == exact
    assert same_value(noisy, exact)
    assert different != exact


def test_digest_of_a_large_tuple_differs_from_the_same_list() -> None:
    assert round_trip(tuple(range(5000)), max_chars=100) != round_trip(
        list(range(5000)), max_chars=100
    )


# -- values with no JSON form -------------------------------------------------------------------


class Point:
    def __init__(self, x: int) -> None:
        self.x = x


class Named:
    def __repr__(self) -> str:
        return "Named(1)"


class BadRepr:
    def __repr__(self) -> str:
        raise ValueError("no repr")


def test_custom_objects_become_opaque_without_memory_addresses() -> None:
    first, second = round_trip(Point(1)), round_trip(Point(2))
    assert isinstance(first, Opaque)
    assert first.type == "Point"
    assert "0x" not in first.repr and "Point object" in first.repr
    # Two instances of a class with the default repr look alike: the address was the only
    # difference, and it says nothing about behaviour.
    assert first == second
    assert round_trip(Named()) == Opaque("Named", "Named(1)")


def test_functions_generators_and_broken_reprs_never_raise() -> None:
    fn = round_trip(lambda x: x)
    gen = round_trip(i for i in range(3))
    bad = round_trip(BadRepr())
    assert isinstance(fn, Opaque) and fn.type == "function" and "0x" not in fn.repr
    assert gen == codec.Stream((0, 1, 2), complete=True)
    assert bad == Opaque("BadRepr", "<repr failed: ValueError>")
    assert codec.show(bad) == "<repr failed: ValueError>"


def test_opaque_values_inside_containers() -> None:
    back = round_trip({"p": [Point(1), 2]})
    assert back == {"p": [Opaque("Point", back["p"][0].repr), 2]}


def test_deep_nesting_is_cut_off_not_a_recursion_error() -> None:
    deep: list[Any] = []
    node = deep
    for _ in range(codec.MAX_DEPTH + 20):
        node.append([])
        node = node[0]
    back = round_trip(deep)
    while isinstance(back, list):
        back = back[0]
    assert back == Opaque("deep", "<nested too deeply>")


def test_unknown_tags_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown value tag"):
        codec.decode({"$zz": 1})


def test_show_shortens_long_values() -> None:
    text = codec.show("x" * 1000, limit=50)
    assert len(text) == 50 and text.endswith("...")


def test_subclasses_of_built_in_types_keep_their_names_for_behaviour() -> None:
    import collections
    import enum

    class Colour(enum.IntEnum):
        RED = 1

    point = collections.namedtuple("Point", "x y")
    cases = [
        (collections.Counter("aab"), {"a": 2, "b": 1}),
        (collections.OrderedDict(a=1), {"a": 1}),
        (collections.defaultdict(int, a=1), {"a": 1}),
        (point(1, 2), (1, 2)),
        (Colour.RED, 1),
    ]
    for subclassed, plain in cases:
        on_host = codec.decode(json.loads(codec.dumps_capped(subclassed, 10_000)), subtypes=True)
        # Two programs, one returning the subclass and one the plain value, behave differently...
        assert not codec.equivalent(on_host, round_trip(plain)), subclassed
        assert codec.equivalent(on_host, codec.decode(codec.encode(subclassed), subtypes=True))
        # ... but a test's `==` sees through it, as Python's does.
        assert same_value(on_host, plain)
    # Inside the sandbox a test gets a real Counter back where one is known, else the base value.
    assert type(round_trip(collections.Counter("ab"))) is collections.Counter
    assert type(round_trip(point(1, 2))) is tuple
    shown = codec.show(codec.decode(codec.encode(collections.Counter("aa")), subtypes=True))
    assert shown == "Counter({'a': 2})"
    # numpy's float64 is a float subclass, but stands for a Python float here.
    assert round_trip(np.float64(1.5)) == 1.5 and type(round_trip(np.float64(1.5))) is float
