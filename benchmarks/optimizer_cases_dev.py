"""Optimizer benchmark, dev set: equivalence traps and near-optimal code (see optimizer.py).

Plain data, read by benchmarks/optimizer.py. Each case is a correct but slow original, and the
rewrites a scripted optimizer agent offers for it, in order. Offer kinds:

- right: correct and faster (should be kept);
- wrong: faster, but behaves differently on some input (must never be kept);
- same / slower / gaming: correct, but not faster (gaming: only looks faster because it caches
  results across calls, and the timer repeats one input); must never be kept as a speedup.

`traps` are inputs on which each wrong offer departs from the original (the benchmark's own
label check runs every offer on them, strictly: exact types, dict order, argument mutation).
`big_traps` are inputs too large for the slow original; the `oracle` answers them instead.
`force_ask` makes the optimizer ask for a rewrite even when it would call the code fast enough.
The tuning set: change the optimizer while looking at these; judge it on the holdout set.
"""

from __future__ import annotations

from typing import Any

CASES: list[dict[str, Any]] = [
    # -- mutation -------------------------------------------------------------------------
    {
        "name": "sorted_values",
        "cls": "mutation",
        "why_slow": "selection sort (quadratic)",
        "prompt": "Write `def sorted_values(xs: list[int]) -> list[int]`: a new list with the "
        "elements of xs in ascending order; xs itself is left as it was.",
        "entry": "sorted_values",
        "examples": [
            "assert sorted_values([3, 1, 2]) == [1, 2, 3]",
            "assert sorted_values([]) == []",
        ],
        "code": "def sorted_values(xs):\n"
        "    rest = list(xs)\n"
        "    out = []\n"
        "    while rest:\n"
        "        smallest = min(rest)\n"
        "        rest.remove(smallest)\n"
        "        out.append(smallest)\n"
        "    return out\n",
        "offers": [
            ("wrong", "sorts the caller's list in place", "def sorted_values(xs):\n"
             "    xs.sort()\n"
             "    return xs\n"),
            ("right", "sorted()", "def sorted_values(xs):\n"
             "    return sorted(xs)\n"),
        ],
        "traps": [([5, 3, 9, 1],), ([2, 1],)],
    },
    {
        "name": "concat",
        "cls": "mutation",
        "why_slow": "list rebuilt per element (quadratic)",
        "prompt": "Write `def concat(a: list[int], b: list[int]) -> list[int]`: a new list with "
        "the elements of a followed by those of b; neither argument is changed.",
        "entry": "concat",
        "examples": [],
        "code": "def concat(a, b):\n"
        "    out = []\n"
        "    for x in a:\n"
        "        out = out + [x]\n"
        "    for x in b:\n"
        "        out = out + [x]\n"
        "    return out\n",
        "offers": [
            ("wrong", "+= on the argument", "def concat(a, b):\n"
             "    a += b\n"
             "    return a\n"),
            ("right", "a + b", "def concat(a, b):\n"
             "    return a + b\n"),
        ],
        "traps": [([1, 2], [3]), ([], [4])],
    },
    # -- type -----------------------------------------------------------------------------
    {
        "name": "pairs_below",
        "cls": "type",
        "why_slow": "counts pairs one by one (quadratic in n)",
        "prompt": "Write `def pairs_below(n: int) -> int`: the number of pairs (i, j) of integers "
        "with 0 <= j <= i < n.",
        "entry": "pairs_below",
        "examples": ["assert pairs_below(0) == 0", "assert pairs_below(3) == 6"],
        "code": "def pairs_below(n):\n"
        "    count = 0\n"
        "    for i in range(n):\n"
        "        for j in range(i + 1):\n"
        "            count += 1\n"
        "    return count\n",
        "offers": [
            ("wrong", "float division: 6.0 for 6", "def pairs_below(n):\n"
             "    return n * (n + 1) / 2 if n > 0 else 0\n"),
            ("right", "closed form, integer division", "def pairs_below(n):\n"
             "    return n * (n + 1) // 2 if n > 0 else 0\n"),
        ],
        "traps": [(3,), (10,), (-4,)],
    },
    {
        "name": "uniq_sorted",
        "cls": "type",
        "why_slow": "membership test in a growing list (quadratic)",
        "prompt": "Write `def uniq_sorted(xs: list[int]) -> list[int]`: the distinct values of xs "
        "as a list in ascending order.",
        "entry": "uniq_sorted",
        "examples": [
            "assert uniq_sorted([3, 1, 3, 2]) == [1, 2, 3]",
            "assert uniq_sorted([]) == []",
        ],
        "code": "def uniq_sorted(xs):\n"
        "    out = []\n"
        "    for x in sorted(xs):\n"
        "        if x not in out:\n"
        "            out.append(x)\n"
        "    return out\n",
        "offers": [
            ("wrong", "a tuple instead of a list", "def uniq_sorted(xs):\n"
             "    return tuple(sorted(set(xs)))\n"),
            ("wrong", "a set instead of a list", "def uniq_sorted(xs):\n"
             "    return set(xs)\n"),
            ("right", "sorted(set())", "def uniq_sorted(xs):\n"
             "    return sorted(set(xs))\n"),
        ],
        "traps": [([3, 1, 3, 2],), ([],)],
    },
    # -- sign -----------------------------------------------------------------------------
    {
        "name": "same_last_digit_pairs",
        "cls": "sign",
        "why_slow": "all pairs (quadratic)",
        "prompt": "Write `def same_last_digit_pairs(xs: list[int]) -> int`: the number of pairs "
        "i < j whose elements end in the same decimal digit (of their absolute value).\n\n"
        ">>> same_last_digit_pairs([11, 21, 5])\n1\n"
        ">>> same_last_digit_pairs([10, 20, 30])\n3\n",
        "entry": "same_last_digit_pairs",
        "examples": [],
        "code": "def same_last_digit_pairs(xs):\n"
        "    n = 0\n"
        "    for i in range(len(xs)):\n"
        "        for j in range(i + 1, len(xs)):\n"
        "            if abs(xs[i]) % 10 == abs(xs[j]) % 10:\n"
        "                n += 1\n"
        "    return n\n",
        "offers": [
            ("wrong", "x % 10 (wrong for negatives)", "from collections import Counter\n\n"
             "def same_last_digit_pairs(xs):\n"
             "    c = Counter(x % 10 for x in xs)\n"
             "    return sum(k * (k - 1) // 2 for k in c.values())\n"),
            ("right", "Counter of abs(x) % 10", "from collections import Counter\n\n"
             "def same_last_digit_pairs(xs):\n"
             "    c = Counter(abs(x) % 10 for x in xs)\n"
             "    return sum(k * (k - 1) // 2 for k in c.values())\n"),
        ],
        "traps": [([-3, 3],), ([-11, 21, -5],)],
    },
    {
        "name": "spread",
        "cls": "sign",
        "why_slow": "all pairs (quadratic)",
        "prompt": "Write `def spread(xs)`: the largest absolute difference between two elements "
        "of xs (0 when xs has fewer than two elements).\n\n"
        ">>> spread([1, 5, 3])\n4\n>>> spread([7])\n0\n",
        "entry": "spread",
        "examples": [],
        "code": "def spread(xs):\n"
        "    best = 0\n"
        "    for i in range(len(xs)):\n"
        "        for j in range(i + 1, len(xs)):\n"
        "            best = max(best, abs(xs[i] - xs[j]))\n"
        "    return best\n",
        "offers": [
            ("wrong", "abs(max) - abs(min)", "def spread(xs):\n"
             "    return abs(max(xs)) - abs(min(xs)) if xs else 0\n"),
            ("wrong", "spread of the absolute values", "def spread(xs):\n"
             "    return max(map(abs, xs)) - min(map(abs, xs)) if xs else 0\n"),
            ("right", "max - min", "def spread(xs):\n"
             "    return max(xs) - min(xs) if xs else 0\n"),
        ],
        "traps": [([-5, 1],), ([-2, -9, 3],)],
    },
    # -- length ---------------------------------------------------------------------------
    {
        "name": "longest_run",
        "cls": "length",
        "why_slow": "rescans from every position (quadratic)",
        "prompt": "Write `def longest_run(s: str) -> int`: the length of the longest run of one "
        "repeated character in s (0 for an empty string).",
        "entry": "longest_run",
        "examples": ["assert longest_run('aabbbc') == 3", "assert longest_run('') == 0"],
        "code": "def longest_run(s):\n"
        "    best = 0\n"
        "    for i in range(len(s)):\n"
        "        run = 0\n"
        "        for j in range(i, len(s)):\n"
        "            if s[j] == s[i] and run == j - i:\n"
        "                run += 1\n"
        "        best = max(best, run)\n"
        "    return best\n",
        "offers": [
            ("wrong", "searches runs of at most 9", "def longest_run(s):\n"
             "    if not s:\n"
             "        return 0\n"
             "    for k in range(9, 1, -1):\n"
             "        if any(c * k in s for c in set(s)):\n"
             "            return k\n"
             "    return 1\n"),
            ("right", "groupby", "from itertools import groupby\n\n"
             "def longest_run(s):\n"
             "    return max((len(list(g)) for _, g in groupby(s)), default=0)\n"),
        ],
        "traps": [("x" * 12,), ("ab" + "c" * 100 + "d",)],
    },
    {
        "name": "count_squares",
        "cls": "length",
        "why_slow": "finds each square root by counting up (n^1.5)",
        "prompt": "Write `def count_squares(n: int) -> int`: how many perfect squares k*k with "
        "k >= 1 are at most n.",
        "entry": "count_squares",
        "examples": ["assert count_squares(10) == 3", "assert count_squares(0) == 0"],
        "code": "def count_squares(n):\n"
        "    count = 0\n"
        "    for m in range(1, n + 1):\n"
        "        k = 1\n"
        "        while k * k < m:\n"
        "            k += 1\n"
        "        if k * k == m:\n"
        "            count += 1\n"
        "    return count\n",
        "offers": [
            ("right", "math.isqrt", "from math import isqrt\n\n"
             "def count_squares(n):\n"
             "    return isqrt(n) if n > 0 else 0\n"),
            ("wrong", "float square root (wrong past 2**52)", "def count_squares(n):\n"
             "    return int(n ** 0.5) if n > 0 else 0\n"),
        ],
        "traps": [(10,), (-3,)],
        "big_traps": [(10**16 - 1,), ((10**9 + 7) ** 2 - 1,)],
        "oracle": "def count_squares(n):\n"
        "    lo, hi = 0, max(n, 0) + 1\n"
        "    while hi - lo > 1:\n"
        "        mid = (lo + hi) // 2\n"
        "        if mid * mid <= n:\n"
        "            lo = mid\n"
        "        else:\n"
        "            hi = mid\n"
        "    return lo\n",
    },
    # -- order ----------------------------------------------------------------------------
    {
        "name": "unique_words",
        "cls": "order",
        "why_slow": "scans a copy of the earlier words for each word (quadratic)",
        "prompt": "Write `def unique_words(s: str) -> list[str]`: the distinct whitespace-"
        "separated words of s, in order of first appearance.",
        "entry": "unique_words",
        "examples": [
            "assert unique_words('b a b c') == ['b', 'a', 'c']",
            "assert unique_words('') == []",
        ],
        "code": "def unique_words(s):\n"
        "    words = s.split()\n"
        "    return [w for i, w in enumerate(words) if w not in words[:i]]\n",
        "offers": [
            ("wrong", "set(): order lost", "def unique_words(s):\n"
             "    return list(set(s.split()))\n"),
            ("right", "dict.fromkeys", "def unique_words(s):\n"
             "    return list(dict.fromkeys(s.split()))\n"),
        ],
        "traps": [("zeta alpha mid zeta beta",), ("b a b c",)],
    },
    {
        "name": "by_length",
        "cls": "order",
        "why_slow": "insertion sort (quadratic)",
        "prompt": "Write `def by_length(words)`: the words sorted by length, shortest first; "
        "words of equal length keep their order.",
        "entry": "by_length",
        "examples": ["assert by_length(['ccc', 'a', 'bb', 'd']) == ['a', 'd', 'bb', 'ccc']"],
        "code": "def by_length(words):\n"
        "    out = []\n"
        "    for w in words:\n"
        "        i = len(out)\n"
        "        while i > 0 and len(out[i - 1]) > len(w):\n"
        "            i -= 1\n"
        "        out.insert(i, w)\n"
        "    return out\n",
        "offers": [
            ("right", "stable sorted(key=len)", "def by_length(words):\n"
             "    return sorted(words, key=len)\n"),
            ("wrong", "reversed reverse sort: ties flipped", "def by_length(words):\n"
             "    return sorted(words, key=len, reverse=True)[::-1]\n"),
        ],
        "traps": [(["b", "a", "cc"],), (["xy", "ab", "q"],)],
    },
    # -- multiplicity ---------------------------------------------------------------------
    {
        "name": "common_multiset",
        "cls": "multiplicity",
        "why_slow": "list.remove from a pool (quadratic)",
        "prompt": "Write `def common_multiset(a: list[int], b: list[int]) -> list[int]`: the "
        "elements of a that can each be matched with a still unused equal element of b, in a's "
        "order.",
        "entry": "common_multiset",
        "examples": ["assert common_multiset([1, 2, 2, 3], [2, 3, 3]) == [2, 3]"],
        "code": "def common_multiset(a, b):\n"
        "    pool = list(b)\n"
        "    out = []\n"
        "    for x in a:\n"
        "        if x in pool:\n"
        "            pool.remove(x)\n"
        "            out.append(x)\n"
        "    return out\n",
        "offers": [
            ("right", "Counter, decremented", "from collections import Counter\n\n"
             "def common_multiset(a, b):\n"
             "    left = Counter(b)\n"
             "    out = []\n"
             "    for x in a:\n"
             "        if left[x] > 0:\n"
             "            left[x] -= 1\n"
             "            out.append(x)\n"
             "    return out\n"),
            ("wrong", "set of b: repeats not limited", "def common_multiset(a, b):\n"
             "    s = set(b)\n"
             "    return [x for x in a if x in s]\n"),
        ],
        "traps": [([2, 2, 2], [2]), ([1, 2, 2, 3], [2, 3, 3])],
    },
    # -- empty input ----------------------------------------------------------------------
    {
        "name": "max_gap",
        "cls": "empty",
        "why_slow": "searches each value's successor (quadratic)",
        "prompt": "Write `def max_gap(xs)`: the largest difference between two values that are "
        "next to each other in sorted order (0 when xs has fewer than two elements).",
        "entry": "max_gap",
        "examples": ["assert max_gap([1, 10, 4]) == 6", "assert max_gap([3, 3, 8]) == 5"],
        "code": "def max_gap(xs):\n"
        "    best = 0\n"
        "    for x in xs:\n"
        "        above = [y for y in xs if y > x]\n"
        "        if above:\n"
        "            best = max(best, min(above) - x)\n"
        "    return best\n",
        "offers": [
            ("right", "sorted neighbours, default 0", "def max_gap(xs):\n"
             "    s = sorted(xs)\n"
             "    return max((b - a for a, b in zip(s, s[1:])), default=0)\n"),
            ("wrong", "max() of nothing raises on [] and [x]", "def max_gap(xs):\n"
             "    s = sorted(xs)\n"
             "    return max(b - a for a, b in zip(s, s[1:]))\n"),
        ],
        "traps": [([],), ([4],)],
    },
    {
        "name": "coprime_pairs",
        "cls": "empty",
        "why_slow": "gcd of every pair (quadratic)",
        "prompt": "Write `def coprime_pairs(n: int) -> int`: the number of pairs 1 <= i < j <= n "
        "with gcd(i, j) == 1.",
        "entry": "coprime_pairs",
        "examples": ["assert coprime_pairs(5) == 9", "assert coprime_pairs(1) == 0"],
        "code": "from math import gcd\n\n"
        "def coprime_pairs(n):\n"
        "    return sum(1 for j in range(2, n + 1) for i in range(1, j) if gcd(i, j) == 1)\n",
        "offers": [
            ("wrong", "sum(phi[1:]) - 1: -1 for n <= 0", "def coprime_pairs(n):\n"
             "    phi = list(range(n + 1))\n"
             "    for p in range(2, n + 1):\n"
             "        if phi[p] == p:\n"
             "            for m in range(p, n + 1, p):\n"
             "                phi[m] -= phi[m] // p\n"
             "    return sum(phi[1:]) - 1\n"),
            ("right", "totient sieve", "def coprime_pairs(n):\n"
             "    if n < 2:\n"
             "        return 0\n"
             "    phi = list(range(n + 1))\n"
             "    for p in range(2, n + 1):\n"
             "        if phi[p] == p:\n"
             "            for m in range(p, n + 1, p):\n"
             "                phi[m] -= phi[m] // p\n"
             "    return sum(phi[2:])\n"),
        ],
        "traps": [(0,), (-2,), (12,)],
    },
    # -- unicode / case -------------------------------------------------------------------
    {
        "name": "distinct_letters",
        "cls": "unicode",
        "why_slow": "scans a lowered prefix per character (quadratic)",
        "prompt": "Write `def distinct_letters(s: str) -> int`: how many different letters s "
        "contains, ignoring case.",
        "entry": "distinct_letters",
        "examples": [
            "assert distinct_letters('Hello') == 4",
            "assert distinct_letters('') == 0",
        ],
        "code": "def distinct_letters(s):\n"
        "    low = s.lower()\n"
        "    count = 0\n"
        "    for i, c in enumerate(low):\n"
        "        if c.isalpha() and c not in low[:i]:\n"
        "            count += 1\n"
        "    return count\n",
        "offers": [
            ("wrong", "case not folded", "def distinct_letters(s):\n"
             "    return len({c for c in s if c.isalpha()})\n"),
            ("wrong", "ASCII letters only", "import string\n\n"
             "def distinct_letters(s):\n"
             "    return len({c for c in s.lower() if c in string.ascii_lowercase})\n"),
            ("right", "set of lowered letters", "def distinct_letters(s):\n"
             "    return len({c for c in s.lower() if c.isalpha()})\n"),
        ],
        "traps": [("Aa",), ("caf\u00e9 \u00c9t\u00e9",), ("\u03b1\u03b2\u03b3",)],
    },
    # -- float ----------------------------------------------------------------------------
    {
        "name": "variance",
        "cls": "float",
        "why_slow": "sums over all pairs (quadratic)",
        "prompt": "Write `def variance(xs: list[int]) -> float`: the population variance of the "
        "non-empty list xs.",
        "entry": "variance",
        "examples": ["assert variance([1, 2, 3, 4]) == 1.25", "assert variance([5, 5]) == 0"],
        "code": "def variance(xs):\n"
        "    n = len(xs)\n"
        "    total = 0\n"
        "    for i in range(n):\n"
        "        for j in range(i + 1, n):\n"
        "            total += (xs[i] - xs[j]) ** 2\n"
        "    return total / (n * n)\n",
        "offers": [
            ("wrong", "E[x^2] - E[x]^2 in floats (cancels)", "def variance(xs):\n"
             "    n = len(xs)\n"
             "    m = sum(xs) / n\n"
             "    return sum(x * x for x in xs) / n - m * m\n"),
            ("right", "exact integer sums", "def variance(xs):\n"
             "    n = len(xs)\n"
             "    s = sum(xs)\n"
             "    q = sum(x * x for x in xs)\n"
             "    return (n * q - s * s) / (n * n)\n"),
        ],
        "traps": [([10**9, 10**9 + 1, 10**9 + 2],), ([10**12 + 5, 10**12 - 5],)],
    },
    # -- exceptions -----------------------------------------------------------------------
    {
        "name": "parse_ints",
        "cls": "exceptions",
        "why_slow": "re-slices the rest of the string per field (quadratic)",
        "prompt": "Write `def parse_ints(s: str) -> list[int]`: the integers of a comma-separated "
        "string ('' gives []); raise ValueError when a field is not an integer.",
        "entry": "parse_ints",
        "examples": [
            "assert parse_ints('1,2,3') == [1, 2, 3]",
            "assert parse_ints('') == []",
        ],
        "code": "def parse_ints(s):\n"
        "    if not s:\n"
        "        return []\n"
        "    out = []\n"
        "    rest = s\n"
        "    while True:\n"
        "        cut = rest.find(',')\n"
        "        if cut < 0:\n"
        "            out.append(int(rest))\n"
        "            return out\n"
        "        out.append(int(rest[:cut]))\n"
        "        rest = rest[cut + 1 :]\n",
        "offers": [
            ("wrong", "skips bad fields instead of raising", "def parse_ints(s):\n"
             "    return [int(t) for t in s.split(',') if t.strip().lstrip('-').isdigit()]\n"),
            ("right", "split and int()", "def parse_ints(s):\n"
             "    return [int(t) for t in s.split(',')] if s else []\n"),
            ("wrong", "json.loads: JSONDecodeError, accepts 1.5", "import json\n\n"
             "def parse_ints(s):\n"
             "    return json.loads('[' + s + ']')\n"),
        ],
        "traps": [("1,,2",), ("1,x",), ("1.5",), ("01,2",)],
    },
    # -- near-optimal ---------------------------------------------------------------------
    {
        "name": "sorted_copy",
        "cls": "near-optimal",
        "why_slow": "already sorted() (builtin)",
        "prompt": "Write `def sorted_copy(xs: list[int]) -> list[int]`: xs sorted ascending, as a "
        "new list.",
        "entry": "sorted_copy",
        "examples": ["assert sorted_copy([2, 1]) == [1, 2]"],
        "code": "def sorted_copy(xs):\n    return sorted(xs)\n",
        "offers": [
            ("same", "copy, then list.sort", "def sorted_copy(xs):\n"
             "    ys = list(xs)\n"
             "    ys.sort()\n"
             "    return ys\n"),
            ("slower", "heap sort", "from heapq import heapify, heappop\n\n"
             "def sorted_copy(xs):\n"
             "    h = list(xs)\n"
             "    heapify(h)\n"
             "    return [heappop(h) for _ in range(len(h))]\n"),
        ],
        "force_ask": True,
        "fresh": "[([(i * 7919 + k) % 100003 for i in range(30000)],) for k in range(8)]",
    },
    {
        "name": "sum_squares",
        "cls": "near-optimal",
        "why_slow": "already one linear pass",
        "prompt": "Write `def sum_squares(xs: list[int]) -> int`: the sum of the squares of the "
        "elements of xs.",
        "entry": "sum_squares",
        "examples": ["assert sum_squares([1, 2, 3]) == 14"],
        "code": "def sum_squares(xs):\n    return sum(x * x for x in xs)\n",
        "offers": [
            ("gaming", "caches results across calls", "_seen = {}\n\n"
             "def sum_squares(xs):\n"
             "    key = tuple(xs)\n"
             "    if key not in _seen:\n"
             "        _seen[key] = sum(x * x for x in xs)\n"
             "    return _seen[key]\n"),
            ("slower", "pow() per element", "def sum_squares(xs):\n"
             "    return sum(pow(x, 2) for x in xs)\n"),
        ],
        "force_ask": True,
        "fresh": "[(list(range(k, k + 50000)),) for k in range(8)]",
    },
    {
        "name": "max_value",
        "cls": "near-optimal",
        "why_slow": "already max() (left alone without a model call)",
        "prompt": "Write `def max_value(xs: list[int]) -> int`: the largest element of the "
        "non-empty list xs.",
        "entry": "max_value",
        "examples": ["assert max_value([3, 9, 2]) == 9"],
        "code": "def max_value(xs):\n    return max(xs)\n",
        "offers": [
            ("slower", "sorts, then max()", "def max_value(xs):\n"
             "    return max(sorted(xs))\n"),
        ],
    },
]  # fmt: skip
