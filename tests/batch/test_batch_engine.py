"""arun_batch end to end in-process: the real openai client and agents against a scripted server
on loopback, one shared sandbox, real files and a real run store."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from multiagent_codeact import Verdict
from multiagent_codeact.batch import BatchReport, BatchRow, arun_batch, load_tasks
from multiagent_codeact.domain import Solution, Task
from multiagent_codeact.errors import ModelConnectionError
from multiagent_codeact.models import ModelConfig
from multiagent_codeact.pipeline import asolve
from multiagent_codeact.runlog import RunStore
from multiagent_codeact.runlog.bench import bench_tasks
from multiagent_codeact.sandbox import Sandbox
from multiagent_codeact.scripted import Script, ScriptedModelServer

from .conftest import (
    KEY_ENV,
    config_for,
    quick_config,
    results_rows,
    rows,
    script,
    write_jsonl,
    write_yaml,
)


def server_for(tmp_path: Path, delay_s: float = 0.0) -> ScriptedModelServer:
    return ScriptedModelServer(Script.from_file(write_yaml(tmp_path / "s.yaml", script(delay_s))))


class Seen:
    """A BatchProgress that keeps what it was told."""

    def __init__(self) -> None:
        self.total = 0
        self.resumed: list[BatchRow] = []
        self.rows: list[BatchRow] = []

    def begin(self, total: int, resumed: Any) -> None:
        self.total, self.resumed = total, list(resumed)

    def finished(self, row: BatchRow) -> None:
        self.rows.append(row)


async def test_every_task_gets_one_row_with_its_hidden_test(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    tasks = load_tasks(write_jsonl(tmp_path / "t.jsonl", rows(4, strict=("sq-3",)))).tasks
    store = RunStore(tmp_path / "runs")
    seen = Seen()
    async with server_for(tmp_path) as server:
        report = await arun_batch(
            tasks,
            config=config_for(server),
            results_path=tmp_path / "r.jsonl",
            concurrency=3,
            store=store,
            sandbox=sandbox,
            progress=seen,
        )
    written = results_rows(tmp_path / "r.jsonl")
    assert sorted(str(r["task_id"]) for r in written) == ["sq-1", "sq-2", "sq-3", "sq-4"]
    assert [r.task_id for r in report.rows] == ["sq-1", "sq-2", "sq-3", "sq-4"]  # task order
    assert all(r.verdict is Verdict.VERIFIED for r in report.rows), report.rows
    by_id = {r.task_id: r for r in report.rows}
    assert by_id["sq-3"].hidden_passed is False and "AssertionError" in str(
        by_id["sq-3"].hidden_error
    )
    assert all(by_id[i].hidden_passed for i in ("sq-1", "sq-2", "sq-4"))
    assert report.pass_rate == 0.75 and report.hidden_total == 4
    for r in report.rows:
        assert r.code is not None and "def square" in r.code
        assert r.model_calls == 3 and r.tokens > 0  # two coders and the test designer
        assert r.cost_usd is None and r.unpriced_calls == 3  # no price for a scripted model
        assert r.batch_id == report.batch_id and r.error is None
        assert store.get(str(r.run_id)).status == "finished"  # each task's own run
    assert report.cost_usd is None and report.tokens == sum(r.tokens for r in report.rows)
    assert seen.total == 4 and sorted(r.task_id for r in seen.rows) == sorted(by_id)
    # The bench is one more run in the store, listing every task's run and verdict.
    assert report.batch_id is not None
    parent = store.get(report.batch_id)
    assert parent.status == "finished" and parent.manifest.task["kind"] == "bench"
    listed = bench_tasks(parent.events())
    assert {(t.task_id, t.run_id, t.status) for t in listed} == {
        (r.task_id, r.run_id, "verified") for r in report.rows
    }
    assert parent.manifest.totals.model_calls == 12  # the tasks' calls add up


async def test_a_task_that_raises_is_recorded_and_the_batch_goes_on(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    tasks = load_tasks(write_jsonl(tmp_path / "t.jsonl", rows(3))).tasks

    async def flaky(task: Task, **options: Any) -> Solution:
        if task.id == "sq-2":
            raise RuntimeError("the task's run could not start")
        return await asolve(task, **options)

    async with server_for(tmp_path) as server:
        report = await arun_batch(
            tasks,
            config=config_for(server),
            results_path=tmp_path / "r.jsonl",
            concurrency=1,
            sandbox=sandbox,
            solver=flaky,
        )
    by_id = {r.task_id: r for r in report.rows}
    failed = by_id["sq-2"]
    assert failed.verdict is None and failed.status == "error"
    assert failed.error == "RuntimeError: the task's run could not start"
    assert failed.hidden_passed is False and failed.code is None
    assert by_id["sq-1"].verdict is Verdict.VERIFIED
    assert by_id["sq-3"].verdict is Verdict.VERIFIED  # after the one that raised
    assert len(results_rows(tmp_path / "r.jsonl")) == 3
    assert report.count("error") == 1 and not report.verified
    assert report.batch_id is None  # no store: no parent entry


async def test_resume_skips_finished_tasks_and_records_each_once(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    tasks = load_tasks(write_jsonl(tmp_path / "t.jsonl", rows(5))).tasks
    results = tmp_path / "r.jsonl"
    store = RunStore(tmp_path / "runs")
    async with server_for(tmp_path) as server:
        first = await arun_batch(
            tasks[:2], config=config_for(server), results_path=results, sandbox=sandbox
        )
        asked = len(server.requests)
        seen = Seen()
        second = await arun_batch(
            tasks,
            config=config_for(server),
            results_path=results,
            resume=True,
            store=store,
            sandbox=sandbox,
            progress=seen,
        )
        assert len(server.requests) - asked == 3 * 3  # three tasks, three calls each
    ids = [str(r["task_id"]) for r in results_rows(results)]
    assert sorted(ids) == [f"sq-{i}" for i in range(1, 6)]  # each exactly once
    assert second.resumed == 2 and [r.task_id for r in seen.resumed] == ["sq-1", "sq-2"]
    assert second.rows[:2] == first.rows  # read back as written
    assert second.batch_id is not None
    listed = bench_tasks(store.get(second.batch_id).events())
    assert len(listed) == 5 and sum(t.resumed for t in listed) == 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_a_broken_endpoint_stops_the_batch_at_once(tmp_path: Path, sandbox: Sandbox) -> None:
    tasks = load_tasks(write_jsonl(tmp_path / "t.jsonl", rows(6))).tasks
    model = ModelConfig(
        model="m", base_url=f"http://127.0.0.1:{free_port()}/v1", api_key_env=KEY_ENV
    )
    store = RunStore(tmp_path / "runs")
    results = tmp_path / "r.jsonl"
    started = time.monotonic()
    with pytest.raises(ModelConnectionError):
        await arun_batch(
            tasks,
            config=quick_config(model),
            results_path=results,
            concurrency=2,
            store=store,
            sandbox=sandbox,
        )
    assert time.monotonic() - started < 15
    assert results.read_text() == ""  # no task is recorded as if it had merely failed
    [parent] = [r for r in store.list() if r.task_id and r.task_id.startswith("bench")]
    assert parent.status == "failed" and "ModelConnectionError" in str(parent.error)


def test_the_report_adds_up_the_rows() -> None:
    now = datetime.now(timezone.utc)

    def r(i: int, verdict: Verdict | None, passed: bool | None, cost: float | None) -> BatchRow:
        return BatchRow(
            task_id=f"t{i}",
            verdict=verdict,
            hidden_passed=passed,
            seconds=float(i),
            tokens=10,
            cost_usd=cost,
            run_id=None,
            finished_at=now,
        )

    report = BatchReport(
        batch_id=None,
        results_path=Path("r.jsonl"),
        rows=[
            r(1, Verdict.VERIFIED, True, 0.5),
            r(2, Verdict.DISPUTED, False, 0.25),
            r(3, Verdict.FAILED, None, 0.25),
            *(r(i, Verdict.VERIFIED, True, 0.0) for i in range(4, 21)),
        ],
    )
    assert (report.count("verified"), report.count("disputed"), report.count("failed")) == (
        18,
        1,
        1,
    )
    assert report.hidden_total == 19 and report.pass_rate == pytest.approx(18 / 19)
    assert report.cost_usd == pytest.approx(1.0) and report.tokens == 200
    assert report.seconds(0.5) == 10.0 and report.seconds(0.95) == 19.0
    unknown = report.model_copy(update={"rows": [*report.rows, r(21, None, None, None)]})
    assert unknown.cost_usd is None  # one unknown cost: the total is unknown, not a sum
