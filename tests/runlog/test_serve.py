"""`mcodeact runs serve`: the viewer's routes through Starlette's TestClient, the event stream
over real files as a writer appends, a real uvicorn on a loopback port, the CLI as a process,
and a real headless Chromium that watches a run being written."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cdp_browser import Browser
from conftest import T0, TASK, record_sample, sample_events, sample_solution, write_events
from starlette.testclient import TestClient

from multiagent_codeact.events import Event
from multiagent_codeact.runlog import RunStore, RunWriter
from multiagent_codeact.runlog.eventlog import EVENTS_FILE
from multiagent_codeact.runlog.export import to_html
from multiagent_codeact.runlog.serve import INSTALL_HINT, LiveOptions, create_app
from multiagent_codeact.runlog.serve.live import event_stream
from multiagent_codeact.runlog.serve.server import bind, url_of
from multiagent_codeact.runlog.store import read_manifest
from multiagent_codeact.runlog.writer import write_manifest

FAST = LiveOptions(poll_s=0.02, keepalive_s=0.5)
XSS = "<script>alert(1)</script>"
TERMINAL = "\x1b[2J\x1b]0;owned\x07"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)"
)


# -- helpers --------------------------------------------------------------------------------
def client(store: RunStore, **kwargs: Any) -> TestClient:
    return TestClient(create_app(store, live=FAST), base_url="http://127.0.0.1", **kwargs)


def started_on(store: RunStore, run_id: str, when: datetime) -> None:
    """Move a run's start to `when` (as if it had been recorded then), then reindex."""
    folder = store.root / run_id
    write_manifest(folder, read_manifest(folder).model_copy(update={"started_at": when}))
    store.reindex()


def event(run_id: str, seq: int, kind: str = "message", **data: Any) -> Event:
    return Event(run_id=run_id, seq=seq, time=T0 + seq, kind=kind, agent="coder1", data=data)  # type: ignore[arg-type]


def rows(page: str) -> list[str]:
    """The run ids of a list page's rows, in order."""
    return [part.split('"', 1)[0] for part in page.split('<tr data-run="')[1:]]


def messages(raw: str) -> list[dict[str, str]]:
    """Server-sent events as dicts of their fields (comments and retry lines left out)."""
    out = []
    for block in raw.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = fields.get(name, "") + value if name == "data" else value
        if "event" in fields:
            out.append(fields)
    return out


@pytest.fixture
def mix(store: RunStore) -> Iterator[dict[str, str]]:
    """A finished, a running, a failed and an interrupted run, started on four days in a row;
    yields those days as d0..d3 (YYYY-MM-DD). The running one keeps its real start: a writer
    that began after the start its manifest gives is, rightly, taken for a gone one."""
    record_sample(store, "r1-finished")
    with (
        store.open_run("r2-running", task={"prompt": "Sort a list of tuples by key"}) as running,
        store.open_run("r4-gone", task={"prompt": "Compute 17 ** 23 exactly", "id": "HE/7"}),
    ):
        store.open_run("r3-failed", task={"prompt": "Parse a CSV of prices"}).abort(
            "ModelCallError: HTTP 500"
        )
        folder = store.root / "r4-gone"
        dead = subprocess.Popen(["true"])
        dead.wait()
        write_manifest(folder, read_manifest(folder).model_copy(update={"pid": dead.pid}))
        today = running.manifest.started_at.astimezone(timezone.utc).date()
        days = [today + timedelta(days=n) for n in (-1, 0, 1, 2)]
        for run_id, day in {
            "r1-finished": days[0],
            "r3-failed": days[2],
            "r4-gone": days[3],
        }.items():
            started_on(store, run_id, datetime.combine(day, dt_time(12), timezone.utc))
        statuses = {r.run_id: r.status for r in store.list()}
        assert statuses == {"r1-finished": "finished", "r2-running": "running",
                            "r3-failed": "failed", "r4-gone": "interrupted"}  # fmt: skip
        yield {f"d{i}": day.isoformat() for i, day in enumerate(days)}


