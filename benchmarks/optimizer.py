"""The optimizer on correct but slow solutions, with a scripted optimizer agent.

Each case is a verified-correct solution that is slow for a known reason (quadratic where
linear will do, repeated work, naive recursion), and the rewrites a scripted optimizer agent
offers for it, in a fixed order. Everything else is real: the openai client and AgentChat, the
sandbox, profiling on growing inputs, and the acceptance rule.

Case sets (`--cases`, default holdout):
- original: the first nine cases (correct-faster, wrong-faster and slower rewrites);
- dev / holdout (benchmarks/optimizer_cases_dev.py, optimizer_cases_holdout.py): equivalence
  traps, where each case offers a correct faster rewrite and one or two subtly wrong "faster"
  ones (mutating the argument, another type, wrong for negatives, long inputs, order,
  duplicates, empty input, non-ASCII text, float formula, exceptions), in varying order; and
  near-optimal code whose offered "rewrites" are not faster (same speed, slower, or faster only
  because they cache results across calls), run `--repeat` times each;
- all: the three together. Case names may be given too (`--cases median spread`).

The scripted agent answers the n-th rewrite request of a case with the case's n-th offer (the
original code once the offers run out): an optimizer that asks again after a rejection, with
the counterexample, gets the next offer.

Every offer is also put through a label check of the benchmark's own, independent of the
optimizer: it runs in the sandbox on generated inputs and on the case's trap inputs, and is
compared with the original strictly (exact types, so 1 is not 1.0 nor True; dict order;
whether the argument was changed; the exception's type). A wrong offer must differ somewhere,
every other offer nowhere; the check also says whether a wrong offer differs on inputs drawn the
way the optimizer draws them ("gen") or only on the trap inputs ("trap").

Reported:
- per case: what was offered, how many rewrites were asked for, what was kept, whether a wrong
  rewrite was kept, the measured speedup and why each rewrite was rejected;
- wrong rewrites kept (target 0), share of correct rewrites kept (target >= 90%), regressions
  on near-optimal code over the repeated runs (target 0);
- correctness kept: the final code (the accepted rewrite, or the original) still matches the
  original on the label check's inputs, strictly (target: no pass turned into a fail);
- %Opt: the share of cases made at least 1.1x faster;
- speedup: summed execution time before over summed time after, across all cases (NET style).

    .venv/bin/python benchmarks/optimizer.py                      # the holdout set
    .venv/bin/python benchmarks/optimizer.py --cases dev --repeat 3
    .venv/bin/python benchmarks/optimizer.py --cases original
    .venv/bin/python benchmarks/optimizer.py --cases all --check-labels-only
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import math
import os
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from multiagent_codeact import Task
from multiagent_codeact.config import OptimizerConfig
from multiagent_codeact.models import ModelConfig, make_client
from multiagent_codeact.optimize import OptimizationReport, optimize
from multiagent_codeact.sandbox import Limits, Sandbox
from multiagent_codeact.scripted import ChatRequest, Reply, Script, ScriptedModelServer
from multiagent_codeact.verify.inputs import find_signature, generate_inputs, seed_args
from multiagent_codeact.verify.testcases import examples_from_prompt

KEY_ENV = "MCA_BENCH_KEY"
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Case:
    name: str
    why_slow: str
    prompt: str
    entry: str
    examples: list[str]
    code: str
    offers: list[tuple[str, str]]  # (label, code), in the order the scripted agent offers them


CASES = [
    Case(
        "count_pairs", "quadratic",
        "Write `def count_pairs(xs: list[int]) -> int`: the number of pairs i < j with "
        "xs[i] == xs[j].",
        "count_pairs",
        ["assert count_pairs([1, 1, 2]) == 1", "assert count_pairs([3, 3, 3, 0]) == 3"],
        "def count_pairs(xs):\n    n = 0\n    for i in range(len(xs)):\n"
        "        for j in range(i + 1, len(xs)):\n            n += xs[i] == xs[j]\n    return n\n",
        [
            ("wrong-faster", "def count_pairs(xs):\n    return len(xs) - len(set(xs))\n"),
            ("correct-faster", "from collections import Counter\n\ndef count_pairs(xs):\n"
             "    return sum(c * (c - 1) // 2 for c in Counter(xs).values())\n"),
        ],
    ),
    Case(
        "common", "quadratic",
        "Write `def common(a: list[int], b: list[int]) -> list[int]`: the elements of a that "
        "also occur in b, in a's order.",
        "common",
        ["assert common([1, 2, 3, 2], [2, 3]) == [2, 3, 2]", "assert common([], [1]) == []"],
        "def common(a, b):\n    return [x for x in a if x in b]\n",
        [("correct-faster", "def common(a, b):\n    seen = set(b)\n"
          "    return [x for x in a if x in seen]\n")],
    ),
    Case(
        "fib", "naive recursion",
        "Write `def fib(n: int) -> int`: the n-th Fibonacci number, fib(0) = 0, fib(1) = 1.",
        "fib",
        ["assert fib(0) == 0", "assert fib(1) == 1", "assert fib(10) == 55"],
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
        [
            ("slower", "def fib(n):\n    if n < 2:\n        return n\n"
             "    return sum([fib(n - 1), fib(n - 2)])\n"),
            ("wrong-faster", "def fib(n):\n    a, b = 1, 1\n    for _ in range(n):\n"
             "        a, b = b, a + b\n    return a\n"),
            ("correct-faster", "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n"
             "        a, b = b, a + b\n    return a\n"),
        ],
    ),
    Case(
        "running_sums", "repeated work",
        "Write `def running_sums(xs: list[int]) -> list[int]`: the prefix sums of xs.",
        "running_sums",
        ["assert running_sums([1, 2, 3]) == [1, 3, 6]", "assert running_sums([]) == []"],
        "def running_sums(xs):\n    return [sum(xs[: i + 1]) for i in range(len(xs))]\n",
        [("correct-faster", "from itertools import accumulate\n\ndef running_sums(xs):\n"
          "    return list(accumulate(xs))\n")],
    ),
    Case(
        "dedupe", "quadratic",
        "Write `def dedupe(xs: list[int]) -> list[int]`: xs without repeats, first occurrences "
        "kept, in order.",
        "dedupe",
        ["assert dedupe([3, 1, 3, 2, 1]) == [3, 1, 2]", "assert dedupe([]) == []"],
        "def dedupe(xs):\n    out = []\n    for x in xs:\n        if x not in out:\n"
        "            out.append(x)\n    return out\n",
        [
            ("wrong-faster", "def dedupe(xs):\n    return sorted(set(xs))\n"),
            ("correct-faster", "def dedupe(xs):\n    return list(dict.fromkeys(xs))\n"),
        ],
    ),
    Case(
        "max_subarray", "cubic",
        "Write `def max_subarray(xs: list[int]) -> int`: the largest sum of a non-empty run of "
        "consecutive elements.",
        "max_subarray",
        ["assert max_subarray([-2, 1, -3, 4, -1, 2, 1, -5, 4]) == 6",
         "assert max_subarray([-3, -1]) == -1"],
        "def max_subarray(xs):\n    best = xs[0]\n    for i in range(len(xs)):\n"
        "        for j in range(i, len(xs)):\n            best = max(best, sum(xs[i : j + 1]))\n"
        "    return best\n",
        [
            ("slower", "def max_subarray(xs):\n    return max(sum(xs[i : j + 1]) for i in "
             "range(len(xs)) for j in range(i, len(xs)) if sorted(xs[i : j + 1]) is not None)\n"),
            ("correct-faster", "def max_subarray(xs):\n    best = cur = xs[0]\n"
             "    for x in xs[1:]:\n        cur = max(x, cur + x)\n        best = max(best, cur)\n"
             "    return best\n"),
        ],
    ),
    Case(
        "count_vowels", "repeated work",
        "Write `def count_vowels(s: str) -> int`: how many characters of s are vowels (aeiou, "
        "either case).",
        "count_vowels",
        ["assert count_vowels('Hello World') == 3", "assert count_vowels('') == 0"],
        "def count_vowels(s):\n    n = 0\n    for c in s:\n"
        "        if c in list('aeiou') + [v.upper() for v in 'aeiou']:\n            n += 1\n"
        "    return n\n",
        [
            ("wrong-faster", "def count_vowels(s):\n    return sum(map(s.count, 'aeiou'))\n"),
            (
                "correct-faster",
                "def count_vowels(s):\n    return sum(map(s.count, 'aeiouAEIOU'))\n",
            ),
        ],
    ),
    Case(
        "nth_prime", "naive trial division (only a slower rewrite offered)",
        "Write `def nth_prime(n: int) -> int`: the n-th prime, nth_prime(1) = 2.",
        "nth_prime",
        ["assert nth_prime(1) == 2", "assert nth_prime(5) == 11"],
        "def nth_prime(n):\n    count, k = 0, 1\n    while count < n:\n        k += 1\n"
        "        if all(k % d for d in range(2, k)):\n            count += 1\n    return k\n",
        [("slower", "def nth_prime(n):\n    count, k = 0, 1\n    while count < n:\n"
          "        k += 1\n        if all([k % d for d in range(2, k)]):\n"
          "            count += 1\n    return k\n")],
    ),
    Case(
        "total", "already fast (left alone, no model call)",
        "Write `def total(xs: list[int]) -> int`: the sum of xs.",
        "total",
        ["assert total([1, 2, 3]) == 6", "assert total([]) == 0"],
        "def total(xs):\n    return sum(xs)\n",
        [("correct-faster", "def total(xs):\n    return sum(xs)  # never asked for\n")],
    ),
]  # fmt: skip


# -- cases as the benchmark runs them ---------------------------------------------------------

OFFER_KINDS = ("right", "wrong", "same", "slower", "gaming")
NOT_FASTER = ("same", "slower", "gaming")  # correct, but keeping one is no speedup
ORIGINAL_KINDS = {"correct-faster": "right", "wrong-faster": "wrong", "slower": "slower"}
SETS = ("original", "dev", "holdout")
CASE_KEYS = {
    "name", "cls", "why_slow", "prompt", "entry", "examples", "code", "offers", "traps",
    "big_traps", "oracle", "force_ask", "fresh", "tol",
}  # fmt: skip


@dataclass(frozen=True)
class Offer:
    kind: str  # one of OFFER_KINDS
    label: str  # what the rewrite does, in a few words
    code: str


@dataclass(frozen=True)
class BenchCase:
    name: str
    cls: str
    split: str
    why_slow: str
    prompt: str
    entry: str
    examples: list[str]
    code: str
    offers: list[Offer]
    traps: list[tuple[Any, ...]] = field(default_factory=list)
    big_traps: list[tuple[Any, ...]] = field(default_factory=list)  # the oracle answers these
    oracle: str | None = None
    force_ask: bool = False  # ask for rewrites even when the optimizer would call it fast
    fresh: str | None = None  # an expression giving distinct large inputs, for a fair timing
    tol: float = 1e-9
    small_ints: int | None = None  # keep integer inputs this small (slow originals)

    @property
    def near_optimal(self) -> bool:
        return self.cls == "near-optimal"

    def offered(self, index: int) -> str:
        o = self.offers[index]
        return f"#{index + 1} {o.kind}" + (f" ({o.label})" if o.label else "")


def from_original(case: Case) -> BenchCase:
    """One of the nine original cases, unchanged, in the form the benchmark runs."""
    offers = [
        # `total` is left alone without a model call; its "rewrite" is the same code.
        Offer("same" if case.name == "total" else ORIGINAL_KINDS[label], label, code)
        for label, code in case.offers
    ]
    return BenchCase(
        name=case.name,
        cls="near-optimal" if case.name == "total" else "original",
        split="original",
        why_slow=case.why_slow,
        prompt=case.prompt,
        entry=case.entry,
        examples=case.examples,
        code=case.code,
        offers=offers,
        small_ints=18 if case.entry in ("fib", "nth_prime") else None,
    )


def from_data(data: dict[str, Any], split: str) -> BenchCase:
    unknown = set(data) - CASE_KEYS
    if unknown:
        raise ValueError(f"case {data.get('name')!r}: unknown keys {sorted(unknown)}")
    offers = [Offer(kind, label, code) for kind, label, code in data["offers"]]
    for o in offers:
        if o.kind not in OFFER_KINDS:
            raise ValueError(f"case {data['name']!r}: offer kind {o.kind!r} not in {OFFER_KINDS}")
    if data.get("big_traps") and not data.get("oracle"):
        raise ValueError(f"case {data['name']!r}: big_traps need an oracle")
    return BenchCase(
        name=data["name"],
        cls=data["cls"],
        split=split,
        why_slow=data["why_slow"],
        prompt=data["prompt"],
        entry=data["entry"],
        examples=list(data.get("examples", [])),
        code=data["code"],
        offers=offers,
        traps=[tuple(t) for t in data.get("traps", [])],
        big_traps=[tuple(t) for t in data.get("big_traps", [])],
        oracle=data.get("oracle"),
        force_ask=bool(data.get("force_ask", False)),
        fresh=data.get("fresh"),
        tol=float(data.get("tol", 1e-9)),
    )


def case_set(name: str) -> list[BenchCase]:
    if name == "original":
        return [from_original(c) for c in CASES]
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    module = importlib.import_module(f"optimizer_cases_{name}")
    return [from_data(d, name) for d in module.CASES]


def select_cases(tokens: list[str]) -> list[BenchCase]:
    """Cases for `--cases`: set names (original, dev, holdout, all) and case names, in order."""
    sets = {name: case_set(name) for name in SETS}
    by_name = {c.name: c for cases in sets.values() for c in cases}
    chosen: list[BenchCase] = []
    for token in tokens:
        if token == "all":
            picked = [c for name in SETS for c in sets[name]]
        elif token in sets:
            picked = sets[token]
        elif token in by_name:
            picked = [by_name[token]]
        else:
            raise SystemExit(
                f"optimizer.py: unknown case or set {token!r}; sets: {', '.join(SETS)}, all"
            )
        chosen += [c for c in picked if c not in chosen]
    names = Counter(c.name for c in chosen)
    dupes = [n for n, k in names.items() if k > 1]
    if dupes:
        raise SystemExit(f"optimizer.py: case names used twice: {', '.join(dupes)}")
    return chosen


def task_of(case: BenchCase) -> Task:
    return Task(prompt=case.prompt, entry_point=case.entry, examples=case.examples)


def reply(code: str) -> str:
    return f"## Explanation\nFaster.\n\n## Code\n```python\n{code}```\n"


# -- the scripted optimizer agent -----------------------------------------------------------


class OfferScript:
    """Answers a case's rewrite requests: the n-th request (in arrival order; one server per
    case run) gets the n-th offer, and the original code once the offers run out, which the
    optimizer rejects as unchanged. Requests from other roles go unanswered (a 500 that says
    so), so an unexpected model call shows instead of being answered with a rewrite."""

    def __init__(self, case: BenchCase) -> None:
        self.case = case
        self.lock = threading.Lock()
        self.asked = 0
        self.messages: list[dict[str, Any]] = []

    def __call__(self, request: ChatRequest) -> Reply | None:
        if request.role != "optimizer":
            return None
        with self.lock:
            index = self.asked
            self.asked += 1
            self.messages.append(
                {
                    "index": index,
                    "history": len(request.messages),
                    "message": request.last_user[:2000],
                }
            )
        offers = self.case.offers
        return Reply(content=reply(offers[index].code if index < len(offers) else self.case.code))


@dataclass
class Rejected:
    offer: int | None  # index into the case's offers; None when the code matches none
    kind: str
    reason: str
    speedup: float | None


@dataclass
class RunResult:
    case: BenchCase
    report: OptimizationReport
    asked: int  # rewrite requests the scripted agent answered
    calls: int  # every request the server got
    accepted: int | None  # offer index kept; None: the original stays; -1: unknown code
    rejected: list[Rejected]
    messages: list[dict[str, Any]]
    seconds: float

    @property
    def before_s(self) -> float:
        return self.report.time_before_s or 0.0

    @property
    def after_s(self) -> float:
        r = self.report
        return r.time_after_s if r.accepted and r.time_after_s else self.before_s

    @property
    def kept_kind(self) -> str | None:
        if self.accepted is None:
            return None
        if self.accepted < 0:
            return "unknown"
        return self.case.offers[self.accepted].kind

    @property
    def wrong_kept(self) -> bool:
        return self.kept_kind in ("wrong", "unknown")

    @property
    def regression(self) -> bool:
        return self.kept_kind in NOT_FASTER


def offer_index(case: BenchCase, code: str | None) -> int | None:
    if code is None:
        return None
    for i, o in enumerate(case.offers):
        if o.code.strip() == code.strip():
            return i
    return -1


async def run_case(sandbox: Sandbox, case: BenchCase, config: OptimizerConfig) -> RunResult:
    started = time.perf_counter()
    script = OfferScript(case)
    clients = []
    async with ScriptedModelServer(Script(handler=script)) as server:
        model = ModelConfig(
            model="scripted-optimizer", base_url=server.base_url, api_key_env=KEY_ENV
        )

        def factory() -> Any:
            clients.append(make_client(model, agent="optimizer"))
            return clients[-1]

        update: dict[str, Any] = {"max_rewrites": max(1, len(case.offers))}
        if case.force_ask:
            update["time_budget_s"] = 1e-9  # never "already fast": the rewrites get asked for
        try:
            report = await optimize(
                task_of(case),
                case.code,
                sandbox=sandbox,
                client_factory=factory,
                config=config.model_copy(update=update),
            )
        except Exception as exc:  # the benchmark goes on; the row says what happened
            report = OptimizationReport(
                status="failed", reason=f"optimize() raised {type(exc).__name__}: {exc}"
            )
        for c in clients:
            await c.close()
        calls = len(server.requests)
    accepted = offer_index(case, report.code) if report.accepted else None
    rejected = []
    for r in report.rejected:
        index = offer_index(case, r.code)
        if index is None and 0 < r.attempt <= len(case.offers):
            index = r.attempt - 1  # no usable code: the attempt number says which
        rejected.append(Rejected(index if index != -1 else None, r.kind, r.reason, r.speedup))
    return RunResult(
        case=case,
        report=report,
        asked=script.asked,
        calls=calls,
        accepted=accepted,
        rejected=rejected,
        messages=script.messages,
        seconds=time.perf_counter() - started,
    )


# -- the label check: strict, independent of the optimizer's own checks --------------------

STRICT_JOB = r"""
import copy, json, math, signal, sys

