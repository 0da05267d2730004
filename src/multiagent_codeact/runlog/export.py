"""`runs export`: a run as a file someone else can read. One function per format in EXPORTERS.

An exporter takes the record and its events (read once by the caller, which reports corrupt
lines) and returns the text. A new format is one more entry in EXPORTERS,
`(record, events) -> str`; the CLI offers every key for `--format`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime

from ..events import Event
from .record import RunRecord
from .summary import Line, describe, seconds, tokens
from .totals import cost_text

Exporter = Callable[[RunRecord, Sequence[Event]], str]


def to_jsonl(record: RunRecord, events: Sequence[Event]) -> str:
    """The events, one JSON object per line (corrupt lines of the log left out)."""
    return "".join(event.model_dump_json() + "\n" for event in events)


def to_markdown(record: RunRecord, events: Sequence[Event]) -> str:
    """A readable report: the outcome and totals, the answer with its code, then the timeline.

    Model text is escaped outside code blocks, so a reply cannot inject markup (or HTML, for
    viewers that render it) into the report.
    """
    m, totals = record.manifest, record.totals()
    out = [f"# Run `{m.run_id}`", ""]
    used = tokens(totals.prompt_tokens, totals.completion_tokens)
    rows = [  # (name, markdown)
        ("status", _text(record.status)),
        ("verdict", _verdict(record)),
        ("started", _when(m.started_at)),
        ("duration", seconds(totals.duration_ms) if record.final else "still running"),
        ("model calls", f"{totals.model_calls} ({used})"),
        ("cost", cost_text(totals)),
        ("models", _text(", ".join(f"{k}={v}" for k, v in m.models.items())) or "-"),
    ]
    if m.error:
        rows.append(("error", _text(m.error)))
    if m.write_errors:
        rows.append(("incomplete log", _text("; ".join(m.write_errors))))
    out += ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), ""]
    out += ["## Task", "", *_fence(str(m.task.get("prompt", "")), "text"), ""]
    out += _answer(record)
    out += ["## Timeline", ""]
    start = events[0].time if events else m.started_at.timestamp()
    for event in events:
        out += _timeline_item(describe(event, start), event)
    return "\n".join(out).rstrip() + "\n"


def _answer(record: RunRecord) -> list[str]:
    solution = record.solution
    if solution is None:
        note = "The run has no solution (yet)." if not record.final else "No solution was saved."
        return ["## Answer", "", note, *(f"- {_text(p)}" for p in record.problems), ""]
    out = ["## Answer", ""]
    out += [f"- {_text(r)}" for r in solution.reasons if r]
    if solution.error:
        out.append(f"- error: {_text(solution.error)}")
    out.append("")
    if solution.code:
        out += ["### Code", "", *_fence(solution.code, "python"), ""]
    if solution.result is not None:
        out += ["### Result", "", *_fence(json.dumps(solution.result, indent=2), "json"), ""]
    if solution.stdout:
        out += ["### Output", "", *_fence(solution.stdout, "text"), ""]
    if record.artifacts:
        out += ["### Artifacts", ""]
        for a in record.artifacts:
            where = record.artifact_path(a)
            place = f": `{where}`" if where else " (not saved)"
            out.append(f"- {_text(a.name)} ({a.mime_type}, {a.size:,} bytes){place}")
        out.append("")
    return out


def _timeline_item(line: Line, event: Event) -> list[str]:
    out = [f"- `+{line.offset_s:.2f}s` **{_text(line.who)}** `{line.kind}`: {_text(line.text)}"]
    out += [f"  - {_text(d)}" for d in line.details]
    data = event.data
    if event.kind == "candidate" and isinstance(data.get("code"), str):
        out += ["", *_fence(data["code"], "python", indent="  ")]
        if isinstance(data.get("tests"), str) and data["tests"].strip():
            out += ["", *_fence(data["tests"], "python", indent="  ")]
    elif event.kind == "execution" and data.get("final"):
        for stream in ("stdout", "stderr"):
            if isinstance(data.get(stream), str) and data[stream].strip():
                out += ["", f"  {stream}:", "", *_fence(data[stream], "text", indent="  ")]
    elif event.kind == "repair" and isinstance(data.get("feedback"), str):
        out += ["", *_fence(data["feedback"], "text", indent="  ")]
    return out


def _verdict(record: RunRecord) -> str:
    m = record.manifest
    if m.verdict is None:
        return "-"
    confidence = f" (confidence {m.confidence:.2f})" if m.confidence is not None else ""
    return f"**{_text(m.verdict)}**{confidence}"


def _fence(text: str, language: str, *, indent: str = "") -> list[str]:
    """A fenced code block that `text` cannot close early, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text.rstrip("\n").splitlines() or [""]
    return [f"{indent}{fence}{language}", *(f"{indent}{line}" for line in body), f"{indent}{fence}"]


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def _text(value: str) -> str:
    """Model text made inert: HTML entities for <, >, &; backslashes before markdown marks."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", " ".join(escaped.split()))


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def to_html(record: RunRecord, events: Sequence[Event]) -> str:
    """The self-contained HTML report (`runlog.html`), with the status as reported."""
    from .html import render_html  # pygments: loaded only when asked for

    manifest = record.manifest.model_copy(
        update={"status": record.status, "totals": record.totals()}
    )
    solution = record.solution
    artifacts = {a.name: a.data for a in solution.artifacts} if solution else {}
    return render_html(manifest, events, solution, artifacts)


def to_otel(record: RunRecord, events: Sequence[Event]) -> str:
    """OpenTelemetry spans as OTLP JSON lines (`telemetry`; needs the `otel` extra)."""
    from ..telemetry import to_otlp_json  # opentelemetry: loaded only when asked for

    return to_otlp_json(record, events)


EXPORTERS: dict[str, Exporter] = {
    "html": to_html,
    "md": to_markdown,
    "jsonl": to_jsonl,
    "otel": to_otel,
}


__all__ = ["EXPORTERS", "Exporter", "to_html", "to_jsonl", "to_markdown", "to_otel"]
