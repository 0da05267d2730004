"""Per-job latency and throughput: our Sandbox, AutoGen's local executor, a bare subprocess.

    python benchmarks/sandbox_latency.py [--jobs N] [--json]

Three executors run the same two jobs (`print(1)` and a small numpy sum):

  sandbox          multiagent_codeact.sandbox.Sandbox, default hardened mode (bubblewrap, Landlock,
                   seccomp, rlimits), driven through `arun`
  autogen-local    autogen_ext's LocalCommandLineCodeExecutor in a temporary directory, through
                   its async `execute_code_blocks` (no isolation at all)
  subprocess       `subprocess.run([sys.executable, "-c", code])` (no isolation at all)

Every executor is warmed up first; timed runs are interleaved across executors so drift in the
machine's speed hits all of them alike. Then the pool is filled: pool_size * 10 jobs submitted at
once to our sandbox, and the same number to the local executor at the same concurrency.
Each job's output is checked, so a failing executor cannot pass for a fast one.

Interleaving flatters the sandbox: each of its jobs comes after an AutoGen job and a subprocess,
which gives its pool time to refill. So `print(1)` is also timed in the patterns a verifier
really produces, each executor on its own, ours and AutoGen's local executor in the same run:
back to back (the next job submitted the moment the last one answered), with a gap between jobs
(--gap-ms), and a burst (--burst-jobs spread over --callers concurrent callers, each back to
back). `print(1)` runs on the sandbox's lean workers (nothing it imports is preloaded); the
numpy job, also timed back to back, on the warm ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

JOBS: dict[str, str] = {
    "print(1)": "print(1)",
    "numpy sum": "import numpy as np\nprint(float(np.arange(1000).sum()))",
}
EXPECTED: dict[str, str] = {"print(1)": "1", "numpy sum": "499500.0"}
EXECUTORS = ("sandbox", "autogen-local", "subprocess")
LABELS = {  # short enough for an 80-column table; the footer names them in full
    "sandbox": "Sandbox (ours)",
    "autogen-local": "AutoGen Local",
    "subprocess": "subprocess.run",
}
WARMUP = 3
DEFAULT_JOBS = 30
DEFAULT_POOL = 4
DEFAULT_B2B = 1000
DEFAULT_GAP_MS = 20.0
DEFAULT_BURST = 200
DEFAULT_CALLERS = 4
PATTERN_EXECUTORS = ("sandbox", "autogen-local")

RunFn = Callable[[str], Awaitable[str]]


@dataclass
class Row:
    executor: str
    job: str
    n: int
    median_ms: float
    p90_ms: float
    mean_ms: float
    min_ms: float


@dataclass
class Throughput:
    executor: str
    job: str
    concurrency: int
    jobs: int
    seconds: float
    jobs_per_s: float


@dataclass
class PatternRow:
    executor: str
    pattern: str  # "back-to-back" or "gap N ms"
    n: int
    median_ms: float
    p90_ms: float


@dataclass
class Burst:
    executor: str
    callers: int
    jobs: int
    seconds: float
    jobs_per_s: float


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def unique(code: str, i: int) -> str:
    """The same job with a distinct trailing comment.

    The local executor names its script file after a hash of the code and deletes it after the
    run, so identical code submitted concurrently would race on one file.
    """
    return f"{code}\n# job {i}\n"


def check(executor: str, job: str, output: str) -> None:
    if output.strip() != EXPECTED[job]:
        raise RuntimeError(f"{executor} gave {output!r} for {job!r}, expected {EXPECTED[job]!r}")


class Executors:
    """The three executors behind one async call: code in, stdout out (raises on failure)."""

    def __init__(self, pool_size: int) -> None:
        self.pool_size = pool_size
        self._tmp = tempfile.TemporaryDirectory(prefix="mca-bench-")
        self.sandbox: Any = None
        self.local: Any = None

    async def start(self) -> None:
        from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

        from multiagent_codeact.sandbox import Sandbox

        self.sandbox = Sandbox(pool_size=self.pool_size)
        await self.sandbox.__aenter__()
        with warnings.catch_warnings():  # "may execute code on the local machine": we know
            warnings.simplefilter("ignore")
            self.local = LocalCommandLineCodeExecutor(work_dir=Path(self._tmp.name), timeout=60)
        await self.local.start()

    async def stop(self) -> None:
        if self.local is not None:
            await self.local.stop()
        if self.sandbox is not None:
            await self.sandbox.__aexit__(None, None, None)
        self._tmp.cleanup()

    def fn(self, name: str) -> RunFn:
        return {
            "sandbox": self.run_sandbox,
            "autogen-local": self.run_local,
            "subprocess": self.run_subprocess,
        }[name]

    async def run_sandbox(self, code: str) -> str:
        res = await self.sandbox.arun(code)
        if not res.ok:
            raise RuntimeError(f"sandbox job failed: {res.error}")
        return str(res.stdout)

    async def run_local(self, code: str) -> str:
        from autogen_core import CancellationToken
        from autogen_core.code_executor import CodeBlock

        res = await self.local.execute_code_blocks(
            [CodeBlock(code=code, language="python")], CancellationToken()
        )
        if res.exit_code != 0:
            raise RuntimeError(f"local executor job failed: {res.output}")
        return str(res.output)

    async def run_subprocess(self, code: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"subprocess job failed: {proc.stderr}")
        return proc.stdout


async def measure_latency(ex: Executors, jobs: int) -> list[Row]:
    rows: list[Row] = []
    serial = 0
    for job, code in JOBS.items():
        samples: dict[str, list[float]] = {name: [] for name in EXECUTORS}
        for name in EXECUTORS:
            for _ in range(WARMUP):
                serial += 1
                check(name, job, await ex.fn(name)(unique(code, serial)))
        for _ in range(jobs):
            for name in EXECUTORS:
                serial += 1
                source = unique(code, serial)
                t0 = time.perf_counter()
                out = await ex.fn(name)(source)
                samples[name].append((time.perf_counter() - t0) * 1000)
                check(name, job, out)
        for name in EXECUTORS:
            values = samples[name]
            rows.append(
                Row(
                    executor=name,
                    job=job,
                    n=len(values),
                    median_ms=statistics.median(values),
                    p90_ms=p90(values),
                    mean_ms=statistics.fmean(values),
                    min_ms=min(values),
                )
            )
    return rows


async def measure_throughput(ex: Executors) -> list[Throughput]:
    concurrency = ex.pool_size
    total = concurrency * 10
    results: list[Throughput] = []
    for job, code in JOBS.items():
        for name in ("sandbox", "autogen-local"):
            run = ex.fn(name)
            gate = asyncio.Semaphore(concurrency)  # the sandbox queues by itself; same bound

            async def one(
                i: int, run: RunFn = run, gate: asyncio.Semaphore = gate, code: str = code
            ) -> str:
                async with gate:
                    return await run(unique(code, 1_000_000 + i))

            t0 = time.perf_counter()
            outputs = await asyncio.gather(*(one(i) for i in range(total)))
            seconds = time.perf_counter() - t0
            for out in outputs:
                check(name, job, out)
            results.append(Throughput(name, job, concurrency, total, seconds, total / seconds))
    return results


async def measure_patterns(ex: Executors, n: int, gap_ms: float) -> list[PatternRow]:
    """Jobs in a row per executor: `print(1)` back to back and with a gap between jobs, then
    the numpy job back to back (n / 10 of it: it needs the warm workers, the slower pool)."""
    plan = [
        ("back-to-back", "print(1)", 0.0, n),
        (f"gap {gap_ms:g} ms", "print(1)", gap_ms, n),
        ("back-to-back, numpy", "numpy sum", 0.0, max(10, n // 10)),
    ]
    rows: list[PatternRow] = []
    serial = 2_000_000
    for pattern, job, gap, count in plan:
        code = JOBS[job]
        for name in PATTERN_EXECUTORS:
            run = ex.fn(name)
            for _ in range(WARMUP):
                serial += 1
                check(name, job, await run(unique(code, serial)))
            samples: list[float] = []
            for _ in range(count):
                serial += 1
                source = unique(code, serial)
                t0 = time.perf_counter()
                out = await run(source)
                samples.append((time.perf_counter() - t0) * 1000)
                check(name, job, out)
                if gap:
                    await asyncio.sleep(gap / 1000)
            rows.append(PatternRow(name, pattern, count, statistics.median(samples), p90(samples)))
    return rows


async def measure_burst(ex: Executors, jobs: int, callers: int) -> list[Burst]:
    """`jobs` print(1) jobs over `callers` concurrent callers, each submitting back to back."""
    code = JOBS["print(1)"]
    results: list[Burst] = []
    for name in PATTERN_EXECUTORS:
        run = ex.fn(name)

        async def caller(c: int, run: RunFn = run, name: str = name) -> None:
            for i in range(c, jobs, callers):
                check(name, "print(1)", await run(unique(code, 3_000_000 + i)))

        t0 = time.perf_counter()
        await asyncio.gather(*(caller(c) for c in range(callers)))
        seconds = time.perf_counter() - t0
        results.append(Burst(name, callers, jobs, seconds, jobs / seconds))
    return results


def pattern_ratios(rows: list[PatternRow]) -> dict[str, dict[str, float]]:
    """AutoGen's local executor over ours, per pattern: median and p90."""
    by = {(r.executor, r.pattern): r for r in rows}
    out: dict[str, dict[str, float]] = {}
    for pattern in dict.fromkeys(r.pattern for r in rows):
        ours, theirs = by[("sandbox", pattern)], by[("autogen-local", pattern)]
        out[pattern] = {
            "median": theirs.median_ms / ours.median_ms,
            "p90": theirs.p90_ms / ours.p90_ms,
        }
    return out


