"""A span plan made into OpenTelemetry SDK spans, with the times the run recorded.

Spans are built on a private TracerProvider (never the global one, so an application's own
tracing is neither touched nor mixed in) and collected as they end; the caller hands them to
any `SpanExporter` in one batch and sees its result. Trace and span ids are derived from the
run id: exporting a run twice gives the same ids (a backend shows one trace, not two), and a
run's trace can be found from its id alone (`trace_id_of`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import SpanKind, Status, StatusCode

from .. import __version__
from . import conventions as c
from .spans import SpanPlan

__all__ = ["RunIds", "build_spans", "resource_for", "trace_id_of"]

_KINDS = {"internal": SpanKind.INTERNAL, "client": SpanKind.CLIENT}
_LIMITS = SpanLimits(max_events=1024, max_span_attributes=256, max_event_attributes=256)


def trace_id_of(run_id: str) -> int:
    """The trace id a run is exported under (128 bits of a hash of its id, never 0)."""
    return int.from_bytes(_digest(f"trace:{run_id}")[:16], "big") or 1


class RunIds(IdGenerator):
    """Ids derived from the run id: the trace id, then span ids in the order spans start."""

    def __init__(self, run_id: str) -> None:
        self._run_id = run_id
        self._count = 0

    def generate_trace_id(self) -> int:
        return trace_id_of(self._run_id)

    def generate_span_id(self) -> int:
        self._count += 1
        return int.from_bytes(_digest(f"span:{self._run_id}:{self._count}")[:8], "big") or 1

    def is_trace_id_random(self) -> bool:
        return True  # a hash: the low bits are as good as random for ratio samplers


def resource_for(
    *, service: str = c.SERVICE, attributes: Mapping[str, str] | None = None
) -> Resource:
    """The resource of exported runs: `service.name`, our version, and what the caller adds
    (OTEL_RESOURCE_ATTRIBUTES is honoured too, as in any OpenTelemetry SDK)."""
    attrs = {"service.name": service, "service.version": __version__, **(attributes or {})}
    return Resource.create(attrs, schema_url=c.SCHEMA_URL)


def build_spans(
    plan: SpanPlan, *, run_id: str, resource: Resource | None = None
) -> list[ReadableSpan]:
    """The plan's spans, ended, children before their parents (the order they end in)."""
    collected = _Collect()
    provider = TracerProvider(
        sampler=ALWAYS_ON,
        resource=resource or resource_for(),
        shutdown_on_exit=False,
        id_generator=RunIds(run_id),
        span_limits=_LIMITS,
    )
    provider.add_span_processor(collected)
    tracer = provider.get_tracer(c.SCOPE, __version__, schema_url=c.SCHEMA_URL)
    _emit(tracer, plan, context_api.Context())  # an empty context: no ambient parent
    provider.shutdown()
    return collected.spans


def _emit(tracer: trace.Tracer, plan: SpanPlan, parent: context_api.Context) -> None:
    start = _ns(plan.start)
    span = tracer.start_span(
        plan.name,
        context=parent,
        kind=_KINDS[plan.kind],
        attributes=dict(plan.attributes),
        start_time=start,
    )
    for event in plan.events:
        span.add_event(event.name, dict(event.attributes), timestamp=max(_ns(event.time), start))
    if plan.error is not None:
        span.set_status(Status(StatusCode.ERROR, plan.error))
    inside = trace.set_span_in_context(span, parent)
    for child in sorted(plan.children, key=lambda s: (s.start, s.end)):
        _emit(tracer, child, inside)
    span.end(end_time=max(_ns(plan.end), start))


class _Collect(SpanProcessor):
    """Keeps every ended span; the exporter is called once, by the caller, with all of them."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)


def _ns(seconds: float) -> int:
    return round(seconds * 1_000_000_000)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()
