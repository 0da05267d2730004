"""Inputs for differential testing: signatures, seeds from examples, Hypothesis draws."""

from __future__ import annotations

from typing import Any

from multiagent_codeact.verify.inputs import (
    MAX_INPUT_CHARS,
    Domain,
    Param,
    Signature,
    find_signature,
    generate_inputs,
    seed_args,
    task_domain,
)

HUMANEVAL_PROMPT = '''from typing import List


def below_zero(operations: List[int], limit: int = 0) -> bool:
    """ Return True if the balance ever falls below zero.
    >>> below_zero([1, 2, 3])
    False
    """
'''


def sig(*hints: str | None) -> Signature:
    return Signature(
        name="f", params=[Param(name=f"x{i}", annotation=h) for i, h in enumerate(hints)]
    )


# -- find_signature -----------------------------------------------------------------------------


def test_signature_from_a_prompt_with_only_a_header_and_docstring() -> None:
    found = find_signature("below_zero", [HUMANEVAL_PROMPT])
    assert found == Signature(
        name="below_zero",
        params=[
            Param(name="operations", annotation="List[int]"),
            Param(name="limit", annotation="int", has_default=True),
        ],
    )


def test_signature_from_a_prose_prompt_that_quotes_the_header() -> None:
    quoted = "Implement `def f(x: int) -> int:` so that it doubles x. For example f(2) is 4."
    own_line = "Write this function:\n\n    def f(x: int, ys: List[str]) -> int:\n\nIt counts."
    assert find_signature("f", [quoted]) == Signature(
        name="f", params=[Param(name="x", annotation="int")]
    )
    found = find_signature("f", [own_line])
    assert found is not None
    assert [(p.name, p.annotation) for p in found.params] == [("x", "int"), ("ys", "List[str]")]


def test_the_header_must_name_the_entry_point() -> None:
    assert find_signature("f", ["Define f(x) as twice x; def g(x): is a helper."]) is None
    assert find_signature("f", ["undef f(x):"]) is None


def test_signature_sources_are_tried_in_order() -> None:
    prompt = "Double a number."  # no header: the candidates' code is used
    first = "def helper(z):\n    return z\n\ndef f(a, b=2):\n    return a * b\n"
    second = "def f(q: str) -> str:\n    return q\n"
    found = find_signature("f", [prompt, first, second])
    assert found is not None
    assert [(p.name, p.has_default) for p in found.params] == [("a", False), ("b", True)]
    assert find_signature("f", [second, first]) == Signature(
        name="f", params=[Param(name="q", annotation="str")]
    )


def test_methods_async_and_positional_only_parameters() -> None:
    found = find_signature("f", ["async def f(a, /, b: float, *args, c=1, **kw):\n    pass\n"])
    assert found is not None
    assert [p.name for p in found.params] == ["a", "b"]
    assert find_signature("f", ["class K:\n    def f(self, x):\n        pass\n"]) is not None


def test_no_signature_anywhere() -> None:
    assert find_signature("f", ["nothing to see", "def g(x):\n    return x", "def f(:"]) is None


# -- seed_args -----------------------------------------------------------------------------------


def test_seed_args_are_the_literal_arguments_of_calls_in_tests() -> None:
    sources = [
        "assert f(1, 'a') == 2\nassert f([1, 2], 'b') == 3\n",
        "def check(candidate):\n    assert candidate((1, 2), '') == 0\n",
        "assert f(1, 'a') == 2\n",  # a repeat
        "assert f(x, 'a') == 1\nassert f(1, k='a') == 1\nassert g(5, 'z') == 1\n",  # not literal
        "assert f(-3, {'k': {1, 2}}) == 1\n",
        "assert f(1 ==",  # does not parse
    ]
    assert seed_args("f", sources) == [
        (1, "a"),
        ([1, 2], "b"),
        ((1, 2), ""),
        (-3, {"k": {1, 2}}),
    ]


def test_seed_args_from_nested_calls() -> None:
    # f(f(2)) has no literal argument, but the call inside it does.
    assert sorted(seed_args("f", ["assert f(f(2)) == f(3)\n"])) == [(2,), (3,)]


# -- generate_inputs -----------------------------------------------------------------------------


def distinct(inputs: list[tuple[Any, ...]]) -> bool:
    return len({repr(i) for i in inputs}) == len(inputs)


