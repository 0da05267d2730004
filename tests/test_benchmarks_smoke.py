"""Smoke test of benchmarks/sandbox_latency.py: it runs end to end and reports every row.

No timing assertions: only that each (executor, job) row exists with positive numbers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "sandbox_latency.py"
EXECUTORS = {"sandbox", "autogen-local", "subprocess"}
JOBS = {"print(1)", "numpy sum"}


@pytest.mark.slow
def test_latency_benchmark_json_smoke() -> None:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--jobs", "2", "--pool-size", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode == 2 and "unavailable" in proc.stderr:
        pytest.skip(proc.stderr.strip())
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)

    rows = {(r["executor"], r["job"]): r for r in report["rows"]}
    assert set(rows) == {(e, j) for e in EXECUTORS for j in JOBS}
    for key, row in rows.items():
        assert row["n"] == 2, key
        for field in ("median_ms", "p90_ms", "mean_ms", "min_ms"):
            assert row[field] > 0, (key, field, row)
        assert row["p90_ms"] >= row["median_ms"] >= row["min_ms"], (key, row)

    tput = {(t["executor"], t["job"]): t for t in report["throughput"]}
    assert set(tput) == {(e, j) for e in ("sandbox", "autogen-local") for j in JOBS}
    for key, t in tput.items():
        assert t["concurrency"] == 2 and t["jobs"] == 20, key
        assert t["seconds"] > 0 and t["jobs_per_s"] > 0, (key, t)

    for job in JOBS:
        assert report["ratios"][job]["autogen-local_over_sandbox"] > 0
        assert report["ratios"][job]["subprocess_over_sandbox"] > 0
    patterns = {(r["executor"], r["pattern"]) for r in report["patterns"]}
    kinds = {"back-to-back", "back-to-back, numpy"} | {
        r["pattern"] for r in report["patterns"] if r["pattern"].startswith("gap ")
    }
    assert len(kinds) == 3
    assert patterns == {(e, k) for e in ("sandbox", "autogen-local") for k in kinds}
    assert set(report["pattern_ratios"]) == kinds
    assert report["isolation"]["isolation"] == "bwrap"
    assert set(report["isolation"]) == {"isolation", "landlock_abi", "seccomp", "pid_namespace"}


PIPELINE = Path(__file__).resolve().parents[1] / "benchmarks" / "pipeline.py"


@pytest.mark.slow
def test_pipeline_benchmark_timing_smoke() -> None:
    """The timing part: three tasks through solve(), each with its rounds and critical path."""
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    proc = subprocess.run(
        [sys.executable, str(PIPELINE), "--latency", "0.2", "--pool-size", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    rows = {r["task"]: r for r in report["latency"]}
    assert set(rows) == {"function, one round", "function, one repair", "computation"}
    assert rows["function, one repair"]["rounds"] == 2
    for name, row in rows.items():
        # Concurrent calls: the wall time is at least the critical path, and the critical path
        # is shorter than asking every agent one after another.
        assert row["wall_s"] >= row["critical_s"] >= 0.2 * row["rounds"], (name, row)
        assert row["sequential_s"] > row["critical_s"], (name, row)
    assert report["quality"] is None  # no dataset given
