"""The sandbox contract (DESIGN.md §5): results, errors, files, artifacts, concurrency."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator

import pytest

from multiagent_codeact.errors import SandboxClosedError
from multiagent_codeact.sandbox import Limits, ProcessIsolationWarning, Sandbox

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(Limits(timeout_s=5, memory_mb=256), pool_size=3) as sandbox:
        yield sandbox


def test_result_stdout_and_the_codeact_result_variable(sb: Sandbox) -> None:
    r = sb.run("x = 2 + 2\nprint('x is', x)\nresult = {'x': x, 'xs': (1, 2)}")
    assert r.ok
    assert r.exit_code == 0
    assert r.stdout == "x is 4\n"
    assert r.result == {"x": 4, "xs": [1, 2]}
    assert r.duration_ms > 0
    assert r.error is None and not r.timed_out


def test_numpy_values_become_json(sb: Sandbox) -> None:
    r = sb.run("import numpy as np\nresult = [np.float64(0.5), np.arange(3), {1, 2}]")
    assert r.result == [0.5, [0, 1, 2], [1, 2]]


def test_unserializable_result_is_reported_not_lost(sb: Sandbox) -> None:
    r = sb.run("class Thing: pass\nresult = Thing()")
    assert r.exit_code == 0
    assert r.error is not None and r.error.type == "ResultNotSerializable"
    assert "Thing" in r.error.message


def test_exception_traceback_is_trimmed_to_user_code(sb: Sandbox) -> None:
    r = sb.run("def f(n):\n    return 10 // n\n\nprint('before')\nf(0)\n")
    assert r.exit_code == 1 and not r.ok
    assert r.stdout == "before\n"
    assert r.error is not None
    assert r.error.type == "ZeroDivisionError"
    assert r.error.line == 2
    assert 'File "<code>", line 5' in r.error.traceback
    assert "return 10 // n" in r.error.traceback  # the source line is shown
    assert "jail" not in r.error.traceback and "server.py" not in r.error.traceback
    assert "ZeroDivisionError" in r.stderr


def test_syntax_error_is_refused_before_running(sb: Sandbox) -> None:
    r = sb.run("def f(:\n  pass")
    assert r.error is not None and r.error.type == "SyntaxError"
    assert r.error.line == 1


def test_sys_exit_sets_exit_code_without_error(sb: Sandbox) -> None:
    r = sb.run("import sys\nprint('bye')\nsys.exit(3)")
    assert r.exit_code == 3
    assert r.stdout == "bye\n"
    assert r.error is None


def test_input_files_are_readable_and_written_files_come_back(sb: Sandbox) -> None:
    code = (
        "import csv\n"
        "rows = list(csv.reader(open('data/in.csv')))\n"
        "open('out.txt', 'w').write(str(len(rows)))\n"
        "result = rows[1]"
    )
    r = sb.run(code, files={"data/in.csv": "a,b\n1,2\n", "unused.bin": b"\x00\x01"})
    assert r.ok, r.stderr
    assert r.result == ["1", "2"]
    names = {a.name: a for a in r.artifacts}
    assert set(names) == {"out.txt"}  # unchanged inputs are not echoed back
    assert names["out.txt"].data == b"2"
    assert names["out.txt"].mime_type == "text/plain"


def test_input_file_names_cannot_escape_the_work_dir(sb: Sandbox) -> None:
    r = sb.run("result = 1", files={"../escape.txt": "x"})
    assert r.error is not None and r.error.type == "InvalidInput"
    assert "relative" in r.error.message


def test_sine_wave_plot_returns_a_png(sb: Sandbox) -> None:
    code = (
        "import numpy as np\nimport matplotlib.pyplot as plt\n"
        "x = np.linspace(0, 2 * np.pi, 200)\n"
        "plt.plot(x, np.sin(x))\nplt.title('sine')\n"
        "result = float(np.sin(np.pi / 2))"
    )
    r = sb.run(code)
    assert r.ok, r.stderr
    assert r.result == 1.0
    png = r.artifact("figure_1.png")
    assert png.mime_type == "image/png"
    assert png.data.startswith(PNG_MAGIC)
    assert png.size > 5_000
    # Figures do not leak into the next job.
    assert sb.run("import matplotlib.pyplot as plt\nresult = plt.get_fignums()").result == []


def test_jobs_do_not_share_state(sb: Sandbox) -> None:
    sb.run("import math\nmath.pi = 3\nopen('left.txt', 'w').write('x')\nGLOBAL = 1")
    r = sb.run("import math, os\nresult = [math.pi, os.listdir('.'), 'GLOBAL' in globals()]")
    assert r.result == [pytest.approx(3.141592653589793), [], False]


def test_allowed_import_list_is_explained(sb: Sandbox) -> None:
    r = sb.run("import json\nimport socket\n")
    assert r.error is not None and r.error.type == "ImportNotAllowed"
    assert r.error.line == 2
    assert "'socket' is not allowed" in r.error.message
    assert "json" in r.error.message  # the allowed list is named
    assert "allow_imports" in r.error.message  # and how to change it


def test_timeout_kills_and_reports(sb: Sandbox) -> None:
    start = time.monotonic()
    r = sb.run("while True: pass", limits=Limits(timeout_s=0.5, cpu_s=5))
    elapsed = time.monotonic() - start
    assert r.timed_out
    assert r.error is not None and r.error.type == "Timeout"
    assert "0.5 s" in r.error.message
    assert elapsed < 3.0


def test_output_is_capped_with_a_marker(sb: Sandbox) -> None:
    r = sb.run("print('x' * 50_000)", limits=Limits(output_bytes=2048))
    assert r.truncated
    assert r.stdout.startswith("x" * 2048)
    assert "output truncated" in r.stdout
    assert len(r.stdout) < 3000


def test_concurrent_runs_from_threads_overlap(sb: Sandbox) -> None:
    results: list[float] = []

    def job() -> None:
        r = sb.run("import time\ntime.sleep(0.4)\nresult = 1")
        assert r.result == 1
        results.append(r.duration_ms)

    start = time.monotonic()
    threads = [threading.Thread(target=job) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    assert time.monotonic() - start < 1.1  # three 0.4 s jobs side by side, not 1.2 s in a row


def test_more_jobs_than_the_pool_queue_and_all_finish(sb: Sandbox) -> None:
    async def many() -> list[object]:
        rs = await asyncio.gather(*(sb.arun(f"result = {i} * {i}") for i in range(12)))
        return [r.result for r in rs]

    assert asyncio.run(many()) == [i * i for i in range(12)]


async def test_async_context_manager_and_cancellation() -> None:
    async with Sandbox(Limits(timeout_s=10), pool_size=1) as sandbox:
        task = asyncio.create_task(sandbox.arun("import time\ntime.sleep(8)"))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        start = time.monotonic()
        r = await sandbox.arun("result = 'next'")  # the single slot was freed by the kill
        assert r.result == "next"
        assert time.monotonic() - start < 3


def test_server_crash_fails_the_job_clearly_and_the_sandbox_recovers() -> None:
    with Sandbox(Limits(timeout_s=5), pool_size=2) as sandbox:
        server_pid = sandbox.info["pid"]
        assert sandbox.run("result = 1").result == 1
        # Simulate the server dying under a running job, from the host side.
        slow = threading.Thread(
            target=lambda: out.append(sandbox.run("import time; time.sleep(3)"))
        )
        out: list[object] = []
        slow.start()
        time.sleep(0.3)
        proc = sandbox._server._proc  # type: ignore[union-attr]
        assert proc is not None
        os.killpg(proc.pid, 9)
        slow.join(10)
        crashed = out[0]
        assert crashed.error is not None  # type: ignore[attr-defined]
        assert crashed.error.type == "SandboxCrashed"  # type: ignore[attr-defined]
        assert "restarted" in crashed.error.message  # type: ignore[attr-defined]
        assert sandbox.run("result = 2").result == 2
        assert sandbox.restarts == 1
        assert sandbox.info["pid"] == server_pid  # a new server in a new pid namespace


def test_closed_sandbox_refuses_with_a_clear_error() -> None:
    sandbox = Sandbox()
    sandbox.close()
    with pytest.raises(SandboxClosedError, match="closed"):
        sandbox.run("result = 1")


def test_process_isolation_is_opt_in_and_warns() -> None:
    with pytest.warns(ProcessIsolationWarning, match="without namespaces"):
        sandbox = Sandbox(isolation="process", pool_size=1).start()
    try:
        r = sandbox.run("import os\nresult = os.environ.get('HOME')")
        assert r.ok and r.result
        assert sandbox.info["isolation"] == "process"
    finally:
        sandbox.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pool_size": 0}, "pool_size must be at least 1"),
        ({"isolation": "docker"}, "isolation must be 'bwrap' or 'process'"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Sandbox(**kwargs)  # type: ignore[arg-type]


def test_limits_reject_unknown_and_out_of_range_fields() -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        Limits(timeout_s=-1)
    with pytest.raises(ValueError, match="extra"):
        Limits(timeout=5)  # type: ignore[call-arg]


def test_temp_files_and_home_point_into_the_work_dir(sb: Sandbox) -> None:
    code = (
        "import os, tempfile\n"
        "with tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False) as f:\n"
        "    f.write('t')\n"
        "result = [os.path.dirname(f.name) == os.getcwd(), os.environ['HOME'] == os.getcwd()]"
    )
    r = sb.run(code)
    assert r.ok, r.stderr
    assert r.result == [True, True]


async def test_cancelling_a_running_job_frees_its_slot_for_a_queued_one() -> None:
    async with Sandbox(Limits(timeout_s=8), pool_size=1) as sandbox:
        slow = asyncio.create_task(sandbox.arun("import time\ntime.sleep(6)"))
        await asyncio.sleep(0.5)
        queued = asyncio.create_task(sandbox.arun("result = 'next'"))
        await asyncio.sleep(0.3)
        start = time.monotonic()
        slow.cancel()
        r = await queued
        assert r.result == "next"
        assert time.monotonic() - start < 2.0  # not after the slow job's 6 s
