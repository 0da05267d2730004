"""The HTML report of one run: one self-contained file a person can open anywhere, offline.

Everything a model wrote (task text, messages, code, explanations, errors, tests) and everything
a run printed is escaped on the way in, because a report is opened in a browser long after the
run and nobody should have to trust what the models said. The page has no script and loads
nothing: CSS is inline, plots are data URIs, and a Content-Security-Policy tells the browser so.
The renderer takes plain inputs (manifest, events, solution, artifact bytes) so it works the
same for a finished run, an interrupted one, and one rebuilt from a store folder.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pygments import highlight  # type: ignore[import-untyped]
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
from pygments.lexers import PythonLexer  # type: ignore[import-untyped]

from ..domain import Solution
from ..events import Event
from ..optimize.report import OptimizationReport, Profile, Rejection
from ..verify.report import (
    CandidateEvidence,
    Cell,
    ClusterEvidence,
    Counterexample,
    Evidence,
    TestEvidence,
)
from .model import RunManifest, RunTotals
from .summary import span as _span
from .summary import speedup as _speedup

__all__ = ["render_html"]

_M = TypeVar("_M", bound=BaseModel)
_FORMATTER = HtmlFormatter(cssclass="hl")
_IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
_OUTCOME_MARK = {"pass": "✓", "fail": "✗", "error": "!", "timeout": "T", "skipped": "–"}
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def render_html(
    manifest: RunManifest,
    events: Sequence[Event],
    solution: Solution | None,
    artifacts: Mapping[str, bytes],
) -> str:
    """The report page for one run. `artifacts` maps file names to bytes; raster images among
    them are shown inline, the rest listed with their sizes."""
    run = _Run.of(manifest, sorted(events, key=lambda e: e.seq), solution, artifacts)
    title = f"{run.verdict or manifest.status} · {_gist(run.prompt, 80)}"
    body = "\n".join(
        [
            _sticky(run),
            "<main>",
            _summary(run),
            _answer(run),
            _code_section(run),
            _evidence_section(run),
            _optimization_section(run),
            _calls_section(run),
            _timeline_section(run),
            "</main>",
            f"<footer>multiagent-codeact run report · run {_e(manifest.run_id)}</footer>",
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>\n{_CSS}\n"
        f"{_FORMATTER.get_style_defs('.hl')}\n</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


# -- what the page is made from --------------------------------------------------------------
@dataclass
class _Run:
    manifest: RunManifest
    events: list[Event]
    solution: Solution | None
    files: dict[str, bytes]
    prompt: str = ""
    verdict: str | None = None
    confidence: float | None = None
    totals: RunTotals = field(default_factory=RunTotals)
    start: float | None = None
    evidence: Evidence | None = None
    selected: str | None = None
    final: dict[str, Any] = field(default_factory=dict)  # the final execution event's data
    optimization: OptimizationReport | None = None

    @classmethod
    def of(
        cls,
        manifest: RunManifest,
        events: list[Event],
        solution: Solution | None,
        artifacts: Mapping[str, bytes],
    ) -> _Run:
        files = dict(artifacts)
        for a in solution.artifacts if solution else ():
            if a.data and a.name not in files:
                files[a.name] = a.data
        run = cls(manifest, events, solution, files)
        run.prompt = solution.task.prompt if solution else str(manifest.task.get("prompt", ""))
        finished = run.last("run_finished")
        run.verdict = manifest.verdict or (
            solution.verdict.value if solution else _str_or_none(finished.get("verdict"))
        )
        run.confidence = manifest.confidence
        if run.confidence is None:
            run.confidence = solution.confidence if solution else _num(finished.get("confidence"))
        run.start = events[0].time if events else manifest.started_at.timestamp()
        run.totals = run._totals()
        run.evidence, run.selected = run._evidence()
        run.final = next(
            (e.data for e in reversed(events) if e.kind == "execution" and e.data.get("final")), {}
        )
        run.optimization = solution.optimization if solution else run._optimization_events()
        return run

    def last(self, kind: str) -> dict[str, Any]:
        return next((e.data for e in reversed(self.events) if e.kind == kind), {})

    def of_kind(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def offset(self, event: Event) -> str:
        return f"+{event.time - self.start:.2f} s" if self.start is not None else ""

    def _totals(self) -> RunTotals:
        """The manifest's totals; for a run that never wrote them, what the events add up to."""
        totals = self.manifest.totals
        calls = self.of_kind("model_call")
        if totals.model_calls == 0 and calls:
            totals = RunTotals(
                model_calls=len(calls),
                prompt_tokens=sum(int(_num(e.data.get("prompt_tokens")) or 0) for e in calls),
                completion_tokens=sum(
                    int(_num(e.data.get("completion_tokens")) or 0) for e in calls
                ),
                cost_usd=sum(_num(e.data.get("cost_usd")) or 0.0 for e in calls),
            )
        if totals.duration_ms == 0:
            m = self.manifest
            ms = (self.solution.duration_ms if self.solution else 0.0) or (
                _num(self.last("run_finished").get("duration_ms")) or 0.0
            )
            if not ms and m.finished_at is not None:
                ms = (m.finished_at - m.started_at).total_seconds() * 1000
            if not ms and len(self.events) > 1:
                ms = (self.events[-1].time - self.events[0].time) * 1000
            totals = totals.model_copy(update={"duration_ms": ms})
        return totals

    def _optimization_events(self) -> OptimizationReport | None:
        """For a run without a Solution, what the optimizer's events kept: the outcome and each
        rejected rewrite's reason (not its code, nor the profiles)."""
        events = [e.data for e in self.of_kind("optimization")]
        if not events:
            return None
        outcome = next((d for d in reversed(events) if d.get("status")), None)
        fields: dict[str, Any] = (
            {"status": "failed", "reason": "the run ended before the optimizer finished"}
            if outcome is None
            else {
                k: outcome[k]
                for k in (
                    "status",
                    "reason",
                    "speedup",
                    "time_before_s",
                    "time_after_s",
                    "model_calls",
                )
                if outcome.get(k) is not None
            }
        )
        tried = [
            {
                "attempt": d.get("attempt"),
                "kind": d.get("rejection") or "unusable",
                "reason": d.get("reason") or "",
                "speedup": d.get("speedup"),
            }
            for d in events
            if d.get("attempt") is not None and not d.get("accepted")
        ]
        try:
            return OptimizationReport.model_validate(
                fields | {"rejected": _valid(Rejection, tried)}
            )
        except ValidationError:
            return None

    def _evidence(self) -> tuple[Evidence | None, str | None]:
        """The full report when the solution has it; else what the last verdict event kept
        (clusters and counterexamples, no test matrix) and the executions that led to it."""
        report = self.solution.report if self.solution else None
        if report is not None:
            return report.evidence, report.selected.id if report.selected else None
        last = max((i for i, e in enumerate(self.events) if e.kind == "verdict"), default=None)
        if last is None:
            return None, None
        data = self.events[last].data
        previous = max(
            (i for i, e in enumerate(self.events[:last]) if e.kind == "verdict"), default=-1
        )
        rows = [
            _candidate_row(e.data)
            for e in self.events[previous + 1 : last]
            if e.kind == "execution" and not e.data.get("final")
        ]
        evidence = Evidence(
            candidates=[r for r in rows if r is not None],
            clusters=_valid(ClusterEvidence, data.get("clusters")),
            counterexamples=_valid(Counterexample, data.get("counterexamples")),
            notes=[str(n) for n in data.get("notes") or []],
        )
        return evidence, _str_or_none(data.get("selected"))


