"""A waterfall of the run: each model call and each sandbox execution as a bar on one time axis.

It answers what a list of events cannot: what ran at the same time, what waited for what, and
where the time went. Plain HTML and CSS (bars are boxes placed in percent of the run), so it
shows offline and without script. Where the log records only when something ended (a
verification, the final run), its start is taken from the event before it and the bar is
striped to say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...events import Event
from ..fields import call_start
from .parts import agent, duration, esc, hue, num
from .run import Run

__all__ = ["Bar", "bars", "waterfall"]


@dataclass(frozen=True)
class Bar:
    start: float  # seconds since the epoch
    end: float
    who: str | None  # the agent
    what: str  # a few words on the bar
    title: str  # the whole story, on hover
    cls: str  # b-call, b-run (sandbox), b-error, b-cached, b-guess


def bars(run: Run) -> list[Bar]:
    """The bars of a run in start order: model calls, then sandbox work."""
    out: list[Bar] = []
    previous: Event | None = None
    executions: list[Event] = []
    for e in run.events:
        if e.kind == "model_call":
            out.append(_call(e))
        elif e.kind == "execution" and not e.data.get("final"):
            executions.append(e)
        elif e.kind == "verdict":
            out += _verification(e, executions, previous)
            executions = []
        elif e.kind == "execution":
            out.append(_final_run(e, previous))
        if e.kind != "execution" or e.data.get("final"):
            previous = e  # what a verification or a run started after, at the latest
    return sorted(out, key=lambda b: (b.start, b.end))


def waterfall(run: Run, key: Callable[[str | None], str]) -> str:
    """The waterfall as HTML; `key(agent)` names the CSS class the agent filter acts on."""
    shown = bars(run)
    if not shown:
        return '<p class="muted">No model call or sandbox run was recorded.</p>'
    t0 = min([b.start for b in shown] + ([run.start] if run.start is not None else []))
    t1 = max([b.end for b in shown] + [e.time for e in run.events])
    total = max(t1 - t0, 1e-3)
    ticks = "".join(
        f'<span class="wf-tick{" end" if f == 1 else ""}" style="left:{f * 100:.0f}%">'
        f"{esc(duration(f * total * 1000))}</span>"
        for f in (0.0, 0.5, 1.0)
    )
    rows = [
        '<div class="wf-axis" aria-hidden="true"><span></span>'
        f'<div class="wf-track">{ticks}</div></div>'
    ]
    for b in shown:
        left = (b.start - t0) / total * 100
        width = max((b.end - b.start) / total * 100, 0.0)
        style = f"left:{left:.2f}%;width:{width:.2f}%;--h:{hue(b.who or 'pipeline')}"
        # The words sit right of the bar, or left of it when the bar ends near the edge.
        place = (
            f"left:calc({left + width:.2f}% + 4px)"
            if left + width < 70
            else f"right:calc({100 - left:.2f}% + 4px)"
        )
        rows.append(
            f'<div class="wf-row ev {key(b.who)}" title="{esc(b.title)}">'
            f'<span class="wf-who">{agent(b.who or "pipeline")}</span>'
            f'<div class="wf-track"><span class="wf-bar {b.cls}" style="{style}"></span>'
            f'<span class="wf-what" style="{place}">{esc(b.what)}</span></div></div>'
        )
    legend = (
        '<p class="wf-legend">Bars: model calls in the agent\'s colour, sandbox work in grey '
        "(striped where only its end was recorded), failed calls in red, cached replies faded. "
        "Hover a bar for details.</p>"
    )
    return f'<div class="wf">{"".join(rows)}</div>{legend}'


def _call(e: Event) -> Bar:
    d = e.data
    ms = num(d.get("latency_ms")) or 0.0
    start = call_start(d, e.time)
    model = str(d.get("model") or "model")
    cls = (
        "b-call" + (" b-error" if d.get("error") else "") + (" b-cached" if d.get("cached") else "")
    )
    tokens = int(num(d.get("prompt_tokens")) or 0) + int(num(d.get("completion_tokens")) or 0)
    title = f"{e.agent or '?'} · call to {model} · {duration(ms)} · {tokens:,} tokens"
    if num(d.get("queued_ms")):
        title += f" · waited {duration(num(d.get('queued_ms')) or 0.0)} for a slot"
    if d.get("error"):
        title += f" · failed: {d['error']}"
    return Bar(start, start + ms / 1000, e.agent, f"{model} {duration(ms)}", title, cls)


def _verification(verdict: Event, executions: list[Event], previous: Event | None) -> list[Bar]:
    """The sandbox work behind one verdict: one bar per execution that says how long it took,
    else one bar for the whole verification (every candidate against every test and input)."""
    timed = [e for e in executions if num(e.data.get("duration_ms"))]
    if timed:
        return [
            _timed(e, f"ran {e.data.get('candidate')}", "sandbox run of a candidate") for e in timed
        ]
    names = ", ".join(str(e.data.get("candidate")) for e in executions) or "the candidates"
    ms = num(verdict.data.get("duration_ms"))
    what = f"verified {names}"
    title = f"verification: {names} run against the tests and inputs in the sandbox"
    if ms:
        end = verdict.time
        title += f" · {duration(ms)}"
        return [Bar(end - ms / 1000, end, _executor(executions), what, title, "b-run")]
    start = previous.time if previous is not None else verdict.time
    title += " · start estimated from the event before it"
    return [Bar(start, verdict.time, _executor(executions), what, title, "b-run b-guess")]


def _final_run(e: Event, previous: Event | None) -> Bar:
    what = f"final run of {e.data.get('candidate')}"
    if num(e.data.get("duration_ms")):
        return _timed(e, what, "the selected code run once more for its output")
    start = previous.time if previous is not None else e.time
    title = f"{what} · start estimated from the event before it"
    return Bar(start, e.time, e.agent, what, title, "b-run b-guess")


def _timed(e: Event, what: str, title: str) -> Bar:
    ms = num(e.data.get("duration_ms")) or 0.0
    return Bar(e.time - ms / 1000, e.time, e.agent, what, f"{title} · {duration(ms)}", "b-run")


def _executor(executions: list[Event]) -> str:
    return next((e.agent for e in executions if e.agent), "executor")
