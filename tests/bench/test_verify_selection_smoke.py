"""Smoke test of benchmarks/verify_selection.py on a tiny inline dataset.

No quality assertions: only that the script runs end to end with the real verifier, prints its
tables, caches the pool material, and that its JSON has the shape the closing note quotes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "verify_selection.py"

PROBLEMS: list[dict[str, Any]] = [
    {
        "task_id": "Tiny/0",
        "prompt": (
            "def count_big(xs: list, k: int) -> int:\n"
            '    """How many items of xs are greater than k.\n'
            "    >>> count_big([1, 5, 7], 4)\n    2\n"
            '    """\n'
        ),
        "entry_point": "count_big",
        "canonical_solution": (
            "    n = 0\n    for x in xs:\n        if x > k:\n            n += 1\n    return n\n"
        ),
        "test": "",
        "base_input": [[[1, 5, 7], 4], [[], 0], [[3, 3, 3], 2], [[-1, 0, 1], 0], [[9], 9]],
        "plus_input": [[[2, 4, 6, 8], 5], [[0], -1], [[5, 5], 5]],
        "atol": 0,
    },
    {
        "task_id": "Tiny/1",
        "prompt": (
            "def mean(xs: list) -> float:\n"
            '    """The arithmetic mean of a non-empty list.\n'
            "    >>> mean([1.0, 2.0])\n    1.5\n"
            '    """\n'
        ),
        "entry_point": "mean",
        "canonical_solution": (
            "    total = 0.0\n    for x in xs:\n        total += x\n    return total / len(xs)\n"
        ),
        "test": "",
        "base_input": [[[1.0, 2.0]], [[3.0]], [[0.1, 0.2, 0.3]], [[-2.0, 2.0, 5.0]]],
        "plus_input": [[[1e9, 1.0]], [[0.5, 0.25]]],
        "atol": 0,
    },
    {
        "task_id": "Tiny/2",  # left out by --limit 2
        "prompt": "def ident(x: int) -> int:\n",
        "entry_point": "ident",
        "canonical_solution": "    return x\n",
        "test": "",
        "base_input": [[1]],
        "plus_input": [],
        "atol": 0,
    },
]


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120", "NO_COLOR": "1"},
    )


@pytest.mark.slow
def test_verify_selection_smoke(tmp_path: Path) -> None:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    dataset = tmp_path / "tiny.jsonl"
    dataset.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS), encoding="utf-8")
    common = ["--dataset", str(dataset), "--limit", "2", "--cache-dir", str(tmp_path / "cache")]
    common += ["--candidates", "4", "--correct", "0.25,0.5", "--quiet"]

    proc = run(common)
    if proc.returncode == 2 and "unavailable" in proc.stderr:
        pytest.skip(proc.stderr.strip())
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "4 candidates, 25% correct, 20% of tests wrong: 2 problems" in out
    assert "4 candidates, 50% correct" in out and "All settings" in out
    for row in ("random (pass@1)", "oracle", "verifier", "CodeT-only", "majority-only"):
        assert row in out
    assert "Cache: 0 hits, 2 built" in out
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2

    proc = run([*common, "--json"])
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["cache"]["hits"] == 2 and report["cache"]["misses"] == 0
    assert [s["correct_rate"] for s in report["settings"]] == [0.25, 0.5]
    for setting in report["settings"]:
        summary = setting["summary"]
        assert summary["problems"] + len(setting["skipped"]) == 2
        assert {r["task_id"] for r in setting["results"]} <= {"Tiny/0", "Tiny/1"}
        assert 0.0 <= summary["random"] <= summary["oracle"] <= 1.0
        assert set(summary["baselines"]) == {"codet", "majority"}
        assert summary["median_seconds"] > 0
    assert report["material"]["problems"] == 2


def test_bad_dataset_is_reported(tmp_path: Path) -> None:
    proc = run(["--dataset", str(tmp_path / "missing.jsonl"), "--quiet"])
    assert proc.returncode == 2
    assert "dataset not found" in proc.stderr and "missing.jsonl" in proc.stderr