if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout


signal.signal(signal.SIGALRM, _alarm)


def _enc(v, depth=0):
    t = type(v)
    if depth > 40:
        return ["deep"]
    if v is None:
        return ["None"]
    if t is bool or t is int or t is str:
        return [t.__name__, v]
    if t is float:
        return ["float", v if math.isfinite(v) else repr(v)]
    if isinstance(v, (list, tuple)):
        return ["seq", t.__name__, [_enc(x, depth + 1) for x in v]]
    if isinstance(v, dict):
        return ["map", t.__name__, [[_enc(k, depth + 1), _enc(x, depth + 1)] for k, x in v.items()]]
    if isinstance(v, (set, frozenset)):
        items = [_enc(x, depth + 1) for x in v]
        items.sort(key=lambda e: json.dumps(e, sort_keys=True))
        return ["set", t.__name__, items]
    if isinstance(v, (bytes, bytearray)):
        return ["bytes", t.__name__, list(v)]
    return ["obj", t.__name__]


_ns = {"__name__": "__candidate__"}
exec(compile(CODE, "<candidate>", "exec"), _ns)
_fn = _ns[ENTRY]
_out = []
for _args in INPUTS:
    _before = json.dumps(_enc(_args))
    _call = copy.deepcopy(_args)
    signal.setitimer(signal.ITIMER_REAL, LIMIT)
    try:
        _res = ["value", _enc(_fn(*_call))]
    except _Timeout:
        _res = ["timeout", None]
    except Exception as _e:
        _res = ["raised", type(_e).__name__]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    _res.append(json.dumps(_enc(_call)) == _before)
    _out.append(_res)
