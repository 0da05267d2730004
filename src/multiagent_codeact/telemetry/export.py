"""A recorded run exported as OpenTelemetry spans: to any SpanExporter, to an OTLP/HTTP
endpoint, or as OTLP JSON lines.

    record = RunStore().get(run_id)
    send_run(record, "http://localhost:4318")      # Jaeger, Phoenix, Langfuse, a Collector
    export_run(record, InMemorySpanExporter())     # any SpanExporter
    text = to_otlp_json(record)                    # one OTLP JSON line (the file format)

The spans carry the times the run recorded, so an export long after the run shows the real
timeline. An exporter that fails is a `TelemetryExportError` whose message says why in one line
(the SDK's own log lines about it are kept off the terminal). Endpoint credentials (Langfuse,
Phoenix Cloud) go in OTEL_EXPORTER_OTLP_HEADERS, as for any OTLP exporter, never in arguments
that a shell history or a log would keep.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from pydantic import BaseModel, ConfigDict

from ..errors import TelemetryExportError
from ..events import Event
from ..runlog.record import RunRecord
from .emit import build_spans, resource_for, trace_id_of
from .otlp_json import to_json_line
from .plan import plan_run
from .session import WatchedSession

__all__ = [
    "OtelExport",
    "export_run",
    "otlp_exporter",
    "run_spans",
    "send_run",
    "shown_url",
    "to_otlp_json",
    "traces_url",
]

_TRACES_PATH = "/v1/traces"


class OtelExport(BaseModel):
    """What an export sent: the run, its trace id (hex, to look it up), how many spans, where."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    trace_id: str
    spans: int
    destination: str


def run_spans(
    record: RunRecord,
    events: Sequence[Event] | None = None,
    *,
    include_content: bool = False,
    resource: Resource | None = None,
) -> list[ReadableSpan]:
    """The run's spans (events read from its folder unless given). Prompts, replies, code and
    output are left out unless `include_content`."""
    evs = list(record.events()) if events is None else list(events)
    solution = record.solution
    plan = plan_run(
        evs,
        manifest=record.manifest,
        status=record.status,
        reasons=solution.reasons if solution else (),
        include_content=include_content,
    )
    host = record.manifest.host
    resource = resource or resource_for(attributes={"host.name": host} if host else None)
    return build_spans(plan, run_id=record.run_id, resource=resource)


def export_run(
    record: RunRecord,
    exporter: SpanExporter,
    *,
    events: Sequence[Event] | None = None,
    include_content: bool = False,
    destination: str | None = None,
) -> OtelExport:
    """Hand the run's spans to `exporter` in one batch; TelemetryExportError if it fails."""
    return _export(record, exporter, events, include_content, destination, None)


def _export(
    record: RunRecord,
    exporter: SpanExporter,
    events: Sequence[Event] | None,
    include_content: bool,
    destination: str | None,
    session: WatchedSession | None,
) -> OtelExport:
    spans = run_spans(record, events, include_content=include_content)
    where = destination or type(exporter).__name__
    with exporter_logs() as said:
        result = exporter.export(spans)
    if result is not SpanExportResult.SUCCESS:
        cause = session.last_error if session is not None else None
        why = _short(cause) if cause is not None else failure_reason(said, exporter)
        raise TelemetryExportError(f"could not export run {record.run_id} to {where}: {why}")
    return OtelExport(
        run_id=record.run_id,
        trace_id=f"{trace_id_of(record.run_id):032x}",
        spans=len(spans),
        destination=where,
    )


def send_run(
    record: RunRecord,
    endpoint: str,
    *,
    events: Sequence[Event] | None = None,
    include_content: bool = False,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
) -> OtelExport:
    """Send the run to an OTLP/HTTP (protobuf) endpoint: a base URL such as
    `http://localhost:4318` (`/v1/traces` is added) or the full traces URL. Transient
    failures are retried within `timeout_s`; headers default to OTEL_EXPORTER_OTLP_HEADERS."""
    url = traces_url(endpoint)
    exporter, session = otlp_exporter(url, headers=headers, timeout_s=timeout_s)
    try:
        return _export(record, exporter, events, include_content, shown_url(url), session)
    finally:
        with exporter_logs():
            exporter.shutdown()


def to_otlp_json(
    record: RunRecord, events: Sequence[Event] | None = None, *, include_content: bool = False
) -> str:
    """The run as one line of OTLP JSON (the OpenTelemetry file-exporter format)."""
    return to_json_line(run_spans(record, events, include_content=include_content))


def otlp_exporter(
    url: str, *, headers: Mapping[str, str] | None = None, timeout_s: float = 10.0
) -> tuple[SpanExporter, WatchedSession]:
    """The SDK's OTLP/HTTP protobuf exporter for `url`, on a session that keeps the last
    transport error (the exporter itself only logs it)."""
    session = WatchedSession()
    exporter = OTLPSpanExporter(endpoint=url, headers=headers, timeout=timeout_s, session=session)
    return exporter, session


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for `endpoint`: a base URL (`http://localhost:4318`,
    `https://cloud.langfuse.com/api/public/otel`) gets `/v1/traces`, as the SDK does for
    OTEL_EXPORTER_OTLP_ENDPOINT; a URL that ends with it already is used as it is."""
    try:
        url = urlsplit(endpoint.strip())
        valid = url.scheme in ("http", "https") and bool(url.hostname)
        _ = url.port  # raises ValueError for a port that is not a number
    except ValueError:
        valid = False
    if not valid:
        raise TelemetryExportError(
            f"{endpoint!r} is not an OTLP/HTTP endpoint: give an http(s) URL such as "
            "http://localhost:4318 (/v1/traces is added unless the URL ends with it)"
        )
    path = url.path.rstrip("/")
    if not path.endswith(_TRACES_PATH):
        path += _TRACES_PATH  # a base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes one
    return urlunsplit((url.scheme, url.netloc, path, url.query, ""))


def shown_url(url: str) -> str:
    """`url` as messages show it: without a `user:password@` (requests sends it as Basic auth;
    a terminal, a log or a CI transcript must not keep it)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


@contextmanager
def exporter_logs() -> Iterator[list[logging.LogRecord]]:
    """What OpenTelemetry logs while exporting, kept (for the error message) and off stderr."""
    said: list[logging.LogRecord] = []
    handler = _Keep(said)
    logger = logging.getLogger("opentelemetry")
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield said
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


class _Keep(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self._into = into

    def emit(self, record: logging.LogRecord) -> None:
        self._into.append(record)


def failure_reason(said: list[logging.LogRecord], exporter: SpanExporter) -> str:
    """One line on why an export failed, from the exporter's log records."""
    if isinstance(error := getattr(exporter, "error", None), OSError):  # the file exporter
        return error.strerror or str(error)
    reason = None
    for record in said:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg.startswith("Failed to export") and len(args) == 3:
            _, status, cause = args
            reason = f"HTTP {status} {cause or ''}".strip() if status else _short(cause)
        elif record.msg.startswith("Transient error") and args:
            reason = _short(args[0])
    if reason is None:
        return said[-1].getMessage() if said else "the exporter reported a failure"
    return reason


def _short(cause: object) -> str:
    """An OS-level reason ("Connection refused") out of a requests error's long text."""
    text = str(cause)
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if found:
        return found.group(1).strip()
    return text if len(text) <= 200 else text[:199] + "…"
