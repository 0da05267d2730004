"""What the verifier decided on, for the final round: the test matrix (candidates down, tests
across), the behaviour clusters with their posterior, and the counterexamples between them."""

from __future__ import annotations

from collections.abc import Iterable

from ...verify.report import Cell, ClusterEvidence, Evidence, TestEvidence
from .parts import details, esc, highlight, scroll
from .run import Run

__all__ = ["evidence_section"]

_OUTCOME_MARK = {"pass": "✓", "fail": "✗", "error": "!", "timeout": "T", "skipped": "–"}


def evidence_section(run: Run) -> str:
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
            f"<tr><td><code>{esc(c.call)}</code></td><td><code>{esc(c.selected_output)}</code></td>"
            f"<td><code>{esc(c.rival_output)}</code></td>"
            f"<td>#{c.cluster} {esc(members.get(c.cluster, ''))}</td></tr>"
            for c in ev.counterexamples
        )
        out.append(
            '<h3>Counterexamples</h3><p class="muted">Inputs on which the selected behaviour '
            "and a rival differ.</p>"
            + scroll(
                "<table><thead><tr><th>call</th><th>selected gives</th><th>rival gives</th>"
                f"<th>rival cluster</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        )
    if ev.notes:
        out.append("<h3>Notes</h3><ul>" + "".join(f"<li>{esc(n)}</li>" for n in ev.notes) + "</ul>")
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
        f'<th colspan="{n}" class="group">{esc(src)}</th>' for src, n in groups
    )
    head2 = (
        "<th>candidate</th><th>status</th><th>cluster</th><th>trusted</th><th>generated</th>"
        + "".join(
            f'<th class="test" title="{esc(t.code)}"><span>{esc(t.id)}</span></th>'
            for t in ev.tests
        )
    )
    body = []
    for c in ev.candidates:
        star = ' <span class="star" title="selected">★</span>' if c.id == selected else ""
        status_title = (
            f' title="{esc(c.load_error.type)}: {esc(c.load_error.message)}"'
            if c.load_error
            else ""
        )
        row = [
            f'<th class="cand">{esc(c.id)}{star}</th>',
            f'<td class="s-{esc(c.status)}"{status_title}>{esc(c.status)}</td>',
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
            f"<li><code>{esc(t.id)}</code> · {esc(t.source)}"
            + (f" by {esc(t.author)}" if t.author else "")
            + f" · passed by {len(t.passed_by)}"
            + ("" if t.credible else " · not credible (no candidate passes it)")
            + f"{highlight(t.code)}</li>"
            for t in ev.tests
        )
        out.append(details(f"The {len(ev.tests)} tests", f'<ul class="tests">{items}</ul>'))
    return "\n".join(out)


def _cell(cell: Cell | None, candidate: str, test: TestEvidence) -> str:
    if cell is None:
        return f'<td class="o-none" title="{esc(test.id)} not run on {esc(candidate)}"></td>'
    tip = [f"{test.id} on {candidate}: {cell.outcome}"]
    if cell.expected is not None:
        tip.append(f"expected: {cell.expected}")
    if cell.actual is not None:
        tip.append(f"actual: {cell.actual}")
    if cell.error is not None:
        tip.append(f"{cell.error.type}: {cell.error.message}")
    mark = _OUTCOME_MARK.get(cell.outcome, "?")
    title = esc("\n".join(tip))
    return f'<td class="o-{esc(cell.outcome)}" title="{title}">{mark}</td>'


def _clusters(clusters: Iterable[ClusterEvidence], selected: str | None) -> str:
    rows = []
    for c in clusters:
        members = ", ".join(
            f"<strong>{esc(m)} ★</strong>" if m == selected else esc(m) for m in c.members
        )
        pct = max(0.0, min(1.0, c.probability)) * 100
        rows.append(
            f"<tr><td>#{c.index}</td><td>{members}</td><td>{c.tests_passed:g}</td>"
            f'<td>{c.score:.3g}</td><td><span class="pbar"><span style="width:{pct:.0f}%">'
            f"</span></span> {c.probability:.2f}</td></tr>"
        )
    return (
        '<h3>Behaviour clusters</h3><p class="muted">Candidates that gave the same output on '
        "every differential input.</p>"
        + scroll(
            "<table><thead><tr><th>cluster</th><th>members</th><th>tests passed</th>"
            f"<th>score</th><th>posterior</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    )