def _candidate_row(data: dict[str, Any]) -> CandidateEvidence | None:
    hard = _fraction(data.get("trusted"))
    gen = _fraction(data.get("generated"))
    try:
        return CandidateEvidence(
            id=str(data.get("candidate")),
            status=data.get("status") or "ok",
            cluster=data.get("cluster"),
            hard_passed=hard[0],
            hard_total=hard[1],
            tests_passed=gen[0],
            tests_total=gen[1],
            load_error=data.get("load_error"),
        )
    except ValidationError:
        return None


def _valid(model: type[_M], items: Any) -> list[_M]:
    out: list[_M] = []
    for item in items if isinstance(items, list) else []:
        try:
            out.append(model.model_validate(item))
        except ValidationError:
            continue
    return out


# -- sections --------------------------------------------------------------------------------
def _sticky(run: _Run) -> str:
    t = run.totals
    links = " ".join(
        f'<a href="#{k}">{v}</a>'
        for k, v in [
            ("answer", "Answer"),
            ("code", "Code"),
            ("evidence", "Evidence"),
            *([("optimization", "Optimization")] if run.optimization else []),
            ("calls", "Model calls"),
            ("timeline", "Timeline"),
        ]
    )
    return (
        f'<header class="bar">{_badge(run.verdict, run.verdict or run.manifest.status)}'
        f'<span class="bar-task">{_e(_gist(run.prompt, 90))}</span>'
        f'<span class="bar-totals">{t.model_calls} calls · '
        f"{t.prompt_tokens + t.completion_tokens:,} tokens · {_cost(t.cost_usd)} · "
        f"{_duration(t.duration_ms)}</span><nav>{links}</nav></header>"
    )


def _badge(verdict: str | None, label: str | None = None) -> str:
    return f'<span class="badge v-{_vclass(verdict)}">{_e(label or verdict or "none")}</span>'


def _vclass(verdict: str | None) -> str:
    return verdict if verdict in {"verified", "disputed", "failed"} else "none"


