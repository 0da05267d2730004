"""`mcodeact bench` through the console-script entry point (and as a real process that is
killed with SIGKILL halfway), with model replies scripted on loopback and the real sandbox."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from multiagent_codeact.cli import main

from .conftest import SETTINGS, results_rows, rows, script, write_jsonl, write_yaml

ROOT = Path(__file__).resolve().parents[2]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    assert isinstance(code, int)
    return code, out, err


def setup_files(
    tmp_path: Path, n: int, *, delay_s: float = 0.0, strict: tuple[str, ...] = ()
) -> tuple[Path, Path, Path]:
    """The task rows, the script that answers them, and the quick pipeline settings."""
    tasks = write_jsonl(tmp_path / "tasks.jsonl", rows(n, strict=strict))
    scripted = write_yaml(tmp_path / "script.yaml", script(delay_s))
    config = write_yaml(tmp_path / "pipeline.yaml", SETTINGS)
    return tasks, scripted, config


def test_bench_prints_a_summary_and_records_a_parent_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks, scripted, config = setup_files(tmp_path, 4, strict=("sq-2",))
    runs, results = tmp_path / "runs", tmp_path / "r.jsonl"
    code, out, err = cli(
        capsys, "bench", str(tasks), "--scripted", str(scripted), "--config", str(config),
        "--results", str(results), "--runs-dir", str(runs), "--concurrency", "2",
    )  # fmt: skip
    assert code == 0, err  # every task verified (one of them fails its hidden test)
    assert "model replies are SCRIPTED" in err
    assert re.search(r"✓ sq-1  verified  hidden: pass  [\d.]+ s  \[\d/4\]", err)
    assert "✓ sq-2  verified  hidden: FAIL" in err
    assert re.search(r"verified +4 of 4 \(100%\)", out)
    assert re.search(r"hidden tests +3 of 4 passed \(75\.0%\)", out)
    assert re.search(r"cost +unknown \(no price for the model\)", out)
    assert re.search(r"seconds per task +p50 [\d.]+ · p95 [\d.]+", out)
    assert f"results: {results}" in out
    assert len(results_rows(results)) == 4
    found = re.search(r"next: mcodeact runs show (\S+) --runs-dir (\S+)", out)
    assert found is not None and found.group(2) == str(runs)
    batch_id = found.group(1)
    # `runs show` of the bench: a table of its tasks, each with its own run to show next.
    code, shown, _ = cli(capsys, "runs", "show", batch_id, "--runs-dir", str(runs))
    assert code == 0
    assert f"run      {batch_id} · finished" in shown
    assert "bench: 4 tasks from tasks.jsonl" in shown
    table = shown[shown.index("task ") :]
    task_runs = {str(r["task_id"]): str(r["run_id"]) for r in results_rows(results)}
    for task_id, run_id in task_runs.items():
        line = next(line for line in table.splitlines() if line.startswith(task_id + " "))
        assert "verified" in line and run_id in line
        assert ("FAIL" if task_id == "sq-2" else "pass") in line
    code, one, _ = cli(capsys, "runs", "show", task_runs["sq-1"], "--runs-dir", str(runs))
    assert code == 0 and "verdict  verified" in one
    # The HTML report links every task to its own report.
    code, html, _ = cli(capsys, "runs", "export", batch_id, "-f", "html", "--runs-dir", str(runs))
    assert code == 0 and html.startswith("<!DOCTYPE html>")
    for run_id in task_runs.values():
        assert f'<a href="{run_id}.html">{run_id}</a>' in html
    assert "3/4" in html  # hidden tests passed


def test_json_output_is_only_json_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks, scripted, config = setup_files(tmp_path, 2)
    results = tmp_path / "r.jsonl"
    code, out, err = cli(
        capsys, "bench", str(tasks), "--scripted", str(scripted), "--config", str(config),
        "--results", str(results), "--runs-dir", str(tmp_path / "runs"), "--json",
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert payload["summary"]["verified"] == 2 and payload["summary"]["pass_rate"] == 1.0
    assert [r["task_id"] for r in payload["rows"]] == ["sq-1", "sq-2"]
    assert "code" not in payload["rows"][0]  # the code is in the results file and the runs
    assert "bench summary" in err


def test_an_existing_results_file_needs_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks, scripted, config = setup_files(tmp_path, 1)
    results = tmp_path / "r.jsonl"
    args = ["bench", str(tasks), "--scripted", str(scripted), "--config", str(config)]
    args += ["--results", str(results), "--runs-dir", str(tmp_path / "runs")]
    assert cli(capsys, *args)[0] == 0
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == ""
    assert f"\nmcodeact: error: {results} already holds results; pass --resume" in err
    code, out, _ = cli(capsys, *args, "--resume")
    assert code == 0 and "(1 rows from before)" in out
    assert len(results_rows(results)) == 1


def test_a_malformed_task_row_is_exit_2_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps(rows(1)[0]) + '\n{"task_id": "x", "prompt": ""}\n')
    code, out, err = cli(capsys, "bench", str(tasks), "--results", str(tmp_path / "r.jsonl"))
    assert code == 2 and out == ""
    assert err.startswith(f"mcodeact: error: {tasks}:2: prompt: String should have at least 1")
    assert err.count("\n") == 1
    assert not (tmp_path / "r.jsonl").exists()  # nothing was started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_a_broken_endpoint_exits_2_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks, _, config = setup_files(tmp_path, 8)
    results = tmp_path / "r.jsonl"
    started = time.monotonic()
    code, out, err = cli(
        capsys, "bench", str(tasks), "--config", str(config), "--model", "m",
        "--base-url", f"http://127.0.0.1:{free_port()}/v1", "--results", str(results),
        "--runs-dir", str(tmp_path / "runs"), "--concurrency", "4",
    )  # fmt: skip
    assert code == 2, err
    assert time.monotonic() - started < 20
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("mcodeact: error: ") and "connection refused" in err
    assert results.read_text() == ""


def start_bench(tmp_path: Path, args: list[str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCODEACT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "multiagent_codeact", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its sandbox too: the whole group can get the SIGKILL
    )


def wait_for_rows(process: subprocess.Popen[bytes], results: Path, count: int) -> None:
    """Until the results file has `count` rows: another process's file, nothing to await."""
    deadline = time.monotonic() + 90
    while _rows_in(results) < count:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "")
        assert time.monotonic() < deadline, f"the batch did not write {count} rows"
        time.sleep(0.05)


