"""Smoke test of benchmarks/optimizer.py: three cases end to end, as JSON.

No speed assertions beyond what the acceptance rule itself guarantees: wrong rewrites are never
kept, and what was accepted is faster by the required factor.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "optimizer.py"


@pytest.mark.slow
def test_optimizer_benchmark_json_smoke() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--json", "--cases", "count_pairs", "fib", "total",
         "--stop-s", "0.02", "--inputs", "40", "--hidden", "50"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    rows = {r["case"]: r for r in report["rows"]}
    assert set(rows) == {"count_pairs", "fib", "total"}
    assert rows["count_pairs"]["status"] == "accepted"
    assert [r["kind"] for r in rows["count_pairs"]["rejected"]] == [
        "test"
    ]  # the wrong-faster offer
    assert rows["fib"]["status"] == "accepted"
    # The slower offer is exponential: on the grown inputs it is slower or runs out of time.
    assert [r["kind"] for r in rows["fib"]["rejected"]] in (["slower", "test"], ["hangs", "test"])
    assert rows["total"]["status"] == "already_fast" and rows["total"]["model_calls"] == 0
    summary = report["summary"]
    assert summary["pass_to_fail"] == 0 and summary["wrong_rewrites_kept"] == 0
    assert summary["optimized"] == 2 and summary["speedup_net"] > 1.1