def _summary(run: _Run) -> str:
    m, t, sol = run.manifest, run.totals, run.solution
    conf = f"{run.confidence:.2f}" if run.confidence is not None else "–"
    cls = _vclass(run.verdict)
    stats = [
        ("confidence", conf),
        ("tokens", f"{t.prompt_tokens + t.completion_tokens:,}"),
        ("prompt / completion", f"{t.prompt_tokens:,} / {t.completion_tokens:,}"),
        ("cost", _cost(t.cost_usd)),
        ("model calls", f"{t.model_calls:,}"),
        ("duration", _duration(t.duration_ms)),
        ("rounds", str(sol.rounds) if sol else str(len(run.of_kind("verdict")))),
        ("status", m.status),
    ]
    out = [
        '<section id="summary" class="card">',
        f'<div class="verdict-row"><div class="verdict v-{cls}">'
        f'<div class="verdict-label">{_e(run.verdict or "no verdict")}</div>'
        f'<div class="verdict-conf">confidence {conf}</div></div><dl class="stats">',
        *(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in stats),
        "</dl></div>",
    ]
    error = (sol.error if sol else None) or m.error
    if error:
        out.append(f'<p class="error">{_e(error)}</p>')
    out.append(f'<h2>Task</h2><pre class="text">{_e(run.prompt)}</pre>')
    task = sol.task.model_dump(mode="json") if sol else m.task
    if task.get("entry_point"):
        out.append(f"<p>Entry point: <code>{_e(task['entry_point'])}</code></p>")
    if task.get("examples") or task.get("tests"):
        examples = "\n".join(str(x) for x in task.get("examples") or [])
        code = "\n\n".join(s for s in (examples, str(task.get("tests") or "")) if s)
        out.append(_details("Examples and tests given with the task", _highlight(code)))
    reasons = sol.reasons if sol else run.last("verdict").get("reasons") or []
    if reasons:
        items = "".join(f"<li>{_e(r)}</li>" for r in reasons if r)
        out.append(f'<h3>Why this verdict</h3><ul class="reasons">{items}</ul>')
    if sol and sol.judge:
        out.append(f'<p><span class="label">Judge</span> {_e(sol.judge)}</p>')
    meta = [("run", m.run_id), ("started", m.started_at.isoformat(timespec="seconds"))]
    if m.finished_at:
        meta.append(("finished", m.finished_at.isoformat(timespec="seconds")))
    meta += [(f"model ({role})", name) for role, name in m.models.items()]
    if m.host:
        meta.append(("host", m.host))
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in meta)
    config = json.dumps(m.config, indent=2, sort_keys=True, default=str)
    out.append(
        _details(
            "Run details",
            f'<table class="meta">{rows}</table><pre class="text">{_e(config)}</pre>',
        )
    )
    out.append("</section>")
    return "\n".join(out)


def _answer(run: _Run) -> str:
    sol, final = run.solution, run.final
    out = ['<section id="answer" class="card"><h2>Answer</h2>']
    result = sol.result if sol else final.get("result")
    stdout = sol.stdout if sol else str(final.get("stdout") or "")
    if result is not None:
        text = json.dumps(result, indent=2, ensure_ascii=False, default=repr)
        out.append(f'<h3>Result</h3><pre class="out">{_e(text)}</pre>')
    out.append(
        f'<h3>Printed output</h3><pre class="out">{_e(stdout)}</pre>'
        if stdout
        else '<p class="muted">The final run printed nothing.</p>'
    )
    if final.get("stderr"):
        out.append(f'<h3>Standard error</h3><pre class="out err">{_e(final["stderr"])}</pre>')
    if isinstance(final.get("error"), dict):
        err = final["error"]
        out.append(
            f'<p class="error">{_e(err.get("type"))}: {_e(err.get("message"))}</p>'
            + (f'<pre class="out err">{_e(err["traceback"])}</pre>' if err.get("traceback") else "")
        )
    out.append(_artifacts(run))
    out.append("</section>")
    return "\n".join(out)