# -- the list -------------------------------------------------------------------------------
def test_the_list_shows_every_run_newest_first_with_a_link_each(
    store: RunStore, mix: dict[str, str]
) -> None:
    response = client(store).get("/")
    assert response.status_code == 200
    assert rows(response.text) == ["r4-gone", "r3-failed", "r2-running", "r1-finished"]
    assert 'href="/runs/r1-finished"' in response.text
    assert "runs 1–4 of 4" in response.text
    assert 'class="badge status-interrupted"' in response.text  # the dead writer is seen
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in response.text  # only <script src=...>


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=running", ["r2-running"]),
        ("status=interrupted", ["r4-gone"]),
        ("status=failed", ["r3-failed"]),
        ("verdict=verified", ["r1-finished"]),
        ("q=DEDUPE", ["r1-finished"]),  # any case, in the task
        ("q=he/7", ["r4-gone"]),  # the task id
        ("q=r3-", ["r3-failed"]),  # the run id
        ("since={d1}&until={d2}", ["r3-failed", "r2-running"]),
        ("since={d3}", ["r4-gone"]),
        ("until={d0}", ["r1-finished"]),
        ("q=list&status=running&since={d1}", ["r2-running"]),
        ("q=nothing-like-this", []),
        (
            "status=&verdict=&q=&since=&until=",
            ["r4-gone", "r3-failed", "r2-running", "r1-finished"],
        ),
    ],
)
def test_the_list_filters_by_status_verdict_text_and_date(
    store: RunStore, mix: dict[str, str], query: str, expected: list[str]
) -> None:
    query = query.format(**mix)
    viewer = client(store)
    page = viewer.get(f"/?{query}")
    assert page.status_code == 200
    assert rows(page.text) == expected
    api = viewer.get(f"/api/runs?{query}").json()
    assert [r["run_id"] for r in api["runs"]] == expected and api["total"] == len(expected)
    if not expected:
        assert "no run matches these filters" in page.text


def test_the_list_is_paginated_and_keeps_its_filters(store: RunStore) -> None:
    for i in range(7):
        run_id = f"p{i}"
        store.open_run(run_id, task={"prompt": f"task {i}"}).abort("stopped")
        started_on(store, run_id, datetime(2026, 2, 1, i, tzinfo=timezone.utc))
    viewer = client(store)
    first = viewer.get("/?per_page=3&status=failed")
    assert rows(first.text) == ["p6", "p5", "p4"]
    assert "page 1 of 3" in first.text
    assert 'href="?status=failed&amp;page=2&amp;per_page=3"' in first.text
    last = viewer.get("/?status=failed&page=3&per_page=3")
    assert rows(last.text) == ["p0"] and 'rel="next"' not in last.text and 'rel="prev"' in last.text
    past = viewer.get("/?page=9&per_page=3")
    assert rows(past.text) == [] and "page 9 is past the last one (3)" in past.text


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("status=done", "status='done': use one of running, finished, failed, interrupted"),
        ("verdict=maybe", "verdict='maybe'"),
        ("since=2026-13-01", "since='2026-13-01': use a date as YYYY-MM-DD"),
        ("page=0", "page='0'"),
        ("per_page=100000", "per_page='100000'"),
        ("q=" + "x" * 201, "q="),
        ("since=2026-02-01&until=2026-01-01", "until=2026-01-01 is before since=2026-02-01"),
    ],
)
def test_a_bad_query_parameter_is_a_400_that_names_it(
    store: RunStore, query: str, named: str
) -> None:
    record_sample(store, "r1")
    viewer = client(store)
    page = viewer.get(f"/?{query}")
    assert page.status_code == 400
    assert named.replace("'", "&#x27;") in page.text
    api = viewer.get(f"/api/runs?{query}")
    assert api.status_code == 400 and named in api.json()["error"]


def test_an_empty_store_says_how_to_record_a_run(tmp_path: Path) -> None:
    page = client(RunStore(tmp_path / "nothing-here")).get("/")
    assert page.status_code == 200 and "no runs recorded yet" in page.text


