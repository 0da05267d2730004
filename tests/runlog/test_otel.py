"""OpenTelemetry export of runs: a real recorded run (solve() against the scripted server on
loopback, candidates in the real sandbox) exported to the SDK's in-memory exporter, to a real
OTLP/HTTP receiver on loopback, and to OTLP JSON lines; the CLI through its entry point."""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import T0, record_sample
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from multiagent_codeact.cli import main
from multiagent_codeact.domain import Solution
from multiagent_codeact.offline import SCRIPTED_MODEL, scripted_config, scripted_server
from multiagent_codeact.pipeline import solve
from multiagent_codeact.pipeline_file import load_pipeline
from multiagent_codeact.runlog import RunRecord, RunStore
from multiagent_codeact.telemetry import (
    SCHEMA_URL,
    OtelSink,
    export_run,
    parse_json_lines,
    run_spans,
    to_otlp_json,
    trace_id_of,
)
from multiagent_codeact.telemetry import conventions as c

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KEY_ENV = "MCA_OTEL_TEST_KEY"
SECRET = "sk-otel-5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a"
SAMPLE = "20260101-000000-0a1b2c"
NS = 1_000_000_000


class BatchExporter(InMemorySpanExporter):
    """The in-memory exporter, also keeping each batch as it came."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def export(self, spans: Any) -> SpanExportResult:
        self.batches.append([s.name for s in spans])
        return super().export(spans)


@dataclass
class Recorded:
    store: RunStore
    record: RunRecord
    solution: Solution
    live: BatchExporter


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """The longest-run example solved once by two coders, recorded, with an OtelSink watching
    it live. With two, coder2's wrong program is a dispute no majority settles: round 1 asks
    the test designer for a ruling and verifies again, coder2 repairs, round 2 verifies."""
    store = RunStore(tmp_path_factory.mktemp("otel") / "runs")
    pipeline = load_pipeline(EXAMPLES / "longest_run.yaml")
    live = BatchExporter()
    with (
        pytest.MonkeyPatch.context() as mp,
        scripted_server(EXAMPLES / "scripted" / "longest_run.yaml") as server,
    ):
        mp.setenv(KEY_ENV, SECRET)
        config = scripted_config(pipeline.config, server.base_url)
        model = config.model.model_copy(update={"api_key_env": KEY_ENV})  # a real key in play
        config = config.model_copy(update={"model": model, "candidates": 2})
        solution = solve(pipeline.tasks[0], config=config, store=store, sinks=[OtelSink(live)])
    return Recorded(store, store.get(solution.run_id), solution, live)


@pytest.fixture
def spans(recorded: Recorded) -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    sent = export_run(recorded.record, exporter)
    got = list(exporter.get_finished_spans())
    assert sent.spans == len(got) and sent.trace_id == f"{trace_id_of(recorded.record.run_id):032x}"
    return got


def by_id(spans: list[ReadableSpan]) -> dict[int, ReadableSpan]:
    return {s.context.span_id: s for s in spans if s.context is not None}


def parent_of(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan | None:
    return by_id(spans).get(span.parent.span_id) if span.parent else None


def named(spans: list[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    return sorted((s for s in spans if s.name.startswith(prefix)), key=lambda s: s.start_time or 0)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    assert isinstance(exited.value.code, int)
    return exited.value.code, out, err


# -- the span tree of a real run -------------------------------------------------------------
def test_a_real_run_is_one_trace_that_follows_its_rounds(
    recorded: Recorded, spans: list[ReadableSpan]
) -> None:
    events = list(recorded.record.events())
    [root] = [s for s in spans if s.parent is None]
    assert root.name == "invoke_workflow mcodeact" and root.kind is SpanKind.INTERNAL
    attrs = dict(root.attributes or {})
    assert attrs[c.OPERATION] == "invoke_workflow" and attrs[c.WORKFLOW_NAME] == "mcodeact"
    assert attrs[c.RUN_ID] == recorded.record.run_id
    assert attrs[c.VERDICT] == recorded.solution.verdict.value
    assert {s.context.trace_id for s in spans if s.context} == {trace_id_of(attrs[c.RUN_ID])}
    assert root.resource.schema_url == SCHEMA_URL == "https://opentelemetry.io/schemas/1.41.0"
    assert root.instrumentation_scope is not None
    assert root.instrumentation_scope.schema_url == SCHEMA_URL

    # The rounds hang under the run, numbered; the example's wrong coder is repaired in round 2.
    rounds = named(spans, "mcodeact.round")
    assert [parent_of(r, spans) for r in rounds] == [root] * len(rounds)
    numbers = [dict(r.attributes or {})[c.ROUND] for r in rounds]
    assert numbers[0] == 1 and numbers == sorted(numbers) and max(numbers) >= 2
    for earlier, later in itertools.pairwise(rounds):
        assert (earlier.end_time or 0) <= (later.start_time or 0) + NS // 100  # in order

    # One chat span per recorded model call, under the agent that made it.
    calls = [e for e in events if e.kind == "model_call"]
    chats = named(spans, "chat ")
    assert len(chats) == len(calls) > 0
    for chat in chats:
        a = dict(chat.attributes or {})
        agent = parent_of(chat, spans)
        assert agent is not None and agent.name == f"invoke_agent {a[c.AGENT_NAME]}"
        assert parent_of(agent, spans) in rounds or parent_of(agent, spans) == root
        assert chat.kind is SpanKind.CLIENT and chat.name == f"chat {SCRIPTED_MODEL}"
        assert a[c.OPERATION] == "chat" and a[c.REQUEST_MODEL] == SCRIPTED_MODEL
        assert a[c.PROVIDER_NAME] == "openai" and a[c.SERVER_ADDRESS] == "127.0.0.1"
        assert int(a[c.INPUT_TOKENS]) > 0 and int(a[c.OUTPUT_TOKENS]) > 0
        assert c.COST not in a  # the scripted model has no price: unknown, never $0
    totals = recorded.record.totals()
    assert attrs[c.MODEL_CALLS] == totals.model_calls == len(chats)
    assert attrs[c.TOTAL_INPUT_TOKENS] == totals.prompt_tokens
    assert attrs[c.TOTAL_OUTPUT_TOKENS] == totals.completion_tokens
    assert c.COST not in attrs and attrs[c.UNPRICED_CALLS] == len(chats)
    agents = {dict(s.attributes or {})[c.AGENT_NAME] for s in named(spans, "invoke_agent ")}
    assert agents == {"coder1", "coder2", "test_designer", "test_designer.adjudicate1"}

    # The ruling asked for after round 1's dispute is a recheck of round 1, not a new round.
    [ruling] = named(spans, "invoke_agent test_designer.adjudicate1")
    recheck = parent_of(ruling, spans)
    assert recheck in rounds and recheck is not None
    assert (
        dict(recheck.attributes or {})[c.ROUND] == 1 and dict(recheck.attributes or {})[c.RECHECK]
    )
    assert [e.name for e in ruling.events] == [c.EV_ADJUDICATION]


def test_sandbox_runs_and_verdicts_are_spans_and_evaluation_events(
    recorded: Recorded, spans: list[ReadableSpan]
) -> None:
    [root] = [s for s in spans if s.parent is None]
    verifications = named(spans, "mcodeact.verify")
    verdicts = [e for e in recorded.record.events() if e.kind == "verdict"]
    assert len(verifications) == len(verdicts) >= 2
    for span, verdict in zip(verifications, verdicts, strict=True):
        assert parent_of(span, spans) in named(spans, "mcodeact.round")
        [evaluation] = [e for e in span.events if e.name == "gen_ai.evaluation.result"]
        a = dict(evaluation.attributes or {})
        assert a[c.EVALUATION_NAME] == "mcodeact.verification"
        assert a[c.EVALUATION_LABEL] == verdict.data["verdict"]
        assert a[c.EVALUATION_SCORE] == verdict.data["confidence"]
        assert a[c.EVALUATION_EXPLANATION] == "; ".join(verdict.data["reasons"])
        assert span.end_time == round(verdict.time * NS)
        runs = [s for s in spans if s.parent and s.parent.span_id == span.context.span_id]
        assert len(runs) == recorded.record.manifest.config["candidates"]
        assert {r.name for r in runs} == {"execute_tool sandbox"}
        for run in runs:
            r = dict(run.attributes or {})
            assert r[c.OPERATION] == "execute_tool" and r[c.TOOL_NAME] == "sandbox"
            assert r[c.EXEC_FINAL] is False and r[c.TIMED_OUT] is False
            assert r[c.EXEC_STATUS] in ("ok", "rejected", "load_error")
    first = dict(verifications[0].events[0].attributes or {})
    assert first[c.EVALUATION_LABEL] != "verified"  # round 1 caught the wrong candidate

    final = [s for s in named(spans, "execute_tool") if dict(s.attributes or {})[c.EXEC_FINAL]]
    [final_run] = final
    f = dict(final_run.attributes or {})
    assert parent_of(final_run, spans) == root
    assert f[c.EXIT_CODE] == 0 and f[c.TIMED_OUT] is False and float(f[c.DURATION_MS]) > 0
    assert final_run.status.status_code is StatusCode.UNSET

    [outcome] = [e for e in root.events if e.name == "gen_ai.evaluation.result"]
    o = dict(outcome.attributes or {})
    assert o[c.EVALUATION_LABEL] == recorded.solution.verdict.value == "verified"
    assert o[c.EVALUATION_SCORE] == recorded.solution.confidence
    assert o[c.EVALUATION_EXPLANATION] == "; ".join(recorded.solution.reasons)


def test_timestamps_are_the_recorded_ones_and_nest(
    recorded: Recorded, spans: list[ReadableSpan]
) -> None:
    events = list(recorded.record.events())
    [root] = [s for s in spans if s.parent is None]
    assert root.start_time == round(events[0].time * NS)  # run_started, not the export's now
    assert root.end_time == round(events[-1].time * NS)  # run_finished
    assert events[0].kind == "run_started" and events[-1].kind == "run_finished"
    for span in spans:
        assert (span.start_time or 0) <= (span.end_time or 0), span.name
        parent = parent_of(span, spans)
        if parent is not None:
            assert (parent.start_time or 0) <= (span.start_time or 0), span.name
            assert (span.end_time or 0) <= (parent.end_time or 0), span.name
        for event in span.events:
            assert (span.start_time or 0) <= event.timestamp
    calls = sorted(e.time for e in events if e.kind == "model_call")
    ends = sorted((s.end_time or 0) / NS for s in named(spans, "chat "))
    assert ends == pytest.approx(calls, abs=0.05)  # each call ends when its event was recorded


def test_no_secret_anywhere_and_no_content_unless_asked(
    recorded: Recorded, spans: list[ReadableSpan], capsys: pytest.CaptureFixture[str]
) -> None:
    prompt = recorded.record.manifest.task["prompt"]
    plain = to_otlp_json(recorded.record)
    full = to_otlp_json(recorded.record, include_content=True)
    live = json.dumps([s.to_json() for s in recorded.live.get_finished_spans()])
    for text in (plain, full, live, json.dumps([s.to_json() for s in spans])):
        assert SECRET not in text
    assert c.INPUT_MESSAGES not in plain and "mcodeact.candidate.code" not in plain
    assert "strictly increasing" in prompt and "strictly increasing" not in plain
    assert c.INPUT_MESSAGES in full and "strictly increasing" in full
    [root] = [s for s in run_spans(recorded.record, include_content=True) if s.parent is None]
    [message] = json.loads(str(dict(root.attributes or {})[c.INPUT_MESSAGES]))
    assert message == {"role": "user", "parts": [{"type": "text", "content": prompt}]}
    codes = [
        dict(e.attributes or {}).get("mcodeact.candidate.code")
        for s in run_spans(recorded.record, include_content=True)
        for e in s.events
        if e.name == "mcodeact.candidate"
    ]
    assert recorded.solution.code in codes  # the selected program, as its coder wrote it


# -- the live sink ---------------------------------------------------------------------------
def test_the_live_sink_sent_the_same_trace_round_by_round(
    recorded: Recorded, spans: list[ReadableSpan]
) -> None:
    live = list(recorded.live.get_finished_spans())

    def shape(s: ReadableSpan) -> tuple[object, ...]:
        parent = s.parent.span_id if s.parent else None
        return (s.name, s.context.span_id if s.context else 0, parent, s.start_time, s.end_time)

    assert sorted(map(shape, live)) == sorted(map(shape, spans))  # same ids: one trace
    batches = recorded.live.batches
    assert len(batches) >= 3  # each verdict's round, then the rest at the end
    assert "mcodeact.round" in batches[0] and "invoke_workflow mcodeact" not in batches[0]
    assert "invoke_workflow mcodeact" in batches[-1]
    assert sum(map(len, batches)) == len(spans)  # nothing sent twice


# -- a hand-written run: costs, failures, estimated times ------------------------------------
def test_costs_failures_and_estimated_starts_of_a_written_run(store: RunStore) -> None:
    record_sample(store, SAMPLE)
    record = store.get(SAMPLE)
    spans = run_spans(record)
    chats = named(spans, "chat ")
    [coder1] = [s for s in chats if dict(s.attributes or {})[c.AGENT_NAME] == "coder1"]
    first = dict(coder1.attributes or {})
    assert coder1.start_time == T0 * NS  # started_at 2026-01-01T00:00:00Z: the real timeline
    assert coder1.end_time == round((T0 + 1.41) * NS)
    assert first[c.COST] == pytest.approx(0.000175) and first[c.ATTEMPTS] == 1
    [failed] = [s for s in chats if s.status.status_code is StatusCode.ERROR]
    assert failed.status.description == "HTTP 429: rate limited"
    assert dict(failed.attributes or {})[c.ERROR_TYPE] == "429"
    designer = parent_of(failed, spans)
    assert designer is not None and designer.status.status_code is StatusCode.ERROR
    assert [e.name for e in designer.events] == ["exception"]
    [root] = [s for s in spans if s.parent is None]
    assert dict(root.attributes or {})[c.COST] == pytest.approx(0.000175 + 0.000118)
    [verify] = named(spans, "mcodeact.verify")
    assert verify.start_time == round((T0 + 2.96 - 0.85) * NS)  # from its recorded duration
    [final] = [s for s in named(spans, "execute_tool") if dict(s.attributes or {})[c.EXEC_FINAL]]
    f = dict(final.attributes or {})
    assert f[c.TIMING_ESTIMATED] is True and f[c.ARTIFACTS] == 1 and f[c.EXIT_CODE] == 0
    assert final.start_time == round((T0 + 2.96) * NS)  # the event before it: the verdict


# -- OTLP JSON lines -------------------------------------------------------------------------
def test_the_file_format_round_trips(
    recorded: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = recorded.record
    out = tmp_path / "run.otlp.jsonl"
    code, stdout, err = cli(
        capsys, "runs", "--runs-dir", str(recorded.store.root), "export", record.run_id,
        "--format", "otel", "-o", str(out),
    )  # fmt: skip
    assert (code, stdout) == (0, "") and f"wrote {out} (otel" in err
    text = out.read_text(encoding="utf-8")
    [line] = text.splitlines()
    data = json.loads(line)
    span = data["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["traceId"] == f"{trace_id_of(record.run_id):032x}"  # hex, not base64
    assert len(span["spanId"]) == 16 and isinstance(span["kind"], int)  # enums as integers
    assert data["resourceSpans"][0]["schemaUrl"] == SCHEMA_URL
    [parsed] = parse_json_lines(text, source=str(out))
    assert parsed == encode_spans(run_spans(record))  # the same message as on the wire


def test_a_file_that_is_not_otlp_json_is_named_with_its_line() -> None:
    from multiagent_codeact.errors import InputFileError

    with pytest.raises(InputFileError, match=r"^t\.jsonl:2: not OTLP JSON traces"):
        parse_json_lines('{"resourceSpans": []}\n{"resourceSpans": [{"x": 1}]}\n', source="t.jsonl")


# -- OTLP/HTTP -------------------------------------------------------------------------------
@dataclass
class Received:
    path: str
    content_type: str | None
    authorization: str | None
    request: ExportTraceServiceRequest


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[Received], list[int]]]:
    """A real OTLP/HTTP receiver on loopback: decodes each protobuf body; answers `status[0]`."""
    received: list[Received] = []
    status = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = ExportTraceServiceRequest.FromString(body)
            headers = self.headers
            received.append(
                Received(self.path, headers["Content-Type"], headers["Authorization"], request)
            )
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(status[0])
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received, status
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_cli_sends_the_run_to_an_otlp_http_receiver(
    recorded: Recorded,
    receiver: tuple[str, list[Received], list[int]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, received, _ = receiver
    run_id = recorded.record.run_id
    code, out, err = cli(
        capsys, "runs", "--runs-dir", str(recorded.store.root), "export", run_id, "--endpoint", url
    )
    assert (code, out) == (0, "")
    [got] = received
    assert got.path == "/v1/traces" and got.content_type == "application/x-protobuf"
    assert got.request == encode_spans(run_spans(recorded.record))
    spans = [s for rs in got.request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert f"sent {len(spans)} spans of run {run_id} to {url}/v1/traces" in err
    assert f"trace {trace_id_of(run_id):032x}" in err
    assert SECRET.encode() not in got.request.SerializeToString()


def test_a_receiver_that_refuses_is_one_line_and_exit_2(
    recorded: Recorded,
    receiver: tuple[str, list[Received], list[int]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, received, status = receiver
    status[0] = 400
    args = ["runs", "--runs-dir", str(recorded.store.root), "export", recorded.record.run_id]
    code, out, err = cli(capsys, *args, "--endpoint", f"{url}/v1/traces")
    assert (code, out, len(received)) == (2, "", 1)
    assert err.count("\n") == 1 and "HTTP 400" in err and f"{url}/v1/traces" in err

    # Credentials in the URL are sent (as Basic auth) but never printed.
    with_user = url.replace("http://", "http://otel:pa55word@")
    code, out, err = cli(capsys, *args, "--endpoint", with_user)
    assert (code, len(received)) == (2, 2) and received[1].authorization is not None
    assert "pa55word" not in err and f"to http://***@{url[len('http://') :]}/v1/traces" in err


def test_an_unreachable_endpoint_is_one_line_and_exit_2(
    recorded: Recorded, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as free:  # a port nothing listens on once this socket is closed
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    args = ["runs", "--runs-dir", str(recorded.store.root), "export", recorded.record.run_id]
    started = time.monotonic()
    code, out, err = cli(capsys, *args, "--endpoint", f"http://127.0.0.1:{port}", "--timeout", "1")
    assert time.monotonic() - started < 5  # the timeout bounds the retries
    assert (code, out) == (2, "")
    assert err.count("\n") == 1, err
    assert err.startswith("mcodeact runs export: error: could not export run ")
    assert f"http://127.0.0.1:{port}/v1/traces" in err and "Connection refused" in err

    code, _, err = cli(capsys, *args, "--endpoint", "localhost:4318")
    assert code == 2 and err.count("\n") == 1 and "is not an OTLP/HTTP endpoint" in err
    code, _, err = cli(capsys, *args, "--endpoint", "http://x", "--format", "html")
    assert code == 2 and "--endpoint sends otel spans" in err
    code, _, err = cli(capsys, *args, "--endpoint", "http://x", "-o", "spans.jsonl")
    assert code == 2 and err.count("\n") == 1 and "give one of them" in err


# -- the extra -------------------------------------------------------------------------------
def test_without_the_extra_the_cli_says_how_to_install_it(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [m for m in sys.modules if m.startswith("multiagent_codeact.telemetry")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk", None)  # as if never installed
    args = ["runs", "--runs-dir", str(recorded.store.root), "export", recorded.record.run_id]
    code, out, err = cli(capsys, *args, "--format", "otel")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert "opentelemetry-sdk" in err and "pip install 'multiagent-codeact[otel]'" in err


def test_the_core_import_loads_no_opentelemetry_sdk() -> None:
    probe = (
        "import sys, multiagent_codeact, multiagent_codeact.runlog, multiagent_codeact.cli\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk', "
        "'opentelemetry.exporter', 'multiagent_codeact.telemetry'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