result = _out
"""

FRESH_JOB = r"""
import copy, time

_progs = []
for _code in CODES:
    _ns = {"__name__": "__candidate__"}
    exec(compile(_code, "<candidate>", "exec"), _ns)
    _progs.append(_ns[ENTRY])
_inputs = eval(FRESH)
_totals = [0.0] * len(_progs)
for _args in _inputs:  # every input is new to every program: a cache across calls cannot help
    for _p, _fn in enumerate(_progs):
        _call = copy.deepcopy(_args)
        _t = time.perf_counter()
        _fn(*_call)
        _totals[_p] += time.perf_counter() - _t
result = _totals
"""


@dataclass
class OfferCheck:
    index: int
    differs: str | None  # the first difference from the original, if any
    where: str | None  # "gen": on inputs drawn like the optimizer's; "trap": on trap inputs only
    mutates: bool
    fresh_speedup: float | None = None  # original's time / offer's, every input new

    def verdict(self, kind: str) -> tuple[bool, str]:
        """(behaves as labelled, short text)."""
        tag = f"#{self.index + 1}"
        if kind == "wrong":
            if self.differs is None:
                return False, f"{tag} NO DIFFERENCE FOUND"
            return True, f"{tag} {self.where}" + (" mut" if self.mutates else "")
        if self.differs is not None:
            return False, f"{tag} DIFFERS: {self.differs}"
        text = f"{tag} eq"
        if self.fresh_speedup is not None:
            text += f" {self.fresh_speedup:.2f}x fresh"
        return True, text


@dataclass
class CaseCheck:
    offers: list[OfferCheck]
    problems: list[str]
    n_gen: int
    n_trap: int


def check_inputs(case: BenchCase, n: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Inputs drawn the way the optimizer draws them (its shapes; another seed), and the trap
    inputs with more drawn in their shape."""
    sources = [*case.examples, *examples_from_prompt(case.prompt, case.entry)]
    seeds = seed_args(case.entry, sources)
    signature = find_signature(case.entry, [case.prompt, case.code])
    gen = generate_inputs(signature, seeds, n=n, seed=12345)
    trap = list(case.traps)
    if case.traps:
        trap += generate_inputs(signature, case.traps, n=max(n // 2, 1), seed=4242)
    if case.small_ints is not None:
        limit = case.small_ints

        def small(args: tuple[Any, ...]) -> bool:
            return all(not isinstance(x, int) or 0 <= x <= limit for x in args)

        gen, trap = [a for a in gen if small(a)], [a for a in trap if small(a)]
    seen = {repr(a) for a in gen}
    return gen, [a for a in trap if repr(a) not in seen]


async def strict_run(
    sandbox: Sandbox, code: str, entry: str, inputs: list[tuple[Any, ...]]
) -> list[list[Any]] | str:
    """Each call's outcome, [kind, encoded value or exception type, argument unchanged], or why
    the job failed."""
    job = f"CODE = {code!r}\nENTRY = {entry!r}\nINPUTS = {inputs!r}\nLIMIT = 5.0\n" + STRICT_JOB
    r = await sandbox.arun(job, limits=sandbox.limits.model_copy(update={"timeout_s": 300}))
    if not r.ok or not isinstance(r.result, list) or len(r.result) != len(inputs):
        err = f"{r.error.type}: {r.error.message}" if r.error else (r.stderr[-300:] or "no result")
        return f"the check job failed: {err}"
    return r.result


def same_encoded(a: Any, b: Any, tol: float) -> bool:
    if not (isinstance(a, list) and isinstance(b, list)) or not a or a[0] != b[0]:
        return bool(a == b)
    tag = a[0]
    if tag == "float":
        x, y = a[1], b[1]
        if isinstance(x, str) or isinstance(y, str):
            return bool(x == y)
        return math.isclose(x, y, rel_tol=tol, abs_tol=tol)
    if tag in ("seq", "set", "map", "bytes"):
        if a[1] != b[1] or len(a[2]) != len(b[2]):
            return False
        return all(same_encoded(x, y, tol) for x, y in zip(a[2], b[2], strict=True))
    if tag == "obj":
        return bool(a[1] == b[1])
    # A [key, value] pair of a map's items, or a scalar: compare element-wise.
    return len(a) == len(b) and all(
        same_encoded(x, y, tol) if isinstance(x, list) else x == y
        for x, y in zip(a, b, strict=True)
    )


def show_encoded(e: Any, limit: int = 60) -> str:
    text = _shown(e)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown(e: Any) -> str:
    tag = e[0] if isinstance(e, list) and e else None
    if tag in ("int", "bool", "str", "float"):
        return repr(e[1]) if not isinstance(e[1], str) or tag == "str" else e[1]
    if tag == "None":
        return "None"
    if tag == "seq":
        items = ", ".join(_shown(x) for x in e[2])
        if e[1] == "list":
            return f"[{items}]"
        if e[1] == "tuple":
            return f"({items}{',' if len(e[2]) == 1 else ''})"
        return f"{e[1]}([{items}])"
    if tag == "set":
        items = ", ".join(_shown(x) for x in e[2])
        return f"{{{items}}}" if e[1] == "set" and items else f"{e[1]}({{{items}}})"
    if tag == "map":
        items = ", ".join(f"{_shown(k)}: {_shown(x)}" for k, x in e[2])
        return f"{{{items}}}" if e[1] == "dict" else f"{e[1]}({{{items}}})"
    if tag == "bytes":
        return repr(bytes(e[2]))
    if tag == "obj":
        return f"<{e[1]} object>"
    return "..."


def describe(outcome: list[Any]) -> str:
    kind, value, _ = outcome
    if kind == "value":
        return show_encoded(value)
    if kind == "raised":
        return f"raises {value}"
    return "no answer in 5 s"


def first_difference(
    ref: list[list[Any]], got: list[list[Any]], inputs: list[tuple[Any, ...]], tol: float
) -> str | None:
    for args, a, b in zip(inputs, ref, got, strict=True):
        if a[0] == "timeout":
            continue
        shown = ", ".join(repr(x) for x in args)
        shown = shown if len(shown) <= 50 else shown[:47] + "..."
        same = a[0] == b[0] and (a[1] == b[1] if a[0] != "value" else same_encoded(a[1], b[1], tol))
        if not same:
            return f"f({shown}): {describe(a)} vs {describe(b)}"
        if a[2] != b[2]:
            return f"f({shown}): {'changes' if not b[2] else 'keeps'} its argument"
    return None


async def check_labels(sandbox: Sandbox, case: BenchCase, n: int) -> CaseCheck:
    """Run the original and every offer strictly on generated and trap inputs."""
    gen, trap = await asyncio.to_thread(check_inputs, case, n)
    inputs = gen + trap + case.big_traps
    small = gen + trap
    programs = [o.code for o in case.offers]
    jobs = [strict_run(sandbox, case.code, case.entry, small)]
    jobs += [strict_run(sandbox, code, case.entry, inputs) for code in programs]
    if case.oracle:
        jobs.append(strict_run(sandbox, case.oracle, case.entry, inputs))
    done = await asyncio.gather(*jobs)
    problems = [f"{case.name}: {r}" for r in done if isinstance(r, str)]
    runs = [r for r in done if not isinstance(r, str)]
    if problems:
        return CaseCheck([], problems, len(gen), len(trap))
    ref = list(runs[0])
    if case.oracle:
        oracle = runs[-1]
        wrong = first_difference(ref, oracle[: len(small)], small, case.tol)
        if wrong:
            problems.append(f"{case.name}: the oracle departs from the original: {wrong}")
        ref += oracle[len(small) :]
    checks = []
    for i, (offer, outs) in enumerate(zip(case.offers, runs[1 : 1 + len(programs)], strict=True)):
        on_gen = first_difference(ref[: len(gen)], outs[: len(gen)], gen, case.tol)
        on_rest = first_difference(ref[len(gen) :], outs[len(gen) :], inputs[len(gen) :], case.tol)
        mutates = any(not o[2] for o in outs)
        check = OfferCheck(
            index=i,
            differs=on_gen or on_rest,
            where="gen" if on_gen else ("trap" if on_rest else None),
            mutates=mutates,
        )
        ok, text = check.verdict(offer.kind)
        if not ok:
            problems.append(f"{case.name} {case.offered(i)}: {text}")
        checks.append(check)
    if case.fresh:
        times = await fresh_times(sandbox, case, [case.code, *programs])
        if isinstance(times, str):
            problems.append(f"{case.name}: {times}")
        else:
            for check in checks:
                t = times[1 + check.index]
                check.fresh_speedup = times[0] / t if t > 0 else None
    return CaseCheck(checks, problems, len(gen), len(trap))


async def fresh_times(sandbox: Sandbox, case: BenchCase, codes: list[str]) -> list[float] | str:
    """Each program's total time over the case's fresh inputs, every input new to it."""
    job = f"CODES = {codes!r}\nENTRY = {case.entry!r}\nFRESH = {case.fresh!r}\n" + FRESH_JOB
    r = await sandbox.arun(job, limits=sandbox.limits.model_copy(update={"timeout_s": 120}))
    if not r.ok or not isinstance(r.result, list):
        err = f"{r.error.type}: {r.error.message}" if r.error else "no result"
        return f"the fresh-input timing failed: {err}"
    return [float(t) for t in r.result]


# -- the report -----------------------------------------------------------------------------


@dataclass
class CaseResult:
    case: BenchCase
    runs: list[RunResult]
    check: CaseCheck | None

    @property
    def right_offered(self) -> bool:
        return any(o.kind == "right" for o in self.case.offers)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _counted(values: list[str]) -> str:
    counts = Counter(values)
    if len(counts) == 1 and len(values) == 1:
        return values[0]
    return ", ".join(f"{v} ×{k}" if len(values) > 1 else v for v, k in counts.items())


def _accepted_text(run: RunResult) -> str:
    r = run.report
    if run.accepted is None:
        if r.status == "already_fast":
            return "original (already fast, not asked)"
        if r.status in ("failed", "not_profiled"):
            return f"original ({r.status})"
        return "original kept"
    if run.accepted < 0:
        return "UNKNOWN CODE"
    kind = run.case.offers[run.accepted].kind
    text = f"#{run.accepted + 1} {kind}"
    return text.upper() if kind == "wrong" or kind in NOT_FASTER else text


def _rejections_text(result: CaseResult, limit: int) -> str:
    case = result.case
    parts: list[str] = []
    if len(result.runs) == 1:
        run = result.runs[0]
        for rej in run.rejected:
            tag = (
                f"#{rej.offer + 1} {case.offers[rej.offer].kind}" if rej.offer is not None else "?"
            )
            speed = f" {rej.speedup:.2f}x" if rej.speedup else ""
            parts.append(f"{tag}: {rej.kind}{speed}: {_short(rej.reason, limit)}")
        if run.report.status in ("failed", "not_profiled"):
            parts.append(_short(run.report.reason, limit))
        return "\n".join(parts) or "-"
    # Repeated runs: per offer, how often each rejection kind came up, and the speedups seen.
    by_offer: dict[int | None, list[Rejected]] = {}
    for run in result.runs:
        for rej in run.rejected:
            by_offer.setdefault(rej.offer, []).append(rej)
    for index, rejs in sorted(by_offer.items(), key=lambda kv: -1 if kv[0] is None else kv[0]):
        tag = f"#{index + 1} {case.offers[index].kind}" if index is not None else "?"
        kinds = ", ".join(f"{k} ×{n}" for k, n in Counter(r.kind for r in rejs).items())
        speeds = [r.speedup for r in rejs if r.speedup]
        seen = f" ({min(speeds):.2f}-{max(speeds):.2f}x)" if speeds else ""
        parts.append(f"{tag}: {kinds}{seen}: {_short(rejs[0].reason, limit)}")
    return "\n".join(parts) or "-"


def _label_text(result: CaseResult) -> str:
    if result.check is None:
        return "-"
    if not result.check.offers:
        return "FAILED: " + "; ".join(result.check.problems)
    texts = [c.verdict(result.case.offers[c.index].kind)[1] for c in result.check.offers]
    return "\n".join(texts)


def _speedups(result: CaseResult) -> str:
    values = [r.report.speedup for r in result.runs if r.accepted is not None and r.report.speedup]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f}x"
    return f"{min(values):.2f}-{max(values):.2f}x"


def print_table(
    console: Console,
    title: str,
    headers: list[str],
    rows: list[list[str]],
    *,
    markdown: bool,
    lines: bool = False,
) -> None:
    """A rich table, or a Markdown one (a row per line, a cell's lines joined by "; ")."""
    if markdown:

        def cell(text: str) -> str:
            return "; ".join(text.splitlines()).replace("|", "\\|")

        out = [f"**{title}**", "", "| " + " | ".join(headers) + " |"]
        out.append("|" + "|".join(" --- " for _ in headers) + "|")
        out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
        console.print("\n".join([*out, ""]), markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title=title, show_lines=lines)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(Text(c) for c in row))  # data, not markup: `[x]` stays
    console.print(table)