def _artifacts(run: _Run) -> str:
    mimes = {a.name: a.mime_type for a in run.solution.artifacts} if run.solution else {}
    figures, rows = [], []
    for name, data in run.files.items():
        image = _image_mime(data)
        if image is not None:
            uri = f"data:{image};base64,{base64.b64encode(data).decode('ascii')}"
            figures.append(
                f'<figure><img src="{uri}" alt="{_e(name)}">'
                f"<figcaption>{_e(name)} · {_size(len(data))}</figcaption></figure>"
            )
            continue
        mime = mimes.get(name) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        rows.append(f"<tr><td>{_e(name)}</td><td>{_e(mime)}</td><td>{_size(len(data))}</td></tr>")
    for name in run.manifest.artifacts:
        if name not in run.files:
            rows.append(f'<tr><td>{_e(name)}</td><td colspan="2" class="muted">missing</td></tr>')
    out = []
    if figures:
        out.append(f'<h3>Plots</h3><div class="figures">{"".join(figures)}</div>')
    if rows:
        out.append(
            "<h3>Other artifacts</h3><table><thead><tr><th>name</th><th>type</th><th>size</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    return "\n".join(out)


def _code_section(run: _Run) -> str:
    sol = run.solution
    code = sol.code if sol else None
    if code is None:  # an unfinished run: its selected candidate, if the events name one
        code = next(
            (
                e.data.get("code")
                for e in reversed(run.of_kind("candidate"))
                if run.selected and e.data.get("id") == run.selected
            ),
            None,
        )
    out = ['<section id="code" class="card"><h2>Code</h2>']
    if sol and sol.explanation:
        out.append(f'<h3>Explanation</h3><div class="prose">{_e(sol.explanation)}</div>')
    if code:
        label = f" (candidate {_e(run.selected)})" if run.selected else ""
        out.append(f"<h3>Final code{label}</h3>{_highlight(str(code))}")
    else:
        out.append('<p class="muted">No code was selected.</p>')
    if sol and sol.tests:
        out.append(_details("Tests its author wrote", _highlight(sol.tests)))
    out.append("</section>")
    return "\n".join(out)


def _evidence_section(run: _Run) -> str:
    ev = run.evidence
    out = ['<section id="evidence" class="card"><h2>Verifier evidence</h2>']
    if ev is None:
        out.append('<p class="muted">The run reached no verification.</p></section>')
        return "\n".join(out)
    out.append(_matrix(ev, run.selected))
    if ev.clusters:
        out.append(_clusters(ev.clusters, run.selected))
    if ev.counterexamples:
        members = {c.index: ", ".join(c.members) for c in ev.clusters}
        rows = "".join(
            f"<tr><td><code>{_e(c.call)}</code></td><td><code>{_e(c.selected_output)}</code></td>"
            f"<td><code>{_e(c.rival_output)}</code></td>"
            f"<td>#{c.cluster} {_e(members.get(c.cluster, ''))}</td></tr>"
            for c in ev.counterexamples
        )
        out.append(
            '<h3>Counterexamples</h3><p class="muted">Inputs on which the selected behaviour '
            "and a rival differ.</p><table><thead><tr><th>call</th><th>selected gives</th>"
            f"<th>rival gives</th><th>rival cluster</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    if ev.notes:
        out.append("<h3>Notes</h3><ul>" + "".join(f"<li>{_e(n)}</li>" for n in ev.notes) + "</ul>")
    out.append("</section>")
    return "\n".join(out)


def _matrix(ev: Evidence, selected: str | None) -> str:
    """Candidates down, tests across, grouped by where the tests came from."""
    if not ev.candidates:
        return '<p class="muted">No candidate was executed.</p>'
    cells = {(c.candidate, c.test): c for c in ev.cells}
    groups: list[tuple[str, int]] = []
    for t in ev.tests:
        if groups and groups[-1][0] == t.source:
            groups[-1] = (t.source, groups[-1][1] + 1)
        else:
            groups.append((t.source, 1))
    head1 = '<th colspan="5"></th>' + "".join(
        f'<th colspan="{n}" class="group">{_e(src)}</th>' for src, n in groups
    )
    head2 = (
        "<th>candidate</th><th>status</th><th>cluster</th><th>trusted</th><th>generated</th>"
        + "".join(
            f'<th class="test" title="{_e(t.code)}"><span>{_e(t.id)}</span></th>' for t in ev.tests
        )
    )
    body = []
    for c in ev.candidates:
        star = ' <span class="star" title="selected">★</span>' if c.id == selected else ""
        status_title = (
            f' title="{_e(c.load_error.type)}: {_e(c.load_error.message)}"' if c.load_error else ""
        )
        row = [
            f'<th class="cand">{_e(c.id)}{star}</th>',
            f'<td class="s-{_e(c.status)}"{status_title}>{_e(c.status)}</td>',
            f"<td>{'' if c.cluster is None else f'#{c.cluster}'}</td>",
            f"<td>{c.hard_passed}/{c.hard_total}</td><td>{c.tests_passed}/{c.tests_total}</td>",
        ]
        row += [_cell(cells.get((c.id, t.id)), c.id, t) for t in ev.tests]
        body.append(f"<tr{' class=selected' if c.id == selected else ''}>{''.join(row)}</tr>")
    out = [
        '<h3>Test matrix</h3><div class="scroll"><table class="matrix">'
        f"<thead><tr>{head1}</tr><tr>{head2}</tr></thead><tbody>{''.join(body)}</tbody>"
        "</table></div>",
        '<p class="legend">✓ pass · ✗ fail · ! error · T timeout · – skipped · blank: not run. '
        "Hover a cell for expected and actual values, a column head for the test.</p>",
    ]
    if not ev.tests:
        out.append('<p class="muted">No test matrix was recorded for this verdict.</p>')
    else:
        items = "".join(
            f"<li><code>{_e(t.id)}</code> · {_e(t.source)}"
            + (f" by {_e(t.author)}" if t.author else "")
            + f" · passed by {len(t.passed_by)}"
            + ("" if t.credible else " · not credible (no candidate passes it)")
            + f"{_highlight(t.code)}</li>"
            for t in ev.tests
        )
        out.append(_details(f"The {len(ev.tests)} tests", f'<ul class="tests">{items}</ul>'))
    return "\n".join(out)


def _cell(cell: Cell | None, candidate: str, test: TestEvidence) -> str:
    if cell is None:
        return f'<td class="o-none" title="{_e(test.id)} not run on {_e(candidate)}"></td>'
    tip = [f"{test.id} on {candidate}: {cell.outcome}"]
    if cell.expected is not None:
        tip.append(f"expected: {cell.expected}")
    if cell.actual is not None:
        tip.append(f"actual: {cell.actual}")
    if cell.error is not None:
        tip.append(f"{cell.error.type}: {cell.error.message}")
    mark = _OUTCOME_MARK.get(cell.outcome, "?")
    title = _e("\n".join(tip))
    return f'<td class="o-{_e(cell.outcome)}" title="{title}">{mark}</td>'


def _clusters(clusters: Iterable[ClusterEvidence], selected: str | None) -> str:
    rows = []
    for c in clusters:
        members = ", ".join(
            f"<strong>{_e(m)} ★</strong>" if m == selected else _e(m) for m in c.members
        )
        pct = max(0.0, min(1.0, c.probability)) * 100
        rows.append(
            f"<tr><td>#{c.index}</td><td>{members}</td><td>{c.tests_passed:g}</td>"
            f'<td>{c.score:.3g}</td><td><span class="pbar"><span style="width:{pct:.0f}%">'
            f"</span></span> {c.probability:.2f}</td></tr>"
        )
    return (
        '<h3>Behaviour clusters</h3><p class="muted">Candidates that gave the same output on '
        "every differential input.</p><table><thead><tr><th>cluster</th><th>members</th>"
        "<th>tests passed</th><th>score</th><th>posterior</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


_OPTIMIZATION_BADGE = {"accepted": "verified", "rejected": "disputed", "failed": "failed"}


def _optimization_section(run: _Run) -> str:
    """Before and after, side by side, and every rewrite that was turned down and why: the
    evidence that the final code is the verified one or a proven-equivalent faster one."""
    rep = run.optimization
    if rep is None:
        return ""
    status = rep.status.replace("_", " ")
    badge = _OPTIMIZATION_BADGE.get(rep.status, "none")
    out = [
        '<section id="optimization" class="card"><h2>Optimization</h2>',
        f'<p><span class="badge v-{badge}">{_e(status)}</span> {_e(rep.reason)}</p>',
    ]
    stats = [
        ("speedup", _speedup(rep.speedup) if rep.speedup is not None else "–"),
        ("time before", _span(rep.time_before_s) if rep.time_before_s is not None else "–"),
        ("time after", _span(rep.time_after_s) if rep.time_after_s is not None else "–"),
        ("peak memory before", _memory(rep.memory_before_bytes, rep.before)),
        ("peak memory after", _memory(rep.memory_after_bytes, rep.after)),
        ("model calls", str(rep.model_calls)),
        ("took", _duration(rep.duration_ms) if rep.duration_ms else "–"),
    ]
    out.append('<dl class="stats">')
    out += [f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in stats]
    out.append(
        '</dl><p class="muted">Times are summed medians of repeated calls on the growing '
        "inputs both versions were timed on.</p>"
    )
    exponents = [p.exponent if p else None for p in (rep.before, rep.after)]
    if any(x is not None for x in exponents):
        shown = ["–" if x is None else f"{x:.2f}" for x in exponents]
        out.append(
            f"<p>Growth exponent (time ~ size<sup>k</sup>; 1 linear, 2 quadratic): "
            f"before <strong>{shown[0]}</strong> · after <strong>{shown[1]}</strong></p>"
        )
    if rep.before and rep.before.timings:
        out.append(_details("Time per call by input size", _size_table(rep.before, rep.after)))
    for label, prof in (("before", rep.before), ("after", rep.after)):
        if prof and prof.hot_lines:
            out.append(f"<h3>Hottest lines {label} (one traced call)</h3>{_hot_lines(prof)}")
        notes = ([f"inputs stopped growing: {prof.stopped}"] if prof and prof.stopped else []) + (
            prof.errors if prof else []
        )
        if notes:
            items = "".join(f"<li>{_e(n)}</li>" for n in notes)
            out.append(f'<p class="muted">Profile {label}:</p><ul class="muted">{items}</ul>')
    if rep.rejected:
        rows = []
        for r in rep.rejected:
            times = _speedup(r.speedup) if r.speedup is not None else "–"
            rows.append(
                f'<tr><td class="n">{r.attempt}</td><td>{_e(r.kind)}</td><td>{_e(r.reason)}</td>'
                f'<td class="n">{_e(times)}</td></tr>'
            )
            if r.code:
                rows.append(
                    f'<tr class="code-row"><td></td><td colspan="3">'
                    f"{_details(f'Rewrite {r.attempt}', _highlight(r.code))}</td></tr>"
                )
        out.append(
            f"<h3>Rejected rewrites ({len(rep.rejected)})</h3><table><thead><tr>"
            "<th>attempt</th><th>kind</th><th>reason</th><th>speedup</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    out.append("</section>")
    return "\n".join(out)


def _memory(n: int | None, prof: Profile | None) -> str:
    if n is None:
        return "–"
    method = prof.memory_method if prof else None
    return _size(n) + (f" ({method})" if method else "")


def _size_table(before: Profile, after: Profile | None) -> str:
    later = {t.size: t.median_ns for t in after.timings} if after else {}
    rows = []
    for t in before.timings:
        new = later.get(t.size)
        cells = [_span(t.median_ns / 1e9), "–", "–"]
        if new is not None:
            cells[1:] = [_span(new / 1e9), _speedup(t.median_ns / new) if new else "–"]
        rows.append(
            f'<tr><td class="n">{t.size:,}</td>'
            + "".join(f'<td class="n">{_e(c)}</td>' for c in cells)
            + "</tr>"
        )
    return (
        "<table><thead><tr><th>size</th><th>before</th><th>after</th><th>speedup</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _hot_lines(prof: Profile) -> str:
    rows = "".join(
        f'<tr><td class="n">{h.line}</td><td><code>{_e(h.function)}</code></td>'
        f'<td class="n">{h.hits:,}</td><td><code>{_e(h.source)}</code></td></tr>'
        for h in prof.hot_lines
    )
    return (
        "<table><thead><tr><th>line</th><th>function</th><th>hits</th><th>source</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def _calls_section(run: _Run) -> str:
    calls = run.of_kind("model_call")
    out = ['<section id="calls" class="card"><h2>Model calls</h2>']
    if not calls:
        out.append('<p class="muted">No model calls were recorded.</p></section>')
        return "\n".join(out)
    rows: list[str] = []
    by_agent: dict[str, list[float]] = {}
    for e in calls:
        d = e.data
        p, c = int(_num(d.get("prompt_tokens")) or 0), int(_num(d.get("completion_tokens")) or 0)
        cost, ms = _num(d.get("cost_usd")) or 0.0, _num(d.get("latency_ms")) or 0.0
        agg = by_agent.setdefault(e.agent or "?", [0, 0, 0, 0.0, 0.0])
        for i, v in enumerate((1, p, c, cost, ms)):
            agg[i] += v
        flags = [
            f for f, on in (("cached", d.get("cached")), ("streamed", d.get("streamed"))) if on
        ]
        if (_num(d.get("attempts")) or 0) > 1:
            flags.append(f"{int(_num(d.get('attempts')) or 0)} attempts")
        if d.get("finish_reason") not in (None, "stop"):
            flags.append(f"finish: {d.get('finish_reason')}")
        if d.get("price_known") is False:
            flags.append("price unknown")
        note = _e(" · ".join(flags))
        if d.get("error"):
            note += f' <span class="error">{_e(d.get("error"))}</span>'
        rows.append(
            f"<tr><td>{run.offset(e)}</td><td>{_agent(e.agent)}</td><td>{_e(d.get('model'))}</td>"
            f'<td class="n">{p:,}</td><td class="n">{c:,}</td><td class="n">{_cost(cost)}</td>'
            f'<td class="n">{_duration(ms)}</td>'
            f'<td class="n">{_duration(_num(d.get("queued_ms")) or 0.0)}</td><td>{note}</td></tr>'
        )
    agents = "".join(
        f'<tr><td>{_agent(a)}</td><td class="n">{n}</td><td class="n">{p:,}</td>'
        f'<td class="n">{c:,}</td><td class="n">{_cost(cost)}</td>'
        f'<td class="n">{_duration(ms)}</td></tr>'
        for a, (n, p, c, cost, ms) in by_agent.items()
    )
    out.append(
        "<h3>By agent</h3><table><thead><tr><th>agent</th><th>calls</th><th>prompt</th>"
        "<th>completion</th><th>cost</th><th>latency</th></tr></thead>"
        f"<tbody>{agents}</tbody></table>"
        '<h3>Each call</h3><div class="scroll"><table><thead><tr><th>time</th><th>agent</th>'
        "<th>model</th><th>prompt</th><th>completion</th><th>cost</th><th>latency</th>"
        f"<th>queued</th><th></th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    out.append("</section>")
    return "\n".join(out)


def _timeline_section(run: _Run) -> str:
    """Every event in order, split into rounds at each verdict."""
    out = ['<section id="timeline" class="card"><h2>Timeline</h2>']
    if not run.events:
        out.append('<p class="muted">No events were recorded.</p></section>')
        return "\n".join(out)
    out.append('<table class="timeline"><tbody>')
    round_, opened = 1, False
    for i, e in enumerate(run.events):
        if not opened and e.kind != "run_started":
            rest = run.events[i:]
            label = (
                f"Round {round_}"
                if any(x.kind in {"candidate", "verdict", "repair"} for x in rest)
                else "After verification"
            )
            out.append(f'<tr class="round"><th colspan="4">{label}</th></tr>')
            opened = True
        summary, details = _describe(e)
        more = _details(_MORE.get(e.kind, "show"), details) if details else ""
        body = summary + more
        out.append(
            f'<tr class="k-{e.kind}"><td class="t">{run.offset(e)}</td>'
            f'<td>{_agent(e.agent)}</td><td><span class="kind">{e.kind}</span></td>'
            f"<td>{body}</td></tr>"
        )
        if e.kind == "verdict":
            round_, opened = round_ + 1, False
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _describe(e: Event) -> tuple[str, str]:
    """A one-line summary of an event and, for long content, what to show when expanded."""
    d = e.data
    describe = _DESCRIBE.get(e.kind)
    if describe is not None:
        return describe(d)
    text = json.dumps(d, indent=2, default=str)
    return _e(_gist(text, 140)), _pre(text, "text")


def _message(d: dict[str, Any]) -> tuple[str, str]:
    content = str(d.get("content") or "")
    head = (f"to {_agent(str(d['to']))} " if d.get("to") else "") + _e(_gist(content, 140))
    tokens = _tokens(d.get("prompt_tokens"), d.get("completion_tokens"))
    if tokens:
        secs = _num(d.get("seconds"))
        head += f' <span class="muted">{tokens}' + (f" · {secs:.2f} s" if secs else "") + "</span>"
    return head, _pre(content, "text")


def _model_call(d: dict[str, Any]) -> tuple[str, str]:
    bits = [
        _e(d.get("model")),
        _tokens(d.get("prompt_tokens"), d.get("completion_tokens")),
        _cost(_num(d.get("cost_usd")) or 0.0),
        _duration(_num(d.get("latency_ms")) or 0.0),
        "cached" if d.get("cached") else "",
        _error(d.get("error")),
    ]
    return " · ".join(b for b in bits if b), ""


def _candidate(d: dict[str, Any]) -> tuple[str, str]:
    what = f"candidate <code>{_e(d['id'])}</code>" if d.get("id") else "no usable code"
    problems = "; ".join(str(p) for p in d.get("problems") or [])
    details = [
        f'<div class="prose">{_e(d["explanation"])}</div>' if d.get("explanation") else "",
        _highlight(str(d["code"])) if d.get("code") else "",
        f"<h4>Tests</h4>{_highlight(str(d['tests']))}" if d.get("tests") else "",
    ]
    return f"round {_e(d.get('round'))}: {what} {_error(problems)}", "".join(details)


def _execution(d: dict[str, Any]) -> tuple[str, str]:
    who = f"<code>{_e(d.get('candidate'))}</code>"
    if d.get("final"):
        shown = "".join(
            f"<h4>{k}</h4>{_pre(d[k], 'out')}" for k in ("stdout", "stderr") if d.get(k)
        )
        return f"final run of {who}: exit {_e(d.get('exit_code'))} {_error(d.get('error'))}", shown
    head = (
        f"{who} {_e(d.get('status'))} · trusted {_e(d.get('trusted'))} · "
        f"generated {_e(d.get('generated'))}"
    )
    if d.get("cluster") is not None:
        head += f" · cluster #{_e(d['cluster'])}"
    return f"{head} {_error(d.get('load_error'))}", ""


def _verdict(d: dict[str, Any]) -> tuple[str, str]:
    conf = _num(d.get("confidence"))
    head = _badge(_str_or_none(d.get("verdict"))) + (
        f" confidence {conf:.2f} ·" if conf is not None else ""
    )
    items = "".join(f"<li>{_e(r)}</li>" for r in d.get("reasons") or [])
    return f"{head} selected <code>{_e(d.get('selected'))}</code>", (
        f"<ul>{items}</ul>" if items else ""
    )


def _repair(d: dict[str, Any]) -> tuple[str, str]:
    text = str(d.get("feedback") or "")
    return f"feedback: {_e(_gist(text, 140))}", _pre(text, "text")


def _adjudication(d: dict[str, Any]) -> tuple[str, str]:
    cases = ", ".join(str(c) for c in d.get("cases") or [])
    tests = d.get("tests")
    if not isinstance(tests, str) or not tests.strip():
        return f"asked to settle {_e(_gist(cases, 120))}: undecided", ""
    return f"settles {_e(_gist(cases, 120))} from the task alone", _pre(tests, "text")


def _judge(d: dict[str, Any]) -> tuple[str, str]:
    if d.get("usable") is False:
        return "the judge's reply could not be read", ""
    answers = "answers the task" if d.get("answers_task") else "does not answer the task"
    return f"{answers}: {_e(d.get('reason'))}", ""


def _optimization(d: dict[str, Any]) -> tuple[str, str]:
    """One rewrite tried (`attempt`), or the optimizer's outcome (`status`)."""
    if d.get("attempt") is not None:
        head = f"rewrite {_e(d['attempt'])}"
        times = _num(d.get("speedup"))
        if d.get("accepted"):
            return head + " accepted" + (f" · {_speedup(times)} faster" if times else ""), ""
        reason = str(d.get("reason") or "")
        kind = f" ({_e(d['rejection'])})" if d.get("rejection") else ""
        return f"{head} rejected{kind}: {_e(_gist(reason, 120))}", _pre(reason, "text")
    label = str(d.get("status") or "?").replace("_", " ")
    reason = _gist(str(d.get("reason") or ""), 100)
    parts = [_e(label)]
    times, before, after = (_num(d.get(k)) for k in ("speedup", "time_before_s", "time_after_s"))
    if times is not None:
        parts.append(f"{_speedup(times)} faster")
    if before is not None and after is not None:
        parts.append(f"{_span(before)} → {_span(after)}")
    rejected = [str(r) for r in d.get("rejected") or []]
    if rejected:
        parts.append(f"{len(rejected)} rejected")
    items = "".join(f"<li>{_e(r)}</li>" for r in rejected)
    details = _pre(d.get("reason"), "text") + (f"<ul>{items}</ul>" if items else "")
    if len(parts) == 1 and reason.startswith(label):  # "already fast: ..." says it once
        return _e(reason), details
    return " · ".join(parts) + (f": {_e(reason)}" if reason else ""), details


def _run_started(d: dict[str, Any]) -> tuple[str, str]:
    models = d.get("models")
    models = models if isinstance(models, dict) else {}
    return "run started · " + _e(", ".join(f"{k}: {v}" for k, v in models.items())), ""


def _run_finished(d: dict[str, Any]) -> tuple[str, str]:
    conf = _num(d.get("confidence"))
    return (
        f"run finished: {_e(d.get('verdict'))}"
        + (f" · confidence {conf:.2f}" if conf is not None else "")
        + f" · {_duration(_num(d.get('duration_ms')) or 0.0)} {_error(d.get('error'))}"
    ), ""


_MORE = {
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
    "error": lambda d: (_error(f"{d.get('type')}: {d.get('message')}"), ""),
    "run_started": _run_started,
    "run_finished": _run_finished,
    "optimization": _optimization,
}


# -- small pieces ----------------------------------------------------------------------------
def _e(value: object) -> str:
    """Escaped for text and for attribute values alike."""
    return escape("" if value is None else str(value), quote=True)


def _pre(text: object, cls: str) -> str:
    return f'<pre class="{cls}">{_e(text)}</pre>'


def _error(err: Any) -> str:
    """An ExecError-shaped dict, or text, in red; nothing when there is none."""
    if isinstance(err, dict):
        err = f"{err.get('type')}: {err.get('message')}"
    return f'<span class="error">{_e(err)}</span>' if err else ""


def _highlight(code: str) -> str:
    # Pygments escapes the code itself; its output is the only unescaped HTML we take in.
    return str(highlight(code, PythonLexer(), _FORMATTER))


def _details(summary: str, inner: str) -> str:
    return f"<details><summary>{_e(summary)}</summary>{inner}</details>"


def _agent(name: str | None) -> str:
    if not name:
        return ""
    hue = zlib.crc32(name.encode()) % 360
    return f'<span class="agent" style="--h:{hue}">{_e(name)}</span>'


def _image_mime(data: bytes) -> str | None:
    """Raster images only, told by their bytes: an SVG could carry script, a name can lie."""
    for magic, mime in _IMAGE_MAGIC.items():
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _fraction(value: Any) -> tuple[int, int]:
    try:
        a, b = str(value).split("/")
        return int(a), int(b)
    except ValueError:
        return 0, 0


def _tokens(prompt: Any, completion: Any) -> str:
    p, c = _num(prompt), _num(completion)
    if p is None and c is None:
        return ""
    return f"{int(p or 0):,} + {int(c or 0):,} tokens"


def _gist(text: str, limit: int) -> str:
    """The start of `text` on one line, for summaries; the full text sits behind a <details>."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _cost(usd: float) -> str:
    if usd == 0:
        return "$0"
    return "<$0.0001" if usd < 0.0001 else f"${usd:.4f}"


def _duration(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s" if ms < 120_000 else f"{ms / 60_000:.1f} min"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"


_CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --card:#fff;
  --ok:#1a7f37; --warn:#9a6700; --bad:#cf222e; --none:#59636e; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
  color:var(--fg); background:var(--bg); }
main { max-width:1100px; margin:0 auto; padding:16px; }
code, pre, .hl, .kind, td.t { font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",
  Menlo,Consolas,monospace; font-size:13px; }
pre { margin:6px 0; padding:10px 12px; border-radius:6px; overflow-x:auto; }
pre.text { white-space:pre-wrap; word-break:break-word; background:var(--bg); }
pre.out { background:#0d1117; color:#e6edf3; white-space:pre-wrap; }
pre.err { background:#2d0f12; }
.hl { border:1px solid var(--line); border-radius:6px; }
.hl pre { margin:0; }
.prose { white-space:pre-wrap; }
h2 { margin:18px 0 10px; font-size:20px; }
.card > h2:first-child { margin-top:0; }
h3 { margin:18px 0 6px; font-size:16px; }
h4 { margin:10px 0 4px; font-size:14px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px;
  padding:16px 20px; margin:16px 0; }
.bar { position:sticky; top:0; z-index:5; display:flex; gap:14px; align-items:center;
  padding:8px 16px; background:rgba(255,255,255,.96); border-bottom:1px solid var(--line); }
.bar-task { flex:1; overflow:hidden; white-space:nowrap; text-overflow:ellipsis; }
.bar-totals { color:var(--muted); white-space:nowrap; }
.bar nav a { margin-left:10px; color:var(--muted); text-decoration:none; }
.badge { display:inline-block; padding:1px 10px; border-radius:999px; color:#fff;
  font-weight:600; text-transform:uppercase; font-size:12px; letter-spacing:.04em; }
.badge.v-verified, .verdict.v-verified { background:var(--ok); }
.badge.v-disputed, .verdict.v-disputed { background:var(--warn); }
.badge.v-failed, .verdict.v-failed { background:var(--bad); }
.badge.v-none, .verdict.v-none { background:var(--none); }
.verdict-row { display:flex; gap:20px; align-items:stretch; flex-wrap:wrap; }
.verdict { color:#fff; border-radius:10px; padding:14px 22px; min-width:200px; }
.verdict-label { font-size:28px; font-weight:700; text-transform:uppercase; }
.stats { display:grid; grid-template-columns:repeat(4,minmax(120px,1fr)); gap:8px 18px;
  margin:0; flex:1; }
.stats dt { color:var(--muted); font-size:12px; text-transform:uppercase; }
.stats dd { margin:0; font-size:18px; font-weight:600; }
.error { color:var(--bad); }
.muted, .legend { color:var(--muted); }
.label { font-weight:600; }
table { border-collapse:collapse; margin:6px 0; }
th, td { border-bottom:1px solid var(--line); padding:4px 8px; text-align:left;
  vertical-align:top; }
thead th { background:var(--bg); font-size:13px; }
td.n { text-align:right; font-variant-numeric:tabular-nums; }
.scroll { overflow-x:auto; }
.matrix td { text-align:center; min-width:26px; }
.matrix th.test { writing-mode:vertical-rl; transform:rotate(180deg); font-weight:500;
  white-space:nowrap; }
.matrix th.group { text-align:center; border-left:2px solid var(--line); }
.matrix tr.selected th.cand { background:#dafbe1; }
.o-pass { background:#dafbe1; color:var(--ok); }
.o-fail { background:#ffebe9; color:var(--bad); font-weight:700; }
.o-error, .o-timeout { background:#fff1c2; color:var(--warn); font-weight:700; }
.o-skipped, .o-none { background:var(--bg); color:var(--muted); }
.s-load_error, .s-rejected { color:var(--bad); }
.star { color:#bf8700; }
.pbar { display:inline-block; width:90px; height:8px; background:var(--bg);
  border:1px solid var(--line); border-radius:4px; vertical-align:middle; }
.pbar span { display:block; height:100%; background:var(--ok); border-radius:3px; }
.figures { display:flex; flex-wrap:wrap; gap:16px; }
figure { margin:0; }
figure img { max-width:100%; border:1px solid var(--line); border-radius:6px; background:#fff; }
figcaption { color:var(--muted); font-size:13px; }
.timeline { width:100%; }
.timeline td.t { color:var(--muted); white-space:nowrap; }
.timeline tr.round th { background:var(--bg); padding-top:10px; }
.kind { font-size:12px; color:var(--muted); }
.agent { background:hsl(var(--h) 70% 93%); color:hsl(var(--h) 55% 28%); padding:0 6px;
  border-radius:4px; font-size:13px; white-space:nowrap; }
details summary { cursor:pointer; color:var(--muted); font-size:13px; }
ul.tests { padding-left:18px; }
footer { text-align:center; color:var(--muted); font-size:12px; padding:16px; }
""".strip()
