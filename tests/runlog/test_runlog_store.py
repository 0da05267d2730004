"""RunStore and RunWriter on real files and real SQLite: write, read back, survive damage."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import T0, TASK, record_sample, sample_events, sample_solution, write_events

from multiagent_codeact.domain import Artifact, Solution, Verdict
from multiagent_codeact.errors import (
    AmbiguousRunIdError,
    MCAError,
    RunNotFoundError,
    RunStoreError,
)
from multiagent_codeact.events import Event, Recorder
from multiagent_codeact.runlog import RunStore, files
from multiagent_codeact.runlog.files import safe_name
from multiagent_codeact.runlog.index import RunIndex
from multiagent_codeact.runlog.totals import cost_text

RUN = "20260101-000000-a1b2c3"


def folder_files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


# -- round trip -----------------------------------------------------------------------------
def test_a_recorded_run_reads_back_whole(store: RunStore) -> None:
    record_sample(store, RUN)
    folder = store.root / RUN
    assert folder_files(folder) == {
        "run.json",
        "events.jsonl",
        "solution.json",
        "artifacts/plot.png",
    }

    [summary] = store.list()
    assert (summary.run_id, summary.status, summary.verdict) == (RUN, "finished", "verified")
    assert summary.task.startswith("Write a function `dedupe(xs)`")
    t = summary.totals
    assert (t.model_calls, t.prompt_tokens, t.completion_tokens) == (3, 1121, 283)
    assert t.cost_usd == pytest.approx(0.000293)
    assert (t.events, t.errors, t.duration_ms) == (15, 2, 3210.0)

    record = store.get(RUN)
    assert record.status == "finished" and record.problems == []
    m = record.manifest
    assert (m.verdict, m.confidence, m.pid, m.task["entry_point"]) == (
        "verified",
        0.93,
        os.getpid(),
        "dedupe",
    )
    assert m.models == {"coder": "gpt-4o-mini"} and m.config == {"candidates": 2}
    assert m.finished_at is not None and m.finished_at >= m.started_at
    assert m.artifacts == ["plot.png"]
    assert record.solution is not None
    assert record.solution == sample_solution(RUN)  # artifacts come back with their bytes
    events = list(record.events())
    assert [e.kind for e in events] == [k for _, k, _, _ in sample_events(RUN)]
    assert events[3].data["prompt_tokens"] == 412 and events[0].time == T0

    solution_json = json.loads((folder / "solution.json").read_text())
    assert solution_json["artifacts"] == [
        {"name": "plot.png", "mime_type": "image/png", "size": 67, "file": "artifacts/plot.png"}
    ]  # no bytes in solution.json
    with sqlite3.connect(store.root / "index.sqlite") as db:
        assert db.execute("SELECT run_id, status, verdict FROM runs").fetchall() == [
            (RUN, "finished", "verified")
        ]


def test_the_writer_is_a_recorder_sink_and_events_are_on_disk_at_once(store: RunStore) -> None:
    writer = store.open_run(RUN, task=TASK)
    recorder = Recorder(RUN, [writer])
    recorder.emit("run_started", task=TASK)
    recorder.emit("model_call", agent="coder1", prompt_tokens=10, completion_tokens=5, cost_usd=0.5)
    # flushed per event: another reader sees both lines before the run ends
    lines = (store.root / RUN / "events.jsonl").read_text().splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["run_started", "model_call"]
    assert store.get(RUN).status == "running"
    assert store.get(RUN).totals().cost_usd == 0.5  # counted from the events while running
    assert writer.totals.model_calls == 1
    writer.abort("test over")


def test_a_failed_solution_with_an_error_marks_the_run_failed(store: RunStore) -> None:
    writer = store.open_run(RUN, task=TASK)
    failed = Solution(run_id=RUN, task=TASK, verdict=Verdict.FAILED, error="no usable candidate")
    manifest = writer.finish(failed)
    assert (manifest.status, manifest.verdict, manifest.error) == (
        "failed",
        "failed",
        "no usable candidate",
    )
    assert store.list(status="failed")[0].run_id == RUN
    assert store.list(status="finished") == []
    assert writer.finish(sample_solution(RUN)) == manifest  # a second end changes nothing


def test_a_failed_verdict_without_an_error_is_a_finished_run(store: RunStore) -> None:
    writer = store.open_run(RUN, task=TASK)
    assert (
        writer.finish(Solution(run_id=RUN, task=TASK, verdict=Verdict.FAILED)).status == "finished"
    )


def test_abort_and_the_context_manager_close_a_run_that_raised(store: RunStore) -> None:
    assert store.open_run("r1", task=TASK).abort("boom").status == "failed"
    with pytest.raises(ZeroDivisionError), store.open_run("r2", task=TASK) as writer:
        writer(Event(run_id="r2", seq=0, time=T0, kind="run_started"))
        1 / 0  # noqa: B018
    with pytest.raises(KeyboardInterrupt), store.open_run("r3", task=TASK):
        raise KeyboardInterrupt
    with store.open_run("r4", task=TASK):
        pass
    got = {r: store.get(r).manifest for r in ("r1", "r2", "r3", "r4")}
    assert {r: (m.status, m.error) for r, m in got.items()} == {
        "r1": ("failed", "boom"),
        "r2": ("failed", "ZeroDivisionError: division by zero"),
        "r3": ("interrupted", "cancelled (KeyboardInterrupt)"),
        "r4": ("failed", "the run ended without a solution (finish() was not called)"),
    }
    assert got["r2"].totals.events == 1


def test_open_run_refuses_a_bad_or_taken_id(store: RunStore, tmp_path: Path) -> None:
    store.open_run(RUN, task=TASK).abort("test")
    with pytest.raises(RunStoreError, match="exists already"):
        store.open_run(RUN, task=TASK)
    for bad in ("../escape", "", ".hidden", "a/b", "x" * 200):
        with pytest.raises(RunStoreError, match="cannot name a folder"):
            store.open_run(bad, task=TASK)
    (tmp_path / "file").write_text("")
    with pytest.raises(RunStoreError, match=r"cannot create the run folder .* MCODEACT_RUNS_DIR"):
        RunStore(tmp_path / "file" / "runs").open_run(RUN, task=TASK)


def test_secrets_never_reach_the_manifest(store: RunStore) -> None:
    key = "sk-live-0123456789abcdef"
    writer = store.open_run(RUN, task={"prompt": f"use {key}"}, config={"note": key}, secrets=[key])
    writer.abort("test")
    text = (store.root / RUN / "run.json").read_text()
    assert key not in text and text.count("[REDACTED]") == 2


def test_the_root_defaults_to_the_environment(runs_dir: Path) -> None:
    assert RunStore().root == runs_dir


# -- atomic manifest and failing disks ------------------------------------------------------
def test_the_manifest_is_replaced_atomically(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = store.open_run(RUN, task=TASK)
    path = store.root / RUN / "run.json"
    before = path.read_bytes()

    def torn(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", torn)
    manifest = writer.finish(sample_solution(RUN))  # must not raise
    assert manifest.status == "finished"
    assert path.read_bytes() == before  # the old manifest, whole: never half a new one
    assert not [p for p in (store.root / RUN).iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    assert store.get(RUN).manifest.status == "running"


def test_an_event_log_that_cannot_be_written_disables_the_sink_once(
    store: RunStore, caplog: pytest.LogCaptureFixture
) -> None:
    writer = store.open_run(RUN, task=TASK)

    class FullDisk:
        def write(self, data: bytes) -> int:
            raise OSError(28, "No space left on device")

        def close(self) -> None:
            pass

    assert writer._events is not None
    writer._events.close()
    writer._events = FullDisk()  # type: ignore[assignment]
    recorder = Recorder(RUN, [writer])
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            recorder.emit("message", agent="coder1", content="hi")
    warnings = [r for r in caplog.records if "No space left" in r.getMessage()]
    assert len(warnings) == 1 and "the run goes on" in warnings[0].getMessage()
    assert writer in recorder._sinks  # handled by the writer, not dropped by the Recorder
    manifest = writer.finish(sample_solution(RUN))
    assert manifest.status == "finished" and manifest.totals.events == 3
    assert manifest.write_errors == [
        "cannot write the event log after 0 events: [Errno 28] No space left on device"
    ]


# -- damaged logs ---------------------------------------------------------------------------
def test_corrupted_event_lines_are_skipped_and_counted(store: RunStore) -> None:
    record_sample(store, RUN)
    path = store.root / RUN / "events.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines.insert(2, b"{not json\n")
    lines.insert(5, b'{"run_id": "x", "seq": 1}\n')
    path.write_bytes(b"".join(lines) + b'{"run_id": "' + RUN.encode() + b'", "seq": 99, "ti')
    log = store.get(RUN).events()
    assert len(list(log)) == 15
    assert [c.line for c in log.corrupt] == [3, 6, 18]
    assert log.skipped == 3
    assert "skipped 3 corrupted line(s)" in log.describe_corrupt()
    assert "line 3, 6, 18" in log.describe_corrupt()


def test_a_damaged_solution_file_leaves_the_rest_readable(store: RunStore) -> None:
    record_sample(store, RUN)
    (store.root / RUN / "solution.json").write_text('{"run_id": 3}')
    record = store.get(RUN)
    assert record.solution is None and "does not match Solution" in record.problems[0]
    assert record.manifest.verdict == "verified" and len(list(record.events())) == 15


def test_a_damaged_manifest_says_which_file(store: RunStore) -> None:
    record_sample(store, RUN)
    (store.root / RUN / "run.json").write_text("{")
    with pytest.raises(RunStoreError, match=r"run\.json is not a valid run manifest"):
        store.get(RUN)
    assert store.reindex() == 0 and store.list() == []  # left out of the index, not fatal


# -- the index ------------------------------------------------------------------------------
def test_the_index_is_rebuilt_when_deleted_or_corrupt(store: RunStore) -> None:
    for i in range(3):
        record_sample(store, f"2026010{i}-000000-run{i}")
    newest_first = [f"2026010{i}-000000-run{i}" for i in (2, 1, 0)]
    assert [r.run_id for r in store.list()] == newest_first
    index = store.root / "index.sqlite"
    index.unlink()
    assert [r.run_id for r in store.list()] == newest_first
    assert index.exists()
    index.write_bytes(b"this is not an SQLite file" * 100)
    assert [r.run_id for r in store.list(limit=2)] == newest_first[:2]
    assert store.list(verdict="verified", limit=1)[0].totals.model_calls == 3
    assert store.reindex() == 3


def test_the_index_catches_up_with_the_folders(store: RunStore) -> None:
    record_sample(store, "a")
    record_sample(store, "b")
    with sqlite3.connect(store.root / "index.sqlite") as db:
        db.execute("DELETE FROM runs WHERE run_id = 'a'")
    (store.root / "b" / "run.json").unlink()  # a folder that is no run any more
    assert [r.run_id for r in store.list()] == ["a"]


def test_an_unusable_index_falls_back_to_the_folders(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_sample(store, "a")
    store.open_run("b", task=TASK).abort("boom")

    def read_only(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(RunIndex, "sync", read_only)
    assert [r.run_id for r in store.list()] == ["b", "a"]
    assert [r.run_id for r in store.list(status="finished")] == ["a"]
    assert [r.run_id for r in store.list(verdict="verified")] == ["a"]
    assert [r.run_id for r in store.list(limit=1)] == ["b"]
    assert store.list(limit=0) == []


def test_an_empty_store_lists_nothing_and_creates_nothing(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "none")
    assert store.list() == [] and store.reindex() == 0
    assert not (tmp_path / "none").exists()


# -- ids ------------------------------------------------------------------------------------
def test_ids_resolve_by_unique_prefix_and_unknown_ids_name_the_closest(store: RunStore) -> None:
    for run_id in ("20260101-000000-aaa111", "20260101-000000-bbb222", "20260102-090000-ccc333"):
        store.open_run(run_id, task=TASK).abort("test")
    assert store.get("20260101-000000-a").run_id == "20260101-000000-aaa111"
    assert store.get("20260102").run_id == "20260102-090000-ccc333"
    with pytest.raises(
        AmbiguousRunIdError, match="matches 2 runs: 20260101-000000-aaa111, 20260101-000000-bbb222"
    ):
        store.get("20260101")
    with pytest.raises(RunNotFoundError, match="closest: 20260101-000000-aaa111") as info:
        store.get("20260101-000000-aaa11x")
    assert isinstance(info.value, LookupError) and isinstance(info.value, MCAError)
    for bad in ("", "../etc", "/etc/passwd", "nope"):
        with pytest.raises(RunNotFoundError):
            store.get(bad)


def test_an_unknown_id_in_an_empty_store_says_where_it_looked(store: RunStore) -> None:
    with pytest.raises(RunNotFoundError, match=r"there are no runs in .*MCODEACT_RUNS_DIR"):
        store.get("x")


# -- artifacts ------------------------------------------------------------------------------
def test_artifacts_are_written_inside_the_run_folder_whatever_their_names(
    store: RunStore, tmp_path: Path
) -> None:
    names = [
        "../../etc/x",
        "/abs/y.png",
        "plots/fig 1.png",
        "..",
        "a.png",
        "a.png",
        "-rf",
        ".bashrc",
    ]
    artifacts = [
        Artifact(name=n, mime_type="application/octet-stream", data=n.encode()) for n in names
    ]
    writer = store.open_run(RUN, task=TASK)
    writer.finish(sample_solution(RUN, artifacts))
    outside = {p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(store.root)}
    assert outside == set()
    assert sorted(os.listdir(store.root / RUN / "artifacts")) == sorted(
        ["etc_x", "abs_y.png", "plots_fig_1.png", "artifact", "a.png", "a-1.png", "rf", "bashrc"]
    )
    record = store.get(RUN)
    assert record.solution is not None
    assert [(a.name, a.data) for a in record.solution.artifacts] == [(n, n.encode()) for n in names]
    assert all(record.artifact_path(a).is_file() for a in record.artifacts)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("plot.png", "plot.png"),
        ("../../etc/x", "etc_x"),
        ("..\\..\\win.ini", "win.ini"),
        ("a\0b", "ab"),
        ("...", "artifact"),
        ("émoji 😀.txt", "moji_.txt"),
        ("x" * 300 + ".png", "x" * 116 + ".png"),
    ],
)
def test_safe_name(name: str, safe: str) -> None:
    assert safe_name(name) == safe


# -- a writer killed midway -----------------------------------------------------------------
KILLED_WRITER = """
import sys, time
sys.path.insert(0, sys.argv[2])
from conftest import TASK, write_events
from multiagent_codeact.runlog import RunStore
from pathlib import Path
writer = RunStore(Path(sys.argv[1])).open_run("killed", task=TASK)
write_events(writer, "killed", upto=4)
with open(Path(sys.argv[1]) / "killed" / "events.jsonl", "ab") as f:
    f.write(b'{"run_id": "killed", "seq": 4, "time": 1.0, "ki')  # cut short by the kill