def render(
    results: list[CaseResult],
    console: Console,
    elapsed: float,
    reason_chars: int,
    *,
    markdown: bool = False,
) -> dict[str, Any]:
    headers = ["case", "set", "class", "offered, in order", "asked", "kept", "wrong kept",
               "speedup", "rejected: check, speedup, reason", "label check"]  # fmt: skip
    rows = []
    for res in results:
        c = res.case
        runs = res.runs
        wrong = sum(r.wrong_kept for r in runs)
        regress = sum(r.regression for r in runs)
        if c.near_optimal:
            flag = f"REGRESSION {regress}/{len(runs)}" if regress else f"no (0/{len(runs)})"
        else:
            flag = f"YES {wrong}/{len(runs)}" if wrong else "no"
        cells = [
            c.name + (" (forced ask)" if c.force_ask else ""),
            c.split,
            c.cls,
            "\n".join(c.offered(i) for i in range(len(c.offers))),
            _counted([str(r.asked) for r in runs]),
            _counted([_accepted_text(r) for r in runs]),
            flag,
            _speedups(res),
            _rejections_text(res, reason_chars),
            _label_text(res),
        ]
        rows.append(cells)
    print_table(
        console,
        "Optimizer on correct but slow solutions: equivalence traps and near-optimal code "
        "(scripted agent, real checks)",
        headers,
        rows,
        markdown=markdown,
        lines=True,
    )
    console.print(
        "label check: gen = the wrong rewrite differs from the original on inputs drawn the way "
        "the optimizer draws them (another seed), trap = only on the case's trap inputs; mut = "
        "it changes its argument; eq = no difference found (N.NNx fresh: original's time over "
        "the rewrite's on large inputs, each new to both)",
        markup=False,
        soft_wrap=True,
    )
    return summarize(results, console, elapsed, markdown=markdown)