def ratios(rows: list[Row]) -> dict[str, dict[str, float]]:
    """Each other executor's median divided by our sandbox's, per job."""
    by = {(r.executor, r.job): r for r in rows}
    out: dict[str, dict[str, float]] = {}
    for job in JOBS:
        ours = by[("sandbox", job)].median_ms
        out[job] = {
            f"{name}_over_sandbox": by[(name, job)].median_ms / ours
            for name in EXECUTORS
            if name != "sandbox"
        }
    return out


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


async def bench(
    jobs: int,
    pool_size: int,
    *,
    b2b_jobs: int = DEFAULT_B2B,
    gap_ms: float = DEFAULT_GAP_MS,
    burst_jobs: int = DEFAULT_BURST,
    callers: int = DEFAULT_CALLERS,
) -> dict[str, Any]:
    host = machine()  # the load average before we add ours
    ex = Executors(pool_size)
    try:
        await ex.start()
        info = ex.sandbox.info
        rows = await measure_latency(ex, jobs)
        throughput = await measure_throughput(ex)
        patterns = await measure_patterns(ex, b2b_jobs, gap_ms)
        burst = await measure_burst(ex, burst_jobs, callers)
    finally:
        await ex.stop()
    return {
        "jobs_per_case": jobs,
        "pool_size": pool_size,
        "rows": [asdict(r) for r in rows],
        "throughput": [asdict(t) for t in throughput],
        "ratios": ratios(rows),
        "patterns": [asdict(r) for r in patterns],
        "pattern_ratios": pattern_ratios(patterns),
        "burst": [asdict(b) for b in burst],
        "isolation": {
            key: info.get(key) for key in ("isolation", "landlock_abi", "seccomp", "pid_namespace")
        },
        "machine": host,
    }


