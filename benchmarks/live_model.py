"""solve() against a live local model: what a tiny model does to the pipeline, on HumanEval+.

SmolLM2-135M-Instruct behind llama-cpp-python's OpenAI-compatible server (scripts/live-model
installs both), on loopback; the client, AgentChat, the sandbox and the verifier are the real
ones. Per task it records the model calls, tokens and wall time, how many coder replies gave
usable code (and why the others did not), whether the test designer's reply gave tests, the
verdict, and whether the solution is right on HumanEval+'s hidden inputs (run against the
reference in the sandbox). "Verified but wrong" is the number that must stay at zero.

    scripts/live-model install        # once: builds llama-cpp-python (5+ minutes on 2 cores)
    .venv/bin/python benchmarks/live_model.py \
        --dataset ../shared/datasets/HumanEvalPlus-v0.1.10.jsonl

`--base-url URL --model NAME` uses a server that is already running instead (any
OpenAI-compatible one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from multiagent_codeact.bench.humaneval import FLOAT_RTOL, Problem, load_problems
from multiagent_codeact.bench.live_server import LiveModelServer, live_model_missing
from multiagent_codeact.config import PipelineConfig
from multiagent_codeact.errors import ModelError
from multiagent_codeact.events import Event
from multiagent_codeact.models import ModelConfig
from multiagent_codeact.pipeline import asolve
from multiagent_codeact.sandbox import Limits, Sandbox
from multiagent_codeact.verify.runner import run_program, same_outcome

HIDDEN_LIMIT = 200  # hidden inputs judged per problem: enough to tell right from wrong here


async def hidden_correct(sb: Sandbox, problem: Problem, code: str) -> bool:
    """Whether `code` behaves as the reference on the hidden inputs the reference answers."""
    inputs = problem.hidden_inputs()[:HIDDEN_LIMIT]
    ref = await run_program(sb, problem.reference_code, problem.entry_point, inputs=inputs)
    got = await run_program(sb, code, problem.entry_point, inputs=inputs)
    if got.load_error is not None:
        return False
    pairs = [(r, g) for r, g in zip(ref.outputs, got.outputs, strict=False) if r.kind == "value"]
    return bool(pairs) and all(
        same_outcome(r, g, atol=problem.float_atol, rtol=FLOAT_RTOL) for r, g in pairs
    )


def _reply_problem(problems: list[str]) -> str:
    text = "; ".join(problems)
    for key, label in (
        ("no code block", "no code block"),
        ("cut off", "cut off"),
        ("does not parse", "does not parse"),
        ("does not define", "wrong or no function"),
        ("aliased", "wrong name (aliased)"),
        ("left out", "trailing junk dropped"),
    ):
        if key in text:
            return label
    return "other" if problems else "clean"


async def solve_one(problem: Problem, cfg: PipelineConfig, sb: Sandbox) -> dict[str, Any]:
    events: list[Event] = []
    started = time.perf_counter()
    row: dict[str, Any] = {"task": problem.task_id}
    try:
        solution = await asolve(problem.to_task(), config=cfg, sinks=[events.append], sandbox=sb)
    except ModelError as exc:  # a broken endpoint ends the whole benchmark's usefulness
        row |= {"verdict": "error", "error": str(exc), "right": False}
    else:
        right = bool(solution.code) and await hidden_correct(sb, problem, solution.code or "")
        row |= {"verdict": solution.verdict.value, "right": right, "error": solution.error}
    row["seconds"] = time.perf_counter() - started
    calls = [e for e in events if e.kind == "model_call"]
    row["calls"] = len(calls)
    row["tokens"] = sum(
        int(c.data.get("prompt_tokens") or 0) + int(c.data.get("completion_tokens") or 0)
        for c in calls
    )
    replies = [e for e in events if e.kind == "candidate"]
    row["replies"] = len(replies)
    row["usable"] = sum(bool(e.data.get("usable")) for e in replies)
    row["kinds"] = dict(Counter(_reply_problem(e.data.get("problems") or []) for e in replies))
    designer = [e for e in events if e.kind == "message" and e.agent == "test_designer"]
    row["designer_replies"] = len(designer)
    row["designer_tests"] = any(  # generated tests reached the execution matrix
        e.kind == "execution" and not str(e.data.get("generated", "0/0")).endswith("/0")
        for e in events
    )
    row["samples"] = [
        e.data.get("content", "")[:400]
        for e in events
        if e.kind == "message" and (e.agent or "").startswith("coder")
    ][:2]
    return row


def render(rows: list[dict[str, Any]], wall_s: float, console: Console) -> None:
    verdicts = Counter(r["verdict"] for r in rows)
    replies = sum(r["replies"] for r in rows)
    usable = sum(r["usable"] for r in rows)
    kinds: Counter[str] = Counter()
    for r in rows:
        kinds.update(r["kinds"])
    table = Table(title=f"live model on {len(rows)} HumanEval+ tasks", title_justify="left")
    for column in (
        "tasks", "calls", "tokens", "wall s", "replies parsed", "verified", "disputed",
        "failed", "errors", "right (hidden)", "verified but wrong",
    ):  # fmt: skip
        table.add_column(column)
    verified_wrong = sum(r["verdict"] == "verified" and not r["right"] for r in rows)
    table.add_row(
        str(len(rows)),
        str(sum(r["calls"] for r in rows)),
        f"{sum(r['tokens'] for r in rows):,}",
        f"{wall_s:.0f}",
        f"{usable}/{replies} ({usable / replies:.0%})" if replies else "0/0",
        str(verdicts.get("verified", 0)),
        str(verdicts.get("disputed", 0)),
        str(verdicts.get("failed", 0)),
        str(verdicts.get("error", 0)),
        str(sum(bool(r["right"]) for r in rows)),
        str(verified_wrong),
    )
    console.print(table)
    shown = ", ".join(f"{k} {v}" for k, v in kinds.most_common())
    console.print(f"coder replies: {shown}")
    with_tests = sum(bool(r["designer_tests"]) for r in rows)
    console.print(f"tasks where the test designer's reply gave usable tests: {with_tests}")
    per_task = Table(box=None, pad_edge=False)
    for column in ("task", "verdict", "right", "calls", "parsed", "s"):
        per_task.add_column(column)
    for r in rows:
        per_task.add_row(
            r["task"], r["verdict"], "yes" if r["right"] else "no", str(r["calls"]),
            f"{r['usable']}/{r['replies']}", f"{r['seconds']:.0f}",
        )  # fmt: skip
    console.print(per_task)


async def main_async(args: argparse.Namespace) -> int:
    problems = load_problems(args.dataset)[args.skip : args.skip + args.limit]
    console = Console(highlight=False, width=200)  # the table whole, also in a log
    server: LiveModelServer | None = None
    if args.base_url is None:
        missing = live_model_missing()
        if missing is not None:
            print(f"live_model: {missing}", file=sys.stderr)
            return 2
        server = LiveModelServer().start()
        model = server.model_config(max_tokens=args.max_tokens)
    else:
        model = ModelConfig(
            model=args.model, base_url=args.base_url, max_concurrency=1,
            max_tokens=args.max_tokens, timeout_s=300.0, max_retries=1,
        )  # fmt: skip
    cfg = PipelineConfig(
        model=model,
        candidates=args.candidates,
        repair_rounds=args.rounds,
        temperatures=args.temperatures,
        verify={"n_inputs": 100},
    )
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        async with Sandbox(Limits(timeout_s=30), pool_size=2) as sb:
            for i, problem in enumerate(problems, 1):
                row = await solve_one(problem, cfg, sb)
                rows.append(row)
                print(
                    f"[{i}/{len(problems)}] {row['task']}: {row['verdict']}, right={row['right']}, "
                    f"{row['calls']} calls, {row['usable']}/{row['replies']} parsed, "
                    f"{row['seconds']:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        if server is not None:
            server.close()
    render(rows, time.perf_counter() - started, console)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True, help="HumanEval(+) JSONL")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--skip", type=int, default=0, help="start at this problem")
    parser.add_argument("--candidates", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="repair rounds")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.1, 0.3])
    parser.add_argument("--max-tokens", type=int, default=400)
    parser.add_argument("--base-url", help="a running OpenAI-compatible server instead")
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--json", type=Path, help="write the per-task rows here")
    # A kill must still stop the model server (it runs in a session of its own).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