def test_ctrl_c_keeps_the_rows_and_says_how_to_resume(tmp_path: Path) -> None:
    tasks, scripted, config = setup_files(tmp_path, 8, delay_s=0.3)
    results = tmp_path / "out" / "r.jsonl"
    args = ["bench", str(tasks), "--scripted", str(scripted), "--config", str(config)]
    args += ["--results", str(results), "--runs-dir", str(tmp_path / "runs")]
    process = start_bench(tmp_path, args)
    try:
        wait_for_rows(process, results, 2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 130
    last = err.decode().strip().splitlines()[-1]
    kept = len(results_rows(results))
    assert kept >= 2
    assert last == (
        f"mcodeact: interrupted (Ctrl-C): {kept} of 8 tasks are recorded in {results}; "
        f"resume with: mcodeact bench {tasks} --resume --results {results}"
    )


def test_resume_after_kill_9_records_every_task_exactly_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    n = 8
    tasks, scripted, config = setup_files(tmp_path, n, delay_s=0.3)
    runs, results = tmp_path / "runs", tmp_path / "r.jsonl"
    args = ["bench", str(tasks), "--scripted", str(scripted), "--config", str(config)]
    args += ["--results", str(results), "--runs-dir", str(runs), "--concurrency", "2"]
    process = start_bench(tmp_path, args)
    try:
        wait_for_rows(process, results, n // 2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    before = results_rows(results)
    assert n // 2 <= len(before) < n
    done = {str(r["task_id"]) for r in before}
    todo = next(f"sq-{i}" for i in range(1, n + 1) if f"sq-{i}" not in done)
    with results.open("ab") as f:  # the write that the kill cut short
        f.write(json.dumps({"task_id": todo, "verdict": "verified"}).encode()[:25])
    code, out, err = cli(capsys, *args, "--resume")
    assert code == 0, err
    assert f"resuming: {len(before)} of {n} tasks already have a row" in err
    after = results_rows(results)  # every line whole: the torn one is gone
    assert sorted(str(r["task_id"]) for r in after) == sorted(f"sq-{i}" for i in range(1, n + 1))
    assert after[: len(before)] == before  # the rows from before the kill, as they were
    assert re.search(rf"verified +{n} of {n}", out)


def _rows_in(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0
