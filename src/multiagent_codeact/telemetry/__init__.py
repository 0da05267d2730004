"""OpenTelemetry export of recorded runs, following the GenAI semantic conventions (v1.41.0).

Needs the `otel` extra (`pip install 'multiagent-codeact[otel]'`); importing this package
without it raises MissingExtraError in one line, and `import multiagent_codeact` never imports
it. A run becomes one trace: the run as an `invoke_workflow` span, a span per round, per agent
(`invoke_agent`), per model call (`chat`, with tokens and cost) and per sandbox execution
(`execute_tool sandbox`), and each verdict as a `gen_ai.evaluation.result` event.

    from multiagent_codeact.runlog import RunStore
    from multiagent_codeact.telemetry import send_run, to_otlp_json

    record = RunStore().get("latest-run-id")
    send_run(record, "http://localhost:4318")        # OTLP/HTTP protobuf
    open("run.otlp.jsonl", "w").write(to_otlp_json(record))  # OTLP JSON lines

`OtelSink` sends spans while a run goes: `solve(task, sinks=[OtelSink(exporter)])`.
"""

from .extra import require_otel

require_otel()

from .conventions import SCHEMA_URL, SEMCONV_VERSION  # noqa: E402
from .emit import build_spans, resource_for, trace_id_of  # noqa: E402
from .export import (  # noqa: E402
    OtelExport,
    export_run,
    run_spans,
    send_run,
    to_otlp_json,
    traces_url,
)
from .otlp_json import OtlpJsonFileExporter, parse_json_lines, to_json_line  # noqa: E402
from .plan import plan_run  # noqa: E402
from .sink import OtelSink  # noqa: E402
from .spans import EventPlan, SpanPlan  # noqa: E402

__all__ = [
    "SCHEMA_URL",
    "SEMCONV_VERSION",
    "EventPlan",
    "OtelExport",
    "OtelSink",
    "OtlpJsonFileExporter",
    "SpanPlan",
    "build_spans",
    "export_run",
    "parse_json_lines",
    "plan_run",
    "resource_for",
    "run_spans",
    "send_run",
    "to_json_line",
    "to_otlp_json",
    "trace_id_of",
    "traces_url",
]