def render(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    rows = [Row(**r) for r in report["rows"]]
    ours = {r.job: r.median_ms for r in rows if r.executor == "sandbox"}
    table = Table(title=f"Per-job wall time, {report['jobs_per_case']} runs each (after warm-up)")
    for col in ("executor", "job", "median ms", "p90 ms", "min ms", "median / ours"):
        table.add_column(col, justify="left" if col in ("executor", "job") else "right")
    for r in rows:
        table.add_row(
            LABELS[r.executor],
            r.job,
            f"{r.median_ms:.2f}",
            f"{r.p90_ms:.2f}",
            f"{r.min_ms:.2f}",
            f"{r.median_ms / ours[r.job]:.1f}x",
        )
    console.print(table)

    tput = Table(title="Throughput with the pool full")
    for col in ("executor", "job", "concurrency", "jobs", "seconds", "jobs/s"):
        tput.add_column(col, justify="left" if col in ("executor", "job") else "right")
    for t in report["throughput"]:
        tput.add_row(
            LABELS[t["executor"]],
            t["job"],
            str(t["concurrency"]),
            str(t["jobs"]),
            f"{t['seconds']:.2f}",
            f"{t['jobs_per_s']:.1f}",
        )
    console.print(tput)

    pat = Table(title="Jobs as a verifier sends them: each executor on its own, same run")
    for col in ("executor", "pattern", "jobs", "median ms", "p90 ms", "AutoGen / ours"):
        pat.add_column(col, justify="left" if col in ("executor", "pattern") else "right")
    pr = report["pattern_ratios"]
    for r in report["patterns"]:
        ratio = pr[r["pattern"]]
        pat.add_row(
            LABELS[r["executor"]],
            r["pattern"],
            str(r["n"]),
            f"{r['median_ms']:.2f}",
            f"{r['p90_ms']:.2f}",
            f"{ratio['median']:.1f}x, p90 {ratio['p90']:.1f}x"
            if r["executor"] == "sandbox"
            else "",
        )
    for b in report["burst"]:
        pat.add_row(
            LABELS[b["executor"]],
            f"burst, {b['callers']} callers",
            str(b["jobs"]),
            f"{b['jobs_per_s']:.0f} jobs/s",
            "",
            "",
        )
    console.print(pat)

    for job, r in report["ratios"].items():
        console.print(
            f"{job}: LocalCommandLineCodeExecutor median is "
            f"[bold]{r['autogen-local_over_sandbox']:.1f}x[/bold] ours "
            f"(bare subprocess {r['subprocess_over_sandbox']:.1f}x)"
        )
    iso, mach = report["isolation"], report["machine"]
    layers = [
        f"isolation={iso['isolation']}",
        f"pid namespace={'yes' if iso['pid_namespace'] else 'no'}",
        f"Landlock ABI={iso['landlock_abi'] or 'none'}",
        f"seccomp={'on' if iso['seccomp'] else 'off'}",
        "rlimits=on",
    ]
    console.print(
        f"[dim]Sandbox (ours): multiagent_codeact.sandbox.Sandbox, pool of "
        f"{report['pool_size']}, isolation layers active: {', '.join(layers)}. "
        "AutoGen Local: autogen_ext LocalCommandLineCodeExecutor; subprocess.run: "
        f"{escape('[sys.executable, -c, code]')}; neither isolates anything. "
        f"Machine: {mach['cpus']} CPUs, {mach['machine']}, Linux {mach['kernel']}, "
        f"Python {mach['python']}, load average {mach['loadavg']}.[/dim]"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help="timed runs per row")
    parser.add_argument("--pool-size", type=int, default=DEFAULT_POOL, help="sandbox workers")
    parser.add_argument(
        "--b2b-jobs",
        type=int,
        default=None,
        help=f"jobs per back-to-back and gapped row (default {DEFAULT_B2B}; 10 x --jobs when "
        "--jobs is below its default)",
    )
    parser.add_argument("--gap-ms", type=float, default=DEFAULT_GAP_MS, help="gap between jobs")
    parser.add_argument(
        "--burst-jobs",
        type=int,
        default=None,
        help=f"jobs in the burst (default {DEFAULT_BURST}; 10 x --jobs when --jobs is below "
        "its default)",
    )
    parser.add_argument("--callers", type=int, default=DEFAULT_CALLERS, help="burst callers")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.pool_size < 1 or args.callers < 1 or args.gap_ms <= 0:
        parser.error("--jobs, --pool-size and --callers must be at least 1, --gap-ms above 0")
    small = args.jobs < DEFAULT_JOBS
    b2b = args.b2b_jobs or (10 * args.jobs if small else DEFAULT_B2B)
    burst = args.burst_jobs or (10 * args.jobs if small else DEFAULT_BURST)
    try:
        report = asyncio.run(
            bench(
                args.jobs,
                args.pool_size,
                b2b_jobs=b2b,
                gap_ms=args.gap_ms,
                burst_jobs=burst,
                callers=args.callers,
            )
        )
    except Exception as exc:
        from multiagent_codeact.errors import SandboxError

        if isinstance(exc, SandboxError):
            print(f"sandbox_latency: the sandbox is unavailable: {exc}", file=sys.stderr)
            return 2
        raise
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        render(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
