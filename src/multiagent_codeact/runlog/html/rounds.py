"""Every round's candidates and what became of each, wrong ones included.

The verification report a Solution keeps describes the last round only; a candidate caught
wrong in round 1 and repaired since is gone from it. Yet a program that failed the task's own
example, or that an input showed to behave unlike the pick, is the most convincing evidence a
report can show that checking by execution did its job. The events keep it all: each
`candidate` event holds a program and its round, each verification emits one `execution` per
candidate and a `verdict` (clusters, counterexamples), and each `repair` holds what a coder was
told about its candidate, expected and actual values included.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ...events import Event
from ...verify.report import Cell, ClusterEvidence, Counterexample
from .markdown import render_markdown
from .parts import agent, badge, details, error, esc, highlight, num, scroll, str_or_none
from .run import Run, valid

Outcome = Literal["selected", "agrees", "outvoted", "failed", "crashed", "unusable", "unjudged"]
_SAID: dict[Outcome, tuple[str, str]] = {  # outcome -> (mark, class)
    "selected": ("✓ selected", "j-good"),
    "agrees": ("✓ agrees with the selected candidate (same behaviour)", "j-good"),
    "outvoted": ("✗ outvoted: an input shows it behaves unlike the pick", "j-warn"),
    "failed": ("✗ rejected: fails the task's own examples", "j-bad"),
    "crashed": ("✗ rejected: could not be loaded", "j-bad"),
    "unusable": ("✗ no usable code in the reply", "j-bad"),
    "unjudged": ("– not judged", ""),
}
_UNPROVEN = {
    "selected": "● the pick so far (not verified)",
    "agrees": "● agrees with the pick so far (not verified)",
}


@dataclass(frozen=True)
class Judged:
    """One candidate as one verification saw it."""

    id: str | None
    agent: str
    outcome: Outcome
    new: bool  # proposed since the previous verification
    candidate: dict[str, Any]  # its `candidate` event's data; {} when none was recorded
    execution: dict[str, Any]  # its `execution` event's data in this verification; {} if none
    cluster: int | None = None
    counterexamples: list[Counterexample] = field(default_factory=list)
    failures: list[Cell] = field(default_factory=list)
    feedback: str = ""  # what its coder was told after this verdict


@dataclass(frozen=True)
class Pass:
    """One verification: its label, its verdict event's data and every candidate it judged."""

    label: str
    verdict: dict[str, Any]
    judged: list[Judged]


def segment_labels(events: list[Event]) -> list[str]:
    """A label for the events up to and including each verdict ("Round 2", or "Round 2, checked
    again after the test designer's ruling" when one round is verified twice), then one for
    the events after the last verdict, if any: a round not verified yet, or the end of the run.
    """
    labels: list[str] = []
    highest, last_round, adjudicated, trailing = 0, 0, False, False
    pending: set[str] = set()
    for e in events:
        if e.kind == "candidate":
            highest = max(highest, int(num(e.data.get("round")) or 0))
        adjudicated = adjudicated or e.kind == "adjudication"
        if e.kind != "verdict":
            trailing = True
            pending.add(e.kind)
            continue
        round_ = highest + 1
        label = f"Round {round_}"
        if round_ == last_round:
            label += ", checked again" + (
                " after the test designer's ruling" if adjudicated else ""
            )
        labels.append(label)
        last_round, adjudicated, trailing, pending = round_, False, False, set()
    if trailing:
        if "candidate" in pending:
            labels.append(f"Round {highest + 1}, not verified")
        elif "repair" in pending:
            labels.append(f"Round {last_round + 1}, not verified")
        else:
            labels.append("After verification")
    return labels


