"""One event as a timeline row: a one-line summary, and what to show when it is unfolded.

Event data comes from older or newer versions too, so every field is optional here. What a
model wrote is rendered as safe markdown (see `markdown.py`); everything else is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ...events import Event
from ..summary import span, speedup
from .markdown import render_markdown
from .parts import (
    agent,
    badge,
    call_cost,
    cost,
    duration,
    error,
    esc,
    gist,
    highlight,
    num,
    pre,
    size,
    str_or_none,
    tokens,
)

__all__ = ["MORE", "describe"]


def describe(e: Event) -> tuple[str, str]:
    """A one-line summary of an event and, for long content, what to show when expanded."""
    d = e.data
    describe = _DESCRIBE.get(e.kind)
    if describe is not None:
        return describe(d)
    text = json.dumps(d, indent=2, default=str)
    return esc(gist(text, 140)), pre(text, "text")


def _input_files(d: dict[str, Any]) -> tuple[str, str]:
    files = [f for f in d.get("files") or [] if isinstance(f, dict)]
    names = ", ".join(str(f.get("name")) for f in files[:5])
    more = f" and {len(files) - 5} more" if len(files) > 5 else ""
    total = size(int(num(d.get("total_bytes")) or 0))
    head = f"{len(files)} input file{'' if len(files) == 1 else 's'} ({total}): {names}{more}"
    listing = "\n".join(f"{f.get('name')}  {size(int(num(f.get('size')) or 0))}" for f in files)
    return esc(head), pre(listing, "text")


def _message(d: dict[str, Any]) -> tuple[str, str]:
    content = str(d.get("content") or "")
    head = (f"to {agent(str(d['to']))} " if d.get("to") else "") + esc(gist(content, 140))
    used = tokens(d.get("prompt_tokens"), d.get("completion_tokens"))
    if used:
        secs = num(d.get("seconds"))
        head += f' <span class="muted">{used}' + (f" · {secs:.2f} s" if secs else "") + "</span>"
    return head, render_markdown(content)


def _model_call(d: dict[str, Any]) -> tuple[str, str]:
    bits = [
        esc(d.get("model")),
        tokens(d.get("prompt_tokens"), d.get("completion_tokens")),
        cost(call_cost(d)),
        duration(num(d.get("latency_ms")) or 0.0),
        "cached" if d.get("cached") else "",
        error(d.get("error")),
    ]
    return " · ".join(b for b in bits if b), ""


def _candidate(d: dict[str, Any]) -> tuple[str, str]:
    what = f"candidate <code>{esc(d['id'])}</code>" if d.get("id") else "no usable code"
    problems = "; ".join(str(p) for p in d.get("problems") or [])
    shown = [
        render_markdown(str(d["explanation"])) if d.get("explanation") else "",
        highlight(str(d["code"])) if d.get("code") else "",
        f"<h4>Tests</h4>{highlight(str(d['tests']))}" if d.get("tests") else "",
    ]
    return f"round {esc(d.get('round'))}: {what} {error(problems)}", "".join(shown)


def _execution(d: dict[str, Any]) -> tuple[str, str]:
    who = f"<code>{esc(d.get('candidate'))}</code>"
    if d.get("final"):
        shown = "".join(f"<h4>{k}</h4>{pre(d[k], 'out')}" for k in ("stdout", "stderr") if d.get(k))
        return f"final run of {who}: exit {esc(d.get('exit_code'))} {error(d.get('error'))}", shown
    head = (
        f"{who} {esc(d.get('status'))} · trusted {esc(d.get('trusted'))} · "
        f"generated {esc(d.get('generated'))}"
    )
    if d.get("cluster") is not None:
        head += f" · cluster #{esc(d['cluster'])}"
    return f"{head} {error(d.get('load_error'))}", ""


def _verdict(d: dict[str, Any]) -> tuple[str, str]:
    conf = num(d.get("confidence"))
    head = badge(str_or_none(d.get("verdict"))) + (
        f" confidence {conf:.2f} ·" if conf is not None else ""
    )
    items = "".join(f"<li>{esc(r)}</li>" for r in d.get("reasons") or [])
    return f"{head} selected <code>{esc(d.get('selected'))}</code>", (
        f"<ul>{items}</ul>" if items else ""
    )


def _repair(d: dict[str, Any]) -> tuple[str, str]:
    text = str(d.get("feedback") or "")
    return f"feedback: {esc(gist(text, 140))}", render_markdown(text)


def _adjudication(d: dict[str, Any]) -> tuple[str, str]:
    cases = ", ".join(str(c) for c in d.get("cases") or [])
    tests = d.get("tests")
    if not isinstance(tests, str) or not tests.strip():
        return f"asked to settle {esc(gist(cases, 120))}: undecided", ""
    return f"settles {esc(gist(cases, 120))} from the task alone", pre(tests, "text")


def _judge(d: dict[str, Any]) -> tuple[str, str]:
    if d.get("usable") is False:
        return "the judge's reply could not be read", ""
    answers = "answers the task" if d.get("answers_task") else "does not answer the task"
    return f"{answers}: {esc(d.get('reason'))}", ""


def _optimization(d: dict[str, Any]) -> tuple[str, str]:
    """One rewrite tried (`attempt`), or the optimizer's outcome (`status`)."""
    if d.get("attempt") is not None:
        head = f"rewrite {esc(d['attempt'])}"
        times = num(d.get("speedup"))
        if d.get("accepted"):
            return head + " accepted" + (f" · {speedup(times)} faster" if times else ""), ""
        reason = str(d.get("reason") or "")
        kind = f" ({esc(d['rejection'])})" if d.get("rejection") else ""
        return f"{head} rejected{kind}: {esc(gist(reason, 120))}", pre(reason, "text")
    label = str(d.get("status") or "?").replace("_", " ")
    reason = gist(str(d.get("reason") or ""), 100)
    parts = [esc(label)]
    times, before, after = (num(d.get(k)) for k in ("speedup", "time_before_s", "time_after_s"))
    if times is not None:
        parts.append(f"{speedup(times)} faster")
    if before is not None and after is not None:
        parts.append(f"{span(before)} → {span(after)}")
    rejected = [str(r) for r in d.get("rejected") or []]
    if rejected:
        parts.append(f"{len(rejected)} rejected")
    items = "".join(f"<li>{esc(r)}</li>" for r in rejected)
    more = pre(d.get("reason"), "text") + (f"<ul>{items}</ul>" if items else "")
    if len(parts) == 1 and reason.startswith(label):  # "already fast: ..." says it once
        return esc(reason), more
    return " · ".join(parts) + (f": {esc(reason)}" if reason else ""), more


