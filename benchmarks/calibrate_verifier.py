"""Is the verifier's confidence calibrated, and where should its settings sit? One run, one table.

    python benchmarks/calibrate_verifier.py --dataset ../shared/datasets/HumanEvalPlus-v0.1.10.jsonl
        [--split dev] [--limit N] [--rates 0.2,0.4,0.6] [--wrong-tests 0.2] [--json]

Candidate pools are built from HumanEval+ reference solutions as in verify_selection.py
(correct variants, behaviour-changing mutants judged on the hidden inputs), in two kinds:
`distinct` (every wrong candidate a different mutant) and `alike` (candidates drawn with
replacement, so wrong ones can coincide, as a model's wrong answers do). Each pool also gets
an independent test designer's suite. Every pool is executed once (the real sandbox, the real
harness); its matrix is then decided under each setting of the scoring parameters, so the
settings are compared on exactly the same executions.

For each setting it prints: selected right, verified, verified-but-wrong (of all pools), the
log loss and Brier score of the confidence as a forecast that the selected candidate is right,
and the calibration table (confidence bins against the share right). Tune on `dev`; quote
`holdout`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import pickle
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

from multiagent_codeact.bench.cli_args import parse_rates

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = ROOT.parent / "shared" / "datasets" / "HumanEvalPlus-v0.1.10.jsonl"
DEFAULT_CACHE = ROOT / ".cache" / "verify_selection"
BINS = [(0.0, 0.5), (0.5, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.01)]


@dataclasses.dataclass
class Executed:
    task_id: str
    kind: str
    rate: float
    matrix: Any
    correct: set[str]


def settings() -> dict[str, Any]:
    """The scoring settings compared: the default and single-knob moves around it."""
    from multiagent_codeact.verify.posterior import PosteriorParams, Prior
    from multiagent_codeact.verify.scoring import ScoringParams

    base = PosteriorParams()
    out: dict[str, Any] = {"default": ScoringParams()}
    variants = {
        "pi Beta(1,1)": {"survivor_right": Prior(1.0, 1.0)},
        "pi Beta(2,1)": {"survivor_right": Prior(2.0, 1.0)},
        "coincide 0.3": {"coincide": 0.3},
        "coincide 0.05": {"coincide": 0.05},
        "easy 0.7": {"easy": 0.7},
        "easy 0.3": {"easy": 0.3},
        "slips 0.3": {"slips": 0.3},
        "own wrong 0.95": {"own_wrong_passes": 0.95},
        "designer Beta(8,2)": {"designer_right": Prior(8.0, 2.0)},
        "author Beta(2,1)": {"author_right": Prior(2.0, 1.0)},
        "rejected 0.5": {"rejected_weight": 0.5},
    }
    for name, change in variants.items():
        out[name] = ScoringParams(posterior=dataclasses.replace(base, **change))
    for threshold in (0.7, 0.9):
        out[f"threshold {threshold}"] = ScoringParams(threshold=threshold)
    return out


def alike_pool(data: Any, n: int, rate: float, wrong_tests: float, rng: random.Random) -> Any:
    """Candidates drawn with replacement: wrong ones can be the same mutant, or alike."""
    from multiagent_codeact.bench.pools import Pool, simulated_tests
    from multiagent_codeact.domain import Candidate

    programs = [
        rng.choice(data.variants if rng.random() < rate else data.mutants) for _ in range(n)
    ]
    candidates = [
        Candidate(
            code=p.source,
            tests=simulated_tests(data, 5, wrong_tests, rng)[0],
            origin=p.origin,
            id=f"c{i}",
        )
        for i, p in enumerate(programs, start=1)
    ]
    return Pool(candidates, [p.hidden_correct for p in programs])


async def execute_all(args: argparse.Namespace) -> tuple[list[Executed], dict[str, Any]]:
    from multiagent_codeact.bench import load_problems
    from multiagent_codeact.bench.pools import (
        PoolTooSmallError,
        build_pool,
        prepare,
        simulated_tests,
    )
    from multiagent_codeact.bench.splits import in_split
    from multiagent_codeact.sandbox import Limits, Sandbox
    from multiagent_codeact.verify.engine import execute

    problems = [p for p in load_problems(args.dataset) if in_split(p.task_id, args.split)]
    problems = problems[: args.limit]
    out: list[Executed] = []
    started = time.perf_counter()
    async with Sandbox(Limits(timeout_s=60), pool_size=args.pool_size) as sb:
        datas = await prepare(problems, args.cache_dir, sandbox=sb)
        usable = [d for d in datas if d.load_error is None and d.variants and d.mutants]
        for d in usable:
            for rate in args.rates:
                for kind in ("distinct", "alike"):
                    rng = random.Random(f"{args.seed}|{d.task_id}|{rate}|{kind}")
                    try:
                        pool = (
                            build_pool(d, args.candidates, rate, args.wrong_tests, 5, rng)
                            if kind == "distinct"
                            else alike_pool(d, args.candidates, rate, args.wrong_tests, rng)
                        )
                    except PoolTooSmallError:
                        continue
                    designer = simulated_tests(d, 5, args.wrong_tests, rng)[0]
                    matrix, _ = await execute(
                        d.to_task(), pool.candidates, sandbox=sb, generated_tests=[designer]
                    )
                    correct = {c.id for c, ok in zip(*pool, strict=True) if ok}
                    out.append(Executed(d.task_id, kind, rate, matrix, correct))
                    if not args.quiet:
                        print(f"\r{len(out)} pools executed", end="", file=sys.stderr)
    if not args.quiet:
        print(file=sys.stderr)
    meta = {
        "problems": len(usable),
        "pools": len(out),
        "seconds": round(time.perf_counter() - started, 1),
        "split": args.split,
    }
    return out, meta


def evaluate(executed: list[Executed], params: Any) -> dict[str, Any]:
    from multiagent_codeact.verify.scoring import decide

    rows = []
    for e in executed:
        report = decide(e.matrix, params)
        chosen = report.selected.id if report.selected else None
        rows.append((report.verdict.value, report.confidence, chosen in e.correct, e))
    n = len(rows)
    verified = [r for r in rows if r[0] == "verified"]
    eps = 1e-6
    log_loss = -sum(math.log(max(eps, c if right else 1 - c)) for _, c, right, _ in rows) / max(
        n, 1
    )
    brier = sum((c - right) ** 2 for _, c, right, _ in rows) / max(n, 1)
    bins = []
    for lo, hi in BINS:
        inside = [r for r in rows if lo <= r[1] < hi]
        bins.append(
            {
                "bin": f"{lo:.2f}-{min(hi, 1.0):.2f}",
                "count": len(inside),
                "right": sum(r[2] for r in inside) / len(inside) if inside else None,
            }
        )
    by_kind = {}
    for kind in ("distinct", "alike"):
        part = [r for r in rows if r[3].kind == kind]
        ver = [r for r in part if r[0] == "verified"]
        by_kind[kind] = {
            "pools": len(part),
            "right": sum(r[2] for r in part),
            "verified": len(ver),
            "verified_wrong": sum(not r[2] for r in ver),
        }
    return {
        "pools": n,
        "right": sum(r[2] for r in rows) / max(n, 1),
        "verified": len(verified) / max(n, 1),
        "verified_wrong": sum(not r[2] for r in verified),
        "verified_wrong_share": sum(not r[2] for r in verified) / max(n, 1),
        "log_loss": log_loss,
        "brier": brier,
        "bins": bins,
        "by_kind": by_kind,
        "wrong_ids": sorted(
            {f"{r[3].task_id}@{r[3].rate}/{r[3].kind}" for r in verified if not r[2]}
        ),
    }


def render(results: dict[str, dict[str, Any]], meta: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    table = Table(
        title=f"Verifier settings on {meta['pools']} pools from {meta['problems']} problems "
        f"(split {meta['split']}; executed once in {meta['seconds']} s)"
    )
    for col in ("setting", "right", "verified", "verified wrong", "of verified", "log loss",
                "Brier", "distinct: wrong/ver", "alike: wrong/ver"):  # fmt: skip
        table.add_column(col, justify="left" if col == "setting" else "right")
    for name, r in results.items():
        ver = r["verified"] * r["pools"]
        table.add_row(
            name,
            f"{r['right']:.1%}",
            f"{r['verified']:.1%}",
            f"{r['verified_wrong']} ({r['verified_wrong_share']:.1%})",
            f"{r['verified_wrong'] / ver:.1%}" if ver else "-",
            f"{r['log_loss']:.3f}",
            f"{r['brier']:.3f}",
            f"{r['by_kind']['distinct']['verified_wrong']}/{r['by_kind']['distinct']['verified']}",
            f"{r['by_kind']['alike']['verified_wrong']}/{r['by_kind']['alike']['verified']}",
        )
    console.print(table)
    default = results["default"]
    cal = Table(title="Calibration of the default setting: confidence against the share right")
    for col in ("confidence", "pools", "share right"):
        cal.add_column(col, justify="right")
    for b in default["bins"]:
        cal.add_row(b["bin"], str(b["count"]), "-" if b["right"] is None else f"{b['right']:.1%}")
    console.print(cal)
    if default["wrong_ids"]:
        console.print("verified but wrong (default): " + ", ".join(default["wrong_ids"]))
    console.print(
        f"Machine: {os.cpu_count()} CPUs, {platform.machine()}, Python "
        f"{platform.python_version()}, load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--split", choices=("dev", "holdout", "all"), default="dev")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--rates", type=parse_rates, default=[0.2, 0.4, 0.6])
    parser.add_argument("--wrong-tests", type=float, default=0.2)
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pool-size", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="keep the executed matrices in this file and decide them again on the next run "
        "(for trying settings; delete it after changing the harness or the inputs)",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not args.dataset.exists():
        parser.error(f"dataset not found: {args.dataset} (pass --dataset PATH)")
    if args.reuse is not None and args.reuse.exists():
        executed, meta = pickle.loads(args.reuse.read_bytes())
    else:
        executed, meta = asyncio.run(execute_all(args))
        if args.reuse is not None:
            args.reuse.write_bytes(pickle.dumps((executed, meta)))
    results = {name: evaluate(executed, params) for name, params in settings().items()}
    if args.json:
        print(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    else:
        render(results, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