def passes(run: Run) -> list[Pass]:
    """Every verification of the run, in order, with each candidate it judged."""
    events = run.events
    at = [i for i, e in enumerate(events) if e.kind == "verdict"]
    labels = segment_labels(events)
    latest: dict[str, dict[str, Any]] = {}  # agent -> its latest candidate event's data
    by_id: dict[str, Event] = {}
    out: list[Pass] = []
    previous = -1
    for n, index in enumerate(at):
        window = events[previous + 1 : index]
        new = [e for e in window if e.kind == "candidate"]
        for e in new:
            latest[e.agent or ""] = e.data
            if e.data.get("id"):
                by_id[str(e.data["id"])] = e
        until = at[n + 1] if n + 1 < len(at) else len(events)
        told = {
            e.agent or "": str(e.data.get("feedback") or "")
            for e in events[index + 1 : until]
            if e.kind == "repair"
        }
        last = n == len(at) - 1
        judged = _judge(run, events[index].data, window, by_id, {e.seq for e in new}, last)
        for e in new:
            if not e.data.get("id"):
                judged.append(Judged(None, e.agent or "", "unusable", True, e.data, {}))
        judged = [_with_feedback(j, told, latest) for j in judged]
        out.append(Pass(labels[n], events[index].data, judged))
        previous = index
    return out


def _judge(
    run: Run,
    verdict: dict[str, Any],
    window: list[Event],
    by_id: dict[str, Event],
    new: set[int],
    last: bool,
) -> list[Judged]:
    executions = {
        str(e.data.get("candidate")): e.data
        for e in window
        if e.kind == "execution" and not e.data.get("final")
    }
    clusters = valid(ClusterEvidence, verdict.get("clusters"))
    member_of = {m: c.index for c in clusters for m in c.members}
    selected = str_or_none(verdict.get("selected"))
    ids = list(executions)
    ids += [m for c in clusters for m in c.members if m not in ids]
    if selected and selected not in ids:
        ids.append(selected)

    def cluster_of(cid: str | None) -> int | None:
        if cid is None:
            return None
        value = executions.get(cid, {}).get("cluster")
        return value if isinstance(value, int) else member_of.get(cid)

    chosen = cluster_of(selected)
    counter = valid(Counterexample, verdict.get("counterexamples"))
    report = run.solution.report if run.solution and last else None
    failures = {c.id: c.failures for c in report.evidence.candidates} if report else {}
    out = []
    for cid in ids:
        execution, cluster = executions.get(cid, {}), cluster_of(cid)
        status = execution.get("status")
        outcome: Outcome
        if status == "load_error":  # before "selected": a failed verdict still names one
            outcome = "crashed"
        elif status == "rejected":
            outcome = "failed"
        elif cid == selected:
            outcome = "selected"
        elif cluster is not None and cluster == chosen:
            outcome = "agrees"
        elif cluster is not None:
            outcome = "outvoted"
        else:
            outcome = "unjudged"
        source = by_id.get(cid)
        shown = [ce for ce in counter if ce.cluster == cluster] if outcome == "outvoted" else []
        out.append(
            Judged(
                id=cid,
                agent=(source.agent or "") if source else "",
                outcome=outcome,
                new=source is not None and source.seq in new,
                candidate=source.data if source else {},
                execution=execution,
                cluster=cluster,
                counterexamples=shown,
                failures=failures.get(cid, []),
            )
        )
    return out


def _with_feedback(j: Judged, told: dict[str, str], latest: dict[str, dict[str, Any]]) -> Judged:
    """The repair feedback its coder got, if it was about this candidate (the coder's latest)."""
    text = told.get(j.agent)
    if not text or latest.get(j.agent) is not j.candidate:
        return j
    return replace(j, feedback=text)


# -- the section ------------------------------------------------------------------------------
def caught_line(all_passes: list[Pass]) -> str:
    """One line for the summary: the wrong candidates caught before the pick, linked here."""
    final: dict[str, Judged] = {}
    for p in all_passes:
        for j in p.judged:
            if j.id is not None:
                final[j.id] = j
    rejected = [j for j in final.values() if j.outcome in ("failed", "crashed")]
    outvoted = [j for j in final.values() if j.outcome == "outvoted"]
    if not rejected and not outvoted:
        return ""
    parts = []
    if rejected:
        ids = ", ".join(f"<code>{esc(j.id)}</code>" for j in rejected)
        n = len(rejected)
        parts.append(
            f'<a href="#rounds">{n} wrong candidate{"s" * (n != 1)} caught</a> by the task\'s '
            f"own examples ({ids})"
        )
    if outvoted:
        ids = ", ".join(f"<code>{esc(j.id)}</code>" for j in outvoted)
        parts.append(
            f'<a href="#rounds">{len(outvoted)} outvoted</a> by an input on which '
            f"{'it behaves' if len(outvoted) == 1 else 'they behave'} unlike the pick ({ids})"
        )
    return f'<p class="caught">{"; ".join(parts)}.</p>'