def _run_started(d: dict[str, Any]) -> tuple[str, str]:
    models = d.get("models")
    models = models if isinstance(models, dict) else {}
    return "run started · " + esc(", ".join(f"{k}: {v}" for k, v in models.items())), ""


def _run_finished(d: dict[str, Any]) -> tuple[str, str]:
    conf = num(d.get("confidence"))
    return (
        f"run finished: {esc(d.get('verdict'))}"
        + (f" · confidence {conf:.2f}" if conf is not None else "")
        + f" · {duration(num(d.get('duration_ms')) or 0.0)} {error(d.get('error'))}"
    ), ""


MORE = {
    "message": "full text",
    "candidate": "explanation, code and tests",
    "execution": "output",
    "verdict": "reasons",
    "repair": "full feedback",
    "adjudication": "the tests",
    "optimization": "reasons",
}
_DESCRIBE: dict[str, Callable[[dict[str, Any]], tuple[str, str]]] = {
    "message": _message,
    "model_call": _model_call,
    "candidate": _candidate,
    "execution": _execution,
    "verdict": _verdict,
    "repair": _repair,
    "adjudication": _adjudication,
    "judge": _judge,
    "error": lambda d: (error(f"{d.get('type')}: {d.get('message')}"), ""),
    "run_started": _run_started,
    "input_files": _input_files,
    "run_finished": _run_finished,
    "optimization": _optimization,
}
