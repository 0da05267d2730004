"""Spans as OTLP JSON lines: the OpenTelemetry Protocol File Exporter format.

Each line is one `TracesData` (the body of an OTLP/HTTP JSON request: `{"resourceSpans": ...}`)
in the OTLP JSON encoding: the protobuf JSON mapping with lowerCamelCase keys, enums as
integers and trace and span ids as hex, not base64. The OpenTelemetry Collector reads such a
file with its `otlpjsonfile` receiver and forwards it to Jaeger, Phoenix, Langfuse or any OTLP
backend; the same text POSTed to `/v1/traces` with `Content-Type: application/json` is an OTLP
request. The encoding is the SDK's own protobuf one, so file and wire carry the same spans.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ..errors import InputFileError

__all__ = ["OtlpJsonFileExporter", "parse_json_lines", "to_json_line"]

_IDS = frozenset({"traceId", "spanId", "parentSpanId"})


def to_json_line(spans: Sequence[ReadableSpan]) -> str:
    """The spans as one OTLP JSON line, newline included."""
    data = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    return json.dumps(_ids(data, _b64_to_hex), ensure_ascii=False, separators=(",", ":")) + "\n"


def parse_json_lines(text: str, *, source: str = "<text>") -> list[ExportTraceServiceRequest]:
    """Each non-blank line of OTLP JSON back as a request; InputFileError names a bad line."""
    out: list[ExportTraceServiceRequest] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("a line must hold a JSON object with resourceSpans")
            out.append(ParseDict(_ids(data, _hex_to_b64), ExportTraceServiceRequest()))
        except (ValueError, ParseError) as exc:
            raise InputFileError(f"{source}:{number}: not OTLP JSON traces: {exc}") from None
    return out


class OtlpJsonFileExporter(SpanExporter):
    """A SpanExporter that appends each batch to a file as one OTLP JSON line.

    Usable with any span processor (`BatchSpanProcessor(OtlpJsonFileExporter(path))`) as well
    as with `export_run`; a write that fails is a FAILURE result, as for a network exporter.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.error: OSError | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        line = to_json_line(spans)
        try:
            with self._lock, self.path.open("a", encoding="utf-8") as out:
                out.write(line)
        except OSError as exc:
            self.error = exc
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing is held open between batches."""


def _ids(data: Any, convert: Any) -> Any:
    """`data` with every trace and span id converted (OTLP JSON wants hex, protobuf base64)."""
    if isinstance(data, dict):
        return {
            k: convert(v) if k in _IDS and isinstance(v, str) else _ids(v, convert)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_ids(v, convert) for v in data]
    return data


def _b64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


def _hex_to_b64(value: str) -> str:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a hex id") from None
    return base64.b64encode(raw).decode()
