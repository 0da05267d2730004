"""One span (or span event) per thing a run did, built from its recorded events: pure data.

Each builder takes the events that say what happened and returns a `SpanPlan` whose times come
from them: a model call from its `started_at` and latency, a verification from its verdict's
duration, an agent from the first to the last thing it did. Where the log records only when
something ended, the start is the event before it and the span says so
(`mcodeact.timing.estimated`). No OpenTelemetry import: `emit` turns plans into spans.

Prompts, replies, code and program output are *content*: left out unless `include_content`,
as the GenAI conventions advise (they may hold user data). The events were scrubbed of the
run's secrets before they were recorded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias
from urllib.parse import urlsplit

from ..events import Event
from ..runlog.fields import call_start, number
from . import conventions as c

AttrValue: TypeAlias = str | bool | int | float | list[str]
Attributes: TypeAlias = dict[str, AttrValue]

__all__ = [
    "AttrValue",
    "Attributes",
    "EventPlan",
    "SpanPlan",
    "agent_span",
    "chat_span",
    "evaluation",
    "exception",
    "final_run_span",
    "verify_span",
]


@dataclass
class EventPlan:
    """A span event: a name, when (seconds since the epoch) and its attributes."""

    name: str
    time: float
    attributes: Attributes = field(default_factory=dict)


@dataclass
class SpanPlan:
    """A span to be: times in seconds since the epoch, `error` set for an ERROR status."""

    name: str
    start: float
    end: float
    kind: Literal["internal", "client"] = "internal"
    attributes: Attributes = field(default_factory=dict)
    events: list[EventPlan] = field(default_factory=list)
    children: list[SpanPlan] = field(default_factory=list)
    error: str | None = None

    def walk(self) -> Iterator[SpanPlan]:
        """This span, then its descendants, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()


# -- model calls and agents ------------------------------------------------------------------
def chat_span(e: Event) -> SpanPlan:
    """A `model_call` event as an inference span: `chat {model}`, CLIENT, tokens and cost."""
    d = e.data
    ms = number(d.get("latency_ms")) or 0.0
    start = call_start(d, e.time)
    model = str(d.get("model") or "unknown")
    attrs: Attributes = {
        c.OPERATION: c.OP_CHAT,
        c.PROVIDER_NAME: c.PROVIDER,
        c.REQUEST_MODEL: model,
        c.INPUT_TOKENS: int(number(d.get("prompt_tokens")) or 0),
        c.OUTPUT_TOKENS: int(number(d.get("completion_tokens")) or 0),
        c.ATTEMPTS: int(number(d.get("attempts")) or 0),
        c.CACHED: d.get("cached") is True,
        c.TOKENS_ESTIMATED: d.get("usage_estimated") is True,
        c.REQUEST_STREAM: d.get("streamed") is True,
    }
    if e.agent:
        attrs[c.AGENT_NAME] = e.agent
    if isinstance(d.get("finish_reason"), str):
        attrs[c.FINISH_REASONS] = [d["finish_reason"]]
    if queued := number(d.get("queued_ms")):
        attrs[c.QUEUED_MS] = queued
    if d.get("price_known") is True and (cost := number(d.get("cost_usd"))) is not None:
        attrs[c.COST] = cost
    attrs.update(_server(d.get("endpoint")))
    span = SpanPlan(f"{c.OP_CHAT} {model}", start, start + ms / 1000, "client", attrs)
    if isinstance(d.get("error"), str):
        span.error = d["error"]
        status = re.match(r"HTTP (\d{3})\b", d["error"])
        attrs[c.ERROR_TYPE] = status.group(1) if status else "_OTHER"
    return span


def agent_span(agent: str, events: Sequence[Event], *, include_content: bool) -> SpanPlan:
    """What one agent did in one phase of the run: `invoke_agent {agent}` holding its model
    calls as children and its candidates, repairs, errors and rulings as span events."""
    calls = [chat_span(e) for e in events if e.kind == "model_call"]
    start = min([e.time for e in events] + [s.start for s in calls])
    end = max([e.time for e in events] + [s.end for s in calls])
    attrs: Attributes = {c.OPERATION: c.OP_AGENT, c.PROVIDER_NAME: c.PROVIDER, c.AGENT_NAME: agent}
    models = {str(s.attributes[c.REQUEST_MODEL]) for s in calls}
    if len(models) == 1:
        attrs[c.REQUEST_MODEL] = models.pop()
    span = SpanPlan(f"{c.OP_AGENT} {agent}", start, end, attributes=attrs, children=calls)
    for e in events:
        span.events += _agent_event(e, include_content=include_content)
        if e.kind == "error":
            span.error = str(e.data.get("message") or e.data.get("type") or "error")
            attrs[c.ERROR_TYPE] = str(e.data.get("type") or "_OTHER")
    if include_content:
        sent = [str(e.data.get("content", "")) for e in events if e.kind == "message" and _to(e)]
        said = [
            str(e.data.get("content", "")) for e in events if e.kind == "message" and not _to(e)
        ]
        if sent:
            attrs[c.INPUT_MESSAGES] = _messages("user", sent)
        if said:
            attrs[c.OUTPUT_MESSAGES] = _messages("assistant", said)
    return span