def _names(runs: list[RunResult]) -> str:
    counts = Counter(f"{r.case.name} {_accepted_text(r)}" for r in runs)
    return ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in counts.items())


def _wrong_asked(results: list[CaseResult]) -> int:
    return sum(
        res.case.offers[i].kind == "wrong"
        for res in results
        for r in res.runs
        for i in range(min(r.asked, len(res.case.offers)))
    )


def summarize(
    results: list[CaseResult], console: Console, elapsed: float, *, markdown: bool = False
) -> dict[str, Any]:
    runs = [r for res in results for r in res.runs]
    traps = [res for res in results if not res.case.near_optimal]
    near = [res for res in results if res.case.near_optimal]
    wrong_scripted = sum(o.kind == "wrong" for res in results for o in res.case.offers)
    wrong_asked = _wrong_asked(results)
    kept_wrong = [r for r in runs if r.wrong_kept]
    right_runs = [r for res in traps if res.right_offered for r in res.runs]
    right_kept = sum(r.kept_kind == "right" for r in right_runs)
    near_runs = [r for res in near for r in res.runs]
    regressions = [r for r in near_runs if r.regression]
    slower_kept = [r for res in traps for r in res.runs if r.regression]
    # Strict correctness of the final code: the original, or an offer the label check found
    # equivalent (a wrong offer, or code matching no offer, counts as broken).
    equivalent: dict[str, set[int]] = {
        res.case.name: {c.index for c in res.check.offers if c.differs is None}
        for res in results
        if res.check is not None and res.check.offers
    }
    broken = [
        r.case.name
        for r in runs
        if r.accepted is not None
        and (
            r.accepted not in equivalent[r.case.name]
            if r.case.name in equivalent
            else r.wrong_kept  # no label check ran: go by the label
        )
    ]
    # %Opt per case (a repeated case counts once, by the share of its runs).
    opt = sum(
        statistics.fmean(r.report.accepted and (r.report.speedup or 0) >= 1.1 for r in res.runs)
        for res in results
        if res.runs
    )
    before = sum(statistics.fmean(r.before_s for r in res.runs) for res in results if res.runs)
    after = sum(statistics.fmean(r.after_s for r in res.runs) for res in results if res.runs)
    # The original set is kept as it was: what the label check finds there is a note.
    problems = [
        p
        for res in results
        if res.check and res.case.split != "original"
        for p in res.check.problems
    ]
    notes = [
        p
        for res in results
        if res.check and res.case.split == "original"
        for p in res.check.problems
    ]
    share = right_kept / len(right_runs) if right_runs else None
    summary: dict[str, Any] = {
        "cases": len(results),
        "runs": len(runs),
        "wrong_rewrites_scripted": wrong_scripted,
        "wrong_rewrites_asked": wrong_asked,
        "wrong_rewrites_kept": len(kept_wrong),
        "wrong_kept": [f"{r.case.name} #{(r.accepted or 0) + 1}" for r in kept_wrong],
        "right_offered_runs": len(right_runs),
        "right_kept_runs": right_kept,
        "right_kept_share": share,
        "near_optimal_runs": len(near_runs),
        "near_optimal_regressions": len(regressions),
        "regressions": [f"{r.case.name} #{(r.accepted or 0) + 1}" for r in regressions],
        "not_faster_kept_elsewhere": len(slower_kept),
        "pass_to_fail": len(broken),
        "correctness_kept": len(runs) - len(broken),
        "pct_opt": 100.0 * opt / len(results) if results else 0.0,
        "optimized": opt,
        "time_before_s": before,
        "time_after_s": after,
        "speedup_net": before / after if after else None,
        "rewrite_requests": sum(r.asked for r in runs),
        "model_calls": sum(r.calls for r in runs),
        "label_problems": problems,
        "label_notes": notes,
        "seconds": elapsed,
    }
    class_rows = []
    for cls in sorted({res.case.cls for res in results}):
        rs = [res for res in results if res.case.cls == cls]
        rruns = [r for res in rs for r in res.runs]
        offered = [r for res in rs if res.right_offered for r in res.runs]
        kept_right = sum(r.kept_kind == "right" for r in offered)
        class_rows.append([
            cls,
            str(len(rs)),
            str(len(rruns)),
            str(_wrong_asked(rs)),
            str(sum(r.wrong_kept for r in rruns)),
            f"{kept_right}/{len(offered)}" if offered else "-",
            str(sum(r.regression for r in rruns)),
        ])  # fmt: skip
    headers = ["class", "cases", "runs", "wrong asked", "wrong kept", "right kept / offered",
               "not faster kept"]  # fmt: skip
    print_table(console, "By class", headers, class_rows, markdown=markdown)
    lines = [
        f"Wrong rewrites kept: {len(kept_wrong)} (target 0); {wrong_asked} wrong rewrites asked "
        f"for, of {wrong_scripted} scripted" + (f": {_names(kept_wrong)}" if kept_wrong else ""),
        (
            f"Correct rewrites kept: {right_kept}/{len(right_runs)} runs that offer one = "
            f"{100 * share:.1f}% (target >= 90%)"
            if share is not None
            else "Correct rewrites kept: - (no case offers one)"
        ),
        f"Regressions on near-optimal code: {len(regressions)} in {len(near_runs)} runs of "
        f"{len(near)} cases (target 0)" + (f": {_names(regressions)}" if regressions else ""),
    ]
    if slower_kept:
        lines.append(f"Not-faster rewrites kept in other cases: {_names(slower_kept)}")
    lines += [
        f"Correctness kept (strict check of the final code): {len(runs) - len(broken)}/"
        f"{len(runs)} runs (pass→fail: {len(broken)})",
        f"%Opt (≥1.1x faster): {summary['pct_opt']:.1f}% ({opt:g}/{len(results)} cases)",
        f"Speedup, summed execution time before / after (NET style): {before * 1000:.1f} ms / "
        f"{after * 1000:.1f} ms = "
        + (f"{summary['speedup_net']:.2f}x" if summary["speedup_net"] else "-"),
        f"Rewrite requests: {summary['rewrite_requests']}; model calls: "
        f"{summary['model_calls']}; wall time {elapsed:.1f} s",
    ]
    if problems:
        lines.append("Label check PROBLEMS (the benchmark's own labels are wrong):")
        lines += [f"  {p}" for p in problems]
    if notes:
        lines.append("Label check notes on the original set (kept unchanged):")
        lines += [f"  {p}" for p in notes]
    console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)
    return summary


