"""OtelSink: a run's spans sent while it goes, round by round, from the recorder's events.

    solve(task, sinks=[OtelSink(endpoint="http://localhost:4318")])

A round's spans are final once its verdict is given, so at each verdict the sink sends the
spans of the rounds just closed; at `run_finished` it sends the rest (the run's root span,
the judge, the optimizer, the final run). The ids are derived from the run id and the order
spans are made in (see `emit`), so spans sent early keep their ids in the later, fuller
plans and the pieces form one trace, the same one `export_run` sends afterwards.

Sending happens on a worker thread: a slow or unreachable collector never holds up the run.
At `run_finished` the sink waits up to `timeout_s` for what is still queued. A batch the
exporter refused is kept in `failures` (and logged once); the run goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ..events import Event
from .emit import build_spans, resource_for
from .export import exporter_logs, failure_reason, otlp_exporter, traces_url
from .plan import plan_run

__all__ = ["OtelSink"]

logger = logging.getLogger(__name__)
_DONE = None


class OtelSink:
    """A recorder sink (`solve(..., sinks=[OtelSink(...)])`) that exports spans as rounds end.

    Give an `exporter` (any SpanExporter) or an OTLP/HTTP `endpoint`. Prompts, replies and code
    are left out unless `include_content`."""

    def __init__(
        self,
        exporter: SpanExporter | None = None,
        *,
        endpoint: str | None = None,
        include_content: bool = False,
        timeout_s: float = 10.0,
    ) -> None:
        if (exporter is None) == (endpoint is None):
            raise TypeError("OtelSink takes an exporter or an endpoint (one of them)")
        if exporter is None:
            exporter, _ = otlp_exporter(traces_url(str(endpoint)), timeout_s=timeout_s)
        self.exporter = exporter
        self.include_content = include_content
        self.timeout_s = timeout_s
        self.failures: list[str] = []
        self._events: list[Event] = []
        self._sent: set[int] = set()
        self._verdicts = 0
        self._queue: queue.Queue[list[ReadableSpan] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._send_loop, name="otel-sink", daemon=True)
        self._worker.start()

    def __call__(self, event: Event) -> None:
        self._events.append(event)
        if event.kind == "verdict":
            self._verdicts += 1
            self._queue.put(self._new_spans(final=False))
        elif event.kind == "run_finished":
            self._queue.put(self._new_spans(final=True))
            self.close()

    def close(self) -> None:
        """Send what is queued (waiting up to `timeout_s`), then stop the worker."""
        if self._worker.is_alive():
            self._queue.put(_DONE)
            self._worker.join(self.timeout_s)

    def _new_spans(self, *, final: bool) -> list[ReadableSpan]:
        """Spans not sent yet: all of them at the end, else those of the closed rounds."""
        plan = plan_run(self._events, include_content=self.include_content)
        spans = build_spans(plan, run_id=self._events[0].run_id, resource=resource_for())
        if not final:
            spans = _closed_rounds(spans, self._verdicts)
        fresh = [s for s in spans if _id(s) not in self._sent]
        self._sent.update(_id(s) for s in fresh)
        return fresh

    def _send_loop(self) -> None:
        while (batch := self._queue.get()) is not _DONE:
            if not batch:
                continue
            with exporter_logs() as said:
                try:
                    result = self.exporter.export(batch)
                except Exception as exc:  # an exporter's bug must not end the thread silently
                    result, why = SpanExportResult.FAILURE, repr(exc)
                else:
                    why = failure_reason(said, self.exporter)
            if result is not SpanExportResult.SUCCESS:
                if not self.failures:
                    logger.warning("OtelSink: %d spans were not exported: %s", len(batch), why)
                self.failures.append(f"{len(batch)} spans: {why}")
        self.exporter.shutdown()


def _closed_rounds(spans: Sequence[ReadableSpan], verdicts: int) -> list[ReadableSpan]:
    """The spans of the first `verdicts` rounds (each closed by its verdict), with what they
    hold: the root's other children and the root itself are not final yet."""
    root = next(s for s in spans if s.parent is None)
    rounds = sorted(
        (s for s in spans if s.name == "mcodeact.round" and _parent(s) == _id(root)),
        key=lambda s: s.start_time or 0,
    )[:verdicts]
    keep = {_id(s) for s in rounds}
    grew = True
    while grew:  # descendants of the closed rounds
        before = len(keep)
        keep |= {_id(s) for s in spans if _parent(s) in keep}
        grew = len(keep) > before
    return [s for s in spans if _id(s) in keep]


def _id(span: ReadableSpan) -> int:
    context = span.get_span_context()
    return context.span_id if context is not None else 0


def _parent(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None