def _agent_event(e: Event, *, include_content: bool) -> list[EventPlan]:
    d = e.data
    if e.kind == "candidate":
        attrs: Attributes = {
            "mcodeact.candidate.usable": d.get("usable") is True,
            "mcodeact.candidate.problems": [str(p) for p in d.get("problems") or []],
        }
        if d.get("id") is not None:
            attrs[c.CANDIDATE] = str(d["id"])
        if (round_ := number(d.get("round"))) is not None:
            attrs[c.ROUND] = int(round_) + 1
        if include_content:
            for key in ("code", "tests", "explanation"):
                if isinstance(d.get(key), str):
                    attrs[f"mcodeact.candidate.{key}"] = d[key]
        return [EventPlan(c.EV_CANDIDATE, e.time, attrs)]
    if e.kind == "repair":
        feedback = {"mcodeact.repair.feedback": str(d.get("feedback", ""))}
        return [EventPlan(c.EV_REPAIR, e.time, dict(feedback) if include_content else {})]
    if e.kind == "error":
        return [exception(e)]
    if e.kind == "judge" and isinstance(d.get("answers_task"), bool):
        label = "pass" if d["answers_task"] else "fail"
        return [evaluation(c.EVAL_JUDGE, e.time, label=label, explanation=d.get("reason"))]
    if e.kind == "adjudication":
        attrs = {"mcodeact.adjudication.cases": len(d.get("cases") or [])}
        attrs["mcodeact.adjudication.ruled"] = bool(d.get("tests"))
        return [EventPlan(c.EV_ADJUDICATION, e.time, attrs)]
    if e.kind == "optimization":
        flat = {f"mcodeact.optimization.{k}": v for k, v in d.items() if _scalar(v)}
        return [EventPlan(c.EV_OPTIMIZATION, e.time, flat)]
    return []


# -- the sandbox and the verifier ------------------------------------------------------------
def verify_span(verdict: Event, executions: Sequence[Event], previous: float) -> SpanPlan:
    """One verification: every candidate run against the tests and inputs, as one
    `execute_tool sandbox` span each, and the verdict as a `gen_ai.evaluation.result` event."""
    d = verdict.data
    ms = number(d.get("duration_ms"))
    end = verdict.time
    start = end - ms / 1000 if ms else min(previous, end)
    attrs: Attributes = {
        c.VERDICT: str(d.get("verdict")),
        c.CLUSTERS: len(d.get("clusters") or []),
        c.COUNTEREXAMPLES: len(d.get("counterexamples") or []),
    }
    if (confidence := number(d.get("confidence"))) is not None:
        attrs[c.CONFIDENCE] = confidence
    if d.get("selected") is not None:
        attrs[c.SELECTED] = str(d["selected"])
    if not ms:
        attrs[c.TIMING_ESTIMATED] = True
    span = SpanPlan("mcodeact.verify", start, end, attributes=attrs)
    span.children = [_candidate_run(e, start, end) for e in executions]
    span.events.append(
        evaluation(
            c.EVAL_VERIFICATION,
            end,
            label=str(d.get("verdict")),
            score=confidence,
            explanation="; ".join(str(r) for r in d.get("reasons") or []),
        )
    )
    return span