def rows_json(results: list[CaseResult]) -> list[dict[str, Any]]:
    rows = []
    for res in results:
        for n, r in enumerate(res.runs):
            rows.append(
                {
                    "case": res.case.name,
                    "set": res.case.split,
                    "class": res.case.cls,
                    "run": n + 1,
                    "offered": [o.kind for o in res.case.offers],
                    "status": r.report.status,
                    "asked": r.asked,
                    "model_calls": r.calls,
                    "accepted": None if r.accepted is None else r.accepted + 1,
                    "accepted_kind": r.kept_kind,
                    "wrong_kept": r.wrong_kept,
                    "regression": r.regression,
                    "speedup": r.report.speedup,
                    "before_s": r.before_s,
                    "after_s": r.after_s,
                    "rejected": [
                        {
                            "offer": None if x.offer is None else x.offer + 1,
                            "kind": x.kind,
                            "reason": x.reason,
                            "speedup": x.speedup,
                        }
                        for x in r.rejected
                    ],
                    "requests": r.messages,
                    "seconds": r.seconds,
                }
            )
    return rows


def checks_json(results: list[CaseResult]) -> list[dict[str, Any]]:
    out = []
    for res in results:
        if res.check is None:
            continue
        out.append(
            {
                "case": res.case.name,
                "generated_inputs": res.check.n_gen,
                "trap_inputs": res.check.n_trap,
                "problems": res.check.problems,
                "offers": [
                    {
                        "offer": c.index + 1,
                        "kind": res.case.offers[c.index].kind,
                        "label": res.case.offers[c.index].label,
                        "differs": c.differs,
                        "where": c.where,
                        "mutates": c.mutates,
                        "fresh_speedup": c.fresh_speedup,
                    }
                    for c in res.check.offers
                ],
            }
        )
    return out


