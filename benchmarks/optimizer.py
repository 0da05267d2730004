"""The optimizer on correct but slow solutions, with a scripted optimizer agent.

Each case is a verified-correct solution that is slow for a known reason (quadratic where
linear will do, repeated work, naive recursion). The scripted optimizer offers a fixed mix of
rewrites, in order: correct and faster, wrong but faster, slower. Everything else is real: the
openai client and AgentChat, the sandbox, profiling on growing inputs, and the acceptance rule.

Reported, as EffiBench does:
- correctness kept: the final code (the accepted rewrite, or the original) still matches the
  original on hidden inputs drawn apart from the optimizer's (target: no pass turned into a fail);
- %Opt: the share of cases made at least 1.1x faster;
- speedup: summed execution time before over summed time after, across all cases (NET style).

    .venv/bin/python benchmarks/optimizer.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from multiagent_codeact import Task
from multiagent_codeact.config import OptimizerConfig
from multiagent_codeact.models import ModelConfig, make_client
from multiagent_codeact.optimize import OptimizationReport, optimize
from multiagent_codeact.sandbox import Limits, Sandbox
from multiagent_codeact.scripted import Reply, Rule, Script, ScriptedModelServer
from multiagent_codeact.verify.inputs import find_signature, generate_inputs, seed_args
from multiagent_codeact.verify.runner import run_program, same_outcome

KEY_ENV = "MCA_BENCH_KEY"


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


@dataclass
class Outcome:
    case: Case
    report: OptimizationReport
    model_calls: int
    pass_before: bool
    pass_after: bool

    @property
    def before_s(self) -> float:
        return self.report.time_before_s or 0.0

    @property
    def after_s(self) -> float:
        return (
            self.report.time_after_s
            if self.report.accepted and self.report.time_after_s
            else self.before_s
        )


def task_of(case: Case) -> Task:
    return Task(prompt=case.prompt, entry_point=case.entry, examples=case.examples)


def reply(code: str) -> str:
    return f"## Explanation\nFaster.\n\n## Code\n```python\n{code}```\n"


async def hidden_check(sandbox: Sandbox, case: Case, code: str, n: int) -> bool:
    """Same outputs as the original on inputs the optimizer never saw (another seed)."""
    seeds = seed_args(case.entry, case.examples)
    signature = find_signature(case.entry, [case.prompt])
    inputs = generate_inputs(signature, seeds, n=n, seed=12345)
    if case.entry in ("fib", "nth_prime"):  # keep the slow original's hidden run short
        inputs = [a for a in inputs if all(not isinstance(x, int) or 0 <= x <= 18 for x in a)]
    ref, got = await asyncio.gather(
        run_program(sandbox, case.code, case.entry, inputs=inputs, call_timeout_s=5.0),
        run_program(sandbox, code, case.entry, inputs=inputs, call_timeout_s=5.0),
    )
    return all(
        same_outcome(a, b, atol=1e-9, rtol=1e-9) or a.kind in ("timeout", "skipped")
        for a, b in zip(ref.outputs, got.outputs, strict=True)
    )


async def run_case(sandbox: Sandbox, case: Case, config: OptimizerConfig, hidden_n: int) -> Outcome:
    rule = Rule(role="optimizer", replies=[Reply(content=reply(c)) for _, c in case.offers])
    clients = []
    async with ScriptedModelServer(Script([rule])) as server:
        model = ModelConfig(
            model="scripted-optimizer", base_url=server.base_url, api_key_env=KEY_ENV
        )

        def factory() -> Any:
            clients.append(make_client(model, agent="optimizer"))
            return clients[-1]

        cfg = config.model_copy(update={"max_rewrites": len(case.offers)})
        report = await optimize(
            task_of(case), case.code, sandbox=sandbox, client_factory=factory, config=cfg
        )
        for c in clients:
            await c.close()
        calls = len(server.requests)
    final = report.code or case.code
    before, after = await asyncio.gather(
        hidden_check(sandbox, case, case.code, hidden_n),
        hidden_check(sandbox, case, final, hidden_n),
    )
    return Outcome(case, report, calls, before, after)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.2f}"


def _exp(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _mem(value: int | None) -> str:
    return "-" if value is None else f"{value / 1024:.0f}"


def render(outcomes: list[Outcome], console: Console, elapsed: float) -> dict[str, Any]:
    table = Table(title="Optimizer on correct but slow solutions (scripted agent, real checks)")
    for col in ("case", "slow because", "offered", "outcome", "rejected (reason kind)",
                "before ms", "after ms", "speedup", "growth before→after",
                "peak KiB before→after", "hidden check"):  # fmt: skip
        table.add_column(col, overflow="fold")
    for o in outcomes:
        r = o.report
        after_prof = r.after or r.before
        table.add_row(
            o.case.name,
            o.case.why_slow,
            ", ".join(label for label, _ in o.case.offers) if o.model_calls else "(not asked)",
            r.status + (f" (#{len(r.rejected) + 1})" if r.accepted else ""),
            ", ".join(x.kind for x in r.rejected) or "-",
            _ms(o.before_s),
            _ms(o.after_s),
            f"{o.before_s / o.after_s:.2f}x" if o.after_s else "-",
            f"{_exp(r.before.exponent if r.before else None)}→"
            f"{_exp(after_prof.exponent if after_prof else None)}",
            f"{_mem(r.memory_before_bytes)}→{_mem(r.memory_after_bytes or r.memory_before_bytes)}",
            f"{'pass' if o.pass_before else 'FAIL'}→{'pass' if o.pass_after else 'FAIL'}",
        )
    console.print(table)
    broken = sum(o.pass_before and not o.pass_after for o in outcomes)
    opt = sum(o.report.accepted and (o.report.speedup or 0) >= 1.1 for o in outcomes)
    total_before = sum(o.before_s for o in outcomes)
    total_after = sum(o.after_s for o in outcomes)
    wrong_offered = sum(label == "wrong-faster" for o in outcomes for label, _ in o.case.offers)
    wrong_kept = sum(
        o.report.accepted
        and {c: label for label, c in o.case.offers}.get(o.report.code or "") == "wrong-faster"
        for o in outcomes
    )
    summary = {
        "cases": len(outcomes),
        "correctness_kept": len(outcomes) - broken,
        "pass_to_fail": broken,
        "wrong_rewrites_offered": wrong_offered,
        "wrong_rewrites_accepted": wrong_kept,
        "pct_opt": 100.0 * opt / len(outcomes),
        "optimized": opt,
        "time_before_s": total_before,
        "time_after_s": total_after,
        "speedup_net": total_before / total_after if total_after else None,
        "model_calls": sum(o.model_calls for o in outcomes),
        "seconds": elapsed,
    }
    console.print(
        f"Correctness kept: {summary['correctness_kept']}/{len(outcomes)} "
        f"(pass→fail: {broken}; wrong-faster rewrites offered {wrong_offered}, accepted "
        f"{wrong_kept})\n"
        f"%Opt (≥1.1x faster): {summary['pct_opt']:.1f}% ({opt}/{len(outcomes)})\n"
        f"Speedup, summed execution time before / after (NET style): "
        f"{total_before * 1000:.1f} ms / {total_after * 1000:.1f} ms = "
        f"{summary['speedup_net']:.2f}x\n"
        f"Model calls: {summary['model_calls']}; wall time {elapsed:.1f} s"
    )
    return summary


async def main_async(args: argparse.Namespace) -> int:
    os.environ.setdefault(KEY_ENV, "sk-bench-optimizer-not-a-real-key")
    config = OptimizerConfig(
        enabled=True, stop_s=args.stop_s, repeats=args.repeats, call_timeout_s=args.call_timeout,
        n_inputs=args.inputs,
    )  # fmt: skip
    cases = [c for c in CASES if not args.cases or c.name in args.cases]
    console = Console(width=None if sys.stdout.isatty() else 200, quiet=args.json)
    started = time.perf_counter()
    # tracemalloc lets the timing job report each call's peak allocation, not the job's RSS.
    async with Sandbox(Limits(timeout_s=60), pool_size=2, allow_imports=["tracemalloc"]) as sb:
        outcomes = [await run_case(sb, c, config, args.hidden) for c in cases]
    summary = render(outcomes, console, time.perf_counter() - started)
    if args.json:
        rows = [
            {
                "case": o.case.name,
                "status": o.report.status,
                "rejected": [r.kind for r in o.report.rejected],
                "speedup": o.report.speedup,
                "before_s": o.before_s,
                "after_s": o.after_s,
                "pass_before": o.pass_before,
                "pass_after": o.pass_after,
                "model_calls": o.model_calls,
            }
            for o in outcomes
        ]
        print(json.dumps({"summary": summary, "rows": rows}, indent=2))
    return 0 if summary["pass_to_fail"] == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--stop-s", type=float, default=0.05, help="inputs stop growing here")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--call-timeout", type=float, default=2.0)
    parser.add_argument("--inputs", type=int, default=100, help="differential inputs per case")
    parser.add_argument("--hidden", type=int, default=200, help="hidden inputs per check")
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
