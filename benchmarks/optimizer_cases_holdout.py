"""Optimizer benchmark, holdout set: equivalence traps and near-optimal code (see optimizer.py).

The same kind of data as optimizer_cases_dev.py (its docstring says what each key means), kept
apart so that a change tuned on the dev set is judged on cases it was not tuned on. Do not look
at these while changing the optimizer's checks.
"""

from __future__ import annotations

from typing import Any

CASES: list[dict[str, Any]] = [
    # -- mutation -------------------------------------------------------------------------
    {
        "name": "reversed_list",
        "cls": "mutation",
        "why_slow": "insert(0, x) per element (quadratic)",
        "prompt": "Write `def reversed_list(xs)`: the elements of xs in reverse order, as a new "
        "list (xs is not changed).\n\n"
        ">>> reversed_list([1, 2, 3])\n[3, 2, 1]\n>>> reversed_list([4])\n[4]\n",
        "entry": "reversed_list",
        "examples": [],
        "code": "def reversed_list(xs):\n"
        "    out = []\n"
        "    for x in xs:\n"
        "        out.insert(0, x)\n"
        "    return out\n",
        "offers": [
            ("right", "slice [::-1]", "def reversed_list(xs):\n"
             "    return xs[::-1]\n"),
            ("wrong", "pops from the caller's list", "def reversed_list(xs):\n"
             "    out = []\n"
             "    while xs:\n"
             "        out.append(xs.pop())\n"
             "    return out\n"),
        ],
        "traps": [([1, 2, 3],), ([7],)],
    },
    {
        "name": "running_max",
        "cls": "mutation",
        "why_slow": "max of every prefix (quadratic)",
        "prompt": "Write `def running_max(xs)`: a new list whose i-th element is the largest of "
        "xs[0], ..., xs[i]; xs is not changed.",
        "entry": "running_max",
        "examples": [
            "assert running_max([1, 3, 2, 5]) == [1, 3, 3, 5]",
            "assert running_max([]) == []",
        ],
        "code": "def running_max(xs):\n"
        "    return [max(xs[: i + 1]) for i in range(len(xs))]\n",
        "offers": [
            ("wrong", "overwrites the input in place", "def running_max(xs):\n"
             "    for i in range(1, len(xs)):\n"
             "        if xs[i] < xs[i - 1]:\n"
             "            xs[i] = xs[i - 1]\n"
             "    return xs\n"),
            ("right", "accumulate(max)", "from itertools import accumulate\n\n"
             "def running_max(xs):\n"
             "    return list(accumulate(xs, max))\n"),
        ],
        "traps": [([1, 3, 2, 5],), ([4, 1],)],
    },
    {
        "name": "interleave",
        "cls": "mutation",
        "why_slow": "pop(0) on list copies (quadratic)",
        "prompt": "Write `def interleave(a: list[int], b: list[int]) -> list[int]`: a[0], b[0], "
        "a[1], b[1], ..., then what is left of the longer list; a and b are not changed.\n\n"
        ">>> interleave([1, 2, 3], [7])\n[1, 7, 2, 3]\n",
        "entry": "interleave",
        "examples": [],
        "code": "def interleave(a, b):\n"
        "    a, b = list(a), list(b)\n"
        "    out = []\n"
        "    while a or b:\n"
        "        if a:\n"
        "            out.append(a.pop(0))\n"
        "        if b:\n"
        "            out.append(b.pop(0))\n"
        "    return out\n",
        "offers": [
            ("wrong", "pops from the caller's lists", "def interleave(a, b):\n"
             "    a.reverse()\n"
             "    b.reverse()\n"
             "    out = []\n"
             "    while a or b:\n"
             "        if a:\n"
             "            out.append(a.pop())\n"
             "        if b:\n"
             "            out.append(b.pop())\n"
             "    return out\n"),
            ("right", "by index, then the tails", "def interleave(a, b):\n"
             "    n = min(len(a), len(b))\n"
             "    out = []\n"
             "    for i in range(n):\n"
             "        out.append(a[i])\n"
             "        out.append(b[i])\n"
             "    out.extend(a[n:])\n"
             "    out.extend(b[n:])\n"
             "    return out\n"),
        ],
        "traps": [([1, 2, 3], [7]), ([5], [6, 8])],
    },
    # -- type -----------------------------------------------------------------------------
    {
        "name": "dup_flags",
        "cls": "type",
        "why_slow": "list.count per element (quadratic)",
        "prompt": "Write `def dup_flags(xs)`: for each element of xs, 1 if the same value occurs "
        "elsewhere in xs, else 0.\n\n>>> dup_flags([1, 2, 1])\n[1, 0, 1]\n",
        "entry": "dup_flags",
        "examples": [],
        "code": "def dup_flags(xs):\n"
        "    return [1 if xs.count(x) > 1 else 0 for x in xs]\n",
        "offers": [
            ("wrong", "bools instead of 0/1", "from collections import Counter\n\n"
             "def dup_flags(xs):\n"
             "    c = Counter(xs)\n"
             "    return [c[x] > 1 for x in xs]\n"),
            ("right", "Counter", "from collections import Counter\n\n"
             "def dup_flags(xs):\n"
             "    c = Counter(xs)\n"
             "    return [1 if c[x] > 1 else 0 for x in xs]\n"),
        ],
        "traps": [([1, 2, 1],), ([5],)],
    },
    {
        "name": "ranks",
        "cls": "type",
        "why_slow": "counts smaller elements per element (quadratic)",
        "prompt": "Write `def ranks(xs: list[int]) -> list[int]`: for each element of xs, how many "
        "elements of xs are smaller than it.",
        "entry": "ranks",
        "examples": [],
        "code": "def ranks(xs):\n"
        "    return [sum(1 for y in xs if y < x) for x in xs]\n",
        "offers": [
            ("right", "sorted + bisect", "from bisect import bisect_left\n\n"
             "def ranks(xs):\n"
             "    s = sorted(xs)\n"
             "    return [bisect_left(s, x) for x in xs]\n"),
            ("wrong", "a map object, not a list", "from bisect import bisect_left\n\n"
             "def ranks(xs):\n"
             "    s = sorted(xs)\n"
             "    return map(lambda x: bisect_left(s, x), xs)\n"),
        ],
        "traps": [([3, 1, 2],), ([],)],
    },
    {
        "name": "median",
        "cls": "type",
        "why_slow": "order statistics by counting (quadratic)",
        "prompt": "Write `def median(xs)`: the median of a list of numbers, as a float (the mean "
        "of the two middle values when the length is even); raise ValueError for an empty "
        "list.",
        "entry": "median",
        "examples": ["assert median([3, 1, 2]) == 2", "assert median([4, 1, 3, 2]) == 2.5"],
        "code": "def median(xs):\n"
        "    if not xs:\n"
        "        raise ValueError('median of an empty list')\n"
        "    n = len(xs)\n\n"
        "    def kth(k):\n"
        "        for x in xs:\n"
        "            less = sum(1 for y in xs if y < x)\n"
        "            same = sum(1 for y in xs if y == x)\n"
        "            if less <= k < less + same:\n"
        "                return x\n\n"
        "    return (kth((n - 1) // 2) + kth(n // 2)) / 2\n",
        "offers": [
            ("wrong", "the middle element itself (int) for odd lengths", "def median(xs):\n"
             "    if not xs:\n"
             "        raise ValueError('median of an empty list')\n"
             "    s = sorted(xs)\n"
             "    n = len(s)\n"
             "    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2\n"),
            ("right", "sorted, mean of the middle two", "def median(xs):\n"
             "    if not xs:\n"
             "        raise ValueError('median of an empty list')\n"
             "    s = sorted(xs)\n"
             "    n = len(s)\n"
             "    return (s[(n - 1) // 2] + s[n // 2]) / 2\n"),
        ],
        "traps": [([3, 1, 2],), ([5],), ([],)],
    },
    # -- sign -----------------------------------------------------------------------------
    {
        "name": "same_quotient_pairs",
        "cls": "sign",
        "why_slow": "all pairs (quadratic)",
        "prompt": "Write `def same_quotient_pairs(xs, d)`: the number of pairs i < j for which "
        "xs[i] / d and xs[j] / d, truncated toward zero, are equal.",
        "entry": "same_quotient_pairs",
        "examples": [
            "assert same_quotient_pairs([1, 2, 5, 7], 3) == 1",
            "assert same_quotient_pairs([4, 5], 2) == 1",
        ],
        "code": "def same_quotient_pairs(xs, d):\n"
        "    q = [int(x / d) for x in xs]\n"
        "    n = 0\n"
        "    for i in range(len(q)):\n"
        "        for j in range(i + 1, len(q)):\n"
        "            if q[i] == q[j]:\n"
        "                n += 1\n"
        "    return n\n",
        "offers": [
            ("wrong", "x // d floors (wrong for negatives)", "from collections import Counter\n\n"
             "def same_quotient_pairs(xs, d):\n"
             "    c = Counter(x // d for x in xs)\n"
             "    return sum(k * (k - 1) // 2 for k in c.values())\n"),
            ("right", "Counter of int(x / d)", "from collections import Counter\n\n"
             "def same_quotient_pairs(xs, d):\n"
             "    c = Counter(int(x / d) for x in xs)\n"
             "    return sum(k * (k - 1) // 2 for k in c.values())\n"),
        ],
        "traps": [([-1, 1], 3), ([-7, -8, 7], 2)],
    },
    {
        "name": "divisor_total",
        "cls": "sign",
        "why_slow": "trial division of every k (quadratic in n)",
        "prompt": "Write `def divisor_total(n: int) -> int`: the sum over k = 1..n of the number "
        "of divisors of k (0 when n < 1).",
        "entry": "divisor_total",
        "examples": ["assert divisor_total(1) == 1", "assert divisor_total(4) == 8"],
        "code": "def divisor_total(n):\n"
        "    total = 0\n"
        "    for k in range(1, n + 1):\n"
        "        for d in range(1, k + 1):\n"
        "            if k % d == 0:\n"
        "                total += 1\n"
        "    return total\n",
        "offers": [
            ("wrong", "no guard: isqrt raises for n < 0", "from math import isqrt\n\n"
             "def divisor_total(n):\n"
             "    r = isqrt(n)\n"
             "    return 2 * sum(n // d for d in range(1, r + 1)) - r * r\n"),
            ("right", "Dirichlet hyperbola", "from math import isqrt\n\n"
             "def divisor_total(n):\n"
             "    if n < 1:\n"
             "        return 0\n"
             "    r = isqrt(n)\n"
             "    return 2 * sum(n // d for d in range(1, r + 1)) - r * r\n"),
        ],
        "traps": [(-5,), (0,), (30,)],
    },
    {
        "name": "positive_product_pairs",
        "cls": "sign",
        "why_slow": "all pairs (quadratic)",
        "prompt": "Write `def positive_product_pairs(xs: list[int]) -> int`: the number of pairs "
        "i < j with xs[i] * xs[j] > 0.\n\n"
        ">>> positive_product_pairs([1, 2, 3])\n3\n>>> positive_product_pairs([4, 5])\n1\n",
        "entry": "positive_product_pairs",
        "examples": [],
        "code": "def positive_product_pairs(xs):\n"
        "    n = 0\n"
        "    for i in range(len(xs)):\n"
        "        for j in range(i + 1, len(xs)):\n"
        "            if xs[i] * xs[j] > 0:\n"
        "                n += 1\n"
        "    return n\n",
        "offers": [
            ("wrong", "zero counted as positive", "def positive_product_pairs(xs):\n"
             "    p = sum(1 for x in xs if x >= 0)\n"
             "    m = sum(1 for x in xs if x < 0)\n"
             "    return p * (p - 1) // 2 + m * (m - 1) // 2\n"),
            ("wrong", "forgets negative times negative", "def positive_product_pairs(xs):\n"
             "    p = sum(1 for x in xs if x > 0)\n"
             "    return p * (p - 1) // 2\n"),
            ("right", "positives and negatives counted", "def positive_product_pairs(xs):\n"
             "    p = sum(1 for x in xs if x > 0)\n"
             "    m = sum(1 for x in xs if x < 0)\n"
             "    return p * (p - 1) // 2 + m * (m - 1) // 2\n"),
        ],
        "traps": [([0, 0, 1],), ([-1, -2, 3],)],
    },
    # -- length ---------------------------------------------------------------------------
    {
        "name": "max_streak",
        "cls": "length",
        "why_slow": "rescans from every position (quadratic)",
        "prompt": "Write `def max_streak(xs)`: the length of the longest run of consecutive equal "
        "elements in xs.\n\n"
        ">>> max_streak([1, 1, 2, 2, 2, 3])\n3\n>>> max_streak([])\n0\n",
        "entry": "max_streak",
        "examples": [],
        "code": "def max_streak(xs):\n"
        "    best = 0\n"
        "    for i in range(len(xs)):\n"
        "        run = 0\n"
        "        for j in range(i, len(xs)):\n"
        "            if xs[j] == xs[i] and run == j - i:\n"
        "                run += 1\n"
        "        best = max(best, run)\n"
        "    return best\n",
        "offers": [
            ("wrong", "tries run lengths up to 9 only", "def max_streak(xs):\n"
             "    for k in range(min(len(xs), 9), 1, -1):\n"
             "        if any(xs[i : i + k] == [xs[i]] * k for i in range(len(xs) - k + 1)):\n"
             "            return k\n"
             "    return min(len(xs), 1)\n"),
            ("wrong", "recursion per element (RecursionError on long lists)",
             "def max_streak(xs):\n"
             "    def go(i, run, best):\n"
             "        if i == len(xs):\n"
             "            return max(best, run)\n"
             "        if i and xs[i] == xs[i - 1]:\n"
             "            return go(i + 1, run + 1, best)\n"
             "        return go(i + 1, 1, max(best, run))\n\n"
             "    return go(0, 0, 0)\n"),
            ("right", "one pass", "def max_streak(xs):\n"
             "    best = run = 0\n"
             "    prev = object()\n"
             "    for x in xs:\n"
             "        run = run + 1 if x == prev else 1\n"
             "        prev = x\n"
             "        best = max(best, run)\n"
             "    return best\n"),
        ],
        "traps": [([4] * 12,), ([1, 2] + [3] * 150,), (list(range(1500)),)],
    },
    {
        "name": "pair_products",
        "cls": "length",
        "why_slow": "all pairs (quadratic)",
        "prompt": "Write `def pair_products(xs: list[int]) -> int`: the sum of xs[i] * xs[j] over "
        "all pairs i < j.",
        "entry": "pair_products",
        "examples": ["assert pair_products([1, 2, 3]) == 11", "assert pair_products([]) == 0"],
        "code": "def pair_products(xs):\n"
        "    total = 0\n"
        "    for i in range(len(xs)):\n"
        "        for j in range(i + 1, len(xs)):\n"
        "            total += xs[i] * xs[j]\n"
        "    return total\n",
        "offers": [
            ("wrong", "float division (wrong for large values)", "def pair_products(xs):\n"
             "    s = sum(xs)\n"
             "    return int((s * s - sum(x * x for x in xs)) / 2)\n"),
            ("right", "(s^2 - sum of squares) // 2", "def pair_products(xs):\n"
             "    s = sum(xs)\n"
             "    return (s * s - sum(x * x for x in xs)) // 2\n"),
        ],
        "traps": [([10**10, 10**10 + 1, 3],), ([-(10**9), 10**9 + 7, 12345],)],
    },
    # -- order ----------------------------------------------------------------------------
    {
        "name": "char_counts",
        "cls": "order",
        "why_slow": "scans a prefix copy per character (quadratic)",
        "prompt": "Write `def char_counts(s)`: a dict from each character of s to the number of "
        "times it occurs, keys in order of first appearance.\n\n"
        ">>> char_counts('abca')\n{'a': 2, 'b': 1, 'c': 1}\n",
        "entry": "char_counts",
        "examples": [],
        "code": "def char_counts(s):\n"
        "    out = {}\n"
        "    for i, c in enumerate(s):\n"
        "        if c not in s[:i]:\n"
        "            out[c] = s.count(c)\n"
        "    return out\n",
        "offers": [
            ("wrong", "keys sorted, not in order of appearance",
             "from collections import Counter\n\n"
             "def char_counts(s):\n"
             "    return dict(sorted(Counter(s).items()))\n"),
            ("wrong", "a Counter, not a dict", "from collections import Counter\n\n"
             "def char_counts(s):\n"
             "    return Counter(s)\n"),
            ("right", "dict(Counter())", "from collections import Counter\n\n"
             "def char_counts(s):\n"
             "    return dict(Counter(s))\n"),
        ],
        "traps": [("cab",), ("zzya",)],
    },
    {
        "name": "top_frequent",
        "cls": "order",
        "why_slow": "list.count per distinct value (quadratic)",
        "prompt": "Write `def top_frequent(xs: list[int], k: int) -> list[int]`: the first k of "
        "the distinct values of xs when they are ordered by how often they occur, most frequent "
        "first, values occurring equally often in order of first appearance (as a slice "
        "[:k]).\n\n"
        ">>> top_frequent([1, 1, 2, 2, 3], 2)\n[1, 2]\n>>> top_frequent([5, 6, 6], 1)\n[6]\n",
        "entry": "top_frequent",
        "examples": [],
        "code": "def top_frequent(xs, k):\n"
        "    distinct = []\n"
        "    for x in xs:\n"
        "        if x not in distinct:\n"
        "            distinct.append(x)\n"
        "    distinct.sort(key=lambda v: -xs.count(v))\n"
        "    return distinct[:k]\n",
        "offers": [
            ("wrong", "ties broken by value", "from collections import Counter\n\n"
             "def top_frequent(xs, k):\n"
             "    c = Counter(xs)\n"
             "    return [x for x, _ in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))][:k]\n"),
            ("wrong", "most_common(k): [] for negative k", "from collections import Counter\n\n"
             "def top_frequent(xs, k):\n"
             "    return [x for x, _ in Counter(xs).most_common(k)]\n"),
            ("right", "stable sort of Counter items", "from collections import Counter\n\n"
             "def top_frequent(xs, k):\n"
             "    c = Counter(xs)\n"
             "    return [x for x, _ in sorted(c.items(), key=lambda kv: -kv[1])][:k]\n"),
        ],
        "traps": [([3, 1, 3, 1, 2], 2), ([1, 2, 3], -1), ([2, 1], 5)],
    },
    # -- multiplicity ---------------------------------------------------------------------
    {
        "name": "count_common",
        "cls": "multiplicity",
        "why_slow": "list.remove from a pool (quadratic)",
        "prompt": "Write `def count_common(a, b)`: how many elements a and b have in common, "
        "counting repeats (the size of their multiset intersection).\n\n"
        ">>> count_common([1, 2, 2], [2, 2, 3])\n2\n",
        "entry": "count_common",
        "examples": [],
        "code": "def count_common(a, b):\n"
        "    pool = list(b)\n"
        "    n = 0\n"
        "    for x in a:\n"
        "        if x in pool:\n"
        "            pool.remove(x)\n"
        "            n += 1\n"
        "    return n\n",
        "offers": [
            ("right", "Counter intersection", "from collections import Counter\n\n"
             "def count_common(a, b):\n"
             "    return sum((Counter(a) & Counter(b)).values())\n"),
            ("wrong", "set intersection: repeats lost", "def count_common(a, b):\n"
             "    return len(set(a) & set(b))\n"),
        ],
        "traps": [([1, 2, 2], [2, 2, 3]), ([5, 5], [5, 5, 5])],
    },
    {
        "name": "remove_each",
        "cls": "multiplicity",
        "why_slow": "list.remove per element of b (quadratic)",
        "prompt": "Write `def remove_each(a: list[int], b: list[int]) -> list[int]`: a copy of a "
        "in which, for each element of b in turn, the first remaining equal element is removed "
        "(elements of b that are not left in a are ignored).",
        "entry": "remove_each",
        "examples": [],
        "code": "def remove_each(a, b):\n"
        "    out = list(a)\n"
        "    for x in b:\n"
        "        if x in out:\n"
        "            out.remove(x)\n"
        "    return out\n",
        "offers": [
            ("wrong", "Counter difference: values grouped", "from collections import Counter\n\n"
             "def remove_each(a, b):\n"
             "    return list((Counter(a) - Counter(b)).elements())\n"),
            ("right", "Counter of b, first occurrences skipped",
             "from collections import Counter\n\n"
             "def remove_each(a, b):\n"
             "    skip = Counter(b)\n"
             "    out = []\n"
             "    for x in a:\n"
             "        if skip[x] > 0:\n"
             "            skip[x] -= 1\n"
             "        else:\n"
             "            out.append(x)\n"
             "    return out\n"),
            ("wrong", "set of b: every occurrence removed", "def remove_each(a, b):\n"
             "    s = set(b)\n"
             "    return [x for x in a if x not in s]\n"),
        ],
        "traps": [([1, 2, 1, 3], [1]), ([2, 1, 2], [])],
    },
    {
        "name": "modes",
        "cls": "multiplicity",
        "why_slow": "list.count per element (quadratic)",
        "prompt": "Write `def modes(xs)`: every value that occurs the largest number of times in "
        "xs, each once, in order of first appearance.",
        "entry": "modes",
        "examples": ["assert modes([1, 2, 2, 1, 3]) == [1, 2]", "assert modes([]) == []"],
        "code": "def modes(xs):\n"
        "    best = max((xs.count(x) for x in xs), default=0)\n"
        "    out = []\n"
        "    for x in xs:\n"
        "        if xs.count(x) == best and x not in out:\n"
        "            out.append(x)\n"
        "    return out\n",
        "offers": [
            ("right", "Counter", "from collections import Counter\n\n"
             "def modes(xs):\n"
             "    c = Counter(xs)\n"
             "    best = max(c.values(), default=0)\n"
             "    return [x for x, n in c.items() if n == best]\n"),
            ("wrong", "each mode repeated as often as it occurs",
             "from collections import Counter\n\n"
             "def modes(xs):\n"
             "    c = Counter(xs)\n"
             "    best = max(c.values(), default=0)\n"
             "    return [x for x in xs if c[x] == best]\n"),
        ],
        "traps": [([1, 2, 2, 1, 3],), ([4, 4],)],
    },
    # -- empty input ----------------------------------------------------------------------
    {
        "name": "most_frequent_char",
        "cls": "empty",
        "why_slow": "str.count per character (quadratic)",
        "prompt": "Write `def most_frequent_char(s: str) -> str`: the character that occurs most "
        "often in s (the earliest such character on a tie), or '' for an empty string.\n\n"
        ">>> most_frequent_char('banana')\n'a'\n",
        "entry": "most_frequent_char",
        "examples": [],
        "code": "def most_frequent_char(s):\n"
        "    best, best_n = '', 0\n"
        "    for c in s:\n"
        "        n = s.count(c)\n"
        "        if n > best_n:\n"
        "            best, best_n = c, n\n"
        "    return best\n",
        "offers": [
            ("wrong", "most_common(1)[0]: IndexError on ''", "from collections import Counter\n\n"
             "def most_frequent_char(s):\n"
             "    return Counter(s).most_common(1)[0][0]\n"),
            ("wrong", "max over a set: ties in set order", "def most_frequent_char(s):\n"
             "    return max(set(s), key=s.count) if s else ''\n"),
            ("right", "Counter, first maximum", "from collections import Counter\n\n"
             "def most_frequent_char(s):\n"
             "    if not s:\n"
             "        return ''\n"
             "    c = Counter(s)\n"
             "    return max(c, key=c.get)\n"),
        ],
        "traps": [("",), ("abcdefgh",)],
    },
    {
        "name": "count_inversions",
        "cls": "empty",
        "why_slow": "all pairs (quadratic)",
        "prompt": "Write `def count_inversions(xs: list[int]) -> int`: the number of pairs i < j "
        "with xs[i] > xs[j].\n\n>>> count_inversions([3, 1, 2])\n2\n",
        "entry": "count_inversions",
        "examples": [],
        "code": "def count_inversions(xs):\n"
        "    n = 0\n"
        "    for i in range(len(xs)):\n"
        "        for j in range(i + 1, len(xs)):\n"
        "            if xs[i] > xs[j]:\n"
        "                n += 1\n"
        "    return n\n",
        "offers": [
            ("wrong", "merge sort whose base case misses []", "def count_inversions(xs):\n"
             "    def sort(a):\n"
             "        if len(a) == 1:\n"
             "            return a, 0\n"
             "        mid = len(a) // 2\n"
             "        left, x = sort(a[:mid])\n"
             "        right, y = sort(a[mid:])\n"
             "        merged, i, j, inv = [], 0, 0, x + y\n"
             "        while i < len(left) and j < len(right):\n"
             "            if left[i] <= right[j]:\n"
             "                merged.append(left[i])\n"
             "                i += 1\n"
             "            else:\n"
             "                merged.append(right[j])\n"
             "                j += 1\n"
             "                inv += len(left) - i\n"
             "        return merged + left[i:] + right[j:], inv\n\n"
             "    return sort(list(xs))[1]\n"),
            ("right", "merge sort", "def count_inversions(xs):\n"
             "    def sort(a):\n"
             "        if len(a) <= 1:\n"
             "            return a, 0\n"
             "        mid = len(a) // 2\n"
             "        left, x = sort(a[:mid])\n"
             "        right, y = sort(a[mid:])\n"
             "        merged, i, j, inv = [], 0, 0, x + y\n"
             "        while i < len(left) and j < len(right):\n"
             "            if left[i] <= right[j]:\n"
             "                merged.append(left[i])\n"
             "                i += 1\n"
             "            else:\n"
             "                merged.append(right[j])\n"
             "                j += 1\n"
             "                inv += len(left) - i\n"
             "        return merged + left[i:] + right[j:], inv\n\n"
             "    return sort(list(xs))[1]\n"),
        ],
        "traps": [([],), ([3, 1, 2],)],
    },
    # -- unicode / case -------------------------------------------------------------------
    {
        "name": "word_lengths",
        "cls": "unicode",
        "why_slow": "splits the rest of the string at every word (quadratic)",
        "prompt": "Write `def word_lengths(s)`: the lengths of the whitespace-separated words of "
        "s, in order.\n\n>>> word_lengths('hi there')\n[2, 5]\n>>> word_lengths('')\n[]\n",
        "entry": "word_lengths",
        "examples": [],
        "code": "def word_lengths(s):\n"
        "    out = []\n"
        "    for i, c in enumerate(s):\n"
        "        if not c.isspace() and (i == 0 or s[i - 1].isspace()):\n"
        "            out.append(len(s[i:].split()[0]))\n"
        "    return out\n",
        "offers": [
            ("wrong", "splits on ' ' only (tabs, newlines)", "def word_lengths(s):\n"
             "    return [len(w) for w in s.split(' ') if w]\n"),
            ("right", "str.split()", "def word_lengths(s):\n"
             "    return [len(w) for w in s.split()]\n"),
        ],
        "traps": [("a\tbc\nd",), ("x\u00a0yz",), ("one  two",)],
    },
    {
        "name": "is_sentence_palindrome",
        "cls": "unicode",
        "why_slow": "reverses by insert(0, c) (quadratic)",
        "prompt": "Write `def is_sentence_palindrome(s: str) -> bool`: whether the letters and "
        "digits of s read the same backwards, ignoring case.",
        "entry": "is_sentence_palindrome",
        "examples": [
            "assert is_sentence_palindrome('Never odd or even') == True",
            "assert is_sentence_palindrome('abc') == False",
        ],
        "code": "def is_sentence_palindrome(s):\n"
        "    kept = [c.lower() for c in s if c.isalnum()]\n"
        "    backwards = []\n"
        "    for c in kept:\n"
        "        backwards.insert(0, c)\n"
        "    return kept == backwards\n",
        "offers": [
            ("wrong", "case not ignored", "def is_sentence_palindrome(s):\n"
             "    kept = [c for c in s if c.isalnum()]\n"
             "    return kept == kept[::-1]\n"),
            ("wrong", "ASCII letters and digits only", "import string\n\n"
             "OK = set(string.ascii_letters + string.digits)\n\n"
             "def is_sentence_palindrome(s):\n"
             "    kept = [c.lower() for c in s if c in OK]\n"
             "    return kept == kept[::-1]\n"),
            ("right", "compare with the reversed list", "def is_sentence_palindrome(s):\n"
             "    kept = [c.lower() for c in s if c.isalnum()]\n"
             "    return kept == kept[::-1]\n"),
        ],
        "traps": [("Aa",), ("\u00e9a",), ("\u00e9t\u00e9",)],
    },
    {
        "name": "digit_sum",
        "cls": "unicode",
        "why_slow": "slices a prefix per character (quadratic)",
        "prompt": "Write `def digit_sum(s)`: the sum of the digits of the string s, each character "
        "read with int(); raise ValueError if a character is not a digit.",
        "entry": "digit_sum",
        "examples": ["assert digit_sum('123') == 6", "assert digit_sum('') == 0"],
        "code": "def digit_sum(s):\n"
        "    total = 0\n"
        "    for i in range(len(s)):\n"
        "        total += int(s[: i + 1][-1])\n"
        "    return total\n",
        "offers": [
            ("wrong", "ord(c) - 48, no check", "def digit_sum(s):\n"
             "    return sum(ord(c) - 48 for c in s)\n"),
            ("wrong", "isdigit() check, then ord(c) - 48 (non-ASCII digits)",
             "def digit_sum(s):\n"
             "    if s and not s.isdigit():\n"
             "        raise ValueError('not a digit string')\n"
             "    return sum(ord(c) - 48 for c in s)\n"),
            ("right", "sum(map(int, s))", "def digit_sum(s):\n"
             "    return sum(map(int, s))\n"),
        ],
        "traps": [("\u0663\u0664",), ("2\u00b2",), ("1a",)],
    },
    # -- float ----------------------------------------------------------------------------
    {
        "name": "prefix_means",
        "cls": "float",
        "why_slow": "sums every prefix again (quadratic)",
        "prompt": "Write `def prefix_means(xs: list[float]) -> list[float]`: the mean of xs[0], "
        "..., xs[i] for every i.\n\n>>> prefix_means([2, 4, 6])\n[2.0, 3.0, 4.0]\n",
        "entry": "prefix_means",
        "examples": [],
        "code": "def prefix_means(xs):\n"
        "    return [sum(xs[: i + 1]) / (i + 1) for i in range(len(xs))]\n",
        "offers": [
            ("wrong", "running total of int(x)", "def prefix_means(xs):\n"
             "    out = []\n"
             "    total = 0\n"
             "    for i, x in enumerate(xs):\n"
             "        total += int(x)\n"
             "        out.append(total / (i + 1))\n"
             "    return out\n"),
            ("right", "running total", "def prefix_means(xs):\n"
             "    out = []\n"
             "    total = 0\n"
             "    for i, x in enumerate(xs):\n"
             "        total += x\n"
             "        out.append(total / (i + 1))\n"
             "    return out\n"),
        ],
        "traps": [([0.5, 1.25],), ([2.0, -3.5, 1.0],)],
    },
    {
        "name": "total_distance",
        "cls": "float",
        "why_slow": "all pairs (quadratic)",
        "prompt": "Write `def total_distance(xs)`: the sum of |a - b| over all pairs of elements "
        "of xs, as a float.\n\n>>> total_distance([1.0, 4.0, 2.0])\n6.0\n",
        "entry": "total_distance",
        "examples": [],
        "code": "def total_distance(xs):\n"
        "    total = 0.0\n"
        "    for i in range(len(xs)):\n"
        "        for j in range(i + 1, len(xs)):\n"
        "            total += abs(xs[i] - xs[j])\n"
        "    return total\n",
        "offers": [
            ("wrong", "sorts absolute values (wrong for negatives)", "def total_distance(xs):\n"
             "    s = sorted(abs(x) for x in xs)\n"
             "    n = len(s)\n"
             "    return float(sum(x * (2 * i - n + 1) for i, x in enumerate(s)))\n"),
            ("wrong", "(max - min) * (n - 1)", "def total_distance(xs):\n"
             "    return float((max(xs) - min(xs)) * (len(xs) - 1)) if xs else 0.0\n"),
            ("right", "sorted, weighted sum (another summation order)",
             "def total_distance(xs):\n"
             "    s = sorted(xs)\n"
             "    n = len(s)\n"
             "    return float(sum(x * (2 * i - n + 1) for i, x in enumerate(s)))\n"),
        ],
        "traps": [([-1.0, 1.0],), ([1.0, 2.0, 4.0, 8.0],)],
    },
    # -- exceptions -----------------------------------------------------------------------
    {
        "name": "mode",
        "cls": "exceptions",
        "why_slow": "list.count per element (quadratic)",
        "prompt": "Write `def mode(xs)`: the value that occurs most often in xs, the smallest one "
        "on a tie; raise ValueError for an empty list.\n\n>>> mode([1, 2, 2, 3])\n2\n",
        "entry": "mode",
        "examples": [],
        "code": "def mode(xs):\n"
        "    if not xs:\n"
        "        raise ValueError('mode of an empty list')\n"
        "    best = None\n"
        "    for x in xs:\n"
        "        n = xs.count(x)\n"
        "        if best is None or n > best[0] or (n == best[0] and x < best[1]):\n"
        "            best = (n, x)\n"
        "    return best[1]\n",
        "offers": [
            ("right", "Counter", "from collections import Counter\n\n"
             "def mode(xs):\n"
             "    if not xs:\n"
             "        raise ValueError('mode of an empty list')\n"
             "    c = Counter(xs)\n"
             "    return min(c, key=lambda x: (-c[x], x))\n"),
            ("wrong", "None for an empty list", "from collections import Counter\n\n"
             "def mode(xs):\n"
             "    if not xs:\n"
             "        return None\n"
             "    c = Counter(xs)\n"
             "    return min(c, key=lambda x: (-c[x], x))\n"),
        ],
        "traps": [([],), ([3, 1, 3, 1],)],
    },
    {
        "name": "sqrt_floor_sum",
        "cls": "exceptions",
        "why_slow": "counts up to each square root (n^1.5)",
        "prompt": "Write `def sqrt_floor_sum(n: int) -> int`: the sum of floor(sqrt(k)) for "
        "k = 1..n; raise ValueError if n is negative.",
        "entry": "sqrt_floor_sum",
        "examples": ["assert sqrt_floor_sum(0) == 0", "assert sqrt_floor_sum(4) == 5"],
        "code": "def sqrt_floor_sum(n):\n"
        "    if n < 0:\n"
        "        raise ValueError('n must be non-negative')\n"
        "    total = 0\n"
        "    for k in range(1, n + 1):\n"
        "        r = 0\n"
        "        while (r + 1) * (r + 1) <= k:\n"
        "            r += 1\n"
        "        total += r\n"
        "    return total\n",
        "offers": [
            ("wrong", "returns 0 for negative n", "from math import isqrt\n\n"
             "def sqrt_floor_sum(n):\n"
             "    if n < 0:\n"
             "        return 0\n"
             "    r = isqrt(n)\n"
             "    return sum(k * (2 * k + 1) for k in range(1, r)) + r * (n - r * r + 1)\n"),
            ("wrong", "AssertionError for negative n", "from math import isqrt\n\n"
             "def sqrt_floor_sum(n):\n"
             "    assert n >= 0, 'n must be non-negative'\n"
             "    r = isqrt(n)\n"
             "    return sum(k * (2 * k + 1) for k in range(1, r)) + r * (n - r * r + 1)\n"),
            ("right", "blocks of equal square roots", "from math import isqrt\n\n"
             "def sqrt_floor_sum(n):\n"
             "    if n < 0:\n"
             "        raise ValueError('n must be non-negative')\n"
             "    r = isqrt(n)\n"
             "    return sum(k * (2 * k + 1) for k in range(1, r)) + r * (n - r * r + 1)\n"),
        ],
        "traps": [(-1,), (-20,), (50,)],
    },
    {
        "name": "nth_smallest",
        "cls": "exceptions",
        "why_slow": "ranks every element by counting (quadratic)",
        "prompt": "Write `def nth_smallest(xs, k)`: the k-th smallest element of xs (k = 1 is the "
        "minimum, repeats counted); raise ValueError unless 1 <= k <= len(xs).",
        "entry": "nth_smallest",
        "examples": [
            "assert nth_smallest([5, 1, 4], 2) == 4",
            "assert nth_smallest([3, 3, 1], 3) == 3",
        ],
        "code": "def nth_smallest(xs, k):\n"
        "    if not 1 <= k <= len(xs):\n"
        "        raise ValueError('k out of range')\n"
        "    counts = [(sum(1 for y in xs if y < x), sum(1 for y in xs if y == x)) for x in xs]\n"
        "    for x, (less, same) in zip(xs, counts):\n"
        "        if less < k <= less + same:\n"
        "            return x\n",
        "offers": [
            ("wrong", "checks only k > len(xs): k = 0 gives the maximum",
             "def nth_smallest(xs, k):\n"
             "    if k > len(xs):\n"
             "        raise ValueError('k out of range')\n"
             "    return sorted(xs)[k - 1]\n"),
            ("right", "sorted()[k - 1] after the check", "def nth_smallest(xs, k):\n"
             "    if not 1 <= k <= len(xs):\n"
             "        raise ValueError('k out of range')\n"
             "    return sorted(xs)[k - 1]\n"),
        ],
        "traps": [([5, 1, 4], 0), ([5, 1, 4], -1), ([2], 2)],
    },
    # -- near-optimal ---------------------------------------------------------------------
    {
        "name": "char_frequencies",
        "cls": "near-optimal",
        "why_slow": "already Counter (builtin)",
        "prompt": "Write `def char_frequencies(s: str) -> dict[str, int]`: how often each "
        "character occurs in s, keys in order of first appearance.",
        "entry": "char_frequencies",
        "examples": ["assert char_frequencies('aba') == {'a': 2, 'b': 1}"],
        "code": "from collections import Counter\n\n"
        "def char_frequencies(s):\n"
        "    return dict(Counter(s))\n",
        "offers": [
            ("slower", "dict.get loop in Python", "def char_frequencies(s):\n"
             "    out = {}\n"
             "    for c in s:\n"
             "        out[c] = out.get(c, 0) + 1\n"
             "    return out\n"),
            ("same", "Counter().update", "from collections import Counter\n\n"
             "def char_frequencies(s):\n"
             "    c = Counter()\n"
             "    c.update(s)\n"
             "    return dict(c)\n"),
        ],
        "force_ask": True,
        "fresh": "[(''.join(chr(97 + (i * k) % 26) for i in range(60000)),) for k in range(1, 9)]",
    },
    {
        "name": "dedupe_keep_order",
        "cls": "near-optimal",
        "why_slow": "already dict.fromkeys (builtin)",
        "prompt": "Write `def dedupe_keep_order(xs: list[int]) -> list[int]`: xs without repeats, "
        "first occurrences kept, in order.",
        "entry": "dedupe_keep_order",
        "examples": ["assert dedupe_keep_order([2, 1, 2]) == [2, 1]"],
        "code": "def dedupe_keep_order(xs):\n    return list(dict.fromkeys(xs))\n",
        "offers": [
            ("gaming", "caches results across calls", "_memo = {}\n\n"
             "def dedupe_keep_order(xs):\n"
             "    key = tuple(xs)\n"
             "    if key not in _memo:\n"
             "        _memo[key] = list(dict.fromkeys(xs))\n"
             "    return list(_memo[key])\n"),
            ("slower", "seen-set loop in Python", "def dedupe_keep_order(xs):\n"
             "    seen = set()\n"
             "    out = []\n"
             "    for x in xs:\n"
             "        if x not in seen:\n"
             "            seen.add(x)\n"
             "            out.append(x)\n"
             "    return out\n"),
        ],
        "force_ask": True,
        "fresh": "[([(i * 31 + k) % 20011 for i in range(40000)],) for k in range(8)]",
    },
    {
        "name": "longest_run_fast",
        "cls": "near-optimal",
        "why_slow": "already one groupby pass",
        "prompt": "Write `def longest_run_fast(s: str) -> int`: the length of the longest run of "
        "one repeated character in s (0 for an empty string).",
        "entry": "longest_run_fast",
        "examples": ["assert longest_run_fast('abbc') == 2"],
        "code": "from itertools import groupby\n\n"
        "def longest_run_fast(s):\n"
        "    return max((len(list(g)) for _, g in groupby(s)), default=0)\n",
        "offers": [
            ("same", "the same code, names changed", "from itertools import groupby\n\n"
             "def longest_run_fast(s):\n"
             "    return max((len(list(run)) for _, run in groupby(s)), default=0)\n"),
            ("slower", "while loops in Python", "def longest_run_fast(s):\n"
             "    best = i = 0\n"
             "    while i < len(s):\n"
             "        j = i\n"
             "        while j < len(s) and s[j] == s[i]:\n"
             "            j += 1\n"
             "        best = max(best, j - i)\n"
             "        i = j\n"
             "    return best\n"),
        ],
        "force_ask": True,
        "fresh": "[(''.join('ab'[(i * i + k) % 7 % 2] for i in range(60000)),) for k in range(8)]",
    },
    {
        "name": "common_elements",
        "cls": "near-optimal",
        "why_slow": "already a set lookup per element",
        "prompt": "Write `def common_elements(a: list[int], b: list[int]) -> list[int]`: the "
        "elements of a that also occur in b, in a's order.",
        "entry": "common_elements",
        "examples": ["assert common_elements([1, 2, 3, 2], [2, 3]) == [2, 3, 2]"],
        "code": "def common_elements(a, b):\n"
        "    s = set(b)\n"
        "    return [x for x in a if x in s]\n",
        "offers": [
            ("gaming", "caches results across calls", "_memo = {}\n\n"
             "def common_elements(a, b):\n"
             "    key = (tuple(a), tuple(b))\n"
             "    if key not in _memo:\n"
             "        s = set(b)\n"
             "        _memo[key] = [x for x in a if x in s]\n"
             "    return list(_memo[key])\n"),
            ("slower", "binary search in sorted b", "from bisect import bisect_left\n\n"
             "def common_elements(a, b):\n"
             "    s = sorted(b)\n"
             "    out = []\n"
             "    for x in a:\n"
             "        i = bisect_left(s, x)\n"
             "        if i < len(s) and s[i] == x:\n"
             "            out.append(x)\n"
             "    return out\n"),
        ],
        "force_ask": True,
        "fresh": "[(list(range(k, 40000 + k)), list(range(0, 40000, 3))) for k in range(8)]",
    },
]  # fmt: skip
