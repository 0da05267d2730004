"""How well the verifier picks a correct candidate, and how often it calls a wrong one verified.

    python benchmarks/verify_selection.py --dataset ../shared/datasets/HumanEvalPlus-v0.1.10.jsonl
        [--limit N] [--seed S] [--candidates 5] [--correct 0.2,0.4,0.6] [--wrong-tests 0.2]
        [--tests-per-candidate 5] [--json]

No model is involved (DESIGN.md §6). For every problem, candidate pools are built from the
reference solution: correct variants (equivalent rewrites) and wrong mutants (AST mutations
that really change behaviour on HumanEval+'s hidden inputs), at each chosen correct rate, each
candidate with simulated tests of its own, a share of them with wrong expected values. Each
pool goes through `averify`; whether its pick is right is judged on the hidden inputs, which
the verifier never sees. A problem with too few distinct mutants gets a smaller pool (random
pick accounts for it); one with none is left out of the settings that need wrong candidates.

Running the reference and every rewrite on the hidden inputs is cached under
.cache/verify_selection/, so only the first run pays for it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from multiagent_codeact.bench.cli_args import parse_rates

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = ROOT.parent / "shared" / "datasets" / "HumanEvalPlus-v0.1.10.jsonl"
DEFAULT_CACHE = ROOT / ".cache" / "verify_selection"
LABELS = {"codet": "CodeT-only", "majority": "majority-only"}


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


async def run_setting(
    sb: Any,
    data: list[Any],
    *,
    n_candidates: int,
    correct_rate: float,
    wrong_tests: float,
    tests_per_candidate: int,
    seed: int,
    progress: Any,
) -> dict[str, Any]:
    from multiagent_codeact.bench.metrics import BASELINES, ProblemResult, summarize
    from multiagent_codeact.bench.pools import PoolTooSmallError, build_pool
    from multiagent_codeact.verify import averify

    results: list[ProblemResult] = []
    skipped: list[str] = []
    task = progress.add_task(
        f"{n_candidates} candidates, {correct_rate:.0%} correct", total=len(data)
    )
    for d in data:
        # One rng per (setting, problem): a pool does not depend on which other problems run.
        rng = random.Random(f"{seed}|{n_candidates}|{correct_rate}|{wrong_tests}|{d.task_id}")
        try:
            pool = build_pool(d, n_candidates, correct_rate, wrong_tests, tests_per_candidate, rng)
        except PoolTooSmallError:
            skipped.append(d.task_id)
            progress.advance(task)
            continue
        correct_ids = {c.id for c, ok in zip(*pool, strict=True) if ok}
        started = time.perf_counter()
        report = await averify(
            d.to_task(), pool.candidates, sandbox=sb, seed=seed, call_rejected=True
        )
        seconds = time.perf_counter() - started
        selected = report.selected
        results.append(
            ProblemResult(
                task_id=d.task_id,
                n_candidates=len(pool.candidates),
                n_correct=len(correct_ids),
                selected_correct=selected is not None and selected.id in correct_ids,
                verdict=report.verdict.value,
                confidence=report.confidence,
                seconds=seconds,
                baselines={
                    name: report.alternatives.get(name) in correct_ids for name in BASELINES
                },
            )
        )
        progress.advance(task)
    summary = summarize(results, n_candidates=n_candidates)
    return {
        "n_candidates": n_candidates,
        "correct_rate": correct_rate,
        "wrong_tests": wrong_tests,
        "tests_per_candidate": tests_per_candidate,
        "summary": summary.model_dump(),
        "skipped": skipped,
        "results": [r.model_dump() for r in results],
    }


def material(data: list[Any]) -> dict[str, Any]:
    """How much each problem offers to build pools from."""

    def median(values: list[int]) -> float:
        return float(statistics.median(values)) if values else 0.0

    return {
        "problems": len(data),
        "median_mutants": median([len(d.mutants) for d in data]),
        "median_behaviours": median([len({m.signature for m in d.mutants}) for d in data]),
        "median_variants": median([len(d.variants) for d in data]),
        "median_generated_mutants": median([d.generated_mutants for d in data]),
        "no_mutants": sum(1 for d in data if not d.mutants),
        "reference_failed": [d.task_id for d in data if d.load_error],
        "dropped_inputs": sum(d.dropped_inputs for d in data),
        "hidden_inputs": sum(d.hidden_inputs for d in data),
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import Progress

    from multiagent_codeact.bench import load_problems
    from multiagent_codeact.bench.pools import DEFAULT_VARIANTS, prepare, split
    from multiagent_codeact.sandbox import Limits, Sandbox

    host = machine()
    from multiagent_codeact.bench.splits import in_split

    chosen = [p for p in load_problems(args.dataset) if in_split(p.task_id, args.split)]
    problems = chosen[: args.limit]
    needed = max(split(args.candidates, r)[0] for r in args.correct)
    n_variants = max(DEFAULT_VARIANTS, needed)
    console = Console(stderr=True)
    cached = 0
    started = time.perf_counter()
    async with Sandbox(Limits(timeout_s=60, memory_mb=1024), pool_size=args.pool_size) as sb:
        with Progress(console=console, transient=True, disable=args.quiet) as progress:
            prep = progress.add_task(
                "pool material (cached after the first run)", total=len(problems)
            )

            def done(_data: Any, from_cache: bool) -> None:
                nonlocal cached
                cached += from_cache
                progress.advance(prep)

            data = await prepare(
                problems,
                args.cache_dir,
                sandbox=sb,
                seed=args.seed,
                n_variants=n_variants,
                on_done=done,
            )
            prepare_s = time.perf_counter() - started
            settings = [
                await run_setting(
                    sb,
                    data,
                    n_candidates=args.candidates,
                    correct_rate=rate,
                    wrong_tests=args.wrong_tests,
                    tests_per_candidate=args.tests_per_candidate,
                    seed=args.seed,
                    progress=progress,
                )
                for rate in args.correct
            ]
    return {
        "dataset": str(args.dataset),
        "seed": args.seed,
        "settings": settings,
        "material": material(data),
        "cache": {
            "dir": str(args.cache_dir),
            "hits": cached,
            "misses": len(problems) - cached,
            "prepare_seconds": round(prepare_s, 2),
        },
        "sandbox": {k: sb.info.get(k) for k in ("isolation", "landlock_abi", "seccomp")},
        "machine": host,
    }


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def render(report: dict[str, Any]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for setting in report["settings"]:
        s = setting["summary"]
        title = (
            f"{setting['n_candidates']} candidates, {setting['correct_rate']:.0%} correct, "
            f"{setting['wrong_tests']:.0%} of tests wrong: {s['problems']} problems"
        )
        table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("strategy", "sel@1", "gap", "verified", "false pos", "abstain", "med s"):
            table.add_column(col, justify="left" if col == "strategy" else "right", no_wrap=True)
        table.add_row("random (pass@1)", _pct(s["random"]), "0.00", "", "", "", "")
        table.add_row("oracle", _pct(s["oracle"]), "1.00", "", "", "", "")
        table.add_row(
            "[bold]verifier[/bold]",
            f"[bold]{_pct(s['selected'])}[/bold]",
            f"[bold]{_ratio(s['gap_closed'])}[/bold]",
            str(s["verified"]),
            f"{_pct(s['false_positive_rate'])} ({s['false_positives']})",
            _pct(s["abstention"]),
            f"{s['median_seconds']:.2f}",
        )
        for name, label in LABELS.items():
            b = s["baselines"].get(name, {})
            table.add_row(label, _pct(b.get("selected")), _ratio(b.get("gap_closed")), "", "", "",
                          "")  # fmt: skip
        console.print(table)
        notes = []
        if s["short_pools"]:
            notes.append(f"{s['short_pools']} pools smaller than asked (too few distinct mutants)")
        if setting["skipped"]:
            notes.append(f"{len(setting['skipped'])} problems left out (no mutant)")
        if notes:
            console.print(f"[dim]{'; '.join(notes)}[/dim]\n")

    if len(report["settings"]) > 1:
        overview = Table(title="All settings", box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("correct", "random", "sel@1", "gap", "CodeT", "major.", "false pos",
                    "abstain"):  # fmt: skip
            overview.add_column(col, justify="right", no_wrap=True)
        for setting in report["settings"]:
            s = setting["summary"]
            overview.add_row(
                f"{setting['correct_rate']:.0%}",
                _pct(s["random"]),
                _pct(s["selected"]),
                _ratio(s["gap_closed"]),
                *(_ratio(s["baselines"].get(n, {}).get("gap_closed")) for n in LABELS),
                f"{_pct(s['false_positive_rate'])} ({s['false_positives']})",
                _pct(s["abstention"]),
            )
        console.print(overview)
        console.print(
            "[dim]gap, CodeT, major.: gap closed by the verifier, by CodeT-only and by "
            "majority-only selection.[/dim]"
        )

    m, c, mach = report["material"], report["cache"], report["machine"]
    console.print(
        f"[dim]Pool material per problem (median): {m['median_mutants']:g} behaviour-changing "
        f"mutants ({m['median_behaviours']:g} distinct behaviours) of "
        f"{m['median_generated_mutants']:g} generated, {m['median_variants']:g} verified "
        f"variants; {m['no_mutants']} problems without a mutant. Hidden inputs judged: "
        f"{m['hidden_inputs']} ({m['dropped_inputs']} dropped: the reference timed out, or its "
        "value could not be shipped). "
        f"Cache: {c['hits']} hits, {c['misses']} built, {c['prepare_seconds']:.1f} s. "
        "sel@1: the pick is right on the hidden inputs (no pick counts as wrong); gap: gap "
        "closed = (sel@1 - random) / (oracle - random); false pos: verified but wrong on the "
        "hidden inputs, as a share of verified verdicts (count); abstain: verdict not "
        "verified; med s: median averify wall time per problem. "
        f"Machine: {mach['cpus']} CPUs, "
        f"{mach['machine']}, Linux {mach['kernel']}, Python {mach['python']}, load average "
        f"{mach['loadavg']}.[/dim]"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="HumanEval(+) JSONL")
    parser.add_argument("--limit", type=int, default=None, help="first N problems only")
    parser.add_argument(
        "--split",
        choices=("dev", "holdout", "all"),
        default="all",
        help="problems by a fixed hash of their id: tune on dev, quote holdout",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--candidates", type=int, default=5, help="candidates per pool")
    parser.add_argument("--correct", type=parse_rates, default=[0.2, 0.4, 0.6],
                        help="correct shares, comma-separated")  # fmt: skip
    parser.add_argument("--wrong-tests", type=float, default=0.2, help="share of wrong tests")
    parser.add_argument("--tests-per-candidate", type=int, default=5)
    parser.add_argument("--pool-size", type=int, default=max(2, os.cpu_count() or 2),
                        help="sandbox workers")  # fmt: skip
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.candidates < 1 or args.tests_per_candidate < 0 or args.pool_size < 1:
        parser.error("--candidates and --pool-size must be at least 1")
    if not 0.0 <= args.wrong_tests <= 1.0:
        parser.error("--wrong-tests must lie in [0, 1]")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    from multiagent_codeact.errors import DatasetError, SandboxError

    try:
        report = asyncio.run(bench(args))
    except DatasetError as exc:
        print(f"verify_selection: {exc}", file=sys.stderr)
        return 2
    except SandboxError as exc:
        print(f"verify_selection: the sandbox is unavailable: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        render(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