def test_seeds_come_first_then_distinct_draws() -> None:
    seeds = [(3,), (10,), (0,)]
    inputs = generate_inputs(None, seeds, n=30)
    assert inputs[:3] == seeds
    assert len(inputs) > 10
    assert distinct(inputs)
    assert len(inputs) <= 30 + len(seeds)


def test_non_negative_examples_do_not_fence_the_inputs_in() -> None:
    # The examples seed the draw; the signature says int, so negatives, zero and very large
    # numbers are tried too: a rewrite that breaks on negatives must be caught.
    inputs = [x for (x,) in generate_inputs(sig("int"), [(3,), (10,), (0,)], n=60)]
    assert all(type(x) is int for x in inputs)
    assert any(x < 0 for x in inputs) and 0 in inputs
    assert any(abs(x) >= 10**6 for x in inputs)
    assert inputs[3:] == sorted(inputs[3:], key=lambda x: len(repr((x,))))  # smallest first


def test_the_task_s_words_narrow_the_domain() -> None:
    assert task_domain("Given a positive integer n, return ...").for_param("n").min_int == 1
    assert task_domain("where 0 <= k < len(xs)").for_param("k").min_int == 0
    bounded = task_domain("1 <= k <= len(arr)")
    assert bounded.for_param("k").min_int == 1
    assert bounded.for_param("arr").min_int is None  # k's bound says nothing of arr's elements
    assert task_domain("Given a list of positive integers").min_int == 1
    assert task_domain("Given a non-empty list of words").non_empty
    assert task_domain("Return the sum of a list of integers.") == Domain()
    k_only = generate_inputs(
        Signature(
            name="f",
            params=[Param(name="arr", annotation="List[int]"), Param(name="k", annotation="int")],
        ),
        [],
        n=80,
        domain=bounded,
    )
    assert all(k >= 1 for _, k in k_only)
    assert any(x < 0 for arr, _ in k_only for x in arr)
    positive = generate_inputs(sig("int"), [(3,)], n=60, domain=Domain(min_int=1))
    assert all(x >= 1 for (x,) in positive)
    non_empty = generate_inputs(sig("List[int]"), [], n=60, domain=Domain(non_empty=True))
    assert all(len(xs) >= 1 for (xs,) in non_empty)


def test_string_examples_mostly_keep_their_alphabet() -> None:
    inputs = generate_inputs(None, [("abc",), ("cab",)], n=60)
    assert len(inputs) > 10
    assert all(isinstance(s, str) for (s,) in inputs)
    own = [s for (s,) in inputs if set(s) <= set("abc")]
    other = [s for (s,) in inputs if not set(s) <= set("abc")]
    assert len(own) >= len(inputs) // 8  # the examples' characters are common ...
    assert other  # ... but digits, capitals, punctuation and other scripts show up too
    assert any(not s.isascii() for s in other)


def test_sentences_are_recombined_from_their_words() -> None:
    inputs = generate_inputs(None, [("hello world",), ("big cat",)], n=100)
    words = {"hello", "world", "big", "cat"}
    recombined = [
        s
        for (s,) in inputs
        if " " in s
        and s not in ("hello world", "big cat")
        and set(s.split()) <= words
        and s.split()
    ]
    assert recombined


def test_list_examples_shape_the_elements_and_the_edges_come_too() -> None:
    inputs = generate_inputs(None, [([1, 2, 3], 2), ([5], 0)], n=80)
    for xs, k in inputs:
        assert isinstance(xs, list) and all(type(x) is int for x in xs)
        assert type(k) is int
    lists = [xs for xs, _ in inputs]
    assert [] in lists
    assert any(len(xs) >= 10 for xs in lists)  # long
    assert any(len(xs) > len(set(xs)) for xs in lists)  # repeated elements
    assert any(x < 0 for xs in lists for x in xs)


def test_examples_win_over_hints() -> None:
    inputs = generate_inputs(sig("str"), [(1,), (2,)], n=20)
    assert all(isinstance(x, int) for (x,) in inputs)


