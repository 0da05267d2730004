"""`mcodeact runs export ID --format otel`: the run as OpenTelemetry spans, to a file (OTLP
JSON lines) or sent to an OTLP/HTTP endpoint with `--endpoint URL`.

Kept apart from `runlog.cli` so that the other formats never import OpenTelemetry. A missing
`otel` extra, a malformed or unreachable endpoint, or one that refuses the spans is one line on
stderr and exit 2: each is the set-up, for the user to fix.
"""

from __future__ import annotations

from collections.abc import Sequence

import typer
from rich.console import Console
from rich.text import Text

from ..errors import MissingExtraError, TelemetryExportError
from ..events import Event
from ..terminal import printable
from .record import RunRecord

__all__ = ["otel_export"]


def otel_export(
    record: RunRecord,
    events: Sequence[Event],
    *,
    endpoint: str | None,
    include_content: bool,
    timeout_s: float,
) -> str | None:
    """The OTLP JSON text to write, or None once the spans were sent to `endpoint`."""
    try:
        from ..telemetry import send_run, to_otlp_json

        if endpoint is None:
            return to_otlp_json(record, events, include_content=include_content)
        sent = send_run(
            record, endpoint, events=events, include_content=include_content, timeout_s=timeout_s
        )
    except (MissingExtraError, TelemetryExportError) as exc:
        _stderr().print(Text(printable(f"mcodeact runs export: error: {exc}")))
        raise typer.Exit(2) from None
    _stderr().print(
        Text(f"sent {sent.spans} spans of run {sent.run_id} to {sent.destination}, "
             f"trace {sent.trace_id}")
    )  # fmt: skip
    return None


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)