def _candidate_run(e: Event, start: float, end: float) -> SpanPlan:
    d = e.data
    calls = {str(k): int(v) for k, v in (d.get("calls") or {}).items() if number(v) is not None}
    attrs = _tool_attrs(final=False)
    attrs.update({c.EXEC_STATUS: str(d.get("status")), c.TIMED_OUT: calls.get("timeout", 0) > 0})
    for key, name in (
        ("candidate", c.CANDIDATE),
        ("trusted", c.TRUSTED),
        ("generated", c.GENERATED),
    ):
        if d.get(key) is not None:
            attrs[name] = str(d[key])
    if (cluster := number(d.get("cluster"))) is not None:
        attrs[c.CLUSTER] = int(cluster)
    attrs.update({c.CALLS_PREFIX + kind: n for kind, n in calls.items()})
    ms = number(d.get("duration_ms"))
    if ms:
        attrs[c.DURATION_MS] = ms
        end = min(start + ms / 1000, end)
    else:
        attrs[c.TIMING_ESTIMATED] = True
    span = SpanPlan(f"{c.OP_TOOL} {c.SANDBOX_TOOL}", start, end, attributes=attrs)
    if isinstance(load := d.get("load_error"), dict):
        span.error = str(load.get("message") or load.get("type"))
        attrs[c.ERROR_TYPE] = str(load.get("type") or "_OTHER")
    return span


def final_run_span(e: Event, previous: float, *, include_content: bool) -> SpanPlan:
    """The selected code run once more for its output: exit code, timeout, artifacts."""
    d = e.data
    ms = number(d.get("duration_ms"))
    error = d.get("error") if isinstance(d.get("error"), dict) else None
    attrs = _tool_attrs(final=True)
    attrs[c.ARTIFACTS] = len(d.get("artifacts") or [])
    timed_out = d.get("timed_out")
    attrs[c.TIMED_OUT] = timed_out if isinstance(timed_out, bool) else _kind(error) == "Timeout"
    if d.get("candidate") is not None:
        attrs[c.CANDIDATE] = str(d["candidate"])
    if (code := number(d.get("exit_code"))) is not None:
        attrs[c.EXIT_CODE] = int(code)
    if ms:
        attrs[c.DURATION_MS] = ms
    else:
        attrs[c.TIMING_ESTIMATED] = True
    if include_content and "result" in d:
        attrs[c.TOOL_RESULT] = json.dumps(d["result"])
    start = e.time - ms / 1000 if ms else min(previous, e.time)
    span = SpanPlan(f"{c.OP_TOOL} {c.SANDBOX_TOOL}", start, e.time, attributes=attrs)
    if error is not None:
        span.error = str(error.get("message") or error.get("type"))
        attrs[c.ERROR_TYPE] = _kind(error) or "_OTHER"
    return span


def _tool_attrs(*, final: bool) -> Attributes:
    return {
        c.OPERATION: c.OP_TOOL,
        c.TOOL_NAME: c.SANDBOX_TOOL,
        c.TOOL_DESCRIPTION: "runs Python in the hardened sandbox",
        c.EXEC_FINAL: final,
    }


# -- events ----------------------------------------------------------------------------------
def evaluation(
    name: str,
    time: float,
    *,
    label: str,
    score: float | None = None,
    explanation: object = None,
) -> EventPlan:
    """A `gen_ai.evaluation.result` event."""
    attrs: Attributes = {c.EVALUATION_NAME: name, c.EVALUATION_LABEL: label}
    if score is not None:
        attrs[c.EVALUATION_SCORE] = score
    if isinstance(explanation, str) and explanation:
        attrs[c.EVALUATION_EXPLANATION] = explanation
    return EventPlan(c.EVALUATION_EVENT, time, attrs)


def exception(e: Event) -> EventPlan:
    """An `error` event as OpenTelemetry's `exception` span event."""
    attrs: Attributes = {
        "exception.type": str(e.data.get("type") or "Error"),
        "exception.message": str(e.data.get("message") or ""),
    }
    return EventPlan("exception", e.time, attrs)


# -- helpers ---------------------------------------------------------------------------------
def _to(e: Event) -> bool:
    """Whether a message event is one sent *to* the agent (by the pipeline, as the user)."""
    return e.agent == "user"


def _messages(role: str, texts: list[str]) -> str:
    """Messages in the conventions' JSON schema, as a JSON string (OTLP has no JSON type)."""
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": t}]} for t in texts])


def _server(endpoint: Any) -> Attributes:
    if not isinstance(endpoint, str):
        return {}
    try:
        url = urlsplit(endpoint)
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        return {}
    return {c.SERVER_ADDRESS: url.hostname, c.SERVER_PORT: port} if url.hostname else {}


def _kind(error: dict[str, Any] | None) -> str | None:
    return str(error["type"]) if error and error.get("type") else None


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, bool, int, float))