# -- running --------------------------------------------------------------------------------


async def main_async(args: argparse.Namespace) -> int:
    os.environ.setdefault(KEY_ENV, "sk-bench-optimizer-not-a-real-key")
    config = OptimizerConfig(
        enabled=True, stop_s=args.stop_s, repeats=args.repeats, call_timeout_s=args.call_timeout,
        n_inputs=args.inputs,
    )  # fmt: skip
    cases = select_cases(args.cases or ["holdout"])
    width = args.width or (None if sys.stdout.isatty() else 240)
    console = Console(width=width, quiet=args.json)
    progress = Console(stderr=True, quiet=args.json or not args.progress)
    started = time.perf_counter()
    results: list[CaseResult] = []
    # tracemalloc lets the timing job report each call's peak allocation, not the job's RSS.
    async with Sandbox(Limits(timeout_s=60), pool_size=2, allow_imports=["tracemalloc"]) as sb:
        for case in cases:
            check = None if args.no_label_check else await check_labels(sb, case, args.hidden)
            runs = []
            if not args.check_labels_only:
                n = args.repeat if case.near_optimal else args.repeat_traps
                for _ in range(max(1, n)):
                    runs.append(await run_case(sb, case, config))
            results.append(CaseResult(case, runs, check))
            last = runs[-1] if runs else None
            progress.print(
                f"{case.name}: "
                + (
                    f"{_accepted_text(last)}, {last.asked} asked, {last.seconds:.1f} s"
                    if last
                    else ""
                )
                + (f"; label problems: {check.problems}" if check and check.problems else "")
            )
    elapsed = time.perf_counter() - started
    if args.check_labels_only:
        problems = [
            p
            for res in results
            if res.check and res.case.split != "original"
            for p in res.check.problems
        ]
        lines = [f"{res.case.name}: {_label_text(res)}".replace("\n", "; ") for res in results]
        lines.append(f"{len(problems)} label problems in {len(results)} cases ({elapsed:.1f} s)")
        lines += [f"  {p}" for p in problems]
        console.print("\n".join(lines), markup=False, highlight=False)
        if args.json:
            print(json.dumps({"checks": checks_json(results)}, indent=2, default=repr))
        return 3 if problems else 0
    summary = render(
        results, console, elapsed, args.reason_chars, markdown=args.format == "markdown"
    )
    if args.json:
        print(
            json.dumps(
                {"summary": summary, "rows": rows_json(results), "checks": checks_json(results)},
                indent=2,
                default=repr,
            )
        )
    if summary["label_problems"]:
        return 3
    failed = summary["pass_to_fail"] or summary["wrong_rewrites_kept"]
    return 1 if failed or summary["near_optimal_regressions"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--cases",
        nargs="+",
        metavar="SET_OR_NAME",
        help="original, dev, holdout (default), all, or case names",
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of each near-optimal case (default 5)"
    )
    parser.add_argument("--repeat-traps", type=int, default=1, help="runs of each other case")
    parser.add_argument("--stop-s", type=float, default=0.05, help="inputs stop growing here")
    parser.add_argument("--repeats", type=int, default=5, help="timings per input")
    parser.add_argument("--call-timeout", type=float, default=2.0)
    parser.add_argument("--inputs", type=int, default=100, help="differential inputs per case")
    parser.add_argument("--hidden", type=int, default=200, help="label-check inputs per case")
    parser.add_argument("--no-label-check", action="store_true", help="skip the label check")
    parser.add_argument(
        "--check-labels-only", action="store_true", help="only check the offers' labels"
    )
    parser.add_argument("--reason-chars", type=int, default=90, help="rejection reason width")
    parser.add_argument("--width", type=int, default=None, help="table width (default 240)")
    parser.add_argument(
        "--format", choices=("table", "markdown"), default="table", help="how tables print"
    )
    parser.add_argument("--progress", action="store_true", help="a line per case on stderr")
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