print("ready", flush=True)
time.sleep(60)
"""


def test_a_writer_killed_midway_leaves_a_readable_interrupted_run(store: RunStore) -> None:
    here = str(Path(__file__).parent)
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(store.root), here],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        assert store.get("killed").status == "running"
        assert store.list(status="running")[0].run_id == "killed"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        child.stdout.close()  # type: ignore[union-attr]
    record = store.get("killed")
    assert record.manifest.status == "running"  # the file is not guessed at...
    assert record.status == "interrupted"  # ...the store reports what it sees
    log = record.events()
    assert [e.kind for e in log] == ["run_started", "message", "message", "model_call"]
    assert log.skipped == 1
    assert record.totals().model_calls == 1
    [summary] = store.list()
    assert summary.status == "interrupted"
    assert store.list(status="interrupted") == [summary] and store.list(status="running") == []
    assert [e.kind for e in store.follow("killed", timeout_s=5)][-1] == "model_call"


# -- following a live run -------------------------------------------------------------------
def test_follow_sees_events_appended_by_another_thread(store: RunStore) -> None:
    writer = store.open_run(RUN, task=TASK)
    events = sample_events(RUN)

    def run() -> None:
        for seq, (offset, kind, agent, data) in enumerate(events):
            time.sleep(0.01)
            writer(Event(run_id=RUN, seq=seq, time=T0 + offset, kind=kind, agent=agent, data=data))  # type: ignore[arg-type]
        writer.finish(sample_solution(RUN))

    thread = threading.Thread(target=run)
    started = time.monotonic()
    thread.start()
    seen = [e.seq for e in store.follow(RUN[:6], poll_s=0.01, timeout_s=10)]
    thread.join()
    assert seen == list(range(len(events)))
    assert time.monotonic() - started < 5


def test_follow_ends_when_a_run_is_aborted_without_run_finished(store: RunStore) -> None:
    writer = store.open_run(RUN, task=TASK)
    write_events(writer, RUN, upto=3)
    threading.Timer(0.1, writer.abort, args=("crashed",)).start()
    started = time.monotonic()
    assert len(list(store.follow(RUN, poll_s=0.02, timeout_s=10))) == 3
    assert time.monotonic() - started < 5


def test_follow_stops_at_its_timeout_on_a_live_run(store: RunStore) -> None:
    with store.open_run(RUN, task=TASK):
        started = time.monotonic()
        assert list(store.follow(RUN, poll_s=0.02, timeout_s=0.2)) == []
        assert time.monotonic() - started < 2


def test_calls_without_a_price_are_not_shown_as_free(store: RunStore) -> None:
    with store.open_run(RUN, task=TASK) as writer:
        for seq, known in enumerate([False, True]):
            data = {"price_known": known, "cost_usd": 0.25 * known, "prompt_tokens": 5}
            writer(Event(run_id=RUN, seq=seq, time=T0, kind="model_call", data=data))
        totals = writer.totals
    assert (totals.model_calls, totals.unpriced_calls, totals.cost_usd) == (2, 1, 0.25)
    assert cost_text(totals) == "$0.2500 + unknown (1 calls without a price)"
    assert cost_text(totals.model_copy(update={"unpriced_calls": 2})).startswith("unknown")
