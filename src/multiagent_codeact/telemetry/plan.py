"""A recorded run as a tree of spans, following its rounds: pure data, no OpenTelemetry.

    invoke_workflow mcodeact                     the run; its verdict as an evaluation event
    ├── mcodeact.round  (round 1)                events up to and including the first verdict
    │   ├── invoke_agent coder1                  what coder1 did in that round
    │   │   └── chat gpt-4o-mini                 each model call: tokens, cost when known
    │   ├── invoke_agent test_designer
    │   └── mcodeact.verify                      the verification; its verdict as an event
    │       └── execute_tool sandbox             each candidate run in the sandbox
    ├── mcodeact.round  (round 2: repairs)       ... up to the next verdict
    ├── invoke_agent judge / optimizer           after the last verdict: straight under the run
    └── execute_tool sandbox                     the final run of the selected code

A round is the events up to a verdict; its number is that of the newest candidate in it (a
verdict given again after the test designer's ruling is the same round, `recheck`). What comes
after the last verdict is a round only when it holds new candidates (a run stopped before
verifying them); otherwise it is the run's end and hangs under the root.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypeGuard

from ..events import Event
from ..runlog.model import RunManifest, RunStatus
from . import conventions as c
from .spans import (
    Attributes,
    SpanPlan,
    agent_span,
    evaluation,
    exception,
    final_run_span,
    verify_span,
)

__all__ = ["plan_run"]

_AGENT_KINDS = frozenset(
    {"message", "model_call", "candidate", "repair", "error", "judge", "adjudication",
     "optimization"}
)  # fmt: skip
_NOT_AGENTS = frozenset({"executor", "verifier"})


def plan_run(
    events: Sequence[Event],
    *,
    manifest: RunManifest | None = None,
    status: RunStatus | None = None,
    reasons: Sequence[str] = (),
    include_content: bool = False,
) -> SpanPlan:
    """The span tree of a run from its events (in order), and its manifest when there is one.

    `status` overrides the manifest's (a store reports "interrupted" for a dead writer);
    `reasons` are the solution's, for the run's evaluation event (else the last verdict's).
    """
    started = next((e for e in events if e.kind == "run_started"), None)
    finished = next((e for e in reversed(events) if e.kind == "run_finished"), None)
    body = [e for e in events if e.kind not in ("run_started", "run_finished", "token")]
    times = [e.time for e in events]
    start = started.time if started else _manifest_start(manifest, times)
    end = finished.time if finished else _manifest_end(manifest, times, start)
    root = SpanPlan(f"{c.OP_WORKFLOW} {c.WORKFLOW}", start, max(end, start))
    segments = _segments(body)
    previous = start
    highest = 0
    for i, segment in enumerate(segments):
        has_verdict = any(e.kind == "verdict" for e in segment)
        rounds = [
            int(r) for e in segment if e.kind == "candidate" and _isnum(r := e.data.get("round"))
        ]
        if not has_verdict and not rounds and i == len(segments) - 1 and i > 0:
            root.children += _phase(segment, previous, include_content=include_content)
            root.events += [exception(e) for e in segment if e.kind == "error" and not e.agent]
            break
        recheck = not rounds and i > 0
        highest = max([highest, *(r + 1 for r in rounds)]) or 1
        if segment:
            round_span = SpanPlan(
                "mcodeact.round",
                min(e.time for e in segment),
                max(e.time for e in segment),
                attributes={c.ROUND: highest, c.RECHECK: recheck},
                children=_phase(segment, previous, include_content=include_content),
            )
            round_span.events += [
                exception(e) for e in segment if e.kind == "error" and not e.agent
            ]
            for child in round_span.children:  # a call can start before its round's first event
                round_span.start = min(round_span.start, child.start)
                round_span.end = max(round_span.end, child.end)
            root.children.append(round_span)
            previous = segment[-1].time
    for child in root.children:
        root.start = min(root.start, child.start)
        root.end = max(root.end, child.end)
    root.attributes = _root_attributes(events, manifest, root, status, finished)
    if root.attributes[c.RUN_STATUS] in ("failed", "interrupted"):
        why = (manifest.error if manifest else None) or (
            finished.data.get("error") if finished else None
        )
        root.error = str(why or f"the run was {root.attributes[c.RUN_STATUS]}")
    verdict = _final_verdict(events, finished)
    if verdict is not None:
        label, score, last_reasons = verdict
        explanation = "; ".join(r for r in (reasons or last_reasons) if r)
        root.events.append(
            evaluation(
                c.EVAL_VERIFICATION, root.end, label=label, score=score, explanation=explanation
            )
        )
    if include_content and started is not None:
        prompt = (started.data.get("task") or {}).get("prompt")
        if isinstance(prompt, str):
            root.attributes[c.INPUT_MESSAGES] = _user_message(prompt)
    return root


def _segments(events: list[Event]) -> list[list[Event]]:
    """The events cut after each verdict; the last segment is what follows the last verdict."""
    out: list[list[Event]] = [[]]
    for e in events:
        out[-1].append(e)
        if e.kind == "verdict":
            out.append([])
    if len(out) > 1 and not out[-1]:
        out.pop()
    return out


def _phase(events: list[Event], previous: float, *, include_content: bool) -> list[SpanPlan]:
    """The spans of one round (or of the run's end): an agent span per agent, a verify span
    per verdict holding the executions before it, a span for the final run."""
    by_agent: dict[str, list[Event]] = {}
    executions: list[Event] = []
    out: list[SpanPlan] = []
    last = previous  # when the latest non-sandbox event happened: where sandbox work began
    for e in events:
        if e.kind == "execution" and not e.data.get("final"):
            executions.append(e)
            continue
        if e.kind == "verdict":
            out.append(verify_span(e, executions, last))
            executions = []
        elif e.kind == "execution":
            out.append(final_run_span(e, last, include_content=include_content))
        elif e.kind in _AGENT_KINDS and (agent := _agent_of(e)) is not None:
            by_agent.setdefault(agent, []).append(e)
        last = e.time
    for agent, evs in by_agent.items():
        if any(e.kind != "message" for e in evs):  # an agent that only was spoken to: no span
            out.append(agent_span(agent, evs, include_content=include_content))
    return sorted(out, key=lambda s: (s.start, s.end))


def _agent_of(e: Event) -> str | None:
    agent = str(e.data.get("to")) if e.agent == "user" and e.data.get("to") else e.agent
    return None if agent is None or agent in _NOT_AGENTS else agent


def _root_attributes(
    events: Sequence[Event],
    manifest: RunManifest | None,
    root: SpanPlan,
    status: RunStatus | None,
    finished: Event | None,
) -> Attributes:
    run_id = manifest.run_id if manifest else (events[0].run_id if events else "")
    state = status or (manifest.status if manifest else ("finished" if finished else "running"))
    attrs: Attributes = {
        c.OPERATION: c.OP_WORKFLOW,
        c.WORKFLOW_NAME: c.WORKFLOW,
        c.RUN_ID: run_id,
        c.RUN_STATUS: state,
    }
    task = manifest.task if manifest else _started_task(events)
    for key, name in (("id", c.TASK_ID), ("entry_point", c.ENTRY_POINT)):
        if isinstance(value := task.get(key), str):
            attrs[name] = value
    calls = [s for s in root.walk() if s.attributes.get(c.OPERATION) == c.OP_CHAT]
    attrs[c.MODEL_CALLS] = len(calls)
    attrs[c.TOTAL_INPUT_TOKENS] = int(sum(_number(s.attributes, c.INPUT_TOKENS) for s in calls))
    attrs[c.TOTAL_OUTPUT_TOKENS] = int(sum(_number(s.attributes, c.OUTPUT_TOKENS) for s in calls))
    unpriced = sum(1 for s in calls if c.COST not in s.attributes)
    attrs[c.UNPRICED_CALLS] = unpriced
    if calls and not unpriced:  # a total is known only when every call's price is
        attrs[c.COST] = sum(_number(s.attributes, c.COST) for s in calls)
    if finished is not None:
        if isinstance(finished.data.get("verdict"), str):
            attrs[c.VERDICT] = finished.data["verdict"]
        if _isnum(confidence := finished.data.get("confidence")):
            attrs[c.CONFIDENCE] = float(confidence)
    return attrs


def _final_verdict(
    events: Sequence[Event], finished: Event | None
) -> tuple[str, float | None, list[str]] | None:
    """(label, confidence, the last verdict's reasons) of the run, or None without a verdict."""
    last = next((e for e in reversed(events) if e.kind == "verdict"), None)
    reasons = [str(r) for r in (last.data.get("reasons") or [])] if last else []
    source = finished if finished is not None and finished.data.get("verdict") else last
    if source is None or not isinstance(source.data.get("verdict"), str):
        return None
    confidence = source.data.get("confidence")
    return source.data["verdict"], float(confidence) if _isnum(confidence) else None, reasons


def _started_task(events: Sequence[Event]) -> dict[str, object]:
    started = next((e for e in events if e.kind == "run_started"), None)
    task = started.data.get("task") if started else None
    return task if isinstance(task, dict) else {}


def _manifest_start(manifest: RunManifest | None, times: list[float]) -> float:
    if manifest is not None:
        return manifest.started_at.timestamp()
    return min(times) if times else 0.0


def _manifest_end(manifest: RunManifest | None, times: list[float], start: float) -> float:
    if manifest is not None and manifest.finished_at is not None:
        return manifest.finished_at.timestamp()
    return max(times) if times else start


def _user_message(prompt: str) -> str:
    return json.dumps([{"role": "user", "parts": [{"type": "text", "content": prompt}]}])


def _number(attrs: Attributes, key: str) -> float:
    value = attrs.get(key)
    return float(value) if isinstance(value, (int, float)) else 0.0


def _isnum(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
