"""Lean and full workers: which jobs go where, and that both are the same sandbox to a job.

A job that imports none of the preloads runs on a worker forked before they were imported
(cheaper to fork and tear down, which is what bounds jobs back to back); everything else runs
on a warm one. The choice may cost speed, never a result or a layer of isolation.
"""

from __future__ import annotations

import ast
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from multiagent_codeact.errors import SandboxUnavailableError
from multiagent_codeact.sandbox import Limits, Sandbox
from multiagent_codeact.sandbox.tiers import source_imports, tier_for

PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot")
SEES_NUMPY = "import sys\nresult = 'numpy' in sys.modules\n"


@pytest.mark.parametrize(
    ("code", "declared", "tier"),
    [
        ("print(1)", None, "lean"),
        ("import math, json\nprint(math.pi)", None, "lean"),
        ("import numpy as np", None, "full"),
        ("from matplotlib import pyplot", None, "full"),
        ("def f():\n    import numpy\n    return numpy", None, "full"),
        ("np = __import__('numpy')", None, "full"),
        ("m = __import__('math')", None, "lean"),
        ("import importlib\nm = importlib.import_module(name)", None, "full"),
        ("exec(source)", None, "full"),
        ("exec(source)", [], "lean"),  # the caller vouches for what the source imports
        ("exec(source)", ["numpy.linalg"], "full"),
        ("import runpy\nrunpy.run_path('x.py')", None, "full"),
    ],
)
def test_tier_follows_what_the_job_imports(
    code: str, declared: list[str] | None, tier: str
) -> None:
    assert tier_for(ast.parse(code), PRELOAD, declared) == tier


def test_without_preloads_everything_is_lean() -> None:
    assert tier_for(ast.parse("exec(s)"), (), None) == "full"  # the server has one tier then
    assert tier_for(ast.parse("import numpy"), (), None) == "lean"


def test_source_imports_skips_what_does_not_parse() -> None:
    assert source_imports("import numpy.linalg", "from os import path", "def (") == {"numpy", "os"}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    box = Sandbox(Limits(timeout_s=20.0, memory_mb=300), pool_size=2)
    try:
        box.start()
    except SandboxUnavailableError as exc:
        pytest.skip(f"sandbox unavailable here: {exc}")
    try:
        yield box
    finally:
        box.close()


def test_a_job_without_preloads_runs_on_a_worker_that_never_loaded_them(sb: Sandbox) -> None:
    assert sb.info["tiers"] == ["full", "lean"]
    assert sb.run(SEES_NUMPY).result is False
    assert sb.run("import numpy\n" + SEES_NUMPY).result is True
    # The harness pattern: code run through exec is full unless the caller says otherwise.
    assert sb.run("exec('x = 1')\n" + SEES_NUMPY).result is True
    assert sb.run("exec('x = 1')\n" + SEES_NUMPY, imports=["json"]).result is False


def test_a_misjudged_job_still_imports_the_preload_cold(sb: Sandbox) -> None:
    code = "np = __import__('nu' + 'mpy')\nresult = int(np.arange(5).sum())\n"
    res = sb.run(code, imports=[])
    assert res.error is None, res.stderr
    assert res.result == 10


@pytest.mark.parametrize("prefix", ["", "import numpy\n"], ids=["lean", "full"])
def test_the_memory_limit_is_the_same_on_both_tiers(sb: Sandbox, prefix: str) -> None:
    fits = sb.run(prefix + "block = bytearray(200 * 1024 * 1024)\nresult = len(block)\n")
    assert fits.error is None, fits.stderr
    over = sb.run(prefix + "block = bytearray(600 * 1024 * 1024)\n")
    assert over.error is not None and over.error.type == "MemoryError"
    assert "memory limit of 300 MB" in over.error.message


def test_lean_and_full_jobs_cannot_see_each_other(sb: Sandbox) -> None:
    """A lean and a full job side by side: distinct uids, and neither reads the other's dir."""
    writer = (
        "import os, time, numpy\n"
        "open('secret.txt', 'w').write('full')\n"
        "time.sleep(1.0)\n"
        "result = [os.getuid(), os.getcwd()]\n"
    )
    with ThreadPoolExecutor(2) as pool:
        full = pool.submit(sb.run, writer)
        time.sleep(0.4)
        snoop = (
            "import os\n"
            "root = os.path.dirname(os.getcwd())\n"
            "try:\n"
            "    names = os.listdir(root)\n"
            "except OSError as e:\n"
            "    names = [type(e).__name__]\n"
            "seen = []\n"
            "for t in ('full', 'lean'):\n"
            "    for i in range(64):\n"
            "        for d in (f'{t}-{i}',) + tuple(n for n in names if n.startswith('u')):\n"
            "            try:\n"
            "                seen.append(open(os.path.join(root, d, 'secret.txt')).read())\n"
            "            except OSError:\n"
            "                pass\n"
            "result = [os.getuid(), os.getcwd(), seen]\n"
        )
        lean = pool.submit(sb.run, snoop)
        full_res, lean_res = full.result(timeout=60), lean.result(timeout=60)
    assert full_res.error is None and lean_res.error is None, (full_res.stderr, lean_res.stderr)
    full_uid, full_dir = full_res.result
    lean_uid, lean_dir, seen = lean_res.result
    assert full_dir != lean_dir
    assert seen == []
    if sb.info.get("per_job_uids"):
        assert full_uid != lean_uid


def test_a_sandbox_without_preloads_has_one_tier() -> None:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    try:
        with Sandbox(preload=(), pool_size=1) as box:
            assert box.info["tiers"] == ["full"]
            assert box.run("import numpy\nresult = int(numpy.ones(3).sum())").result == 3
    except SandboxUnavailableError as exc:
        pytest.skip(f"sandbox unavailable here: {exc}")
