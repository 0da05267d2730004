"""solve() end to end against a scripted model: does concurrency pay, does verification pick right?

Two measurements, in one run:

1. Wall time against the critical path. Every model call takes a fixed latency; the critical
   path is the sum, over the run's rounds, of the slowest call in each round (calls within a
   round are independent). A pipeline that asked its coders one after another would take the
   sum of all latencies instead; both are printed.
2. End-to-end pass rate on HumanEval+ when the scripted coder is right 40% of the time: each
   coder reply is a correct variant of the reference with that probability, else a
   behaviour-changing mutant (see benchmarks/verify_selection.py for how those are built and
   judged on the hidden inputs); the test designer writes tests with 20% wrong expectations.
   Pass rate: the solution's code is right on HumanEval+'s hidden inputs. Oracle: some reply
   in the run was right. Random: the per-reply rate.

The model is scripted (no model can be reached from these machines); the client, AgentChat, the
sandbox and the verifier are the real ones.

    .venv/bin/python benchmarks/pipeline.py --dataset ../shared/datasets/HumanEvalPlus-v0.1.10.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

KEY_ENV = "MCA_BENCH_KEY"


def coder_reply(code: str, tests: str) -> str:
    return (
        "## Explanation\nAs asked.\n\n## Code\n```python\n"
        f"{code.rstrip()}\n```\n\n## Tests\n```python\n{tests.rstrip()}\n```\n"
    )


# -- 1. wall time against the critical path --------------------------------------------------

LATENCY_TASKS = {  # name: (task, one coder answers wrong first, coders)
    "function, one round": ("Write a function `def add(a, b)` returning a + b.", False, 4),
    "function, one repair": ("Write a function `def add(a, b)` returning a + b.", True, 2),
    "computation": ("How many ways are there to choose 12 items out of 30?", False, 4),
}
ADD_RIGHT = "def add(a, b):\n    return a + b\n"
ADD_WRONG = "def add(a, b):\n    return a * b if a > 3 else a + b\n"
ADD_RIGHT_2 = "def add(a, b):\n    total = a\n    total = total + b\n    return total\n"


def latency_handler(latency_s: float, repair: bool) -> Any:
    from multiagent_codeact.scripted import ChatRequest, Reply

    def handler(request: ChatRequest) -> Reply:
        conversation = "\n".join(str(m.get("content", "")) for m in request.messages)
        first_ask = "did not pass" not in request.last_user
        if request.role == "test_designer":
            body = "```python\nassert add(2, 3) == 5\nassert add(10, 5) == 15\n```"
        elif "choose 12" in conversation:
            body = coder_reply("import math\nresult = math.comb(30, 12)", "assert result > 0")
        elif repair and first_ask and "Solve it by first restating" in request.last_user:
            body = coder_reply(ADD_WRONG, "assert add(1, 2) == 3\nassert add(0, 0) == 0")
        elif repair and not first_ask:  # the repair: an implementation of its own
            body = coder_reply(ADD_RIGHT_2, "assert add(2, 2) == 4\nassert add(-1, 1) == 0")
        else:
            body = coder_reply(ADD_RIGHT, "assert add(1, 2) == 3\nassert add(0, 0) == 0")
        return Reply(content=body, delay_s=latency_s)

    return handler


async def measure_latency(latency_s: float, candidates: int, sandbox: Any) -> list[dict[str, Any]]:
    from multiagent_codeact.config import PipelineConfig
    from multiagent_codeact.events import Event
    from multiagent_codeact.models import ModelConfig
    from multiagent_codeact.pipeline import asolve
    from multiagent_codeact.scripted import Script, ScriptedModelServer

    rows = []
    for name, (task, repair, coders) in LATENCY_TASKS.items():
        events: list[Event] = []
        async with ScriptedModelServer(Script(handler=latency_handler(latency_s, repair))) as srv:
            model = ModelConfig(model="scripted-model", base_url=srv.base_url, api_key_env=KEY_ENV)
            config = PipelineConfig(
                model=model,
                candidates=min(candidates, coders),
                test_designer=not repair,  # the repair case must start as a tie
                repair_rounds=2,
                temperatures=[0.5],
            )
            started = time.perf_counter()
            solution = await asolve(task, config=config, sinks=[events.append], sandbox=sandbox)
            wall = time.perf_counter() - started
        rounds = _rounds(events)
        critical = sum(max(latencies) for latencies in rounds if latencies)
        total = sum(sum(latencies) for latencies in rounds)
        rows.append(
            {
                "task": name,
                "verdict": solution.verdict.value,
                "rounds": len(rounds),
                "calls": sum(len(r) for r in rounds),
                "wall_s": wall,
                "critical_s": critical,
                "sequential_s": total,
                "ratio": wall / critical if critical else float("nan"),
            }
        )
    return rows


def _rounds(events: list[Any]) -> list[list[float]]:
    """Model-call latencies grouped by round: a verdict event closes a round."""
    rounds: list[list[float]] = [[]]
    for e in events:
        if e.kind == "model_call":
            rounds[-1].append(e.data["latency_ms"] / 1000)
        elif e.kind == "verdict":
            rounds.append([])
    return [r for r in rounds if r]


# -- 2. end-to-end pass rate on HumanEval+ ---------------------------------------------------


class Coder:
    """Answers as a model that is right `rate` of the time, for every problem in the run."""

    def __init__(self, data: dict[str, Any], rate: float, wrong_tests: float, seed: int) -> None:
        self.by_prompt = data
        self.rate = rate
        self.wrong_tests = wrong_tests
        self.seed = seed
        self.offered: dict[str, list[bool]] = {}
        self.counts: dict[str, int] = {}

    def problem_for(self, text: str) -> Any:
        for prompt, data in self.by_prompt.items():
            if prompt in text:
                return data
        return None

    def __call__(self, request: Any) -> Any:
        from multiagent_codeact.bench.pools import simulated_tests
        from multiagent_codeact.scripted import Reply

        text = "\n".join(str(m.get("content", "")) for m in request.messages)
        data = self.problem_for(text)
        if data is None:
            return Reply(status=400, content="unknown task")
        key = f"{data.task_id}|{request.role}|{request.last_user}"
        n = self.counts[key] = self.counts.get(key, 0) + 1
        digest = hashlib.sha256(f"{self.seed}|{key}|{n}".encode()).hexdigest()
        rng = random.Random(int(digest[:16], 16))
        tests, _ = simulated_tests(data, 5, self.wrong_tests, rng)
        if request.role == "test_designer":
            return Reply(content=f"```python\n{tests}```")
        right = rng.random() < self.rate or not data.mutants
        program = rng.choice(data.variants if right else data.mutants)
        self.offered.setdefault(data.task_id, []).append(program.hidden_correct)
        return Reply(content=coder_reply(program.source, tests))


async def measure_pass_rate(
    args: argparse.Namespace, sandbox: Any, console: Console
) -> dict[str, Any]:
    from multiagent_codeact.bench import load_problems
    from multiagent_codeact.bench.pools import prepare
    from multiagent_codeact.config import PipelineConfig
    from multiagent_codeact.models import ModelConfig
    from multiagent_codeact.pipeline import asolve
    from multiagent_codeact.scripted import Script, ScriptedModelServer

    problems = load_problems(args.dataset)[: args.limit]
    datas = await prepare(problems, Path(args.cache_dir), sandbox=sandbox)
    usable = [d for d in datas if d.load_error is None and d.variants]
    coder = Coder({d.prompt: d for d in usable}, args.coder_rate, 0.2, args.seed)
    right_code = {_norm(p.source): p.hidden_correct for d in usable for p in d.variants + d.mutants}
    results = []
    async with ScriptedModelServer(Script(handler=coder)) as server:
        model = ModelConfig(model="scripted-model", base_url=server.base_url, api_key_env=KEY_ENV)
        config = PipelineConfig(model=model, candidates=args.candidates, repair_rounds=args.rounds)
        for i, data in enumerate(usable, start=1):
            started = time.perf_counter()
            solution = await asolve(data.to_task(), config=config, sandbox=sandbox)
            correct = solution.code is not None and right_code.get(_norm(solution.code), False)
            results.append(
                {
                    "task_id": data.task_id,
                    "correct": correct,
                    "verified": solution.verified,
                    "oracle": any(coder.offered.get(data.task_id, [])),
                    "rounds": solution.rounds,
                    "calls": sum(u.calls for u in solution.usage.values()),
                    "seconds": time.perf_counter() - started,
                }
            )
            if not args.quiet:
                console.print(
                    f"[dim]{i}/{len(usable)} {data.task_id}: {'ok' if correct else 'wrong'} "
                    f"({solution.verdict.value})[/dim]"
                )
    n = len(results)
    verified = [r for r in results if r["verified"]]
    return {
        "problems": n,
        "coder_rate": args.coder_rate,
        "pass_rate": sum(r["correct"] for r in results) / n,
        "oracle": sum(r["oracle"] for r in results) / n,
        "verified": len(verified) / n,
        "false_positives": sum(not r["correct"] for r in verified),
        "verified_count": len(verified),
        "mean_rounds": statistics.mean(r["rounds"] for r in results),
        "mean_calls": statistics.mean(r["calls"] for r in results),
        "median_s": statistics.median(r["seconds"] for r in results),
    }


def _norm(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip().splitlines())


# -- output ----------------------------------------------------------------------------------


def render(
    latency: list[dict[str, Any]],
    quality: dict[str, Any] | None,
    args: argparse.Namespace,
    console: Console,
) -> None:
    table = Table(
        title=f"Wall time of solve() against the critical path ({args.latency:g} s per call)"
    )
    for col in (
        "task",
        "verdict",
        "rounds",
        "model calls",
        "wall s",
        "critical path s",
        "wall / critical",
        "sequential s",
    ):
        table.add_column(col, justify="left" if col in ("task", "verdict") else "right")
    for r in latency:
        table.add_row(
            r["task"],
            r["verdict"],
            str(r["rounds"]),
            str(r["calls"]),
            f"{r['wall_s']:.2f}",
            f"{r['critical_s']:.2f}",
            f"{r['ratio']:.2f}x",
            f"{r['sequential_s']:.2f}",
        )
    console.print(table)
    if quality:
        q = Table(
            title=f"End to end on HumanEval+ ({quality['problems']} problems, coder right "
            f"{quality['coder_rate']:.0%} of the time, {args.candidates} coders, "
            f"up to {args.rounds} repair rounds)"
        )
        for col in (
            "random (per reply)",
            "oracle",
            "pass rate",
            "verified",
            "false pos. of verified",
            "mean rounds",
            "mean model calls",
            "median s / problem",
        ):
            q.add_column(col, justify="right")
        q.add_row(
            f"{quality['coder_rate']:.1%}",
            f"{quality['oracle']:.1%}",
            f"{quality['pass_rate']:.1%}",
            f"{quality['verified']:.1%}",
            f"{quality['false_positives']} of {quality['verified_count']}",
            f"{quality['mean_rounds']:.2f}",
            f"{quality['mean_calls']:.1f}",
            f"{quality['median_s']:.2f}",
        )
        console.print(q)
    console.print(
        f"Scripted model on loopback through the real openai client and AgentChat; real sandbox "
        f"and verifier. Machine: {os.cpu_count()} CPUs, {platform.machine()}, Python "
        f"{platform.python_version()}, load average {_load()}."
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def main_async(args: argparse.Namespace) -> int:
    from multiagent_codeact.sandbox import Limits, Sandbox

    os.environ.setdefault(KEY_ENV, "scripted-key")
    console = Console(width=None if sys.stdout.isatty() else 140)
    async with Sandbox(Limits(timeout_s=30), pool_size=args.pool_size) as sandbox:
        latency = await measure_latency(args.latency, args.candidates, sandbox)
        quality = None
        if args.dataset:
            quality = await measure_pass_rate(args, sandbox, console)
    if args.json:
        print(json.dumps({"latency": latency, "quality": quality}, indent=2))
    else:
        render(latency, quality, args, console)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--dataset", help="HumanEval+ JSONL; without it only the timing part runs")
    parser.add_argument("--limit", type=int, default=None, help="first N problems only")
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per model call")
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="repair rounds")
    parser.add_argument("--coder-rate", type=float, default=0.4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--cache-dir", default=".cache/verify_selection")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