def rounds_section(run: Run, all_passes: list[Pass]) -> str:
    if not all_passes:
        return ""
    out = [
        '<section id="rounds" class="card"><h2>Rounds: every candidate and its verdict</h2>',
        '<p class="muted">Each verification ran every candidate it had; those caught wrong stay '
        "here with the evidence against them, and what their coder was told to repair.</p>",
    ]
    for p in all_passes:
        verdict = str_or_none(p.verdict.get("verdict"))
        conf = num(p.verdict.get("confidence"))
        head = (
            f"{esc(p.label)} · "
            + badge(verdict)
            + (f" confidence {conf:.2f}" if conf is not None else "")
        )
        out.append(f'<div class="pass"><h3>{head}</h3>')
        out += [_judged(j, verified=verdict == "verified") for j in p.judged]
        if not p.judged:
            out.append('<p class="muted">No candidate was judged.</p>')
        out.append("</div>")
    out.append("</section>")
    return "\n".join(out)


def _judged(j: Judged, *, verified: bool) -> str:
    mark, cls = _SAID[j.outcome]
    if not verified and j.outcome in ("selected", "agrees"):  # a pick, not yet a proof
        mark, cls = _UNPROVEN[j.outcome], ""
    who = f"<code>{esc(j.id)}</code>" if j.id else "a reply"
    facts = [f'<span class="j-mark">{esc(mark)}</span>', who]
    if j.agent:
        facts.append(f"by {agent(j.agent)}")
    facts.append("new this round" if j.new else "from an earlier round")
    x = j.execution
    for key, label in (("trusted", "task's examples"), ("generated", "generated tests")):
        if x.get(key) not in (None, "0/0"):
            facts.append(f"{label} passed {esc(x[key])}")
    if j.cluster is not None:
        facts.append(f"behaviour #{j.cluster}")
    out = [f'<div class="judged {cls}"><p>{" · ".join(facts)}</p>']
    if j.outcome == "crashed" and x.get("load_error"):
        out.append(f"<p>{error(x['load_error'])}</p>")
    problems = [str(p) for p in j.candidate.get("problems") or []]
    if problems:
        items = "".join(f"<li>{esc(p)}</li>" for p in problems)
        out.append(f"<ul>{items}</ul>")
    if j.failures:
        rows = "".join(
            f"<tr><td><code>{esc(c.test)}</code></td><td><code>{esc(c.expected)}</code></td>"
            f"<td><code>{esc(c.actual)}</code></td><td>{esc(c.outcome)}"
            + (f" {error(c.error.model_dump())}" if c.error else "")
            + "</td></tr>"
            for c in j.failures
        )
        out.append(
            scroll(
                "<table><thead><tr><th>the task's example</th><th>expected</th><th>got</th>"
                f"<th>outcome</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        )
    if j.counterexamples:
        rows = "".join(
            f"<tr><td><code>{esc(c.call)}</code></td><td><code>{esc(c.rival_output)}</code></td>"
            f"<td><code>{esc(c.selected_output)}</code></td></tr>"
            for c in j.counterexamples
        )
        out.append(
            scroll(
                '<table class="counter"><thead><tr><th>input</th><th>this candidate gives</th>'
                f"<th>the selected gives</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        )
    if j.feedback:
        whom = f" {esc(j.agent)}" if j.agent else ""
        out.append(f'<p class="label">What{whom} was told:</p>{render_markdown(j.feedback)}')
    code = j.candidate.get("code")
    if j.new and isinstance(code, str) and code:
        tests = j.candidate.get("tests")
        inner = highlight(code) + (
            f"<h4>Its tests</h4>{highlight(tests)}" if isinstance(tests, str) and tests else ""
        )
        out.append(details(f"code of {j.id}", inner))
    out.append("</div>")
    return "".join(out)