def test_inputs_from_hints_only() -> None:
    def draw(hint: str) -> list[Any]:
        inputs = generate_inputs(sig(hint), [], n=40)
        assert len(inputs) >= 20 and distinct(inputs), hint
        return [x for (x,) in inputs]

    lists = draw("List[int]")
    assert all(isinstance(v, list) and all(type(x) is int for x in v) for v in lists)
    dicts = draw("Dict[str, int]")
    assert all(
        isinstance(d, dict) and all(type(k) is str and type(v) is int for k, v in d.items())
        for d in dicts
    )
    optional = draw("Optional[int]")
    assert None in optional and any(type(x) is int for x in optional)
    assert all(x is None or type(x) is int for x in optional)
    pairs = draw("Tuple[int, str]")
    assert all(
        isinstance(t, tuple) and len(t) == 2 and type(t[0]) is int and type(t[1]) is str
        for t in pairs
    )
    modern = draw("list[float] | None")
    assert all(v is None or all(type(x) is float for x in v) for v in modern)


def test_several_hinted_parameters_and_defaults() -> None:
    signature = Signature(
        name="f",
        params=[
            Param(name="s", annotation="str"),
            Param(name="n", annotation="int"),
            Param(name="flag", annotation="bool", has_default=True),
        ],
    )
    inputs = generate_inputs(signature, [], n=30)
    assert inputs and all(len(args) == 2 for args in inputs)  # defaults are left alone
    assert all(type(s) is str and type(n) is int for s, n in inputs)


def test_no_hints_and_no_examples_still_gives_inputs() -> None:
    inputs = generate_inputs(sig(None), [], n=30)
    assert len(inputs) >= 10 and distinct(inputs)
    unknown = generate_inputs(sig("SomeClassOfTheirs"), [], n=30)
    assert len(unknown) >= 10


def test_no_signature_and_no_examples_gives_nothing_to_call_with() -> None:
    assert generate_inputs(None, [], n=30) == []


def test_inputs_are_deterministic_and_follow_the_seed() -> None:
    first = generate_inputs(sig("List[int]", "str"), [], n=40)
    again = generate_inputs(sig("List[int]", "str"), [], n=40)
    other = generate_inputs(sig("List[int]", "str"), [], n=40, seed=1)
    assert first == again
    assert other != first
    assert other == generate_inputs(sig("List[int]", "str"), [], n=40, seed=1)


def test_oversized_inputs_are_left_out() -> None:
    inputs = generate_inputs(None, [("x" * 3000,), ("y",)], n=30)
    assert ("x" * 3000,) not in inputs
    assert all(len(repr(args)) <= MAX_INPUT_CHARS for args in inputs)


def test_mixed_arity_seeds_use_the_most_common_arity() -> None:
    inputs = generate_inputs(None, [(1, 2), (3, 4), (5,)], n=20)
    assert inputs[:3] == [(1, 2), (3, 4), (5,)]  # seeds are kept as they are
    assert all(len(args) == 2 for args in inputs[3:])


def test_zero_inputs_requested_gives_only_the_seeds() -> None:
    assert generate_inputs(sig("int"), [(7,)], n=0) == [(7,)]


def test_text_hints_draw_the_edges_of_text() -> None:
    texts = [s for (s,) in generate_inputs(sig("str"), [], n=80)]
    assert all(type(s) is str for s in texts)
    assert "" in texts
    assert any(not s.isascii() for s in texts)  # unicode
    assert any(any(c.isupper() for c in s) for s in texts)
    assert any(any(c * 10 in s for c in set(s)) for s in texts if s)  # a run of 10 or more


def test_parameters_nothing_describes_are_drawn_of_one_kind_together() -> None:
    signature = Signature(name="f", params=[Param(name="a"), Param(name="b")])
    inputs = generate_inputs(signature, [], n=60)
    assert len(inputs) > 20
    kinds = {(type(a), type(b)) for a, b in inputs}
    assert all(ka is kb for ka, kb in kinds), kinds  # never [1] with "ab"
    assert len(kinds) >= 2  # but numbers, text and lists all appear


def test_characters_and_words_the_task_quotes_are_drawn_though_no_example_shows_them() -> None:
    prompt = "Count the sentences that start with the word \"I\". Sentences end in '.', '?' or '!'."
    domain = task_domain(prompt)
    assert domain.literals == ("I", ".", "?", "!")
    assert domain.for_param("s").literals == domain.literals
    drawn = [
        s for (s,) in generate_inputs(sig("str"), [("Hi there. You ok",)], n=120, domain=domain)
    ]
    assert any("!" in s for s in drawn) and any("?" in s for s in drawn)
    assert any("I" in s.split() for s in drawn)