# -- a run ----------------------------------------------------------------------------------
def test_a_run_page_frames_the_report_that_export_writes(store: RunStore) -> None:
    record_sample(store, "20260101-000000-aaa111")
    viewer = client(store)
    page = viewer.get("/runs/20260101-000000-aaa111")
    assert page.status_code == 200
    assert '<iframe id="report" src="/runs/20260101-000000-aaa111/report"' in page.text
    assert 'sandbox="allow-same-origin"' in page.text  # no scripts in the frame, ever
    assert "data-live" not in page.text  # a finished run needs no stream
    report = viewer.get("/runs/20260101-000000-aaa111/report")
    record = store.get("20260101-000000-aaa111")
    assert report.text == to_html(record, list(record.events()))
    assert "frame-ancestors 'self'" in report.headers["content-security-policy"]
    assert report.headers["cache-control"] == "no-store"


def test_a_running_run_page_subscribes_to_its_events(store: RunStore) -> None:
    with store.open_run("live-1", task=TASK) as writer:
        write_events(writer, "live-1", upto=2)
        page = client(store).get("/runs/live-1")
    assert 'data-live="/runs/live-1/events"' in page.text
    assert 'id="status">running<' in page.text
    js = client(store).get("/static/viewer.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert "EventSource" in js.text and "innerHTML" not in js.text  # rows are built as text


def test_a_run_is_named_by_a_unique_prefix_or_latest(store: RunStore) -> None:
    record_sample(store, "20260101-000000-aaa111")
    record_sample(store, "20260102-000000-bbb222")
    started_on(store, "20260101-000000-aaa111", datetime(2026, 1, 1, tzinfo=timezone.utc))
    started_on(store, "20260102-000000-bbb222", datetime(2026, 3, 1, tzinfo=timezone.utc))
    viewer = client(store, follow_redirects=False)
    prefix = viewer.get("/runs/20260101/report")
    assert prefix.status_code == 307
    assert prefix.headers["location"] == "/runs/20260101-000000-aaa111/report"
    latest = viewer.get("/runs/latest?from=0")
    assert latest.headers["location"] == "/runs/20260102-000000-bbb222?from=0"
    ambiguous = viewer.get("/runs/2026")
    assert ambiguous.status_code == 404 and "matches 2 runs" in ambiguous.text
    unknown = viewer.get("/runs/20991231-nope")
    assert unknown.status_code == 404 and "no run &#x27;20991231-nope&#x27;" in unknown.text


@pytest.mark.parametrize(
    "path",
    [
        "/runs/..%2F..%2Fsecret",
        "/runs/%2e%2e",
        "/runs/%2e%2e/report",
        "/runs/..%2Foutside/report",
        "/runs/.hidden",
        "/runs/%00x",
        "/runs/a%5C..%5Coutside",
        "/runs/outside%2Frun.json",
        "/runs/-rf/events",
    ],
)
def test_a_path_outside_the_runs_folder_is_never_served(store: RunStore, path: str) -> None:
    record_sample(store, "r1")
    outside = store.root.parent / "outside"
    outside.mkdir()
    (outside / "run.json").write_text('{"secret": "do-not-serve"}')
    (store.root.parent / "secret").write_text("do-not-serve")
    response = client(store).get(path)
    assert response.status_code == 404
    assert "do-not-serve" not in response.text


@pytest.mark.parametrize(
    "path", ["/", "/api/runs", "/runs/r1", "/runs/r1/report", "/runs/r1/events"]
)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_nothing_can_be_written(store: RunStore, path: str, method: str) -> None:
    record_sample(store, "r1")
    before = sorted(p.name for p in (store.root / "r1").iterdir())
    response = client(store).request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert sorted(p.name for p in (store.root / "r1").iterdir()) == before


def test_a_foreign_host_name_is_refused(store: RunStore) -> None:
    """DNS rebinding: a page elsewhere whose name resolves to 127.0.0.1 gets nothing."""
    record_sample(store, "r1")
    viewer = client(store)
    assert viewer.get("/", headers={"host": "evil.example"}).status_code == 400
    assert viewer.get("/", headers={"host": "localhost:8765"}).status_code == 200
    assert viewer.get("/", headers={"host": "[::1]:8765"}).status_code == 200


def test_hostile_task_text_is_shown_never_obeyed(store: RunStore) -> None:
    prompt = f'{XSS} " onmouseover="alert(2) {TERMINAL}'
    store.open_run("hostile", task={"prompt": prompt}).abort(f"boom {XSS}")
    viewer = client(store)
    for path in ("/", "/runs/hostile", "/?q=" + "script"):
        text = viewer.get(path).text
        assert "<script>alert" not in text and '" onmouseover="' not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "\x1b" not in text and "\\x1b[2J" in text  # the escape shown, not obeyed


# -- the event stream -----------------------------------------------------------------------
def test_the_stream_of_a_finished_run_sends_every_event_then_ends(store: RunStore) -> None:
    record_sample(store, "r1")
    body = client(store).get("/runs/r1/events")
    assert body.headers["content-type"].startswith("text/event-stream")
    got = messages(body.text)
    kinds = [m["event"] for m in got]
    expected = len(sample_events("r1"))
    assert kinds == ["status"] + ["run-event"] * expected + ["status", "end"]
    rows_ = [json.loads(m["data"]) for m in got if m["event"] == "run-event"]
    assert [r["seq"] for r in rows_] == list(range(expected))
    assert rows_[-1]["event"] == "run_finished" and rows_[0]["who"] == "pipeline"
    ids = [int(m["id"]) for m in got if m["event"] == "run-event"]
    size = (store.root / "r1" / EVENTS_FILE).stat().st_size
    assert ids == sorted(ids) and ids[-1] == size == int(got[-1]["id"])
    assert json.loads(got[-2]["data"])["status"] == "finished"


def test_a_reconnect_resumes_after_the_last_event_it_saw(store: RunStore) -> None:
    record_sample(store, "r1")
    viewer = client(store)
    first = messages(viewer.get("/runs/r1/events").text)
    fifth = first[5]  # status, then events 0..4: this is seq 4
    assert json.loads(fifth["data"])["seq"] == 4
    again = messages(viewer.get("/runs/r1/events", headers={"last-event-id": fifth["id"]}).text)
    seqs = [json.loads(m["data"])["seq"] for m in again if m["event"] == "run-event"]
    assert seqs == list(range(5, len(sample_events("r1"))))
    for bogus in ("abc", "99999999", "-5"):
        replay = messages(viewer.get("/runs/r1/events", headers={"last-event-id": bogus}).text)
        assert sum(m["event"] == "run-event" for m in replay) == len(sample_events("r1"))


async def _next(stream: AsyncIterator[str], *, kind: str) -> dict[str, str]:
    """The next message of `kind` (others, such as keepalives, are skipped)."""
    while True:
        chunk = await asyncio.wait_for(anext(stream), timeout=10)
        for m in messages(chunk):
            if m["event"] == kind:
                return m


async def test_the_stream_follows_a_run_as_its_writer_appends(store: RunStore) -> None:
    writer = store.open_run("live-1", task=TASK)
    writer(event("live-1", 0, content="first"))
    folder = store.root / "live-1"
    stream = event_stream(folder, 0, FAST)
    try:
        assert json.loads((await _next(stream, kind="status"))["data"])["status"] == "running"
        assert "first" in json.loads((await _next(stream, kind="run-event"))["data"])["text"]
        # A line still being written is not sent before its newline lands.
        line = event("live-1", 1, content="second").model_dump_json().encode()
        with (folder / EVENTS_FILE).open("ab") as f:
            f.write(line[:20])
            f.flush()
            pending = asyncio.ensure_future(_next(stream, kind="run-event"))
            done, _ = await asyncio.wait({pending}, timeout=FAST.poll_s * 10)
            assert not done
            f.write(line[20:] + b"\n")
        assert "second" in json.loads((await pending)["data"])["text"]
        writer(Event(run_id="live-1", seq=2, time=T0, kind="error", data={"message": "x"}))
        with (folder / EVENTS_FILE).open("ab") as f:
            f.write(b"{not json\n")  # a corrupt line is skipped, the stream goes on
        writer(event("live-1", 3, content="third"))
        seqs = [json.loads((await _next(stream, kind="run-event"))["data"])["seq"] for _ in "ab"]
        assert seqs == [2, 3]
        writer.finish(sample_solution("live-1"))
        final = json.loads((await _next(stream, kind="status"))["data"])
        assert final == {"status": "finished", "verdict": "verified", "confidence": 0.93}
        await _next(stream, kind="end")
        with pytest.raises(StopAsyncIteration):
            await anext(stream)
    finally:
        await stream.aclose()


async def test_the_stream_of_an_interrupted_run_ends_at_once(store: RunStore) -> None:
    folder = store.root / "gone"
    with store.open_run("gone", task=TASK) as writer:  # closed (as failed) once checked
        write_events(writer, "gone", upto=3)
        dead = subprocess.Popen(["true"])
        dead.wait()
        write_manifest(folder, read_manifest(folder).model_copy(update={"pid": dead.pid}))
        got = [m async for chunk in event_stream(folder, 0, FAST) for m in messages(chunk)]
    assert [m["event"] for m in got] == ["status", *["run-event"] * 3, "status", "end"]
    assert json.loads(got[-2]["data"])["status"] == "interrupted"


# -- a real server --------------------------------------------------------------------------
@contextmanager
def served(store: RunStore) -> Iterator[str]:
    """The viewer on a real uvicorn, on a free loopback port, in a thread of this process.

    The socket listens before the thread starts, so a client may connect at once: the
    connection waits in the backlog until the server accepts it.
    """
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        create_app(store, live=FAST),
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        assert not thread.is_alive()


def test_a_real_server_on_loopback_serves_pages_and_streams(store: RunStore) -> None:
    record_sample(store, "r1")
    with served(store) as url:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.status == 200 and rows(r.read().decode()) == ["r1"]
        host, port = url.removeprefix("http://").strip("/").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/runs/r1/events")
        response = conn.getresponse()
        assert response.getheader("content-type", "").startswith("text/event-stream")
        got = messages(response.read().decode())
        conn.close()
        assert got[-1]["event"] == "end" and len(got) == len(sample_events("r1")) + 3


def _line(proc: subprocess.Popen[str], *, timeout_s: float = 20) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    assert ready, "no output from the command in time"
    return proc.stdout.readline()


def test_the_cli_serves_opens_the_browser_and_stops_on_ctrl_c(
    store: RunStore, tmp_path: Path
) -> None:
    record_sample(store, "r1")
    browser = tmp_path / "browser.sh"
    browser.write_text('#!/bin/sh\necho "BROWSER OPENED $1"\n')
    browser.chmod(0o755)
    env = {**os.environ, "BROWSER": str(browser), "NO_COLOR": "1", "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "multiagent_codeact", "runs", "serve"]
    args = ["--runs-dir", str(store.root), "--port", "0", "--open"]
    with subprocess.Popen(
        [*cmd, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as proc:
        try:
            announced = _line(proc)
            assert f"serving the runs in {store.root} at http://127.0.0.1:" in announced
            url = announced.split(" at ", 1)[1].split()[0]
            assert _line(proc).strip() == f"BROWSER OPENED {url}"
            with urllib.request.urlopen(url + "runs/r1", timeout=10) as r:
                assert '<iframe id="report"' in r.read().decode()
        finally:
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert err.strip() == "stopped"


def test_a_port_in_use_is_a_usage_error(store: RunStore) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "multiagent_codeact", "runs", "serve", "--port", str(port),
             "--runs-dir", str(store.root)],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"mcodeact runs serve: error: port {port} on 127.0.0.1 is in use; pick another with "
        "--port (0: any free port)"
    ]


def test_without_the_web_extra_one_line_says_what_to_install(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "sys.modules['starlette'] = None\n"  # as if the extra were not installed
        "sys.modules['uvicorn'] = None\n"
        "from multiagent_codeact.cli import main\n"
        f"main(['runs', '--runs-dir', {str(tmp_path)!r}, 'serve'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "300"},
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(INSTALL_HINT), done.stderr
    assert "starlette and uvicorn" in lines[0]


def test_the_core_and_the_cli_import_neither_starlette_nor_uvicorn() -> None:
    script = (
        "import sys, multiagent_codeact, multiagent_codeact.cli, multiagent_codeact.runlog.serve\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- a real browser -------------------------------------------------------------------------
def chromium_dom(tmp: Path, url: str) -> str:
    assert CHROMIUM is not None
    cmd = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", f"--user-data-dir={tmp / 'profile'}", "--dump-dom", url]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@needs_chromium
def test_chromium_opens_the_list_and_a_report(store: RunStore, tmp_path: Path) -> None:
    record_sample(store, "20260101-000000-aaa111")
    store.open_run("other", task={"prompt": f"hostile {XSS}"}).abort("stopped")
    with served(store) as url:
        listing = chromium_dom(tmp_path, url + "?q=dedupe")
        report = chromium_dom(tmp_path, url + "runs/20260101-000000-aaa111/report")
    assert rows(listing) == ["20260101-000000-aaa111"] and "runs 1–1 of 1" in listing
    assert "VERIFIED" in report.upper() and "def dedupe(xs):" in report


@needs_chromium
def test_a_live_run_updates_in_chromium_without_a_reload(store: RunStore, tmp_path: Path) -> None:
    run_id = "20260101-000000-live01"
    writer: RunWriter = store.open_run(run_id, task=TASK, models={"coder": "gpt-4o-mini"})
    script = sample_events(run_id)

    def append(i: int, *, seq: int | None = None) -> None:
        offset, kind, agent, data = script[i]
        number = i if seq is None else seq
        writer(
            Event(run_id=run_id, seq=number, time=T0 + offset, kind=kind, agent=agent, data=data)
        )  # type: ignore[arg-type]

    for seq in range(3):
        append(seq)
    assert CHROMIUM is not None
    with served(store) as url, Browser(CHROMIUM, tmp_path / "browser") as browser:
        browser.open(url + f"runs/{run_id}")
        rows_shown = "document.querySelectorAll('#feed li').length"
        assert browser.wait_for(f"{rows_shown} === 3")
        assert browser.evaluate("document.getElementById('status').textContent") == "running"
        browser.evaluate("window.__probe = 'the same page'")

        for seq in range(3, 8):
            append(seq)
        hostile = f'<img src=x onerror="window.__pwned=1"> {XSS}'
        writer(Event(run_id=run_id, seq=8, time=T0 + 2.5, kind="message", agent="coder2",
                     data={"content": hostile}))  # fmt: skip
        started = time.monotonic()
        assert browser.wait_for(f"{rows_shown} === 9")
        shown_after_s = time.monotonic() - started
        feed = browser.evaluate("document.getElementById('feed').innerText")
        assert "c1.0" in feed and "gpt-4o-mini" in feed
        assert "<img src=x" in feed  # shown as text ...
        assert browser.evaluate("document.querySelectorAll('#feed img').length") == 0
        assert browser.evaluate("typeof window.__pwned") == "undefined"  # ... never run
        # The report in the frame follows, without the page being reloaded.
        assert browser.wait_for("Number(document.getElementById('run').dataset.reloads || 0) >= 1")

        for i in range(8, len(script)):
            append(i, seq=i + 1)
        writer.finish(sample_solution(run_id))
        ended = (
            "document.getElementById('run').dataset.ended === 'true'"
            " && document.getElementById('status').textContent === 'finished'"
        )
        assert browser.wait_for(ended)
        # The frame's last reload, asked for once the stream ended, shows the finished run.
        assert browser.wait_for("document.getElementById('run').dataset.reportFinal === 'true'")
        report_text = browser.evaluate(
            "document.getElementById('report').contentDocument.body.innerText"
        )
        assert report_text.startswith("VERIFIED\n")  # the running copy's first line: RUNNING
        assert "def dedupe(xs):" in report_text and "run finished: verified" in report_text
        assert browser.evaluate("window.__probe") == "the same page"
        assert browser.evaluate(rows_shown) == len(script) + 1
    print(f"live event shown in the browser {shown_after_s * 1000:.0f} ms after it was written")
