"""What input files cost: staging a set once, and each job that is given it.

    python benchmarks/input_files.py [--jobs N] [--sizes-mb 1,10,100] [--json]

Staging copies the user's files into the sandbox's read-only folder once per run; a job given
the set links each top-level name into its work dir. Rows:

  stage N MB          `Sandbox.input_files([one N MB file])`, median of 5 (the copy, then the
                      chmods)
  stage folder        a folder of 1,000 small files (4 KB each)
  job, no inputs      `result = 1` back to back, median and p90 over --jobs jobs
  job, 1 file         the same job given a staged set of one file
  job, folder + file  given a set of a folder (1,000 files) and a file: still two links
  job reads 10 MB     reading the 10 MB input whole (`len(open(...).read())`)

Job rows are interleaved, in a new random order each round, so drift in the machine's speed
hits all alike and no row always follows the same one.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from multiagent_codeact.sandbox import Limits, Sandbox


def _stage_ms(sb: Sandbox, path: Path, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        sb.input_files([path]).close()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--sizes-mb", default="1,10,100")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp, Sandbox(Limits(timeout_s=30), pool_size=2) as sb:
        root = Path(tmp)
        for mb in [int(s) for s in args.sizes_mb.split(",")]:
            path = root / f"data{mb}.bin"
            path.write_bytes(b"x" * (mb * 1024 * 1024))
            stage = _stage_ms(sb, path)
            rows.append({"row": f"stage {mb} MB", "median_ms": stage})
        folder = root / "logs"
        folder.mkdir()
        for i in range(1000):
            (folder / f"{i:04}.log").write_bytes(b"l" * 4096)
        stage = _stage_ms(sb, folder)
        rows.append({"row": "stage folder of 1,000 files", "median_ms": stage})

        (root / "small.csv").write_text("a,b\n1,2\n")
        (root / "big.bin").write_bytes(b"x" * (10 * 1024 * 1024))
        one = sb.input_files([root / "small.csv"])
        both = sb.input_files([folder, root / "big.bin"])
        jobs: dict[str, tuple[str, object]] = {
            "job, no inputs": ("result = 1", None),
            "job, 1 file": ("result = 1", one),
            "job, folder + file": ("result = 1", both),
            "job reads 10 MB": ("result = len(open('big.bin', 'rb').read())", both),
        }
        times: dict[str, list[float]] = {name: [] for name in jobs}
        for _ in range(10):  # warm-up
            for code, given in jobs.values():
                sb.run(code, inputs=given)  # type: ignore[arg-type]
        order = list(jobs)
        for _ in range(args.jobs):
            random.shuffle(order)  # no row always follows the same one
            for name in order:
                code, given = jobs[name]
                started = time.perf_counter()
                run = sb.run(code, inputs=given)  # type: ignore[arg-type]
                times[name].append((time.perf_counter() - started) * 1000)
                assert run.ok, (name, run.error)
        base = statistics.median(times["job, no inputs"])
        for name, values in times.items():
            med = statistics.median(values)
            rows.append(
                {"row": name, "median_ms": med, "p90_ms": _p90(values), "added_ms": med - base}
            )
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'row':<30} {'median ms':>10} {'p90 ms':>8} {'added ms':>9}")
    for r in rows:
        p90 = f"{r['p90_ms']:.2f}" if "p90_ms" in r else ""
        added = f"{r['added_ms']:+.2f}" if "added_ms" in r else ""
        print(f"{r['row']:<30} {r['median_ms']:>10.2f} {p90:>8} {added:>9}")


if __name__ == "__main__":
    main()