def test_a_stated_range_is_drawn_whole_with_its_ends() -> None:
    # HumanEval/156: "Restrictions: 1 <= num <= 1000" for `def int_to_mini_roman(number)`. The
    # examples (19, 152, 426) never reach 1000, where a `1000 -> 999` mutant parts from the
    # right program; the range is the parameter's (the only one), drawn whole, ends included.
    prompt = '''def int_to_mini_roman(number):
    """Given a positive integer, obtain its roman numeral equivalent.
    Restrictions: 1 <= num <= 1000
    """
'''
    domain = task_domain(prompt)
    assert dict(domain.max_by_name) == {"num": 1000}
    signature = find_signature("int_to_mini_roman", [prompt])
    inputs = [x for (x,) in generate_inputs(signature, [(19,), (152,), (426,)], domain=domain)]
    assert 1 in inputs and 1000 in inputs
    assert all(1 <= x <= 1000 for x in inputs)
    # A hinted parameter named by the range: its edges come from the range too.
    hinted = [
        x for (x,) in generate_inputs(sig("int"), [], n=80, domain=task_domain("0 < x0 < 50"))
    ]
    assert 1 in hinted and 49 in hinted and all(1 <= x <= 49 for x in hinted)


def test_only_a_range_with_both_ends_fences_the_inputs_in() -> None:
    # "if n <= 1000" describes a rule, not the inputs; powers are not read as their base.
    assert task_domain("Return 'small' if n <= 1000, else 'big'.").max_by_name == ()
    assert task_domain("1 <= n <= 10^5").max_by_name == ()
    assert task_domain("1 <= n <= 10**5").max_by_name == ()
    # Two parameters, one range under another name: it is nobody's.
    two = Signature(name="f", params=[Param(name="a"), Param(name="b")])
    drawn = generate_inputs(two, [(3, 4)], n=60, domain=task_domain("1 <= num <= 5"))
    assert any(a > 5 or b > 5 or a < 1 or b < 1 for a, b in drawn)


def test_a_bound_on_a_size_is_not_a_bound_on_the_values() -> None:
    # HumanEval/115: "1 <= grid.length <= 10^2" says nothing of the 0s and 1s in grid.
    domain = task_domain("* 1 <= grid.length <= 10^2\n* 0 <= len(xs)\n* 1 <= capacity <= 10")
    assert domain.for_param("grid").min_int is None
    assert domain.for_param("xs").min_int is None
    assert domain.for_param("capacity").min_int == 1
    assert domain.for_param("capacity").max_int == 10


def test_text_over_a_tiny_alphabet_is_tried_exhaustively_when_short() -> None:
    # HumanEval/132: a scan that starts one index early differs from the right one only on a
    # few short bracket strings ("[]][", "[]][["); random text rarely hits them.
    def right(s: str) -> bool:
        for i in range(len(s)):
            if s[i] == "]":
                continue
            depth = deepest = 0
            for j in range(i, len(s)):
                depth += 1 if s[j] == "[" else -1
                deepest = max(deepest, depth)
                if depth == 0:
                    if deepest >= 2:
                        return True
                    break
        return False

    def early(s: str) -> bool:
        for i in range(len(s)):
            if s[i] == "]":
                continue
            depth = deepest = 0
            for j in range(i - 1, len(s)):
                depth += 1 if s[j] == "[" else -1
                deepest = max(deepest, depth)
                if depth == 0:
                    if deepest >= 2:
                        return True
                    break
        return False

    seeds = [("[[]]",), ("[][]",), ("[]",), ("[[]][[",)]
    inputs = generate_inputs(sig(None), seeds, n=100)
    assert {("[]][",), ("[]][[",)} <= set(inputs)
    assert any(right(s) != early(s) for (s,) in inputs)
    assert all(len(s) <= 5 for (s,) in inputs[len(seeds) : len(seeds) + 62])
    # A wide alphabet or two parameters: no enumeration, only draws.
    assert ("ab",) not in generate_inputs(sig(None), [("hello world",)], n=30)
