"""One line per event, for people: what `runs show`, `runs tail` and the markdown export print.

Rendering-neutral (plain strings and a tone), so the terminal and the markdown report say the
same thing. Event data comes from older or newer versions too: every field is optional here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..events import Event
from .totals import as_float, as_int

Tone = Literal["", "dim", "good", "warn", "bad"]
_VERDICT_TONE: dict[str, Tone] = {"verified": "good", "disputed": "warn", "failed": "bad"}
_OPTIMIZATION_TONE: dict[str, Tone] = {"accepted": "good", "already_fast": "dim", "failed": "bad"}


@dataclass(frozen=True)
class Line:
    """An event as a timeline row: who did what, in one line, with optional detail lines."""

    offset_s: float
    who: str
    kind: str
    text: str
    tone: Tone = ""
    details: list[str] = field(default_factory=list)


def describe(event: Event, start: float) -> Line:
    """The timeline row of `event`; `start` is the run's first event time (epoch seconds)."""
    describer = _DESCRIBERS.get(event.kind, _other)
    who, text, tone, details = describer(event.data, event.agent or "")
    return Line(event.time - start, who or "pipeline", event.kind, text, tone, details)


def clip(text: object, limit: int = 100, *, flat: bool = False) -> str:
    """The first non-empty line of `text` (all of it run together if `flat`), at most `limit`
    characters, saying what was cut."""
    value = text if isinstance(text, str) else json.dumps(text, default=repr)
    lines = [" ".join(line.split()) for line in value.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return '""'
    first = " ".join(lines) if flat else lines[0]
    more = f" (+{len(lines) - 1} lines)" if len(lines) > 1 and not flat else ""
    if len(first) > limit:
        first = first[: limit - 1] + "…"
    return first + more


def tokens(prompt: object, completion: object) -> str:
    return f"{as_int(prompt):,} in / {as_int(completion):,} out tokens"


def dollars(value: object) -> str:
    cost = as_float(value)
    return f"${cost:.4f}" if cost < 100 else f"${cost:,.2f}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def seconds(ms: object) -> str:
    s = as_float(ms) / 1000
    return f"{s:.2f} s" if s < 60 else f"{int(s // 60)} min {s % 60:02.0f} s"


def span(s: object) -> str:
    """A measured time (seconds) in the unit that reads best, short ones included: the optimizer
    times single calls, often well under a millisecond."""
    value = as_float(s)
    if value >= 1:
        return f"{value:.2f} s"
    return f"{value * 1e3:.1f} ms" if value >= 1e-4 else f"{value * 1e6:.1f} µs"


def speedup(value: object) -> str:
    """A ratio like 7.9x; two decimals near 1, where the acceptance threshold (1.1x) sits."""
    ratio = as_float(value)
    return f"{ratio:.2f}x" if ratio < 2 else f"{ratio:.1f}x"


# -- one describer per kind: (who, text, tone, details) -------------------------------------
_Out = tuple[str, str, Tone, list[str]]


def _run_started(d: Mapping[str, Any], agent: str) -> _Out:
    task, models, config = _dict(d, "task"), _dict(d, "models"), _dict(d, "config")
    details = []
    if models:
        details.append("models: " + ", ".join(f"{k}={v}" for k, v in models.items()))
    knobs = [f"{k}={config[k]}" for k in ("candidates", "repair_rounds", "judge") if k in config]
    if knobs:
        details.append("config: " + ", ".join(knobs))
    return agent, "task: " + clip(task.get("prompt", ""), 72), "", details


def _message(d: Mapping[str, Any], agent: str) -> _Out:
    who = f"{agent}→{d['to']}" if d.get("to") else agent
    kind = d.get("type")
    prefix = f"[{kind}] " if kind and kind != "TextMessage" else ""
    # Tokens are on the model_call line next to it; here only the words.
    return who, prefix + clip(d.get("content", ""), 60, flat=True), "dim", []


def _model_call(d: Mapping[str, Any], agent: str) -> _Out:
    parts = [
        str(d.get("model") or "model"),
        tokens(d.get("prompt_tokens"), d.get("completion_tokens")),
        dollars(d.get("cost_usd"))
        if d.get("price_known", True) or d.get("cached")
        else "cost unknown",
        seconds(d.get("latency_ms")),
    ]
    if d.get("cached"):
        parts.append("cached")
    if as_int(d.get("attempts")) > 1:
        parts.append(f"{as_int(d.get('attempts'))} attempts")
    if d.get("error"):
        parts.append("error: " + clip(d["error"], 80))
    return agent, " · ".join(parts), "bad" if d.get("error") else "", []


def _candidate(d: Mapping[str, Any], agent: str) -> _Out:
    round_ = f"round {d['round']}" if d.get("round") is not None else ""
    problems = [str(p) for p in d.get("problems") or []]
    if d.get("code") is None:
        text = f"no usable code ({round_})" if round_ else "no usable code"
        return agent, text, "bad", [f"problem: {clip(p, 120)}" for p in problems]
    parts = [f"{d.get('id') or '?'} ({round_})" if round_ else str(d.get("id") or "?")]
    parts.append(plural(_lines(d.get("code")), "line") + " of code")
    if d.get("tests"):
        parts.append(plural(_lines(d.get("tests")), "line") + " of tests")
    if problems:
        parts.append(plural(len(problems), "problem"))
    tone: Tone = "good" if d.get("usable", True) and not problems else "warn"
    return agent, " · ".join(parts), tone, [f"problem: {clip(p, 120)}" for p in problems]


def _execution(d: Mapping[str, Any], agent: str) -> _Out:
    if d.get("final"):
        return _final_execution(d, agent)
    status = str(d.get("status") or "?")
    parts = [f"{d.get('candidate') or '?'} {status}"]
    for key in ("trusted", "generated"):
        if d.get(key) is not None and d[key] != "0/0":
            parts.append(f"{key} {d[key]} passed")
    if d.get("cluster") is not None:
        parts.append(f"cluster {d['cluster']}")
    calls = d.get("calls")
    if isinstance(calls, dict) and calls:
        parts.append("calls " + ", ".join(f"{k} {v}" for k, v in sorted(calls.items())))
    error = d.get("load_error")
    if isinstance(error, dict):
        parts.append(f"{error.get('type')}: {clip(error.get('message', ''), 80)}")
    return agent, " · ".join(parts), "good" if status == "ok" else "bad", []


def _final_execution(d: Mapping[str, Any], agent: str) -> _Out:
    parts = [f"final run of {d.get('candidate') or '?'}", f"exit {d.get('exit_code')}"]
    if d.get("result") is not None:
        parts.append("result " + clip(d["result"], 60))
    artifacts = [a.get("name", "?") for a in d.get("artifacts") or [] if isinstance(a, dict)]
    if artifacts:
        parts.append(f"{plural(len(artifacts), 'artifact')}: {', '.join(artifacts)}")
    error = d.get("error")
    if isinstance(error, dict):
        parts.append(f"{error.get('type')}: {clip(error.get('message', ''), 80)}")
    details = [f"stdout: {clip(d['stdout'], 100)}"] if d.get("stdout") else []
    ok = d.get("exit_code") == 0 and not error
    return agent, " · ".join(parts), "good" if ok else "bad", details


def _verdict(d: Mapping[str, Any], agent: str) -> _Out:
    verdict = str(d.get("verdict") or "?")
    parts = [verdict, f"confidence {as_float(d.get('confidence')):.2f}"]
    if d.get("selected"):
        parts.append(f"selected {d['selected']}")
    details = []
    clusters = [c for c in d.get("clusters") or [] if isinstance(c, dict)]
    if clusters:
        shown = [
            f"#{c.get('index')} [{', '.join(map(str, c.get('members') or []))}] "
            f"p={as_float(c.get('probability')):.2f}"
            for c in clusters[:6]
        ]
        details.append("clusters: " + " · ".join(shown))
    details += [f"reason: {clip(r, 140)}" for r in d.get("reasons") or []]
    for ce in [c for c in d.get("counterexamples") or [] if isinstance(c, dict)][:3]:
        mine, rival = clip(ce.get("selected_output", ""), 40), clip(ce.get("rival_output", ""), 40)
        details.append(
            f"counterexample: {clip(ce.get('call', ''), 60)} → {mine} (selected) vs {rival} "
            f"(cluster {ce.get('cluster')})"
        )
    details += [f"note: {clip(n, 140)}" for n in d.get("notes") or []]
    return agent, " · ".join(parts), _VERDICT_TONE.get(verdict, ""), details


def _repair(d: Mapping[str, Any], agent: str) -> _Out:
    return agent, "asked to repair: " + clip(d.get("feedback", ""), 90, flat=True), "warn", []


def _adjudication(d: Mapping[str, Any], agent: str) -> _Out:
    cases = ", ".join(clip(str(c), 40) for c in d.get("cases") or [])
    tests = d.get("tests")
    if not isinstance(tests, str) or not tests.strip():
        return agent, f"asked to settle {cases}: undecided", "warn", []
    lines = [clip(line, 120) for line in tests.strip().splitlines()[:4]]
    return agent, f"settles {cases}", "", [f"test: {line}" for line in lines]


def _judge(d: Mapping[str, Any], agent: str) -> _Out:
    if d.get("usable") is False:
        return agent, "unusable reply", "warn", []
    if d.get("answers_task"):
        return agent, "answers the task: " + clip(d.get("reason", ""), 90), "good", []
    return agent, "does NOT answer the task: " + clip(d.get("reason", ""), 90), "bad", []


def _error(d: Mapping[str, Any], agent: str) -> _Out:
    return agent, f"{d.get('type') or 'Error'}: {clip(d.get('message', ''), 120)}", "bad", []


def _run_finished(d: Mapping[str, Any], agent: str) -> _Out:
    bench = _dict(d, "summary")  # a bench run's end: counts of its tasks, no verdict of its own
    if bench:
        counts = [f"{bench.get(k, 0)} {k}" for k in ("verified", "disputed", "failed", "errors")]
        took = [seconds(d["duration_ms"])] if d.get("duration_ms") is not None else []
        return agent, " · ".join([f"{bench.get('tasks', 0)} tasks", *counts, *took]), "", []
    verdict = str(d.get("verdict") or "?")
    parts = [verdict, f"confidence {as_float(d.get('confidence')):.2f}"]
    if d.get("duration_ms") is not None:
        parts.append(seconds(d["duration_ms"]))
    details = [f"error: {clip(d['error'], 140)}"] if d.get("error") else []
    return agent, " · ".join(parts), _VERDICT_TONE.get(verdict, ""), details


def _optimization(d: Mapping[str, Any], agent: str) -> _Out:
    """Two shapes: one event per rewrite tried (`attempt`), and the outcome (`status`)."""
    if d.get("attempt") is not None:
        head = f"rewrite {d['attempt']}"
        if d.get("accepted"):
            faster = f" · {speedup(d['speedup'])} faster" if d.get("speedup") is not None else ""
            return agent, f"{head} accepted{faster}", "good", []
        kind = f" ({d['rejection']})" if d.get("rejection") else ""
        text = f"{head} rejected{kind}: {clip(d.get('reason', ''), 90, flat=True)}"
        return agent, text, "warn", []
    status = str(d.get("status") or "?")
    parts = [status.replace("_", " ")]
    if d.get("speedup") is not None:
        parts.append(f"{speedup(d['speedup'])} faster")
    if d.get("time_before_s") is not None and d.get("time_after_s") is not None:
        parts.append(f"{span(d['time_before_s'])} → {span(d['time_after_s'])}")
    rejected = [str(r) for r in d.get("rejected") or []]
    if rejected:
        parts.append(plural(len(rejected), "rewrite") + " rejected")
    if d.get("model_calls"):
        parts.append(plural(as_int(d["model_calls"]), "model call"))
    text, details = " · ".join(parts), [f"rejected: {clip(r, 140)}" for r in rejected]
    if d.get("reason") and status == "accepted":
        details.insert(0, f"reason: {clip(d['reason'], 140)}")
    elif d.get("reason"):  # why the code was left as it was belongs on the line itself
        reason = clip(d["reason"], 90, flat=True)
        text = reason if reason.startswith(parts[0]) and len(parts) == 1 else f"{text}: {reason}"
    return agent, text, _OPTIMIZATION_TONE.get(status, "warn"), details


def _bench_task(d: Mapping[str, Any], agent: str) -> _Out:
    """A bench run's task (runlog.bench): its verdict, hidden-test result and own run."""
    status = str(d.get("status") or "?")
    parts = [str(d.get("task_id") or "?"), status]
    if d.get("hidden_passed") is not None:
        parts.append("hidden tests " + ("passed" if d["hidden_passed"] else "FAILED"))
    parts.append(f"run {d.get('run_id') or '-'}")
    details = [f"error: {clip(d['error'], 140)}"] if d.get("error") else []
    return agent, " · ".join(parts), _VERDICT_TONE.get(status, "bad"), details


def _input_files(d: Mapping[str, Any], agent: str) -> _Out:
    files = [f for f in d.get("files") or [] if isinstance(f, dict)]
    names = ", ".join(str(f.get("name", "?")) for f in files[:4])
    more = f" and {len(files) - 4} more" if len(files) > 4 else ""
    size = int(as_float(d.get("total_bytes")))
    return agent, f"{plural(len(files), 'input file')} ({size:,} bytes): {names}{more}", "", []


def _other(d: Mapping[str, Any], agent: str) -> _Out:
    return agent, clip(dict(d), 100), "", []


_DESCRIBERS = {
    "run_started": _run_started,
    "input_files": _input_files,
    "message": _message,
    "model_call": _model_call,
    "candidate": _candidate,
    "execution": _execution,
    "verdict": _verdict,
    "repair": _repair,
    "adjudication": _adjudication,
    "judge": _judge,
    "error": _error,
    "run_finished": _run_finished,
    "optimization": _optimization,
    "bench_task": _bench_task,
}


def _dict(d: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = d.get(key)
    return value if isinstance(value, dict) else {}


def _lines(text: object) -> int:
    return len(text.splitlines()) if isinstance(text, str) else 0
